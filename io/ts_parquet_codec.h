/* Parquet page compression: UNCOMPRESSED, SNAPPY (libsnappy's C API), GZIP (zlib, gzip framing) and ZSTD
 * (libzstd). Per thread, no MPI. Other codecs (LZ4, LZ4_RAW, BROTLI, LZO) are refused with their name. */
#ifndef TS_PARQUET_CODEC_H
#define TS_PARQUET_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "ts_error.h"

/* "SNAPPY", "ZSTD", ... ("codec 12" for unknown values; static or thread-local storage). */
const char *ts_pq_codec_name(int codec);
/* 1 when the codec can be read and written here. */
int ts_pq_codec_supported(int codec);

/* Decompresses src[0..len) into dst, which holds exactly want bytes (the page header's uncompressed size): the
 * data must decompress to exactly that many bytes, else TS_ERR_DATA saying what was found. */
ts_err ts_pq_decompress(int codec, const uint8_t *src, size_t len, uint8_t *dst, size_t want);

/* Checks, before anything is allocated, that len compressed bytes can produce want bytes: a SNAPPY stream states
 * its size, ZSTD frames normally do, and deflate cannot expand more than 1032 times. TS_ERR_DATA otherwise, so a
 * lying page header cannot make the reader allocate without bound. */
ts_err ts_pq_check_sizes(int codec, const uint8_t *src, size_t len, size_t want);

/* Upper bound of the compressed size of len bytes. */
size_t ts_pq_compress_bound(int codec, size_t len);
/* Compresses src[0..len) into dst (ts_pq_compress_bound bytes); *out_len receives the compressed size. level:
 * the codec's level (0: its default). */
ts_err ts_pq_compress(int codec, int level, const uint8_t *src, size_t len, uint8_t *dst, size_t *out_len);

#endif
