/* Checkpoints of a SQL script: see ts_sql_checkpoint.h. */
#include "ts_sql_checkpoint.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "ts_checkpoint.h"
#include "ts_fingerprint.h"

typedef struct saved_table {
    char *name;
    int64_t version; /* the catalog version saved */
    int stmt;        /* 1-based number of the statement whose checkpoint holds its rows */
    char key[24];    /* its key there */
} saved_table;

struct ts_sql_ckpt {
    char dir[4096];
    int resume;
    char **inputs; /* files the statements bound so far, in order, each once */
    int ninputs;
    saved_table *saved;
    int nsaved, nkeys;
    ts_fingerprint *fp; /* scratch (1 MiB) */
};

ts_err ts_sql_ckpt_new(const char *dir, int resume, ts_sql_ckpt **out)
{
    ts_sql_ckpt *k = calloc(1, sizeof *k);
    if (k && !(k->fp = malloc(sizeof *k->fp))) {
        free(k);
        k = NULL;
    }
    if (!k)
        TS_FAIL(TS_ERR_NOMEM, "out of memory");
    if (strlen(dir) >= sizeof k->dir) {
        ts_sql_ckpt_free(k);
        TS_FAIL(TS_ERR_USAGE, "--checkpoint: directory name too long");
    }
    snprintf(k->dir, sizeof k->dir, "%s", dir);
    k->resume = resume;
    *out = k;
    return TS_OK;
}

void ts_sql_ckpt_free(ts_sql_ckpt *k)
{
    if (!k)
        return;
    for (int i = 0; i < k->ninputs; i++)
        free(k->inputs[i]);
    for (int i = 0; i < k->nsaved; i++)
        free(k->saved[i].name);
    free(k->inputs), free(k->saved), free(k->fp), free(k);
}

/* An allocation failure here only leaves a file out of the fingerprint, so the note is best effort. */
void ts_sql_ckpt_note_input(void *arg, const char *path)
{
    ts_sql_ckpt *k = arg;
    for (int i = 0; i < k->ninputs; i++)
        if (!strcmp(k->inputs[i], path))
            return;
    char **g = realloc(k->inputs, sizeof *g * (size_t)(k->ninputs + 1));
    if (!g)
        return;
    k->inputs = g;
    if ((g[k->ninputs] = strdup(path)))
        k->ninputs++;
}

static int changes_state(const ts_sql_stmt *st)
{
    return st->kind == TS_SQL_S_CREATE_TABLE || st->kind == TS_SQL_S_DROP || st->kind == TS_SQL_S_INSERT ||
           st->kind == TS_SQL_S_COPY;
}

/* The checkpoint file's stage name: the statement's table (or "copy"), in file-name-safe characters. */
static void stage_name(const ts_sql_stmt *st, char *buf, size_t cap)
{
    const char *name = st->kind == TS_SQL_S_COPY ? "copy" : st->name ? st->name : "statement";
    size_t n = 0;
    for (; name[n] && n + 1 < cap && n < 48; n++) {
        const char c = name[n];
        buf[n] = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
                         c == '-' ? c : '_';
    }
    buf[n] = '\0';
}

/* Rank 0: the fingerprint of the state after statement i: ranks, statements 1..i, then the inputs (the given
 * paths, or those noted so far). */
static ts_err fingerprint(ts_sql_ckpt *k, const ts_ctx *ctx, const ts_sql_script *script, int i,
                          char *const *inputs, int ninputs)
{
    ts_fp_init(k->fp);
    TS_TRY(ts_fp_add(k->fp, "job", "sql"));
    TS_TRY(ts_fp_add(k->fp, "ranks", "%d", ctx->size));
    for (int j = 0; j <= i; j++) {
        char key[32];
        snprintf(key, sizeof key, "statement %d", j + 1);
        const char *t = script->stmts[j]->text ? script->stmts[j]->text : "";
        TS_TRY(ts_fp_add_bytes(k->fp, key, t, strlen(t)));
    }
    for (int j = 0; j < ninputs; j++) {
        char key[4200];
        snprintf(key, sizeof key, "input:%s", inputs[j]);
        TS_TRY(ts_fp_add_file(k->fp, key, inputs[j]));
    }
    return TS_OK;
}

static saved_table *find_saved(ts_sql_ckpt *k, const char *name)
{
    for (int i = 0; i < k->nsaved; i++)
        if (!strcasecmp(k->saved[i].name, name))
            return &k->saved[i];
    return NULL;
}

static ts_err remember(ts_sql_ckpt *k, const char *name, int64_t version, int stmt, const char *key)
{
    saved_table *s = find_saved(k, name);
    if (!s) {
        saved_table *g = realloc(k->saved, sizeof *g * (size_t)(k->nsaved + 1));
        if (!g)
            TS_FAIL(TS_ERR_NOMEM, "out of memory");
        k->saved = g;
        s = &g[k->nsaved];
        if (!(s->name = strdup(name)))
            TS_FAIL(TS_ERR_NOMEM, "out of memory");
        k->nsaved++;
    }
    s->version = version, s->stmt = stmt;
    snprintf(s->key, sizeof s->key, "%s", key);
    return TS_OK;
}

static int created_rank(ts_sql_created created, const char *name)
{
    for (int i = 0; i < *created.n; i++)
        if (!strcasecmp((*created.names)[i], name))
            return i;
    return -1;
}

/* The `catalog` table of a checkpoint: one row per table of cat (the same rows on every rank). */
static ts_err catalog_list(ts_sql_ckpt *k, const ts_sql_catalog *cat, ts_sql_created created, ts_table **out)
{
    ts_column *name, *stmt, *key, *order, *rows, *notnull;
    TS_TRY(ts_table_new("catalog", out));
    TS_TRY(ts_table_add(*out, "name", TS_T_STRING, 0, NULL, &name));
    TS_TRY(ts_table_add(*out, "stmt", TS_T_INT64, 0, NULL, &stmt));
    TS_TRY(ts_table_add(*out, "key", TS_T_STRING, 0, NULL, &key));
    TS_TRY(ts_table_add(*out, "created", TS_T_INT64, 0, NULL, &order));
    TS_TRY(ts_table_add(*out, "rows", TS_T_INT64, 0, NULL, &rows));
    TS_TRY(ts_table_add(*out, "not_null", TS_T_STRING, 0, NULL, &notnull));
    for (int i = 0; i < cat->n; i++) {
        const ts_sql_entry *e = &cat->entries[i];
        const saved_table *s = e->table ? find_saved(k, e->name) : NULL;
        if (!s)
            continue;
        char flags[TS_MAX_COLS + 1] = "";
        for (int c = 0; e->not_null && c < e->table->ncols && c < TS_MAX_COLS; c++)
            flags[c] = e->not_null[c] ? '1' : '0', flags[c + 1] = '\0';
        const int64_t v[3] = {s->stmt, created_rank(created, e->name), e->global_rows};
        ts_column *num[3] = {stmt, order, rows};
        for (int j = 0; j < 3; j++) {
            TS_TRY(ts_column_reserve(num[j], num[j]->len + 1, 0));
            TS_COL(num[j], int64_t)[num[j]->len++] = v[j];
        }
        TS_TRY(ts_column_append_string(name, e->name, (int64_t)strlen(e->name)));
        TS_TRY(ts_column_append_string(key, s->key, (int64_t)strlen(s->key)));
        TS_TRY(ts_column_append_string(notnull, flags, (int64_t)strlen(flags)));
    }
    return TS_OK;
}

ts_err ts_sql_ckpt_after(ts_sql_ckpt *k, ts_ctx *ctx, const ts_sql_script *script, int i, ts_sql_catalog *cat,
                         ts_sql_created created)
{
    const ts_sql_stmt *st = script->stmts[i];
    if (!changes_state(st))
        return TS_OK;
    char stage[64];
    stage_name(st, stage, sizeof stage);
    TS_TRY(ts_ctx_check(ctx, ctx->rank == 0 ? fingerprint(k, ctx, script, i, k->inputs, k->ninputs) : TS_OK));
    ts_checkpoint *ck = NULL;
    TS_TRY(ts_checkpoint_begin(ctx, k->dir, i + 1, stage, "sql", ctx->rank == 0 ? k->fp->text : "", &ck));
    for (int s = 0; s < k->nsaved; s++) /* dropped tables leave the list */
        if (!ts_sql_catalog_find(cat, k->saved[s].name)) {
            free(k->saved[s].name);
            k->saved[s--] = k->saved[--k->nsaved];
        }
    ts_err err = TS_OK;
    for (int e = 0; !err && e < cat->n; e++) { /* the same entries in the same order on every rank */
        const ts_sql_entry *en = &cat->entries[e];
        const saved_table *s = en->table ? find_saved(k, en->name) : NULL;
        if (!en->table || (s && s->version == en->version))
            continue;
        char key[24];
        snprintf(key, sizeof key, "t%d", ++k->nkeys);
        err = ts_checkpoint_put_table(ck, key, en->table);
        if (!err)
            err = remember(k, en->name, en->version, i + 1, key);
    }
    ts_table *list = NULL;
    if (!err)
        err = ts_ctx_check(ctx, catalog_list(k, cat, created, &list));
    if (!err)
        err = ts_checkpoint_put_table(ck, "catalog", list);
    ts_table_free(list);
    if (err) {
        ts_checkpoint_abandon(ck);
        return err;
    }
    return ts_checkpoint_commit(ck);
}

/* ---- resuming ---------------------------------------------------------------------------------------------------- */

/* Rank 0: the "input:<path>" keys of a saved fingerprint text, in order, into k->inputs (the files statements
 * 1..i read, which resumed statements would have noted). */
static ts_err inputs_of(ts_sql_ckpt *k, const char *saved)
{
    for (const char *line = saved; *line;) {
        const char *end = strchr(line, '\n'), *eq = strchr(line, '=');
        if (!end)
            end = line + strlen(line);
        if (!strncmp(line, "input:", 6) && eq && eq < end) {
            char path[4200];
            snprintf(path, sizeof path, "%.*s", (int)(eq - line - 6), line + 6);
            ts_sql_ckpt_note_input(k, path);
        }
        line = *end ? end + 1 : end;
    }
    return TS_OK;
}

/* Whether checkpoint ck is of this run up to statement i (collective; rank 0 compares). why: the difference. */
static ts_err matches(ts_sql_ckpt *k, ts_ctx *ctx, const ts_sql_script *script, int i, ts_checkpoint *ck,
                      int *same, char *why, size_t cap)
{
    ts_err err = TS_OK;
    *same = 0;
    if (ctx->rank == 0) {
        char *saved = NULL;
        err = ts_checkpoint_fingerprint(ck, &saved);
        for (int j = 0; j < k->ninputs; j++)
            free(k->inputs[j]);
        k->ninputs = 0;
        if (!err)
            err = inputs_of(k, saved);
        if (!err)
            err = fingerprint(k, ctx, script, i, k->inputs, k->ninputs);
        if (!err)
            *same = ts_fp_same(saved, k->fp->text, why, cap);
        free(saved);
    }
    TS_TRY(ts_ctx_check(ctx, err));
    TS_MPI(MPI_Bcast(same, 1, MPI_INT, 0, ctx->comm));
    return TS_OK;
}

/* One table of the list: from ck when it is statement `stmt`'s checkpoint, else from that statement's file. */
static ts_err load_table(ts_sql_ckpt *k, ts_ctx *ctx, const ts_sql_script *script, int here, ts_checkpoint *ck,
                         int stmt, const char *key, ts_table **out)
{
    if (stmt == here)
        return ts_checkpoint_get_table(ck, key, NULL, 0, out);
    if (stmt < 1 || stmt > script->nstmts)
        TS_FAIL(TS_ERR_DATA, "checkpoint: a table saved by statement %d of a %d-statement script", stmt,
                script->nstmts);
    char stage[64], path[4400];
    stage_name(script->stmts[stmt - 1], stage, sizeof stage);
    ts_checkpoint_path(k->dir, stmt, stage, path, sizeof path);
    ts_checkpoint *other = NULL;
    TS_TRY(ts_checkpoint_open(ctx, path, &other));
    const ts_err err = ts_checkpoint_get_table(other, key, NULL, 0, out);
    ts_checkpoint_close(other);
    return err;
}

/* The tables of ck's list into cat, with their NOT NULL flags and statistics, and the created names in order. */
static ts_err restore(ts_sql_ckpt *k, ts_ctx *ctx, const ts_sql_script *script, int here, ts_checkpoint *ck,
                      ts_sql_catalog *cat, ts_sql_created created)
{
    ts_table *list = NULL;
    TS_TRY(ts_checkpoint_get_table(ck, "catalog", NULL, 0, &list));
    const int64_t n = ts_table_rows(list);
    const ts_column *name = ts_table_col(list, "name"), *key = ts_table_col(list, "key"),
                    *flags = ts_table_col(list, "not_null");
    const int64_t *stmt = TS_COL(ts_table_col(list, "stmt"), int64_t),
                  *order = TS_COL(ts_table_col(list, "created"), int64_t),
                  *rows = TS_COL(ts_table_col(list, "rows"), int64_t);
    char **names = calloc((size_t)n + 1, sizeof *names);
    int ncreated = 0;
    ts_err err = names ? TS_OK : ts_error_raise(TS_ERR_NOMEM, __FILE__, __LINE__, __func__, "out of memory");
    for (int64_t r = 0; !err && r < n; r++) {
        char nm[2 * TS_NAME_MAX + 2], ky[24], fl[TS_MAX_COLS + 1];
        const int64_t *o[3] = {TS_COL(name, int64_t), TS_COL(key, int64_t), TS_COL(flags, int64_t)};
        char *dst[3] = {nm, ky, fl};
        const size_t caps[3] = {sizeof nm, sizeof ky, sizeof fl};
        const ts_column *src[3] = {name, key, flags};
        for (int j = 0; j < 3; j++)
            snprintf(dst[j], caps[j], "%.*s", (int)(o[j][r + 1] - o[j][r]), src[j]->bytes + o[j][r]);
        ts_table *t = NULL;
        err = load_table(k, ctx, script, here, ck, (int)stmt[r], ky, &t);
        if (!err)
            err = ts_sql_catalog_put(cat, nm, t, rows[r], NULL, NULL);
        else
            ts_table_free(t);
        ts_sql_entry *e = err ? NULL : ts_sql_catalog_find(cat, nm);
        if (e && fl[0] && !(e->not_null = calloc((size_t)e->table->ncols + 1, 1)))
            err = ts_error_raise(TS_ERR_NOMEM, __FILE__, __LINE__, __func__, "out of memory");
        for (int c = 0; e && e->not_null && fl[c] && c < e->table->ncols; c++)
            e->not_null[c] = fl[c] == '1';
        if (!err)
            err = ts_sql_catalog_analyze(ctx, e);
        if (!err)
            err = remember(k, nm, e->version, (int)stmt[r], ky);
        if (!err && order[r] >= 0 && order[r] < n && !names[order[r]]) {
            if (!(names[order[r]] = strdup(nm)))
                err = ts_error_raise(TS_ERR_NOMEM, __FILE__, __LINE__, __func__, "out of memory");
            ncreated++;
        }
    }
    ts_table_free(list);
    for (int64_t r = 0, w = 0; !err && r < n; r++) /* the creation order, without gaps */
        if (names[r]) {
            char *moved = names[r];
            names[r] = NULL, names[w++] = moved;
        }
    if (err) {
        for (int64_t r = 0; names && r < n; r++)
            free(names[r]);
        free(names);
        return err;
    }
    for (int i = 0; i < *created.n; i++)
        free((*created.names)[i]);
    free(*created.names);
    *created.names = names, *created.n = ncreated;
    return TS_OK;
}

/* Rank 0's answer, on every rank: does path exist? */
static ts_err exists(ts_ctx *ctx, const char *path, int *yes)
{
    *yes = ctx->rank == 0 && access(path, F_OK) == 0;
    TS_MPI(MPI_Bcast(yes, 1, MPI_INT, 0, ctx->comm));
    return TS_OK;
}

static ts_err resume(ts_sql_ckpt *k, ts_ctx *ctx, const ts_sql_script *script, ts_sql_catalog *cat,
                     ts_sql_created created, int *skip)
{
    char why[512] = "", newest[4400] = "";
    for (int i = script->nstmts - 1; i >= 0; i--) {
        if (!changes_state(script->stmts[i]))
            continue;
        char stage[64], path[4400];
        stage_name(script->stmts[i], stage, sizeof stage);
        ts_checkpoint_path(k->dir, i + 1, stage, path, sizeof path);
        int yes = 0, same = 0;
        TS_TRY(exists(ctx, path, &yes));
        if (!yes)
            continue;
        ts_checkpoint *ck = NULL;
        TS_TRY(ts_checkpoint_open(ctx, path, &ck));
        char w[512] = "";
        ts_err err = matches(k, ctx, script, i, ck, &same, w, sizeof w);
        if (!err && same)
            err = restore(k, ctx, script, i + 1, ck, cat, created);
        ts_checkpoint_close(ck);
        TS_TRY(err);
        if (same) {
            *skip = i + 1;
            if (ctx->rank == 0)
                fprintf(stderr, "resume: skipping statements 1-%d (checkpoint %s)\n", i + 1, path);
            return TS_OK;
        }
        if (!newest[0]) /* the newest checkpoint's difference is the one to report */
            snprintf(newest, sizeof newest, "%s", path), snprintf(why, sizeof why, "%s", w);
    }
    for (int j = 0; j < k->ninputs; j++) /* from a checkpoint that did not match */
        free(k->inputs[j]);
    k->ninputs = 0;
    if (newest[0])
        TS_FAIL(TS_ERR_USAGE, "--resume: no checkpoint in %s is of this run; the newest, %s, differs: %s (run "
                "without --resume to start again)", k->dir, newest, why);
    if (ctx->rank == 0)
        fprintf(stderr, "resume: no checkpoint in %s; running every statement\n", k->dir);
    return TS_OK;
}

ts_err ts_sql_ckpt_start(ts_sql_ckpt *k, ts_ctx *ctx, const ts_sql_script *script, ts_sql_catalog *cat,
                         ts_sql_created created, int *skip)
{
    *skip = 0;
    int n = 0;
    for (int i = 0; i < script->nstmts; i++) {
        const ts_sql_stmt *st = script->stmts[i];
        if (st->kind == TS_SQL_S_CREATE_VIEW || st->is_view)
            TS_FAIL(TS_ERR_USAGE, "--checkpoint: statement %d defines a view, and checkpoints keep tables only "
                    "(use CREATE TABLE ... AS)", i + 1);
        n += changes_state(st);
    }
    if (k->resume)
        return resume(k, ctx, script, cat, created, skip);
    int *no = malloc(sizeof *no * (size_t)(n + 1));
    char(*stage)[64] = malloc(sizeof *stage * (size_t)(n + 1));
    const char **names = malloc(sizeof *names * (size_t)(n + 1));
    ts_err err = no && stage && names ? TS_OK : ts_error_raise(TS_ERR_NOMEM, __FILE__, __LINE__, __func__, "oom");
    for (int i = 0, j = 0; !err && i < script->nstmts; i++)
        if (changes_state(script->stmts[i])) {
            no[j] = i + 1;
            stage_name(script->stmts[i], stage[j], sizeof stage[j]);
            names[j] = stage[j];
            j++;
        }
    int removed = 0;
    if (!err)
        err = ts_checkpoint_clear(ctx, k->dir, no, names, n, &removed);
    if (!err && removed && ctx->rank == 0)
        fprintf(stderr, "removed %d checkpoint%s of an earlier run from %s\n", removed, removed == 1 ? "" : "s",
                k->dir);
    free(no), free(stage), free(names);
    return err;
}
