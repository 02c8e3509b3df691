/* Temporaries of outputs and their owners (io/ts_tmpfile.h), with real second processes (fork):
 *   - a live writer's temporary is never removed by another job, and ts_tmpfile_check_live names it;
 *   - a dead writer's temporary (killed: no clean-up ran) is removed, and so is an old-style one whose pid is gone;
 *   - two writers of the same output without overwrite: the first to publish gets the name, the second keeps its
 *     complete output under a conflict name and gets an error naming both (no work lost silently);
 *   - space: a reservation beyond the file system's free space fails with ENOSPC before any write (checked on
 *     a file system that supports fallocate; skipped otherwise), and publishing gives the unused part back. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ts_test.h"
#include "ts_tmpfile.h"

static char g_dir[256];

static int exists(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0;
}

static void write_text(const char *p, const char *text)
{
    FILE *f = fopen(p, "w");
    fputs(text, f);
    fclose(f);
}

static int count_entries(const char *prefix)
{
    char cmd[600], buf[64] = "";
    snprintf(cmd, sizeof cmd, "ls -A '%s' | grep -c '^%s' ", g_dir, prefix);
    FILE *p = popen(cmd, "r");
    if (!fgets(buf, sizeof buf, p))
        buf[0] = '\0';
    pclose(p);
    return atoi(buf);
}

/* A child that begins a temporary of path, writes it, tells the parent (one byte on ready) and waits for a byte on
 * go: 'p' publishes without overwrite (exit 0 if it succeeded, 3 on TS_ERR_IO), 'k' dies without any clean-up. */
static pid_t writer(const char *path, int ready[2], int go[2])
{
    const pid_t pid = fork();
    if (pid != 0)
        return pid;
    ts_tmpfile t;
    if (ts_tmpfile_begin(path, 4096, &t) != TS_OK)
        _exit(10);
    write_text(t.tmp, "child's output\n");
    if (ts_tmpfile_opened(&t) != TS_OK)
        _exit(11);
    char c = 'r';
    if (write(ready[1], &c, 1) != 1 || read(go[0], &c, 1) != 1)
        _exit(12);
    if (c == 'k')
        _exit(0); /* as SIGKILL: no clean-up, the kernel drops the lock */
    const ts_err err = ts_tmpfile_publish(&t, 0);
    if (err)
        fprintf(stderr, "child: %s\n", ts_error_message());
    _exit(err == TS_OK ? 0 : err == TS_ERR_IO ? 3 : 13);
}

static void test_live_and_dead(void)
{
    char path[400], tmp[500];
    snprintf(path, sizeof path, "%s/a.h5", g_dir);
    int ready[2], go[2];
    CHECK(pipe(ready) == 0 && pipe(go) == 0, "pipes");
    const pid_t child = writer(path, ready, go);
    char c;
    CHECK(read(ready[0], &c, 1) == 1, "the child began its temporary");
    snprintf(tmp, sizeof tmp, "%s/.a.h5.tmp-%ld", g_dir, (long)child);
    CHECK(exists(tmp), "its temporary exists");
    /* alive: left alone, and reported */
    ts_tmpfile_remove_stale(path);
    CHECK(exists(tmp), "a live writer's temporary is not removed");
    char want[64];
    snprintf(want, sizeof want, "pid %ld", (long)child);
    CHECK(ts_tmpfile_check_live(path) == TS_ERR_IO && strstr(ts_error_message(), want) &&
              strstr(ts_error_message(), "another job is writing it now"),
          "the live writer is named: %s", ts_error_message());
    ts_error_clear();
    /* dead (exits without clean-up): removed with its owner file */
    c = 'k';
    CHECK(write(go[1], &c, 1) == 1, "kill the child");
    int status;
    waitpid(child, &status, 0);
    CHECK(ts_tmpfile_check_live(path) == TS_OK, "a dead writer is not live");
    ts_tmpfile_remove_stale(path);
    CHECK(!exists(tmp) && count_entries(".a.h5.tmp-") == 0, "a dead writer's temporary and owner file are removed");
    /* an old-style temporary (no owner file) of a pid that is gone */
    snprintf(tmp, sizeof tmp, "%s/.a.h5.tmp-%ld", g_dir, (long)child);
    write_text(tmp, "old\n");
    ts_tmpfile_remove_stale(path);
    CHECK(!exists(tmp), "an old-style temporary of a dead pid is removed");
    /* one of a live pid (this process's parent shell, say) is left alone */
    snprintf(tmp, sizeof tmp, "%s/.a.h5.tmp-%ld", g_dir, (long)getppid());
    write_text(tmp, "old\n");
    ts_tmpfile_remove_stale(path);
    CHECK(exists(tmp), "an old-style temporary of a live pid is left alone");
    unlink(tmp);
    close(ready[0]), close(ready[1]), close(go[0]), close(go[1]);
}

static void test_conflict(void)
{
    char path[400], content[64] = "";
    snprintf(path, sizeof path, "%s/b.h5", g_dir);
    int ready[2], go[2];
    CHECK(pipe(ready) == 0 && pipe(go) == 0, "pipes");
    const pid_t child = writer(path, ready, go);
    char c;
    CHECK(read(ready[0], &c, 1) == 1, "the child began its temporary");
    ts_tmpfile t;
    if (CHECK_OK(ts_tmpfile_begin(path, 4096, &t))) {
        write_text(t.tmp, "parent's output\n");
        CHECK_OK(ts_tmpfile_opened(&t));
        CHECK_OK(ts_tmpfile_publish(&t, 0));
    }
    c = 'p';
    CHECK(write(go[1], &c, 1) == 1, "let the child publish");
    int status;
    waitpid(child, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 3, "the second writer fails with TS_ERR_IO (status %d)",
          status);
    FILE *f = fopen(path, "r");
    if (f && fgets(content, sizeof content, f))
        CHECK(strcmp(content, "parent's output\n") == 0, "the first output keeps the name: %s", content);
    if (f)
        fclose(f);
    char kept[500];
    snprintf(kept, sizeof kept, "%s/b.conflict-%ld.h5", g_dir, (long)child);
    CHECK(exists(kept), "the second output is kept as %s", kept);
    CHECK(count_entries(".b.h5.tmp-") == 0, "no temporary or owner file is left");
    /* with overwrite, the last to publish replaces the file */
    if (CHECK_OK(ts_tmpfile_begin(path, 0, &t))) {
        write_text(t.tmp, "third\n");
        CHECK_OK(ts_tmpfile_opened(&t));
        CHECK_OK(ts_tmpfile_publish(&t, 1));
        f = fopen(path, "r");
        CHECK(f && fgets(content, sizeof content, f) && strcmp(content, "third\n") == 0, "overwrite replaces it");
        if (f)
            fclose(f);
    }
    close(ready[0]), close(ready[1]), close(go[0]), close(go[1]);
}

static void test_space(void)
{
    char path[400];
    snprintf(path, sizeof path, "%s/c.h5", g_dir);
    struct statvfs sv;
    if (statvfs(g_dir, &sv) != 0)
        return;
    const long long avail = (long long)sv.f_bavail * (long long)sv.f_frsize;
    ts_tmpfile t;
    if (!CHECK_OK(ts_tmpfile_begin(path, 1 << 20, &t)))
        return;
    write_text(t.tmp, "x");
    CHECK_OK(ts_tmpfile_opened(&t));
    const ts_err err = ts_tmpfile_reserve(&t, avail * 4 + ((long long)1 << 40), "table /t");
    CHECK(err == TS_ERR_IO && strstr(ts_error_message(), "No space left on device") &&
              strstr(ts_error_message(), "table /t"),
          "an impossible reservation is ENOSPC naming what was being written: %s", ts_error_message());
    ts_error_clear();
    if (!t.no_fallocate) {
        CHECK_OK(ts_tmpfile_reserve(&t, 8 << 20, "table /u"));
        struct stat st;
        stat(t.tmp, &st);
        CHECK(st.st_size == 1 && st.st_blocks * 512 >= (8 << 20), "reserved blocks, size unchanged (%lld blocks)",
              (long long)st.st_blocks);
    }
    CHECK_OK(ts_tmpfile_publish(&t, 0));
    struct stat st;
    CHECK(stat(path, &st) == 0 && st.st_size == 1 && st.st_blocks * 512 < (1 << 20),
          "publishing gives the unused reservation back (%lld blocks)", (long long)st.st_blocks);
}

int main(void)
{
    snprintf(g_dir, sizeof g_dir, "/tmp/ts_tmpfile_XXXXXX");
    if (!mkdtemp(g_dir))
        return 1;
    signal(SIGPIPE, SIG_IGN);
    test_live_and_dead();
    test_conflict();
    test_space();
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
    CHECK(system(cmd) == 0, "cleanup");
    return TS_TEST_DONE("test_tmpfile");
}
