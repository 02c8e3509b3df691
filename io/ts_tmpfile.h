/* The temporary file an output is written under, and who owns it. Per process, no MPI: the HDF5 writer's rank 0
 * does all of this (io/ts_h5.c).
 *
 * An output FILE is written as ".FILE.tmp-PID" next to it and renamed when complete. Beside the temporary, its
 * owner file ".FILE.tmp-PID.owner" holds:
 *   - an advisory lock (an open-file-description lock, fcntl F_OFD_SETLK) for as long as the temporary exists, so
 *     another job can tell a live writer from a dead one: the kernel drops the lock when the owner dies (SIGKILL,
 *     OOM killer, node reboot for a lock on a network file system once its lease expires);
 *   - a line naming the owner (host, pid, process start time), for messages, and to decide on file systems
 *     without locks (same host only: a pid that is gone or was reused is a dead owner);
 *   - a ballast of reserved bytes, released just before the file's final close: HDF5's last metadata flush then
 *     has room even on a file system that has filled up in the meantime.
 * Leftovers are removed only when their owner is certainly dead; a live writer's are left alone.
 *
 * Space: ts_tmpfile_reserve allocates the temporary's blocks ahead of the writes (fallocate with
 * FALLOC_FL_KEEP_SIZE), so the writes themselves cannot meet a full file system: a collective HDF5 call that
 * fails on one rank only can hang the others inside HDF5 (see docs/architecture.md "HDF5 output"). Where
 * fallocate is not supported, the free space is checked instead (best effort: another process can still take
 * it). ts_tmpfile_publish gives back what was reserved and not used. */
#ifndef TS_TMPFILE_H
#define TS_TMPFILE_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "ts_error.h"

typedef struct ts_tmpfile {
    char path[PATH_MAX];       /* the final name */
    char dir[PATH_MAX];        /* its directory ("." for a bare name) */
    char tmp[PATH_MAX + 64];   /* the temporary */
    char owner[PATH_MAX + 80]; /* the owner file */
    int owner_fd, tmp_fd;      /* -1 when not open */
    size_t record_len;         /* bytes of the owner line (the ballast follows it) */
    int64_t ballast;           /* bytes held by the owner file after the line */
    int64_t reserved;          /* the temporary's bytes [0, reserved) are allocated */
    int no_fallocate;          /* fallocate is not supported here: free space is checked instead */
} ts_tmpfile;

/* TS_ERR_IO when a live job is writing `path` now (its owner file is locked), naming it; TS_OK otherwise. */
ts_err ts_tmpfile_check_live(const char *path);

/* Removes the temporaries of earlier writers of `path` whose owners are dead, each with a warning on stderr;
 * warns about a live one (left alone). */
void ts_tmpfile_remove_stale(const char *path);

/* Creates and locks the owner file of a new temporary of `path` and reserves `ballast` bytes in it. t->tmp
 * receives the temporary's name (the file itself is created by the writer). TS_ERR_IO (ENOSPC, EACCES ...) with
 * nothing left behind on failure. */
ts_err ts_tmpfile_begin(const char *path, int64_t ballast, ts_tmpfile *t);

/* Shrinks the ballast to `bytes` (0: releases it), freeing the rest for the writer. */
void ts_tmpfile_set_ballast(ts_tmpfile *t, int64_t bytes);

/* After the writer created the temporary: opens it for the reservations. */
ts_err ts_tmpfile_opened(ts_tmpfile *t);

/* Makes sure bytes [0, upto) of the temporary are allocated (or, without fallocate, that the file system has
 * room for them). TS_ERR_IO naming `what`, the free space and the need otherwise. */
ts_err ts_tmpfile_reserve(ts_tmpfile *t, int64_t upto, const char *what);

/* The temporary is complete and closed by the writer: gives back the unused reservation, syncs it and renames it
 * to the final name. Without overwrite the final name must not exist (another job may have created it since the
 * start): then the output is kept as "STEM.conflict-PID.EXT" and the error names both. Ends t (every case). */
ts_err ts_tmpfile_publish(ts_tmpfile *t, int overwrite);

/* Removes the temporary and the owner file (after a failure). Ends t. Safe on a t that never began. */
void ts_tmpfile_discard(ts_tmpfile *t);

#endif
