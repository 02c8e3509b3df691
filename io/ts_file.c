#include "ts_file.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "ts_parquet_text.h"

static int has_suffix(const char *name, const char *suffix)
{
    const size_t n = strlen(name), s = strlen(suffix);
    return n > s && strcmp(name + n - s, suffix) == 0;
}

static int cmp_files(const void *a, const void *b)
{
    return strcmp(((const ts_file_info *)a)->base, ((const ts_file_info *)b)->base);
}

/* An input named like data must be a file we can read: a FIFO or unreadable file named part-1.csv is a mistake to
 * report now (a FIFO would block the scan) rather than on whichever rank later maps it. A sub-directory named like
 * one is skipped (the documented behaviour of directory inputs), but said aloud. A vanished entry is left to the
 * caller (st_mode 0). */
static ts_err check_readable(const char *path, struct stat *st)
{
    if (stat(path, st) != 0) {
        if (errno == ENOENT) {
            st->st_mode = 0;
            return TS_OK;
        }
        TS_FAIL(TS_ERR_IO, "cannot read input '%s': %s", path, strerror(errno));
    }
    if (S_ISDIR(st->st_mode)) {
        fprintf(stderr, "tessera: warning: skipping '%s': %s\n", path, strerror(EISDIR));
        st->st_mode = 0;
        return TS_OK;
    }
    if (!S_ISREG(st->st_mode))
        TS_FAIL(TS_ERR_IO, "cannot read input '%s': not a regular file (a FIFO, socket or device)", path);
    const int fd = open(path, O_RDONLY | O_NONBLOCK);
    if (fd < 0)
        TS_FAIL(TS_ERR_IO, "cannot read input '%s': %s", path, strerror(errno));
    close(fd);
    return TS_OK;
}

ts_err ts_list_files(const char *dir, const char *const *suffixes, int nsuffix, ts_file_info **files, int *n)
{
    DIR *d = opendir(dir);
    if (!d)
        TS_FAIL(TS_ERR_IO, "cannot open directory '%s': %s", dir, strerror(errno));
    ts_err err = TS_OK;
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
        if (!(err = check_readable(f->path, &st)) && !S_ISREG(st.st_mode))
            continue; /* vanished between readdir and stat */
        if (err)
            break;
        f->base = f->path + strlen(dir) + 1;
        f->size = st.st_size;
        f->gz = has_suffix(e->d_name, ".gz");
        f->parquet = has_suffix(e->d_name, ".parquet");
        count++;
    }
    closedir(d);
    if (err) {
        free(list);
        return err;
    }
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
    out->map = m, out->data = m, out->len = out->map_len = f->size;
    return TS_OK;
}

/* Inflates at most max_bytes (0: everything). */
static ts_err inflate_gz(const ts_file_info *f, int64_t max_bytes, ts_file_data *out)
{
    gzFile gz = gzopen(f->path, "rb");
    if (!gz)
        TS_FAIL(TS_ERR_IO, "cannot open '%s': %s", f->path, strerror(errno));
    gzbuffer(gz, 1 << 20);
    int64_t cap = f->size * 4 + (1 << 20), len = 0;
    char *buf = malloc((size_t)cap);
    ts_err err = TS_OK;
    while (buf && (!max_bytes || len < max_bytes)) {
        if (cap - len < (1 << 20)) {
            char *grown = realloc(buf, (size_t)(cap *= 2));
            if (!grown) {
                free(buf), buf = NULL;
                break;
            }
            buf = grown;
        }
        int64_t room = cap - len > (1 << 30) ? (1 << 30) : cap - len;
        if (max_bytes && room > max_bytes - len)
            room = max_bytes - len;
        const unsigned want = (unsigned)room;
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
    if (!err && buf && zerr == Z_BUF_ERROR && !(max_bytes && len >= max_bytes)) /* the stream ends early */
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
    return f->parquet ? ts_pq_load_csv(f, out) : f->gz ? inflate_gz(f, 0, out) : map_plain(f, out);
}

ts_err ts_file_load_head(const ts_file_info *f, int64_t max_bytes, ts_file_data *out)
{
    memset(out, 0, sizeof *out);
    TS_TRY(f->parquet ? ts_pq_load_csv(f, out) : f->gz ? inflate_gz(f, max_bytes, out) : map_plain(f, out));
    if (out->len > max_bytes) {
        int64_t cut = max_bytes;
        while (cut > 0 && out->data[cut - 1] != '\n')
            cut--;
        out->len = cut;
    } else if (f->gz && out->len == max_bytes) { /* maybe cut inside a line: end after the last complete one */
        while (out->len > 0 && out->data[out->len - 1] != '\n')
            out->len--;
    }
    return TS_OK;
}

void ts_file_unload(ts_file_data *d)
{
    if (d->map)
        munmap(d->map, (size_t)d->map_len);
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

static ts_err stat_file(const char *path, ts_file_info *f)
{
    struct stat st;
    if (strlen(path) >= sizeof f->path)
        TS_FAIL(TS_ERR_IO, "path too long: '%.80s...'", path);
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
        return TS_ERR_IO; /* not a regular file: skipped by the caller, no message */
    memset(f, 0, sizeof *f);
    strcpy(f->path, path);
    const char *slash = strrchr(f->path, '/');
    f->base = slash ? slash + 1 : f->path;
    f->size = st.st_size;
    f->gz = has_suffix(f->path, ".gz");
    f->parquet = has_suffix(f->path, ".parquet");
    return TS_OK;
}

static int cmp_paths(const void *a, const void *b)
{
    return strcmp(((const ts_file_info *)a)->path, ((const ts_file_info *)b)->path);
}

static ts_err glob_files(const char *pattern, ts_file_info **files, int *n)
{
    glob_t g;
    const int rc = glob(pattern, 0, NULL, &g);
    if (rc == GLOB_NOMATCH || (rc == 0 && g.gl_pathc == 0)) {
        if (rc == 0)
            globfree(&g);
        TS_FAIL(TS_ERR_IO, "no file matches '%s'", pattern);
    }
    if (rc != 0)
        TS_FAIL(rc == GLOB_NOSPACE ? TS_ERR_NOMEM : TS_ERR_IO, "cannot expand '%s' (%s)", pattern,
                rc == GLOB_NOSPACE ? "out of memory" : "read error");
    ts_file_info *list = malloc(sizeof *list * g.gl_pathc);
    int count = 0;
    ts_err err = list ? TS_OK : ts_error_raise(TS_ERR_NOMEM, __FILE__, __LINE__, __func__, "out of memory");
    for (size_t i = 0; !err && i < g.gl_pathc; i++) {
        if (strlen(g.gl_pathv[i]) >= sizeof list->path)
            err = ts_error_raise(TS_ERR_IO, __FILE__, __LINE__, __func__, "path too long: '%.80s...'",
                                 g.gl_pathv[i]);
        else if (stat_file(g.gl_pathv[i], &list[count]) == TS_OK)
            count++;
    }
    globfree(&g);
    if (!err && count == 0)
        err = ts_error_raise(TS_ERR_IO, __FILE__, __LINE__, __func__, "no file matches '%s'", pattern);
    if (err) {
        free(list);
        return err;
    }
    /* glob sorts with the locale's collation: sort bytewise so every rank and run agree */
    qsort(list, (size_t)count, sizeof *list, cmp_paths);
    for (int i = 0; i < count; i++) { /* base pointers point into each moved element */
        const char *slash = strrchr(list[i].path, '/');
        list[i].base = slash ? slash + 1 : list[i].path;
    }
    *files = list, *n = count;
    return TS_OK;
}

ts_err ts_list_inputs(const char *pattern, ts_file_info **files, int *n)
{
    struct stat st;
    if (stat(pattern, &st) == 0 && S_ISDIR(st.st_mode)) {
        static const char *const suffixes[] = {".csv", ".csv.gz", ".parquet"};
        TS_TRY(ts_list_files(pattern, suffixes, 3, files, n));
        if (*n == 0) {
            free(*files), *files = NULL;
            TS_FAIL(TS_ERR_IO, "no file matches '%s' (a directory without .csv, .csv.gz or .parquet files)", pattern);
        }
        return TS_OK;
    }
    if (stat(pattern, &st) == 0 && S_ISREG(st.st_mode)) {
        ts_file_info *f = malloc(sizeof *f);
        if (!f)
            TS_FAIL(TS_ERR_NOMEM, "out of memory");
        const ts_err err = stat_file(pattern, f);
        if (err) {
            free(f);
            TS_FAIL(TS_ERR_IO, "cannot read '%s'", pattern);
        }
        *files = f, *n = 1;
        return TS_OK;
    }
    return glob_files(pattern, files, n);
}

void ts_file_drop_pages(const ts_file_data *d, int64_t begin, int64_t end)
{
    const int64_t page = 4096, b = (begin + page - 1) / page * page, e = (end < d->len ? end : d->len) / page * page;
    if (d->map && e > b)
        madvise((char *)d->map + b, (size_t)(e - b), MADV_DONTNEED);
}
