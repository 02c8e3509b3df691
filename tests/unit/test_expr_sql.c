/* ts_expr as the SQL front-end uses it: every operator and function on a small hand-checked table (expected values
 * worked out by hand, matching DuckDB where SQL leaves a choice), three-valued IN, LIKE edge cases, UTF-8, casts
 * both ways with their failures, dates against the civil calendar, string results on tables larger than one vector
 * (checked against naive per-row code written here), and random arithmetic / comparison trees against a naive
 * row-at-a-time reference evaluator. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ts_date.h"
#include "ts_expr.h"
#include "ts_like.h"
#include "ts_mem.h"
#include "ts_test.h"

/* ---- helpers ----------------------------------------------------------------------------------------------- */

#define HROWS 8
#define NUL ((const char *)0) /* a NULL cell in the hand tables */

static ts_table *new_table(const char *name)
{
    ts_table *t;
    CHECK_OK(ts_table_new(name, &t));
    return t;
}

static void add_ints(ts_table *t, const char *name, ts_type type, int scale, const int64_t *v, const int *null, int n)
{
    ts_column *c;
    CHECK_OK(ts_table_add(t, name, type, scale, NULL, &c));
    CHECK_OK(ts_column_reserve(c, n, 0));
    for (int i = 0; i < n; i++) {
        if (type == TS_T_BOOL)
            TS_COL(c, uint8_t)[i] = (uint8_t)v[i];
        else if (type == TS_T_INT32 || type == TS_T_DATE)
            TS_COL(c, int32_t)[i] = (int32_t)v[i];
        else
            TS_COL(c, int64_t)[i] = v[i];
    }
    c->len = n;
    for (int i = 0; i < n; i++)
        if (null && null[i])
            CHECK_OK(ts_column_set_null(c, i));
}

static void add_floats(ts_table *t, const char *name, const double *v, const int *null, int n)
{
    ts_column *c;
    CHECK_OK(ts_table_add(t, name, TS_T_FLOAT64, 0, NULL, &c));
    CHECK_OK(ts_column_reserve(c, n, 0));
    memcpy(c->data, v, sizeof(double) * (size_t)n);
    c->len = n;
    for (int i = 0; i < n; i++)
        if (null && null[i])
            CHECK_OK(ts_column_set_null(c, i));
}

static void add_strings(ts_table *t, const char *name, const char *const *v, int n)
{
    ts_column *c;
    CHECK_OK(ts_table_add(t, name, TS_T_STRING, 0, NULL, &c));
    for (int i = 0; i < n; i++) {
        CHECK_OK(ts_column_append_string(c, v[i] ? v[i] : "", v[i] ? (int64_t)strlen(v[i]) : 0));
        if (!v[i])
            CHECK_OK(ts_column_set_null(c, i));
    }
}

static void add_dict(ts_table *t, const char *name, ts_dict *d, const int32_t *codes, int n)
{
    ts_column *c;
    CHECK_OK(ts_table_add(t, name, TS_T_DICT, 0, d, &c));
    CHECK_OK(ts_column_reserve(c, n, 0));
    for (int i = 0; i < n; i++)
        TS_COL(c, int32_t)[i] = codes[i] < 0 ? 0 : codes[i];
    c->len = n;
    for (int i = 0; i < n; i++)
        if (codes[i] < 0)
            CHECK_OK(ts_column_set_null(c, i));
}

/* A cell as text, independently of the code under test: NULL, true/false, integers, %.15g doubles, decimals with
 * their scale, dates through ts_date.h, strings and dictionary values verbatim. */
static void cell(const ts_column *c, int64_t i, char *buf, size_t cap)
{
    if (!ts_column_is_valid(c, i)) {
        snprintf(buf, cap, "NULL");
        return;
    }
    switch (c->type) {
    case TS_T_BOOL: snprintf(buf, cap, "%s", TS_COL(c, uint8_t)[i] ? "true" : "false"); break;
    case TS_T_INT32: snprintf(buf, cap, "%d", TS_COL(c, int32_t)[i]); break;
    case TS_T_INT64: snprintf(buf, cap, "%lld", (long long)TS_COL(c, int64_t)[i]); break;
    case TS_T_FLOAT64: /* any NaN prints as nan (fmod and 0/0 give a negative one on x86) */
        snprintf(buf, cap, "%.15g", isnan(TS_COL(c, double)[i]) ? NAN : TS_COL(c, double)[i]);
        break;
    case TS_T_DATE: {
        char d[10];
        ts_format_date(TS_COL(c, int32_t)[i], d);
        snprintf(buf, cap, "%.10s", d);
        break;
    }
    case TS_T_TIMESTAMP: { /* date through ts_date.h, time of day with snprintf, always 6 fraction digits */
        const int64_t us = TS_COL(c, int64_t)[i], day = 86400000000LL;
        const int64_t d = us >= 0 ? us / day : -((-us + day - 1) / day), t = us - d * day;
        char dd[10];
        ts_format_date((int32_t)d, dd);
        snprintf(buf, cap, "%.10s %02lld:%02lld:%02lld.%06lld", dd, (long long)(t / 3600000000LL),
                 (long long)(t / 60000000 % 60), (long long)(t / 1000000 % 60), (long long)(t % 1000000));
        break;
    }
    case TS_T_DECIMAL: {
        const int64_t v = TS_COL(c, int64_t)[i];
        int64_t p = 1;
        for (int k = 0; k < c->scale; k++)
            p *= 10;
        const uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
        if (c->scale)
            snprintf(buf, cap, "%s%llu.%0*llu", v < 0 ? "-" : "", (unsigned long long)(u / (uint64_t)p), c->scale,
                     (unsigned long long)(u % (uint64_t)p));
        else
            snprintf(buf, cap, "%lld", (long long)v);
        break;
    }
    case TS_T_STRING: {
        const int64_t *off = TS_COL(c, int64_t);
        snprintf(buf, cap, "%.*s", (int)(off[i + 1] - off[i]), c->bytes + off[i]);
        break;
    }
    case TS_T_DICT: {
        int64_t len;
        const char *s = ts_dict_value(c->dict, TS_COL(c, int32_t)[i], &len);
        snprintf(buf, cap, "%.*s", (int)len, s);
        break;
    }
    }
}

/* Evaluates e (freed here) on t and checks the column's type and every row's text. */
static void expect_rows(const char *what, const ts_table *t, ts_expr *e, ts_type type, const char *const *want, int n)
{
    ts_column *c = NULL;
    const ts_err err = ts_expr_eval(e, t, "out", &c);
    CHECK(err == TS_OK, "%s: error %d: %s", what, err, ts_error_headline());
    if (!err) {
        CHECK(c->type == type, "%s: type %d, expected %d", what, c->type, type);
        CHECK(c->len == n, "%s: %lld rows, expected %d", what, (long long)c->len, n);
        for (int i = 0; i < n && i < c->len; i++) {
            char got[256];
            cell(c, i, got, sizeof got);
            const char *w = want[i] ? want[i] : "NULL";
            CHECK(strcmp(got, w) == 0, "%s row %d: got '%s', expected '%s'", what, i, got, w);
        }
        ts_column_free(c);
    }
    ts_expr_free(e);
}

#define EXPECT(t, e, type, ...)                                                                               \
    expect_rows(#e, t, e, type, (const char *const[]){__VA_ARGS__},                                          \
                (int)(sizeof((const char *const[]){__VA_ARGS__}) / sizeof(const char *)))

/* Expects evaluation to fail with `code` and a message containing `part`. */
static void expect_error(const char *what, const ts_table *t, ts_expr *e, ts_err code, const char *part)
{
    ts_column *c = NULL;
    const ts_err err = ts_expr_eval(e, t, "out", &c);
    CHECK(err == code && !c, "%s: got code %d, expected %d", what, err, code);
    CHECK(!err && !part ? 1 : strstr(ts_error_headline(), part) != NULL, "%s: message '%s' lacks '%s'", what,
          ts_error_headline(), part);
    ts_column_free(c);
    ts_expr_free(e);
}

#define EXPECT_ERR(t, e, code, part) expect_error(#e, t, e, code, part)

/* Shorthands for building trees. */
#define COL(n) ts_x_col(n)
#define I(v) ts_x_int(v)
#define F(v) ts_x_float(v)
#define S(v) ts_x_string(v)
#define OP(o, a, b) ts_x_op(TS_X_##o, a, b)
#define FN(o, ...)                                                                                                     \
    ts_x_func(TS_X_##o, (ts_expr *[]){__VA_ARGS__}, (int)(sizeof((ts_expr *[]){__VA_ARGS__}) / sizeof(ts_expr *)))

static ts_expr *date_lit(int y, int m, int d) { return ts_x_date(ts_days_from_civil(y, m, d)); }

/* ---- the hand table ------------------------------------------------------------------------------------------
 *  row  i          j     f      s          d        dt          m(2)      b      t                  ds
 *   0   7          2     2.5    héllo      success  2021-01-01  15230.50  true   "12"               "2021-03-04"
 *   1   -7         2     -0.5   abc        failed   2020-02-29  -0.05     false  " 7 "              " 2021-3-4 "
 *   2   0          0     NaN    ""         pending  1970-01-01  0.00      true   "abc"              "2021/03/04"
 *   3   NULL       5     NULL   NULL       NULL     NULL        NULL      NULL   NULL               NULL
 *   4   INT64_MAX  1     1e20   "  pad  "  zeta     2021-12-31  123.45    false  "2.5"              "2020-02-30"
 *   5   3          NULL  0.1    a%c        failed   2024-03-10  2.50      true   "-2.5"             "1999-12-31"
 *   6   10         -3    -2.5   ABC        success  1969-12-31  -2.50     false  "1e3"              "21-1-2"
 *   7   -3         0     0.0    x_y        pending  2000-01-03  1.00      true   "9223372036854775808" "x"       */

static const char *const DVALUES[] = {"failed", "pending", "success", "zeta"};

static ts_table *hand_table(ts_dict *dict)
{
    ts_table *t = new_table("hand");
    const int null3[HROWS] = {0, 0, 0, 1, 0, 0, 0, 0};
    const int64_t i[HROWS] = {7, -7, 0, 0, INT64_MAX, 3, 10, -3};
    const int64_t j[HROWS] = {2, 2, 0, 5, 1, 0, -3, 0};
    const int jnull[HROWS] = {0, 0, 0, 0, 0, 1, 0, 0};
    const double f[HROWS] = {2.5, -0.5, NAN, 0, 1e20, 0.1, -2.5, 0.0};
    const char *const s[HROWS] = {"h\xc3\xa9llo", "abc", "", NUL, "  pad  ", "a%c", "ABC", "x_y"};
    const int32_t d[HROWS] = {2, 0, 1, -1, 3, 0, 2, 1};
    const int64_t dt[HROWS] = {ts_days_from_civil(2021, 1, 1), ts_days_from_civil(2020, 2, 29), 0, 0,
                               ts_days_from_civil(2021, 12, 31), ts_days_from_civil(2024, 3, 10), -1,
                               ts_days_from_civil(2000, 1, 3)};
    const int64_t m[HROWS] = {1523050, -5, 0, 0, 12345, 250, -250, 100};
    const int64_t b[HROWS] = {1, 0, 1, 0, 0, 1, 0, 1};
    const char *const tx[HROWS] = {"12", " 7 ", "abc", NUL, "2.5", "-2.5", "1e3", "9223372036854775808"};
    const char *const ds[HROWS] = {"2021-03-04", " 2021-3-4 ", "2021/03/04", NUL,
                                   "2020-02-30", "1999-12-31", "21-1-2",     "x"};
    add_ints(t, "i", TS_T_INT64, 0, i, null3, HROWS);
    add_ints(t, "j", TS_T_INT64, 0, j, jnull, HROWS);
    add_floats(t, "f", f, null3, HROWS);
    add_strings(t, "s", s, HROWS);
    add_dict(t, "d", dict, d, HROWS);
    add_ints(t, "dt", TS_T_DATE, 0, dt, null3, HROWS);
    add_ints(t, "m", TS_T_DECIMAL, 2, m, null3, HROWS);
    add_ints(t, "b", TS_T_BOOL, 0, b, null3, HROWS);
    add_strings(t, "t", tx, HROWS);
    add_strings(t, "ds", ds, HROWS);
    return t;
}

static void test_arith(const ts_table *t)
{
    EXPECT(t, OP(MOD, COL("i"), COL("j")), TS_T_INT64, "1", "-1", NUL, NUL, "0", NUL, "1", NUL);
    EXPECT(t, OP(INTDIV, COL("i"), COL("j")), TS_T_INT64, "3", "-3", NUL, NUL, "9223372036854775807", NUL, "-3", NUL);
    EXPECT(t, OP(NEG, COL("j"), NULL), TS_T_INT64, "-2", "-2", "0", "-5", "-1", NUL, "3", "0");
    EXPECT(t, OP(MOD, COL("f"), F(2)), TS_T_FLOAT64, "0.5", "-0.5", "nan", NUL, "0", "0.1", "-0.5", "0");
    EXPECT(t, OP(MOD, COL("f"), I(0)), TS_T_FLOAT64, "nan", "nan", "nan", NUL, "nan", "nan", "nan", "nan");
    EXPECT(t, OP(INTDIV, COL("f"), I(2)), TS_T_FLOAT64, "1.25", "-0.25", "nan", NUL, "5e+19", "0.05", "-1.25", "0");
    EXPECT(t, FN(CASE, OP(LT, COL("i"), I(100)), OP(ADD, COL("i"), I(1))), TS_T_INT64, "8", "-6", "1", NUL, NUL, "4",
           "11", "-2");
    EXPECT_ERR(t, OP(ADD, COL("i"), I(1)), TS_ERR_DATA, "overflow");
    EXPECT_ERR(t, OP(MUL, COL("i"), I(2)), TS_ERR_DATA, "overflow");
    EXPECT_ERR(t, OP(NEG, OP(SUB, OP(NEG, COL("i"), NULL), I(1)), NULL), TS_ERR_DATA, "overflow");
    /* decimals: exact + - at the larger scale, * at the summed scale, / as doubles */
    EXPECT(t, OP(ADD, COL("m"), I(1)), TS_T_DECIMAL, "15231.50", "0.95", "1.00", NUL, "124.45", "3.50", "-1.50",
           "2.00");
    EXPECT(t, OP(SUB, COL("m"), ts_x_decimal(5, 3)), TS_T_DECIMAL, "15230.495", "-0.055", "-0.005", NUL, "123.445",
           "2.495", "-2.505", "0.995");
    EXPECT(t, OP(MUL, COL("m"), COL("m")), TS_T_DECIMAL, "231968130.2500", "0.0025", "0.0000", NUL, "15239.9025",
           "6.2500", "6.2500", "1.0000");
    EXPECT(t, OP(MUL, COL("m"), I(2)), TS_T_DECIMAL, "30461.00", "-0.10", "0.00", NUL, "246.90", "5.00", "-5.00",
           "2.00");
    EXPECT(t, OP(DIV, COL("m"), I(2)), TS_T_FLOAT64, "7615.25", "-0.025", "0", NUL, "61.725", "1.25", "-1.25", "0.5");
    EXPECT(t, OP(ADD, COL("m"), COL("f")), TS_T_FLOAT64, "15233", "-0.55", "nan", NUL, "1e+20", "2.6", "-5", "1");
    EXPECT(t, OP(MOD, COL("m"), I(1)), TS_T_DECIMAL, "0.50", "-0.05", "0.00", NUL, "0.45", "0.50", "-0.50", "0.00");
    EXPECT(t, OP(DIV, COL("i"), COL("j")), TS_T_FLOAT64, "3.5", "-3.5", "nan", NUL, "9.22337203685478e+18", NUL,
           "-3.33333333333333", "-inf");
    /* dates */
    EXPECT(t, OP(ADD, COL("dt"), I(30)), TS_T_DATE, "2021-01-31", "2020-03-30", "1970-01-31", NUL, "2022-01-30",
           "2024-04-09", "1970-01-30", "2000-02-02");
    EXPECT(t, OP(ADD, I(30), COL("dt")), TS_T_DATE, "2021-01-31", "2020-03-30", "1970-01-31", NUL, "2022-01-30",
           "2024-04-09", "1970-01-30", "2000-02-02");
    EXPECT(t, OP(SUB, COL("dt"), I(1)), TS_T_DATE, "2020-12-31", "2020-02-28", "1969-12-31", NUL, "2021-12-30",
           "2024-03-09", "1969-12-30", "2000-01-02");
    EXPECT(t, OP(SUB, COL("dt"), date_lit(2020, 1, 1)), TS_T_INT64, "366", "59", "-18262", NUL, "730", "1530",
           "-18263", "-7303");
    EXPECT_ERR(t, OP(ADD, COL("dt"), COL("dt")), TS_ERR_USAGE, "'+'");
    EXPECT_ERR(t, OP(ADD, COL("dt"), I(2100000000)), TS_ERR_DATA, "date out of range");
    /* math functions */
    EXPECT(t, OP(ABS, COL("i"), NULL), TS_T_INT64, "7", "7", "0", NUL, "9223372036854775807", "3", "10", "3");
    EXPECT(t, OP(ABS, COL("f"), NULL), TS_T_FLOAT64, "2.5", "0.5", "nan", NUL, "1e+20", "0.1", "2.5", "0");
    EXPECT(t, OP(ABS, COL("m"), NULL), TS_T_DECIMAL, "15230.50", "0.05", "0.00", NUL, "123.45", "2.50", "2.50", "1.00");
    EXPECT(t, OP(SIGN, COL("f"), NULL), TS_T_INT64, "1", "-1", "0", NUL, "1", "1", "-1", "0");
    EXPECT(t, OP(SIGN, COL("i"), NULL), TS_T_INT64, "1", "-1", "0", NUL, "1", "1", "1", "-1");
    EXPECT(t, OP(ROUND, COL("f"), NULL), TS_T_FLOAT64, "3", "-1", "nan", NUL, "1e+20", "0", "-3", "0");
    EXPECT(t, OP(ROUND, COL("f"), I(1)), TS_T_FLOAT64, "2.5", "-0.5", "nan", NUL, "1e+20", "0.1", "-2.5", "0");
    EXPECT(t, OP(ROUND, COL("f"), I(-1)), TS_T_FLOAT64, "0", "-0", "nan", NUL, "1e+20", "0", "-0", "0");
    EXPECT(t, OP(ROUND, ts_x_decimal(14950, 2), I(-2)), TS_T_DECIMAL, "100", "100", "100", "100", "100", "100", "100",
           "100");
    EXPECT(t, OP(ROUND, COL("j"), I(-1)), TS_T_INT64, "0", "0", "0", "10", "0", NUL, "0", "0");
    EXPECT(t, OP(ROUND, COL("m"), I(1)), TS_T_DECIMAL, "15230.5", "-0.1", "0.0", NUL, "123.5", "2.5", "-2.5", "1.0");
    EXPECT(t, OP(ROUND, COL("m"), NULL), TS_T_DECIMAL, "15231", "0", "0", NUL, "123", "3", "-3", "1");
    EXPECT(t, OP(ROUND, COL("m"), I(-2)), TS_T_DECIMAL, "15200", "0", "0", NUL, "100", "0", "0", "0");
    EXPECT(t, OP(ROUND, COL("i"), I(3)), TS_T_INT64, "7", "-7", "0", NUL, "9223372036854775807", "3", "10", "-3");
    EXPECT_ERR(t, OP(ROUND, COL("i"), I(-1)), TS_ERR_DATA, "overflow");
    EXPECT(t, OP(FLOOR, COL("m"), NULL), TS_T_DECIMAL, "15230", "-1", "0", NUL, "123", "2", "-3", "1");
    EXPECT(t, OP(CEIL, COL("m"), NULL), TS_T_DECIMAL, "15231", "0", "0", NUL, "124", "3", "-2", "1");
    EXPECT(t, OP(FLOOR, COL("f"), NULL), TS_T_FLOAT64, "2", "-1", "nan", NUL, "1e+20", "0", "-3", "0");
    EXPECT(t, OP(CEIL, COL("f"), NULL), TS_T_FLOAT64, "3", "-0", "nan", NUL, "1e+20", "1", "-2", "0");
    EXPECT(t, OP(POW, COL("j"), I(2)), TS_T_FLOAT64, "4", "4", "0", "25", "1", NUL, "9", "0");
    EXPECT(t, FN(CASE, OP(GE, COL("f"), I(0)), OP(SQRT, COL("f"), NULL)), TS_T_FLOAT64, "1.58113883008419", NUL, "nan",
           NUL, "10000000000", "0.316227766016838", NUL, "0");
    EXPECT_ERR(t, OP(SQRT, COL("f"), NULL), TS_ERR_DATA, "square root of a negative");
    EXPECT_ERR(t, OP(LN, COL("j"), NULL), TS_ERR_DATA, "logarithm of zero");
    EXPECT_ERR(t, OP(LOG10, COL("f"), NULL), TS_ERR_DATA, "logarithm of a negative");
    EXPECT(t, FN(CASE, OP(GT, COL("j"), I(0)), OP(LN, COL("j"), NULL)), TS_T_FLOAT64, "0.693147180559945",
           "0.693147180559945", NUL, "1.6094379124341", "0", NUL, NUL, NUL);
    EXPECT(t, OP(LOG10, OP(POW, I(10), COL("j")), NULL), TS_T_FLOAT64, "2", "2", "0", "5", "1", NUL, "-3", "0");
    EXPECT(t, OP(EXP, OP(SUB, COL("j"), COL("j")), NULL), TS_T_FLOAT64, "1", "1", "1", "1", "1", NUL, "1", "1");
}

static void test_logic(const ts_table *t)
{
    EXPECT(t, FN(CASE, OP(GT, COL("i"), I(5)), S("big"), OP(LT, COL("i"), I(0)), S("neg")), TS_T_STRING, "big", "neg",
           NUL, NUL, "big", NUL, "big", "neg");
    EXPECT(t, FN(CASE, COL("b"), COL("i"), COL("f")), TS_T_FLOAT64, "7", "-0.5", "0", NUL, "1e+20", "3", "-2.5", "-3");
    EXPECT(t, FN(CASE, COL("b"), ts_x_null(), COL("s")), TS_T_STRING, NUL, "abc", NUL, NUL, "  pad  ", NUL, "ABC", NUL);
    EXPECT(t, FN(CASE, ts_x_null(), I(1), ts_x_bool(0), I(2)), TS_T_INT64, NUL, NUL, NUL, NUL, NUL, NUL, NUL, NUL);
    EXPECT(t, FN(CASE, COL("b"), COL("d"), COL("d")), TS_T_DICT, "success", "failed", "pending", NUL, "zeta", "failed",
           "success", "pending");
    EXPECT(t, FN(CASE, COL("b"), COL("d"), S("-")), TS_T_STRING, "success", "-", "pending", "-", "-", "failed", "-",
           "pending");
    EXPECT(t, FN(COALESCE, COL("i"), COL("j"), I(42)), TS_T_INT64, "7", "-7", "0", "5", "9223372036854775807", "3",
           "10", "-3");
    EXPECT(t, FN(COALESCE, COL("d"), S("none")), TS_T_STRING, "success", "failed", "pending", "none", "zeta", "failed",
           "success", "pending");
    EXPECT(t, FN(COALESCE, COL("d"), COL("d")), TS_T_DICT, "success", "failed", "pending", NUL, "zeta", "failed",
           "success", "pending");
    EXPECT(t, FN(COALESCE, ts_x_null(), ts_x_null()), TS_T_INT64, NUL, NUL, NUL, NUL, NUL, NUL, NUL, NUL);
    EXPECT(t, FN(COALESCE, COL("dt"), S("1999-01-01")), TS_T_DATE, "2021-01-01", "2020-02-29", "1970-01-01",
           "1999-01-01", "2021-12-31", "2024-03-10", "1969-12-31", "2000-01-03");
    EXPECT(t, OP(NULLIF, COL("i"), I(0)), TS_T_INT64, "7", "-7", NUL, NUL, "9223372036854775807", "3", "10", "-3");
    EXPECT(t, OP(NULLIF, COL("d"), S("failed")), TS_T_DICT, "success", NUL, "pending", NUL, "zeta", NUL, "success",
           "pending");
    EXPECT(t, OP(NULLIF, COL("j"), ts_x_null()), TS_T_INT64, "2", "2", "0", "5", "1", NUL, "-3", "0");
    EXPECT(t, OP(GREATEST, COL("i"), COL("j")), TS_T_INT64, "7", "2", "0", "5", "9223372036854775807", "3", "10", "0");
    EXPECT(t, FN(LEAST, COL("i"), COL("j"), I(1)), TS_T_INT64, "1", "-7", "0", "1", "1", "1", "-3", "-3");
    EXPECT(t, OP(GREATEST, COL("s"), S("b")), TS_T_STRING, "h\xc3\xa9llo", "b", "b", "b", "b", "b", "b", "x_y");
    EXPECT(t, OP(LEAST, COL("f"), COL("m")), TS_T_FLOAT64, "2.5", "-0.5", "0", NUL, "123.45", "0.1", "-2.5", "0");
    EXPECT(t, OP(GREATEST, COL("f"), I(0)), TS_T_FLOAT64, "2.5", "0", "nan", "0", "1e+20", "0.1", "0", "0");
    EXPECT(t, FN(GREATEST, ts_x_null(), ts_x_null()), TS_T_INT64, NUL, NUL, NUL, NUL, NUL, NUL, NUL, NUL);
    /* laziness: a failing CAST is only evaluated where SQL evaluates it */
    EXPECT(t, FN(COALESCE, COL("j"), ts_x_cast(COL("t"), TS_T_INT64, 0, 0)), TS_T_INT64, "2", "2", "0", "5", "1", "-3",
           "-3", "0");
    EXPECT(t, OP(AND, OP(GT, COL("i"), I(100)), OP(GT, ts_x_cast(COL("t"), TS_T_INT64, 0, 0), I(0))), TS_T_BOOL,
           "false", "false", "false", NUL, "true", "false", "false", "false");
    EXPECT(t, OP(OR, OP(LT, COL("i"), I(100)), OP(GT, ts_x_cast(COL("t"), TS_T_INT64, 0, 0), I(0))), TS_T_BOOL, "true",
           "true", "true", NUL, "true", "true", "true", "true");
    EXPECT(t, FN(CASE, OP(EQ, COL("t"), S("abc")), I(0), ts_x_cast(COL("t"), TS_T_INT64, 0, 1)), TS_T_INT64,
           "12", "7", "0", NUL, "3", "-3", "1000", NUL);
    EXPECT_ERR(t, FN(CASE, OP(EQ, COL("i"), I(0)), ts_x_cast(COL("t"), TS_T_INT64, 0, 0)), TS_ERR_DATA, "'abc'");
    EXPECT(t, FN(CASE, OP(EQ, COL("i"), I(1)), ts_x_cast(S("x"), TS_T_INT64, 0, 0), I(0)), TS_T_INT64, "0", "0", "0",
           "0", "0", "0", "0", "0");
    EXPECT(t, OP(IS_NULL, COL("s"), NULL), TS_T_BOOL, "false", "false", "false", "true", "false", "false", "false",
           "false");
    EXPECT(t, OP(NOT, COL("b"), NULL), TS_T_BOOL, "false", "true", "false", NUL, "true", "false", "true", "false");
    EXPECT(t, OP(AND, COL("b"), ts_x_null()), TS_T_BOOL, NUL, "false", NUL, NUL, "false", NUL, "false", NUL);
    EXPECT(t, OP(OR, ts_x_null(), COL("b")), TS_T_BOOL, "true", NUL, "true", NUL, NUL, "true", NUL, "true");
}

static void test_strings(const ts_table *t)
{
    EXPECT(t, FN(CONCAT, COL("s"), S("|"), COL("d")), TS_T_STRING, "h\xc3\xa9llo|success", "abc|failed", "|pending",
           NUL, "  pad  |zeta", "a%c|failed", "ABC|success", "x_y|pending");
    EXPECT(t, OP(CONCAT, COL("i"), COL("dt")), TS_T_STRING, "72021-01-01", "-72020-02-29", "01970-01-01", NUL,
           "92233720368547758072021-12-31", "32024-03-10", "101969-12-31", "-32000-01-03");
    EXPECT(t, FN(CONCAT_FN, COL("s"), ts_x_null(), COL("d")), TS_T_STRING, "h\xc3\xa9llosuccess", "abcfailed",
           "pending", "", "  pad  zeta", "a%cfailed", "ABCsuccess", "x_ypending");
    EXPECT(t, FN(CONCAT_FN, COL("b"), S("/"), COL("m")), TS_T_STRING, "true/15230.50", "false/-0.05", "true/0.00", "/",
           "false/123.45", "true/2.50", "false/-2.50", "true/1.00");
    EXPECT(t, OP(UPPER, COL("s"), NULL), TS_T_STRING, "H\xc3\xa9LLO", "ABC", "", NUL, "  PAD  ", "A%C", "ABC", "X_Y");
    EXPECT(t, OP(LOWER, COL("d"), NULL), TS_T_STRING, "success", "failed", "pending", NUL, "zeta", "failed", "success",
           "pending");
    EXPECT(t, OP(TRIM, COL("s"), NULL), TS_T_STRING, "h\xc3\xa9llo", "abc", "", NUL, "pad", "a%c", "ABC", "x_y");
    EXPECT(t, OP(LTRIM, COL("s"), NULL), TS_T_STRING, "h\xc3\xa9llo", "abc", "", NUL, "pad  ", "a%c", "ABC", "x_y");
    EXPECT(t, OP(RTRIM, COL("s"), NULL), TS_T_STRING, "h\xc3\xa9llo", "abc", "", NUL, "  pad", "a%c", "ABC", "x_y");
    EXPECT(t, OP(TRIM, COL("s"), S("ax")), TS_T_STRING, "h\xc3\xa9llo", "bc", "", NUL, "  pad  ", "%c", "ABC", "_y");
    EXPECT(t, OP(LTRIM, COL("s"), S("h\xc3\xa9")), TS_T_STRING, "llo", "abc", "", NUL, "  pad  ", "a%c", "ABC", "x_y");
    EXPECT(t, OP(RTRIM, COL("s"), S("lo")), TS_T_STRING, "h\xc3\xa9", "abc", "", NUL, "  pad  ", "a%c", "ABC", "x_y");
    EXPECT(t, OP(LENGTH, COL("s"), NULL), TS_T_INT64, "5", "3", "0", NUL, "7", "3", "3", "3");
    EXPECT(t, FN(SUBSTR, COL("s"), I(2), I(3)), TS_T_STRING, "\xc3\xa9ll", "bc", "", NUL, " pa", "%c", "BC", "_y");
    EXPECT(t, OP(SUBSTR, COL("s"), I(-2)), TS_T_STRING, "lo", "bc", "", NUL, "  ", "%c", "BC", "_y");
    EXPECT(t, FN(SUBSTR, COL("s"), I(0), I(2)), TS_T_STRING, "h", "a", "", NUL, " ", "a", "A", "x");
    EXPECT(t, FN(SUBSTR, COL("s"), I(3), I(-2)), TS_T_STRING, "h\xc3\xa9", "ab", "", NUL, "  ", "a%", "AB", "x_");
    EXPECT(t, FN(SUBSTR, COL("s"), I(-7), I(4)), TS_T_STRING, "h\xc3\xa9", "", "", NUL, "  pa", "", "", "");
    EXPECT(t, FN(SUBSTR, COL("s"), I(2), I(INT64_MAX)), TS_T_STRING, "\xc3\xa9llo", "bc", "", NUL, " pad  ", "%c", "BC",
           "_y");
    /* extreme positions saturate instead of overflowing: [count + 1 + INT64_MIN, count) keeps count - 1 */
    EXPECT(t, FN(SUBSTR, COL("s"), I(INT64_MIN), I(INT64_MAX)), TS_T_STRING, "h\xc3\xa9ll", "ab", "", NUL, "  pad ",
           "a%", "AB", "x_");
    EXPECT(t, FN(SUBSTR, COL("s"), COL("j"), I(1)), TS_T_STRING, "\xc3\xa9", "b", "", NUL, " ", NUL, "A", "");
    EXPECT(t, OP(LEFT, COL("s"), I(2)), TS_T_STRING, "h\xc3\xa9", "ab", "", NUL, "  ", "a%", "AB", "x_");
    EXPECT(t, OP(LEFT, COL("s"), I(-1)), TS_T_STRING, "h\xc3\xa9ll", "ab", "", NUL, "  pad ", "a%", "AB", "x_");
    EXPECT(t, OP(RIGHT, COL("s"), I(2)), TS_T_STRING, "lo", "bc", "", NUL, "  ", "%c", "BC", "_y");
    EXPECT(t, OP(RIGHT, COL("s"), I(-1)), TS_T_STRING, "\xc3\xa9llo", "bc", "", NUL, " pad  ", "%c", "BC", "_y");
    EXPECT(t, OP(RIGHT, COL("s"), I(INT64_MIN)), TS_T_STRING, "", "", "", NUL, "", "", "", "");
    EXPECT(t, FN(REPLACE, COL("s"), S("l"), S("LL")), TS_T_STRING, "h\xc3\xa9LLLLo", "abc", "", NUL, "  pad  ", "a%c",
           "ABC", "x_y");
    EXPECT(t, FN(REPLACE, COL("s"), S("a"), S("")), TS_T_STRING, "h\xc3\xa9llo", "bc", "", NUL, "  pd  ", "%c", "ABC",
           "x_y");
    EXPECT(t, FN(REPLACE, COL("s"), S(""), S("x")), TS_T_STRING, "h\xc3\xa9llo", "abc", "", NUL, "  pad  ", "a%c",
           "ABC", "x_y");
    EXPECT(t, FN(REPLACE, COL("d"), S("e"), COL("s")), TS_T_STRING, "succh\xc3\xa9lloss", "failabcd", "pnding", NUL,
           "z  pad  ta", "faila%cd", "succABCss", "px_ynding");
    EXPECT(t, OP(REVERSE, COL("s"), NULL), TS_T_STRING, "oll\xc3\xa9h", "cba", "", NUL, "  dap  ", "c%a", "CBA", "y_x");
    EXPECT(t, OP(STARTS_WITH, COL("s"), S("a")), TS_T_BOOL, "false", "true", "false", NUL, "false", "true", "false",
           "false");
    EXPECT(t, OP(CONTAINS, COL("s"), S("b")), TS_T_BOOL, "false", "true", "false", NUL, "false", "false", "false",
           "false");
    EXPECT(t, OP(CONTAINS, COL("d"), S("ed")), TS_T_BOOL, "false", "true", "false", NUL, "false", "true", "false",
           "false");
    EXPECT(t, OP(STARTS_WITH, COL("d"), COL("s")), TS_T_BOOL, "false", "false", "true", NUL, "false", "false", "false",
           "false");
    EXPECT(t, OP(REGEXP_MATCHES, COL("s"), S("^[a-z]+$")), TS_T_BOOL, "false", "true", "false", NUL, "false", "false",
           "false", "false");
    EXPECT(t, OP(REGEXP_MATCHES, COL("d"), S("e[ds]")), TS_T_BOOL, "true", "true", "false", NUL, "false", "true",
           "true", "false");
    EXPECT(t, OP(REGEXP_MATCHES, COL("s"), S("")), TS_T_BOOL, "true", "true", "true", NUL, "true", "true", "true",
           "true");
    EXPECT(t, OP(REGEXP_MATCHES, COL("s"), ts_x_null()), TS_T_BOOL, NUL, NUL, NUL, NUL, NUL, NUL, NUL, NUL);
}

static void test_like(const ts_table *t)
{
    EXPECT(t, OP(LIKE, COL("s"), S("a%")), TS_T_BOOL, "false", "true", "false", NUL, "false", "true", "false", "false");
    EXPECT(t, OP(ILIKE, COL("s"), S("a%")), TS_T_BOOL, "false", "true", "false", NUL, "false", "true", "true", "false");
    EXPECT(t, OP(LIKE, COL("s"), S("%")), TS_T_BOOL, "true", "true", "true", NUL, "true", "true", "true", "true");
    EXPECT(t, OP(LIKE, COL("s"), S("")), TS_T_BOOL, "false", "false", "true", NUL, "false", "false", "false", "false");
    EXPECT(t, OP(LIKE, COL("s"), S("_")), TS_T_BOOL, "false", "false", "false", NUL, "false", "false", "false",
           "false");
    EXPECT(t, OP(LIKE, COL("s"), S("h_llo")), TS_T_BOOL, "true", "false", "false", NUL, "false", "false", "false",
           "false");
    EXPECT(t, OP(LIKE, COL("s"), S("___")), TS_T_BOOL, "false", "true", "false", NUL, "false", "true", "true", "true");
    EXPECT(t, OP(LIKE, COL("s"), S("%_%")), TS_T_BOOL, "true", "true", "false", NUL, "true", "true", "true", "true");
    EXPECT(t, OP(LIKE, COL("s"), S("a%c")), TS_T_BOOL, "false", "true", "false", NUL, "false", "true", "false",
           "false");
    EXPECT(t, OP(LIKE, COL("s"), S("%y")), TS_T_BOOL, "false", "false", "false", NUL, "false", "false", "false",
           "true");
    EXPECT(t, OP(LIKE, COL("s"), S("%pad%")), TS_T_BOOL, "false", "false", "false", NUL, "true", "false", "false",
           "false");
    EXPECT(t, OP(LIKE, COL("s"), S("%%%")), TS_T_BOOL, "true", "true", "true", NUL, "true", "true", "true", "true");
    EXPECT(t, OP(LIKE, COL("s"), S("%l%o")), TS_T_BOOL, "true", "false", "false", NUL, "false", "false", "false",
           "false");
    EXPECT(t, OP(LIKE, COL("s"), S("a\\%c")), TS_T_BOOL, "false", "false", "false", NUL, "false", "false", "false",
           "false"); /* no escape character: the backslash is literal */
    EXPECT(t, OP(LIKE, COL("d"), S("s%")), TS_T_BOOL, "true", "false", "false", NUL, "false", "false", "true", "false");
    EXPECT(t, OP(ILIKE, COL("d"), S("P%G")), TS_T_BOOL, "false", "false", "true", NUL, "false", "false", "false",
           "true");
    EXPECT(t, OP(LIKE, COL("d"), COL("s")), TS_T_BOOL, "false", "false", "false", NUL, "false", "false", "false",
           "false");
    EXPECT(t, OP(LIKE, S("abc"), COL("s")), TS_T_BOOL, "false", "true", "false", NUL, "false", "true", "false",
           "false");
    EXPECT(t, OP(LIKE, COL("s"), ts_x_null()), TS_T_BOOL, NUL, NUL, NUL, NUL, NUL, NUL, NUL, NUL);
    /* the kernel directly */
    CHECK(ts_like("", 0, "", 0, 0) && !ts_like("a", 1, "", 0, 0), "empty pattern");
    CHECK(ts_like("abc", 3, "a%b%c%", 6, 0) && !ts_like("acb", 3, "a%b%c", 5, 0), "several %%");
    CHECK(ts_like("aaab", 4, "%a_b", 4, 0) && !ts_like("ab", 2, "%a_b", 4, 0), "backtracking");
    CHECK(ts_like("mississippi", 11, "%iss%ipp%", 9, 0) && !ts_like("mississippi", 11, "%iss%ipp__", 10, 0), "general");
    CHECK(ts_like("ABCabc", 6, "abc%ABC", 7, 1) && !ts_like("ABCab", 5, "abc%ABC", 7, 1), "ILIKE prefix and suffix");
    CHECK(ts_like("\xc3\xa9", 2, "_", 1, 0) && !ts_like("\xc3\xa9", 2, "__", 2, 0), "'_' is one code point");
}

static void test_compare(const ts_table *t)
{
    EXPECT(t, OP(LT, COL("d"), S("p")), TS_T_BOOL, "false", "true", "false", NUL, "false", "true", "false", "false");
    EXPECT(t, OP(GE, S("pending"), COL("d")), TS_T_BOOL, "false", "true", "true", NUL, "false", "true", "false",
           "true");
    EXPECT(t, OP(GE, COL("d"), COL("s")), TS_T_BOOL, "true", "true", "true", NUL, "true", "true", "true", "false");
    EXPECT(t, OP(GT, COL("s"), S("abc")), TS_T_BOOL, "true", "false", "false", NUL, "false", "false", "false", "true");
    EXPECT(t, OP(LE, COL("s"), S("")), TS_T_BOOL, "false", "false", "true", NUL, "false", "false", "false", "false");
    EXPECT(t, OP(NE, COL("s"), COL("s")), TS_T_BOOL, "false", "false", "false", NUL, "false", "false", "false",
           "false");
    EXPECT(t, OP(GT, COL("d"), COL("d")), TS_T_BOOL, "false", "false", "false", NUL, "false", "false", "false",
           "false");
    EXPECT(t, OP(GT, COL("dt"), S("2021-01-01")), TS_T_BOOL, "false", "false", "false", NUL, "true", "true", "false",
           "false");
    EXPECT(t, OP(EQ, COL("dt"), date_lit(2020, 2, 29)), TS_T_BOOL, "false", "true", "false", NUL, "false", "false",
           "false", "false");
    EXPECT(t, OP(LT, COL("dt"), I(0)), TS_T_BOOL, "false", "false", "false", NUL, "false", "false", "true", "false");
    EXPECT(t, OP(EQ, COL("b"), ts_x_bool(1)), TS_T_BOOL, "true", "false", "true", NUL, "false", "true", "false",
           "true");
    EXPECT(t, OP(GT, COL("m"), I(100)), TS_T_BOOL, "true", "false", "false", NUL, "true", "false", "false", "false");
    EXPECT(t, OP(EQ, COL("m"), F(2.5)), TS_T_BOOL, "false", "false", "false", NUL, "false", "true", "false", "false");
    EXPECT(t, OP(LT, COL("m"), COL("i")), TS_T_BOOL, "false", "false", "false", NUL, "true", "true", "true", "false");
    EXPECT(t, OP(EQ, COL("m"), ts_x_decimal(25, 1)), TS_T_BOOL, "false", "false", "false", NUL, "false", "true",
           "false", "false");
    EXPECT(t, OP(GE, COL("m"), S("2.5")), TS_T_BOOL, "true", "false", "false", NUL, "true", "true", "false", "false");
    EXPECT(t, OP(EQ, COL("f"), COL("f")), TS_T_BOOL, "true", "true", "true", NUL, "true", "true", "true", "true");
    EXPECT(t, OP(GT, COL("f"), F(1e308)), TS_T_BOOL, "false", "false", "true", NUL, "false", "false", "false", "false");
    EXPECT(t, OP(EQ, COL("i"), ts_x_null()), TS_T_BOOL, NUL, NUL, NUL, NUL, NUL, NUL, NUL, NUL);
    EXPECT(t, OP(EQ, COL("i"), S("7")), TS_T_BOOL, "true", "false", "false", NUL, "false", "false", "false", "false");
    EXPECT_ERR(t, OP(GT, COL("dt"), S("not a date")), TS_ERR_USAGE, "'not a date'");
    EXPECT_ERR(t, OP(EQ, COL("dt"), COL("ds")), TS_ERR_DATA, "'2020-02-30'"); /* the strings are read as dates */
    EXPECT(t, OP(AND, OP(LIKE, COL("ds"), S("1999%")), OP(LT, COL("dt"), COL("ds"))), TS_T_BOOL, "false", "false",
           "false", NUL, "false", "false", "false", "false");
    EXPECT_ERR(t, OP(EQ, COL("i"), COL("s")), TS_ERR_USAGE, "incompatible");
    EXPECT_ERR(t, OP(EQ, COL("b"), I(1)), TS_ERR_USAGE, "incompatible");
}

static ts_expr *in_list(ts_expr *x, ts_expr **items, int n)
{
    ts_expr *args[64];
    args[0] = x;
    memcpy(args + 1, items, sizeof *items * (size_t)n);
    return ts_x_func(TS_X_IN, args, n + 1);
}
#define IN(x, ...) in_list(x, (ts_expr *[]){__VA_ARGS__}, (int)(sizeof((ts_expr *[]){__VA_ARGS__}) / sizeof(ts_expr *)))

static void test_in(const ts_table *t)
{
    EXPECT(t, IN(COL("i"), I(7), I(10), ts_x_null()), TS_T_BOOL, "true", NUL, NUL, NUL, NUL, NUL, "true", NUL);
    EXPECT(t, IN(COL("i"), I(7), I(10)), TS_T_BOOL, "true", "false", "false", NUL, "false", "false", "true", "false");
    EXPECT(t, IN(COL("i"), F(7.0), F(2.5), ts_x_decimal(1000, 2)), TS_T_BOOL, "true", "false", "false", NUL, "false",
           "false", "true", "false");
    EXPECT(t, IN(COL("d"), S("failed"), S("zeta")), TS_T_BOOL, "false", "true", "false", NUL, "true", "true", "false",
           "false");
    EXPECT(t, IN(COL("d"), S("nope"), ts_x_null()), TS_T_BOOL, NUL, NUL, NUL, NUL, NUL, NUL, NUL, NUL);
    EXPECT(t, IN(COL("s"), S("abc"), S("ABC"), S("x")), TS_T_BOOL, "false", "true", "false", NUL, "false", "false",
           "true", "false");
    EXPECT(t, IN(COL("f"), F(0.1), F(2.5), F(NAN)), TS_T_BOOL, "true", "false", "true", NUL, "false", "true", "false",
           "false");
    EXPECT(t, IN(COL("dt"), S("2021-01-01"), S("2000-01-03")), TS_T_BOOL, "true", "false", "false", NUL, "false",
           "false", "false", "true");
    EXPECT(t, IN(COL("m"), F(2.5), I(1), ts_x_decimal(-5, 2)), TS_T_BOOL, "false", "true", "false", NUL, "false",
           "true", "false", "true");
    EXPECT(t, IN(COL("i"), COL("j"), I(3)), TS_T_BOOL, "false", "false", "true", NUL, "false", "true", "false",
           "false");
    EXPECT(t, IN(COL("i"), COL("j"), ts_x_null()), TS_T_BOOL, NUL, NUL, "true", NUL, NUL, NUL, NUL, NUL);
    EXPECT(t, IN(COL("s"), COL("d"), S("abc")), TS_T_BOOL, "false", "true", "false", NUL, "false", "false", "false",
           "false");
    EXPECT(t, IN(ts_x_null(), I(1), I(2)), TS_T_BOOL, NUL, NUL, NUL, NUL, NUL, NUL, NUL, NUL);
    EXPECT(t, IN(COL("f"), F(-0.0), I(1000000)), TS_T_BOOL, "false", "false", "false", NUL, "false", "false", "false",
           "true");
    EXPECT(t, IN(COL("i"), I(INT64_MAX), I(INT64_MIN), I(-7)), TS_T_BOOL, "false", "true", "false", NUL, "true",
           "false", "false", "false");
    EXPECT(t, OP(NOT, IN(COL("j"), I(0), ts_x_null()), NULL), TS_T_BOOL, NUL, NUL, "false", NUL, NUL, NUL, NUL,
           "false");
    EXPECT_ERR(t, IN(COL("i"), S("x")), TS_ERR_USAGE, "IN");
    EXPECT_ERR(t, IN(COL("d"), I(1)), TS_ERR_USAGE, "incompatible");
}

static void test_casts(const ts_table *t)
{
    EXPECT_ERR(t, ts_x_cast(COL("t"), TS_T_INT64, 0, 0), TS_ERR_DATA, "could not convert string 'abc' to INT64");
    EXPECT(t, ts_x_cast(COL("t"), TS_T_INT64, 0, 1), TS_T_INT64, "12", "7", NUL, NUL, "3", "-3", "1000", NUL);
    EXPECT(t, ts_x_cast(COL("t"), TS_T_FLOAT64, 0, 1), TS_T_FLOAT64, "12", "7", NUL, NUL, "2.5", "-2.5", "1000",
           "9.22337203685478e+18");
    EXPECT(t, ts_x_cast(COL("t"), TS_T_DECIMAL, 2, 1), TS_T_DECIMAL, "12.00", "7.00", NUL, NUL, "2.50", "-2.50",
           "1000.00", NUL);
    EXPECT(t, ts_x_cast(COL("t"), TS_T_BOOL, 0, 1), TS_T_BOOL, NUL, NUL, NUL, NUL, NUL, NUL, NUL, NUL);
    EXPECT(t, ts_x_cast(COL("ds"), TS_T_DATE, 0, 1), TS_T_DATE, "2021-03-04", "2021-03-04", "2021-03-04", NUL, NUL,
           "1999-12-31", "0021-01-02", NUL);
    EXPECT_ERR(t, ts_x_cast(COL("ds"), TS_T_DATE, 0, 0), TS_ERR_DATA, "'2020-02-30'");
    EXPECT(t, ts_x_cast(COL("i"), TS_T_STRING, 0, 0), TS_T_STRING, "7", "-7", "0", NUL, "9223372036854775807", "3",
           "10", "-3");
    EXPECT(t, ts_x_cast(COL("f"), TS_T_STRING, 0, 0), TS_T_STRING, "2.5", "-0.5", "nan", NUL, "1e+20", "0.1", "-2.5",
           "0.0");
    EXPECT(t, ts_x_cast(COL("m"), TS_T_STRING, 0, 0), TS_T_STRING, "15230.50", "-0.05", "0.00", NUL, "123.45", "2.50",
           "-2.50", "1.00");
    EXPECT(t, ts_x_cast(COL("dt"), TS_T_STRING, 0, 0), TS_T_STRING, "2021-01-01", "2020-02-29", "1970-01-01", NUL,
           "2021-12-31", "2024-03-10", "1969-12-31", "2000-01-03");
    EXPECT(t, ts_x_cast(COL("b"), TS_T_STRING, 0, 0), TS_T_STRING, "true", "false", "true", NUL, "false", "true",
           "false", "true");
    EXPECT(t, ts_x_cast(COL("d"), TS_T_STRING, 0, 0), TS_T_STRING, "success", "failed", "pending", NUL, "zeta",
           "failed", "success", "pending");
    EXPECT_ERR(t, ts_x_cast(COL("f"), TS_T_INT64, 0, 0), TS_ERR_DATA, "nan");
    EXPECT(t, ts_x_cast(COL("f"), TS_T_INT64, 0, 1), TS_T_INT64, "2", "0", NUL, NUL, NUL, "0", "-2", "0");
    EXPECT(t, ts_x_cast(COL("m"), TS_T_INT64, 0, 0), TS_T_INT64, "15231", "0", "0", NUL, "123", "3", "-3", "1");
    EXPECT_ERR(t, ts_x_cast(COL("i"), TS_T_INT32, 0, 0), TS_ERR_DATA, "INT32");
    EXPECT(t, ts_x_cast(COL("i"), TS_T_INT32, 0, 1), TS_T_INT64, "7", "-7", "0", NUL, NUL, "3", "10", "-3");
    EXPECT_ERR(t, ts_x_cast(COL("i"), TS_T_DECIMAL, 1, 0), TS_ERR_DATA, "9223372036854775807");
    EXPECT(t, ts_x_cast(COL("i"), TS_T_DECIMAL, 1, 1), TS_T_DECIMAL, "7.0", "-7.0", "0.0", NUL, NUL, "3.0", "10.0",
           "-3.0");
    EXPECT(t, ts_x_cast(COL("m"), TS_T_DECIMAL, 1, 0), TS_T_DECIMAL, "15230.5", "-0.1", "0.0", NUL, "123.5", "2.5",
           "-2.5", "1.0");
    EXPECT(t, ts_x_cast(COL("f"), TS_T_DECIMAL, 1, 1), TS_T_DECIMAL, "2.5", "-0.5", NUL, NUL, NUL, "0.1", "-2.5",
           "0.0");
    EXPECT(t, ts_x_cast(COL("i"), TS_T_BOOL, 0, 0), TS_T_BOOL, "true", "true", "false", NUL, "true", "true", "true",
           "true");
    EXPECT(t, ts_x_cast(COL("b"), TS_T_INT64, 0, 0), TS_T_INT64, "1", "0", "1", NUL, "0", "1", "0", "1");
    EXPECT(t, ts_x_cast(COL("b"), TS_T_FLOAT64, 0, 0), TS_T_FLOAT64, "1", "0", "1", NUL, "0", "1", "0", "1");
    EXPECT(t, ts_x_cast(ts_x_cast(COL("f"), TS_T_STRING, 0, 0), TS_T_FLOAT64, 0, 0), TS_T_FLOAT64, "2.5", "-0.5", "nan",
           NUL, "1e+20", "0.1", "-2.5", "0");
    EXPECT(t, ts_x_cast(S("2021-3-4"), TS_T_DATE, 0, 0), TS_T_DATE, "2021-03-04", "2021-03-04", "2021-03-04",
           "2021-03-04", "2021-03-04", "2021-03-04", "2021-03-04", "2021-03-04");
    EXPECT(t, ts_x_cast(ts_x_null(), TS_T_STRING, 0, 0), TS_T_STRING, NUL, NUL, NUL, NUL, NUL, NUL, NUL, NUL);
    EXPECT_ERR(t, ts_x_cast(COL("s"), TS_T_FLOAT64, 0, 0), TS_ERR_DATA, "'h\xc3\xa9llo'");
    EXPECT_ERR(t, ts_x_cast(COL("dt"), TS_T_INT64, 0, 0), TS_ERR_USAGE, "cannot cast DATE");
    EXPECT_ERR(t, ts_x_cast(COL("i"), TS_T_DICT, 0, 0), TS_ERR_USAGE, "dictionary");
    EXPECT_ERR(t, ts_x_cast(COL("m"), TS_T_DECIMAL, 19, 0), TS_ERR_USAGE, "scale");
    /* booleans spelled as DuckDB accepts them */
    const char *const words[] = {"true", "T", "yes", "Y", "1", "false", "f", "NO", "n", "0", " true", "2"};
    const char *const want[] = {"true",  "true",  "true",  "true",  "true", "false",
                                "false", "false", "false", "false", "NULL", "NULL"};
    for (int k = 0; k < 12; k++) {
        ts_column *c = NULL;
        ts_expr *e = ts_x_cast(S(words[k]), TS_T_BOOL, 0, 1);
        if (CHECK_OK(ts_expr_eval(e, t, "b", &c))) {
            char got[16];
            cell(c, 0, got, sizeof got);
            CHECK(strcmp(got, want[k]) == 0, "TRY_CAST('%s' AS BOOLEAN) = %s, expected %s", words[k], got, want[k]);
            ts_column_free(c);
        }
        ts_expr_free(e);
    }
    /* doubles print in the shortest form that reads back, as DuckDB */
    const double xs[] = {0.1, 1e20, 1e15, 1e16, 123456789.125, 1.0 / 3, -0.0, 1e-5, 0.0001, 100.0, 5e-324, -1.5e300,
                         1e100, INFINITY, -INFINITY, 1.2345678901234568e17, 2.5e-5};
    const char *const xw[] = {"0.1", "1e+20", "1000000000000000.0", "1e+16", "123456789.125", "0.3333333333333333",
                              "-0.0", "1e-05", "0.0001", "100.0", "5e-324", "-1.5e+300", "1e+100", "inf", "-inf",
                              "1.2345678901234568e+17", "2.5e-05"};
    for (int k = 0; k < (int)(sizeof xs / sizeof xs[0]); k++) {
        ts_column *c = NULL;
        ts_expr *e = ts_x_cast(F(xs[k]), TS_T_STRING, 0, 0);
        if (CHECK_OK(ts_expr_eval(e, t, "x", &c))) {
            char got[64];
            cell(c, 0, got, sizeof got);
            CHECK(strcmp(got, xw[k]) == 0, "CAST(%.17g AS VARCHAR) = '%s', expected '%s'", xs[k], got, xw[k]);
            ts_column_free(c);
        }
        ts_expr_free(e);
    }
}

/* Doubles as text, by properties computed here: the text reads back exactly, has the fewest significant digits
 * that do, and uses an exponent exactly when the decimal exponent is below -4 or at least 16 (Python's repr). */
static void test_double_text(void)
{
    enum { N = 4000 };
    static double v[N];
    ts_test_rng r = ts_rng_seed(99);
    for (int i = 0; i < N; i++) {
        const int kind = (int)ts_rng_below(&r, 4);
        const double u = (double)(ts_rng_next(&r) >> 11) / 9007199254740992.0;
        v[i] = kind == 0 ? (double)ts_rng_range(&r, -100000, 100000) / 100 /* money */
               : kind == 1 ? (double)ts_rng_range(&r, -4000, 4000) / 8
               : kind == 2 ? (u - 0.5) * pow(10, (double)ts_rng_range(&r, -30, 30))
                           : u * pow(10, (double)ts_rng_range(&r, -8, 20));
    }
    ts_table *t = new_table("doubles");
    add_floats(t, "x", v, NULL, N);
    ts_column *c = NULL;
    ts_expr *e = ts_x_cast(COL("x"), TS_T_STRING, 0, 0);
    if (CHECK_OK(ts_expr_eval(e, t, "s", &c))) {
        long bad = 0;
        for (int i = 0; i < N; i++) {
            char got[64], tmp[64];
            cell(c, i, got, sizeof got);
            int fewest = 1;
            while (fewest < 17 && (snprintf(tmp, sizeof tmp, "%.*e", fewest - 1, v[i]), strtod(tmp, NULL) != v[i]))
                fewest++;
            const int x10 = atoi(strchr(tmp, 'e') + 1);
            char digits[64]; /* significant digits: all digits of the mantissa, without leading and trailing zeros */
            int nd = 0, first = 0;
            for (const char *p = got; *p && *p != 'e'; p++)
                if (*p >= '0' && *p <= '9')
                    digits[nd++] = *p;
            while (first < nd && digits[first] == '0')
                first++;
            while (nd > first && digits[nd - 1] == '0')
                nd--;
            const int sig = nd - first;
            const int ok = strtod(got, NULL) == v[i] && (v[i] == 0 || sig <= fewest) &&
                           (strchr(got, 'e') != NULL) == (v[i] != 0 && (x10 < -4 || x10 >= 16));
            if (!ok && bad++ < 5)
                CHECK(0, "CAST(%.17g AS VARCHAR) = '%s' (fewest digits %d, exponent %d)", v[i], got, fewest, x10);
        }
        CHECK(bad == 0, "double text: %ld values wrong", bad);
        ts_column_free(c);
    }
    ts_expr_free(e);
    ts_table_free(t);
}

static void test_dates(const ts_table *t)
{
    EXPECT(t, OP(DATE_TRUNC, S("month"), COL("dt")), TS_T_DATE, "2021-01-01", "2020-02-01", "1970-01-01", NUL,
           "2021-12-01", "2024-03-01", "1969-12-01", "2000-01-01");
    EXPECT(t, OP(DATE_TRUNC, S("week"), COL("dt")), TS_T_DATE, "2020-12-28", "2020-02-24", "1969-12-29", NUL,
           "2021-12-27", "2024-03-04", "1969-12-29", "2000-01-03");
    EXPECT(t, OP(DATE_TRUNC, S("quarter"), COL("dt")), TS_T_DATE, "2021-01-01", "2020-01-01", "1970-01-01", NUL,
           "2021-10-01", "2024-01-01", "1969-10-01", "2000-01-01");
    EXPECT(t, OP(DATE_TRUNC, S("YEAR"), COL("dt")), TS_T_DATE, "2021-01-01", "2020-01-01", "1970-01-01", NUL,
           "2021-01-01", "2024-01-01", "1969-01-01", "2000-01-01");
    EXPECT(t, OP(DATE_TRUNC, S("day"), COL("dt")), TS_T_DATE, "2021-01-01", "2020-02-29", "1970-01-01", NUL,
           "2021-12-31", "2024-03-10", "1969-12-31", "2000-01-03");
    EXPECT(t, OP(DATE_TRUNC, S("decade"), COL("dt")), TS_T_DATE, "2020-01-01", "2020-01-01", "1970-01-01", NUL,
           "2020-01-01", "2020-01-01", "1960-01-01", "2000-01-01");
    EXPECT(t, OP(DATE_PART, S("dow"), COL("dt")), TS_T_INT64, "5", "6", "4", NUL, "5", "0", "3", "1");
    EXPECT(t, OP(DATE_PART, S("isodow"), COL("dt")), TS_T_INT64, "5", "6", "4", NUL, "5", "7", "3", "1");
    EXPECT(t, OP(DATE_PART, S("doy"), COL("dt")), TS_T_INT64, "1", "60", "1", NUL, "365", "70", "365", "3");
    EXPECT(t, OP(DATE_PART, S("week"), COL("dt")), TS_T_INT64, "53", "9", "1", NUL, "52", "10", "1", "1");
    EXPECT(t, OP(DATE_PART, S("isoyear"), COL("dt")), TS_T_INT64, "2020", "2020", "1970", NUL, "2021", "2024", "1970",
           "2000");
    EXPECT(t, OP(DATE_PART, S("quarter"), COL("dt")), TS_T_INT64, "1", "1", "1", NUL, "4", "1", "4", "1");
    EXPECT(t, OP(DATE_PART, S("epoch"), COL("dt")), TS_T_FLOAT64, "1609459200", "1582934400", "0", NUL, "1640908800",
           "1710028800", "-86400", "946857600");
    EXPECT(t, OP(DATE_PART, S("year"), COL("dt")), TS_T_INT64, "2021", "2020", "1970", NUL, "2021", "2024", "1969",
           "2000");
    EXPECT(t, OP(DATE_PART, S("month"), COL("dt")), TS_T_INT64, "1", "2", "1", NUL, "12", "3", "12", "1");
    EXPECT(t, OP(DATE_PART, S("day"), COL("dt")), TS_T_INT64, "1", "29", "1", NUL, "31", "10", "31", "3");
    EXPECT(t, OP(DATE_PART, S("century"), COL("dt")), TS_T_INT64, "21", "21", "20", NUL, "21", "21", "20", "20");
    EXPECT(t, OP(DATE_PART, ts_x_null(), COL("dt")), TS_T_INT64, NUL, NUL, NUL, NUL, NUL, NUL, NUL, NUL);
    EXPECT(t, OP(STRFTIME, COL("dt"), S("%Y/%m/%d %a %b %j")), TS_T_STRING, "2021/01/01 Fri Jan 001",
           "2020/02/29 Sat Feb 060", "1970/01/01 Thu Jan 001", NUL, "2021/12/31 Fri Dec 365", "2024/03/10 Sun Mar 070",
           "1969/12/31 Wed Dec 365", "2000/01/03 Mon Jan 003");
    EXPECT(t, OP(STRFTIME, COL("dt"), S("%A %B %-d, %y %%")), TS_T_STRING, "Friday January 1, 21 %",
           "Saturday February 29, 20 %", "Thursday January 1, 70 %", NUL, "Friday December 31, 21 %",
           "Sunday March 10, 24 %", "Wednesday December 31, 69 %", "Monday January 3, 00 %");
    EXPECT(t, OP(STRFTIME, ts_x_date(ts_days_from_civil(21, 1, 5)), S("%Y|%-m|%-j")), TS_T_STRING, "0021|1|5",
           "0021|1|5", "0021|1|5", "0021|1|5", "0021|1|5", "0021|1|5", "0021|1|5", "0021|1|5");
    EXPECT(t, FN(CASE, OP(AND, OP(LIKE, COL("ds"), S("%-%")), OP(NE, COL("ds"), S("2020-02-30"))),
                 OP(STRPTIME, COL("ds"), S("%Y-%m-%d"))),
           TS_T_TIMESTAMP, "2021-03-04 00:00:00.000000", "2021-03-04 00:00:00.000000", NUL, NUL, NUL, "1999-12-31 00:00:00.000000", "0021-01-02 00:00:00.000000", NUL);
    EXPECT_ERR(t, OP(STRPTIME, COL("ds"), S("%Y-%m-%d")), TS_ERR_DATA, "could not parse '2021/03/04'");
    EXPECT_ERR(t, FN(CASE, OP(EQ, COL("i"), I(INT64_MAX)), OP(STRPTIME, COL("ds"), S("%Y-%m-%d"))), TS_ERR_DATA,
               "no such date or time: '2020-02-30'");
    EXPECT(t, OP(STRPTIME, S("04/mar/21"), S("%d/%b/%y")), TS_T_TIMESTAMP, "2021-03-04 00:00:00.000000", "2021-03-04 00:00:00.000000", "2021-03-04 00:00:00.000000",
           "2021-03-04 00:00:00.000000", "2021-03-04 00:00:00.000000", "2021-03-04 00:00:00.000000", "2021-03-04 00:00:00.000000", "2021-03-04 00:00:00.000000");
    EXPECT(t, OP(STRPTIME, S("March 4  1969"), S("%B %d %Y")), TS_T_TIMESTAMP, "1969-03-04 00:00:00.000000", "1969-03-04 00:00:00.000000", "1969-03-04 00:00:00.000000",
           "1969-03-04 00:00:00.000000", "1969-03-04 00:00:00.000000", "1969-03-04 00:00:00.000000", "1969-03-04 00:00:00.000000", "1969-03-04 00:00:00.000000");
    EXPECT(t, OP(STRPTIME, S("20210304 %"), S("%Y%m%d %%")), TS_T_TIMESTAMP, "2021-03-04 00:00:00.000000", "2021-03-04 00:00:00.000000", "2021-03-04 00:00:00.000000",
           "2021-03-04 00:00:00.000000", "2021-03-04 00:00:00.000000", "2021-03-04 00:00:00.000000", "2021-03-04 00:00:00.000000", "2021-03-04 00:00:00.000000");
    EXPECT(t, OP(STRPTIME, S("2024 060"), S("%Y %j")), TS_T_TIMESTAMP, "2024-02-29 00:00:00.000000", "2024-02-29 00:00:00.000000", "2024-02-29 00:00:00.000000",
           "2024-02-29 00:00:00.000000", "2024-02-29 00:00:00.000000", "2024-02-29 00:00:00.000000", "2024-02-29 00:00:00.000000", "2024-02-29 00:00:00.000000");
    EXPECT(t, OP(STRPTIME, S("1/1/68"), S("%m/%d/%y")), TS_T_TIMESTAMP, "2068-01-01 00:00:00.000000", "2068-01-01 00:00:00.000000", "2068-01-01 00:00:00.000000",
           "2068-01-01 00:00:00.000000", "2068-01-01 00:00:00.000000", "2068-01-01 00:00:00.000000", "2068-01-01 00:00:00.000000", "2068-01-01 00:00:00.000000");
    EXPECT(t, OP(MONTH_START, COL("dt"), NULL), TS_T_DATE, "2021-01-01", "2020-02-01", "1970-01-01", NUL, "2021-12-01",
           "2024-03-01", "1969-12-01", "2000-01-01");
    EXPECT(t, OP(YEAR, S("2021-06-30"), NULL), TS_T_INT64, "2021", "2021", "2021", "2021", "2021", "2021", "2021",
           "2021");
    EXPECT_ERR(t, OP(DATE_PART, S("fortnight"), COL("dt")), TS_ERR_USAGE, "unknown date part 'fortnight'");
    EXPECT_ERR(t, OP(DATE_PART, COL("s"), COL("dt")), TS_ERR_USAGE, "string constant");
    EXPECT_ERR(t, OP(DATE_TRUNC, S("dow"), COL("dt")), TS_ERR_USAGE, "cannot truncate");
    EXPECT_ERR(t, OP(STRFTIME, COL("dt"), S("%Y %q")), TS_ERR_USAGE, "'%q'");
    EXPECT_ERR(t, OP(STRPTIME, COL("ds"), COL("ds")), TS_ERR_USAGE, "constant");
    EXPECT(t, OP(STRPTIME, S("2024-02-29 23:59:58.25"), S("%Y-%m-%d %H:%M:%S.%f")), TS_T_TIMESTAMP,
           "2024-02-29 23:59:58.250000", "2024-02-29 23:59:58.250000", "2024-02-29 23:59:58.250000",
           "2024-02-29 23:59:58.250000", "2024-02-29 23:59:58.250000", "2024-02-29 23:59:58.250000",
           "2024-02-29 23:59:58.250000", "2024-02-29 23:59:58.250000");
    EXPECT(t, OP(STRPTIME, S("12:05 AM 1/2/1969"), S("%I:%M %p %m/%d/%Y")), TS_T_TIMESTAMP,
           "1969-01-02 00:05:00.000000", "1969-01-02 00:05:00.000000", "1969-01-02 00:05:00.000000",
           "1969-01-02 00:05:00.000000", "1969-01-02 00:05:00.000000", "1969-01-02 00:05:00.000000",
           "1969-01-02 00:05:00.000000", "1969-01-02 00:05:00.000000");
    EXPECT_ERR(t, OP(STRPTIME, S("13:00 PM 1/2/1969"), S("%I:%M %p %m/%d/%Y")), TS_ERR_DATA, "no such date or time");
    EXPECT_ERR(t, OP(YEAR, COL("i"), NULL), TS_ERR_USAGE, "year: argument 1 must be a date");
}

static void test_bind_errors(const ts_table *t)
{
    EXPECT_ERR(t, ts_x_func(TS_X_SUBSTR, (ts_expr *[]){COL("s")}, 1), TS_ERR_USAGE, "substr: expects 2 or 3 arguments");
    EXPECT_ERR(t, ts_x_func(TS_X_ABS, (ts_expr *[]){COL("i"), COL("j")}, 2), TS_ERR_USAGE, "abs: expects 1 argument,");
    EXPECT_ERR(t, OP(UPPER, COL("i"), NULL), TS_ERR_USAGE, "upper: argument 1 must be a string");
    EXPECT_ERR(t, FN(SUBSTR, COL("s"), COL("s")), TS_ERR_USAGE, "substr: argument 2 must be an integer");
    EXPECT_ERR(t, OP(ADD, COL("i"), COL("s")), TS_ERR_USAGE, "'+'");
    EXPECT_ERR(t, OP(REGEXP_MATCHES, COL("s"), COL("s")), TS_ERR_USAGE, "must be a constant");
    EXPECT_ERR(t, OP(REGEXP_MATCHES, COL("s"), S("(")), TS_ERR_USAGE, "bad pattern");
    EXPECT_ERR(t, FN(CASE, COL("i"), I(1)), TS_ERR_USAGE, "CASE needs boolean operands: argument 1");
    EXPECT_ERR(t, FN(CASE, COL("b"), I(1), S("x")), TS_ERR_USAGE, "CASE: argument 3");
    EXPECT_ERR(t, FN(COALESCE, COL("i"), COL("s")), TS_ERR_USAGE, "COALESCE: argument 2");
    EXPECT_ERR(t, FN(COALESCE, COL("i"), S("x")), TS_ERR_USAGE, "COALESCE: argument 2");
    EXPECT_ERR(t, OP(ROUND, COL("m"), COL("j")), TS_ERR_USAGE, "round: argument 2 must be a constant");
    EXPECT_ERR(t, OP(NOT, COL("i"), NULL), TS_ERR_USAGE, "NOT");
    EXPECT_ERR(t, OP(SQRT, COL("s"), NULL), TS_ERR_USAGE, "sqrt: argument 1 must be a number");
    EXPECT_ERR(t, ts_x_op(TS_X_CAST, COL("i"), NULL), TS_ERR_USAGE, "no target type");
    /* builders: a NULL child gives NULL (and frees the rest); the argument array is copied */
    CHECK(ts_x_op(TS_X_ADD, NULL, ts_x_int(1)) == NULL, "NULL child");
    CHECK(FN(CONCAT, S("a"), NULL, S("b")) == NULL, "NULL argument of ts_x_func");
    CHECK(ts_x_cast(NULL, TS_T_INT64, 0, 0) == NULL, "NULL cast operand");
    ts_expr *args[2] = {S("a"), S("b")};
    ts_expr *e = ts_x_func(TS_X_CONCAT, args, 2);
    args[0] = args[1] = NULL;
    EXPECT(t, e, TS_T_STRING, "ab", "ab", "ab", "ab", "ab", "ab", "ab", "ab");
    int64_t *rows = NULL, n = 0;
    e = OP(ADD, COL("i"), I(1));
    CHECK(ts_expr_select(e, t, &rows, &n) == TS_ERR_USAGE && !rows, "a filter must be boolean");
    ts_expr_free(e);
    e = OP(GT, OP(ADD, COL("i"), I(1)), I(0));
    CHECK(ts_expr_select(e, t, &rows, &n) == TS_ERR_DATA && !rows && n == 0, "a filter's data error");
    ts_expr_free(e);
    e = OP(AND, OP(LIKE, COL("s"), S("%c")), OP(LE, COL("m"), I(5)));
    if (CHECK_OK(ts_expr_select(e, t, &rows, &n))) {
        CHECK(n == 2 && rows[0] == 1 && rows[1] == 5, "select LIKE AND: %lld rows", (long long)n);
        ts_free(rows);
    }
    ts_expr_free(e);
    CHECK(strcmp(ts_expr_op_name(TS_X_SUBSTR), "substr") == 0 && strcmp(ts_expr_op_name(TS_X_MOD), "%") == 0,
          "operator names");
}

/* INT32 columns widen to INT64; DECIMAL columns of different scales compare and add exactly. */
static void test_widths(void)
{
    ts_table *t = new_table("widths");
    const int64_t n32[3] = {2147483647, -2147483647 - 1, 5}, d2[3] = {100, -150, 12345}, d4[3] = {10000, -15001, 0};
    add_ints(t, "n32", TS_T_INT32, 0, n32, NULL, 3);
    add_ints(t, "d2", TS_T_DECIMAL, 2, d2, NULL, 3);
    add_ints(t, "d4", TS_T_DECIMAL, 4, d4, NULL, 3);
    EXPECT(t, OP(ADD, COL("n32"), I(1)), TS_T_INT64, "2147483648", "-2147483647", "6");
    EXPECT(t, OP(MUL, COL("n32"), COL("n32")), TS_T_INT64, "4611686014132420609", "4611686018427387904", "25");
    EXPECT(t, OP(EQ, COL("d2"), COL("d4")), TS_T_BOOL, "true", "false", "false");
    EXPECT(t, OP(GT, COL("d2"), COL("d4")), TS_T_BOOL, "false", "true", "true");
    EXPECT(t, OP(SUB, COL("d2"), COL("d4")), TS_T_DECIMAL, "0.0000", "0.0001", "123.4500");
    EXPECT(t, OP(GT, COL("d2"), COL("n32")), TS_T_BOOL, "false", "true", "true");
    EXPECT(t, ts_x_cast(COL("n32"), TS_T_INT32, 0, 0), TS_T_INT64, "2147483647", "-2147483648", "5");
    ts_table_free(t);
}

static void test_types(const ts_table *t)
{
    struct { ts_expr *e; ts_type type; int scale; } cases[] = {
        {OP(CONCAT, COL("s"), COL("d")), TS_T_STRING, 0},
        {OP(MUL, COL("m"), COL("m")), TS_T_DECIMAL, 4},
        {OP(ADD, COL("m"), ts_x_decimal(1, 3)), TS_T_DECIMAL, 3},
        {COL("d"), TS_T_DICT, 0},
        {OP(NULLIF, COL("d"), S("x")), TS_T_DICT, 0},
        {FN(COALESCE, COL("d"), S("x")), TS_T_STRING, 0},
        {OP(ADD, COL("dt"), I(1)), TS_T_DATE, 0},
        {OP(SUB, COL("dt"), COL("dt")), TS_T_INT64, 0},
        {OP(DIV, COL("i"), COL("j")), TS_T_FLOAT64, 0},
        {ts_x_null(), TS_T_INT64, 0},
        {OP(LIKE, COL("d"), S("x")), TS_T_BOOL, 0},
        {OP(ROUND, COL("m"), I(1)), TS_T_DECIMAL, 1},
        {ts_x_cast(COL("i"), TS_T_DECIMAL, 5, 0), TS_T_DECIMAL, 5},
        {OP(STRFTIME, COL("dt"), S("%Y")), TS_T_STRING, 0},
        {FN(CASE, COL("b"), COL("i"), COL("m")), TS_T_DECIMAL, 2},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        ts_type type;
        int scale;
        if (CHECK_OK(ts_expr_type(cases[k].e, t, &type, &scale)))
            CHECK(type == cases[k].type && scale == cases[k].scale, "type case %zu: %d(%d), expected %d(%d)", k, type,
                  scale, cases[k].type, cases[k].scale);
        ts_expr_free(cases[k].e);
    }
}

/* ---- string results over several vectors ------------------------------------------------------------------- */

#define BIG 5000
static const char *const BVALUES[] = {"alpha", "beta", "gamma", "delta", "eps"};

typedef struct brow {
    int64_t k;
    char s[24];
    int32_t d, dt;
    int vk, vs, vd, vdt;
} brow;
static brow B[BIG];

static ts_table *big_table(ts_dict *dict)
{
    ts_table *t = new_table("big");
    static int64_t k[BIG], dt[BIG];
    static int nk[BIG], ndt[BIG];
    static const char *s[BIG];
    static int32_t d[BIG];
    for (int i = 0; i < BIG; i++) {
        brow *r = &B[i];
        r->k = i, r->vk = i % 13 != 5;
        snprintf(r->s, sizeof r->s, i % 17 == 0 ? "" : i % 7 == 0 ? "r%d\xc3\xa9" : "r%d", i);
        r->vs = i % 11 != 3;
        r->d = i % 5, r->vd = i % 19 != 4;
        r->dt = 18000 + 3 * i - 5000, r->vdt = i % 23 != 0;
        k[i] = r->k, nk[i] = !r->vk, s[i] = r->vs ? r->s : NUL, d[i] = r->vd ? r->d : -1, dt[i] = r->dt;
        ndt[i] = !r->vdt;
    }
    add_ints(t, "k", TS_T_INT64, 0, k, nk, BIG);
    add_strings(t, "s", s, BIG);
    add_dict(t, "d", dict, d, BIG);
    add_ints(t, "dt", TS_T_DATE, 0, dt, ndt, BIG);
    return t;
}

/* Expected text of row i into buf, or 0 for NULL. */
typedef int (*want_fn)(const brow *r, char *buf);

static void check_big(const char *what, const ts_table *t, ts_expr *e, ts_type type, want_fn want)
{
    ts_column *c = NULL;
    const ts_err err = ts_expr_eval(e, t, "out", &c);
    CHECK(err == TS_OK, "%s: error %s", what, ts_error_headline());
    ts_expr_free(e);
    if (err)
        return;
    CHECK(c->type == type && c->len == BIG, "%s: type %d, %lld rows", what, c->type, (long long)c->len);
    long bad = 0;
    for (int i = 0; i < BIG && i < c->len; i++) {
        char w[256], got[256];
        const int valid = want(&B[i], w);
        cell(c, i, got, sizeof got);
        if (strcmp(valid ? w : "NULL", got) != 0 && bad++ < 3)
            CHECK(0, "%s row %d: got '%s', expected '%s'", what, i, got, valid ? w : "NULL");
    }
    CHECK(bad == 0, "%s: %ld rows differ", what, bad);
    if (c->type == TS_T_STRING) {
        const int64_t *off = TS_COL(c, int64_t);
        int mono = off[0] == 0 && off[c->len] == c->nbytes;
        for (int64_t i = 0; i < c->len; i++)
            mono &= off[i + 1] >= off[i];
        CHECK(mono, "%s: offsets are not a valid STRING column", what);
    }
    ts_column_free(c);
}

/* Naive helpers, written independently of the engine. */
static int code_points(const char *s, int *starts) /* byte offset of each code point, returns the count */
{
    int n = 0;
    for (int i = 0; s[i]; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80)
            starts[n++] = i;
    starts[n] = (int)strlen(s);
    return n;
}

static int naive_like(const char *s, const char *p)
{
    if (!*p)
        return !*s;
    if (*p == '%')
        return naive_like(s, p + 1) || (*s && naive_like(s + 1, p));
    if (!*s)
        return 0;
    if (*p == '_') {
        int len = 1;
        while (((unsigned char)s[len] & 0xC0) == 0x80)
            len++;
        return naive_like(s + len, p + 1);
    }
    return *p == *s && naive_like(s + 1, p + 1);
}

static int w_upper_k(const brow *r, char *b)
{
    if (!r->vs || !r->vk)
        return 0;
    int n = 0;
    for (const char *p = r->s; *p; p++)
        b[n++] = *p >= 'a' && *p <= 'z' ? (char)(*p - 32) : *p;
    sprintf(b + n, ":%lld", (long long)r->k);
    return 1;
}
static int w_substr(const brow *r, char *b)
{
    int st[32];
    const int n = code_points(r->s, st);
    const int from = n >= 2 ? st[1] : st[n], to = n >= 4 ? st[4] : st[n]; /* characters 2..4 */
    sprintf(b, "%.*s", to - from, r->s + from);
    return r->vs;
}
static int w_length(const brow *r, char *b)
{
    int st[32];
    sprintf(b, "%d", code_points(r->s, st));
    return r->vs;
}
static const char *g_pattern;
static int w_like(const brow *r, char *b)
{
    strcpy(b, naive_like(r->s, g_pattern) ? "true" : "false");
    return r->vs;
}
static int w_strftime(const brow *r, char *b)
{
    ts_format_date(r->dt, b);
    b[10] = 0;
    return r->vdt;
}
static int iso_p(int y) { return (y + y / 4 - y / 100 + y / 400) % 7; }
static int iso_weeks(int y) { return iso_p(y) == 4 || iso_p(y - 1) == 3 ? 53 : 52; }
static int w_week(const brow *r, char *b) /* ISO week by the ordinal-date formula */
{
    int y, m, d;
    ts_civil_from_days(r->dt, &y, &m, &d);
    const int doy = r->dt - ts_days_from_civil(y, 1, 1) + 1, dow = ((r->dt % 7) + 7 + 3) % 7 + 1; /* Mon = 1 */
    int w = (doy - dow + 10) / 7;
    w = w < 1 ? iso_weeks(y - 1) : w > iso_weeks(y) ? 1 : w;
    sprintf(b, "%d", w);
    return r->vdt;
}
static int w_roundtrip(const brow *r, char *b)
{
    sprintf(b, "%lld", (long long)r->k);
    return r->vk;
}
static int w_case_mix(const brow *r, char *b) /* a NULL condition takes the ELSE */
{
    if (r->vk && r->k % 2 == 0) {
        strcpy(b, r->s);
        return r->vs;
    }
    strcpy(b, BVALUES[r->d]);
    return r->vd;
}
static int w_dict_concat(const brow *r, char *b)
{
    sprintf(b, "%s%s", BVALUES[r->d], r->s);
    return r->vd && r->vs;
}
static int w_reverse(const brow *r, char *b)
{
    int st[32];
    const int n = code_points(r->s, st);
    int o = 0;
    for (int c = n - 1; c >= 0; c--)
        for (int i = st[c]; i < st[c + 1]; i++)
            b[o++] = r->s[i];
    b[o] = 0;
    return r->vs;
}
static int w_replace(const brow *r, char *b)
{
    int o = 0;
    for (const char *p = r->s; *p; p++)
        o += *p == '1' ? sprintf(b + o, "<>") : (b[o] = *p, 1);
    b[o] = 0;
    return r->vs;
}
static int w_concat_fn(const brow *r, char *b)
{
    sprintf(b, "%s%s", r->vs ? r->s : "", r->vd ? BVALUES[r->d] : "");
    return 1;
}
static int64_t g_list[300];
static int g_nlist, g_list_null;
static int w_in(const brow *r, char *b)
{
    int hit = 0;
    for (int k = 0; k < g_nlist; k++)
        hit |= g_list[k] == r->k;
    strcpy(b, hit ? "true" : "false");
    return r->vk && (hit || !g_list_null);
}
static int w_in_str(const brow *r, char *b)
{
    int hit = 0;
    for (int k = 0; k < g_nlist; k++) {
        char s[24];
        snprintf(s, sizeof s, "r%lld", (long long)g_list[k]);
        hit |= strcmp(s, r->s) == 0;
    }
    strcpy(b, hit ? "true" : "false");
    return r->vs;
}
static int w_in_dict(const brow *r, char *b)
{
    strcpy(b, r->d == 1 || r->d == 4 ? "true" : "false");
    return r->vd;
}

static void test_big(ts_dict *bdict)
{
    ts_table *t = big_table(bdict);
    check_big("upper(s) || ':' || k", t,
              FN(CONCAT, OP(UPPER, COL("s"), NULL), S(":"), ts_x_cast(COL("k"), TS_T_STRING, 0, 0)), TS_T_STRING,
              w_upper_k);
    check_big("substr(s, 2, 3)", t, FN(SUBSTR, COL("s"), I(2), I(3)), TS_T_STRING, w_substr);
    check_big("length(s)", t, OP(LENGTH, COL("s"), NULL), TS_T_INT64, w_length);
    const char *const patterns[] = {"r1%", "%7", "r_2%", "%\xc3\xa9", "%3%5%", "", "r__", "%", "_%_\xc3\xa9"};
    for (int k = 0; k < (int)(sizeof patterns / sizeof patterns[0]); k++) {
        char what[64];
        snprintf(what, sizeof what, "s LIKE '%s'", patterns[k]);
        g_pattern = patterns[k];
        check_big(what, t, OP(LIKE, COL("s"), S(patterns[k])), TS_T_BOOL, w_like);
    }
    check_big("strftime(dt)", t, OP(STRFTIME, COL("dt"), S("%Y-%m-%d")), TS_T_STRING, w_strftime);
    check_big("week(dt)", t, OP(DATE_PART, S("week"), COL("dt")), TS_T_INT64, w_week);
    check_big("TRY_CAST(CAST(k AS VARCHAR) AS BIGINT)", t,
              ts_x_cast(ts_x_cast(COL("k"), TS_T_STRING, 0, 0), TS_T_INT64, 0, 1), TS_T_INT64, w_roundtrip);
    check_big("CASE k % 2 = 0 THEN s ELSE d", t,
              FN(CASE, OP(EQ, OP(MOD, COL("k"), I(2)), I(0)), COL("s"), COL("d")), TS_T_STRING, w_case_mix);
    check_big("d || s", t, OP(CONCAT, COL("d"), COL("s")), TS_T_STRING, w_dict_concat);
    check_big("reverse(s)", t, OP(REVERSE, COL("s"), NULL), TS_T_STRING, w_reverse);
    check_big("replace(s, '1', '<>')", t, FN(REPLACE, COL("s"), S("1"), S("<>")), TS_T_STRING, w_replace);
    check_big("concat(s, NULL, d)", t, FN(CONCAT_FN, COL("s"), ts_x_null(), COL("d")), TS_T_STRING, w_concat_fn);
    /* long constant lists: sorted and searched */
    ts_test_rng rng = ts_rng_seed(5);
    for (int with_null = 0; with_null < 2; with_null++) {
        ts_expr *args[302];
        g_nlist = 250, g_list_null = with_null;
        args[0] = COL("k");
        for (int k = 0; k < g_nlist; k++)
            g_list[k] = ts_rng_range(&rng, -100, BIG + 100), args[k + 1] = I(g_list[k]);
        if (with_null)
            args[g_nlist + 1] = ts_x_null();
        check_big("k IN (250 constants)", t, ts_x_func(TS_X_IN, args, g_nlist + 1 + with_null), TS_T_BOOL, w_in);
    }
    { /* values far apart: the hash set rather than the bitmap */
        ts_expr *args[202];
        g_nlist = 200, g_list_null = 0;
        args[0] = COL("k");
        for (int k = 0; k < g_nlist; k++)
            g_list[k] = k % 2 ? ts_rng_range(&rng, 0, BIG) : (int64_t)ts_rng_next(&rng), args[k + 1] = I(g_list[k]);
        check_big("k IN (200 spread constants)", t, ts_x_func(TS_X_IN, args, g_nlist + 1), TS_T_BOOL, w_in);
    }
    ts_expr *sargs[61];
    g_nlist = 60, g_list_null = 0;
    sargs[0] = COL("s");
    for (int k = 0; k < g_nlist; k++) {
        char s[24];
        g_list[k] = ts_rng_range(&rng, 0, BIG * 2);
        snprintf(s, sizeof s, "r%lld", (long long)g_list[k]);
        sargs[k + 1] = S(s);
    }
    check_big("s IN (60 strings)", t, ts_x_func(TS_X_IN, sargs, g_nlist + 1), TS_T_BOOL, w_in_str);
    check_big("d IN ('beta', 'eps')", t, IN(COL("d"), S("beta"), S("eps"), S("zzz")), TS_T_BOOL, w_in_dict);
    ts_table_free(t);
}

/* ---- random trees against a naive row-at-a-time reference ---------------------------------------------------- */

#define RROWS 5000
enum { RT_INT, RT_DEC, RT_FLT, RT_BOOL };
enum { RC_A, RC_B, RC_F, RC_M, RC_N, RC_COUNT };
static const char *const RCOLS[RC_COUNT] = {"a", "b", "f", "m", "n"};
static const int RCOL_TYPE[RC_COUNT] = {RT_INT, RT_INT, RT_FLT, RT_DEC, RT_DEC}, RCOL_SCALE[RC_COUNT] = {0, 0, 0, 2, 3};

typedef struct rv {
    int t, s, null;
    int64_t i;
    double f;
} rv;

static rv RDATA[RC_COUNT][RROWS];

typedef struct rn {
    ts_expr_op op;
    int col;     /* TS_X_COL */
    rv c;        /* constants */
    int cmp;     /* comparison operator */
    struct rn *k[3];
    int nk;
    int t, s;    /* static result type */
} rn;

static int64_t p10(int s)
{
    int64_t p = 1;
    while (s--)
        p *= 10;
    return p;
}

static double as_f(rv v) { return v.t == RT_FLT ? v.f : v.t == RT_DEC ? (double)v.i / (double)p10(v.s) : (double)v.i; }

/* v at decimal scale s (v is INT or DEC with scale <= s); *ovf set on overflow. */
static int64_t as_scaled(rv v, int s, int *ovf)
{
    int64_t r;
    *ovf |= __builtin_mul_overflow(v.i, p10(s - (v.t == RT_DEC ? v.s : 0)), &r);
    return r;
}

/* Converts v to (t, s) as the engine's unification does. */
static rv convert(rv v, int t, int s, int *ovf)
{
    rv r = {t, s, v.null, 0, 0};
    if (v.null)
        return r;
    if (t == RT_FLT)
        r.f = as_f(v);
    else if (t == RT_DEC)
        r.i = as_scaled(v, s, ovf);
    else
        r.i = v.i;
    return r;
}

static void unify(const rn *x, const rn *y, int *t, int *s)
{
    *t = x->t == RT_FLT || y->t == RT_FLT ? RT_FLT : x->t == RT_DEC || y->t == RT_DEC ? RT_DEC : RT_INT;
    *s = *t == RT_DEC ? (x->s > y->s ? x->s : y->s) : 0;
}

static int sign_float(double x, double y)
{
    if (isnan(x) || isnan(y))
        return isnan(x) - isnan(y);
    return (x > y) - (x < y);
}

static int compare_rv(rv x, rv y)
{
    if (x.t == RT_FLT || y.t == RT_FLT)
        return sign_float(as_f(x), as_f(y));
    const int s = x.s > y.s ? x.s : y.s; /* exact: both at the larger scale, in 128 bits */
    const __int128 a = (__int128)x.i * p10(s - x.s), b = (__int128)y.i * p10(s - y.s);
    return (a > b) - (a < b);
}

static rv ref_eval(const rn *n, int row, int *ovf);

static rv ref_arith(const rn *n, rv x, rv y, int *ovf)
{
    rv r = {n->t, n->s, x.null || y.null, 0, 0};
    if (r.null)
        return r;
    if (n->t == RT_FLT) {
        const double a = as_f(x), b = as_f(y);
        switch (n->op) {
        case TS_X_ADD: r.f = a + b; break;
        case TS_X_SUB: r.f = a - b; break;
        case TS_X_MUL: r.f = a * b; break;
        case TS_X_MOD: r.f = fmod(a, b); break;
        default: r.f = a / b; break;
        }
        return r;
    }
    int64_t a = x.i, b = y.i;
    if (n->op != TS_X_MUL) { /* + - % at the common scale */
        a = as_scaled(x, n->s, ovf), b = as_scaled(y, n->s, ovf);
    }
    switch (n->op) {
    case TS_X_ADD: *ovf |= __builtin_add_overflow(a, b, &r.i); break;
    case TS_X_SUB: *ovf |= __builtin_sub_overflow(a, b, &r.i); break;
    case TS_X_MUL: *ovf |= __builtin_mul_overflow(a, b, &r.i); break;
    case TS_X_MOD:
        if (b == 0)
            r.null = 1;
        else
            r.i = b == -1 ? 0 : a % b;
        break;
    default: /* INTDIV of integers */
        if (b == 0)
            r.null = 1;
        else
            r.i = a / b;
        break;
    }
    return r;
}

static rv ref_eval(const rn *n, int row, int *ovf)
{
    rv r = {n->t, n->s, 0, 0, 0};
    switch (n->op) {
    case TS_X_COL: return RDATA[n->col][row];
    case TS_X_INT: case TS_X_FLOAT: case TS_X_DECIMAL: return n->c;
    case TS_X_NEG: case TS_X_ABS: {
        const rv x = ref_eval(n->k[0], row, ovf);
        r = x;
        if (!x.null && x.t == RT_FLT)
            r.f = n->op == TS_X_NEG ? -x.f : fabs(x.f);
        else if (!x.null)
            r.i = n->op == TS_X_NEG || x.i < 0 ? -x.i : x.i;
        return r;
    }
    case TS_X_CASE: {
        const rv c = ref_eval(n->k[0], row, ovf);
        const rv v = ref_eval(!c.null && c.i ? n->k[1] : n->k[2], row, ovf);
        return convert(v, n->t, n->s, ovf);
    }
    case TS_X_COALESCE: {
        const rv x = ref_eval(n->k[0], row, ovf);
        return convert(x.null ? ref_eval(n->k[1], row, ovf) : x, n->t, n->s, ovf);
    }
    case TS_X_EQ: {
        const rv x = ref_eval(n->k[0], row, ovf), y = ref_eval(n->k[1], row, ovf);
        r.null = x.null || y.null;
        if (!r.null) {
            const int c = compare_rv(x, y);
            const int res[6] = {c == 0, c != 0, c < 0, c <= 0, c > 0, c >= 0};
            r.i = res[n->cmp];
        }
        return r;
    }
    case TS_X_AND: case TS_X_OR: {
        const int is_and = n->op == TS_X_AND;
        const rv x = ref_eval(n->k[0], row, ovf);
        if (!x.null && (x.i != 0) != is_and) /* decided by the left side */
            return r.i = x.i != 0, r;
        const rv y = ref_eval(n->k[1], row, ovf);
        if (!y.null && (y.i != 0) != is_and)
            return r.i = y.i != 0, r;
        r.null = x.null || y.null, r.i = is_and;
        return r;
    }
    case TS_X_NOT: {
        const rv x = ref_eval(n->k[0], row, ovf);
        r.null = x.null, r.i = !x.i;
        return r;
    }
    case TS_X_IS_NULL: r.i = ref_eval(n->k[0], row, ovf).null; return r;
    default: {
        const rv x = ref_eval(n->k[0], row, ovf), y = ref_eval(n->k[1], row, ovf);
        return ref_arith(n, x, y, ovf);
    }
    }
}

static void rn_free(rn *n)
{
    if (n)
        for (int i = 0; i < n->nk; i++)
            rn_free(n->k[i]);
    free(n);
}

static rn *rn_new(ts_expr_op op, int nk)
{
    rn *n = calloc(1, sizeof *n);
    n->op = op, n->nk = nk;
    return n;
}

/* snprintf for the trees' texts (truncation is harmless there). */
static void say(char *out, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out, cap, fmt, ap);
    va_end(ap);
}

static rn *gen_bool(ts_test_rng *r, int depth, ts_expr **e, char *text, size_t cap);

/* A random numeric tree: the engine's expression in *e, its text in text, the reference tree returned. */
static rn *gen_num(ts_test_rng *r, int depth, ts_expr **e, char *text, size_t cap)
{
    const int kind = depth == 0 ? (int)ts_rng_below(r, 2) : (int)ts_rng_below(r, 12);
    rn *n;
    if (kind == 0) {
        n = rn_new(TS_X_COL, 0);
        n->col = (int)ts_rng_below(r, RC_COUNT), n->t = RCOL_TYPE[n->col], n->s = RCOL_SCALE[n->col];
        *e = COL(RCOLS[n->col]);
        say(text, cap, "%s", RCOLS[n->col]);
        return n;
    }
    if (kind == 1) {
        const int which = (int)ts_rng_below(r, 3);
        if (which == 0) {
            n = rn_new(TS_X_INT, 0);
            n->c = (rv){RT_INT, 0, 0, ts_rng_range(r, -5, 5), 0};
            *e = I(n->c.i);
            say(text, cap, "%lld", (long long)n->c.i);
        } else if (which == 1) {
            n = rn_new(TS_X_FLOAT, 0);
            n->c = (rv){RT_FLT, 0, 0, 0, (double)ts_rng_range(r, -20, 20) / 4};
            *e = F(n->c.f);
            say(text, cap, "%gf", n->c.f);
        } else {
            n = rn_new(TS_X_DECIMAL, 0);
            n->c = (rv){RT_DEC, 1, 0, ts_rng_range(r, -50, 50), 0};
            *e = ts_x_decimal(n->c.i, 1);
            say(text, cap, "%lldE-1", (long long)n->c.i);
        }
        n->t = n->c.t, n->s = n->c.s;
        return n;
    }
    static const ts_expr_op ops[] = {TS_X_ADD, TS_X_SUB, TS_X_MUL, TS_X_DIV, TS_X_MOD, TS_X_INTDIV, TS_X_NEG,
                                     TS_X_ABS, TS_X_CASE, TS_X_COALESCE};
    const ts_expr_op op = ops[kind - 2];
    char t1[4096], t2[4096], t3[4096];
    ts_expr *e1, *e2, *e3;
    if (op == TS_X_NEG || op == TS_X_ABS) {
        n = rn_new(op, 1);
        n->k[0] = gen_num(r, depth - 1, &e1, t1, sizeof t1);
        n->t = n->k[0]->t, n->s = n->k[0]->s;
        *e = ts_x_op(op, e1, NULL);
        say(text, cap, "%s(%s)", op == TS_X_NEG ? "-" : "abs", t1);
        return n;
    }
    if (op == TS_X_CASE) {
        n = rn_new(op, 3);
        n->k[0] = gen_bool(r, depth - 1, &e1, t1, sizeof t1);
        n->k[1] = gen_num(r, depth - 1, &e2, t2, sizeof t2);
        n->k[2] = gen_num(r, depth - 1, &e3, t3, sizeof t3);
        unify(n->k[1], n->k[2], &n->t, &n->s);
        *e = FN(CASE, e1, e2, e3);
        say(text, cap, "CASE WHEN %s THEN %s ELSE %s END", t1, t2, t3);
        return n;
    }
    n = rn_new(op, 2);
    n->k[0] = gen_num(r, depth - 1, &e1, t1, sizeof t1);
    n->k[1] = gen_num(r, depth - 1, &e2, t2, sizeof t2);
    const rn *x = n->k[0], *y = n->k[1];
    *e = ts_x_op(op, e1, e2);
    say(text, cap, "%s(%s, %s)", ts_expr_op_name(op), t1, t2);
    if (op == TS_X_MUL && x->t != RT_FLT && y->t != RT_FLT) {
        const int s = x->s + y->s;
        n->t = s > 18 ? RT_FLT : x->t == RT_DEC || y->t == RT_DEC ? RT_DEC : RT_INT, n->s = s > 18 ? 0 : s;
    } else if (op == TS_X_DIV || (op == TS_X_INTDIV && (x->t != RT_INT || y->t != RT_INT))) {
        n->t = RT_FLT, n->s = 0;
    } else {
        unify(x, y, &n->t, &n->s);
    }
    return n;
}

static rn *gen_bool(ts_test_rng *r, int depth, ts_expr **e, char *text, size_t cap)
{
    const int kind = depth == 0 ? 0 : (int)ts_rng_below(r, 5);
    char t1[4096], t2[4096];
    ts_expr *e1, *e2;
    rn *n;
    if (kind == 0) { /* comparison */
        static const ts_expr_op cmps[] = {TS_X_EQ, TS_X_NE, TS_X_LT, TS_X_LE, TS_X_GT, TS_X_GE};
        static const char *const names[] = {"=", "<>", "<", "<=", ">", ">="};
        n = rn_new(TS_X_EQ, 2);
        n->cmp = (int)ts_rng_below(r, 6);
        n->k[0] = gen_num(r, depth > 0 ? depth - 1 : 0, &e1, t1, sizeof t1);
        n->k[1] = gen_num(r, depth > 0 ? depth - 1 : 0, &e2, t2, sizeof t2);
        *e = ts_x_op(cmps[n->cmp], e1, e2);
        say(text, cap, "(%s %s %s)", t1, names[n->cmp], t2);
    } else if (kind <= 2) {
        n = rn_new(kind == 1 ? TS_X_AND : TS_X_OR, 2);
        n->k[0] = gen_bool(r, depth - 1, &e1, t1, sizeof t1);
        n->k[1] = gen_bool(r, depth - 1, &e2, t2, sizeof t2);
        *e = ts_x_op(n->op, e1, e2);
        say(text, cap, "(%s %s %s)", t1, kind == 1 ? "AND" : "OR", t2);
    } else if (kind == 3) {
        n = rn_new(TS_X_NOT, 1);
        n->k[0] = gen_bool(r, depth - 1, &e1, t1, sizeof t1);
        *e = ts_x_op(TS_X_NOT, e1, NULL);
        say(text, cap, "NOT %s", t1);
    } else {
        n = rn_new(TS_X_IS_NULL, 1);
        n->k[0] = gen_num(r, depth - 1, &e1, t1, sizeof t1);
        *e = ts_x_op(TS_X_IS_NULL, e1, NULL);
        say(text, cap, "%s IS NULL", t1);
    }
    n->t = RT_BOOL, n->s = 0;
    return n;
}

static ts_table *random_table(void)
{
    ts_test_rng r = ts_rng_seed(77);
    ts_table *t = new_table("rand");
    static int64_t iv[RROWS];
    static double fv[RROWS];
    static int nulls[RROWS];
    for (int c = 0; c < RC_COUNT; c++) {
        for (int i = 0; i < RROWS; i++) {
            rv *v = &RDATA[c][i];
            v->t = RCOL_TYPE[c], v->s = RCOL_SCALE[c], v->null = ts_rng_below(&r, 10) == 0;
            switch (c) {
            case RC_A: v->i = ts_rng_range(&r, -1000, 1000); break;
            case RC_B: v->i = ts_rng_range(&r, -20, 20); break;
            case RC_F: v->f = (double)ts_rng_range(&r, -400, 400) / 8; break;
            case RC_M: v->i = ts_rng_range(&r, -100000, 100000); break;
            default: v->i = ts_rng_range(&r, -50000, 50000); break;
            }
            iv[i] = v->i, fv[i] = v->f, nulls[i] = v->null;
        }
        if (c == RC_F)
            add_floats(t, RCOLS[c], fv, nulls, RROWS);
        else
            add_ints(t, RCOLS[c], c == RC_A || c == RC_B ? TS_T_INT64 : TS_T_DECIMAL, RCOL_SCALE[c], iv, nulls, RROWS);
    }
    return t;
}

static void test_random(void)
{
    ts_table *t = random_table();
    ts_test_rng r = ts_rng_seed(2024);
    long trees = 0, errors = 0;
    for (int it = 0; it < 600; it++) {
        char text[4096];
        ts_expr *e;
        const int boolean = it % 3 == 2;
        rn *n =
            boolean ? gen_bool(&r, 1 + it % 3, &e, text, sizeof text) : gen_num(&r, 1 + it % 3, &e, text, sizeof text);
        int ovf = 0;
        static rv want[RROWS];
        for (int i = 0; i < RROWS; i++)
            want[i] = ref_eval(n, i, &ovf);
        ts_column *c = NULL;
        const ts_err err = ts_expr_eval(e, t, "out", &c);
        trees++;
        if (ovf) { /* some evaluated row overflows: the engine must report it */
            errors++;
            CHECK(err == TS_ERR_DATA, "%s: expected an overflow error, got %d", text, err);
        } else if (err != TS_OK) {
            CHECK(0, "%s: error %s", text, ts_error_headline());
        } else {
            const ts_type type = n->t == RT_FLT    ? TS_T_FLOAT64
                                 : n->t == RT_DEC  ? TS_T_DECIMAL
                                 : n->t == RT_BOOL ? TS_T_BOOL
                                                   : TS_T_INT64;
            CHECK(c->type == type && (type != TS_T_DECIMAL || c->scale == n->s), "%s: type %d(%d), expected %d(%d)",
                  text, c->type, c->scale, type, n->s);
            long bad = 0;
            for (int i = 0; i < RROWS && c->type == type; i++) {
                const int valid = ts_column_is_valid(c, i);
                int same = valid == !want[i].null;
                if (same && valid) {
                    if (type == TS_T_FLOAT64) {
                        const double g = TS_COL(c, double)[i], w = want[i].f;
                        same = g == w || (isnan(g) && isnan(w));
                    } else if (type == TS_T_BOOL) {
                        same = TS_COL(c, uint8_t)[i] == (want[i].i != 0);
                    } else {
                        same = TS_COL(c, int64_t)[i] == want[i].i;
                    }
                }
                if (!same && bad++ < 2)
                    CHECK(0, "%s row %d: valid %d, expected valid %d value %lld / %g", text, i, valid, !want[i].null,
                          (long long)want[i].i, want[i].f);
            }
            CHECK(bad == 0, "%s: %ld rows differ", text, bad);
            if (boolean) { /* the same tree as a filter */
                int64_t *rows = NULL, cnt = 0, k = 0, wrong = 0;
                if (CHECK_OK(ts_expr_select(e, t, &rows, &cnt))) {
                    for (int i = 0; i < RROWS; i++)
                        if (!want[i].null && want[i].i)
                            wrong += k >= cnt || rows[k++] != i;
                    CHECK(wrong == 0 && k == cnt, "%s: filter differs", text);
                    ts_free(rows);
                }
            }
        }
        ts_column_free(c);
        ts_expr_free(e);
        rn_free(n);
    }
    CHECK(errors < trees / 2, "random trees: %ld of %ld overflowed (generator too wild)", errors, trees);
    ts_table_free(t);
}

int main(void)
{
    ts_dict *dict, *bdict;
    CHECK_OK(ts_dict_new(DVALUES, 4, &dict));
    CHECK_OK(ts_dict_new(BVALUES, 5, &bdict));
    ts_table *t = hand_table(dict);
    test_arith(t);
    test_logic(t);
    test_strings(t);
    test_like(t);
    test_compare(t);
    test_in(t);
    test_casts(t);
    test_double_text();
    test_dates(t);
    test_bind_errors(t);
    test_types(t);
    test_widths();
    ts_table_free(t);
    test_big(bdict);
    test_random();
    ts_dict_release(dict);
    ts_dict_release(bdict);
    return TS_TEST_DONE("test_expr_sql");
}
