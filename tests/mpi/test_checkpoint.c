/* engine/exec/ts_checkpoint + ts_fingerprint: a table of every column type, saved from uneven slabs (one rank empty
 * when P > 1) and loaded back, must give every rank exactly its rows, bit for bit: NaN, -0.0, infinities and
 * denormals, strings with NUL bytes and empty strings, DICT codes with their dictionary (the known one reused),
 * NULLs, sort and partitioning keys, the table name; counters exactly; a zero-row table; and the checkpoint
 * search: the right file for this run's fingerprint, none in an empty directory, a refusal naming the
 * difference for another run's. The expected values are functions of the global row number, recomputed here. */
#include <math.h>
#include <mpi.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../unit/ts_test.h"
#include "ts_checkpoint.h"
#include "ts_ctx.h"
#include "ts_fingerprint.h"
#include "ts_mpi_test.h"

static const char *const FRUITS[] = {"pear", "apple", "", "zeta"};

static uint64_t mix(uint64_t x)
{
    x += UINT64_C(0x9e3779b97f4a7c15);
    x = (x ^ (x >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    x = (x ^ (x >> 27)) * UINT64_C(0x94d049bb133111eb);
    return x ^ (x >> 31);
}

/* rows of rank r: uneven, rank 1 empty */
static int64_t rows_of(int r) { return r == 1 ? 0 : 5 + (r * 37 + 11) % 23; }

static double float_of(int64_t g)
{
    switch (g % 6) {
    case 0: return NAN;
    case 1: return -0.0;
    case 2: return g % 4 ? INFINITY : -INFINITY;
    case 3: return 4.9e-324 * (double)(g % 7 + 1); /* denormals */
    default: {
        const uint64_t bits = mix((uint64_t)g) & ~(UINT64_C(0x7ff) << 52); /* any finite pattern */
        double d;
        memcpy(&d, &bits, 8);
        return d;
    }
    }
}

/* the string of row g: g % 7 bytes, NULs included (a trailing NUL when g % 7 == 3) */
static size_t string_of(int64_t g, char *buf)
{
    const size_t n = (size_t)(g % 7);
    for (size_t k = 0; k < n; k++)
        buf[k] = (char)(mix((uint64_t)g * 8 + k) & 0xff);
    if (n == 3)
        buf[2] = '\0';
    return n;
}

static ts_err build(int64_t first, int64_t n, ts_dict *dict, ts_table **out)
{
    ts_table *t;
    ts_column *c[9];
    TS_TRY(ts_table_new("fruits_table", &t));
    *out = t;
    TS_TRY(ts_table_add(t, "b", TS_T_BOOL, 0, NULL, &c[0]));
    TS_TRY(ts_table_add(t, "i32", TS_T_INT32, 0, NULL, &c[1]));
    TS_TRY(ts_table_add(t, "i64", TS_T_INT64, 0, NULL, &c[2]));
    TS_TRY(ts_table_add(t, "f", TS_T_FLOAT64, 0, NULL, &c[3]));
    TS_TRY(ts_table_add(t, "d", TS_T_DATE, 0, NULL, &c[4]));
    TS_TRY(ts_table_add(t, "dec", TS_T_DECIMAL, 2, NULL, &c[5]));
    TS_TRY(ts_table_add(t, "s", TS_T_STRING, 0, NULL, &c[6]));
    TS_TRY(ts_table_add(t, "k", TS_T_DICT, 0, dict, &c[7]));
    TS_TRY(ts_table_add(t, "__pos", TS_T_INT64, 0, NULL, &c[8]));
    for (int j = 0; j < 9; j++)
        TS_TRY(ts_column_reserve(c[j], n, 8 * n));
    for (int64_t i = 0; i < n; i++) {
        const int64_t g = first + i;
        ((uint8_t *)c[0]->data)[i] = g % 3 == 0;
        TS_COL(c[1], int32_t)[i] = (int32_t)mix((uint64_t)g);
        TS_COL(c[2], int64_t)[i] = (int64_t)mix((uint64_t)g + 1);
        TS_COL(c[3], double)[i] = float_of(g);
        TS_COL(c[4], int32_t)[i] = (int32_t)(g * 13 - 1000);
        TS_COL(c[5], int64_t)[i] = (int64_t)(mix((uint64_t)g + 2) % 2000000) - 1000000;
        TS_COL(c[7], int32_t)[i] = (int32_t)(g % 4);
        TS_COL(c[8], int64_t)[i] = (g / 3) << 40 | (g + 2);
        for (int j = 0; j < 9; j++)
            if (j != 6)
                c[j]->len = i + 1;
        char buf[8];
        const size_t len = string_of(g, buf);
        TS_TRY(ts_column_append_string(c[6], buf, (int64_t)len));
        if (g % 5 == 2)
            TS_TRY(ts_column_set_null(c[2], i));
        if (g % 4 == 1)
            TS_TRY(ts_column_set_null(c[7], i));
    }
    static const char *const sorted[] = {"__pos"}, *const part[] = {"k", "d"};
    ts_table_set_sorted(t, sorted, 1);
    ts_table_set_partitioned(t, part, 2);
    return TS_OK;
}

/* Every value of got equals want's, bit for bit (the value under a NULL is not compared). */
static void same_table(const ts_table *got, const ts_table *want, const ts_dict *dict, const char *what)
{
    CHECK(strcmp(got->name, want->name) == 0, "%s: name '%s'", what, got->name);
    CHECK(got->ncols == want->ncols, "%s: %d columns", what, got->ncols);
    CHECK(ts_table_rows(got) == ts_table_rows(want), "%s: %lld rows, want %lld", what,
          (long long)ts_table_rows(got), (long long)ts_table_rows(want));
    CHECK(got->nsort == want->nsort && (!got->nsort || strcmp(got->sort_keys[0], want->sort_keys[0]) == 0),
          "%s: sort keys", what);
    CHECK(got->npart == 2 && strcmp(got->part_keys[0], "k") == 0 && strcmp(got->part_keys[1], "d") == 0,
          "%s: partitioning keys", what);
    if (got->ncols != want->ncols || ts_table_rows(got) != ts_table_rows(want))
        return;
    for (int j = 0; j < want->ncols; j++) {
        const ts_column *a = got->cols[j], *b = want->cols[j];
        CHECK(strcmp(a->name, b->name) == 0 && a->type == b->type && a->scale == b->scale, "%s: column %d is %s",
              what, j, a->name);
        if (a->type != b->type)
            continue;
        if (a->type == TS_T_DICT)
            CHECK(dict ? a->dict == dict : a->dict != NULL && a->dict->n == b->dict->n, "%s: dictionary of %s",
                  what, a->name);
        for (int64_t i = 0; i < a->len; i++) {
            const int va = ts_column_is_valid(a, i), vb = ts_column_is_valid(b, i);
            CHECK(va == vb, "%s: %s row %lld validity %d", what, a->name, (long long)i, va);
            if (!va || !vb)
                continue;
            if (a->type == TS_T_STRING) {
                const int64_t *oa = TS_COL(a, int64_t), *ob = TS_COL(b, int64_t);
                const int64_t la = oa[i + 1] - oa[i], lb = ob[i + 1] - ob[i];
                CHECK(la == lb && (!la || memcmp(a->bytes + oa[i], b->bytes + ob[i], (size_t)la) == 0),
                      "%s: string row %lld", what, (long long)i);
            } else if (a->type == TS_T_DICT) {
                int64_t la, lb;
                const char *sa = ts_dict_value(a->dict, TS_COL(a, int32_t)[i], &la);
                const char *sb = ts_dict_value(b->dict, TS_COL(b, int32_t)[i], &lb);
                CHECK(TS_COL(a, int32_t)[i] == TS_COL(b, int32_t)[i] && la == lb && memcmp(sa, sb, (size_t)la) == 0,
                      "%s: dict row %lld", what, (long long)i);
            } else {
                const size_t w = ts_type_width(a->type);
                CHECK(memcmp((char *)a->data + i * w, (char *)b->data + i * w, w) == 0, "%s: %s row %lld differs",
                      what, a->name, (long long)i);
            }
        }
    }
}

static void test_fingerprint(void)
{
    static ts_fingerprint a, b; /* 1 MiB each: too big for the stack */
    char why[256];
    ts_fp_init(&a), ts_fp_init(&b);
    CHECK_OK(ts_fp_add(&a, "ranks", "%d", 2));
    CHECK_OK(ts_fp_add(&a, "rules", "line\nbreak"));
    CHECK_OK(ts_fp_add_bytes(&a, "text", "abc", 3));
    CHECK(strcmp(a.text, "ranks=2\nrules=line break\ntext=fnv1a64:e71fa2190541574b (3 bytes)\n") == 0, "text: %s",
          a.text); /* FNV-1a 64 of "abc", computed separately in Python */
    CHECK(ts_fp_same(a.text, a.text, why, sizeof why) && why[0] == '\0', "same text differs: %s", why);
    CHECK_OK(ts_fp_add(&b, "ranks", "%d", 4));
    CHECK(!ts_fp_same(a.text, b.text, why, sizeof why) && strcmp(why, "ranks: 2 in the checkpoint, 4 now") == 0,
          "why: %s", why);
    ts_fp_init(&b);
    CHECK_OK(ts_fp_add(&b, "ranks", "%d", 2));
    CHECK_OK(ts_fp_add(&b, "rules", "line\nbreak"));
    CHECK_OK(ts_fp_add_bytes(&b, "text", "abc", 3));
    CHECK_OK(ts_fp_add(&b, "extra", "1"));
    CHECK(!ts_fp_same(a.text, b.text, why, sizeof why) && strcmp(why, "extra: only now") == 0, "why: %s", why);
    CHECK(!ts_fp_same(b.text, a.text, why, sizeof why) && strcmp(why, "extra: only in the checkpoint") == 0,
          "why: %s", why);
    CHECK_OK(ts_fp_add_file(&b, "gone", "/nonexistent/tessera-file"));
    CHECK(strstr(b.text, "gone=missing\n") != NULL, "a missing file: %s", b.text);
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    ts_ctx ctx;
    if (ts_ctx_init(MPI_COMM_WORLD, &ctx) != TS_OK)
        return 1;
    if (ctx.rank == 0)
        test_fingerprint();

    char dir[64] = "/tmp/tessera-ckpt-test.XXXXXX", empty[96];
    if (ctx.rank == 0 && !mkdtemp(dir))
        dir[0] = '\0';
    MPI_Bcast(dir, sizeof dir, MPI_CHAR, 0, ctx.comm);
    snprintf(empty, sizeof empty, "%s/none", dir);

    ts_dict *dict;
    CHECK_OK(ts_dict_new(FRUITS, 4, &dict));
    int64_t first = 0;
    for (int r = 0; r < ctx.rank; r++)
        first += rows_of(r);
    ts_table *t = NULL, *z = NULL;
    CHECK_OK(build(first, rows_of(ctx.rank), dict, &t));
    CHECK_OK(ts_table_new("nothing", &z));
    CHECK_OK(ts_table_add(z, "x", TS_T_INT64, 0, NULL, NULL));
    CHECK_OK(ts_table_add(z, "y", TS_T_STRING, 0, NULL, NULL));

    static ts_fingerprint fp, other; /* 1 MiB each: too big for the stack */
    ts_fp_init(&fp);
    if (ctx.rank == 0) {
        ts_fp_add(&fp, "job", "test");
        ts_fp_add(&fp, "ranks", "%d", ctx.size);
    }
    const int64_t counts[] = {1, -2, INT64_MAX, INT64_MIN};
    ts_checkpoint *ck;
    if (CHECK_OK(ts_checkpoint_begin(&ctx, dir, 3, "agg", "test", fp.text, &ck))) {
        CHECK_OK(ts_checkpoint_put_table(ck, "fruits", t));
        CHECK_OK(ts_checkpoint_put_table(ck, "nothing", z));
        CHECK_OK(ts_checkpoint_put_counts(ck, "c", counts, 4));
        CHECK(ts_checkpoint_put_table(ck, "a/b", z) == TS_ERR_USAGE, "a key with '/' was accepted");
        CHECK_OK(ts_checkpoint_commit(ck));
    }
    char path[256];
    ts_checkpoint_path(dir, 3, "agg", path, sizeof path);
    CHECK(access(path, R_OK) == 0, "no %s", path);

    /* the search: this run's, nothing, another run's */
    const int no[] = {3, 5};
    const char *const names[] = {"agg", "sort"};
    int found = -2;
    CHECK_OK(ts_checkpoint_find(&ctx, dir, no, names, 2, fp.text, &found));
    CHECK(found == 0, "found %d, want 0 (03-agg)", found);
    CHECK_OK(ts_checkpoint_find(&ctx, empty, no, names, 2, fp.text, &found));
    CHECK(found == -1, "found %d in an empty directory", found);
    ts_fp_init(&other);
    if (ctx.rank == 0) {
        ts_fp_add(&other, "job", "test");
        ts_fp_add(&other, "ranks", "%d", ctx.size + 1);
    }
    CHECK(ts_checkpoint_find(&ctx, dir, no, names, 2, other.text, &found) == TS_ERR_USAGE, "another run's accepted");
    char want[96];
    snprintf(want, sizeof want, "ranks: %d in the checkpoint, %d now", ctx.size, ctx.size + 1);
    CHECK(strstr(ts_error_headline(), want) && strstr(ts_error_headline(), path), "message: %s", ts_error_headline());
    ts_error_clear();

    /* loading: every rank its own rows */
    if (CHECK_OK(ts_checkpoint_open(&ctx, path, &ck))) {
        ts_table *got = NULL, *gz = NULL, *g2 = NULL;
        ts_dict *const known[] = {dict};
        if (CHECK_OK(ts_checkpoint_get_table(ck, "fruits", known, 1, &got)))
            same_table(got, t, dict, "with the known dictionary");
        if (CHECK_OK(ts_checkpoint_get_table(ck, "fruits", NULL, 0, &g2)))
            same_table(g2, t, NULL, "with a restored dictionary");
        if (CHECK_OK(ts_checkpoint_get_table(ck, "nothing", NULL, 0, &gz)))
            CHECK(gz->ncols == 2 && ts_table_rows(gz) == 0 && gz->cols[1]->type == TS_T_STRING,
                  "the empty table: %d columns, %lld rows", gz->ncols, (long long)ts_table_rows(gz));
        int64_t v[4] = {0};
        CHECK_OK(ts_checkpoint_get_counts(ck, "c", v, 4));
        CHECK(memcmp(v, counts, sizeof v) == 0, "counters %lld %lld %lld %lld", (long long)v[0], (long long)v[1],
              (long long)v[2], (long long)v[3]);
        CHECK(ts_checkpoint_get_counts(ck, "c", v, 3) == TS_ERR_DATA, "3 of 4 counters accepted");
        ts_table *ga = NULL;
        CHECK(ts_checkpoint_get_table(ck, "absent", NULL, 0, &ga) != TS_OK && !ga, "a missing table was found");
        ts_error_clear();
        ts_table_free(got), ts_table_free(g2), ts_table_free(gz);
        ts_checkpoint_close(ck);
    }
    int removed = 0;
    CHECK_OK(ts_checkpoint_clear(&ctx, dir, no, names, 2, &removed));
    CHECK(removed == 1 && access(path, F_OK) != 0, "clear removed %d", removed);
    MPI_Barrier(ctx.comm);
    if (ctx.rank == 0)
        rmdir(dir);
    ts_table_free(t), ts_table_free(z);
    ts_dict_release(dict);
    return ts_mpi_test_done(&ctx, "test_checkpoint");
}
