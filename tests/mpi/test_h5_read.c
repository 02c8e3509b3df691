/* MPI test of the parallel HDF5 table reader (io/ts_h5_read.c). Self-checking: prints
 * "test_h5_read: N passed, M failed" on rank 0 (counts summed over ranks) and exits non-zero on a failure.
 *
 * 1. Round trip: tables written with ts_h5_write_table from uneven slabs (rank 0 has the most rows, rank 2 none
 *    when P >= 3) come back as the reader's even slabs; every value is a function of the global row id.
 * 2. Generic datasets written by h5py (make_generic_h5.py, next to this file; its values are recomputed here).
 * 3. Errors: the same code on every rank, with a message naming the object.
 * Files go to /tmp/tsh5r-<pid of rank 0>-*.h5 (short paths: Open MPI's MPI-IO limits path length) and are
 * removed at the end. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ts_h5.h"
#include "ts_h5_read.h"

static int g_rank, g_size, g_pass, g_fail;

#define CHECK(cond, ...)                                                                                      \
    do {                                                                                                      \
        if (cond) {                                                                                           \
            g_pass++;                                                                                         \
        } else {                                                                                              \
            g_fail++;                                                                                         \
            fprintf(stderr, "rank %d: %s:%d: check failed: %s: ", g_rank, __FILE__, __LINE__, #cond);        \
            fprintf(stderr, __VA_ARGS__);                                                                     \
            fputc('\n', stderr);                                                                              \
        }                                                                                                     \
    } while (0)

#define OK(expr) CHECK((expr) == TS_OK, "%s", ts_error_message())

/* This rank's slab of an n-row table as the reader distributes it. */
static void slab(int64_t n, int64_t *r0, int64_t *count)
{
    *r0 = g_rank * n / g_size;
    *count = (g_rank + 1) * n / g_size - *r0;
}

static int str_is(const ts_column *c, int64_t k, const char *s, int64_t len)
{
    const int64_t *o = TS_COL(c, int64_t);
    return c->type == TS_T_STRING && o[k + 1] - o[k] == len && (len == 0 || memcmp(c->bytes + o[k], s, len) == 0);
}

/* ---- 1. round trip: the generating rules ---- */

static const char *const CATS[] = {"DE", "FR", "GB", "Schweiz", ""};

/* rows written by rank r: uneven, rank 0 the most, rank 2 none on 3+ ranks */
static int64_t rows_of(int r, int64_t base, int64_t step)
{
    return g_size >= 3 && r == 2 ? 0 : r == 0 ? 2 * base : base + step * r;
}

static void written_rows(int64_t base, int64_t step, int64_t *first, int64_t *n, int64_t *total)
{
    *first = *total = 0;
    for (int r = 0; r < g_size; r++) {
        *first += r < g_rank ? rows_of(r, base, step) : 0;
        *total += rows_of(r, base, step);
    }
    *n = rows_of(g_rank, base, step);
}

static int name_of(int64_t i, char *buf)
{
    int len = sprintf(buf, "n%lld", (long long)i);
    for (int k = 0; k < (7 * i) % 11; k++)
        buf[len++] = 'x';
    buf[len] = '\0';
    return len;
}

/* b"" when i % 5 == 4, else b"r\0<i>" + b"\0" * (i % 3): NULs inside and at the end */
static int raw_of(int64_t i, char *buf)
{
    if (i % 5 == 4)
        return 0;
    int len = sprintf(buf, "r%c%lld", 0, (long long)i);
    for (int k = 0; k < i % 3; k++)
        buf[len++] = '\0';
    return len;
}

static int raw_null(int64_t i) { return i % 11 == 10; }
static int note_null(int64_t i) { return i % 4 == 1; }
static int maybe_null(int64_t i, int64_t total) { return i >= total / 2 && i % 3 == 0; }
static double price_of(int64_t i) { return i % 10 == 3 ? NAN : (double)i * 0.25 - 1.5; }

static ts_err fill_strings(ts_column *name, ts_column *note, ts_column *raw, int64_t k, int64_t i)
{
    char buf[128];
    TS_TRY(ts_column_append_string(name, buf, name_of(i, buf)));
    TS_TRY(ts_column_append_string(note, buf, note_null(i) ? 0 : sprintf(buf, "note %lld", (long long)i)));
    if (note_null(i))
        TS_TRY(ts_column_set_null(note, k));
    TS_TRY(ts_column_append_string(raw, buf, raw_null(i) ? 0 : raw_of(i, buf)));
    if (raw_null(i))
        TS_TRY(ts_column_set_null(raw, k));
    return TS_OK;
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
    for (int64_t k = 0; k < n; k++) {
        const int64_t i = first + k;
        TS_COL(flag, uint8_t)[k] = i % 3 == 0;
        TS_COL(qty, int32_t)[k] = (int32_t)(i * 7 - 50);
        TS_COL(big, int64_t)[k] = i * 1000000007LL - 3;
        TS_COL(price, double)[k] = price_of(i);
        TS_COL(day, int32_t)[k] = (int32_t)(19000 + i);
        TS_COL(amount, int64_t)[k] = i * 101 - 5;
        TS_COL(cat, int32_t)[k] = (int32_t)(i % 5);
        TS_COL(maybe, int64_t)[k] = -i;
        if (maybe_null(i, total))
            TS_TRY(ts_column_set_null(maybe, k));
        TS_TRY(fill_strings(name, note, raw, k, i));
    }
    ts_table_set_sorted(t, (const char *const[]){"day", "qty"}, 2);
    return TS_OK;
}

static ts_err fill_numbers(ts_table *t, int64_t first, int64_t n)
{
    ts_column *v, *x;
    TS_TRY(ts_table_add(t, "v", TS_T_INT64, 0, NULL, &v));
    TS_TRY(ts_table_add(t, "x", TS_T_FLOAT64, 0, NULL, &x));
    TS_TRY(ts_column_reserve(v, n, 0));
    TS_TRY(ts_column_reserve(x, n, 0));
    for (int64_t k = 0; k < n; k++) {
        TS_COL(v, int64_t)[k] = ((first + k) * (first + k)) % 1000003;
        TS_COL(x, double)[k] = (double)(first + k) / 8.0;
    }
    v->len = x->len = n;
    return TS_OK;
}

static ts_err fill_empty(ts_table *t)
{
    TS_TRY(ts_table_add(t, "line", TS_T_STRING, 0, NULL, NULL));
    TS_TRY(ts_table_add(t, "reason", TS_T_STRING, 0, NULL, NULL));
    TS_TRY(ts_table_add(t, "line_no", TS_T_INT64, 0, NULL, NULL));
    TS_TRY(ts_table_add(t, "when", TS_T_DATE, 0, NULL, NULL));
    return TS_OK;
}

static int64_t g_main_total, g_numbers_total;

static void write_round_trip(const char *path)
{
    ts_dict *cats = NULL;
    ts_table *m = NULL, *num = NULL, *e = NULL;
    int64_t first, n;
    OK(ts_dict_new(CATS, 5, &cats));
    OK(ts_table_new("everything", &m));
    OK(ts_table_new("numbers", &num));
    OK(ts_table_new("empty", &e));
    written_rows(29, 3, &first, &n, &g_main_total);
    OK(fill_main(m, cats, first, n, g_main_total));
    written_rows(150000, 1001, &first, &n, &g_numbers_total); /* several 1 MiB chunks per column */
    OK(fill_numbers(num, first, n));
    OK(fill_empty(e));

    static const ts_h5_meta meta = {.job = "test-h5-read", .inputs = "-", .version = "test"};
    ts_h5_file *f = NULL;
    OK(ts_h5_create(MPI_COMM_WORLD, path, 1, &meta, &f));
    if (f) {
        const ts_h5_table_opts raw = {.bytes_columns = (const char *const[]){"raw"}, .nbytes_columns = 1};
        const ts_h5_table_opts line = {.bytes_columns = (const char *const[]){"line"}, .nbytes_columns = 1};
        OK(ts_h5_write_table(f, "/t/everything", m, &raw));
        OK(ts_h5_write_table(f, "/t/numbers", num, NULL));
        OK(ts_h5_write_table(f, "/t/empty", e, &line));
        OK(ts_h5_commit(f));
    }
    ts_table_free(m), ts_table_free(num), ts_table_free(e);
    ts_dict_release(cats);
}

/* Whether row k of column c holds the value of global row i. */
static int main_value_ok(const ts_column *c, int64_t k, int64_t i)
{
    char buf[128];
    const char *n = c->name;
    const int valid = ts_column_is_valid(c, k);
    if (!strcmp(n, "flag"))
        return TS_COL(c, uint8_t)[k] == (i % 3 == 0);
    if (!strcmp(n, "qty"))
        return TS_COL(c, int32_t)[k] == i * 7 - 50;
    if (!strcmp(n, "big"))
        return TS_COL(c, int64_t)[k] == i * 1000000007LL - 3;
    if (!strcmp(n, "price"))
        return isnan(price_of(i)) ? isnan(TS_COL(c, double)[k]) : TS_COL(c, double)[k] == price_of(i);
    if (!strcmp(n, "day"))
        return TS_COL(c, int32_t)[k] == 19000 + i;
    if (!strcmp(n, "amount"))
        return TS_COL(c, int64_t)[k] == i * 101 - 5;
    if (!strcmp(n, "name"))
        return str_is(c, k, buf, name_of(i, buf));
    if (!strcmp(n, "note"))
        return note_null(i) ? !valid && str_is(c, k, "", 0)
                            : valid && str_is(c, k, buf, sprintf(buf, "note %lld", (long long)i));
    if (!strcmp(n, "maybe"))
        return maybe_null(i, g_main_total) ? !valid : valid && TS_COL(c, int64_t)[k] == -i;
    if (!strcmp(n, "raw"))
        return raw_null(i) ? !valid && str_is(c, k, "", 0) : valid && str_is(c, k, buf, raw_of(i, buf));
    if (!strcmp(n, "cat"))
        return str_is(c, k, CATS[i % 5], (int64_t)strlen(CATS[i % 5]));
    return 0;
}

/* Checks every value of every column of t against the rules, rows [r0, r0+count) of an n-row table. */
static void check_values(const ts_table *t, int64_t n, int (*ok)(const ts_column *, int64_t, int64_t))
{
    int64_t r0, count;
    slab(n, &r0, &count);
    CHECK(ts_table_rows(t) == count, "table %s: %lld rows, want %lld", t->name, (long long)ts_table_rows(t),
          (long long)count);
    for (int j = 0; j < t->ncols && ts_table_rows(t) == count; j++) {
        int64_t bad = -1;
        for (int64_t k = 0; k < count && bad < 0; k++)
            bad = t->cols[j]->len != count || !ok(t->cols[j], k, r0 + k) ? k : -1;
        CHECK(bad < 0, "table %s column %s: wrong value at global row %lld", t->name, t->cols[j]->name,
              (long long)(r0 + bad));
    }
}

static void check_schema(const ts_table *t, const char *const *names, const ts_type *types, int n)
{
    CHECK(t->ncols == n, "table %s: %d columns, want %d", t->name, t->ncols, n);
    for (int j = 0; j < n && j < t->ncols; j++)
        CHECK(!strcmp(t->cols[j]->name, names[j]) && t->cols[j]->type == types[j],
              "table %s column %d: %s of type %d, want %s of type %d", t->name, j, t->cols[j]->name,
              (int)t->cols[j]->type, names[j], (int)types[j]);
}

static void check_sorted(const ts_table *t, const char *const *keys, int n)
{
    CHECK(t->nsort == n, "table %s: %d sort keys, want %d", t->name, t->nsort, n);
    for (int j = 0; j < n && j < t->nsort; j++)
        CHECK(!strcmp(t->sort_keys[j], keys[j]), "sort key %d is %s, want %s", j, t->sort_keys[j], keys[j]);
}

static int numbers_ok(const ts_column *c, int64_t k, int64_t i)
{
    if (!strcmp(c->name, "v"))
        return TS_COL(c, int64_t)[k] == (i * i) % 1000003;
    return TS_COL(c, double)[k] == (double)i / 8.0;
}

static void check_names(const char *path, const char *const *want, int nwant)
{
    char **names = NULL;
    int n = -1;
    OK(ts_h5_list_tables(MPI_COMM_WORLD, path, &names, &n));
    CHECK(n == nwant, "%s: %d tables, want %d", path, n, nwant);
    for (int i = 0; i < n && i < nwant; i++)
        CHECK(!strcmp(names[i], want[i]), "%s: table %d is %s, want %s", path, i, names[i], want[i]);
    free(names);
}

static void test_round_trip(const char *path)
{
    write_round_trip(path);
    static const char *const all[] = {"flag", "qty", "big", "price", "day", "amount",
                                      "name", "note", "maybe", "raw", "cat"};
    static const ts_type types[] = {TS_T_BOOL, TS_T_INT32, TS_T_INT64, TS_T_FLOAT64, TS_T_DATE, TS_T_DECIMAL,
                                    TS_T_STRING, TS_T_STRING, TS_T_INT64, TS_T_STRING, TS_T_STRING};
    ts_table *t = NULL;
    OK(ts_h5_read_table(MPI_COMM_WORLD, path, "/t/everything", NULL, 0, &t));
    if (t) {
        check_schema(t, all, types, 11);
        CHECK(t->ncols > 5 && t->cols[5]->scale == 2, "decimal scale is not 2");
        CHECK(!strcmp(t->name, "everything"), "table name %s", t->name);
        check_sorted(t, (const char *const[]){"day", "qty"}, 2);
        check_values(t, g_main_total, main_value_ok);
        for (int j = 0; j < t->ncols; j++) /* only the nullable columns carry a bitmap */
            CHECK(!t->cols[j]->valid || !strcmp(all[j], "note") || !strcmp(all[j], "maybe") || !strcmp(all[j], "raw"),
                  "column %s has a validity bitmap", all[j]);
    }
    ts_table_free(t);

    /* pruned: only the listed columns, in the listed order; sort keys keep the prefix that was read */
    t = NULL;
    OK(ts_h5_read_table(MPI_COMM_WORLD, path, "/t/everything", (const char *const[]){"raw", "qty"}, 2, &t));
    if (t) {
        check_schema(t, (const char *const[]){"raw", "qty"}, (const ts_type[]){TS_T_STRING, TS_T_INT32}, 2);
        check_sorted(t, NULL, 0);
        check_values(t, g_main_total, main_value_ok);
    }
    ts_table_free(t);
    t = NULL;
    OK(ts_h5_read_table(MPI_COMM_WORLD, path, "t/everything", (const char *const[]){"note", "day"}, 2, &t));
    if (t) {
        check_sorted(t, (const char *const[]){"day"}, 1);
        check_values(t, g_main_total, main_value_ok);
    }
    ts_table_free(t);

    t = NULL;
    OK(ts_h5_read_table(MPI_COMM_WORLD, path, "/t/numbers", NULL, 0, &t));
    if (t)
        check_values(t, g_numbers_total, numbers_ok);
    ts_table_free(t);

    t = NULL;
    OK(ts_h5_read_table(MPI_COMM_WORLD, path, "/t/empty", NULL, 0, &t));
    if (t) {
        check_schema(t, (const char *const[]){"line", "reason", "line_no", "when"},
                     (const ts_type[]){TS_T_STRING, TS_T_STRING, TS_T_INT64, TS_T_DATE}, 4);
        CHECK(ts_table_rows(t) == 0, "empty table has %lld rows", (long long)ts_table_rows(t));
    }
    ts_table_free(t);
    check_names(path, (const char *const[]){"/t/empty", "/t/everything", "/t/numbers"}, 3);
}

/* ---- 2. generic datasets (rules of make_generic_h5.py) ---- */

#define GEN_N 1003

static int gen_name(int64_t k, char *buf)
{
    if (k % 7 == 0)
        return 0;
    return k % 11 == 5 ? sprintf(buf, "%08lld", (long long)k) : sprintf(buf, "s%lld", (long long)k);
}

static int generic_ok(const ts_column *c, int64_t k, int64_t i)
{
    char buf[32];
    const char *n = c->name;
    if (!strcmp(n, "a_int16"))
        return TS_COL(c, int32_t)[k] == 13 * i - 5000;
    if (!strcmp(n, "b_uint32"))
        return TS_COL(c, int64_t)[k] == 3000000000LL + i;
    if (!strcmp(n, "c_float32"))
        return TS_COL(c, double)[k] == (double)i / 2 - 7;
    if (!strcmp(n, "d_int64"))
        return TS_COL(c, int64_t)[k] == i * 1000000000000LL - 1;
    if (!strcmp(n, "day"))
        return TS_COL(c, int32_t)[k] == 18000 + i;
    if (!strcmp(n, "e_uint8"))
        return TS_COL(c, int32_t)[k] == i % 256;
    if (!strcmp(n, "f_int8"))
        return TS_COL(c, int32_t)[k] == i % 256 - 128;
    if (!strcmp(n, "g_float64"))
        return i % 9 == 0 ? isnan(TS_COL(c, double)[k]) : TS_COL(c, double)[k] == (double)i / 4;
    if (!strcmp(n, "name"))
        return str_is(c, k, buf, gen_name(i, buf));
    if (!strcmp(n, "ok"))
        return TS_COL(c, int64_t)[k] == 3 * i;
    return 0;
}

/* The directory of this source file: the generator script lives next to it (CMake cannot be edited here). */
static void script_path(char *buf, size_t cap)
{
    const char *slash = strrchr(__FILE__, '/');
    snprintf(buf, cap, "%.*s/make_generic_h5.py", slash ? (int)(slash - __FILE__) : 1, slash ? __FILE__ : ".");
}

static int make_generic(const char *path)
{
    int rc = 0;
    if (g_rank == 0) {
        char script[4096], cmd[8192];
        script_path(script, sizeof script);
        snprintf(cmd, sizeof cmd, "/usr/bin/python3 '%s' '%s'", script, path);
        rc = system(cmd);
    }
    MPI_Bcast(&rc, 1, MPI_INT, 0, MPI_COMM_WORLD);
    CHECK(rc == 0, "make_generic_h5.py failed with status %d", rc);
    return rc == 0;
}

static void test_generic(const char *path)
{
    static const char *const names[] = {"a_int16", "b_uint32", "c_float32", "d_int64", "day",
                                        "e_uint8", "f_int8",   "g_float64", "name"};
    static const ts_type types[] = {TS_T_INT32, TS_T_INT64, TS_T_FLOAT64, TS_T_INT64, TS_T_DATE,
                                    TS_T_INT32, TS_T_INT32, TS_T_FLOAT64, TS_T_STRING};
    ts_table *t = NULL;
    OK(ts_h5_read_table(MPI_COMM_WORLD, path, "/generic", NULL, 0, &t));
    if (t) {
        check_schema(t, names, types, 9);
        check_sorted(t, NULL, 0);
        check_values(t, GEN_N, generic_ok);
    }
    ts_table_free(t);
    t = NULL;
    OK(ts_h5_read_table(MPI_COMM_WORLD, path, "/generic", (const char *const[]){"name", "b_uint32"}, 2, &t));
    if (t) {
        check_schema(t, (const char *const[]){"name", "b_uint32"}, (const ts_type[]){TS_T_STRING, TS_T_INT64}, 2);
        check_values(t, GEN_N, generic_ok);
    }
    ts_table_free(t);
    t = NULL;
    OK(ts_h5_read_table(MPI_COMM_WORLD, path, "/u64", (const char *const[]){"ok"}, 1, &t));
    if (t)
        check_values(t, GEN_N, generic_ok);
    ts_table_free(t);
    check_names(path, (const char *const[]){"/generic", "/u64"}, 2);
}

/* ---- 3. errors ---- */

/* got == want on this rank and on every other rank, and the message names each of the needles. */
static void expect_fail(ts_err got, ts_err want, const char *what, const char *needle1, const char *needle2)
{
    int lo = got, hi = got;
    MPI_Allreduce(MPI_IN_PLACE, &lo, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
    MPI_Allreduce(MPI_IN_PLACE, &hi, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    CHECK(got == want, "%s: code %d, want %d (%s)", what, got, want, ts_error_message());
    CHECK(lo == hi, "%s: the ranks returned different codes (%d..%d)", what, lo, hi);
    CHECK(strstr(ts_error_message(), needle1), "%s: message lacks '%s': %s", what, needle1, ts_error_message());
    if (needle2)
        CHECK(strstr(ts_error_message(), needle2), "%s: message lacks '%s': %s", what, needle2,
              ts_error_message());
    if (g_rank == 0)
        printf("expected failure (%s): %s\n", what, ts_error_headline());
}

static void test_errors(const char *rt, const char *gen, const char *base)
{
    char missing[512], junk[512];
    snprintf(missing, sizeof missing, "%s-missing.h5", base);
    snprintf(junk, sizeof junk, "%s-junk.h5", base);
    ts_table *t = (ts_table *)&t; /* must come back NULL */
    char **names = NULL;
    int n = 0;

    expect_fail(ts_h5_read_table(MPI_COMM_WORLD, missing, "/t", NULL, 0, &t), TS_ERR_IO, "missing file", missing,
                "No such file");
    CHECK(t == NULL, "a failed read left a table");
    expect_fail(ts_h5_list_tables(MPI_COMM_WORLD, missing, &names, &n), TS_ERR_IO, "list a missing file",
                missing, NULL);
    if (g_rank == 0) {
        FILE *fp = fopen(junk, "w");
        if (fp)
            fputs("not an HDF5 file\n", fp), fclose(fp);
    }
    MPI_Barrier(MPI_COMM_WORLD);
    expect_fail(ts_h5_read_table(MPI_COMM_WORLD, junk, "/t", NULL, 0, &t), TS_ERR_IO, "not HDF5", junk,
                "unable to open file");
    expect_fail(ts_h5_read_table(MPI_COMM_WORLD, rt, "/t/everythin", NULL, 0, &t), TS_ERR_USAGE, "missing group",
                "/t/everythin", "closest: /t/everything");
    expect_fail(ts_h5_read_table(MPI_COMM_WORLD, rt, "/nowhere/x", NULL, 0, &t), TS_ERR_USAGE,
                "missing parent group", "/nowhere/x", rt);
    expect_fail(ts_h5_read_table(MPI_COMM_WORLD, rt, "/t/everything/qty", NULL, 0, &t), TS_ERR_USAGE,
                "dataset, not group", "/t/everything/qty", "not a table");
    expect_fail(ts_h5_read_table(MPI_COMM_WORLD, rt, "/t/everything", (const char *const[]){"qty", "nmae"}, 2, &t),
                TS_ERR_USAGE, "missing column", "'nmae'", "closest: 'name'");
    expect_fail(ts_h5_read_table(MPI_COMM_WORLD, rt, "/t/everything", (const char *const[]){"qty", "qty"}, 2, &t),
                TS_ERR_USAGE, "column twice", "'qty'", "twice");
    expect_fail(ts_h5_read_table(MPI_COMM_WORLD, gen, "/uneven", NULL, 0, &t), TS_ERR_DATA,
                "datasets of different lengths", "'long'", "'short'");
    expect_fail(ts_h5_read_table(MPI_COMM_WORLD, gen, "/u64", NULL, 0, &t), TS_ERR_DATA, "uint64 beyond int64",
                "'huge'", "9223372036854775813");
    CHECK(t == NULL, "a failed read left a table");
#ifdef OPEN_MPI
    char longp[400] = "/tmp/";
    memset(longp + 5, 'a', 300);
    strcpy(longp + 305, ".h5");
    expect_fail(ts_h5_read_table(MPI_COMM_WORLD, longp, "/t", NULL, 0, &t), TS_ERR_USAGE,
                "path too long for Open MPI's MPI-IO", "ompi#13565", "shorter");
#endif

    /* the reader is still usable after failures */
    t = NULL;
    OK(ts_h5_read_table(MPI_COMM_WORLD, gen, "/generic", (const char *const[]){"d_int64"}, 1, &t));
    if (t)
        check_values(t, GEN_N, generic_ok);
    ts_table_free(t);
    if (g_rank == 0)
        unlink(junk);
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &g_rank);
    MPI_Comm_size(MPI_COMM_WORLD, &g_size);
    int pid = (int)getpid();
    MPI_Bcast(&pid, 1, MPI_INT, 0, MPI_COMM_WORLD);
    char base[64], rt[96], gen[96];
    snprintf(base, sizeof base, "/tmp/tsh5r-%d", pid);
    snprintf(rt, sizeof rt, "%s-rt.h5", base);
    snprintf(gen, sizeof gen, "%s-gen.h5", base);

    test_round_trip(rt);
    if (make_generic(gen))
        test_generic(gen);
    test_errors(rt, gen, base);

    MPI_Barrier(MPI_COMM_WORLD);
    if (g_rank == 0)
        unlink(rt), unlink(gen);
    int counts[2] = {g_pass, g_fail};
    MPI_Allreduce(MPI_IN_PLACE, counts, 2, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    if (g_rank == 0)
        printf("test_h5_read: %d passed, %d failed\n", counts[0], counts[1]);
    MPI_Finalize();
    return counts[1] ? 1 : 0;
}
