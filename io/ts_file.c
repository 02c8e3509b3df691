#include "ts_file.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/syscall.h>
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
    return strcmp(ts_file_base(a), ts_file_base(b));
}

/* What a path that is not a regular file is, for messages. */
static const char *kind_of(mode_t m)
{
    return S_ISFIFO(m) ? "a FIFO (named pipe)" : S_ISSOCK(m) ? "a socket" : S_ISCHR(m) || S_ISBLK(m) ? "a device"
                                                                                                   : "not a file";
}

/* An input named like data must be a file we can read, and every way it can fail is said aloud: a FIFO, a socket
 * or an unreadable file is an error now (a FIFO would block the scan) rather than on whichever rank later maps
 * it; so is a broken symbolic link (dangling or a loop: a data file that cannot be read). A sub-directory named
 * like data is skipped with a warning (the documented behaviour of directory inputs). An entry that vanished
 * between the listing and this check is left to the caller (st_mode 0). */
static ts_err check_readable(const char *path, struct stat *st)
{
    if (stat(path, st) != 0) {
        const int e = errno;
        struct stat lst;
        if (e == ENOENT && lstat(path, &lst) == 0 && S_ISLNK(lst.st_mode)) {
            char target[4096];
            const ssize_t n = readlink(path, target, sizeof target - 1);
            target[n > 0 ? n : 0] = '\0';
            TS_FAIL(TS_ERR_IO, "cannot read input '%s': it is a symbolic link to '%s', which does not exist", path,
                    target);
        }
        if (e == ENOENT) {
            st->st_mode = 0;
            return TS_OK;
        }
        TS_FAIL(TS_ERR_IO, "cannot read input '%s': %s", path, strerror(e));
    }
    if (S_ISDIR(st->st_mode)) {
        fprintf(stderr, "tessera: warning: skipping '%s': %s\n", path, strerror(EISDIR));
        st->st_mode = 0;
        return TS_OK;
    }
    if (!S_ISREG(st->st_mode))
        TS_FAIL(TS_ERR_IO, "cannot read input '%s': it is %s, not a regular file", path, kind_of(st->st_mode));
    const int fd = open(path, O_RDONLY | O_NONBLOCK);
    if (fd < 0)
        TS_FAIL(TS_ERR_IO, "cannot read input '%s': %s", path, strerror(errno));
    close(fd);
    return TS_OK;
}

/* f->path = prefix/name (or name when prefix is NULL), with its size and gz/parquet flags; TS_ERR_IO for a path too long. */
static ts_err set_info(ts_file_info *f, const char *prefix, const char *name, const struct stat *st)
{
    memset(f, 0, sizeof *f);
    const int n = prefix ? snprintf(f->path, sizeof f->path, "%s/%s", prefix, name)
                         : snprintf(f->path, sizeof f->path, "%s", name);
    if (n < 0 || (size_t)n >= sizeof f->path)
        TS_FAIL(TS_ERR_IO, "path too long: '%.80s...'", prefix ? prefix : name);
    const char *slash = strrchr(f->path, '/');
    f->base_off = slash ? (int)(slash + 1 - f->path) : 0;
    f->size = st->st_size;
    f->gz = has_suffix(f->path, ".gz");
    f->parquet = has_suffix(f->path, ".parquet");
    return TS_OK;
}

/* Appends one entry to a growing list (the list holds no pointers into itself, so realloc may move it). */
static ts_err push_file(ts_file_info **list, int *count, int *cap, const ts_file_info *f)
{
    if (*count == *cap) {
        const int c = *cap ? 2 * *cap : 16;
        ts_file_info *grown = realloc(*list, sizeof *grown * (size_t)c);
        if (!grown)
            TS_FAIL(TS_ERR_NOMEM, "out of memory listing input files (%d so far)", *count);
        *list = grown, *cap = c;
    }
    (*list)[(*count)++] = *f;
    return TS_OK;
}

ts_err ts_list_files(const char *dir, const char *const *suffixes, int nsuffix, ts_file_info **files, int *n)
{
    DIR *d = opendir(dir);
    if (!d)
        TS_FAIL(TS_ERR_IO, "cannot open directory '%s': %s", dir, strerror(errno));
    ts_err err = TS_OK;
    int cap = 0, count = 0;
    ts_file_info *list = NULL, f;
    struct dirent *e;
    while (!err && (e = readdir(d))) {
        int match = 0;
        for (int i = 0; i < nsuffix; i++)
            match |= has_suffix(e->d_name, suffixes[i]);
        if (!match)
            continue;
        char path[sizeof f.path];
        struct stat st;
        if (snprintf(path, sizeof path, "%s/%s", dir, e->d_name) >= (int)sizeof path)
            err = ts_error_raise(TS_ERR_IO, __FILE__, __LINE__, __func__, "path too long: '%.80s...'", dir);
        if (!err)
            err = check_readable(path, &st);
        if (!err && S_ISREG(st.st_mode)) /* else skipped: a directory, or vanished between readdir and stat */
            if (!(err = set_info(&f, dir, e->d_name, &st)))
                err = push_file(&list, &count, &cap, &f);
    }
    closedir(d);
    if (err) {
        free(list);
        return err;
    }
    if (!list && !(list = malloc(sizeof *list)))
        TS_FAIL(TS_ERR_NOMEM, "out of memory listing '%s'", dir);
    qsort(list, (size_t)count, sizeof *list, cmp_files);
    *files = list, *n = count;
    return TS_OK;
}

/* ---- the SIGBUS guard of mapped files ------------------------------------------------------------------------
 * A list of the live mappings that the handler walks. Entries are never freed, only recycled (len 0 while
 * unused), so a handler never follows a freed pointer; an entry is published with one atomic store of the head
 * after it is filled in. Only the thread that maps files reads them (the scan runs on one thread per rank). */

typedef struct guard {
    _Atomic(char *) addr;
    _Atomic size_t len;            /* 0: unused */
    atomic_int faulted;
    struct guard *next;            /* written once, before the entry is published */
} guard;

static _Atomic(guard *) g_guards;
static atomic_int g_faults;
static struct sigaction g_prev_bus;
static int g_bus_installed;

static void chain_bus(int sig, siginfo_t *si)
{
    /* hand the signal on: restoring the previous disposition and returning re-runs the faulting access, which
     * faults again into it (a signal someone sent is raised again instead) */
    sigaction(sig, &g_prev_bus, NULL);
    if (si->si_code <= 0)
        raise(sig);
}

static void on_bus(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    char *a = si->si_addr;
    if (si->si_code > 0)
        for (guard *gd = atomic_load(&g_guards); gd; gd = gd->next) {
            char *base = atomic_load(&gd->addr);
            const size_t len = atomic_load(&gd->len);
            if (!len || a < base || a >= base + len)
                continue;
            /* zero pages from the faulting page to the end of the mapping: reads go on and find NULs */
            const uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
            char *from = (char *)((uintptr_t)a & ~(page - 1));
            const long m = syscall(SYS_mmap, from, (size_t)(base + len - from), PROT_READ,
                                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
            if (m == -1)
                break;
            atomic_store(&gd->faulted, 1);
            atomic_fetch_add(&g_faults, 1);
            return;
        }
    chain_bus(sig, si);
}

/* Installs the handler unless it is the current one (someone may have installed theirs since). */
static void install_bus(void)
{
    struct sigaction cur;
    if (sigaction(SIGBUS, NULL, &cur) == 0 && g_bus_installed && (cur.sa_flags & SA_SIGINFO) &&
        cur.sa_sigaction == on_bus)
        return;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_bus;
    sa.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGBUS, &sa, &g_prev_bus) == 0)
        g_bus_installed = 1;
}

static guard *guard_add(char *addr, size_t len)
{
    install_bus();
    guard *gd = atomic_load(&g_guards);
    for (size_t zero = 0; gd; gd = gd->next, zero = 0)
        if (atomic_compare_exchange_strong(&gd->len, &zero, (size_t)1)) /* claim an unused entry */
            break;
    if (!gd) {
        if (!(gd = calloc(1, sizeof *gd)))
            return NULL; /* unguarded: a truncation would then end the rank with SIGBUS, as before */
        atomic_store(&gd->len, (size_t)1);
        gd->next = atomic_load(&g_guards);
        atomic_store(&g_guards, gd);
    }
    atomic_store(&gd->faulted, 0);
    atomic_store(&gd->len, (size_t)0);
    atomic_store(&gd->addr, addr);
    atomic_store(&gd->len, len);
    return gd;
}

static void guard_drop(guard *gd)
{
    if (gd)
        atomic_store(&gd->len, (size_t)0);
}

int ts_file_faults(void) { return atomic_load_explicit(&g_faults, memory_order_relaxed); }

ts_err ts_file_check(const ts_file_info *f, const ts_file_data *d)
{
    const guard *gd = d->guard;
    struct stat st;
    if (!d->map)
        return TS_OK;
    if (gd && atomic_load(&gd->faulted))
        TS_FAIL(TS_ERR_IO, "'%s' changed while being read: it was truncated (or its storage failed) during the "
                "scan, so no result read from it can be trusted", f->path);
    if (stat(f->path, &st) == 0 && st.st_size < d->map_len)
        TS_FAIL(TS_ERR_IO, "'%s' changed while being read: it has %lld bytes now, %lld when the scan began", f->path,
                (long long)st.st_size, (long long)d->map_len);
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
        TS_FAIL(saved == ENOMEM ? TS_ERR_NOMEM : TS_ERR_IO, "cannot map '%s': %s", f->path, strerror(saved));
    out->map = m, out->data = m, out->len = out->map_len = f->size;
    out->guard = guard_add(m, (size_t)f->size);
    return TS_OK;
}

/* Inflates at most max_bytes (0: everything). */
static ts_err inflate_gz(const ts_file_info *f, int64_t max_bytes, ts_file_data *out)
{
    gzFile gz = gzopen(f->path, "rb");
    if (!gz)
        TS_FAIL(TS_ERR_IO, "cannot open '%s': %s", f->path, strerror(errno));
    gzbuffer(gz, 1 << 20);
    /* zlib reads a file without the gzip magic bytes as plain text ("transparent" mode): a .gz of random bytes
     * would then be parsed as rows. A file named .gz must be gzip. */
    if (f->size > 0 && gzdirect(gz)) {
        gzclose(gz);
        TS_FAIL(TS_ERR_IO, "'%s' is not a gzip file (its name ends in .gz, but it does not start with the gzip "
                "signature 1f 8b): a corrupt or mislabelled file", f->path);
    }
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
    guard_drop(d->guard); /* before the unmap: a later mapping may reuse the addresses */
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
    ts_file_info *list = NULL, f;
    int count = 0, cap = 0;
    ts_err err = TS_OK;
    for (size_t i = 0; !err && i < g.gl_pathc; i++) { /* each match is checked as a directory's entries are */
        struct stat st;
        err = check_readable(g.gl_pathv[i], &st);
        if (!err && S_ISREG(st.st_mode) && !(err = set_info(&f, NULL, g.gl_pathv[i], &st)))
            err = push_file(&list, &count, &cap, &f);
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
    *files = list, *n = count;
    return TS_OK;
}

ts_err ts_list_inputs(const char *pattern, ts_file_info **files, int *n)
{
    struct stat st, lst;
    if (stat(pattern, &st) == 0 && S_ISDIR(st.st_mode)) {
        static const char *const suffixes[] = {".csv", ".csv.gz", ".parquet"};
        TS_TRY(ts_list_files(pattern, suffixes, 3, files, n));
        if (*n == 0) {
            free(*files), *files = NULL;
            TS_FAIL(TS_ERR_IO, "no file matches '%s' (a directory without .csv, .csv.gz or .parquet files)", pattern);
        }
        return TS_OK;
    }
    if (lstat(pattern, &lst) != 0) /* no such path: a pattern */
        return glob_files(pattern, files, n);
    /* an existing path is that one input, whatever it is: a FIFO or a broken link says so, not "no match" */
    TS_TRY(check_readable(pattern, &st));
    if (!S_ISREG(st.st_mode))
        TS_FAIL(TS_ERR_IO, "cannot read input '%s': it vanished while being listed", pattern);
    ts_file_info *f = malloc(sizeof *f);
    if (!f)
        TS_FAIL(TS_ERR_NOMEM, "out of memory");
    const ts_err err = set_info(f, NULL, pattern, &st);
    if (err) {
        free(f);
        return err;
    }
    *files = f, *n = 1;
    return TS_OK;
}

void ts_file_drop_pages(const ts_file_data *d, int64_t begin, int64_t end)
{
    const int64_t page = 4096, b = (begin + page - 1) / page * page, e = (end < d->len ? end : d->len) / page * page;
    if (d->map && e > b)
        madvise((char *)d->map + b, (size_t)(e - b), MADV_DONTNEED);
}
