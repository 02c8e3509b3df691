#include "ts_parquet_scan.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ts_date.h"
#include "ts_dict_encode.h"
#include "ts_glob.h"
#include "ts_parse.h"
#include "ts_scan.h"

#define MAX_HIVE 16

/* ---- the dataset ---------------------------------------------------------------------------------------------- */

static int cmp_paths(const void *a, const void *b)
{
    return strcmp(((const ts_file_info *)a)->path, ((const ts_file_info *)b)->path);
}

/* Rank 0: every pattern's files, merged, sorted, without duplicates. */
static ts_err list_all(const char *const *patterns, int n, ts_file_info **files, int *count)
{
    ts_file_info *all = NULL;
    int total = 0;
    for (int i = 0; i < n; i++) {
        ts_file_info *f;
        int k;
        const ts_err err = ts_glob_files(patterns[i], ".parquet", &f, &k);
        if (err) {
            free(all);
            return err;
        }
        ts_file_info *g = realloc(all, sizeof *g * (size_t)(total + k));
        if (!g) {
            free(f), free(all);
            TS_FAIL(TS_ERR_NOMEM, "out of memory listing files");
        }
        all = g;
        memcpy(all + total, f, sizeof *f * (size_t)k);
        total += k;
        free(f);
    }
    qsort(all, (size_t)total, sizeof *all, cmp_paths);
    int k = 0;
    for (int i = 0; i < total; i++)
        if (k == 0 || strcmp(all[k - 1].path, all[i].path))
            all[k++] = all[i];
    for (int i = 0; i < k; i++) {
        const char *slash = strrchr(all[i].path, '/');
        all[i].base_off = slash ? (int)(slash + 1 - all[i].path) : 0;
    }
    *files = all, *count = k;
    return TS_OK;
}

/* Rank 0: the first file's columns. */
static ts_err first_schema(const ts_file_info *f, ts_pq_dscol **cols, int *n, int64_t *rows)
{
    ts_pq_file *pf;
    TS_TRY(ts_pq_open(f->path, &pf));
    ts_pq_dscol *c = calloc((size_t)(pf->ncols ? pf->ncols : 1), sizeof *c);
    if (!c) {
        ts_pq_close(pf);
        TS_FAIL(TS_ERR_NOMEM, "out of memory for a schema");
    }
    for (int i = 0; i < pf->ncols; i++) {
        const ts_pq_column *pc = &pf->cols[i];
        snprintf(c[i].name, TS_NAME_MAX, "%s", pc->name);
        c[i].type = pc->type, c[i].scale = pc->scale, c[i].lossy = pc->lossy;
        snprintf(c[i].desc, sizeof c[i].desc, "%s", pc->desc);
    }
    *cols = c, *n = pf->ncols, *rows = pf->meta.num_rows;
    ts_pq_close(pf);
    if (*n > TS_MAX_COLS) {
        free(c), *cols = NULL;
        TS_FAIL(TS_ERR_DATA, "%s has %d columns: at most %d are supported", f->path, *n, TS_MAX_COLS);
    }
    return TS_OK;
}

static int hex(int c) { return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1; }

/* %XX sequences decoded, in place. */
static void url_decode(char *s)
{
    char *o = s;
    for (char *p = s; *p; p++) {
        if (p[0] == '%' && hex(p[1]) >= 0 && hex(p[2]) >= 0) {
            *o++ = (char)(hex(p[1]) * 16 + hex(p[2]));
            p += 2;
        } else {
            *o++ = *p;
        }
    }
    *o = 0;
}

/* The key=value directories of a path (not its file name), in order. */
static int hive_pairs(const char *path, char keys[][TS_NAME_MAX], char vals[][1024], int max)
{
    int n = 0;
    const char *p = path, *last = strrchr(path, '/');
    while (last && p < last && n < max) {
        const char *slash = strchr(p, '/');
        const char *eq = memchr(p, '=', (size_t)(slash - p));
        if (eq && eq > p && eq - p < TS_NAME_MAX && slash - eq - 1 < 1024) {
            snprintf(keys[n], TS_NAME_MAX, "%.*s", (int)(eq - p), p);
            snprintf(vals[n], 1024, "%.*s", (int)(slash - eq - 1), eq + 1);
            url_decode(keys[n]), url_decode(vals[n]);
            n++;
        }
        p = slash + 1;
    }
    return n;
}

/* An integer written the canonical way (what DuckDB's cast prints back), within int64. */
static int canonical_int(const char *s)
{
    int64_t v;
    const size_t l = strlen(s);
    if (!l || !ts_parse_int64(s, l, &v) || s[0] == '+')
        return 0;
    char back[24];
    snprintf(back, sizeof back, "%lld", (long long)v);
    return !strcmp(back, s);
}

static int canonical_date(const char *s)
{
    int32_t d;
    return strlen(s) == 10 && ts_parse_date_forms(s, 10, TS_DATE_ISO, &d);
}

static ts_err hive_columns(ts_pq_dataset *ds)
{
    char keys[MAX_HIVE][TS_NAME_MAX], first[MAX_HIVE][TS_NAME_MAX], vals[MAX_HIVE][1024];
    const int nk = hive_pairs(ds->files[0].path, first, vals, MAX_HIVE);
    if (nk == 0)
        return TS_OK;
    ds->hive_values = calloc((size_t)ds->nfiles * (size_t)nk, sizeof *ds->hive_values);
    ts_pq_dscol *cols = realloc(ds->cols, sizeof *cols * (size_t)(ds->ncols + nk));
    if (cols)
        ds->cols = cols;
    if (!ds->hive_values || !cols)
        TS_FAIL(TS_ERR_NOMEM, "out of memory for Hive partition values");
    for (int f = 0; f < ds->nfiles; f++) {
        const int n = hive_pairs(ds->files[f].path, keys, vals, MAX_HIVE);
        int same = n == nk;
        for (int k = 0; same && k < nk; k++)
            same = !strcmp(keys[k], first[k]);
        if (!same)
            TS_FAIL(TS_ERR_DATA, "hive_partitioning: %s and %s have different partition keys (key=value "
                    "directories)", ds->files[0].path, ds->files[f].path);
        for (int k = 0; k < nk; k++)
            if (strcmp(vals[k], "__HIVE_DEFAULT_PARTITION__") &&
                !(ds->hive_values[(size_t)f * (size_t)nk + (size_t)k] = strdup(vals[k])))
                TS_FAIL(TS_ERR_NOMEM, "out of memory for Hive partition values");
    }
    for (int k = 0; k < nk; k++) {
        if (ts_pq_dataset_find(ds, first[k]) >= 0)
            TS_FAIL(TS_ERR_DATA, "hive_partitioning: '%s' is both a column of %s and a partition key", first[k],
                    ds->files[0].path);
        int ints = 1, dates = 1;
        for (int f = 0; f < ds->nfiles; f++) {
            const char *v = ds->hive_values[(size_t)f * (size_t)nk + (size_t)k];
            if (v)
                ints &= canonical_int(v), dates &= canonical_date(v);
        }
        ts_pq_dscol *c = &ds->cols[ds->ncols++];
        memset(c, 0, sizeof *c);
        memcpy(c->name, first[k], TS_NAME_MAX);
        c->name[TS_NAME_MAX - 1] = 0;
        c->hive = 1;
        c->type = dates ? TS_T_DATE : ints ? TS_T_INT64 : TS_T_STRING;
        snprintf(c->desc, sizeof c->desc, "hive %s", dates ? "DATE" : ints ? "BIGINT" : "VARCHAR");
    }
    if (ds->ncols > TS_MAX_COLS)
        TS_FAIL(TS_ERR_DATA, "%d columns with the partition keys: at most %d are supported", ds->ncols, TS_MAX_COLS);
    return TS_OK;
}

void ts_pq_dataset_free(ts_pq_dataset *ds)
{
    const int nk = ds->ncols - ds->nfile_cols;
    for (int64_t i = 0; ds->hive_values && i < (int64_t)ds->nfiles * nk; i++)
        free(ds->hive_values[i]);
    free(ds->hive_values), free(ds->files), free(ds->cols);
    memset(ds, 0, sizeof *ds);
}

int ts_pq_dataset_find(const ts_pq_dataset *ds, const char *name)
{
    for (int c = 0; c < ds->ncols; c++)
        if (!strcmp(ds->cols[c].name, name))
            return c;
    return -1;
}

ts_err ts_pq_dataset_open(ts_ctx *ctx, const char *const *patterns, int n, int hive, ts_pq_dataset *ds)
{
    memset(ds, 0, sizeof *ds);
    ts_err err = ctx->rank == 0 ? list_all(patterns, n, &ds->files, &ds->nfiles) : TS_OK;
    TS_TRY(ts_scan_share_files(ctx, err, &ds->files, &ds->nfiles));
    int64_t head[2] = {0, 0};
    if (ctx->rank == 0)
        err = first_schema(&ds->files[0], &ds->cols, &ds->ncols, &head[1]);
    err = ts_ctx_check(ctx, err);
    head[0] = ds->ncols;
    if (!err)
        err = ts_mpi_status(MPI_Bcast(head, 2, MPI_INT64_T, 0, ctx->comm), "MPI_Bcast", __FILE__, __LINE__, __func__);
    if (!err && ctx->rank != 0) {
        ds->ncols = (int)head[0];
        if (!(ds->cols = calloc((size_t)(ds->ncols ? ds->ncols : 1), sizeof *ds->cols)))
            err = ts_error_raise(TS_ERR_NOMEM, __FILE__, __LINE__, __func__, "out of memory for a schema");
    }
    err = ts_ctx_check(ctx, err);
    if (!err)
        err = ts_mpi_status(MPI_Bcast(ds->cols, (int)(sizeof *ds->cols * (size_t)ds->ncols), MPI_BYTE, 0, ctx->comm),
                            "MPI_Bcast", __FILE__, __LINE__, __func__);
    ds->nfile_cols = ds->ncols;
    ds->rows = head[1] * ds->nfiles;
    if (!err && hive) /* every rank has the paths: the same answer everywhere, no communication */
        err = hive_columns(ds);
    err = ts_ctx_check(ctx, err);
    if (err)
        ts_pq_dataset_free(ds);
    return err;
}

/* ---- pruning ------------------------------------------------------------------------------------------------------- */

static int cmp_str(const char *a, size_t al, const uint8_t *b, uint32_t bl)
{
    const int c = memcmp(a, b, al < bl ? al : bl);
    return c ? c : (al > bl) - (al < bl);
}

static int in_range(const ts_pq_pred *p, ts_type t, long double x, const char *s, size_t len, const ts_pq_value *mn,
                    const ts_pq_value *mx)
{
    if (t == TS_T_STRING || t == TS_T_DICT)
        return cmp_str(s, len, mn->s, mn->len) >= 0 && cmp_str(s, len, mx->s, mx->len) <= 0;
    const long double lo = t == TS_T_FLOAT64 ? (long double)mn->f : (long double)mn->i;
    const long double hi = t == TS_T_FLOAT64 ? (long double)mx->f : (long double)mx->i;
    return lo <= x + p->eps && x - p->eps <= hi;
}

/* Whether a row group (or file) with these bounds and null count (-1 unknown) of `rows` rows may hold a row where
 * the predicate is true. */
static int may_match(const ts_pq_pred *p, ts_type t, int bounds, const ts_pq_value *mn, const ts_pq_value *mx,
                     int64_t nulls, int64_t rows)
{
    if (p->op == TS_PQ_OP_IS_NULL)
        return nulls != 0;
    if (p->op == TS_PQ_OP_NOT_NULL)
        return nulls < 0 || nulls < rows;
    if (nulls >= 0 && nulls == rows && rows > 0)
        return 0; /* only NULLs: no comparison is true */
    if (!bounds)
        return 1;
    const int str = t == TS_T_STRING || t == TS_T_DICT;
    const long double lo = str ? 0 : t == TS_T_FLOAT64 ? (long double)mn->f : (long double)mn->i;
    const long double hi = str ? 0 : t == TS_T_FLOAT64 ? (long double)mx->f : (long double)mx->i;
    switch (p->op) {
    case TS_PQ_OP_EQ: return in_range(p, t, p->x, p->s, p->len, mn, mx);
    case TS_PQ_OP_IN:
        for (int i = 0; i < p->nvals; i++)
            if (in_range(p, t, str ? 0 : p->xs[i], str ? p->ss[i] : NULL, str ? p->lens[i] : 0, mn, mx))
                return 1;
        return 0;
    case TS_PQ_OP_NE:
        return str ? !(cmp_str(p->s, p->len, mn->s, mn->len) == 0 && cmp_str(p->s, p->len, mx->s, mx->len) == 0)
                   : !(lo == hi && lo == p->x && p->eps == 0);
    case TS_PQ_OP_LT: return str ? cmp_str(p->s, p->len, mn->s, mn->len) > 0 : lo < p->x + p->eps;
    case TS_PQ_OP_LE: return str ? cmp_str(p->s, p->len, mn->s, mn->len) >= 0 : lo <= p->x + p->eps;
    case TS_PQ_OP_GT: return str ? cmp_str(p->s, p->len, mx->s, mx->len) < 0 : hi > p->x - p->eps;
    case TS_PQ_OP_GE: return str ? cmp_str(p->s, p->len, mx->s, mx->len) <= 0 : hi >= p->x - p->eps;
    default: return 1;
    }
}

/* A Hive value as a one-value range of its column's type (0 when NULL or unparsable). */
static int hive_value(const ts_pq_dscol *c, const char *v, ts_pq_value *out)
{
    memset(out, 0, sizeof *out);
    if (!v)
        return 0;
    if (c->type == TS_T_INT64) {
        int64_t x;
        if (!ts_parse_int64(v, strlen(v), &x))
            return 0;
        out->i = x;
    } else if (c->type == TS_T_DATE) {
        int32_t d;
        if (!ts_parse_date_forms(v, strlen(v), TS_DATE_ISO, &d))
            return 0;
        out->i = d;
    } else {
        out->s = (const uint8_t *)v, out->len = (uint32_t)strlen(v);
    }
    return 1;
}

static int file_kept(const ts_pq_dataset *ds, const ts_pq_scan_opts *o, int f)
{
    const int nk = ds->ncols - ds->nfile_cols;
    for (int i = 0; i < o->npreds; i++) {
        const ts_pq_pred *p = &o->preds[i];
        const ts_pq_dscol *c = &ds->cols[p->col];
        if (!c->hive)
            continue;
        const char *v = ds->hive_values[(size_t)f * (size_t)nk + (size_t)(p->col - ds->nfile_cols)];
        ts_pq_value x;
        const int b = hive_value(c, v, &x);
        if (!may_match(p, c->type, b, &x, &x, v ? 0 : 1, 1))
            return 0;
    }
    return 1;
}

/* ---- the row groups ------------------------------------------------------------------------------------------------ */

typedef struct rg_rec {
    int64_t file, rg, rows, bytes;
} rg_rec;

/* The dataset columns to read that come from the files, mapped to f's columns (checked: present, same type). */
static ts_err map_file_cols(const ts_pq_dataset *ds, const ts_pq_scan_opts *o, const ts_pq_file *f, int *fc)
{
    for (int i = 0; i < o->ncols; i++) {
        const ts_pq_dscol *c = &ds->cols[o->cols[i]];
        fc[i] = -1;
        if (c->hive)
            continue;
        const int k = ts_pq_find_column(f, c->name);
        if (k < 0)
            TS_FAIL(TS_ERR_DATA, "%s has no column '%s' (the dataset's schema comes from %s)", f->path, c->name,
                    ds->files[0].path);
        if (f->cols[k].type != c->type || f->cols[k].scale != c->scale)
            TS_FAIL(TS_ERR_DATA, "%s: column '%s' is %s, but %s in %s (files of one dataset must agree)", f->path,
                    c->name, f->cols[k].desc, c->desc, ds->files[0].path);
        fc[i] = k;
    }
    return TS_OK;
}

/* This rank's footers: files kept[i] with i % P == rank; their row groups that survive the predicates. */
static ts_err footers(ts_ctx *ctx, const ts_pq_dataset *ds, const ts_pq_scan_opts *o, const int *kept, int nkept,
                      rg_rec **recs, int64_t *nrec, int64_t *total_rgs)
{
    int64_t cap = 0;
    *recs = NULL, *nrec = 0, *total_rgs = 0;
    int fc[TS_MAX_COLS];
    for (int i = ctx->rank; i < nkept; i += ctx->size) {
        ts_pq_file *f;
        TS_TRY(ts_pq_open(ds->files[kept[i]].path, &f));
        ts_err err = map_file_cols(ds, o, f, fc);
        for (int g = 0; !err && g < f->meta.nrgs; g++) {
            const ts_pq_row_group *rg = &f->meta.rgs[g];
            int64_t bytes = 0, keep = 1;
            for (int c = 0; c < o->ncols; c++)
                if (fc[c] >= 0)
                    bytes += rg->cols[fc[c]].total_compressed;
            for (int p = 0; keep && p < o->npreds; p++) {
                const ts_pq_dscol *dc = &ds->cols[o->preds[p].col];
                if (dc->hive)
                    continue;
                const int k = ts_pq_find_column(f, dc->name);
                if (k < 0)
                    continue;
                ts_pq_value mn, mx;
                int64_t nulls;
                const int b = ts_pq_chunk_bounds(f, g, k, &mn, &mx, &nulls);
                keep = may_match(&o->preds[p], dc->type, b, &mn, &mx, nulls, rg->num_rows);
            }
            (*total_rgs)++;
            if (!keep || rg->num_rows == 0)
                continue;
            if (*nrec == cap) {
                cap = cap ? 2 * cap : 64;
                rg_rec *r = realloc(*recs, sizeof *r * (size_t)cap);
                if (!r) {
                    err = ts_error_raise(TS_ERR_NOMEM, __FILE__, __LINE__, __func__, "out of memory");
                    break;
                }
                *recs = r;
            }
            /* the balance needs a positive size even when only partition keys are read */
            (*recs)[(*nrec)++] = (rg_rec){kept[i], g, rg->num_rows, bytes + rg->num_rows / 8 + 1};
        }
        ts_pq_close(f);
        TS_TRY(err);
    }
    return TS_OK;
}

static int cmp_rec(const void *a, const void *b)
{
    const rg_rec *x = a, *y = b;
    return x->file != y->file ? (x->file > y->file) - (x->file < y->file) : (x->rg > y->rg) - (x->rg < y->rg);
}

/* Every rank's records to all, sorted by (file, row group). */
static ts_err gather_recs(ts_ctx *ctx, const rg_rec *mine, int64_t n, rg_rec **all, int64_t *total)
{
    *all = NULL;
    int *cnt = malloc(sizeof *cnt * (size_t)ctx->size), *disp = malloc(sizeof *disp * (size_t)ctx->size);
    long long m = (long long)n * 4;
    ts_err err = cnt && disp && m <= INT_MAX ? TS_OK
                                             : ts_error_raise(TS_ERR_NOMEM, __FILE__, __LINE__, __func__,
                                                              "too many row groups to share");
    err = ts_ctx_check(ctx, err);
    int mi = (int)m;
    if (!err)
        err = ts_mpi_status(MPI_Allgather(&mi, 1, MPI_INT, cnt, 1, MPI_INT, ctx->comm), "MPI_Allgather", __FILE__,
                            __LINE__, __func__);
    long long sum = 0;
    for (int r = 0; !err && r < ctx->size; r++)
        disp[r] = (int)sum, sum += cnt[r];
    if (!err && sum > INT_MAX)
        err = ts_error_raise(TS_ERR_USAGE, __FILE__, __LINE__, __func__, "too many row groups (%lld)", sum / 4);
    if (!err && !(*all = malloc(sizeof **all * (size_t)(sum / 4 + 1))))
        err = ts_error_raise(TS_ERR_NOMEM, __FILE__, __LINE__, __func__, "out of memory for the row groups");
    err = ts_ctx_check(ctx, err);
    if (!err)
        err = ts_mpi_status(MPI_Allgatherv(mine, mi, MPI_INT64_T, *all, cnt, disp, MPI_INT64_T, ctx->comm),
                            "MPI_Allgatherv", __FILE__, __LINE__, __func__);
    free(cnt), free(disp);
    if (err) {
        free(*all), *all = NULL;
        return err;
    }
    *total = sum / 4;
    qsort(*all, (size_t)*total, sizeof **all, cmp_rec);
    return TS_OK;
}

/* ---- reading ------------------------------------------------------------------------------------------------------- */

typedef struct out_col {
    ts_pq_target t;
    ts_pq_intern intern;   /* strings: the rank's distinct values while codes are kept */
    int has_intern;
} out_col;

/* rows copies of a Hive value (NULL: nulls). */
static ts_err append_hive(out_col *oc, const ts_pq_dscol *c, const char *v, int64_t rows)
{
    ts_column *col = oc->t.col;
    const int64_t at = col->len;
    if (!v)
        return ts_column_append_nulls(col, rows);
    TS_TRY(ts_column_reserve(col, at + rows, 0));
    if (c->type == TS_T_STRING && oc->t.intern) {
        const ts_pq_sv sv = {(const uint8_t *)v, (uint32_t)strlen(v)};
        int32_t code;
        int full;
        TS_TRY(ts_pq_intern_codes(oc->t.intern, &sv, 1, &code, &full));
        if (full) { /* more distinct values than the dictionary may hold: strings from now on */
            ts_column *s;
            TS_TRY(ts_pq_intern_expand(oc->t.intern, col, &s));
            ts_column_free(col);
            oc->t.col = s, oc->t.intern = NULL;
            return append_hive(oc, c, v, rows);
        }
        for (int64_t i = 0; i < rows; i++)
            TS_COL(col, int32_t)[at + i] = code;
    } else if (c->type == TS_T_STRING) {
        for (int64_t i = 0; i < rows; i++)
            TS_TRY(ts_column_append_string(col, v, (int64_t)strlen(v)));
        return TS_OK;
    } else {
        ts_pq_value x;
        hive_value(c, v, &x);
        for (int64_t i = 0; i < rows; i++) {
            if (c->type == TS_T_DATE)
                TS_COL(col, int32_t)[at + i] = (int32_t)x.i;
            else
                TS_COL(col, int64_t)[at + i] = x.i;
        }
    }
    col->len = at + rows;
    return TS_OK;
}

static ts_err read_mine(const ts_pq_dataset *ds, const ts_pq_scan_opts *o, const rg_rec *recs, int64_t n,
                        out_col *oc)
{
    ts_pq_reader r = {0};
    ts_pq_file *f = NULL;
    int64_t cur = -1;
    int fc[TS_MAX_COLS];
    ts_err err = TS_OK;
    const int nk = ds->ncols - ds->nfile_cols;
    for (int64_t i = 0; !err && i < n; i++) {
        if (recs[i].file != cur) {
            ts_pq_close(f), f = NULL;
            cur = recs[i].file;
            err = ts_pq_open(ds->files[cur].path, &f);
            if (!err)
                err = map_file_cols(ds, o, f, fc);
            if (!err && recs[i].rg >= f->meta.nrgs)
                err = ts_error_raise(TS_ERR_DATA, __FILE__, __LINE__, __func__, "%s changed while it was read",
                                     f->path);
        }
        for (int c = 0; !err && c < o->ncols; c++) {
            const ts_pq_dscol *dc = &ds->cols[o->cols[c]];
            if (dc->hive)
                err = append_hive(&oc[c], dc, ds->hive_values[(size_t)cur * (size_t)nk +
                                                              (size_t)(o->cols[c] - ds->nfile_cols)], recs[i].rows);
            else
                err = ts_pq_read_chunk(&r, f, (int)recs[i].rg, fc[c], &oc[c].t);
        }
    }
    ts_pq_close(f);
    ts_pq_reader_free(&r);
    return err;
}

/* A string column's end state, agreed by all ranks: DICT with a global dictionary, or STRING. */
static ts_err finish_strings(ts_ctx *ctx, out_col *oc, int64_t dict_max)
{
    int all_codes = oc->t.intern != NULL;
    TS_MPI(MPI_Allreduce(MPI_IN_PLACE, &all_codes, 1, MPI_INT, MPI_MIN, ctx->comm));
    ts_dict *dict = NULL;
    int32_t *remap = NULL;
    if (all_codes)
        TS_TRY(ts_dict_unify(ctx, oc->intern.values, dict_max, &dict, &remap));
    ts_err err = TS_OK;
    if (dict) {
        ts_column *col = oc->t.col;
        int32_t *codes = TS_COL(col, int32_t);
        for (int64_t i = 0; i < col->len; i++)
            codes[i] = ts_column_is_valid(col, i) ? remap[codes[i]] : 0;
        col->type = TS_T_DICT, col->dict = dict; /* the column keeps the reference */
        free(remap);
        return TS_OK;
    }
    if (oc->t.intern) { /* codes that stay strings after all */
        ts_column *s;
        err = ts_pq_intern_expand(oc->t.intern, oc->t.col, &s);
        if (!err)
            ts_column_free(oc->t.col), oc->t.col = s, oc->t.intern = NULL;
    }
    return err;
}

ts_err ts_pq_scan(ts_ctx *ctx, const ts_pq_dataset *ds, const ts_pq_scan_opts *o, ts_table **out,
                  ts_pq_scan_stats *st)
{
    *out = NULL;
    ts_pq_scan_stats stats = {.files = ds->nfiles};
    int *kept = malloc(sizeof *kept * (size_t)(ds->nfiles + 1)), nkept = 0;
    if (!kept)
        TS_FAIL(TS_ERR_NOMEM, "out of memory");
    for (int f = 0; f < ds->nfiles; f++)
        if (file_kept(ds, o, f))
            kept[nkept++] = f;
    stats.files_read = nkept;
    rg_rec *mine = NULL, *all = NULL;
    int64_t nmine = 0, nall = 0, total_rgs = 0;
    ts_err err = ts_ctx_check(ctx, footers(ctx, ds, o, kept, nkept, &mine, &nmine, &total_rgs));
    free(kept);
    if (!err)
        err = gather_recs(ctx, mine, nmine, &all, &nall);
    free(mine);
    if (!err)
        err = ts_mpi_status(MPI_Allreduce(&total_rgs, &stats.row_groups, 1, MPI_INT64_T, MPI_SUM, ctx->comm),
                            "MPI_Allreduce", __FILE__, __LINE__, __func__);
    if (err) {
        free(all);
        return err;
    }
    /* contiguous runs of about equal bytes: a row group goes to the rank whose share holds its middle byte */
    int64_t total = 0, first = nall, last = nall, rows = 0;
    for (int64_t i = 0; i < nall; i++)
        total += all[i].bytes, stats.rows += all[i].rows, stats.bytes += all[i].bytes;
    stats.row_groups_read = nall;
    for (int64_t i = 0, cum = 0; i < nall; cum += all[i].bytes, i++) {
        const long double mid = (long double)cum + (long double)all[i].bytes / 2;
        int owner = (int)(mid * ctx->size / (long double)(total ? total : 1));
        owner = owner < ctx->size ? owner : ctx->size - 1;
        if (owner == ctx->rank) {
            if (first == nall)
                first = i;
            last = i + 1;
            rows += all[i].rows;
        }
    }
    if (first == nall)
        first = last = 0;
    out_col oc[TS_MAX_COLS];
    memset(oc, 0, sizeof oc);
    for (int c = 0; !err && c < o->ncols; c++) {
        const ts_pq_dscol *dc = &ds->cols[o->cols[c]];
        const int codes = dc->type == TS_T_STRING && o->dict_max > 0;
        err = ts_column_new(dc->name, codes ? TS_T_INT32 : dc->type, dc->scale, NULL, &oc[c].t.col);
        if (!err)
            err = ts_column_reserve(oc[c].t.col, rows, 0);
        if (!err && codes && !(err = ts_pq_intern_init(&oc[c].intern, o->dict_max)))
            oc[c].t.intern = &oc[c].intern, oc[c].has_intern = 1;
    }
    if (!err)
        err = read_mine(ds, o, all + first, last - first, oc);
    free(all);
    err = ts_ctx_check(ctx, err);
    for (int c = 0; !err && c < o->ncols; c++)
        if (ds->cols[o->cols[c]].type == TS_T_STRING && o->dict_max > 0)
            err = ts_ctx_check(ctx, finish_strings(ctx, &oc[c], o->dict_max));
    ts_table *t = NULL;
    if (!err)
        err = ts_table_new("read_parquet", &t);
    for (int c = 0; c < o->ncols; c++) {
        if (!err) {
            err = ts_table_adopt(t, oc[c].t.col);
            oc[c].t.col = NULL;
        }
        ts_column_free(oc[c].t.col);
        if (oc[c].has_intern)
            ts_pq_intern_free(&oc[c].intern);
    }
    if (err) {
        ts_table_free(t);
        return err;
    }
    if (st)
        *st = stats;
    *out = t;
    return TS_OK;
}
