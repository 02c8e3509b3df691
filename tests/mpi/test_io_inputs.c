/* Hostile inputs at the I/O layer (issue 10), on 1, 2 and 4 ranks:
 *   - a directory of 40 CSV files: listed in name order with the right base names, every row scanned once (the
 *     listing once sorted pointers into a block realloc had freed: a use-after-free from 17 files on);
 *   - a file truncated by another process while the scan reads it: TS_ERR_IO "changed while being read" on every
 *     rank, not SIGBUS (plain files are memory-mapped);
 *   - broken inputs said aloud: a dangling symbolic link and a FIFO named like data are errors naming them.
 * Expected values come from the generator (row ids are consecutive numbers), not from the code under test. */
#include <errno.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../unit/ts_test.h"
#include "ts_mpi_test.h"
#include "ts_csv_schema.h"
#include "ts_ctx.h"
#include "ts_scan.h"

#define NFILES 40
#define ROWS_PER_FILE 50

static const char *base_of(const ts_file_info *f)
{
    const char *slash = strrchr(f->path, '/');
    return slash ? slash + 1 : f->path;
}

/* part-XX.csv for XX = 0..NFILES-1, created in a scrambled order (readdir order is not name order): rows
 * "id,v" with id = file * 1000 + row. */
static void make_many(const char *dir)
{
    for (int k = 0; k < NFILES; k++) {
        const int f = (k * 17) % NFILES;
        char p[600];
        snprintf(p, sizeof p, "%s/part-%02d.csv", dir, f);
        FILE *o = fopen(p, "w");
        fputs("id,v\n", o);
        for (int r = 0; r < ROWS_PER_FILE; r++)
            fprintf(o, "%d,%d\n", f * 1000 + r, r % 7);
        fclose(o);
    }
}

static void test_many_files(ts_ctx *ctx, const char *dir)
{
    ts_file_info *files = NULL;
    int n = 0;
    if (!CHECK_OK(ts_scan_list_inputs(ctx, dir, &files, &n)))
        return;
    int order_ok = n == NFILES;
    for (int i = 0; order_ok && i < n; i++) {
        char want[32];
        snprintf(want, sizeof want, "part-%02d.csv", i);
        order_ok = strcmp(base_of(&files[i]), want) == 0 && strcmp(base_of(&files[i]), ts_file_base(&files[i])) == 0;
    }
    CHECK(order_ok, "rank %d: %d files listed in name order with their base names", ctx->rank, n);
    ts_csv_inferred inf;
    ts_scan scan;
    if (CHECK_OK(ts_csv_infer_files(ctx, files, n, NULL, &inf)) &&
        CHECK_OK(ts_scan_csv_files(ctx, files, n, &inf.spec, &scan))) {
        int64_t rows = ts_table_rows(scan.clean), sum = 0;
        const ts_column *id = ts_table_col(scan.clean, "id");
        for (int64_t i = 0; id && i < rows; i++)
            sum += TS_COL(id, int64_t)[i];
        int64_t tot[2] = {rows, sum};
        MPI_Allreduce(MPI_IN_PLACE, tot, 2, MPI_INT64_T, MPI_SUM, ctx->comm);
        int64_t want = 0;
        for (int f = 0; f < NFILES; f++)
            for (int r = 0; r < ROWS_PER_FILE; r++)
                want += f * 1000 + r;
        CHECK(tot[0] == NFILES * ROWS_PER_FILE && tot[1] == want, "every row once: %lld rows, sum %lld",
              (long long)tot[0], (long long)tot[1]);
        ts_scan_free(&scan);
    }
    free(files);
}

/* ---- truncated mid-scan ---------------------------------------------------------------------------------- */

typedef struct cut {
    const char *path;
    int done;
} cut;

/* After the first piece this rank scanned, the file loses its second half (as `truncate -s` by another job). */
static ts_err truncate_after_first_piece(void *arg, ts_table *clean, int64_t first_row, int range)
{
    (void)clean, (void)first_row, (void)range;
    cut *c = arg;
    struct stat st;
    if (!c->done && stat(c->path, &st) == 0 && truncate(c->path, st.st_size / 2) == 0)
        c->done = 1;
    return TS_OK;
}

static void test_truncated(ts_ctx *ctx, const char *dir)
{
    char path[600];
    snprintf(path, sizeof path, "%s/big.csv", dir);
    if (ctx->rank == 0) {
        FILE *o = fopen(path, "w");
        fputs("id,v\n", o);
        for (int r = 0; r < 200000; r++) /* ~2.5 MB: many pages past the cut on every rank */
            fprintf(o, "%d,%d\n", r, r % 7);
        fclose(o);
    }
    MPI_Barrier(ctx->comm);
    ts_file_info *files = NULL;
    int n = 0;
    ts_csv_inferred inf;
    if (!CHECK_OK(ts_scan_list_inputs(ctx, path, &files, &n)) || !CHECK_OK(ts_csv_infer_files(ctx, files, n, NULL, &inf))) {
        free(files);
        return;
    }
    MPI_Barrier(ctx->comm); /* every rank has its file list (and size) before any rank cuts the file */
    cut c = {path, 0};
    const ts_scan_opts opts = {.chunk_bytes = 64 << 10, .batch = truncate_after_first_piece, .arg = &c};
    ts_scan scan;
    const ts_err err = ts_scan_csv_files_opts(ctx, files, n, &inf.spec, &opts, &scan);
    CHECK(err == TS_ERR_IO && strstr(ts_error_message(), "changed while being read") &&
              strstr(ts_error_message(), "big.csv"),
          "rank %d: a file truncated mid-scan is TS_ERR_IO naming it (err %d: %s)", ctx->rank, err,
          ts_error_message());
    if (!err)
        ts_scan_free(&scan);
    ts_error_clear();
    free(files);
}

/* ---- broken inputs ---------------------------------------------------------------------------------------- */

static void test_broken_inputs(const char *dir)
{
    char sub[600], p[700], pat[700];
    ts_file_info *files = NULL;
    int n = 0;
    snprintf(sub, sizeof sub, "%s/dangling", dir);
    mkdir(sub, 0700);
    snprintf(p, sizeof p, "%s/a.csv", sub);
    FILE *o = fopen(p, "w");
    fputs("x\n1\n", o), fclose(o);
    snprintf(p, sizeof p, "%s/b.csv", sub);
    CHECK(symlink("/nonexistent/tessera-target.csv", p) == 0, "symlink");
    CHECK(ts_list_inputs(sub, &files, &n) == TS_ERR_IO && strstr(ts_error_message(), "b.csv") &&
              strstr(ts_error_message(), "symbolic link") && strstr(ts_error_message(), "tessera-target.csv"),
          "a dangling link in a directory is an error naming it: %s", ts_error_message());
    ts_error_clear();
    snprintf(pat, sizeof pat, "%s/*.csv", sub);
    CHECK(ts_list_inputs(pat, &files, &n) == TS_ERR_IO && strstr(ts_error_message(), "symbolic link"),
          "a dangling link matched by a glob is an error: %s", ts_error_message());
    ts_error_clear();
    CHECK(ts_list_inputs(p, &files, &n) == TS_ERR_IO && strstr(ts_error_message(), "symbolic link"),
          "a dangling link named alone is an error: %s", ts_error_message());
    ts_error_clear();

    snprintf(sub, sizeof sub, "%s/fifo", dir);
    mkdir(sub, 0700);
    snprintf(p, sizeof p, "%s/f.csv", sub);
    CHECK(mkfifo(p, 0600) == 0, "mkfifo");
    CHECK(ts_list_inputs(p, &files, &n) == TS_ERR_IO && strstr(ts_error_message(), "FIFO") &&
              !strstr(ts_error_message(), "no file matches"),
          "a FIFO named alone says it is a FIFO: %s", ts_error_message());
    ts_error_clear();
    snprintf(pat, sizeof pat, "%s/*.csv", sub);
    CHECK(ts_list_inputs(pat, &files, &n) == TS_ERR_IO && strstr(ts_error_message(), "FIFO"),
          "a FIFO matched by a glob says it is a FIFO: %s", ts_error_message());
    ts_error_clear();
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    ts_ctx ctx;
    ts_ctx_init(MPI_COMM_WORLD, &ctx);
    char dir[256] = "", many[300];
    if (ctx.rank == 0) {
        snprintf(dir, sizeof dir, "/tmp/ts_io_inputs_XXXXXX");
        if (!mkdtemp(dir))
            dir[0] = '\0';
    }
    MPI_Bcast(dir, sizeof dir, MPI_CHAR, 0, MPI_COMM_WORLD);
    CHECK(dir[0] != '\0', "temporary directory");
    snprintf(many, sizeof many, "%s/many", dir);
    if (ctx.rank == 0 && dir[0]) {
        mkdir(many, 0700);
        make_many(many);
    }
    MPI_Barrier(ctx.comm);
    if (dir[0]) {
        test_many_files(&ctx, many);
        test_truncated(&ctx, dir);
        if (ctx.rank == 0)
            test_broken_inputs(dir);
    }
    MPI_Barrier(ctx.comm);
    if (ctx.rank == 0 && dir[0]) {
        char cmd[400];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
        CHECK(system(cmd) == 0, "cleanup");
    }
    return ts_mpi_test_done(&ctx, "test_io_inputs");
}
