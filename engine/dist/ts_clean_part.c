/* The cleaning operator's partitioned mode (ts_clean.h: ts_clean_begin_partitioned): clean rows go to spill
 * partitions piece by piece during the scan, and come back one partition at a time. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ts_clean.h"
#include "ts_clean_part.h"
#include "ts_cold.h"
#include "ts_keyhash.h"
#include "ts_mem.h"
#include "ts_spill.h"

ts_err ts_clean_spill_piece(void *arg, ts_table *clean, int64_t first, int range)
{
    ts_clean *c = arg;
    const int64_t n = ts_table_rows(clean) - first;
    if (!c->spill) /* the first piece: clean has its columns now */
        TS_TRY(ts_spill_open(c->spill_dir, "clean", c->nparts, clean, &c->spill));
    if (n <= 0)
        return TS_OK;
    if (n > c->order_cap) {
        free(c->order);
        c->order_cap = 0;
        if (!(c->order = malloc(sizeof *c->order * (size_t)n)))
            TS_FAIL(TS_ERR_NOMEM, "out of memory partitioning %lld rows", (long long)n);
        c->order_cap = n;
    }
    int64_t *start = calloc((size_t)c->nparts + 1, sizeof *start);
    int32_t *part = malloc(sizeof *part * (size_t)n);
    if (!start || !part) {
        free(start), free(part);
        TS_FAIL(TS_ERR_NOMEM, "out of memory partitioning %lld rows", (long long)n);
    }
    ts_err err = TS_OK;
    c->part_of(c->part_arg, clean, first, n, part);
    for (int64_t i = 0; i < n && !err; i++) {
        if (part[i] < 0 || part[i] >= c->nparts)
            err = ts_error_raise(TS_ERR_INTERNAL, __FILE__, __LINE__, __func__, "partition %d of %d", part[i],
                                 c->nparts);
        else
            start[part[i] + 1]++;
    }
    for (int p = 0; p < c->nparts; p++) /* a stable counting sort keeps each partition in input order */
        start[p + 1] += start[p];
    for (int64_t i = 0; i < n && !err; i++)
        c->order[start[part[i]]++] = first + i;
    for (int p = 0; p < c->nparts && !err; p++) { /* start[p] is now the end of partition p */
        const int64_t b = p ? start[p - 1] : 0;
        err = ts_spill_append(c->spill, p, range, clean, c->order + b, start[p] - b);
    }
    free(start), free(part);
    TS_TRY(err);
    ts_table_truncate(clean, first);
    return TS_OK;
}

/* Spilled rows carry range-local line indexes (the scan numbers lines only at its end): make them positions. */
static ts_err batch_positions(void *arg, int64_t tag, ts_table *dst, int64_t first, int64_t n)
{
    const ts_clean *c = arg;
    ts_column *line = ts_table_col(dst, "__line");
    if (!line || tag < 0 || tag >= c->scan.nranges)
        TS_FAIL(TS_ERR_INTERNAL, "spilled rows without line numbers or with range %lld", (long long)tag);
    int64_t *v = TS_COL(line, int64_t);
    for (int64_t i = first; i < first + n; i++)
        v[i] = ts_scan_line_pos(&c->scan, (int)tag, v[i]);
    return TS_OK;
}

ts_err ts_clean_load_partition(ts_ctx *ctx, ts_clean *c, int part)
{
    ts_table_free(c->scan.clean);
    c->scan.clean = NULL, c->deduped = 0;
    ts_err err = TS_OK;
    if (!c->spill) /* no piece had been scanned on this rank */
        err = ts_error_raise(TS_ERR_INTERNAL, __FILE__, __LINE__, __func__, "no spill to load partition %d from",
                             part);
    if (!err)
        err = ts_spill_read(c->spill, part, c->rules->table, batch_positions, c, &c->scan.clean);
    if (!err)
        snprintf(ts_table_col(c->scan.clean, "__line")->name, TS_NAME_MAX, "__pos");
    return ts_ctx_check(ctx, err);
}

void ts_clean_take(ts_clean *c, ts_table **rows)
{
    *rows = c->scan.clean;
    c->rows_taken += ts_table_rows(c->scan.clean);
    c->scan.clean = NULL, c->deduped = 1;
}

int64_t ts_clean_spilled_bytes(const ts_clean *c) { return c->spill ? ts_spill_bytes_written(c->spill) : 0; }

ts_err ts_clean_defer_lines(ts_clean *c, const int64_t *pos, int64_t n)
{
    TS_TRY(ts_reserve((void **)&c->pending, &c->pending_cap, c->npending + n, sizeof *c->pending));
    memcpy(c->pending + c->npending, pos, sizeof *pos * (size_t)n);
    c->npending += n;
    return TS_OK;
}

ts_err ts_clean_fetch_pending(ts_clean *c)
{
    const int64_t n = c->npending;
    if (n == 0)
        return TS_OK;
    int64_t *order, *sorted = malloc(sizeof *sorted * (size_t)n), *where = malloc(sizeof *where * (size_t)n);
    ts_column *lines = NULL;
    ts_err err = sorted && where ? TS_OK : ts_error_raise(TS_ERR_NOMEM, __FILE__, __LINE__, __func__,
                                                           "out of memory fetching %lld lines", (long long)n);
    if (!err) /* fetching walks the input once, in order */
        err = ts_clean_pos_order(c->pending, n, &order);
    for (int64_t j = 0; !err && j < n; j++) {
        const int64_t k = order ? order[j] : j;
        sorted[j] = c->pending[k], where[k] = j;
    }
    if (!err)
        free(order), err = ts_column_new("raw_line", TS_T_STRING, 0, NULL, &lines);
    if (!err)
        err = ts_scan_fetch_lines(&c->scan, sorted, n, lines);
    if (!err) /* the rejects' k-th deferred row gets line where[k] */
        err = ts_column_append_rows(ts_table_col(c->scan.rejects, "raw_line"), lines, where, n);
    ts_column_free(lines);
    free(sorted), free(where);
    if (!err)
        c->npending = 0;
    return err;
}

/* A clean row's partition from its values (not its position: every column but the __ ones), so all copies of a
 * line share a partition. The high bits of the hash, as the exchange uses the low ones. */
static void content_partition(void *arg, const ts_table *clean, int64_t first, int64_t n, int32_t *part)
{
    const int nparts = *(const int *)arg;
    const char *names[TS_MAX_COLS];
    int k = 0;
    for (int i = 0; i < clean->ncols && k < TS_MAX_COLS; i++)
        if (strncmp(clean->cols[i]->name, "__", 2))
            names[k++] = clean->cols[i]->name;
    ts_key_cols key;
    if (ts_key_cols_resolve(clean, names, k, &key)) { /* cannot happen (the names are the table's); one partition
                                                          is still exact */
        ts_error_clear();
        memset(part, 0, sizeof *part * (size_t)n);
        return;
    }
    for (int64_t i = 0; i < n; i++)
        part[i] = (int32_t)(((ts_key_hash(&key, first + i) >> 32) * (uint64_t)nparts) >> 32);
}

/* Each partition's deduplicated rows appended to a cold table (collective: the partition steps are). */
static ts_err partitions_to_cold(ts_ctx *ctx, ts_clean *c, int nparts, const char *spill_dir, ts_table **out)
{
    ts_cold *b = NULL;
    ts_err err = TS_OK;
    for (int p = 0; !err && p < nparts; p++) {
        err = ts_clean_load_partition(ctx, c, p);
        if (!err)
            err = ts_clean_dedup(ctx, c);
        ts_table *rows = NULL;
        if (!err) {
            ts_clean_take(c, &rows);
            ts_err mine = b ? TS_OK : ts_cold_begin(rows, spill_dir, &b);
            if (!mine)
                mine = ts_cold_append(b, rows, 0, ts_table_rows(rows));
            err = ts_ctx_check(ctx, mine);
        }
        ts_table_free(rows);
    }
    if (!err)
        err = ts_ctx_check(ctx, ts_cold_finish(b, c->rules->table, out));
    else
        ts_cold_free(b);
    return err;
}

ts_err ts_clean_scan_spilled(ts_ctx *ctx, const ts_file_info *files, int nfiles, ts_rules *rules,
                             const char *ref_dir, int nparts, int64_t chunk_bytes, const char *spill_dir,
                             ts_clean_result *out)
{
    ts_clean c;
    memset(out, 0, sizeof *out);
    TS_TRY(ts_clean_begin_partitioned(ctx, files, nfiles, rules, ref_dir, nparts, chunk_bytes, spill_dir,
                                      content_partition, &nparts, &c));
    ts_table *clean = NULL;
    ts_err err = partitions_to_cold(ctx, &c, nparts, spill_dir, &clean);
    if (!err)
        err = ts_clean_finish(ctx, &c, out);
    ts_clean_free(&c);
    if (err) {
        ts_table_free(clean);
        ts_clean_result_free(out);
        return err;
    }
    ts_table_free(out->clean);
    out->clean = clean;
    return TS_OK;
}
