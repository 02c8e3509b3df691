/* Parquet's DELTA_BINARY_PACKED encoding (integers; the lengths of DELTA_LENGTH_BYTE_ARRAY and DELTA_BYTE_ARRAY):
 *
 *   header := <block size> <miniblocks per block> <value count> <first value, zigzag>   (ULEB128 varints)
 *   block  := <min delta, zigzag varint> <one bit-width byte per miniblock> <miniblocks, bit-packed deltas - min>
 *
 * Values are rebuilt by prefix sums in wrapping 64-bit arithmetic (an INT32 column narrows the result, which is
 * the same as 32-bit wrapping). Pure functions, no allocation; the decoder validates every length and width it
 * reads and never reads past its input. */
#ifndef TS_DELTA_H
#define TS_DELTA_H

#include <stddef.h>
#include <stdint.h>

/* Decodes src[0..len): *count receives the header's value count, which must be at most cap; the values go to
 * out[0..*count). *used (may be NULL) receives the bytes the encoding occupies (through the last miniblock that
 * holds a value, padded miniblocks included). Returns 0, or -1 when the input is malformed or cut short. */
int ts_delta_decode(const uint8_t *src, size_t len, uint64_t *out, size_t cap, size_t *count, size_t *used);

/* The header's value count alone (to size buffers); -1 when the header is malformed. */
int ts_delta_count(const uint8_t *src, size_t len, size_t *count);

#endif
