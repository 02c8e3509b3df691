/* scd2 (docs/jobs/scd2.md): maintains the type-2 slowly changing dimension /warehouse/dim_customers_scd2 from a
 * customer snapshot (DIR/customers.csv, dated by DIR/snapshot.txt). Without --in: initial load. With --in: the
 * current versions of the dimension are full-outer-joined with the snapshot on customer_id; unchanged rows stay,
 * changed ones are closed and get a new current version, deleted ones are closed, new customers are added;
 * closed (historical) versions pass through. Output sorted by (customer_id, valid_from): the same for every P. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ts_csv_table.h"
#include "ts_date.h"
#include "ts_exchange.h"
#include "ts_output.h"
#include "ts_h5_read.h"
#include "ts_hash.h"
#include "ts_join_dist.h"
#include "ts_jobs.h"
#include "ts_plan.h"
#include "ts_sort.h"

#define DIM_GROUP "/warehouse/dim_customers_scd2"
#define NDIM 11
#define NTRACK 5 /* tracked attributes: name, email, segment, country_code, opened_date */

/* The dimension's schema (docs/jobs/scd2.md). */
static const char *const dim_names[NDIM] = {"customer_sk", "customer_id", "name",       "email",
                                            "segment",     "country_code", "opened_date", "row_hash",
                                            "valid_from",  "valid_to",    "is_current"};
static const ts_type dim_types[NDIM] = {TS_T_INT64,  TS_T_INT64,  TS_T_STRING, TS_T_STRING, TS_T_STRING, TS_T_STRING,
                                        TS_T_DATE,   TS_T_STRING, TS_T_DATE,   TS_T_DATE,   TS_T_BOOL};
enum { D_SK, D_ID, D_NAME, D_EMAIL, D_SEGMENT, D_COUNTRY, D_OPENED, D_HASH, D_FROM, D_TO, D_CURRENT };

/* The snapshot's columns after loading (prefixed so they never clash with the dimension's in the join). */
#define NSNAP 7
static const char *const snap_names[NSNAP] = {"s_customer_id",  "s_name",        "s_email",   "s_segment",
                                              "s_country_code", "s_opened_date", "s_row_hash"};
static const ts_type snap_types[NSNAP] = {TS_T_INT64,  TS_T_STRING, TS_T_STRING, TS_T_STRING,
                                          TS_T_STRING, TS_T_DATE,   TS_T_STRING};

enum { C_UNCHANGED, C_CHANGED, C_DELETED, C_NEW, C_HISTORY, C_ROWS, NCOUNT };

typedef struct scd2_state {
    const ts_job_args *args;
    int32_t snap_date;   /* the snapshot's date: valid_from of new versions, valid_to of closed ones */
    ts_table *snap;      /* the snapshot, hash-partitioned on customer_id */
    ts_table *cur, *hist; /* the dimension's current and closed versions (reader slabs) */
    int64_t max_sk;       /* global maximum customer_sk (0 for an empty dimension) */
    int32_t max_from;     /* global maximum valid_from (INT32_MIN for an empty dimension) */
    ts_table *out;        /* versions kept, closed or passed through; finally the whole dimension */
    ts_table *fresh;      /* new current versions, before surrogate keys */
    int64_t counts[NCOUNT]; /* global */
} scd2_state;

static ts_err new_table(const char *name, const char *const *names, const ts_type *types, int n, ts_table **out)
{
    TS_TRY(ts_table_new(name, out));
    for (int k = 0; k < n; k++)
        TS_TRY(ts_table_add(*out, names[k], types[k], 0, NULL, NULL));
    return TS_OK;
}

/* snapshot.txt: "snapshot_date=YYYY-MM-DD" (other lines ignored); a directory without it is snapshot 0 of
 * tessera-gen, dated 2026-01-01 (the day after the transactions' last date). */
static ts_err read_snapshot_date(const char *dir, int32_t *date)
{
    char path[4200], line[256];
    snprintf(path, sizeof path, "%s/snapshot.txt", dir);
    FILE *f = fopen(path, "r");
    if (!f) {
        if (errno != ENOENT)
            TS_FAIL(TS_ERR_IO, "cannot open '%s': %s", path, strerror(errno));
        *date = ts_days_from_civil(2026, 1, 1);
        return TS_OK;
    }
    int found = 0, lineno = 0;
    while (!found && fgets(line, sizeof line, f)) {
        lineno++;
        if (strncmp(line, "snapshot_date=", 14) != 0)
            continue;
        size_t n = strcspn(line + 14, "\r\n");
        if (!ts_parse_date_forms(line + 14, n, TS_DATE_ISO, date)) {
            fclose(f);
            TS_FAIL(TS_ERR_DATA, "%s:%d: snapshot_date '%.*s' is not a YYYY-MM-DD date", path, lineno,
                    (int)(n < 40 ? n : 40), line + 14);
        }
        found = 1;
    }
    fclose(f);
    if (!found)
        TS_FAIL(TS_ERR_DATA, "%s has no 'snapshot_date=YYYY-MM-DD' line", path);
    return TS_OK;
}

static ts_err stage_date(ts_ctx *ctx, void *vs, ts_stage_stats *st)
{
    scd2_state *s = vs;
    (void)st;
    TS_TRY(ts_ctx_check(ctx, ctx->rank == 0 ? read_snapshot_date(s->args->data_dir, &s->snap_date) : TS_OK));
    TS_MPI(MPI_Bcast(&s->snap_date, 1, MPI_INT32_T, 0, ctx->comm));
    return TS_OK;
}

/* Hex of the 128-bit hash of the tracked attributes, each as a 4-byte little-endian length then its bytes
 * (opened_date as YYYY-MM-DD): unambiguous, so equal hashes mean equal attributes (up to ~2^-128). */
static ts_err row_hash(const char *const *v, const int64_t *len, char hex[33])
{
    char small[1024], *buf = small;
    size_t n = 0, need = 0;
    for (int k = 0; k < NTRACK; k++)
        need += 4 + (size_t)len[k];
    if (need > sizeof small && !(buf = malloc(need)))
        TS_FAIL(TS_ERR_NOMEM, "out of memory hashing a %zu-byte customer row", need);
    for (int k = 0; k < NTRACK; k++) {
        const uint32_t l = (uint32_t)len[k];
        const unsigned char le[4] = {(unsigned char)l, (unsigned char)(l >> 8), (unsigned char)(l >> 16),
                                     (unsigned char)(l >> 24)};
        memcpy(buf + n, le, 4);
        memcpy(buf + n + 4, v[k], (size_t)len[k]);
        n += 4 + (size_t)len[k];
    }
    const ts_hash128 h = ts_hash128_bytes(buf, n);
    if (buf != small)
        free(buf);
    snprintf(hex, 33, "%016llx%016llx", (unsigned long long)h.hi, (unsigned long long)h.lo);
    return TS_OK;
}

static int cmp_i64(const void *a, const void *b)
{
    const int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Rank 0: customers.csv into s->snap (typed, hashed); checks dates and unique ids. */
static ts_err load_snapshot(const char *dir, ts_table *snap)
{
    static const ts_ref_column cols[] = {{"customer_id", TS_REF_INT64}, {"name", TS_REF_STRING},
                                         {"email", TS_REF_STRING},      {"segment", TS_REF_STRING},
                                         {"country_code", TS_REF_STRING}, {"opened_date", TS_REF_STRING}};
    char path[4200];
    snprintf(path, sizeof path, "%s/customers.csv", dir);
    if (access(path, R_OK) != 0)
        TS_FAIL(TS_ERR_IO, "data directory '%s' lacks customers.csv (generate a snapshot with tessera-gen)", dir);
    ts_table *csv;
    TS_TRY(ts_read_csv_table(path, cols, 6, &csv));
    const int64_t n = ts_table_rows(csv);
    ts_err err = TS_OK;
    for (int k = 0; !err && k < NSNAP; k++)
        err = ts_column_reserve(snap->cols[k], n, k >= 1 && k <= 4 ? csv->cols[k]->nbytes : k == 6 ? 32 * n : 0);
    for (int k = 1; !err && k <= 4; k++) /* the strings as they are */
        err = ts_column_append_rows(snap->cols[k], csv->cols[k], NULL, n);
    if (!err)
        err = ts_column_append_rows(snap->cols[0], csv->cols[0], NULL, n);
    for (int64_t i = 0; !err && i < n; i++) {
        const char *v[NTRACK];
        int64_t len[NTRACK];
        for (int k = 0; k < NTRACK; k++) {
            const ts_column *c = csv->cols[k + 1];
            const int64_t *off = TS_COL(c, int64_t);
            v[k] = c->bytes + off[i], len[k] = off[i + 1] - off[i];
        }
        int32_t d;
        if (!ts_parse_date_forms(v[4], (size_t)len[4], TS_DATE_ISO, &d)) {
            err = ts_error_raise(TS_ERR_DATA, __FILE__, __LINE__, __func__,
                                 "%s:%lld: column 'opened_date': cannot parse '%.*s' as a YYYY-MM-DD date", path,
                                 (long long)i + 2, (int)(len[4] < 40 ? len[4] : 40), v[4]);
            break;
        }
        TS_COL(snap->cols[5], int32_t)[snap->cols[5]->len++] = d;
        char hex[33];
        err = row_hash(v, len, hex);
        if (!err)
            err = ts_column_append_string(snap->cols[6], hex, 32);
    }
    /* a customer listed twice would get two current versions */
    int64_t *ids = err ? NULL : malloc(8 * (size_t)(n + 1));
    if (!err && !ids)
        err = ts_error_raise(TS_ERR_NOMEM, __FILE__, __LINE__, __func__, "out of memory checking %s", path);
    if (ids) {
        memcpy(ids, csv->cols[0]->data, 8 * (size_t)n);
        qsort(ids, (size_t)n, 8, cmp_i64);
        for (int64_t i = 1; !err && i < n; i++)
            if (ids[i] == ids[i - 1])
                err = ts_error_raise(TS_ERR_DATA, __FILE__, __LINE__, __func__,
                                     "%s: customer_id %lld appears more than once", path, (long long)ids[i]);
        free(ids);
    }
    ts_table_free(csv);
    return err;
}

/* Rank 0 reads the snapshot; rows move to rank hash(customer_id) mod P. */
static ts_err stage_snapshot(ts_ctx *ctx, void *vs, ts_stage_stats *st)
{
    scd2_state *s = vs;
    TS_TRY(new_table("snapshot", snap_names, snap_types, NSNAP, &s->snap));
    TS_TRY(ts_ctx_check(ctx, ctx->rank == 0 ? load_snapshot(s->args->data_dir, s->snap) : TS_OK));
    const int64_t n = ts_table_rows(s->snap);
    int32_t *dest = malloc(4 * (size_t)(n + 1));
    TS_TRY(ts_ctx_check(ctx, dest ? TS_OK
                                  : ts_error_raise(TS_ERR_NOMEM, __FILE__, __LINE__, __func__,
                                                   "out of memory partitioning %lld rows", (long long)n)));
    const int64_t *id = TS_COL(s->snap->cols[0], int64_t);
    for (int64_t i = 0; i < n; i++)
        dest[i] = (int32_t)(ts_hash_u64((uint64_t)id[i]) % (uint64_t)ctx->size);
    const ts_err err = ts_exchange_rows_move(ctx, &s->snap, dest);
    free(dest);
    TS_TRY(err);
    st->rows_in = n, st->rows_out = ts_table_rows(s->snap);
    return TS_OK;
}

/* Checks the dimension read from --in and splits it into current and closed versions. */
static ts_err split_dimension(scd2_state *s, ts_table *dim, int64_t *max_sk, int32_t *max_from)
{
    char want[32], got[32];
    for (int k = 0; k < NDIM; k++)
        if (dim->cols[k]->type != dim_types[k])
            TS_FAIL(TS_ERR_DATA, "%s %s: column '%s' is %s, expected %s", s->args->in_path, DIM_GROUP, dim_names[k],
                    ts_type_name(dim->cols[k]->type, dim->cols[k]->scale, got, sizeof got),
                    ts_type_name(dim_types[k], 0, want, sizeof want));
    const int64_t n = ts_table_rows(dim);
    int64_t *idx = malloc(8 * (size_t)(n + 1));
    if (!idx)
        TS_FAIL(TS_ERR_NOMEM, "out of memory splitting %lld dimension rows", (long long)n);
    const uint8_t *cur = TS_COL(dim->cols[D_CURRENT], uint8_t);
    const int64_t *sk = TS_COL(dim->cols[D_SK], int64_t);
    const int32_t *from = TS_COL(dim->cols[D_FROM], int32_t);
    ts_err err = TS_OK;
    for (int64_t i = 0; i < n && !err; i++) {
        for (int k = 0; k < NDIM; k++)
            if (k != D_TO && !ts_column_is_valid(dim->cols[k], i))
                err = ts_error_raise(TS_ERR_DATA, __FILE__, __LINE__, __func__, "%s %s: column '%s' has a NULL",
                                     s->args->in_path, DIM_GROUP, dim_names[k]);
        if (!err && (cur[i] != 0) != !ts_column_is_valid(dim->cols[D_TO], i))
            err = ts_error_raise(TS_ERR_DATA, __FILE__, __LINE__, __func__,
                                 "%s %s: customer_sk %lld: is_current = %d but valid_to is %s", s->args->in_path,
                                 DIM_GROUP, (long long)sk[i], cur[i] != 0, cur[i] ? "set" : "NULL");
        *max_sk = sk[i] > *max_sk ? sk[i] : *max_sk;
        *max_from = from[i] > *max_from ? from[i] : *max_from;
    }
    for (int pass = 0; pass < 2 && !err; pass++) { /* current rows, then closed ones */
        int64_t m = 0;
        for (int64_t i = 0; i < n; i++)
            if ((cur[i] != 0) == (pass == 0))
                idx[m++] = i;
        err = ts_table_append_rows(pass == 0 ? s->cur : s->hist, dim, idx, m);
    }
    free(idx);
    return err;
}

static ts_err stage_dimension(ts_ctx *ctx, void *vs, ts_stage_stats *st)
{
    scd2_state *s = vs;
    TS_TRY(new_table("current", dim_names, dim_types, NDIM, &s->cur));
    TS_TRY(new_table("history", dim_names, dim_types, NDIM, &s->hist));
    int64_t max_sk = 0;
    int32_t max_from = INT32_MIN;
    if (s->args->in_path) {
        ts_table *dim;
        TS_TRY(ts_h5_read_table(ctx->comm, s->args->in_path, DIM_GROUP, dim_names, NDIM, &dim));
        const ts_err err = ts_ctx_check(ctx, split_dimension(s, dim, &max_sk, &max_from));
        st->rows_in = ts_table_rows(dim);
        ts_table_free(dim);
        TS_TRY(err);
    }
    TS_MPI(MPI_Allreduce(&max_sk, &s->max_sk, 1, MPI_INT64_T, MPI_MAX, ctx->comm));
    TS_MPI(MPI_Allreduce(&max_from, &s->max_from, 1, MPI_INT32_T, MPI_MAX, ctx->comm));
    if (s->snap_date < s->max_from) {
        char a[11] = "", b[11] = "";
        ts_format_date(s->snap_date, a), ts_format_date(s->max_from, b);
        TS_FAIL(TS_ERR_USAGE, "snapshot '%s' is dated %s, before the dimension's latest version (%s) in '%s'",
                s->args->data_dir, a, b, s->args->in_path);
    }
    st->rows_out = ts_table_rows(s->cur) + ts_table_rows(s->hist);
    return TS_OK;
}

/* Appends value v (valid) or a null to a DATE column. */
static ts_err push_date(ts_column *c, int32_t v, int null)
{
    TS_TRY(ts_column_reserve(c, c->len + 1, 0));
    TS_COL(c, int32_t)[c->len++] = null ? 0 : v;
    return null ? ts_column_set_null(c, c->len - 1) : TS_OK;
}

static ts_err push_bool(ts_column *c, int v)
{
    TS_TRY(ts_column_reserve(c, c->len + 1, 0));
    TS_COL(c, uint8_t)[c->len++] = (uint8_t)v;
    return TS_OK;
}

static int same_string(const ts_column *a, const ts_column *b, int64_t i)
{
    const int64_t *oa = TS_COL(a, int64_t), *ob = TS_COL(b, int64_t);
    const int64_t la = oa[i + 1] - oa[i];
    return la == ob[i + 1] - ob[i] && memcmp(a->bytes + oa[i], b->bytes + ob[i], (size_t)la) == 0;
}

/* Classifies every joined row; builds s->out (kept and closed current versions, then the closed history) and
 * s->fresh (new current versions). */
static ts_err classify(scd2_state *s, const ts_table *j, int64_t local[NCOUNT])
{
    const int64_t n = ts_table_rows(j);
    ts_column *lid, *rid, *lh, *rh;
    TS_TRY(ts_table_need(j, "customer_id", &lid));
    TS_TRY(ts_table_need(j, "s_customer_id", &rid));
    TS_TRY(ts_table_need(j, "row_hash", &lh));
    TS_TRY(ts_table_need(j, "s_row_hash", &rh));
    int64_t *left = malloc(8 * (size_t)(n + 1)), *right = malloc(8 * (size_t)(n + 1)), nl = 0, nr = 0;
    uint8_t *closed = malloc((size_t)n + 1);
    ts_err err = left && right && closed ? TS_OK
                                         : ts_error_raise(TS_ERR_NOMEM, __FILE__, __LINE__, __func__,
                                                          "out of memory comparing %lld rows", (long long)n);
    for (int64_t i = 0; !err && i < n; i++) {
        const int l = ts_column_is_valid(lid, i), r = ts_column_is_valid(rid, i);
        const int unchanged = l && r && same_string(lh, rh, i);
        if (l) {
            closed[nl] = !unchanged;
            left[nl++] = i;
        }
        if (r && !unchanged)
            right[nr++] = i;
        local[unchanged ? C_UNCHANGED : l && r ? C_CHANGED : l ? C_DELETED : C_NEW]++;
    }
    /* kept and closed versions: every column from the left side, then valid_to and is_current */
    for (int k = 0; !err && k < D_TO; k++) {
        ts_column *src;
        err = ts_table_need(j, dim_names[k], &src);
        if (!err)
            err = ts_column_append_rows(s->out->cols[k], src, left, nl);
    }
    for (int64_t i = 0; !err && i < nl; i++) {
        err = push_date(s->out->cols[D_TO], s->snap_date, !closed[i]);
        if (!err)
            err = push_bool(s->out->cols[D_CURRENT], !closed[i]);
    }
    /* new versions from the right side; customer_sk comes later */
    for (int k = D_ID; !err && k <= D_HASH; k++) {
        ts_column *src;
        err = ts_table_need(j, snap_names[k - D_ID], &src);
        if (!err)
            err = ts_column_append_rows(s->fresh->cols[k], src, right, nr);
    }
    ts_column *sk = s->fresh->cols[D_SK];
    if (!err)
        err = ts_column_reserve(sk, nr, 0);
    for (int64_t i = 0; !err && i < nr; i++) {
        TS_COL(sk, int64_t)[sk->len++] = 0;
        err = push_date(s->fresh->cols[D_FROM], s->snap_date, 0);
        if (!err)
            err = push_date(s->fresh->cols[D_TO], 0, 1);
        if (!err)
            err = push_bool(s->fresh->cols[D_CURRENT], 1);
    }
    if (!err)
        err = ts_table_append_rows(s->out, s->hist, NULL, ts_table_rows(s->hist));
    local[C_HISTORY] = ts_table_rows(s->hist);
    free(left), free(right), free(closed);
    return err;
}

static ts_err stage_compare(ts_ctx *ctx, void *vs, ts_stage_stats *st)
{
    scd2_state *s = vs;
    static const char *const lk[] = {"customer_id"}, *const rk[] = {"s_customer_id"};
    const ts_join_spec spec = {.type = TS_JOIN_FULL, .left_keys = lk, .right_keys = rk, .nkeys = 1,
                               .right_cols = snap_names, .nright = NSNAP};
    ts_table *j = NULL;
    TS_TRY(ts_join(ctx, s->cur, s->snap, &spec, &j, NULL));
    st->rows_in = ts_table_rows(s->cur) + ts_table_rows(s->snap);
    ts_table_free(s->cur), ts_table_free(s->snap);
    s->cur = s->snap = NULL;
    int64_t local[NCOUNT] = {0};
    ts_err err = new_table("dim_customers_scd2", dim_names, dim_types, NDIM, &s->out);
    if (!err)
        err = new_table("new_versions", dim_names, dim_types, NDIM, &s->fresh);
    if (!err)
        err = classify(s, j, local);
    ts_table_free(j);
    TS_TRY(ts_ctx_check(ctx, err));
    TS_MPI(MPI_Allreduce(local, s->counts, NCOUNT, MPI_INT64_T, MPI_SUM, ctx->comm));
    /* a different snapshot of the same date as the latest version would make empty validity intervals */
    if (s->snap_date == s->max_from && s->counts[C_CHANGED] + s->counts[C_DELETED] + s->counts[C_NEW] > 0) {
        char a[11] = "";
        ts_format_date(s->snap_date, a);
        TS_FAIL(TS_ERR_USAGE, "'%s' already holds versions from %s; snapshot '%s' of the same date differs from "
                "them (apply each snapshot date once)", s->args->in_path, a, s->args->data_dir);
    }
    st->rows_out = ts_table_rows(s->out) + ts_table_rows(s->fresh);
    return TS_OK;
}

/* New versions get max_sk + 1, + 2, ... in customer_id order (one new version per customer and snapshot). */
static ts_err stage_keys(ts_ctx *ctx, void *vs, ts_stage_stats *st)
{
    scd2_state *s = vs;
    static const char *const by_id[] = {"customer_id"};
    TS_TRY(ts_sort_distributed(ctx, &s->fresh, by_id, 1));
    int64_t n = ts_table_rows(s->fresh), before = 0;
    TS_MPI(MPI_Exscan(&n, &before, 1, MPI_INT64_T, MPI_SUM, ctx->comm));
    if (ctx->rank == 0)
        before = 0; /* MPI_Exscan leaves rank 0's result undefined */
    int64_t *sk = TS_COL(s->fresh->cols[D_SK], int64_t);
    for (int64_t i = 0; i < n; i++)
        sk[i] = s->max_sk + 1 + before + i;
    TS_TRY(ts_ctx_check(ctx, ts_table_append_rows(s->out, s->fresh, NULL, n)));
    st->rows_in = st->rows_out = n;
    return TS_OK;
}

static ts_err stage_sort(ts_ctx *ctx, void *vs, ts_stage_stats *st)
{
    scd2_state *s = vs;
    static const char *const keys[] = {"customer_id", "valid_from"};
    st->rows_in = ts_table_rows(s->out);
    TS_TRY(ts_sort_distributed(ctx, &s->out, keys, 2));
    ts_table_set_sorted(s->out, keys, 2);
    st->rows_out = ts_table_rows(s->out);
    return TS_OK;
}

static ts_err stage_write(ts_ctx *ctx, void *vs, ts_stage_stats *st)
{
    scd2_state *s = vs;
    const ts_h5_meta meta = {"scd2", s->args->data_dir, TS_VERSION};
    ts_output *f;
    TS_TRY(ts_output_create(ctx, s->args->out_path, s->args->overwrite, &meta, s->args->out_format, &f));
    const ts_err err = ts_ctx_check(ctx, ts_output_write_table(f, DIM_GROUP, s->out, NULL));
    if (err) {
        ts_output_abandon(f);
        return err;
    }
    TS_TRY(ts_output_commit(f));
    TS_TRY(ts_allreduce_sum_i64(ctx, ts_table_rows(s->out), &s->counts[C_ROWS]));
    st->rows_in = st->rows_out = ts_table_rows(s->out);
    return TS_OK;
}

static ts_err build_plan(ts_plan *p)
{
    ts_plan_init(p, "scd2");
    TS_TRY(ts_plan_add(p, "snapshot-date", "snapshot.txt (rank 0) -> bcast", stage_date));
    TS_TRY(ts_plan_add(p, "snapshot", "read_csv(rank 0) + hash128 -> exchange", stage_snapshot));
    TS_TRY(ts_plan_add(p, "dimension", "parallel HDF5 read + split current", stage_dimension));
    TS_TRY(ts_plan_add(p, "compare", "full outer join (customer_id) + diff", stage_compare));
    TS_TRY(ts_plan_add(p, "surrogate-keys", "sample sort (customer_id) + exscan", stage_keys));
    TS_TRY(ts_plan_add(p, "sort", "sample sort (customer_id, valid_from)", stage_sort));
    TS_TRY(ts_plan_add(p, "write", "parallel HDF5 (collective)", stage_write));
    return TS_OK;
}

ts_err ts_job_scd2(ts_ctx *ctx, const ts_job_args *args)
{
    scd2_state s = {.args = args};
    ts_plan plan;
    ts_err err = ts_ctx_check(ctx, build_plan(&plan));
    if (!err && args->explain)
        ts_plan_print(ctx, &plan, stderr);
    if (!err)
        err = ts_plan_run(ctx, &plan, &s);
    if (!err && ctx->rank == 0) {
        char d[11] = "";
        ts_format_date(s.snap_date, d);
        fprintf(stderr,
                "snapshot %s: %lld unchanged, %lld changed, %lld deleted, %lld new; %lld historical versions; "
                "%lld rows\nwrote %s\n",
                d, (long long)s.counts[C_UNCHANGED], (long long)s.counts[C_CHANGED], (long long)s.counts[C_DELETED],
                (long long)s.counts[C_NEW], (long long)s.counts[C_HISTORY], (long long)s.counts[C_ROWS],
                args->out_path);
    }
    if (!err && args->profile)
        err = ts_plan_print_profile(ctx, &plan, stderr);
    ts_table_free(s.snap), ts_table_free(s.cur), ts_table_free(s.hist);
    ts_table_free(s.out), ts_table_free(s.fresh);
    return err;
}
