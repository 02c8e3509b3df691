#include "ts_rle.h"

#include <string.h>

#include "ts_bitpack.h"

/* One run's header and, for a repeated run, its value. Returns 0, or -1 on malformed input. */
typedef struct run {
    int packed;        /* 1: bit-packed groups */
    uint64_t count;    /* values in the run (groups * 8 when packed) */
    uint32_t value;    /* repeated run */
    const uint8_t *data; /* packed: the packed bytes */
    size_t avail;      /* packed: bytes of the run present in the input */
} run;

static int next_run(const uint8_t **p, const uint8_t *end, int width, run *r)
{
    uint64_t h;
    if (ts_uleb128(p, end, &h))
        return -1;
    r->packed = (int)(h & 1);
    if (r->packed) {
        const uint64_t groups = h >> 1;
        if (groups > (UINT64_C(1) << 40))
            return -1;
        r->count = groups * 8;
        const size_t bytes = (size_t)groups * (size_t)width, left = (size_t)(end - *p);
        r->data = *p, r->avail = bytes < left ? bytes : left;
        *p += r->avail;
        return 0;
    }
    r->count = h >> 1;
    const int nb = (width + 7) / 8;
    if (end - *p < nb)
        return -1;
    uint32_t v = 0;
    for (int b = 0; b < nb; b++)
        v |= (uint32_t)(*p)[b] << (8 * b);
    *p += nb;
    if (width < 32 && v >> width)
        return -1;
    r->value = v;
    return 0;
}

/* A bit-packed run's first `take` values into out. */
static void unpacked32(const run *r, int width, uint32_t *out, size_t take)
{
    ts_unpack32(r->data, r->avail, width, out, take);
}

static void unpacked8(const run *r, int width, uint8_t *out, size_t take)
{
    uint32_t tmp[256];
    for (size_t done = 0; done < take; done += 256) { /* 256 values are whole bytes for any width */
        const size_t k = take - done < 256 ? take - done : 256, off = done / 8 * (size_t)width;
        ts_unpack32(r->data + off, r->avail - off, width, tmp, k);
        for (size_t i = 0; i < k; i++)
            out[done + i] = (uint8_t)tmp[i];
    }
}

/* The decoder for an element type T of at most MAXW bits. */
#define RLE_DECODE(NAME, T, MAXW, UNPACK)                                                                        \
    int NAME(const uint8_t *src, size_t len, int width, T *out, size_t n, size_t *used)                          \
    {                                                                                                            \
        if (width < 0 || width > MAXW)                                                                           \
            return -1;                                                                                           \
        const uint8_t *p = src, *end = src + len;                                                                \
        size_t got = 0;                                                                                          \
        while (got < n) {                                                                                        \
            run r;                                                                                               \
            if (next_run(&p, end, width, &r))                                                                    \
                return -1;                                                                                       \
            const size_t take = r.count < n - got ? (size_t)r.count : n - got;                                   \
            if (r.packed && ts_bitpack_bytes(take, width) > r.avail)                                             \
                return -1;                                                                                       \
            if (r.packed)                                                                                        \
                UNPACK(&r, width, out + got, take);                                                              \
            else                                                                                                 \
                for (size_t i = 0; i < take; i++)                                                                \
                    out[got + i] = (T)r.value;                                                                   \
            got += take;                                                                                         \
        }                                                                                                        \
        if (used)                                                                                                \
            *used = (size_t)(p - src);                                                                           \
        return 0;                                                                                                \
    }

RLE_DECODE(ts_rle_decode32, uint32_t, 32, unpacked32)
RLE_DECODE(ts_rle_decode8, uint8_t, 8, unpacked8)

size_t ts_rle_max_bytes(size_t n, int width) { return (n / 8 + 2) * ((size_t)width + 24); }

/* Length of the run of values equal to in[i] starting at i. */
#define RUN_LENGTH(in, n, i, r)                                                                                  \
    do {                                                                                                         \
        (r) = 1;                                                                                                 \
        while ((i) + (r) < (n) && (in)[(i) + (r)] == (in)[i])                                                    \
            (r)++;                                                                                               \
    } while (0)

static size_t put_repeated(uint8_t *dst, size_t count, uint32_t value, int width)
{
    size_t o = (size_t)ts_put_uleb128(dst, (uint64_t)count << 1);
    for (int b = 0; b < (width + 7) / 8; b++)
        dst[o++] = (uint8_t)(value >> (8 * b));
    return o;
}

/* The encoder for an element type T: runs of 8 or more equal values repeated, the rest bit-packed in groups of 8
 * until such a run starts at a group boundary (the last group padded with zeros). */
#define RLE_ENCODE(NAME, T)                                                                                      \
    size_t NAME(const T *in, size_t n, int width, uint8_t *dst)                                                  \
    {                                                                                                            \
        size_t o = 0, i = 0;                                                                                     \
        while (i < n) {                                                                                          \
            size_t r;                                                                                            \
            RUN_LENGTH(in, n, i, r);                                                                             \
            if (r >= 8) {                                                                                        \
                o += put_repeated(dst + o, r, in[i], width);                                                     \
                i += r;                                                                                          \
                continue;                                                                                        \
            }                                                                                                    \
            const size_t start = i;                                                                              \
            do {                                                                                                 \
                i = i + 8 < n ? i + 8 : n;                                                                       \
                if (i < n)                                                                                       \
                    RUN_LENGTH(in, n, i, r);                                                                     \
            } while (i < n && r < 8);                                                                            \
            const size_t vals = i - start, groups = (vals + 7) / 8;                                              \
            o += (size_t)ts_put_uleb128(dst + o, (uint64_t)groups << 1 | 1);                                     \
            for (size_t g = 0; g < groups; g++) {                                                                \
                uint32_t v[8] = {0};                                                                             \
                for (size_t k = 0; k < 8 && g * 8 + k < vals; k++)                                               \
                    v[k] = in[start + g * 8 + k];                                                                \
                ts_pack32(v, 8, width, dst + o);                                                                 \
                o += (size_t)width;                                                                              \
            }                                                                                                    \
        }                                                                                                        \
        return o;                                                                                                \
    }

RLE_ENCODE(ts_rle_encode32, uint32_t)
RLE_ENCODE(ts_rle_encode8, uint8_t)
