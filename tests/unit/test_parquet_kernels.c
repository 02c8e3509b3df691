/* kernels/ts_bitpack, ts_rle, ts_delta: Parquet's bit packing, RLE/bit-packed hybrid and DELTA_BINARY_PACKED
 * against naive bit-by-bit references written here from the format specification, hand-checked byte strings from
 * the spec's examples, and malformed inputs that must be refused without reading out of bounds (the buffers are
 * sized exactly, so ASan catches an over-read). */
#include <stdlib.h>
#include <string.h>

#include "ts_bitpack.h"
#include "ts_delta.h"
#include "ts_rle.h"
#include "ts_test.h"

/* bit i of the stream, LSB first */
static int bit_of(const uint8_t *p, size_t i) { return (p[i >> 3] >> (i & 7)) & 1; }

static uint64_t naive_get(const uint8_t *p, size_t idx, int w)
{
    uint64_t v = 0;
    for (int b = 0; b < w; b++)
        v |= (uint64_t)bit_of(p, idx * (size_t)w + (size_t)b) << b;
    return v;
}

static void naive_put(uint8_t *p, size_t idx, int w, uint64_t v)
{
    for (int b = 0; b < w; b++) {
        const size_t i = idx * (size_t)w + (size_t)b;
        if ((v >> b) & 1)
            p[i >> 3] |= (uint8_t)(1u << (i & 7));
    }
}

static void test_bitpack(void)
{
    ts_test_rng r = ts_rng_seed(7);
    long bad = 0;
    for (int w = 0; w <= 64; w++) {
        for (size_t n = 0; n < 300; n += 1 + n / 3) {
            const size_t bytes = ts_bitpack_bytes(n, w);
            uint8_t *buf = malloc(bytes + 1), *packed = malloc(bytes + 1);
            uint64_t *vals = malloc(8 * (n + 1)), *got = malloc(8 * (n + 1));
            memset(buf, 0, bytes + 1);
            const uint64_t mask = w == 64 ? ~UINT64_C(0) : (UINT64_C(1) << w) - 1;
            for (size_t i = 0; i < n; i++) {
                vals[i] = ts_rng_next(&r) & mask;
                naive_put(buf, i, w, vals[i]);
            }
            /* exact-size copy so any over-read is caught */
            uint8_t *exact = malloc(bytes ? bytes : 1);
            memcpy(exact, buf, bytes);
            ts_unpack64(exact, bytes, w, got, n);
            for (size_t i = 0; i < n; i++)
                bad += got[i] != vals[i];
            if (w <= 32) {
                uint32_t *g32 = malloc(4 * (n + 1)), *v32 = malloc(4 * (n + 1));
                for (size_t i = 0; i < n; i++)
                    v32[i] = (uint32_t)vals[i];
                ts_unpack32(exact, bytes, w, g32, n);
                for (size_t i = 0; i < n; i++)
                    bad += g32[i] != v32[i];
                ts_pack32(v32, n, w, packed);
                bad += bytes && memcmp(packed, buf, bytes) != 0;
                free(g32), free(v32);
            }
            ts_pack64(vals, n, w, packed);
            bad += bytes && memcmp(packed, buf, bytes) != 0;
            free(exact), free(buf), free(packed), free(vals), free(got);
        }
    }
    CHECK(bad == 0, "%ld bit-packing mismatches against the bit-by-bit reference", bad);
    /* the spec's example: 0..7 with width 3 -> 10001000 11000110 11111010 */
    const uint8_t ex[3] = {0x88, 0xC6, 0xFA};
    uint32_t out[8];
    ts_unpack32(ex, 3, 3, out, 8);
    int ok = 1;
    for (int i = 0; i < 8; i++)
        ok &= out[i] == (uint32_t)i;
    CHECK(ok, "spec example 0..7 at width 3");
}

/* A naive decoder of the hybrid encoding, bit by bit, for checking the encoder. */
static int naive_rle(const uint8_t *p, size_t len, int w, uint32_t *out, size_t n)
{
    size_t at = 0, got = 0;
    while (got < n) {
        uint64_t h = 0;
        int shift = 0;
        for (;;) {
            if (at >= len)
                return -1;
            const uint8_t b = p[at++];
            h |= (uint64_t)(b & 0x7f) << shift;
            shift += 7;
            if (!(b & 0x80))
                break;
        }
        if (h & 1) {
            const size_t cnt = (size_t)(h >> 1) * 8;
            for (size_t i = 0; i < cnt && got < n; i++)
                out[got++] = (uint32_t)naive_get(p + at, i, w);
            at += (size_t)(h >> 1) * (size_t)w;
        } else {
            uint32_t v = 0;
            for (int b = 0; b < (w + 7) / 8; b++)
                v |= (uint32_t)p[at++] << (8 * b);
            for (uint64_t i = 0; i < (h >> 1) && got < n; i++)
                out[got++] = v;
        }
    }
    return 0;
}

static void test_rle(void)
{
    /* spec-style stream: repeated run of 5 x 3 (width 2), then one bit-packed group 0 1 2 3 0 1 2 3 */
    const uint8_t s[] = {5 << 1, 3, (1 << 1) | 1, 0xE4, 0xE4};
    uint32_t out[13];
    CHECK(ts_rle_decode32(s, sizeof s, 2, out, 13, NULL) == 0, "hand-made hybrid stream decodes");
    const uint32_t want[13] = {3, 3, 3, 3, 3, 0, 1, 2, 3, 0, 1, 2, 3};
    CHECK(!memcmp(out, want, sizeof want), "hand-made hybrid stream values");
    CHECK(ts_rle_decode32(s, sizeof s, 2, out, 14, NULL) != 0, "asking past the end fails");
    const uint8_t wide[] = {2 << 1, 0x05}; /* value 5 does not fit width 2 */
    CHECK(ts_rle_decode32(wide, sizeof wide, 2, out, 2, NULL) != 0, "a run value wider than the width fails");
    const uint8_t longv[] = {0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01};
    CHECK(ts_rle_decode32(longv, sizeof longv, 1, out, 1, NULL) != 0, "an 11-byte varint fails");
    const uint8_t cut[] = {(4 << 1) | 1, 0xff}; /* 32 bit-packed values promised, 8 present */
    uint8_t o8[32];
    CHECK(ts_rle_decode8(cut, sizeof cut, 1, o8, 8, NULL) == 0, "a cut bit-packed run gives the values present");
    CHECK(ts_rle_decode8(cut, sizeof cut, 1, o8, 9, NULL) != 0, "but not more");

    ts_test_rng r = ts_rng_seed(11);
    long bad = 0;
    for (int w = 0; w <= 32; w++)
        for (int shape = 0; shape < 3; shape++) {
            const size_t n = 1 + ts_rng_below(&r, 3000);
            uint32_t *in = malloc(4 * n), *dec = malloc(4 * n), *ref = malloc(4 * n);
            const uint64_t mask = w == 32 ? 0xffffffffu : (UINT64_C(1) << w) - 1;
            for (size_t i = 0; i < n; i++) {
                if (shape == 0)
                    in[i] = (uint32_t)(ts_rng_next(&r) & mask);
                else if (shape == 1)
                    in[i] = (uint32_t)((i / 37) & mask); /* long runs */
                else
                    in[i] = (uint32_t)((ts_rng_below(&r, 4) ? i / 5 : ts_rng_next(&r)) & mask);
            }
            uint8_t *enc = malloc(ts_rle_max_bytes(n, w));
            const size_t len = ts_rle_encode32(in, n, w, enc);
            bad += len > ts_rle_max_bytes(n, w);
            bad += naive_rle(enc, len, w, ref, n) != 0 || memcmp(ref, in, 4 * n) != 0;
            size_t used = 0;
            bad += ts_rle_decode32(enc, len, w, dec, n, &used) != 0 || memcmp(dec, in, 4 * n) != 0 || used != len;
            if (w <= 8) {
                uint8_t *b = malloc(n), *bd = malloc(n);
                for (size_t i = 0; i < n; i++)
                    b[i] = (uint8_t)in[i];
                const size_t l8 = ts_rle_encode8(b, n, w, enc);
                bad += ts_rle_decode8(enc, l8, w, bd, n, NULL) != 0 || memcmp(bd, b, n) != 0;
                free(b), free(bd);
            }
            free(in), free(dec), free(ref), free(enc);
        }
    CHECK(bad == 0, "%ld hybrid encode/decode mismatches against the naive decoder", bad);
}

/* DELTA_BINARY_PACKED written by a naive encoder from the spec (block 128, 4 miniblocks of 32). */
static size_t naive_delta(const int64_t *v, size_t n, uint8_t *out)
{
    size_t at = 0;
    at += (size_t)ts_put_uleb128(out + at, 128);
    at += (size_t)ts_put_uleb128(out + at, 4);
    at += (size_t)ts_put_uleb128(out + at, n);
    at += (size_t)ts_put_uleb128(out + at, ts_zigzag64(n ? v[0] : 0));
    for (size_t b = 1; b < n; b += 128) {
        const size_t m = n - b < 128 ? n - b : 128;
        uint64_t d[128];
        int64_t min = INT64_MAX;
        for (size_t i = 0; i < m; i++) {
            d[i] = (uint64_t)v[b + i] - (uint64_t)v[b + i - 1];
            min = (int64_t)d[i] < min ? (int64_t)d[i] : min;
        }
        at += (size_t)ts_put_uleb128(out + at, ts_zigzag64(min));
        uint8_t *widths = out + at;
        at += 4;
        for (int mb = 0; mb < 4; mb++) {
            uint64_t mx = 0;
            for (size_t i = (size_t)mb * 32; i < (size_t)mb * 32 + 32 && i < m; i++) {
                const uint64_t x = d[i] - (uint64_t)min;
                mx = x > mx ? x : mx;
            }
            const int w = (size_t)mb * 32 < m ? ts_bit_width64(mx) : 0;
            widths[mb] = (uint8_t)w;
            if ((size_t)mb * 32 >= m)
                continue; /* miniblocks past the values are not stored */
            memset(out + at, 0, (size_t)w * 4);
            for (size_t i = 0; i < 32; i++) {
                const size_t k = (size_t)mb * 32 + i;
                naive_put(out + at, i, w, k < m ? d[k] - (uint64_t)min : 0);
            }
            at += (size_t)w * 4;
        }
    }
    return at;
}

static void test_delta(void)
{
    /* the spec's example 1: 1 2 3 4 5 -> header (128, 4, 5, first 1), min delta 1, widths 0 */
    const uint8_t ex[] = {0x80, 0x01, 0x04, 0x05, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00};
    uint64_t out[300];
    size_t count, used;
    CHECK(ts_delta_decode(ex, sizeof ex, out, 300, &count, &used) == 0 && count == 5, "spec example decodes");
    int ok = 1;
    for (int i = 0; i < 5; i++)
        ok &= out[i] == (uint64_t)(i + 1);
    CHECK(ok && used == sizeof ex, "spec example values and length (used %zu)", used);

    ts_test_rng r = ts_rng_seed(5);
    long bad = 0;
    for (int t = 0; t < 200; t++) {
        const size_t n = ts_rng_below(&r, 600);
        int64_t *v = malloc(8 * (n + 1));
        for (size_t i = 0; i < n; i++)
            v[i] = t % 3 == 0 ? (int64_t)ts_rng_next(&r)
                              : t % 3 == 1 ? (int64_t)i * 1000 - 7 : (int64_t)ts_rng_range(&r, -50, 50);
        uint8_t *enc = malloc(64 + (n + 128) * 10);
        const size_t len = naive_delta(v, n, enc);
        uint64_t *dec = malloc(8 * (n + 1));
        bad += ts_delta_decode(enc, len, dec, n, &count, &used) != 0 || count != n || used != len;
        for (size_t i = 0; i < n && i < count; i++)
            bad += dec[i] != (uint64_t)v[i];
        /* cut inside the first block's bit widths (or the header): refused */
        bad += ts_delta_decode(enc, n > 1 ? 7 : len - 1, dec, n, &count, NULL) == 0;
        free(v), free(enc), free(dec);
    }
    CHECK(bad == 0, "%ld DELTA_BINARY_PACKED mismatches against the naive encoder", bad);
    const uint8_t badhdr[] = {0x81, 0x01, 0x04, 0x05, 0x02}; /* block size 129 */
    CHECK(ts_delta_decode(badhdr, sizeof badhdr, out, 300, &count, NULL) != 0, "a block size not a multiple of 128");
    const uint8_t many[] = {0x80, 0x01, 0x04, 0x90, 0x4e, 0x02}; /* 10000 values, cap 300 */
    CHECK(ts_delta_decode(many, sizeof many, out, 300, &count, NULL) != 0, "more values than the caller expects");
    const uint8_t wide[] = {0x80, 0x01, 0x04, 0x05, 0x02, 0x02, 65, 0, 0, 0};
    CHECK(ts_delta_decode(wide, sizeof wide, out, 300, &count, NULL) != 0, "a miniblock width over 64");
}

int main(void)
{
    test_bitpack();
    test_rle();
    test_delta();
    return TS_TEST_DONE("test_parquet_kernels");
}
