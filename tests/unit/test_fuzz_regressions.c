/* Replays the fuzz targets' inputs without libFuzzer or clang: every file of tests/fuzz/regressions/<target>/
 * (inputs that once crashed a target or broke one of its invariants, kept after the fix) and of the seed corpus
 * tests/fuzz/corpus/<target>/ goes through the same code path as in the fuzzer, LLVMFuzzerTestOneInput of
 * tests/fuzz/fuzz_<target>.c, compiled into this program under another name (TS_FUZZ_REPLAY; see
 * tests/fuzz/ts_fuzz.h). A regression that comes back crashes this test (a sanitizer report in the ASan build, a
 * trap on a violated invariant in both builds).
 *
 *   test_fuzz_regressions [FUZZ_DIR]      FUZZ_DIR defaults to tests/fuzz next to this source file */
#define TS_FUZZ_REPLAY
#include "../fuzz/fuzz_csv.c"
#include "../fuzz/fuzz_csv_infer.c"
#include "../fuzz/fuzz_h5_read.c"
#include "../fuzz/fuzz_parquet.c"
#include "../fuzz/fuzz_parse.c"
#include "../fuzz/fuzz_rules.c"

#include <dirent.h>

#include "ts_test.h"

typedef struct replay_target {
    const char *name;
    int (*init)(int *, char ***);
    int (*one)(const uint8_t *, size_t);
} replay_target;

static int by_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Reads path whole into a new buffer; *size gets its length. NULL when unreadable. */
static uint8_t *read_all(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    uint8_t *buf = NULL;
    size_t cap = 0, n = 0, got;
    do {
        if (n == cap) {
            uint8_t *b = realloc(buf, cap = cap ? 2 * cap : 65536);
            if (!b)
                abort();
            buf = b;
        }
        got = fread(buf + n, 1, cap - n, f);
        n += got;
    } while (got > 0);
    fclose(f);
    *size = n;
    return buf;
}

/* Runs every file of dir (sorted, dot files skipped) through t. Returns the number of inputs, -1 without dir. */
static int replay_dir(const replay_target *t, const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    char *names[4096];
    int n = 0;
    for (struct dirent *e; (e = readdir(d)) && n < 4096;)
        if (e->d_name[0] != '.')
            names[n++] = strdup(e->d_name);
    closedir(d);
    qsort(names, (size_t)n, sizeof *names, by_name);
    for (int i = 0; i < n; i++) {
        char path[4096];
        size_t size = 0;
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        uint8_t *data = read_all(path, &size);
        CHECK(data != NULL, "cannot read %s", path);
        if (data) {
            fprintf(stderr, "  %s\n", path); /* a crash names its input */
            CHECK(t->one(data, size) == 0, "%s: the target returned non-zero", path);
        }
        free(data), free(names[i]);
    }
    return n;
}

int main(int argc, char **argv)
{
    static const replay_target targets[] = {
        {"csv", ts_fuzz_init_csv, ts_fuzz_one_csv},
        {"csv_infer", ts_fuzz_init_csv_infer, ts_fuzz_one_csv_infer},
        {"h5_read", ts_fuzz_init_h5_read, ts_fuzz_one_h5_read},
        {"parquet", ts_fuzz_init_parquet, ts_fuzz_one_parquet},
        {"parse", ts_fuzz_init_parse, ts_fuzz_one_parse},
        {"rules", ts_fuzz_init_rules, ts_fuzz_one_rules},
    };
    char fuzz_dir[4096];
    if (argc > 1) {
        snprintf(fuzz_dir, sizeof fuzz_dir, "%s", argv[1]);
    } else { /* this file is tests/unit/test_fuzz_regressions.c: tests/fuzz is ../fuzz */
        snprintf(fuzz_dir, sizeof fuzz_dir, "%s", __FILE__);
        char *slash = strrchr(fuzz_dir, '/');
        snprintf(slash ? slash + 1 : fuzz_dir, sizeof fuzz_dir - (size_t)(slash ? slash + 1 - fuzz_dir : 0),
                 "../fuzz");
    }
    for (size_t k = 0; k < sizeof targets / sizeof *targets; k++) {
        const replay_target *t = &targets[k];
        CHECK(t->init(&argc, &argv) == 0, "%s: initialisation failed", t->name);
        char dir[4200];
        snprintf(dir, sizeof dir, "%s/regressions/%s", fuzz_dir, t->name);
        const int nreg = replay_dir(t, dir);
        snprintf(dir, sizeof dir, "%s/corpus/%s", fuzz_dir, t->name);
        const int nseed = replay_dir(t, dir);
        CHECK(nseed > 0, "%s: no seed corpus in %s", t->name, dir);
        printf("%s: %d regression inputs, %d seed inputs replayed\n", t->name, nreg < 0 ? 0 : nreg, nseed);
    }
    return TS_TEST_DONE("fuzz_regressions");
}
