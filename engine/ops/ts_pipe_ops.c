#include "ts_pipe_ops.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ts_cold.h"
#include "ts_spill.h"

/* Records on `to` the partitioning of `from` when every partitioning column of `from` is output: map[i] is the
 * column of `from` that output column i shows (-1: computed). */
static void carry_partitioning(const ts_table *from, ts_table *to, const int *map, int n)
{
    const char *keys[8];
    to->npart = 0;
    for (int k = 0; k < from->npart; k++) {
        keys[k] = NULL;
        for (int i = 0; i < n && !keys[k]; i++)
            if (map[i] >= 0 && !strcmp(from->cols[map[i]]->name, from->part_keys[k]))
                keys[k] = to->cols[i]->name;
        if (!keys[k])
            return;
    }
    ts_table_set_partitioned(to, keys, from->npart);
}

/* ---- table source -------------------------------------------------------------------------------------------- */

typedef struct table_source {
    ts_op op;
    const ts_table *t;
    int cols[TS_MAX_COLS];
    int64_t at;
    int64_t released; /* rows before this one have left the resident set (cold columns) */
} table_source;

/* A cold table's pages leave the resident set behind the scan: the chunks before s->at are done with, since a
 * chunk is valid only until its producer is called again. */
static void release_behind(table_source *s, int64_t upto)
{
    if (!ts_cold_release_due(s->released, upto, ts_table_rows(s->t)))
        return;
    for (int i = 0; i < s->op.out->schema.ncols; i++)
        ts_column_release(s->t->cols[s->cols[i]], s->released, upto - s->released);
    s->released = upto;
}

static ts_err table_next(ts_op *op, ts_chunk **out)
{
    table_source *s = (table_source *)op;
    const int64_t rows = ts_table_rows(s->t);
    release_behind(s, s->at);
    if (s->at >= rows) {
        *out = NULL;
        return TS_OK;
    }
    const int64_t n = rows - s->at < TS_CHUNK_ROWS ? rows - s->at : TS_CHUNK_ROWS;
    ts_chunk *c = op->out;
    ts_chunk_begin(c, n);
    for (int i = 0; i < c->schema.ncols; i++)
        TS_TRY(ts_chunk_set_view(c, i, s->t->cols[s->cols[i]], s->at, n));
    s->at += n;
    *out = c;
    return TS_OK;
}

static const ts_op_vt TABLE_SOURCE = {.kind = "scan", .next = table_next};

ts_err ts_table_source_new(const ts_table *t, const int *cols, const char *const *names, int n, ts_op **out)
{
    if (!cols)
        n = t->ncols;
    if (n > TS_MAX_COLS)
        TS_FAIL(TS_ERR_USAGE, "a scan of '%s' reads %d columns: chunks hold at most %d", t->name, n, TS_MAX_COLS);
    char label[160];
    snprintf(label, sizeof label, "scan %.150s", t->name);
    TS_TRY(ts_op_alloc(sizeof(table_source), &TABLE_SOURCE, label, out));
    table_source *s = (table_source *)*out;
    s->t = t;
    ts_err err = ts_chunk_new(t->name, &s->op.out);
    for (int i = 0; !err && i < n; i++) {
        s->cols[i] = cols ? cols[i] : i;
        if (s->cols[i] < 0 || s->cols[i] >= t->ncols)
            err = ts_error_raise(TS_ERR_INTERNAL, __FILE__, __LINE__, __func__, "scan of '%s': no column %d", t->name,
                                 s->cols[i]);
        else
            err = ts_chunk_add_view(s->op.out, names ? names[i] : t->cols[s->cols[i]]->name, t->cols[s->cols[i]],
                                    NULL);
    }
    if (!err)
        carry_partitioning(t, &s->op.out->schema, s->cols, n);
    if (err) {
        ts_op_free(*out);
        *out = NULL;
    }
    return err;
}

/* ---- filter ------------------------------------------------------------------------------------------------------ */

typedef struct filter_op {
    ts_op op;
    int n;
    ts_expr_bound *cond[]; /* n conjuncts */
} filter_op;

/* Each conjunct narrows the selection in turn, so the later ones run on fewer rows (densely, once the selection
 * is sparse: ts_expr_filter_chunk). */
static ts_err filter_execute(ts_op *op, ts_chunk *in, ts_chunk **out, int *more)
{
    (void)more;
    filter_op *f = (filter_op *)op;
    for (int i = 0; i < f->n && ts_chunk_live(in); i++)
        TS_TRY(ts_expr_filter_chunk(f->cond[i], in));
    *out = in;
    return TS_OK;
}

static void filter_destroy(ts_op *op)
{
    filter_op *f = (filter_op *)op;
    for (int i = 0; i < f->n; i++)
        ts_expr_unbind(f->cond[i]);
}

static const ts_op_vt FILTER = {.kind = "filter", .execute = filter_execute, .destroy = filter_destroy};

ts_err ts_filter_new(ts_chunk *in, const ts_expr *const *conds, int n, const char *label, ts_op **out)
{
    TS_TRY(ts_op_alloc(sizeof(filter_op) + sizeof(ts_expr_bound *) * (size_t)n, &FILTER, label, out));
    filter_op *f = (filter_op *)*out;
    ts_err err = TS_OK;
    for (; !err && f->n < n; f->n++)
        if ((err = ts_expr_bind(conds[f->n], &in->schema, &f->cond[f->n])))
            break;
    if (err) {
        ts_op_free(*out);
        *out = NULL;
    }
    return err;
}

/* ---- projection -------------------------------------------------------------------------------------------------- */

typedef struct project_op {
    ts_op op;
    int src[TS_MAX_COLS];             /* input column passed on, or -1: computed */
    ts_expr_bound *expr[TS_MAX_COLS];
} project_op;

static ts_err project_execute(ts_op *op, ts_chunk *in, ts_chunk **out, int *more)
{
    (void)more;
    project_op *p = (project_op *)op;
    ts_chunk *c = op->out;
    ts_chunk_begin(c, in->n);
    c->sel = in->sel, c->nsel = in->nsel;
    for (int i = 0; i < c->schema.ncols; i++) {
        if (p->src[i] >= 0) {
            TS_TRY(ts_chunk_set_view(c, i, &in->col[p->src[i]], 0, in->n));
        } else {
            ts_column *v;
            TS_TRY(ts_chunk_vector(c, i, &v));
            TS_TRY(ts_expr_eval_chunk(p->expr[i], in, v));
        }
    }
    *out = c;
    return TS_OK;
}

static void project_destroy(ts_op *op)
{
    project_op *p = (project_op *)op;
    for (int i = 0; i < TS_MAX_COLS; i++)
        ts_expr_unbind(p->expr[i]);
}

static const ts_op_vt PROJECT = {.kind = "project", .execute = project_execute, .destroy = project_destroy};

static int chunk_col(const ts_chunk *c, const char *name)
{
    for (int i = 0; name && i < c->schema.ncols; i++)
        if (!strcmp(c->col[i].name, name))
            return i;
    return -1;
}

ts_err ts_project_new(ts_chunk *in, const ts_expr *const *exprs, const char *const *names, int n, const char *label,
                      ts_op **out)
{
    TS_TRY(ts_op_alloc(sizeof(project_op), &PROJECT, label, out));
    project_op *p = (project_op *)*out;
    ts_err err = ts_chunk_new(in->schema.name, &p->op.out);
    for (int i = 0; !err && i < n; i++) {
        p->src[i] = chunk_col(in, ts_expr_column_name(exprs[i]));
        if (p->src[i] >= 0) {
            err = ts_chunk_add_view(p->op.out, names[i], &in->col[p->src[i]], NULL);
            continue;
        }
        ts_type type;
        int scale;
        ts_dict *dict;
        err = ts_expr_bind(exprs[i], &in->schema, &p->expr[i]);
        if (!err) {
            ts_expr_bound_type(p->expr[i], &type, &scale, &dict);
            err = ts_chunk_add_vector(p->op.out, names[i], type, scale, dict, NULL);
        }
    }
    if (!err)
        carry_partitioning(&in->schema, &p->op.out->schema, p->src, n);
    if (err) {
        ts_op_free(*out);
        *out = NULL;
    }
    return err;
}

/* ---- local LIMIT -------------------------------------------------------------------------------------------------- */

typedef struct limit_op {
    ts_op op;
    int64_t left;
} limit_op;

static ts_err limit_execute(ts_op *op, ts_chunk *in, ts_chunk **out, int *more)
{
    (void)more;
    limit_op *l = (limit_op *)op;
    const int64_t live = ts_chunk_live(in);
    if (live > l->left) {
        int32_t buf[TS_CHUNK_ROWS];
        const int32_t *rows = ts_chunk_rows(in, buf);
        ts_chunk_select(in, rows, (int)l->left);
    }
    l->left -= ts_chunk_live(in);
    op->done = l->left <= 0;
    *out = in;
    return TS_OK;
}

static const ts_op_vt LIMIT = {.kind = "limit", .execute = limit_execute};

ts_err ts_limit_local_new(int64_t keep, const char *label, ts_op **out)
{
    TS_TRY(ts_op_alloc(sizeof(limit_op), &LIMIT, label, out));
    ((limit_op *)*out)->left = keep;
    (*out)->done = keep <= 0;
    return TS_OK;
}

/* ---- materialise --------------------------------------------------------------------------------------------------- */

typedef struct materialize_op {
    ts_op op;
    ts_table *t;
    const char *cold_dir;   /* ts_materialize_set_cold: rows go to a cold table past cold_at bytes */
    int64_t cold_at;
    ts_cold *cold;
} materialize_op;

/* Moves the rows held to the cold table's files; the columns keep their allocations for the next rows. */
static ts_err flush_cold(materialize_op *m)
{
    if (!m->cold)
        TS_TRY(ts_cold_begin(m->t, m->cold_dir, &m->cold));
    TS_TRY(ts_cold_append(m->cold, m->t, 0, ts_table_rows(m->t)));
    for (int c = 0; c < m->t->ncols; c++)
        ts_column_clear(m->t->cols[c]);
    m->op.prof.spill_bytes = ts_cold_bytes(m->cold);
    return TS_OK;
}

static int64_t table_bytes(const ts_table *t)
{
    int64_t b = 0;
    for (int c = 0; c < t->ncols; c++)
        b += t->cols[c]->cap * (int64_t)ts_type_width(t->cols[c]->type) + t->cols[c]->bytes_cap;
    return b;
}

static ts_err materialize_sink(ts_op *op, ts_chunk *in)
{
    materialize_op *m = (materialize_op *)op;
    TS_TRY(ts_chunk_append_to(in, m->t));
    ts_op_hold(op, table_bytes(m->t));
    if (m->cold_dir && ts_table_mem_bytes(m->t) >= m->cold_at) /* the rows held, not the allocations */
        TS_TRY(flush_cold(m));
    return TS_OK;
}

/* A cold result: the last rows written, the files mapped as the table's columns. */
static ts_err materialize_finish(ts_op *op, ts_ctx *ctx, ts_err status)
{
    (void)ctx;
    materialize_op *m = (materialize_op *)op;
    if (status || !m->cold)
        return status;
    TS_TRY(flush_cold(m));
    ts_table *t;
    ts_cold *b = m->cold;
    m->cold = NULL;
    TS_TRY(ts_cold_finish(b, m->t->name, &t));
    t->npart = m->t->npart;
    memcpy(t->part_keys, m->t->part_keys, sizeof t->part_keys);
    ts_table_free(m->t);
    m->t = t;
    ts_op_hold(op, 0);
    return TS_OK;
}

static void materialize_destroy(ts_op *op)
{
    ts_table_free(((materialize_op *)op)->t);
    ts_cold_free(((materialize_op *)op)->cold);
}

static const ts_op_vt MATERIALIZE = {.kind = "materialize", .sink = materialize_sink, .finish = materialize_finish,
                                     .destroy = materialize_destroy};

ts_err ts_materialize_new(ts_chunk *in, const char *name, ts_op **out)
{
    TS_TRY(ts_op_alloc(sizeof(materialize_op), &MATERIALIZE, "materialize", out));
    materialize_op *m = (materialize_op *)*out;
    ts_err err = ts_table_new_like(&in->schema, name, &m->t);
    if (!err) {
        m->t->npart = in->schema.npart;
        memcpy(m->t->part_keys, in->schema.part_keys, sizeof m->t->part_keys);
    }
    if (err) {
        ts_op_free(*out);
        *out = NULL;
    }
    return err;
}

void ts_materialize_set_cold(ts_op *op, const char *dir, int64_t bytes)
{
    materialize_op *m = (materialize_op *)op;
    m->cold_dir = dir, m->cold_at = bytes > 0 ? bytes : 1;
}

ts_table *ts_materialize_take(ts_op *op)
{
    materialize_op *m = (materialize_op *)op;
    ts_table *t = m->t;
    m->t = NULL;
    return t;
}
