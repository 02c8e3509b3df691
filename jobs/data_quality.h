/* data-quality job (docs/jobs/data-quality.md): column profile, dbt-style tests and per-row quality scores of
 * the transactions table, and dbt-style tests of any other CSV or HDF5 table. Internal interface between
 * jobs/data_quality.c (the plan, profile, scores, outputs), jobs/data_quality_tests.c (the tests file: parsing
 * and binding to the tables' columns) and jobs/data_quality_eval.c (the tables and the tests' evaluation). */
#ifndef TS_DATA_QUALITY_H
#define TS_DATA_QUALITY_H

#include <stdint.h>

#include "ts_ctx.h"
#include "ts_scan.h"
#include "ts_table.h"

/* jobs/rules/bank_transactions_tests.rules, embedded by CMakeLists.txt like every .rules file there */
extern const char ts_rules_bank_transactions_tests[];

typedef enum { DQ_NOT_NULL, DQ_UNIQUE, DQ_ACCEPTED_VALUES, DQ_RELATIONSHIPS, DQ_EXPRESSION } dq_test_kind;

/* Which values a test sees: the source's text (trimmed, categories case-folded as the rules say; NULL when
 * empty), the cleaned values (NULL where empty or invalid), or an HDF5 table's stored values. */
typedef enum { DQ_RAW, DQ_CLEAN, DQ_STORED } dq_layer;
extern const char *const DQ_LAYER_NAMES[3];

/* Column types as tests compare them. */
typedef enum { DQ_INT, DQ_DEC, DQ_DATE, DQ_FLOAT, DQ_BOOL, DQ_CAT, DQ_STR } dq_ctype;

typedef struct dq_colinfo {
    char name[TS_NAME_MAX];
    dq_ctype type;
    int scale;           /* DQ_DEC */
    int fold_upper;      /* DQ_CAT: 1 upper case, 0 lower case */
    unsigned date_forms; /* DQ_DATE: the forms raw text may take (TS_DATE_*; 0 = all) */
} dq_colinfo;

/* A typed value: NULL, a number, a date, a boolean or a text (pointing into a column or a caller's buffer), or
 * BAD: a raw text that is not a value of its column's type. */
typedef enum { V_NULL, V_INT, V_DEC, V_DATE, V_FLOAT, V_BOOL, V_TEXT, V_BAD } dq_vkind;
typedef struct dq_val {
    dq_vkind k;
    int scale;       /* V_DEC: i / 10^scale */
    int64_t i;       /* V_INT, V_DEC, V_DATE (days), V_BOOL */
    double f;        /* V_FLOAT */
    const char *s;   /* V_TEXT */
    int64_t len;
} dq_val;

enum { DQ_EQ, DQ_NE, DQ_LT, DQ_LE, DQ_GT, DQ_GE };

/* `COLUMN OP (COLUMN | CONSTANT)`: an expression test's assertion or a where condition. */
typedef struct dq_cond {
    int col;            /* left column (index into the source's columns) */
    int op;
    int rhs_col;        /* right column, or -1 for the constant */
    dq_val rhs;         /* the typed constant (text constants point into rhs_text) */
    char rhs_text[512];
    char left_text[TS_NAME_MAX], right_token[512];
} dq_cond;

/* warn_if / error_if: `failures OP n` (dbt's default `!= 0`). */
typedef struct dq_threshold {
    int op;
    int64_t n;
} dq_threshold;

#define DQ_MAX_UNIQUE_COLS 8
#define DQ_STORE_DEFAULT 100

typedef struct dq_test {
    dq_test_kind kind;
    char name[TS_NAME_MAX * 2];   /* output `test`: <kind>_[<table>_]<column>, an expression's NAME, or name= */
    int named;                    /* name= given */
    char column[TS_NAME_MAX * 4]; /* the tested column(s) as written ("a" or "a,b") */
    char *arg;                    /* accepted values "v1,v2", relationships target "FILE:COLUMN" (owned) */
    char **values;                /* accepted values, unquoted (case-folded for a category column) */
    int nvalues;
    int source;                   /* index of the table (dq_tests_parse's tables) */
    int cols[DQ_MAX_UNIQUE_COLS]; /* the tested columns (bound) */
    int ncols;
    dq_layer layer;
    int layer_given;              /* values= given */
    int warn;                     /* severity=warn (default: error) */
    dq_threshold warn_if, error_if;
    char warn_if_text[32], error_if_text[32];
    int64_t store;                /* rows stored in the failures table (store_failures=N) */
    dq_cond expr;                 /* DQ_EXPRESSION */
    dq_cond *where;               /* where= conditions (all must hold) */
    int nwhere;
    char where_text[512];         /* as written, " and "-joined */
    int line;                     /* line in the tests file */
    /* results (global, set by dq_tests_run) */
    int64_t rows;                 /* rows tested (after where) */
    int64_t failures;             /* dbt's count: rows, or distinct values for unique / accepted_values */
    int64_t failing_rows;         /* rows with a failing value */
    int status;                   /* 0 pass, 1 warn, 2 fail */
    ts_table *failed;             /* the failures table (rank 0 holds its rows; NULL when it passed) */
} dq_test;

/* A table tests run on. */
typedef struct dq_source {
    char spec[4200];         /* as written after `table`: transactions, FILE.csv, FILE.h5:/GROUP or /GROUP */
    char label[TS_NAME_MAX]; /* in test names: "" for transactions, else the file's stem or the group's name */
    int h5;                  /* an HDF5 table: one layer (stored), rows identified by their index */
    ts_table *clean, *raw;   /* typed values; the text (NULL for HDF5) */
    const ts_scan *scan;     /* CSV: file names of the positions (__pos) */
    int ncols;
    dq_colinfo cols[TS_MAX_COLS];
    int64_t row_base;        /* HDF5: global index of this rank's first row */
    int64_t rows;            /* global rows (well-formed rows of a CSV) */
    /* owned by the source (not for transactions, whose scans belong to the job) */
    ts_scan own_scan[2];
    int owns;
} dq_source;

typedef struct dq_suite {
    dq_test *tests;
    int ntests, cap;
    dq_source *sources;      /* sources[0] is the transactions table */
    int nsources;
    char origin[256];        /* the tests file, for messages */
} dq_suite;

/* Parses a tests file's text (named origin in messages: "origin:line: problem"): the tests and the tables they
 * name. Per rank, no MPI. Usage errors (exit 2) name the line. */
ts_err dq_tests_parse(const char *text, const char *origin, dq_suite *suite);
/* Binds the tests of source `src` to its columns (src->cols must be set): column names, layers, typed
 * constants, accepted values, where conditions, names. Usage errors (exit 2) name the test and its line.
 * Per rank, no MPI: the same result on every rank. */
ts_err dq_tests_bind(dq_suite *suite, int src);
void dq_suite_free(dq_suite *suite);

/* Reads a whole small text file into a new NUL-terminated buffer (free()). */
ts_err dq_read_text(const char *path, char **out);

/* Opens source src (other than transactions): a CSV file (the types inferred as SQL's read_csv does, scanned
 * twice: typed and as text) or an HDF5 table (of --in for "/GROUP"). Collective. */
ts_err dq_source_open(ts_ctx *ctx, dq_source *src, const char *data_dir, const char *in_path);
void dq_source_free(dq_source *src);

/* Evaluates every test (collective): counts, status from the thresholds, failures tables on rank 0. */
ts_err dq_tests_run(ts_ctx *ctx, dq_suite *suite, const char *data_dir, const char *in_path);

/* Global number of distinct non-null values of column col of the distributed table t, and of rows whose non-null
 * value occurs more than once. Collective (a distributed COUNT grouped by the column). */
ts_err dq_value_counts(ts_ctx *ctx, const ts_table *t, const char *col, int64_t *distinct, int64_t *dup_rows);

/* Row i of c as text: integers in decimal, DECIMAL exact with its scale, DATE as YYYY-MM-DD, DICT/STRING their
 * text (cut to cap - 1 bytes), FLOAT64 %.17g; "" for NULL. */
void dq_format_value(const ts_column *c, int64_t i, char *buf, size_t cap);

/* The value of row i of column c of a source in layer `layer` (raw text parsed as info's type: V_BAD when it
 * is not one). buf (at least 256 bytes) holds a case-folded raw text. */
dq_val dq_value(const dq_source *src, int c, dq_layer layer, int64_t i, char *buf, size_t cap);
/* A constant written in a tests file as a value of column type info (V_BAD when it is not one: the caller
 * reports it). Text constants point into tok. */
dq_val dq_constant(const dq_colinfo *info, const char *tok, char *buf, size_t cap);
/* a OP b: 1 true, 0 false, -1 unknown (a NULL operand); BAD operands compare false. */
int dq_compare(const dq_val *a, int op, const dq_val *b);

#endif
