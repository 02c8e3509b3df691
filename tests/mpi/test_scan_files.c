/* read_csv's I/O: ts_list_inputs (file, directory, glob), the inferred schema of the first file, and
 * ts_scan_csv_files over a glob of plain, gzip, empty, BOM + CRLF and header-only files with ';' fields, quotes,
 * blanks kept in strings, NULLs, blank lines and bad rows. Every file line is generated from a seeded generator
 * that records what it must give (clean values or a reject reason), so the expectation needs no parser; each rank
 * checks the rows it read against it and a global count checks that every line is read exactly once. */
#include <math.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "../unit/ts_test.h"
#include "ts_mpi_test.h"
#include "ts_csv_schema.h"
#include "ts_ctx.h"
#include "ts_date.h"
#include "ts_scan.h"

enum { CLEAN = 255, NOT_A_ROW = 254 };

typedef struct line_exp {
    int reason;           /* CLEAN, NOT_A_ROW (header, blank), or the reject reason */
    char raw[160];        /* the line without its ending (and without a BOM) */
    int64_t id;
    int x_null, flag_null, day_null, name_null;
    double x;
    int flag;
    int32_t day;
    char name[48];
} line_exp;

typedef struct file_exp {
    const char *name;
    int gz, bom, crlf, nlines;
    line_exp *lines;      /* lines[l - 1] is line l */
} file_exp;

/* ---- generation ------------------------------------------------------------------------------------------- */

static void gen_line(ts_test_rng *r, int file, int l, line_exp *e)
{
    memset(e, 0, sizeof *e);
    uint64_t kind = ts_rng_below(r, 100);
    if (kind < 4) {
        e->reason = NOT_A_ROW; /* blank line */
        return;
    }
    char xs[40], fs[8], ds[16], ns[48];
    e->id = (int64_t)file * 1000000 + l;
    /* x: NULL, a short decimal, a full-precision double, or a special value */
    const uint64_t xk = ts_rng_below(r, 10);
    if (xk == 0) {
        xs[0] = '\0', e->x_null = 1;
    } else if (xk < 6) {
        snprintf(xs, sizeof xs, "%s%d.%02d", ts_rng_below(r, 3) ? "" : "-", (int)ts_rng_below(r, 100000),
                 (int)ts_rng_below(r, 100));
        e->x = strtod(xs, NULL);
    } else if (xk < 9) {
        const double v = ldexp((double)(ts_rng_next(r) >> 11), (int)ts_rng_range(r, -80, 40));
        snprintf(xs, sizeof xs, "%.17g", ts_rng_below(r, 2) ? v : -v);
        e->x = strtod(xs, NULL);
    } else {
        const int neg = (int)ts_rng_below(r, 2);
        snprintf(xs, sizeof xs, "%s", neg ? "-inf" : "1e400");
        e->x = neg ? -INFINITY : INFINITY;
    }
    static const char *const flags[] = {"true", "false", "T", "f", ""};
    const int fk = (int)ts_rng_below(r, 5);
    snprintf(fs, sizeof fs, "%s", flags[fk]);
    e->flag = fk == 0 || fk == 2, e->flag_null = fk == 4;
    if (ts_rng_below(r, 10) == 0) {
        ds[0] = '\0', e->day_null = 1;
    } else {
        const int y = (int)ts_rng_range(r, 1950, 2050), m = (int)ts_rng_range(r, 1, 12), d = (int)ts_rng_range(r, 1, 28);
        snprintf(ds, sizeof ds, "%04d-%02d-%02d", y, m, d);
        e->day = ts_days_from_civil(y, m, d);
    }
    /* name: text, blanks kept, quoted with the delimiter or doubled quotes inside, or NULL */
    switch (ts_rng_below(r, 5)) {
    case 0: snprintf(ns, sizeof ns, "n%d", (int)ts_rng_below(r, 1000)), snprintf(e->name, sizeof e->name, "%s", ns); break;
    case 1: snprintf(ns, sizeof ns, "  sp %d ", l % 7), snprintf(e->name, sizeof e->name, "  sp %d ", l % 7); break;
    case 2: snprintf(ns, sizeof ns, "\"a;b %d\"", l % 5), snprintf(e->name, sizeof e->name, "a;b %d", l % 5); break;
    case 3: snprintf(ns, sizeof ns, "\"say \"\"hi\"\"\""), snprintf(e->name, sizeof e->name, "say \"hi\""); break;
    default: ns[0] = '\0', e->name_null = 1;
    }
    e->reason = CLEAN;
    if (file == 0) /* the schema is inferred from file 0: no bad row there */
        kind = 15;
    if (kind < 8) { /* x does not parse: reason 2 */
        snprintf(xs, sizeof xs, "1.5x");
        e->reason = 2;
    } else if (kind < 11) { /* no such date: reason 4 */
        snprintf(ds, sizeof ds, "2023-02-30");
        e->reason = 4;
    } else if (kind < 13) { /* bad flag: reason 3 */
        snprintf(fs, sizeof fs, "yes");
        e->reason = 3;
    }
    if (kind >= 13 && kind < 15) { /* a field short: malformed, reason 0 */
        snprintf(e->raw, sizeof e->raw, "%lld;%s;%s;%s", (long long)e->id, xs, fs, ds);
        e->reason = 0;
    } else {
        snprintf(e->raw, sizeof e->raw, "%lld;%s;%s;%s;%s", (long long)e->id, xs, fs, ds, ns);
    }
}

#define HEADER "id;x;flag;day;name"

static void gen_file(int file, file_exp *f)
{
    ts_test_rng r = ts_rng_seed(1000 + (uint64_t)file);
    f->lines = calloc((size_t)(f->nlines ? f->nlines : 1), sizeof *f->lines);
    for (int l = 1; l <= f->nlines; l++) {
        line_exp *e = &f->lines[l - 1];
        if (l == 1) {
            e->reason = NOT_A_ROW;
            snprintf(e->raw, sizeof e->raw, HEADER);
        } else {
            gen_line(&r, file, l, e);
        }
    }
}

static void write_file(const char *dir, const file_exp *f)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, f->name);
    const char *end = f->crlf ? "\r\n" : "\n";
    if (f->gz) {
        gzFile g = gzopen(path, "wb");
        for (int l = 1; l <= f->nlines; l++)
            gzprintf(g, "%s%s", f->lines[l - 1].raw, end);
        gzclose(g);
        return;
    }
    FILE *o = fopen(path, "wb");
    if (f->bom)
        fputs("\xEF\xBB\xBF", o);
    for (int l = 1; l <= f->nlines; l++)
        fprintf(o, "%s%s", f->lines[l - 1].raw, l < f->nlines || l % 2 ? end : ""); /* some end without one */
    fclose(o);
}

/* ---- checks ----------------------------------------------------------------------------------------------- */

static int same_double(double a, double b) { return memcmp(&a, &b, sizeof a) == 0 || (isnan(a) && isnan(b)); }

static int str_is(const ts_column *c, int64_t i, const char *s)
{
    const int64_t *off = TS_COL(c, int64_t);
    return off[i + 1] - off[i] == (int64_t)strlen(s) && memcmp(c->bytes + off[i], s, strlen(s)) == 0;
}

/* Checks this rank's clean rows and rejects against the expectation and counts each line in seen[]. */
static void check_rows(const ts_scan *s, const file_exp *files, const int64_t *first, int *seen)
{
    const ts_table *t = s->clean;
    CHECK(t->ncols == 6 && strcmp(t->cols[5]->name, "__pos") == 0, "clean schema: 5 columns + __pos");
    if (t->ncols != 6)
        return;
    const ts_column *id = t->cols[0], *x = t->cols[1], *flag = t->cols[2], *day = t->cols[3], *name = t->cols[4];
    CHECK(id->type == TS_T_INT64 && x->type == TS_T_FLOAT64 && flag->type == TS_T_BOOL && day->type == TS_T_DATE &&
              name->type == TS_T_STRING,
          "clean types");
    long bad = 0;
    for (int64_t i = 0; i < ts_table_rows(t); i++) {
        const int64_t pos = TS_COL(t->cols[5], int64_t)[i];
        const int f = ts_pos_file(pos);
        const int64_t l = ts_pos_line(pos);
        if (f < 0 || f > 5 || l < 1 || l > files[f].nlines) {
            CHECK(0, "position file %d line %lld out of range", f, (long long)l);
            continue;
        }
        seen[first[f] + l - 1]++;
        const line_exp *e = &files[f].lines[l - 1];
        const int ok = e->reason == CLEAN && TS_COL(id, int64_t)[i] == e->id &&
                       ts_column_is_valid(x, i) == !e->x_null && (e->x_null || same_double(TS_COL(x, double)[i], e->x)) &&
                       ts_column_is_valid(flag, i) == !e->flag_null &&
                       (e->flag_null || TS_COL(flag, uint8_t)[i] == e->flag) &&
                       ts_column_is_valid(day, i) == !e->day_null && (e->day_null || TS_COL(day, int32_t)[i] == e->day) &&
                       ts_column_is_valid(name, i) == !e->name_null && (e->name_null || str_is(name, i, e->name));
        if (!ok && bad++ < 5)
            CHECK(0, "clean row at file %d line %lld [%s] (expected reason %d) has wrong values", f, (long long)l,
                  e->raw, e->reason);
    }
    CHECK(bad == 0, "%ld wrong clean rows", bad);
    const ts_table *rj = s->rejects;
    bad = 0;
    for (int64_t i = 0; i < ts_table_rows(rj); i++) {
        const int64_t pos = TS_COL(rj->cols[0], int64_t)[i];
        const int f = ts_pos_file(pos);
        const int64_t l = ts_pos_line(pos);
        if (f < 0 || f > 5 || l < 1 || l > files[f].nlines) {
            CHECK(0, "reject position file %d line %lld out of range", f, (long long)l);
            continue;
        }
        seen[first[f] + l - 1]++;
        const line_exp *e = &files[f].lines[l - 1];
        const int ok = TS_COL(rj->cols[1], int32_t)[i] == e->reason && str_is(rj->cols[2], i, e->raw);
        if (!ok && bad++ < 5)
            CHECK(0, "reject at file %d line %lld: reason %d, expected %d [%s]", f, (long long)l,
                  TS_COL(rj->cols[1], int32_t)[i], e->reason, e->raw);
    }
    CHECK(bad == 0, "%ld wrong rejects", bad);
}

/* ---- file selection --------------------------------------------------------------------------------------- */

static void test_list_inputs(const char *dir)
{
    ts_file_info *files;
    int n;
    char pat[4200];
    if (CHECK_OK(ts_list_inputs(dir, &files, &n))) { /* a directory: its .csv and .csv.gz, not the sub-directory */
        CHECK(n == 7, "directory: %d files, expected 7", n);
        static const char *const want[] = {"nohdr-1.csv", "part-00.csv", "part-01.csv.gz", "part-02.csv",
                                           "part-03.csv", "part-04.csv", "part-06.csv"};
        for (int i = 0; i < n && i < 7; i++)
            CHECK(strcmp(ts_file_base(&files[i]), want[i]) == 0 && files[i].gz == (i == 2), "directory file %d: %s", i,
                  ts_file_base(&files[i]));
        free(files);
    }
    snprintf(pat, sizeof pat, "%s/part-02.csv", dir);
    if (CHECK_OK(ts_list_inputs(pat, &files, &n))) {
        struct stat st;
        stat(pat, &st);
        CHECK(n == 1 && strcmp(ts_file_base(&files[0]), "part-02.csv") == 0 && files[0].size == st.st_size && !files[0].gz,
              "a single file");
        free(files);
    }
    snprintf(pat, sizeof pat, "%s/*.txt", dir);
    if (CHECK_OK(ts_list_inputs(pat, &files, &n))) {
        CHECK(n == 1 && strcmp(ts_file_base(&files[0]), "other.txt") == 0, "a glob of one .txt");
        free(files);
    }
    snprintf(pat, sizeof pat, "%s/nothing-*.csv", dir);
    CHECK(ts_list_inputs(pat, &files, &n) == TS_ERR_IO, "no match is an I/O error");
    char want[4300];
    snprintf(want, sizeof want, "no file matches '%s'", pat);
    CHECK(strstr(ts_error_message(), want) != NULL, "message: %s", ts_error_message());
    snprintf(pat, sizeof pat, "%s/part-05.csv*", dir); /* matches only a directory */
    CHECK(ts_list_inputs(pat, &files, &n) == TS_ERR_IO, "a glob matching only a directory");
    ts_error_clear();
}

/* ts_file_load_head: a prefix of whole lines of the full content, for plain and gzip files. */
static void test_load_head(const char *dir)
{
    static const char *const names[] = {"part-00.csv", "part-01.csv.gz"};
    for (int k = 0; k < 2; k++) {
        char pat[4200];
        snprintf(pat, sizeof pat, "%s/%s", dir, names[k]);
        ts_file_info *f;
        int n;
        ts_file_data all, head;
        if (!CHECK_OK(ts_list_inputs(pat, &f, &n)) || !CHECK_OK(ts_file_load(f, &all))) {
            free(f);
            continue;
        }
        if (CHECK_OK(ts_file_load_head(f, 1000, &head))) {
            CHECK(head.len > 800 && head.len <= 1000 && head.data[head.len - 1] == '\n' &&
                      memcmp(head.data, all.data, (size_t)head.len) == 0,
                  "%s: a head of %lld bytes", names[k], (long long)head.len);
            ts_file_unload(&head);
        }
        if (CHECK_OK(ts_file_load_head(f, all.len + 10, &head))) {
            CHECK(head.len == all.len && memcmp(head.data, all.data, (size_t)head.len) == 0, "%s: everything",
                  names[k]);
            ts_file_unload(&head);
        }
        ts_file_unload(&all);
        free(f);
    }
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    ts_ctx ctx;
    ts_ctx_init(MPI_COMM_WORLD, &ctx);
    file_exp files[6] = {{.name = "part-00.csv", .nlines = 3000},
                         {.name = "part-01.csv.gz", .gz = 1, .nlines = 2000},
                         {.name = "part-02.csv", .nlines = 20000},
                         {.name = "part-03.csv", .nlines = 0},
                         {.name = "part-04.csv", .bom = 1, .crlf = 1, .nlines = 501},
                         {.name = "part-06.csv", .nlines = 1}};
    int64_t first[7] = {0};
    for (int f = 0; f < 6; f++)
        gen_file(f, &files[f]), first[f + 1] = first[f] + files[f].nlines;

    char dir[256] = "";
    if (ctx.rank == 0) {
        snprintf(dir, sizeof dir, "/tmp/ts_scan_files_XXXXXX");
        if (!mkdtemp(dir))
            dir[0] = '\0';
        for (int f = 0; dir[0] && f < 6; f++)
            write_file(dir, &files[f]);
        char p[512];
        snprintf(p, sizeof p, "%s/other.txt", dir);
        FILE *o = fopen(p, "w");
        fputs("id;x\n1;2\n", o), fclose(o);
        snprintf(p, sizeof p, "%s/part-05.csv", dir);
        mkdir(p, 0700);
        snprintf(p, sizeof p, "%s/nohdr-1.csv", dir);
        o = fopen(p, "w");
        for (int i = 1; i <= 5000; i++)
            fprintf(o, "%d|%s\n", i, i % 3 ? "a" : "");
        fclose(o);
    }
    MPI_Bcast(dir, sizeof dir, MPI_CHAR, 0, MPI_COMM_WORLD);
    CHECK(dir[0] != '\0', "temporary directory");
    if (ctx.rank == 0)
        test_list_inputs(dir), test_load_head(dir);

    /* the glob, listed on rank 0 and broadcast */
    char pattern[300];
    snprintf(pattern, sizeof pattern, "%s/part-*.csv*", dir);
    ts_file_info *list = NULL;
    int nlist = 0;
    if (CHECK_OK(ts_scan_list_inputs(&ctx, pattern, &list, &nlist)))
        CHECK(nlist == 6 && strcmp(ts_file_base(&list[5]), "part-06.csv") == 0, "glob: %d files", nlist);

    /* the schema, inferred from the first non-empty file on rank 0 */
    ts_csv_inferred inf;
    if (CHECK_OK(ts_csv_infer_files(&ctx, list, nlist, NULL, &inf))) {
        static const char *const names[] = {"id", "x", "flag", "day", "name"};
        static const ts_type types[] = {TS_T_INT64, TS_T_FLOAT64, TS_T_BOOL, TS_T_DATE, TS_T_STRING};
        int ok = inf.ncols == 5 && inf.delim == ';' && inf.header == 1;
        for (int c = 0; ok && c < 5; c++)
            ok = strcmp(inf.names[c], names[c]) == 0 && inf.types[c] == types[c] && inf.spec.fields[c].name == inf.names[c];
        CHECK(ok, "inferred schema on rank %d", ctx.rank);
    }

    /* the scan: every line exactly once, with its values or its reason */
    ts_scan scan;
    int *seen = calloc((size_t)first[6], sizeof *seen);
    if (CHECK_OK(ts_scan_csv_files(&ctx, list, nlist, &inf.spec, &scan))) {
        check_rows(&scan, files, first, seen);
        MPI_Allreduce(MPI_IN_PLACE, seen, (int)first[6], MPI_INT, MPI_SUM, ctx.comm);
        long wrong = 0;
        int64_t rows = 0;
        for (int f = 0; f < 6; f++)
            for (int l = 1; l <= files[f].nlines; l++) {
                const int want = files[f].lines[l - 1].reason != NOT_A_ROW;
                rows += l > 1;
                if (seen[first[f] + l - 1] != want && wrong++ < 5)
                    CHECK(0, "file %d line %d read %d times, expected %d", f, l, seen[first[f] + l - 1], want);
            }
        CHECK(wrong == 0, "%ld lines not read exactly once", wrong);
        int64_t read = scan.rows_read;
        MPI_Allreduce(MPI_IN_PLACE, &read, 1, MPI_INT64_T, MPI_SUM, ctx.comm);
        CHECK(read == rows, "rows_read %lld, expected %lld (blank lines count)", (long long)read, (long long)rows);
        CHECK(scan.header_warnings == 0, "no header warnings");
        ts_scan_free(&scan);
    }

    /* the same list must be given on every rank */
    if (ctx.size > 1) {
        const int n = ctx.rank == 1 ? nlist - 1 : nlist;
        CHECK(ts_scan_csv_files(&ctx, list, n, &inf.spec, &scan) == TS_ERR_USAGE, "different lists are refused");
        ts_error_clear();
    }

    /* no header, '|': line 1 is data; column names column0, column1; empty strings are NULL */
    snprintf(pattern, sizeof pattern, "%s/nohdr-*.csv", dir);
    free(list), list = NULL;
    ts_csv_inferred_free(&inf);
    if (CHECK_OK(ts_scan_list_inputs(&ctx, pattern, &list, &nlist)) &&
        CHECK_OK(ts_csv_infer_files(&ctx, list, nlist, NULL, &inf))) {
        CHECK(inf.header == 0 && inf.delim == '|' && strcmp(inf.names[0], "column0") == 0 &&
                  inf.types[0] == TS_T_INT64 && inf.types[1] == TS_T_STRING && inf.spec.no_header,
              "headerless schema");
        if (CHECK_OK(ts_scan_csv_files(&ctx, list, nlist, &inf.spec, &scan))) {
            const ts_table *t = scan.clean;
            long bad = 0;
            int64_t n = ts_table_rows(t), sum = 0;
            for (int64_t i = 0; i < n; i++) {
                const int64_t v = TS_COL(t->cols[0], int64_t)[i], line = ts_pos_line(TS_COL(t->cols[2], int64_t)[i]);
                const int null = !ts_column_is_valid(t->cols[1], i);
                bad += v != line || null != (v % 3 == 0) || (!null && !str_is(t->cols[1], i, "a"));
                sum += v;
            }
            MPI_Allreduce(MPI_IN_PLACE, &n, 1, MPI_INT64_T, MPI_SUM, ctx.comm);
            MPI_Allreduce(MPI_IN_PLACE, &sum, 1, MPI_INT64_T, MPI_SUM, ctx.comm);
            CHECK(bad == 0 && n == 5000 && sum == 5000 * 5001 / 2, "headerless rows: %ld bad, %lld rows", bad,
                  (long long)n);
            ts_scan_free(&scan);
        }
    }
    ts_csv_inferred_free(&inf);
    free(list), free(seen);
    for (int f = 0; f < 6; f++)
        free(files[f].lines);
    MPI_Barrier(ctx.comm);
    if (ctx.rank == 0 && dir[0]) {
        char cmd[400];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
        CHECK(system(cmd) == 0, "cleanup");
    }
    return ts_mpi_test_done(&ctx, "test_scan_files");
}
