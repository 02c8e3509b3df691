/* Fault injection. Each injector changes one field (or the field count / line ending) of an otherwise
 * canonical row, so the intended reject reason is the first one a reader following domain.md hits.
 * Rules kept in mind: a field is quoted only when its first byte is `"` (so quoted fields are never padded),
 * fields are trimmed of spaces/tabs after splitting, `-5`/`+5` are valid integers (never used as bad ids),
 * and the year is never 0000 (outside the valid calendar). */
#include <stdarg.h>
#include <stdio.h>

#include "gen_rng.h"
#include "gen_rows.h"
#include "ts_date.h"

#define NELEM(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* Formats into scratch slot `slot` and points field `i` at it. */
static void putf(gen_line *l, int i, int slot, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void putf(gen_line *l, int i, int slot, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    const int n = vsnprintf(l->scratch[slot], sizeof l->scratch[slot], fmt, ap);
    va_end(ap);
    l->f[i] = l->scratch[slot];
    l->n[i] = n < (int)sizeof l->scratch[slot] ? n : (int)sizeof l->scratch[slot] - 1;
}

/* Field i as a NUL-terminated copy (fields point into shared tables, not always terminated). */
static const char *field_str(const gen_line *l, int i, char *buf)
{
    memcpy(buf, l->f[i], (size_t)l->n[i]);
    buf[l->n[i]] = '\0';
    return buf;
}

static int is_case_field(int i)
{
    return i == F_COUNTRY || i == F_TYPE || i == F_SECTOR || i == F_STATUS || i == F_CHANNEL;
}

/* Another letter case, always different from the canonical one: country (upper) becomes lower, Title or aRg;
 * categories (lower) become UPPER, Title or AlTeRnAtInG. */
static void recase_field(gen_line *l, int i, int slot, uint64_t style)
{
    char v[64];
    field_str(l, i, v);
    const int upper_canon = i == F_COUNTRY, s = (int)gen_below(style, 3);
    for (int j = 0; v[j]; j++) {
        int up;
        if (s == 0)
            up = !upper_canon;
        else if (s == 1)
            up = j == 0;
        else
            up = upper_canon ? j % 2 == 1 : j % 2 == 0;
        if (v[j] >= 'a' && v[j] <= 'z' && up)
            v[j] = (char)(v[j] - 'a' + 'A');
        else if (v[j] >= 'A' && v[j] <= 'Z' && !up)
            v[j] = (char)(v[j] - 'A' + 'a');
    }
    putf(l, i, slot, "%s", v);
}

static void date_ymd(const gen_model *m, const gen_line *l, int *y, int *mo, int *d)
{
    ts_civil_from_days(m->epoch_day0 + l->day, y, mo, d);
}

/* ---- valid, non-canonical ---- */

static void inject_date_format(const gen_model *m, int kind, gen_line *l)
{
    int y, mo, d;
    date_ymd(m, l, &y, &mo, &d);
    if (kind == K_DATE_DMY)
        putf(l, F_DATE, 0, "%02d/%02d/%04d", d, mo, y);
    else if (kind == K_DATE_YMD_SLASH)
        putf(l, F_DATE, 0, "%04d/%02d/%02d", y, mo, d);
    else
        putf(l, F_DATE, 0, "%04d%02d%02d", y, mo, d);
}

static const int case_fields[] = {F_COUNTRY, F_TYPE, F_SECTOR, F_STATUS, F_CHANNEL};

static void inject_case(gen_line *l, uint64_t v1, uint64_t v2)
{
    recase_field(l, case_fields[gen_below(v1, NELEM(case_fields))], 0, v2);
}

/* Spaces/tabs before, after or around any one field; category fields may also change case (` arg`, `SME `). */
static void inject_pad(gen_line *l, uint64_t v1, uint64_t v2, uint64_t v3, uint64_t v4)
{
    static const char *const pads[] = {" ", "  ", "\t", " \t", "\t "};
    const int i = (int)gen_below(v1, GEN_NFIELD), where = (int)gen_below(v2, 3);
    const char *lead = where != 1 ? pads[gen_below(v3, NELEM(pads))] : "";
    const char *trail = where != 0 ? pads[gen_below(v3 >> 8, NELEM(pads))] : "";
    char v[64];
    if (is_case_field(i) && (v4 & 1))
        recase_field(l, i, 1, v4 >> 1);
    putf(l, i, 0, "%s%s%s", lead, field_str(l, i, v), trail);
}

/* One field wrapped in RFC 4180 quotes (`"sme"`, `"SME"`, `"2023-06-15"`), nothing around the quotes. */
static void inject_quoted(gen_line *l, uint64_t v1, uint64_t v2)
{
    const int i = (int)gen_below(v1, GEN_NFIELD);
    char v[64];
    if (is_case_field(i) && (v2 & 1))
        recase_field(l, i, 1, v2 >> 1);
    putf(l, i, 0, "\"%s\"", field_str(l, i, v));
}

/* ---- invalid ---- */

static void drop_field(gen_line *l, int i)
{
    for (int j = i; j + 1 < l->nf; j++)
        l->f[j] = l->f[j + 1], l->n[j] = l->n[j + 1];
    l->nf--;
}

static void insert_field(gen_line *l, int i, const char *s, int n)
{
    for (int j = l->nf; j > i; j--)
        l->f[j] = l->f[j - 1], l->n[j] = l->n[j - 1];
    l->f[i] = s;
    l->n[i] = n;
    l->nf++;
}

static void inject_bad_id(gen_line *l, int i, uint64_t v)
{
    char id[32];
    field_str(l, i, id);
    switch (gen_below(v, 13)) {
    case 0: putf(l, i, 0, "%sa", id); break;
    case 1: putf(l, i, 0, "1e6"); break;
    case 2: putf(l, i, 0, "0x1F"); break;
    case 3: putf(l, i, 0, "%s.5", id); break;
    case 4: putf(l, i, 0, "--%s", id); break;
    case 5: putf(l, i, 0, "%s", ""); break;
    case 6: putf(l, i, 0, "   "); break;
    case 7: putf(l, i, 0, "9223372036854775808"); break; /* INT64_MAX + 1 */
    case 8: putf(l, i, 0, "-9223372036854775809"); break;
    case 9: putf(l, i, 0, "1 2"); break;
    case 10: putf(l, i, 0, "+-5"); break;
    case 11: putf(l, i, 0, "N/A"); break;
    default: putf(l, i, 0, "#%s", id); break;
    }
}

static void inject_malformed(gen_line *l, uint64_t v1, uint64_t v2, uint64_t v3)
{
    static const char *const extra[] = {"", "x", "extra", "0"};
    static const char *const junk[] = {"x", "1", "abc"};
    static const int id_fields[] = {F_TXN_ID, F_CUSTOMER, F_ACCOUNT};
    const int i = (int)gen_below(v2, GEN_NFIELD);
    char v[64];
    switch (gen_below(v1, 5)) {
    case 0: /* 10 fields */
        drop_field(l, i);
        break;
    case 1: { /* 12 fields; an empty one at the end is a trailing comma */
        const char *s = extra[gen_below(v3, NELEM(extra))];
        insert_field(l, (int)gen_below(v2 >> 8, GEN_NFIELD + 1), s, (int)strlen(s));
        break;
    }
    case 2: /* a quote opened and never closed: the field runs past the end of the line */
        putf(l, i, 0, "\"%s", field_str(l, i, v));
        break;
    case 3: /* text after the closing quote */
        putf(l, i, 0, "\"%s\"%s", field_str(l, i, v), junk[gen_below(v3, NELEM(junk))]);
        break;
    default:
        inject_bad_id(l, id_fields[gen_below(v2, NELEM(id_fields))], v3);
        break;
    }
}

static void inject_bad_date(gen_line *l, uint64_t v)
{
    static const char *const bad[] = {"2023-02-30", "2022-13-01", "N/A", "", "2023-1-5", "31/04/2024",
                                      "2024/02/30", "20230229", "2021-00-10", "15-06-2023", "2023.06.15",
                                      "2023-06-15T10:00", "  "};
    putf(l, F_DATE, 0, "%s", bad[gen_below(v, NELEM(bad))]);
}

static void inject_unknown_country(gen_line *l, uint64_t v)
{
    static const char *const bad[] = {"XYZ", "ARGX", "US", "", "USA", "AR", "BRZ", "N/A", "XX", " "};
    putf(l, F_COUNTRY, 0, "%s", bad[gen_below(v, NELEM(bad))]);
}

static void inject_bad_category(gen_line *l, uint64_t v1, uint64_t v2, uint64_t v3)
{
    static const int fields[] = {F_TYPE, F_SECTOR, F_STATUS, F_CHANNEL};
    static const char *const wrong[4][3] = {{"payment", "deposit", "withdrawal"},
                                            {"retail", "mining", "finance"},
                                            {"ok", "cancelled", "succes"},
                                            {"web", "phone", "pos"}};
    const int w = (int)gen_below(v1, NELEM(fields)), i = fields[w];
    char v[64];
    field_str(l, i, v);
    switch (gen_below(v2, 8)) {
    case 0: putf(l, i, 0, "unknown"); break;
    case 1: putf(l, i, 0, "%s", ""); break;
    case 2: putf(l, i, 0, "n/a"); break;
    case 3: putf(l, i, 0, "%s", wrong[w][gen_below(v3, 3)]); break;
    case 4: putf(l, i, 0, "%s_x", v); break;
    case 5: putf(l, i, 0, "%c\"%s", v[0], v + 1); break;       /* m"obile: a quote inside an unquoted field */
    case 6: putf(l, i, 0, "\"%c\"\"%s\"", v[0], v + 1); break; /* "m""obile" is m"obile */
    default: putf(l, i, 0, "  "); break;
    }
}

static void inject_missing_amount(gen_line *l, uint64_t v)
{
    static const char *const empty[] = {"", " ", "  ", "\t", " \t ", "\"\""};
    putf(l, F_AMOUNT, 0, "%s", empty[gen_below(v, NELEM(empty))]);
}

static void inject_bad_amount(gen_line *l, uint64_t v)
{
    char a[32];
    field_str(l, F_AMOUNT, a);
    const int int_len = (int)(strchr(a, '.') - a);
    switch (gen_below(v, 18)) {
    case 0: putf(l, F_AMOUNT, 0, "0"); break;
    case 1: putf(l, F_AMOUNT, 0, "0.00"); break;
    case 2: putf(l, F_AMOUNT, 0, "-%s", a); break;
    case 3: putf(l, F_AMOUNT, 0, "abc"); break;
    case 4: putf(l, F_AMOUNT, 0, "1e5"); break;
    case 5: putf(l, F_AMOUNT, 0, "%s5", a); break; /* three decimals */
    case 6: putf(l, F_AMOUNT, 0, "%.*s.", int_len, a); break;
    case 7: putf(l, F_AMOUNT, 0, ".5"); break;
    case 8: putf(l, F_AMOUNT, 0, "12345678901234567.00"); break; /* 17-digit integer part */
    case 9: putf(l, F_AMOUNT, 0, "12345678901234567"); break;
    case 10: putf(l, F_AMOUNT, 0, "-0.01"); break;
    case 11: putf(l, F_AMOUNT, 0, "+0"); break;
    case 12: putf(l, F_AMOUNT, 0, "00.00"); break;
    case 13: putf(l, F_AMOUNT, 0, "NaN"); break;
    case 14: putf(l, F_AMOUNT, 0, "inf"); break;
    case 15: putf(l, F_AMOUNT, 0, "$%s", a); break;
    case 16: putf(l, F_AMOUNT, 0, "%s USD", a); break;
    default: putf(l, F_AMOUNT, 0, "1.2.3"); break;
    }
}

void gen_inject_fault(const gen_model *m, uint64_t row, int kind, gen_line *l)
{
    const uint64_t k = gen_row_key(m->txn_key, row);
    const uint64_t v1 = gen_draw(k, ST_VAR1), v2 = gen_draw(k, ST_VAR2), v3 = gen_draw(k, ST_VAR3),
                   v4 = gen_draw(k, ST_VAR4);
    switch (kind) {
    case K_DATE_DMY:
    case K_DATE_YMD_SLASH:
    case K_DATE_COMPACT: inject_date_format(m, kind, l); break;
    case K_CASE: inject_case(l, v1, v2); break;
    case K_PAD: inject_pad(l, v1, v2, v3, v4); break;
    case K_QUOTED: inject_quoted(l, v1, v2); break;
    case K_CRLF: l->crlf = 1; break;
    case K_MALFORMED: inject_malformed(l, v1, v2, v3); break;
    case K_BAD_DATE: inject_bad_date(l, v1); break;
    case K_UNKNOWN_COUNTRY: inject_unknown_country(l, v1); break;
    case K_BAD_CATEGORY: inject_bad_category(l, v1, v2, v3); break;
    case K_MISSING_AMOUNT: inject_missing_amount(l, v1); break;
    case K_BAD_AMOUNT: inject_bad_amount(l, v1); break;
    default: break;
    }
}
