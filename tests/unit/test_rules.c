/* io/ts_rules: the rules format (parse results and errors with their line numbers) and the scan behaviours it
 * enables (nullable fields, fail=null, date form subsets, ranges, patterns, string columns), checked by hand on
 * small CSV texts; plus the built-in bank rules reproduce domain.md's precedence. */
#include <stdlib.h>
#include <string.h>

#include "ts_builtin_rules.h"
#include "ts_date.h"
#include "ts_rules.h"
#include "ts_test.h"

static void test_builtin(void)
{
    ts_rules *r = NULL;
    if (!CHECK_OK(ts_rules_parse(ts_rules_bank_transactions, "builtin", &r)))
        return;
    CHECK(strcmp(r->table, "transactions") == 0, "table name");
    CHECK(r->nreasons == 7 && strcmp(r->reasons[0], "malformed_row") == 0 && strcmp(r->reasons[6], "duplicate") == 0,
          "seven reasons in domain.md's order");
    CHECK(r->duplicate_reason == 6 && r->spec.hash_rows, "duplicates are rejected");
    CHECK(r->spec.nfields == 11, "eleven columns, got %d", r->spec.nfields);
    const int amount = ts_rules_field(r, "amount"), cc = ts_rules_field(r, "country_code");
    const ts_csv_field *a = &r->spec.fields[amount];
    CHECK(a->kind == TS_RULE_DECIMAL && a->scale == 2 && a->max_int_digits == 16, "amount is decimal(18,2)");
    CHECK(a->has_min && a->min == 0 && a->min_open && a->reason_missing == 4 && a->reason_invalid == 5,
          "amount: gt=0, missing_amount then bad_amount");
    CHECK(a->check_rank == 4, "amount checks run at missing_amount's precedence (%d)", a->check_rank);
    CHECK(r->ref_file[cc] && strcmp(r->ref_file[cc], "countries.csv") == 0 &&
              strcmp(r->ref_column[cc], "country_code") == 0 && r->spec.fields[cc].fold_upper,
          "country codes come from countries.csv, folded to upper case");
    CHECK(ts_rules_check_complete(r) == TS_ERR_USAGE, "countries must still be supplied");
    const char *const codes[] = {"arg", "BRA"};
    CHECK_OK(ts_rules_set_values(r, cc, codes, 2));
    CHECK_OK(ts_rules_check_complete(r));
    int64_t len;
    const char *v = ts_dict_value(r->spec.fields[cc].accepted, 0, &len);
    CHECK(len == 3 && memcmp(v, "ARG", 3) == 0, "supplied values are folded like the field");
    ts_rules_free(r);
}

/* Each bad text must fail with TS_ERR_USAGE and a message containing `want`. */
static void expect_error(const char *text, const char *want)
{
    ts_rules *r = NULL;
    const ts_err err = ts_rules_parse(text, "t.rules", &r);
    CHECK(err == TS_ERR_USAGE && !r && strstr(ts_error_message(), want),
          "rules error: wanted '%s', got %d '%s'", want, err, ts_error_headline());
    ts_rules_free(r);
}

static void test_errors(void)
{
    expect_error("table t\nfrobnicate x\n", "t.rules:2: unknown directive 'frobnicate'");
    expect_error("table t\ncolumn a int64 reject=bad\n", "t.rules:2: reason 'bad' used before the 'order' line");
    expect_error("table t\norder x\nmalformed x\ncolumn a int64 reject=y\n", "t.rules:4: reason 'y' is not listed");
    expect_error("table t\norder x\nmalformed x\ncolumn a int99 reject=x\n", "t.rules:4: unknown type 'int99'");
    expect_error("table t\norder x\nmalformed x\ncolumn a int64\n", "t.rules:4: column 'a' needs reject=REASON");
    expect_error("table t\norder x\nmalformed x\ncolumn a date formats=MM/DD/YYYY reject=x\n", "unknown date form");
    expect_error("table t\norder x\nmalformed x\ncolumn a string pattern=( reject=x\n", "t.rules:4: pattern '('");
    expect_error("table t\norder x\nmalformed x\ncolumn a int64 min=abc reject=x\n", "bound 'abc'");
    expect_error("table t\norder x\nmalformed x\ncolumn a int64 reject=x\ncolumn a int64 reject=x\n",
                 "t.rules:5: column 'a' is declared twice");
    expect_error("table t\norder x x\n", "t.rules:2: reason 'x' is listed twice");
    expect_error("# only a comment\n", "needs 'table', 'order', 'malformed'");
    expect_error("table t\norder x\nmalformed x\nunique a reject=x\n", "t.rules:4: 'a' is not a declared column");
    expect_error("table t\norder x\nmalformed x\ncolumn a int64 reject=x\noutlier a zscore=0 reject=x\n",
                 "t.rules:5: outlier takes zscore=K or iqr=K with K > 0");
    expect_error("table t\norder x\nmalformed x\ncolumn a int64 reject=x\nreferences a nocolon reject=x\n",
                 "t.rules:5: FILE:COLUMN expected");
    expect_error("table t\norder x\nmalformed x\ncolumn a int64 reject=x\nunique a\n", "t.rules:5: expected");
    /* a pattern glibc would expand to ~12 GB is refused by its size, naming the file, line and column (issue 10) */
    expect_error("table t\norder x\nmalformed x\ncolumn iban string pattern=(x{1,255}){1,255}{1,255} reject=x\n",
                 "t.rules:4: column 'iban': pattern '(x{1,255}){1,255}{1,255}' is too large to compile");
    expect_error("table t\norder x\nmalformed x\ncolumn a string pattern=x{1,5000} reject=x\n",
                 "the repetition {1,5000} exceeds 1000");
}

/* Scans `csv` (header included) with the rules and returns the clean and rejects tables. */
static void scan(const ts_rules *r, const char *csv, ts_csv_sink *sink)
{
    CHECK_OK(ts_csv_sink_new(&r->spec, sink));
    ts_csv_layout layout;
    const int64_t len = (int64_t)strlen(csv);
    ts_csv_layout_from_header(&r->spec, csv, len, &layout);
    CHECK(layout.header_ok, "header recognised");
    int64_t lines;
    CHECK_OK(ts_csv_scan_range(&r->spec, &layout, 0, csv, len, 0, len, sink, &lines));
}

static void test_scan_features(void)
{
    static const char *const rules_text =
        "table t\n"
        "order bad_id bad_day bad_code bad_qty\n"
        "malformed bad_id\n"
        "column id int64 min=1 max=1000 reject=bad_id      # 1 <= id <= 1000\n"
        "column day date formats=YYYY-MM-DD gt=2020-01-01 reject=bad_day\n"
        "column code string nullable pattern=[A-Z]{2}[0-9] fail=null\n"
        "column qty int64 nullable lt=10 reject=bad_qty\n";
    ts_rules *r = NULL;
    if (!CHECK_OK(ts_rules_parse(rules_text, "features", &r)))
        return;
    const char *csv = "id,day,code,qty\n"
                      "5,2021-03-04,AB1,3\n"     /* clean */
                      "0,2021-03-04,AB1,3\n"     /* id below min: bad_id */
                      "7,04/03/2021,AB1,3\n"     /* DD/MM/YYYY not accepted here: bad_day */
                      "8,2020-01-01,AB1,3\n"     /* day not after 2020-01-01: bad_day */
                      "9,2021-03-04,ab1,3\n"     /* pattern fails -> code NULL, row kept */
                      "10,2021-03-04,,\n"        /* empty nullable fields -> NULL */
                      "11,2021-03-04,XY9,12\n"   /* qty not below 10: bad_qty */
                      "1001,x,AB1,3\n";          /* id above max: bad_id first (precedence) */
    ts_csv_sink sink;
    scan(r, csv, &sink);
    const ts_table *c = sink.clean, *j = sink.rejects;
    CHECK(ts_table_rows(c) == 3 && ts_table_rows(j) == 5, "3 clean, 5 rejected: got %lld, %lld",
          (long long)ts_table_rows(c), (long long)ts_table_rows(j));
    const ts_column *id = ts_table_col(c, "id"), *code = ts_table_col(c, "code"), *qty = ts_table_col(c, "qty");
    if (ts_table_rows(c) == 3) {
        CHECK(TS_COL(id, int64_t)[0] == 5 && TS_COL(id, int64_t)[1] == 9 && TS_COL(id, int64_t)[2] == 10, "ids");
        CHECK(code->type == TS_T_STRING && ts_column_is_valid(code, 0) && !ts_column_is_valid(code, 1) &&
                  !ts_column_is_valid(code, 2),
              "code: kept, failed pattern -> NULL, empty -> NULL");
        const int64_t *off = TS_COL(code, int64_t);
        CHECK(off[1] - off[0] == 3 && memcmp(code->bytes + off[0], "AB1", 3) == 0, "code value");
        CHECK(ts_column_is_valid(qty, 0) && ts_column_is_valid(qty, 1) && !ts_column_is_valid(qty, 2),
              "qty: empty -> NULL");
    }
    const int want[5] = {0, 1, 1, 3, 0}; /* bad_id, bad_day, bad_day, bad_qty, bad_id */
    for (int k = 0; k < 5 && k < ts_table_rows(j); k++)
        CHECK(TS_COL(ts_table_col(j, "reason"), int32_t)[k] == want[k], "reject %d reason %d, expected %d", k,
              TS_COL(ts_table_col(j, "reason"), int32_t)[k], want[k]);
    ts_csv_sink_free(&sink);
    ts_rules_free(r);
}

int main(void)
{
    test_builtin();
    test_errors();
    test_scan_features();
    return TS_TEST_DONE("test_rules");
}
