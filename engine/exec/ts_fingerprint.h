/* Run fingerprints: what a checkpoint's tables were computed from, as "key=value" lines, so a resumed run can
 * tell whether a checkpoint is its own (same job, ranks, inputs, rules, options) before trusting its tables.
 * Files are identified by name, size and modification time (not content: inputs can be terabytes); small files
 * whose content matters and may be edited in place within a second (rules) by a content hash. Per process, no MPI:
 * jobs build it on rank 0, which is the rank that reads and compares checkpoint metadata. */
#ifndef TS_FINGERPRINT_H
#define TS_FINGERPRINT_H

#include <stddef.h>

#include "ts_error.h"

#define TS_FP_CAP 65536 /* bytes of text; inputs of more files than fit are an error, not a silent cut */

typedef struct ts_fingerprint {
    char text[TS_FP_CAP]; /* "key=value\n" lines, in the order added */
    size_t len;
} ts_fingerprint;

void ts_fp_init(ts_fingerprint *fp);
/* Adds "key=value" (value printf-formatted; newlines in it become spaces). */
ts_err ts_fp_add(ts_fingerprint *fp, const char *key, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Adds "key=<size> bytes, modified <mtime in ns>"; a missing file is recorded as "missing". */
ts_err ts_fp_add_file(ts_fingerprint *fp, const char *key, const char *path);
/* Adds one ts_fp_add_file line "key/<name>" per regular file of dir, in name order (not recursive). */
ts_err ts_fp_add_dir(ts_fingerprint *fp, const char *key, const char *dir);
/* Adds "key=fnv1a64:<hash of the bytes>" of len bytes (e.g. a rules text). */
ts_err ts_fp_add_bytes(ts_fingerprint *fp, const char *key, const void *bytes, size_t len);
/* The same for a file's whole content (TS_ERR_IO when unreadable). */
ts_err ts_fp_add_content(ts_fingerprint *fp, const char *key, const char *path);

/* Compares two fingerprint texts; returns 1 when equal. Otherwise 0 and, in why, the first difference:
 * "ranks: 2 in the checkpoint, 4 now" or "input/part-00001.csv: only in the checkpoint". */
int ts_fp_same(const char *saved, const char *now, char *why, size_t cap);

#endif
