/* COPY name|(query) TO 'path' (FORMAT parquet|csv, PARTITION_BY (cols), COMPRESSION ..., ROW_GROUP_SIZE n,
 * HEADER, DELIMITER 'c', OVERWRITE | OVERWRITE_OR_IGNORE, PER_THREAD_OUTPUT): the options (DuckDB's names and
 * defaults) turned into an engine/ts_dataset_write.h call. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ts_dataset_write.h"
#include "ts_parquet_meta.h"
#include "ts_sql_copy.h"
#include "ts_sql_parse.h"

static const char *const KNOWN[] = {"format", "compression", "codec", "row_group_size", "partition_by", "header",
                                    "delimiter", "delim", "sep", "overwrite", "overwrite_or_ignore",
                                    "per_thread_output", "use_tmp_file"};
#define NKNOWN ((int)(sizeof KNOWN / sizeof *KNOWN))

static int ends_with(const char *s, const char *suffix)
{
    const size_t n = strlen(s), k = strlen(suffix);
    return n >= k && !strcasecmp(s + n - k, suffix);
}

/* A flag's value: absent, true/false, 1/0. -1 when it is something else. */
static int flag(const ts_sql_copy_opt *o)
{
    if (!o->value || !strcasecmp(o->value, "true") || !strcmp(o->value, "1"))
        return 1;
    if (!strcasecmp(o->value, "false") || !strcmp(o->value, "0"))
        return 0;
    return -1;
}

static ts_err bad(const ts_sql_script *src, const ts_sql_copy_opt *o, const char *what)
{
    return ts_sql_error_at(src, o->pos, TS_ERR_USAGE, "COPY: %s %s", o->name, what);
}

ts_err ts_sql_copy_options(const ts_sql_script *src, const ts_sql_copy *c, ts_write_opts *w,
                           const char **partition, int *format_given)
{
    memset(w, 0, sizeof *w);
    w->format = ends_with(c->path, ".parquet") ? TS_WRITE_PARQUET : TS_WRITE_CSV; /* DuckDB: CSV unless told */
    w->parquet.codec = TS_PQ_SNAPPY;
    w->header = 1, w->delim = ',';
    *format_given = 0;
    int per_thread = 0, header_given = 0;
    for (int i = 0; i < c->nopts; i++) {
        const ts_sql_copy_opt *o = &c->opts[i];
        int k = 0;
        while (k < NKNOWN && strcmp(o->name, KNOWN[k]))
            k++;
        if (k == NKNOWN) {
            const char *hint = ts_sql_closest(o->name, KNOWN, NKNOWN);
            return ts_sql_error_at(src, o->pos, TS_ERR_USAGE, "COPY: unknown option '%s'%s%s%s", o->name,
                                   hint ? " (did you mean '" : "", hint ? hint : "", hint ? "'?)" : "");
        }
        const char *v = o->value;
        if (!strcmp(o->name, "format")) {
            if (!v || (strcasecmp(v, "parquet") && strcasecmp(v, "csv")))
                return bad(src, o, "must be parquet or csv");
            w->format = !strcasecmp(v, "parquet") ? TS_WRITE_PARQUET : TS_WRITE_CSV, *format_given = 1;
        } else if (!strcmp(o->name, "compression") || !strcmp(o->name, "codec")) {
            const int codec = v ? ts_pq_codec_from_name(v) : -1;
            if (codec < 0)
                return bad(src, o, "must be snappy, zstd, gzip or uncompressed");
            w->parquet.codec = codec;
        } else if (!strcmp(o->name, "row_group_size")) {
            char *end;
            const long long n = v ? strtoll(v, &end, 10) : 0;
            if (!v || *end || n <= 0)
                return bad(src, o, "must be a positive number of rows");
            w->parquet.row_group_rows = n;
        } else if (!strcmp(o->name, "partition_by")) {
            if (o->nlist > 8 || (!o->nlist && !v))
                return bad(src, o, "takes 1 to 8 column names: PARTITION_BY (a, b)");
            if (o->nlist) {
                for (int j = 0; j < o->nlist; j++)
                    partition[j] = o->list[j];
                w->npartition = o->nlist;
            } else {
                partition[0] = v, w->npartition = 1;
            }
            w->partition_by = partition;
        } else if (!strcmp(o->name, "header")) {
            if ((w->header = flag(o)) < 0)
                return bad(src, o, "must be true or false");
            header_given = 1;
        } else if (!strcmp(o->name, "delimiter") || !strcmp(o->name, "delim") || !strcmp(o->name, "sep")) {
            if (!v || (strlen(v) != 1 && strcmp(v, "\\t")))
                return bad(src, o, "must be one character");
            w->delim = !strcmp(v, "\\t") ? '\t' : v[0];
            if (w->delim == '"' || w->delim == '\n' || w->delim == '\r')
                return bad(src, o, "cannot be a quote or a line break");
        } else if (!strcmp(o->name, "overwrite") || !strcmp(o->name, "overwrite_or_ignore")) {
            const int on = flag(o);
            if (on < 0)
                return bad(src, o, "must be true or false");
            if (on)
                w->if_exists = !strcmp(o->name, "overwrite") ? TS_WRITE_OVERWRITE : TS_WRITE_ADD_FILES;
        } else if (!strcmp(o->name, "per_thread_output")) {
            if ((per_thread = flag(o)) < 0)
                return bad(src, o, "must be true or false");
        } /* use_tmp_file: always */
    }
    if (header_given && w->format == TS_WRITE_PARQUET)
        return ts_sql_error_at(src, c->path_pos, TS_ERR_USAGE, "COPY: HEADER applies to CSV only");
    if (w->format == TS_WRITE_CSV && w->parquet.codec != TS_PQ_SNAPPY && w->parquet.codec != TS_PQ_UNCOMPRESSED)
        return ts_sql_error_at(src, c->path_pos, TS_ERR_USAGE, "COPY: CSV is written uncompressed");
    w->single_file = !w->npartition && !per_thread && !ends_with(c->path, "/");
    if (w->single_file && w->if_exists == TS_WRITE_ADD_FILES)
        w->if_exists = TS_WRITE_OVERWRITE;
    return TS_OK;
}

ts_err ts_sql_copy_write(ts_ctx *ctx, const ts_sql_script *src, const ts_sql_copy *c, const ts_table *t, int quiet)
{
    ts_write_opts w;
    const char *partition[8];
    int format_given;
    TS_TRY(ts_sql_copy_options(src, c, &w, partition, &format_given));
    ts_write_result res;
    const ts_err err = ts_write_dataset(ctx, t, c->path, &w, &res);
    if (err)
        return ts_sql_error_at(src, c->path_pos, err, "COPY: %s", ts_error_headline());
    if (ctx->rank == 0 && !quiet)
        fprintf(stderr, "copied %lld rows to %s (%s, %lld file%s)\n", (long long)res.rows, c->path,
                w.format == TS_WRITE_PARQUET ? "Parquet" : "CSV", (long long)res.files, res.files == 1 ? "" : "s");
    return TS_OK;
}
