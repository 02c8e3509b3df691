#include "ts_file.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

static int has_suffix(const char *name, const char *suffix)
{
    const size_t n = strlen(name), s = strlen(suffix);
    return n > s && strcmp(name + n - s, suffix) == 0;
}

static int cmp_files(const void *a, const void *b)
{
    return strcmp(((const ts_file_info *)a)->base, ((const ts_file_info *)b)->base);
}

ts_err ts_list_files(const char *dir, const char *const *suffixes, int nsuffix, ts_file_info **files, int *n)
{
    DIR *d = opendir(dir);
    if (!d)
        TS_FAIL(TS_ERR_IO, "cannot open directory '%s': %s", dir, strerror(errno));
    int cap = 16, count = 0;
    ts_file_info *list = malloc(sizeof *list * (size_t)cap);
    struct dirent *e;
    while (list && (e = readdir(d))) {
        int match = 0;
        for (int i = 0; i < nsuffix; i++)
            match |= has_suffix(e->d_name, suffixes[i]);
        if (!match)
            continue;
        if (count == cap) {
            ts_file_info *grown = realloc(list, sizeof *list * (size_t)(cap *= 2));
            if (!grown) {
                free(list), list = NULL;
                break;
            }
            list = grown;
        }
        ts_file_info *f = &list[count];
        snprintf(f->path, sizeof f->path, "%s/%s", dir, e->d_name);
        struct stat st;
        if (stat(f->path, &st) != 0 || !S_ISREG(st.st_mode))
            continue;
        f->base = f->path + strlen(dir) + 1;
        f->size = st.st_size;
        f->gz = has_suffix(e->d_name, ".gz");
        count++;
    }
    closedir(d);
    if (!list)
        TS_FAIL(TS_ERR_NOMEM, "out of memory listing '%s'", dir);
    /* base pointers point into each element, so they survive the sort (qsort moves whole structs) */
    qsort(list, (size_t)count, sizeof *list, cmp_files);
    for (int i = 0; i < count; i++)
        list[i].base = list[i].path + strlen(dir) + 1;
    *files = list, *n = count;
    return TS_OK;
}

static ts_err map_plain(const ts_file_info *f, ts_file_data *out)
{
    if (f->size == 0)
        return TS_OK;
    const int fd = open(f->path, O_RDONLY);
    if (fd < 0)
        TS_FAIL(TS_ERR_IO, "cannot open '%s': %s", f->path, strerror(errno));
    void *m = mmap(NULL, (size_t)f->size, PROT_READ, MAP_PRIVATE, fd, 0);
    const int saved = errno;
    close(fd);
    if (m == MAP_FAILED)
        TS_FAIL(TS_ERR_IO, "cannot map '%s': %s", f->path, strerror(saved));
    out->map = m, out->data = m, out->len = f->size;
    return TS_OK;
}

static ts_err inflate_gz(const ts_file_info *f, ts_file_data *out)
{
    gzFile gz = gzopen(f->path, "rb");
    if (!gz)
        TS_FAIL(TS_ERR_IO, "cannot open '%s': %s", f->path, strerror(errno));
    gzbuffer(gz, 1 << 20);
    int64_t cap = f->size * 4 + (1 << 20), len = 0;
    char *buf = malloc((size_t)cap);
    ts_err err = TS_OK;
    while (buf) {
        if (cap - len < (1 << 20)) {
            char *grown = realloc(buf, (size_t)(cap *= 2));
            if (!grown) {
                free(buf), buf = NULL;
                break;
            }
            buf = grown;
        }
        const unsigned want = (unsigned)((cap - len) > (1 << 30) ? (1 << 30) : (cap - len));
        const int got = gzread(gz, buf + len, want);
        if (got < 0) {
            int zerr;
            const char *msg = gzerror(gz, &zerr);
            err = ts_error_raise(TS_ERR_IO, __FILE__, __LINE__, __func__,
                                 "'%s' is not a readable gzip file (%s) after %lld bytes", f->path, msg,
                                 (long long)len);
            break;
        }
        if (got == 0)
            break;
        len += got;
    }
    int zerr = Z_OK;
    gzerror(gz, &zerr);
    if (!err && buf && zerr == Z_BUF_ERROR) /* the stream ends early: keep what was there, say so */
        fprintf(stderr, "tessera: warning: %s is truncated (the gzip stream ends early); its last line is "
                        "probably incomplete\n", f->path);
    gzclose(gz);
    if (!buf)
        TS_FAIL(TS_ERR_NOMEM, "out of memory inflating '%s'", f->path);
    if (err) {
        free(buf);
        return err;
    }
    out->heap = buf, out->data = buf, out->len = len;
    return TS_OK;
}

ts_err ts_file_load(const ts_file_info *f, ts_file_data *out)
{
    memset(out, 0, sizeof *out);
    return f->gz ? inflate_gz(f, out) : map_plain(f, out);
}

void ts_file_unload(ts_file_data *d)
{
    if (d->map)
        munmap(d->map, (size_t)d->len);
    free(d->heap);
    memset(d, 0, sizeof *d);
}

void ts_file_prefetch(const ts_file_data *d, int64_t begin, int64_t end)
{
#ifdef MADV_POPULATE_READ
    if (!d->map || begin >= d->len)
        return;
    if (end > d->len)
        end = d->len;
    const int64_t page = 4096, b = begin / page * page;
    madvise((char *)d->map + b, (size_t)(end - b), MADV_POPULATE_READ);
#else
    (void)d, (void)begin, (void)end;
#endif
}
