#include "ts_csv_schema.h"

#include <stdio.h>
#include <string.h>

#define SAMPLE_BYTES ((int64_t)64 << 20)

ts_err ts_csv_inferred_bcast(ts_ctx *ctx, ts_csv_inferred *inf, int root)
{
    /* plain data but for the spec's name pointers (and borrowed pointers the inferred spec never sets) */
    TS_MPI(MPI_Bcast(inf, (int)sizeof *inf, MPI_BYTE, root, ctx->comm));
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
        const ts_err err = ts_csv_infer(d.data, d.len, opts, out);
        ts_file_unload(&d);
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
    TS_TRY(ts_csv_inferred_bcast(ctx, out, 0));
    return TS_OK;
}
