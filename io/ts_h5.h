/* Parallel HDF5 table writer (layout: docs/hdf5-layout.md). All calls are collective over the file's
 * communicator: every rank calls them in the same order with the same table names and schemas; each rank
 * passes its local slab (rank r's rows follow rank r-1's in the file, at the exclusive prefix sum of row counts).
 *
 * Crash safety: the file is written under a temporary name in the destination directory and renamed to its
 * final name by ts_h5_commit only after every rank closed it successfully. ts_h5_abandon removes the temporary.
 * The temporary has an owner file (io/ts_tmpfile.h: lock, owner line, space ballast); room for every group and
 * dataset is reserved before the collective HDF5 calls that write it, so a full disk fails every rank with the
 * same TS_ERR_IO (ENOSPC, the free space and the need) instead of failing inside HDF5 on one rank. */
#ifndef TS_H5_H
#define TS_H5_H

#include <mpi.h>

#include "ts_table.h"

typedef struct ts_h5_file ts_h5_file;

typedef struct ts_h5_meta {
    const char *job;     /* e.g. "bank-analytics" */
    const char *inputs;  /* e.g. the --data directory */
    const char *version; /* Tessera version */
} ts_h5_meta;

/* Per-table options. */
typedef struct ts_h5_table_opts {
    const char *const *bytes_columns; /* STRING columns stored as bytes+offsets (long or binary text) */
    int nbytes_columns;
} ts_h5_table_opts;

/* Local (no MPI) check of an output path before a job spends any work: fails with TS_ERR_IO naming the path and
 * the cause when path exists and !overwrite, is not a regular file, its directory is missing or not writable, or
 * another live job is writing it now (its temporary's owner file is locked); TS_ERR_USAGE when it names a
 * directory or is too long. ts_h5_create checks the same again (but for the live writer). */
ts_err ts_h5_check_output(const char *path, int overwrite);

/* Creates `path`'s temporary sibling ".<name>.tmp-<pid of rank 0>" and its owner file; a temporary of an earlier
 * run whose owner is dead (killed before it could commit or abandon) is removed first, with a warning on stderr; a
 * live writer's is left alone. Fails (TS_ERR_IO) when path exists and !overwrite, or when the file system has no
 * room for the file's creation and close. Collective. */
ts_err ts_h5_create(MPI_Comm comm, const char *path, int overwrite, const ts_h5_meta *meta, ts_h5_file **out);

/* Writes the distributed table as group `group_path` (e.g. "/analytics/country_month"; parent groups are
 * created). STRING and DICT columns become NUL-padded fixed-length strings of the global maximum width (at
 * least 1) unless listed in opts->bytes_columns; DATE columns get units = "days since 1970-01-01"; nullable
 * columns get a uint8 "<name>.valid" companion. Collective. */
ts_err ts_h5_write_table(ts_h5_file *f, const char *group_path, const ts_table *local,
                         const ts_h5_table_opts *opts);

/* Closes the file and renames it to its final name (without overwrite: only if the name is still free; when
 * another job created it meanwhile, the output is kept as STEM.conflict-PID.EXT and the TS_ERR_IO names it).
 * Frees f. Collective. */
ts_err ts_h5_commit(ts_h5_file *f);
/* Closes and deletes the temporary file (after a failure). Frees f. Collective. */
void ts_h5_abandon(ts_h5_file *f);

#endif
