/* Hash joins. ts_hash_join_local joins two tables on one rank; ts_join (ts_join_dist.h) runs it across ranks.
 *
 * Semantics (SQL): inner, left, right and full outer, semi and anti joins on 1 to TS_KEY_COLS_MAX key columns of any
 * type (INT32 matches INT64, DICT matches STRING by text); a NULL key never matches (except in keys flagged
 * null_equal, where NULL matches NULL), so its row appears only where the join type keeps unmatched rows.
 * Many-to-many matches produce every pair.
 * Output columns: every left column, then the chosen right columns (semi and anti: left columns only). A right
 * column whose name is taken by a left column is an error: list the right columns you need (right_cols).
 * Output order: left rows in input order, each followed by its matches in right input order; then (right and full
 * joins) the unmatched right rows in right order. */
#ifndef TS_HASHJOIN_H
#define TS_HASHJOIN_H

#include "ts_table.h"

typedef enum { TS_JOIN_INNER, TS_JOIN_LEFT, TS_JOIN_RIGHT, TS_JOIN_FULL, TS_JOIN_SEMI, TS_JOIN_ANTI } ts_join_type;
typedef enum { TS_JOIN_AUTO, TS_JOIN_BROADCAST, TS_JOIN_SHUFFLE } ts_join_strategy;

typedef struct ts_join_spec {
    ts_join_type type;
    const char *const *left_keys;
    const char *const *right_keys;
    int nkeys;
    const char *const *right_cols; /* right columns to output; NULL: all right columns that are not keys */
    int nright;
    const char *const *left_cols;  /* ts_join only: left columns to carry (the keys always are); NULL: all */
    int nleft;
    ts_join_strategy strategy;     /* ts_join only */
    int64_t broadcast_bytes;       /* ts_join only: broadcast the right side below this global size (0: 64 MiB) */
    unsigned null_equal;           /* bit k set: NULLs in key k match each other (SQL IS NOT DISTINCT FROM) */
    int build_left;                /* semi and anti joins: build the hash table on the left rows and probe with the
                                      right ones (the right side is the larger); same result */
} ts_join_spec;

/* Joins left and right on this rank. *out is new (caller frees). When right_matched is not NULL it receives one
 * flag per right row (1 = matched some left row) and unmatched right rows are NOT appended even for right/full
 * joins: the distributed broadcast join emits them once, after combining the flags of all ranks. */
ts_err ts_hash_join_local(const ts_table *left, const ts_table *right, const ts_join_spec *spec, ts_table **out,
                          uint8_t *right_matched);

/* Semi / anti joins built on the left: sets left_matched[i] (n = left rows, not cleared first) for every left
 * row i whose key some right row has. */
ts_err ts_hash_semi_flags(const ts_table *left, const ts_table *right, const ts_join_spec *spec,
                          uint8_t *left_matched);
/* The left rows a semi (matched) or anti (not matched) join keeps, from the flags. *out is new. */
ts_err ts_semi_output(const ts_table *left, ts_join_type type, const uint8_t *left_matched, ts_table **out);

/* The output table's schema for spec (no rows): used to give every rank the same schema. */
ts_err ts_join_schema(const ts_table *left, const ts_table *right, const ts_join_spec *spec, ts_table **out);

const char *ts_join_type_name(ts_join_type t);

#endif
