#include "ts_csv_schema.h"

#include <stdio.h>
#include <string.h>

#define SAMPLE_BYTES ((int64_t)64 << 20)

ts_err ts_csv_inferred_bcast(ts_ctx *ctx, ts_csv_inferred *inf, int root)
{
    /* the scalars first (root's array pointers mean nothing elsewhere), then the arrays, which are plain data but
     * for the fields' name pointers (re-pointed) and borrowed pointers the inferred spec never sets */
    ts_csv_inferred head = *inf;
    TS_MPI(MPI_Bcast(&head, (int)sizeof head, MPI_BYTE, root, ctx->comm));
    ts_err err = TS_OK;
    if (ctx->rank != root) {
        *inf = head;
        inf->names = NULL, inf->types = NULL, inf->scales = NULL, inf->fields = NULL;
        err = ts_csv_inferred_alloc(inf, head.ncols);
        inf->spec = head.spec, inf->spec.fields = inf->fields;
    }
    TS_TRY(ts_ctx_check(ctx, err));
    const int n = inf->ncols + 1; /* the arrays' spare slot holds a trailing skipped field (ts_csv_infer) */
    TS_MPI(MPI_Bcast(inf->names, n * (int)sizeof *inf->names, MPI_BYTE, root, ctx->comm));
    TS_MPI(MPI_Bcast(inf->types, n * (int)sizeof *inf->types, MPI_BYTE, root, ctx->comm));
    TS_MPI(MPI_Bcast(inf->scales, n, MPI_INT, root, ctx->comm));
    TS_MPI(MPI_Bcast(inf->fields, n * (int)sizeof *inf->fields, MPI_BYTE, root, ctx->comm));
    ts_csv_inferred_rebind(inf);
    return TS_OK;
}

/* Rank 0's part: the first file with content, inferred. */
static ts_err infer_first(const ts_file_info *files, int nfiles, const ts_csv_infer_opts *opts,
                          ts_csv_inferred *out)
{
    for (int i = 0; i < nfiles; i++) {
        if (files[i].size == 0)
            continue;
        ts_file_data d;
        TS_TRY(ts_file_load_head(&files[i], SAMPLE_BYTES, &d));
        if (d.len - ts_csv_bom(d.data, d.len) <= 0) {
            ts_file_unload(&d);
            continue;
        }
        ts_err err = ts_csv_infer(d.data, d.len, opts, out);
        const ts_err changed = ts_file_check(&files[i], &d);
        ts_file_unload(&d);
        if (changed && !err)
            ts_csv_inferred_free(out);
        TS_TRY(changed);
        if (err) {
            char why[512];
            snprintf(why, sizeof why, "%s", ts_error_headline());
            TS_FAIL(err, "%s: %s", files[i].path, why);
        }
        return TS_OK;
    }
    TS_FAIL(TS_ERR_DATA, "read_csv: every input file is empty (%d file%s, first '%s'): no columns to read", nfiles,
            nfiles == 1 ? "" : "s", nfiles ? files[0].path : "");
}

ts_err ts_csv_infer_files(ts_ctx *ctx, const ts_file_info *files, int nfiles, const ts_csv_infer_opts *opts,
                          ts_csv_inferred *out)
{
    memset(out, 0, sizeof *out);
    const ts_err err = ctx->rank == 0 ? infer_first(files, nfiles, opts, out) : TS_OK;
    TS_TRY(ts_ctx_check(ctx, err));
    const ts_err sent = ts_csv_inferred_bcast(ctx, out, 0);
    if (sent)
        ts_csv_inferred_free(out);
    TS_TRY(sent);
    return TS_OK;
}
