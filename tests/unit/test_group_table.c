/* engine/ops/ts_group_table: group ids of chunks of rows against a naive reference, through each lookup mode
 * (perfect direct array, learned and widened integer ranges, the fall-back to hashing, inline 8-byte keys,
 * records with a string dictionary) with NULL keys, -0/+0 and NaN, selection vectors and a dictionary that grew.
 * Checked: rows with one id have equal keys, the ids are as many as the distinct keys (so equal keys share one id),
 * ids follow first appearance, and ts_group_table_keys gives every group's key back. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ts_column.h"
#include "ts_group_table.h"
#include "ts_table.h"
#include "ts_test.h"

enum { NK = 3, ROWS = 30000, CH = 2048 };

/* A key value as the reference sees it: NULL flag and an integer (float: canonical bits; string: pool index). */
typedef struct kval {
    int null;
    int64_t v;
} kval;

typedef struct scen {
    const char *name;
    int nkeys;
    ts_type type[NK];
} scen;

static const char *POOL[] = {"", "a", "b", "ab", "ba", "abc", "a longer string value", "x\0y", "zz", "é"};
static const int POOL_N = 10;

/* Row i's key k in scenario s: ranges that start small and widen, then jump (int keys), NULLs in some. */
static kval gen(const scen *s, int sc, int k, int64_t i, ts_test_rng *r, int32_t dict_n)
{
    kval x = {0, 0};
    const ts_type t = s->type[k];
    if (sc != 3 && ts_rng_below(r, 23) == 0)
        x.null = 1;
    else if (t == TS_T_BOOL)
        x.v = (int64_t)ts_rng_below(r, 2);
    else if (t == TS_T_DICT)
        x.v = (int64_t)ts_rng_below(r, (uint64_t)dict_n);
    else if (t == TS_T_STRING)
        x.v = (int64_t)ts_rng_below(r, (uint64_t)POOL_N);
    else if (t == TS_T_FLOAT64) {
        static const double F[] = {0.0, -0.0, 1.5, -2.25, 1e300};
        const uint64_t c = ts_rng_below(r, 6);
        const double d = c == 5 ? NAN : F[c];
        const double canon = d == 0 ? 0.0 : d;
        uint64_t b;
        memcpy(&b, &canon, 8);
        x.v = isnan(d) ? INT64_C(0x7ff8000000000000) : (int64_t)b;
    } else if (sc == 3) /* one INT64 key without NULLs: sparse, large values (inline lookups) */
        x.v = (int64_t)(ts_rng_below(r, 4000) * UINT64_C(0x10000000001)) - (INT64_C(1) << 40);
    else if (i < ROWS / 3)
        x.v = 100 + (int64_t)ts_rng_below(r, 50); /* a small range */
    else if (i < 2 * ROWS / 3)
        x.v = -500 + (int64_t)ts_rng_below(r, 3000); /* widened */
    else
        x.v = (int64_t)ts_rng_below(r, 5000) * 1000003; /* too wide for a direct array: hashed */
    if (t == TS_T_INT32 || t == TS_T_DATE)
        x.v = (int32_t)x.v;
    return x;
}

static int keq(const kval *a, const kval *b, int n)
{
    for (int k = 0; k < n; k++)
        if (a[k].null != b[k].null || (!a[k].null && a[k].v != b[k].v))
            return 0;
    return 1;
}

static int kcmp(const void *pa, const void *pb)
{
    const kval *a = pa, *b = pb;
    for (int k = 0; k < NK; k++) {
        if (a[k].null != b[k].null)
            return a[k].null - b[k].null;
        if (!a[k].null && a[k].v != b[k].v)
            return a[k].v < b[k].v ? -1 : 1;
    }
    return 0;
}

static void put(ts_column *c, int64_t j, const kval *x, ts_dict *dict)
{
    (void)dict;
    switch (c->type) {
    case TS_T_BOOL: TS_COL(c, uint8_t)[j] = (uint8_t)x->v; break;
    case TS_T_INT32: case TS_T_DATE: case TS_T_DICT: TS_COL(c, int32_t)[j] = (int32_t)x->v; break;
    case TS_T_FLOAT64: {
        double d;
        uint64_t b = (uint64_t)x->v;
        memcpy(&d, &b, 8);
        if (b == 0 && (j & 1))
            d = -0.0; /* -0 must meet +0 */
        else if (isnan(d) && (j & 1))
            d = -NAN; /* every NaN one group */
        TS_COL(c, double)[j] = d;
        break;
    }
    case TS_T_STRING: ts_column_append_string(c, POOL[x->v], x->v == 7 ? 3 : (int64_t)strlen(POOL[x->v])); break;
    default: TS_COL(c, int64_t)[j] = x->v; break;
    }
}

/* The key read back from the result table, as a kval. */
static kval back(const ts_column *c, int64_t g, ts_dict *dict)
{
    (void)dict;
    kval x = {!ts_column_is_valid(c, g), 0};
    if (x.null)
        return x;
    switch (c->type) {
    case TS_T_BOOL: x.v = TS_COL(c, uint8_t)[g] != 0; break;
    case TS_T_INT32: case TS_T_DATE: case TS_T_DICT: x.v = TS_COL(c, int32_t)[g]; break;
    case TS_T_STRING: {
        const int64_t *off = TS_COL(c, int64_t), len = off[g + 1] - off[g];
        x.v = -1;
        for (int p = 0; p < POOL_N; p++)
            if (len == (p == 7 ? 3 : (int64_t)strlen(POOL[p])) && !memcmp(c->bytes + off[g], POOL[p], (size_t)len))
                x.v = p;
        break;
    }
    default: memcpy(&x.v, (const char *)c->data + 8 * g, 8); break;
    }
    return x;
}

static void run(const scen *s, int sc)
{
    ts_test_rng r = ts_rng_seed(1000 + (uint64_t)sc);
    const char *dv[8] = {"p", "q", "r", "s", "t", "u", "v", "w"};
    ts_dict *dict = NULL;
    if (!CHECK_OK(ts_dict_new(dv, 8, &dict)))
        return;
    /* scenario 4: the table is made while the dictionary claims 3 codes, later rows use all 8 (dictionaries are
     * immutable, so this only checks that an unexpected code is hashed rather than aliased) */
    int32_t dict_n = 8;
    kval *keys = calloc((size_t)ROWS * NK, sizeof *keys);
    uint32_t *gid = calloc(ROWS, sizeof *gid);
    uint8_t *seen = calloc(ROWS, 1);
    ts_column *col[NK] = {0};
    ts_group_table *g = NULL;
    for (int k = 0; k < s->nkeys; k++) {
        CHECK_OK(ts_column_new("k", s->type[k], s->type[k] == TS_T_DECIMAL ? 2 : 0,
                               s->type[k] == TS_T_DICT ? dict : NULL, &col[k]));
        if (sc == 4)
            dict->n = 3; /* what the table sees at creation */
    }
    CHECK_OK(ts_group_table_new((const ts_column *const *)col, s->nkeys, sc == 1 ? 5000 : 0, &g));
    if (sc == 4)
        dict->n = 8;
    int64_t nused = 0; /* rows looked up (a selection vector skips some) */
    int32_t sel[CH];
    uint32_t out[CH];
    int64_t next_id = 0;
    for (int64_t at = 0; at < ROWS && g; at += CH) {
        const int m = (int)(ROWS - at < CH ? ROWS - at : CH);
        for (int k = 0; k < s->nkeys; k++) {
            ts_column_clear(col[k]);
            CHECK_OK(ts_column_reserve(col[k], m, 64 * (int64_t)m));
        }
        kval row[CH][NK];
        for (int j = 0; j < m; j++)
            for (int k = 0; k < s->nkeys; k++) {
                row[j][k] = gen(s, sc, k, at + j, &r, sc == 4 && at < ROWS / 2 ? 3 : dict_n);
                put(col[k], j, &row[j][k], dict);
                if (row[j][k].null)
                    CHECK_OK(ts_column_set_null(col[k], j));
            }
        for (int k = 0; k < s->nkeys; k++)
            col[k]->len = m;
        const int use_sel = (at / CH) % 2 == 1;
        int n = 0;
        for (int j = 0; j < m; j++)
            if (!use_sel || ts_rng_below(&r, 3))
                sel[n++] = j;
        if (!CHECK_OK(ts_group_table_find(g, (const ts_column *const *)col, use_sel ? sel : NULL, n, out)))
            break;
        for (int t = 0; t < n; t++) {
            memcpy(&keys[nused * NK], row[sel[t]], sizeof(kval) * (size_t)s->nkeys);
            gid[nused] = out[t];
            if (out[t] == next_id) /* ids follow first appearance */
                next_id++;
            else
                CHECK(out[t] < next_id, "%s: id %u appeared before id %lld", s->name, out[t], (long long)next_id);
            nused++;
        }
    }
    const int64_t ng = ts_group_table_groups(g);
    CHECK(ng == next_id, "%s: %lld groups, ids up to %lld", s->name, (long long)ng, (long long)next_id);
    /* one key per id */
    int64_t *rep = malloc(sizeof *rep * (size_t)(ng + 1));
    for (int64_t i = 0; i < ng; i++)
        rep[i] = -1;
    long bad = 0;
    for (int64_t i = 0; i < nused; i++) {
        if (gid[i] >= (uint64_t)ng) {
            bad++;
            continue;
        }
        if (rep[gid[i]] < 0)
            rep[gid[i]] = i;
        else
            bad += !keq(&keys[rep[gid[i]] * NK], &keys[i * NK], s->nkeys);
    }
    CHECK(bad == 0, "%s: %ld rows whose id belongs to another key", s->name, bad);
    /* as many ids as distinct keys */
    qsort(keys, (size_t)nused, sizeof(kval) * NK, kcmp);
    int64_t distinct = nused > 0;
    for (int64_t i = 1; i < nused; i++)
        distinct += kcmp(&keys[(i - 1) * NK], &keys[i * NK]) != 0;
    CHECK(distinct == ng, "%s: %lld distinct keys, %lld groups", s->name, (long long)distinct, (long long)ng);
    CHECK(ng > 1, "%s: a real number of groups (%lld)", s->name, (long long)ng);
    (void)seen;
    free(seen);
    /* the keys back: group i's key is that of its first row (re-sorted above, so compare via a second pass) */
    ts_table *t = NULL;
    const char *names[NK] = {"a", "b", "c"};
    if (CHECK_OK(ts_table_new("groups", &t)) && CHECK_OK(ts_group_table_keys(g, names, t))) {
        kval *gk = calloc((size_t)(ng + 1) * NK, sizeof *gk);
        for (int64_t i = 0; i < ng; i++)
            for (int k = 0; k < s->nkeys; k++)
                gk[i * NK + k] = back(ts_table_col(t, names[k]), i, dict);
        qsort(gk, (size_t)ng, sizeof(kval) * NK, kcmp);
        long diff = 0;
        int64_t u = 0;
        for (int64_t i = 0; i < nused && u < ng; i++)
            if (i == 0 || kcmp(&keys[(i - 1) * NK], &keys[i * NK]))
                diff += kcmp(&keys[i * NK], &gk[u++ * NK]) != 0;
        CHECK(diff == 0, "%s: %ld groups whose key comes back different", s->name, diff);
        free(gk);
    }
    ts_table_free(t);
    ts_group_table_free(g);
    for (int k = 0; k < s->nkeys; k++)
        ts_column_free(col[k]);
    ts_dict_release(dict);
    free(keys), free(gid), free(rep);
}

int main(void)
{
    const scen S[] = {
        {"int64 widening then hashed, NULLs", 1, {TS_T_INT64}},
        {"int32 + bool + date, NULLs", 3, {TS_T_INT32, TS_T_BOOL, TS_T_DATE}},
        {"dict + int32 (perfect), NULLs", 2, {TS_T_DICT, TS_T_INT32}},
        {"one sparse int64, no NULLs (inline)", 1, {TS_T_INT64}},
        {"dict codes past the size the table saw (fallback) + bool", 2, {TS_T_DICT, TS_T_BOOL}},
        {"string + float64 + decimal (records)", 3, {TS_T_STRING, TS_T_FLOAT64, TS_T_DECIMAL}},
        {"two int32 (inline records), NULLs", 2, {TS_T_INT32, TS_T_INT32}},
    };
    for (int i = 0; i < (int)(sizeof S / sizeof *S); i++)
        run(&S[i], i);
    return TS_TEST_DONE("group_table");
}
