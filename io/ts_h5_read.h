/* Parallel HDF5 table reader: Tessera's own tables (docs/hdf5-layout.md) and groups of generic 1-D datasets
 * written by other tools (h5py, netCDF, ...). Both calls are collective over comm: every rank calls them in the
 * same order with the same arguments, and every rank returns the same error code (message of the lowest failing
 * rank, prefixed "rank R: ").
 *
 * Distribution: of a table of N rows on P ranks, rank r gets rows [r*N/P, (r+1)*N/P): contiguous slabs, so
 * the global order is kept and rank r holds the r-th slab (what a sorted table needs).
 *
 * Types. Tessera tables (groups with a `columns` attribute) follow their `types` attribute: int32, int64,
 * float64, bool (a nonzero byte is true), date (units must be "days since 1970-01-01"), decimal(18,s), string
 * (fixed-length or bytes+offsets; DICT columns were written as strings and come back as STRING). A "<name>.valid" companion
 * restores nulls; `sort_keys` is restored as far as its prefix was read. Generic groups: every 1-D dataset is a
 * column, in name order, typed from HDF5: integers up to int32 and unsigned up to uint16 -> INT32, uint32 and
 * int64 -> INT64, uint64 -> INT64 when every value fits, float32/float64 -> FLOAT64, fixed-length strings ->
 * STRING (trailing NULs stripped), an integer dataset with units = "days since 1970-01-01" -> DATE.
 *
 * Errors: a missing or unreadable file is TS_ERR_IO; a missing group or column TS_ERR_USAGE (with the closest
 * existing name when one is near); columns of different lengths or values that do not fit TS_ERR_DATA. HDF5's
 * own error printing is switched off (process-wide); its reason is folded into the message. */
#ifndef TS_H5_READ_H
#define TS_H5_READ_H

#include <mpi.h>

#include "ts_table.h"

/* Lists the tables of `path`: groups with a `columns` attribute (not descending into them), and groups holding
 * only 1-D datasets of equal length, as absolute paths ("/analytics/country_month") in name order, depth first.
 * *names is one block (pointer array followed by the strings): free(*names) releases everything; NULL when
 * *n == 0. Collective. */
ts_err ts_h5_list_tables(MPI_Comm comm, const char *path, char ***names, int *n);

/* Reads group `group` of `path` as this rank's slab (see above). columns == NULL reads every column (a
 * Tessera table in its `columns` order, a generic group in name order); otherwise the ncols listed, in that
 * order (column pruning: unlisted datasets are never read). *out is a new table named after the group's last
 * path component, owned by the caller (ts_table_free); NULL on failure. Collective. */
ts_err ts_h5_read_table(MPI_Comm comm, const char *path, const char *group, const char *const *columns, int ncols,
                        ts_table **out);

#endif
