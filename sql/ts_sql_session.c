/* Sessions: the catalog, running statements (bind -> optimize -> execute), printing results and writing the
 * created tables to HDF5. */
#include "ts_sql.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "ts_exchange.h"
#include "ts_h5.h"
#include "ts_sql_bind.h"
#include "ts_sql_catalog.h"
#include "ts_sql_exec.h"
#include "ts_sql_opt.h"
#include "ts_sql_parse.h"
#include "ts_sql_print.h"
#include "ts_profile.h"

struct ts_sql_session {
    ts_ctx *ctx;
    ts_sql_options opt;
    char **param_names, **param_values;
    ts_sql_catalog catalog;
    char **created;   /* CREATE TABLE names still in the catalog, in creation order (the output file's tables) */
    int ncreated;
    int next_id;      /* column ids stay unique across the session's statements */
    int stmt_no;
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
static void output_names(const ts_sql_plan *p, int unique, char names[][TS_SQL_ID_MAX])
{
    for (int c = 0; c < p->ncols; c++) {
        snprintf(names[c], TS_SQL_ID_MAX, "%s", p->cols[c].name);
        for (int k = 1; unique; k++) {
            int clash = 0;
            for (int o = 0; o < c && !clash; o++)
                clash = !strcmp(names[o], names[c]);
            if (!clash)
                break;
            snprintf(names[c], TS_SQL_ID_MAX, "%.50s_%d", p->cols[c].name, k);
        }
    }
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
    r->x = (ts_sql_exec){.ctx = s->ctx, .catalog = &s->catalog, .src = script, .quiet = s->opt.quiet};
    r->b = (ts_sql_binder){.ctx = s->ctx, .script = script, .src = script, .catalog = &s->catalog,
                           .next_id = s->next_id, .exec = &r->x};
}

static ts_err plan_query(stmt_run *r, const ts_sql_query *q)
{
    ts_err err = ts_sql_bind_query(&r->b, q, &r->plan);
    if (!err)
        err = ts_sql_optimize(&r->b, &r->plan);
    r->s->next_id = r->b.next_id;
    return ts_ctx_check(r->s->ctx, err);
}

/* The recorded sort order in output names (the sort ran on plan ids); it stops at a key that is not output. */
static void rename_sort_keys(ts_table *t, const ts_sql_plan *p, char names[][TS_SQL_ID_MAX])
{
    int kept = 0;
    for (int k = 0; k < t->nsort; k++) {
        int c = 0;
        while (c < p->ncols && strcmp(p->cols[c].id, t->sort_keys[k]))
            c++;
        if (c == p->ncols)
            break;
        snprintf(t->sort_keys[kept++], TS_NAME_MAX, "%.63s", names[c]);
    }
    t->nsort = kept;
}

/* The recorded partitioning in output names; dropped when a partitioning column is not output. */
static void rename_part_keys(ts_table *t, const ts_sql_plan *p, char names[][TS_SQL_ID_MAX])
{
    for (int k = 0; k < t->npart; k++) {
        int c = 0;
        while (c < p->ncols && strcmp(p->cols[c].id, t->part_keys[k]))
            c++;
        if (c == p->ncols) {
            t->npart = 0;
            return;
        }
        snprintf(t->part_keys[k], TS_NAME_MAX, "%.63s", names[c]);
    }
}

static ts_err execute(stmt_run *r, ts_table **out)
{
    TS_TRY(ts_sql_exec_plan(&r->x, r->plan, out));
    char names[TS_MAX_COLS][TS_SQL_ID_MAX];
    output_names(r->plan, 1, names);
    rename_sort_keys(*out, r->plan, names);
    rename_part_keys(*out, r->plan, names);
    for (int c = 0; c < (*out)->ncols && c < r->plan->ncols; c++)
        snprintf((*out)->cols[c]->name, TS_NAME_MAX, "%.63s", names[c]);
    return TS_OK;
}

/* ---- statements ---------------------------------------------------------------------------------------------- */

static ts_err print_result(stmt_run *r, ts_table *t)
{
    ts_err err = gather(r->s->ctx, &t);
    if (!err && is_root(r->s)) {
        char names[TS_MAX_COLS][TS_SQL_ID_MAX];
        const char *ptr[TS_MAX_COLS];
        output_names(r->plan, 0, names);
        for (int c = 0; c < r->plan->ncols; c++)
            ptr[c] = names[c];
        ts_sql_print_table(r->s->opt.out, t, ptr, r->s->opt.max_print_rows);
        fflush(r->s->opt.out);
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

static ts_err check_new_name(stmt_run *r, const ts_sql_stmt *st, int *skip)
{
    const ts_sql_entry *e = ts_sql_catalog_find(&r->s->catalog, st->name);
    *skip = 0;
    if (!e || st->or_replace)
        return TS_OK;
    if (st->if_not_exists) {
        *skip = 1;
        return TS_OK;
    }
    return ts_sql_error_at(r->script, st->pos, TS_ERR_USAGE, "%s '%s' already exists (use CREATE OR REPLACE)",
                           e->table ? "table" : "view", st->name);
}

static ts_err create_table(stmt_run *r, const ts_sql_stmt *st)
{
    int skip;
    TS_TRY(check_new_name(r, st, &skip));
    if (skip)
        return TS_OK;
    TS_TRY(plan_query(r, st->query));
    ts_table *t;
    TS_TRY(execute(r, &t));
    snprintf(t->name, sizeof t->name, "%s", st->name);
    int64_t rows;
    ts_err err = ts_allreduce_sum_i64(r->s->ctx, ts_table_rows(t), &rows);
    if (err) {
        ts_table_free(t);
        return err;
    }
    TS_TRY(ts_sql_catalog_put(&r->s->catalog, st->name, t, rows, NULL, NULL));
    return add_created(r->s, st->name);
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
    if (in->kind != TS_SQL_S_QUERY && in->kind != TS_SQL_S_CREATE_TABLE)
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

static const char *stmt_label(const ts_sql_stmt *st)
{
    switch (st->kind) {
    case TS_SQL_S_QUERY: return "query";
    case TS_SQL_S_EXPLAIN: return "explain";
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

/* Runs one statement; with result != NULL a query's result is gathered there instead of printed. */
static ts_err run_stmt(ts_sql_session *s, ts_sql_script *script, const ts_sql_stmt *st, ts_table **result)
{
    stmt_run r;
    run_init(&r, s, script);
    const double t0 = ts_now(), c0 = ts_cpu_seconds();
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
    }
    err = ts_ctx_check(s->ctx, err);
    if (!err && s->opt.profile && r.x.nprof && st->kind != TS_SQL_S_EXPLAIN)
        err = print_profile(s, &r.x, stmt_label(st));
    ts_sql_exec_release(&r.x);
    s->stmt_no++;
    if (!err && s->opt.timing && is_root(s))
        fprintf(stderr, "stmt %d %s %.6f\n", s->stmt_no, stmt_label(st), ts_now() - t0);
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
    for (int i = 0; !err && i <= last; i++)
        err = run_stmt(s, script, script->stmts[i], result && i == last ? result : NULL);
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

/* ---- output ---------------------------------------------------------------------------------------------------- */

/* Strings that are long (over 64 bytes somewhere) or hold NUL bytes are stored as bytes + offsets: byte-exact
 * (raw input lines) and without padding every value to the longest. Others as fixed-length strings. */
static ts_err write_table(ts_sql_session *s, ts_h5_file *f, const char *group, const ts_table *t)
{
    const char *bytes_cols[TS_MAX_COLS];
    int nbytes = 0;
    for (int c = 0; c < t->ncols; c++) {
        const ts_column *col = t->cols[c];
        if (col->type != TS_T_STRING)
            continue;
        int wide = 0;
        const int64_t *off = TS_COL(col, int64_t);
        for (int64_t i = 0; i < col->len && !wide; i++)
            wide = off[i + 1] - off[i] > 64 || memchr(col->bytes + off[i], 0, (size_t)(off[i + 1] - off[i]));
        TS_MPI(MPI_Allreduce(MPI_IN_PLACE, &wide, 1, MPI_INT, MPI_MAX, s->ctx->comm));
        if (wide)
            bytes_cols[nbytes++] = col->name;
    }
    const ts_h5_table_opts opts = {bytes_cols, nbytes};
    return ts_h5_write_table(f, group, t, nbytes ? &opts : NULL);
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
