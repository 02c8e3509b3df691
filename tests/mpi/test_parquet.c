/* Parquet on 1, 2 and 4 ranks: engine/ts_dataset_write writes a distributed table (rows are a function of their
 * global index: integers, doubles, dates, decimals, booleans, a low- and a high-cardinality string, NULLs) as one
 * file, as per-rank parts and Hive-partitioned; engine/ts_parquet_scan reads each back and every value is checked
 * against the formula (and the row order of the single file, whose rows are the ranks' rows in rank order), DICT
 * columns carry one sorted dictionary everywhere, and predicates skip row groups without changing the rows a
 * filter keeps. Also run under valgrind (label valgrind). */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../unit/ts_test.h"
#include "ts_mpi_test.h"
#include "ts_ctx.h"
#include "ts_dataset_write.h"
#include "ts_parquet_scan.h"

#define N 5000 /* global rows */

static const char *const COUNTRIES[] = {"ARG", "BRA", "CHL", "DEU"};

/* The value of global row g in each column (NULL patterns differ per column). */
static int null_at(int64_t g, int period) { return g % period == 0; }
static int64_t v_big(int64_t g) { return g * 7919 % 100003 - 50000; }
static double v_dbl(int64_t g) { return (double)g / 8.0; }
static int32_t v_day(int64_t g) { return (int32_t)(18628 + g % 700); }
static int64_t v_amount(int64_t g) { return g * 12345 % 1000000 - 500000; } /* DECIMAL scale 2 */
static int v_code(int64_t g, char *buf) { return sprintf(buf, "c%04lld-%lld", (long long)(g * 37 % 1000), (long long)g); }

static ts_err make_table(ts_ctx *ctx, ts_table **out)
{
    const int64_t lo = N * ctx->rank / ctx->size, hi = N * (ctx->rank + 1) / ctx->size;
    ts_table *t;
    ts_column *id, *big, *dbl, *day, *amount, *flag, *country, *code;
    TS_TRY(ts_table_new("t", &t));
    *out = t;
    TS_TRY(ts_table_add(t, "id", TS_T_INT64, 0, NULL, &id));
    TS_TRY(ts_table_add(t, "big", TS_T_INT64, 0, NULL, &big));
    TS_TRY(ts_table_add(t, "dbl", TS_T_FLOAT64, 0, NULL, &dbl));
    TS_TRY(ts_table_add(t, "day", TS_T_DATE, 0, NULL, &day));
    TS_TRY(ts_table_add(t, "amount", TS_T_DECIMAL, 2, NULL, &amount));
    TS_TRY(ts_table_add(t, "flag", TS_T_BOOL, 0, NULL, &flag));
    TS_TRY(ts_table_add(t, "country", TS_T_STRING, 0, NULL, &country));
    TS_TRY(ts_table_add(t, "code", TS_T_STRING, 0, NULL, &code));
    for (ts_column **c = (ts_column *[]){id, big, dbl, day, amount, flag, NULL}; *c; c++)
        TS_TRY(ts_column_reserve(*c, hi - lo, 0));
    for (int64_t g = lo; g < hi; g++) {
        const int64_t i = g - lo;
        TS_COL(id, int64_t)[i] = g, TS_COL(big, int64_t)[i] = v_big(g), TS_COL(dbl, double)[i] = v_dbl(g);
        TS_COL(day, int32_t)[i] = v_day(g), TS_COL(amount, int64_t)[i] = v_amount(g);
        TS_COL(flag, uint8_t)[i] = g % 3 == 0;
        const char *cc = COUNTRIES[g % 4];
        TS_TRY(ts_column_append_string(country, cc, 3));
        char buf[64];
        const int n = v_code(g, buf);
        TS_TRY(ts_column_append_string(code, buf, n));
    }
    id->len = big->len = dbl->len = day->len = amount->len = flag->len = hi - lo;
    for (int64_t g = lo; g < hi; g++) {
        if (null_at(g, 11))
            TS_TRY(ts_column_set_null(big, g - lo));
        if (null_at(g, 13))
            TS_TRY(ts_column_set_null(code, g - lo));
        if (null_at(g, 17))
            TS_TRY(ts_column_set_null(country, g - lo));
    }
    return TS_OK;
}

/* Every row of t against the formulas (by its id). Returns the number of bad cells. */
static long check_rows(const ts_table *t, int with_country)
{
    const ts_column *id = ts_table_col(t, "id"), *big = ts_table_col(t, "big"), *dbl = ts_table_col(t, "dbl");
    const ts_column *day = ts_table_col(t, "day"), *amount = ts_table_col(t, "amount");
    const ts_column *flag = ts_table_col(t, "flag"), *country = ts_table_col(t, "country");
    const ts_column *code = ts_table_col(t, "code");
    long bad = !id || !big || !dbl || !day || !amount || !flag || !code || (with_country && !country);
    if (bad)
        return bad;
    bad += amount->type != TS_T_DECIMAL || amount->scale != 2 || day->type != TS_T_DATE;
    for (int64_t i = 0; i < id->len; i++) {
        const int64_t g = TS_COL(id, int64_t)[i];
        bad += null_at(g, 11) ? ts_column_is_valid(big, i) : TS_COL(big, int64_t)[i] != v_big(g);
        bad += TS_COL(dbl, double)[i] != v_dbl(g) || TS_COL(day, int32_t)[i] != v_day(g);
        bad += TS_COL(amount, int64_t)[i] != v_amount(g) || TS_COL(flag, uint8_t)[i] != (g % 3 == 0);
        char buf[64];
        const int n = v_code(g, buf);
        if (null_at(g, 13)) {
            bad += ts_column_is_valid(code, i);
        } else {
            int64_t l;
            const char *s = code->type == TS_T_DICT ? ts_dict_value(code->dict, TS_COL(code, int32_t)[i], &l)
                                                    : code->bytes + TS_COL(code, int64_t)[i];
            if (code->type != TS_T_DICT)
                l = TS_COL(code, int64_t)[i + 1] - TS_COL(code, int64_t)[i];
            bad += l != n || memcmp(s, buf, (size_t)n) != 0;
        }
        if (with_country && null_at(g, 17)) {
            bad += ts_column_is_valid(country, i);
        } else if (with_country) {
            int64_t l = 0;
            const char *s = country->type == TS_T_DICT ? ts_dict_value(country->dict, TS_COL(country, int32_t)[i], &l)
                                                       : "";
            bad += country->type != TS_T_DICT || l != 3 || memcmp(s, COUNTRIES[g % 4], 3) != 0;
        }
    }
    return bad;
}

static int64_t global_rows(ts_ctx *ctx, const ts_table *t)
{
    int64_t n = ts_table_rows(t), sum = 0;
    MPI_Allreduce(&n, &sum, 1, MPI_INT64_T, MPI_SUM, ctx->comm);
    return sum;
}

/* Reads path (a pattern) back: every column, optionally with one predicate. */
static ts_err read_back(ts_ctx *ctx, const char *pattern, int hive, const ts_pq_pred *pred, ts_table **out,
                        ts_pq_scan_stats *st)
{
    ts_pq_dataset ds;
    TS_TRY(ts_pq_dataset_open(ctx, &pattern, 1, hive, &ds));
    int cols[TS_MAX_COLS];
    for (int c = 0; c < ds.ncols; c++)
        cols[c] = c;
    ts_pq_pred p;
    if (pred) {
        p = *pred;
        p.col = ts_pq_dataset_find(&ds, "id");
    }
    const ts_pq_scan_opts o = {cols, ds.ncols, pred ? &p : NULL, pred ? 1 : 0, 1 << 20};
    const ts_err err = ts_pq_scan(ctx, &ds, &o, out, st);
    ts_pq_dataset_free(&ds);
    return err;
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    ts_ctx ctx;
    if (ts_ctx_init(MPI_COMM_WORLD, &ctx) != TS_OK)
        return 1;
    char dir[256];
    if (ctx.rank == 0) {
        snprintf(dir, sizeof dir, "/tmp/ts_test_parquet_%d", (int)getpid());
        mkdir(dir, 0755);
    }
    MPI_Bcast(dir, sizeof dir, MPI_CHAR, 0, ctx.comm);
    ts_table *t = NULL;
    CHECK_OK(ts_ctx_check(&ctx, make_table(&ctx, &t)));

    /* one file: the ranks' rows in rank order = the global order */
    char path[512];
    snprintf(path, sizeof path, "%s/one.parquet", dir);
    ts_write_opts w = {.format = TS_WRITE_PARQUET, .single_file = 1};
    w.parquet.codec = TS_PQ_ZSTD, w.parquet.row_group_rows = 700;
    ts_write_result res;
    CHECK_OK(ts_write_dataset(&ctx, t, path, &w, &res));
    CHECK(res.rows == N && res.files == 1, "single file: %lld rows, %lld files", (long long)res.rows,
          (long long)res.files);
    ts_table *r = NULL;
    ts_pq_scan_stats st;
    if (CHECK_OK(read_back(&ctx, path, 0, NULL, &r, &st))) {
        int64_t groups = 0; /* each rank's rows in row groups of 700 */
        for (int k = 0; k < ctx.size; k++)
            groups += (N * (k + 1) / ctx.size - N * k / ctx.size + 699) / 700;
        CHECK(global_rows(&ctx, r) == N && st.row_groups == groups, "rows read back (%lld row groups, expected %lld)",
              (long long)st.row_groups, (long long)groups);
        CHECK(check_rows(r, 1) == 0, "single file: %ld bad cells", check_rows(r, 1));
        /* ascending ids within the rank and across ranks (rank r holds the r-th part) */
        const ts_column *id = ts_table_col(r, "id");
        int64_t first = id->len ? TS_COL(id, int64_t)[0] : -1, last = id->len ? TS_COL(id, int64_t)[id->len - 1] : -1;
        long unordered = 0;
        for (int64_t i = 1; i < id->len; i++)
            unordered += TS_COL(id, int64_t)[i] != TS_COL(id, int64_t)[i - 1] + 1;
        int64_t *firsts = malloc(sizeof *firsts * 2 * (size_t)ctx.size), mine[2] = {first, last};
        MPI_Allgather(mine, 2, MPI_INT64_T, firsts, 2, MPI_INT64_T, ctx.comm);
        int64_t expect = 0;
        for (int k = 0; k < ctx.size; k++)
            if (firsts[2 * k] >= 0)
                unordered += firsts[2 * k] != expect, expect = firsts[2 * k + 1] + 1;
        CHECK(unordered == 0 && expect == N, "single file: rows in the global order");
        free(firsts);
        /* the string columns are DICT with the same sorted dictionary everywhere */
        const ts_column *country = ts_table_col(r, "country");
        uint64_t h = 0;
        for (int32_t d = 0; country->type == TS_T_DICT && d < country->dict->n; d++) {
            int64_t l;
            const char *s = ts_dict_value(country->dict, d, &l);
            h = h * 1000003 + (uint64_t)s[0] * 31 + (uint64_t)l;
        }
        uint64_t hmax = 0;
        MPI_Allreduce(&h, &hmax, 1, MPI_UINT64_T, MPI_MAX, ctx.comm);
        CHECK(country->type == TS_T_DICT && country->dict->n == 4 && h == hmax, "one global sorted dictionary");
        ts_table_free(r), r = NULL;
    }
    /* a predicate skips row groups (ids ascend through the file) and keeps every row the filter keeps */
    const ts_pq_pred ge = {.op = TS_PQ_OP_GE, .x = 4200};
    if (CHECK_OK(read_back(&ctx, path, 0, &ge, &r, &st))) {
        const ts_column *id = ts_table_col(r, "id");
        int64_t kept = 0, n;
        for (int64_t i = 0; i < id->len; i++)
            kept += TS_COL(id, int64_t)[i] >= 4200;
        MPI_Allreduce(&kept, &n, 1, MPI_INT64_T, MPI_SUM, ctx.comm);
        CHECK(n == N - 4200, "pruned scan keeps the %d matching rows (got %lld)", N - 4200, (long long)n);
        CHECK(st.row_groups_read < st.row_groups && st.row_groups_read >= 2, "row groups read %lld of %lld",
              (long long)st.row_groups_read, (long long)st.row_groups);
        ts_table_free(r), r = NULL;
    }

    /* per-rank parts, and Hive partitions by country (NULL -> __HIVE_DEFAULT_PARTITION__) */
    snprintf(path, sizeof path, "%s/parts", dir);
    ts_write_opts wd = {.format = TS_WRITE_PARQUET};
    wd.parquet.codec = TS_PQ_SNAPPY;
    CHECK_OK(ts_write_dataset(&ctx, t, path, &wd, &res));
    snprintf(path, sizeof path, "%s/parts/*.parquet", dir);
    if (CHECK_OK(read_back(&ctx, path, 0, NULL, &r, &st))) {
        CHECK(global_rows(&ctx, r) == N && check_rows(r, 1) == 0, "per-rank parts read back");
        ts_table_free(r), r = NULL;
    }
    static const char *const by[] = {"country"};
    snprintf(path, sizeof path, "%s/hive", dir);
    ts_write_opts wh = {.format = TS_WRITE_PARQUET, .partition_by = by, .npartition = 1};
    wh.parquet.codec = TS_PQ_GZIP;
    CHECK_OK(ts_write_dataset(&ctx, t, path, &wh, &res));
    snprintf(path, sizeof path, "%s/hive/**/*.parquet", dir);
    if (CHECK_OK(read_back(&ctx, path, 1, NULL, &r, &st))) {
        CHECK(global_rows(&ctx, r) == N && check_rows(r, 1) == 0, "Hive partitions read back");
        CHECK(st.files >= 5, "files: %d (5 partitions: 4 countries and NULL)", st.files);
        ts_table_free(r), r = NULL;
    }
    ts_table_free(t);
    MPI_Barrier(ctx.comm);
    if (ctx.rank == 0) {
        char cmd[600];
        snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
        CHECK(system(cmd) == 0, "clean up");
    }
    return ts_mpi_test_done(&ctx, "test_parquet");
}
