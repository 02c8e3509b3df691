/* Cold tables (engine/ops/ts_cold.h): a table written in uneven batches (INT64, FLOAT64, STRING with NULLs and
 * empty strings, DICT, DATE) and mapped back holds exactly the values generated, computed here from the same
 * formulas, not from the table written; its blocks are file mappings (and a view's pointer into them is seen as
 * one, while a pointer into anonymous memory is not); releasing pages keeps the values readable; a cold column
 * grows into memory when appended to; ts_table_to_cold moves an in-memory table and keeps its rows, names and
 * partitioning; a block moved to a file (ts_cold_block) keeps its bytes and is not resident until read (one write
 * to a fresh mapping used to map a whole large folio of the page cache); nothing is left in the directory. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ts_cold.h"
#include "ts_mem.h"
#include "ts_test.h"

#define ROWS 300007

static int64_t ival(int64_t i) { return i * 7919 - 1000000; }
static double dval(int64_t i) { return (double)i / 8.0; }
static int str_null(int64_t i) { return i % 13 == 5; }
static void sval(int64_t i, char *buf, int *len) /* "", "a", "bb", ... up to 40 bytes, one letter per row */
{
    *len = (int)(i % 41);
    memset(buf, 'a' + (int)(i % 26), (size_t)*len);
}

/* Rows [from, to) as a new table with the test's columns. */
static int make_rows(ts_dict *d, int64_t from, int64_t to, ts_table **out)
{
    ts_table *t;
    ts_column *ci, *cd, *cs, *cc, *ct;
    if (!CHECK_OK(ts_table_new("batch", &t)))
        return 0;
    int ok = CHECK_OK(ts_table_add(t, "i", TS_T_INT64, 0, NULL, &ci)) &&
             CHECK_OK(ts_table_add(t, "d", TS_T_FLOAT64, 0, NULL, &cd)) &&
             CHECK_OK(ts_table_add(t, "s", TS_T_STRING, 0, NULL, &cs)) &&
             CHECK_OK(ts_table_add(t, "c", TS_T_DICT, 0, d, &cc)) &&
             CHECK_OK(ts_table_add(t, "t", TS_T_DATE, 0, NULL, &ct));
    const int64_t n = to - from;
    ok = ok && CHECK_OK(ts_column_reserve(ci, n, 0)) && CHECK_OK(ts_column_reserve(cd, n, 0)) &&
         CHECK_OK(ts_column_reserve(cc, n, 0)) && CHECK_OK(ts_column_reserve(ct, n, 0));
    for (int64_t r = 0; ok && r < n; r++) {
        const int64_t i = from + r;
        TS_COL(ci, int64_t)[r] = ival(i), TS_COL(cd, double)[r] = dval(i);
        TS_COL(cc, int32_t)[r] = (int32_t)(i % 3), TS_COL(ct, int32_t)[r] = (int32_t)(i % 20000);
        char buf[64];
        int len;
        sval(i, buf, &len);
        ok = CHECK_OK(ts_column_append_string(cs, buf, len));
    }
    ci->len = cd->len = cc->len = ct->len = n;
    for (int64_t r = 0; ok && r < n; r++)
        if (str_null(from + r))
            ok = CHECK_OK(ts_column_set_null(cs, r));
    *out = t;
    return ok;
}

/* Every value of t equals the formulas'; returns the number of mismatches. */
static int64_t mismatches(const ts_table *t)
{
    int64_t bad = 0;
    const ts_column *ci = t->cols[0], *cd = t->cols[1], *cs = t->cols[2], *cc = t->cols[3], *ct = t->cols[4];
    for (int64_t i = 0; i < ROWS; i++) {
        char buf[64];
        int len;
        sval(i, buf, &len);
        const int64_t *off = TS_COL(cs, int64_t);
        bad += TS_COL(ci, int64_t)[i] != ival(i) || TS_COL(cd, double)[i] != dval(i) ||
               TS_COL(cc, int32_t)[i] != (int32_t)(i % 3) || TS_COL(ct, int32_t)[i] != (int32_t)(i % 20000) ||
               ts_column_is_valid(cs, i) == str_null(i) ||
               (!str_null(i) && (off[i + 1] - off[i] != len || memcmp(cs->bytes + off[i], buf, (size_t)len)));
    }
    return bad;
}

/* The process's file-backed resident bytes (RssFile), 0 when unknown. */
static int64_t rss_file(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long long kib = 0;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "RssFile: %lld", &kib) == 1)
            break;
    if (f)
        fclose(f);
    return kib * 1024;
}

/* A 16 MiB block moved to a file: at most a few pages resident until read, then every byte as written. */
static void check_cold_block(const char *dir)
{
    const size_t n = (size_t)16 << 20;
    uint32_t *p = NULL;
    CHECK_OK(ts_alloc(n, (void **)&p));
    for (size_t i = 0; p && i < n / 4; i++)
        p[i] = (uint32_t)(i * 2654435761u);
    const int64_t before = rss_file();
    CHECK_OK(ts_cold_block((void **)&p, n, dir));
    const int64_t grown = rss_file() - before;
    CHECK(p && ts_mem_is_file(p), "the block is a file mapping");
    CHECK(grown < (256 << 10), "a new cold block is not resident (%lld bytes)", (long long)grown);
    size_t bad = 0;
    for (size_t i = 0; p && i < n / 4; i++)
        bad += p[i] != (uint32_t)(i * 2654435761u);
    CHECK(p && bad == 0, "the cold block holds the bytes written (%zu differ)", bad);
    ts_free(p);
}

static int dir_entries(const char *dir)
{
    int n = 0;
    DIR *d = opendir(dir);
    for (struct dirent *e; d && (e = readdir(d));)
        n += e->d_name[0] != '.';
    if (d)
        closedir(d);
    return n;
}

int main(void)
{
    char dir[] = "/tmp/tessera-test-cold-XXXXXX";
    if (!mkdtemp(dir))
        return 1;
    const char *const values[] = {"x", "y", "z"};
    ts_dict *d = NULL;
    CHECK_OK(ts_dict_new(values, 3, &d));

    /* built batch by batch: sizes that cut STRING payloads and validity words anywhere */
    ts_table *first = NULL, *cold = NULL;
    CHECK(make_rows(d, 0, 0, &first), "empty schema table");
    ts_cold *b = NULL;
    CHECK_OK(ts_cold_begin(first, dir, &b));
    const int64_t cuts[] = {0, 1, 64, 65, 1000, 70001, 200000, ROWS};
    for (int k = 0; b && k + 1 < (int)(sizeof cuts / sizeof cuts[0]); k++) {
        ts_table *batch = NULL;
        if (make_rows(d, cuts[k], cuts[k + 1], &batch))
            CHECK_OK(ts_cold_append(b, batch, 0, ts_table_rows(batch)));
        ts_table_free(batch);
    }
    CHECK(b && ts_cold_bytes(b) > ROWS * 24, "bytes written counted (%lld)", b ? (long long)ts_cold_bytes(b) : 0);
    if (b && CHECK_OK(ts_cold_finish(b, "cold", &cold))) {
        CHECK(ts_table_rows(cold) == ROWS, "rows %lld", (long long)ts_table_rows(cold));
        CHECK(mismatches(cold) == 0, "cold table equals the generated values");
        CHECK(ts_table_is_cold(cold) && ts_mem_is_file(cold->cols[2]->bytes), "blocks are file mappings");
        CHECK(ts_mem_is_file((char *)cold->cols[0]->data + 8 * 1000), "a view into a cold block is cold");
        CHECK(cold->cols[3]->dict == d, "the dictionary is kept");
        ts_table_release(cold);
        CHECK(mismatches(cold) == 0, "values readable after their pages were released");
        /* appending grows the column into memory, values kept */
        ts_column *ci = cold->cols[0];
        if (CHECK_OK(ts_column_reserve(ci, ROWS + 1, 0))) {
            TS_COL(ci, int64_t)[ROWS] = 42;
            CHECK(!ts_mem_is_file(ci->data) && TS_COL(ci, int64_t)[ROWS - 1] == ival(ROWS - 1),
                  "a grown cold column moved to memory with its values");
        }
    }
    ts_table_free(cold);
    ts_table_free(first);

    /* an in-memory table moved out whole */
    ts_table *t = NULL;
    if (make_rows(d, 0, ROWS, &t)) {
        const char *keys[] = {"i"};
        ts_table_set_partitioned(t, keys, 1);
        CHECK(!ts_mem_is_file(t->cols[0]->data) && !ts_mem_is_file((char *)t->cols[0]->data + 4096),
              "anonymous memory is not cold");
        int64_t written = 0;
        CHECK_OK(ts_table_to_cold(t, dir, &written));
        CHECK(written > 0 && ts_table_is_cold(t), "moved to cold storage (%lld bytes)", (long long)written);
        CHECK(mismatches(t) == 0 && !strcmp(t->cols[2]->name, "s") && t->npart == 1, "rows, names, partitioning");
        CHECK_OK(ts_table_to_cold(t, dir, &written));
        CHECK(written == 0, "a cold table is not written again");
    }
    ts_table_free(t);
    ts_dict_release(d);
    check_cold_block(dir);
    CHECK(dir_entries(dir) == 0, "no file left in the directory");
    rmdir(dir);
    return TS_TEST_DONE("test_cold");
}
