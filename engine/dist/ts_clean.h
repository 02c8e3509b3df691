/* Cleaning scan operator: CSV files + cleaning rules (io/ts_rules.h, docs/rules-format.md) -> a table of clean
 * typed rows and a table of rejects, every data line of the input in exactly one of them. Collective: every rank
 * calls each function in the same order. This is bank-analytics' ingest, and SQL's read_csv(..., rules=...).
 *
 * Steps, in this order (a row keeps the reason of the first step that rejects it):
 *   1. column rules, per line, in the scan (ts_scan_csv_files): wrong field count or quoting, then each column's
 *      checks in the precedence of the rules' `order` line;
 *   2. table rules (unique, references, outlier; ts_apply_table_rules), in their reasons' precedence;
 *   3. duplicate lines, when the rules have `duplicates R`: a line whose bytes equal an earlier line's (by input
 *      position) is rejected with R, the first copy stays. Copies are found by a 128-bit hash of the line bytes
 *      (two independent 64-bit hashes: a false match has probability about 2^-128 per pair). The clean rows stay
 *      on the rank that read them: only the hashes are exchanged, partitioned by hash, so all copies of a line
 *      meet on one rank, which sends a verdict back to the reader of each later copy. Positions travel with the
 *      hashes only when the ranks' rows, rank after rank, are not in input order (gzip files go whole to ranks
 *      by size); otherwise the exchange's delivery order (by source rank) already is the input order.
 * A line with a column-rule failure is never a duplicate candidate (all its copies fail alike). Table rules run
 * before duplicate rejection whatever the order line says, so `unique KEY` rejects an exact copy with its own
 * reason.
 *
 * @FILE references (`values=@FILE:COLUMN`, `references COL FILE:COLUMN`) are read relative to ref_dir (NULL: the
 * working directory), by rank 0, and broadcast. */
#ifndef TS_CLEAN_H
#define TS_CLEAN_H

#include "ts_rules.h"
#include "ts_scan.h"

typedef struct ts_clean_result {
    /* This rank's clean rows: one column per non-skip column of the rules (typed as the rules say; category
     * columns DICT), then __pos (INT64, ts_pos_make: file index, 1-based line). In input order on each rank
     * (ascending __pos); the rows stay on the rank that read them (no particular distribution). */
    ts_table *clean;
    /* This rank's rejects, ascending __pos: file (STRING, the file's base name), line (INT64, 1-based, counting
     * the header), reason (DICT over the rules' reason names, code = reason code), raw_line (STRING: the line's
     * bytes as read, without '\n' and a '\r' before it), __pos (INT64, last, orders like (file, line): sort by it
     * for the input order across ranks, and drop it before output). */
    ts_table *rejects;
    int64_t rows_read;     /* global: data lines read (headers excluded) = rows_clean + rows_rejected */
    int64_t rows_clean;    /* global */
    int64_t rows_rejected; /* global */
    int64_t reason_counts[TS_RULES_MAX_REASONS]; /* global, index = reason code of the rules */
    int nreasons;                                /* = rules->nreasons */
} ts_clean_result;

/* One-call form: resolves the rules' @FILE values, scans, applies the table rules and rejects duplicates.
 * files: the same list on every rank (ts_scan_list_inputs). rules: supplied values are kept, missing @FILE
 * values are read from ref_dir and stored into the rules (which are modified); their spec must not set
 * skip_blank (every line must end in clean or rejects). *out is filled (free with ts_clean_result_free); on
 * error it is left empty. */
ts_err ts_clean_scan(ts_ctx *ctx, const ts_file_info *files, int nfiles, ts_rules *rules, const char *ref_dir,
                     ts_clean_result *out);
void ts_clean_result_free(ts_clean_result *r);
/* The scan's counts as a table (metric STRING, count INT64): rows_read, rows_clean, rows_rejected, then one row
 * per reason of the rules in their order, on rank 0 (other ranks: no rows). *out is new (caller frees). */
ts_err ts_clean_summary(int rank, const ts_rules *rules, const ts_clean_result *r, ts_table **out);

/* Supplies every category column whose values come from values=@FILE:COLUMN and still lack them: rank 0 reads
 * FILE's COLUMN (relative to ref_dir) as text, every rank gets it by broadcast. Then checks that no category
 * column lacks values. Collective. */
ts_err ts_clean_resolve_values(ts_ctx *ctx, ts_rules *rules, const char *ref_dir);

/* The same work in steps, so a plan can time them as stages: ts_clean_begin (values, scan, table rules),
 * ts_clean_dedup (duplicate rejection; a no-op when the rules keep duplicates), ts_clean_finish (the rejects
 * table and the global counts; runs the dedup step if it has not run). All collective. The state borrows rules
 * (which must outlive it) and keeps the input files mapped until ts_clean_finish or ts_clean_free. */
/* Partition of clean rows [first, first + n) into part[0..n), each in [0, nparts). */
typedef void (*ts_clean_part_fn)(void *arg, const ts_table *clean, int64_t first, int64_t n, int32_t *part);

typedef struct ts_clean {
    ts_rules *rules;  /* borrowed */
    ts_scan scan;     /* scan.clean: clean rows so far; scan.rejects: __pos, reason (int32), raw_line */
    int deduped;      /* the duplicate step has run */
    int64_t rows_duplicate; /* this rank's rows rejected as duplicates */
    /* partitioned mode (ts_clean_begin_partitioned) */
    struct ts_spill *spill;
    const char *spill_dir;  /* borrowed */
    int nparts;
    ts_clean_part_fn part_of;
    void *part_arg;
    int64_t rows_taken;     /* clean rows handed out by ts_clean_take */
    int64_t *order;         /* scratch: a piece's rows grouped by partition */
    int64_t order_cap;
    int64_t *pending;       /* positions of duplicates whose raw lines are still to fetch, in rejects order */
    int64_t npending, pending_cap;
} ts_clean;

ts_err ts_clean_begin(ts_ctx *ctx, const ts_file_info *files, int nfiles, ts_rules *rules, const char *ref_dir,
                      ts_clean *c);
ts_err ts_clean_dedup(ts_ctx *ctx, ts_clean *c);
/* Moves the clean rows and rejects into *out and releases the input (ts_clean_free is still safe to call).
 * After an error in any step, call only ts_clean_free (ts_clean_begin has already freed the state). */
ts_err ts_clean_finish(ts_ctx *ctx, ts_clean *c, ts_clean_result *out);
void ts_clean_free(ts_clean *c);

/* Cleaning under a memory budget (grace-hash partitions). ts_clean_begin_partitioned scans like ts_clean_begin,
 * but in pieces of at most chunk_bytes; part_of gives each clean row a partition in [0, nparts), which must be
 * a function of the line's content, so that all copies of a line share a partition
 * and duplicates are still found; every partition goes to spill files in spill_dir as the scan proceeds (only
 * one piece and the rejects are in memory). Then for p = 0 .. nparts-1, on every rank: ts_clean_load_partition
 * (p's rows into c->scan.clean, input order), ts_clean_dedup, ts_clean_take (hands those clean rows out). Last,
 * ts_clean_finish builds the rejects and the global counts (its result's clean table is NULL). Table rules need
 * every row at once: refused (TS_ERR_USAGE). All collective except ts_clean_take. */
ts_err ts_clean_begin_partitioned(ts_ctx *ctx, const ts_file_info *files, int nfiles, ts_rules *rules,
                                  const char *ref_dir, int nparts, int64_t chunk_bytes, const char *spill_dir,
                                  ts_clean_part_fn part_of, void *arg, ts_clean *c);
ts_err ts_clean_load_partition(ts_ctx *ctx, ts_clean *c, int part);
/* Moves the loaded partition's clean rows (after ts_clean_dedup) into *rows (caller frees). */
void ts_clean_take(ts_clean *c, ts_table **rows);
/* Bytes written to spill files so far on this rank. */
int64_t ts_clean_spilled_bytes(const ts_clean *c);
/* ts_clean_scan under a memory budget: the partitioned mode with partitions by the hash of a row's values, each
 * partition's deduplicated rows appended to a cold table (engine/ops/ts_cold.h: files in spill_dir) that becomes
 * out->clean. Only a piece of the input, one partition and the rejects are in memory at a time. The clean rows
 * come in partition order, not input order (their __pos column still gives the input order). Rules with table
 * rules are refused (TS_ERR_USAGE), as in ts_clean_begin_partitioned. Collective. */
ts_err ts_clean_scan_spilled(ts_ctx *ctx, const ts_file_info *files, int nfiles, ts_rules *rules,
                             const char *ref_dir, int nparts, int64_t chunk_bytes, const char *spill_dir,
                             ts_clean_result *out);

#endif
