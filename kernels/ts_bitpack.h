/* Bit packing as Parquet stores it (and its RLE/bit-packed hybrid and delta encodings build on): values of `width`
 * bits laid out least significant bit first, value i occupying bits [i*width, (i+1)*width) of the byte stream.
 * Pure functions over caller-owned buffers, no allocation, thread-safe.
 *
 * Unpacking never reads past src + src_len: groups of 32 values whose 8-byte loads stay inside the buffer take an
 * unrolled path specialised per width; the tail is read byte by byte. Values whose bits lie past src_len read as 0
 * (callers check lengths first when that matters). */
#ifndef TS_BITPACK_H
#define TS_BITPACK_H

#include <stddef.h>
#include <stdint.h>

/* Bytes holding n values of width bits: ceil(n * width / 8). */
static inline size_t ts_bitpack_bytes(size_t n, int width) { return (n * (size_t)width + 7) / 8; }

/* Unpacks n values of width bits (0..32) into out. */
void ts_unpack32(const uint8_t *src, size_t src_len, int width, uint32_t *out, size_t n);
/* Unpacks n values of width bits (0..64) into out. */
void ts_unpack64(const uint8_t *src, size_t src_len, int width, uint64_t *out, size_t n);
/* Packs the low width bits (0..32) of in[0..n) into dst, which must hold ts_bitpack_bytes(n, width) bytes (the
 * last byte's unused high bits are zero). */
void ts_pack32(const uint32_t *in, size_t n, int width, uint8_t *dst);
/* Packs the low width bits (0..64) of in[0..n) into dst (ts_bitpack_bytes(n, width) bytes). */
void ts_pack64(const uint64_t *in, size_t n, int width, uint8_t *dst);

/* Bits needed for the value v (0 for 0). */
static inline int ts_bit_width64(uint64_t v) { return v ? 64 - __builtin_clzll(v) : 0; }

/* Unsigned LEB128 varint at *p (< end): the value, advancing *p; returns 0, or -1 when it runs past end or over
 * 10 bytes. */
static inline int ts_uleb128(const uint8_t **p, const uint8_t *end, uint64_t *out)
{
    uint64_t v = 0;
    const uint8_t *q = *p;
    for (int shift = 0; shift < 70; shift += 7) {
        if (q >= end)
            return -1;
        const uint8_t b = *q++;
        v |= (uint64_t)(b & 0x7f) << (shift < 64 ? shift : 63);
        if (!(b & 0x80)) {
            *p = q, *out = v;
            return 0;
        }
    }
    return -1;
}

/* Writes v as unsigned LEB128 at dst (at most 10 bytes); returns the bytes written. */
static inline int ts_put_uleb128(uint8_t *dst, uint64_t v)
{
    int n = 0;
    while (v >= 0x80)
        dst[n++] = (uint8_t)(v | 0x80), v >>= 7;
    dst[n++] = (uint8_t)v;
    return n;
}

static inline int64_t ts_unzigzag64(uint64_t v) { return (int64_t)(v >> 1) ^ -(int64_t)(v & 1); }
static inline uint64_t ts_zigzag64(int64_t v) { return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63); }

#endif
