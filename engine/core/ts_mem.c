#include "ts_mem.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* Every block starts with a TS_ALIGN-byte header recording how it was obtained, so the payload stays aligned.
 * Large blocks are private anonymous mappings: growing them with mremap moves page tables instead of copying
 * bytes and re-faulting every page, which made column growth dominate ingest before. */
#define LARGE_BLOCK (size_t)(1 << 20)

typedef struct header {
    size_t mapped; /* bytes mapped (header included), 0 for heap blocks */
    int zeroed;    /* a fresh mapping: still all zero */
    int file;      /* a shared mapping of a file (ts_mem_map_file): unmapped when freed, never pooled or remapped */
} header;

_Static_assert(sizeof(header) <= TS_ALIGN, "header must fit in the alignment gap");

/* Transparent huge pages cut page faults 512-fold on multi-MiB columns; first-touch faults dominated ingest on
 * virtual machines. Only advice: the kernel may ignore it. */
static void advise_huge(void *p, size_t len)
{
#ifdef MADV_HUGEPAGE
    madvise(p, len, MADV_HUGEPAGE);
#else
    (void)p, (void)len;
#endif
}

static size_t page_round(size_t n) { return (n + 4095) & ~(size_t)4095; }

/* A small cache of freed large mappings. Operators allocate and free column-sized temporaries one after the
 * other; handing a freed mapping to the next request skips the page faults and kernel zeroing of fresh memory,
 * which cost more than the work itself on virtual machines. Bounded so idle memory stays small. */
#define POOL_SLOTS 64
static size_t g_pool_bytes = (size_t)4 << 30; /* ts_mem_set_pool_limit */

static struct {
    void *block[POOL_SLOTS];
    size_t len[POOL_SLOTS];
    size_t total;
} g_pool;

static int pool_give(void *h, size_t len);

/* A pooled mapping of at least len bytes: the best fit of at most twice len, else the head of the smallest larger
 * one, cut at a 2 MiB boundary (huge pages stay whole), its tail going back to the pool. Cutting lets the first
 * statement after a load reuse the load's freed buffers instead of faulting in fresh pages (each range is unmapped
 * or remapped on its own later: munmap and mremap work on any page-aligned range). NULL when nothing fits. */
static void *pool_take(size_t len)
{
    const size_t huge = (size_t)2 << 20;
    int best = -1, big = -1;
    for (int i = 0; i < POOL_SLOTS; i++) {
        if (!g_pool.block[i] || g_pool.len[i] < len)
            continue;
        if (g_pool.len[i] <= 2 * len && (best < 0 || g_pool.len[i] < g_pool.len[best]))
            best = i;
        else if (g_pool.len[i] > 2 * len && (big < 0 || g_pool.len[i] < g_pool.len[big]))
            big = i;
    }
    const int at = best >= 0 ? best : big;
    if (at < 0)
        return NULL;
    void *h = g_pool.block[at];
    const size_t have = g_pool.len[at], cut = (len + huge - 1) / huge * huge;
    g_pool.total -= have;
    g_pool.block[at] = NULL;
    if (best < 0 && cut < have) {
        header *tail = (header *)((char *)h + cut);
        tail->mapped = have - cut, tail->zeroed = 0, tail->file = 0;
        ((header *)h)->mapped = cut;
        if (!pool_give(tail, have - cut))
            munmap(tail, have - cut);
    }
    return h;
}

static int pool_give(void *h, size_t len)
{
    if (g_pool.total + len > g_pool_bytes)
        return 0;
    for (int i = 0; i < POOL_SLOTS; i++)
        if (!g_pool.block[i]) {
            g_pool.block[i] = h, g_pool.len[i] = len, g_pool.total += len;
            return 1;
        }
    return 0;
}

/* Memory checkers see nothing inside our own mappings: memcheck treats anonymous mappings as defined and never
 * leaked, and a pooled block hides a use after free. With TS_MEM_HEAP=1 in the environment (the valgrind tests set
 * it; the default under ASan) every block comes from the C heap instead, so the checker sees each block's bounds,
 * uninitialised bytes and leaks. TS_MEM_HEAP=0 keeps the mappings. */
static int use_mappings(void)
{
#ifdef __SANITIZE_ADDRESS__
    const int heap_default = 1;
#else
    const int heap_default = 0;
#endif
    static int cached = -1;
    if (cached < 0) {
        const char *v = getenv("TS_MEM_HEAP");
        cached = v && *v ? strcmp(v, "0") == 0 : !heap_default;
    }
    return cached;
}

static void *from_header(void *h) { return (char *)h + TS_ALIGN; }
static header *to_header(void *p) { return (header *)((char *)p - TS_ALIGN); }

static int64_t g_fail_after = -1; /* ts_mem_fail_after */

void ts_mem_fail_after(int64_t n) { g_fail_after = n; }

/* 1 when the test hook says this allocation must fail. */
static int injected_failure(void)
{
    if (g_fail_after < 0)
        return 0;
    if (g_fail_after == 0)
        return 1;
    g_fail_after--;
    return 0;
}

ts_err ts_alloc(size_t n, void **out)
{
    *out = NULL;
    if (n == 0)
        return TS_OK;
    if (injected_failure())
        TS_FAIL(TS_ERR_NOMEM, "out of memory allocating %zu bytes (injected)", n);
    void *h;
    if (n + TS_ALIGN >= LARGE_BLOCK && use_mappings()) {
        const size_t len = page_round(n + TS_ALIGN);
        if ((h = pool_take(len)) != NULL) {
            ((header *)h)->zeroed = 0;
        } else {
            h = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            if (h == MAP_FAILED)
                TS_FAIL(TS_ERR_NOMEM, "out of memory mapping %zu bytes", n);
            ((header *)h)->mapped = len, ((header *)h)->zeroed = 1, ((header *)h)->file = 0;
            advise_huge(h, len);
        }
    } else {
        h = aligned_alloc(TS_ALIGN, (n + 2 * TS_ALIGN - 1) / TS_ALIGN * TS_ALIGN);
        if (!h)
            TS_FAIL(TS_ERR_NOMEM, "out of memory allocating %zu bytes", n);
        ((header *)h)->mapped = 0, ((header *)h)->zeroed = 0, ((header *)h)->file = 0;
    }
    *out = from_header(h);
    return TS_OK;
}

ts_err ts_calloc(size_t n, void **out)
{
    TS_TRY(ts_alloc(n, out));
    if (*out && !to_header(*out)->zeroed) /* fresh mappings are already zero */
        memset(*out, 0, n);
    return TS_OK;
}

void *ts_big(size_t n)
{
    void *p = NULL;
    if (ts_alloc(n ? n : 1, &p) != TS_OK)
        return NULL;
    return p;
}

void *ts_big_zero(size_t n)
{
    void *p = NULL;
    if (ts_calloc(n ? n : 1, &p) != TS_OK)
        return NULL;
    return p;
}

/* The live file blocks' address ranges: ts_mem_is_file must answer for any pointer (a view's data points into the
 * middle of another block, where no header is), and releasing pages of anonymous memory would destroy them. */
static struct {
    uintptr_t *lo, *hi;
    int n, cap;
} g_files;

static int note_file(void *h, size_t len)
{
    if (g_files.n == g_files.cap) {
        const int cap = g_files.cap ? 2 * g_files.cap : 256;
        uintptr_t *lo = realloc(g_files.lo, sizeof *lo * (size_t)cap);
        if (lo)
            g_files.lo = lo;
        uintptr_t *hi = lo ? realloc(g_files.hi, sizeof *hi * (size_t)cap) : NULL;
        if (!hi)
            return 0;
        g_files.hi = hi, g_files.cap = cap;
    }
    g_files.lo[g_files.n] = (uintptr_t)h, g_files.hi[g_files.n++] = (uintptr_t)h + len;
    return 1;
}

static void forget_file(void *h)
{
    for (int i = 0; i < g_files.n; i++)
        if (g_files.lo[i] == (uintptr_t)h) {
            g_files.lo[i] = g_files.lo[--g_files.n], g_files.hi[i] = g_files.hi[g_files.n];
            return;
        }
}

/* The file block holding [p, p + n), as its mapping's end (0: none). */
static uintptr_t file_end(const void *p, size_t n)
{
    const uintptr_t a = (uintptr_t)p;
    for (int i = 0; i < g_files.n; i++)
        if (a >= g_files.lo[i] && a + n <= g_files.hi[i])
            return g_files.hi[i];
    return 0;
}

ts_err ts_realloc(void **p, size_t old_n, size_t new_n)
{
    if (*p && to_header(*p)->mapped && !to_header(*p)->file && new_n + TS_ALIGN >= LARGE_BLOCK) {
        if (injected_failure())
            TS_FAIL(TS_ERR_NOMEM, "out of memory growing a block to %zu bytes (injected)", new_n);
        header *h = to_header(*p);
        const size_t len = page_round(new_n + TS_ALIGN);
        void *m = mremap(h, h->mapped, len, MREMAP_MAYMOVE);
        if (m == MAP_FAILED)
            TS_FAIL(TS_ERR_NOMEM, "out of memory growing a block to %zu bytes", new_n);
        ((header *)m)->mapped = len;
        advise_huge(m, len);
        *p = from_header(m);
        return TS_OK;
    }
    void *q;
    TS_TRY(ts_alloc(new_n, &q));
    if (*p && q)
        memcpy(q, *p, old_n < new_n ? old_n : new_n);
    ts_free(*p);
    *p = q;
    return TS_OK;
}

void ts_free(void *p)
{
    if (!p)
        return;
    header *h = to_header(p);
    if (!h->mapped)
        free(h);
    else if (h->file) {
        forget_file(h);
        munmap(h, h->mapped);
    } else if (!pool_give(h, h->mapped))
        munmap(h, h->mapped);
}

ts_err ts_mem_map_file(int fd, size_t n, const char *what, void **out)
{
    *out = NULL;
    const size_t len = page_round(n + TS_ALIGN);
    if (ftruncate(fd, (off_t)len) != 0)
        TS_FAIL(TS_ERR_IO, "cannot size %s to %zu bytes: %s", what, len, strerror(errno));
    void *h = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (h == MAP_FAILED)
        TS_FAIL(TS_ERR_NOMEM, "cannot map %s (%zu bytes): %s", what, len, strerror(errno));
    if (!note_file(h, len)) {
        munmap(h, len);
        TS_FAIL(TS_ERR_NOMEM, "out of memory noting a mapping of %s", what);
    }
    ((header *)h)->mapped = len, ((header *)h)->zeroed = 0, ((header *)h)->file = 1;
    /* Writing the header maps the whole large folio of the page cache it falls in (ext4 on recent kernels caches
     * files in folios up to MiBs), so a block nobody reads yet would count whole in the resident set: unmap the
     * rest, the pages stay cached. */
    if (len > 4096)
        madvise((char *)h + 4096, len - 4096, MADV_DONTNEED);
    *out = from_header(h);
    return TS_OK;
}

int ts_mem_is_file(const void *p) { return p && file_end(p, 1) != 0; }

void ts_mem_release(const void *p, size_t from, size_t to)
{
    if (!p || to <= from || !file_end((const char *)p + from, to - from))
        return;
    const uintptr_t base = (uintptr_t)p, page = 4096;
    const uintptr_t lo = (base + from + page - 1) & ~(page - 1), hi = (base + to) & ~(page - 1);
    if (hi > lo)
        madvise((void *)lo, hi - lo, MADV_DONTNEED);
}

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

void ts_mem_set_pool_limit(size_t bytes) { g_pool_bytes = bytes; }

void ts_mem_trim_pool(size_t keep)
{
    while (g_pool.total > keep) {
        int big = -1;
        for (int i = 0; i < POOL_SLOTS; i++)
            if (g_pool.block[i] && (big < 0 || g_pool.len[i] > g_pool.len[big]))
                big = i;
        munmap(g_pool.block[big], g_pool.len[big]);
        g_pool.total -= g_pool.len[big];
        g_pool.block[big] = NULL;
    }
}

int64_t ts_physical_memory_bytes(void)
{
    const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    return pages > 0 && page > 0 ? (int64_t)pages * page : 0;
}

const char *ts_format_bytes(double b, char *buf, size_t cap)
{
    const char *unit[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int u = 0;
    while (b >= 1024 && u < 4)
        b /= 1024, u++;
    snprintf(buf, cap, u ? "%.1f %s" : "%.0f %s", b, unit[u]);
    return buf;
}
