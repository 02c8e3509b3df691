#include "ts_output.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ts_dataset_write.h"
#include "ts_fault.h"

struct ts_output {
    ts_ctx *ctx;
    ts_out_format fmt;
    ts_h5_file *h5;
    int overwrite;
    char path[PATH_MAX];
    char tmp[PATH_MAX + 64];
    char run_id[40];
};

int ts_out_format_from_name(const char *name)
{
    if (!strcasecmp(name, "h5") || !strcasecmp(name, "hdf5"))
        return TS_OUT_H5;
    if (!strcasecmp(name, "parquet"))
        return TS_OUT_PARQUET;
    if (!strcasecmp(name, "csv"))
        return TS_OUT_CSV;
    return -1;
}

static void parent_of(const char *path, char *dir, size_t cap, const char **base)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        snprintf(dir, cap, "."), *base = path;
    else if (slash == path)
        snprintf(dir, cap, "/"), *base = slash + 1;
    else
        snprintf(dir, cap, "%.*s", (int)(slash - path), path), *base = slash + 1;
}

ts_err ts_output_check(const char *path, int overwrite, ts_out_format fmt)
{
    if (fmt == TS_OUT_H5)
        return ts_h5_check_output(path, overwrite);
    if (!path || !*path)
        TS_FAIL(TS_ERR_USAGE, "no output path given");
    char dir[PATH_MAX];
    const char *base;
    parent_of(path, dir, sizeof dir, &base);
    if (!*base || strlen(path) > PATH_MAX - 400)
        TS_FAIL(TS_ERR_USAGE, "cannot write the output directory '%s': give a directory name", path);
    struct stat st;
    if (stat(path, &st) == 0) {
        if (!overwrite)
            TS_FAIL(TS_ERR_IO, "output '%s' already exists (pass --overwrite to replace it)", path);
        if (!S_ISDIR(st.st_mode))
            TS_FAIL(TS_ERR_IO, "cannot write the output directory %s: a file of that name exists", path);
        TS_TRY(ts_remove_output_dir(path, 1));
    }
    if (access(dir, W_OK | X_OK) != 0)
        TS_FAIL(TS_ERR_IO, "cannot create %s: directory %s: %s", path, dir, strerror(errno));
    return TS_OK;
}

/* Rank 0: the temporary directory with its _tessera file. */
static ts_err root_create(ts_output *o, const ts_h5_meta *meta)
{
    TS_TRY(ts_output_check(o->path, o->overwrite, o->fmt));
    if (mkdir(o->tmp, 0755) != 0)
        TS_FAIL(TS_ERR_IO, "cannot create %s: %s", o->tmp, strerror(errno));
    char file[PATH_MAX + 80];
    snprintf(file, sizeof file, "%s/_tessera", o->tmp);
    FILE *f = fopen(file, "w");
    if (!f)
        TS_FAIL(TS_ERR_IO, "cannot create %s: %s", file, strerror(errno));
    fprintf(f, "job=%s\ninputs=%s\nversion=%s\nformat=%s\n", meta->job, meta->inputs ? meta->inputs : "",
            meta->version, o->fmt == TS_OUT_PARQUET ? "parquet" : "csv");
    if (fclose(f) != 0)
        TS_FAIL(TS_ERR_IO, "cannot write %s: %s", file, strerror(errno));
    return TS_OK;
}

ts_err ts_output_create(ts_ctx *ctx, const char *path, int overwrite, const ts_h5_meta *meta, ts_out_format fmt,
                        ts_output **out)
{
    *out = NULL;
    ts_output *o = calloc(1, sizeof *o);
    if (!o)
        TS_FAIL(TS_ERR_NOMEM, "out of memory");
    o->ctx = ctx, o->fmt = fmt, o->overwrite = overwrite;
    ts_err err = TS_OK;
    if (fmt == TS_OUT_H5) {
        err = ts_h5_create(ctx->comm, path, overwrite, meta, &o->h5);
    } else {
        snprintf(o->path, sizeof o->path, "%s", path);
        char dir[PATH_MAX];
        const char *base;
        parent_of(path, dir, sizeof dir, &base);
        long pid0 = (long)getpid();
        err = ts_mpi_status(MPI_Bcast(&pid0, 1, MPI_LONG, 0, ctx->comm), "MPI_Bcast", __FILE__, __LINE__, __func__);
        snprintf(o->tmp, sizeof o->tmp, "%s/.%s.tmp-%ld", dir, base, pid0);
        snprintf(o->run_id, sizeof o->run_id, "%08lx", (unsigned long)pid0 ^ (unsigned long)time(NULL));
        if (!err)
            err = ts_ctx_check(ctx, ctx->rank == 0 ? root_create(o, meta) : TS_OK);
    }
    if (err) {
        free(o);
        return err;
    }
    *out = o;
    return TS_OK;
}

ts_err ts_output_write_table(ts_output *o, const char *group_path, const ts_table *t, const ts_h5_table_opts *opts)
{
    if (o->fmt == TS_OUT_H5)
        return ts_h5_write_table(o->h5, group_path, t, opts);
    if (ts_fault_armed()) /* the same fault point as the HDF5 writer's */
        TS_TRY(ts_ctx_check(o->ctx, ts_fault_point("h5-write")));
    char dir[2 * PATH_MAX];
    snprintf(dir, sizeof dir, "%s/%s", o->tmp, group_path[0] == '/' ? group_path + 1 : group_path);
    ts_write_opts w = {.format = o->fmt == TS_OUT_PARQUET ? TS_WRITE_PARQUET : TS_WRITE_CSV, .header = 1,
                       .delim = ',', .run_id = o->run_id, .if_exists = TS_WRITE_ADD_FILES};
    w.parquet.codec = TS_PQ_SNAPPY;
    if (opts)
        w.parquet.binary_cols = opts->bytes_columns, w.parquet.nbinary = opts->nbytes_columns;
    return ts_write_dataset(o->ctx, t, dir, &w, NULL);
}

ts_err ts_output_commit(ts_output *o)
{
    if (o->fmt == TS_OUT_H5) {
        const ts_err err = ts_h5_commit(o->h5);
        free(o);
        return err;
    }
    ts_err err = TS_OK;
    struct stat st;
    if (o->ctx->rank == 0 && o->overwrite && stat(o->path, &st) == 0)
        err = ts_remove_output_dir(o->path, 0);
    if (!err && o->ctx->rank == 0 && rename(o->tmp, o->path) != 0)
        err = ts_error_raise(TS_ERR_IO, __FILE__, __LINE__, __func__, "cannot rename %s to %s: %s", o->tmp, o->path,
                             strerror(errno));
    err = ts_ctx_check(o->ctx, err);
    if (err)
        ts_output_abandon(o);
    else
        free(o);
    return err;
}

void ts_output_abandon(ts_output *o)
{
    if (!o)
        return;
    if (o->fmt == TS_OUT_H5) {
        ts_h5_abandon(o->h5);
    } else {
        MPI_Barrier(o->ctx->comm); /* every rank has stopped writing into it */
        if (o->ctx->rank == 0 && ts_remove_output_dir(o->tmp, 0))
            fprintf(stderr, "tessera: warning: could not remove %s: %s\n", o->tmp, ts_error_headline());
    }
    free(o);
}
