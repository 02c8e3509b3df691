/* Parquet value encodings of one page, decoded into dense physical values (no nulls; levels are the reader's
 * business): PLAIN, dictionary indices (RLE/bit-packed hybrid), DELTA_BINARY_PACKED, DELTA_LENGTH_BYTE_ARRAY,
 * DELTA_BYTE_ARRAY, BYTE_STREAM_SPLIT and RLE booleans. Per thread, no MPI; buffers belong to the caller (sizes
 * stated per function). Every function validates the lengths it reads and returns TS_ERR_DATA with a message
 * naming the encoding and what is wrong, never reading outside data[0..len). */
#ifndef TS_PARQUET_DECODE_H
#define TS_PARQUET_DECODE_H

#include <stddef.h>
#include <stdint.h>

#include "ts_error.h"

/* A string value inside a page buffer (or a scratch buffer). */
typedef struct ts_pq_sv {
    const uint8_t *p;
    uint32_t len;
} ts_pq_sv;

/* Bytes of one value of a fixed-width physical type (BOOLEAN: 0, bit-packed; BYTE_ARRAY: 0; FLBA: type_length). */
int ts_pq_phys_width(int phys, int32_t type_length);
/* "PLAIN", "RLE_DICTIONARY", ... (static storage; "encoding N" for unknown ones in a thread-local buffer). */
const char *ts_pq_encoding_name(int encoding);

/* PLAIN fixed width (INT32, INT64, INT96, FLOAT, DOUBLE, FLBA): the values are the bytes themselves; checks that
 * data holds n of them and sets *vals to data. */
ts_err ts_pq_plain_fixed(const uint8_t *data, size_t len, size_t n, int width, const uint8_t **vals);
/* PLAIN BOOLEAN: n bit-packed bits into out[0..n) (0/1 bytes). */
ts_err ts_pq_plain_bools(const uint8_t *data, size_t len, size_t n, uint8_t *out);
/* RLE BOOLEAN (data pages v2): 4-byte length, then the hybrid encoding of width 1. */
ts_err ts_pq_rle_bools(const uint8_t *data, size_t len, size_t n, uint8_t *out);
/* PLAIN BYTE_ARRAY: n values (4-byte little-endian length + bytes) as views into data. */
ts_err ts_pq_plain_strings(const uint8_t *data, size_t len, size_t n, ts_pq_sv *out);
/* PLAIN FIXED_LEN_BYTE_ARRAY as views. */
ts_err ts_pq_plain_flba(const uint8_t *data, size_t len, size_t n, int width, ts_pq_sv *out);
/* Dictionary indices: 1 byte of bit width, then the hybrid encoding; every index must be < dict_size. */
ts_err ts_pq_dict_indices(const uint8_t *data, size_t len, size_t n, int32_t dict_size, uint32_t *out);
/* DELTA_BINARY_PACKED of n INT32 (width 4) or INT64 (width 8) values into out (n values of that width);
 * scratch holds n uint64. */
ts_err ts_pq_delta_ints(const uint8_t *data, size_t len, size_t n, int width, void *out, uint64_t *scratch);
/* DELTA_LENGTH_BYTE_ARRAY: n views into data; lens holds n uint64. */
ts_err ts_pq_dlba_strings(const uint8_t *data, size_t len, size_t n, ts_pq_sv *out, uint64_t *lens);
/* DELTA_BYTE_ARRAY, in two steps: ts_pq_dba_prepare decodes the prefix and suffix lengths (into pre[n], suf[n])
 * and tells the bytes the rebuilt values need (*bytes); ts_pq_dba_build then rebuilds them into buf (*bytes
 * bytes) as views. scratch holds n uint64. */
ts_err ts_pq_dba_prepare(const uint8_t *data, size_t len, size_t n, uint64_t *pre, uint64_t *suf, uint64_t *scratch,
                         size_t *bytes, size_t *suffix_at);
ts_err ts_pq_dba_build(const uint8_t *data, size_t len, size_t n, const uint64_t *pre, const uint64_t *suf,
                       size_t suffix_at, uint8_t *buf, ts_pq_sv *out);
/* BYTE_STREAM_SPLIT of n values of width bytes into out (n * width bytes). */
ts_err ts_pq_byte_stream_split(const uint8_t *data, size_t len, size_t n, int width, uint8_t *out);

#endif
