/* Run fingerprints: what a checkpoint's tables were computed from, as "key=value" lines, so a resumed run can
 * tell whether a checkpoint is its own (same job, ranks, inputs, rules, options) before trusting its tables.
 * Input files are identified by name, size, modification time and a hash of sampled content (ts_fp_add_file:
 * the whole file up to 1 MiB; beyond, its first and last 64 KiB and 64 blocks of 4 KiB spread evenly), so an
 * edit that keeps the size and the time (cp -p, touch -r) is still seen unless it only changes bytes of a file
 * over 1 MiB outside the sampled blocks. Reading all of every input on one rank would cost a second scan of
 * terabytes; the samples cost at most 1 MiB a file (384 KiB beyond 1 MiB). Gzip files are covered whole: their last 8 bytes hold the
 * CRC-32 and length of the uncompressed content. Small files whose whole content matters (rules) use
 * ts_fp_add_content. Per process, no MPI: jobs build it on rank 0, which reads and compares checkpoint metadata. */
#ifndef TS_FINGERPRINT_H
#define TS_FINGERPRINT_H

#include <stddef.h>

#include "ts_error.h"

#define TS_FP_CAP (1 << 20) /* bytes of text (about 10,000 input files); more is an error, not a silent cut */

/* About 1 MiB: allocate it on the heap or statically, never on the stack. */
typedef struct ts_fingerprint {
    char text[TS_FP_CAP]; /* "key=value\n" lines, in the order added */
    size_t len;
} ts_fingerprint;

void ts_fp_init(ts_fingerprint *fp);
/* Adds "key=value" (value printf-formatted; newlines in it become spaces). */
ts_err ts_fp_add(ts_fingerprint *fp, const char *key, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Adds "key=<size> bytes, modified <mtime in ns>, sampled <hash>" (see the top of this file for what is hashed);
 * a missing file is recorded as "missing"; an unreadable one is TS_ERR_IO. */
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
