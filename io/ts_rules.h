/* Declarative cleaning rules: a small text format (docs/rules-format.md) that declares, for one CSV table, every
 * column's type, accepted formats, normalisation, accepted values, range and pattern, the reject reason of each
 * check and the reasons' precedence, and whether exact duplicate rows are rejected. ts_rules_parse turns it into
 * the scan's ts_csv_spec. Per rank, no MPI (every rank parses the same text).
 *
 *   table transactions
 *   order malformed_row bad_date bad_amount duplicate     # reasons, first = highest precedence
 *   malformed malformed_row                               # wrong field count or broken quoting
 *   duplicates duplicate                                  # exact copies of an earlier line
 *   column txn_id int64 reject=malformed_row
 *   column txn_date date formats=YYYY-MM-DD,YYYYMMDD reject=bad_date
 *   column amount decimal(18,2) gt=0 missing=missing_amount reject=bad_amount
 *   column note string nullable pattern=[A-Z]+ fail=null
 *   column rate float64 nullable reject=bad_amount
 *   column active bool reject=malformed_row
 *   column currency skip
 */
#ifndef TS_RULES_H
#define TS_RULES_H

#include "ts_csv.h"

#define TS_RULES_MAX_REASONS 32
#define TS_RULES_MAX_TABLE_RULES 16

/* Rules over the whole (distributed) table, applied after the column rules by ts_apply_table_rules. */
typedef enum {
    TS_TRULE_UNIQUE,     /* unique COL[,COL...]: a row repeating an earlier row's key is rejected */
    TS_TRULE_REFERENCES, /* references COL FILE:COLUMN: a value absent from the reference CSV column is rejected */
    TS_TRULE_ZSCORE,     /* outlier COL zscore=K: |x - mean| > K * stddev (population, over all ranks) */
    TS_TRULE_IQR         /* outlier COL iqr=K: x < Q1 - K * IQR or x > Q3 + K * IQR (exact, over all ranks) */
} ts_table_rule_kind;

typedef struct ts_table_rule {
    ts_table_rule_kind kind;
    char *cols[8];
    int ncols;
    char *ref_file, *ref_column; /* REFERENCES */
    double k;                    /* ZSCORE / IQR */
    int reason;
    int line;                    /* in the rules text, for messages */
} ts_table_rule;

typedef struct ts_rules {
    char table[TS_NAME_MAX];
    char *reasons[TS_RULES_MAX_REASONS]; /* codes are indexes; order = precedence */
    int nreasons;
    int duplicate_reason;                /* -1: duplicates are kept */
    ts_csv_spec spec;                    /* points into this struct (fields, names): do not copy it */
    ts_csv_field fields[TS_MAX_COLS];    /* spec.fields */
    char *ref_file[TS_MAX_COLS];         /* CATEGORY values=@FILE:COLUMN, still to be supplied with */
    char *ref_column[TS_MAX_COLS];       /* ts_rules_set_values (NULL when the values were inline) */
    char *names[TS_MAX_COLS];
    regex_t pattern[TS_MAX_COLS];
    int has_pattern[TS_MAX_COLS];
    ts_table_rule table_rules[TS_RULES_MAX_TABLE_RULES]; /* in the order of their reasons' precedence */
    int ntable_rules;
} ts_rules;

/* Parses `text` (named `source` in messages). Errors: TS_ERR_USAGE with "source:line: reason". *out is new
 * (ts_rules_free). */
ts_err ts_rules_parse(const char *text, const char *source, ts_rules **out);
/* Reads and parses a rules file. */
ts_err ts_rules_load(const char *path, ts_rules **out);
void ts_rules_free(ts_rules *r);

/* Index of the field named `column`, or -1. */
int ts_rules_field(const ts_rules *r, const char *column);
/* Supplies the accepted values of a CATEGORY field (e.g. read from its @FILE:COLUMN reference). */
ts_err ts_rules_set_values(ts_rules *r, int field, const char *const *values, int n);
/* Fails (naming the field) when a CATEGORY field still lacks its values. */
ts_err ts_rules_check_complete(const ts_rules *r);

#endif
