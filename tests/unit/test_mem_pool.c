/* ts_mem's pool of freed mappings: a freed large block serves later requests, a much larger one is cut (its head
 * serves the request, its tail returns to the pool at a 2 MiB boundary), every piece stays usable, growable and
 * freeable on its own. Addresses are checked to prove reuse (a mapping's payload starts TS_ALIGN bytes in). Under
 * ASan or TS_MEM_HEAP=1 blocks come from the C heap and there is no pool: only the usability checks apply.
 * ts_mem_trim_pool gives pooled pages back: the resident set shrinks by what was pooled beyond the bound. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ts_mem.h"
#include "ts_test.h"

#define MIB ((size_t)1 << 20)

static int fill_check(unsigned char *p, size_t n, unsigned char v)
{
    memset(p, v, n);
    for (size_t i = 0; i < n; i += 4096)
        if (p[i] != v)
            return 0;
    return p[n - 1] == v;
}

int main(void)
{
    const char *heap = getenv("TS_MEM_HEAP");
#ifdef __SANITIZE_ADDRESS__
    const int pooled = heap && !strcmp(heap, "0");
#else
    const int pooled = !(heap && *heap && strcmp(heap, "0"));
#endif
    unsigned char *big = NULL, *a = NULL, *b = NULL, *c = NULL;
    CHECK_OK(ts_alloc(32 * MIB, (void **)&big));
    CHECK(fill_check(big, 32 * MIB, 1), "32 MiB block usable");
    ts_free(big); /* pooled */
    CHECK_OK(ts_alloc(3 * MIB, (void **)&a)); /* the head of the pooled 32 MiB, cut at 4 MiB */
    if (pooled)
        CHECK(a == big, "3 MiB served by the head of the freed 32 MiB block (%p vs %p)", (void *)a, (void *)big);
    CHECK_OK(ts_alloc(3 * MIB, (void **)&b)); /* the tail's head */
    if (pooled)
        CHECK(b == big + 4 * MIB, "next 3 MiB from the tail, at the 2 MiB boundary after the first (offset %td)",
              b - big);
    CHECK(fill_check(a, 3 * MIB, 2) && fill_check(b, 3 * MIB, 3), "pieces usable");
    CHECK(a[0] == 2 && a[3 * MIB - 1] == 2, "writing the second piece left the first intact");
    /* a piece grows (mremap of its own range) and keeps its content */
    CHECK_OK(ts_realloc((void **)&a, 3 * MIB, 40 * MIB));
    CHECK(a[0] == 2 && a[3 * MIB - 1] == 2, "content kept across growth");
    CHECK(fill_check(a, 40 * MIB, 4), "grown piece usable");
    CHECK(b[0] == 3 && b[3 * MIB - 1] == 3, "the neighbouring piece is untouched by the growth");
    /* a zeroed request served from the pool is zero */
    ts_free(b);
    CHECK_OK(ts_calloc(2 * MIB, (void **)&c));
    int zero = 1;
    for (size_t i = 0; i < 2 * MIB; i += 997)
        zero &= c[i] == 0;
    CHECK(zero, "ts_calloc from the pool is zeroed");
    ts_free(a), ts_free(c);
    /* trimming: a freed, touched 64 MiB block stays resident in the pool until the pool is trimmed below it */
    ts_mem_trim_pool(0);
    unsigned char *d = NULL;
    CHECK_OK(ts_alloc(64 * MIB, (void **)&d));
    CHECK(fill_check(d, 64 * MIB, 5), "64 MiB block usable");
    ts_free(d);
    const int64_t pooled_rss = ts_rss_bytes();
    ts_mem_trim_pool(80 * MIB); /* within the bound (the mapping is the block plus its header, page-rounded): kept */
    const int64_t kept_rss = ts_rss_bytes();
    ts_mem_trim_pool(0);
    const int64_t trimmed_rss = ts_rss_bytes();
    if (pooled && pooled_rss > 0) {
        CHECK(kept_rss > pooled_rss - 8 * (int64_t)MIB, "a pool within the bound is kept (%lld -> %lld bytes)",
              (long long)pooled_rss, (long long)kept_rss);
        CHECK(trimmed_rss < kept_rss - 56 * (int64_t)MIB, "trimming to 0 gives the 64 MiB back (%lld -> %lld bytes)",
              (long long)kept_rss, (long long)trimmed_rss);
    }
    return TS_TEST_DONE("test_mem_pool");
}
