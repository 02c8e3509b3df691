#include "ts_parquet_codec.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <snappy-c.h>
#include <zlib.h>
#include <zstd.h>

#include "ts_parquet_meta.h"

const char *ts_pq_codec_name(int codec)
{
    static const char *const names[] = {"UNCOMPRESSED", "SNAPPY", "GZIP", "LZO", "BROTLI", "LZ4", "ZSTD", "LZ4_RAW"};
    static _Thread_local char buf[24];
    if (codec >= 0 && codec < 8)
        return names[codec];
    snprintf(buf, sizeof buf, "codec %d", codec);
    return buf;
}

int ts_pq_codec_supported(int codec)
{
    return codec == TS_PQ_UNCOMPRESSED || codec == TS_PQ_SNAPPY || codec == TS_PQ_GZIP || codec == TS_PQ_ZSTD;
}

/* gzip (or zlib) framing, possibly several members: everything must inflate to exactly want bytes (pages are
 * smaller than 2^31 bytes: the header's sizes are int32). */
static ts_err inflate_all(const uint8_t *src, size_t len, uint8_t *dst, size_t want)
{
    if (len > INT32_MAX || want > INT32_MAX)
        TS_FAIL(TS_ERR_DATA, "a GZIP page over 2 GiB");
    z_stream z;
    memset(&z, 0, sizeof z);
    if (inflateInit2(&z, 15 + 32) != Z_OK) /* 32: detect gzip or zlib headers */
        TS_FAIL(TS_ERR_NOMEM, "out of memory starting zlib");
    z.next_in = (Bytef *)src, z.avail_in = (uInt)len;
    z.next_out = dst, z.avail_out = (uInt)want;
    int rc;
    for (;;) {
        rc = inflate(&z, Z_NO_FLUSH);
        if (rc == Z_OK) /* progress was made: go on until the end, or until no progress is possible */
            continue;
        if (rc == Z_STREAM_END && z.avail_in && z.avail_out && inflateReset(&z) == Z_OK)
            continue; /* the next gzip member */
        break;
    }
    const char *msg = z.msg;
    const int full = z.avail_out == 0, input_left = z.avail_in != 0;
    inflateEnd(&z);
    if (rc == Z_BUF_ERROR && full && input_left)
        TS_FAIL(TS_ERR_DATA, "GZIP data inflate to more than the %zu bytes the page header says", want);
    if (rc == Z_BUF_ERROR)
        TS_FAIL(TS_ERR_DATA, "GZIP data are truncated");
    if (rc != Z_STREAM_END)
        TS_FAIL(TS_ERR_DATA, "GZIP data are corrupt (%s)", msg ? msg : "inflate failed");
    if (!full)
        TS_FAIL(TS_ERR_DATA, "GZIP data inflate to %zu bytes, the page header says %zu", want - z.avail_out, want);
    return TS_OK;
}

ts_err ts_pq_check_sizes(int codec, const uint8_t *src, size_t len, size_t want)
{
    switch (codec) {
    case TS_PQ_UNCOMPRESSED:
        if (len != want)
            TS_FAIL(TS_ERR_DATA, "an uncompressed page has %zu bytes, its header says %zu", len, want);
        return TS_OK;
    case TS_PQ_SNAPPY: {
        size_t n = 0;
        if (snappy_uncompressed_length((const char *)src, len, &n) != SNAPPY_OK)
            TS_FAIL(TS_ERR_DATA, "SNAPPY data are corrupt (no valid length header)");
        if (n != want)
            TS_FAIL(TS_ERR_DATA, "SNAPPY data decompress to %zu bytes, the page header says %zu", n, want);
        return TS_OK;
    }
    case TS_PQ_GZIP:
        if (want > len * 1032 + 1024)
            TS_FAIL(TS_ERR_DATA, "the page header says %zu bytes, more than %zu GZIP bytes can hold", want, len);
        return TS_OK;
    case TS_PQ_ZSTD: {
        const unsigned long long n = ZSTD_getFrameContentSize(src, len);
        if (n == ZSTD_CONTENTSIZE_ERROR)
            TS_FAIL(TS_ERR_DATA, "ZSTD data are corrupt (no valid frame header)");
        if (n != ZSTD_CONTENTSIZE_UNKNOWN && n > want)
            TS_FAIL(TS_ERR_DATA, "ZSTD data decompress to %llu bytes, the page header says %zu", n, want);
        if (n != want && want > len * 32768 + (1u << 20)) /* size unknown (or several frames): a plausible ratio */
            TS_FAIL(TS_ERR_DATA, "the page header says %zu bytes from %zu ZSTD bytes (implausible)", want, len);
        return TS_OK;
    }
    default: return TS_OK; /* refused by ts_pq_decompress */
    }
}


ts_err ts_pq_decompress(int codec, const uint8_t *src, size_t len, uint8_t *dst, size_t want)
{
    TS_TRY(ts_pq_check_sizes(codec, src, len, want));
    switch (codec) {
    case TS_PQ_UNCOMPRESSED: memcpy(dst, src, len); return TS_OK;
    case TS_PQ_SNAPPY: {
        size_t n = want;
        if (snappy_uncompress((const char *)src, len, (char *)dst, &n) != SNAPPY_OK || n != want)
            TS_FAIL(TS_ERR_DATA, "SNAPPY data are corrupt");
        return TS_OK;
    }
    case TS_PQ_GZIP: return inflate_all(src, len, dst, want);
    case TS_PQ_ZSTD: {
        const size_t n = ZSTD_decompress(dst, want, src, len);
        if (ZSTD_isError(n))
            TS_FAIL(TS_ERR_DATA, "ZSTD data are corrupt (%s)", ZSTD_getErrorName(n));
        if (n != want)
            TS_FAIL(TS_ERR_DATA, "ZSTD data decompress to %zu bytes, the page header says %zu", n, want);
        return TS_OK;
    }
    default:
        TS_FAIL(TS_ERR_DATA, "compression codec %s is not supported (supported: UNCOMPRESSED, SNAPPY, GZIP, ZSTD)",
                ts_pq_codec_name(codec));
    }
}

size_t ts_pq_compress_bound(int codec, size_t len)
{
    switch (codec) {
    case TS_PQ_SNAPPY: return snappy_max_compressed_length(len);
    case TS_PQ_GZIP: return (size_t)compressBound((uLong)len) + 64;
    case TS_PQ_ZSTD: return ZSTD_compressBound(len);
    default: return len;
    }
}

static ts_err deflate_gzip(int level, const uint8_t *src, size_t len, uint8_t *dst, size_t cap, size_t *out_len)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    if (deflateInit2(&z, level ? level : Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        TS_FAIL(TS_ERR_NOMEM, "out of memory starting zlib");
    z.next_in = (Bytef *)src, z.avail_in = (uInt)len;
    z.next_out = dst, z.avail_out = (uInt)cap;
    const int rc = deflate(&z, Z_FINISH);
    *out_len = z.total_out;
    deflateEnd(&z);
    if (rc != Z_STREAM_END)
        TS_FAIL(TS_ERR_INTERNAL, "gzip compression failed (%d)", rc);
    return TS_OK;
}

ts_err ts_pq_compress(int codec, int level, const uint8_t *src, size_t len, uint8_t *dst, size_t *out_len)
{
    const size_t cap = ts_pq_compress_bound(codec, len);
    switch (codec) {
    case TS_PQ_UNCOMPRESSED:
        memcpy(dst, src, len);
        *out_len = len;
        return TS_OK;
    case TS_PQ_SNAPPY: {
        size_t n = cap;
        if (snappy_compress((const char *)src, len, (char *)dst, &n) != SNAPPY_OK)
            TS_FAIL(TS_ERR_INTERNAL, "snappy compression failed");
        *out_len = n;
        return TS_OK;
    }
    case TS_PQ_GZIP:
        if (len > (1u << 30))
            TS_FAIL(TS_ERR_USAGE, "a page of %zu bytes is too large for GZIP here", len);
        return deflate_gzip(level, src, len, dst, cap, out_len);
    case TS_PQ_ZSTD: {
        const size_t n = ZSTD_compress(dst, cap, src, len, level ? level : 3);
        if (ZSTD_isError(n))
            TS_FAIL(TS_ERR_INTERNAL, "zstd compression failed (%s)", ZSTD_getErrorName(n));
        *out_len = n;
        return TS_OK;
    }
    default: TS_FAIL(TS_ERR_USAGE, "cannot write compression codec %s", ts_pq_codec_name(codec));
    }
}
