/* data-quality tests (docs/jobs/data-quality.md): the tables tests run on (the transactions, other CSV files,
 * HDF5 tables), typed values and comparisons, and the evaluation of each test with dbt's counting: rows for
 * not_null, relationships and expressions, distinct values for unique and accepted_values; the status from
 * warn_if / error_if; and a failures table of the offending rows or values, capped. Collective where noted. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data_quality.h"
#include "ts_aggregate_dist.h"
#include "ts_csv_infer.h"
#include "ts_csv_schema.h"
#include "ts_csv_table.h"
#include "ts_date.h"
#include "ts_exchange.h"
#include "ts_h5_read.h"
#include "ts_join_dist.h"
#include "ts_parse.h"
#include "ts_sort.h"

/* ---- values ---------------------------------------------------------------------------------------------- */

void dq_format_value(const ts_column *c, int64_t i, char *buf, size_t cap)
{
    buf[0] = 0;
    if (!ts_column_is_valid(c, i))
        return;
    switch (c->type) {
    case TS_T_BOOL: snprintf(buf, cap, "%s", TS_COL(c, uint8_t)[i] ? "true" : "false"); break;
    case TS_T_INT32: snprintf(buf, cap, "%d", TS_COL(c, int32_t)[i]); break;
    case TS_T_INT64: snprintf(buf, cap, "%lld", (long long)TS_COL(c, int64_t)[i]); break;
    case TS_T_FLOAT64: snprintf(buf, cap, "%.17g", TS_COL(c, double)[i]); break;
    case TS_T_DATE: {
        int y, m, d;
        ts_civil_from_days(TS_COL(c, int32_t)[i], &y, &m, &d);
        snprintf(buf, cap, "%04d-%02d-%02d", y, m, d);
        break;
    }
    case TS_T_TIMESTAMP: {
        char t[64];
        const int n = ts_format_timestamp(TS_COL(c, int64_t)[i], t);
        snprintf(buf, cap, "%.*s", n, t);
        break;
    }
    case TS_T_DECIMAL: {
        const int64_t v = TS_COL(c, int64_t)[i];
        uint64_t mag = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v, p = 1;
        for (int s = 0; s < c->scale; s++)
            p *= 10;
        if (c->scale)
            snprintf(buf, cap, "%s%llu.%0*llu", v < 0 ? "-" : "", (unsigned long long)(mag / p), c->scale,
                     (unsigned long long)(mag % p));
        else
            snprintf(buf, cap, "%lld", (long long)v);
        break;
    }
    case TS_T_DICT: case TS_T_STRING: {
        int64_t len;
        const char *s;
        if (c->type == TS_T_DICT)
            s = ts_dict_value(c->dict, TS_COL(c, int32_t)[i], &len);
        else
            s = c->bytes + TS_COL(c, int64_t)[i], len = TS_COL(c, int64_t)[i + 1] - TS_COL(c, int64_t)[i];
        if ((size_t)len >= cap)
            len = (int64_t)cap - 1;
        memcpy(buf, s, (size_t)len);
        buf[len] = 0;
        break;
    }
    }
}

/* A decimal number written with any number of decimals (at most 18 digits in all): i / 10^scale. */
static int parse_decimal_any(const char *s, size_t len, int64_t *out, int *scale)
{
    size_t k = 0;
    int neg = 0, digits = 0, frac = -1;
    int64_t v = 0;
    if (k < len && (s[k] == '+' || s[k] == '-'))
        neg = s[k++] == '-';
    for (; k < len; k++) {
        if (s[k] == '.' && frac < 0) {
            frac = 0;
            continue;
        }
        if (s[k] < '0' || s[k] > '9' || ++digits > 18)
            return 0;
        v = v * 10 + (s[k] - '0');
        if (frac >= 0)
            frac++;
    }
    if (digits == 0 || frac == 0)
        return 0;
    *out = neg ? -v : v, *scale = frac < 0 ? 0 : frac;
    return 1;
}

/* Text t (len) of column info as a value: parsed as the column's type, categories case-folded into buf. */
static dq_val parse_text(const dq_colinfo *info, const char *t, size_t len, unsigned date_forms, char *buf,
                         size_t cap)
{
    dq_val v = {.k = V_BAD};
    int b;
    int32_t d;
    switch (info->type) {
    case DQ_INT: v.k = ts_parse_int64(t, len, &v.i) ? V_INT : V_BAD; break;
    case DQ_DEC: v.k = parse_decimal_any(t, len, &v.i, &v.scale) ? V_DEC : V_BAD; break;
    case DQ_DATE:
        if (ts_parse_date_forms(t, len, date_forms ? date_forms : TS_DATE_ALL, &d))
            v.k = V_DATE, v.i = d;
        break;
    case DQ_FLOAT: v.k = ts_parse_float64(t, len, &v.f) ? V_FLOAT : V_BAD; break;
    case DQ_BOOL:
        if (ts_parse_bool(t, len, &b))
            v.k = V_BOOL, v.i = b;
        break;
    case DQ_CAT:
        if (len < cap && ts_fold_case(t, len, info->fold_upper, buf, cap)) {
            v.k = V_TEXT, v.s = buf, v.len = (int64_t)len;
            break;
        }
        v.k = V_TEXT, v.s = t, v.len = (int64_t)len; /* longer than buf: compared unfolded */
        break;
    case DQ_STR: v.k = V_TEXT, v.s = t, v.len = (int64_t)len; break;
    }
    return v;
}

dq_val dq_constant(const dq_colinfo *info, const char *tok, char *buf, size_t cap)
{
    const size_t len = strlen(tok);
    if (info->type == DQ_STR || (info->type == DQ_CAT && len >= cap)) {
        snprintf(buf, cap, "%s", tok);
        return (dq_val){.k = V_TEXT, .s = buf, .len = (int64_t)strlen(buf)};
    }
    if (info->type == DQ_BOOL) { /* constants: true or false */
        const int t = len == 4 && strncasecmp(tok, "true", 4) == 0, f = len == 5 && strncasecmp(tok, "false", 5) == 0;
        return (dq_val){.k = t || f ? V_BOOL : V_BAD, .i = t};
    }
    /* dates as YYYY-MM-DD only (a constant is no raw value: 20230101 is not a date here) */
    dq_val v = parse_text(info, tok, len, TS_DATE_ISO, buf, cap);
    if (v.k == V_TEXT && v.s == buf)
        buf[len] = 0;
    return v;
}

dq_val dq_value(const dq_source *src, int c, dq_layer layer, int64_t i, char *buf, size_t cap)
{
    const dq_colinfo *info = &src->cols[c];
    if (layer == DQ_RAW) {
        const ts_column *r = src->raw->cols[c];
        if (!ts_column_is_valid(r, i))
            return (dq_val){.k = V_NULL};
        const int64_t *off = TS_COL(r, int64_t);
        return parse_text(info, r->bytes + off[i], (size_t)(off[i + 1] - off[i]), info->date_forms, buf, cap);
    }
    const ts_column *col = src->clean->cols[c];
    if (!ts_column_is_valid(col, i))
        return (dq_val){.k = V_NULL};
    dq_val v = {.k = V_INT};
    switch (col->type) {
    case TS_T_INT64: v.i = TS_COL(col, int64_t)[i]; break;
    case TS_T_INT32: v.i = TS_COL(col, int32_t)[i]; break;
    case TS_T_DECIMAL: v.k = V_DEC, v.i = TS_COL(col, int64_t)[i], v.scale = col->scale; break;
    case TS_T_DATE: v.k = V_DATE, v.i = TS_COL(col, int32_t)[i]; break;
    case TS_T_FLOAT64: v.k = V_FLOAT, v.f = TS_COL(col, double)[i]; break;
    case TS_T_BOOL: v.k = V_BOOL, v.i = TS_COL(col, uint8_t)[i] != 0; break;
    case TS_T_DICT: v.k = V_TEXT, v.s = ts_dict_value(col->dict, TS_COL(col, int32_t)[i], &v.len); break;
    case TS_T_TIMESTAMP: /* as ISO text, whose order is the time order (the column is a text column here) */
        dq_format_value(col, i, buf, cap);
        v.k = V_TEXT, v.s = buf, v.len = (int64_t)strlen(buf);
        break;
    case TS_T_STRING:
        v.k = V_TEXT, v.s = col->bytes + TS_COL(col, int64_t)[i];
        v.len = TS_COL(col, int64_t)[i + 1] - TS_COL(col, int64_t)[i];
        break;
    }
    return v;
}

static double as_double(const dq_val *v)
{
    if (v->k == V_FLOAT)
        return v->f;
    double x = (double)v->i;
    for (int s = 0; v->k == V_DEC && s < v->scale; s++)
        x /= 10;
    return x;
}

/* a <=> b for numbers: exactly in 128-bit integers at the larger scale (decimals have at most 18 digits), as
 * doubles when one is a float. */
static int cmp_numbers(const dq_val *a, const dq_val *b)
{
    if (a->k == V_FLOAT || b->k == V_FLOAT) {
        const double x = as_double(a), y = as_double(b);
        return (x > y) - (x < y);
    }
    const int sa = a->k == V_DEC ? a->scale : 0, sb = b->k == V_DEC ? b->scale : 0, s = sa > sb ? sa : sb;
    __int128 x = a->i, y = b->i;
    for (int k = sa; k < s; k++)
        x *= 10;
    for (int k = sb; k < s; k++)
        y *= 10;
    return (x > y) - (x < y);
}

int dq_compare(const dq_val *a, int op, const dq_val *b)
{
    if (a->k == V_NULL || b->k == V_NULL)
        return -1;
    int c;
    const int na = a->k == V_INT || a->k == V_DEC || a->k == V_FLOAT, nb = b->k == V_INT || b->k == V_DEC || b->k == V_FLOAT;
    if (na && nb) {
        c = cmp_numbers(a, b);
    } else if (a->k == V_TEXT && b->k == V_TEXT) {
        const int64_t n = a->len < b->len ? a->len : b->len;
        c = memcmp(a->s, b->s, (size_t)n);
        c = c ? (c > 0) - (c < 0) : (a->len > b->len) - (a->len < b->len);
    } else if (a->k == b->k && (a->k == V_DATE || a->k == V_BOOL)) {
        c = (a->i > b->i) - (a->i < b->i);
    } else {
        return 0; /* BAD, or types that do not compare */
    }
    switch (op) {
    case DQ_EQ: return c == 0;
    case DQ_NE: return c != 0;
    case DQ_LT: return c < 0;
    case DQ_LE: return c <= 0;
    case DQ_GT: return c > 0;
    default: return c >= 0;
    }
}

/* ---- sources ----------------------------------------------------------------------------------------------- */

static void colinfo_of_type(dq_colinfo *c, const char *name, ts_type t, int scale)
{
    snprintf(c->name, sizeof c->name, "%s", name);
    c->scale = scale, c->fold_upper = 0, c->date_forms = TS_DATE_ISO;
    c->type = t == TS_T_INT32 || t == TS_T_INT64 ? DQ_INT : t == TS_T_DECIMAL ? DQ_DEC : t == TS_T_DATE ? DQ_DATE
              : t == TS_T_FLOAT64 ? DQ_FLOAT : t == TS_T_BOOL ? DQ_BOOL : DQ_STR;
}

/* A CSV file: its types inferred as SQL's read_csv infers them, then two lenient scans that keep the same
 * (well-formed) rows: typed (a value that does not parse as its column's type becomes NULL) and text. */
static ts_err open_csv(ts_ctx *ctx, dq_source *src, const char *data_dir)
{
    char path[8400];
    snprintf(path, sizeof path, "%s%s%s", src->spec[0] == '/' ? "" : data_dir, src->spec[0] == '/' ? "" : "/",
             src->spec);
    ts_file_info *files = NULL;
    int n = 0;
    TS_TRY(ts_scan_list_inputs(ctx, path, &files, &n));
    ts_csv_inferred inf, text; /* text: a copy with its own fields, every one read as raw text */
    ts_err err = ts_csv_infer_files(ctx, files, n, NULL, &inf);
    if (err) {
        free(files);
        return err;
    }
    if (inf.ncols > TS_MAX_COLS)
        err = ts_error_raise(TS_ERR_USAGE, __FILE__, __LINE__, __func__,
                             "%s has %d columns; a tested table has at most %d", path, inf.ncols, TS_MAX_COLS);
    if (!err)
        err = ts_csv_inferred_copy(&text, &inf);
    if (err) {
        ts_csv_inferred_free(&inf);
        free(files);
        return err;
    }
    for (int f = 0; f < inf.ncols; f++) {
        inf.fields[f].nullable = inf.fields[f].fail_to_null = 1;
        ts_csv_field *r = &text.fields[f];
        r->kind = TS_RULE_STRING, r->nullable = 1, r->fail_to_null = 0, r->pattern = NULL, r->accepted = NULL;
        r->has_min = r->has_max = 0;
        colinfo_of_type(&src->cols[f], inf.names[f], inf.types[f], inf.scales[f]);
    }
    inf.spec.no_trim = text.spec.no_trim = 0; /* values are trimmed, as in the transactions */
    src->ncols = inf.ncols;
    src->owns = 1;
    err = ts_scan_csv_files(ctx, files, n, &inf.spec, &src->own_scan[0]);
    if (!err)
        err = ts_scan_csv_files(ctx, files, n, &text.spec, &src->own_scan[1]);
    ts_csv_inferred_free(&inf);
    ts_csv_inferred_free(&text);
    free(files);
    TS_TRY(err);
    src->clean = src->own_scan[0].clean, src->raw = src->own_scan[1].clean, src->scan = &src->own_scan[0];
    const ts_column *a = ts_table_col(src->clean, "__pos"), *b = ts_table_col(src->raw, "__pos");
    if (!a || !b || a->len != b->len || memcmp(a->data, b->data, sizeof(int64_t) * (size_t)a->len) != 0)
        TS_FAIL(TS_ERR_INTERNAL, "%s: the typed and text scans kept different rows", path);
    return ts_allreduce_sum_i64(ctx, a->len, &src->rows);
}

/* An HDF5 table: FILE.h5:/GROUP, or /GROUP of --in. */
static ts_err open_h5(ts_ctx *ctx, dq_source *src, const char *in_path)
{
    char file[4200];
    const char *group = src->spec, *colon = strstr(src->spec, ":/");
    if (colon) { /* FILE.h5:/GROUP */
        snprintf(file, sizeof file, "%.*s", (int)(colon - src->spec), src->spec);
        group = colon + 1;
    } else { /* /GROUP of --in */
        if (!in_path)
            TS_FAIL(TS_ERR_USAGE, "table %s names a table of --in FILE.h5, but there is no --in", src->spec);
        snprintf(file, sizeof file, "%s", in_path);
    }
    TS_TRY(ts_h5_read_table(ctx->comm, file, group, NULL, 0, &src->clean));
    src->owns = 1;
    if (src->clean->ncols > TS_MAX_COLS)
        TS_FAIL(TS_ERR_USAGE, "%s:%s has %d columns; a tested table has at most %d", file, group,
                src->clean->ncols, TS_MAX_COLS);
    const int64_t n = ts_table_rows(src->clean);
    src->ncols = src->clean->ncols;
    for (int c = 0; c < src->ncols; c++)
        colinfo_of_type(&src->cols[c], src->clean->cols[c]->name, src->clean->cols[c]->type, src->clean->cols[c]->scale);
    TS_MPI(MPI_Exscan(&n, &src->row_base, 1, MPI_INT64_T, MPI_SUM, ctx->comm));
    if (ctx->rank == 0)
        src->row_base = 0;
    return ts_allreduce_sum_i64(ctx, n, &src->rows);
}

ts_err dq_source_open(ts_ctx *ctx, dq_source *src, const char *data_dir, const char *in_path)
{
    return src->h5 ? open_h5(ctx, src, in_path) : open_csv(ctx, src, data_dir);
}

void dq_source_free(dq_source *src)
{
    if (!src->owns)
        return;
    if (src->h5)
        ts_table_free(src->clean);
    else
        ts_scan_free(&src->own_scan[0]), ts_scan_free(&src->own_scan[1]);
    src->clean = src->raw = NULL;
    src->owns = 0;
}

/* ---- evaluation helpers -------------------------------------------------------------------------------------- */

ts_err dq_value_counts(ts_ctx *ctx, const ts_table *t, const char *col, int64_t *distinct, int64_t *dup_rows)
{
    static const ts_agg cnt[] = {{TS_AGG_COUNT, NULL, NULL, "n", 0, NULL}};
    const char *keys[] = {col};
    ts_table *g;
    TS_TRY(ts_aggregate_distributed(ctx, t, keys, 1, cnt, 1, "value_counts", &g));
    int64_t local[2] = {0, 0}, global[2];
    const ts_column *k = g->cols[0], *n = g->cols[1];
    for (int64_t i = 0; i < k->len; i++) {
        if (!ts_column_is_valid(k, i))
            continue;
        local[0]++;
        if (TS_COL(n, int64_t)[i] > 1)
            local[1] += TS_COL(n, int64_t)[i];
    }
    ts_table_free(g);
    TS_MPI(MPI_Allreduce(local, global, 2, MPI_INT64_T, MPI_SUM, ctx->comm));
    *distinct = global[0], *dup_rows = global[1];
    return TS_OK;
}

#define VBUF 512

/* The rows of src that pass every where condition of t (ascending indexes, malloc'ed). */
static ts_err where_rows(const dq_source *src, const dq_test *t, int64_t **rows, int64_t *n)
{
    const int64_t m = ts_table_rows(src->clean);
    int64_t *r = malloc(8 * (size_t)(m + 1)), k = 0;
    if (!r)
        TS_FAIL(TS_ERR_NOMEM, "out of memory evaluating test '%s'", t->name);
    char b1[VBUF], b2[VBUF];
    for (int64_t i = 0; i < m; i++) {
        int ok = 1;
        for (int w = 0; ok && w < t->nwhere; w++) {
            const dq_cond *c = &t->where[w];
            const dq_val l = dq_value(src, c->col, t->layer, i, b1, sizeof b1);
            const dq_val rv = c->rhs_col >= 0 ? dq_value(src, c->rhs_col, t->layer, i, b2, sizeof b2) : c->rhs;
            ok = dq_compare(&l, c->op, &rv) == 1;
        }
        if (ok)
            r[k++] = i;
    }
    *rows = r, *n = k;
    return TS_OK;
}

/* Row i of column c as text in the test's layer (the raw text, or the formatted value); NULL: *null = 1. */
static void cell_text(const dq_source *src, int c, dq_layer layer, int64_t i, char *buf, size_t cap, int *null)
{
    const ts_column *col = layer == DQ_RAW ? src->raw->cols[c] : src->clean->cols[c];
    *null = !ts_column_is_valid(col, i);
    dq_format_value(col, i, buf, cap);
}

/* A new table: __pos (INT64: the row's position, or its global index in an HDF5 table), then one STRING column
 * per tested column with its text, for rows idx[0..n). */
static ts_err row_table(const dq_source *src, const dq_test *t, const int64_t *idx, int64_t n, ts_table **out)
{
    ts_column *pos;
    TS_TRY(ts_table_new("failures", out));
    TS_TRY(ts_table_add(*out, "__pos", TS_T_INT64, 0, NULL, &pos));
    TS_TRY(ts_column_reserve(pos, n, 0));
    const ts_column *p = src->h5 ? NULL : ts_table_col(src->clean, "__pos");
    for (int64_t k = 0; k < n; k++)
        TS_COL(pos, int64_t)[k] = p ? TS_COL(p, int64_t)[idx[k]] : src->row_base + idx[k];
    pos->len = n;
    for (int j = 0; j < t->ncols; j++) {
        ts_column *c;
        if (ts_table_col(*out, src->cols[t->cols[j]].name))
            continue; /* a column compared with itself */
        TS_TRY(ts_table_add(*out, src->cols[t->cols[j]].name, TS_T_STRING, 0, NULL, &c));
        char buf[VBUF];
        for (int64_t k = 0; k < n; k++) {
            int null;
            cell_text(src, t->cols[j], t->layer, idx[k], buf, sizeof buf, &null);
            TS_TRY(ts_column_append_string(c, buf, (int64_t)strlen(buf)));
            if (null)
                TS_TRY(ts_column_set_null(c, k));
        }
    }
    return TS_OK;
}

/* The first `store` rows of the distributed table mine (__pos, then texts; consumed) in input order, on rank 0,
 * as t's failures table: file + line (CSV) or row (HDF5), then the texts. Collective. */
static ts_err finish_rows(ts_ctx *ctx, const dq_source *src, dq_test *t, ts_table *mine)
{
    static const ts_sort_key by[] = {{"__pos", 0, 0}};
    ts_table *top = NULL;
    const ts_err err = ts_top_k(ctx, mine, by, 1, t->store, &top);
    ts_table_free(mine);
    TS_TRY(err);
    ts_table *out = NULL;
    ts_err e = ts_table_new(t->name, &out);
    const ts_column *pos = top->cols[0];
    const int64_t m = pos->len;
    ts_column *file = NULL, *line = NULL;
    if (!e && !src->h5)
        e = ts_table_add(out, "file", TS_T_STRING, 0, NULL, &file);
    if (!e)
        e = ts_table_add(out, src->h5 ? "row" : "line", TS_T_INT64, 0, NULL, &line);
    if (!e)
        e = ts_column_reserve(line, m, 0);
    for (int64_t k = 0; !e && k < m; k++) {
        const int64_t p = TS_COL(pos, int64_t)[k];
        TS_COL(line, int64_t)[line->len++] = src->h5 ? p : ts_pos_line(p);
        if (file) {
            const char *base = ts_file_base(&src->scan->files[ts_pos_file(p)]);
            e = ts_column_append_string(file, base, (int64_t)strlen(base));
        }
    }
    for (int c = 1; !e && c < top->ncols; c++) { /* the texts move over */
        e = ts_table_adopt(out, top->cols[c]);
        if (!e)
            top->cols[c] = NULL;
    }
    for (int c = 1; c < top->ncols; c++)
        if (top->cols[c])
            ts_column_free(top->cols[c]);
    top->ncols = 1;
    ts_table_free(top);
    if (e)
        ts_table_free(out);
    else
        t->failed = out;
    return ts_ctx_check(ctx, e);
}

/* Failures of a row-level test: this rank's failing rows idx[0..n) (ascending); the first `store` of them go
 * into the failures table. Collective. */
static ts_err failed_rows(ts_ctx *ctx, const dq_source *src, dq_test *t, const int64_t *idx, int64_t n)
{
    ts_table *mine = NULL;
    const ts_err err = ts_ctx_check(ctx, row_table(src, t, idx, n < t->store ? n : t->store, &mine));
    if (err) {
        ts_table_free(mine);
        return err;
    }
    return finish_rows(ctx, src, t, mine);
}

/* The key table of the rows idx[0..n) for grouping: the tested columns' values (raw: the text, case-folded for
 * categories; else the typed columns). */
static ts_err key_table(const dq_source *src, const dq_test *t, const int64_t *idx, int64_t n, ts_table **out)
{
    TS_TRY(ts_table_new("keys", out));
    for (int j = 0; j < t->ncols; j++) {
        const int c = t->cols[j];
        ts_column *k;
        if (t->layer != DQ_RAW) {
            TS_TRY(ts_column_new_like(src->clean->cols[c], &k));
            ts_err err = ts_column_append_rows(k, src->clean->cols[c], idx, n);
            if (!err)
                err = ts_table_adopt(*out, k);
            if (err) {
                ts_column_free(k);
                return err;
            }
            continue;
        }
        TS_TRY(ts_table_add(*out, src->cols[c].name, TS_T_STRING, 0, NULL, &k));
        const ts_column *r = src->raw->cols[c];
        const int64_t *off = TS_COL(r, int64_t);
        TS_TRY(ts_column_reserve(k, n, r->nbytes));
        char buf[VBUF];
        for (int64_t i = 0; i < n; i++) {
            const char *s = r->bytes + off[idx[i]];
            size_t len = (size_t)(off[idx[i] + 1] - off[idx[i]]);
            if (src->cols[c].type == DQ_CAT && len < sizeof buf &&
                ts_fold_case(s, len, src->cols[c].fold_upper, buf, sizeof buf))
                s = buf;
            TS_TRY(ts_column_append_string(k, s, (int64_t)len));
            if (!ts_column_is_valid(r, idx[i]))
                TS_TRY(ts_column_set_null(k, i));
        }
    }
    return TS_OK;
}

/* Replaces the first n columns of t by their values as text (STRING, NULL kept): failures tables show values
 * as text whatever the layer, like the rows of the row-level tests. */
static ts_err keys_as_text(ts_table *t, int n)
{
    for (int c = 0; c < n; c++) {
        ts_column *src = t->cols[c], *txt;
        if (src->type == TS_T_STRING)
            continue;
        TS_TRY(ts_column_new(src->name, TS_T_STRING, 0, NULL, &txt));
        char buf[VBUF];
        ts_err err = TS_OK;
        for (int64_t i = 0; !err && i < src->len; i++) {
            dq_format_value(src, i, buf, sizeof buf);
            err = ts_column_append_string(txt, buf, (int64_t)strlen(buf));
            if (!err && !ts_column_is_valid(src, i))
                err = ts_column_set_null(txt, i);
        }
        if (err) {
            ts_column_free(txt);
            return err;
        }
        ts_column_free(src);
        t->cols[c] = txt;
    }
    return TS_OK;
}

/* unique / accepted_values: the groups of the tested values (distributed COUNT), the failing ones (count > 1;
 * a value not in the list), their number (dbt's failures) and rows; the first `store` failing values in value
 * order on rank 0. Collective. */
static ts_err failed_values(ts_ctx *ctx, const dq_source *src, dq_test *t, const int64_t *rows, int64_t n)
{
    static const ts_agg cnt[] = {{TS_AGG_COUNT, NULL, NULL, "n_records", 0, NULL}};
    ts_table *keys = NULL, *g = NULL;
    const char *names[DQ_MAX_UNIQUE_COLS];
    for (int j = 0; j < t->ncols; j++)
        names[j] = src->cols[t->cols[j]].name;
    TS_TRY(ts_ctx_check(ctx, key_table(src, t, rows, n, &keys)));
    ts_err err = ts_aggregate_distributed(ctx, keys, names, t->ncols, cnt, 1, "groups", &g);
    ts_table_free(keys);
    TS_TRY(err);
    const int64_t m = ts_table_rows(g);
    int64_t *bad = malloc(8 * (size_t)(m + 1)), nb = 0, local[2] = {0, 0}, global[2];
    err = bad ? TS_OK : ts_error_raise(TS_ERR_NOMEM, __FILE__, __LINE__, __func__, "out of memory");
    const ts_column *count = g->cols[t->ncols];
    char buf[VBUF];
    for (int64_t i = 0; !err && i < m; i++) {
        const int64_t c = TS_COL(count, int64_t)[i];
        int fails;
        if (t->kind == DQ_UNIQUE) {
            fails = c > 1; /* a single column's NULLs are not values (dbt's where ... is not null) */
            if (t->ncols == 1 && !ts_column_is_valid(g->cols[0], i))
                fails = 0;
        } else { /* accepted_values: a NULL is not in the list but not counted (dbt's not in) */
            fails = 0;
            if (ts_column_is_valid(g->cols[0], i)) {
                dq_format_value(g->cols[0], i, buf, sizeof buf);
                fails = 1;
                for (int v = 0; fails && v < t->nvalues; v++)
                    fails = strcmp(buf, t->values[v]) != 0;
            }
        }
        if (fails)
            bad[nb++] = i, local[0]++, local[1] += c;
    }
    if (!err)
        ts_table_keep_rows(g, bad, nb);
    free(bad);
    err = ts_ctx_check(ctx, err);
    if (!err)
        err = ts_mpi_status(MPI_Allreduce(local, global, 2, MPI_INT64_T, MPI_SUM, ctx->comm), "MPI_Allreduce",
                            __FILE__, __LINE__, __func__);
    if (!err)
        t->failures = global[0], t->failing_rows = global[1];
    ts_sort_key by[DQ_MAX_UNIQUE_COLS];
    for (int j = 0; j < t->ncols; j++)
        by[j] = (ts_sort_key){names[j], 0, 0};
    if (!err && t->store > 0 && t->failures > 0)
        err = ts_top_k(ctx, g, by, t->ncols, t->store, &t->failed);
    ts_table_free(g);
    TS_TRY(err);
    if (t->failed) {
        snprintf(t->failed->name, sizeof t->failed->name, "%s", t->name);
        if (t->kind == DQ_ACCEPTED_VALUES) /* dbt's column name */
            snprintf(t->failed->cols[0]->name, sizeof t->failed->cols[0]->name, "value_field");
        t->failed->nsort = 0;
    }
    return ts_ctx_check(ctx, t->failed ? keys_as_text(t->failed, t->ncols) : TS_OK);
}

/* ---- relationships ------------------------------------------------------------------------------------------ */

/* The parent column of a relationships test: FILE.csv:COLUMN (in --data; rank 0 reads it, every rank gets it)
 * or FILE.h5:/GROUP:COLUMN and /GROUP:COLUMN (of --in; read in slabs). *col_name = the column. Collective. */
static ts_err read_parent(ts_ctx *ctx, const dq_test *t, int integer, const char *data_dir, const char *in_path,
                          ts_table **out, const char **col_name)
{
    char target[4200];
    snprintf(target, sizeof target, "%s", t->arg);
    char *colon = strrchr(target, ':');
    *colon = 0;
    static char column[TS_NAME_MAX];
    snprintf(column, sizeof column, "%s", colon + 1);
    *col_name = column;
    const size_t n = strlen(target);
    if ((n > 4 && strcmp(target + n - 4, ".csv") == 0) || (n > 7 && strcmp(target + n - 7, ".csv.gz") == 0)) {
        char path[8400];
        snprintf(path, sizeof path, "%s%s%s", target[0] == '/' ? "" : data_dir, target[0] == '/' ? "" : "/", target);
        const ts_ref_column rc[] = {{column, integer ? TS_REF_INT64 : TS_REF_STRING}};
        ts_err err = TS_OK;
        *out = NULL;
        if (ctx->rank == 0)
            err = ts_read_csv_table(path, rc, 1, out);
        TS_TRY(ts_ctx_check(ctx, err));
        return ts_broadcast_table(ctx, out, 0);
    }
    char file[4200];
    const char *group = target, *sep = strstr(target, ":/");
    if (sep) {
        snprintf(file, sizeof file, "%.*s", (int)(sep - target), target);
        group = sep + 1;
    } else if (target[0] == '/') {
        if (!in_path)
            TS_FAIL(TS_ERR_USAGE, "test '%s': %s is a table of --in FILE.h5, but there is no --in", t->name, target);
        snprintf(file, sizeof file, "%s", in_path);
    } else {
        TS_FAIL(TS_ERR_USAGE, "test '%s': the parent %s is neither FILE.csv nor an HDF5 table", t->name, t->arg);
    }
    const char *cols[] = {column};
    TS_TRY(ts_h5_read_table(ctx->comm, file, group, cols, 1, out));
    const ts_type pt = (*out)->cols[0]->type;
    const int pint = pt == TS_T_INT64 || pt == TS_T_INT32;
    if (pint != integer || (!pint && pt != TS_T_STRING))
        TS_FAIL(TS_ERR_USAGE, "test '%s': %s and its parent %s are not both integer or both text columns", t->name,
                t->column, t->arg);
    return TS_OK;
}

/* relationships: the tested rows whose value is not in the parent column (an anti join; a raw value that is not
 * an integer of an integer column can match nothing). The child rows carry their position and text through
 * the join (a shuffle join moves them). Collective. */
static ts_err eval_relationships(ts_ctx *ctx, const dq_source *src, dq_test *t, const int64_t *rows, int64_t n,
                                 const char *data_dir, const char *in_path)
{
    const int c = t->cols[0], integer = src->cols[c].type == DQ_INT;
    const char *cname = src->cols[c].name;
    ts_table *parent = NULL, *left = NULL, *out = NULL, *bad = NULL;
    const char *pcol;
    TS_TRY(read_parent(ctx, t, integer, data_dir, in_path, &parent, &pcol));
    int64_t *bad_idx = malloc(8 * (size_t)(n + 1)), nbad = 0;
    ts_column *key = NULL, *pos = NULL, *text = NULL;
    ts_err err = bad_idx ? ts_table_new("child", &left)
                         : ts_error_raise(TS_ERR_NOMEM, __FILE__, __LINE__, __func__, "out of memory");
    if (!err)
        err = ts_table_add(left, "__key", integer ? TS_T_INT64 : TS_T_STRING, 0, NULL, &key);
    if (!err)
        err = ts_table_add(left, "__pos", TS_T_INT64, 0, NULL, &pos);
    if (!err)
        err = ts_table_add(left, cname, TS_T_STRING, 0, NULL, &text);
    if (!err)
        err = ts_column_reserve(key, n, 0);
    if (!err)
        err = ts_column_reserve(pos, n, 0);
    const ts_column *p = src->h5 ? NULL : ts_table_col(src->clean, "__pos");
    char buf[VBUF], tb[VBUF];
    for (int64_t k = 0; !err && k < n; k++) {
        const dq_val v = dq_value(src, c, t->layer, rows[k], buf, sizeof buf);
        if (v.k == V_NULL)
            continue;
        if (v.k == V_BAD) {
            bad_idx[nbad++] = rows[k];
            continue;
        }
        if (integer)
            TS_COL(key, int64_t)[key->len++] = v.i;
        else
            err = ts_column_append_string(key, v.s, v.len);
        TS_COL(pos, int64_t)[pos->len++] = p ? TS_COL(p, int64_t)[rows[k]] : src->row_base + rows[k];
        int null;
        cell_text(src, c, t->layer, rows[k], tb, sizeof tb, &null);
        if (!err)
            err = ts_column_append_string(text, tb, (int64_t)strlen(tb));
    }
    if (!err) /* the values that are no integer fail as they are */
        err = row_table(src, t, bad_idx, nbad, &bad);
    free(bad_idx);
    err = ts_ctx_check(ctx, err);
    if (!err) {
        const char *lk[] = {"__key"}, *rk[] = {pcol};
        const ts_join_spec spec = {.type = TS_JOIN_ANTI, .left_keys = lk, .right_keys = rk, .nkeys = 1};
        err = ts_join(ctx, left, parent, &spec, &out, NULL);
    }
    int64_t local = 0;
    if (!err) { /* unmatched rows + the unparseable ones: (__pos, text) */
        ts_table *v = NULL;
        const char *names[] = {"__pos", cname};
        err = ts_table_view(out, names, 2, &v);
        if (!err)
            err = ts_table_append_rows(bad, v, NULL, ts_table_rows(v));
        ts_table_free(v);
        local = ts_table_rows(bad);
    }
    ts_table_free(parent), ts_table_free(left), ts_table_free(out);
    err = ts_ctx_check(ctx, err);
    if (!err)
        err = ts_allreduce_sum_i64(ctx, local, &t->failures);
    if (err) {
        ts_table_free(bad);
        return err;
    }
    t->failing_rows = t->failures;
    if (t->failures == 0 || t->store == 0) {
        ts_table_free(bad);
        return TS_OK;
    }
    return finish_rows(ctx, src, t, bad);
}

/* ---- the tests -------------------------------------------------------------------------------------------------- */

static int holds(const dq_threshold *th, int64_t f)
{
    switch (th->op) {
    case DQ_EQ: return f == th->n;
    case DQ_NE: return f != th->n;
    case DQ_LT: return f < th->n;
    case DQ_LE: return f <= th->n;
    case DQ_GT: return f > th->n;
    default: return f >= th->n;
    }
}

/* not_null and expression: this rank's failing rows among rows[0..n) (all of them kept: a count, then the first
 * `store` for the failures table). */
static ts_err row_failures(const dq_source *src, const dq_test *t, const int64_t *rows, int64_t n, int64_t *fail,
                           int64_t *nfail)
{
    char b1[VBUF], b2[VBUF];
    int64_t k = 0;
    const dq_cond *c = &t->expr;
    for (int64_t i = 0; i < n; i++) {
        int fails;
        if (t->kind == DQ_NOT_NULL) {
            fails = dq_value(src, t->cols[0], t->layer, rows[i], b1, sizeof b1).k == V_NULL;
        } else { /* dbt's expression_is_true: the rows where it is false; NULL is not a failure */
            const dq_val l = dq_value(src, c->col, t->layer, rows[i], b1, sizeof b1);
            const dq_val r = c->rhs_col >= 0 ? dq_value(src, c->rhs_col, t->layer, rows[i], b2, sizeof b2) : c->rhs;
            fails = dq_compare(&l, c->op, &r) == 0;
        }
        if (fails)
            fail[k++] = rows[i];
    }
    *nfail = k;
    return TS_OK;
}

static ts_err run_test(ts_ctx *ctx, dq_suite *s, dq_test *t, const char *data_dir, const char *in_path)
{
    const dq_source *src = &s->sources[t->source];
    int64_t *rows = NULL, n = 0;
    TS_TRY(ts_ctx_check(ctx, where_rows(src, t, &rows, &n)));
    ts_err err = ts_allreduce_sum_i64(ctx, n, &t->rows);
    if (!err && (t->kind == DQ_NOT_NULL || t->kind == DQ_EXPRESSION)) {
        int64_t *fail = malloc(8 * (size_t)(n + 1)), nf = 0;
        err = ts_ctx_check(ctx, fail ? row_failures(src, t, rows, n, fail, &nf)
                                     : ts_error_raise(TS_ERR_NOMEM, __FILE__, __LINE__, __func__, "out of memory"));
        if (!err)
            err = ts_allreduce_sum_i64(ctx, nf, &t->failures);
        t->failing_rows = t->failures;
        if (!err && t->failures > 0 && t->store > 0)
            err = failed_rows(ctx, src, t, fail, nf);
        free(fail);
    } else if (!err && (t->kind == DQ_UNIQUE || t->kind == DQ_ACCEPTED_VALUES)) {
        err = failed_values(ctx, src, t, rows, n);
    } else if (!err) {
        err = eval_relationships(ctx, src, t, rows, n, data_dir, in_path);
    }
    free(rows);
    TS_TRY(err);
    /* dbt: severity error checks error_if first, then warn_if; severity warn checks warn_if only */
    t->status = !t->warn && holds(&t->error_if, t->failures) ? 2 : holds(&t->warn_if, t->failures) ? 1 : 0;
    return TS_OK;
}

ts_err dq_tests_run(ts_ctx *ctx, dq_suite *s, const char *data_dir, const char *in_path)
{
    for (int i = 0; i < s->ntests; i++) {
        const ts_err err = run_test(ctx, s, &s->tests[i], data_dir, in_path);
        if (err) /* the same message on every rank */
            TS_FAIL(err, "%s:%d: test '%s': %s", s->origin, s->tests[i].line, s->tests[i].name, ts_error_headline());
    }
    return TS_OK;
}
