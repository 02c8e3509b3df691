/* Dictionary encoding of a low-cardinality STRING column, across ranks. Collective.
 *
 * The dictionary is the sorted list (bytewise, shorter first on a common prefix: the order of ts_sort) of the
 * column's distinct non-NULL values over all ranks, identical on every rank. So code order is string order, and
 * comparisons, sorts, group-bys and joins on the column work on int32 codes. */
#ifndef TS_DICT_ENCODE_H
#define TS_DICT_ENCODE_H

#include "ts_ctx.h"
#include "ts_table.h"

/* If the STRING column `column` of t (every rank's part) has at most max_distinct distinct non-NULL values over
 * all ranks, of at most max_bytes bytes together (every rank holds the dictionary whole; the bound is checked on the
 * ranks' distinct values summed, so a value several ranks hold counts once per rank), replaces it in place, on
 * every rank, by a DICT column of the same name holding the codes (NULLs stay NULL, with code 0 under them) and
 * sets *encoded = 1. Otherwise (also when it has no value at all) leaves it unchanged and sets *encoded = 0; the
 * attempt stops as soon as any rank sees more than max_distinct values or max_bytes bytes of its own. Cost: one hash probe per row, an allgather of the ranks' distinct values, a sort of them, and one pass
 * writing the codes. Errors: TS_ERR_USAGE when the column is missing, not STRING, or t is a view. */
ts_err ts_dict_encode(ts_ctx *ctx, ts_table *t, const char *column, int64_t max_distinct, int64_t max_bytes,
                      int *encoded);

/* The global dictionary of values that each rank holds as a list of its distinct strings (`values`, a STRING
 * column without nulls, e.g. the values a Parquet reader met in dictionary pages): the sorted union over all ranks,
 * identical everywhere, in *dict (new reference), and (*remap)[j] = the code of values row j (malloc'ed, caller
 * frees). When the union has more than max_distinct values (or none at all), *dict and *remap are NULL on every
 * rank. Collective. */
ts_err ts_dict_unify(ts_ctx *ctx, const ts_column *values, int64_t max_distinct, ts_dict **dict, int32_t **remap);

#endif
