/* Memory: 64-byte aligned, growable buffers for column data, and the process's peak RSS.
 * All functions are per rank; nothing here is collective. */
#ifndef TS_MEM_H
#define TS_MEM_H

#include <stddef.h>
#include <stdint.h>

#include "ts_error.h"

#define TS_ALIGN 64

/* Allocates n bytes aligned to TS_ALIGN into *out (NULL for n == 0). Caller frees with ts_free. */
ts_err ts_alloc(size_t n, void **out);
/* Like ts_alloc, zero-filled (cheaply: large blocks come zeroed from the kernel). */
ts_err ts_calloc(size_t n, void **out);
/* Plain-pointer forms for temporaries: NULL when out of memory (the caller raises the error), freed with
 * ts_free. Large ones get huge pages, like columns. */
void *ts_big(size_t n);
void *ts_big_zero(size_t n);
/* Grows the block *p of old_n bytes to new_n bytes, keeping its content and alignment. */
ts_err ts_realloc(void **p, size_t old_n, size_t new_n);
void ts_free(void *p);

/* Cold storage (engine/ops/ts_cold.h): a block whose bytes live in a file rather than in anonymous memory. The
 * kernel reads its pages in on access and may drop them again at any time (they are clean page cache), so a table
 * larger than the memory budget can still be scanned. ts_mem_map_file sizes the open file fd for an n-byte block
 * (the block's header first, then the payload; the caller has written the payload at file offset TS_ALIGN, or
 * writes it through the mapping) and maps it shared into *out; the caller may close fd afterwards. The block is
 * freed with ts_free like any other; ts_realloc copies it into memory. Per rank. */
ts_err ts_mem_map_file(int fd, size_t n, const char *what, void **out);
/* 1 when p points into a block from ts_mem_map_file (any pointer may be asked). */
int ts_mem_is_file(const void *p);
/* Drops the resident pages of bytes [from, to) after p from this process when they lie in a file block (they
 * are read again from the file, or the page cache, on the next access); nothing for other memory. */
void ts_mem_release(const void *p, size_t from, size_t to);

/* Ensures *p (elements of elem bytes, capacity *cap) holds at least need elements; grows geometrically. */
ts_err ts_reserve(void **p, int64_t *cap, int64_t need, size_t elem);

/* Caps the bytes of freed mappings kept for reuse (default 4 GiB): a memory budget counts them too. */
void ts_mem_set_pool_limit(size_t bytes);
/* Returns freed mappings kept for reuse to the system until at most `keep` bytes remain pooled (the largest go
 * first). Call between units of work (SQL statements): what one statement freed should not stay resident for the
 * next. */
void ts_mem_trim_pool(size_t keep);

/* Test hook: after `n` more successful block allocations or growths (ts_alloc, ts_calloc, ts_big, ts_realloc,
 * ts_reserve), every later one fails with TS_ERR_NOMEM as if memory were exhausted, until it is called again with
 * n < 0 (the default: never fail). Lets unit tests drive every out-of-memory path of an operator. Not thread-safe. */
void ts_mem_fail_after(int64_t n);

/* Peak resident set size of this process in bytes (VmHWM), 0 if unknown. */
int64_t ts_peak_rss_bytes(void);
/* Current resident set size in bytes (VmRSS), 0 if unknown. */
int64_t ts_rss_bytes(void);
/* Physical memory of the machine in bytes, 0 if unknown. */
int64_t ts_physical_memory_bytes(void);
/* "512.0 MiB", "17 B" into buf (returned). */
const char *ts_format_bytes(double bytes, char *buf, size_t cap);

#endif
