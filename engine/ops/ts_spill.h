/* Spill files: rows of a table that do not fit in the memory budget, kept on local disk in partitions and read
 * back one partition at a time (grace-hash style). Per rank, not collective, not thread-safe.
 *
 * Format (private to this module, one file per partition, deleted by ts_spill_close): a sequence of batches,
 * each a header {rows, tag} and then every column of the schema in order, as its raw arrays: fixed-width values,
 * STRING offsets rebased to 0 plus the payload, and a validity flag + bitmap. Dictionaries are not written: a
 * partition is read back into columns made like the schema's (same DICT dictionary), so codes stay valid.
 * The tag is the caller's (e.g. which scan range a batch came from); the reader hands it back per batch. */
#ifndef TS_SPILL_H
#define TS_SPILL_H

#include <stdint.h>

#include "ts_table.h"

typedef struct ts_spill ts_spill;

/* Where spills go: requested if not NULL, else $TMPDIR, else /tmp. */
const char *ts_spill_dir(const char *requested);

/* Creates nparts empty partition files in dir, named tessera-spill-<pid>-<tag>-pNNN. The spill keeps an empty
 * copy of schema's columns (names, types, retained dictionaries). *out freed by ts_spill_close; NULL on error. */
ts_err ts_spill_open(const char *dir, const char *tag, int nparts, const ts_table *schema, ts_spill **out);

/* Appends t's rows rows[0..n) (ascending, or any order; NULL = all rows) to partition part as one batch. t has
 * the schema's columns in the same order. */
ts_err ts_spill_append(ts_spill *s, int part, int64_t tag, const ts_table *t, const int64_t *rows, int64_t n);

/* Called once per batch read back: the batch's rows are dst rows [first, first + n). */
typedef ts_err (*ts_spill_batch_fn)(void *arg, int64_t tag, ts_table *dst, int64_t first, int64_t n);

/* Reads partition part into *out (new, caller frees; columns like the schema's, named `name`), batch by batch in
 * write order, calling fn (may be NULL) after each batch. The partition's file is deleted after it is read. */
ts_err ts_spill_read(ts_spill *s, int part, const char *name, ts_spill_batch_fn fn, void *arg, ts_table **out);

/* Reads the one batch that starts at byte *offset of partition part (an offset ts_spill_size gave before the batch
 * was appended, or one this call returned), appending its rows to dst (columns like the schema's); *offset becomes
 * the next batch's, *rows the batch's rows. The file stays (for runs read a batch at a time: the external sort);
 * more batches may still be appended after reading. */
ts_err ts_spill_read_at(ts_spill *s, int part, int64_t *offset, ts_table *dst, int64_t *rows);
/* Bytes written to partition part so far: the offset its next batch will start at. */
int64_t ts_spill_size(const ts_spill *s, int part);

/* Bytes a table holds in memory (values, string payloads and validity): what a budget compares. */
int64_t ts_table_mem_bytes(const ts_table *t);

int64_t ts_spill_rows(const ts_spill *s, int part);
int64_t ts_spill_bytes_written(const ts_spill *s);
/* Closes and deletes every partition file. NULL is fine. */
void ts_spill_close(ts_spill *s);

#endif
