/* Hostile inputs at the I/O layer (issue 10), on 1, 2 and 4 ranks:
 *   - a directory of 40 CSV files: listed in name order with the right base names, every row scanned once (the
 *     listing once sorted pointers into a block realloc had freed: a use-after-free from 17 files on);
 *   - a file truncated by another process while the scan reads it: TS_ERR_IO "changed while being read" on every
 *     rank, not SIGBUS (plain files are memory-mapped);
 *   - broken inputs said aloud: a dangling symbolic link and a FIFO named like data are errors naming them;
 *   - read_csv over files whose headers order the columns differently: bound by name (once by position, a silent
 *     wrong sum), a file lacking a column refused naming it, extra columns not read;
 *   - a 600-column file: inferred and scanned (the columns asked for), where 63 columns were the limit.
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
    ts_csv_inferred_free(&inf);
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
    ts_csv_inferred_free(&inf);
    free(files);
}

/* ---- read_csv: headers bound by name ---------------------------------------------------------------------- */

static void write_text(const char *dir, const char *name, const char *text)
{
    char p[600];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *o = fopen(p, "w");
    fputs(text, o);
    fclose(o);
}

/* Infers from the first file of `pattern` and scans all: *clean the global sums of columns a and b (bound by
 * name), or the scan's error. */
static ts_err scan_sums(ts_ctx *ctx, const char *pattern, int64_t sums[2], int64_t *rows)
{
    ts_file_info *files = NULL;
    int n = 0;
    ts_csv_inferred inf;
    ts_scan scan;
    ts_err err = ts_scan_list_inputs(ctx, pattern, &files, &n);
    if (!err)
        err = ts_csv_infer_files(ctx, files, n, NULL, &inf);
    if (!err) {
        err = ts_scan_csv_files(ctx, files, n, &inf.spec, &scan);
        ts_csv_inferred_free(&inf);
    }
    free(files);
    if (err)
        return err;
    const ts_column *a = ts_table_col(scan.clean, "amount"), *b = ts_table_col(scan.clean, "fee");
    sums[0] = sums[1] = 0, *rows = ts_table_rows(scan.clean);
    for (int64_t i = 0; a && b && i < *rows; i++)
        sums[0] += TS_COL(a, int64_t)[i], sums[1] += TS_COL(b, int64_t)[i];
    MPI_Allreduce(MPI_IN_PLACE, sums, 2, MPI_INT64_T, MPI_SUM, ctx->comm);
    MPI_Allreduce(MPI_IN_PLACE, rows, 1, MPI_INT64_T, MPI_SUM, ctx->comm);
    ts_scan_free(&scan);
    return TS_OK;
}

static void test_by_name(ts_ctx *ctx, const char *dir)
{
    char sub[400], pat[500];
    snprintf(sub, sizeof sub, "%s/byname", dir);
    if (ctx->rank == 0) {
        mkdir(sub, 0700);
        write_text(sub, "f1.csv", "amount,fee\n100,1\n300,3\n");
        write_text(sub, "f2.csv", "fee,amount\n2,200\n");                /* the file: other order */
        write_text(sub, "f3.csv", " fee ;x;amount\n4;zz;400\n");          /* another delimiter */
        write_text(sub, "f4.csv", "note,fee,amount,extra\nhi,5,500,e\n"); /* extra columns: not read */
    }
    MPI_Barrier(ctx->comm);
    int64_t sums[2], rows;
    snprintf(pat, sizeof pat, "%s/f[124].csv", sub);
    if (CHECK_OK(scan_sums(ctx, pat, sums, &rows)))
        CHECK(rows == 4 && sums[0] == 1100 && sums[1] == 11, "by name: %lld rows, sum(amount) %lld, sum(fee) %lld "
              "(want 4, 1100, 11)", (long long)rows, (long long)sums[0], (long long)sums[1]);
    /* f3 splits on ',' (the first file's delimiter) into one column " fee ;x;amount": it lacks amount and fee */
    snprintf(pat, sizeof pat, "%s/f[13].csv", sub);
    CHECK(scan_sums(ctx, pat, sums, &rows) == TS_ERR_DATA && strstr(ts_error_message(), "f3.csv") &&
              strstr(ts_error_message(), "lacks columns 'amount', 'fee'"),
          "a file lacking columns is refused, naming it: %s", ts_error_message());
    ts_error_clear();
    if (ctx->rank == 0)
        write_text(sub, "f5.csv", "fee\n7\n");
    MPI_Barrier(ctx->comm);
    snprintf(pat, sizeof pat, "%s/f[15].csv", sub);
    CHECK(scan_sums(ctx, pat, sums, &rows) == TS_ERR_DATA && strstr(ts_error_message(), "f5.csv") &&
              strstr(ts_error_message(), "lacks column 'amount'"),
          "a file lacking a column is refused, naming it: %s", ts_error_message());
    ts_error_clear();
}

/* ---- wide files -------------------------------------------------------------------------------------------- */

static void test_wide(ts_ctx *ctx, const char *dir)
{
    enum { COLS = 600, ROWS = 300 };
    char path[500];
    snprintf(path, sizeof path, "%s/wide.csv", dir);
    if (ctx->rank == 0) {
        FILE *o = fopen(path, "w");
        for (int c = 0; c < COLS; c++)
            fprintf(o, "%sc%d", c ? "," : "", c);
        fputc('\n', o);
        for (int r = 0; r < ROWS; r++)
            for (int c = 0; c < COLS; c++)
                fprintf(o, "%d%c", r * 1000 + c, c == COLS - 1 ? '\n' : ',');
        fclose(o);
    }
    MPI_Barrier(ctx->comm);
    ts_file_info *files = NULL;
    int n = 0;
    ts_csv_inferred inf;
    ts_scan scan;
    if (!CHECK_OK(ts_scan_list_inputs(ctx, path, &files, &n)))
        return;
    if (CHECK_OK(ts_csv_infer_files(ctx, files, n, NULL, &inf))) {
        CHECK(inf.ncols == COLS && strcmp(inf.names[599], "c599") == 0 && inf.types[599] == TS_T_INT64,
              "600 columns inferred: %d", inf.ncols);
        for (int c = 0; c < inf.ncols; c++) /* read three of them, as a query would */
            if (c != 0 && c != 300 && c != 599)
                inf.fields[c].kind = TS_RULE_SKIP;
        if (CHECK_OK(ts_scan_csv_files(ctx, files, n, &inf.spec, &scan))) {
            const ts_column *a = ts_table_col(scan.clean, "c0"), *b = ts_table_col(scan.clean, "c300"),
                            *z = ts_table_col(scan.clean, "c599");
            int64_t got[4] = {ts_table_rows(scan.clean), 0, 0, ts_table_rows(scan.rejects)};
            for (int64_t i = 0; a && b && z && i < got[0]; i++)
                got[1] += TS_COL(b, int64_t)[i] - TS_COL(a, int64_t)[i], got[2] += TS_COL(z, int64_t)[i];
            MPI_Allreduce(MPI_IN_PLACE, got, 4, MPI_INT64_T, MPI_SUM, ctx->comm);
            int64_t want = 0;
            for (int r = 0; r < ROWS; r++)
                want += r * 1000 + 599;
            CHECK(got[0] == ROWS && got[1] == 300 * ROWS && got[2] == want && got[3] == 0,
                  "600-column scan: %lld rows, %lld rejects", (long long)got[0], (long long)got[3]);
            ts_scan_free(&scan);
        }
        ts_csv_inferred_free(&inf);
    }
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
        test_by_name(&ctx, dir);
        test_wide(&ctx, dir);
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
