#include "ts_spill.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ts_mem.h"

#define SPILL_BUF (64 * 1024) /* stdio buffer per partition: small, there may be many partitions */

typedef struct spill_part {
    char path[4200];
    FILE *f;
    int64_t rows;
    int64_t size; /* bytes written: where the next batch starts */
} spill_part;

struct ts_spill {
    ts_table *schema;  /* empty columns like the caller's */
    ts_table *scratch; /* the selected rows of one batch, gathered before writing */
    int nparts;
    int64_t bytes;
    spill_part *parts;
};

const char *ts_spill_dir(const char *requested)
{
    const char *tmp = getenv("TMPDIR");
    return requested ? requested : tmp && *tmp ? tmp : "/tmp";
}

static ts_err io_fail(const spill_part *p, const char *what)
{
    const int e = errno;
    TS_FAIL(TS_ERR_IO, "spill file %s: %s failed: %s%s", p->path, what, strerror(e),
            e == ENOSPC ? " (free space in --spill-dir, or raise --memory-limit)" : "");
}

static ts_err open_parts(ts_spill *s, const char *dir, const char *tag, const ts_table *schema)
{
    TS_TRY(ts_table_new_like(schema, "spill", &s->schema));
    TS_TRY(ts_table_new_like(schema, "spill", &s->scratch));
    for (int i = 0; i < s->nparts; i++) {
        spill_part *p = &s->parts[i];
        snprintf(p->path, sizeof p->path, "%s/tessera-spill-%ld-%s-p%03d", dir, (long)getpid(), tag, i);
        if (!(p->f = fopen(p->path, "w+b")))
            return io_fail(p, "create");
        setvbuf(p->f, NULL, _IOFBF, SPILL_BUF);
    }
    return TS_OK;
}

ts_err ts_spill_open(const char *dir, const char *tag, int nparts, const ts_table *schema, ts_spill **out)
{
    *out = NULL;
    ts_spill *s = calloc(1, sizeof *s);
    if (!s || !(s->parts = calloc((size_t)nparts, sizeof *s->parts))) {
        free(s);
        TS_FAIL(TS_ERR_NOMEM, "out of memory opening %d spill partitions", nparts);
    }
    s->nparts = nparts;
    const ts_err err = open_parts(s, dir, tag, schema);
    if (err) {
        ts_spill_close(s);
        return err;
    }
    *out = s;
    return TS_OK;
}

static ts_err put(ts_spill *s, spill_part *p, const void *v, size_t n)
{
    if (n && fwrite(v, 1, n, p->f) != n)
        return io_fail(p, "write");
    s->bytes += (int64_t)n, p->size += (int64_t)n;
    return TS_OK;
}

static ts_err put_column(ts_spill *s, spill_part *p, const ts_column *c)
{
    const int64_t n = c->len;
    if (c->type == TS_T_STRING) {
        const int64_t *off = TS_COL(c, int64_t); /* the scratch's offsets start at 0, as the reader expects */
        TS_TRY(put(s, p, off, 8 * (size_t)(n + 1)));
        TS_TRY(put(s, p, c->bytes, (size_t)off[n]));
    } else {
        TS_TRY(put(s, p, c->data, ts_type_width(c->type) * (size_t)n));
    }
    const uint8_t has_valid = c->valid != NULL;
    TS_TRY(put(s, p, &has_valid, 1));
    return has_valid ? put(s, p, c->valid, 8 * (size_t)((n + 63) / 64)) : TS_OK;
}

/* Empties the scratch table, keeping its allocations for the next batch. */
static void scratch_reset(ts_table *t)
{
    for (int i = 0; i < t->ncols; i++) {
        ts_column *c = t->cols[i];
        c->len = 0, c->nbytes = 0;
        ts_free(c->valid), c->valid = NULL;
        if (c->type == TS_T_STRING && c->cap > 0)
            TS_COL(c, int64_t)[0] = 0;
    }
}

ts_err ts_spill_append(ts_spill *s, int part, int64_t tag, const ts_table *t, const int64_t *rows, int64_t n)
{
    if (part < 0 || part >= s->nparts || t->ncols != s->schema->ncols)
        TS_FAIL(TS_ERR_INTERNAL, "spill: partition %d of %d, %d columns for a schema of %d", part, s->nparts,
                t->ncols, s->schema->ncols);
    if (n == 0)
        return TS_OK;
    spill_part *p = &s->parts[part];
    scratch_reset(s->scratch);
    TS_TRY(ts_table_append_rows(s->scratch, t, rows, n));
    const int64_t head[2] = {n, tag};
    TS_TRY(put(s, p, head, sizeof head));
    for (int i = 0; i < t->ncols; i++)
        TS_TRY(put_column(s, p, s->scratch->cols[i]));
    p->rows += n;
    return TS_OK;
}

static ts_err get(spill_part *p, void *v, size_t n)
{
    if (n && fread(v, 1, n, p->f) != n) {
        if (feof(p->f))
            TS_FAIL(TS_ERR_IO, "spill file %s: truncated (was it removed or the disk full?)", p->path);
        return io_fail(p, "read");
    }
    return TS_OK;
}

static ts_err get_column(spill_part *p, ts_column *c, int64_t n)
{
    const int64_t at = c->len;
    if (c->type == TS_T_STRING) {
        TS_TRY(ts_column_reserve(c, at + n, 0));
        int64_t *off = TS_COL(c, int64_t) + at, base = c->nbytes;
        TS_TRY(get(p, off, 8 * (size_t)(n + 1))); /* off[0] (= 0 in the file) overwrites the old end offset */
        const int64_t bytes = off[n];
        TS_TRY(ts_column_reserve(c, at + n, base + bytes));
        off = TS_COL(c, int64_t) + at;
        for (int64_t i = 0; i <= n; i++)
            off[i] += base;
        TS_TRY(get(p, c->bytes + base, (size_t)bytes));
        c->nbytes = base + bytes;
    } else {
        TS_TRY(ts_column_reserve(c, at + n, 0));
        TS_TRY(get(p, (char *)c->data + ts_type_width(c->type) * (size_t)at, ts_type_width(c->type) * (size_t)n));
    }
    c->len = at + n;
    uint8_t has_valid;
    TS_TRY(get(p, &has_valid, 1));
    if (!has_valid)
        return TS_OK;
    const size_t words = (size_t)((n + 63) / 64);
    uint64_t *bits = malloc(8 * words);
    if (!bits)
        TS_FAIL(TS_ERR_NOMEM, "out of memory reading spill file %s", p->path);
    ts_err err = get(p, bits, 8 * words);
    for (int64_t i = 0; !err && i < n; i++) /* nulls are rare: set them one by one */
        if (!((bits[i >> 6] >> (i & 63)) & 1u))
            err = ts_column_set_null(c, at + i);
    free(bits);
    return err;
}

static ts_err read_part(spill_part *p, ts_table *dst, ts_spill_batch_fn fn, void *arg)
{
    if (fflush(p->f) != 0 || fseek(p->f, 0, SEEK_SET) != 0)
        return io_fail(p, "rewind");
    for (int64_t done = 0; done < p->rows;) {
        int64_t head[2];
        TS_TRY(get(p, head, sizeof head));
        const int64_t first = ts_table_rows(dst);
        for (int i = 0; i < dst->ncols; i++)
            TS_TRY(get_column(p, dst->cols[i], head[0]));
        if (fn)
            TS_TRY(fn(arg, head[1], dst, first, head[0]));
        done += head[0];
    }
    return TS_OK;
}

ts_err ts_spill_read(ts_spill *s, int part, const char *name, ts_spill_batch_fn fn, void *arg, ts_table **out)
{
    spill_part *p = &s->parts[part];
    *out = NULL;
    if (!p->f)
        TS_FAIL(TS_ERR_INTERNAL, "spill partition %d was already read", part);
    TS_TRY(ts_table_new_like(s->schema, name, out));
    ts_err err = TS_OK;
    for (int i = 0; !err && i < (*out)->ncols; i++) /* one allocation per column instead of a growth sequence */
        err = ts_column_reserve((*out)->cols[i], p->rows, 0);
    if (!err)
        err = read_part(p, *out, fn, arg);
    fclose(p->f), p->f = NULL;
    unlink(p->path);
    if (err) {
        ts_table_free(*out);
        *out = NULL;
    }
    return err;
}

ts_err ts_spill_read_at(ts_spill *s, int part, int64_t *offset, ts_table *dst, int64_t *rows)
{
    spill_part *p = &s->parts[part];
    if (!p->f || *offset < 0 || *offset >= p->size)
        TS_FAIL(TS_ERR_INTERNAL, "spill partition %d: no batch at offset %lld", part, (long long)*offset);
    if (fseeko(p->f, (off_t)*offset, SEEK_SET) != 0) /* also ends a write, as switching to reading must */
        return io_fail(p, "seek");
    int64_t head[2];
    TS_TRY(get(p, head, sizeof head));
    for (int i = 0; i < dst->ncols; i++)
        TS_TRY(get_column(p, dst->cols[i], head[0]));
    const off_t at = ftello(p->f);
    if (at < 0)
        return io_fail(p, "tell");
    *offset = (int64_t)at, *rows = head[0];
    return TS_OK;
}

int64_t ts_spill_size(const ts_spill *s, int part) { return s->parts[part].size; }

int64_t ts_table_mem_bytes(const ts_table *t)
{
    int64_t b = 0;
    for (int c = 0; c < t->ncols; c++) {
        const ts_column *col = t->cols[c];
        if (col)
            b += col->len * (int64_t)ts_type_width(col->type) + col->nbytes + (col->valid ? (col->len + 7) / 8 : 0);
    }
    return b;
}

int64_t ts_spill_rows(const ts_spill *s, int part) { return s->parts[part].rows; }
int64_t ts_spill_bytes_written(const ts_spill *s) { return s->bytes; }

void ts_spill_close(ts_spill *s)
{
    if (!s)
        return;
    for (int i = 0; s->parts && i < s->nparts; i++)
        if (s->parts[i].f) {
            fclose(s->parts[i].f);
            unlink(s->parts[i].path);
        }
    ts_table_free(s->scratch), ts_table_free(s->schema);
    free(s->parts);
    free(s);
}
