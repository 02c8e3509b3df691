/* data-quality (docs/jobs/data-quality.md): column profile, dbt-style tests and per-row quality scores of the
 * transactions table, from two lenient scans that reject no well-formed row (raw text and cleaned values), and
 * dbt-style tests of other CSV files and HDF5 tables (jobs/data_quality_eval.c). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "data_quality.h"

#include "bank_common.h"
#include "ts_aggregate_dist.h"
#include "ts_builtin_rules.h"
#include "ts_csv_table.h"
#include "ts_date.h"
#include "ts_exchange.h"
#include "ts_output.h"
#include "ts_jobs.h"
#include "ts_plan.h"
#include "ts_rules.h"
#include "ts_scan.h"

#define MAXC TS_MAX_COLS
#define VAL_MAX 128
#define NBUCKETS 10

typedef struct dq_col {
    char type[32];
    int64_t non_null, valid, clean_non_null, distinct; /* global */
    char min[VAL_MAX], max[VAL_MAX];
} dq_col;

typedef struct dq_state {
    const ts_job_args *args;
    ts_rules *rules;
    int nf;                      /* fields of the rules */
    int orig_nullable[MAXC];
    ts_csv_spec typed, raw;      /* lenient specs: every column nullable + fail=null / every column raw text */
    ts_csv_field typed_fields[MAXC], raw_fields[MAXC]; /* their fields (copies of the rules' fields) */
    dq_suite suite;              /* the tests and their tables (sources[0]: the transactions) */
    /* reference data (every rank) */
    ts_table *countries, *fx;
    ts_scan tscan, rscan;        /* typed and raw scans of the same files */
    int64_t rows_read, rows;     /* global: data lines, well-formed rows */
    dq_col cols[MAXC];
    int64_t *score_counts;       /* global rows per score numerator 0..6*nf */
    int64_t hist[NBUCKETS];
    double mean, p10, p50;
    int failed_errors, failed_warns;
    ts_table *out_cols, *out_tests, *out_hist, *out_summary, *out_stats;
} dq_state;

#define ARRAY_LEN(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* ---- set-up ---------------------------------------------------------------------------------------------- */

/* Rank 0 reads a reference CSV column; every rank gets it. */
static ts_err read_ref(ts_ctx *ctx, const char *dir, const char *file, const ts_ref_column *cols, int n,
                       ts_table **out)
{
    char path[4200];
    ts_err err = TS_OK;
    *out = NULL;
    if (ctx->rank == 0) {
        snprintf(path, sizeof path, "%s/%s", dir, file);
        err = ts_read_csv_table(path, cols, n, out);
    }
    TS_TRY(ts_ctx_check(ctx, err));
    return ts_broadcast_table(ctx, out, 0);
}

/* values=@FILE:COLUMN of the rules: read from the data directory. */
static ts_err resolve_ref_values(ts_ctx *ctx, dq_state *s)
{
    for (int f = 0; f < s->nf; f++) {
        if (!s->rules->ref_file[f])
            continue;
        const ts_ref_column rc[] = {{s->rules->ref_column[f], TS_REF_STRING}};
        ts_table *t;
        TS_TRY(read_ref(ctx, s->args->data_dir, s->rules->ref_file[f], rc, 1, &t));
        const ts_column *c = t->cols[0];
        const int64_t n = c->len, *off = TS_COL(c, int64_t);
        char **v = calloc((size_t)n + 1, sizeof *v);
        ts_err err = v ? TS_OK : ts_error_raise(TS_ERR_NOMEM, __FILE__, __LINE__, __func__, "out of memory");
        for (int64_t i = 0; !err && i < n; i++)
            if (!(v[i] = strndup(c->bytes + off[i], (size_t)(off[i + 1] - off[i]))))
                err = ts_error_raise(TS_ERR_NOMEM, __FILE__, __LINE__, __func__, "out of memory");
        if (!err)
            err = ts_rules_set_values(s->rules, f, (const char *const *)v, (int)n);
        for (int64_t i = 0; v && i < n; i++)
            free(v[i]);
        free(v);
        ts_table_free(t);
        TS_TRY(err);
    }
    return ts_rules_check_complete(s->rules);
}

/* The two lenient specs. typed: every column keeps its rule but is nullable and fail=null, so a row is only
 * rejected when malformed (wrong field count, broken quoting), and a NULL means empty or invalid; skip columns
 * are kept as text. raw: every column as trimmed text, NULL when empty. Both keep exactly the well-formed rows,
 * in the same order. */
static void build_specs(dq_state *s)
{
    s->typed = s->rules->spec;
    s->raw = s->rules->spec;
    memcpy(s->typed_fields, s->rules->spec.fields, sizeof *s->typed_fields * (size_t)s->nf);
    memcpy(s->raw_fields, s->rules->spec.fields, sizeof *s->raw_fields * (size_t)s->nf);
    s->typed.fields = s->typed_fields, s->raw.fields = s->raw_fields;
    s->typed.hash_rows = s->raw.hash_rows = 0;
    for (int f = 0; f < s->nf; f++) {
        ts_csv_field *t = &s->typed.fields[f], *r = &s->raw.fields[f];
        s->orig_nullable[f] = t->nullable;
        char tn[32];
        const ts_rule_kind k = t->kind;
        snprintf(s->cols[f].type, sizeof s->cols[f].type, "%s",
                 k == TS_RULE_INT64 ? "int64" : k == TS_RULE_DATE ? "date" : k == TS_RULE_CATEGORY ? "category"
                 : k == TS_RULE_DECIMAL ? ts_type_name(TS_T_DECIMAL, t->scale, tn, sizeof tn) : "string");
        if (t->kind == TS_RULE_SKIP)
            t->kind = TS_RULE_STRING, t->pattern = NULL;
        t->nullable = t->fail_to_null = 1;
        r->kind = TS_RULE_STRING, r->nullable = 1, r->fail_to_null = 0, r->pattern = NULL, r->accepted = NULL;
        r->has_min = r->has_max = 0;
    }
}

static ts_err stage_reference(ts_ctx *ctx, void *vs, ts_stage_stats *st)
{
    dq_state *s = vs;
    TS_TRY(resolve_ref_values(ctx, s));
    build_specs(s);
    static const ts_ref_column cc[] = {{"country_code", TS_REF_STRING}, {"currency", TS_REF_STRING}};
    static const ts_ref_column fc[] = {{"country_code", TS_REF_STRING}, {"month", TS_REF_MONTH}};
    TS_TRY(read_ref(ctx, s->args->data_dir, "countries.csv", cc, 2, &s->countries));
    TS_TRY(read_ref(ctx, s->args->data_dir, "fx_rates.csv", fc, 2, &s->fx));
    st->rows_out = ts_table_rows(s->countries) + ts_table_rows(s->fx);
    return TS_OK;
}

static ts_err stage_scan(ts_ctx *ctx, void *vs, ts_stage_stats *st)
{
    dq_state *s = vs;
    char dir[4200];
    snprintf(dir, sizeof dir, "%s/transactions", s->args->data_dir);
    TS_TRY(ts_scan_csv(ctx, dir, &s->typed, &s->tscan));
    TS_TRY(ts_scan_csv(ctx, dir, &s->raw, &s->rscan));
    /* both scans keep the same well-formed rows in the same order */
    const ts_column *a = ts_table_col(s->tscan.clean, "__pos"), *b = ts_table_col(s->rscan.clean, "__pos");
    if (!a || !b || a->len != b->len || memcmp(a->data, b->data, sizeof(int64_t) * (size_t)a->len) != 0)
        TS_FAIL(TS_ERR_INTERNAL, "the typed and raw scans kept different rows");
    TS_TRY(ts_allreduce_sum_i64(ctx, s->tscan.rows_read, &s->rows_read));
    TS_TRY(ts_allreduce_sum_i64(ctx, a->len, &s->rows));
    dq_source *tx = &s->suite.sources[0];
    tx->clean = s->tscan.clean, tx->raw = s->rscan.clean, tx->scan = &s->tscan, tx->rows = s->rows;
    st->rows_in = s->tscan.rows_read;
    st->rows_out = a->len;
    return TS_OK;
}

/* ---- profile and scores ---------------------------------------------------------------------------------- */

/* Month index (year * 12 + month - 1) of a day. */
static int32_t month_index(int32_t days)
{
    int y, m, d;
    ts_civil_from_days(days, &y, &m, &d);
    return (int32_t)(y * 12 + m - 1);
}

/* Per row: currency = the country's currency (countries.csv), and the date's month has an FX rate for the
 * country (fx_rates.csv). Adds 0, 1 or 2 per row to cons[]. */
static ts_err consistency(dq_state *s, const ts_table *t, const ts_table *raw, uint8_t *cons)
{
    const ts_column *cc = ts_table_col(t, "country_code"), *cur = ts_table_col(raw, "currency"),
                    *dt = ts_table_col(t, "txn_date");
    if (!cc || cc->type != TS_T_DICT || !cur || !dt || dt->type != TS_T_DATE)
        TS_FAIL(TS_ERR_USAGE, "data-quality's consistency checks need columns country_code (category), txn_date "
                "(date) and currency in the rules");
    const ts_dict *dict = cc->dict;
    /* currency and FX months per country code */
    char currency[64][8] = {{0}};
    const ts_column *ccode = s->countries->cols[0], *ccur = s->countries->cols[1];
    for (int64_t i = 0; i < ccode->len; i++) {
        const int64_t *o = TS_COL(ccode, int64_t), *q = TS_COL(ccur, int64_t);
        const int32_t k = ts_dict_find(dict, ccode->bytes + o[i], (size_t)(o[i + 1] - o[i]));
        if (k >= 0 && k < 64)
            snprintf(currency[k], sizeof currency[k], "%.*s", (int)(q[i + 1] - q[i]), ccur->bytes + q[i]);
    }
    const ts_column *fcode = s->fx->cols[0], *fmon = s->fx->cols[1];
    int32_t lo = INT32_MAX, hi = INT32_MIN;
    for (int64_t i = 0; i < fmon->len; i++) {
        const int32_t m = month_index(TS_COL(fmon, int32_t)[i]);
        lo = m < lo ? m : lo, hi = m > hi ? m : hi;
    }
    const int64_t span = fmon->len ? (int64_t)hi - lo + 1 : 1;
    uint8_t *cover = calloc((size_t)(dict->n + 1) * (size_t)span, 1);
    if (!cover)
        TS_FAIL(TS_ERR_NOMEM, "out of memory for the FX coverage");
    for (int64_t i = 0; i < fmon->len; i++) {
        const int64_t *o = TS_COL(fcode, int64_t);
        const int32_t k = ts_dict_find(dict, fcode->bytes + o[i], (size_t)(o[i + 1] - o[i]));
        if (k >= 0)
            cover[k * span + month_index(TS_COL(fmon, int32_t)[i]) - lo] = 1;
    }
    const int64_t *co = TS_COL(cur, int64_t);
    for (int64_t i = 0; i < cc->len; i++) {
        if (!ts_column_is_valid(cc, i))
            continue;
        const int32_t k = TS_COL(cc, int32_t)[i];
        /* currency: trimmed text (the scan trimmed it), compared after ASCII upper-casing */
        const int64_t len = ts_column_is_valid(cur, i) ? co[i + 1] - co[i] : 0;
        int same = k < 64 && len > 0 && (size_t)len == strlen(currency[k]);
        for (int64_t j = 0; same && j < len; j++) {
            char ch = cur->bytes[co[i] + j];
            ch = ch >= 'a' && ch <= 'z' ? (char)(ch - 32) : ch;
            same = ch == currency[k][j];
        }
        cons[i] += (uint8_t)same;
        if (ts_column_is_valid(dt, i)) {
            const int64_t m = month_index(TS_COL(dt, int32_t)[i]) - (int64_t)lo;
            cons[i] += (uint8_t)(m >= 0 && m < span && cover[k * span + m]);
        }
    }
    free(cover);
    return TS_OK;
}

/* quantile_cont (DuckDB / numpy 'linear') of the distribution counts[v] of values v / den. */
static double quantile_from_counts(const int64_t *counts, int nvals, int64_t total, double den, double q)
{
    if (total == 0)
        return NAN;
    const double h = (double)(total - 1) * q;
    const int64_t lo = (int64_t)floor(h), hi = (int64_t)ceil(h);
    double vlo = 0, vhi = 0;
    int64_t seen = 0;
    int found_lo = 0;
    for (int v = 0; v < nvals; v++) {
        if (!counts[v])
            continue;
        if (!found_lo && lo < seen + counts[v])
            vlo = v / den, found_lo = 1;
        if (hi < seen + counts[v]) {
            vhi = v / den;
            break;
        }
        seen += counts[v];
    }
    return vlo + (h - (double)lo) * (vhi - vlo);
}

static ts_err stage_profile(ts_ctx *ctx, void *vs, ts_stage_stats *st)
{
    dq_state *s = vs;
    const ts_table *t = s->tscan.clean, *raw = s->rscan.clean;
    const int nf = s->nf;
    const int64_t n = ts_table_rows(t);
    uint8_t *nn = calloc((size_t)n + 1, 1), *nv = calloc((size_t)n + 1, 1), *cons = calloc((size_t)n + 1, 1);
    const int nvals = 6 * nf + 1;
    int64_t *local_counts = calloc((size_t)nvals, sizeof *local_counts);
    s->score_counts = calloc((size_t)nvals, sizeof *s->score_counts);
    ts_err err = nn && nv && cons && local_counts && s->score_counts
                     ? TS_OK : ts_error_raise(TS_ERR_NOMEM, __FILE__, __LINE__, __func__, "out of memory");
    int64_t local[3 * MAXC] = {0}, global[3 * MAXC];
    for (int f = 0; !err && f < nf; f++) {
        const ts_column *tc = t->cols[f], *rc = raw->cols[f];
        int64_t non_null = 0, valid = 0, clean = 0;
        for (int64_t i = 0; i < n; i++) {
            const int present = ts_column_is_valid(rc, i), ok = ts_column_is_valid(tc, i);
            const int v = ok || (!present && s->orig_nullable[f]);
            non_null += present, clean += ok, valid += v;
            nn[i] += (uint8_t)present, nv[i] += (uint8_t)v;
        }
        local[3 * f] = non_null, local[3 * f + 1] = valid, local[3 * f + 2] = clean;
    }
    if (!err)
        err = consistency(s, t, raw, cons);
    /* score = (nn / nf + nv / nf + cons / 2) / 3 = (2 nn + 2 nv + nf cons) / (6 nf): an exact numerator */
    for (int64_t i = 0; !err && i < n; i++)
        local_counts[2 * nn[i] + 2 * nv[i] + nf * cons[i]]++;
    free(nn), free(nv), free(cons);
    err = ts_ctx_check(ctx, err);
    if (!err)
        err = ts_mpi_status(MPI_Allreduce(local, global, 3 * nf, MPI_INT64_T, MPI_SUM, ctx->comm),
                            "MPI_Allreduce", __FILE__, __LINE__, __func__);
    if (!err)
        err = ts_mpi_status(MPI_Allreduce(local_counts, s->score_counts, nvals, MPI_INT64_T, MPI_SUM, ctx->comm),
                            "MPI_Allreduce", __FILE__, __LINE__, __func__);
    free(local_counts);
    TS_TRY(err);
    for (int f = 0; f < nf; f++) {
        s->cols[f].non_null = global[3 * f], s->cols[f].valid = global[3 * f + 1];
        s->cols[f].clean_non_null = global[3 * f + 2];
        int64_t dups;
        TS_TRY(dq_value_counts(ctx, t, t->cols[f]->name, &s->cols[f].distinct, &dups));
    }
    /* min / max of every column in one decomposable aggregation: the single group lands on one rank */
    ts_agg aggs[2 * MAXC];
    char names[2 * MAXC][16];
    for (int f = 0; f < nf; f++)
        for (int m = 0; m < 2; m++) {
            snprintf(names[2 * f + m], sizeof names[0], "%s%d", m ? "max" : "min", f);
            aggs[2 * f + m] = (ts_agg){m ? TS_AGG_MAX : TS_AGG_MIN, t->cols[f]->name, NULL, names[2 * f + m], 0, NULL};
        }
    ts_table *mm;
    TS_TRY(ts_aggregate_distributed(ctx, t, NULL, 0, aggs, 2 * nf, "minmax", &mm));
    static char text[MAXC][2][VAL_MAX];
    memset(text, 0, sizeof text);
    const int have = ts_table_rows(mm) > 0;
    for (int f = 0; have && f < nf; f++)
        for (int m = 0; m < 2; m++)
            dq_format_value(mm->cols[2 * f + m], 0, text[f][m], VAL_MAX);
    ts_table_free(mm);
    int owner = have ? ctx->rank : -1, root;
    TS_MPI(MPI_Allreduce(&owner, &root, 1, MPI_INT, MPI_MAX, ctx->comm));
    if (root >= 0)
        TS_MPI(MPI_Bcast(text, (int)sizeof text, MPI_CHAR, root, ctx->comm));
    for (int f = 0; f < nf; f++)
        memcpy(s->cols[f].min, text[f][0], VAL_MAX), memcpy(s->cols[f].max, text[f][1], VAL_MAX);
    /* score distribution */
    const double den = 6.0 * nf;
    double sum = 0;
    int64_t total = 0;
    for (int v = 0; v < nvals; v++) {
        const int b = (10 * v) / (6 * nf); /* floor(10 * score), exact */
        s->hist[b < NBUCKETS ? b : NBUCKETS - 1] += s->score_counts[v];
        sum += (double)v * (double)s->score_counts[v], total += s->score_counts[v];
    }
    s->mean = total ? sum / den / (double)total : NAN;
    s->p10 = quantile_from_counts(s->score_counts, nvals, total, den, 0.1);
    s->p50 = quantile_from_counts(s->score_counts, nvals, total, den, 0.5);
    st->rows_in = st->rows_out = n;
    return TS_OK;
}

/* The other tables the tests name (CSV files, HDF5 tables), opened and their tests bound to their columns. */
static ts_err stage_tables(ts_ctx *ctx, void *vs, ts_stage_stats *st)
{
    dq_state *s = vs;
    for (int i = 1; i < s->suite.nsources; i++) {
        dq_source *src = &s->suite.sources[i];
        const ts_err err = dq_source_open(ctx, src, s->args->data_dir, s->args->in_path);
        if (err) /* the same message on every rank */
            TS_FAIL(err, "%s: table %s: %s", s->suite.origin, src->spec, ts_error_headline());
        TS_TRY(ts_ctx_check(ctx, dq_tests_bind(&s->suite, i)));
        st->rows_out += src->rows;
    }
    return TS_OK;
}

static ts_err stage_tests(ts_ctx *ctx, void *vs, ts_stage_stats *st)
{
    dq_state *s = vs;
    TS_TRY(dq_tests_run(ctx, &s->suite, s->args->data_dir, s->args->in_path));
    for (int k = 0; k < s->suite.ntests; k++)
        if (s->suite.tests[k].status)
            s->suite.tests[k].status == 2 ? s->failed_errors++ : s->failed_warns++;
    st->rows_in = ts_table_rows(s->tscan.clean);
    st->rows_out = s->suite.ntests;
    return TS_OK;
}

/* ---- output ---------------------------------------------------------------------------------------------- */

static ts_err put_str(ts_table *t, int col, const char *v)
{
    return ts_column_append_string(t->cols[col], v, (int64_t)strlen(v));
}

static ts_err put_num(ts_table *t, int col, int64_t i, double d)
{
    ts_column *c = t->cols[col];
    TS_TRY(ts_column_reserve(c, c->len + 1, 0));
    if (c->type == TS_T_FLOAT64)
        TS_COL(c, double)[c->len++] = d;
    else
        TS_COL(c, int64_t)[c->len++] = i;
    return TS_OK;
}

/* A table of the named columns ('s' STRING, 'i' INT64, 'f' FLOAT64). */
static ts_err new_table(const char *name, const char *const *cols, const char *types, ts_table **out)
{
    TS_TRY(ts_table_new(name, out));
    for (int i = 0; types[i]; i++)
        TS_TRY(ts_table_add(*out, cols[i], types[i] == 's' ? TS_T_STRING : types[i] == 'i' ? TS_T_INT64 : TS_T_FLOAT64,
                            0, NULL, NULL));
    return TS_OK;
}

static double share(int64_t a, int64_t b) { return b ? (double)a / (double)b : NAN; }

static const char *const STATUS[] = {"pass", "warn", "fail"};

/* Rank 0 holds every output row; the other ranks write empty slabs. */
static ts_err build_outputs(const ts_ctx *ctx, dq_state *s)
{
    static const char *const cc[] = {"column", "type", "rows", "non_null", "completeness", "valid", "validity",
                                     "distinct", "uniqueness", "min", "max"};
    static const char *const tc[] = {"test",      "table",    "column",       "values",  "severity",
                                     "where",     "rows",     "failures",     "failing_rows", "warn_if",
                                     "error_if",  "status",   "failures_table"};
    static const char *const hc[] = {"bucket", "rows"};
    static const char *const mc[] = {"metric", "count"};
    static const char *const sc[] = {"metric", "value"};
    TS_TRY(new_table("columns", cc, "ssiifififss", &s->out_cols));
    TS_TRY(new_table("tests", tc, "ssssssiiissss", &s->out_tests));
    TS_TRY(new_table("score_histogram", hc, "fi", &s->out_hist));
    TS_TRY(new_table("summary", mc, "si", &s->out_summary));
    TS_TRY(new_table("score_summary", sc, "sf", &s->out_stats));
    if (ctx->rank != 0)
        return TS_OK;
    ts_table *t = s->out_cols;
    for (int f = 0; f < s->nf; f++) {
        const dq_col *c = &s->cols[f];
        TS_TRY(put_str(t, 0, s->rules->spec.fields[f].name));
        TS_TRY(put_str(t, 1, c->type));
        TS_TRY(put_num(t, 2, s->rows, 0));
        TS_TRY(put_num(t, 3, c->non_null, 0));
        TS_TRY(put_num(t, 4, 0, share(c->non_null, s->rows)));
        TS_TRY(put_num(t, 5, c->valid, 0));
        TS_TRY(put_num(t, 6, 0, share(c->valid, s->rows)));
        TS_TRY(put_num(t, 7, c->distinct, 0));
        TS_TRY(put_num(t, 8, 0, share(c->distinct, c->clean_non_null)));
        TS_TRY(put_str(t, 9, c->min));
        TS_TRY(put_str(t, 10, c->max));
    }
    for (int k = 0; k < s->suite.ntests; k++) {
        const dq_test *x = &s->suite.tests[k];
        char failures[TS_NAME_MAX * 2 + 32] = "";
        if (x->failed)
            snprintf(failures, sizeof failures, "/quality/failures/%s", x->name);
        const char *text[] = {x->name, s->suite.sources[x->source].spec, x->column, DQ_LAYER_NAMES[x->layer],
                              x->warn ? "warn" : "error", x->where_text};
        for (int c = 0; c < 6; c++)
            TS_TRY(put_str(s->out_tests, c, text[c]));
        TS_TRY(put_num(s->out_tests, 6, x->rows, 0));
        TS_TRY(put_num(s->out_tests, 7, x->failures, 0));
        TS_TRY(put_num(s->out_tests, 8, x->failing_rows, 0));
        TS_TRY(put_str(s->out_tests, 9, x->warn_if_text));
        TS_TRY(put_str(s->out_tests, 10, x->error_if_text));
        TS_TRY(put_str(s->out_tests, 11, STATUS[x->status]));
        TS_TRY(put_str(s->out_tests, 12, failures));
    }
    for (int b = 0; b < NBUCKETS; b++) {
        TS_TRY(put_num(s->out_hist, 0, 0, b / 10.0));
        TS_TRY(put_num(s->out_hist, 1, s->hist[b], 0));
    }
    const char *m[] = {"rows_read", "rows_profiled", "rows_malformed"};
    const int64_t v[] = {s->rows_read, s->rows, s->rows_read - s->rows};
    for (int i = 0; i < 3; i++) {
        TS_TRY(put_str(s->out_summary, 0, m[i]));
        TS_TRY(put_num(s->out_summary, 1, v[i], 0));
    }
    const char *sm[] = {"rows", "mean", "p10", "p50"};
    const double sv[] = {(double)s->rows, s->mean, s->p10, s->p50};
    for (int i = 0; i < 4; i++) {
        TS_TRY(put_str(s->out_stats, 0, sm[i]));
        TS_TRY(put_num(s->out_stats, 1, 0, sv[i]));
    }
    return TS_OK;
}

static ts_err write_tables(dq_state *s, ts_output *f)
{
    TS_TRY(ts_output_write_table(f, "/quality/columns", s->out_cols, NULL));
    TS_TRY(ts_output_write_table(f, "/quality/tests", s->out_tests, NULL));
    TS_TRY(ts_output_write_table(f, "/quality/score_histogram", s->out_hist, NULL));
    TS_TRY(ts_output_write_table(f, "/quality/score_summary", s->out_stats, NULL));
    TS_TRY(ts_output_write_table(f, "/quality/summary", s->out_summary, NULL));
    for (int k = 0; k < s->suite.ntests; k++) { /* the failures tables (rank 0 holds the rows) */
        const dq_test *x = &s->suite.tests[k];
        if (!x->failed)
            continue;
        char group[TS_NAME_MAX * 2 + 32];
        snprintf(group, sizeof group, "/quality/failures/%s", x->name);
        TS_TRY(ts_output_write_table(f, group, x->failed, NULL));
    }
    return TS_OK;
}

static ts_err stage_write(ts_ctx *ctx, void *vs, ts_stage_stats *st)
{
    dq_state *s = vs;
    TS_TRY(ts_ctx_check(ctx, build_outputs(ctx, s)));
    const ts_h5_meta meta = {"data-quality", s->args->data_dir, TS_VERSION};
    ts_output *f;
    TS_TRY(ts_output_create(ctx, s->args->out_path, s->args->overwrite, &meta, s->args->out_format, &f));
    const ts_err err = ts_ctx_check(ctx, write_tables(s, f));
    if (err) {
        ts_output_abandon(f);
        return err;
    }
    TS_TRY(ts_output_commit(f));
    st->rows_in = st->rows_out = ts_table_rows(s->out_cols) + ts_table_rows(s->out_tests) + NBUCKETS;
    return TS_OK;
}

/* ---- report ---------------------------------------------------------------------------------------------- */

static void print_report(const dq_state *s)
{
    printf("\nData quality of %s/transactions (%s)\n", s->args->data_dir, s->suite.origin);
    printf("rows read %lld, profiled (well-formed) %lld, malformed %lld\n\n", (long long)s->rows_read,
           (long long)s->rows, (long long)(s->rows_read - s->rows));
    printf("%-14s %-14s %9s %9s %7s %9s %7s %9s %7s  %-12s %-12s\n", "column", "type", "rows", "non_null", "compl",
           "valid", "valid%", "distinct", "uniq", "min", "max");
    for (int f = 0; f < s->nf; f++) {
        const dq_col *c = &s->cols[f];
        printf("%-14s %-14s %9lld %9lld %6.2f%% %9lld %6.2f%% %9lld %7.4f  %-12.12s %-12.12s\n",
               s->rules->spec.fields[f].name, c->type, (long long)s->rows, (long long)c->non_null,
               100 * share(c->non_null, s->rows), (long long)c->valid, 100 * share(c->valid, s->rows),
               (long long)c->distinct, share(c->distinct, c->clean_non_null), c->min, c->max);
    }
    printf("\ntests (failures: rows, or distinct values for unique and accepted_values, as dbt counts them)\n");
    for (int k = 0; k < s->suite.ntests; k++) {
        const dq_test *x = &s->suite.tests[k];
        static const char *const S[] = {"PASS", "WARN", "FAIL"};
        printf("  %-4s  %-32s %-20.20s %-6s %-5s %9lld failures %9lld rows%s%s\n", S[x->status], x->name,
               s->suite.sources[x->source].spec, DQ_LAYER_NAMES[x->layer], x->warn ? "warn" : "error",
               (long long)x->failures, (long long)x->failing_rows, *x->where_text ? "  where " : "", x->where_text);
    }
    printf("\nquality score per row (mean of completeness, validity, consistency)\n");
    int64_t top = 1;
    for (int b = 0; b < NBUCKETS; b++)
        top = s->hist[b] > top ? s->hist[b] : top;
    for (int b = 0; b < NBUCKETS; b++) {
        char bar[51];
        const int w = (int)((s->hist[b] * 50 + top - 1) / top);
        memset(bar, '#', (size_t)w);
        bar[w] = 0;
        printf("  [%.1f, %.1f%c %9lld %s\n", b / 10.0, (b + 1) / 10.0, b == NBUCKETS - 1 ? ']' : ')',
               (long long)s->hist[b], bar);
    }
    printf("  mean %.4f  p10 %.4f  p50 %.4f\n", s->mean, s->p10, s->p50);
    printf("\ntests: %d passed, %d warned, %d failed\nwrote %s\n", s->suite.ntests - s->failed_errors - s->failed_warns,
           s->failed_warns, s->failed_errors, s->args->out_path);
    fflush(stdout);
}

/* ---- the job --------------------------------------------------------------------------------------------- */

/* The transactions' columns as tests see them, from the rules (known before any data is read). */
static void transactions_columns(const ts_rules *rules, dq_source *src)
{
    src->ncols = rules->spec.nfields;
    for (int f = 0; f < src->ncols; f++) {
        const ts_csv_field *fd = &rules->spec.fields[f];
        dq_colinfo *c = &src->cols[f];
        snprintf(c->name, sizeof c->name, "%s", fd->name);
        c->scale = fd->scale, c->fold_upper = fd->fold_upper, c->date_forms = fd->date_forms;
        c->type = fd->kind == TS_RULE_INT64 ? DQ_INT : fd->kind == TS_RULE_DATE ? DQ_DATE
                  : fd->kind == TS_RULE_CATEGORY ? DQ_CAT : fd->kind == TS_RULE_DECIMAL ? DQ_DEC
                  : fd->kind == TS_RULE_FLOAT64 ? DQ_FLOAT : fd->kind == TS_RULE_BOOL ? DQ_BOOL : DQ_STR;
    }
}

static ts_err load_config(dq_state *s)
{
    TS_TRY(bank_load_rules(s->args->rules_path, &s->rules));
    s->nf = s->rules->spec.nfields;
    const char *path = s->args->tests_path;
    if (path) {
        char *text;
        TS_TRY(dq_read_text(path, &text));
        const ts_err err = dq_tests_parse(text, path, &s->suite);
        free(text);
        TS_TRY(err);
    } else {
        TS_TRY(dq_tests_parse(ts_rules_bank_transactions_tests, "built-in bank_transactions_tests.rules", &s->suite));
    }
    /* the transactions' tests are checked (columns, typed constants) before any data is read */
    transactions_columns(s->rules, &s->suite.sources[0]);
    return dq_tests_bind(&s->suite, 0);
}

static void free_state(dq_state *s)
{
    ts_scan_free(&s->tscan), ts_scan_free(&s->rscan);
    ts_table_free(s->countries), ts_table_free(s->fx);
    ts_table_free(s->out_cols), ts_table_free(s->out_tests), ts_table_free(s->out_hist);
    ts_table_free(s->out_summary), ts_table_free(s->out_stats);
    free(s->score_counts);
    dq_suite_free(&s->suite);
    ts_rules_free(s->rules);
}

ts_err ts_job_data_quality(ts_ctx *ctx, const ts_job_args *args)
{
    TS_TRY(ts_ctx_check(ctx, ctx->rank == 0 ? bank_check_inputs(args->data_dir, NULL, 0) : TS_OK));
    dq_state *s = calloc(1, sizeof *s);
    if (!s)
        return ts_ctx_check(ctx, ts_error_raise(TS_ERR_NOMEM, __FILE__, __LINE__, __func__, "out of memory"));
    s->args = args;
    ts_plan plan;
    ts_plan_init(&plan, "data-quality");
    ts_err err = ts_plan_add(&plan, "reference", "read_csv(rank 0) -> broadcast", stage_reference);
    if (!err)
        err = ts_plan_add(&plan, "scan", "scan_csv x2 (typed, raw)", stage_scan);
    if (!err)
        err = ts_plan_add(&plan, "profile", "count by value, min/max, scores", stage_profile);
    if (!err)
        err = ts_plan_add(&plan, "tables", "other tables: read_csv x2 / HDF5 read", stage_tables);
    if (!err)
        err = ts_plan_add(&plan, "tests", "filter, count by value, anti join, top k", stage_tests);
    if (!err)
        err = ts_plan_add(&plan, "write", "parallel HDF5 (collective)", stage_write);
    if (!err)
        err = load_config(s);
    err = ts_ctx_check(ctx, err);
    if (!err && args->explain)
        ts_plan_print(ctx, &plan, stderr);
    if (!err)
        err = ts_plan_run(ctx, &plan, s);
    if (!err && ctx->rank == 0)
        print_report(s);
    if (!err && args->profile)
        err = ts_plan_print_profile(ctx, &plan, stderr);
    if (!err && s->failed_errors) {
        char names[1024] = ""; /* the first failing tests' names (the report lists them all) */
        for (int k = 0; k < s->suite.ntests; k++)
            if (s->suite.tests[k].status == 2 && strlen(names) + strlen(s->suite.tests[k].name) + 8 < sizeof names)
                snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", *names ? ", " : "",
                         s->suite.tests[k].name);
            else if (s->suite.tests[k].status == 2 && !strstr(names, ", ..."))
                snprintf(names + strlen(names), sizeof names - strlen(names), ", ...");
        err = ts_error_raise(TS_ERR_DATA, __FILE__, __LINE__, __func__,
                             "%d error-severity data-quality test(s) failed: %s (report written to %s)",
                             s->failed_errors, names, args->out_path);
        ts_error_mark_shared(); /* every rank raised the same error */
    }
    free_state(s);
    free(s);
    return err;
}
