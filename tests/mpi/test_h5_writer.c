/* MPI test of the parallel HDF5 table writer (io/ts_h5.c); tests/mpi/check_h5_writer.py verifies the file.
 *
 * Every value is a function of the global row index i, so the checker recomputes it independently. Rows per
 * rank follow rows_of() (rank 2 has none when there are 3+ ranks); check_h5_writer.py mirrors both rules.
 *
 * Build and run by hand (CMake target: ask the lead):
 *   cd /work/main && mpicc -std=c11 -Wall -Wextra -Werror -D_GNU_SOURCE -O2 -I engine -I io \
 *     -I /usr/include/hdf5/openmpi engine/core/ts_error.c engine/core/ts_mem.c engine/core/ts_column.c engine/core/ts_table.c \
 *     engine/core/ts_ctx.c io/ts_h5.c tests/mpi/test_h5_writer.c -L/usr/lib/x86_64-linux-gnu/hdf5/openmpi \
 *     -lhdf5 -lz -lm -o /tmp/test_h5_writer
 *   export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_btl=self,vader \
 *          OMPI_MCA_btl_vader_single_copy_mechanism=none
 *   for p in 1 2 4; do mpirun --oversubscribe -n $p /tmp/test_h5_writer /tmp/h5w_$p.h5 &&
 *     /usr/bin/python3 tests/mpi/check_h5_writer.py /tmp/h5w_$p.h5 $p || echo FAIL $p; done
 * Exits non-zero on failure; argv[1] is the output path (its directory must be writable). */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ts_h5.h"

static int g_rank, g_size, g_failures;

#define CHECK(cond, ...)                                                                                      \
    do {                                                                                                      \
        if (!(cond)) {                                                                                        \
            fprintf(stderr, "rank %d: %s:%d: check failed: %s: ", g_rank, __FILE__, __LINE__, #cond);        \
            fprintf(stderr, __VA_ARGS__);                                                                     \
            fputc('\n', stderr);                                                                              \
            g_failures++;                                                                                     \
        }                                                                                                     \
    } while (0)

#define OK(expr) CHECK((expr) == TS_OK, "%s", ts_error_message())

/* ---- the deterministic data (mirrored in check_h5_writer.py) ---- */

static int64_t rows_of(int r, int64_t base, int64_t step)
{
    return g_size >= 3 && r == 2 ? 0 : base + step * r;
}

/* This rank's first global row and row count. */
static void my_rows(int64_t base, int64_t step, int64_t *first, int64_t *n)
{
    *first = 0;
    for (int r = 0; r < g_rank; r++)
        *first += rows_of(r, base, step);
    *n = rows_of(g_rank, base, step);
}

static int64_t total_rows(int64_t base, int64_t step)
{
    int64_t n = 0;
    for (int r = 0; r < g_size; r++)
        n += rows_of(r, base, step);
    return n;
}

static const char *const CATS[] = {"DE", "FR", "GB", "Schweiz", ""};

/* name(i): "n<i>" + "x" * (7i mod 11); the last global row is 40 'L's, so the widest value sits on one rank */
static int name_of(int64_t i, int64_t n, char *buf)
{
    if (i == n - 1)
        return sprintf(buf, "LLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLL");
    int len = sprintf(buf, "n%lld", (long long)i);
    for (int k = 0; k < (7 * i) % 11; k++)
        buf[len++] = 'x';
    buf[len] = '\0';
    return len;
}

/* raw(i): b"" when i % 5 == 4, else b"r\0<i>" + b"\0" * (i % 3) (NULs inside and at the end) */
static int raw_of(int64_t i, char *buf)
{
    if (i % 5 == 4)
        return 0;
    int len = sprintf(buf, "r%c%lld", 0, (long long)i);
    for (int k = 0; k < i % 3; k++)
        buf[len++] = '\0';
    return len;
}

static ts_err fill_main(ts_table *t, ts_dict *cats, int64_t first, int64_t n, int64_t total)
{
    ts_column *flag, *qty, *big, *price, *day, *amount, *name, *note, *maybe, *raw, *cat;
    TS_TRY(ts_table_add(t, "flag", TS_T_BOOL, 0, NULL, &flag));
    TS_TRY(ts_table_add(t, "qty", TS_T_INT32, 0, NULL, &qty));
    TS_TRY(ts_table_add(t, "big", TS_T_INT64, 0, NULL, &big));
    TS_TRY(ts_table_add(t, "price", TS_T_FLOAT64, 0, NULL, &price));
    TS_TRY(ts_table_add(t, "day", TS_T_DATE, 0, NULL, &day));
    TS_TRY(ts_table_add(t, "amount", TS_T_DECIMAL, 2, NULL, &amount));
    TS_TRY(ts_table_add(t, "name", TS_T_STRING, 0, NULL, &name));
    TS_TRY(ts_table_add(t, "note", TS_T_STRING, 0, NULL, &note));
    TS_TRY(ts_table_add(t, "maybe", TS_T_INT64, 0, NULL, &maybe));
    TS_TRY(ts_table_add(t, "raw", TS_T_STRING, 0, NULL, &raw));
    TS_TRY(ts_table_add(t, "cat", TS_T_DICT, 0, cats, &cat));
    ts_column *fixed[] = {flag, qty, big, price, day, amount, maybe, cat};
    for (size_t k = 0; k < sizeof fixed / sizeof *fixed; k++) {
        TS_TRY(ts_column_reserve(fixed[k], n, 0));
        fixed[k]->len = n;
    }
    /* Payload room up front: ts_column_append_string("") on a column without a payload buffer passes NULL to
     * memcpy (engine/core/ts_column.c, reported to the lead). */
    TS_TRY(ts_column_reserve(name, n, 64 * n));
    TS_TRY(ts_column_reserve(note, n, 64 * n));
    TS_TRY(ts_column_reserve(raw, n, 64 * n));
    for (int64_t k = 0; k < n; k++) {
        const int64_t i = first + k;
        char buf[128];
        TS_COL(flag, uint8_t)[k] = i % 3 == 0;
        TS_COL(qty, int32_t)[k] = (int32_t)(i * 7 - 50);
        TS_COL(big, int64_t)[k] = i * 1000000007LL - 3;
        TS_COL(price, double)[k] = (double)i * 0.25 - 1.5;
        TS_COL(day, int32_t)[k] = (int32_t)(19000 + i);
        TS_COL(amount, int64_t)[k] = i * 101 - 5;
        TS_COL(cat, int32_t)[k] = (int32_t)(i % 5);
        TS_TRY(ts_column_append_string(name, buf, name_of(i, total, buf)));
        TS_TRY(ts_column_append_string(raw, buf, raw_of(i, buf)));
        const int note_null = i % 4 == 1;
        TS_TRY(ts_column_append_string(note, buf, note_null ? 0 : sprintf(buf, "note %lld", (long long)i)));
        if (note_null)
            TS_TRY(ts_column_set_null(note, k));
        /* nulls only in the second half: ranks holding the first half have no bitmap at all */
        const int maybe_null = i >= total / 2 && i % 3 == 0;
        TS_COL(maybe, int64_t)[k] = maybe_null ? 12345 : -i; /* the writer must zero null slots */
        if (maybe_null)
            TS_TRY(ts_column_set_null(maybe, k));
    }
    const char *keys[] = {"day", "name"};
    ts_table_set_sorted(t, keys, 2);
    return TS_OK;
}

static ts_err fill_big(ts_table *t, int64_t first, int64_t n)
{
    ts_column *v, *x, *b;
    TS_TRY(ts_table_add(t, "v", TS_T_INT64, 0, NULL, &v));
    TS_TRY(ts_table_add(t, "x", TS_T_FLOAT64, 0, NULL, &x));
    TS_TRY(ts_table_add(t, "b", TS_T_BOOL, 0, NULL, &b));
    TS_TRY(ts_column_reserve(v, n, 0));
    TS_TRY(ts_column_reserve(x, n, 0));
    TS_TRY(ts_column_reserve(b, n, 0));
    for (int64_t k = 0; k < n; k++) {
        const int64_t i = first + k;
        TS_COL(v, int64_t)[k] = (i * i) % 1000003;
        TS_COL(x, double)[k] = (double)i / 8.0;
        TS_COL(b, uint8_t)[k] = (uint8_t)(i % 7 == 0);
    }
    v->len = x->len = b->len = n;
    return TS_OK;
}

static ts_err fill_empty(ts_table *t)
{
    TS_TRY(ts_table_add(t, "line", TS_T_STRING, 0, NULL, NULL));
    TS_TRY(ts_table_add(t, "reason", TS_T_STRING, 0, NULL, NULL));
    TS_TRY(ts_table_add(t, "line_no", TS_T_INT64, 0, NULL, NULL));
    return TS_OK;
}

/* ---- scenarios ---- */

static const ts_h5_meta META = {.job = "test-h5-writer", .inputs = "/data/in", .version = "0.1.0-test"};

static void write_file(const char *path, const char *raw_cols[])
{
    ts_dict *cats;
    ts_table *main_t, *big_t, *empty_t;
    int64_t first, n;
    OK(ts_dict_new(CATS, 5, &cats));
    OK(ts_table_new("everything", &main_t));
    OK(ts_table_new("numbers", &big_t));
    OK(ts_table_new("rejects", &empty_t));
    my_rows(7, 5, &first, &n);
    OK(fill_main(main_t, cats, first, n, total_rows(7, 5)));
    my_rows(150000, 1001, &first, &n);
    OK(fill_big(big_t, first, n));
    OK(fill_empty(empty_t));

    ts_h5_file *f = NULL;
    OK(ts_h5_create(MPI_COMM_WORLD, path, 1, &META, &f));
    if (f) {
        const ts_h5_table_opts main_opts = {.bytes_columns = raw_cols, .nbytes_columns = 1};
        const ts_h5_table_opts empty_opts = {.bytes_columns = (const char *const[]){"line"}, .nbytes_columns = 1};
        OK(ts_h5_write_table(f, "/analytics/everything", main_t, &main_opts));
        OK(ts_h5_write_table(f, "/big/numbers", big_t, NULL));
        OK(ts_h5_write_table(f, "/analytics/rejects", empty_t, &empty_opts));
        OK(ts_h5_commit(f));
    }
    ts_table_free(main_t), ts_table_free(big_t), ts_table_free(empty_t);
    ts_dict_release(cats);
}

/* Expects `got` == `want` on every rank with a message containing `needle`. */
static void expect_fail(ts_err got, ts_err want, const char *needle, const char *what)
{
    CHECK(got == want, "%s: got code %d, want %d (%s)", what, got, want, ts_error_message());
    CHECK(strstr(ts_error_message(), needle), "%s: message lacks '%s': %s", what, needle, ts_error_message());
    if (g_rank == 0)
        printf("expected failure (%s): %s\n", what, ts_error_headline());
}

static int file_is(const char *path, const char *content)
{
    char buf[256] = {0};
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return 0;
    const size_t n = fread(buf, 1, sizeof buf - 1, fp);
    fclose(fp);
    return n == strlen(content) && memcmp(buf, content, n) == 0;
}

static void test_no_overwrite(const char *path)
{
    ts_h5_file *f = (ts_h5_file *)&f; /* must be reset to NULL */
    expect_fail(ts_h5_create(MPI_COMM_WORLD, path, 0, &META, &f), TS_ERR_IO, "--overwrite", "exists");
    CHECK(strstr(ts_error_message(), path), "message does not name %s", path);
    CHECK(f == NULL, "create left a handle after failing");
    if (g_rank == 0)
        CHECK(file_is(path, "precious, not HDF5\n"), "the existing file was modified");
}

/* Failures after create: all ranks must return the same code, then abandon must leave nothing behind. */
static void test_failures(const char *path)
{
    ts_h5_file *f = NULL;
    ts_dict *cats;
    ts_table *t, *odd;
    OK(ts_dict_new(CATS, 5, &cats));
    OK(ts_table_new("t", &t));
    OK(ts_table_new("odd", &odd));
    ts_column *cat;
    OK(ts_table_add(t, "cat", TS_T_DICT, 0, cats, &cat));
    OK(ts_column_reserve(cat, 3, 0));
    cat->len = 3;
    for (int k = 0; k < 3; k++)
        TS_COL(cat, int32_t)[k] = k;
    OK(ts_table_add(odd, "a", TS_T_INT32, 0, NULL, NULL));
    if (g_rank == 0)
        OK(ts_table_add(odd, "extra", TS_T_INT32, 0, NULL, NULL));

    OK(ts_h5_create(MPI_COMM_WORLD, path, 0, &META, &f));
    if (f) {
        OK(ts_h5_write_table(f, "/ok/t", t, NULL));
        expect_fail(ts_h5_write_table(f, "/ok/t", t, NULL), TS_ERR_IO, "/ok/t", "group exists");
        if (g_rank == g_size - 1)
            TS_COL(cat, int32_t)[1] = 99; /* one rank's local data is bad */
        expect_fail(ts_h5_write_table(f, "/bad/codes", t, NULL), TS_ERR_DATA, "outside its dictionary",
                    "bad dictionary code on the last rank");
        if (g_size > 1)
            expect_fail(ts_h5_write_table(f, "/bad/schema", odd, NULL), TS_ERR_USAGE, "different schemas",
                        "schema differs on rank 0");
        const ts_h5_table_opts opts = {.bytes_columns = (const char *const[]){"cat"}, .nbytes_columns = 1};
        expect_fail(ts_h5_write_table(f, "/bad/bytes", t, &opts), TS_ERR_USAGE, "bytes column 'cat'",
                    "bytes column that is not a string");
        ts_h5_abandon(f);
    }
    MPI_Barrier(MPI_COMM_WORLD);
    if (g_rank == 0)
        CHECK(access(path, F_OK) != 0, "abandoned file %s exists", path);
    ts_table_free(t), ts_table_free(odd);
    ts_dict_release(cats);
}

static void test_bad_directory(void)
{
    ts_h5_file *f = NULL;
    const char *p = "/nonexistent-tessera-dir/out.h5";
    expect_fail(ts_h5_create(MPI_COMM_WORLD, p, 1, &META, &f), TS_ERR_IO, p, "missing directory");
    CHECK(f == NULL, "create left a handle after failing");
}

/* An HDF5-level failure (white box: a directory squats on the temporary's name, which ends in rank 0's pid)
 * must come back as one line carrying HDF5's reason, on every rank. */
static void test_hdf5_error(const char *path)
{
    char target[1024], squat[2 * sizeof target + 32];
    snprintf(target, sizeof target, "%s.squat.h5", path);
    const char *slash = strrchr(target, '/');
    int pid = (int)getpid();
    MPI_Bcast(&pid, 1, MPI_INT, 0, MPI_COMM_WORLD);
    snprintf(squat, sizeof squat, "%.*s.%s.tmp-%d", slash ? (int)(slash - target + 1) : 0, target,
             slash ? slash + 1 : target, pid);
    if (g_rank == 0)
        CHECK(mkdir(squat, 0755) == 0, "cannot make %s", squat);
    MPI_Barrier(MPI_COMM_WORLD);
    ts_h5_file *f = NULL;
    expect_fail(ts_h5_create(MPI_COMM_WORLD, target, 1, &META, &f), TS_ERR_IO, "unable to create file",
                "HDF5 cannot create the temporary");
    CHECK(strstr(ts_error_headline(), target), "message does not name %s", target);
    CHECK(f == NULL, "create left a handle after failing");
    MPI_Barrier(MPI_COMM_WORLD);
    if (g_rank == 0)
        rmdir(squat);
}

static void test_long_path(void)
{
    char p[400] = "/tmp/";
    memset(p + 5, 'a', 245);
    strcat(p, ".h5");
    ts_h5_file *f = NULL;
    expect_fail(ts_h5_create(MPI_COMM_WORLD, p, 1, &META, &f), TS_ERR_USAGE, "shorter", "path too long for MPI-IO");
}

/* Leaves a stale temporary as a killed run would, and an existing non-HDF5 file at path. */
static void prepare(const char *path)
{
    if (g_rank == 0) {
        char stale[4096];
        const char *slash = strrchr(path, '/');
        snprintf(stale, sizeof stale, "%.*s.%s.tmp-999999", slash ? (int)(slash - path + 1) : 0, path,
                 slash ? slash + 1 : path);
        FILE *fp = fopen(stale, "w");
        FILE *fq = fopen(path, "w");
        CHECK(fp && fq, "cannot prepare %s and %s", stale, path);
        if (fq)
            fputs("precious, not HDF5\n", fq), fclose(fq);
        if (fp)
            fclose(fp);
    }
    MPI_Barrier(MPI_COMM_WORLD);
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &g_rank);
    MPI_Comm_size(MPI_COMM_WORLD, &g_size);
    if (argc != 2) {
        if (g_rank == 0)
            fprintf(stderr, "usage: %s OUTPUT.h5\n", argv[0]);
        MPI_Finalize();
        return 2;
    }
    const char *path = argv[1];
    char abandoned[4096];
    snprintf(abandoned, sizeof abandoned, "%s.abandoned.h5", path);
    if (g_rank == 0)
        unlink(abandoned);

    prepare(path);
    test_no_overwrite(path);
    test_bad_directory();
    test_hdf5_error(path);
    test_long_path();
    test_failures(abandoned);
    write_file(path, (const char *[]){"raw"});

    int failures = g_failures;
    MPI_Allreduce(MPI_IN_PLACE, &failures, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    if (g_rank == 0)
        printf("test_h5_writer on %d ranks: %s\n", g_size, failures ? "FAILED" : "ok");
    MPI_Finalize();
    return failures ? 1 : 0;
}
