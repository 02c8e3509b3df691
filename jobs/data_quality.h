/* data-quality job (docs/jobs/data-quality.md): column profile, dbt-style tests and per-row quality scores of
 * the transactions table. Internal interface between jobs/data_quality.c (the plan) and
 * jobs/data_quality_tests.c (the tests file and its evaluation). */
#ifndef TS_DATA_QUALITY_H
#define TS_DATA_QUALITY_H

#include <stdint.h>

#include "ts_ctx.h"
#include "ts_table.h"

/* jobs/rules/bank_transactions_tests.rules, embedded by CMakeLists.txt like every .rules file there */
extern const char ts_rules_bank_transactions_tests[];

typedef enum { DQ_NOT_NULL, DQ_UNIQUE, DQ_ACCEPTED_VALUES, DQ_RELATIONSHIPS, DQ_EXPRESSION } dq_test_kind;

#define DQ_TEST_MAX 64
#define DQ_TEXT_MAX 512

typedef struct dq_test {
    dq_test_kind kind;
    char name[TS_NAME_MAX * 2];  /* output `test`: <kind>_<column>, or the expression's NAME */
    char column[TS_NAME_MAX];    /* the tested column (an expression's left operand) */
    char arg[DQ_TEXT_MAX];       /* accepted values "v1,v2", relationships "FILE:COLUMN", expression text */
    int warn;                    /* severity=warn (default: error) */
    int line;                    /* line in the tests file */
    int64_t failing;             /* global failing rows (set by dq_tests_run) */
} dq_test;

/* Parses a tests file's text (named source in messages: "source:line: problem"). Per rank, no MPI. */
ts_err dq_tests_parse(const char *text, const char *source, dq_test *tests, int *ntests);
/* Reads a whole small text file into a new NUL-terminated buffer (free()). */
ts_err dq_read_text(const char *path, char **out);

/* Evaluates every test over the distributed cleaned table t (collective). Reference CSVs of relationships tests
 * are read by rank 0 from data_dir and broadcast. */
ts_err dq_tests_run(ts_ctx *ctx, const char *data_dir, const ts_table *t, dq_test *tests, int ntests);

/* Global number of distinct non-null values of column col of the distributed table t, and of rows whose non-null
 * value occurs more than once. Collective (a distributed COUNT grouped by the column). */
ts_err dq_value_counts(ts_ctx *ctx, const ts_table *t, const char *col, int64_t *distinct, int64_t *dup_rows);

/* Row i of c as text: integers in decimal, DECIMAL exact with its scale, DATE as YYYY-MM-DD, DICT/STRING their
 * text (cut to cap - 1 bytes), FLOAT64 %.17g; "" for NULL. */
void dq_format_value(const ts_column *c, int64_t i, char *buf, size_t cap);

#endif
