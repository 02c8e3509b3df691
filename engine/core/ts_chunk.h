/* Chunks: what flows through pipelines (engine/exec/ts_pipeline.h). Up to TS_CHUNK_ROWS rows of one schema, as
 * typed column vectors in ts_column layout (so every column kernel applies to them as they are), plus a selection
 * vector.
 *
 * Columns. A chunk's columns are ts_column structs embedded in the chunk, at fixed addresses for the chunk's whole
 * life: an expression bound once to the chunk's schema (ts_expr_bind) reads every later chunk without rebinding.
 * For each chunk, each column shows either
 *   - a view (ts_chunk_set_view): its arrays point into another column (rows [start, start + n) of a table, or an
 *     upstream chunk's column) and nothing is owned. STRING views keep the source's absolute offsets and payload
 *     pointer; validity is shared, so a view of a column with nulls must start at a multiple of 64 rows; or
 *   - a vector (ts_chunk_vector): arrays the chunk owns, sized for TS_CHUNK_ROWS rows (STRING: the offsets and a
 *     payload that grows to the largest chunk seen), cleared and refilled for every chunk (ts_column_clear keeps
 *     the allocations), so a pipeline in steady state allocates and faults in no fresh memory.
 * A column may switch between the two from one chunk to the next (a join probe passes its left columns on as
 * views when every left row matches at most once, and gathers them otherwise); the vector's arrays are kept
 * aside meanwhile.
 * Selection. sel == NULL: rows 0 .. n-1 are all live. Otherwise sel[0 .. nsel) lists the live rows, ascending
 * (sel points at sel_buf, or at an upstream chunk's selection that an operator passes on). Filters narrow the selection instead of moving rows; operators that produce new rows
 * (projections of computed columns, join probes) compute every row of the vectors and keep the selection, or
 * gather the live rows into dense vectors. A producer resets the selection for every chunk it emits; the
 * operators downstream may narrow it in place: a chunk handed down a pipeline is theirs until the producer's next
 * call.
 * Ownership: the chunk owns its vectors' arrays and holds a reference on their dictionaries; views own nothing.
 * Per rank, not thread-safe. */
#ifndef TS_CHUNK_H
#define TS_CHUNK_H

#include "ts_table.h"

#define TS_CHUNK_ROWS 2048

typedef struct ts_chunk {
    ts_table schema;             /* names and types; schema.cols[i] == &col[i]; records the partitioning */
    ts_column col[TS_MAX_COLS];  /* what the columns show for the current chunk */
    ts_column *schema_cols[TS_MAX_COLS]; /* schema.cols: the column list of the schema (a table's is allocated) */
    ts_column store[TS_MAX_COLS]; /* a vector's own arrays while its column shows a view */
    uint8_t owned[TS_MAX_COLS];  /* column i has vector arrays (in col[i], or in store[i] while viewing) */
    uint8_t viewing[TS_MAX_COLS]; /* column i shows a view */
    int64_t n;                   /* rows in the vectors, <= TS_CHUNK_ROWS */
    const int32_t *sel;          /* NULL (all rows live), sel_buf, or an upstream chunk's selection */
    int nsel;
    int32_t sel_buf[TS_CHUNK_ROWS];
} ts_chunk;

/* Allocates an empty chunk (no columns) named `name` (for messages) into *out; free with ts_chunk_free. */
ts_err ts_chunk_new(const char *name, ts_chunk **out);
void ts_chunk_free(ts_chunk *c);

/* Adds a column named `name` with the type, scale and dictionary of `like`, to be filled with views
 * (ts_chunk_set_view; it gets vector arrays only if ts_chunk_vector asks for them). Returns its index in *idx
 * (may be NULL). */
ts_err ts_chunk_add_view(ts_chunk *c, const char *name, const ts_column *like, int *idx);
/* Adds a column with vector arrays for TS_CHUNK_ROWS rows, allocated now. dict: DICT only. */
ts_err ts_chunk_add_vector(ts_chunk *c, const char *name, ts_type type, int scale, ts_dict *dict, int *idx);
/* Adds one column per column of t: views (views = 1) or vectors like them. */
ts_err ts_chunk_add_like(ts_chunk *c, const ts_table *t, int views);

/* Starts a new chunk of n rows: n set, selection cleared, vectors emptied (filled by the caller). */
void ts_chunk_begin(ts_chunk *c, int64_t n);
/* Column i as an empty vector to fill (allocating its arrays on first use). */
ts_err ts_chunk_vector(ts_chunk *c, int i, ts_column **out);
/* Points view column i at rows [start, start + n) of src. Fails (TS_ERR_INTERNAL) when src has nulls and start is
 * not a multiple of 64. */
ts_err ts_chunk_set_view(ts_chunk *c, int i, const ts_column *src, int64_t start, int64_t n);
/* Every column a view of the same-position column of t, rows [start, start + n); starts a chunk of n rows. */
ts_err ts_chunk_view_table(ts_chunk *c, const ts_table *t, int64_t start, int64_t n);

/* Live rows. */
static inline int64_t ts_chunk_live(const ts_chunk *c) { return c->sel ? c->nsel : c->n; }
/* The live rows as an ascending list: the selection, or 0 .. n-1 written to buf. */
const int32_t *ts_chunk_rows(const ts_chunk *c, int32_t *buf);
/* Sets the selection to a copy of rows[0 .. n) (ascending, a subset of the live rows; may alias sel_buf). */
void ts_chunk_select(ts_chunk *c, const int32_t *rows, int n);

/* Appends src rows sel[0 .. n) (all of 0 .. n-1 when sel is NULL) to dst (same type): one column kernel. */
ts_err ts_column_append_sel(ts_column *dst, const ts_column *src, const int32_t *sel, int64_t n);
/* Appends the live rows of c to dst, column by position (same types). */
ts_err ts_chunk_append_to(const ts_chunk *c, ts_table *dst);
/* Gathers the live rows of src into dst's columns as vectors (same types, by position); dst gets n = live rows
 * and no selection. */
ts_err ts_chunk_gather(const ts_chunk *src, ts_chunk *dst);

/* Bytes held by the chunk's vectors (for memory accounting). */
int64_t ts_chunk_bytes(const ts_chunk *c);

#endif
