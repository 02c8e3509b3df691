/* Sessions: the catalog, running statements (bind -> optimize -> execute), printing results and writing the
 * created tables to HDF5. */
#include "ts_sql.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "ts_cold.h"
#include "ts_exchange.h"
#include "ts_fault.h"
#include "ts_expr.h"
#include "ts_h5.h"
#include "ts_mem.h"
#include "ts_spill.h"
#include "ts_sql_bind.h"
#include "ts_sql_catalog.h"
#include "ts_sql_checkpoint.h"
#include "ts_sql_copy.h"
#include "ts_sql_decorrelate.h"
#include "ts_sql_exec.h"
#include "ts_sql_opt.h"
#include "ts_sql_parse.h"
#include "ts_sql_print.h"
#include "ts_profile.h"

/* Freed mappings a statement leaves pooled for the next one (engine/core/ts_mem.h): enough to spare the next
 * statement's first vectors their page faults, not the load's transient buffers held for the whole session */
#define TS_SQL_POOL_KEEP ((size_t)64 << 20)

struct ts_sql_session {
    ts_ctx *ctx;
    ts_sql_options opt;
    char **param_names, **param_values;
    ts_sql_catalog catalog;
    char **created;   /* CREATE TABLE names still in the catalog, in creation order (the output file's tables) */
    int ncreated;
    int next_id;      /* column ids stay unique across the session's statements */
    int stmt_no;
    ts_sql_ckpt *ck;  /* --checkpoint: NULL without */
};

ts_err ts_sql_session_new(ts_ctx *ctx, const ts_sql_options *opt, ts_sql_session **out)
{
    ts_sql_session *s = calloc(1, sizeof *s);
    if (!s)
        TS_FAIL(TS_ERR_NOMEM, "out of memory creating a SQL session");
    s->ctx = ctx, s->opt = *opt;
    if (!s->opt.out)
        s->opt.out = stdout;
    if (!s->opt.max_print_rows)
        s->opt.max_print_rows = 40;
    const int n = opt->nparams;
    s->param_names = calloc((size_t)n + 1, sizeof(char *));
    s->param_values = calloc((size_t)n + 1, sizeof(char *));
    for (int i = 0; s->param_names && s->param_values && i < n; i++)
        s->param_names[i] = strdup(opt->param_names[i]), s->param_values[i] = strdup(opt->param_values[i]);
    s->opt.param_names = (const char *const *)s->param_names;
    s->opt.param_values = (const char *const *)s->param_values;
    *out = s;
    if (!s->param_names || !s->param_values)
        TS_FAIL(TS_ERR_NOMEM, "out of memory creating a SQL session");
    if (opt->checkpoint_dir)
        TS_TRY(ts_sql_ckpt_new(opt->checkpoint_dir, opt->resume, &s->ck));
    /* refuse an existing output now rather than after the work */
    int exists = 0;
    if (ctx->rank == 0 && opt->out_path && !opt->overwrite)
        exists = access(opt->out_path, F_OK) == 0;
    TS_MPI(MPI_Bcast(&exists, 1, MPI_INT, 0, ctx->comm));
    if (exists)
        TS_FAIL(TS_ERR_IO, "%s exists (pass --overwrite to replace it)", opt->out_path);
    return TS_OK;
}

void ts_sql_session_free(ts_sql_session *s)
{
    if (!s)
        return;
    ts_sql_catalog_free(&s->catalog);
    for (int i = 0; i < s->opt.nparams; i++)
        free(s->param_names ? s->param_names[i] : NULL), free(s->param_values ? s->param_values[i] : NULL);
    for (int i = 0; i < s->ncreated; i++)
        free(s->created[i]);
    free(s->param_names), free(s->param_values), free(s->created);
    ts_sql_ckpt_free(s->ck);
    free(s);
}

/* ---- helpers ---------------------------------------------------------------------------------------------------- */

static int is_root(const ts_sql_session *s) { return s->ctx->rank == 0; }

/* Gathers a distributed table on rank 0 (in rank order, so a sorted table stays sorted). */
static ts_err gather(ts_ctx *ctx, ts_table **t)
{
    const int64_t n = ts_table_rows(*t);
    int32_t *dest = n ? calloc((size_t)n, sizeof *dest) : NULL;
    if (n && !dest)
        TS_FAIL(TS_ERR_NOMEM, "out of memory gathering a result");
    const ts_err err = ts_exchange_rows_move(ctx, t, dest);
    free(dest);
    return err;
}

/* Output names: the plan's visible names, made unique (a, a_1, ...) for tables. */
typedef char out_name[TS_SQL_NAME_MAX];

/* A new array of the plan's output names (free()), or NULL when out of memory. */
static out_name *output_names(const ts_sql_plan *p, int unique)
{
    out_name *names = calloc((size_t)p->ncols + 1, sizeof *names);
    for (int c = 0; names && c < p->ncols; c++) {
        snprintf(names[c], sizeof names[c], "%s", p->cols[c].name);
        for (int k = 1; unique; k++) {
            int clash = 0;
            for (int o = 0; o < c && !clash; o++)
                clash = !strcmp(names[o], names[c]);
            if (!clash)
                break;
            char suffix[16]; /* the suffix always fits: the name is cut instead */
            const int ns = snprintf(suffix, sizeof suffix, "_%d", k);
            snprintf(names[c], sizeof names[c], "%.*s%s", (int)(sizeof names[c] - 1) - ns, p->cols[c].name, suffix);
        }
    }
    return names;
}

typedef struct stmt_run {
    ts_sql_session *s;
    ts_sql_script *script;
    ts_sql_exec x;
    ts_sql_binder b;
    ts_sql_plan *plan;
} stmt_run;

static void run_init(stmt_run *r, ts_sql_session *s, ts_sql_script *script)
{
    memset(r, 0, sizeof *r);
    r->s = s, r->script = script;
    r->x = (ts_sql_exec){.ctx = s->ctx, .catalog = &s->catalog, .src = script, .quiet = s->opt.quiet,
                         .on_input = s->ck ? ts_sql_ckpt_note_input : NULL, .on_input_arg = s->ck};
    r->b = (ts_sql_binder){.ctx = s->ctx, .script = script, .src = script, .catalog = &s->catalog,
                           .next_id = s->next_id, .exec = &r->x};
}

static ts_err plan_query(stmt_run *r, const ts_sql_query *q)
{
    ts_err err = ts_sql_bind_query(&r->b, q, &r->plan);
    if (!err)
        err = ts_sql_decorrelate(&r->b, &r->plan);
    if (!err)
        err = ts_sql_optimize(&r->b, &r->plan);
    r->s->next_id = r->b.next_id;
    return ts_ctx_check(r->s->ctx, err);
}

/* The recorded sort order in output names (the sort ran on plan ids); it stops at a key that is not output. */
static void rename_sort_keys(ts_table *t, const ts_sql_plan *p, const out_name *names)
{
    int kept = 0;
    for (int k = 0; k < t->nsort; k++) {
        int c = 0;
        while (c < p->ncols && strcmp(p->cols[c].id, t->sort_keys[k]))
            c++;
        if (c == p->ncols)
            break;
        snprintf(t->sort_keys[kept++], TS_NAME_MAX, "%s", names[c]);
    }
    t->nsort = kept;
}

/* The recorded partitioning in output names; dropped when a partitioning column is not output. */
static void rename_part_keys(ts_table *t, const ts_sql_plan *p, const out_name *names)
{
    for (int k = 0; k < t->npart; k++) {
        int c = 0;
        while (c < p->ncols && strcmp(p->cols[c].id, t->part_keys[k]))
            c++;
        if (c == p->ncols) {
            t->npart = 0;
            return;
        }
        snprintf(t->part_keys[k], TS_NAME_MAX, "%s", names[c]);
    }
}

static ts_err execute(stmt_run *r, ts_table **out)
{
    TS_TRY(ts_sql_exec_plan(&r->x, r->plan, out));
    out_name *names = output_names(r->plan, 1);
    if (!names)
        TS_FAIL(TS_ERR_NOMEM, "out of memory for %d column names", r->plan->ncols);
    rename_sort_keys(*out, r->plan, names);
    rename_part_keys(*out, r->plan, names);
    ts_err err = TS_OK;
    for (int c = 0; !err && c < (*out)->ncols && c < r->plan->ncols; c++)
        err = ts_column_set_name((*out)->cols[c], names[c]);
    free(names);
    TS_TRY(err);
    return TS_OK;
}

/* ---- statements ---------------------------------------------------------------------------------------------- */

static ts_err print_result(stmt_run *r, ts_table *t)
{
    ts_err err = gather(r->s->ctx, &t);
    if (!err && is_root(r->s)) {
        out_name *names = output_names(r->plan, 0);
        const char **ptr = malloc(sizeof *ptr * (size_t)(r->plan->ncols + 1));
        if (!names || !ptr)
            err = ts_error_raise(TS_ERR_NOMEM, __FILE__, __LINE__, __func__, "out of memory");
        for (int c = 0; !err && c < r->plan->ncols; c++)
            ptr[c] = names[c];
        if (!err)
            ts_sql_print_result(r->s->opt.out, t, ptr, r->s->opt.print_mode, r->s->opt.max_print_rows);
        fflush(r->s->opt.out);
        free(names), free(ptr);
    }
    ts_table_free(t);
    return err;
}

static ts_err add_created(ts_sql_session *s, const char *name)
{
    for (int i = 0; i < s->ncreated; i++)
        if (!strcasecmp(s->created[i], name))
            return TS_OK;
    char **grown = realloc(s->created, sizeof *grown * (size_t)(s->ncreated + 1));
    if (!grown || !(grown[s->ncreated] = strdup(name))) {
        if (grown)
            s->created = grown;
        TS_FAIL(TS_ERR_NOMEM, "out of memory");
    }
    s->created = grown;
    s->ncreated++;
    return TS_OK;
}

static void remove_created(ts_sql_session *s, const char *name)
{
    for (int i = 0; i < s->ncreated; i++)
        if (!strcasecmp(s->created[i], name)) {
            free(s->created[i]);
            memmove(&s->created[i], &s->created[i + 1], sizeof(char *) * (size_t)(s->ncreated - i - 1));
            s->ncreated--;
            return;
        }
}

/* A created table is written to --out as /a/b/c for a.b.c: checked when the statement runs, not at the write. Each
 * dot-separated part is an HDF5 group or dataset name: non-empty, no '/', and the whole at most TS_NAME_MAX - 1
 * bytes; a table cannot also be a group of another table that will be written (a and a.b). */
static ts_err check_table_name(stmt_run *r, const ts_sql_stmt *st)
{
    const char *n = st->name, *why = NULL;
    const size_t len = strlen(n);
    if (len >= TS_NAME_MAX)
        return ts_sql_error_at(r->script, st->pos, TS_ERR_USAGE, "table name '%.40s...' is %zu bytes long: at most "
                               "%d", n, len, TS_NAME_MAX - 1);
    if (!len || n[0] == '.' || n[len - 1] == '.' || strstr(n, ".."))
        why = "an empty part (each dot-separated part names a group of the output)";
    else if (strchr(n, '/'))
        why = "a '/' (dots separate the output's groups)";
    if (why)
        return ts_sql_error_at(r->script, st->pos, TS_ERR_USAGE, "table name '%s' is not valid: it has %s", n, why);
    for (int i = 0; i < r->s->ncreated; i++) {
        const char *o = r->s->created[i];
        const size_t ol = strlen(o);
        const char *group = ol < len && !strncasecmp(o, n, ol) && n[ol] == '.'   ? o
                            : len < ol && !strncasecmp(o, n, len) && o[len] == '.' ? n
                                                                                   : NULL;
        if (group)
            return ts_sql_error_at(r->script, st->pos, TS_ERR_USAGE, "table '%s' conflicts with table '%s': '%s' "
                                   "would be both a table and a group of the output (drop one or rename it)", n, o,
                                   group);
    }
    return TS_OK;
}

static ts_err check_new_name(stmt_run *r, const ts_sql_stmt *st, int *skip)
{
    const ts_sql_entry *e = ts_sql_catalog_find(&r->s->catalog, st->name);
    *skip = 0;
    if (st->kind == TS_SQL_S_CREATE_TABLE)
        TS_TRY(check_table_name(r, st));
    if (!e || st->or_replace)
        return TS_OK;
    if (st->if_not_exists) {
        *skip = 1;
        return TS_OK;
    }
    return ts_sql_error_at(r->script, st->pos, TS_ERR_USAGE, "%s '%s' already exists (use CREATE OR REPLACE)",
                           e->table ? "table" : "view", st->name);
}

static ts_err create_table_defs(stmt_run *r, const ts_sql_stmt *st);

/* 1 when the plan scans files (read_csv, read_parquet, read_h5): its result is a load. */
static int reads_files(const ts_sql_plan *p)
{
    if (!p)
        return 0;
    if (p->kind == TS_P_CSV || p->kind == TS_P_PARQUET || p->kind == TS_P_H5)
        return 1;
    return reads_files(p->in[0]) || reads_files(p->in[1]);
}

static ts_err create_table(stmt_run *r, const ts_sql_stmt *st)
{
    int skip;
    TS_TRY(check_new_name(r, st, &skip));
    if (skip)
        return TS_OK;
    if (!st->query)
        return create_table_defs(r, st);
    TS_TRY(plan_query(r, st->query));
    ts_table *t;
    TS_TRY(execute(r, &t));
    snprintf(t->name, sizeof t->name, "%s", st->name); /* fits: check_table_name */
    int64_t rows;
    ts_err err = ts_allreduce_sum_i64(r->s->ctx, ts_table_rows(t), &rows);
    if (err) {
        ts_table_free(t);
        return err;
    }
    /* the planner's statistics (rows, NULLs, distinct values, ranges): a table loaded from files is analyzed with
     * its load (the statements after it read it: the pass belongs to the load, as in DuckDB); a query's result
     * when a query first reads it (bind_catalog_table), so a result nobody reads, such as a script's final
     * answer, never pays the pass */
    TS_TRY(ts_sql_catalog_put(&r->s->catalog, st->name, t, rows, NULL, NULL));
    if (reads_files(r->plan))
        TS_TRY(ts_sql_catalog_analyze(r->s->ctx, ts_sql_catalog_find(&r->s->catalog, st->name)));
    return add_created(r->s, st->name);
}

/* ---- CREATE TABLE with column definitions, INSERT ---------------------------------------------------------------- */

/* The engine type of a declared column type. */
static ts_err declared_type(stmt_run *r, const ts_sql_stmt *st, int c, ts_type *type, int *scale)
{
    const ts_sql_type *t = &st->types[c];
    *scale = 0;
    switch (t->kind) {
    case TS_SQL_TY_BOOLEAN: *type = TS_T_BOOL; break;
    case TS_SQL_TY_INTEGER: *type = TS_T_INT32; break;
    case TS_SQL_TY_BIGINT: *type = TS_T_INT64; break;
    case TS_SQL_TY_DOUBLE: *type = TS_T_FLOAT64; break;
    case TS_SQL_TY_VARCHAR: *type = TS_T_STRING; break;
    case TS_SQL_TY_DATE: *type = TS_T_DATE; break;
    case TS_SQL_TY_TIMESTAMP: *type = TS_T_TIMESTAMP; break;
    case TS_SQL_TY_DECIMAL:
        if (t->precision > 18)
            return ts_sql_error_at(r->script, st->pos, TS_ERR_USAGE, "column '%s': DECIMAL(%d,%d) is not supported "
                                   "(precision at most 18)", st->columns[c], t->precision, t->scale);
        *type = TS_T_DECIMAL, *scale = t->scale;
        break;
    default:
        return ts_sql_error_at(r->script, st->pos, TS_ERR_USAGE, "column '%s': unsupported column type", st->columns[c]);
    }
    return TS_OK;
}

/* CREATE TABLE name (c type [NOT NULL], ...): an empty table on every rank. */
static ts_err create_table_defs(stmt_run *r, const ts_sql_stmt *st)
{
    uint8_t *not_null = calloc((size_t)st->ncolumns + 1, 1);
    ts_table *t = NULL;
    if (!not_null)
        return ts_sql_error_at(r->script, st->pos, TS_ERR_NOMEM, "out of memory");
    const ts_err made = ts_table_new(st->name, &t);
    if (made) {
        free(not_null);
        return made;
    }
    for (int c = 0; c < st->ncolumns; c++) {
        ts_type type = TS_T_STRING;
        int scale = 0;
        ts_err err = TS_OK;
        for (int k = 0; k < c && !err; k++)
            if (!strcasecmp(st->columns[k], st->columns[c]))
                err = ts_sql_error_at(r->script, st->pos, TS_ERR_USAGE, "column '%s' is defined twice", st->columns[c]);
        if (!err)
            err = declared_type(r, st, c, &type, &scale);
        if (!err)
            err = ts_table_add(t, st->columns[c], type, scale, NULL, NULL);
        if (err) {
            ts_table_free(t), free(not_null);
            return err;
        }
        not_null[c] = st->not_null[c] != 0;
    }
    const ts_err put = ts_sql_catalog_put(&r->s->catalog, st->name, t, 0, NULL, NULL);
    if (put) {
        free(not_null);
        return put;
    }
    ts_sql_catalog_find(&r->s->catalog, st->name)->not_null = not_null;
    return add_created(r->s, st->name);
}

/* The SQL type INSERT casts a value to for column c. */
static ts_sql_type column_sql_type(const ts_column *c)
{
    ts_sql_type t = {.kind = TS_SQL_TY_VARCHAR};
    switch (c->type) {
    case TS_T_BOOL: t.kind = TS_SQL_TY_BOOLEAN; break;
    case TS_T_INT32: t.kind = TS_SQL_TY_INTEGER; break;
    case TS_T_INT64: t.kind = TS_SQL_TY_BIGINT; break;
    case TS_T_FLOAT64: t.kind = TS_SQL_TY_DOUBLE; break;
    case TS_T_DECIMAL: t.kind = TS_SQL_TY_DECIMAL, t.precision = 18, t.scale = c->scale; break;
    case TS_T_DATE: t.kind = TS_SQL_TY_DATE; break;
    case TS_T_TIMESTAMP: t.kind = TS_SQL_TY_TIMESTAMP; break;
    default: break;
    }
    return t;
}

/* target column c <- source position src[c] (-1: NULL) */
static ts_err insert_targets(stmt_run *r, const ts_sql_stmt *st, const ts_table *t, int *src)
{
    for (int c = 0; c < t->ncols; c++)
        src[c] = st->ncolumns ? -1 : c;
    for (int k = 0; k < st->ncolumns; k++) {
        int c = 0;
        while (c < t->ncols && strcasecmp(t->cols[c]->name, st->columns[k]))
            c++;
        if (c == t->ncols)
            return ts_sql_error_at(r->script, st->pos, TS_ERR_USAGE, "table '%s' has no column '%s'", st->name,
                                   st->columns[k]);
        if (src[c] >= 0)
            return ts_sql_error_at(r->script, st->pos, TS_ERR_USAGE, "column '%s' is listed twice", st->columns[k]);
        src[c] = k;
    }
    return TS_OK;
}

/* INSERT ... VALUES: every value cast to its target column's type right in the VALUES list (so the rows need not
 * agree on a type among themselves: VALUES (1), ('2') into an INTEGER column, as DuckDB). */
static ts_err cast_values(stmt_run *r, const ts_sql_stmt *st, const ts_table *t, const int *src)
{
    ts_sql_from *f = st->query->select->from;
    const int want = st->ncolumns ? st->ncolumns : t->ncols;
    if (f->ncols != want)
        return TS_OK; /* insert_plan reports the count */
    int *target = ts_sql_alloc(r->script, sizeof *target * (size_t)(t->ncols + 1));
    if (!target)
        return ts_sql_error_at(r->script, st->pos, TS_ERR_NOMEM, "out of memory");
    for (int c = 0; c < t->ncols; c++)
        if (src[c] >= 0)
            target[src[c]] = c;
    for (int i = 0; i < f->nrows * f->ncols; i++) {
        ts_sql_expr *v = f->values[i], *cast = ts_sql_alloc(r->script, sizeof *cast);
        ts_sql_expr **args = ts_sql_alloc(r->script, sizeof *args);
        if (!cast || !args)
            TS_FAIL(TS_ERR_NOMEM, "out of memory");
        args[0] = v;
        *cast = (ts_sql_expr){.kind = TS_SQL_E_CAST, .pos = v->pos, .args = args, .nargs = 1,
                              .type = column_sql_type(t->cols[target[i % f->ncols]])};
        f->values[i] = cast;
    }
    return TS_OK;
}

/* The query's rows as the table's columns: a projection of CAST(value AS column type), NULL for unlisted ones. */
static ts_err insert_plan(stmt_run *r, const ts_sql_stmt *st, const ts_table *t, const int *src)
{
    ts_sql_binder *b = &r->b;
    ts_sql_plan *q;
    if (st->query->select && st->query->select->from && st->query->select->from->kind == TS_SQL_F_VALUES &&
        !st->query->select->from->alias)
        TS_TRY(cast_values(r, st, t, src));
    TS_TRY(ts_sql_bind_query(b, st->query, &q));
    const int want = st->ncolumns ? st->ncolumns : t->ncols;
    if (q->ncols != want)
        return ts_sql_error_at(r->script, st->query->pos, TS_ERR_USAGE, "INSERT into '%s' gives %d value%s for %d "
                               "column%s", st->name, q->ncols, q->ncols == 1 ? "" : "s", want, want == 1 ? "" : "s");
    ts_sql_plan *p = ts_sql_plan_new(b, TS_P_PROJECT, st->pos, t->ncols);
    if (!p || !(p->exprs = ts_sql_alloc(r->script, sizeof *p->exprs * (size_t)t->ncols)))
        TS_FAIL(TS_ERR_NOMEM, "out of memory");
    for (int c = 0; c < t->ncols; c++) {
        ts_sql_expr *v = ts_sql_alloc(r->script, sizeof *v), *cast = ts_sql_alloc(r->script, sizeof *cast);
        ts_sql_expr **args = ts_sql_alloc(r->script, sizeof *args);
        if (!v || !cast || !args)
            TS_FAIL(TS_ERR_NOMEM, "out of memory");
        if (src[c] >= 0) {
            if (!(v = ts_sql_ref(b, q->cols[src[c]].id, st->query->pos)))
                TS_FAIL(TS_ERR_NOMEM, "out of memory");
        } else {
            *v = (ts_sql_expr){.kind = TS_SQL_E_NULL, .pos = st->pos};
        }
        args[0] = v;
        *cast = (ts_sql_expr){.kind = TS_SQL_E_CAST, .pos = v->pos, .args = args, .nargs = 1,
                              .type = column_sql_type(t->cols[c])};
        p->exprs[c] = cast;
        snprintf(p->cols[c].name, sizeof p->cols[c].name, "%s", t->cols[c]->name);
        ts_sql_new_id(b, t->cols[c]->name, p->cols[c].id);
    }
    p->in[0] = q, p->est_rows = q->est_rows;
    r->plan = p;
    return ts_sql_optimize(b, &r->plan);
}

/* Column c of rows as the table column's representation: INTEGER values (checked by the cast) narrowed to int32;
 * strings into a dictionary-encoded column first turn that column back into strings. */
static ts_err conform_column(ts_table *t, ts_table *rows, int c)
{
    ts_column *to = t->cols[c], *from = rows->cols[c];
    if (to->type == TS_T_DICT) {
        struct ts_expr *e = ts_x_cast(ts_x_col(to->name), TS_T_STRING, 0, 0);
        ts_column *s = NULL;
        const ts_err err = ts_expr_eval(e, t, to->name, &s);
        ts_expr_free(e);
        TS_TRY(err);
        ts_column_free(to);
        t->cols[c] = s;
        return TS_OK;
    }
    if (to->type == TS_T_INT32 && from->type == TS_T_INT64) {
        ts_column *n;
        TS_TRY(ts_column_new(from->name, TS_T_INT32, 0, NULL, &n));
        ts_err err = ts_column_reserve(n, from->len, 0);
        for (int64_t i = 0; !err && i < from->len; i++)
            TS_COL(n, int32_t)[i] = (int32_t)TS_COL(from, int64_t)[i];
        n->len = from->len;
        if (!err && from->valid && !(n->valid = ts_big(sizeof(uint64_t) * (size_t)((from->len + 63) / 64 + 1))))
            err = ts_error_raise(TS_ERR_NOMEM, __FILE__, __LINE__, __func__, "out of memory");
        if (!err && from->valid)
            memcpy(n->valid, from->valid, sizeof(uint64_t) * (size_t)((from->len + 63) / 64));
        if (err) {
            ts_column_free(n);
            return err;
        }
        ts_column_free(from);
        rows->cols[c] = n;
    }
    return TS_OK;
}

/* INSERT INTO name [(columns)] query: the rows are computed where they are (VALUES rows are dealt over the ranks)
 * and appended to each rank's part; the table's recorded order and partitioning no longer hold. */
static ts_err insert(stmt_run *r, const ts_sql_stmt *st)
{
    ts_sql_entry *e = ts_sql_catalog_find(&r->s->catalog, st->name);
    if (!e || !e->table)
        return ts_sql_error_at(r->script, st->pos, TS_ERR_USAGE, e ? "'%s' is a view: INSERT needs a table"
                               : "table '%s' does not exist (CREATE TABLE it first)", st->name);
    ts_table *t = e->table;
    int *src = ts_sql_alloc(r->script, sizeof *src * (size_t)(t->ncols + 1));
    if (!src)
        return ts_sql_error_at(r->script, st->pos, TS_ERR_NOMEM, "out of memory");
    TS_TRY(ts_ctx_check(r->s->ctx, insert_targets(r, st, t, src)));
    ts_err err = insert_plan(r, st, t, src);
    r->s->next_id = r->b.next_id;
    TS_TRY(ts_ctx_check(r->s->ctx, err));
    ts_table *rows;
    TS_TRY(ts_sql_exec_plan(&r->x, r->plan, &rows));
    if (rows->borrowed) { /* a view of pooled columns: own them, they change below */
        ts_table *copy = NULL;
        err = ts_table_new_like(rows, rows->name, &copy);
        if (!err)
            err = ts_table_append_rows(copy, rows, NULL, ts_table_rows(rows));
        ts_table_free(rows);
        rows = copy;
        TS_TRY_GOTO(err, ts_ctx_check(r->s->ctx, err), done);
    }
    for (int c = 0; !err && c < t->ncols; c++) {
        const ts_column *col = rows->cols[c];
        if (e->not_null && e->not_null[c] && col->valid)
            for (int64_t i = 0; i < col->len && !err; i++)
                if (!ts_column_is_valid(col, i))
                    err = ts_sql_error_at(r->script, st->pos, TS_ERR_DATA, "NOT NULL column '%s' of '%s' would get "
                                          "a NULL", t->cols[c]->name, st->name);
    }
    TS_TRY_GOTO(err, ts_ctx_check(r->s->ctx, err), done);
    for (int c = 0; !err && c < t->ncols; c++) {
        err = conform_column(t, rows, c);
        if (!err)
            snprintf(rows->cols[c]->name, TS_NAME_MAX, "%s", t->cols[c]->name);
    }
    if (!err)
        err = ts_table_append_rows(t, rows, NULL, ts_table_rows(rows));
    int64_t added = 0;
    err = ts_ctx_check(r->s->ctx, err);
    if (!err)
        err = ts_allreduce_sum_i64(r->s->ctx, ts_table_rows(rows), &added);
    if (!err) {
        e->global_rows += added;
        t->nsort = 0, t->npart = 0;
        free(e->stats); /* stale: the next query that reads the table analyzes it again (once for many INSERTs) */
        e->stats = NULL;
        ts_sql_catalog_touch(e);
    }
done:
    ts_table_free(rows);
    return err;
}

static ts_err create_view(stmt_run *r, const ts_sql_stmt *st)
{
    int skip;
    TS_TRY(check_new_name(r, st, &skip));
    if (skip)
        return TS_OK;
    /* check it binds now (errors belong to CREATE VIEW), then keep it as its own parsed text */
    TS_TRY(plan_query(r, st->query));
    ts_sql_script *own;
    TS_TRY(ts_sql_parse(st->text, r->script->filename, &own));
    if (own->nstmts != 1 || own->stmts[0]->kind != TS_SQL_S_CREATE_VIEW) {
        ts_sql_script_free(own);
        TS_FAIL(TS_ERR_INTERNAL, "view '%s': its text did not parse back", st->name);
    }
    remove_created(r->s, st->name);
    return ts_sql_catalog_put(&r->s->catalog, st->name, NULL, 0, own, own->stmts[0]->query);
}

static ts_err drop(stmt_run *r, const ts_sql_stmt *st)
{
    const ts_sql_entry *e = ts_sql_catalog_find(&r->s->catalog, st->name);
    if (!e && st->if_exists)
        return TS_OK;
    if (!e)
        return ts_sql_error_at(r->script, st->pos, TS_ERR_USAGE, "%s '%s' does not exist",
                               st->is_view ? "view" : "table", st->name);
    if (!e->table != !!st->is_view)
        return ts_sql_error_at(r->script, st->pos, TS_ERR_USAGE, "'%s' is a %s, not a %s", st->name,
                               e->table ? "table" : "view", st->is_view ? "view" : "table");
    ts_sql_catalog_drop(&r->s->catalog, st->name);
    remove_created(r->s, st->name);
    return TS_OK;
}

static ts_err explain(stmt_run *r, const ts_sql_stmt *st)
{
    const ts_sql_stmt *in = st->inner;
    if ((in->kind != TS_SQL_S_QUERY && in->kind != TS_SQL_S_CREATE_TABLE) || !in->query)
        return ts_sql_error_at(r->script, st->pos, TS_ERR_USAGE, "EXPLAIN takes a query or CREATE TABLE ... AS");
    TS_TRY(plan_query(r, in->query));
    if (st->analyze) {
        ts_table *t;
        r->x.analyze = 1;
        TS_TRY(execute(r, &t));
        ts_table_free(t);
    }
    if (is_root(r->s)) {
        fprintf(r->s->opt.out, "%s plan on %d rank%s:\n", st->analyze ? "Analyzed" : "Distributed",
                r->s->ctx->size, r->s->ctx->size == 1 ? "" : "s");
        ts_sql_print_plan(r->s->opt.out, r->plan, st->analyze);
        fflush(r->s->opt.out);
    }
    return TS_OK;
}

/* COPY: the query's result (columns under their output names) written as the statement says. */
static ts_err copy_stmt(stmt_run *r, const ts_sql_stmt *st)
{
    TS_TRY(plan_query(r, st->query));
    ts_table *t;
    TS_TRY(execute(r, &t));
    const ts_err err = ts_sql_copy_write(r->s->ctx, r->script, st->copy, t, r->s->opt.quiet);
    ts_table_free(t);
    return err;
}

static const char *stmt_label(const ts_sql_stmt *st)
{
    switch (st->kind) {
    case TS_SQL_S_QUERY: return "query";
    case TS_SQL_S_EXPLAIN: return "explain";
    case TS_SQL_S_COPY: return "copy";
    default: return st->name ? st->name : "statement";
    }
}

/* The statement's operators, min/max over ranks (collective; rank 0 prints). */
static ts_err print_profile(ts_sql_session *s, const ts_sql_exec *x, const char *what)
{
    const int n = x->nprof;
    ts_prof *local = malloc(sizeof *local * (size_t)n), *mn = malloc(sizeof *mn * (size_t)n),
            *mx = malloc(sizeof *mx * (size_t)n);
    const char **names = malloc(sizeof *names * (size_t)n), **labels = malloc(sizeof *labels * (size_t)n);
    ts_err err = local && mn && mx && names && labels ? TS_OK
                 : ts_error_raise(TS_ERR_NOMEM, __FILE__, __LINE__, __func__, "out of memory");
    for (int i = 0; !err && i < n; i++)
        local[i] = x->prof[i].prof, names[i] = x->prof[i].kind, labels[i] = x->prof[i].label;
    if (!err)
        err = ts_prof_reduce(s->ctx, local, n, mn, mx, NULL);
    if (!err && is_root(s)) {
        char title[96];
        snprintf(title, sizeof title, "statement %d (%s)", s->stmt_no + 1, what);
        ts_prof_print(s->opt.out, title, s->ctx->size, "memory", names, labels, mn, mx, n, -1);
        fflush(s->opt.out);
    }
    free(local), free(mn), free(mx), free(names), free(labels);
    return err;
}

/* Starts a new high-water mark of the resident set (Linux: writing 5 to clear_refs), so VmHWM after a statement is
 * that statement's peak. Best effort: without it the peak is the process's. */
static void reset_peak_rss(void)
{
    FILE *f = fopen("/proc/self/clear_refs", "w");
    if (f) {
        fputs("5", f);
        fclose(f);
    }
}

/* Runs one statement; with result != NULL a query's result is gathered there instead of printed. */
static ts_err run_stmt(ts_sql_session *s, ts_sql_script *script, const ts_sql_stmt *st, ts_table **result)
{
    stmt_run r;
    run_init(&r, s, script);
    if (s->opt.timing)
        reset_peak_rss();
    const double t0 = ts_now(), c0 = ts_cpu_seconds();
    const int64_t cold0 = ts_cold_written();
    ts_err err = TS_OK;
    switch (st->kind) {
    case TS_SQL_S_QUERY: {
        ts_table *t = NULL;
        err = plan_query(&r, st->query);
        if (!err)
            err = execute(&r, &t);
        if (!err && result) {
            err = gather(s->ctx, &t);
            *result = t, t = NULL;
        } else if (!err) {
            err = print_result(&r, t), t = NULL;
        }
        ts_table_free(t);
        break;
    }
    case TS_SQL_S_CREATE_TABLE: err = create_table(&r, st); break;
    case TS_SQL_S_CREATE_VIEW: err = create_view(&r, st); break;
    case TS_SQL_S_DROP: err = drop(&r, st); break;
    case TS_SQL_S_EXPLAIN: err = explain(&r, st); break;
    case TS_SQL_S_COPY: err = copy_stmt(&r, st); break;
    case TS_SQL_S_INSERT: err = insert(&r, st); break;
    }
    if (s->ctx->mem_limit) { /* the catalog keeps at most an operator's share in memory, the rest cold */
        if (!err)
            err = ts_sql_catalog_fit(&s->catalog, s->ctx->op_room, ts_spill_dir(s->ctx->spill_dir));
        ts_sql_catalog_release(&s->catalog);
    }
    /* bytes this rank wrote to spill files and cold tables (--memory-limit); a cold result's are both */
    int64_t spilled = ts_cold_written() - cold0;
    err = ts_ctx_check(s->ctx, err);
    if (!err && s->opt.profile && r.x.nprof && st->kind != TS_SQL_S_EXPLAIN)
        err = print_profile(s, &r.x, stmt_label(st));
    for (int i = 0; i < r.x.nprof; i++)
        if (strcmp(r.x.prof[i].kind, "materialize")) /* counted as cold tables */
            spilled += r.x.prof[i].prof.spill_bytes;
    ts_sql_exec_release(&r.x);
    ts_mem_trim_pool(TS_SQL_POOL_KEEP);
    s->stmt_no++;
    if (!err && s->opt.timing) {
        const double seconds = ts_now() - t0;
        int64_t peak[3] = {ts_peak_rss_bytes(), 0, spilled};
        peak[1] = -peak[0];
        err = ts_mpi_status(MPI_Allreduce(MPI_IN_PLACE, peak, 3, MPI_INT64_T, MPI_MAX, s->ctx->comm),
                            "MPI_Allreduce", __FILE__, __LINE__, __func__);
        if (!err && is_root(s))
            fprintf(stderr, "stmt %d %s %.6f\nmem %d %s %" PRId64 " %" PRId64 "\n", s->stmt_no, stmt_label(st),
                    seconds, s->stmt_no, stmt_label(st), peak[0], -peak[1]);
        if (!err && is_root(s) && peak[2] > 0) /* the most any rank spilled */
            fprintf(stderr, "spill %d %s %" PRId64 "\n", s->stmt_no, stmt_label(st), peak[2]);
    }
    if (!err && s->opt.profile && is_root(s) && r.plan && st->kind != TS_SQL_S_EXPLAIN) {
        /* CPU time beside wall time: on a shared machine only the first says what the statement cost */
        fprintf(s->opt.out, "-- %s: %.3f s (rank 0: %.3f s of CPU)\n", stmt_label(st), ts_now() - t0,
                ts_cpu_seconds() - c0);
    }
    return err;
}

static ts_err parse(ts_sql_session *s, const char *text, const char *filename, ts_sql_script **out)
{
    char *expanded;
    ts_err err = ts_sql_substitute(text, filename, s->opt.param_names, s->opt.param_values, s->opt.nparams,
                                   &expanded);
    if (!err) {
        err = ts_sql_parse(expanded, filename, out);
        free(expanded);
    }
    return err;
}

static ts_err run_script(ts_sql_session *s, const char *text, const char *filename, ts_table **result)
{
    ts_sql_script *script;
    TS_TRY(parse(s, text, filename, &script));
    ts_err err = TS_OK;
    const int last = script->nstmts - 1;
    if (result && (last < 0 || script->stmts[last]->kind != TS_SQL_S_QUERY))
        err = ts_error_raise(TS_ERR_USAGE, __FILE__, __LINE__, __func__, "%s: the last statement must be a query",
                             filename);
    int first = 0;
    const ts_sql_created created = {&s->created, &s->ncreated};
    if (!err && s->ck)
        err = ts_sql_ckpt_start(s->ck, s->ctx, script, &s->catalog, created, &first);
    for (int i = first; !err && i <= last; i++) {
        if (ts_fault_armed()) { /* TESSERA_FAULT=RANK:stmt-N:KIND, N counted from 1 in the script */
            char point[32];
            snprintf(point, sizeof point, "stmt-%d", i + 1);
            err = ts_ctx_check(s->ctx, ts_fault_point(point));
        }
        if (!err)
            err = run_stmt(s, script, script->stmts[i], result && i == last ? result : NULL);
        if (!err && s->ck)
            err = ts_sql_ckpt_after(s->ck, s->ctx, script, i, &s->catalog, created);
    }
    ts_sql_script_free(script);
    return err;
}

ts_err ts_sql_run(ts_sql_session *s, const char *text, const char *filename)
{
    return run_script(s, text, filename, NULL);
}

ts_err ts_sql_query_result(ts_sql_session *s, const char *text, const char *filename, ts_table **result)
{
    *result = NULL;
    return run_script(s, text, filename, result);
}

/* ---- shell support ---------------------------------------------------------------------------------------------- */

void ts_sql_session_set_output(ts_sql_session *s, FILE *out, ts_sql_print_mode mode)
{
    if (out)
        s->opt.out = out;
    s->opt.print_mode = mode;
}

static int object_order(const void *a, const void *b)
{
    return strcmp(((const ts_sql_object *)a)->name, ((const ts_sql_object *)b)->name);
}

int ts_sql_session_objects(const ts_sql_session *s, ts_sql_object *out, int cap)
{
    const ts_sql_catalog *c = &s->catalog;
    int n = 0;
    for (int i = 0; i < c->n && n < cap; i++) {
        const ts_sql_entry *e = &c->entries[i];
        out[n++] = (ts_sql_object){e->name, e->table, e->global_rows,
                                   e->view_script && e->view_script->nstmts ? e->view_script->stmts[0]->text : NULL};
    }
    if (n > 1)
        qsort(out, (size_t)n, sizeof *out, object_order);
    return c->n;
}

/* ---- output ---------------------------------------------------------------------------------------------------- */

/* Strings that are long (over 64 bytes somewhere) or hold NUL bytes are stored as bytes + offsets: byte-exact
 * (raw input lines) and without padding every value to the longest. Others as fixed-length strings. */
static ts_err write_table(ts_sql_session *s, ts_h5_file *f, const char *group, const ts_table *t)
{
    const char **bytes_cols = malloc(sizeof *bytes_cols * (size_t)(t->ncols + 1));
    if (!bytes_cols)
        TS_FAIL(TS_ERR_NOMEM, "out of memory");
    int nbytes = 0;
    ts_err err = TS_OK;
    for (int c = 0; !err && c < t->ncols; c++) {
        const ts_column *col = t->cols[c];
        if (col->type != TS_T_STRING)
            continue;
        int wide = 0;
        const int64_t *off = TS_COL(col, int64_t);
        for (int64_t i = 0; i < col->len && !wide; i++)
            wide = off[i + 1] - off[i] > 64 || memchr(col->bytes + off[i], 0, (size_t)(off[i + 1] - off[i]));
        err = ts_mpi_status(MPI_Allreduce(MPI_IN_PLACE, &wide, 1, MPI_INT, MPI_MAX, s->ctx->comm), "MPI_Allreduce",
                            __FILE__, __LINE__, __func__);
        if (wide)
            bytes_cols[nbytes++] = col->name;
    }
    const ts_h5_table_opts opts = {bytes_cols, nbytes};
    if (!err)
        err = ts_h5_write_table(f, group, t, nbytes ? &opts : NULL);
    free(bytes_cols);
    TS_TRY(err);
    return TS_OK;
}

ts_err ts_sql_finish(ts_sql_session *s)
{
    if (!s->opt.out_path)
        return TS_OK;
    const ts_h5_meta meta = {s->opt.job_name ? s->opt.job_name : "sql", s->opt.inputs ? s->opt.inputs : "",
                             TS_VERSION};
    ts_h5_file *f;
    TS_TRY(ts_h5_create(s->ctx->comm, s->opt.out_path, s->opt.overwrite, &meta, &f));
    ts_err err = TS_OK;
    for (int i = 0; !err && i < s->ncreated; i++) {
        const ts_sql_entry *e = ts_sql_catalog_find(&s->catalog, s->created[i]);
        char group[2 * TS_NAME_MAX + 2] = "/";
        snprintf(group + 1, sizeof group - 1, "%s", s->created[i]);
        for (char *c = group; *c; c++)
            if (*c == '.')
                *c = '/';
        if (e && e->table)
            err = write_table(s, f, group, e->table);
    }
    if (err) {
        ts_h5_abandon(f);
        return err;
    }
    return ts_h5_commit(f);
}
