#include "ts_parquet_decode.h"

#include <stdio.h>
#include <string.h>

#include "ts_bitpack.h"
#include "ts_delta.h"
#include "ts_parquet_meta.h"
#include "ts_rle.h"

int ts_pq_phys_width(int phys, int32_t type_length)
{
    switch (phys) {
    case TS_PQ_INT32: case TS_PQ_FLOAT: return 4;
    case TS_PQ_INT64: case TS_PQ_DOUBLE: return 8;
    case TS_PQ_INT96: return 12;
    case TS_PQ_FLBA: return type_length;
    default: return 0;
    }
}

const char *ts_pq_encoding_name(int e)
{
    static const char *const names[] = {"PLAIN", "GROUP_VAR_INT", "PLAIN_DICTIONARY", "RLE", "BIT_PACKED",
                                        "DELTA_BINARY_PACKED", "DELTA_LENGTH_BYTE_ARRAY", "DELTA_BYTE_ARRAY",
                                        "RLE_DICTIONARY", "BYTE_STREAM_SPLIT"};
    static _Thread_local char buf[24];
    if (e >= 0 && e < 10)
        return names[e];
    snprintf(buf, sizeof buf, "encoding %d", e);
    return buf;
}

static inline uint32_t le32(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }

ts_err ts_pq_plain_fixed(const uint8_t *data, size_t len, size_t n, int width, const uint8_t **vals)
{
    if (width <= 0 || n > len / (size_t)width)
        TS_FAIL(TS_ERR_DATA, "PLAIN values: %zu values of %d bytes do not fit the page's %zu bytes", n, width, len);
    *vals = data;
    return TS_OK;
}

ts_err ts_pq_plain_bools(const uint8_t *data, size_t len, size_t n, uint8_t *out)
{
    if (ts_bitpack_bytes(n, 1) > len)
        TS_FAIL(TS_ERR_DATA, "PLAIN booleans: %zu values need %zu bytes, the page has %zu", n, ts_bitpack_bytes(n, 1),
                len);
    for (size_t i = 0; i < n; i++)
        out[i] = (data[i >> 3] >> (i & 7)) & 1;
    return TS_OK;
}

ts_err ts_pq_rle_bools(const uint8_t *data, size_t len, size_t n, uint8_t *out)
{
    if (len < 4 || le32(data) > len - 4)
        TS_FAIL(TS_ERR_DATA, "RLE booleans: the length prefix runs past the page");
    if (ts_rle_decode8(data + 4, le32(data), 1, out, n, NULL))
        TS_FAIL(TS_ERR_DATA, "RLE booleans: malformed runs or fewer than %zu values", n);
    return TS_OK;
}

ts_err ts_pq_plain_strings(const uint8_t *data, size_t len, size_t n, ts_pq_sv *out)
{
    size_t at = 0;
    for (size_t i = 0; i < n; i++) {
        if (len - at < 4)
            TS_FAIL(TS_ERR_DATA, "PLAIN strings: value %zu of %zu starts past the page's end", i + 1, n);
        const uint32_t l = le32(data + at);
        at += 4;
        if (l > len - at)
            TS_FAIL(TS_ERR_DATA, "PLAIN strings: value %zu says %u bytes, %zu are left in the page", i + 1, l, len - at);
        out[i].p = data + at, out[i].len = l;
        at += l;
    }
    return TS_OK;
}

ts_err ts_pq_plain_flba(const uint8_t *data, size_t len, size_t n, int width, ts_pq_sv *out)
{
    const uint8_t *v = data;
    TS_TRY(ts_pq_plain_fixed(data, len, n, width, &v));
    for (size_t i = 0; i < n; i++)
        out[i].p = v + i * (size_t)width, out[i].len = (uint32_t)width;
    return TS_OK;
}

ts_err ts_pq_dict_indices(const uint8_t *data, size_t len, size_t n, int32_t dict_size, uint32_t *out)
{
    if (n == 0)
        return TS_OK;
    if (len < 1 || data[0] > 32)
        TS_FAIL(TS_ERR_DATA, "dictionary indices: %s", len ? "bit width over 32" : "empty page");
    if (ts_rle_decode32(data + 1, len - 1, data[0], out, n, NULL))
        TS_FAIL(TS_ERR_DATA, "dictionary indices: malformed runs or fewer than %zu values", n);
    uint32_t max = 0; /* one vectorizable pass instead of a branch per value */
    for (size_t i = 0; i < n; i++)
        max = out[i] > max ? out[i] : max;
    if (max >= (uint32_t)dict_size)
        TS_FAIL(TS_ERR_DATA, "dictionary index %u is out of range (the dictionary has %d values)", max, dict_size);
    return TS_OK;
}

ts_err ts_pq_delta_ints(const uint8_t *data, size_t len, size_t n, int width, void *out, uint64_t *scratch)
{
    size_t count;
    if (ts_delta_decode(data, len, scratch, n, &count, NULL) || count != n)
        TS_FAIL(TS_ERR_DATA, "DELTA_BINARY_PACKED: malformed, or not the page's %zu values", n);
    if (width == 8)
        memcpy(out, scratch, n * 8);
    else
        for (size_t i = 0; i < n; i++)
            ((uint32_t *)out)[i] = (uint32_t)scratch[i];
    return TS_OK;
}

/* Lengths encoded with DELTA_BINARY_PACKED: n of them, each below 2^31; *used the bytes they take. */
static ts_err delta_lengths(const uint8_t *data, size_t len, size_t n, uint64_t *lens, const char *what, size_t *used)
{
    size_t count;
    if (ts_delta_decode(data, len, lens, n, &count, used) || count != n)
        TS_FAIL(TS_ERR_DATA, "%s: malformed lengths, or not the page's %zu values", what, n);
    uint64_t bad = 0;
    for (size_t i = 0; i < n; i++)
        bad |= lens[i] >> 31;
    if (bad)
        TS_FAIL(TS_ERR_DATA, "%s: a negative or huge length", what);
    return TS_OK;
}

ts_err ts_pq_dlba_strings(const uint8_t *data, size_t len, size_t n, ts_pq_sv *out, uint64_t *lens)
{
    size_t at;
    TS_TRY(delta_lengths(data, len, n, lens, "DELTA_LENGTH_BYTE_ARRAY", &at));
    for (size_t i = 0; i < n; i++) {
        if (lens[i] > len - at)
            TS_FAIL(TS_ERR_DATA, "DELTA_LENGTH_BYTE_ARRAY: value %zu runs past the page's end", i + 1);
        out[i].p = data + at, out[i].len = (uint32_t)lens[i];
        at += lens[i];
    }
    return TS_OK;
}

ts_err ts_pq_dba_prepare(const uint8_t *data, size_t len, size_t n, uint64_t *pre, uint64_t *suf, uint64_t *scratch,
                         size_t *bytes, size_t *suffix_at)
{
    (void)scratch;
    size_t a, b;
    TS_TRY(delta_lengths(data, len, n, pre, "DELTA_BYTE_ARRAY prefixes", &a));
    TS_TRY(delta_lengths(data + a, len - a, n, suf, "DELTA_BYTE_ARRAY suffixes", &b));
    uint64_t total = 0, suffixes = 0, prev = 0;
    for (size_t i = 0; i < n; i++) {
        if (pre[i] > prev)
            TS_FAIL(TS_ERR_DATA, "DELTA_BYTE_ARRAY: value %zu takes a %llu-byte prefix of a %llu-byte value", i + 1,
                    (unsigned long long)pre[i], (unsigned long long)prev);
        prev = pre[i] + suf[i];
        total += prev, suffixes += suf[i];
        if (total > (UINT64_C(1) << 40))
            TS_FAIL(TS_ERR_DATA, "DELTA_BYTE_ARRAY: the values would take over 1 TiB");
    }
    if (suffixes > len - a - b)
        TS_FAIL(TS_ERR_DATA, "DELTA_BYTE_ARRAY: the suffixes run past the page's end");
    *bytes = (size_t)total, *suffix_at = a + b;
    return TS_OK;
}

ts_err ts_pq_dba_build(const uint8_t *data, size_t len, size_t n, const uint64_t *pre, const uint64_t *suf,
                       size_t suffix_at, uint8_t *buf, ts_pq_sv *out)
{
    (void)len; /* checked by ts_pq_dba_prepare */
    const uint8_t *s = data + suffix_at, *prev = buf;
    uint8_t *o = buf;
    for (size_t i = 0; i < n; i++) {
        memmove(o, prev, pre[i]); /* the prefix of the previous value (just written before o) */
        memcpy(o + pre[i], s, suf[i]);
        s += suf[i];
        out[i].p = o, out[i].len = (uint32_t)(pre[i] + suf[i]);
        prev = o;
        o += pre[i] + suf[i];
    }
    return TS_OK;
}

ts_err ts_pq_byte_stream_split(const uint8_t *data, size_t len, size_t n, int width, uint8_t *out)
{
    if (width <= 0 || n > len / (size_t)width)
        TS_FAIL(TS_ERR_DATA, "BYTE_STREAM_SPLIT: %zu values of %d bytes do not fit the page's %zu bytes", n, width, len);
    if (width == 4) {
        const uint8_t *s0 = data, *s1 = data + n, *s2 = data + 2 * n, *s3 = data + 3 * n;
        for (size_t i = 0; i < n; i++)
            out[4 * i] = s0[i], out[4 * i + 1] = s1[i], out[4 * i + 2] = s2[i], out[4 * i + 3] = s3[i];
        return TS_OK;
    }
    for (int k = 0; k < width; k++) {
        const uint8_t *s = data + (size_t)k * n;
        for (size_t i = 0; i < n; i++)
            out[i * (size_t)width + (size_t)k] = s[i];
    }
    return TS_OK;
}
