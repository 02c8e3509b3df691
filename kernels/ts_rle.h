/* Parquet's RLE / bit-packed hybrid encoding (definition levels, dictionary indices, RLE booleans):
 *
 *   run := varint header, then   header & 1 == 0: a repeated run of (header >> 1) copies of one value stored in
 *                                                 ceil(width / 8) little-endian bytes;
 *                                header & 1 == 1: (header >> 1) groups of 8 bit-packed values (ts_bitpack.h).
 *
 * Pure functions over caller buffers, no allocation. Decoders validate everything they read: a run that goes past
 * the end of the input, a varint over 10 bytes or a value wider than `width` make them return -1 (never read out
 * of bounds). A final bit-packed run may be cut short by its writer: values whose bytes are missing are an error
 * too, since the caller asked for them. */
#ifndef TS_RLE_H
#define TS_RLE_H

#include <stddef.h>
#include <stdint.h>

/* Decodes exactly n values of width bits (0..32) from src[0..len) into out. Returns 0, or -1 when the input is
 * malformed or ends before n values. *used (may be NULL) receives the bytes consumed by the runs read. */
int ts_rle_decode32(const uint8_t *src, size_t len, int width, uint32_t *out, size_t n, size_t *used);
/* The same into bytes (width 0..8): levels. */
int ts_rle_decode8(const uint8_t *src, size_t len, int width, uint8_t *out, size_t n, size_t *used);

/* Upper bound of the bytes ts_rle_encode32 writes for n values of width bits. */
size_t ts_rle_max_bytes(size_t n, int width);
/* Encodes in[0..n) (values < 2^width, width 0..32) into dst (ts_rle_max_bytes bytes): runs of 8 or more equal
 * values as repeated runs, the rest bit-packed in groups of 8 (the last group padded with zeros). Returns the bytes
 * written. */
size_t ts_rle_encode32(const uint32_t *in, size_t n, int width, uint8_t *dst);
/* The same for byte values (width 0..8): levels. */
size_t ts_rle_encode8(const uint8_t *in, size_t n, int width, uint8_t *dst);

#endif
