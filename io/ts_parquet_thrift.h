/* Thrift's compact protocol, the encoding of Parquet's footer (FileMetaData) and page headers, read and written by
 * hand (no generated code): only the wire format lives here; ts_parquet_meta.c knows Parquet's structures.
 *
 *   field header   1 byte: (id delta 1..15) << 4 | type, or type alone followed by the id as a zigzag varint
 *   integers       zigzag varints (i16, i32, i64); i8 a raw byte; double 8 bytes little-endian
 *   binary/string  varint length + bytes
 *   list/set       1 byte: (size < 15) << 4 | element type, or 0xF0 | type followed by the size as a varint
 *   bool field     its value in the header's type (1 true, 2 false); in a list, one byte
 *   struct         fields until a STOP byte (0)
 *
 * Reader: bounded and defensive, for footers that may be corrupt or hostile. Every read checks the remaining
 * bytes; the first problem sets `err` (with a description) and later reads return zeros, so parsers test once at
 * the end. Nesting is capped, so skipping unknown fields cannot exhaust the stack. Per thread, no allocation.
 * Writer: appends to a growable malloc'ed buffer (caller frees w->buf). */
#ifndef TS_PARQUET_THRIFT_H
#define TS_PARQUET_THRIFT_H

#include <stddef.h>
#include <stdint.h>

#include "ts_error.h"

enum {
    TS_TT_STOP = 0, TS_TT_TRUE = 1, TS_TT_FALSE = 2, TS_TT_I8 = 3, TS_TT_I16 = 4, TS_TT_I32 = 5, TS_TT_I64 = 6,
    TS_TT_DOUBLE = 7, TS_TT_BINARY = 8, TS_TT_LIST = 9, TS_TT_SET = 10, TS_TT_MAP = 11, TS_TT_STRUCT = 12
};

#define TS_THRIFT_MAX_DEPTH 32

typedef struct ts_thrift_reader {
    const uint8_t *start, *p, *end;
    int depth;
    int16_t last_id[TS_THRIFT_MAX_DEPTH + 1]; /* last field id per open struct */
    const char *err;                          /* first problem found, or NULL */
    size_t err_at;                            /* its byte offset from start */
} ts_thrift_reader;

void ts_thrift_reader_init(ts_thrift_reader *r, const uint8_t *data, size_t len);
/* Enters a struct (call before its first field). */
void ts_thrift_struct_begin(ts_thrift_reader *r);
void ts_thrift_struct_end(ts_thrift_reader *r);
/* Next field of the current struct: 0 at its STOP byte (or on error), else 1 with *id and *type. A bool field's
 * value is its type (TS_TT_TRUE / TS_TT_FALSE): read it with ts_thrift_bool(r, type). */
int ts_thrift_field(ts_thrift_reader *r, int *id, int *type);
int64_t ts_thrift_i64(ts_thrift_reader *r, int type); /* any integer type, checked against `type` */
int32_t ts_thrift_i32(ts_thrift_reader *r, int type); /* an i32 (or i16 / i8) field; out-of-range is an error */
int ts_thrift_bool(ts_thrift_reader *r, int type);
double ts_thrift_double(ts_thrift_reader *r, int type);
/* A binary field: pointer into the input and its length. */
const uint8_t *ts_thrift_binary(ts_thrift_reader *r, int type, uint32_t *len);
/* A list header: element type and count (count checked against the bytes left: each element takes one byte at
 * least, except bools... which also take one). Returns the count (0 on error). */
uint32_t ts_thrift_list(ts_thrift_reader *r, int type, int *elem_type);
/* Skips a value of the given type (nested structures included). */
void ts_thrift_skip(ts_thrift_reader *r, int type);
/* Marks the reader failed with a description (first one wins). */
void ts_thrift_fail(ts_thrift_reader *r, const char *what);
static inline size_t ts_thrift_offset(const ts_thrift_reader *r) { return (size_t)(r->p - r->start); }

typedef struct ts_thrift_writer {
    uint8_t *buf;
    size_t len, cap;
    int depth;
    int16_t last_id[TS_THRIFT_MAX_DEPTH + 1];
    int nomem;                                /* an allocation failed: the buffer is incomplete */
} ts_thrift_writer;

void ts_thrift_writer_init(ts_thrift_writer *w);
void ts_thrift_writer_free(ts_thrift_writer *w);
void ts_thrift_w_struct_begin(ts_thrift_writer *w);
void ts_thrift_w_struct_end(ts_thrift_writer *w); /* writes STOP */
void ts_thrift_w_field(ts_thrift_writer *w, int id, int type);
void ts_thrift_w_i32(ts_thrift_writer *w, int id, int32_t v);
void ts_thrift_w_i64(ts_thrift_writer *w, int id, int64_t v);
void ts_thrift_w_bool(ts_thrift_writer *w, int id, int v);
void ts_thrift_w_binary(ts_thrift_writer *w, int id, const void *data, size_t len);
/* A list field header; then write count elements (ts_thrift_w_elem_* or structs). */
void ts_thrift_w_list(ts_thrift_writer *w, int id, int elem_type, uint32_t count);
void ts_thrift_w_elem_i32(ts_thrift_writer *w, int32_t v);
void ts_thrift_w_elem_binary(ts_thrift_writer *w, const void *data, size_t len);
/* Appends raw bytes (a struct serialized elsewhere, e.g. by another rank). */
void ts_thrift_w_raw(ts_thrift_writer *w, const void *data, size_t len);

#endif
