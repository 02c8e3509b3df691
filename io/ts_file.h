/* Input files: listing a directory and loading a file's bytes (plain files are memory-mapped, .gz files are
 * inflated into memory). Per rank, no MPI. */
#ifndef TS_FILE_H
#define TS_FILE_H

#include <stdint.h>

#include "ts_error.h"

/* Plain data (no pointers): lists of these are realloc'ed, sorted, copied and broadcast as bytes, so the base
 * name is an offset into path, never a pointer that a move would leave dangling. */
typedef struct ts_file_info {
    char path[4096];
    int base_off;       /* path + base_off is the file's base name (ts_file_base) */
    int64_t size;       /* bytes on disk */
    int gz;             /* name ends in .gz */
    int parquet;        /* name ends in .parquet: loaded as CSV text (io/ts_parquet_text.h) */
} ts_file_info;

/* Whether a file is read whole by one rank (gzip and Parquet files), not cut into byte ranges. */
static inline int ts_file_whole(const ts_file_info *f) { return f->gz || f->parquet; }

/* The file's base name (points into f->path). */
static inline const char *ts_file_base(const ts_file_info *f) { return f->path + f->base_off; }

/* Lists the regular files in dir whose names end in one of the suffixes (e.g. ".csv", ".csv.gz"), sorted by
 * name (bytewise). *files is malloc'ed (caller frees). A missing or unreadable directory is a TS_ERR_IO. */
ts_err ts_list_files(const char *dir, const char *const *suffixes, int nsuffix, ts_file_info **files, int *n);

/* The input files of a path or pattern, for read_csv('...'):
 *   a regular file                -> that file;
 *   a directory                   -> its *.csv, *.csv.gz and *.parquet files, as ts_list_files;
 *   anything else is a glob(3)    -> the regular files it matches, sorted by path (bytewise).
 * gz is set for names ending in .gz. *files is malloc'ed (caller frees). Nothing found: TS_ERR_IO
 * "no file matches '<pattern>'". */
ts_err ts_list_inputs(const char *pattern, ts_file_info **files, int *n);

/* The bytes of a loaded file. */
typedef struct ts_file_data {
    const char *data;
    int64_t len;
    void *map;          /* mmap'ed region, or NULL */
    int64_t map_len;    /* bytes mapped (len may be less: ts_file_load_head) */
    char *heap;         /* inflated content, or NULL */
    void *guard;        /* the mapping's entry in the SIGBUS guard (see below), or NULL */
} ts_file_data;

/* Files that change while mapped. Reading a page of a mapped file beyond its end after another process
 * truncated it raises SIGBUS, which would kill the rank. While a plain file is mapped, a SIGBUS handler (installed
 * with the first mapping, chaining to the handler it replaced for any other fault) replaces the rest of that
 * mapping with zero pages, records the fault and lets the read go on; the scan then stops at its next line and
 * ts_file_check reports the file. Faults outside these mappings reach the previous handler unchanged. */

/* Faults taken on mappings by this process so far: a loop over mapped bytes compares it with its value at the
 * start (one load) to stop early. */
int ts_file_faults(void);
/* TS_ERR_IO "'PATH' changed while being read ..." when d's mapping took a fault or f is now shorter than when it
 * was loaded; TS_OK otherwise (always for inflated gzip data, which is read whole at load time). */
ts_err ts_file_check(const ts_file_info *f, const ts_file_data *d);

/* Loads the whole file: mmap for plain files (pages load lazily, so a rank touches only its byte range),
 * inflate for gzip (multi-member streams are supported). Caller releases with ts_file_unload. */
ts_err ts_file_load(const ts_file_info *f, ts_file_data *out);
void ts_file_unload(ts_file_data *d);
/* Loads at most about max_bytes of the start of a file (for sampling): plain files are mapped whole (pages load
 * lazily) with len capped; gzip files are inflated only that far. When the content is cut, len ends after the
 * last complete line. Caller releases with ts_file_unload. */
ts_err ts_file_load_head(const ts_file_info *f, int64_t max_bytes, ts_file_data *out);
/* Asks the kernel to map bytes [begin, end) of a memory-mapped file now, in one call, instead of one page fault
 * per page while scanning. Only advice: ignored where unsupported. */
void ts_file_prefetch(const ts_file_data *d, int64_t begin, int64_t end);
/* Drops the mapped pages wholly inside [begin, end) from this process's resident set (they reload from the page
 * cache if touched again): a scan under a memory budget calls it behind its cursor. No-op for inflated data. */
void ts_file_drop_pages(const ts_file_data *d, int64_t begin, int64_t end);

#endif
