/* scd2 (docs/jobs/scd2.md): maintains the type-2 slowly changing dimension /warehouse/dim_customers_scd2 from a
 * customer snapshot (DIR/customers.csv, dated by DIR/snapshot.txt). Without --in: initial load. With --in: the
 * dimension is validated (keys, histories), its current versions are full-outer-joined with the snapshot on
 * customer_id; unchanged rows stay, changed ones are closed and get a new current version, deleted ones are
 * closed (and, with --hard-deletes new_record, get a current version flagged is_deleted), new customers are
 * added; closed versions pass through. --type1 columns are overwritten on every version instead. Output sorted
 * by (customer_id, valid_from): the same for every P. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ts_aggregate_dist.h"
#include "ts_csv_table.h"
#include "ts_date.h"
#include "ts_exchange.h"
#include "ts_expr.h"
#include "ts_output.h"
#include "ts_h5_read.h"
#include "ts_hash.h"
#include "ts_join_dist.h"
#include "ts_jobs.h"
#include "ts_md5.h"
#include "ts_plan.h"
#include "ts_sort.h"

#define DIM_GROUP "/warehouse/dim_customers_scd2"
#define NDIM 12
#define NATTR 5 /* attributes: name, email, segment, country_code, opened_date */

/* The dimension's schema (docs/jobs/scd2.md). */
static const char *const dim_names[NDIM] = {"customer_sk", "customer_id", "name",       "email",
                                            "segment",     "country_code", "opened_date", "scd_id",
                                            "valid_from",  "valid_to",    "is_current",  "is_deleted"};
static const ts_type dim_types[NDIM] = {TS_T_INT64, TS_T_INT64,  TS_T_STRING, TS_T_STRING, TS_T_STRING, TS_T_STRING,
                                        TS_T_DATE,  TS_T_STRING, TS_T_DATE,   TS_T_DATE,   TS_T_BOOL,   TS_T_BOOL};
enum { D_SK, D_ID, D_NAME, D_EMAIL, D_SEGMENT, D_COUNTRY, D_OPENED, D_SCD, D_FROM, D_TO, D_CURRENT, D_DELETED };

/* The snapshot's columns after loading (prefixed so they never clash with the dimension's in the join). */
#define NSNAP 6
static const char *const snap_names[NSNAP] = {"s_customer_id",  "s_name",       "s_email",
                                              "s_segment",      "s_country_code", "s_opened_date"};
static const ts_type snap_types[NSNAP] = {TS_T_INT64, TS_T_STRING, TS_T_STRING, TS_T_STRING, TS_T_STRING, TS_T_DATE};

enum { C_UNCHANGED, C_CHANGED, C_DELETED, C_NEW, C_RETURNED, C_GONE, C_HISTORY, C_ROWS, NCOUNT };

typedef struct scd2_state {
    const ts_job_args *args;
    int new_record;         /* --hard-deletes new_record (default): a deleted customer gets an is_deleted version */
    int type1[NATTR];       /* attribute k (D_NAME + k) is type 1: overwritten in place, never versioned */
    int32_t snap_date;      /* the snapshot's date: valid_from of new versions, valid_to of closed ones */
    ts_table *snap;         /* the snapshot, hash-partitioned on customer_id */
    ts_table *cur, *hist;   /* the dimension's current and closed versions */
    int64_t max_sk;         /* global maximum customer_sk (0 for an empty dimension) */
    int32_t max_date;       /* global maximum of every valid_from and valid_to (INT32_MIN for an empty one) */
    ts_table *out;          /* versions kept, closed or passed through; finally the whole dimension */
    ts_table *fresh;        /* new current versions, before surrogate keys */
    int64_t counts[NCOUNT]; /* global */
} scd2_state;

static ts_err new_table(const char *name, const char *const *names, const ts_type *types, int n, ts_table **out)
{
    TS_TRY(ts_table_new(name, out));
    for (int k = 0; k < n; k++)
        TS_TRY(ts_table_add(*out, names[k], types[k], 0, NULL, NULL));
    return TS_OK;
}

/* --type1 name,email,...: each must be one of the attributes (customer_id and the SCD columns are not). */
static ts_err parse_type1(const char *list, int type1[NATTR])
{
    if (!list)
        return TS_OK;
    char buf[512];
    if (strlen(list) >= sizeof buf)
        TS_FAIL(TS_ERR_USAGE, "--type1: list too long");
    snprintf(buf, sizeof buf, "%s", list);
    for (char *save = NULL, *p = strtok_r(buf, ",", &save); p; p = strtok_r(NULL, ",", &save)) {
        int k = 0;
        while (k < NATTR && strcmp(p, dim_names[D_NAME + k]) != 0)
            k++;
        if (k == NATTR)
            TS_FAIL(TS_ERR_USAGE, "--type1: '%s' is not an attribute of customers.csv (name, email, segment, "
                    "country_code, opened_date)", p);
        type1[k] = 1;
    }
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

static int cmp_i64(const void *a, const void *b)
{
    const int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Rank 0: customers.csv into s->snap (typed); checks dates and unique ids. */
static ts_err load_snapshot(const char *dir, ts_table *snap)
{
    static const ts_ref_column cols[] = {{"customer_id", TS_REF_INT64}, {"name", TS_REF_STRING},
                                         {"email", TS_REF_STRING},      {"segment", TS_REF_STRING},
                                         {"country_code", TS_REF_STRING}, {"opened_date", TS_REF_STRING}};
    char path[4200];
    snprintf(path, sizeof path, "%s/customers.csv", dir);
    if (access(path, R_OK) != 0 && errno == ENOENT)
        TS_FAIL(TS_ERR_IO, "data directory '%s' lacks customers.csv (generate a snapshot with tessera-gen)", dir);
    if (access(path, R_OK) != 0) /* there, but not readable: say why */
        TS_FAIL(TS_ERR_IO, "cannot read '%s': %s", path, strerror(errno));
    ts_table *csv;
    TS_TRY(ts_read_csv_table(path, cols, 6, &csv));
    const int64_t n = ts_table_rows(csv);
    ts_err err = TS_OK;
    for (int k = 0; !err && k < 5; k++) /* the id and the strings as they are */
        err = ts_column_append_rows(snap->cols[k], csv->cols[k], NULL, n);
    ts_column *opened = snap->cols[5];
    const ts_column *text = csv->cols[5];
    if (!err)
        err = ts_column_reserve(opened, n, 0);
    for (int64_t i = 0; !err && i < n; i++) {
        const int64_t *off = TS_COL(text, int64_t);
        const char *v = text->bytes + off[i];
        const int64_t len = off[i + 1] - off[i];
        if (!ts_parse_date_forms(v, (size_t)len, TS_DATE_ISO, &TS_COL(opened, int32_t)[opened->len++]))
            err = ts_error_raise(TS_ERR_DATA, __FILE__, __LINE__, __func__,
                                 "%s:%lld: column 'opened_date': cannot parse '%.*s' as a YYYY-MM-DD date", path,
                                 (long long)i + 2, (int)(len < 40 ? len : 40), v);
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

/* ---- the dimension of --in: checked before it is used ----------------------------------------------------- */

/* Types, NULLs, is_current <-> valid_to, positive keys and intervals; max key and max date (this rank). */
static ts_err check_rows(const scd2_state *s, const ts_table *dim, int64_t *max_sk, int32_t *max_date)
{
    const char *path = s->args->in_path;
    char want[32], got[32];
    for (int k = 0; k < NDIM; k++)
        if (dim->cols[k]->type != dim_types[k])
            TS_FAIL(TS_ERR_DATA, "%s %s: column '%s' is %s, expected %s", path, DIM_GROUP, dim_names[k],
                    ts_type_name(dim->cols[k]->type, dim->cols[k]->scale, got, sizeof got),
                    ts_type_name(dim_types[k], 0, want, sizeof want));
    const int64_t n = ts_table_rows(dim), *sk = TS_COL(dim->cols[D_SK], int64_t);
    const uint8_t *cur = TS_COL(dim->cols[D_CURRENT], uint8_t);
    const int32_t *from = TS_COL(dim->cols[D_FROM], int32_t), *to = TS_COL(dim->cols[D_TO], int32_t);
    for (int64_t i = 0; i < n; i++) {
        for (int k = 0; k < NDIM; k++)
            if (k != D_TO && !ts_column_is_valid(dim->cols[k], i))
                TS_FAIL(TS_ERR_DATA, "%s %s: column '%s' has a NULL", path, DIM_GROUP, dim_names[k]);
        const int open = !ts_column_is_valid(dim->cols[D_TO], i);
        if ((cur[i] != 0) != open)
            TS_FAIL(TS_ERR_DATA, "%s %s: customer_sk %lld: is_current = %d but valid_to is %s", path, DIM_GROUP,
                    (long long)sk[i], cur[i] != 0, cur[i] ? "set" : "NULL");
        if (sk[i] < 1) /* -1 is star-schema's unknown member; keys of versions are positive */
            TS_FAIL(TS_ERR_DATA, "%s %s: customer_sk %lld is not positive", path, DIM_GROUP, (long long)sk[i]);
        if (!open && to[i] <= from[i])
            TS_FAIL(TS_ERR_DATA, "%s %s: customer_sk %lld: valid_to is not after valid_from (an empty interval)",
                    path, DIM_GROUP, (long long)sk[i]);
        *max_sk = sk[i] > *max_sk ? sk[i] : *max_sk;
        *max_date = from[i] > *max_date ? from[i] : *max_date;
        if (!open)
            *max_date = to[i] > *max_date ? to[i] : *max_date;
    }
    return TS_OK;
}

/* Version a (ends at a_to, open when !a_closed) then version b of the same customer, b starting at b_from:
 * a must be closed no later than b starts. */
static ts_err check_successor(const char *path, int64_t id, int a_closed, int32_t a_to, int32_t b_from)
{
    char x[11] = "", y[11] = "";
    if (!a_closed) {
        ts_format_date(b_from, y);
        TS_FAIL(TS_ERR_DATA, "%s %s: customer_id %lld has a current version followed by one from %s (two current "
                "versions or a version after the current one)", path, DIM_GROUP, (long long)id, y);
    }
    if (a_to > b_from) {
        ts_format_date(a_to, x), ts_format_date(b_from, y);
        TS_FAIL(TS_ERR_DATA, "%s %s: customer_id %lld has overlapping versions (one valid until %s, the next from "
                "%s)", path, DIM_GROUP, (long long)id, x, y);
    }
    return TS_OK;
}

/* Histories: with the dimension sorted by (customer_id, valid_from) across ranks, consecutive versions of a
 * customer must not overlap and only the last may be current. Adjacent rows here, and this slab's first row
 * against the last row of the previous non-empty slab (an allgather of slab ends). */
static ts_err check_histories(ts_ctx *ctx, const scd2_state *s, const ts_table *dim)
{
    const int64_t n = ts_table_rows(dim), *id = TS_COL(dim->cols[D_ID], int64_t);
    const int32_t *from = TS_COL(dim->cols[D_FROM], int32_t), *to = TS_COL(dim->cols[D_TO], int32_t);
    const ts_column *toc = dim->cols[D_TO];
    int64_t mine[4] = {n > 0, n ? id[n - 1] : 0, n ? ts_column_is_valid(toc, n - 1) : 0, n ? to[n - 1] : 0};
    int64_t *all = malloc(32 * (size_t)ctx->size);
    TS_TRY(ts_ctx_check(ctx, all ? TS_OK
                                 : ts_error_raise(TS_ERR_NOMEM, __FILE__, __LINE__, __func__,
                                                  "out of memory checking %s", s->args->in_path)));
    ts_err err = ts_mpi_status(MPI_Allgather(mine, 4, MPI_INT64_T, all, 4, MPI_INT64_T, ctx->comm),
                               "MPI_Allgather", __FILE__, __LINE__, __func__);
    for (int r = ctx->rank - 1; !err && n > 0 && r >= 0; r--)
        if (all[4 * r]) {
            if (all[4 * r + 1] == id[0])
                err = check_successor(s->args->in_path, id[0], (int)all[4 * r + 2], (int32_t)all[4 * r + 3], from[0]);
            break;
        }
    free(all);
    for (int64_t i = 1; !err && i < n; i++)
        if (id[i] == id[i - 1])
            err = check_successor(s->args->in_path, id[i], ts_column_is_valid(toc, i - 1), to[i - 1], from[i]);
    return ts_ctx_check(ctx, err);
}

/* Surrogate keys are unique: a distributed count per customer_sk. */
static ts_err check_unique_keys(ts_ctx *ctx, const scd2_state *s, const ts_table *dim)
{
    static const char *const key[] = {"customer_sk"};
    static const ts_agg cnt[] = {{TS_AGG_COUNT, NULL, NULL, "n", 0, NULL}};
    ts_table *g;
    TS_TRY(ts_aggregate_distributed(ctx, dim, key, 1, cnt, 1, "key_counts", &g));
    ts_err err = TS_OK;
    for (int64_t i = 0; !err && i < ts_table_rows(g); i++)
        if (TS_COL(g->cols[1], int64_t)[i] > 1)
            err = ts_error_raise(TS_ERR_DATA, __FILE__, __LINE__, __func__,
                                 "%s %s: customer_sk %lld is the key of %lld versions (duplicate keys)",
                                 s->args->in_path, DIM_GROUP, (long long)TS_COL(g->cols[0], int64_t)[i],
                                 (long long)TS_COL(g->cols[1], int64_t)[i]);
    ts_table_free(g);
    return ts_ctx_check(ctx, err);
}

/* Splits the (checked) dimension into current and closed versions. */
static ts_err split_dimension(scd2_state *s, const ts_table *dim)
{
    const int64_t n = ts_table_rows(dim);
    int64_t *idx = malloc(8 * (size_t)(n + 1));
    if (!idx)
        TS_FAIL(TS_ERR_NOMEM, "out of memory splitting %lld dimension rows", (long long)n);
    const uint8_t *cur = TS_COL(dim->cols[D_CURRENT], uint8_t);
    ts_err err = TS_OK;
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
    static const ts_sort_key by[] = {{"customer_id", 0, 0}, {"valid_from", 0, 0}};
    TS_TRY(new_table("current", dim_names, dim_types, NDIM, &s->cur));
    TS_TRY(new_table("history", dim_names, dim_types, NDIM, &s->hist));
    int64_t max_sk = 0;
    int32_t max_date = INT32_MIN;
    if (s->args->in_path) {
        ts_table *dim;
        TS_TRY(ts_h5_read_table(ctx->comm, s->args->in_path, DIM_GROUP, dim_names, NDIM, &dim));
        st->rows_in = ts_table_rows(dim);
        ts_err err = ts_ctx_check(ctx, check_rows(s, dim, &max_sk, &max_date));
        if (!err) /* normally sorted already (this job writes it so): the check must not rely on it */
            err = ts_sort_distributed_by(ctx, &dim, by, 2);
        if (!err)
            err = check_histories(ctx, s, dim);
        if (!err)
            err = check_unique_keys(ctx, s, dim);
        if (!err)
            err = ts_ctx_check(ctx, split_dimension(s, dim));
        ts_table_free(dim);
        TS_TRY(err);
    }
    TS_MPI(MPI_Allreduce(&max_sk, &s->max_sk, 1, MPI_INT64_T, MPI_MAX, ctx->comm));
    TS_MPI(MPI_Allreduce(&max_date, &s->max_date, 1, MPI_INT32_T, MPI_MAX, ctx->comm));
    /* history is only ever appended: a snapshot must be newer than every date the dimension holds, or its
     * versions would overlap (or empty) intervals that are already closed */
    if (s->args->in_path && s->snap_date <= s->max_date) {
        char a[11] = "", b[11] = "";
        ts_format_date(s->snap_date, a), ts_format_date(s->max_date, b);
        TS_FAIL(TS_ERR_USAGE, "snapshot '%s' is dated %s, not after %s, the latest valid_from or valid_to in '%s': "
                "snapshots must be applied in date order, each once", s->args->data_dir, a, b, s->args->in_path);
    }
    st->rows_out = ts_table_rows(s->cur) + ts_table_rows(s->hist);
    return TS_OK;
}

/* ---- applying the snapshot -------------------------------------------------------------------------------- */

/* Replaces attribute column `name` of t by COALESCE(s_<name>, name): the snapshot's value where the row has one
 * (type-1 columns are overwritten on every version of a customer still in the snapshot). */
static ts_err overwrite_type1(ts_table *t, const char *name)
{
    char sname[TS_NAME_MAX];
    snprintf(sname, sizeof sname, "s_%s", name);
    ts_expr *e = ts_x_op(TS_X_COALESCE, ts_x_col(sname), ts_x_col(name));
    ts_column *c = NULL;
    const ts_err err = e ? ts_expr_eval(e, t, name, &c)
                         : ts_error_raise(TS_ERR_NOMEM, __FILE__, __LINE__, __func__, "out of memory");
    ts_expr_free(e);
    TS_TRY(err);
    for (int i = 0; i < t->ncols; i++)
        if (strcmp(t->cols[i]->name, name) == 0) {
            ts_column_free(t->cols[i]);
            t->cols[i] = c;
            return TS_OK;
        }
    ts_column_free(c);
    TS_FAIL(TS_ERR_INTERNAL, "no column '%s' to overwrite", name);
}

static int same_value(const ts_column *a, const ts_column *b, int64_t i)
{
    if (a->type == TS_T_DATE)
        return TS_COL(a, int32_t)[i] == TS_COL(b, int32_t)[i];
    const int64_t *oa = TS_COL(a, int64_t), *ob = TS_COL(b, int64_t);
    const int64_t la = oa[i + 1] - oa[i];
    return la == ob[i + 1] - ob[i] && memcmp(a->bytes + oa[i], b->bytes + ob[i], (size_t)la) == 0;
}

/* Whether the current version (left) and the snapshot row (right) of joined row i differ in a type-2
 * attribute (the check strategy: every attribute that is not type 1 is compared). */
static int changed(const scd2_state *s, ts_column *const *l, ts_column *const *r, int64_t i)
{
    for (int k = 0; k < NATTR; k++)
        if (!s->type1[k] && !same_value(l[k], r[k], i))
            return 1;
    return 0;
}

static ts_err push_flags(ts_table *t, int64_t n, int32_t to, int closed, int deleted)
{
    ts_column *vt = t->cols[D_TO], *cur = t->cols[D_CURRENT], *del = t->cols[D_DELETED];
    TS_TRY(ts_column_reserve(vt, vt->len + n, 0));
    TS_TRY(ts_column_reserve(cur, cur->len + n, 0));
    TS_TRY(ts_column_reserve(del, del->len + n, 0));
    for (int64_t i = 0; i < n; i++) {
        TS_COL(vt, int32_t)[vt->len++] = closed ? to : 0;
        if (!closed)
            TS_TRY(ts_column_set_null(vt, vt->len - 1));
        TS_COL(cur, uint8_t)[cur->len++] = (uint8_t)!closed;
        TS_COL(del, uint8_t)[del->len++] = (uint8_t)deleted;
    }
    return TS_OK;
}

/* Appends rows idx[0..n) of the joined table j to s->fresh as new current versions: attributes from the
 * snapshot side (s_*) or, for deletion records, from the dimension side; keys and scd_id come later. */
static ts_err add_versions(scd2_state *s, const ts_table *j, const int64_t *idx, int64_t n, int from_snapshot)
{
    ts_table *f = s->fresh;
    for (int k = D_ID; k <= D_OPENED; k++) {
        ts_column *src;
        TS_TRY(ts_table_need(j, from_snapshot ? snap_names[k - D_ID] : dim_names[k], &src));
        TS_TRY(ts_column_append_rows(f->cols[k], src, idx, n));
    }
    TS_TRY(ts_column_reserve(f->cols[D_SK], f->cols[D_SK]->len + n, 0));
    TS_TRY(ts_column_reserve(f->cols[D_FROM], f->cols[D_FROM]->len + n, 0));
    for (int64_t i = 0; i < n; i++) {
        TS_COL(f->cols[D_SK], int64_t)[f->cols[D_SK]->len++] = 0;
        TS_COL(f->cols[D_FROM], int32_t)[f->cols[D_FROM]->len++] = s->snap_date;
        TS_TRY(ts_column_append_string(f->cols[D_SCD], "", 0));
    }
    return push_flags(f, n, 0, 0, !from_snapshot);
}

typedef struct classes {
    int64_t *keep, *close, *new_s, *new_del; /* joined rows: kept as they are, closed, new version from the
                                                snapshot, new deletion record */
    int64_t nkeep, nclose, nnew_s, nnew_del;
} classes;

/* Classifies every joined row (current version x snapshot row):
 *   both, current not deleted, same type-2 attributes  -> kept (type-1 columns overwritten)
 *   both, different attributes or current is a deletion record -> closed + new version from the snapshot
 *   current only, not deleted -> closed (+ a deletion record with --hard-deletes new_record)
 *   current only, already a deletion record -> kept (still deleted)
 *   snapshot only -> new version */
static ts_err classify(const scd2_state *s, const ts_table *j, classes *c, int64_t local[NCOUNT])
{
    const int64_t n = ts_table_rows(j);
    ts_column *lid, *rid, *del, *l[NATTR], *r[NATTR];
    TS_TRY(ts_table_need(j, "customer_id", &lid));
    TS_TRY(ts_table_need(j, "s_customer_id", &rid));
    TS_TRY(ts_table_need(j, "is_deleted", &del));
    for (int k = 0; k < NATTR; k++) {
        TS_TRY(ts_table_need(j, dim_names[D_NAME + k], &l[k]));
        TS_TRY(ts_table_need(j, snap_names[1 + k], &r[k]));
    }
    int64_t **lists[] = {&c->keep, &c->close, &c->new_s, &c->new_del};
    for (int k = 0; k < 4; k++)
        if (!(*lists[k] = malloc(8 * (size_t)(n + 1))))
            TS_FAIL(TS_ERR_NOMEM, "out of memory comparing %lld rows", (long long)n);
    for (int64_t i = 0; i < n; i++) {
        const int in_dim = ts_column_is_valid(lid, i), in_snap = ts_column_is_valid(rid, i);
        const int deleted = in_dim && TS_COL(del, uint8_t)[i];
        if (in_dim && in_snap) {
            if (!deleted && !changed(s, l, r, i)) {
                c->keep[c->nkeep++] = i, local[C_UNCHANGED]++;
            } else {
                c->close[c->nclose++] = i, c->new_s[c->nnew_s++] = i;
                local[deleted ? C_RETURNED : C_CHANGED]++;
            }
        } else if (in_dim) {
            if (deleted) {
                c->keep[c->nkeep++] = i, local[C_GONE]++;
            } else {
                c->close[c->nclose++] = i, local[C_DELETED]++;
                if (s->new_record)
                    c->new_del[c->nnew_del++] = i;
            }
        } else {
            c->new_s[c->nnew_s++] = i, local[C_NEW]++;
        }
    }
    return TS_OK;
}

/* Kept and closed versions (dimension columns of j; closed ones get valid_to = the snapshot date), new
 * versions to s->fresh, then the closed history. */
static ts_err apply(scd2_state *s, const ts_table *j, int64_t local[NCOUNT])
{
    classes c = {0};
    ts_err err = classify(s, j, &c, local);
    for (int pass = 0; !err && pass < 2; pass++) {
        const int64_t *idx = pass ? c.close : c.keep, n = pass ? c.nclose : c.nkeep;
        for (int k = 0; !err && k < D_TO; k++) {
            ts_column *src;
            err = ts_table_need(j, dim_names[k], &src);
            if (!err)
                err = ts_column_append_rows(s->out->cols[k], src, idx, n);
        }
        if (!err && !pass) /* kept rows keep valid_to, is_current and is_deleted */
            for (int k = D_TO; !err && k < NDIM; k++) {
                ts_column *src;
                err = ts_table_need(j, dim_names[k], &src);
                if (!err)
                    err = ts_column_append_rows(s->out->cols[k], src, idx, n);
            }
        if (!err && pass) { /* closed: keep is_deleted (a deletion record closed by a return) */
            const ts_column *del = ts_table_col(j, "is_deleted");
            const int64_t base = s->out->cols[D_DELETED]->len;
            err = push_flags(s->out, n, s->snap_date, 1, 0);
            for (int64_t i = 0; !err && i < n; i++)
                TS_COL(s->out->cols[D_DELETED], uint8_t)[base + i] = TS_COL(del, uint8_t)[idx[i]];
        }
    }
    if (!err)
        err = add_versions(s, j, c.new_s, c.nnew_s, 1);
    if (!err)
        err = add_versions(s, j, c.new_del, c.nnew_del, 0);
    if (!err)
        err = ts_table_append_rows(s->out, s->hist, NULL, ts_table_rows(s->hist));
    local[C_HISTORY] = ts_table_rows(s->hist);
    free(c.keep), free(c.close), free(c.new_s), free(c.new_del);
    return err;
}

/* Type-1 columns on the closed versions: a left join with the snapshot's values, then COALESCE. */
static ts_err type1_history(ts_ctx *ctx, scd2_state *s)
{
    const char *bring[NATTR];
    int nb = 0;
    for (int k = 0; k < NATTR; k++)
        if (s->type1[k])
            bring[nb++] = snap_names[1 + k];
    if (nb == 0)
        return TS_OK;
    static const char *const lk[] = {"customer_id"}, *const rk[] = {"s_customer_id"};
    const ts_join_spec spec = {.type = TS_JOIN_LEFT, .left_keys = lk, .right_keys = rk, .nkeys = 1,
                               .right_cols = bring, .nright = nb};
    ts_table *j;
    TS_TRY(ts_join(ctx, s->hist, s->snap, &spec, &j, NULL));
    ts_err err = TS_OK;
    for (int k = 0; !err && k < NATTR; k++)
        if (s->type1[k])
            err = overwrite_type1(j, dim_names[D_NAME + k]);
    ts_table *v = NULL;
    if (!err) /* back to the dimension's columns */
        err = ts_table_new_like(s->hist, "history", &v);
    for (int k = 0; !err && k < NDIM; k++)
        err = ts_column_append_rows(v->cols[k], ts_table_col(j, dim_names[k]), NULL, ts_table_rows(j));
    ts_table_free(j);
    if (err) {
        ts_table_free(v);
        return ts_ctx_check(ctx, err);
    }
    ts_table_free(s->hist);
    s->hist = v;
    return ts_ctx_check(ctx, TS_OK);
}

static ts_err stage_compare(ts_ctx *ctx, void *vs, ts_stage_stats *st)
{
    scd2_state *s = vs;
    static const char *const lk[] = {"customer_id"}, *const rk[] = {"s_customer_id"};
    const ts_join_spec spec = {.type = TS_JOIN_FULL, .left_keys = lk, .right_keys = rk, .nkeys = 1,
                               .right_cols = snap_names, .nright = NSNAP};
    TS_TRY(type1_history(ctx, s));
    ts_table *j = NULL;
    TS_TRY(ts_join(ctx, s->cur, s->snap, &spec, &j, NULL));
    st->rows_in = ts_table_rows(s->cur) + ts_table_rows(s->snap);
    ts_table_free(s->cur), ts_table_free(s->snap);
    s->cur = s->snap = NULL;
    int64_t local[NCOUNT] = {0};
    ts_err err = new_table("dim_customers_scd2", dim_names, dim_types, NDIM, &s->out);
    if (!err)
        err = new_table("new_versions", dim_names, dim_types, NDIM, &s->fresh);
    for (int k = 0; !err && k < NATTR; k++) /* kept and closed versions take the snapshot's type-1 values */
        if (s->type1[k])
            err = overwrite_type1(j, dim_names[D_NAME + k]);
    if (!err)
        err = apply(s, j, local);
    ts_table_free(j);
    TS_TRY(ts_ctx_check(ctx, err));
    TS_MPI(MPI_Allreduce(local, s->counts, NCOUNT, MPI_INT64_T, MPI_SUM, ctx->comm));
    st->rows_out = ts_table_rows(s->out) + ts_table_rows(s->fresh);
    return TS_OK;
}

/* scd_id = md5(customer_id || '|' || valid_from): dbt's dbt_scd_id (snapshot_hash_arguments of the unique key
 * and the snapshot time, each cast to text) with the snapshot date as the time. */
static ts_err set_scd_ids(ts_table *t)
{
    const int64_t n = ts_table_rows(t), *id = TS_COL(t->cols[D_ID], int64_t);
    const int32_t *from = TS_COL(t->cols[D_FROM], int32_t);
    ts_column *c;
    TS_TRY(ts_column_new_like(t->cols[D_SCD], &c));
    ts_err err = ts_column_reserve(c, n, 32 * n);
    for (int64_t i = 0; !err && i < n; i++) {
        char text[48], date[11] = "", hex[33];
        ts_format_date(from[i], date);
        const int len = snprintf(text, sizeof text, "%lld|%.10s", (long long)id[i], date);
        ts_md5_hex(text, (size_t)len, hex);
        err = ts_column_append_string(c, hex, 32);
    }
    if (err) {
        ts_column_free(c);
        return err;
    }
    ts_column_free(t->cols[D_SCD]);
    t->cols[D_SCD] = c;
    return TS_OK;
}

/* New versions get max_sk + 1, + 2, ... in (customer_id) order: one new version per customer and snapshot. */
static ts_err stage_keys(ts_ctx *ctx, void *vs, ts_stage_stats *st)
{
    scd2_state *s = vs;
    static const char *const by_id[] = {"customer_id"};
    TS_TRY(ts_sort_distributed(ctx, &s->fresh, by_id, 1));
    int64_t n = ts_table_rows(s->fresh), before = 0, total;
    TS_MPI(MPI_Exscan(&n, &before, 1, MPI_INT64_T, MPI_SUM, ctx->comm));
    if (ctx->rank == 0)
        before = 0; /* MPI_Exscan leaves rank 0's result undefined */
    TS_TRY(ts_allreduce_sum_i64(ctx, n, &total));
    if (total > INT64_MAX - s->max_sk) /* the same decision on every rank */
        TS_FAIL(TS_ERR_DATA, "%s %s: its largest customer_sk is %lld; %lld new versions would overflow int64 keys",
                s->args->in_path, DIM_GROUP, (long long)s->max_sk, (long long)total);
    int64_t *sk = TS_COL(s->fresh->cols[D_SK], int64_t);
    for (int64_t i = 0; i < n; i++)
        sk[i] = s->max_sk + 1 + before + i;
    ts_err err = set_scd_ids(s->fresh);
    if (!err)
        err = ts_table_append_rows(s->out, s->fresh, NULL, n);
    TS_TRY(ts_ctx_check(ctx, err));
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
    /* valid_to is nullable whatever the data (all versions closed is possible): a fixed schema */
    TS_TRY(ts_ctx_check(ctx, ts_column_make_nullable(s->out->cols[D_TO])));
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
    TS_TRY(ts_plan_add(p, "snapshot", "read_csv(rank 0) -> exchange", stage_snapshot));
    TS_TRY(ts_plan_add(p, "dimension", "parallel HDF5 read + checks + split", stage_dimension));
    TS_TRY(ts_plan_add(p, "compare", "full outer join (customer_id) + diff", stage_compare));
    TS_TRY(ts_plan_add(p, "surrogate-keys", "sample sort (customer_id) + exscan", stage_keys));
    TS_TRY(ts_plan_add(p, "sort", "sample sort (customer_id, valid_from)", stage_sort));
    TS_TRY(ts_plan_add(p, "write", "parallel HDF5 (collective)", stage_write));
    return TS_OK;
}

ts_err ts_job_scd2(ts_ctx *ctx, const ts_job_args *args)
{
    scd2_state s = {.args = args, .new_record = !args->hard_deletes || strcmp(args->hard_deletes, "new_record") == 0};
    ts_plan plan;
    ts_err err = build_plan(&plan);
    if (!err)
        err = parse_type1(args->type1_cols, s.type1);
    err = ts_ctx_check(ctx, err);
    if (!err && args->explain)
        ts_plan_print(ctx, &plan, stderr);
    if (!err)
        err = ts_plan_run(ctx, &plan, &s);
    if (!err && ctx->rank == 0) {
        char d[11] = "";
        ts_format_date(s.snap_date, d);
        fprintf(stderr,
                "snapshot %s: %lld unchanged, %lld changed, %lld deleted, %lld new, %lld returned, %lld still deleted; "
                "%lld historical versions; %lld rows\nwrote %s\n",
                d, (long long)s.counts[C_UNCHANGED], (long long)s.counts[C_CHANGED], (long long)s.counts[C_DELETED],
                (long long)s.counts[C_NEW], (long long)s.counts[C_RETURNED], (long long)s.counts[C_GONE],
                (long long)s.counts[C_HISTORY],
                (long long)s.counts[C_ROWS], args->out_path);
    }
    if (!err && args->profile)
        err = ts_plan_print_profile(ctx, &plan, stderr);
    ts_table_free(s.snap), ts_table_free(s.cur), ts_table_free(s.hist);
    ts_table_free(s.out), ts_table_free(s.fresh);
    return err;
}
