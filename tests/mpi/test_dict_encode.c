/* engine/dist/ts_dict_encode: a STRING column with few distinct values becomes a DICT column whose dictionary is the
 * sorted global distinct set, identical on every rank; NULLs stay NULL; too many values (globally, or on one rank
 * alone) leave the column unchanged. The expected dictionary comes from a naive pass over every global row (the
 * rows are a function of their global index) and a byte-by-byte insertion sort. */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../unit/ts_test.h"
#include "ts_mpi_test.h"
#include "ts_ctx.h"
#include "ts_dict_encode.h"
#include "ts_hash.h"

static uint64_t mix(uint64_t x)
{
    x += UINT64_C(0x9e3779b97f4a7c15);
    x = (x ^ (x >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    x = (x ^ (x >> 27)) * UINT64_C(0x94d049bb133111eb);
    return x ^ (x >> 31);
}

/* Value of global row g for a vocabulary of `distinct` words: NULL (returns -1) every 11th row; words include
 * the empty string, prefixes of each other and an embedded NUL byte. Writes the bytes to buf, returns length. */
static int value_of(int64_t g, int distinct, char *buf)
{
    const uint64_t h = mix((uint64_t)g);
    if (h % 11 == 0)
        return -1;
    const int w = (int)(h / 11 % (uint64_t)distinct);
    switch (w % 4) {
    case 0: return sprintf(buf, "w%d", w / 4);
    case 1: return sprintf(buf, "w%d ", w / 4);           /* "wN" is a prefix of it */
    case 2: return w == 2 ? 0 : sprintf(buf, "%c%d", 'A' + w % 26, w); /* w == 2: the empty string */
    default: {
        const int n = sprintf(buf, "w%d-", w / 4);
        buf[n - 1] = '\0';                                 /* "wN\0": a NUL byte, and "wN" is a prefix */
        return n;
    }
    }
}

/* Rows [lo, hi) of the global order: an uneven split, rank 0 gets nothing when size > 1. */
static void my_rows(int64_t n, int rank, int size, int64_t *lo, int64_t *hi)
{
    if (size == 1) {
        *lo = 0, *hi = n;
        return;
    }
    /* weights 0, 1, 2, ... */
    const int64_t total = (int64_t)size * (size - 1) / 2;
    int64_t before = (int64_t)rank * (rank - 1) / 2;
    *lo = n * before / total, *hi = n * (before + rank) / total;
}

static ts_table *build(int64_t n, int distinct, int rank, int size)
{
    int64_t lo, hi;
    my_rows(n, rank, size, &lo, &hi);
    ts_table *t;
    ts_column *id, *s;
    CHECK_OK(ts_table_new("t", &t));
    CHECK_OK(ts_table_add(t, "id", TS_T_INT64, 0, NULL, &id));
    CHECK_OK(ts_table_add(t, "s", TS_T_STRING, 0, NULL, &s));
    CHECK_OK(ts_column_reserve(id, hi - lo, 0));
    char buf[64];
    for (int64_t g = lo; g < hi; g++) {
        TS_COL(id, int64_t)[g - lo] = g;
        const int len = value_of(g, distinct, buf);
        /* under a NULL: junk that must not become a dictionary value */
        CHECK_OK(ts_column_append_string(s, len < 0 ? "junk-under-null" : buf, len < 0 ? 15 : len));
        if (len < 0)
            CHECK_OK(ts_column_set_null(s, g - lo));
    }
    id->len = hi - lo;
    return t;
}

typedef struct word {
    char b[64];
    int len;
} word;

/* a < b bytewise, a proper prefix first, compared one byte at a time. */
static int naive_less(const word *a, const word *b)
{
    for (int i = 0;; i++) {
        if (i == a->len || i == b->len)
            return a->len < b->len;
        if ((unsigned char)a->b[i] != (unsigned char)b->b[i])
            return (unsigned char)a->b[i] < (unsigned char)b->b[i];
    }
}

/* The expected dictionary: distinct non-NULL values of all n global rows, sorted. */
static int naive_dict(int64_t n, int distinct, word *out)
{
    int m = 0;
    for (int64_t g = 0; g < n; g++) {
        word w;
        if ((w.len = value_of(g, distinct, w.b)) < 0)
            continue;
        int k = 0;
        while (k < m && !(out[k].len == w.len && memcmp(out[k].b, w.b, (size_t)w.len) == 0))
            k++;
        if (k < m)
            continue;
        k = m++;
        while (k > 0 && naive_less(&w, &out[k - 1]))
            out[k] = out[k - 1], k--;
        out[k] = w;
    }
    return m;
}

static void check_encoded(ts_ctx *ctx, const ts_table *t, const word *want, int m, int distinct)
{
    const ts_column *s = ts_table_col(t, "s"), *id = ts_table_col(t, "id");
    CHECK(s && s->type == TS_T_DICT && s->dict && t->cols[1] == s, "column s is DICT, in place");
    if (!s || s->type != TS_T_DICT)
        return;
    CHECK(s->dict->n == m, "dictionary of %d values, expected %d", s->dict->n, m);
    for (int k = 0; k < m && k < s->dict->n; k++) {
        int64_t len;
        const char *v = ts_dict_value(s->dict, k, &len);
        CHECK(len == want[k].len && memcmp(v, want[k].b, (size_t)len) == 0, "dictionary value %d", k);
    }
    /* identical on every rank */
    uint64_t h = ts_hash_bytes(s->dict->bytes, (size_t)s->dict->offsets[s->dict->n], 1) ^
                 ts_hash_bytes(s->dict->offsets, sizeof(int64_t) * (size_t)(s->dict->n + 1), 2);
    uint64_t hmax, hmin;
    MPI_Allreduce(&h, &hmax, 1, MPI_UINT64_T, MPI_MAX, ctx->comm);
    MPI_Allreduce(&h, &hmin, 1, MPI_UINT64_T, MPI_MIN, ctx->comm);
    CHECK(hmax == hmin, "dictionaries differ between ranks");
    long bad = 0;
    char buf[64];
    for (int64_t i = 0; i < s->len; i++) {
        const int len = value_of(TS_COL(id, int64_t)[i], distinct, buf);
        if (len < 0) {
            bad += ts_column_is_valid(s, i);
            continue;
        }
        const int32_t code = TS_COL(s, int32_t)[i];
        int64_t dl;
        const char *dv = code >= 0 && code < s->dict->n ? ts_dict_value(s->dict, code, &dl) : NULL;
        bad += !ts_column_is_valid(s, i) || !dv || dl != len || memcmp(dv, buf, (size_t)len) != 0;
    }
    CHECK(bad == 0 && s->len == id->len, "%ld rows decode wrongly", bad);
}

/* The column is still the original STRING column. */
static void check_unchanged(const ts_table *t, int distinct)
{
    const ts_column *s = ts_table_col(t, "s"), *id = ts_table_col(t, "id");
    CHECK(s->type == TS_T_STRING, "column s is still STRING");
    long bad = 0;
    char buf[64];
    for (int64_t i = 0; s->type == TS_T_STRING && i < s->len; i++) {
        const int len = value_of(TS_COL(id, int64_t)[i], distinct, buf);
        const int64_t *off = TS_COL(s, int64_t);
        bad += len < 0 ? ts_column_is_valid(s, i)
                       : !ts_column_is_valid(s, i) || off[i + 1] - off[i] != len ||
                             memcmp(s->bytes + off[i], buf, (size_t)len) != 0;
    }
    CHECK(bad == 0, "%ld rows changed", bad);
}

/* Encodes and checks; the expected outcome comes from the naive dictionary: encoded when it has 1 to max_distinct
 * values and max_bytes allows it. The bytes are checked on the ranks' local values summed, so only bounds on either
 * side of that sum are predictable: max_bytes < 0 means "one byte less than the dictionary" (never encoded),
 * anything else at least the dictionary times the rank count (the bound never matters). Returns the outcome, so
 * callers can assert which case they built. */
static int run_bytes(ts_ctx *ctx, int64_t n, int distinct, int64_t max_distinct, int64_t max_bytes)
{
    word *want = malloc(sizeof *want * (size_t)distinct);
    const int m = naive_dict(n, distinct, want);
    int64_t dict_bytes = 0;
    for (int j = 0; j < m; j++)
        dict_bytes += want[j].len;
    if (max_bytes < 0)
        max_bytes = dict_bytes - 1;
    const int want_encoded = m > 0 && m <= max_distinct && max_bytes >= dict_bytes;
    ts_table *t = build(n, distinct, ctx->rank, ctx->size);
    int encoded = -1;
    MPI_Barrier(ctx->comm); /* time the encoding, not the other ranks' building */
    const double t0 = MPI_Wtime();
    const ts_err err = ts_dict_encode(ctx, t, "s", max_distinct, max_bytes, &encoded);
    const double seconds = MPI_Wtime() - t0;
    if (CHECK_OK(err)) {
        CHECK(encoded == want_encoded, "n=%lld distinct=%d max=%lld: encoded %d, expected %d", (long long)n,
              distinct, (long long)max_distinct, encoded, want_encoded);
        if (encoded == 1)
            check_encoded(ctx, t, want, m, distinct);
        else
            check_unchanged(t, distinct);
    }
    if (ctx->rank == 0 && n >= 1000000)
        printf("dict encode of %lld rows, %d distinct, %d ranks: %.3f s\n", (long long)n, distinct, ctx->size,
               seconds);
    ts_table_free(t);
    free(want);
    return want_encoded;
}

static int run(ts_ctx *ctx, int64_t n, int distinct, int64_t max_distinct)
{
    return run_bytes(ctx, n, distinct, max_distinct, INT64_MAX);
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    ts_ctx ctx;
    ts_ctx_init(MPI_COMM_WORLD, &ctx);
    const int64_t big = argc > 1 ? atoll(argv[1]) : 2000000;

    /* count the distinct values actually present, naively, to set the limits around it */
    word *w = malloc(sizeof *w * 400);
    const int d100 = naive_dict(20000, 100, w), d300 = naive_dict(20000, 300, w);
    free(w);
    CHECK(d100 == 100 && d300 == 300, "every word occurs: %d, %d", d100, d300);
    CHECK(run(&ctx, 20000, 100, d100) == 1, "exactly at the limit");
    CHECK(run(&ctx, 20000, 100, d100 - 1) == 0, "one over, globally");
    CHECK(run(&ctx, 20000, 300, 1000) == 1, "well below the limit");
    CHECK(run(&ctx, 20000, 300, d300 - 1) == 0, "one over");
    CHECK(run(&ctx, 20000, 300, 20) == 0, "every rank with rows is over alone: stops early");
    CHECK(run(&ctx, 7, 5, 100) == 1, "tiny: some ranks have no row at all");
    CHECK(run(&ctx, 0, 5, 100) == 0, "no value anywhere: left alone");
    CHECK(run(&ctx, big, 100, 100) == 1, "speed");
    /* the byte bound: the dictionary's bytes one over it is left alone; a bound above every rank's sum encodes */
    CHECK(run_bytes(&ctx, 20000, 300, 1000, -1) == 0, "one byte over the byte bound");
    CHECK(run_bytes(&ctx, 20000, 300, 1000, (int64_t)300 * 64 * ctx.size) == 1, "within the byte bound");

    /* only NULLs: left alone */
    ts_table *t;
    ts_column *id, *s;
    CHECK_OK(ts_table_new("t", &t));
    CHECK_OK(ts_table_add(t, "id", TS_T_INT64, 0, NULL, &id));
    CHECK_OK(ts_table_add(t, "s", TS_T_STRING, 0, NULL, &s));
    CHECK_OK(ts_column_append_nulls(s, 3));
    int encoded = -1;
    CHECK(ts_dict_encode(&ctx, t, "s", 10, INT64_MAX, &encoded) == TS_OK && encoded == 0, "only NULLs: not encoded");
    CHECK(ts_dict_encode(&ctx, t, "id", 10, INT64_MAX, &encoded) == TS_ERR_USAGE, "an INT64 column is refused");
    CHECK(ts_dict_encode(&ctx, t, "nope", 10, INT64_MAX, &encoded) == TS_ERR_USAGE, "a missing column is refused");
    ts_error_clear();
    ts_table_free(t);
    return ts_mpi_test_done(&ctx, "test_dict_encode");
}
