/* io/ts_csv: RFC 4180 line splitting (domain.md's rules) and range scanning with the cleaning rules.
 *
 * The scan tests build transaction files from field variants whose validity and value are known by
 * construction, so the expected clean rows and rejects (with reason precedence) need no parser of their own. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ts_csv.h"
#include "ts_hash.h"
#include "ts_test.h"

/* ================================== ts_csv_split_line ================================================== */

#define MAXF 16

/* Splits `line` with the identity slot map and compares with the expected fields ("|" separated in want,
 * or want == NULL for -1). */
static void check_split(const char *line, const char *want)
{
    int slot[MAXF];
    for (int i = 0; i < MAXF; i++)
        slot[i] = i;
    const char *ptr[MAXF] = {0};
    uint32_t len[MAXF] = {0};
    const size_t n = strlen(line);
    char *scratch = malloc(n + 1), *cursor = scratch;
    const int nf = ts_csv_split_line(line, (int64_t)n, slot, MAXF, ptr, len, &cursor);
    if (!want) {
        CHECK(nf == -1, "split(%s) returned %d fields, expected -1 (malformed)", line, nf);
    } else {
        /* expected fields */
        char buf[256];
        snprintf(buf, sizeof buf, "%s", want);
        const char *f[MAXF];
        int nw = 0;
        char *p = buf;
        for (;;) {
            f[nw++] = p;
            char *bar = strchr(p, '|');
            if (!bar)
                break;
            *bar = '\0', p = bar + 1;
        }
        CHECK(nf == nw, "split(%s) returned %d fields, expected %d", line, nf, nw);
        for (int i = 0; i < nw && i < nf; i++)
            CHECK(len[i] == strlen(f[i]) && memcmp(ptr[i], f[i], len[i]) == 0,
                  "split(%s) field %d = [%.*s], expected [%s]", line, i, (int)len[i], ptr[i], f[i]);
        CHECK(cursor >= scratch && cursor <= scratch + n, "scratch cursor out of bounds");
    }
    free(scratch);
}

static void test_split_cases(void)
{
    check_split("a,b,c", "a|b|c");
    check_split("abc", "abc");
    check_split("", "");                      /* an empty line is one empty field */
    check_split(",", "|");
    check_split(",,", "||");
    check_split("a,", "a|");                  /* trailing comma adds an empty field */
    check_split("a,b,", "a|b|");
    check_split(",a", "|a");
    check_split("\"a,b\",c", "a,b|c");
    check_split("\"a\"\"b\",c", "a\"b|c");
    check_split("\"\"\"\"", "\"");            /* """" is one quote */
    check_split("\"\"", "");                  /* "" is an empty quoted field */
    check_split("\"\",\"\"", "|");
    check_split("x,\"a\"\"\"", "x|a\"");
    check_split("\"\"\"a\"\"\",b", "\"a\"|b");
    check_split("\"a\"\"b\"\"c\",\"d,\"\"e\"", "a\"b\"c|d,\"e");
    check_split("\"line\nbreak\",x", "line\nbreak|x"); /* bytes inside quotes are data */
    check_split("a\"b,c", "a\"b|c");          /* a quote inside an unquoted field is ordinary */
    check_split("ab\",c", "ab\"|c");
    check_split("a\"\"b", "a\"\"b");
    check_split("  a  ,\tb\t, c d ", "a|b|c d"); /* trimming of spaces and tabs only */
    check_split("\"  a  \",b", "a|b");        /* quoted content is trimmed too */
    check_split(" \"a,b\"", "\"a|b\"");      /* first byte a space: unquoted, so the comma splits */
    check_split("a\r,b", "a\r|b");            /* \r is not trimmed */
    check_split("\"abc", NULL);               /* unterminated */
    check_split("\"abc\"\"", NULL);           /* the last quote is an escape: still unterminated */
    check_split("a,\"b", NULL);
    check_split("\"", NULL);
    check_split("\"ab\"c", NULL);             /* text after the closing quote */
    check_split("\"ab\" ,c", NULL);           /* a blank counts as text */
    check_split("x,\"ab\"\"\"c", NULL);
    check_split("\"a\"\"b\"x,c", NULL);
}

static void test_split_slots(void)
{
    /* physical field -> slot; -1 skips the field */
    const int slot[4] = {2, -1, 0, 1};
    const char *ptr[3] = {0};
    uint32_t len[3] = {0};
    const char *line = "x , skipped,\"z\",w";
    char scratch[64], *cur = scratch;
    int nf = ts_csv_split_line(line, (int64_t)strlen(line), slot, 4, ptr, len, &cur);
    CHECK(nf == 4, "slot map: %d fields", nf);
    CHECK(len[2] == 1 && ptr[2][0] == 'x', "field 0 -> slot 2");
    CHECK(len[0] == 1 && ptr[0][0] == 'z', "field 2 -> slot 0");
    CHECK(len[1] == 1 && ptr[1][0] == 'w', "field 3 -> slot 1");
    CHECK(cur == scratch, "no \"\" escape: the scratch is not used");

    /* more fields than max_fields: counted, the extra ones not stored */
    const int slot2[2] = {0, 1};
    const char *p2[2] = {0};
    uint32_t l2[2] = {0};
    line = "a,b,c,d";
    cur = scratch;
    nf = ts_csv_split_line(line, 7, slot2, 2, p2, l2, &cur);
    CHECK(nf == 4, "4 fields counted with max_fields 2: %d", nf);
    CHECK(l2[0] == 1 && p2[0][0] == 'a' && l2[1] == 1 && p2[1][0] == 'b', "first two stored");

    /* the line length bounds the split (no NUL needed) */
    line = "a,b,c,d";
    cur = scratch;
    nf = ts_csv_split_line(line, 3, slot2, 2, p2, l2, &cur);
    CHECK(nf == 2 && l2[1] == 1 && p2[1][0] == 'b', "line_len 3 -> 2 fields (%d)", nf);
    line = "\"ab\"\"\"";
    cur = scratch;
    nf = ts_csv_split_line(line, 4, slot2, 2, p2, l2, &cur);
    CHECK(nf == 1 && l2[0] == 2 && memcmp(p2[0], "ab", 2) == 0, "\"ab\" cut at 4 bytes -> ab (%d)", nf);
}

static void test_split_scratch(void)
{
    /* two lines unescaped into one scratch buffer: the second must not clobber the first's fields */
    const char *l1 = "\"a\"\"b\",\"c\"\"\"\"d\"", *l2 = "\"XY\"\"Z\",\"plain\"";
    const size_t n1 = strlen(l1), n2 = strlen(l2);
    char *scratch = malloc(n1 + n2 + 2), *cur = scratch;
    const int slot[2] = {0, 1};
    const char *pa[2], *pb[2];
    uint32_t la[2], lb[2];
    int nf = ts_csv_split_line(l1, (int64_t)n1, slot, 2, pa, la, &cur);
    CHECK(nf == 2, "line 1: %d fields", nf);
    char *after1 = cur;
    CHECK(after1 > scratch && after1 <= scratch + n1, "scratch advanced by line 1 (%td)", after1 - scratch);
    nf = ts_csv_split_line(l2, (int64_t)n2, slot, 2, pb, lb, &cur);
    CHECK(nf == 2, "line 2: %d fields", nf);
    CHECK(cur > after1 && cur <= after1 + n2, "scratch advanced by line 2");
    CHECK(la[0] == 3 && memcmp(pa[0], "a\"b", 3) == 0, "line 1 field 0 = [%.*s]", (int)la[0], pa[0]);
    CHECK(la[1] == 4 && memcmp(pa[1], "c\"\"d", 4) == 0, "line 1 field 1 = [%.*s]", (int)la[1], pa[1]);
    CHECK(lb[0] == 4 && memcmp(pb[0], "XY\"Z", 4) == 0, "line 2 field 0 = [%.*s]", (int)lb[0], pb[0]);
    CHECK(lb[1] == 5 && memcmp(pb[1], "plain", 5) == 0, "line 2 field 1 = [%.*s]", (int)lb[1], pb[1]);
    CHECK(pb[1] >= l2 && pb[1] < l2 + n2, "a field without escapes points into its line");
    CHECK(pa[0] >= scratch && pa[0] < after1 && pb[0] >= after1, "escaped fields live in the scratch");
    free(scratch);
}

/* Random fields, quoted or not, against a naive splitter of the joined line. */
static void test_split_random(void)
{
    ts_test_rng r = ts_rng_seed(4180);
    long bad = 0;
    for (int it = 0; it < 20000; it++) {
        const int nf = 1 + (int)ts_rng_below(&r, 8);
        char line[512], want[MAXF][64];
        size_t wl[MAXF], n = 0;
        for (int f = 0; f < nf; f++) {
            /* content: no leading/trailing blanks so trimming is the identity */
            const size_t cl = ts_rng_below(&r, 8);
            static const char alpha[] = "ab,\" \tZ";
            for (size_t k = 0; k < cl; k++)
                want[f][k] = alpha[ts_rng_below(&r, sizeof alpha - 1)];
            size_t a = 0, b = cl;
            while (a < b && (want[f][a] == ' ' || want[f][a] == '\t'))
                a++;
            while (b > a && (want[f][b - 1] == ' ' || want[f][b - 1] == '\t'))
                b--;
            const int needs_quotes = memchr(want[f], ',', cl) || (cl && want[f][0] == '"');
            const int quoted = needs_quotes || ts_rng_below(&r, 3) == 0;
            if (f)
                line[n++] = ',';
            if (quoted) {
                line[n++] = '"';
                for (size_t k = 0; k < cl; k++) {
                    if (want[f][k] == '"')
                        line[n++] = '"';
                    line[n++] = want[f][k];
                }
                line[n++] = '"';
            } else {
                memcpy(line + n, want[f], cl), n += cl;
            }
            memmove(want[f], want[f] + a, b - a), wl[f] = b - a;
        }
        int slot[MAXF];
        for (int i = 0; i < MAXF; i++)
            slot[i] = i;
        const char *ptr[MAXF];
        uint32_t len[MAXF];
        char scratch[512], *cur = scratch;
        const int got = ts_csv_split_line(line, (int64_t)n, slot, MAXF, ptr, len, &cur);
        int ok = got == nf;
        for (int f = 0; ok && f < nf; f++)
            ok = len[f] == wl[f] && memcmp(ptr[f], want[f], wl[f]) == 0;
        if (!ok && bad++ < 5)
            CHECK(0, "random split of [%.*s]: %d fields, expected %d", (int)n, line, got, nf);
    }
    CHECK(bad == 0, "%ld random split mismatches", bad);
}

/* ================================== ts_csv_scan_range ================================================== */

enum { R_MALFORMED, R_BAD_DATE, R_UNKNOWN_COUNTRY, R_BAD_CATEGORY, R_MISSING_AMOUNT, R_BAD_AMOUNT, R_OK };

static const char *const COUNTRIES[] = {"ARG", "BOL", "BRA", "CHL", "COL", "CRI", "ECU", "MEX", "PER", "URY"};
static const char *const TYPES[] = {"loan", "disbursement", "repayment", "transfer", "fee", "grant"};
static const char *const SECTORS[] = {"agriculture", "education", "energy",    "health",    "housing",
                                      "infrastructure", "sme",   "technology", "transport", "water"};
static const char *const STATUSES[] = {"success", "failed", "pending", "reversed"};
static const char *const CHANNELS[] = {"agent", "atm", "branch", "mobile", "online"};
static ts_dict *d_countries, *d_types, *d_sectors, *d_statuses, *d_channels;

static void add_field(ts_csv_spec *sp, const char *name, ts_rule_kind kind, int rank, int reason, ts_dict *acc,
                      int upper)
{
    sp->fields[sp->nfields++] = (ts_csv_field){.name = name, .kind = kind, .check_rank = rank,
                                               .reason_invalid = reason, .reason_missing = -1, .accepted = acc,
                                               .fold_upper = upper};
}

/* Same rules as the bank-analytics job's transactions spec (fields in a static array: one spec at a time). */
static void make_spec(ts_csv_spec *sp)
{
    static ts_csv_field fields[16];
    memset(sp, 0, sizeof *sp);
    sp->fields = fields;
    sp->reason_malformed = R_MALFORMED, sp->hash_rows = 1;
    add_field(sp, "txn_id", TS_RULE_INT64, 0, R_MALFORMED, NULL, 0);
    add_field(sp, "txn_date", TS_RULE_DATE, 1, R_BAD_DATE, NULL, 0);
    add_field(sp, "country_code", TS_RULE_CATEGORY, 2, R_UNKNOWN_COUNTRY, d_countries, 1);
    add_field(sp, "customer_id", TS_RULE_INT64, 0, R_MALFORMED, NULL, 0);
    add_field(sp, "account_id", TS_RULE_INT64, 0, R_MALFORMED, NULL, 0);
    add_field(sp, "txn_type", TS_RULE_CATEGORY, 3, R_BAD_CATEGORY, d_types, 0);
    add_field(sp, "sector", TS_RULE_CATEGORY, 3, R_BAD_CATEGORY, d_sectors, 0);
    add_field(sp, "amount", TS_RULE_DECIMAL, 4, R_BAD_AMOUNT, NULL, 0);
    ts_csv_field *a = &sp->fields[sp->nfields - 1];
    a->reason_missing = R_MISSING_AMOUNT, a->scale = 2, a->max_int_digits = 16, a->positive = 1;
    add_field(sp, "currency", TS_RULE_SKIP, 9, 0, NULL, 0);
    add_field(sp, "status", TS_RULE_CATEGORY, 3, R_BAD_CATEGORY, d_statuses, 0);
    add_field(sp, "channel", TS_RULE_CATEGORY, 3, R_BAD_CATEGORY, d_channels, 0);
}

#define HEADER "txn_id,txn_date,country_code,customer_id,account_id,txn_type,sector,amount,currency,status,channel"
#define NCLEAN_VALUES 10 /* kept fields: all but currency */

/* One expected line of a file. */
typedef struct exp_line {
    int reason;                 /* R_OK for a clean row; -1 for the header */
    int64_t v[NCLEAN_VALUES];   /* clean values in clean-column order */
    char raw[320];              /* line bytes without the line ending */
    size_t raw_len;
} exp_line;

typedef struct file_buf {
    char *data;
    int64_t len, cap;
    exp_line *lines;
    int64_t nlines, lines_cap;
} file_buf;

static void fb_put(file_buf *f, const char *s, size_t n)
{
    if (f->len + (int64_t)n + 1 > f->cap) {
        f->cap = (f->len + (int64_t)n + 1) * 2;
        f->data = realloc(f->data, (size_t)f->cap);
    }
    memcpy(f->data + f->len, s, n), f->len += (int64_t)n;
}

static exp_line *fb_line(file_buf *f)
{
    if (f->nlines == f->lines_cap) {
        f->lines_cap = f->lines_cap ? f->lines_cap * 2 : 64;
        f->lines = realloc(f->lines, sizeof *f->lines * (size_t)f->lines_cap);
    }
    exp_line *e = &f->lines[f->nlines++];
    memset(e, 0, sizeof *e);
    return e;
}

/* Adds a line (its bytes + ending) with the given expectation. */
static void fb_add(file_buf *f, const char *raw, const char *ending, int reason, const int64_t *v)
{
    exp_line *e = fb_line(f);
    e->reason = reason;
    e->raw_len = strlen(raw);
    memcpy(e->raw, raw, e->raw_len);
    if (v)
        memcpy(e->v, v, sizeof e->v);
    fb_put(f, raw, e->raw_len);
    fb_put(f, ending, strlen(ending));
}

static int mdays(int y, int m)
{
    static const int md[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return md[m - 1] + (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0));
}

/* Days since 1970-01-01 by summation (years >= 1970 only). */
static int64_t naive_days(int y, int m, int d)
{
    int64_t v = 0;
    for (int yy = 1970; yy < y; yy++)
        for (int mm = 1; mm <= 12; mm++)
            v += mdays(yy, mm);
    for (int mm = 1; mm < m; mm++)
        v += mdays(y, mm);
    return v + d - 1;
}

/* ---- the hand-made file -------------------------------------------------------------------------------- */

static void make_small_file(file_buf *f)
{
    memset(f, 0, sizeof *f);
    fb_add(f, HEADER, "\n", -1, NULL);
    const int64_t d0115 = naive_days(2023, 1, 15);
    /* clean rows, canonical and non-canonical */
    const int64_t v1[] = {1, d0115, 2, 100, 1000, 0, 0, 1523050, 0, 3};
    fb_add(f, "1,2023-01-15,BRA,100,1000,loan,agriculture,15230.50,BRL,success,mobile", "\n", R_OK, v1);
    const int64_t v2[] = {2, naive_days(2024, 2, 29), 0, 101, 1001, 4, 9, 500, 2, 1};
    fb_add(f, "2, 29/02/2024 ,  arg ,101,1001,FEE,Water,5,\"A,R\"\"S\",PENDING,\tATM", "\r\n", R_OK, v2);
    const int64_t v3[] = {-3, naive_days(2021, 12, 31), 9, 0, -7, 1, 6, 1, 3, 2};
    fb_add(f, "-3,20211231,Ury,+0,-7,\"dis\"\"bursement\"", "\n", R_MALFORMED, NULL); /* 6 fields */
    fb_add(f, "-3,2021/12/31,\"Ury\",+0,-7,\"Disbursement\",sme,0.01,,reversed,\"branch\"", "\n", R_OK, v3);
    /* malformed: field counts, quoting, integers; malformed beats every other reason */
    fb_add(f, "4,2023-01-15,BRA,100,1000,loan,agriculture,1.00,BRL,success", "\n", R_MALFORMED, NULL);
    fb_add(f, "4,2023-01-15,BRA,100,1000,loan,agriculture,1.00,BRL,success,mobile,", "\n", R_MALFORMED, NULL);
    fb_add(f, "4,2023-01-15,BRA,100,1000,loan,agriculture,1.00,BRL,success,\"mobile", "\n", R_MALFORMED, NULL);
    fb_add(f, "4,2023-01-15,BRA,100,1000,loan,\"agri\"culture,1.00,BRL,success,mobile", "\n", R_MALFORMED, NULL);
    fb_add(f, "1e6,N/A,XXX,100,1000,bogus,agriculture,,BRL,success,mobile", "\n", R_MALFORMED, NULL);
    fb_add(f, "5,N/A,XXX,0x1F,1000,bogus,agriculture,,BRL,success,mobile", "\r\n", R_MALFORMED, NULL);
    fb_add(f, "5,2023-02-30,XXX,5,12.5,loan,agriculture,1,BRL,success,mobile", "\n", R_MALFORMED, NULL);
    fb_add(f, "", "\n", R_MALFORMED, NULL); /* an empty line is a row with one field */
    /* bad_date beats the later reasons */
    fb_add(f, "6,2023-02-30,XXX,5,6,bogus,agriculture,,BRL,success,mobile", "\n", R_BAD_DATE, NULL);
    fb_add(f, "6,,BRA,5,6,loan,agriculture,1,BRL,success,mobile", "\n", R_BAD_DATE, NULL);
    fb_add(f, "6,2023-1-5,BRA,5,6,loan,agriculture,1,BRL,success,mobile", "\n", R_BAD_DATE, NULL);
    fb_add(f, "6,1900-02-29,BRA,5,6,loan,agriculture,1,BRL,success,mobile", "\n", R_BAD_DATE, NULL);
    /* unknown_country beats bad_category and the amount */
    fb_add(f, "7,2023-01-15,XXX,5,6,bogus,agriculture,-1,BRL,success,mobile", "\n", R_UNKNOWN_COUNTRY, NULL);
    fb_add(f, "7,2023-01-15,,5,6,loan,agriculture,1,BRL,success,mobile", "\n", R_UNKNOWN_COUNTRY, NULL);
    fb_add(f, "7,2023-01-15,B RA,5,6,loan,agriculture,1,BRL,success,mobile", "\n", R_UNKNOWN_COUNTRY, NULL);
    /* bad_category (any of the four) beats the amount */
    fb_add(f, "8,2023-01-15,BRA,5,6,loan,agriculture,,BRL,succeeded,mobile", "\n", R_BAD_CATEGORY, NULL);
    fb_add(f, "8,2023-01-15,BRA,5,6,loan,farming,1,BRL,success,mobile", "\n", R_BAD_CATEGORY, NULL);
    fb_add(f, "8,2023-01-15,BRA,5,6,loan,agriculture,0,BRL,success,fax", "\n", R_BAD_CATEGORY, NULL);
    fb_add(f, "8,2023-01-15,BRA,5,6,,agriculture,1,BRL,success,mobile", "\n", R_BAD_CATEGORY, NULL);
    /* missing and bad amounts */
    fb_add(f, "9,2023-01-15,BRA,5,6,loan,agriculture,,BRL,success,mobile", "\n", R_MISSING_AMOUNT, NULL);
    fb_add(f, "9,2023-01-15,BRA,5,6,loan,agriculture, \t ,BRL,success,mobile", "\r\n", R_MISSING_AMOUNT, NULL);
    fb_add(f, "9,2023-01-15,BRA,5,6,loan,agriculture,\"\",BRL,success,mobile", "\n", R_MISSING_AMOUNT, NULL);
    fb_add(f, "10,2023-01-15,BRA,5,6,loan,agriculture,0,BRL,success,mobile", "\n", R_BAD_AMOUNT, NULL);
    fb_add(f, "10,2023-01-15,BRA,5,6,loan,agriculture,-5.00,BRL,success,mobile", "\n", R_BAD_AMOUNT, NULL);
    fb_add(f, "10,2023-01-15,BRA,5,6,loan,agriculture,15230.505,BRL,success,mobile", "\n", R_BAD_AMOUNT, NULL);
    fb_add(f, "10,2023-01-15,BRA,5,6,loan,agriculture,1e5,BRL,success,mobile", "\n", R_BAD_AMOUNT, NULL);
    fb_add(f, "10,2023-01-15,BRA,5,6,loan,agriculture,.5,BRL,success,mobile", "\n", R_BAD_AMOUNT, NULL);
    fb_add(f, "10,2023-01-15,BRA,5,6,loan,agriculture,15230.,BRL,success,mobile", "\n", R_BAD_AMOUNT, NULL);
    /* a quote inside an unquoted field is ordinary (here in the skipped currency) */
    const int64_t v4[] = {11, naive_days(2025, 12, 31), 7, 1, 2, 5, 3, 9999999999999999LL * 100 + 99, 1, 4};
    fb_add(f, "11,2025-12-31,mex,1,2,grant,health,9999999999999999.99,MX\"N,failed,online", "\n", R_OK, v4);
    /* final line without a newline, with a \r before the end */
    const int64_t v5[] = {12, naive_days(2022, 6, 1), 5, 3, 4, 2, 1, 12, 0, 0};
    fb_add(f, "12,2022/06/01,cri,3,4,repayment,education,0.12,CRC,success,agent", "\r", R_OK, v5);
}

/* ---- comparing a scan with the expectation ------------------------------------------------------------- */

typedef struct seen_line {
    int reason;           /* R_OK or a reject reason; -2 = not seen */
    int64_t v[NCLEAN_VALUES], hlo, hhi;
    const char *raw;
    int64_t raw_len;
    int32_t file;
    int times;
} seen_line;

/* Value of row i of an integer-like column (the test's own accessor). */
static int64_t col_value(const ts_column *c, int64_t i)
{
    switch (ts_type_width(c->type)) {
    case 1: return TS_COL(c, uint8_t)[i];
    case 4: return TS_COL(c, int32_t)[i];
    default: return TS_COL(c, int64_t)[i];
    }
}

/* Records the sink's rows into seen[] at global line numbers (__line + line_base). */
static void collect(const ts_csv_sink *s, int64_t line_base, seen_line *seen, int64_t nseen)
{
    const ts_table *c = s->clean, *j = s->rejects;
    CHECK(c->ncols == NCLEAN_VALUES + 3, "clean table has %d columns", c->ncols);
    CHECK(j->ncols == 4, "rejects table has %d columns", j->ncols);
    if (c->ncols != NCLEAN_VALUES + 3 || j->ncols != 4)
        return;
    for (int64_t i = 0; i < ts_table_rows(c); i++) {
        const int64_t ln = TS_COL(c->cols[NCLEAN_VALUES], int64_t)[i] + line_base;
        if (ln < 0 || ln >= nseen) {
            CHECK(0, "clean row with line %lld out of range", (long long)ln);
            continue;
        }
        seen_line *e = &seen[ln];
        e->times++, e->reason = R_OK;
        for (int k = 0; k < NCLEAN_VALUES; k++)
            e->v[k] = col_value(c->cols[k], i);
        e->hlo = TS_COL(c->cols[NCLEAN_VALUES + 1], int64_t)[i];
        e->hhi = TS_COL(c->cols[NCLEAN_VALUES + 2], int64_t)[i];
    }
    const int64_t *off = TS_COL(j->cols[3], int64_t);
    for (int64_t i = 0; i < ts_table_rows(j); i++) {
        const int64_t ln = TS_COL(j->cols[1], int64_t)[i] + line_base;
        if (ln < 0 || ln >= nseen) {
            CHECK(0, "reject with line %lld out of range", (long long)ln);
            continue;
        }
        seen_line *e = &seen[ln];
        e->times++, e->reason = TS_COL(j->cols[2], int32_t)[i];
        e->file = TS_COL(j->cols[0], int32_t)[i];
        e->raw = j->cols[3]->bytes + off[i], e->raw_len = off[i + 1] - off[i];
    }
}

/* Compares what the scans produced (seen[]) with the file's expectation. Returns the number of mismatches. */
static long verify(const file_buf *f, const seen_line *seen, int32_t file_id, const char *what)
{
    long bad = 0;
    for (int64_t ln = 0; ln < f->nlines; ln++) {
        const exp_line *e = &f->lines[ln];
        const seen_line *s = &seen[ln];
        if (e->reason == -1) {
            if (s->times != 0 && bad++ < 5)
                CHECK(0, "%s: the header (line %lld) was emitted", what, (long long)ln);
            continue;
        }
        if (s->times != 1) {
            if (bad++ < 5)
                CHECK(0, "%s: line %lld [%.*s] seen %d times", what, (long long)ln, (int)e->raw_len, e->raw,
                      s->times);
            continue;
        }
        if (s->reason != e->reason) {
            if (bad++ < 5)
                CHECK(0, "%s: line %lld [%.*s] got reason %d, expected %d", what, (long long)ln, (int)e->raw_len,
                      e->raw, s->reason, e->reason);
            continue;
        }
        if (e->reason == R_OK) {
            for (int k = 0; k < NCLEAN_VALUES; k++)
                if (s->v[k] != e->v[k] && bad++ < 5)
                    CHECK(0, "%s: line %lld [%.*s] clean column %d = %lld, expected %lld", what, (long long)ln,
                          (int)e->raw_len, e->raw, k, (long long)s->v[k], (long long)e->v[k]);
            const ts_hash128 h = ts_hash128_bytes(e->raw, e->raw_len);
            if ((s->hlo != (int64_t)h.lo || s->hhi != (int64_t)h.hi) && bad++ < 5)
                CHECK(0, "%s: line %lld: __hash_lo/hi is not the hash of the line's bytes", what, (long long)ln);
        } else {
            if ((s->raw_len != (int64_t)e->raw_len || (e->raw_len && memcmp(s->raw, e->raw, e->raw_len) != 0)) &&
                bad++ < 5)
                CHECK(0, "%s: line %lld raw_line [%.*s], expected [%.*s]", what, (long long)ln, (int)s->raw_len,
                      s->raw, (int)e->raw_len, e->raw);
            if (s->file != file_id && bad++ < 5)
                CHECK(0, "%s: line %lld __file %d", what, (long long)ln, s->file);
        }
    }
    return bad;
}

/* Scans [0,k) and [k,len) into two sinks and checks every line is seen once with the expected result. */
static long scan_split(const ts_csv_spec *spec, const ts_csv_layout *lay, const file_buf *f, int64_t k,
                       const char *what)
{
    seen_line *seen = calloc((size_t)f->nlines + 1, sizeof *seen);
    ts_csv_sink a, b;
    int64_t na = -1, nb = -1;
    long bad = 0;
    if (!CHECK_OK(ts_csv_sink_new(spec, &a)) || !CHECK_OK(ts_csv_sink_new(spec, &b))) {
        free(seen);
        return 1;
    }
    const int ea = ts_csv_scan_range(spec, lay, 3, f->data, f->len, 0, k, &a, &na);
    const int eb = ts_csv_scan_range(spec, lay, 3, f->data, f->len, k, f->len, &b, &nb);
    if (ea || eb) {
        CHECK(0, "%s k=%lld: scan failed (%d, %d)", what, (long long)k, ea, eb);
        bad++;
    } else {
        if (na + nb != f->nlines && bad++ < 5)
            CHECK(0, "%s k=%lld: %lld + %lld lines, expected %lld", what, (long long)k, (long long)na,
                  (long long)nb, (long long)f->nlines);
        /* lines starting in [0,k): count them from the expectation */
        int64_t starts = 0, pos = 0;
        for (int64_t ln = 0; ln < f->nlines; ln++) {
            if (pos < k)
                starts++;
            const char *nl = memchr(f->data + pos, '\n', (size_t)(f->len - pos));
            pos = nl ? nl - f->data + 1 : f->len;
        }
        if (na != starts && bad++ < 5)
            CHECK(0, "%s k=%lld: first range counted %lld lines, %lld start before k", what, (long long)k,
                  (long long)na, (long long)starts);
        collect(&a, 0, seen, f->nlines);
        collect(&b, na, seen, f->nlines);
        bad += verify(f, seen, 3, what);
    }
    ts_csv_sink_free(&a), ts_csv_sink_free(&b);
    free(seen);
    return bad;
}

static void test_scan_small(void)
{
    ts_csv_spec spec;
    make_spec(&spec);
    file_buf f;
    make_small_file(&f);
    ts_csv_layout lay;
    ts_csv_layout_from_header(&spec, f.data, f.len, &lay);
    CHECK(lay.header_ok == 1 && lay.nphys == 11, "header recognised (ok=%d nphys=%d: %s)", lay.header_ok, lay.nphys,
          lay.problem);
    for (int i = 0; i < 11; i++) /* currency (8) is SKIP: the splitter does not store it */
        CHECK(lay.slot[i] == (i == 8 ? -1 : i), "slot[%d] = %d", i, lay.slot[i]);

    /* the whole file in one range, then every split point */
    long bad = scan_split(&spec, &lay, &f, f.len, "whole file");
    CHECK(bad == 0, "whole-file scan: %ld mismatches", bad);
    long split_bad = 0;
    for (int64_t k = 0; k <= f.len; k++)
        split_bad += scan_split(&spec, &lay, &f, k, "split scan") != 0;
    CHECK(split_bad == 0, "%ld of %lld split points gave wrong results", split_bad, (long long)f.len + 1);

    /* three ranges at random points also partition the lines */
    ts_test_rng r = ts_rng_seed(31);
    long bad3 = 0;
    for (int it = 0; it < 300; it++) {
        int64_t k1 = (int64_t)ts_rng_below(&r, (uint64_t)f.len + 1), k2 = (int64_t)ts_rng_below(&r, (uint64_t)f.len + 1);
        if (k1 > k2) {
            const int64_t t = k1;
            k1 = k2, k2 = t;
        }
        const int64_t cut[4] = {0, k1, k2, f.len};
        seen_line *seen = calloc((size_t)f.nlines, sizeof *seen);
        int64_t base = 0;
        ts_csv_sink s[3];
        for (int q = 0; q < 3; q++) {
            int64_t nl = 0;
            CHECK_OK(ts_csv_sink_new(&spec, &s[q]));
            CHECK_OK(ts_csv_scan_range(&spec, &lay, 3, f.data, f.len, cut[q], cut[q + 1], &s[q], &nl));
            collect(&s[q], base, seen, f.nlines);
            base += nl;
        }
        bad3 += verify(&f, seen, 3, "three ranges") != 0;
        for (int q = 0; q < 3; q++)
            ts_csv_sink_free(&s[q]);
        free(seen);
    }
    CHECK(bad3 == 0, "%ld three-range scans gave wrong results", bad3);
    free(f.data), free(f.lines);
}

/* A header in another order with an extra column maps by name; a file without a header uses the canonical
 * order and its line 1 is data. */
/* check_only fields are checked (a bad value still rejects its row, with its reason) but get no column. */
static void test_scan_check_only(void)
{
    ts_csv_spec spec;
    make_spec(&spec);
    for (int f = 0; f < spec.nfields; f++) /* keep txn_date, amount and status only */
        spec.fields[f].check_only = strcmp(spec.fields[f].name, "txn_date") && strcmp(spec.fields[f].name, "amount") &&
                                    strcmp(spec.fields[f].name, "status");
    const char *text = HEADER "\n"
                       "1,2023-01-15,BRA,100,1000,loan,agriculture,15230.50,BRL,success,mobile\n"
                       "2,2023-01-16,BRA,100,1000,loan,agriculture,7.25,BRL,failed,by_pigeon\n"
                       "x3,2023-01-17,BRA,100,1000,loan,agriculture,1.00,BRL,success,atm\n"
                       "4,2023-01-18,XXX,100,1000,loan,agriculture,2.00,BRL,pending,atm\n"
                       "5,2023-01-19,CHL,100,1000,grant,water,3.00,CLP,reversed,atm\n";
    ts_csv_layout lay;
    ts_csv_layout_from_header(&spec, text, (int64_t)strlen(text), &lay);
    ts_csv_sink s;
    int64_t nl = 0;
    if (CHECK_OK(ts_csv_sink_new(&spec, &s)) &&
        CHECK_OK(ts_csv_scan_range(&spec, &lay, 0, text, (int64_t)strlen(text), 0, (int64_t)strlen(text), &s, &nl))) {
        const ts_table *c = s.clean;
        CHECK(c->ncols == 6 && strcmp(c->cols[0]->name, "txn_date") == 0 && strcmp(c->cols[1]->name, "amount") == 0 &&
                  strcmp(c->cols[2]->name, "status") == 0 && strcmp(c->cols[3]->name, "__line") == 0,
              "check_only: columns txn_date, amount, status, __line, hashes (%d columns)", c->ncols);
        CHECK(ts_table_rows(c) == 2 && ts_table_rows(s.rejects) == 3, "check_only: 2 clean, 3 rejects: %lld %lld",
              (long long)ts_table_rows(c), (long long)ts_table_rows(s.rejects));
        if (ts_table_rows(c) == 2 && c->ncols == 6)
            CHECK(TS_COL(c->cols[0], int32_t)[1] == naive_days(2023, 1, 19) &&
                      TS_COL(c->cols[1], int64_t)[0] == 1523050 && TS_COL(c->cols[1], int64_t)[1] == 300 &&
                      TS_COL(c->cols[3], int64_t)[1] == 5,
                  "check_only: the kept values of lines 1 and 5");
        if (ts_table_rows(s.rejects) == 3) {
            const int32_t *why = TS_COL(s.rejects->cols[2], int32_t);
            CHECK(why[0] == R_BAD_CATEGORY && why[1] == R_MALFORMED && why[2] == R_UNKNOWN_COUNTRY,
                  "check_only: unkept fields still reject (%d %d %d)", why[0], why[1], why[2]);
        }
        ts_csv_sink_free(&s);
    }
}

static void test_scan_headers(void)
{
    ts_csv_spec spec;
    make_spec(&spec);
    const char *text = " channel ,status,currency,amount,extra,sector,txn_type,account_id,customer_id,country_code,"
                       "txn_date,txn_id\r\n"
                       "mobile,success,BRL,15230.50,whatever,agriculture,loan,1000,100,BRA,2023-01-15,1\n"
                       "mobile,success,BRL,15230.50,agriculture,loan,1000,100,BRA,2023-01-15,2\n";
    ts_csv_layout lay;
    ts_csv_layout_from_header(&spec, text, (int64_t)strlen(text), &lay);
    CHECK(lay.header_ok && lay.nphys == 12, "reordered header: ok=%d nphys=%d", lay.header_ok, lay.nphys);
    CHECK(lay.slot[0] == 10 && lay.slot[4] == -1 && lay.slot[11] == 0 && lay.slot[7] == 4,
          "reordered slots %d %d %d %d", lay.slot[0], lay.slot[4], lay.slot[11], lay.slot[7]);
    ts_csv_sink s;
    int64_t nl = 0;
    if (CHECK_OK(ts_csv_sink_new(&spec, &s)) &&
        CHECK_OK(ts_csv_scan_range(&spec, &lay, 0, text, (int64_t)strlen(text), 0, (int64_t)strlen(text), &s, &nl))) {
        CHECK(nl == 3, "3 lines, got %lld", (long long)nl);
        CHECK(ts_table_rows(s.clean) == 1 && ts_table_rows(s.rejects) == 1, "1 clean, 1 reject: %lld %lld",
              (long long)ts_table_rows(s.clean), (long long)ts_table_rows(s.rejects));
        if (ts_table_rows(s.clean) == 1) {
            CHECK(TS_COL(s.clean->cols[0], int64_t)[0] == 1, "txn_id");
            CHECK(TS_COL(s.clean->cols[7], int64_t)[0] == 1523050, "amount");
            CHECK(TS_COL(s.clean->cols[9], int32_t)[0] == 3, "channel mobile");
            CHECK(TS_COL(s.clean->cols[10], int64_t)[0] == 1, "__line 1");
        }
        if (ts_table_rows(s.rejects) == 1)
            CHECK(TS_COL(s.rejects->cols[2], int32_t)[0] == R_MALFORMED &&
                      TS_COL(s.rejects->cols[1], int64_t)[0] == 2,
                  "11-field row under a 12-field header is malformed");
        ts_csv_sink_free(&s);
    }

    const char *nohdr = "1,2023-01-15,BRA,100,1000,loan,agriculture,15230.50,BRL,success,mobile\n"
                        "2,2023-01-16,BRA,100,1000,loan,agriculture,1.00,BRL,success,mobile\n";
    ts_csv_layout_from_header(&spec, nohdr, (int64_t)strlen(nohdr), &lay);
    CHECK(!lay.header_ok && lay.nphys == 11 && lay.problem[0], "no header: ok=%d nphys=%d", lay.header_ok, lay.nphys);
    if (CHECK_OK(ts_csv_sink_new(&spec, &s)) &&
        CHECK_OK(ts_csv_scan_range(&spec, &lay, 0, nohdr, (int64_t)strlen(nohdr), 0, (int64_t)strlen(nohdr), &s, &nl))) {
        CHECK(nl == 2 && ts_table_rows(s.clean) == 2, "without a header line 1 is data: %lld clean",
              (long long)ts_table_rows(s.clean));
        if (ts_table_rows(s.clean) == 2)
            CHECK(TS_COL(s.clean->cols[1], int32_t)[1] == naive_days(2023, 1, 16), "second row's date %d",
                  TS_COL(s.clean->cols[1], int32_t)[1]);
        ts_csv_sink_free(&s);
    }

    /* a header lacking columns (issue 10): it names them, and it is not a data row; the rows are read in the
     * standard order, so a row of another width is a malformed reject, never a silently shifted one */
    const char *lacking = "txn_id,txn_date,country_code,customer_id,account_id,txn_type,sector,amount,currency,status\n"
                          "1,2023-01-15,BRA,100,1000,loan,agriculture,15230.50,BRL,success\n";
    ts_csv_layout_from_header(&spec, lacking, (int64_t)strlen(lacking), &lay);
    CHECK(!lay.header_ok && lay.skip_line1 && !lay.fatal && strstr(lay.problem, "lacks column 'channel'"),
          "a header lacking a column names it: %s", lay.problem);
    if (CHECK_OK(ts_csv_sink_new(&spec, &s)) &&
        CHECK_OK(ts_csv_scan_range(&spec, &lay, 0, lacking, (int64_t)strlen(lacking), 0, (int64_t)strlen(lacking), &s,
                                   &nl))) {
        CHECK(nl == 2 && ts_table_rows(s.clean) == 0 && ts_table_rows(s.rejects) == 1 &&
                  TS_COL(s.rejects->cols[1], int64_t)[0] == 1,
              "the header is skipped, the 10-field row is a reject: %lld clean %lld rejects",
              (long long)ts_table_rows(s.clean), (long long)ts_table_rows(s.rejects));
        ts_csv_sink_free(&s);
    }
    /* a column named twice is refused: which one holds the amounts is ambiguous */
    const char *twice = "txn_id,txn_date,country_code,customer_id,account_id,txn_type,sector,amount,currency,status,"
                        "channel,amount\n";
    ts_csv_layout_from_header(&spec, twice, (int64_t)strlen(twice), &lay);
    CHECK(lay.fatal && strstr(lay.problem, "names column 'amount' twice (fields 8 and 12)"), "duplicate: %s",
          lay.problem);
    /* old Mac line endings: one "line"; said, and never skipped as a header (its rows would vanish) */
    const char *cr = "txn_id,txn_date,country_code,customer_id,account_id,txn_type,sector,amount,currency,status,"
                     "channel\r1,2023-01-15,BRA,100,1000,loan,agriculture,15230.50,BRL,success,mobile\r";
    ts_csv_layout_from_header(&spec, cr, (int64_t)strlen(cr), &lay);
    CHECK(!lay.header_ok && !lay.skip_line1 && !lay.fatal && strstr(lay.problem, "CR-only"), "CR only: %s",
          lay.problem);

    /* an empty file has no lines */
    ts_csv_layout_from_header(&spec, "", 0, &lay);
    if (CHECK_OK(ts_csv_sink_new(&spec, &s)) && CHECK_OK(ts_csv_scan_range(&spec, &lay, 0, "", 0, 0, 0, &s, &nl))) {
        CHECK(nl == 0 && ts_table_rows(s.clean) == 0 && ts_table_rows(s.rejects) == 0, "empty file");
        ts_csv_sink_free(&s);
    }
}

/* ---- a large random file (several batches) ------------------------------------------------------------ */

/* Writes a field value, quoted (with "" escapes) or not; blanks are added inside the quotes or around. */
static void put_field(ts_test_rng *r, char *line, size_t *n, const char *v, int allow_pad)
{
    const int quote = ts_rng_below(r, 6) == 0;
    const int pad = allow_pad && ts_rng_below(r, 5) == 0;
    if (quote)
        line[(*n)++] = '"';
    if (pad)
        line[(*n)++] = ts_rng_below(r, 2) ? ' ' : '\t';
    for (const char *p = v; *p; p++) {
        if (*p == '"' && quote)
            line[(*n)++] = '"';
        line[(*n)++] = *p;
    }
    if (pad)
        line[(*n)++] = ' ';
    if (quote)
        line[(*n)++] = '"';
}

static void mixcase(ts_test_rng *r, const char *in, char *out)
{
    size_t k = 0;
    for (; in[k]; k++)
        out[k] = ts_rng_below(r, 4) == 0 ? (char)(in[k] ^ 0x20) : in[k];
    out[k] = 0;
}

/* One random line: each field valid or (rarely) invalid; the expected reason follows the check order. */
static void random_line(ts_test_rng *r, file_buf *f, int64_t id)
{
    char line[320], tmp[64];
    size_t n = 0;
    int64_t v[NCLEAN_VALUES];
    int fail[5] = {0, 0, 0, 0, 0}; /* per check rank: malformed, date, country, category, amount(reason) */
    int amount_reason = 0;
    /* txn_id, customer_id, account_id */
    int64_t ids[3] = {id, (int64_t)ts_rng_below(r, 100000) - 10, (int64_t)ts_rng_below(r, 1000000)};
    const char *bad_ints[] = {"1e6", "0x1F", "12.5", "--5", "", "9223372036854775808", "+"};
    /* date */
    const int y = (int)ts_rng_range(r, 1990, 2030), m = (int)ts_rng_range(r, 1, 12),
              d = (int)ts_rng_range(r, 1, mdays(y, m));
    char date[32];
    switch (ts_rng_below(r, 4)) {
    case 0: snprintf(date, sizeof date, "%04d-%02d-%02d", y, m, d); break;
    case 1: snprintf(date, sizeof date, "%02d/%02d/%04d", d, m, y); break;
    case 2: snprintf(date, sizeof date, "%04d/%02d/%02d", y, m, d); break;
    default: snprintf(date, sizeof date, "%04d%02d%02d", y, m, d); break;
    }
    v[1] = naive_days(y, m, d);
    const char *bad_dates[] = {"2023-02-30", "N/A", "", "2023-1-5", "2023-13-01", "0000-01-01", "1900-02-29"};
    if (ts_rng_below(r, 40) == 0)
        snprintf(date, sizeof date, "%s", bad_dates[ts_rng_below(r, 7)]), fail[1] = 1;

    char cat[5][32];
    const char *const *lists[5] = {COUNTRIES, TYPES, SECTORS, STATUSES, CHANNELS};
    const int sizes[5] = {10, 6, 10, 4, 5};
    int code[5];
    for (int c = 0; c < 5; c++) {
        code[c] = (int)ts_rng_below(r, (uint64_t)sizes[c]);
        mixcase(r, lists[c][code[c]], cat[c]);
        if (ts_rng_below(r, 60) == 0) {
            snprintf(cat[c], sizeof cat[c], "%s", ts_rng_below(r, 2) ? "" : (c ? "other" : "XYZ"));
            fail[c == 0 ? 2 : 3] = 1;
        }
    }
    /* amount */
    const int64_t cents = 1 + (int64_t)ts_rng_below(r, 100000000);
    char amount[40];
    if (cents % 100 == 0 && ts_rng_below(r, 2))
        snprintf(amount, sizeof amount, "%lld", (long long)(cents / 100));
    else
        snprintf(amount, sizeof amount, "%lld.%02lld", (long long)(cents / 100), (long long)(cents % 100));
    v[7] = cents;
    const uint64_t ak = ts_rng_below(r, 40);
    if (ak == 0)
        amount[0] = 0, fail[4] = 1, amount_reason = R_MISSING_AMOUNT;
    else if (ak == 1)
        snprintf(amount, sizeof amount, "%s", (const char *[]){"0", "-1.00", "1.234", "1e5", ".5", "abc"}[ts_rng_below(r, 6)]),
            fail[4] = 1, amount_reason = R_BAD_AMOUNT;

    for (int k = 0; k < 3; k++) {
        if (ts_rng_below(r, 60) == 0)
            snprintf(tmp, sizeof tmp, "%s", bad_ints[ts_rng_below(r, 7)]), fail[0] = 1;
        else
            snprintf(tmp, sizeof tmp, "%lld", (long long)ids[k]);
        if (k == 0) {
            put_field(r, line, &n, tmp, 1), line[n++] = ',';
            put_field(r, line, &n, date, 1), line[n++] = ',';
            put_field(r, line, &n, cat[0], 1), line[n++] = ',';
        } else {
            put_field(r, line, &n, tmp, 1), line[n++] = ',';
        }
    }
    put_field(r, line, &n, cat[1], 1), line[n++] = ',';
    put_field(r, line, &n, cat[2], 1), line[n++] = ',';
    put_field(r, line, &n, amount, 1), line[n++] = ',';
    /* structural damage: 0 adds a field, 1 an unterminated quote, 2 drops the last field; 3 leaves the
       currency's comma unquoted (12 fields) unless the field happens to be quoted */
    const uint64_t sk = ts_rng_below(r, 50);
    const size_t cur_at = n;
    put_field(r, line, &n, sk == 3 ? "x,y" : "B\"RL", 0), line[n++] = ',';
    const int cur_split = sk == 3 && line[cur_at] != '"';
    put_field(r, line, &n, cat[3], 1), line[n++] = ',';
    const size_t last_comma = n - 1;
    put_field(r, line, &n, cat[4], 1);
    if (sk == 0)
        line[n++] = ',';
    else if (sk == 1)
        memcpy(line + n, ",\"open", 6), n += 6;
    else if (sk == 2)
        n = last_comma;
    line[n] = 0;
    int reason = R_OK;
    if (sk <= 2 || cur_split || fail[0])
        reason = R_MALFORMED;
    else if (fail[1])
        reason = R_BAD_DATE;
    else if (fail[2])
        reason = R_UNKNOWN_COUNTRY;
    else if (fail[3])
        reason = R_BAD_CATEGORY;
    else if (fail[4])
        reason = amount_reason;
    v[0] = ids[0], v[2] = code[0], v[3] = ids[1], v[4] = ids[2], v[5] = code[1], v[6] = code[2];
    v[8] = code[3], v[9] = code[4];
    fb_add(f, line, ts_rng_below(r, 4) ? "\n" : "\r\n", reason, v);
}

static void test_scan_random(void)
{
    ts_csv_spec spec;
    make_spec(&spec);
    ts_test_rng r = ts_rng_seed(55580);
    file_buf f;
    memset(&f, 0, sizeof f);
    fb_add(&f, HEADER, "\n", -1, NULL);
    for (int64_t i = 0; i < 5000; i++)
        random_line(&r, &f, i + 1);
    int counts[R_OK + 1] = {0};
    for (int64_t i = 1; i < f.nlines; i++)
        counts[f.lines[i].reason]++;
    for (int k = 0; k <= R_OK; k++)
        CHECK(counts[k] > (k == R_OK ? 3000 : 20), "reason %d occurs %d times in the random file", k, counts[k]);
    ts_csv_layout lay;
    ts_csv_layout_from_header(&spec, f.data, f.len, &lay);
    CHECK(lay.header_ok, "random file header");
    long bad = scan_split(&spec, &lay, &f, f.len, "random file");
    CHECK(bad == 0, "random file scan: %ld mismatches", bad);
    long split_bad = 0;
    for (int it = 0; it < 20; it++)
        split_bad += scan_split(&spec, &lay, &f, (int64_t)ts_rng_below(&r, (uint64_t)f.len + 1), "random split") != 0;
    CHECK(split_bad == 0, "%ld random split points gave wrong results", split_bad);
    free(f.data), free(f.lines);
}

int main(void)
{
    const int ok = CHECK_OK(ts_dict_new(COUNTRIES, 10, &d_countries)) && CHECK_OK(ts_dict_new(TYPES, 6, &d_types)) &&
                   CHECK_OK(ts_dict_new(SECTORS, 10, &d_sectors)) && CHECK_OK(ts_dict_new(STATUSES, 4, &d_statuses)) &&
                   CHECK_OK(ts_dict_new(CHANNELS, 5, &d_channels));
    test_split_cases();
    test_split_slots();
    test_split_scratch();
    test_split_random();
    if (ok) {
        test_scan_small();
        test_scan_headers();
        test_scan_check_only();
        test_scan_random();
    }
    ts_dict_release(d_countries), ts_dict_release(d_types), ts_dict_release(d_sectors);
    ts_dict_release(d_statuses), ts_dict_release(d_channels);
    return TS_TEST_DONE("test_csv_split");
}
