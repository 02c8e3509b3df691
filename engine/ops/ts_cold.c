#include "ts_cold.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ts_mem.h"

#define REBASE_ROWS 65536 /* STRING offsets are rebased through a buffer of this many entries */

typedef struct cold_col {
    int fd, fd_bytes;   /* values (STRING: offsets) and, for STRING, the payload; -1 when not open */
    int64_t nbytes;     /* STRING payload bytes so far */
    uint64_t *valid;    /* validity of the rows so far (NULL while every row is valid); unused bits are 1 */
    int64_t valid_cap;  /* words */
} cold_col;

struct ts_cold {
    ts_table *schema;   /* empty columns like the caller's */
    char dir[4096];
    cold_col *cols;
    int64_t rows, written;
    int64_t *rebase;    /* REBASE_ROWS offsets */
};

static int64_t g_written; /* ts_cold_written */

int64_t ts_cold_written(void) { return g_written; }

static ts_err io_fail(const char *dir, const char *what)
{
    const int e = errno;
    TS_FAIL(TS_ERR_IO, "cold table file in %s: %s failed: %s%s", dir, what, strerror(e),
            e == ENOSPC ? " (free space in --spill-dir, or raise --memory-limit)" : "");
}

/* A new file in dir, already unlinked: it lives as long as its descriptor or a mapping of it. */
static ts_err open_file(const char *dir, int *fd)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/tessera-cold-%ld-XXXXXX", dir, (long)getpid());
    if ((*fd = mkstemp(path)) < 0)
        return io_fail(dir, "create");
    unlink(path);
    return TS_OK;
}

static ts_err write_at(const ts_cold *b, int fd, const void *p, size_t n, int64_t at)
{
    const char *c = p;
    while (n > 0) {
        const ssize_t w = pwrite(fd, c, n, (off_t)at);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return io_fail(b->dir, "write");
        c += w, n -= (size_t)w, at += w;
        g_written += w;
    }
    return TS_OK;
}

void ts_cold_free(ts_cold *b)
{
    if (!b)
        return;
    for (int i = 0; b->cols && i < b->schema->ncols; i++) {
        if (b->cols[i].fd >= 0)
            close(b->cols[i].fd);
        if (b->cols[i].fd_bytes >= 0)
            close(b->cols[i].fd_bytes);
        ts_free(b->cols[i].valid);
    }
    free(b->cols);
    free(b->rebase);
    ts_table_free(b->schema);
    free(b);
}

ts_err ts_cold_begin(const ts_table *schema, const char *dir, ts_cold **out)
{
    *out = NULL;
    ts_cold *b = calloc(1, sizeof *b);
    if (!b)
        TS_FAIL(TS_ERR_NOMEM, "out of memory");
    snprintf(b->dir, sizeof b->dir, "%s", dir);
    ts_err err = ts_table_new_like(schema, schema->name, &b->schema);
    if (!err && (!(b->cols = calloc((size_t)schema->ncols, sizeof *b->cols)) ||
                 !(b->rebase = malloc(sizeof *b->rebase * REBASE_ROWS))))
        err = ts_error_raise(TS_ERR_NOMEM, __FILE__, __LINE__, __func__, "out of memory");
    for (int i = 0; !err && i < schema->ncols; i++) {
        b->cols[i].fd = b->cols[i].fd_bytes = -1;
        err = open_file(dir, &b->cols[i].fd);
        if (!err && schema->cols[i]->type == TS_T_STRING) {
            err = open_file(dir, &b->cols[i].fd_bytes);
            static const int64_t zero = 0; /* offsets[0] */
            if (!err)
                err = write_at(b, b->cols[i].fd, &zero, sizeof zero, TS_ALIGN);
        }
    }
    if (err) {
        ts_cold_free(b);
        return err;
    }
    *out = b;
    return TS_OK;
}

/* Validity of rows [first, first + n) of src after row b->rows of cc: a bitmap only once some row is NULL. */
static ts_err append_validity(ts_cold *b, cold_col *cc, const ts_column *src, int64_t first, int64_t n)
{
    if (!src->valid && !cc->valid)
        return TS_OK;
    const int64_t words = (b->rows + n + 63) / 64;
    if (words > cc->valid_cap) {
        const int64_t old = cc->valid_cap;
        TS_TRY(ts_reserve((void **)&cc->valid, &cc->valid_cap, words, sizeof(uint64_t)));
        memset(cc->valid + old, 0xff, (size_t)(cc->valid_cap - old) * sizeof(uint64_t));
    }
    for (int64_t i = 0; src->valid && i < n; i++)
        if (!ts_column_is_valid(src, first + i)) {
            const int64_t r = b->rows + i;
            cc->valid[r >> 6] &= ~(UINT64_C(1) << (r & 63));
        }
    return TS_OK;
}

static ts_err append_strings(ts_cold *b, cold_col *cc, const ts_column *src, int64_t first, int64_t n)
{
    const int64_t *off = TS_COL(src, int64_t);
    const int64_t base = off[first];
    TS_TRY(write_at(b, cc->fd_bytes, src->bytes + base, (size_t)(off[first + n] - base), TS_ALIGN + cc->nbytes));
    for (int64_t done = 0; done < n;) {
        const int64_t k = n - done < REBASE_ROWS ? n - done : REBASE_ROWS;
        for (int64_t i = 0; i < k; i++)
            b->rebase[i] = off[first + done + i + 1] - base + cc->nbytes;
        TS_TRY(write_at(b, cc->fd, b->rebase, (size_t)k * sizeof(int64_t),
                        TS_ALIGN + (b->rows + done + 1) * (int64_t)sizeof(int64_t)));
        done += k;
    }
    cc->nbytes += off[first + n] - base;
    b->written += (off[first + n] - base) + n * (int64_t)sizeof(int64_t);
    return TS_OK;
}

ts_err ts_cold_append(ts_cold *b, const ts_table *src, int64_t first, int64_t n)
{
    if (src->ncols != b->schema->ncols)
        TS_FAIL(TS_ERR_INTERNAL, "cold table '%s': %d columns appended to %d", b->schema->name, src->ncols,
                b->schema->ncols);
    if (n <= 0)
        return TS_OK;
    for (int i = 0; i < src->ncols; i++) {
        const ts_column *c = src->cols[i];
        cold_col *cc = &b->cols[i];
        if (c->type != b->schema->cols[i]->type || first + n > c->len)
            TS_FAIL(TS_ERR_INTERNAL, "cold table '%s': column %d does not match", b->schema->name, i);
        if (c->type == TS_T_STRING)
            TS_TRY(append_strings(b, cc, c, first, n));
        else {
            const size_t w = ts_type_width(c->type);
            TS_TRY(write_at(b, cc->fd, (const char *)c->data + (size_t)first * w, (size_t)n * w,
                            TS_ALIGN + b->rows * (int64_t)w));
            b->written += n * (int64_t)w;
        }
        TS_TRY(append_validity(b, cc, c, first, n));
    }
    b->rows += n;
    return TS_OK;
}

int64_t ts_cold_bytes(const ts_cold *b) { return b->written; }

/* Maps column i's files into a new column of b->rows rows. */
static ts_err map_column(ts_cold *b, int i, ts_column **out)
{
    const ts_column *like = b->schema->cols[i];
    cold_col *cc = &b->cols[i];
    ts_column *c;
    TS_TRY(ts_column_new_like(like, &c));
    ts_free(c->data), ts_free(c->bytes), ts_free(c->valid); /* a new column's first allocations */
    c->data = c->bytes = NULL, c->valid = NULL;
    const size_t w = ts_type_width(like->type);
    const int64_t values = b->rows + (like->type == TS_T_STRING);
    ts_err err = ts_mem_map_file(cc->fd, (size_t)values * w, "a cold column", &c->data);
    if (!err && like->type == TS_T_STRING)
        err = ts_mem_map_file(cc->fd_bytes, (size_t)cc->nbytes, "a cold column's strings", (void **)&c->bytes);
    if (err) {
        ts_column_free(c);
        return err;
    }
    c->len = c->cap = b->rows;
    c->nbytes = c->bytes_cap = cc->nbytes;
    c->valid = cc->valid, cc->valid = NULL;
    *out = c;
    return TS_OK;
}

ts_err ts_cold_finish(ts_cold *b, const char *name, ts_table **out)
{
    *out = NULL;
    ts_table *t = NULL;
    ts_err err = ts_table_new(name, &t);
    for (int i = 0; !err && i < b->schema->ncols; i++) {
        ts_column *c = NULL;
        if (!(err = map_column(b, i, &c)))
            err = ts_table_adopt(t, c);
    }
    ts_cold_free(b);
    if (err) {
        ts_table_free(t);
        return err;
    }
    *out = t;
    return TS_OK;
}

ts_err ts_cold_block(void **p, size_t n, const char *dir)
{
    if (!*p || ts_mem_is_file(*p))
        return TS_OK;
    ts_cold b = {0}; /* for write_at's messages */
    snprintf(b.dir, sizeof b.dir, "%s", dir);
    int fd;
    TS_TRY(open_file(dir, &fd));
    void *m = NULL;
    ts_err err = write_at(&b, fd, *p, n, TS_ALIGN);
    if (!err)
        err = ts_mem_map_file(fd, n, "a cold block", &m);
    close(fd);
    TS_TRY(err);
    ts_free(*p);
    *p = m;
    return TS_OK;
}

int ts_table_is_cold(const ts_table *t)
{
    for (int i = 0; i < t->ncols; i++)
        if (ts_mem_is_file(t->cols[i]->data))
            return 1;
    return 0;
}

ts_err ts_table_to_cold(ts_table *t, const char *dir, int64_t *written)
{
    if (written)
        *written = 0;
    ts_table *warm;
    TS_TRY(ts_table_new(t->name, &warm)); /* a view of the columns still in memory */
    warm->borrowed = 1;
    ts_err err = TS_OK;
    for (int i = 0; !err && i < t->ncols; i++)
        if (!ts_mem_is_file(t->cols[i]->data) && t->cols[i]->len > 0)
            err = ts_table_borrow(warm, t->cols[i]);
    ts_cold *b = NULL;
    ts_table *cold = NULL;
    if (!err && warm->ncols > 0 && !(err = ts_cold_begin(warm, dir, &b)) &&
        !(err = ts_cold_append(b, warm, 0, ts_table_rows(warm)))) {
        const int64_t bytes = ts_cold_bytes(b);
        if (!(err = ts_cold_finish(b, t->name, &cold)) && written)
            *written = bytes;
        b = NULL;
    }
    ts_cold_free(b);
    for (int k = 0; !err && cold && k < cold->ncols; k++) /* swap each moved column for its cold twin */
        for (int i = 0; i < t->ncols; i++)
            if (t->cols[i] == warm->cols[k]) {
                ts_column_free(t->cols[i]);
                t->cols[i] = cold->cols[k], cold->cols[k] = NULL;
                break;
            }
    if (cold)
        cold->ncols = 0;
    ts_table_free(cold);
    ts_table_free(warm);
    return err;
}

void ts_table_release(const ts_table *t)
{
    for (int i = 0; i < t->ncols; i++)
        ts_column_release(t->cols[i], 0, t->cols[i]->len);
}
