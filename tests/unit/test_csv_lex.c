/* The scan's fast kernels against naive references on random inputs:
 *   kernels/ts_csv_lex.h    line ends, delimiter positions and the quote flag of every line, vs a byte loop;
 *   io/ts_csv scan          random CSV text (quotes, "" escapes, blanks, empty fields, CRLF, a missing last
 *                           newline, wrong widths) through ts_csv_scan_range vs a state-machine RFC 4180 splitter
 *                           written here: every line clean with the right fields, or rejected as malformed;
 *   ts_parse_int64          vs the 128-bit reference (signs, leading zeros, 18/19/20 digits, the int64 limits);
 *   ts_check_category       vs fold-and-compare (lengths 0..20, case, values repeated in the list);
 *   ts_hash128_bytes        equals ts_hash_bytes with its two seeds (the fused loop keeps the values).
 * Buffers are malloc'ed to their exact size, so the sanitizer build catches a read outside them. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ts_check.h"
#include "ts_csv.h"
#include "ts_csv_lex.h"
#include "ts_hash.h"
#include "ts_naive_parse.h"
#include "ts_parse.h"
#include "ts_test.h"

/* ---- lexer ------------------------------------------------------------------------------------------------ */

static void lex_case(const char *text, size_t n, size_t offset, char delim, char quote)
{
    /* the text at a chosen offset in an exact-size buffer, so block alignment varies */
    char *buf = malloc(n + offset + 1), *data = buf + offset;
    memset(buf, 'z', offset);
    memcpy(data, text, n);
    ts_lex L;
    ts_lex_init(&L, data, (int64_t)n, delim, quote);
    const char *delims[64];
    size_t pos = 0;
    int lines = 0;
    while (pos < n) {
        /* reference: the line's end, its delimiters, whether the quote occurs */
        size_t e = pos;
        int64_t want_nd = 0;
        int want_q = 0;
        while (e < n && data[e] != '\n')
            want_nd += data[e] == delim, want_q |= data[e] == quote, e++;
        const char *eol;
        int quoted;
        ts_lex_seek(&L, data + pos);
        const int64_t nd = ts_lex_line(&L, delims, 64, &eol, &quoted);
        CHECK(eol == data + e, "line %d at %zu: end %td, expected %zu", lines, pos, eol - data, e);
        CHECK(nd == want_nd, "line %d: %" PRId64 " delimiters, expected %" PRId64, lines, nd, want_nd);
        CHECK(quoted == want_q, "line %d: quoted %d, expected %d", lines, quoted, want_q);
        int64_t k = 0;
        for (size_t j = pos; j < e && k < 64; j++)
            if (data[j] == delim) {
                CHECK(delims[k] == data + j, "line %d delimiter %" PRId64 " at %td, expected %zu", lines, k,
                      delims[k] - data, j);
                k++;
            }
        pos = e + 1, lines++;
    }
    free(buf);
}

static void test_lex(void)
{
    lex_case("", 0, 0, ',', '"');
    lex_case("a,b\nc", 5, 0, ',', '"');
    lex_case("\n\n\n", 3, 5, ',', '"');
    lex_case("a,\"b,c\"\r\n,,\n", 12, 63, ',', '"');
    ts_test_rng r = ts_rng_seed(7);
    static const char alpha[] = "ab1 ,,;\t\"\n\r|";
    char text[700];
    for (int it = 0; it < 2000; it++) {
        const size_t n = ts_rng_below(&r, it < 1000 ? 140 : sizeof text);
        const int dense = (int)ts_rng_below(&r, 3); /* some texts are mostly newlines, some have none */
        for (size_t i = 0; i < n; i++) {
            char c = alpha[ts_rng_below(&r, sizeof alpha - 1)];
            if (dense == 0 && c == '\n')
                c = 'x';
            text[i] = c;
        }
        static const char delims[] = ",;\t|";
        lex_case(text, n, ts_rng_below(&r, 130), delims[it % 4], it % 7 ? '"' : '\'');
    }
    /* more than 64 delimiters: the count is exact, positions are kept for the first 64 */
    char wide[300];
    memset(wide, ',', sizeof wide);
    wide[299] = '\n';
    ts_lex L;
    const char *d[64], *eol;
    int q;
    ts_lex_init(&L, wide, 300, ',', '"');
    CHECK(ts_lex_line(&L, d, 64, &eol, &q) == 299 && eol == wide + 299 && d[63] == wide + 63,
          "299 delimiters counted, 64 positions kept");
}

/* ts_lex_skip_lines vs a byte loop: random offsets and counts over texts sparse and dense in newlines, across
 * block boundaries, and counts past the last newline (end). */
static void test_skip_lines(void)
{
    ts_test_rng r = ts_rng_seed(11);
    _Alignas(64) char buf[1200];
    for (int it = 0; it < 3000; it++) {
        const size_t n = ts_rng_below(&r, sizeof buf - 64);
        const size_t odds = 1 + ts_rng_below(&r, 90); /* one newline in about `odds` bytes */
        const size_t off = ts_rng_below(&r, 64);
        char *text = buf + off;
        for (size_t i = 0; i < n; i++)
            text[i] = ts_rng_below(&r, odds) == 0 ? '\n' : (char)('a' + ts_rng_below(&r, 26));
        const size_t from = n ? ts_rng_below(&r, n + 1) : 0;
        const int64_t k = 1 + (int64_t)ts_rng_below(&r, 40);
        size_t want = n;
        int64_t left = k;
        for (size_t i = from; i < n; i++)
            if (text[i] == '\n' && --left == 0) {
                want = i + 1;
                break;
            }
        const char *got = ts_lex_skip_lines(text + from, text + n, k);
        CHECK(got == text + want, "skip %" PRId64 " lines from %zu of %zu: at %td, expected %zu", k, from, n,
              got - text, want);
    }
}

/* ---- scan vs a naive splitter ------------------------------------------------------------------------------ */

#define NF 3

typedef struct ref_field {
    char text[128];
    size_t len;
} ref_field;

/* RFC 4180 as domain.md states it, as a byte-at-a-time state machine: returns the field count or -1. */
static int ref_split(const char *s, size_t n, char delim, char quote, int trim, ref_field *out, int max)
{
    int nf = 0;
    size_t i = 0;
    for (;;) {
        ref_field f = {.len = 0};
        if (i < n && s[i] == quote) {
            for (i++;; i++) {
                if (i >= n)
                    return -1;
                if (s[i] == quote) {
                    if (i + 1 < n && s[i + 1] == quote) {
                        f.text[f.len++] = quote, i++;
                        continue;
                    }
                    i++;
                    break;
                }
                f.text[f.len++] = s[i];
            }
            if (i < n && s[i] != delim)
                return -1;
        } else {
            for (; i < n && s[i] != delim; i++)
                f.text[f.len++] = s[i];
        }
        size_t a = 0, b = f.len;
        while (trim && a < b && (f.text[a] == ' ' || f.text[a] == '\t'))
            a++;
        while (trim && b > a && (f.text[b - 1] == ' ' || f.text[b - 1] == '\t'))
            b--;
        if (nf < max) {
            memmove(out[nf].text, f.text + a, b - a);
            out[nf].len = b - a;
        }
        nf++;
        if (i >= n)
            return nf;
        i++;
    }
}

static const char *col_str(const ts_column *c, int64_t i, size_t *len)
{
    const int64_t *off = TS_COL(c, int64_t);
    *len = (size_t)(off[i + 1] - off[i]);
    return c->bytes + off[i];
}

static long scan_clean_rows, scan_rejects, scan_quoted_clean; /* what the random files exercised */

/* One random file through one scan (two ranges cut at a random point), checked line by line. */
static void scan_case(ts_test_rng *r, char delim, int no_trim)
{
    static const char *const tokens[] = {"a", "b1", " ", "\t", "\"", "\"\"", "x y", "", "\"q\"", "\"a,b\"",
                                         "\"a\"\"b\"", "\" c \"", "\"open", ",", "\r", "9"};
    char text[4096];
    size_t n = 0;
    const int nlines = (int)ts_rng_below(r, 40);
    for (int l = 0; l < nlines; l++) {
        const int nf = (int)ts_rng_range(r, 1, NF + 1);
        for (int f = 0; f < nf; f++) {
            if (f)
                text[n++] = delim;
            for (int t = (int)ts_rng_below(r, 3); t > 0; t--) {
                const char *tok = tokens[ts_rng_below(r, sizeof tokens / sizeof *tokens)];
                for (; *tok; tok++)
                    text[n++] = *tok == ',' ? delim : *tok;
            }
        }
        if (l + 1 < nlines || ts_rng_below(r, 2)) { /* the last line may lack its newline */
            if (ts_rng_below(r, 3) == 0)
                text[n++] = '\r';
            text[n++] = '\n';
        }
    }
    char *data = malloc(n + 1);
    memcpy(data, text, n);
    ts_csv_field fields[NF];
    for (int f = 0; f < NF; f++)
        fields[f] = (ts_csv_field){.name = f == 0 ? "c0" : f == 1 ? "c1" : "c2", .kind = TS_RULE_STRING,
                                   .reason_invalid = 2, .reason_missing = 3, .nullable = 1};
    ts_csv_spec spec = {.fields = fields, .nfields = NF, .reason_malformed = 1, .no_header = 1,
                        .delim = delim == ',' ? 0 : delim, .no_trim = no_trim};
    ts_csv_layout lay;
    ts_csv_layout_from_header(&spec, data, (int64_t)n, &lay);
    const int64_t cut = (int64_t)ts_rng_below(r, n + 1);
    ts_csv_sink s[2];
    int64_t nl[2] = {0, 0};
    int ok = 1;
    for (int q = 0; q < 2; q++) {
        ok &= CHECK_OK(ts_csv_sink_new(&spec, &s[q]));
        ok &= CHECK_OK(ts_csv_scan_range(&spec, &lay, 0, data, (int64_t)n, q ? cut : 0, q ? (int64_t)n : cut, &s[q],
                                         &nl[q]));
    }
    if (ok) {
        /* walk the lines: each must be the next clean row or the next reject of its range */
        int64_t ci[2] = {0, 0}, ri[2] = {0, 0}, idx[2] = {0, 0};
        size_t pos = 0;
        while (pos < n) {
            const int q = pos >= (size_t)cut; /* a line belongs to the range it starts in */
            const char *nlp = memchr(data + pos, '\n', n - pos);
            const size_t stop = nlp ? (size_t)(nlp - data) : n;
            size_t ll = stop - pos;
            if (ll && data[stop - 1] == '\r')
                ll--;
            ref_field want[NF + 2];
            const int wn = ref_split(data + pos, ll, delim, '"', 1, want, NF + 2);
            if (no_trim && wn == NF) /* strings keep their blanks: split again untrimmed */
                ref_split(data + pos, ll, delim, '"', 0, want, NF + 2);
            const ts_table *clean = s[q].clean, *rej = s[q].rejects;
            if (wn != NF) {
                const int have = ri[q] < ts_table_rows(rej);
                size_t rl = 0;
                const char *raw = have ? col_str(rej->cols[3], ri[q], &rl) : "";
                CHECK(have && TS_COL(rej->cols[1], int64_t)[ri[q]] == idx[q] && TS_COL(rej->cols[2], int32_t)[ri[q]] == 1 &&
                          rl == ll && memcmp(raw, data + pos, ll) == 0,
                      "line [%.*s]: expected a malformed reject", (int)ll, data + pos);
                ri[q]++;
                scan_rejects++;
            } else {
                const int have = ci[q] < ts_table_rows(clean);
                CHECK(have && TS_COL(clean->cols[NF], int64_t)[ci[q]] == idx[q], "line [%.*s]: expected clean",
                      (int)ll, data + pos);
                for (int f = 0; have && f < NF; f++) {
                    size_t fl = 0;
                    const int valid = ts_column_is_valid(clean->cols[f], ci[q]);
                    const char *v = valid ? col_str(clean->cols[f], ci[q], &fl) : "";
                    CHECK(valid == (want[f].len > 0) && fl == want[f].len && memcmp(v, want[f].text, fl) == 0,
                          "line [%.*s] field %d = [%.*s], expected [%.*s]", (int)ll, data + pos, f, (int)fl, v,
                          (int)want[f].len, want[f].text);
                }
                ci[q]++;
                scan_clean_rows++;
                scan_quoted_clean += memchr(data + pos, '"', ll) != NULL;
            }
            idx[q]++;
            pos = stop + 1;
        }
        for (int q = 0; q < 2; q++)
            CHECK(ci[q] == ts_table_rows(s[q].clean) && ri[q] == ts_table_rows(s[q].rejects) && idx[q] == nl[q],
                  "range %d: every row accounted for (%" PRId64 " lines)", q, nl[q]);
    }
    for (int q = 0; q < 2; q++)
        ts_csv_sink_free(&s[q]);
    free(data);
}

static void test_scan_random(void)
{
    ts_test_rng r = ts_rng_seed(11);
    for (int it = 0; it < 800; it++)
        scan_case(&r, it % 3 == 2 ? ';' : ',', it % 5 == 4);
    printf("random scans: %ld clean rows (%ld with quotes), %ld rejects\n", scan_clean_rows, scan_quoted_clean,
           scan_rejects);
    CHECK(scan_clean_rows > 1000 && scan_rejects > 1000 && scan_quoted_clean > 250,
          "the random files exercise both paths: %ld clean rows (%ld with quotes), %ld rejects", scan_clean_rows,
          scan_quoted_clean, scan_rejects);
}

/* ---- int64 ------------------------------------------------------------------------------------------------ */

static void int_case(const char *s, size_t n)
{
    int64_t got = 0x5a5a, want = 0;
    const int ok = ts_parse_int64(s, n, &got), wok = ref_int64(s, n, &want);
    CHECK(ok == wok && (!ok || got == want), "ts_parse_int64(\"%.*s\") = %d/%" PRId64 ", expected %d/%" PRId64,
          (int)n, s, ok, got, wok, want);
}

static void test_int64(void)
{
    static const char *const fixed[] = {"", "+", "-", "0", "-0", "+0", "007", "-007", "999999999999999999",
                                        "-999999999999999999", "9223372036854775807", "9223372036854775808",
                                        "-9223372036854775808", "-9223372036854775809", "0000000000000000000001",
                                        "18446744073709551616", "99999999999999999999", "1e6", "0x1F", "12.5",
                                        "--5", "+-5", "5-", " 5", "5 ", "1,2", "1234", "12345678", "99999999",
                                        "-00000000", "+1234567", "1234567/", "123:", "\xb1\xb2\xb3\xb4"};
    for (size_t i = 0; i < sizeof fixed / sizeof *fixed; i++)
        int_case(fixed[i], strlen(fixed[i]));
    ts_test_rng r = ts_rng_seed(5);
    char s[32];
    for (int it = 0; it < 50000; it++) {
        size_t n = 0;
        const uint64_t kind = ts_rng_below(&r, 4);
        if (ts_rng_below(&r, 3) == 0)
            s[n++] = "+-"[ts_rng_below(&r, 2)];
        const size_t digits = ts_rng_below(&r, 22);
        for (size_t k = 0; k < digits; k++)
            s[n++] = (char)(kind == 0 && k == 0 ? '9' : '0' + ts_rng_below(&r, 10));
        if (kind == 3 && n) /* a stray byte somewhere */
            s[ts_rng_below(&r, n)] = "x.e +-/:\x80\xb0\xb9\xba\xff\x7f\x09"[ts_rng_below(&r, 15)];
        char *exact = malloc(n ? n : 1);
        memcpy(exact, s, n);
        int_case(exact, n);
        free(exact);
    }
}

/* decimals: the same random texts with a '.' somewhere, against the reference (scale 2, at most 16 integer
 * digits, as the bank rules) */
static void test_decimal(void)
{
    ts_test_rng r = ts_rng_seed(6);
    char s[32];
    for (int it = 0; it < 50000; it++) {
        size_t n = 0;
        if (ts_rng_below(&r, 3) == 0)
            s[n++] = "+-"[ts_rng_below(&r, 2)];
        const size_t digits = ts_rng_below(&r, 21), dot = ts_rng_below(&r, digits + 3);
        for (size_t k = 0; k < digits; k++) {
            if (k == dot)
                s[n++] = '.';
            s[n++] = (char)('0' + ts_rng_below(&r, 10));
        }
        if (ts_rng_below(&r, 8) == 0 && n)
            s[ts_rng_below(&r, n)] = "x.e +-"[ts_rng_below(&r, 6)];
        const int scale = (int)ts_rng_below(&r, 4), max_int = (int)ts_rng_range(&r, 1, 18);
        char *exact = malloc(n ? n : 1);
        memcpy(exact, s, n);
        int64_t got = 0x5a5a, want = 0;
        const int ok = ts_parse_decimal(exact, n, scale, max_int, &got), wok = ref_decimal(exact, n, scale, max_int, &want);
        CHECK(ok == wok && (!ok || got == want), "ts_parse_decimal(\"%.*s\", %d, %d) = %d/%" PRId64 ", expected %d/%" PRId64,
              (int)n, exact, scale, max_int, ok, got, wok, want);
        free(exact);
    }
}

/* ---- categories ----------------------------------------------------------------------------------------- */

static void test_category(void)
{
    ts_test_rng r = ts_rng_seed(9);
    char pool[40][24];
    const char *values[40];
    int64_t value_len[40];
    for (int it = 0; it < 100; it++) {
        const int nv = (int)ts_rng_range(&r, 1, 40);
        for (int k = 0; k < nv; k++) {
            if (k && ts_rng_below(&r, 8) == 0) { /* a repeated value keeps its first code */
                const int j = (int)ts_rng_below(&r, (uint64_t)k);
                memcpy(pool[k], pool[j], sizeof pool[k]), value_len[k] = value_len[j];
            } else {
                value_len[k] = (int64_t)ts_rng_below(&r, 21);
                for (int64_t c = 0; c < value_len[k]; c++)
                    pool[k][c] = "abAB_1"[ts_rng_below(&r, 6)];
            }
            values[k] = pool[k];
        }
        const int upper = (int)ts_rng_below(&r, 2);
        /* fields: the values in random case, and near misses */
        enum { N = 512 };
        char *ptr_buf[N];
        const char *ptr[N];
        uint32_t len[N], sel[N];
        int32_t out[N];
        uint16_t reason[N];
        for (int i = 0; i < N; i++) {
            const int k = (int)ts_rng_below(&r, (uint64_t)nv);
            uint32_t l = (uint32_t)value_len[k];
            char tmp[24];
            memcpy(tmp, pool[k], (size_t)l);
            for (uint32_t c = 0; c < l; c++)
                if (ts_rng_below(&r, 2))
                    tmp[c] = ts_fold_char(tmp[c], (int)ts_rng_below(&r, 2));
            const uint64_t miss = ts_rng_below(&r, 6);
            if (miss == 0 && l)
                tmp[ts_rng_below(&r, l)] = 'z';
            else if (miss == 1 && l < 20)
                tmp[l++] = 'a';
            else if (miss == 2 && l)
                l--;
            ptr_buf[i] = malloc(l ? l : 1);
            memcpy(ptr_buf[i], tmp, l);
            ptr[i] = ptr_buf[i], len[i] = l, sel[i] = (uint32_t)i, reason[i] = 0xffff, out[i] = -1;
        }
        const size_t kept = ts_check_category(ptr, len, sel, N, values, value_len, nv, upper, out, reason, 7);
        size_t j = 0;
        for (int i = 0; i < N; i++) {
            int want = -1;
            for (int k = 0; k < nv && want < 0; k++) {
                int eq = value_len[k] == (int64_t)len[i];
                for (uint32_t c = 0; eq && c < len[i]; c++)
                    eq = ts_fold_char(ptr[i][c], upper) == values[k][c];
                if (eq)
                    want = k;
            }
            const int in_sel = j < kept && sel[j] == (uint32_t)i;
            j += in_sel;
            CHECK(in_sel == (want >= 0) && (want < 0 ? reason[i] == 7 : out[i] == want),
                  "category [%.*s] (upper %d): kept %d code %d, expected %d", (int)len[i], ptr[i], upper, in_sel,
                  out[i], want);
            free(ptr_buf[i]);
        }
    }
}

/* ---- hash ------------------------------------------------------------------------------------------------- */

static void test_hash128(void)
{
    ts_test_rng r = ts_rng_seed(3);
    unsigned char buf[200];
    for (int it = 0; it < 4000; it++) {
        const size_t n = ts_rng_below(&r, sizeof buf + 1);
        for (size_t i = 0; i < n; i++)
            buf[i] = (unsigned char)ts_rng_next(&r);
        const ts_hash128 h = ts_hash128_bytes(buf, n);
        CHECK(h.lo == ts_hash_bytes(buf, n, UINT64_C(0x243f6a8885a308d3)) &&
                  h.hi == ts_hash_bytes(buf, n, UINT64_C(0x13198a2e03707344)),
              "ts_hash128_bytes of %zu bytes differs from ts_hash_bytes", n);
    }
}

int main(void)
{
    test_lex();
    test_skip_lines();
    test_scan_random();
    test_int64();
    test_decimal();
    test_category();
    test_hash128();
    return TS_TEST_DONE("test_csv_lex");
}
