/* ts_expr: hand-checked cases and randomized comparison with a naive row-at-a-time evaluator written here,
 * across several vectors (rows > TS_EXPR_VECTOR), with nulls in every input column. */
#include <math.h>
#include <stdlib.h>

#include "ts_chunk.h"
#include "ts_date.h"
#include "ts_expr.h"
#include "ts_mem.h"
#include "ts_test.h"

#define ROWS 5000

static const char *const STATUS[] = {"failed", "pending", "success"};

typedef struct row {
    int64_t a;
    double f;
    int32_t d, s;
    int va, vf, vd, vs;
} row;

static row R[ROWS];

static ts_table *make_table(ts_dict *dict)
{
    ts_test_rng r = ts_rng_seed(11);
    ts_table *t;
    ts_column *a, *f, *d, *s;
    CHECK_OK(ts_table_new("t", &t));
    CHECK_OK(ts_table_add(t, "a", TS_T_INT64, 0, NULL, &a));
    CHECK_OK(ts_table_add(t, "f", TS_T_FLOAT64, 0, NULL, &f));
    CHECK_OK(ts_table_add(t, "d", TS_T_DATE, 0, NULL, &d));
    CHECK_OK(ts_table_add(t, "s", TS_T_DICT, 0, dict, &s));
    ts_column *cols[4] = {a, f, d, s};
    for (int c = 0; c < 4; c++)
        CHECK_OK(ts_column_reserve(cols[c], ROWS, 0));
    for (int i = 0; i < ROWS; i++) {
        row *x = &R[i];
        x->a = ts_rng_range(&r, -50, 50), x->f = (double)ts_rng_range(&r, -400, 400) / 8.0;
        x->d = (int32_t)ts_rng_range(&r, 18000, 20000), x->s = (int32_t)ts_rng_below(&r, 3);
        x->va = ts_rng_below(&r, 10) != 0, x->vf = ts_rng_below(&r, 10) != 0;
        x->vd = ts_rng_below(&r, 10) != 0, x->vs = ts_rng_below(&r, 10) != 0;
        TS_COL(a, int64_t)[i] = x->a, TS_COL(f, double)[i] = x->f;
        TS_COL(d, int32_t)[i] = x->d, TS_COL(s, int32_t)[i] = x->s;
    }
    for (int c = 0; c < 4; c++)
        cols[c]->len = ROWS;
    for (int i = 0; i < ROWS; i++) {
        if (!R[i].va) CHECK_OK(ts_column_set_null(a, i));
        if (!R[i].vf) CHECK_OK(ts_column_set_null(f, i));
        if (!R[i].vd) CHECK_OK(ts_column_set_null(d, i));
        if (!R[i].vs) CHECK_OK(ts_column_set_null(s, i));
    }
    return t;
}

/* Evaluates e and checks every row against want(row, &value, &valid). */
typedef void (*naive_fn)(const row *x, double *v, int *valid);

static double value_at(const ts_column *c, int64_t i)
{
    switch (c->type) {
    case TS_T_BOOL: return TS_COL(c, uint8_t)[i];
    case TS_T_FLOAT64: return TS_COL(c, double)[i];
    case TS_T_DATE: return TS_COL(c, int32_t)[i];
    default: return (double)TS_COL(c, int64_t)[i];
    }
}

/* The per-chunk paths pipelines use: e bound once to a chunk of views of t, evaluated (ts_expr_eval_chunk) and, when
 * BOOL, used as a filter (ts_expr_filter_chunk), with no selection, a dense one (3 rows in 4: evaluated over every
 * row, the others masked) and a sparse one (1 row in 8: evaluated densely over the selected rows only). */
static void check_chunks(const char *what, const ts_expr *e, const ts_table *t, naive_fn want)
{
    ts_chunk *ch = NULL;
    ts_expr_bound *b = NULL;
    if (!CHECK_OK(ts_chunk_new("t", &ch)) || !CHECK_OK(ts_chunk_add_like(ch, t, 1)) ||
        !CHECK_OK(ts_expr_bind(e, &ch->schema, &b))) {
        ts_chunk_free(ch);
        return;
    }
    ts_type type;
    int scale;
    ts_dict *dict;
    ts_expr_bound_type(b, &type, &scale, &dict);
    ts_column *out = NULL;
    if (CHECK_OK(ts_column_new("out", type, scale, dict, &out)))
        CHECK_OK(ts_column_reserve(out, TS_CHUNK_ROWS, 0)); /* what a chunk vector holds */
    long bad = 0;
    for (int every = 1; every <= 8; every *= 8) {
        for (int dense = 0; dense < 2; dense++) {
            for (int64_t start = 0; start < ROWS; start += TS_CHUNK_ROWS) {
                const int64_t n = ROWS - start < TS_CHUNK_ROWS ? ROWS - start : TS_CHUNK_ROWS;
                CHECK_OK(ts_chunk_view_table(ch, t, start, n));
                int32_t sel[TS_CHUNK_ROWS];
                int nsel = 0;
                for (int r = 0; r < n; r++)
                    if (every == 1 ? !dense || r % 4 : r % 8 == 3)
                        sel[nsel++] = r;
                if (every > 1 || dense)
                    ts_chunk_select(ch, sel, nsel);
                const int32_t *live = ts_chunk_rows(ch, sel);
                const int nlive = (int)ts_chunk_live(ch);
                if (!CHECK_OK(ts_expr_eval_chunk(b, ch, out)))
                    break;
                for (int j = 0; j < nlive; j++) {
                    double v;
                    int valid;
                    want(&R[start + live[j]], &v, &valid);
                    const double got = value_at(out, live[j]);
                    const int got_valid = ts_column_is_valid(out, live[j]);
                    if ((got_valid != valid || (valid && got != v && !(isnan(got) && isnan(v)))) && bad++ < 3)
                        CHECK(0, "%s, chunk at %lld, row %d: got %g (valid %d), expected %g (valid %d)", what,
                              (long long)start, live[j], got, got_valid, v, valid);
                }
                if (type != TS_T_BOOL)
                    continue;
                int32_t keep[TS_CHUNK_ROWS];
                int nkeep = 0;
                for (int j = 0; j < nlive; j++) {
                    double v;
                    int valid;
                    want(&R[start + live[j]], &v, &valid);
                    if (valid && v != 0)
                        keep[nkeep++] = live[j];
                }
                if (!CHECK_OK(ts_expr_filter_chunk(b, ch)))
                    break;
                const int same = ts_chunk_live(ch) == nkeep &&
                                 (!nkeep || !memcmp(ts_chunk_rows(ch, sel), keep, sizeof *keep * (size_t)nkeep));
                if (!same && bad++ < 3)
                    CHECK(0, "%s as a filter, chunk at %lld: %lld rows kept, expected %d", what, (long long)start,
                          (long long)ts_chunk_live(ch), nkeep);
            }
        }
    }
    CHECK(bad == 0, "%s per chunk: %ld differences", what, bad);
    ts_column_free(out);
    ts_expr_unbind(b);
    ts_chunk_free(ch);
}

static void check_expr(const char *what, ts_expr *e, const ts_table *t, naive_fn want)
{
    ts_column *c = NULL;
    if (!CHECK_OK(ts_expr_eval(e, t, "out", &c))) {
        ts_expr_free(e);
        return;
    }
    long bad = 0;
    for (int i = 0; i < ROWS; i++) {
        double v;
        int valid;
        want(&R[i], &v, &valid);
        const int got_valid = ts_column_is_valid(c, i);
        double got = 0;
        switch (c->type) {
        case TS_T_BOOL: got = TS_COL(c, uint8_t)[i]; break;
        case TS_T_FLOAT64: got = TS_COL(c, double)[i]; break;
        case TS_T_DATE: got = TS_COL(c, int32_t)[i]; break;
        default: got = (double)TS_COL(c, int64_t)[i]; break;
        }
        const int same = got_valid == valid && (!valid || got == v || (isnan(got) && isnan(v)));
        if (!same && bad++ < 3)
            CHECK(0, "%s row %d: got %g (valid %d), expected %g (valid %d)", what, i, got, got_valid, v, valid);
    }
    CHECK(bad == 0, "%s: %ld rows differ", what, bad);
    CHECK(c->len == ROWS, "%s: %lld rows", what, (long long)c->len);
    ts_column_free(c);
    check_chunks(what, e, t, want);
    ts_expr_free(e);
}

static void n_add(const row *x, double *v, int *ok) { *v = (double)(x->a + 7), *ok = x->va; }
static void n_mix(const row *x, double *v, int *ok) { *v = (double)x->a * x->f - 1.5, *ok = x->va && x->vf; }
static void n_div(const row *x, double *v, int *ok) { *v = x->f / (double)x->a, *ok = x->va && x->vf; }
static void n_lt(const row *x, double *v, int *ok) { *v = (double)x->a < x->f, *ok = x->va && x->vf; }
static void n_eq_dict(const row *x, double *v, int *ok) { *v = x->s == 2, *ok = x->vs; }
static void n_ne_missing(const row *x, double *v, int *ok) { *v = 1, *ok = x->vs; } /* 'nope' is no code */
/* dictionary values order by their bytes: "failed" < "p" < "pending" < "success" */
static void n_lt_dict(const row *x, double *v, int *ok) { *v = x->s == 0, *ok = x->vs; }
static void n_ge_dict(const row *x, double *v, int *ok) { *v = x->s != 0, *ok = x->vs; }
static void n_isnull(const row *x, double *v, int *ok) { *v = !x->vf, *ok = 1; }
static void n_coalesce(const row *x, double *v, int *ok) { *v = x->vf ? x->f : -1.0, *ok = 1; }

/* three-valued: (a > 0) AND (f < 0); (a > 0) OR (f < 0) */
static void tvl(const row *x, int is_and, double *v, int *ok)
{
    const int pa = x->va, pb = x->vf, a = x->a > 0, b = x->f < 0;
    if (is_and) {
        const int false_known = (pa && !a) || (pb && !b);
        *ok = false_known || (pa && pb), *v = !false_known && a && b;
    } else {
        const int true_known = (pa && a) || (pb && b);
        *ok = true_known || (pa && pb), *v = true_known;
    }
}
static void n_and(const row *x, double *v, int *ok) { tvl(x, 1, v, ok); }
static void n_or(const row *x, double *v, int *ok) { tvl(x, 0, v, ok); }
static void n_not(const row *x, double *v, int *ok) { *v = !(x->a > 0), *ok = x->va; }

static void n_month_start(const row *x, double *v, int *ok)
{
    int y, m, d;
    ts_civil_from_days(x->d, &y, &m, &d);
    *v = ts_days_from_civil(y, m, 1), *ok = x->vd;
}
static void n_year(const row *x, double *v, int *ok)
{
    int y, m, d;
    ts_civil_from_days(x->d, &y, &m, &d);
    *v = y, *ok = x->vd;
}
static void n_day(const row *x, double *v, int *ok)
{
    int y, m, d;
    ts_civil_from_days(x->d, &y, &m, &d);
    *v = d, *ok = x->vd;
}
static void n_date_plus(const row *x, double *v, int *ok) { *v = x->d + 30, *ok = x->vd; }

static void n_date_ge(const row *x, double *v, int *ok) { *v = x->d >= 19000, *ok = x->vd; }
static void n_const_gt(const row *x, double *v, int *ok) { *v = 10 > x->a, *ok = x->va; }
static void n_a_ne(const row *x, double *v, int *ok) { *v = x->a != 3, *ok = x->va; }
static void n_between(const row *x, double *v, int *ok)
{
    /* a >= -5 AND a <= 5 (three-valued: NULL a gives NULL) */
    *v = x->a >= -5 && x->a <= 5, *ok = x->va;
}

static void n_date_lt_ts(const row *x, double *v, int *ok) { *v = x->d < 19000, *ok = x->vd; }
static void n_date_lt_ts_hour(const row *x, double *v, int *ok) { *v = x->d <= 19000, *ok = x->vd; }

static void n_self_ge(const row *x, double *v, int *ok) { *v = 1, *ok = x->va; }
static void n_self_lt(const row *x, double *v, int *ok) { *v = 0, *ok = x->vd; }

static void test_random(const ts_table *t)
{
    /* two columns compared where they lie (int64 and int32 storage) */
    check_expr("a >= a", ts_x_op(TS_X_GE, ts_x_col("a"), ts_x_col("a")), t, n_self_ge);
    check_expr("d < d", ts_x_op(TS_X_LT, ts_x_col("d"), ts_x_col("d")), t, n_self_lt);
    /* a DATE against TIMESTAMP constants: at a midnight (read as a day) and an hour past one */
    check_expr("d < TIMESTAMP midnight", ts_x_op(TS_X_LT, ts_x_col("d"), ts_x_cast(ts_x_date(19000), TS_T_TIMESTAMP, 0, 0)),
               t, n_date_lt_ts);
    check_expr("d < TIMESTAMP 01:00",
               ts_x_op(TS_X_LT, ts_x_col("d"),
                       ts_x_op(TS_X_ADD, ts_x_cast(ts_x_date(19000), TS_T_TIMESTAMP, 0, 0),
                               ts_x_interval(0, 0, INT64_C(3600000000)))),
               t, n_date_lt_ts_hour);
    /* column-with-constant comparisons (a filter's fast path), mirrored, and an AND of two of them */
    check_expr("d >= 19000", ts_x_op(TS_X_GE, ts_x_col("d"), ts_x_date(19000)), t, n_date_ge);
    check_expr("10 > a", ts_x_op(TS_X_GT, ts_x_int(10), ts_x_col("a")), t, n_const_gt);
    check_expr("a <> 3", ts_x_op(TS_X_NE, ts_x_col("a"), ts_x_int(3)), t, n_a_ne);
    check_expr("a >= -5 AND a <= 5",
               ts_x_op(TS_X_AND, ts_x_op(TS_X_GE, ts_x_col("a"), ts_x_int(-5)), ts_x_op(TS_X_LE, ts_x_col("a"), ts_x_int(5))),
               t, n_between);
    check_expr("a + 7", ts_x_op(TS_X_ADD, ts_x_col("a"), ts_x_int(7)), t, n_add);
    check_expr("a * f - 1.5", ts_x_op(TS_X_SUB, ts_x_op(TS_X_MUL, ts_x_col("a"), ts_x_col("f")), ts_x_float(1.5)), t,
               n_mix);
    check_expr("f / a (IEEE)", ts_x_op(TS_X_DIV, ts_x_col("f"), ts_x_col("a")), t, n_div);
    check_expr("a < f", ts_x_op(TS_X_LT, ts_x_col("a"), ts_x_col("f")), t, n_lt);
    check_expr("s = 'success'", ts_x_op(TS_X_EQ, ts_x_col("s"), ts_x_string("success")), t, n_eq_dict);
    check_expr("'nope' <> s", ts_x_op(TS_X_NE, ts_x_string("nope"), ts_x_col("s")), t, n_ne_missing);
    check_expr("s < 'p'", ts_x_op(TS_X_LT, ts_x_col("s"), ts_x_string("p")), t, n_lt_dict);
    check_expr("'p' <= s", ts_x_op(TS_X_LE, ts_x_string("p"), ts_x_col("s")), t, n_ge_dict);
    check_expr("f IS NULL", ts_x_op(TS_X_IS_NULL, ts_x_col("f"), NULL), t, n_isnull);
    check_expr("COALESCE(f, -1)", ts_x_op(TS_X_COALESCE, ts_x_col("f"), ts_x_int(-1)), t, n_coalesce);
    check_expr("a > 0 AND f < 0",
               ts_x_op(TS_X_AND, ts_x_op(TS_X_GT, ts_x_col("a"), ts_x_int(0)), ts_x_op(TS_X_LT, ts_x_col("f"), ts_x_int(0))),
               t, n_and);
    check_expr("a > 0 OR f < 0",
               ts_x_op(TS_X_OR, ts_x_op(TS_X_GT, ts_x_col("a"), ts_x_int(0)), ts_x_op(TS_X_LT, ts_x_col("f"), ts_x_int(0))),
               t, n_or);
    check_expr("NOT a > 0", ts_x_op(TS_X_NOT, ts_x_op(TS_X_GT, ts_x_col("a"), ts_x_int(0)), NULL), t, n_not);
    check_expr("month_start(d)", ts_x_op(TS_X_MONTH_START, ts_x_col("d"), NULL), t, n_month_start);
    check_expr("year(d)", ts_x_op(TS_X_YEAR, ts_x_col("d"), NULL), t, n_year);
    check_expr("day(d)", ts_x_op(TS_X_DAY, ts_x_col("d"), NULL), t, n_day);
    check_expr("d + 30", ts_x_op(TS_X_ADD, ts_x_col("d"), ts_x_int(30)), t, n_date_plus);
}

static void test_select(const ts_table *t)
{
    ts_expr *e = ts_x_op(TS_X_GT, ts_x_col("a"), ts_x_int(10));
    int64_t *rows = NULL, n = 0;
    if (CHECK_OK(ts_expr_select(e, t, &rows, &n))) {
        int64_t k = 0, bad = 0;
        for (int i = 0; i < ROWS; i++)
            if (R[i].va && R[i].a > 10)
                bad += k >= n || rows[k++] != i;
        CHECK(bad == 0 && k == n, "select a > 10: %lld rows, expected %lld, %lld wrong", (long long)n, (long long)k,
              (long long)bad);
        ts_free(rows);
    }
    ts_expr_free(e);
}

static void test_errors(const ts_table *t)
{
    ts_column *c = NULL;
    ts_expr *e = ts_x_op(TS_X_ADD, ts_x_col("nope"), ts_x_int(1));
    CHECK(ts_expr_eval(e, t, "x", &c) == TS_ERR_USAGE && !c, "unknown column is a usage error");
    ts_expr_free(e);
    e = ts_x_op(TS_X_AND, ts_x_col("a"), ts_x_col("f"));
    CHECK(ts_expr_eval(e, t, "x", &c) == TS_ERR_USAGE, "AND of numbers is refused");
    ts_expr_free(e);
    e = ts_x_op(TS_X_LT, ts_x_col("s"), ts_x_col("a"));
    CHECK(ts_expr_eval(e, t, "x", &c) == TS_ERR_USAGE, "a dictionary column against a number is refused");
    ts_expr_free(e);
    e = ts_x_op(TS_X_YEAR, ts_x_col("a"), NULL);
    CHECK(ts_expr_eval(e, t, "x", &c) == TS_ERR_USAGE, "year() of an integer is refused");
    ts_expr_free(e);
    CHECK(ts_x_op(TS_X_ADD, NULL, ts_x_int(1)) == NULL, "a NULL child gives a NULL node");
    int64_t *rows;
    int64_t n;
    e = ts_x_op(TS_X_ADD, ts_x_col("a"), ts_x_int(1));
    CHECK(ts_expr_select(e, t, &rows, &n) == TS_ERR_USAGE, "a filter must be boolean");
    ts_expr_free(e);
}

/* Hand-checked: decimal scale in CAST, IEEE division by zero, an empty table. */
static void test_hand(void)
{
    ts_table *t;
    ts_column *cents, *cnt, *c = NULL;
    CHECK_OK(ts_table_new("h", &t));
    CHECK_OK(ts_table_add(t, "cents", TS_T_DECIMAL, 2, NULL, &cents));
    CHECK_OK(ts_table_add(t, "n", TS_T_INT64, 0, NULL, &cnt));
    CHECK_OK(ts_column_reserve(cents, 2, 0));
    CHECK_OK(ts_column_reserve(cnt, 2, 0));
    TS_COL(cents, int64_t)[0] = 1523050, TS_COL(cents, int64_t)[1] = 0;
    TS_COL(cnt, int64_t)[0] = 2, TS_COL(cnt, int64_t)[1] = 0;
    cents->len = cnt->len = 2;
    ts_expr *e = ts_x_op(TS_X_DIV, ts_x_op(TS_X_TO_FLOAT, ts_x_col("cents"), NULL), ts_x_col("n"));
    if (CHECK_OK(ts_expr_eval(e, t, "avg", &c))) {
        CHECK(TS_COL(c, double)[0] == 7615.25, "15230.50 / 2 = %g", TS_COL(c, double)[0]);
        CHECK(isnan(TS_COL(c, double)[1]), "0 / 0 is NaN, got %g", TS_COL(c, double)[1]);
        ts_column_free(c);
    }
    ts_expr_free(e);
    ts_table *empty;
    CHECK_OK(ts_table_new_like(t, "empty", &empty));
    e = ts_x_op(TS_X_ADD, ts_x_col("n"), ts_x_int(1));
    if (CHECK_OK(ts_expr_eval(e, empty, "x", &c))) {
        CHECK(c->len == 0, "empty input, empty output");
        ts_column_free(c);
    }
    ts_expr_free(e);
    ts_table_free(empty), ts_table_free(t);
}

int main(void)
{
    ts_dict *dict;
    CHECK_OK(ts_dict_new(STATUS, 3, &dict));
    ts_table *t = make_table(dict);
    test_random(t);
    test_select(t);
    test_errors(t);
    test_hand();
    ts_table_free(t);
    ts_dict_release(dict);
    return TS_TEST_DONE("test_expr");
}
