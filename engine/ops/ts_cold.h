/* Cold tables: tables whose column values live in files on local disk instead of anonymous memory, for tables
 * larger than the memory budget (a catalog table, a query's result, read_csv's output under --memory-limit).
 *
 * A cold column is an ordinary ts_column: its data (and a STRING column's payload) is a shared mapping of an
 * unlinked file (ts_mem_map_file), so every operator reads it like memory. The kernel pages it in on access and
 * may evict it at any time, because the pages are clean; readers that finish with a range drop it from the
 * resident set at once (ts_column_release, ts_table_release), which keeps a scan's resident memory to what is in
 * flight. Validity bitmaps (1 bit a row) stay in memory. The files disappear with the mappings (ts_column_free);
 * nothing is left on disk, even when the process dies.
 *
 * Building: a table too large to hold is written batch by batch (ts_cold_append, in row order) and mapped once at
 * the end (ts_cold_finish); a table in memory can also be moved out whole (ts_table_to_cold). Per rank; nothing
 * here is collective. */
#ifndef TS_COLD_H
#define TS_COLD_H

#include "ts_table.h"

typedef struct ts_cold ts_cold;

/* A builder of a cold table with schema's columns (names, types, scales, dictionaries), its files in dir.
 * Free with ts_cold_finish or ts_cold_free. */
ts_err ts_cold_begin(const ts_table *schema, const char *dir, ts_cold **out);
/* Writes rows [first, first + n) of src (columns like the schema's, in the same order) after the rows so far. */
ts_err ts_cold_append(ts_cold *b, const ts_table *src, int64_t first, int64_t n);
/* Bytes written to files so far. */
int64_t ts_cold_bytes(const ts_cold *b);
/* Maps the files as the columns of *out (new, named name, caller frees) and frees the builder, also on failure. */
ts_err ts_cold_finish(ts_cold *b, const char *name, ts_table **out);
/* Frees an unfinished builder and its files. NULL is fine. */
void ts_cold_free(ts_cold *b);

/* Bytes this process wrote to cold tables' files so far. */
int64_t ts_cold_written(void);
/* Moves every in-memory column of t to files in dir (columns already cold stay), keeping t's rows, names and
 * partitioning; *written (may be NULL) = bytes written. On failure t is unchanged. */
ts_err ts_table_to_cold(ts_table *t, const char *dir, int64_t *written);
/* Moves the n bytes of block *p (from ts_alloc) to a new file in dir: *p becomes its mapping, the old block is
 * freed. Nothing for a block already cold. */
ts_err ts_cold_block(void **p, size_t n, const char *dir);
/* 1 when some column of t is cold. */
int ts_table_is_cold(const ts_table *t);
/* Readers of cold columns drop the rows they are done with from the resident set in strides of this many rows (one
 * madvise per column per stride): 1 when a reader at row upto of rows, having released the rows before released,
 * should release the rows in between now. */
#define TS_COLD_RELEASE_STRIDE (64 * 1024)
static inline int ts_cold_release_due(int64_t released, int64_t upto, int64_t rows)
{
    return upto - released >= TS_COLD_RELEASE_STRIDE || upto >= rows;
}

/* Drops every cold column's pages of t from the resident set (after a pass over the whole table). */
void ts_table_release(const ts_table *t);

#endif
