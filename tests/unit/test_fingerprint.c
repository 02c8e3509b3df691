/* engine/ts_fingerprint: --resume must notice an input edited in place with its size and modification time kept
 * (cp -p, touch -r), which the size + mtime fingerprint missed (issue 10 item 14). Checks the documented sampling:
 * a file up to 1 MiB is hashed whole; a larger one in its ends and 64 spread 4 KiB blocks, so an edit elsewhere
 * goes unseen (asserted too, so the documentation stays true). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ts_fingerprint.h"
#include "ts_test.h"

static char g_path[256];

static void write_file(size_t n)
{
    FILE *f = fopen(g_path, "wb");
    for (size_t i = 0; f && i < n; i++)
        fputc('a' + (int)(i % 26), f);
    if (f)
        fclose(f);
}

/* Overwrites one byte at off, then puts the old modification time back. */
static void poke_keep_time(long off, char c)
{
    struct stat st;
    stat(g_path, &st);
    const int fd = open(g_path, O_WRONLY);
    if (fd >= 0) {
        if (pwrite(fd, &c, 1, off) != 1)
            fprintf(stderr, "pwrite failed\n");
        close(fd);
    }
    const struct timespec times[2] = {st.st_atim, st.st_mtim};
    utimensat(AT_FDCWD, g_path, times, 0);
}

static void print_fp(ts_fingerprint *fp)
{
    ts_fp_init(fp);
    CHECK_OK(ts_fp_add_file(fp, "input", g_path));
}

/* 1 when the fingerprint differs after writing c at off (mtime and size kept). */
static int noticed(long off, char c)
{
    ts_fingerprint *a = malloc(sizeof *a), *b = malloc(sizeof *b);
    print_fp(a);
    poke_keep_time(off, c);
    print_fp(b);
    char why[256] = "";
    const int same = ts_fp_same(a->text, b->text, why, sizeof why);
    CHECK(same || strstr(why, "input") != NULL, "the difference is named: %s", why);
    free(a), free(b);
    return !same;
}

int main(void)
{
    snprintf(g_path, sizeof g_path, "%s/ts_fp_test_%d.csv", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp",
             (int)getpid());
    /* small file: any byte */
    write_file(100000);
    CHECK(noticed(50000, '#'), "an edit in the middle of a 100 kB file");
    CHECK(noticed(0, '#'), "an edit of the first byte");
    CHECK(noticed(99999, '#'), "an edit of the last byte");
    /* large file: ends and sampled blocks seen, the bytes between blocks not */
    const long big = 8L << 20, end = 64L << 10, inner = big - 2 * end - 4096;
    write_file((size_t)big);
    CHECK(noticed(10, '#'), "an edit in the first 64 KiB");
    CHECK(noticed(big - 10, '#'), "an edit in the last 64 KiB");
    CHECK(noticed(end + inner * 17 / 63 + 100, '#'), "an edit inside sampled block 17");
    CHECK(!noticed(end + inner * 17 / 63 + 4096 + 100, '#'), "an edit between sampled blocks (documented limit)");
    /* size and time still count */
    ts_fingerprint *a = malloc(sizeof *a), *b = malloc(sizeof *b);
    print_fp(a);
    FILE *f = fopen(g_path, "ab");
    if (f)
        fputc('x', f), fclose(f);
    print_fp(b);
    char why[256];
    CHECK(!ts_fp_same(a->text, b->text, why, sizeof why), "an appended byte");
    free(a), free(b);
    unlink(g_path);
    return TS_TEST_DONE("fingerprint");
}
