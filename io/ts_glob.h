/* File patterns for datasets (read_parquet): glob(3)-style segments plus `**`, which matches zero or more
 * directories, as DuckDB and Spark accept (lake/sales/ then ** then *.parquet). Per rank, no MPI. */
#ifndef TS_GLOB_H
#define TS_GLOB_H

#include "ts_file.h"

/* The regular files matching pattern, sorted bytewise by path, without duplicates:
 *   an existing regular file      -> that file;
 *   an existing directory         -> every file under it (recursively) whose name ends in `suffix`, skipping
 *                                    names that start with '.' or '_' (Spark's _SUCCESS, temporaries);
 *   otherwise a pattern           -> segments matched with fnmatch(3) (a leading '.' must be matched
 *                                    explicitly), `**` any number of directories (at most 64 deep); a file
 *                                    matched by a wildcard is skipped when its name starts with '_' or '.'
 *                                    and the pattern's last segment does not (Spark's _SUCCESS, temporaries).
 * *files is malloc'ed (caller frees). Nothing found: TS_ERR_IO "no file matches '<pattern>'". */
ts_err ts_glob_files(const char *pattern, const char *suffix, ts_file_info **files, int *n);

#endif
