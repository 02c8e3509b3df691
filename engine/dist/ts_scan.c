#include "ts_scan.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ts_csv_lex.h"
#include "ts_fault.h"
#include "ts_hash.h"
#include "ts_mem.h"

/* Rank root's list of files to every rank (plain bytes: ts_file_info holds no pointer). */
static ts_err bcast_file_list(ts_ctx *ctx, ts_file_info **files, int *nfiles, int root)
{
    ts_err err = TS_OK;
    TS_MPI(MPI_Bcast(nfiles, 1, MPI_INT, root, ctx->comm));
    if (sizeof **files * (size_t)*nfiles > INT_MAX) /* every rank knows nfiles now: all fail alike */
        TS_FAIL(TS_ERR_USAGE, "%d input files: at most %d are supported (merge small files)", *nfiles,
                (int)(INT_MAX / sizeof **files));
    if (ctx->rank != root && !(*files = calloc((size_t)(*nfiles ? *nfiles : 1), sizeof **files)))
        err = ts_error_raise(TS_ERR_NOMEM, __FILE__, __LINE__, __func__, "out of memory for the file list");
    TS_TRY(ts_ctx_check(ctx, err));
    TS_MPI(MPI_Bcast(*files, (int)(sizeof **files * (size_t)*nfiles), MPI_BYTE, root, ctx->comm));
    return TS_OK;
}

/* Rank 0's listing (its error, or *files / *n) made collective: the error everywhere, or the list everywhere. */
static ts_err share_list(ts_ctx *ctx, ts_err err, ts_file_info **files, int *n)
{
    err = ts_ctx_check(ctx, err);
    if (!err)
        err = bcast_file_list(ctx, files, n, 0);
    if (err) {
        free(*files), *files = NULL, *n = 0;
        TS_TRY(err);
    }
    return TS_OK;
}

ts_err ts_scan_share_files(ts_ctx *ctx, ts_err err, ts_file_info **files, int *n)
{
    return share_list(ctx, err, files, n);
}

ts_err ts_scan_list_inputs(ts_ctx *ctx, const char *pattern, ts_file_info **files, int *n)
{
    *files = NULL, *n = 0;
    TS_TRY(share_list(ctx, ctx->rank == 0 ? ts_list_inputs(pattern, files, n) : TS_OK, files, n));
    return TS_OK;
}

static ts_err list_dir(ts_ctx *ctx, const char *dir, ts_file_info **files, int *n)
{
    ts_err err = TS_OK;
    *files = NULL, *n = 0;
    if (ctx->rank == 0) {
        static const char *const suffixes[] = {".csv", ".csv.gz", ".parquet"};
        err = ts_list_files(dir, suffixes, 3, files, n);
        if (!err && *n == 0)
            err = ts_error_raise(TS_ERR_IO, __FILE__, __LINE__, __func__, "no .csv, .csv.gz or .parquet file in '%s'",
                                 dir);
    }
    TS_TRY(share_list(ctx, err, files, n));
    return TS_OK;
}

/* The work split needs the same list everywhere: compare a hash of (path, size, gz) across ranks. */
static ts_err check_same_files(ts_ctx *ctx, const ts_file_info *files, int nfiles)
{
    uint64_t h = ts_hash_u64((uint64_t)nfiles);
    for (int i = 0; i < nfiles; i++) {
        h = ts_hash_combine(h, ts_hash_bytes(files[i].path, strlen(files[i].path), 7));
        h = ts_hash_combine(h, (uint64_t)files[i].size * 4 + (uint64_t)files[i].gz + 2 * (uint64_t)files[i].parquet);
    }
    uint64_t mm[2] = {h, ~h}, red[2];
    TS_MPI(MPI_Allreduce(mm, red, 2, MPI_UINT64_T, MPI_MAX, ctx->comm));
    if (red[0] != h || ~red[1] != h)
        TS_FAIL(TS_ERR_USAGE, "the scan's file list differs between ranks (list the files on one rank and "
                              "broadcast them, e.g. with ts_scan_list_inputs)");
    return TS_OK;
}

static ts_err add_range(ts_scan *s, int32_t file, int64_t begin, int64_t end)
{
    ts_scan_range *r = realloc(s->ranges, sizeof *r * (size_t)(s->nranges + 1));
    if (!r)
        TS_FAIL(TS_ERR_NOMEM, "out of memory for scan ranges");
    s->ranges = r;
    r[s->nranges++] = (ts_scan_range){.file = file, .begin = begin, .end = end};
    return TS_OK;
}

static int cmp_ranges(const void *a, const void *b)
{
    const ts_scan_range *x = a, *y = b;
    return x->file != y->file ? (x->file > y->file) - (x->file < y->file) : (x->begin > y->begin) - (x->begin < y->begin);
}

/* Plain files: equal byte ranges of their concatenation. Gzip files: LPT on compressed size. Every rank computes
 * the same assignment from the same file list. */
static ts_err assign_ranges(ts_ctx *ctx, ts_scan *s)
{
    int64_t total = 0;
    for (int i = 0; i < s->nfiles; i++)
        total += ts_file_whole(&s->files[i]) ? 0 : s->files[i].size;
    const int64_t lo = total / ctx->size * ctx->rank + total % ctx->size * ctx->rank / ctx->size;
    const int64_t hi = total / ctx->size * (ctx->rank + 1) + total % ctx->size * (ctx->rank + 1) / ctx->size;
    int64_t start = 0;
    for (int i = 0; i < s->nfiles; i++) {
        if (ts_file_whole(&s->files[i]))
            continue;
        const int64_t b = lo > start ? lo : start, e = hi < start + s->files[i].size ? hi : start + s->files[i].size;
        if (b < e)
            TS_TRY(add_range(s, i, b - start, e - start));
        start += s->files[i].size;
    }
    int64_t *load = calloc((size_t)ctx->size, sizeof *load);
    int *order = malloc(sizeof *order * (size_t)(s->nfiles + 1));
    if (!load || !order) {
        free(load), free(order);
        TS_FAIL(TS_ERR_NOMEM, "out of memory assigning files");
    }
    int ngz = 0;
    for (int i = 0; i < s->nfiles; i++)
        if (ts_file_whole(&s->files[i])) {
            int k = ngz++;
            while (k > 0 && s->files[order[k - 1]].size < s->files[i].size)
                order[k] = order[k - 1], k--;
            order[k] = i;
        }
    ts_err err = TS_OK;
    for (int k = 0; k < ngz && !err; k++) {
        int best = 0;
        for (int r = 1; r < ctx->size; r++)
            if (load[r] < load[best])
                best = r;
        load[best] += s->files[order[k]].size + 1;
        if (best == ctx->rank)
            err = add_range(s, order[k], 0, INT64_MAX);
    }
    free(load), free(order);
    /* ranges in input order, so rows and positions come out ascending */
    if (s->nranges > 1)
        qsort(s->ranges, (size_t)s->nranges, sizeof *s->ranges, cmp_ranges);
    return err;
}

/* One allocation per column instead of a growth sequence: estimate rows from the bytes to read (gzip ranges
 * count their compressed size, so they still grow). */
static ts_err reserve_rows(const ts_scan *s, const ts_scan_opts *o, ts_csv_sink *sink)
{
    int64_t bytes = 0;
    if (o && o->batch) /* the batch callback moves rows out: room for a few pieces is enough */
        bytes = 2 * o->chunk_bytes;
    else
        for (int k = 0; k < s->nranges; k++)
            bytes += ts_file_whole(&s->files[s->ranges[k].file]) ? s->files[s->ranges[k].file].size * 4
                                                    : s->ranges[k].end - s->ranges[k].begin;
    const int64_t rows = bytes / 64 + 1024;
    for (int c = 0; c < sink->clean->ncols; c++)
        TS_TRY(ts_column_reserve(sink->clean->cols[c], rows, 0));
    return TS_OK;
}

/* Cuts every plain range into pieces of at most chunk bytes (lines belong to the piece they start in, as they
 * belong to the range they start in, so the pieces read the same lines). */
static ts_err cut_ranges(ts_scan *s, int64_t chunk)
{
    int n = 0;
    for (int k = 0; k < s->nranges; k++)
        n += ts_file_whole(&s->files[s->ranges[k].file]) ? 1 : (int)((s->ranges[k].end - s->ranges[k].begin + chunk - 1) / chunk);
    ts_scan_range *r = malloc(sizeof *r * (size_t)(n + 1));
    if (!r)
        TS_FAIL(TS_ERR_NOMEM, "out of memory cutting the scan into %d pieces", n);
    int m = 0;
    for (int k = 0; k < s->nranges; k++) {
        const ts_scan_range *x = &s->ranges[k];
        if (ts_file_whole(&s->files[x->file])) {
            r[m++] = *x;
            continue;
        }
        for (int64_t b = x->begin; b < x->end; b += chunk)
            r[m++] = (ts_scan_range){.file = x->file, .begin = b, .end = x->end - b > chunk ? b + chunk : x->end};
    }
    free(s->ranges);
    s->ranges = r, s->nranges = m;
    return TS_OK;
}

static ts_err scan_ranges(const ts_csv_spec *spec, const ts_scan_opts *o, ts_scan *s, ts_csv_sink *sink,
                          int64_t *clean_start, int64_t *rej_start)
{
    TS_TRY(reserve_rows(s, o, sink));
    for (int k = 0; k < s->nranges; k++) {
        ts_scan_range *r = &s->ranges[k];
        ts_file_data *d = &s->data[r->file];
        if (!d->data && !d->len)
            TS_TRY(ts_file_load(&s->files[r->file], d));
        if (r->end > d->len)
            r->end = d->len;
        ts_csv_layout layout;
        ts_csv_layout_from_header(spec, d->data, d->len, &layout);
        if (layout.fatal && d->len)
            TS_FAIL(TS_ERR_DATA, "%s: %s", s->files[r->file].path, layout.problem);
        if (!layout.header_ok && !spec->no_header && d->len && r->begin == 0) {
            s->header_warnings++;
            fprintf(stderr, "tessera: warning: %s: %s\n", s->files[r->file].path, layout.problem);
        }
        if (layout.note[0] && d->len && r->begin == 0)
            fprintf(stderr, "tessera: warning: %s: %s\n", s->files[r->file].path, layout.note);
        clean_start[k] = ts_table_rows(sink->clean), rej_start[k] = ts_table_rows(sink->rejects);
        if (ts_fault_armed()) /* TESSERA_FAULT's scan-range point: e.g. the file truncated under the scan */
            TS_TRY(ts_fault_point_file("scan-range", s->files[r->file].path));
        ts_file_prefetch(d, r->begin, r->end);
        r->mark0 = sink->nmarks;
        const ts_err err = ts_csv_scan_range(spec, &layout, r->file, d->data, d->len, r->begin, r->end, sink,
                                             &r->nlines);
        r->nmarks = sink->nmarks - r->mark0;
        TS_TRY(ts_file_check(&s->files[r->file], d)); /* a file that changed is named, whatever the scan saw */
        TS_TRY(err);
        s->rows_read += r->nlines - (r->begin == 0 && layout.skip_line1 && r->nlines > 0);
        if (o && o->batch) {
            s->drop_pages = 1;
            TS_TRY(o->batch(o->arg, sink->clean, clean_start[k], k));
            /* everything of the file up to here: dropping only each piece's own pages left most of them
             * resident (measured; the kernel's handling of file folios), and walking the already-empty page
             * tables again costs next to nothing */
            ts_file_drop_pages(d, 0, r->end);
        }
    }
    clean_start[s->nranges] = ts_table_rows(sink->clean), rej_start[s->nranges] = ts_table_rows(sink->rejects);
    return TS_OK;
}

/* Gives each range its first line number: the lines of the same file's earlier ranges, on any rank, plus 1. */
static ts_err number_lines(ts_ctx *ctx, ts_scan *s)
{
    int n3 = 3 * s->nranges, *counts = malloc(sizeof(int) * 2 * (size_t)ctx->size);
    if (!counts)
        TS_FAIL(TS_ERR_NOMEM, "out of memory numbering lines");
    TS_MPI(MPI_Allgather(&n3, 1, MPI_INT, counts, 1, MPI_INT, ctx->comm));
    int total = 0;
    for (int r = 0; r < ctx->size; r++)
        counts[ctx->size + r] = total, total += counts[r];
    int64_t *mine = malloc(sizeof(int64_t) * (size_t)(n3 + 1)), *all = malloc(sizeof(int64_t) * (size_t)(total + 1));
    ts_err err = mine && all ? TS_OK : ts_error_raise(TS_ERR_NOMEM, __FILE__, __LINE__, __func__, "out of memory");
    for (int k = 0; !err && k < s->nranges; k++)
        mine[3 * k] = s->ranges[k].file, mine[3 * k + 1] = s->ranges[k].begin, mine[3 * k + 2] = s->ranges[k].nlines;
    if (!err)
        err = ts_mpi_status(MPI_Allgatherv(mine, n3, MPI_INT64_T, all, counts, counts + ctx->size, MPI_INT64_T,
                                           ctx->comm), "MPI_Allgatherv", __FILE__, __LINE__, __func__);
    for (int k = 0; !err && k < s->nranges; k++) {
        s->ranges[k].first_line = 1;
        for (int j = 0; j < total / 3; j++)
            if (all[3 * j] == s->ranges[k].file && all[3 * j + 1] < s->ranges[k].begin)
                s->ranges[k].first_line += all[3 * j + 2];
    }
    free(counts), free(mine), free(all);
    return err;
}

/* Turns range-local line indexes into global positions, in place, and renames the column to __pos. */
static void positions(ts_scan *s, ts_column *line, const int64_t *start)
{
    int64_t *v = TS_COL(line, int64_t);
    for (int k = 0; k < s->nranges; k++)
        for (int64_t i = start[k]; i < start[k + 1]; i++)
            v[i] = ts_pos_make(s->ranges[k].file, s->ranges[k].first_line + v[i]);
    snprintf(line->name, sizeof line->name, "__pos");
}

ts_err ts_scan_csv_files(ts_ctx *ctx, const ts_file_info *files, int nfiles, const ts_csv_spec *spec, ts_scan *out)
{
    return ts_scan_csv_files_opts(ctx, files, nfiles, spec, NULL, out);
}

ts_err ts_scan_csv_files_opts(ts_ctx *ctx, const ts_file_info *files, int nfiles, const ts_csv_spec *spec,
                              const ts_scan_opts *opts, ts_scan *out)
{
    memset(out, 0, sizeof *out);
    if (nfiles < 1)
        TS_FAIL(TS_ERR_USAGE, "a CSV scan needs at least one file");
    TS_TRY(check_same_files(ctx, files, nfiles));
    ts_csv_sink sink = {0};
    int64_t *cs = NULL, *rs = NULL;
    ts_err err = TS_OK;
    if ((out->files = malloc(sizeof *out->files * (size_t)nfiles))) {
        memcpy(out->files, files, sizeof *files * (size_t)nfiles);
        out->nfiles = nfiles;
        err = assign_ranges(ctx, out);
        if (!err && opts && opts->chunk_bytes > 0)
            err = cut_ranges(out, opts->chunk_bytes);
    } else {
        err = ts_error_raise(TS_ERR_NOMEM, __FILE__, __LINE__, __func__, "out of memory for the file list");
    }
    if (!err && !(out->data = calloc((size_t)out->nfiles, sizeof *out->data)))
        err = ts_error_raise(TS_ERR_NOMEM, __FILE__, __LINE__, __func__, "out of memory");
    if (!err)
        err = ts_csv_sink_new(spec, &sink);
    if (!err && (!(cs = malloc(sizeof *cs * (size_t)(out->nranges + 1))) ||
                 !(rs = malloc(sizeof *rs * (size_t)(out->nranges + 1)))))
        err = ts_error_raise(TS_ERR_NOMEM, __FILE__, __LINE__, __func__, "out of memory");
    if (!err)
        err = scan_ranges(spec, opts, out, &sink, cs, rs);
    err = ts_ctx_check(ctx, err);
    if (!err)
        err = number_lines(ctx, out);
    if (!err) {
        positions(out, ts_table_col(sink.clean, "__line"), cs);
        ts_column *rl = ts_table_col(sink.rejects, "__line");
        /* rejects carry their file in __pos too; __file is dropped */
        positions(out, rl, rs);
        ts_column_free(sink.rejects->cols[0]);
        memmove(sink.rejects->cols, sink.rejects->cols + 1, sizeof(ts_column *) * (size_t)--sink.rejects->ncols);
        out->clean = sink.clean, out->rejects = sink.rejects, out->marks = sink.marks;
        sink.clean = sink.rejects = NULL, sink.marks = NULL;
    }
    free(cs), free(rs);
    ts_csv_sink_free(&sink);
    if (err)
        ts_scan_free(out);
    return err;
}

ts_err ts_scan_csv(ts_ctx *ctx, const char *dir, const ts_csv_spec *spec, ts_scan *out)
{
    ts_file_info *files;
    int n;
    memset(out, 0, sizeof *out);
    TS_TRY(list_dir(ctx, dir, &files, &n));
    const ts_err err = ts_scan_csv_files(ctx, files, n, spec, out);
    free(files);
    TS_TRY(err);
    return TS_OK;
}

void ts_scan_free(ts_scan *s)
{
    for (int i = 0; s->data && i < s->nfiles; i++)
        ts_file_unload(&s->data[i]);
    free(s->data), free(s->files), free(s->ranges), free(s->marks);
    ts_table_free(s->clean), ts_table_free(s->rejects);
    memset(s, 0, sizeof *s);
}

/* One pass over each range: lines in order, copying those whose position is next in pos[]. The scan's line marks
 * bring each one within TS_CSV_MARK_EVERY lines (walking every line before it read the input a second time). */
ts_err ts_scan_fetch_lines(const ts_scan *s, const int64_t *pos, int64_t n, ts_column *raw)
{
    int64_t i = 0;
    for (int k = 0; k < s->nranges && i < n; k++) {
        const ts_scan_range *r = &s->ranges[k];
        const ts_file_data *d = &s->data[r->file];
        int64_t at = r->begin, line = r->first_line;
        if (at > 0 && d->data[at - 1] != '\n') {
            const char *nl = memchr(d->data + at, '\n', (size_t)(d->len - at));
            at = nl ? nl - d->data + 1 : d->len;
        }
        for (; i < n && ts_pos_file(pos[i]) == r->file && ts_pos_line(pos[i]) < r->first_line + r->nlines; i++) {
            const int64_t want = ts_pos_line(pos[i]), m = (want - r->first_line) / TS_CSV_MARK_EVERY;
            if (s->marks && m < r->nmarks && r->first_line + m * TS_CSV_MARK_EVERY > line) /* jump ahead */
                at = s->marks[r->mark0 + m], line = r->first_line + m * TS_CSV_MARK_EVERY;
            if (line < want) /* newlines counted a block at a time */
                at = ts_lex_skip_lines(d->data + at, d->data + d->len, want - line) - d->data;
            line = want;
            const char *nl = memchr(d->data + at, '\n', (size_t)(d->len - at));
            int64_t stop = nl ? nl - d->data : d->len;
            if (stop > at && d->data[stop - 1] == '\r')
                stop--;
            TS_TRY(ts_column_append_string(raw, d->data + at, stop - at));
        }
        if (s->drop_pages)
            ts_file_drop_pages(d, 0, at);
        TS_TRY(ts_file_check(&s->files[r->file], d));
    }
    if (i != n)
        TS_FAIL(TS_ERR_INTERNAL, "line at position file %d line %lld is not in this rank's ranges",
                ts_pos_file(pos[i]), (long long)ts_pos_line(pos[i]));
    return TS_OK;
}
