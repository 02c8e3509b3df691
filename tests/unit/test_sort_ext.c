/* engine/ops/ts_sort_ext: the external sort (sorted runs in spill files, k-way merge with a loser tree) against a
 * naive reference: qsort of all row indexes with a comparator written here (NULLs first or last, DESC, integers,
 * strings bytewise, doubles with NaN above every number, a dictionary by its strings; ties by input position, as
 * the in-memory sort is stable). Random tables with many duplicates and NULLs, added in random slices, under
 * budgets from a few hundred bytes (hundreds of runs: merge passes) to one that never spills; the output read back
 * in random batch sizes must be exactly the reference order, every value and NULL included. Also: spill files are
 * gone after ts_sort_ext_free, the seq column numbers rows from its base, nothing spills under a large budget. */
#include <dirent.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ts_sort_ext.h"
#include "ts_spill.h"
#include "ts_test.h"

enum { COLS = 6 }; /* id, i (int64), s (string), f (float64), d (dict), dt (date) */

static ts_table *make_table(ts_test_rng *r, int64_t n, ts_dict *dict, int distinct)
{
    ts_table *t;
    ts_column *id, *i, *s, *f, *d, *dt;
    ts_table_new("src", &t);
    ts_table_add(t, "id", TS_T_INT64, 0, NULL, &id);
    ts_table_add(t, "i", TS_T_INT64, 0, NULL, &i);
    ts_table_add(t, "s", TS_T_STRING, 0, NULL, &s);
    ts_table_add(t, "f", TS_T_FLOAT64, 0, NULL, &f);
    ts_table_add(t, "d", TS_T_DICT, 0, dict, &d);
    ts_table_add(t, "dt", TS_T_DATE, 0, NULL, &dt);
    for (int c = 0; c < t->ncols; c++)
        ts_column_reserve(t->cols[c], n, 0);
    char buf[40];
    for (int64_t k = 0; k < n; k++) {
        TS_COL(id, int64_t)[k] = k;
        TS_COL(i, int64_t)[k] = (int64_t)(ts_rng_next(r) % (uint64_t)distinct) - distinct / 2;
        const uint64_t x = ts_rng_next(r) % 8;
        TS_COL(f, double)[k] = x == 0 ? NAN : x == 1 ? -0.0 : (double)(int64_t)(ts_rng_next(r) % 50) / 4 - 5;
        TS_COL(d, int32_t)[k] = (int32_t)(ts_rng_next(r) % (uint64_t)dict->n);
        TS_COL(dt, int32_t)[k] = (int32_t)(ts_rng_next(r) % 30);
        const int len = (int)(ts_rng_next(r) % 6), base = (int)(ts_rng_next(r) % (uint64_t)distinct);
        for (int j = 0; j < len; j++)
            buf[j] = (char)('a' + (base >> j) % 3);
        ts_column_append_string(s, buf, len);
        for (int c = 0; c < t->ncols; c++)
            if (c != 2)
                t->cols[c]->len = k + 1;
    }
    for (int c = 1; c < t->ncols; c++) /* about 5 % nulls in every column but id */
        for (int64_t k = 0; k < n; k++)
            if (ts_rng_next(r) % 20 == 0)
                ts_column_set_null(t->cols[c], k);
    return t;
}

/* ---- the reference ------------------------------------------------------------------------------------------- */

static const ts_table *ref_t;
static const ts_sort_key *ref_keys;
static int ref_nkeys;

static int bytes_cmp(const char *a, int64_t la, const char *b, int64_t lb)
{
    for (int64_t i = 0; i < la && i < lb; i++)
        if (a[i] != b[i])
            return (unsigned char)a[i] < (unsigned char)b[i] ? -1 : 1;
    return la < lb ? -1 : la > lb;
}

static int value_cmp(const ts_column *c, int64_t a, int64_t b)
{
    switch (c->type) {
    case TS_T_STRING: {
        const int64_t *o = TS_COL(c, int64_t);
        return bytes_cmp(c->bytes + o[a], o[a + 1] - o[a], c->bytes + o[b], o[b + 1] - o[b]);
    }
    case TS_T_DICT: {
        const int32_t x = TS_COL(c, int32_t)[a], y = TS_COL(c, int32_t)[b];
        const int64_t *o = c->dict->offsets;
        return bytes_cmp(c->dict->bytes + o[x], o[x + 1] - o[x], c->dict->bytes + o[y], o[y + 1] - o[y]);
    }
    case TS_T_FLOAT64: {
        const double x = TS_COL(c, double)[a], y = TS_COL(c, double)[b];
        if (isnan(x) || isnan(y))
            return isnan(x) - isnan(y);
        return x < y ? -1 : x > y;
    }
    case TS_T_DATE: {
        const int32_t x = TS_COL(c, int32_t)[a], y = TS_COL(c, int32_t)[b];
        return x < y ? -1 : x > y;
    }
    default: {
        const int64_t x = TS_COL(c, int64_t)[a], y = TS_COL(c, int64_t)[b];
        return x < y ? -1 : x > y;
    }
    }
}

static int ref_cmp(const void *pa, const void *pb)
{
    const int64_t a = *(const int64_t *)pa, b = *(const int64_t *)pb;
    for (int k = 0; k < ref_nkeys; k++) {
        const ts_column *c = ts_table_col(ref_t, ref_keys[k].name);
        const int na = !ts_column_is_valid(c, a), nb = !ts_column_is_valid(c, b);
        int r;
        if (na || nb)
            r = na == nb ? 0 : (na ? -1 : 1) * (ref_keys[k].nulls_last ? -1 : 1);
        else
            r = value_cmp(c, a, b) * (ref_keys[k].desc ? -1 : 1);
        if (r)
            return r;
    }
    return a < b ? -1 : a > b; /* stable */
}

/* ---- checks -------------------------------------------------------------------------------------------------- */

static int same_value(const ts_column *p, int64_t a, const ts_column *q, int64_t b)
{
    if (ts_column_is_valid(p, a) != ts_column_is_valid(q, b))
        return 0;
    if (!ts_column_is_valid(p, a))
        return 1;
    if (p->type == TS_T_STRING) {
        const int64_t *po = TS_COL(p, int64_t), *qo = TS_COL(q, int64_t);
        return po[a + 1] - po[a] == qo[b + 1] - qo[b] &&
               memcmp(p->bytes + po[a], q->bytes + qo[b], (size_t)(po[a + 1] - po[a])) == 0;
    }
    const size_t w = ts_type_width(p->type);
    return memcmp((const char *)p->data + w * (size_t)a, (const char *)q->data + w * (size_t)b, w) == 0;
}

static int spill_files(const char *dir)
{
    DIR *d = opendir(dir);
    int n = 0;
    for (struct dirent *e; d && (e = readdir(d));)
        n += strncmp(e->d_name, "tessera-spill-", 14) == 0;
    if (d)
        closedir(d);
    return n;
}

/* Sorts t through the external sorter with budget `room`, adding random slices, reading random batch sizes, and
 * compares with the reference. expect_spill: 1 must spill, 0 must not, -1 either. */
static void run_case(const char *dir, ts_test_rng *r, const ts_table *t, const ts_sort_key *keys, int nkeys,
                     int64_t room, int expect_spill, int seq)
{
    const int64_t n = ts_table_rows(t);
    int64_t *want = malloc(sizeof *want * (size_t)(n + 1));
    for (int64_t k = 0; k < n; k++)
        want[k] = k;
    ref_t = t, ref_keys = keys, ref_nkeys = nkeys;
    qsort(want, (size_t)n, sizeof *want, ref_cmp);

    ts_sort_ext_opts o = {.room = room, .dir = dir, .tag = "test", .seq = seq ? "seq" : NULL, .seq_base = 1000,
                          .samples = 4};
    ts_sort_ext *s = NULL;
    if (!CHECK_OK(ts_sort_ext_new(t, keys, nkeys, &o, &s))) {
        free(want);
        return;
    }
    ts_table *slice = NULL;
    ts_table_new_like(t, "slice", &slice);
    int ok = 1;
    for (int64_t at = 0; ok && at < n;) {
        const int64_t m = (int64_t)(ts_rng_next(r) % 700) + 1, take = m < n - at ? m : n - at;
        ts_table_truncate(slice, 0);
        int64_t idx[700];
        for (int64_t k = 0; k < take; k++)
            idx[k] = at + k;
        ok = CHECK_OK(ts_table_append_rows(slice, t, idx, take)) && CHECK_OK(ts_sort_ext_add(s, slice));
        at += take;
    }
    ts_table_free(slice);
    const int runs = ts_sort_ext_runs(s);
    if (expect_spill == 1)
        CHECK(runs > 1 && ts_sort_ext_spilled(s) > 0 && spill_files(dir) > 0, "room %lld: %d runs, %lld bytes",
              (long long)room, runs, (long long)ts_sort_ext_spilled(s));
    if (expect_spill == 0) {
        CHECK(runs == 0 && ts_sort_ext_spilled(s) == 0, "room %lld: nothing should spill (%d runs)", (long long)room,
              runs);
    }
    int64_t got = 0, bad = 0, badseq = 0;
    if (ok && CHECK_OK(ts_sort_ext_finish(s))) {
        for (;;) {
            const ts_table *out;
            const int64_t max = (int64_t)(ts_rng_next(r) % 3000) + 1;
            if (!CHECK_OK(ts_sort_ext_next(s, max, &out)))
                break;
            const int64_t m = ts_table_rows(out);
            CHECK(m <= max, "a batch of %lld rows for at most %lld", (long long)m, (long long)max);
            if (m == 0)
                break;
            for (int64_t k = 0; k < m && got + k < n; k++) {
                const int64_t src = want[got + k];
                int same = TS_COL(out->cols[0], int64_t)[k] == src;
                for (int c = 1; same && c < t->ncols; c++)
                    same = same_value(t->cols[c], src, out->cols[c], k);
                bad += !same;
                if (seq)
                    badseq += TS_COL(out->cols[t->ncols], int64_t)[k] != 1000 + src;
            }
            got += m;
        }
        const ts_table *smp = ts_sort_ext_samples(s);
        double w = 0;
        for (int64_t k = 0; smp && k < ts_table_rows(smp); k++)
            w += TS_COL(ts_table_col(smp, "__sort_weight"), double)[k];
        CHECK(smp && fabs(w - (double)n) < 0.5, "sample weights sum to %.1f, not %lld", w, (long long)n);
    }
    CHECK(got == n, "room %lld: %lld rows out of %lld", (long long)room, (long long)got, (long long)n);
    CHECK(bad == 0, "room %lld, %d keys, %d runs: %lld rows out of order or wrong", (long long)room, nkeys, runs,
          (long long)bad);
    CHECK(badseq == 0, "seq column: %lld wrong", (long long)badseq);
    ts_sort_ext_free(s);
    CHECK(spill_files(dir) == 0, "spill files left after free: %d", spill_files(dir));
    free(want);
}

int main(void)
{
    char dir[] = "/tmp/ts-test-sort-ext-XXXXXX";
    if (!mkdtemp(dir))
        return 1;
    static const char *const words[] = {"zeta", "", "alpha", "beta", "al", "gamma", "Beta"};
    ts_dict *d;
    ts_dict_new(words, 7, &d);
    ts_test_rng r = ts_rng_seed(2026);
    const ts_sort_key cases[][4] = {
        {{"i", 0, 0}},
        {{"i", 1, 1}},
        {{"s", 0, 1}, {"i", 1, 0}},
        {{"f", 1, 0}, {"d", 0, 0}, {"s", 1, 1}},
        {{"d", 1, 1}, {"dt", 0, 0}, {"f", 0, 1}, {"i", 0, 0}},
        {{"dt", 0, 0}},
    };
    const int nk[] = {1, 1, 2, 3, 4, 1};
    const int64_t rooms[] = {300, 4096, 60000, (int64_t)1 << 30};
    for (int c = 0; c < (int)(sizeof nk / sizeof *nk); c++) {
        const int64_t n = 2000 + (int64_t)(ts_rng_next(&r) % 20000);
        ts_table *t = make_table(&r, n, d, c % 2 ? 5 : 1000);
        for (int k = 0; k < 4; k++)
            run_case(dir, &r, t, cases[c], nk[c], rooms[k], k < 2 ? 1 : k == 3 ? 0 : -1, c == 2);
        ts_table_free(t);
    }
    /* nothing spilled: the buffered rows are handed back in input order */
    ts_table *t = make_table(&r, 500, d, 10);
    ts_sort_ext_opts o = {.room = (int64_t)1 << 30, .dir = dir, .tag = "take"};
    ts_sort_ext *s = NULL;
    const ts_sort_key key = {"i", 0, 0};
    if (CHECK_OK(ts_sort_ext_new(t, &key, 1, &o, &s)) && CHECK_OK(ts_sort_ext_add(s, t))) {
        ts_table *rows = ts_sort_ext_take_rows(s);
        CHECK(rows && ts_table_rows(rows) == 500 && TS_COL(rows->cols[0], int64_t)[499] == 499, "rows taken back");
        ts_table_free(rows);
    }
    ts_sort_ext_free(s);
    /* an empty input */
    ts_table *empty = NULL;
    ts_table_new_like(t, "empty", &empty);
    o.room = 100;
    if (CHECK_OK(ts_sort_ext_new(empty, &key, 1, &o, &s)) && CHECK_OK(ts_sort_ext_finish(s))) {
        const ts_table *out;
        CHECK(CHECK_OK(ts_sort_ext_next(s, 10, &out)) && ts_table_rows(out) == 0, "empty input: no rows");
    }
    ts_sort_ext_free(s);
    ts_table_free(empty), ts_table_free(t);
    ts_dict_release(d);
    rmdir(dir);
    return TS_TEST_DONE("test_sort_ext");
}
