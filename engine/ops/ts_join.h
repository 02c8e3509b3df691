/* Broadcast lookup join: every rank holds the whole (small) right table, built into a hash table once, and
 * probes it with its local left rows. Left-join semantics for a many-to-one relation: each left row is kept once;
 * the right columns are null where no right row matches. NULL keys never match. Per rank (broadcast the right
 * table first with ts_broadcast_table). */
#ifndef TS_JOIN_H
#define TS_JOIN_H

#include "ts_table.h"

/* *out (new) = left's columns, then right's columns `bring[0..nbring)`. Keys are integer-like and at most 2 per
 * side, compared by value. Duplicate keys on the right are an error (TS_ERR_DATA naming the key). */
ts_err ts_join_lookup(const ts_table *left, const ts_table *right, const char *const *left_keys,
                      const char *const *right_keys, int nkeys, const char *const *bring, int nbring,
                      ts_table **out);

#endif
