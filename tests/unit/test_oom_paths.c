/* Out-of-memory paths: every allocation of an operator is made to fail in turn (ts_mem_fail_after), and the
 * operator must return TS_ERR_NOMEM (or succeed with the right answer when the failing allocation is never
 * reached) and leave its inputs usable and freeable. Before the fix a failure of the join's second pair-array
 * growth left the first array's freed block in place (a double free in ts_hash_join_local); under ASan any such
 * use after free aborts this test. */
#include <stdlib.h>
#include <string.h>

#include "ts_aggregate.h"
#include "ts_expr.h"
#include "ts_hashjoin.h"
#include "ts_sort.h"
#include "ts_mem.h"
#include "ts_test.h"

static ts_column *add_col(ts_table *t, const char *name, ts_type type)
{
    ts_column *c = NULL;
    if (!CHECK_OK(ts_table_add(t, name, type, 0, NULL, &c)))
        abort();
    return c;
}

/* left k = i % 50 for n rows, right k = j % 50 for m rows: each left row matches m / 50 right rows. */
static void make_tables(int64_t n, int64_t m, ts_table **l, ts_table **r)
{
    CHECK_OK(ts_table_new("l", l));
    CHECK_OK(ts_table_new("r", r));
    ts_column *lk = add_col(*l, "k", TS_T_INT64), *rk = add_col(*r, "rk", TS_T_INT64);
    ts_column *rv = add_col(*r, "v", TS_T_INT64);
    CHECK_OK(ts_column_reserve(lk, n, 0));
    CHECK_OK(ts_column_reserve(rk, m, 0));
    CHECK_OK(ts_column_reserve(rv, m, 0));
    for (int64_t i = 0; i < n; i++)
        TS_COL(lk, int64_t)[i] = i % 50;
    for (int64_t j = 0; j < m; j++)
        TS_COL(rk, int64_t)[j] = j % 50, TS_COL(rv, int64_t)[j] = j;
    lk->len = n, rk->len = rv->len = m;
}

/* The inner join of 2000 x 500 rows makes 20000 pairs: the pair arrays grow several times. */
static void test_join_oom(void)
{
    ts_table *l, *r;
    make_tables(2000, 500, &l, &r);
    const char *lkeys[1] = {"k"}, *rkeys[1] = {"rk"};
    const ts_join_spec spec = {.type = TS_JOIN_INNER, .left_keys = lkeys, .right_keys = rkeys, .nkeys = 1};
    int failures = 0, successes = 0;
    for (int64_t k = 0; k < 200; k++) {
        ts_table *out = NULL;
        ts_mem_fail_after(k);
        const ts_err err = ts_hash_join_local(l, r, &spec, &out, NULL);
        ts_mem_fail_after(-1);
        ts_error_clear();
        if (err) {
            CHECK(err == TS_ERR_NOMEM && out == NULL, "join with allocation %lld failing: error %d", (long long)k,
                  (int)err);
            failures++;
            continue;
        }
        successes++;
        CHECK(ts_table_rows(out) == 20000, "join rows %lld", (long long)ts_table_rows(out));
        ts_table_free(out);
        if (successes == 2)
            break;
    }
    CHECK(failures >= 5 && successes >= 1, "%d injected failures, %d successes", failures, successes);
    ts_table_free(l), ts_table_free(r);
}

/* A string column with NULLs grows its offsets, bytes and validity bitmap together: after any failing growth
 * the column keeps its rows and its bitmap covers its capacity (a later growth and null still work). */
static void test_column_reserve_oom(void)
{
    int failures = 0;
    for (int64_t k = 0; k < 12; k++) {
        ts_column *c;
        if (!CHECK_OK(ts_column_new("s", TS_T_STRING, 0, NULL, &c)))
            return;
        int64_t rows = 0;
        ts_err err = TS_OK;
        for (int64_t i = 0; i < 5000 && !err; i++) {
            if (i == 10)
                ts_mem_fail_after(k);
            char buf[32];
            const int len = snprintf(buf, sizeof buf, "value-%lld", (long long)i);
            err = ts_column_append_string(c, buf, len);
            if (!err && i % 7 == 0)
                err = ts_column_set_null(c, c->len - 1);
            if (!err)
                rows = c->len;
        }
        ts_mem_fail_after(-1);
        ts_error_clear();
        failures += err != TS_OK;
        CHECK(c->len == rows && c->cap >= c->len, "column keeps %lld rows after a failed growth", (long long)rows);
        /* grow again past the old capacity and mark the last row null: the bitmap must cover it */
        const int64_t want = c->cap + 3000;
        int ok = 1;
        while (ok && c->len < want)
            ok = ts_column_append_string(c, "x", 1) == TS_OK;
        CHECK(ok, "growth after a failure");
        if (ok) {
            CHECK_OK(ts_column_set_null(c, c->len - 1));
            CHECK(!ts_column_is_valid(c, c->len - 1) && ts_column_is_valid(c, c->len - 2), "null bit of row %lld",
                  (long long)(c->len - 1));
        }
        ts_column_free(c);
    }
    CHECK(failures >= 3, "%d injected failures", failures);
}

/* Runs op with the k-th allocation failing, for k = 0.. until it succeeds twice: each failure must be
 * TS_ERR_NOMEM, each success must pass check. */
typedef ts_err (*op_fn)(const ts_table *l, const ts_table *r, ts_table **out);

static void run_failing(const char *what, op_fn op, const ts_table *l, const ts_table *r,
                        int (*check)(const ts_table *out))
{
    int failures = 0, successes = 0;
    for (int64_t k = 0; k < 400 && successes < 2; k++) {
        ts_table *out = NULL;
        ts_mem_fail_after(k);
        const ts_err err = op(l, r, &out);
        ts_mem_fail_after(-1);
        ts_error_clear();
        if (err) {
            CHECK(err == TS_ERR_NOMEM, "%s with allocation %lld failing: error %d", what, (long long)k, (int)err);
            failures++;
        } else {
            successes++;
            CHECK(check(out), "%s: wrong result after %d injected failures", what, failures);
        }
        ts_table_free(out);
    }
    CHECK(failures >= 2 && successes >= 1, "%s: %d injected failures, %d successes", what, failures, successes);
}

static ts_err op_aggregate(const ts_table *l, const ts_table *r, ts_table **out)
{
    (void)l;
    const char *keys[1] = {"rk"};
    const ts_agg aggs[3] = {{.kind = TS_AGG_SUM, .input = "v", .output = "s"},
                            {.kind = TS_AGG_COUNT_DISTINCT, .input = "v", .output = "d"},
                            {.kind = TS_AGG_QUANTILE, .input = "v", .output = "q", .param = 0.5}};
    return ts_hash_aggregate(r, keys, 1, aggs, 3, "agg", out);
}

static int check_aggregate(const ts_table *t) { return ts_table_rows(t) == 50 && t->ncols == 4; }

static ts_err op_sort(const ts_table *l, const ts_table *r, ts_table **out)
{
    (void)l;
    const char *cols[2] = {"rk", "v"};
    ts_table *v;
    TS_TRY(ts_table_view(r, cols, 2, &v));
    ts_table *copy;
    ts_err err = ts_table_new_like(v, "copy", &copy);
    if (!err)
        err = ts_table_append_rows(copy, v, NULL, ts_table_rows(v));
    ts_table_free(v);
    if (!err) {
        const ts_sort_key keys[2] = {{"rk", 1, 0}, {"v", 0, 0}};
        err = ts_sort_local_by(&copy, keys, 2);
    }
    if (err) {
        ts_table_free(copy);
        return err;
    }
    *out = copy;
    return TS_OK;
}

static int check_sort(const ts_table *t)
{
    const ts_column *k = ts_table_col(t, "rk"), *v = ts_table_col(t, "v");
    if (!k || !v || ts_table_rows(t) != 500)
        return 0;
    for (int64_t i = 1; i < 500; i++) {
        const int64_t k0 = TS_COL(k, int64_t)[i - 1], k1 = TS_COL(k, int64_t)[i];
        if (k0 < k1 || (k0 == k1 && TS_COL(v, int64_t)[i - 1] > TS_COL(v, int64_t)[i]))
            return 0;
    }
    return 1;
}

static ts_err op_expr(const ts_table *l, const ts_table *r, ts_table **out)
{
    (void)l;
    ts_expr *e = ts_x_op(TS_X_CONCAT, ts_x_cast(ts_x_col("v"), TS_T_STRING, 0, 0), ts_x_string("-x"));
    ts_column *c = NULL;
    ts_err err = e ? ts_expr_eval(e, r, "e", &c) : TS_ERR_NOMEM;
    ts_expr_free(e);
    if (!err)
        err = ts_table_new("e", out);
    if (!err)
        err = ts_table_adopt(*out, c), c = NULL;
    ts_column_free(c);
    return err;
}

static int check_expr(const ts_table *t)
{
    const ts_column *c = ts_table_col(t, "e");
    if (!c || c->type != TS_T_STRING || c->len != 500)
        return 0;
    const int64_t *o = TS_COL(c, int64_t);
    return o[500] - o[499] == 5 && !memcmp(c->bytes + o[499], "499-x", 5);
}

static void test_operators_oom(void)
{
    ts_table *l, *r;
    make_tables(2000, 500, &l, &r);
    run_failing("aggregate", op_aggregate, l, r, check_aggregate);
    run_failing("sort", op_sort, l, r, check_sort);
    run_failing("expression", op_expr, l, r, check_expr);
    ts_table_free(l), ts_table_free(r);
}

int main(int argc, char **argv)
{
    const char *only = argc > 1 ? argv[1] : ""; /* "join", "column" or "operators": one test alone */
    if (!*only || !strcmp(only, "join"))
        test_join_oom();
    if (!*only || !strcmp(only, "column"))
        test_column_reserve_oom();
    if (!*only || !strcmp(only, "operators"))
        test_operators_oom();
    return TS_TEST_DONE("oom_paths");
}
