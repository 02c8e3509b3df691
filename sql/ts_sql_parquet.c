/* read_parquet(path | pattern with ** | [path, ...], hive_partitioning = true): binding (the dataset's
 * files and schema, collectively), execution (engine/ts_parquet_scan.h) and the pruning hints: the conjuncts of
 * the FILTER right above the scan that compare one of its columns with a constant. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ts_date.h"
#include "ts_parquet_scan.h"
#include "ts_sql_parse.h"
#include "ts_sql_tablefn.h"

/* string columns with at most this many distinct values become DICT (read_csv's limit) */
#define DICT_MAX (1 << 20)
#define MAX_PATTERNS 256
#define MAX_PREDS 64

typedef struct pq_source {
    ts_pq_dataset ds;
} pq_source;

static void free_source(void *s) { ts_pq_dataset_free(&((pq_source *)s)->ds); }

/* ---- binding ------------------------------------------------------------------------------------------------------ */

static ts_err patterns_of(ts_sql_binder *b, const ts_sql_expr *e, const char **out, int *n)
{
    *n = 0;
    if (e->kind == TS_SQL_E_FUNC && !strcmp(e->name, "list_value")) {
        if (e->nargs == 0 || e->nargs > MAX_PATTERNS)
            return ts_sql_error_at(b->src, e->pos, TS_ERR_USAGE, "read_parquet: a list of 1 to %d paths",
                                   MAX_PATTERNS);
        for (int i = 0; i < e->nargs; i++)
            TS_TRY(ts_sql_arg_string(b, e->args[i], "a read_parquet path", &out[(*n)++]));
        return TS_OK;
    }
    TS_TRY(ts_sql_arg_string(b, e, "read_parquet's path (a string or a list of strings)", &out[0]));
    *n = 1;
    return TS_OK;
}

ts_err ts_sql_bind_parquet(ts_sql_binder *b, const ts_sql_from *f, ts_sql_plan **out)
{
    static const char *const KNOWN[] = {"hive_partitioning", "binary_as_string", NULL};
    TS_TRY(ts_sql_arg_check_named(b, f, KNOWN));
    const ts_sql_expr *pe;
    TS_TRY(ts_sql_arg_positional(b, f, 0, &pe));
    const char *patterns[MAX_PATTERNS];
    int np;
    TS_TRY(patterns_of(b, pe, patterns, &np));
    int64_t hive = 0;
    const ts_sql_arg *a = ts_sql_arg_named(f, "hive_partitioning");
    if (a)
        TS_TRY(ts_sql_arg_int(b, a->value, "hive_partitioning", &hive));
    pq_source *src = ts_sql_alloc(b->script, sizeof *src);
    if (!src)
        return ts_sql_error_at(b->src, f->pos, TS_ERR_NOMEM, "out of memory");
    ts_err err = ts_pq_dataset_open(b->ctx, patterns, np, hive != 0, &src->ds);
    if (err)
        return ts_sql_error_at(b->src, pe->pos, err, "read_parquet: %s", ts_error_headline());
    TS_TRY(ts_sql_exec_defer(b->exec, free_source, src));
    const ts_pq_dataset *ds = &src->ds;
    ts_sql_plan *p = ts_sql_plan_new(b, TS_P_PARQUET, f->pos, ds->ncols);
    if (!p || !(p->source_names = ts_sql_alloc(b->script, sizeof(char *) * (size_t)(ds->ncols + 1))))
        return ts_sql_error_at(b->src, f->pos, TS_ERR_NOMEM, "out of memory");
    for (int i = 0; i < ds->ncols; i++) {
        p->source_names[i] = ts_sql_strdup(b->script, ds->cols[i].name);
        snprintf(p->cols[i].name, sizeof p->cols[i].name, "%s", ds->cols[i].name);
        ts_sql_new_id(b, ds->cols[i].name, p->cols[i].id);
    }
    p->path = ts_sql_strdup(b->script, np == 1 ? patterns[0] : "[list]");
    p->source = src;
    p->est_rows = (double)ds->rows;
    *out = p;
    return TS_OK;
}

/* ---- pruning hints ------------------------------------------------------------------------------------------------- */

void ts_sql_parquet_attach_filters(ts_sql_plan *p)
{
    for (int i = 0; i < 2; i++)
        if (p->in[i])
            ts_sql_parquet_attach_filters(p->in[i]);
    if (p->kind == TS_P_FILTER && p->in[0]->kind == TS_P_PARQUET)
        p->in[0]->conds = p->conds, p->in[0]->nconds = p->nconds;
}

/* A numeric constant (a literal, maybe negated). *exact: it is an integer. */
static int const_number(const ts_sql_expr *e, long double *x, int *exact)
{
    int neg = 0;
    if (e->kind == TS_SQL_E_UNARY && e->op == TS_SQL_OP_NEG)
        e = e->args[0], neg = 1;
    if (e->kind == TS_SQL_E_INT || e->kind == TS_SQL_E_BOOL)
        *x = (long double)e->ival, *exact = 1;
    else if (e->kind == TS_SQL_E_FLOAT)
        *x = (long double)e->fval, *exact = 0; /* the engine compares it as this double */
    else
        return 0;
    if (neg)
        *x = -*x;
    return 1;
}

/* A date constant: 'YYYY-MM-DD' or DATE 'YYYY-MM-DD' (a CAST of the string). */
static int const_date(const ts_sql_expr *e, long double *x)
{
    if (e->kind == TS_SQL_E_CAST && e->type.kind == TS_SQL_TY_DATE && !e->try_cast)
        e = e->args[0];
    int32_t d;
    if (e->kind != TS_SQL_E_STRING || !ts_parse_date(e->sval, (size_t)e->slen, &d))
        return 0;
    *x = d;
    return 1;
}

/* A timestamp constant: 'YYYY-MM-DD[ HH:MM:SS[.f]]' or TIMESTAMP '...' (a CAST of the string), in microseconds. A
 * DATE constant compares as its midnight. */
static int const_timestamp(const ts_sql_expr *e, long double *x)
{
    if (e->kind == TS_SQL_E_CAST && !e->try_cast && e->type.kind == TS_SQL_TY_DATE)
        return const_date(e, x) && (*x *= (long double)TS_MICROS_PER_DAY, 1);
    if (e->kind == TS_SQL_E_CAST && e->type.kind == TS_SQL_TY_TIMESTAMP && !e->try_cast)
        e = e->args[0];
    int64_t us;
    if (e->kind != TS_SQL_E_STRING || !ts_parse_timestamp(e->sval, (size_t)e->slen, &us))
        return 0;
    *x = (long double)us;
    return 1;
}

static const long double POW10[] = {1e0L, 1e1L, 1e2L, 1e3L, 1e4L, 1e5L, 1e6L, 1e7L, 1e8L, 1e9L, 1e10L, 1e11L, 1e12L,
                                    1e13L, 1e14L, 1e15L, 1e16L, 1e17L, 1e18L};

/* e as a constant of column c's type, in the representation the statistics use; 0 when it is not one. */
static int constant_for(const ts_pq_dscol *c, const ts_sql_expr *e, long double *x, long double *eps, const char **s,
                        size_t *len)
{
    int exact = 1;
    *eps = 0;
    switch (c->type) {
    case TS_T_STRING: case TS_T_DICT:
        if (e->kind != TS_SQL_E_STRING)
            return 0;
        *s = e->sval, *len = (size_t)e->slen;
        return 1;
    case TS_T_DATE: return const_date(e, x);
    case TS_T_TIMESTAMP: return const_timestamp(e, x);
    case TS_T_DECIMAL:
        if (!const_number(e, x, &exact))
            return 0;
        *x *= POW10[c->scale < 0 || c->scale > 18 ? 0 : c->scale];
        *eps = exact ? 0 : 0.5L; /* 0.1 * 100 need not be 10 exactly: keep every scaled integer within reach */
        return 1;
    case TS_T_BOOL: return e->kind == TS_SQL_E_BOOL && (*x = (long double)e->ival, 1);
    default: return const_number(e, x, &exact);
    }
}

/* The dataset column a bound column reference reads, or -1. */
static int column_of(const ts_sql_plan *p, const pq_source *src, const ts_sql_expr *e)
{
    if (e->kind != TS_SQL_E_COLUMN)
        return -1;
    for (int c = 0; c < p->ncols; c++)
        if (!strcmp(p->cols[c].id, e->name))
            return ts_pq_dataset_find(&src->ds, p->source_names[c]);
    return -1;
}

static ts_pq_op flipped(ts_pq_op op)
{
    return op == TS_PQ_OP_LT ? TS_PQ_OP_GT : op == TS_PQ_OP_LE ? TS_PQ_OP_GE : op == TS_PQ_OP_GT ? TS_PQ_OP_LT
         : op == TS_PQ_OP_GE ? TS_PQ_OP_LE : op;
}

typedef struct preds {
    ts_pq_pred p[MAX_PREDS];
    int n;
    long double xs[MAX_PREDS][16];
    const char *ss[MAX_PREDS][16];
    size_t lens[MAX_PREDS][16];
} preds;

static void add_cmp(preds *out, const pq_source *src, int col, ts_pq_op op, const ts_sql_expr *k)
{
    if (col < 0 || out->n == MAX_PREDS)
        return;
    ts_pq_pred *q = &out->p[out->n];
    memset(q, 0, sizeof *q);
    q->col = col, q->op = op;
    if (constant_for(&src->ds.cols[col], k, &q->x, &q->eps, &q->s, &q->len))
        out->n++;
}

/* One conjunct: col op const, const op col, col [NOT] BETWEEN, col IS [NOT] NULL, col IN (consts). Others give no
 * hint. */
static void add_pred(preds *out, const ts_sql_plan *p, const pq_source *src, const ts_sql_expr *e)
{
    static const ts_sql_op ops[] = {TS_SQL_OP_EQ, TS_SQL_OP_NE, TS_SQL_OP_LT, TS_SQL_OP_LE, TS_SQL_OP_GT, TS_SQL_OP_GE};
    static const ts_pq_op pq[] = {TS_PQ_OP_EQ, TS_PQ_OP_NE, TS_PQ_OP_LT, TS_PQ_OP_LE, TS_PQ_OP_GT, TS_PQ_OP_GE};
    if (e->kind == TS_SQL_E_BINARY) {
        for (int i = 0; i < 6; i++)
            if (e->op == ops[i]) {
                const int l = column_of(p, src, e->args[0]), r = column_of(p, src, e->args[1]);
                if (l >= 0 && r < 0)
                    add_cmp(out, src, l, pq[i], e->args[1]);
                else if (r >= 0 && l < 0)
                    add_cmp(out, src, r, flipped(pq[i]), e->args[0]);
            }
    } else if (e->kind == TS_SQL_E_BETWEEN && !e->negated) {
        const int c = column_of(p, src, e->args[0]);
        add_cmp(out, src, c, TS_PQ_OP_GE, e->args[1]);
        add_cmp(out, src, c, TS_PQ_OP_LE, e->args[2]);
    } else if (e->kind == TS_SQL_E_IS_NULL) {
        const int c = column_of(p, src, e->args[0]);
        if (c >= 0 && out->n < MAX_PREDS)
            out->p[out->n++] = (ts_pq_pred){.col = c, .op = e->negated ? TS_PQ_OP_NOT_NULL : TS_PQ_OP_IS_NULL};
    } else if (e->kind == TS_SQL_E_IN_LIST && !e->negated && e->nargs - 1 <= 16) {
        const int c = column_of(p, src, e->args[0]);
        if (c < 0 || out->n == MAX_PREDS)
            return;
        const int k = out->n;
        ts_pq_pred *q = &out->p[k];
        *q = (ts_pq_pred){.col = c, .op = TS_PQ_OP_IN, .xs = out->xs[k], .ss = out->ss[k], .lens = out->lens[k]};
        for (int i = 1; i < e->nargs; i++) {
            long double eps;
            if (!constant_for(&src->ds.cols[c], e->args[i], &out->xs[k][i - 1], &eps, &out->ss[k][i - 1],
                              &out->lens[k][i - 1]))
                return;
            q->eps = eps > q->eps ? eps : q->eps;
        }
        q->nvals = e->nargs - 1;
        out->n++;
    }
}

void ts_sql_parquet_explain(ts_sql_plan *p)
{
    snprintf(p->note, sizeof p->note, "row groups dealt to ranks by size, %d column%s read%s%d pruning condition%s",
             p->ncols, p->ncols == 1 ? "" : "s", ", ", p->nconds, p->nconds == 1 ? "" : "s");
}

/* ---- execution ----------------------------------------------------------------------------------------------------- */

ts_err ts_sql_exec_parquet(ts_sql_exec *x, ts_sql_plan *p, ts_table **out)
{
    const pq_source *src = p->source;
    int cols[TS_MAX_COLS];
    for (int c = 0; c < p->ncols; c++) {
        if ((cols[c] = ts_pq_dataset_find(&src->ds, p->source_names[c])) < 0)
            TS_FAIL(TS_ERR_INTERNAL, "read_parquet: no column '%s'", p->source_names[c]);
        const ts_pq_dscol *dc = &src->ds.cols[cols[c]];
        if (dc->lossy && x->ctx->rank == 0 && !x->quiet)
            fprintf(stderr, "warning: read_parquet: column '%s' is %s, wider than Tessera's 18-digit decimals: "
                    "read as DOUBLE (rounded)\n", dc->name, dc->desc);
    }
    preds *pr = calloc(1, sizeof *pr);
    if (!pr)
        TS_FAIL(TS_ERR_NOMEM, "out of memory");
    for (int i = 0; i < p->nconds; i++)
        add_pred(pr, p, src, p->conds[i]);
    const ts_pq_scan_opts o = {cols, p->ncols, pr->p, pr->n, DICT_MAX};
    ts_pq_scan_stats st;
    ts_table *t = NULL;
    const ts_err err = ts_pq_scan(x->ctx, &src->ds, &o, &t, &st);
    free(pr);
    if (err)
        return ts_sql_error_at(x->src, p->pos, err, "read_parquet: %s", ts_error_headline());
    for (int c = 0; c < t->ncols; c++)
        snprintf(t->cols[c]->name, TS_NAME_MAX, "%s", p->cols[c].id);
    snprintf(p->note, sizeof p->note, "files %d of %d, row groups %lld of %lld, %.1f MiB of column chunks", st.files_read,
             st.files, (long long)st.row_groups_read, (long long)st.row_groups, (double)st.bytes / (1 << 20));
    *out = t;
    return TS_OK;
}
