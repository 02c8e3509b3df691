/* The pipelined executor: logical plans (ts_sql_plan.h) become pipelines of physical operators
 * (engine/core/ts_op.h, engine/exec/ts_pipeline.h), built and run in dependency order on every rank.
 *
 * build(node) returns an open pipeline producing the node's rows: a source and the operators applied so far, with
 * the chunk that flows out of the last one (whose column names are the node's plan ids). Streaming nodes append
 * an operator (FILTER: a filter, PROJECT: a projection, JOIN: a probe over a table built from the right side).
 * A breaker ends its input's pipeline with a sink, runs it, and starts a new pipeline over the sink's result:
 * AGGREGATE (streaming hash aggregation, partial states merged across ranks), the build side of a JOIN, a shuffle
 * (a streaming exchange: the left side of a shuffle join, or the rows of an aggregation whose groups must meet
 * first), SORT (materialised, then the sample sort or, under a LIMIT, the top-k; under --memory-limit a sink
 * that spills sorted runs and a source merging them). Every other node kind runs on
 * the node executor (ts_sql_exec_kind) over materialised inputs, so the two executors give the same answers.
 *
 * The decisions that need global facts are taken between pipelines, identically on every rank: broadcast or
 * shuffle (the right side's global size, measured when its pipeline finished), whether an input is already
 * partitioned on the keys (recorded with the rows: ts_table.part_keys through chunk schemas), whether grouping
 * keys are nearly unique (a sample of the source table).
 *
 * Every operator's profile (time, rows, bytes, memory) is kept in x->prof, in the order operators were made (the
 * same on every rank): --profile prints it, EXPLAIN ANALYZE sums it per plan node. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ts_agg_pipe.h"
#include "ts_aggregate_dist.h"
#include "ts_expr.h"
#include "ts_join_grace.h"
#include "ts_join_pipe.h"
#include "ts_mem.h"
#include "ts_partition.h"
#include "ts_pipe_ops.h"
#include "ts_pipeline.h"
#include "ts_profile.h"
#include "ts_sort.h"
#include "ts_sort_pipe.h"
#include "ts_spill.h"
#include "ts_spill_keys.h"
#include "ts_sql_exec.h"
#include "ts_sql_parse.h"
#include "ts_sql_stats.h"
#include "ts_topk_group.h"
#include "ts_window_pipe.h"
#include "ts_xchg.h"

int ts_sql_pipelined(void)
{
    const char *e = getenv("TESSERA_EXECUTOR");
    return !e || strcmp(e, "classic") != 0;
}

#define MAX_OWN 64
#define MAX_NODES 1024

/* The statement's executor state. Operators carry the index of their plan node (ts_op.tag) in node[]; out[t] is
 * the operator whose output rows are node t's rows (EXPLAIN ANALYZE's row count). */
typedef struct phys {
    ts_sql_exec *x;
    ts_ctx *ctx;
    int npipes, nnodes;
    ts_sql_plan *node[MAX_NODES];
    const ts_op *out[MAX_NODES];
} phys;

/* An open pipeline: a source, operators so far, the chunk flowing out of the last one; and what to free once it
 * ran (operators whose job is done then, tables its source reads). */
typedef struct pipe {
    ts_pipeline pl;
    ts_chunk *tail;
    ts_op *own[MAX_OWN];
    int nown;
    ts_table *tables[8];
    int ntables;
    const ts_table *src_table; /* the source's table when no operator filtered or joined since (for samples) */
    int src_cols[TS_MAX_COLS]; /* tail column i shows src_table's column src_cols[i] (-1: computed) */
    int64_t src_rows;          /* the rows the source yields, when known before it runs (a table's, what an
                                  exchange received); else -1 */
} pipe;

static int tag_of(phys *ph, ts_sql_plan *p)
{
    for (int i = 0; i < ph->nnodes; i++)
        if (ph->node[i] == p)
            return i;
    if (ph->nnodes == MAX_NODES)
        return -1;
    ph->node[ph->nnodes] = p, ph->out[ph->nnodes] = NULL;
    return ph->nnodes++;
}

static ts_sql_plan *tag_node(const phys *ph, int tag) { return tag >= 0 && tag < ph->nnodes ? ph->node[tag] : NULL; }

/* Marks op's output rows as its node's rows. */
static void node_output(phys *ph, const ts_op *op)
{
    if (op->tag >= 0 && op->tag < ph->nnodes)
        ph->out[op->tag] = op;
}

/* Records an operator's profile (x->prof, with its node) and frees it. */
static void op_done(phys *ph, ts_op *op)
{
    if (!op)
        return;
    ts_sql_exec *x = ph->x;
    if (x->nprof == x->cap_prof) {
        const int cap = x->cap_prof ? 2 * x->cap_prof : 32;
        struct ts_sql_op_prof *g = realloc(x->prof, sizeof *g * (size_t)cap);
        if (g)
            x->prof = g, x->cap_prof = cap;
    }
    if (x->nprof < x->cap_prof) {
        struct ts_sql_op_prof *r = &x->prof[x->nprof++];
        snprintf(r->kind, sizeof r->kind, "%s", op->vt->kind);
        snprintf(r->label, sizeof r->label, "%s", op->label);
        r->prof = op->prof, r->node = tag_node(ph, op->tag);
        r->output = op->tag >= 0 && op->tag < ph->nnodes && ph->out[op->tag] == op;
    }
    ts_op_free(op);
}

static void free_pipe(phys *ph, pipe *pp)
{
    for (int i = 0; i < pp->nown; i++)
        op_done(ph, pp->own[i]);
    for (int i = 0; i < pp->ntables; i++)
        ts_table_free(pp->tables[i]);
    memset(pp, 0, sizeof *pp);
}

static ts_err own_op(pipe *pp, ts_op *op)
{
    if (pp->nown == MAX_OWN) {
        ts_op_free(op);
        TS_FAIL(TS_ERR_USAGE, "a pipeline of more than %d operators", MAX_OWN);
    }
    pp->own[pp->nown++] = op;
    return TS_OK;
}

static ts_err add_op(phys *ph, pipe *pp, ts_op *op, ts_sql_plan *node)
{
    op->tag = tag_of(ph, node);
    node_output(ph, op);
    TS_TRY(own_op(pp, op));
    TS_TRY(ts_pipeline_add(&pp->pl, op));
    pp->tail = op->out ? op->out : pp->tail;
    return TS_OK;
}

/* Starts pipeline pp (its previous contents ignored) with source operator src, the output of plan node `node`.
 * pp owns src from here on, even on failure. The caller names the pipeline. */
static ts_err start_source(phys *ph, pipe *pp, ts_op *src, ts_sql_plan *node)
{
    memset(pp, 0, sizeof *pp);
    pp->src_rows = -1;
    src->tag = tag_of(ph, node);
    node_output(ph, src);
    TS_TRY(own_op(pp, src));
    pp->pl.source = src, pp->tail = src->out;
    return TS_OK;
}

/* Starts pipeline pp with a source over table t (owned: freed once the pipeline ran, or here on failure). */
static ts_err start_table(phys *ph, pipe *pp, ts_table *t, int owned, const int *cols, const char *const *names,
                          int n, ts_sql_plan *node)
{
    ts_op *src;
    memset(pp, 0, sizeof *pp); /* empty on failure too */
    ts_err err = ts_table_source_new(t, cols, names, n, &src);
    if (!err)
        err = start_source(ph, pp, src, node);
    if (err) {
        if (owned)
            ts_table_free(t);
        return err;
    }
    if (owned)
        pp->tables[pp->ntables++] = t;
    pp->src_table = t, pp->src_rows = ts_table_rows(t);
    for (int i = 0; i < src->out->schema.ncols; i++)
        pp->src_cols[i] = cols ? cols[i] : i;
    snprintf(pp->pl.name, sizeof pp->pl.name, "scan %.80s", t->name);
    return TS_OK;
}

static ts_err on_error(void *arg, ts_op *op, ts_err err)
{
    phys *ph = arg;
    const ts_sql_plan *p = tag_node(ph, op ? op->tag : -1);
    if (!p)
        return err;
    if (p->kind == TS_P_AGGREGATE) /* the failing aggregate's own call, when the message names it */
        return ts_sql_agg_error(ph->x, p, err);
    ts_sql_pos pos = p->pos;
    if (p->kind == TS_P_FILTER && p->nconds)
        pos = p->conds[0]->pos;
    return ts_sql_located(ph->x, pos, err);
}

/* Runs pipeline pp into sink (which the caller keeps and frees); pp's own operators and tables are freed. */
static ts_err run(phys *ph, pipe *pp, ts_op *sink, ts_sql_plan *node)
{
    sink->tag = tag_of(ph, node);
    pp->pl.sink = sink;
    pp->pl.on_error = on_error, pp->pl.on_error_arg = ph;
    char name[96];
    snprintf(name, sizeof name, "pipeline %d: %s -> %s", ++ph->npipes, pp->pl.source->vt->kind, sink->vt->kind);
    memcpy(pp->pl.name, name, sizeof name);
    const ts_err err = ts_pipeline_run(ph->ctx, &pp->pl);
    free_pipe(ph, pp);
    return err;
}

/* ---- expressions ------------------------------------------------------------------------------------------------ */

static ts_err compile(phys *ph, const ts_sql_expr *e, ts_expr **out)
{
    return ts_sql_compile(ph->x, e, out);
}

/* ---- nodes ---------------------------------------------------------------------------------------------------------- */

static ts_err build(phys *ph, ts_sql_plan *p, pipe *out);

/* Whether the pipeline only reads a table it owns through projections that pass its columns on unchanged
 * (renamed, reordered, some dropped; each at most once). */
static int passes_owned_table(const pipe *pp)
{
    const ts_table *src = pp->src_table;
    if (!src || src->borrowed || pp->ntables != 1 || pp->tables[0] != src)
        return 0; /* a view's columns belong to its table (read_h5's file, the catalog): copied, never moved */
    for (int i = 0; i < pp->pl.nops; i++)
        if (strcmp(pp->pl.ops[i]->vt->kind, "project"))
            return 0;
    uint8_t used[TS_MAX_COLS] = {0};
    for (int i = 0; i < pp->tail->schema.ncols; i++) {
        const int c = pp->src_cols[i];
        if (c < 0 || c >= src->ncols || used[c]++)
            return 0;
    }
    return 1;
}

/* The owned source table's columns as the pipeline's output (moved, renamed; the others freed): what the
 * materialising sink would have copied. */
static ts_err give_up_table(phys *ph, pipe *pp, ts_table **out)
{
    ts_table *src = pp->tables[0], *t = NULL;
    const int64_t rows = ts_table_rows(src);
    /* the recorded sort order survives as far as its keys are output: the longest prefix, under the new names */
    const char *sorted[8];
    int nsorted = 0;
    for (int k = 0; k < src->nsort && nsorted == k; k++)
        for (int i = 0; i < pp->tail->schema.ncols; i++)
            if (!strcmp(src->cols[pp->src_cols[i]]->name, src->sort_keys[k]))
                sorted[nsorted++] = pp->tail->col[i].name;
    ts_err err = ts_table_new("rows", &t);
    for (int i = 0; !err && i < pp->tail->schema.ncols; i++) {
        ts_column *c = src->cols[pp->src_cols[i]];
        src->cols[pp->src_cols[i]] = NULL; /* t owns it now (ts_table_free skips NULL columns) */
        snprintf(c->name, sizeof c->name, "%s", pp->tail->col[i].name);
        err = ts_table_adopt(t, c);
    }
    if (!err) {
        t->npart = pp->tail->schema.npart;
        memcpy(t->part_keys, pp->tail->schema.part_keys, sizeof t->part_keys);
        ts_table_set_sorted(t, sorted, nsorted);
        for (int i = 0; i < pp->pl.nops; i++) /* what their profile would have counted */
            pp->pl.ops[i]->prof.rows_in = pp->pl.ops[i]->prof.rows_out = rows;
        pp->pl.source->prof.rows_out = rows;
        *out = t;
    } else {
        ts_table_free(t);
    }
    free_pipe(ph, pp);
    return err;
}

/* Runs the pipeline into a materialising sink: the node's rows as an owned table. A pipeline that only passes
 * on a table it owns gives that table's columns up instead (no copy). */
/* The node's own columns when its pipeline carries more (the columns a filter or a join read that nothing above
 * needs: TPC-H q13's order comments), so that materialising does not copy them: a projection of views. */
static ts_err drop_unneeded(phys *ph, pipe *pp, ts_sql_plan *node)
{
    if (!node->ncols || node->ncols >= pp->tail->schema.ncols)
        return TS_OK;
    for (int i = 0; i < node->ncols; i++)
        if (!ts_table_col(&pp->tail->schema, node->cols[i].id))
            return TS_OK; /* not a plain subset: keep everything */
    ts_expr *ex[TS_MAX_COLS] = {0};
    const char *names[TS_MAX_COLS];
    ts_err err = TS_OK;
    for (int i = 0; !err && i < node->ncols; i++) {
        names[i] = node->cols[i].id;
        if (!(ex[i] = ts_x_col(names[i])))
            err = ts_error_raise(TS_ERR_NOMEM, __FILE__, __LINE__, __func__, "out of memory");
    }
    ts_op *op = NULL;
    if (!err)
        err = ts_project_new(pp->tail, (const ts_expr *const *)ex, names, node->ncols, "project: needed columns", &op);
    for (int i = 0; i < node->ncols; i++)
        ts_expr_free(ex[i]);
    return err ? err : add_op(ph, pp, op, node); /* the pipe owns op even when adding fails */
}

static ts_err materialize(phys *ph, pipe *pp, ts_sql_plan *node, ts_table **out)
{
    ts_op *sink;
    *out = NULL;
    if (passes_owned_table(pp))
        return give_up_table(ph, pp, out);
    ts_err derr = drop_unneeded(ph, pp, node);
    if (derr) {
        free_pipe(ph, pp);
        return derr;
    }
    ts_err err = ts_materialize_new(pp->tail, "rows", &sink);
    if (err) {
        free_pipe(ph, pp);
        return err;
    }
    if (ph->ctx->mem_limit) /* a result larger than an operator's share goes to a cold table */
        ts_materialize_set_cold(sink, ts_spill_dir(ph->ctx->spill_dir), ph->ctx->op_room);
    err = run(ph, pp, sink, node);
    if (!err)
        *out = ts_materialize_take(sink);
    op_done(ph, sink);
    return err;
}

static ts_err on_node_executor(phys *ph, ts_sql_plan *p, ts_table *in0, ts_table *in1, pipe *out);

/* A node the node executor runs: its inputs materialised by their pipelines, then ts_sql_exec_kind. */
static ts_err fallback(phys *ph, ts_sql_plan *p, pipe *out)
{
    ts_table *in[2] = {NULL, NULL};
    ts_err err = TS_OK;
    for (int i = 0; i < 2 && !err; i++) {
        if (!p->in[i])
            continue;
        pipe child;
        err = build(ph, p->in[i], &child);
        if (!err)
            err = materialize(ph, &child, p->in[i], &in[i]);
    }
    if (err) {
        ts_table_free(in[0]), ts_table_free(in[1]);
        return err;
    }
    return on_node_executor(ph, p, in[0], in[1], out);
}

/* Runs p on the node executor over materialised inputs (consumed) and starts *out over its result. */
static ts_err on_node_executor(phys *ph, ts_sql_plan *p, ts_table *in0, ts_table *in1, pipe *out)
{
    ts_table *res = NULL;
    const double t0 = ts_now();
    TS_TRY(ts_sql_exec_kind(ph->x, p, in0, in1, &res));
    ts_op *rec; /* the node's own time and rows, as a profile entry */
    static const ts_op_vt NODE = {.kind = "node"};
    if (!ts_op_alloc(sizeof(ts_op), &NODE, "node executor", &rec)) {
        rec->prof.seconds = ts_now() - t0, rec->prof.rows_out = ts_table_rows(res);
        rec->tag = tag_of(ph, p);
        op_done(ph, rec);
    }
    return start_table(ph, out, res, 1, NULL, NULL, 0, p);
}

static ts_err build_catalog(phys *ph, ts_sql_plan *p, pipe *out)
{
    const ts_sql_entry *e = ts_sql_catalog_find(ph->x->catalog, p->table);
    if (!e || !e->table)
        TS_FAIL(TS_ERR_USAGE, "table '%s' was dropped while a query used it", p->table);
    int idx[TS_MAX_COLS];
    const char *names[TS_MAX_COLS];
    for (int i = 0; i < p->ncols; i++) {
        idx[i] = -1;
        for (int c = 0; c < e->table->ncols; c++)
            if (!strcmp(e->table->cols[c]->name, p->source_names[i]))
                idx[i] = c;
        if (idx[i] < 0)
            TS_FAIL(TS_ERR_INTERNAL, "table '%s' has no column '%s'", p->table, p->source_names[i]);
        names[i] = p->cols[i].id;
    }
    return start_table(ph, out, e->table, 0, idx, names, p->ncols, p);
}

static ts_err build_filter(phys *ph, ts_sql_plan *p, pipe *out)
{
    TS_TRY(build(ph, p->in[0], out));
    ts_expr **conds = calloc((size_t)p->nconds + 1, sizeof *conds);
    ts_err err = conds ? TS_OK : ts_error_raise(TS_ERR_NOMEM, __FILE__, __LINE__, __func__, "out of memory");
    for (int i = 0; !err && i < p->nconds; i++)
        err = compile(ph, p->conds[i], &conds[i]);
    ts_op *op = NULL;
    char label[64];
    snprintf(label, sizeof label, "filter: %d condition%s", p->nconds, p->nconds == 1 ? "" : "s");
    if (!err)
        err = ts_filter_new(out->tail, (const ts_expr *const *)conds, p->nconds, label, &op);
    for (int i = 0; conds && i < p->nconds; i++)
        ts_expr_free(conds[i]);
    free(conds);
    if (!err)
        err = add_op(ph, out, op, p);
    if (err) {
        free_pipe(ph, out);
        return p->nconds ? ts_sql_located(ph->x, p->conds[0]->pos, err) : err;
    }
    out->src_table = NULL; /* rows are filtered: the source table no longer describes them */
    return TS_OK;
}

static ts_err build_project(phys *ph, ts_sql_plan *p, pipe *out)
{
    TS_TRY(build(ph, p->in[0], out));
    ts_expr *ex[TS_MAX_COLS] = {0};
    const char *names[TS_MAX_COLS];
    ts_err err = TS_OK;
    int bad = -1;
    for (int i = 0; !err && i < p->ncols; i++) {
        names[i] = p->cols[i].id;
        err = compile(ph, p->exprs[i], &ex[i]);
        bad = err ? i : -1;
    }
    ts_op *op = NULL;
    char label[64];
    snprintf(label, sizeof label, "project: %d column%s", p->ncols, p->ncols == 1 ? "" : "s");
    if (!err) {
        for (int i = 0; !err && i < p->ncols; i++) { /* bind each alone first: an error names its expression */
            ts_expr_bound *b;
            const char *col = ts_expr_column_name(ex[i]);
            if (col && ts_table_col(&out->tail->schema, col))
                continue;
            err = ts_expr_bind(ex[i], &out->tail->schema, &b);
            ts_expr_unbind(b);
            bad = err ? i : -1;
        }
    }
    if (!err)
        err = ts_project_new(out->tail, (const ts_expr *const *)ex, names, p->ncols, label, &op);
    for (int i = 0; i < p->ncols; i++)
        ts_expr_free(ex[i]);
    int src_cols[TS_MAX_COLS];
    for (int i = 0; !err && i < p->ncols; i++) { /* which source columns the projection passes on */
        const char *col = p->exprs[i]->kind == TS_SQL_E_COLUMN ? p->exprs[i]->name : NULL;
        src_cols[i] = -1;
        for (int c = 0; col && out->src_table && c < out->tail->schema.ncols; c++)
            if (!strcmp(out->tail->col[c].name, col))
                src_cols[i] = out->src_cols[c];
    }
    if (!err)
        err = add_op(ph, out, op, p);
    if (err) {
        free_pipe(ph, out);
        return bad >= 0 ? ts_sql_located(ph->x, p->exprs[bad]->pos, err) : err;
    }
    memcpy(out->src_cols, src_cols, sizeof(int) * (size_t)p->ncols);
    return TS_OK;
}

/* ---- aggregation ------------------------------------------------------------------------------------------------- */

/* Whether the grouping keys look nearly unique (then rows move once instead of partial states twice): sampled
 * from the source table when the keys are its columns and nothing filtered the rows. Collective. */
static ts_err keys_mostly_distinct(phys *ph, const pipe *pp, const ts_sql_agg_setup *a, int nkeys, int *out,
                                   int64_t *expected)
{
    *out = 0;
    const char *src_keys[TS_MAX_COLS];
    int ok = pp->src_table != NULL && nkeys > 0;
    for (int k = 0; ok && k < nkeys; k++) {
        int c = 0;
        while (c < pp->tail->schema.ncols && strcmp(pp->tail->col[c].name, a->keys[k]))
            c++;
        ok = c < pp->tail->schema.ncols && pp->src_cols[c] >= 0;
        if (ok)
            src_keys[k] = pp->src_table->cols[pp->src_cols[c]]->name;
    }
    if (!ok) /* the same on every rank: the plan is */
        return TS_OK;
    double ratio = 0;
    TS_TRY(ts_aggregate_mostly_distinct(ph->ctx, pp->src_table, src_keys, nkeys, out, &ratio));
    *expected = (int64_t)(ratio * (double)ts_table_rows(pp->src_table) * 1.2);
    return TS_OK;
}

/* Narrows the pipeline to the named columns (views, no copy): what an exchange must carry. */
static ts_err keep_columns(phys *ph, pipe *pp, const char *const *names, int n, ts_sql_plan *node)
{
    ts_expr *ex[TS_MAX_COLS];
    for (int i = 0; i < n; i++)
        if (!(ex[i] = ts_x_col(names[i]))) {
            for (int k = 0; k < i; k++)
                ts_expr_free(ex[k]);
            TS_FAIL(TS_ERR_NOMEM, "out of memory");
        }
    int src_cols[TS_MAX_COLS]; /* which source columns the narrowed tail shows */
    for (int i = 0; i < n; i++) {
        src_cols[i] = -1;
        for (int c = 0; pp->src_table && c < pp->tail->schema.ncols; c++)
            if (!strcmp(pp->tail->col[c].name, names[i]))
                src_cols[i] = pp->src_cols[c];
    }
    ts_op *op = NULL;
    ts_err err = ts_project_new(pp->tail, (const ts_expr *const *)ex, names, n, "project: the exchanged columns", &op);
    for (int i = 0; i < n; i++)
        ts_expr_free(ex[i]);
    if (!err)
        err = add_op(ph, pp, op, node);
    if (!err)
        memcpy(pp->src_cols, src_cols, sizeof(int) * (size_t)n);
    return err;
}

static int has_name(const char *const *names, int n, const char *s)
{
    for (int i = 0; i < n; i++)
        if (!strcmp(names[i], s))
            return 1;
    return 0;
}

/* Sends the pipeline's rows to ranks by the hash of keys (no keys: all to rank 0) with a streaming exchange and
 * starts *out over what this rank received. */
static ts_err shuffle(phys *ph, pipe *pp, const char *const *keys, int nkeys, ts_sql_plan *node, pipe *out)
{
    ts_op *sink = NULL;
    const ts_xchg_opts to_root = {0, 0, 0};
    ts_err err = ts_xchg_sink_new(ph->ctx, pp->tail, keys, nkeys, nkeys ? NULL : &to_root, &sink);
    if (err) {
        free_pipe(ph, pp);
        return err;
    }
    err = run(ph, pp, sink, node);
    ts_op *src = NULL;
    if (!err)
        err = ts_xchg_source_new(sink, &src);
    memset(out, 0, sizeof *out);
    if (err) {
        op_done(ph, sink);
        return err;
    }
    src->tag = tag_of(ph, node);
    ts_xchg_stats st;
    ts_xchg_get_stats(sink, &st);
    out->src_rows = st.rows_kept + st.rows_received;
    own_op(out, sink); /* the source reads the sink's received messages: both go when the next pipeline ran */
    TS_TRY(own_op(out, src));
    out->pl.source = src, out->tail = src->out;
    return TS_OK;
}

static ts_err build_aggregate_streaming(phys *ph, ts_sql_plan *p, pipe *inp, const ts_sql_agg_setup *ap, pipe *out);

/* Groups per rank the aggregation expects: the sample's estimate when the keys are a source table's columns (and
 * *distinct, whether they look nearly unique), else the optimizer's. Collective (the sample). */
static int64_t agg_estimate(phys *ph, const ts_sql_plan *p, const pipe *in, const ts_sql_agg_setup *a, int *distinct,
                            ts_err *err)
{
    int64_t expected = p->est_rows > 0 ? (int64_t)(p->est_rows / ph->ctx->size) : 0;
    *distinct = 0;
    if (ts_agg_decomposable(a->aggs, a->naggs))
        *err = keys_mostly_distinct(ph, in, a, p->nkeys, distinct, &expected);
    return expected;
}

/* The groups the aggregation's tables start sized for (they grow past it, rehashing stored hashes): the estimate,
 * bounded by what is known of the input. Groups never outnumber rows, and a pipeline still over a table, or
 * straight over what an exchange received, has a known number of them; rows behind a filter or a join's probe
 * are counted by no one before they flow, and the estimate may be off by orders of magnitude there (TPC-H q18's
 * last aggregation: 750 000 groups a rank planned, about 100 found), so those tables start at AGG_START_GROUPS
 * and grow on demand. */
#define AGG_START_GROUPS (INT64_C(1) << 14)
static int64_t agg_start_groups(const pipe *in, int64_t estimate)
{
    const int64_t rows = in->src_table ? ts_table_rows(in->src_table) : in->pl.nops == 0 ? in->src_rows : -1;
    const int64_t bound = rows >= 0 ? rows : AGG_START_GROUPS;
    const int64_t n = estimate < bound ? estimate : bound;
    return n > (INT64_C(1) << 26) ? INT64_C(1) << 26 : n;
}

static ts_err build_aggregate(phys *ph, ts_sql_plan *p, pipe *out)
{
    pipe in;
    TS_TRY(build(ph, p->in[0], &in));
    uint8_t *nullable = malloc((size_t)p->naggs + 1);
    ts_sql_agg_setup a = {0};
    ts_err err = nullable ? TS_OK : ts_error_raise(TS_ERR_NOMEM, __FILE__, __LINE__, __func__, "out of memory");
    if (!err) {
        memset(nullable, 1, (size_t)p->naggs + 1); /* unknown before the rows flow: count beside every SUM */
        err = ts_sql_agg_prepare(p, nullable, &a);
    }
    free(nullable);
    if (err) {
        free_pipe(ph, &in);
        return err;
    }
    if (!ts_agg_stream_supports(&in.tail->schema, a.aggs, a.naggs, 0)) {
        ts_sql_agg_setup_free(&a);
        ts_table *t;
        TS_TRY(materialize(ph, &in, p->in[0], &t));
        ts_table *res;
        TS_TRY(ts_sql_exec_kind(ph->x, p, t, NULL, &res));
        return start_table(ph, out, res, 1, NULL, NULL, 0, p);
    }
    err = build_aggregate_streaming(ph, p, &in, &a, out);
    ts_sql_agg_setup_free(&a);
    return err;
}

/* The aggregation of build_aggregate when the streaming operators support it. */
static ts_err build_aggregate_streaming(phys *ph, ts_sql_plan *p, pipe *inp, const ts_sql_agg_setup *ap, pipe *out)
{
    pipe in = *inp;
    const ts_sql_agg_setup a = *ap;
    ts_ctx *ctx = ph->ctx;
    const int local = ctx->size == 1 || ts_partitioned_on(&in.tail->schema, a.keys, p->nkeys);
    int distinct = 0;
    ts_err err = TS_OK;
    const int64_t estimate = agg_estimate(ph, p, &in, &a, &distinct, &err);
    distinct = distinct && !local;
    const char *part[8];
    int npart = 0;
    if (local && ctx->size > 1) {
        snprintf(p->run_note, sizeof p->run_note, "input already hash-partitioned on a subset of the keys: aggregated "
                 "locally, no exchange");
        npart = in.tail->schema.npart;
        for (int k = 0; k < npart; k++)
            part[k] = in.tail->schema.part_keys[k];
    } else if (local) {
        npart = p->nkeys > 8 ? 0 : p->nkeys;
        for (int k = 0; k < npart; k++)
            part[k] = a.keys[k];
    }
    int routed = 0;
    if (!err && !local && (distinct || !ts_agg_decomposable(a.aggs, a.naggs))) { /* rows meet first */
        const char *cols[2 * TS_MAX_COLS];
        int n = 0;
        for (int k = 0; k < p->nkeys; k++)
            if (!has_name(cols, n, a.keys[k]))
                cols[n++] = a.keys[k];
        for (int i = 0; i < a.naggs; i++) {
            const char *need[3] = {a.aggs[i].input, a.aggs[i].where, a.aggs[i].order};
            for (int j = 0; j < 3; j++)
                if (need[j] && !has_name(cols, n, need[j]) && n < TS_MAX_COLS)
                    cols[n++] = need[j];
        }
        err = keep_columns(ph, &in, cols, n, p);
        pipe moved;
        if (!err)
            err = shuffle(ph, &in, a.keys, p->nkeys, p, &moved);
        if (err)
            return err;
        in = moved;
        routed = 1, npart = p->nkeys > 8 ? 0 : p->nkeys;
        for (int k = 0; k < npart; k++)
            part[k] = a.keys[k];
        snprintf(p->run_note, sizeof p->run_note, "%s: rows exchanged by key hash (streaming), then aggregated",
                 distinct ? "nearly one group a row" : "exact quantiles / distinct counts");
    } else if (!err && !local) {
        snprintf(p->run_note, sizeof p->run_note, "partial aggregates per rank, states exchanged by key hash, merged");
    }
    if (err) {
        free_pipe(ph, &in);
        return err;
    }
    ts_op *sink = NULL;
    err = ts_agg_pipe_new(ctx, in.tail, a.keys, p->nkeys, a.aggs, a.naggs, !local && !routed, part, npart,
                          agg_start_groups(&in, estimate), &sink);
    if (err) {
        free_pipe(ph, &in);
        return ts_sql_agg_error(ph->x, p, err);
    }
    err = run(ph, &in, sink, p);
    ts_table *res = err ? NULL : ts_agg_pipe_take(sink);
    const int rounds = ts_agg_pipe_grace_rounds(sink);
    if (rounds > 0) {
        const size_t used = strlen(p->run_note);
        snprintf(p->run_note + used, sizeof p->run_note - used, "; over its share: input rows spilled by key hash, "
                 "%d rounds", rounds);
    }
    op_done(ph, sink);
    if (!err)
        err = ts_sql_agg_fixup(ph->x, p, &a, res);
    if (err) {
        ts_table_free(res);
        return ts_sql_agg_error(ph->x, p, err);
    }
    return start_table(ph, out, res, 1, NULL, NULL, 0, p);
}

/* ---- joins ---------------------------------------------------------------------------------------------------------- */

/* The joins the pipelined operators compute exactly as the node executor does: equality keys (at most 8, NULL
 * never matching NULL), no NOT IN rules; inner, left, semi and anti joins probe a table built on the right side
 * (semi / anti: or on the left, when it is smaller); right and full joins mark the right rows they matched. The
 * rest (cross joins, null_equal keys, NOT IN) run on the node executor; so do joins whose key types differ
 * (below, once the inputs' types are known). */
static int pipelined_join(const ts_sql_plan *p)
{
    return p->kind == TS_P_JOIN && !p->cross && p->njoin_keys > 0 && p->njoin_keys <= 8 &&
           (!p->not_in || (p->join_type == TS_JOIN_ANTI && p->njoin_keys == 1)) && !p->null_equal;
}

/* 1 when key columns a and b compare without a conversion: the node executor converts keys of different kinds
 * (an integer against a DOUBLE, decimals of different scales, a DATE against a TIMESTAMP, ...) before joining. */
static int same_key_kind(const ts_column *a, const ts_column *b)
{
    if (!a || !b)
        return 0;
    if (a->type == b->type)
        return a->type != TS_T_DECIMAL || a->scale == b->scale;
    const int ta = a->type == TS_T_STRING || a->type == TS_T_DICT, tb = b->type == TS_T_STRING || b->type == TS_T_DICT;
    const int ia = a->type == TS_T_INT32 || a->type == TS_T_INT64, ib = b->type == TS_T_INT32 || b->type == TS_T_INT64;
    return (ta && tb) || (ia && ib);
}

static int keys_comparable(const ts_sql_plan *p, const pipe *left, const pipe *right)
{
    for (int k = 0; k < p->njoin_keys; k++)
        if (!same_key_kind(ts_table_col(&left->tail->schema, p->left_keys[k]),
                           ts_table_col(&right->tail->schema, p->right_keys[k])))
            return 0;
    return 1;
}

/* A join the node executor runs over both inputs' pipelines (opened already), materialised. */
static ts_err join_on_node_executor(phys *ph, ts_sql_plan *p, pipe *left, pipe *right, pipe *out)
{
    ts_table *l = NULL, *r = NULL;
    ts_err err = materialize(ph, left, p->in[0], &l);
    if (err) {
        free_pipe(ph, right);
        return err;
    }
    err = materialize(ph, right, p->in[1], &r);
    if (err) {
        ts_table_free(l);
        return err;
    }
    return on_node_executor(ph, p, l, r, out);
}

/* A semi / anti join whose left side is estimated smaller builds its table on the left side and streams the right
 * side through a mark sink (DuckDB's right semi join; TPC-H q04: 57 thousand orders against 3.8 million line
 * items, q22's customers against every order). */
static int semi_left_smaller(const ts_sql_plan *p)
{
    const double l = p->in[0]->est_rows, r = p->in[1]->est_rows;
    return (p->join_type == TS_JOIN_SEMI || p->join_type == TS_JOIN_ANTI) && !p->not_in && l >= 0 && r > l;
}

/* The left build does not spill (its marks need every left row at once), so under --memory-limit it is taken only
 * when the left side's estimate fits an operator's share eight times over (room for a misestimate and the hash
 * table); otherwise the join builds on the right side, whose spilling the grace join handles. TPC-H SF 10 q04 under
 * 3G built 19 million line items (9.6 s) for 0.6 million orders. */
static int build_on_left(const phys *ph, const ts_sql_plan *p)
{
    return semi_left_smaller(p) && (!ph->ctx->mem_limit || 8 * ts_sql_est_bytes(p->in[0]) <= (double)ph->ctx->op_room);
}

/* NOT IN's rules on NULLs, as a filter before the anti join's probe (the build side's rows with a NULL key are
 * kept, so they can be counted): any NULL on the right and no row passes; a non-empty right side and left rows
 * with a NULL key do not pass; an empty right side and every row passes. */
static ts_err not_in_rules(phys *ph, ts_sql_plan *p, pipe *left, const ts_op *bop)
{
    const ts_table *rows = ts_join_build_rows(bop);
    const ts_column *key = ts_table_col(rows, p->right_keys[0]);
    int64_t counts[2] = {0, ts_table_rows(rows)}; /* NULL keys, rows */
    for (int64_t i = 0; key && key->valid && i < key->len; i++)
        counts[0] += !ts_column_is_valid(key, i);
    if (!ts_join_build_broadcast(bop)) /* each rank holds a part: the sums are global (a broadcast side is whole) */
        TS_MPI(MPI_Allreduce(MPI_IN_PLACE, counts, 2, MPI_INT64_T, MPI_SUM, ph->ctx->comm));
    if (!counts[1])
        return TS_OK;
    ts_expr *cond = counts[0] ? ts_x_bool(0) : ts_x_op(TS_X_NOT, ts_x_op(TS_X_IS_NULL, ts_x_col(p->left_keys[0]), NULL), NULL);
    ts_op *op = NULL;
    ts_err err = cond ? ts_filter_new(left->tail, (const ts_expr *const *)&cond, 1,
                                      counts[0] ? "NOT IN: the subquery has a NULL, no row passes"
                                                : "NOT IN: a NULL key never passes", &op)
                      : ts_error_raise(TS_ERR_NOMEM, __FILE__, __LINE__, __func__, "out of memory");
    ts_expr_free(cond);
    return err ? err : add_op(ph, left, op, p);
}

/* The build side: runs pipeline *side into a join-build sink on keys (the broadcast / shuffle decision is taken
 * there, collectively); *bop then holds the table and its rows. names: the side's column names (its chunks go
 * when the pipeline ran). */
static ts_err run_build(phys *ph, ts_sql_plan *p, pipe *side, char *const *keys, int keep_null_keys, ts_op **bop,
                        char names[][TS_NAME_MAX], int *nnames)
{
    *bop = NULL, *nnames = 0;
    int strategy;
    int64_t limit = ts_sql_broadcast_limit(&strategy);
    if (ph->ctx->mem_limit && strategy == TS_JOIN_AUTO) { /* every rank holds a broadcast side whole, hashed */
        const int64_t cap = ph->ctx->op_room / 3 > 0 ? ph->ctx->op_room / 3 : 1, usual = limit ? limit : 64 << 20;
        limit = usual < cap ? usual : cap;
    }
    ts_err err = ts_join_build_new(ph->ctx, side->tail, (const char *const *)keys, p->njoin_keys,
                                   (ts_join_strategy)strategy, limit, bop);
    if (err) {
        free_pipe(ph, side);
        return err;
    }
    if (keep_null_keys)
        ts_join_build_keep_null_keys(*bop);
    if (p->join_type == TS_JOIN_SEMI || p->join_type == TS_JOIN_ANTI) /* no right column is read */
        ts_join_build_keys_only(*bop);
    if (side->src_table) /* the chunks are views of a table that outlives the build pipeline's finish */
        ts_join_build_input_in_place(*bop);
    for (int c = 0; c < side->tail->schema.ncols; c++)
        memcpy(names[(*nnames)++], side->tail->col[c].name, TS_NAME_MAX);
    err = run(ph, side, *bop, p);
    if (err) {
        op_done(ph, *bop);
        *bop = NULL;
    }
    return err;
}

/* A join side moved to the rank its keys hash to (a streaming exchange), unless it is partitioned on exactly those
 * keys already. */
static ts_err shuffle_on_keys(phys *ph, ts_sql_plan *p, pipe *side, char *const *keys)
{
    if (ts_partitioned_on(&side->tail->schema, (const char *const *)keys, p->njoin_keys) &&
        side->tail->schema.npart == p->njoin_keys)
        return TS_OK;
    pipe moved;
    TS_TRY(shuffle(ph, side, (const char *const *)keys, p->njoin_keys, p, &moved));
    *side = moved;
    return TS_OK;
}

/* The probe side of a join: it moves too when the build side was shuffled by its keys. */
static ts_err route_probe(phys *ph, ts_sql_plan *p, const ts_op *bop, pipe *side, char *const *keys)
{
    return ts_join_build_broadcast(bop) ? TS_OK : shuffle_on_keys(ph, p, side, keys);
}

static void join_note(ts_sql_plan *p, const ts_op *bop, const char *built)
{
    const int broadcast = ts_join_build_broadcast(bop);
    snprintf(p->run_note, sizeof p->run_note, "%s join, %s side %.1f MiB%s", broadcast ? "broadcast" : "shuffle", built,
             (double)ts_join_build_global_bytes(bop) / (1 << 20),
             broadcast ? "" : ", the other side's rows exchanged by key hash (streaming)");
}

/* Semi / anti join built on the left side: the right rows mark the left rows they match; the answer is the
 * marked (semi) or unmarked (anti: also the rows with a NULL key, which match nothing) left rows. */
static ts_err build_semi_on_left(phys *ph, ts_sql_plan *p, pipe *out)
{
    pipe left, right;
    TS_TRY(build(ph, p->in[0], &left));
    ts_err err = build(ph, p->in[1], &right);
    if (err) {
        free_pipe(ph, &left);
        return err;
    }
    if (!keys_comparable(p, &left, &right))
        return join_on_node_executor(ph, p, &left, &right, out);
    ts_op *bop = NULL, *mark = NULL;
    char names[TS_MAX_COLS][TS_NAME_MAX];
    int nnames;
    err = run_build(ph, p, &left, p->left_keys, p->join_type == TS_JOIN_ANTI, &bop, names, &nnames);
    if (err) {
        free_pipe(ph, &right);
        return err;
    }
    const ts_table *rows = ts_join_build_rows(bop);
    uint8_t *matched = ts_big_zero((size_t)ts_table_rows(rows) + 1);
    err = ts_ctx_check(ph->ctx, matched ? TS_OK : ts_error_raise(TS_ERR_NOMEM, __FILE__, __LINE__, __func__,
                                                                "out of memory for a semi join's marks"));
    if (!err)
        err = route_probe(ph, p, bop, &right, p->right_keys);
    if (!err)
        err = ts_join_mark_new(right.tail, ts_join_build_table(bop), (const char *const *)p->right_keys, matched,
                               &mark);
    if (!err) {
        node_output(ph, mark);
        err = run(ph, &right, mark, p);
    } else {
        free_pipe(ph, &right);
    }
    ts_table *res = NULL;
    if (!err)
        err = ts_join_build_select_marked(bop, ph->ctx, matched, p->join_type == TS_JOIN_SEMI, &res);
    err = ts_ctx_check(ph->ctx, err);
    if (!err) {
        mark->prof.rows_out = ts_table_rows(res);
        join_note(p, bop, "left (smaller)");
    }
    ts_free(matched);
    op_done(ph, mark), op_done(ph, bop);
    return err ? err : start_table(ph, out, res, 1, NULL, NULL, 0, p);
}

/* The probe of a join built on the right side: appended to the left pipeline (left rows flow through it). Right
 * and full joins probe as inner / left joins and then drain the right rows they never matched. */
static ts_err add_probe(phys *ph, ts_sql_plan *p, pipe *left, ts_op *bop, char names[][TS_NAME_MAX], int nnames)
{
    const char *cols[TS_MAX_COLS];
    for (int c = 0; c < nnames; c++)
        cols[c] = names[c];
    ts_op *probe = NULL;
    const char *const *keys = (const char *const *)p->left_keys;
    ts_err err = p->join_type == TS_JOIN_RIGHT || p->join_type == TS_JOIN_FULL
                     ? ts_join_outer_probe_new(left->tail, bop, p->join_type, keys, cols, cols, nnames, &probe)
                     : ts_join_probe_new(left->tail, ts_join_build_table(bop), ts_join_build_rows(bop), p->join_type,
                                         keys, cols, cols, nnames, &probe);
    if (err)
        return err;
    probe->tag = tag_of(ph, p);
    node_output(ph, probe);
    err = ts_pipeline_add(&left->pl, probe);
    if (err) {
        ts_op_free(probe);
        return err;
    }
    TS_TRY(own_op(left, probe));
    left->tail = probe->out ? probe->out : left->tail;
    return TS_OK;
}

/* Records that a join's output rows lie where their left keys hash (both sides were moved by key hash; pipelined
 * joins have at most 8 keys, pipelined_join). */
static void partitioned_on_left_keys(ts_chunk *c, const ts_sql_plan *p)
{
    const char *part[8];
    for (int k = 0; k < p->njoin_keys; k++)
        part[k] = p->left_keys[k];
    ts_table_set_partitioned(&c->schema, part, p->njoin_keys);
}

/* The grace hash join (the build side outgrew its share of --memory-limit and was spilled by key hash, right_spill):
 * the left rows are shuffled like the right ones, spilled alike, and *out starts over a source joining the
 * partition pairs a round at a time (dist/ts_join_grace.h). */
static ts_err grace_join(phys *ph, ts_sql_plan *p, pipe *left, ts_spill *right_spill, const char *const *right_cols,
                         int nright, pipe *out)
{
    ts_err err = ph->ctx->size > 1 ? shuffle_on_keys(ph, p, left, p->left_keys) : TS_OK;
    ts_op *sink = NULL;
    if (!err)
        err = ts_join_spill_sink_new(ph->ctx, left->tail, (const char *const *)p->left_keys, p->njoin_keys, &sink);
    if (err) {
        ts_spill_close(right_spill);
        free_pipe(ph, left);
        return err;
    }
    err = run(ph, left, sink, p);
    ts_spill *left_spill = ts_join_spill_sink_take(sink);
    op_done(ph, sink);
    ts_op *src = NULL;
    if (!err)
        err = ts_join_grace_source_new(ph->ctx, left_spill, right_spill, p->join_type, (const char *const *)p->left_keys,
                                       (const char *const *)p->right_keys, p->njoin_keys, right_cols, right_cols,
                                       nright, &src);
    else
        ts_spill_close(left_spill), ts_spill_close(right_spill);
    err = ts_ctx_check(ph->ctx, err); /* the source loaded its first round: a local step */
    if (err) {
        ts_op_free(src);
        return err;
    }
    TS_TRY(start_source(ph, out, src, p));
    if (ph->ctx->size > 1) /* both sides were partitioned on the keys */
        partitioned_on_left_keys(out->tail, p);
    snprintf(p->run_note, sizeof p->run_note, "grace hash join: the right side outgrew its share of --memory-limit; "
             "both sides spilled by key hash, joined partition pair by pair");
    return TS_OK;
}

static ts_err build_join(phys *ph, ts_sql_plan *p, pipe *out)
{
    if (!pipelined_join(p))
        return fallback(ph, p, out);
    if (build_on_left(ph, p))
        return build_semi_on_left(ph, p, out);
    /* the build side first: its rows, then the broadcast / shuffle decision and the hash table */
    pipe right, left;
    TS_TRY(build(ph, p->in[1], &right));
    ts_err err = build(ph, p->in[0], &left);
    if (err) {
        free_pipe(ph, &right);
        return err;
    }
    if (!keys_comparable(p, &left, &right)) /* the same on every rank: so are the schemas */
        return join_on_node_executor(ph, p, &left, &right, out);
    const int outer_right = p->join_type == TS_JOIN_RIGHT || p->join_type == TS_JOIN_FULL;
    ts_op *bop = NULL;
    char names[TS_MAX_COLS][TS_NAME_MAX];
    int nnames;
    err = run_build(ph, p, &right, p->right_keys, outer_right || p->not_in, &bop, names, &nnames);
    ts_spill *right_spill = err ? NULL : ts_join_build_take_spill(bop); /* the same on every rank */
    if (right_spill && !outer_right && !p->not_in) { /* the build side outgrew its share of --memory-limit */
        const char *cols[TS_MAX_COLS];
        for (int c = 0; c < nnames; c++)
            cols[c] = names[c];
        op_done(ph, bop);
        return grace_join(ph, p, &left, right_spill, cols, nnames, out);
    }
    if (right_spill) {
        ts_spill_close(right_spill);
        err = ts_error_raise(TS_ERR_NOMEM, __FILE__, __LINE__, __func__, "%s join: its build side outgrew its share "
                             "of --memory-limit, and %s joins do not spill yet", p->not_in ? "NOT IN" :
                             ts_join_type_name(p->join_type), p->not_in ? "NOT IN" : "right and full");
    }
    if (!err && p->not_in)
        err = ts_ctx_check(ph->ctx, not_in_rules(ph, p, &left, bop));
    if (err) {
        op_done(ph, bop);
        free_pipe(ph, &left);
        return err;
    }
    err = route_probe(ph, p, bop, &left, p->left_keys);
    if (!err && !(err = add_probe(ph, p, &left, bop, names, nnames))) {
        join_note(p, bop, "right");
        /* the output is where the left keys hash (both sides moved by key); not a right / full join's, whose
           unmatched right rows have NULL left keys */
        if (!ts_join_build_broadcast(bop) && !outer_right)
            partitioned_on_left_keys(left.tail, p);
        left.src_table = NULL;
        err = own_op(&left, bop); /* the table goes once the probe's pipeline ran */
        bop = NULL;
        *out = left;
    } else if (!err) {
        free_pipe(ph, &left);
    }
    op_done(ph, bop);
    return err;
}

/* ---- sort and limit ------------------------------------------------------------------------------------------------ */

/* Under --memory-limit, a full sort (no LIMIT) is a sink that spills sorted runs past its share and, when it did,
 * a source merging them (dist/ts_sort_pipe.h); when no rank spilled, its rows take the in-memory sample sort as
 * without a limit. */
static ts_err external_sort(phys *ph, ts_sql_plan *p, pipe *in, pipe *out)
{
    ts_err err = drop_unneeded(ph, in, p);
    ts_op *sink = NULL, *src = NULL;
    if (!err)
        err = ts_sort_sink_new(ph->ctx, in->tail, p->sort, p->nsort, &sink);
    if (err) {
        free_pipe(ph, in);
        return err;
    }
    err = run(ph, in, sink, p);
    ts_table *t = err ? NULL : ts_sort_sink_take_sorted(sink);
    if (!err && !t)
        err = ts_sort_source_new(sink, &src);
    op_done(ph, sink);
    if (err)
        return err;
    if (t)
        return start_table(ph, out, t, 1, NULL, NULL, 0, p);
    TS_TRY(start_source(ph, out, src, p));
    snprintf(out->pl.name, sizeof out->pl.name, "merge of sorted runs");
    return TS_OK;
}

static ts_err build_sort(phys *ph, ts_sql_plan *p, int64_t top, pipe *out)
{
    pipe in;
    TS_TRY(build(ph, p->in[0], &in));
    if (top < 0 && ph->ctx->op_room > 0)
        return external_sort(ph, p, &in, out);
    ts_table *t;
    TS_TRY(materialize(ph, &in, p, &t));
    const double t0 = ts_now();
    ts_err err;
    if (top >= 0) { /* ORDER BY ... LIMIT: a bounded heap per rank, then P * k rows merged on rank 0 */
        ts_table *k = NULL;
        err = ts_top_k(ph->ctx, t, p->sort, p->nsort, top, &k);
        ts_table_free(t);
        t = k;
        snprintf(p->run_note, sizeof p->run_note, "top %lld: a bounded heap per rank, merged on rank 0", (long long)top);
    } else {
        err = ts_sort_distributed_by(ph->ctx, &t, p->sort, p->nsort);
    }
    err = ts_ctx_check(ph->ctx, err);
    if (err) {
        ts_table_free(t);
        return err;
    }
    ts_op *rec;
    static const ts_op_vt SORT = {.kind = "sort"};
    if (!ts_op_alloc(sizeof(ts_op), &SORT, top >= 0 ? "top-k" : "sample sort", &rec)) {
        rec->prof.seconds = ts_now() - t0, rec->prof.rows_in = ts_table_rows(t);
        rec->tag = tag_of(ph, p);
        op_done(ph, rec);
    }
    return start_table(ph, out, t, 1, NULL, NULL, 0, p);
}

static ts_err build_limit(phys *ph, ts_sql_plan *p, pipe *out)
{
    ts_sql_plan *child = p->in[0];
    pipe in;
    if (child->kind == TS_P_SORT && p->limit >= 0)
        TS_TRY(build_sort(ph, child, p->limit + p->offset, &in));
    else
        TS_TRY(build(ph, child, &in));
    if (p->limit >= 0) { /* this rank's first offset + limit rows are all the global trim can keep */
        ts_op *lim;
        ts_err err = ts_limit_local_new(p->offset + p->limit, "limit: this rank's first rows", &lim);
        if (!err)
            err = add_op(ph, &in, lim, p);
        if (err) {
            free_pipe(ph, &in);
            return err;
        }
    }
    ts_table *t, *res;
    TS_TRY(materialize(ph, &in, p, &t));
    TS_TRY(ts_sql_exec_kind(ph->x, p, t, NULL, &res)); /* the global OFFSET / LIMIT (rank order) */
    return start_table(ph, out, res, 1, NULL, NULL, 0, p);
}

/* ---- windows ------------------------------------------------------------------------------------------------------ */

static ts_err window_prep(void *arg, ts_table *t) { return ts_sql_window_prepare(arg, t); }

/* Under --memory-limit: the input streams into a window sink (dist/ts_window_pipe.h) that distributes and sorts
 * the rows externally once they outgrow the operator's share. When no rank spilled, the rows take the node
 * executor's in-memory window as without a limit; otherwise a source evaluates whole partitions of the merged rows
 * at a time (a partition larger than the share: exit 5). */
static ts_err spilling_window(phys *ph, ts_sql_plan *p, pipe *out)
{
    ts_window_fn *fns = malloc(sizeof *fns * (size_t)(p->nwins + 1));
    if (!fns)
        TS_FAIL(TS_ERR_NOMEM, "out of memory for %d window functions", p->nwins);
    for (int i = 0; i < p->nwins; i++)
        fns[i] = p->wins[i].fn;
    const ts_window_spec spec = {(const char *const *)p->partition, p->npartition, p->sort, p->nsort, fns, p->nwins,
                                 0, -1};
    char name[128] = "window"; /* "window rn, total": the functions' output names */
    for (int i = 0, len = 6; i < p->nwins && len < (int)sizeof name - 1; i++)
        for (int c = 0; c < p->ncols; c++)
            if (!strcmp(p->cols[c].id, fns[i].output)) {
                const int w = snprintf(name + len, sizeof name - (size_t)len, "%s%s", i ? ", " : " ", p->cols[c].name);
                len = w < 0 ? (int)sizeof name : len + w;
                break;
            }
    pipe in;
    ts_err err = build(ph, p->in[0], &in);
    if (err) {
        free(fns);
        return err;
    }
    err = drop_unneeded(ph, &in, p->in[0]);
    ts_op *sink = NULL, *src = NULL;
    if (!err)
        err = ts_window_sink_new(ph->ctx, in.tail, &spec, &sink);
    if (err) {
        free(fns);
        free_pipe(ph, &in);
        return err;
    }
    err = run(ph, &in, sink, p);
    ts_table *t = err ? NULL : ts_window_sink_take_rows(sink);
    if (!err && !t)
        err = ts_window_source_new(ph->ctx, sink, &spec, name, window_prep, p, &src);
    op_done(ph, sink);
    free(fns);
    if (err)
        return err;
    if (t)
        return on_node_executor(ph, p, t, NULL, out);
    memset(out, 0, sizeof *out);
    src->tag = tag_of(ph, p);
    node_output(ph, src);
    TS_TRY(own_op(out, src));
    out->pl.source = src, out->tail = src->out;
    snprintf(out->pl.name, sizeof out->pl.name, "window over merged sorted runs");
    snprintf(p->run_note, sizeof p->run_note, "spilled: sorted externally by partition, evaluated a partition at a "
             "time");
    return TS_OK;
}

/* A WINDOW under a filter row_number() <= k (p->topk, set by the optimizer): the input pipeline streams into a
 * top-k-per-partition sink, so only at most k rows per partition and rank are ever copied; the window then runs on
 * the node executor over those (ts_window exchanges them and keeps k per partition again). Other windows (and
 * rank / dense_rank filters, whose peers of the k-th row are unbounded) materialise their input, or, under
 * --memory-limit, go to spilling_window. */
static ts_err build_window(phys *ph, ts_sql_plan *p, pipe *out)
{
    if (p->topk <= 0 || p->wins[p->topk_fn].fn.kind != TS_WIN_ROW_NUMBER || p->npartition > TS_MAX_COLS ||
        p->nsort < 1 || p->nsort > 8) {
        if (ph->ctx->op_room > 0 && p->npartition + p->nsort <= 8)
            return spilling_window(ph, p, out);
        return fallback(ph, p, out);
    }
    pipe in;
    TS_TRY(build(ph, p->in[0], &in));
    ts_err err = drop_unneeded(ph, &in, p->in[0]);
    ts_op *sink = NULL;
    if (!err)
        err = ts_topk_group_sink_new(in.tail, (const char *const *)p->partition, p->npartition, p->sort, p->nsort,
                                     p->topk, &sink);
    if (err) {
        free_pipe(ph, &in);
        return err;
    }
    err = run(ph, &in, sink, p);
    ts_table *t = err ? NULL : ts_topk_group_sink_take(sink);
    op_done(ph, sink);
    TS_TRY(err);
    snprintf(p->run_note, sizeof p->run_note, "top %lld per partition kept while streaming, exchanged, top %lld "
             "again, sorted", (long long)p->topk, (long long)p->topk);
    return on_node_executor(ph, p, t, NULL, out);
}

/* ---- EXPLAIN ANALYZE: the operators' profiles summed per plan node --------------------------------------------------- */

/* Node rows (global sum of its output operator's rows) and time (the max over ranks of its operators' time). */
static ts_err analyze(phys *ph, int first)
{
    ts_sql_exec *x = ph->x;
    const int n = ph->nnodes;
    ts_prof *local = calloc((size_t)n + 1, sizeof *local), *mx = calloc((size_t)n + 1, sizeof *mx),
            *sm = calloc((size_t)n + 1, sizeof *sm);
    ts_err err = local && mx && sm ? TS_OK : ts_error_raise(TS_ERR_NOMEM, __FILE__, __LINE__, __func__, "out of memory");
    for (int i = first; !err && i < x->nprof; i++) {
        int t = 0;
        while (t < n && ph->node[t] != x->prof[i].node)
            t++;
        if (t == n)
            continue;
        ts_prof *a = &local[t];
        const ts_prof *b = &x->prof[i].prof;
        a->seconds += b->seconds, a->bytes_sent += b->bytes_sent, a->bytes_recv += b->bytes_recv;
        a->mem_peak = a->mem_peak > b->mem_peak ? a->mem_peak : b->mem_peak;
        a->spill_bytes += b->spill_bytes;
        if (x->prof[i].output)
            a->rows_out = b->rows_out;
    }
    if (!err)
        err = ts_prof_reduce(ph->ctx, local, n, NULL, mx, sm);
    for (int t = 0; !err && t < n; t++) {
        ts_sql_plan *p = ph->node[t];
        p->rows_out = sm[t].rows_out, p->seconds = mx[t].seconds;
        p->bytes_sent = mx[t].bytes_sent, p->mem_peak = mx[t].mem_peak, p->spill_bytes = sm[t].spill_bytes;
    }
    free(local), free(mx), free(sm);
    return err;
}

/* ---- dispatch ------------------------------------------------------------------------------------------------------ */

static ts_err build(phys *ph, ts_sql_plan *p, pipe *out)
{
    memset(out, 0, sizeof *out);
    switch (p->kind) {
    case TS_P_CATALOG: return build_catalog(ph, p, out);
    case TS_P_FILTER: return build_filter(ph, p, out);
    case TS_P_PROJECT: return p->ncols ? build_project(ph, p, out) : fallback(ph, p, out);
    case TS_P_AGGREGATE: return build_aggregate(ph, p, out);
    case TS_P_JOIN: return build_join(ph, p, out);
    case TS_P_SORT: return build_sort(ph, p, -1, out);
    case TS_P_LIMIT: return build_limit(ph, p, out);
    case TS_P_WINDOW: return build_window(ph, p, out);
    default: return fallback(ph, p, out);
    }
}

int ts_sql_physical_supports(const ts_sql_plan *p)
{
    if (!p)
        return 1;
    switch (p->kind) {
    case TS_P_DELIM_JOIN: case TS_P_DELIM_GET: case TS_P_DEPJOIN:
        return 0; /* a DELIM_JOIN computes its distinct values between its inputs (exec_node) */
    default: break;
    }
    /* chunks hold TS_MAX_COLS columns: a join's both inputs, an aggregation's keys, states and helper counts */
    int width = p->ncols;
    if (p->kind == TS_P_AGGREGATE)
        width = p->nkeys + 2 * p->naggs + 1;
    if (p->kind == TS_P_JOIN && p->in[0] && p->in[1])
        width = p->in[0]->ncols + p->in[1]->ncols + 1 > width ? p->in[0]->ncols + p->in[1]->ncols + 1 : width;
    if (width > TS_MAX_COLS)
        return 0;
    return ts_sql_physical_supports(p->in[0]) && ts_sql_physical_supports(p->in[1]);
}

ts_err ts_sql_exec_pipelined(ts_sql_exec *x, ts_sql_plan *p, ts_table **out)
{
    phys *ph = calloc(1, sizeof *ph);
    if (!ph)
        TS_FAIL(TS_ERR_NOMEM, "out of memory");
    ph->x = x, ph->ctx = x->ctx;
    const int first = x->nprof;
    pipe root;
    *out = NULL;
    ts_table *t = NULL;
    ts_err err = build(ph, p, &root);
    if (!err)
        err = materialize(ph, &root, p, &t);
    if (!err && x->analyze)
        err = analyze(ph, first);
    free(ph);
    TS_TRY(err);
    /* the plan's column order (operators may order their outputs otherwise) */
    ts_table *res;
    err = ts_table_new(t->name, &res);
    for (int c = 0; !err && c < p->ncols; c++) {
        ts_column *col = NULL;
        int k = 0;
        while (k < t->ncols && (!t->cols[k] || strcmp(t->cols[k]->name, p->cols[c].id)))
            k++;
        if (k == t->ncols)
            err = ts_error_raise(TS_ERR_INTERNAL, __FILE__, __LINE__, __func__, "the result lacks column '%s'",
                                 p->cols[c].id);
        else
            col = t->cols[k], t->cols[k] = NULL;
        if (!err)
            err = ts_table_adopt(res, col);
    }
    for (int k = 0; k < t->ncols; k++)
        if (t->cols[k])
            ts_column_free(t->cols[k]);
    if (!err) {
        res->npart = 0;
        int keep = 1;
        for (int k = 0; k < t->npart && keep; k++)
            keep = ts_table_col(res, t->part_keys[k]) != NULL;
        if (keep) {
            res->npart = t->npart;
            memcpy(res->part_keys, t->part_keys, sizeof t->part_keys);
        }
        res->nsort = t->nsort;
        memcpy(res->sort_keys, t->sort_keys, sizeof t->sort_keys);
    }
    t->ncols = 0;
    ts_table_free(t);
    if (err) {
        ts_table_free(res);
        return err;
    }
    *out = res;
    return TS_OK;
}
