#include "ts_mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

ts_err ts_alloc(size_t n, void **out)
{
    *out = NULL;
    if (n == 0)
        return TS_OK;
    const size_t rounded = (n + TS_ALIGN - 1) / TS_ALIGN * TS_ALIGN;
    void *p = aligned_alloc(TS_ALIGN, rounded);
    if (!p)
        TS_FAIL(TS_ERR_NOMEM, "out of memory allocating %zu bytes", n);
    *out = p;
    return TS_OK;
}

ts_err ts_realloc(void **p, size_t old_n, size_t new_n)
{
    void *q;
    TS_TRY(ts_alloc(new_n, &q));
    if (*p && q)
        memcpy(q, *p, old_n < new_n ? old_n : new_n);
    free(*p);
    *p = q;
    return TS_OK;
}

void ts_free(void *p) { free(p); }

ts_err ts_reserve(void **p, int64_t *cap, int64_t need, size_t elem)
{
    if (need <= *cap)
        return TS_OK;
    int64_t c = *cap < 1024 ? 1024 : *cap;
    while (c < need)
        c += c / 2;
    TS_TRY(ts_realloc(p, (size_t)*cap * elem, (size_t)c * elem));
    *cap = c;
    return TS_OK;
}

static int64_t status_kib(const char *key)
{
    FILE *f = fopen("/proc/self/status", "r");
    if (!f)
        return 0;
    char line[256];
    int64_t kib = 0;
    const size_t klen = strlen(key);
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, key, klen) == 0) {
            kib = strtoll(line + klen, NULL, 10);
            break;
        }
    }
    fclose(f);
    return kib * 1024;
}

int64_t ts_peak_rss_bytes(void) { return status_kib("VmHWM:"); }
int64_t ts_rss_bytes(void) { return status_kib("VmRSS:"); }
