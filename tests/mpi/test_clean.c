/* engine/dist/ts_clean: the cleaning scan (column rules, table rules, duplicate lines, rejects, counts) on P ranks,
 * against a naive sequential model of the same rules over generated lines whose faults are known by
 * construction. The files: a.csv (LF), b.csv (CRLF), c.csv.gz (whole file on one rank), d.csv (columns in
 * another order), e.csv (empty); exact copies of earlier lines within a file, across files and across ranks.
 * Every rank count must give exactly the model's clean rows, rejects (file, line, reason, raw bytes) and counts. */
#include <mpi.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../unit/ts_test.h"
#include "ts_mpi_test.h"
#include "ts_clean.h"
#include "ts_ctx.h"
#include "ts_exchange.h"
#include "ts_sort.h"

#define MAXL 2000
#define NFILES 5

static const char *const FILES[NFILES] = {"a.csv", "b.csv", "c.csv", "d.csv", "e.csv"};
static const int NLINES[NFILES] = {500, 400, 300, 300, 0};

/* Reasons, in this order in both rules texts. */
enum { R_MALFORMED, R_DATE, R_COUNTRY, R_CATEGORY, R_MISSING, R_AMOUNT, R_ORPHAN, R_DUPREF, R_DUPLICATE, NR };
static const char *const REASONS[NR] = {"malformed", "bad_date", "unknown_country", "bad_category",
                                        "missing_amount", "bad_amount", "orphan", "dup_ref", "duplicate"};

#define COLUMNS                                                                                               \
    "column id int64 reject=malformed\n"                                                                      \
    "column day date formats=YYYY-MM-DD,YYYYMMDD reject=bad_date\n"                                           \
    "column country category case=upper values=@countries.csv:code reject=unknown_country\n"                 \
    "column kind category values=a,b,c reject=bad_category\n"                                                 \
    "column amount decimal(18,2) gt=0 missing=missing_amount reject=bad_amount\n"                             \
    "column ref int64 nullable reject=malformed\n"                                                            \
    "column cust int64 reject=malformed\n"                                                                    \
    "column note skip\n"
#define ORDER                                                                                                 \
    "order malformed bad_date unknown_country bad_category missing_amount bad_amount orphan dup_ref duplicate\n"

/* Full rules: table rules and duplicate rejection. */
static const char *RULES_FULL = "table t\n" ORDER "malformed malformed\nduplicates duplicate\n" COLUMNS
                                "unique ref reject=dup_ref\n"
                                "references cust custs.csv:cust_id reject=orphan\n";
/* Column rules only: copies and orphans stay clean. */
static const char *RULES_COLUMNS = "table t\n" ORDER "malformed malformed\n" COLUMNS;

typedef struct line {
    char text[160];  /* the bytes, without line end */
    int file;        /* index in FILES */
    int64_t lineno;  /* 1-based, the header is line 1 */
    int col_reason;  /* reason of the column rules, -1 when they pass */
    /* typed values of a line passing the column rules */
    int64_t id, cents, ref, cust;
    int ref_null, day;
    char country[4], kind[2];
} line;

static line L[MAXL];
static int NL;

static uint64_t mix(uint64_t x)
{
    x ^= x >> 31, x *= 0x9E3779B97F4A7C15ull, x ^= x >> 29, x *= 0xBF58476D1CE4E5B9ull;
    return x ^ (x >> 32);
}

/* Days since 1970-01-01, counted the long way. */
static int days_of(int y, int m, int d)
{
    static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int n = 0;
    for (int yy = 1970; yy < y; yy++)
        n += 365 + ((yy % 4 == 0 && yy % 100 != 0) || yy % 400 == 0);
    for (int mm = 1; mm < m; mm++)
        n += mdays[mm - 1] + (mm == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0));
    return n + d - 1;
}

/* Line g of the data (fields in canonical order, or reversed for d.csv) and the fault, if any, that the model
 * expects. */
static void make_line(int g, int reversed, line *l)
{
    static const char *const codes[3] = {"ARG", "BRA", "CHL"};
    const uint64_t h = mix((uint64_t)g + 17);
    const int y = 2021 + g % 4, m = 1 + (g / 4) % 12, d = 1 + (g / 48) % 28;
    char f[8][48];
    l->id = 1000 + g, l->day = days_of(y, m, d), l->cents = 100 + (int64_t)(h >> 20) % 100000;
    l->ref_null = g % 2, l->ref = 1 + (int64_t)((uint64_t)g * 7919u % 5000u), l->cust = 1 + g % 40;
    strcpy(l->country, codes[g % 3]);
    l->kind[0] = (char)('a' + (g / 3) % 3), l->kind[1] = '\0';
    l->col_reason = -1;
    snprintf(f[0], 48, "%lld", (long long)l->id);
    if (g % 5 == 0)
        snprintf(f[1], 48, "%04d%02d%02d", y, m, d);
    else
        snprintf(f[1], 48, "%04d-%02d-%02d", y, m, d);
    snprintf(f[2], 48, "%s", l->country);
    snprintf(f[3], 48, "%s", l->kind);
    snprintf(f[4], 48, "%lld.%02lld", (long long)(l->cents / 100), (long long)(l->cents % 100));
    snprintf(f[5], 48, "%s", "");
    if (!l->ref_null)
        snprintf(f[5], 48, "%lld", (long long)l->ref);
    snprintf(f[6], 48, "%lld", (long long)l->cust);
    snprintf(f[7], 48, "n%d", g);
    int nf = 8;
    switch (h % 20) {
    case 0: nf = 7, l->col_reason = R_MALFORMED; break;                               /* a field short */
    case 1: strcpy(f[3], "\"a\"x"), l->col_reason = R_MALFORMED; break;                /* text after a quote */
    case 2: strcpy(f[1], "2023-02-30"), l->col_reason = R_DATE; break;
    case 3: strcpy(f[1], "2023-1-5"), l->col_reason = R_DATE; break;
    case 4: strcpy(f[2], "XXX"), l->col_reason = R_COUNTRY; break;
    case 5: strcpy(f[3], "d"), l->col_reason = R_CATEGORY; break;
    case 6: strcpy(f[4], "  "), l->col_reason = R_MISSING; break;
    case 7: strcpy(f[4], g % 2 ? "0.00" : "1.234"), l->col_reason = R_AMOUNT; break;
    case 8: strcpy(f[6], "99"), l->cust = 99; break;                                   /* orphan (table rule) */
    case 9: strcpy(f[1], "2023-13-01"), strcpy(f[4], "-1"), l->col_reason = R_DATE; break; /* two faults */
    case 10: strcpy(f[2], "ZZZ"), strcpy(f[6], "99"), l->col_reason = R_COUNTRY; break;  /* column rule first */
    case 11: /* valid but not canonical: padded, other case, one decimal, quoted */
        snprintf(f[2], 48, " %c%c%c ", l->country[0] + 32, l->country[1] + 32, l->country[2]);
        snprintf(f[3], 48, "\t%c ", l->kind[0] - 32);
        l->cents -= l->cents % 10;
        snprintf(f[4], 48, " %lld.%lld", (long long)(l->cents / 100), (long long)(l->cents % 100 / 10));
        snprintf(f[7], 48, "\"x,\"\"y\"\"\"");
        break;
    default: break;
    }
    int at = 0;
    for (int k = 0; k < nf; k++)
        at += snprintf(l->text + at, sizeof l->text - (size_t)at, "%s%s", k ? "," : "", f[reversed ? nf - 1 - k : k]);
}

/* Builds the model's lines: copies (h % 20 in 12..15) repeat an earlier line of a file with the same layout. */
static void build_lines(void)
{
    int g = 0;
    NL = 0;
    for (int fi = 0; fi < NFILES; fi++) {
        const int group_start = fi == 3 ? NL : 0; /* d.csv has its own column order: it copies only itself */
        for (int k = 0; k < NLINES[fi]; k++, g++) {
            line *l = &L[NL];
            const uint64_t h = mix((uint64_t)g + 17);
            const int avail = NL - group_start;
            if (h % 20 >= 12 && h % 20 < 16 && avail > 0)
                *l = L[NL - 1 - (int)((h >> 24) % (uint64_t)(avail < 300 ? avail : 300))];
            else
                make_line(g, fi == 3, l);
            l->file = fi, l->lineno = k + 2;
            NL++;
        }
    }
}

#define CLEAN (-1)
#define NOT_READ (-2)

/* Expected reason (or CLEAN) of every line under the rules (full: table rules and duplicates too), in the
 * engine's order of steps: column rules; table rules in precedence (orphan, then dup_ref); then duplicate lines.
 * Without the gzip file (no_gz), its lines are NOT_READ. */
static void model(int full, int no_gz, int *reason)
{
    for (int i = 0; i < NL; i++)
        reason[i] = no_gz && L[i].file == 2 ? NOT_READ : L[i].col_reason;
    if (!full)
        return;
    for (int i = 0; i < NL; i++)
        if (reason[i] == CLEAN && (L[i].cust < 1 || L[i].cust > 40))
            reason[i] = R_ORPHAN;
    for (int i = 0; i < NL; i++)
        for (int j = 0; j < i && reason[i] == CLEAN && !L[i].ref_null; j++)
            if (reason[j] == CLEAN && !L[j].ref_null && L[j].ref == L[i].ref)
                reason[i] = R_DUPREF;
    for (int i = 0; i < NL; i++)
        for (int j = 0; j < i && reason[i] == CLEAN; j++)
            if (reason[j] == CLEAN && strcmp(L[j].text, L[i].text) == 0)
                reason[i] = R_DUPLICATE;
}

static void write_line(FILE *f, const line *l)
{
    fputs(l->text, f);
    fputs(l->file == 1 ? "\r\n" : "\n", f);
}

static int write_data(const char *dir)
{
    char path[600];
    int ok = 1;
    snprintf(path, sizeof path, "mkdir -p %s/data %s/ref", dir, dir);
    ok &= system(path) == 0;
    for (int fi = 0; fi < NFILES; fi++) {
        snprintf(path, sizeof path, "%s/data/%s", dir, FILES[fi]);
        FILE *f = fopen(path, "w");
        if (!f)
            return 0;
        if (fi != 4)
            fputs(fi == 3 ? "note,cust,ref,amount,kind,country,day,id\n"
                          : fi == 1 ? "id,day,country,kind,amount,ref,cust,note\r\n"
                                    : "id,day,country,kind,amount,ref,cust,note\n", f);
        for (int i = 0; i < NL; i++)
            if (L[i].file == fi)
                write_line(f, &L[i]);
        fclose(f);
    }
    snprintf(path, sizeof path, "gzip -n %s/data/c.csv", dir);
    ok &= system(path) == 0;
    snprintf(path, sizeof path, "%s/ref/countries.csv", dir);
    FILE *f = fopen(path, "w");
    fputs("code,name\narg,Argentina\nBRA,Brazil\nCHL,Chile\n", f); /* values are folded like the column */
    fclose(f);
    snprintf(path, sizeof path, "%s/ref/custs.csv", dir);
    f = fopen(path, "w");
    fputs("cust_id\n", f);
    for (int c = 1; c <= 40; c++)
        fprintf(f, "%d\n", c);
    fclose(f);
    return ok;
}

/* This rank's rows are in input order: ascending __pos. */
static int ascending(const ts_table *t)
{
    const ts_column *p = ts_table_col(t, "__pos");
    for (int64_t i = 1; p && i < p->len; i++)
        if (TS_COL(p, int64_t)[i] <= TS_COL(p, int64_t)[i - 1])
            return 0;
    return p != NULL;
}

static int schema_is(const ts_table *t, const char *const *names, const ts_type *types, int n)
{
    if (t->ncols != n)
        return 0;
    for (int k = 0; k < n; k++)
        if (strcmp(t->cols[k]->name, names[k]) != 0 || t->cols[k]->type != types[k])
            return 0;
    return 1;
}

/* Every rank's rows on rank 0, sorted by __pos there. */
static ts_table *gather(ts_ctx *ctx, const ts_table *t)
{
    static const char *const by_pos[] = {"__pos"};
    int32_t *dest = calloc((size_t)ts_table_rows(t) + 1, sizeof *dest);
    ts_table *all = NULL;
    if (!CHECK_OK(ts_exchange_rows(ctx, t, dest, &all)) || !CHECK_OK(ts_sort_local(&all, by_pos, 1))) {
        ts_table_free(all);
        all = NULL;
    }
    free(dest);
    return all;
}

static int str_is(const ts_column *c, int64_t i, const char *want)
{
    int64_t len;
    const char *s;
    if (c->type == TS_T_DICT) {
        s = ts_dict_value(c->dict, TS_COL(c, int32_t)[i], &len);
    } else {
        s = c->bytes + TS_COL(c, int64_t)[i];
        len = TS_COL(c, int64_t)[i + 1] - TS_COL(c, int64_t)[i];
    }
    return len == (int64_t)strlen(want) && memcmp(s, want, (size_t)len) == 0;
}

/* The line's file index in the sorted list of the files read. */
static int file_index(const line *l, int no_gz)
{
    return l->file - (no_gz && l->file > 2);
}

static void check_clean(const ts_table *clean, const int *reason, int no_gz)
{
    const ts_column *pos = ts_table_col(clean, "__pos"), *id = ts_table_col(clean, "id");
    const ts_column *day = ts_table_col(clean, "day"), *country = ts_table_col(clean, "country");
    const ts_column *kind = ts_table_col(clean, "kind"), *amount = ts_table_col(clean, "amount");
    const ts_column *ref = ts_table_col(clean, "ref"), *cust = ts_table_col(clean, "cust");
    int64_t k = 0, bad = 0;
    for (int i = 0; i < NL; i++) {
        if (reason[i] != CLEAN)
            continue;
        const line *l = &L[i];
        if (k >= pos->len || TS_COL(pos, int64_t)[k] != ts_pos_make(file_index(l, no_gz), l->lineno)) {
            bad++;
            break;
        }
        bad += TS_COL(id, int64_t)[k] != l->id || TS_COL(day, int32_t)[k] != l->day ||
               !str_is(country, k, l->country) || !str_is(kind, k, l->kind) ||
               TS_COL(amount, int64_t)[k] != l->cents || TS_COL(cust, int64_t)[k] != l->cust ||
               ts_column_is_valid(ref, k) == l->ref_null || (!l->ref_null && TS_COL(ref, int64_t)[k] != l->ref);
        k++;
    }
    CHECK(bad == 0 && k == pos->len, "clean rows: %lld differ from the model (%lld of %lld matched)", (long long)bad,
          (long long)k, (long long)pos->len);
    CHECK(amount->scale == 2, "amount keeps its scale");
}

static void check_rejects(const ts_table *rej, const int *reason)
{
    const ts_column *file = ts_table_col(rej, "file"), *ln = ts_table_col(rej, "line");
    const ts_column *why = ts_table_col(rej, "reason"), *raw = ts_table_col(rej, "raw_line");
    int64_t k = 0, bad = 0;
    for (int i = 0; i < NL; i++) {
        if (reason[i] < 0)
            continue;
        const line *l = &L[i];
        if (k >= ln->len) {
            bad++;
            break;
        }
        const int row_bad = !str_is(file, k, l->file == 2 ? "c.csv.gz" : FILES[l->file]) ||
                            TS_COL(ln, int64_t)[k] != l->lineno || !str_is(why, k, REASONS[reason[i]]) ||
                            !str_is(raw, k, l->text);
        if (row_bad && bad < 5)
            fprintf(stderr, "reject %lld: want %s:%lld %s '%s'\n", (long long)k, FILES[l->file],
                    (long long)l->lineno, REASONS[reason[i]], l->text);
        bad += row_bad;
        k++;
    }
    CHECK(bad == 0 && k == ln->len, "rejects: %lld differ from the model (%lld of %lld matched)", (long long)bad,
          (long long)k, (long long)ln->len);
}

/* One cleaning scan of the data directory (without the gzip file: no_gz), checked against the model. With the
 * gzip file the ranks' rows are not in input order rank after rank (it goes whole to one rank), without it they
 * are: both ways of ordering the copies of a line are exercised. */
static void run(ts_ctx *ctx, const char *dir, const char *rules_text, int full, int no_gz)
{
    static const char *const clean_names[] = {"id", "day", "country", "kind", "amount", "ref", "cust", "__pos"};
    static const ts_type clean_types[] = {TS_T_INT64, TS_T_DATE,  TS_T_DICT,  TS_T_DICT,
                                          TS_T_DECIMAL, TS_T_INT64, TS_T_INT64, TS_T_INT64};
    static const char *const rej_names[] = {"file", "line", "reason", "raw_line", "__pos"};
    static const ts_type rej_types[] = {TS_T_STRING, TS_T_INT64, TS_T_DICT, TS_T_STRING, TS_T_INT64};
    char pattern[600], ref_dir[600];
    snprintf(pattern, sizeof pattern, no_gz ? "%s/data/*.csv" : "%s/data", dir);
    snprintf(ref_dir, sizeof ref_dir, "%s/ref", dir);
    ts_rules *rules = NULL;
    ts_file_info *files = NULL;
    int nfiles = 0;
    ts_clean_result res;
    if (!CHECK_OK(ts_rules_parse(rules_text, "test", &rules)) ||
        !CHECK_OK(ts_scan_list_inputs(ctx, pattern, &files, &nfiles)) ||
        !CHECK_OK(ts_clean_scan(ctx, files, nfiles, rules, ref_dir, &res))) {
        ts_rules_free(rules), free(files);
        return;
    }
    CHECK(nfiles == NFILES - no_gz, "%d input files", nfiles);
    CHECK(schema_is(res.clean, clean_names, clean_types, 8), "clean schema: the rules' kept columns + __pos");
    CHECK(schema_is(res.rejects, rej_names, rej_types, 5), "rejects schema: file, line, reason, raw_line, __pos");
    CHECK(ascending(res.clean) && ascending(res.rejects), "each rank's rows in input order");
    int reason[MAXL], want[NR] = {0}, nclean = 0, nread = 0;
    model(full, no_gz, reason);
    for (int i = 0; i < NL; i++) {
        nread += reason[i] != NOT_READ;
        if (reason[i] == CLEAN)
            nclean++;
        else if (reason[i] >= 0)
            want[reason[i]]++;
    }
    CHECK(res.rows_read == nread && res.rows_clean == nclean && res.rows_rejected == nread - nclean,
          "counts: read %lld clean %lld rejected %lld, want %d %d %d", (long long)res.rows_read,
          (long long)res.rows_clean, (long long)res.rows_rejected, nread, nclean, nread - nclean);
    CHECK(res.nreasons == NR, "one count per reason");
    for (int r = 0; r < NR; r++)
        CHECK(res.reason_counts[r] == want[r], "%s: %lld rejects, want %d", REASONS[r],
              (long long)res.reason_counts[r], want[r]);
    for (int r = 0; full && r < NR; r++)
        CHECK(want[r] > 0, "the data exercise reason %s", REASONS[r]);
    ts_table *clean = gather(ctx, res.clean), *rej = gather(ctx, res.rejects);
    if (ctx->rank == 0 && clean && rej) {
        check_clean(clean, reason, no_gz);
        check_rejects(rej, reason);
    }
    ts_table_free(clean), ts_table_free(rej);
    ts_clean_result_free(&res);
    ts_rules_free(rules);
    free(files);
}

/* A missing @FILE and skip_blank are errors on every rank, not hangs. */
static void check_errors(ts_ctx *ctx, const char *dir)
{
    char pattern[600];
    snprintf(pattern, sizeof pattern, "%s/data", dir);
    ts_rules *rules = NULL;
    ts_file_info *files = NULL;
    int nfiles = 0;
    ts_clean_result res;
    if (CHECK_OK(ts_rules_parse(RULES_FULL, "test", &rules)) &&
        CHECK_OK(ts_scan_list_inputs(ctx, pattern, &files, &nfiles))) {
        CHECK(ts_clean_scan(ctx, files, nfiles, rules, dir, &res) == TS_ERR_IO && !res.clean,
              "a missing reference file is an I/O error");
        ts_rules_free(rules);
        rules = NULL;
    }
    if (CHECK_OK(ts_rules_parse(RULES_FULL, "test", &rules))) {
        rules->spec.skip_blank = 1;
        CHECK(ts_clean_scan(ctx, files, nfiles, rules, dir, &res) == TS_ERR_USAGE, "skip_blank is refused");
    }
    ts_rules_free(rules);
    free(files);
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    ts_ctx ctx;
    if (ts_ctx_init(MPI_COMM_WORLD, &ctx) != TS_OK)
        MPI_Abort(MPI_COMM_WORLD, 1);
    char dir[256];
    build_lines();
    int ok = 1;
    if (ctx.rank == 0) {
        snprintf(dir, sizeof dir, "/tmp/ts_clean.%d", (int)getpid());
        ok = write_data(dir);
    }
    MPI_Bcast(dir, sizeof dir, MPI_CHAR, 0, ctx.comm);
    MPI_Bcast(&ok, 1, MPI_INT, 0, ctx.comm);
    CHECK(ok, "test data written");
    if (ok) {
        run(&ctx, dir, RULES_FULL, 1, 0);
        run(&ctx, dir, RULES_FULL, 1, 1);
        run(&ctx, dir, RULES_COLUMNS, 0, 0);
        check_errors(&ctx, dir);
    }
    if (ctx.rank == 0) {
        char cmd[300];
        snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
        CHECK(system(cmd) == 0, "cleanup");
    }
    return ts_mpi_test_done(&ctx, "test_clean");
}
