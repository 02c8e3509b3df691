#include "ts_tmpfile.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define OWNER_SUFFIX ".owner"
#define RECORD_TAG "tessera-output-writer"
#define BORN_SECONDS 60 /* an owner file without its line younger than this is being created, not abandoned */

/* For calls whose failure changes nothing for the caller (their results are only advice). */
static void best_effort(int rc) { (void)rc; }

/* ---- names ---------------------------------------------------------------------------------------------------- */

static void split(const char *path, char *dir, size_t cap, const char **base)
{
    const char *slash = strrchr(path, '/');
    *base = slash ? slash + 1 : path;
    const size_t n = !slash ? 0 : slash == path ? 1 : (size_t)(slash - path);
    if (n)
        snprintf(dir, cap, "%.*s", (int)n, path);
    else
        snprintf(dir, cap, ".");
}

static int ends_with(const char *s, const char *suffix)
{
    const size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

/* ---- who owns a temporary ----------------------------------------------------------------------------------- */

/* The start time of process pid (clock ticks after boot, /proc/PID/stat field 22); 0 when unknown. */
static unsigned long long start_time(long pid)
{
    char p[64], buf[1024];
    snprintf(p, sizeof p, "/proc/%ld/stat", pid);
    FILE *f = fopen(p, "r");
    if (!f)
        return 0;
    const size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char *s = strrchr(buf, ')'); /* the command name may hold spaces and parentheses */
    unsigned long long t = 0;
    for (int field = 2; s && *s; s++)
        if (*s == ' ' && ++field == 22) {
            t = strtoull(s + 1, NULL, 10);
            break;
        }
    return t;
}

typedef struct record {
    char host[256];
    long pid;
    unsigned long long start;
    int complete;
} record;

static void read_record(int fd, record *r)
{
    char buf[512];
    memset(r, 0, sizeof *r);
    const ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
    buf[n > 0 ? n : 0] = '\0';
    r->complete = sscanf(buf, RECORD_TAG " host=%255s pid=%ld start=%llu", r->host, &r->pid, &r->start) == 3 &&
                  strchr(buf, '\n') != NULL;
}

/* 0: free (taken when take, else only tested), 1: held by another process or open file, -1: no locks here. */
static int lock_state(int fd, int take)
{
    struct flock l = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0};
    if (fcntl(fd, take ? F_OFD_SETLK : F_OFD_GETLK, &l) == 0)
        return take ? 0 : l.l_type != F_UNLCK;
    return errno == EAGAIN || errno == EACCES ? 1 : -1;
}

enum { DEAD, ALIVE, UNKNOWN };

/* Whether the owner described by fd's line is gone, by the lock or, where there are no locks, by its pid on this
 * host. take: acquire the lock of a dead owner (the caller removes its files while holding it). */
static int owner_state(int fd, int take, record *r)
{
    read_record(fd, r);
    const int lock = lock_state(fd, take);
    if (lock == 1)
        return ALIVE;
    if (lock == 0 && r->complete)
        return DEAD;
    struct stat st;
    if (!r->complete) /* being created (its line comes after the lock), unless it died doing so long ago */
        return fstat(fd, &st) == 0 && time(NULL) - st.st_mtime > BORN_SECONDS ? DEAD : ALIVE;
    char host[256] = "";
    gethostname(host, sizeof host - 1);
    if (strcmp(host, r->host) != 0)
        return UNKNOWN;
    if (kill((pid_t)r->pid, 0) != 0 && errno == ESRCH)
        return DEAD;
    return start_time(r->pid) == r->start ? ALIVE : DEAD; /* the pid was reused by another process */
}

/* ---- checks at the start and clean-up of leftovers --------------------------------------------------------- */

/* Calls fn(dir, name, arg) for every entry ".BASE.tmp-*" of path's directory; stops at a non-zero return. */
static int each_temporary(const char *path, int (*fn)(const char *dir, const char *name, void *arg), void *arg)
{
    char dir[PATH_MAX], prefix[PATH_MAX];
    const char *base;
    split(path, dir, sizeof dir, &base);
    snprintf(prefix, sizeof prefix, ".%s.tmp-", base);
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    int rc = 0;
    for (struct dirent *e; !rc && (e = readdir(d));)
        if (strncmp(e->d_name, prefix, strlen(prefix)) == 0)
            rc = fn(dir, e->d_name, arg);
    closedir(d);
    return rc;
}

typedef struct live {
    char who[PATH_MAX + 400];
} live;

static int find_live(const char *dir, const char *name, void *arg)
{
    if (!ends_with(name, OWNER_SUFFIX))
        return 0;
    char p[2 * PATH_MAX];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    const int fd = open(p, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    record r;
    const int state = owner_state(fd, 0, &r);
    close(fd);
    if (state != ALIVE)
        return 0;
    live *l = arg;
    snprintf(l->who, sizeof l->who, "pid %ld on host %s; its temporary is %s/%.*s", r.pid,
             r.host[0] ? r.host : "?", dir, (int)(strlen(name) - strlen(OWNER_SUFFIX)), name);
    return 1;
}

ts_err ts_tmpfile_check_live(const char *path)
{
    live l;
    if (each_temporary(path, find_live, &l))
        TS_FAIL(TS_ERR_IO, "cannot write %s: another job is writing it now (%s); wait for it, or choose another "
                "output", path, l.who);
    return TS_OK;
}

static int remove_if_dead(const char *dir, const char *name, void *arg)
{
    (void)arg;
    char p[2 * PATH_MAX], tmp[2 * PATH_MAX + sizeof OWNER_SUFFIX];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    if (ends_with(name, OWNER_SUFFIX)) {
        snprintf(tmp, sizeof tmp, "%.*s", (int)(strlen(p) - strlen(OWNER_SUFFIX)), p);
        const int fd = open(p, O_RDWR | O_CLOEXEC);
        if (fd < 0)
            return 0;
        record r;
        const int state = owner_state(fd, 1, &r);
        if (state == DEAD) { /* holding its lock: no other cleaner removes the same files meanwhile */
            if (unlink(tmp) == 0)
                fprintf(stderr, "tessera: warning: removed a partial output left by an interrupted run (pid %ld "
                        "on host %s): %s\n", r.pid, r.host[0] ? r.host : "?", tmp);
            unlink(p);
        } else if (state == ALIVE) {
            fprintf(stderr, "tessera: warning: another job (pid %ld on host %s) is writing the same output now; "
                    "its temporary %s is left alone\n", r.pid, r.host[0] ? r.host : "?", tmp);
        } else {
            fprintf(stderr, "tessera: warning: cannot tell whether the job that wrote %s (pid %ld on host %s) is "
                    "still running: left alone (delete it and %s if that job is gone)\n", tmp, r.pid, r.host, p);
        }
        close(fd);
        return 0;
    }
    /* a temporary without an owner file: an older Tessera's, named by its writer's pid (on this host) */
    snprintf(tmp, sizeof tmp, "%s%s", p, OWNER_SUFFIX);
    const char *dash = strrchr(name, '-');
    char *end;
    const long pid = dash ? strtol(dash + 1, &end, 10) : 0;
    if (access(tmp, F_OK) == 0 || !dash || *end || pid <= 0 || pid == (long)getpid())
        return 0;
    if (kill((pid_t)pid, 0) == 0 || errno != ESRCH) {
        fprintf(stderr, "tessera: warning: %s may belong to a running process (pid %ld): left alone\n", p, pid);
        return 0;
    }
    if (unlink(p) == 0)
        fprintf(stderr, "tessera: warning: removed a partial output left by an interrupted run: %s\n", p);
    return 0;
}

void ts_tmpfile_remove_stale(const char *path) { each_temporary(path, remove_if_dead, NULL); }

/* ---- a new temporary --------------------------------------------------------------------------------------- */

static unsigned long long free_bytes(const char *dir)
{
    struct statvfs sv;
    return statvfs(dir, &sv) == 0 ? (unsigned long long)sv.f_bavail * sv.f_frsize : 0;
}

/* Allocates bytes [off, off + len) of fd: fallocate, or zeros written where fallocate is not supported. */
static int fill(int fd, int64_t off, int64_t len)
{
    if (len <= 0 || fallocate(fd, 0, off, len) == 0)
        return 0;
    if (errno != EOPNOTSUPP && errno != ENOSYS)
        return -1;
    static const char zeros[65536];
    for (int64_t done = 0; done < len;) {
        const size_t n = len - done < (int64_t)sizeof zeros ? (size_t)(len - done) : sizeof zeros;
        const ssize_t w = pwrite(fd, zeros, n, off + done);
        if (w <= 0)
            return -1;
        done += w;
    }
    return 0;
}

ts_err ts_tmpfile_begin(const char *path, int64_t ballast, ts_tmpfile *t)
{
    const char *base;
    memset(t, 0, sizeof *t);
    t->owner_fd = t->tmp_fd = -1;
    if (snprintf(t->path, sizeof t->path, "%s", path) >= (int)sizeof t->path)
        TS_FAIL(TS_ERR_USAGE, "cannot create %.80s...: the path is too long", path);
    split(path, t->dir, sizeof t->dir, &base);
    snprintf(t->tmp, sizeof t->tmp, "%s/.%s.tmp-%ld", t->dir, base, (long)getpid());
    snprintf(t->owner, sizeof t->owner, "%s%s", t->tmp, OWNER_SUFFIX);
    t->owner_fd = open(t->owner, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (t->owner_fd < 0)
        TS_FAIL(TS_ERR_IO, "cannot create %s (the owner file of its temporary): %s", t->owner, strerror(errno));
    lock_state(t->owner_fd, 1); /* where locks are not supported, the line below still identifies the owner */
    char host[200] = "", line[400];
    gethostname(host, sizeof host - 1);
    const int n = snprintf(line, sizeof line, RECORD_TAG " host=%s pid=%ld start=%llu\n", host[0] ? host : "?",
                           (long)getpid(), start_time((long)getpid()));
    int e = 0;
    if (pwrite(t->owner_fd, line, (size_t)n, 0) != n)
        e = errno ? errno : EIO;
    t->record_len = (size_t)n;
    if (!e && fill(t->owner_fd, n, ballast) != 0)
        e = errno;
    if (e) {
        const unsigned long long avail = free_bytes(t->dir);
        ts_tmpfile_discard(t);
        TS_FAIL(TS_ERR_IO, "cannot create %s: %s (%llu bytes free on the file system of %s; writing needs at least "
                "%lld)", path, strerror(e), avail, t->dir, (long long)ballast);
    }
    t->ballast = ballast;
    return TS_OK;
}

void ts_tmpfile_set_ballast(ts_tmpfile *t, int64_t bytes)
{
    if (t->owner_fd >= 0 && bytes < t->ballast && ftruncate(t->owner_fd, (off_t)t->record_len + bytes) == 0)
        t->ballast = bytes;
}

ts_err ts_tmpfile_opened(ts_tmpfile *t)
{
    t->tmp_fd = open(t->tmp, O_WRONLY | O_CLOEXEC);
    if (t->tmp_fd < 0)
        TS_FAIL(TS_ERR_IO, "cannot open %s: %s", t->tmp, strerror(errno));
    return TS_OK;
}

ts_err ts_tmpfile_reserve(ts_tmpfile *t, int64_t upto, const char *what)
{
    if (upto <= t->reserved || t->tmp_fd < 0)
        return TS_OK;
    if (!t->no_fallocate) {
        if (fallocate(t->tmp_fd, FALLOC_FL_KEEP_SIZE, t->reserved, upto - t->reserved) == 0) {
            t->reserved = upto;
            return TS_OK;
        }
        if (errno != EOPNOTSUPP && errno != ENOSYS)
            TS_FAIL(TS_ERR_IO, "cannot write %s in %s: %s (%llu bytes free on the file system of %s; writing it "
                    "needs up to %lld more)", what, t->path, strerror(errno), free_bytes(t->dir), t->dir,
                    (long long)(upto - t->reserved));
        t->no_fallocate = 1;
    }
    struct stat st;
    const int64_t have = fstat(t->tmp_fd, &st) == 0 ? (int64_t)st.st_size : 0;
    const unsigned long long avail = free_bytes(t->dir);
    if ((unsigned long long)(upto > have ? upto - have : 0) > avail)
        TS_FAIL(TS_ERR_IO, "cannot write %s in %s: %s (%llu bytes free on the file system of %s; writing it needs up "
                "to %lld more)", what, t->path, strerror(ENOSPC), avail, t->dir, (long long)(upto - have));
    return TS_OK;
}

/* The name a complete output gets when its final name was taken meanwhile: STEM.conflict-PID.EXT. */
static void conflict_name(const ts_tmpfile *t, char *out, size_t cap)
{
    const char *dot = strrchr(t->path, '.'), *slash = strrchr(t->path, '/');
    if (!dot || (slash && dot < slash) || dot == (slash ? slash + 1 : t->path))
        dot = t->path + strlen(t->path);
    snprintf(out, cap, "%.*s.conflict-%ld%s", (int)(dot - t->path), t->path, (long)getpid(), dot);
}

/* Gives the temporary its final name without replacing an existing file: link() fails on an existing name
 * (atomically, on every file system, NFS included); renameat2's RENAME_NOREPLACE where links are refused. 1 when
 * the name was taken, -1 on another error (errno), 0 done. */
static int publish_new(const ts_tmpfile *t)
{
    if (link(t->tmp, t->path) == 0)
        return unlink(t->tmp), 0;
    if (errno == EEXIST)
        return 1;
    if (syscall(SYS_renameat2, AT_FDCWD, t->tmp, AT_FDCWD, t->path, 1 /* RENAME_NOREPLACE */) == 0)
        return 0;
    if (errno == EEXIST)
        return 1;
    if (errno != EINVAL && errno != ENOSYS)
        return -1;
    if (access(t->path, F_OK) == 0) /* neither primitive: check, then rename (not atomic) */
        return 1;
    return rename(t->tmp, t->path) == 0 ? 0 : -1;
}

static void end(ts_tmpfile *t)
{
    if (t->tmp_fd >= 0)
        close(t->tmp_fd);
    if (t->owner_fd >= 0) {
        unlink(t->owner);
        close(t->owner_fd); /* the lock goes last: the temporary is gone or renamed by now */
    }
    t->tmp_fd = t->owner_fd = -1;
}

ts_err ts_tmpfile_publish(ts_tmpfile *t, int overwrite)
{
    struct stat st;
    if (t->tmp_fd >= 0 && t->reserved && fstat(t->tmp_fd, &st) == 0 && st.st_size < t->reserved)
        best_effort(ftruncate(t->tmp_fd, st.st_size)); /* frees the blocks reserved past the end */
    const int fd = open(t->tmp, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fsync(fd) != 0) {
        const int e = errno;
        if (fd >= 0)
            close(fd);
        ts_tmpfile_discard(t);
        TS_FAIL(TS_ERR_IO, "cannot sync the temporary of %s: %s", t->path, strerror(e));
    }
    close(fd);
    ts_err err = TS_OK;
    const int rc = overwrite ? (rename(t->tmp, t->path) == 0 ? 0 : -1) : publish_new(t);
    if (rc == 1) {
        char other[sizeof t->tmp + 32];
        conflict_name(t, other, sizeof other);
        if (rename(t->tmp, other) == 0)
            err = ts_error_raise(TS_ERR_IO, __FILE__, __LINE__, __func__, "cannot create %s: another job created "
                                 "it while this one was running (pass --overwrite to replace it); this job's "
                                 "complete output is kept as %s", t->path, other);
        else
            err = ts_error_raise(TS_ERR_IO, __FILE__, __LINE__, __func__, "cannot create %s: another job created "
                                 "it while this one was running; this job's complete output is kept as %s", t->path,
                                 t->tmp);
    } else if (rc < 0) {
        err = ts_error_raise(TS_ERR_IO, __FILE__, __LINE__, __func__, "cannot rename %s to %s: %s (the complete "
                             "output is kept under the temporary name)", t->tmp, t->path, strerror(errno));
    } else {
        /* the rename is durable once the directory is synced; a failure there does not undo it */
        const int dfd = open(t->dir, O_RDONLY | O_CLOEXEC);
        if (dfd >= 0) {
            best_effort(fsync(dfd));
            close(dfd);
        }
    }
    end(t);
    return err;
}

void ts_tmpfile_discard(ts_tmpfile *t)
{
    if (t->tmp[0] && (t->tmp_fd >= 0 || t->owner_fd >= 0))
        unlink(t->tmp);
    end(t);
}
