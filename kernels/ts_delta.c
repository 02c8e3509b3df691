#include "ts_delta.h"

#include "ts_bitpack.h"

typedef struct header {
    uint64_t block, mini, count, per_mini;
    uint64_t first;
} header;

static int read_header(const uint8_t **p, const uint8_t *end, header *h)
{
    uint64_t first;
    if (ts_uleb128(p, end, &h->block) || ts_uleb128(p, end, &h->mini) || ts_uleb128(p, end, &h->count) ||
        ts_uleb128(p, end, &first))
        return -1;
    if (h->block == 0 || h->block % 128 || h->block > (UINT64_C(1) << 31) || h->mini == 0 || h->block % h->mini ||
        (h->block / h->mini) % 32)
        return -1;
    h->per_mini = h->block / h->mini;
    h->first = (uint64_t)ts_unzigzag64(first);
    return 0;
}

int ts_delta_count(const uint8_t *src, size_t len, size_t *count)
{
    header h;
    const uint8_t *p = src;
    if (read_header(&p, src + len, &h) || h.count > SIZE_MAX / 16)
        return -1;
    *count = (size_t)h.count;
    return 0;
}

int ts_delta_decode(const uint8_t *src, size_t len, uint64_t *out, size_t cap, size_t *count, size_t *used)
{
    const uint8_t *p = src, *end = src + len;
    header h;
    if (read_header(&p, end, &h) || h.count > cap)
        return -1;
    const size_t n = (size_t)h.count;
    *count = n;
    if (n == 0) {
        if (used)
            *used = (size_t)(p - src);
        return 0;
    }
    out[0] = h.first;
    size_t got = 1;
    uint64_t prev = h.first;
    while (got < n) {
        uint64_t zz;
        if (ts_uleb128(&p, end, &zz) || (uint64_t)(end - p) < h.mini)
            return -1;
        const uint64_t min_delta = (uint64_t)ts_unzigzag64(zz);
        const uint8_t *widths = p;
        p += h.mini;
        for (uint64_t m = 0; m < h.mini && got < n; m++) {
            const int w = widths[m];
            if (w > 64)
                return -1;
            const size_t take = n - got < h.per_mini ? n - got : (size_t)h.per_mini;
            const size_t bytes = (size_t)h.per_mini * (size_t)w / 8, left = (size_t)(end - p);
            if (ts_bitpack_bytes(take, w) > left)
                return -1;
            uint64_t *d = out + got;
            ts_unpack64(p, bytes < left ? bytes : left, w, d, take);
            for (size_t i = 0; i < take; i++) /* wrapping prefix sum */
                d[i] = prev = prev + min_delta + d[i];
            got += take;
            p += bytes < left ? bytes : left;
        }
    }
    if (used)
        *used = (size_t)(p - src);
    return 0;
}
