#include "ts_sql_catalog.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ts_cold.h"
#include "ts_mem.h"
#include "ts_sql_parse.h"

ts_sql_entry *ts_sql_catalog_find(const ts_sql_catalog *c, const char *name)
{
    for (int i = 0; i < c->n; i++)
        if (!strcasecmp(c->entries[i].name, name))
            return &c->entries[i];
    return NULL;
}

static void entry_free(ts_sql_entry *e)
{
    free(e->name);
    free(e->stats);
    free(e->not_null);
    ts_table_free(e->table);
    ts_sql_script_free(e->view_script);
}

static int64_t versions; /* the last version handed out (per process, single-threaded) */

ts_err ts_sql_catalog_put(ts_sql_catalog *c, const char *name, ts_table *table, int64_t global_rows,
                          ts_sql_script *view_script, const ts_sql_query *view)
{
    ts_sql_entry *e = ts_sql_catalog_find(c, name);
    if (e) {
        entry_free(e);
    } else {
        if (c->n == c->cap) {
            const int cap = c->cap ? 2 * c->cap : 16;
            ts_sql_entry *grown = realloc(c->entries, sizeof *grown * (size_t)cap);
            if (!grown) {
                ts_table_free(table), ts_sql_script_free(view_script);
                TS_FAIL(TS_ERR_NOMEM, "out of memory adding '%s' to the catalog", name);
            }
            c->entries = grown, c->cap = cap;
        }
        e = &c->entries[c->n++];
    }
    *e = (ts_sql_entry){.name = strdup(name), .table = table, .view_script = view_script, .view = view,
                        .global_rows = global_rows, .version = ++versions};
    if (!e->name) {
        entry_free(e);
        *e = c->entries[--c->n];
        TS_FAIL(TS_ERR_NOMEM, "out of memory adding '%s' to the catalog", name);
    }
    return TS_OK;
}

void ts_sql_catalog_touch(ts_sql_entry *e) { e->version = ++versions; }

ts_err ts_sql_catalog_analyze(ts_ctx *ctx, ts_sql_entry *e)
{
    free(e->stats);
    e->stats = NULL;
    if (!e->table)
        return TS_OK;
    ts_col_stats *st = calloc((size_t)e->table->ncols + 1, sizeof *st);
    const ts_err err = st ? ts_table_stats(ctx, e->table, st) : ts_ctx_check(ctx, ts_error_raise(TS_ERR_NOMEM,
                                                                 __FILE__, __LINE__, __func__, "out of memory"));
    if (err) {
        free(st);
        return err;
    }
    e->stats = st;
    ts_table_release(e->table); /* a cold table's pages the statistics read */
    return TS_OK;
}

/* Bytes of t's columns held in memory (not cold). */
static int64_t warm_bytes(const ts_table *t)
{
    int64_t b = 0;
    for (int i = 0; i < t->ncols; i++) {
        const ts_column *c = t->cols[i];
        if (!ts_mem_is_file(c->data))
            b += c->len * (int64_t)ts_type_width(c->type) + c->nbytes;
    }
    return b;
}

ts_err ts_sql_catalog_fit(ts_sql_catalog *c, int64_t room, const char *dir)
{
    for (;;) {
        int64_t total = 0, largest = 0;
        ts_table *big = NULL;
        for (int i = 0; i < c->n; i++) {
            const ts_table *t = c->entries[i].table;
            const int64_t b = t ? warm_bytes(t) : 0;
            total += b;
            if (b > largest)
                largest = b, big = c->entries[i].table;
        }
        if (total <= room || !big)
            return TS_OK;
        TS_TRY(ts_table_to_cold(big, dir, NULL));
    }
}

void ts_sql_catalog_release(const ts_sql_catalog *c)
{
    for (int i = 0; i < c->n; i++)
        if (c->entries[i].table)
            ts_table_release(c->entries[i].table);
}

int ts_sql_catalog_drop(ts_sql_catalog *c, const char *name)
{
    ts_sql_entry *e = ts_sql_catalog_find(c, name);
    if (!e)
        return 0;
    entry_free(e);
    memmove(e, e + 1, sizeof *e * (size_t)(c->entries + c->n - (e + 1)));
    c->n--;
    return 1;
}

void ts_sql_catalog_free(ts_sql_catalog *c)
{
    for (int i = 0; i < c->n; i++)
        entry_free(&c->entries[i]);
    free(c->entries);
    *c = (ts_sql_catalog){0};
}

const char **ts_sql_catalog_names(const ts_sql_catalog *c, int *n)
{
    const char **names = malloc(sizeof *names * (size_t)(c->n + 1));
    *n = 0;
    for (int i = 0; names && i < c->n; i++)
        names[(*n)++] = c->entries[i].name;
    return names;
}
