#include "ts_fingerprint.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ts_hash.h"

void ts_fp_init(ts_fingerprint *fp)
{
    fp->len = 0;
    fp->text[0] = '\0';
}

static ts_err append(ts_fingerprint *fp, const char *key, const char *value)
{
    const size_t need = strlen(key) + 1 + strlen(value) + 1;
    if (fp->len + need >= sizeof fp->text)
        TS_FAIL(TS_ERR_USAGE, "the run's fingerprint exceeds %d bytes (too many input files for --checkpoint)",
                TS_FP_CAP);
    char *at = fp->text + fp->len;
    fp->len += (size_t)sprintf(at, "%s=%s\n", key, value);
    for (char *p = at; p < fp->text + fp->len - 1; p++) /* one line per entry, whatever the value holds */
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    return TS_OK;
}

ts_err ts_fp_add(ts_fingerprint *fp, const char *key, const char *fmt, ...)
{
    char value[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(value, sizeof value, fmt, ap);
    va_end(ap);
    return append(fp, key, value);
}

#define SAMPLE_WHOLE ((int64_t)1 << 20) /* files up to this size are hashed whole */
#define SAMPLE_END (64 << 10)             /* bytes hashed at each end of a larger file */
#define SAMPLE_BLOCK 4096                 /* ... and this many at each of SAMPLE_BLOCKS evenly spread offsets */
#define SAMPLE_BLOCKS 64

/* Hashes len bytes of fd at off into *h (short reads of a file that shrank count as what they read). */
static int hash_range(int fd, int64_t off, int64_t len, unsigned char *buf, uint64_t *h)
{
    while (len > 0) {
        const ssize_t n = pread(fd, buf, (size_t)(len < SAMPLE_END ? len : SAMPLE_END), (off_t)off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        if (n == 0)
            return 0;
        *h = ts_hash_bytes(buf, (size_t)n, *h ^ (uint64_t)off);
        off += n, len -= n;
    }
    return 0;
}

/* The sampled-content hash of an open file of size bytes (see ts_fingerprint.h). */
static int sample_hash(int fd, int64_t size, uint64_t *h)
{
    unsigned char *buf = malloc(SAMPLE_END);
    if (!buf)
        return -1;
    int rc = 0;
    *h = UINT64_C(0x243f6a8885a308d3);
    if (size <= SAMPLE_WHOLE) {
        rc = hash_range(fd, 0, size, buf, h);
    } else {
        rc = hash_range(fd, 0, SAMPLE_END, buf, h);
        const int64_t inner = size - 2 * SAMPLE_END - SAMPLE_BLOCK; /* block starts within the middle */
        for (int b = 0; !rc && b < SAMPLE_BLOCKS; b++)
            rc = hash_range(fd, SAMPLE_END + inner * b / (SAMPLE_BLOCKS - 1), SAMPLE_BLOCK, buf, h);
        if (!rc)
            rc = hash_range(fd, size - SAMPLE_END, SAMPLE_END, buf, h);
    }
    free(buf);
    return rc;
}

ts_err ts_fp_add_file(ts_fingerprint *fp, const char *key, const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return errno == ENOENT ? append(fp, key, "missing")
                               : ts_error_raise(TS_ERR_IO, __FILE__, __LINE__, __func__, "cannot stat '%s': %s",
                                                path, strerror(errno));
    const int fd = open(path, O_RDONLY | O_CLOEXEC);
    uint64_t h = 0;
    const int rc = fd < 0 ? -1 : sample_hash(fd, (int64_t)st.st_size, &h);
    const int saved = errno;
    if (fd >= 0)
        close(fd);
    if (rc)
        TS_FAIL(TS_ERR_IO, "cannot read '%s' to fingerprint it: %s", path, strerror(saved));
    return ts_fp_add(fp, key, "%lld bytes, modified %lld.%09ld, sampled %016llx", (long long)st.st_size,
                     (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec, (unsigned long long)h);
}

static int cmp_names(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

ts_err ts_fp_add_dir(ts_fingerprint *fp, const char *key, const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        TS_FAIL(TS_ERR_IO, "cannot open directory '%s': %s", dir, strerror(errno));
    char **names = NULL;
    size_t n = 0, cap = 0;
    ts_err err = TS_OK;
    for (struct dirent *e; !err && (e = readdir(d));) {
        if (e->d_name[0] == '.')
            continue;
        if (n == cap) {
            char **grown = realloc(names, sizeof *names * (cap = cap ? 2 * cap : 64));
            if (!grown)
                err = ts_error_raise(TS_ERR_NOMEM, __FILE__, __LINE__, __func__, "out of memory listing '%s'", dir);
            else
                names = grown;
        }
        if (!err && !(names[n++] = strdup(e->d_name)))
            err = ts_error_raise(TS_ERR_NOMEM, __FILE__, __LINE__, __func__, "out of memory listing '%s'", dir);
    }
    closedir(d);
    if (!err)
        qsort(names, n, sizeof *names, cmp_names);
    char path[4200], k[512];
    for (size_t i = 0; !err && i < n; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        struct stat st;
        if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
            continue;
        snprintf(k, sizeof k, "%s/%s", key, names[i]);
        err = ts_fp_add_file(fp, k, path);
    }
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    return err;
}

static uint64_t fnv1a(uint64_t h, const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * UINT64_C(1099511628211);
    return h;
}

ts_err ts_fp_add_bytes(ts_fingerprint *fp, const char *key, const void *bytes, size_t len)
{
    const uint64_t h = fnv1a(UINT64_C(14695981039346656037), bytes, len);
    return ts_fp_add(fp, key, "fnv1a64:%016llx (%zu bytes)", (unsigned long long)h, len);
}

ts_err ts_fp_add_content(ts_fingerprint *fp, const char *key, const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        TS_FAIL(TS_ERR_IO, "cannot read '%s': %s", path, strerror(errno));
    uint64_t h = UINT64_C(14695981039346656037);
    unsigned char buf[65536];
    size_t n, total = 0;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        h = fnv1a(h, buf, n), total += n;
    const int bad = ferror(f);
    fclose(f);
    if (bad)
        TS_FAIL(TS_ERR_IO, "cannot read '%s'", path);
    return ts_fp_add(fp, key, "fnv1a64:%016llx (%zu bytes)", (unsigned long long)h, total);
}

/* The line of text whose key is key (length klen), or NULL; *vlen gets its value's length. */
static const char *find_key(const char *text, const char *key, size_t klen, size_t *vlen)
{
    for (const char *line = text; *line;) {
        const char *eol = strchr(line, '\n');
        const size_t len = eol ? (size_t)(eol - line) : strlen(line);
        if (len > klen && line[klen] == '=' && memcmp(line, key, klen) == 0) {
            *vlen = len - klen - 1;
            return line + klen + 1;
        }
        line += len + (eol != NULL);
    }
    return NULL;
}

/* Looks for the first line of a whose key is missing from b or has another value there. */
static int first_difference(const char *a, const char *b, int a_is_saved, char *why, size_t cap)
{
    for (const char *line = a; *line;) {
        const char *eol = strchr(line, '\n'), *eq = strchr(line, '=');
        const size_t len = eol ? (size_t)(eol - line) : strlen(line);
        if (eq && eq < line + len) {
            const size_t klen = (size_t)(eq - line), alen = len - klen - 1;
            size_t blen = 0;
            const char *bv = find_key(b, line, klen, &blen);
            if (!bv) {
                snprintf(why, cap, "%.*s: only %s", (int)klen, line, a_is_saved ? "in the checkpoint" : "now");
                return 1;
            }
            if (blen != alen || memcmp(bv, eq + 1, alen) != 0) {
                const char *sv = a_is_saved ? eq + 1 : bv, *nv = a_is_saved ? bv : eq + 1;
                const size_t sl = a_is_saved ? alen : blen, nl = a_is_saved ? blen : alen;
                snprintf(why, cap, "%.*s: %.*s in the checkpoint, %.*s now", (int)klen, line, (int)sl, sv, (int)nl,
                         nv);
                return 1;
            }
        }
        line += len + (eol != NULL);
    }
    return 0;
}

int ts_fp_same(const char *saved, const char *now, char *why, size_t cap)
{
    if (first_difference(saved, now, 1, why, cap) || first_difference(now, saved, 0, why, cap))
        return 0;
    if (cap)
        why[0] = '\0';
    return 1;
}
