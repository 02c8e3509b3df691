#include "ts_bitpack.h"

#include <string.h>

static inline uint64_t load64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    return v;
}

/* Bits [bit, bit + width) of src, width <= 64, reading only bytes below len (missing bytes read as 0). */
static uint64_t bits_safe(const uint8_t *src, size_t len, size_t bit, int width)
{
    uint64_t v = 0;
    const size_t first = bit >> 3, last = (bit + (size_t)width + 7) >> 3; /* bytes [first, last) */
    unsigned __int128 acc = 0;
    for (size_t b = first; b < last && b < len; b++)
        acc |= (unsigned __int128)src[b] << (8 * (b - first));
    v = (uint64_t)(acc >> (bit & 7));
    return width == 64 ? v : v & ((UINT64_C(1) << width) - 1);
}

/* 32 values of a constant width W from 4*W bytes: with W known the loop unrolls into constant shifts and loads.
 * Each value is one 8-byte load at its first byte, so the group needs 4*W + 8 readable bytes. */
#define UNPACK32_GROUP(W)                                                                                        \
    static void unpack32_w##W(const uint8_t *in, uint32_t *out)                                                  \
    {                                                                                                            \
        for (int i = 0; i < 32; i++) {                                                                           \
            const unsigned bit = (unsigned)i * W;                                                                \
            out[i] = (uint32_t)((load64(in + bit / 8) >> (bit & 7)) & ((UINT64_C(1) << W) - 1));               \
        }                                                                                                        \
    }
#define X(W) UNPACK32_GROUP(W)
X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11) X(12) X(13) X(14) X(15) X(16)
X(17) X(18) X(19) X(20) X(21) X(22) X(23) X(24) X(25) X(26) X(27) X(28) X(29) X(30) X(31) X(32)
#undef X

typedef void (*unpack32_fn)(const uint8_t *, uint32_t *);
static const unpack32_fn UNPACK32[33] = {
    NULL, unpack32_w1, unpack32_w2, unpack32_w3, unpack32_w4, unpack32_w5, unpack32_w6, unpack32_w7, unpack32_w8,
    unpack32_w9, unpack32_w10, unpack32_w11, unpack32_w12, unpack32_w13, unpack32_w14, unpack32_w15, unpack32_w16,
    unpack32_w17, unpack32_w18, unpack32_w19, unpack32_w20, unpack32_w21, unpack32_w22, unpack32_w23, unpack32_w24,
    unpack32_w25, unpack32_w26, unpack32_w27, unpack32_w28, unpack32_w29, unpack32_w30, unpack32_w31, unpack32_w32};

void ts_unpack32(const uint8_t *src, size_t src_len, int width, uint32_t *out, size_t n)
{
    if (width <= 0) {
        memset(out, 0, n * sizeof *out);
        return;
    }
    size_t i = 0;
    const size_t group = 4 * (size_t)width; /* bytes of 32 values */
    for (; i + 32 <= n && (i / 32) * group + group + 8 <= src_len; i += 32)
        UNPACK32[width](src + (i / 32) * group, out + i);
    for (; i < n; i++)
        out[i] = (uint32_t)bits_safe(src, src_len, i * (size_t)width, width);
}

void ts_unpack64(const uint8_t *src, size_t src_len, int width, uint64_t *out, size_t n)
{
    if (width <= 0) {
        memset(out, 0, n * sizeof *out);
        return;
    }
    size_t i = 0;
    if (width <= 56) { /* a value's bits fit one 8-byte load at its first byte */
        const uint64_t mask = (UINT64_C(1) << width) - 1;
        for (; i < n; i++) {
            const size_t bit = i * (size_t)width;
            if ((bit >> 3) + 8 > src_len)
                break;
            out[i] = (load64(src + (bit >> 3)) >> (bit & 7)) & mask;
        }
    } else {
        const uint64_t mask = width == 64 ? ~UINT64_C(0) : (UINT64_C(1) << width) - 1;
        for (; i < n; i++) {
            const size_t bit = i * (size_t)width;
            if ((bit >> 3) + 16 > src_len)
                break;
            const unsigned s = bit & 7;
            const uint64_t lo = load64(src + (bit >> 3)), hi = load64(src + (bit >> 3) + 8);
            out[i] = (s ? (lo >> s) | (hi << (64 - s)) : lo) & mask;
        }
    }
    for (; i < n; i++)
        out[i] = bits_safe(src, src_len, i * (size_t)width, width);
}

void ts_pack64(const uint64_t *in, size_t n, int width, uint8_t *dst)
{
    const size_t bytes = ts_bitpack_bytes(n, width);
    memset(dst, 0, bytes);
    if (width <= 0)
        return;
    const uint64_t mask = width == 64 ? ~UINT64_C(0) : (UINT64_C(1) << width) - 1;
    size_t bit = 0;
    for (size_t i = 0; i < n; i++, bit += (size_t)width) {
        unsigned __int128 v = (unsigned __int128)(in[i] & mask) << (bit & 7);
        for (size_t b = bit >> 3; v; b++, v >>= 8)
            dst[b] |= (uint8_t)v;
    }
}

void ts_pack32(const uint32_t *in, size_t n, int width, uint8_t *dst)
{
    const size_t bytes = ts_bitpack_bytes(n, width);
    memset(dst, 0, bytes);
    if (width <= 0)
        return;
    const uint64_t mask = (UINT64_C(1) << width) - 1;
    /* accumulate in a 64-bit register and flush whole bytes */
    uint64_t acc = 0;
    int nbits = 0;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        acc |= ((uint64_t)in[i] & mask) << nbits;
        nbits += width;
        while (nbits >= 8) {
            dst[o++] = (uint8_t)acc;
            acc >>= 8, nbits -= 8;
        }
    }
    if (nbits)
        dst[o] = (uint8_t)acc;
}
