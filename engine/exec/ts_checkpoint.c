/* Checkpoint files (layout: ts_checkpoint.h). Writing goes through io/ts_h5's collective table writer; the
 * small /meta table is read back whole on every rank (MPI_COMM_SELF), the tables collectively, then moved back
 * to the ranks that saved them by an order-keeping exchange. */
#include "ts_checkpoint.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ts_exchange.h"
#include "ts_fingerprint.h"
#include "ts_h5.h"
#include "ts_h5_read.h"

#ifndef TS_VERSION
#define TS_VERSION "unknown"
#endif

#define ATTR_FP_MAX 32768 /* a longer fingerprint goes into /meta only (HDF5 keeps attributes below 64 KiB) */

struct ts_checkpoint {
    ts_ctx *ctx;
    ts_h5_file *f;  /* open while writing */
    ts_table *meta; /* writing: the rows rank 0 adds; reading: every row, on every rank */
    char path[4200];
};

/* /meta's columns */
enum { M_KIND, M_KEY, M_VALUE, M_NUMBER };
static const char *const META_TEXT[] = {"kind", "key", "value"};

void ts_checkpoint_path(const char *dir, int stage_no, const char *stage, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s/%02d-%s.h5", dir, stage_no, stage);
}

/* ---- the metadata table -------------------------------------------------------------------------------- */

static ts_err new_meta(ts_table **out)
{
    TS_TRY(ts_table_new("meta", out));
    for (int i = 0; i < 3; i++)
        TS_TRY(ts_table_add(*out, META_TEXT[i], TS_T_STRING, 0, NULL, NULL));
    TS_TRY(ts_table_add(*out, "number", TS_T_INT64, 0, NULL, NULL));
    return TS_OK;
}

static ts_err add_meta_n(ts_table *m, const char *kind, const char *key, const char *value, size_t vlen,
                         int64_t number)
{
    TS_TRY(ts_column_append_string(m->cols[M_KIND], kind, (int64_t)strlen(kind)));
    TS_TRY(ts_column_append_string(m->cols[M_KEY], key, (int64_t)strlen(key)));
    TS_TRY(ts_column_append_string(m->cols[M_VALUE], value, (int64_t)vlen));
    ts_column *n = m->cols[M_NUMBER];
    TS_TRY(ts_column_reserve(n, n->len + 1, 0));
    TS_COL(n, int64_t)[n->len++] = number;
    return TS_OK;
}

static ts_err add_meta(ts_table *m, const char *kind, const char *key, const char *value, int64_t number)
{
    return add_meta_n(m, kind, key, value, strlen(value), number);
}

/* Row i's text in column c of the metadata, and whether it equals s. */
static const char *meta_text(const ts_table *m, int c, int64_t i, int64_t *len)
{
    const ts_column *col = m->cols[c];
    const int64_t *o = TS_COL(col, int64_t);
    *len = o[i + 1] - o[i];
    return *len ? col->bytes + o[i] : "";
}

static int meta_is(const ts_table *m, int c, int64_t i, const char *s)
{
    int64_t len;
    const char *t = meta_text(m, c, i, &len);
    return (size_t)len == strlen(s) && memcmp(t, s, (size_t)len) == 0;
}

static int64_t meta_number(const ts_table *m, int64_t i) { return TS_COL(m->cols[M_NUMBER], int64_t)[i]; }

/* Reads /meta of path on this rank alone and checks its columns. Local. */
static ts_err read_meta(const char *path, ts_table **out)
{
    TS_TRY(ts_h5_read_table(MPI_COMM_SELF, path, "/meta", NULL, 0, out));
    const ts_table *m = *out;
    if (m->ncols != 4 || m->cols[M_KIND]->type != TS_T_STRING || m->cols[M_KEY]->type != TS_T_STRING ||
        m->cols[M_VALUE]->type != TS_T_STRING || m->cols[M_NUMBER]->type != TS_T_INT64) {
        ts_table_free(*out);
        *out = NULL;
        TS_FAIL(TS_ERR_DATA, "%s is not a Tessera checkpoint (its /meta table has other columns)", path);
    }
    return TS_OK;
}

/* ---- writing ------------------------------------------------------------------------------------------ */

static ts_err make_dir(const char *dir)
{
    struct stat st;
    if (mkdir(dir, 0777) != 0 && errno != EEXIST)
        TS_FAIL(TS_ERR_IO, "cannot create checkpoint directory '%s': %s", dir, strerror(errno));
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        TS_FAIL(TS_ERR_IO, "checkpoint directory '%s' is not a directory", dir);
    return TS_OK;
}

/* Rank 0: the stage and the fingerprint's "key=value" lines as metadata rows. */
static ts_err describe_run(ts_table *m, int stage_no, const char *stage, const char *fp)
{
    TS_TRY(add_meta(m, "stage", stage, TS_VERSION, stage_no));
    for (const char *line = fp ? fp : ""; *line;) {
        const char *eol = strchr(line, '\n'), *eq = strchr(line, '=');
        const size_t len = eol ? (size_t)(eol - line) : strlen(line);
        if (eq && eq < line + len) {
            char key[1024];
            snprintf(key, sizeof key, "%.*s", (int)(eq - line), line);
            TS_TRY(add_meta_n(m, "fingerprint", key, eq + 1, len - (size_t)(eq - line) - 1, 0));
        }
        line += len + (eol != NULL);
    }
    return TS_OK;
}

ts_err ts_checkpoint_begin(ts_ctx *ctx, const char *dir, int stage_no, const char *stage, const char *job,
                           const char *fingerprint, ts_checkpoint **out)
{
    *out = NULL;
    TS_TRY(ts_ctx_check(ctx, ctx->rank == 0 ? make_dir(dir) : TS_OK));
    ts_checkpoint *ck = calloc(1, sizeof *ck);
    ts_err err = ck ? new_meta(&ck->meta) : ts_error_raise(TS_ERR_NOMEM, __FILE__, __LINE__, __func__, "out of memory");
    if (!err && ctx->rank == 0)
        err = describe_run(ck->meta, stage_no, stage, fingerprint);
    if ((err = ts_ctx_check(ctx, err)) == TS_OK) {
        ck->ctx = ctx;
        ts_checkpoint_path(dir, stage_no, stage, ck->path, sizeof ck->path);
        char what[160];
        snprintf(what, sizeof what, "%s checkpoint after stage %d (%s)", job, stage_no, stage);
        const char *fp = fingerprint && strlen(fingerprint) < ATTR_FP_MAX ? fingerprint : "(see /meta)";
        const ts_h5_meta meta = {what, fp, TS_VERSION};
        err = ts_h5_create(ctx->comm, ck->path, 1, &meta, &ck->f);
    }
    if (err) {
        if (ck)
            ts_table_free(ck->meta);
        free(ck);
        TS_TRY(err);
    }
    *out = ck;
    return TS_OK;
}

/* Rank 0: the table's name, partitioning, DICT columns with their dictionaries and every rank's row count. */
static ts_err describe_table(ts_table *m, const char *key, const ts_table *t, const int64_t *counts, int nranks)
{
    TS_TRY(add_meta(m, "table", key, t->name, t->ncols));
    for (int i = 0; i < t->npart; i++)
        TS_TRY(add_meta(m, "part", key, t->part_keys[i], i));
    for (int i = 0; i < t->ncols; i++) {
        const ts_column *c = t->cols[i];
        if (c->type != TS_T_DICT)
            continue;
        char ck[2 * TS_NAME_MAX + 8];
        snprintf(ck, sizeof ck, "%s/%s", key, c->name);
        TS_TRY(add_meta(m, "dictcol", ck, "", c->dict->n));
        for (int32_t v = 0; v < c->dict->n; v++) {
            int64_t len;
            const char *s = ts_dict_value(c->dict, v, &len);
            TS_TRY(add_meta_n(m, "dict", ck, s, (size_t)len, v));
        }
    }
    for (int r = 0; r < nranks; r++)
        TS_TRY(add_meta(m, "slab", key, "", counts[r]));
    return TS_OK;
}

/* The writer's view of t: DICT columns as their int32 codes (shallow copies sharing t's arrays) and every
 * STRING column listed as bytes+offsets (exact bytes, NULs included). */
static ts_err storage_view(const ts_table *t, ts_column *shadow, const char **bytes_cols, int *nbytes,
                           ts_table **out)
{
    TS_TRY(ts_table_new(t->name, out));
    ts_table *v = *out;
    v->borrowed = 1; /* the columns are t's (or shallow copies on the caller's stack) */
    *nbytes = 0;
    for (int i = 0; i < t->ncols; i++) {
        shadow[i] = *t->cols[i];
        if (shadow[i].type == TS_T_DICT)
            shadow[i].type = TS_T_INT32, shadow[i].dict = NULL;
        else if (shadow[i].type == TS_T_STRING)
            bytes_cols[(*nbytes)++] = shadow[i].name;
        TS_TRY(ts_table_borrow(v, &shadow[i])); /* v is freed by the caller on failure */
    }
    v->nsort = t->nsort;
    memcpy(v->sort_keys, t->sort_keys, sizeof v->sort_keys);
    return TS_OK;
}

ts_err ts_checkpoint_put_table(ts_checkpoint *ck, const char *key, const ts_table *t)
{
    ts_ctx *ctx = ck->ctx;
    if (!*key || strchr(key, '/'))
        TS_FAIL(TS_ERR_USAGE, "checkpoint table key '%s' must be a non-empty name without '/'", key);
    int64_t rows = ts_table_rows(t), *counts = ctx->rank == 0 ? malloc(sizeof *counts * (size_t)ctx->size) : NULL;
    ts_err err = ctx->rank == 0 && !counts ? ts_error_raise(TS_ERR_NOMEM, __FILE__, __LINE__, __func__,
                                                            "out of memory") : TS_OK;
    TS_TRY(ts_ctx_check(ctx, err));
    TS_MPI(MPI_Gather(&rows, 1, MPI_INT64_T, counts, 1, MPI_INT64_T, 0, ctx->comm));
    if (ctx->rank == 0)
        err = describe_table(ck->meta, key, t, counts, ctx->size);
    free(counts);
    TS_TRY(ts_ctx_check(ctx, err));

    const size_t ncols = (size_t)(t->ncols ? t->ncols : 1);
    ts_column *shadow = malloc(sizeof *shadow * ncols);
    const char **bytes_cols = malloc(sizeof *bytes_cols * ncols);
    int nbytes = 0;
    ts_table *view = NULL;
    err = shadow && bytes_cols ? storage_view(t, shadow, bytes_cols, &nbytes, &view)
                               : ts_error_raise(TS_ERR_NOMEM, __FILE__, __LINE__, __func__, "out of memory");
    if ((err = ts_ctx_check(ctx, err)) == TS_OK) {
        char group[TS_NAME_MAX * 2 + 16];
        snprintf(group, sizeof group, "/tables/%s", key);
        const ts_h5_table_opts opts = {bytes_cols, nbytes};
        err = ts_h5_write_table(ck->f, group, view, &opts); /* collective: the same result on every rank */
    }
    ts_table_free(view);
    free(shadow), free(bytes_cols);
    TS_TRY(err);
    return TS_OK;
}

ts_err ts_checkpoint_put_counts(ts_checkpoint *ck, const char *key, const int64_t *v, int n)
{
    ts_err err = TS_OK;
    for (int i = 0; ck->ctx->rank == 0 && !err && i < n; i++)
        err = add_meta(ck->meta, "count", key, "", v[i]);
    TS_TRY(ts_ctx_check(ck->ctx, err));
    return TS_OK;
}

static void free_ck(ts_checkpoint *ck)
{
    ts_table_free(ck->meta);
    free(ck);
}

ts_err ts_checkpoint_commit(ts_checkpoint *ck)
{
    const ts_h5_table_opts opts = {META_TEXT, 3};
    ts_err err = ts_h5_write_table(ck->f, "/meta", ck->meta, &opts);
    if (err)
        ts_h5_abandon(ck->f);
    else
        err = ts_h5_commit(ck->f);
    free_ck(ck);
    TS_TRY(err);
    return TS_OK;
}

void ts_checkpoint_abandon(ts_checkpoint *ck)
{
    if (!ck)
        return;
    ts_h5_abandon(ck->f);
    free_ck(ck);
}

/* ---- resuming ----------------------------------------------------------------------------------------- */

/* The fingerprint lines of a checkpoint's metadata as text (malloc'ed). */
static ts_err saved_fingerprint(const ts_table *m, char **out)
{
    size_t cap = 1;
    const int64_t n = ts_table_rows(m);
    for (int64_t i = 0; i < n; i++) {
        int64_t kl, vl;
        meta_text(m, M_KEY, i, &kl), meta_text(m, M_VALUE, i, &vl);
        cap += (size_t)(kl + vl + 2);
    }
    char *t = malloc(cap), *at = t;
    if (!t)
        TS_FAIL(TS_ERR_NOMEM, "out of memory");
    for (int64_t i = 0; i < n; i++) {
        if (!meta_is(m, M_KIND, i, "fingerprint"))
            continue;
        int64_t kl, vl;
        const char *k = meta_text(m, M_KEY, i, &kl), *v = meta_text(m, M_VALUE, i, &vl);
        at += sprintf(at, "%.*s=%.*s\n", (int)kl, k, (int)vl, v);
    }
    *at = '\0';
    *out = t;
    return TS_OK;
}

ts_err ts_checkpoint_fingerprint(const ts_checkpoint *ck, char **out) { return saved_fingerprint(ck->meta, out); }

/* Rank 0: whether path's fingerprint is fp (*same), with the first difference in why. Unreadable files are
 * reported as different. */
static void compare_run(const char *path, const char *fp, int *same, char *why, size_t cap)
{
    ts_table *m = NULL;
    char *saved = NULL;
    ts_err err = read_meta(path, &m);
    if (!err)
        err = saved_fingerprint(m, &saved);
    if (err) {
        snprintf(why, cap, "cannot read it: %s", ts_error_headline());
        ts_error_clear();
        *same = 0;
    } else {
        *same = ts_fp_same(saved, fp ? fp : "", why, cap);
    }
    free(saved);
    ts_table_free(m);
}

static ts_err find_on_root(const char *dir, const int *stage_no, const char *const *stage, int n, const char *fp,
                           int *found)
{
    char path[4200], newest[4200] = "", why[1024] = "", first_why[1024] = "";
    *found = -1;
    int best = -1;
    for (int i = 0; i < n; i++) {
        ts_checkpoint_path(dir, stage_no[i], stage[i], path, sizeof path);
        if (access(path, F_OK) != 0)
            continue;
        int same;
        compare_run(path, fp, &same, why, sizeof why);
        if (same && (best < 0 || stage_no[i] > stage_no[best]))
            best = i;
        if (!same) /* candidates come in stage order: the last mismatch is the newest, named in the message */
            snprintf(newest, sizeof newest, "%s", path), snprintf(first_why, sizeof first_why, "%s", why);
    }
    *found = best;
    if (best < 0 && *newest)
        TS_FAIL(TS_ERR_USAGE, "cannot resume: checkpoint %s belongs to another run (%s); run without --resume to "
                "start over, or resume with the same inputs, options and number of ranks", newest, first_why);
    return TS_OK;
}

ts_err ts_checkpoint_find(ts_ctx *ctx, const char *dir, const int *stage_no, const char *const *stage, int n,
                          const char *fingerprint, int *found)
{
    *found = -1;
    const ts_err err = ctx->rank == 0 ? find_on_root(dir, stage_no, stage, n, fingerprint, found) : TS_OK;
    TS_TRY(ts_ctx_check(ctx, err));
    TS_MPI(MPI_Bcast(found, 1, MPI_INT, 0, ctx->comm));
    return TS_OK;
}

ts_err ts_checkpoint_open(ts_ctx *ctx, const char *path, ts_checkpoint **out)
{
    *out = NULL;
    ts_checkpoint *ck = calloc(1, sizeof *ck);
    ts_err err = ck ? read_meta(path, &ck->meta)
                    : ts_error_raise(TS_ERR_NOMEM, __FILE__, __LINE__, __func__, "out of memory");
    if ((err = ts_ctx_check(ctx, err))) {
        if (ck)
            free_ck(ck);
        TS_TRY(err);
    }
    ck->ctx = ctx;
    snprintf(ck->path, sizeof ck->path, "%s", path);
    *out = ck;
    return TS_OK;
}

void ts_checkpoint_close(ts_checkpoint *ck)
{
    if (ck)
        free_ck(ck);
}

/* The saved dictionary of column key/col; replaced by a known one with the same values. */
static ts_err saved_dict(const ts_checkpoint *ck, const char *kc, int64_t n, ts_dict *const *known, int nknown,
                         ts_dict **out)
{
    const ts_table *m = ck->meta;
    const char **v = malloc(sizeof *v * (size_t)(n + 1));
    char **own = calloc((size_t)n + 1, sizeof *own);
    ts_err err = v && own ? TS_OK : ts_error_raise(TS_ERR_NOMEM, __FILE__, __LINE__, __func__, "out of memory");
    int64_t got = 0;
    for (int64_t i = 0; !err && i < ts_table_rows(m); i++) {
        if (!meta_is(m, M_KIND, i, "dict") || !meta_is(m, M_KEY, i, kc))
            continue;
        int64_t len;
        const char *s = meta_text(m, M_VALUE, i, &len);
        if (got >= n || meta_number(m, i) != got)
            err = ts_error_raise(TS_ERR_DATA, __FILE__, __LINE__, __func__, "%s: the dictionary of %s is damaged",
                                 ck->path, kc);
        else if (!(own[got] = strndup(s, (size_t)len)))
            err = ts_error_raise(TS_ERR_NOMEM, __FILE__, __LINE__, __func__, "out of memory");
        else
            v[got] = own[got], got++;
    }
    if (!err && got != n)
        err = ts_error_raise(TS_ERR_DATA, __FILE__, __LINE__, __func__, "%s: the dictionary of %s has %lld of %lld "
                             "values", ck->path, kc, (long long)got, (long long)n);
    if (!err)
        err = ts_dict_new(v, (int32_t)n, out);
    for (int k = 0; !err && k < nknown; k++) {
        const ts_dict *d = known[k];
        if (!d || d->n != (*out)->n || d->offsets[d->n] != (*out)->offsets[n] ||
            memcmp(d->offsets, (*out)->offsets, sizeof *d->offsets * (size_t)(n + 1)) != 0 ||
            memcmp(d->bytes, (*out)->bytes, (size_t)d->offsets[d->n]) != 0)
            continue;
        ts_dict_release(*out);
        *out = ts_dict_retain(known[k]);
        break;
    }
    for (int64_t i = 0; own && i < n; i++)
        free(own[i]);
    free(own);
    free(v);
    return err;
}

/* The int32 codes of the saved DICT columns become DICT columns again. Local. */
static ts_err restore_dicts(const ts_checkpoint *ck, const char *key, ts_table *t, ts_dict *const *known, int nknown)
{
    const ts_table *m = ck->meta;
    for (int64_t i = 0; i < ts_table_rows(m); i++) {
        if (!meta_is(m, M_KIND, i, "dictcol"))
            continue;
        int64_t len;
        const char *kc = meta_text(m, M_KEY, i, &len);
        const size_t kl = strlen(key);
        if ((size_t)len <= kl + 1 || memcmp(kc, key, kl) != 0 || kc[kl] != '/')
            continue;
        char name[TS_NAME_MAX], full[2 * TS_NAME_MAX + 8];
        snprintf(name, sizeof name, "%.*s", (int)(len - (int64_t)kl - 1), kc + kl + 1);
        snprintf(full, sizeof full, "%s/%s", key, name);
        ts_column *c;
        TS_TRY(ts_table_need(t, name, &c));
        if (c->type != TS_T_INT32)
            TS_FAIL(TS_ERR_DATA, "%s: column %s holds no dictionary codes", ck->path, full);
        ts_dict *d;
        TS_TRY(saved_dict(ck, full, meta_number(m, i), known, nknown, &d));
        for (int64_t r = 0; r < c->len; r++)
            if (ts_column_is_valid(c, r) && (TS_COL(c, int32_t)[r] < 0 || TS_COL(c, int32_t)[r] >= d->n)) {
                ts_dict_release(d);
                TS_FAIL(TS_ERR_DATA, "%s: column %s has a code outside its dictionary", ck->path, full);
            }
        c->type = TS_T_DICT, c->dict = d;
    }
    return TS_OK;
}

/* Every rank's saved row count (P of them) into counts; the table's name into name. Local. */
static ts_err saved_layout(const ts_checkpoint *ck, const char *key, int64_t *counts, int nranks, char *name,
                           size_t cap)
{
    const ts_table *m = ck->meta;
    int got = 0, seen = 0;
    for (int64_t i = 0; i < ts_table_rows(m); i++) {
        if (!meta_is(m, M_KEY, i, key))
            continue;
        if (meta_is(m, M_KIND, i, "slab")) {
            if (got < nranks)
                counts[got] = meta_number(m, i);
            got++;
        } else if (meta_is(m, M_KIND, i, "table")) {
            int64_t len;
            const char *s = meta_text(m, M_VALUE, i, &len);
            snprintf(name, cap, "%.*s", (int)len, s);
            seen = 1;
        }
    }
    if (!seen)
        TS_FAIL(TS_ERR_DATA, "checkpoint %s has no table '%s'", ck->path, key);
    if (got != nranks)
        TS_FAIL(TS_ERR_USAGE, "checkpoint %s was written by %d ranks, this run has %d: resume with %d", ck->path, got,
                nranks, got);
    return TS_OK;
}

/* Sends each row back to the rank that saved it: the reader gave rank r the even slab [r*N/P, (r+1)*N/P). */
static ts_err back_to_savers(ts_ctx *ctx, ts_table **t, const int64_t *counts)
{
    int64_t n = ts_table_rows(*t), first = 0;
    TS_MPI(MPI_Exscan(&n, &first, 1, MPI_INT64_T, MPI_SUM, ctx->comm));
    first = ctx->rank == 0 ? 0 : first;
    int32_t *dest = malloc(sizeof *dest * (size_t)(n + 1));
    ts_err err = dest ? TS_OK : ts_error_raise(TS_ERR_NOMEM, __FILE__, __LINE__, __func__, "out of memory");
    TS_TRY(ts_ctx_check(ctx, err));
    int r = 0;
    int64_t end = counts[0];
    for (int64_t i = 0; i < n; i++) { /* global rows ascend: walk the savers' ranges once */
        while (first + i >= end && r + 1 < ctx->size)
            end += counts[++r];
        dest[i] = r;
    }
    err = ts_exchange_rows_move(ctx, t, dest);
    free(dest);
    TS_TRY(err);
    return TS_OK;
}

static void restore_order(const ts_checkpoint *ck, const char *key, const char *name, int nsort,
                          char (*sort_keys)[TS_NAME_MAX], ts_table *t)
{
    const ts_table *m = ck->meta;
    snprintf(t->name, sizeof t->name, "%s", name);
    t->nsort = nsort;
    memcpy(t->sort_keys, sort_keys, sizeof t->sort_keys);
    t->npart = 0;
    for (int64_t i = 0; i < ts_table_rows(m) && t->npart < 8; i++)
        if (meta_is(m, M_KIND, i, "part") && meta_is(m, M_KEY, i, key)) {
            int64_t len;
            const char *s = meta_text(m, M_VALUE, i, &len);
            snprintf(t->part_keys[t->npart++], TS_NAME_MAX, "%.*s", (int)len, s);
        }
}

ts_err ts_checkpoint_get_table(ts_checkpoint *ck, const char *key, ts_dict *const *known, int nknown,
                               ts_table **out)
{
    ts_ctx *ctx = ck->ctx;
    *out = NULL;
    char name[TS_NAME_MAX * 2] = "", group[TS_NAME_MAX * 2 + 16];
    int64_t *counts = malloc(sizeof *counts * (size_t)ctx->size);
    ts_err err = counts ? saved_layout(ck, key, counts, ctx->size, name, sizeof name)
                        : ts_error_raise(TS_ERR_NOMEM, __FILE__, __LINE__, __func__, "out of memory");
    if ((err = ts_ctx_check(ctx, err))) {
        free(counts);
        TS_TRY(err);
    }
    snprintf(group, sizeof group, "/tables/%s", key);
    ts_table *t = NULL;
    err = ts_h5_read_table(ctx->comm, ck->path, group, NULL, 0, &t); /* collective, agreed */
    if (!err)
        err = ts_ctx_check(ctx, restore_dicts(ck, key, t, known, nknown));
    const int nsort = t ? t->nsort : 0;
    char sort_keys[8][TS_NAME_MAX];
    if (t)
        memcpy(sort_keys, t->sort_keys, sizeof sort_keys);
    if (!err)
        err = back_to_savers(ctx, &t, counts);
    free(counts);
    if (err) {
        ts_table_free(t);
        TS_TRY(err);
    }
    restore_order(ck, key, name, nsort, sort_keys, t);
    *out = t;
    return TS_OK;
}

ts_err ts_checkpoint_get_counts(const ts_checkpoint *ck, const char *key, int64_t *v, int n)
{
    const ts_table *m = ck->meta;
    int got = 0;
    for (int64_t i = 0; i < ts_table_rows(m); i++)
        if (meta_is(m, M_KIND, i, "count") && meta_is(m, M_KEY, i, key)) {
            if (got < n)
                v[got] = meta_number(m, i);
            got++;
        }
    if (got != n)
        TS_FAIL(TS_ERR_DATA, "checkpoint %s holds %d counters '%s', expected %d", ck->path, got, key, n);
    return TS_OK;
}

ts_err ts_checkpoint_clear(ts_ctx *ctx, const char *dir, const int *stage_no, const char *const *stage, int n,
                           int *removed)
{
    *removed = 0;
    char path[4200];
    for (int i = 0; ctx->rank == 0 && i < n; i++) {
        ts_checkpoint_path(dir, stage_no[i], stage[i], path, sizeof path);
        if (unlink(path) == 0)
            (*removed)++;
    }
    TS_MPI(MPI_Bcast(removed, 1, MPI_INT, 0, ctx->comm));
    return TS_OK;
}
