/* Table rules (io/ts_rules.h: unique, references, outlier) applied to a fresh scan, across ranks. Collective.
 *
 * Rules run in the order of their reasons' precedence; a clean row that breaks one moves to the scan's rejects
 * with that reason and its raw line (fetched from the rank's input), so each row keeps the first reason that
 * applies and nothing is lost. NULL values never break a table rule.
 * - unique: rows are hash-partitioned on the key; of the rows sharing a key, the first in input order stays.
 * - references: rank 0 reads FILE (relative to the data directory) and every rank receives its column; a value
 *   not in it breaks the rule (an anti join).
 * - outlier zscore=K: |x - mean| > K * stddev, mean and (population) stddev over all ranks' clean values.
 * - outlier iqr=K: x < Q1 - K * IQR or x > Q3 + K * IQR, with exact global quartiles (quantile_cont). */
#ifndef TS_TABLE_RULES_H
#define TS_TABLE_RULES_H

#include "ts_rules.h"
#include "ts_scan.h"

/* Call right after ts_scan_csv, while the clean rows are still on the rank that read them. *moved (may be NULL)
 * receives the rows this rank moved to the rejects. */
ts_err ts_apply_table_rules(ts_ctx *ctx, const ts_rules *rules, const char *data_dir, ts_scan *scan,
                            int64_t *moved);

#endif
