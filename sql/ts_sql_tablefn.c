/* Table functions: read_csv, read_h5, range / generate_series. */
#include "ts_sql_tablefn.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ts_clean.h"
#include "ts_cold.h"
#include "ts_csv_sample.h"
#include "ts_csv_schema.h"
#include "ts_sort.h"
#include "ts_table_stats.h"
#include "ts_dict_encode.h"
#include "ts_h5_read.h"
#include "ts_scan.h"
#include "ts_spill.h"
#include "ts_sql_parse.h"

/* read_csv dictionary-encodes a string column with at most this many distinct values over all ranks, of at most
 * TS_SQL_DICT_BYTES together: every rank holds the whole dictionary, so a large one of mostly unique text (TPC-H's
 * partsupp comments: 100 MiB) would cost each rank the column's whole text, and the load a gather and sort of it */
#define TS_SQL_DICT_MAX (1 << 20)
#define TS_SQL_DICT_BYTES ((int64_t)16 << 20)

#define NOMEM(b, pos) ts_sql_error_at((b)->src, (pos), TS_ERR_NOMEM, "out of memory")

/* What a read_csv node carries from binding to execution. */
typedef struct csv_source {
    ts_file_info *files;
    int nfiles;
    ts_csv_inferred inf;
} csv_source;

/* ---- arguments ------------------------------------------------------------------------------------------------ */

static const ts_sql_arg *named(const ts_sql_from *f, const char *name)
{
    for (int i = 0; i < f->nargs; i++)
        if (f->args[i].name && !strcasecmp(f->args[i].name, name))
            return &f->args[i];
    return NULL;
}

static ts_err check_named(ts_sql_binder *b, const ts_sql_from *f, const char *const *known)
{
    for (int i = 0; i < f->nargs; i++) {
        if (!f->args[i].name)
            continue;
        int ok = 0;
        for (int k = 0; known[k] && !ok; k++)
            ok = !strcasecmp(f->args[i].name, known[k]);
        if (!ok) {
            int n = 0;
            while (known[n])
                n++;
            const char *hint = ts_sql_closest(f->args[i].name, known, n);
            return ts_sql_error_at(b->src, f->pos, TS_ERR_USAGE, "%s(): unknown option '%s'%s%s%s", f->name,
                                   f->args[i].name, hint ? " (did you mean '" : "", hint ? hint : "",
                                   hint ? "'?)" : "");
        }
    }
    return TS_OK;
}

static ts_err positional(ts_sql_binder *b, const ts_sql_from *f, int k, const ts_sql_expr **out)
{
    int seen = 0;
    for (int i = 0; i < f->nargs; i++)
        if (!f->args[i].name && seen++ == k) {
            *out = f->args[i].value;
            return TS_OK;
        }
    return ts_sql_error_at(b->src, f->pos, TS_ERR_USAGE, "%s() needs argument %d", f->name, k + 1);
}

static ts_err string_arg(ts_sql_binder *b, const ts_sql_expr *e, const char *what, const char **out)
{
    if (!e || e->kind != TS_SQL_E_STRING)
        return ts_sql_error_at(b->src, e ? e->pos : (ts_sql_pos){0, 0}, TS_ERR_USAGE, "%s must be a string", what);
    *out = e->sval;
    return TS_OK;
}

/* An integer (or boolean) argument: any constant expression (range(2 * 10), -3); NULL is refused. */
static ts_err int_arg(ts_sql_binder *b, const ts_sql_expr *e, const char *what, int64_t *out)
{
    if (e && e->kind == TS_SQL_E_BOOL) {
        *out = e->ival;
        return TS_OK;
    }
    if (!e)
        return ts_sql_error_at(b->src, (ts_sql_pos){0, 0}, TS_ERR_USAGE, "%s must be an integer", what);
    ts_sql_value v;
    TS_TRY(ts_sql_eval_constant(b->src, e, TS_T_INT64, what, &v));
    if (v.is_null)
        return ts_sql_error_at(b->src, e->pos, TS_ERR_USAGE, "%s must not be NULL", what);
    *out = v.i;
    return TS_OK;
}

static int sql_type_to_ts(const char *name, ts_csv_column_type *t)
{
    static const struct { const char *name; ts_type type; } map[] = {
        {"bigint", TS_T_INT64}, {"int8", TS_T_INT64}, {"long", TS_T_INT64}, {"integer", TS_T_INT32},
        {"int", TS_T_INT32}, {"int4", TS_T_INT32}, {"smallint", TS_T_INT32}, {"double", TS_T_FLOAT64},
        {"float", TS_T_FLOAT64}, {"float8", TS_T_FLOAT64}, {"real", TS_T_FLOAT64}, {"varchar", TS_T_STRING},
        {"text", TS_T_STRING}, {"string", TS_T_STRING}, {"date", TS_T_DATE}, {"timestamp", TS_T_TIMESTAMP},
        {"datetime", TS_T_TIMESTAMP}, {"boolean", TS_T_BOOL},
        {"bool", TS_T_BOOL}};
    for (size_t i = 0; i < sizeof map / sizeof *map; i++)
        if (!strcasecmp(name, map[i].name)) {
            t->type = map[i].type;
            return 1;
        }
    int p, s;
    if (sscanf(name, "%*[dDeEcCiImMaAlL](%d,%d)", &p, &s) == 2 || sscanf(name, "%*[dDeEcCiImMaAlL] (%d, %d)", &p, &s) == 2) {
        t->type = TS_T_DECIMAL, t->precision = p, t->scale = s;
        return 1;
    }
    return 0;
}

static ts_err column_types(ts_sql_binder *b, const ts_sql_arg *a, ts_csv_column_type **out)
{
    if (!a->npairs)
        return ts_sql_error_at(b->src, a->value ? a->value->pos : (ts_sql_pos){0, 0}, TS_ERR_USAGE,
                               "%s= takes a struct: {'name': 'TYPE', ...}", a->name);
    ts_csv_column_type *t = ts_sql_alloc(b->script, sizeof *t * (size_t)a->npairs);
    if (!t)
        TS_FAIL(TS_ERR_NOMEM, "out of memory");
    for (int i = 0; i < a->npairs; i++) {
        const char *type = NULL;
        TS_TRY(string_arg(b, a->values[i], "a column type", &type));
        t[i].name = a->keys[i];
        if (!sql_type_to_ts(type, &t[i]))
            return ts_sql_error_at(b->src, a->values[i]->pos, TS_ERR_USAGE, "unknown column type '%s'", type);
    }
    *out = t;
    return TS_OK;
}

static int find_column(const ts_table *t, const char *name)
{
    for (int k = 0; k < t->ncols; k++)
        if (t->cols[k] && !strcmp(t->cols[k]->name, name))
            return k;
    return -1;
}

/* ---- read_csv ------------------------------------------------------------------------------------------------- */

/* A one-byte option value (or its escape spelling, e.g. '\t'); the scan splits on one byte, so a longer value is
 * refused rather than cut to its first byte. */
static ts_err one_byte(ts_sql_binder *b, const ts_sql_arg *a, const char *v, const char *escape, char escaped,
                       char *out)
{
    if (escape && !strcmp(v, escape)) {
        *out = escaped;
        return TS_OK;
    }
    if (strlen(v) != 1 || v[0] == '\n' || v[0] == '\r')
        return ts_sql_error_at(b->src, a->value->pos, TS_ERR_USAGE, "read_csv: %s='%s' must be exactly one "
                               "character other than a line break (a multi-character %s is not supported)",
                               a->name, v, a->name);
    *out = v[0];
    return TS_OK;
}

static ts_err csv_options(ts_sql_binder *b, const ts_sql_from *f, ts_csv_infer_opts *o)
{
    static const char *const KNOWN[] = {"header", "delim", "sep", "columns", "types", "dtypes", "sample_size",
                                        "auto_detect", "quote", "ignore_errors", "rejects", "rules", "summary",
                                        "values_dir", NULL};
    TS_TRY(check_named(b, f, KNOWN));
    *o = (ts_csv_infer_opts){.header = -1};
    const ts_sql_arg *a;
    int64_t v = 0;
    if ((a = named(f, "header"))) {
        TS_TRY(int_arg(b, a->value, "header", &v));
        o->header = v != 0;
    }
    if ((a = named(f, "delim")) || (a = named(f, "sep"))) {
        const char *d = NULL;
        TS_TRY(string_arg(b, a->value, "delim", &d));
        TS_TRY(one_byte(b, a, d, "\\t", '\t', &o->delim));
    }
    if ((a = named(f, "quote"))) {
        const char *q = NULL;
        TS_TRY(string_arg(b, a->value, "quote", &q));
        TS_TRY(one_byte(b, a, q, NULL, 0, &o->quote));
    }
    if ((a = named(f, "sample_size"))) {
        TS_TRY(int_arg(b, a->value, "sample_size", &v));
        o->sample_rows = v < 0 ? INT64_MAX / 2 : v;
    }
    ts_csv_column_type *types;
    if ((a = named(f, "columns"))) {
        TS_TRY(column_types(b, a, &types));
        o->columns = types, o->ncolumns = a->npairs, o->columns_all = 1;
    } else if ((a = named(f, "types")) || (a = named(f, "dtypes"))) {
        TS_TRY(column_types(b, a, &types));
        o->columns = types, o->ncolumns = a->npairs;
    }
    return TS_OK;
}

/* The scan's table becomes the node's output: the plan's columns renamed to their ids, the others dropped.
 * Takes clean. */
static ts_err adopt_columns(const ts_sql_plan *p, ts_table *clean, ts_table **out)
{
    ts_table *res;
    ts_err err = ts_table_new("read_csv", &res);
    for (int c = 0; !err && c < p->ncols; c++) {
        const int k = find_column(clean, p->source_names[c]);
        if (k < 0) {
            err = ts_error_raise(TS_ERR_INTERNAL, __FILE__, __LINE__, __func__, "read_csv: no column '%s'",
                                 p->source_names[c]);
            break;
        }
        err = ts_column_set_name(clean->cols[k], p->cols[c].id);
        if (err)
            break;
        err = ts_table_adopt(res, clean->cols[k]);
        clean->cols[k] = NULL;
    }
    int kept = 0;
    for (int k = 0; k < clean->ncols; k++)
        if (clean->cols[k])
            clean->cols[kept++] = clean->cols[k];
    clean->ncols = kept;
    ts_table_free(clean);
    if (err)
        ts_table_free(res), res = NULL;
    *out = res;
    return err;
}

/* ---- read_csv with a rules file: the cleaning operator (engine/dist/ts_clean.h) --------------------------------- */

typedef struct rules_source {
    ts_file_info *files;
    int nfiles;
    ts_rules *rules;       /* freed when the statement ends */
    const char *values_dir;
    const char *summary;   /* summary='name': (metric, count) catalog table, as bank-analytics' /quality/summary */
} rules_source;

static void free_rules(void *r) { ts_rules_free(r); }

/* The bytes a scan under a memory budget reads at a time: a quarter of an operator's share, 1 MiB to max. */
static int64_t scan_piece(const ts_ctx *ctx, int64_t max)
{
    const int64_t piece = ctx->op_room / 4;
    return piece < (1 << 20) ? 1 << 20 : piece > max ? max : piece;
}

/* Tells the session which files a statement reads (its checkpoints fingerprint them). */
static void note_inputs(const ts_sql_binder *b, const ts_file_info *files, int n)
{
    for (int i = 0; b->exec->on_input && i < n; i++)
        b->exec->on_input(b->exec->on_input_arg, files[i].path);
}
static void free_inferred(void *inf) { ts_csv_inferred_free(inf); }

static ts_err bind_rules_csv(ts_sql_binder *b, const ts_sql_from *f, const char *pattern, const char *rules_path,
                             ts_sql_plan **out)
{
    rules_source *src = ts_sql_alloc(b->script, sizeof *src);
    if (!src)
        return NOMEM(b, f->pos);
    const ts_sql_arg *a;
    if ((a = named(f, "values_dir")))
        TS_TRY(string_arg(b, a->value, "values_dir", &src->values_dir));
    if ((a = named(f, "summary")))
        TS_TRY(string_arg(b, a->value, "summary", &src->summary));
    if (b->exec->on_input)
        b->exec->on_input(b->exec->on_input_arg, rules_path);
    ts_err err = ts_rules_load(rules_path, &src->rules);
    if (!err)
        err = ts_sql_exec_defer(b->exec, free_rules, src->rules);
    if (err)
        return ts_sql_error_at(b->src, f->pos, err, "read_csv: %s", ts_error_headline());
    ts_file_info *files;
    int n;
    if ((err = ts_scan_list_inputs(b->ctx, pattern, &files, &n)))
        return ts_sql_error_at(b->src, f->pos, err, "read_csv: %s", ts_error_headline());
    note_inputs(b, files, n);
    src->files = ts_sql_alloc(b->script, sizeof *files * (size_t)n);
    if (src->files)
        memcpy(src->files, files, sizeof *files * (size_t)n);
    free(files);
    if (!src->files)
        return NOMEM(b, f->pos);
    src->nfiles = n;
    const ts_csv_spec *spec = &src->rules->spec;
    int ncols = 0;
    for (int i = 0; i < spec->nfields; i++)
        ncols += spec->fields[i].kind != TS_RULE_SKIP;
    ts_sql_plan *p = ts_sql_plan_new(b, TS_P_CSV, f->pos, ncols);
    if (!p || !(p->source_names = ts_sql_alloc(b->script, sizeof(char *) * (size_t)(ncols + 1))))
        return NOMEM(b, f->pos);
    for (int i = 0, c = 0; i < spec->nfields; i++) {
        if (spec->fields[i].kind == TS_RULE_SKIP)
            continue;
        p->source_names[c] = ts_sql_strdup(b->script, spec->fields[i].name);
        snprintf(p->cols[c].name, sizeof p->cols[c].name, "%s", spec->fields[i].name);
        ts_sql_new_id(b, spec->fields[i].name, p->cols[c].id);
        c++;
    }
    p->path = ts_sql_strdup(b->script, pattern);
    p->source = src, p->with_rules = 1;
    int64_t bytes = 0;
    for (int i = 0; i < n; i++)
        bytes += src->files[i].size;
    p->est_rows = (double)bytes / 80.0;
    *out = p;
    return TS_OK;
}

/* The rejects in input order (a sample sort by position), without the position column. */
static ts_err sorted_rejects(ts_ctx *ctx, ts_table **rej)
{
    static const char *const by[] = {"__pos"};
    TS_TRY(ts_sort_distributed(ctx, rej, by, 1));
    ts_column *pos = ts_table_col(*rej, "__pos");
    for (int c = 0; pos && c < (*rej)->ncols; c++)
        if ((*rej)->cols[c] == pos) {
            memmove(&(*rej)->cols[c], &(*rej)->cols[c + 1], sizeof(ts_column *) * (size_t)((*rej)->ncols - c - 1));
            (*rej)->ncols--;
        }
    ts_column_free(pos);
    static const char *const keys[] = {"file", "line"};
    ts_table_set_sorted(*rej, keys, 2);
    return TS_OK;
}

/* The cleaning scan; under a memory budget, when this rank's share of the input is larger than an operator's share
 * of it and the rules have no table rules (which need every row at once), the partitioned mode with the clean rows
 * in cold storage (ts_clean_scan_spilled): pieces of the files, one partition and the rejects in memory. */
static ts_err clean_scan(ts_sql_exec *x, const rules_source *src, ts_clean_result *r)
{
    const ts_ctx *ctx = x->ctx;
    int64_t bytes = 0;
    for (int i = 0; i < src->nfiles; i++) /* gzip inflates about 4x */
        bytes += src->files[i].gz ? 4 * src->files[i].size : src->files[i].size;
    const int64_t share = bytes / ctx->size + 1;
    /* a partition's clean rows take about as much memory as its CSV bytes, plus the dedup's hash set. Every rank
     * must take the same path with the same partitions (the steps are collective): the most any rank asks for,
     * whatever budget each rank's context holds (tessera sql gives all the same one). */
    int64_t nparts = 0;
    if (ctx->mem_limit && share > ctx->op_room && src->rules->ntable_rules == 0)
        nparts = 2 * share / ctx->op_room + 1;
    TS_MPI(MPI_Allreduce(MPI_IN_PLACE, &nparts, 1, MPI_INT64_T, MPI_MAX, ctx->comm));
    if (nparts == 0)
        return ts_clean_scan(x->ctx, src->files, src->nfiles, src->rules, src->values_dir, r);
    nparts = nparts > 512 ? 512 : nparts; /* each is an open file per rank */
    return ts_clean_scan_spilled(x->ctx, src->files, src->nfiles, src->rules, src->values_dir, (int)nparts,
                                 scan_piece(ctx, (int64_t)32 << 20),
                                 ts_spill_dir(ctx->spill_dir), r);
}

static ts_err exec_rules_csv(ts_sql_exec *x, ts_sql_plan *p, ts_table **out)
{
    rules_source *src = p->source;
    ts_clean_result r = {0};
    TS_TRY(clean_scan(x, src, &r));
    p->rows_rejected = r.rows_rejected;
    ts_err err = TS_OK;
    if (p->rejects_name) {
        err = sorted_rejects(x->ctx, &r.rejects);
        if (!err)
            err = ts_sql_catalog_put(x->catalog, p->rejects_name, r.rejects, r.rows_rejected, NULL, NULL);
        r.rejects = NULL;
    }
    if (!err && src->summary) {
        ts_table *sum = NULL;
        err = ts_ctx_check(x->ctx, ts_clean_summary(x->ctx->rank, src->rules, &r, &sum));
        if (!err)
            err = ts_sql_catalog_put(x->catalog, src->summary, sum, 3 + r.nreasons, NULL, NULL);
        else
            ts_table_free(sum);
    }
    if (!err && x->ctx->rank == 0 && !x->quiet && r.rows_rejected && !p->rejects_name)
        fprintf(stderr, "warning: read_csv('%s'): %lld of %lld rows rejected by the rules (rejects='name' keeps "
                "them)\n", p->path, (long long)r.rows_rejected, (long long)r.rows_read);
    ts_table *clean = r.clean;
    r.clean = NULL;
    ts_clean_result_free(&r);
    if (!err)
        err = adopt_columns(p, clean, out);
    else
        ts_table_free(clean);
    return err;
}

static ts_err bind_csv(ts_sql_binder *b, const ts_sql_from *f, ts_sql_plan **out)
{
    const ts_sql_expr *pe = NULL;
    const char *pattern = NULL;
    TS_TRY(positional(b, f, 0, &pe));
    TS_TRY(string_arg(b, pe, "read_csv's path", &pattern));
    ts_csv_infer_opts opts;
    TS_TRY(csv_options(b, f, &opts));
    const ts_sql_arg *a;
    int64_t ignore = 0;
    const char *rejects = NULL, *rules = NULL;
    if ((a = named(f, "ignore_errors")))
        TS_TRY(int_arg(b, a->value, "ignore_errors", &ignore));
    if ((a = named(f, "rejects")))
        TS_TRY(string_arg(b, a->value, "rejects", &rejects));
    if ((a = named(f, "rules")))
        TS_TRY(string_arg(b, a->value, "rules", &rules));
    if (rules) {
        TS_TRY(bind_rules_csv(b, f, pattern, rules, out));
        (*out)->rejects_name = rejects ? ts_sql_strdup(b->script, rejects) : NULL;
        return TS_OK;
    }
    if (named(f, "summary") || named(f, "values_dir"))
        return ts_sql_error_at(b->src, f->pos, TS_ERR_USAGE, "read_csv: summary= and values_dir= go with rules=");
    csv_source *src = ts_sql_alloc(b->script, sizeof *src);
    if (!src)
        return NOMEM(b, f->pos);
    ts_file_info *files;
    int n;
    ts_err err = ts_scan_list_inputs(b->ctx, pattern, &files, &n);
    if (err)
        return ts_sql_error_at(b->src, pe->pos, err, "read_csv: %s", ts_error_headline());
    note_inputs(b, files, n);
    err = ts_csv_infer_files(b->ctx, files, n, &opts, &src->inf);
    if (!err && (err = ts_sql_exec_defer(b->exec, free_inferred, &src->inf)))
        err = NOMEM(b, f->pos); /* the defer freed it */
    if (!err && !(src->files = ts_sql_alloc(b->script, sizeof *files * (size_t)n)))
        err = NOMEM(b, f->pos);
    if (!err) {
        memcpy(src->files, files, sizeof *files * (size_t)n);
        src->nfiles = n;
    }
    free(files);
    if (err)
        return ts_sql_error_at(b->src, pe->pos, err, "read_csv: %s", ts_error_headline());
    ts_sql_plan *p = ts_sql_plan_new(b, TS_P_CSV, f->pos, src->inf.ncols);
    if (!p || !(p->source_names = ts_sql_alloc(b->script, sizeof(char *) * (size_t)src->inf.ncols)))
        return NOMEM(b, f->pos);
    for (int i = 0; i < src->inf.ncols; i++) {
        p->source_names[i] = src->inf.names[i];
        snprintf(p->cols[i].name, sizeof p->cols[i].name, "%s", src->inf.names[i]);
        ts_sql_new_id(b, src->inf.names[i], p->cols[i].id);
    }
    p->path = ts_sql_strdup(b->script, pattern);
    p->source = src;
    p->ignore_errors = ignore != 0;
    p->rejects_name = rejects ? ts_sql_strdup(b->script, rejects) : NULL;
    int64_t bytes = 0;
    for (int i = 0; i < n; i++)
        bytes += src->files[i].size;
    p->est_rows = (double)bytes / 40.0; /* without a sample's line length: a typical narrow CSV row */
    /* the planner's statistics, from a sample of the first file */
    double rows = 0;
    if (!(p->source_stats = ts_sql_alloc(b->script, sizeof *p->source_stats * (size_t)(src->inf.ncols + 1))))
        return NOMEM(b, f->pos);
    if ((err = ts_csv_sample_stats(b->ctx, src->files, src->nfiles, &src->inf, p->source_stats, &rows)))
        return ts_sql_error_at(b->src, pe->pos, err, "read_csv: %s", ts_error_headline());
    if (rows > 0)
        p->est_rows = rows;
    *out = p;
    return TS_OK;
}

/* The rejects as a table: file, line (1-based), reason, raw_line. */
static ts_err rejects_table(const csv_source *src, const ts_csv_inferred *inf, const ts_scan *scan, ts_table **out)
{
    ts_column *file, *line, *reason, *raw, *pos, *code;
    TS_TRY(ts_table_need(scan->rejects, "__pos", &pos));
    TS_TRY(ts_table_need(scan->rejects, "reason", &code));
    TS_TRY(ts_table_need(scan->rejects, "raw_line", &raw));
    TS_TRY(ts_table_new("rejects", out));
    TS_TRY(ts_table_add(*out, "file", TS_T_STRING, 0, NULL, &file));
    TS_TRY(ts_table_add(*out, "line", TS_T_INT64, 0, NULL, &line));
    TS_TRY(ts_table_add(*out, "reason", TS_T_STRING, 0, NULL, &reason));
    ts_column *raw_copy;
    TS_TRY(ts_column_new_like(raw, &raw_copy));
    TS_TRY(ts_table_adopt(*out, raw_copy));
    TS_TRY(ts_column_append_rows(raw_copy, raw, NULL, raw->len));
    TS_TRY(ts_column_reserve(line, pos->len, 0));
    for (int64_t i = 0; i < pos->len; i++) {
        const int64_t p = TS_COL(pos, int64_t)[i];
        const char *base = ts_file_base(&src->files[ts_pos_file(p)]), *why = ts_csv_inferred_reason(inf, TS_COL(code, int32_t)[i]);
        TS_TRY(ts_column_append_string(file, base, (int64_t)strlen(base)));
        TS_TRY(ts_column_append_string(reason, why, (int64_t)strlen(why)));
        TS_COL(line, int64_t)[i] = ts_pos_line(p);
    }
    line->len = pos->len;
    return TS_OK;
}

/* Rows that did not parse: an error naming the first one (DuckDB's default), or with ignore_errors a warning;
 * with rejects='name' they also become catalog table `name`. */
static ts_err csv_rejects(ts_sql_exec *x, ts_sql_plan *p, const ts_csv_inferred *inf, const ts_scan *scan,
                          int64_t rows_read)
{
    const csv_source *src = p->source;
    if (p->rejects_name) {
        ts_table *t = NULL;
        ts_err err = ts_ctx_check(x->ctx, rejects_table(src, inf, scan, &t));
        if (!err)
            err = ts_sql_catalog_put(x->catalog, p->rejects_name, t, p->rows_rejected, NULL, NULL);
        else
            ts_table_free(t);
        TS_TRY(err);
    }
    if (p->ignore_errors || p->rejects_name) {
        if (x->ctx->rank == 0 && !x->quiet)
            fprintf(stderr, "warning: read_csv('%s'): %lld of %lld rows rejected%s%s\n", p->path,
                    (long long)p->rows_rejected, (long long)rows_read, p->rejects_name ? ", see table " : "",
                    p->rejects_name ? p->rejects_name : "");
        return TS_OK;
    }
    /* the first rejected row in input order: each rank's first, the smallest position wins */
    ts_column *pos, *code;
    TS_TRY(ts_table_need(scan->rejects, "__pos", &pos));
    TS_TRY(ts_table_need(scan->rejects, "reason", &code));
    int64_t first = pos->len ? TS_COL(pos, int64_t)[0] : INT64_MAX;
    TS_MPI(MPI_Allreduce(MPI_IN_PLACE, &first, 1, MPI_INT64_T, MPI_MIN, x->ctx->comm));
    ts_err err = TS_OK;
    if (pos->len && TS_COL(pos, int64_t)[0] == first)
        err = ts_error_raise(TS_ERR_DATA, __FILE__, __LINE__, __func__, "%s:%lld: %s (read_csv rejects %lld of "
                             "%lld rows; pass ignore_errors=true to skip them, rejects='name' to keep them in a "
                             "table, or columns={...} to set types)", src->files[ts_pos_file(first)].path,
                             (long long)ts_pos_line(first), ts_csv_inferred_reason(inf, TS_COL(code, int32_t)[0]),
                             (long long)p->rows_rejected, (long long)rows_read);
    TS_TRY(ts_ctx_check(x->ctx, err));
    TS_FAIL(TS_ERR_INTERNAL, "read_csv: rejected rows but no rank reported the first");
}

/* read_csv under a memory budget, when this rank's share of the files is larger than an operator's share of it:
 * the scan reads pieces of its byte ranges and moves each piece's rows to a cold table (engine/ops/ts_cold.h), so
 * neither the files' pages nor the rows stay resident. */
typedef struct cold_scan {
    const char *dir;
    ts_cold *b;
} cold_scan;

static ts_err piece_to_cold(void *arg, ts_table *clean, int64_t first_row, int range)
{
    (void)range;
    cold_scan *cs = arg;
    if (!cs->b)
        TS_TRY(ts_cold_begin(clean, cs->dir, &cs->b));
    TS_TRY(ts_cold_append(cs->b, clean, first_row, ts_table_rows(clean) - first_row));
    ts_table_truncate(clean, first_row);
    return TS_OK;
}

static ts_err scan_csv(ts_sql_exec *x, const csv_source *src, const ts_csv_inferred *inf, ts_scan *scan)
{
    const ts_ctx *ctx = x->ctx;
    int64_t bytes = 0;
    for (int i = 0; i < src->nfiles; i++)
        bytes += src->files[i].size;
    if (!ctx->mem_limit || bytes / ctx->size <= ctx->op_room)
        return ts_scan_csv_files(x->ctx, src->files, src->nfiles, &inf->spec, scan);
    cold_scan cs = {.dir = ts_spill_dir(ctx->spill_dir)};
    const ts_scan_opts opts = {.chunk_bytes = scan_piece(ctx, (int64_t)64 << 20), .batch = piece_to_cold, .arg = &cs};
    ts_err err = ts_scan_csv_files_opts(x->ctx, src->files, src->nfiles, &inf->spec, &opts, scan);
    if (err) {
        ts_cold_free(cs.b);
        return err;
    }
    ts_table *cold = NULL;
    if (cs.b)
        err = ts_cold_finish(cs.b, scan->clean->name, &cold);
    if ((err = ts_ctx_check(x->ctx, err))) { /* a rank that cannot map its files ends the statement everywhere */
        ts_table_free(cold);
        ts_scan_free(scan);
        return err;
    }
    if (!cold)
        return TS_OK;
    ts_table_free(scan->clean);
    scan->clean = cold;
    return TS_OK;
}

static ts_err exec_csv(ts_sql_exec *x, ts_sql_plan *p, ts_table **out)
{
    csv_source *src = p->source;
    ts_csv_inferred inf; /* a private copy: pruned fields become SKIP */
    TS_TRY(ts_csv_inferred_copy(&inf, &src->inf));
    int nneeded = 0;
    for (int f = 0; f < inf.spec.nfields; f++) {
        int needed = 0;
        for (int c = 0; c < p->ncols && !needed; c++)
            needed = !strcmp(p->source_names[c], inf.names[f]);
        if (!needed)
            inf.spec.fields[f].kind = TS_RULE_SKIP;
        nneeded += needed;
    }
    if (nneeded > TS_MAX_COLS - 1) { /* the scan's table also holds __line */
        ts_csv_inferred_free(&inf);
        TS_FAIL(TS_ERR_USAGE, "read_csv('%s'): the query reads %d of its %d columns, but a table holds at most %d; "
                "select the columns you need", p->path, nneeded, src->inf.ncols, TS_MAX_COLS - 1);
    }
    ts_scan scan;
    ts_err err = scan_csv(x, src, &inf, &scan);
    if (err) {
        ts_csv_inferred_free(&inf);
        return err;
    }
    int64_t counts[2] = {scan.rows_read, ts_table_rows(scan.rejects)};
    err = ts_mpi_status(MPI_Allreduce(MPI_IN_PLACE, counts, 2, MPI_INT64_T, MPI_SUM, x->ctx->comm),
                        "MPI_Allreduce", __FILE__, __LINE__, __func__);
    p->rows_rejected = counts[1];
    if (!err && counts[1])
        err = csv_rejects(x, p, &inf, &scan, counts[0]);
    ts_csv_inferred_free(&inf);
    if (err) {
        ts_scan_free(&scan);
        return err;
    }
    ts_table *clean = scan.clean, *res = NULL;
    scan.clean = NULL;
    ts_scan_free(&scan);
    err = adopt_columns(p, clean, &res);
    /* strings with few distinct values become dictionary codes: group-bys, joins and sorts then work on int32 */
    for (int c = 0; !err && c < res->ncols; c++) {
        int encoded;
        if (res->cols[c]->type == TS_T_STRING)
            err = ts_dict_encode(x->ctx, res, res->cols[c]->name, TS_SQL_DICT_MAX, TS_SQL_DICT_BYTES, &encoded);
    }
    if (!err && ts_table_is_cold(res)) /* the dictionary codes join the columns on disk */
        err = ts_table_to_cold(res, ts_spill_dir(x->ctx->spill_dir), NULL);
    if (x->ctx->mem_limit)
        err = ts_ctx_check(x->ctx, err);
    if (err)
        ts_table_free(res), res = NULL;
    *out = res;
    return err;
}

/* ---- read_h5 ------------------------------------------------------------------------------------------------------ */

static ts_err bind_h5(ts_sql_binder *b, const ts_sql_from *f, ts_sql_plan **out)
{
    static const char *const KNOWN[] = {NULL};
    TS_TRY(check_named(b, f, KNOWN));
    const ts_sql_expr *pe = NULL, *ge = NULL;
    const char *path = NULL, *group = NULL;
    TS_TRY(positional(b, f, 0, &pe));
    TS_TRY(positional(b, f, 1, &ge));
    TS_TRY(string_arg(b, pe, "read_h5's file", &path));
    TS_TRY(string_arg(b, ge, "read_h5's group", &group));
    if (b->exec->on_input)
        b->exec->on_input(b->exec->on_input_arg, path);
    ts_table *t;
    const ts_err err = ts_h5_read_table(b->ctx->comm, path, group, NULL, 0, &t);
    if (err)
        return ts_sql_error_at(b->src, pe->pos, err, "read_h5: %s", ts_error_headline());
    TS_TRY(ts_sql_exec_keep_table(b->exec, t));
    ts_sql_plan *p = ts_sql_plan_new(b, TS_P_H5, f->pos, t->ncols);
    if (!p || !(p->source_names = ts_sql_alloc(b->script, sizeof(char *) * (size_t)t->ncols)))
        return NOMEM(b, f->pos);
    for (int i = 0; i < t->ncols; i++) {
        p->source_names[i] = t->cols[i]->name;
        snprintf(p->cols[i].name, sizeof p->cols[i].name, "%s", t->cols[i]->name);
        ts_sql_new_id(b, t->cols[i]->name, p->cols[i].id);
    }
    p->path = ts_sql_strdup(b->script, path), p->group = ts_sql_strdup(b->script, group);
    p->source = t;
    int64_t rows = ts_table_rows(t);
    TS_MPI(MPI_Allreduce(MPI_IN_PLACE, &rows, 1, MPI_INT64_T, MPI_SUM, b->ctx->comm));
    p->est_rows = (double)rows;
    /* the table is in memory already: exact statistics for the planner */
    if (!(p->source_stats = ts_sql_alloc(b->script, sizeof *p->source_stats * (size_t)(t->ncols + 1))))
        return NOMEM(b, f->pos);
    TS_TRY(ts_table_stats(b->ctx, t, p->source_stats));
    *out = p;
    return TS_OK;
}

static ts_err exec_h5(ts_sql_exec *x, ts_sql_plan *p, ts_table **out)
{
    const ts_table *t = p->source;
    int *idx = malloc(sizeof *idx * (size_t)(p->ncols + 1));
    char **names = malloc(sizeof *names * (size_t)(p->ncols + 1));
    ts_err err = idx && names ? TS_OK : ts_error_raise(TS_ERR_NOMEM, __FILE__, __LINE__, __func__, "out of memory");
    for (int c = 0; !err && c < p->ncols; c++) {
        idx[c] = find_column(t, p->source_names[c]);
        if (idx[c] < 0)
            err = ts_error_raise(TS_ERR_INTERNAL, __FILE__, __LINE__, __func__, "read_h5: no column '%s'",
                                 p->source_names[c]);
        names[c] = p->cols[c].id;
    }
    if (!err)
        err = ts_sql_exec_rename_view(x, t, idx, names, p->ncols, out);
    free(idx), free(names);
    TS_TRY(err);
    return TS_OK;
}

/* ---- range ------------------------------------------------------------------------------------------------------ */

static ts_err bind_range(ts_sql_binder *b, const ts_sql_from *f, ts_sql_plan **out)
{
    static const char *const KNOWN[] = {NULL};
    TS_TRY(check_named(b, f, KNOWN));
    int64_t v[3] = {0, 0, 1};
    int n = 0;
    for (int i = 0; i < f->nargs && n < 3; i++)
        TS_TRY(int_arg(b, f->args[i].value, "range's bounds", &v[n++]));
    if (n == 0 || f->nargs > 3)
        return ts_sql_error_at(b->src, f->pos, TS_ERR_USAGE, "%s() takes (stop), (start, stop) or (start, stop, "
                               "step)", f->name);
    if (n == 1)
        v[1] = v[0], v[0] = 0;
    if (!v[2])
        return ts_sql_error_at(b->src, f->pos, TS_ERR_USAGE, "%s(): the step cannot be 0", f->name);
    const int inclusive = !strcmp(f->name, "generate_series");
    ts_sql_plan *p = ts_sql_plan_new(b, TS_P_RANGE, f->pos, 1);
    if (!p)
        return NOMEM(b, f->pos);
    snprintf(p->cols[0].name, sizeof p->cols[0].name, "%s", f->name);
    ts_sql_new_id(b, f->name, p->cols[0].id);
    p->range_start = v[0], p->range_step = v[2];
    p->range_stop = inclusive ? v[1] + (v[2] > 0 ? 1 : -1) : v[1];
    const int64_t span = (p->range_stop - p->range_start) / p->range_step;
    p->est_rows = span > 0 ? (double)span : 0;
    *out = p;
    return TS_OK;
}

static ts_err exec_range(ts_sql_exec *x, ts_sql_plan *p, ts_table **out)
{
    const int64_t a = p->range_start, step = p->range_step;
    const int64_t span = step > 0 ? p->range_stop - a : a - p->range_stop, mag = step > 0 ? step : -step;
    const int64_t n = span > 0 ? (span + mag - 1) / mag : 0;
    const int64_t lo = n * x->ctx->rank / x->ctx->size, hi = n * (x->ctx->rank + 1) / x->ctx->size;
    ts_column *c;
    TS_TRY(ts_table_new("range", out));
    TS_TRY(ts_table_add(*out, p->cols[0].id, TS_T_INT64, 0, NULL, &c));
    TS_TRY(ts_column_reserve(c, hi - lo, 0));
    int64_t *v = TS_COL(c, int64_t);
    for (int64_t i = lo; i < hi; i++)
        v[i - lo] = a + i * step;
    c->len = hi - lo;
    return TS_OK;
}

/* ---- dispatch ------------------------------------------------------------------------------------------------------ */

ts_err ts_sql_bind_source(ts_sql_binder *b, const ts_sql_from *f, ts_sql_plan **out)
{
    if (!strcmp(f->name, "read_csv") || !strcmp(f->name, "read_csv_auto"))
        return bind_csv(b, f, out);
    if (!strcmp(f->name, "read_h5"))
        return bind_h5(b, f, out);
    if (!strcmp(f->name, "read_parquet") || !strcmp(f->name, "parquet_scan"))
        return ts_sql_bind_parquet(b, f, out);
    if (!strcmp(f->name, "range") || !strcmp(f->name, "generate_series"))
        return bind_range(b, f, out);
    static const char *const KNOWN[] = {"read_csv", "read_csv_auto", "read_h5", "range", "generate_series",
                                        "read_parquet"};
    const char *hint = ts_sql_closest(f->name, KNOWN, 6);
    return ts_sql_error_at(b->src, f->pos, TS_ERR_USAGE, "unknown table function '%s'%s%s%s", f->name,
                           hint ? " (did you mean '" : "", hint ? hint : "", hint ? "'?)" : "");
}

ts_err ts_sql_exec_source(ts_sql_exec *x, ts_sql_plan *p, ts_table **out)
{
    switch (p->kind) {
    case TS_P_CSV: return p->with_rules ? exec_rules_csv(x, p, out) : exec_csv(x, p, out);
    case TS_P_H5: return exec_h5(x, p, out);
    case TS_P_PARQUET: return ts_sql_exec_parquet(x, p, out);
    default: return exec_range(x, p, out);
    }
}

/* ---- argument helpers shared with the other table functions (ts_sql_parquet.c) ---------------------------------- */

const ts_sql_arg *ts_sql_arg_named(const ts_sql_from *f, const char *name) { return named(f, name); }

ts_err ts_sql_arg_check_named(ts_sql_binder *b, const ts_sql_from *f, const char *const *known)
{
    return check_named(b, f, known);
}

ts_err ts_sql_arg_positional(ts_sql_binder *b, const ts_sql_from *f, int k, const ts_sql_expr **out)
{
    return positional(b, f, k, out);
}

ts_err ts_sql_arg_string(ts_sql_binder *b, const ts_sql_expr *e, const char *what, const char **out)
{
    return string_arg(b, e, what, out);
}

ts_err ts_sql_arg_int(ts_sql_binder *b, const ts_sql_expr *e, const char *what, int64_t *out)
{
    return int_arg(b, e, what, out);
}
