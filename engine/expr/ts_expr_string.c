/* String functions: || and concat(), LIKE / ILIKE, regexp_matches, starts_with, contains, upper, lower, trim,
 * length, substr, left, right, replace, reverse.
 *
 * Results that are pieces of an argument (substr, trim, left, right) are views into the argument's bytes; new
 * strings are written into the node's scratch buffer, reserved for the whole vector before the first write (so
 * views handed out earlier in the vector stay valid). Positions and lengths count UTF-8 code points.
 *
 * Predicates (LIKE, regexp_matches, starts_with, contains) on a DICT column with constant other arguments are
 * computed once per dictionary value at bind time: a row then costs one table lookup. */
#define TS_EXPR_PACKAGE
#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include "ts_ctx.h"
#include "ts_expr_impl.h"
#include "ts_like.h"
#include "ts_regex.h"

static inline int is_cont(char c) { return ((unsigned char)c & 0xC0) == 0x80; }

static int64_t count_chars(const char *s, int64_t n)
{
    int64_t c = 0;
    for (int64_t i = 0; i < n; i++)
        c += !is_cont(s[i]);
    return c;
}

/* Byte offset of the i-th code point (0-based), n when the string is shorter. */
static int64_t char_offset(const char *s, int64_t n, int64_t i)
{
    int64_t b = 0;
    for (; b < n && i > 0; i--)
        for (b++; b < n && is_cont(s[b]); b++)
            ;
    return b;
}

static int64_t sat_add(int64_t a, int64_t b)
{
    int64_t r;
    return __builtin_add_overflow(a, b, &r) ? (b > 0 ? INT64_MAX : INT64_MIN) : r;
}

static int64_t sat_neg(int64_t a) { return a == INT64_MIN ? INT64_MAX : -a; }

static int all_valid(const ts_xnode *n, int k)
{
    for (int i = 0; i < n->nargs; i++)
        if (!n->args[i]->valid[k])
            return 0;
    return 1;
}

/* ---- || and concat() ----------------------------------------------------------------------------------------- */

static ts_err eval_concat(ts_xnode *n, int64_t start, int m, const uint8_t *active)
{
    (void)start, (void)active;
    const int skip_nulls = n->op == TS_X_CONCAT_FN;
    size_t total = 0;
    for (int k = 0; k < m; k++) {
        n->valid[k] = (uint8_t)(skip_nulls || all_valid(n, k));
        for (int i = 0; n->valid[k] && i < n->nargs; i++)
            total += n->args[i]->valid[k] ? (size_t)n->args[i]->v.s[k].n : 0;
    }
    TS_TRY(ts_xreserve(n, total + 1));
    char *o = n->buf;
    for (int k = 0; k < m; k++) {
        char *begin = o;
        for (int i = 0; n->valid[k] && i < n->nargs; i++) {
            const ts_sv s = n->args[i]->v.s[k];
            if (n->args[i]->valid[k] && s.n)
                memcpy(o, s.p, (size_t)s.n), o += s.n;
        }
        n->v.s[k].p = begin, n->v.s[k].n = o - begin;
    }
    return TS_OK;
}

/* ---- case, reverse, replace (new strings) -------------------------------------------------------------------- */

static ts_err eval_case_fold(ts_xnode *n, int64_t start, int m, const uint8_t *active)
{
    (void)start, (void)active;
    const ts_xnode *a = n->args[0];
    size_t total = 0;
    for (int k = 0; k < m; k++)
        total += a->valid[k] ? (size_t)a->v.s[k].n : 0;
    TS_TRY(ts_xreserve(n, total + 1));
    const int upper = n->op == TS_X_UPPER;
    char *o = n->buf;
    for (int k = 0; k < m; k++) {
        n->valid[k] = a->valid[k];
        const ts_sv s = a->v.s[k];
        n->v.s[k].p = o, n->v.s[k].n = a->valid[k] ? s.n : 0;
        for (int64_t i = 0; i < n->v.s[k].n; i++) {
            const char c = s.p[i];
            *o++ = upper ? (c >= 'a' && c <= 'z' ? (char)(c - 32) : c) : (c >= 'A' && c <= 'Z' ? (char)(c + 32) : c);
        }
    }
    return TS_OK;
}

static ts_err eval_reverse(ts_xnode *n, int64_t start, int m, const uint8_t *active)
{
    (void)start, (void)active;
    const ts_xnode *a = n->args[0];
    size_t total = 0;
    for (int k = 0; k < m; k++)
        total += a->valid[k] ? (size_t)a->v.s[k].n : 0;
    TS_TRY(ts_xreserve(n, total + 1));
    char *o = n->buf;
    for (int k = 0; k < m; k++) {
        n->valid[k] = a->valid[k];
        const ts_sv s = a->v.s[k];
        const int64_t len = a->valid[k] ? s.n : 0;
        for (int64_t end = len; end > 0;) { /* copy code points from the back, each in its byte order */
            int64_t b = end - 1;
            while (b > 0 && is_cont(s.p[b]))
                b--;
            memcpy(o + (len - end), s.p + b, (size_t)(end - b));
            end = b;
        }
        n->v.s[k].p = o, n->v.s[k].n = len;
        o += len;
    }
    return TS_OK;
}

static int64_t count_occurrences(ts_sv s, ts_sv from)
{
    int64_t c = 0;
    for (const char *p = s.p, *end = s.p + s.n; (p = memmem(p, (size_t)(end - p), from.p, (size_t)from.n)); p += from.n)
        c++;
    return c;
}

static ts_err eval_replace(ts_xnode *n, int64_t start, int m, const uint8_t *active)
{
    (void)start, (void)active;
    const ts_xnode *a = n->args[0], *f = n->args[1], *t = n->args[2];
    size_t total = 0;
    for (int k = 0; k < m; k++) {
        n->valid[k] = (uint8_t)all_valid(n, k);
        if (!n->valid[k])
            continue;
        const ts_sv s = a->v.s[k], from = f->v.s[k], to = t->v.s[k];
        const int64_t grow = from.n && to.n > from.n ? count_occurrences(s, from) * (to.n - from.n) : 0;
        total += (size_t)(s.n + grow);
    }
    TS_TRY(ts_xreserve(n, total + 1));
    char *o = n->buf;
    for (int k = 0; k < m; k++) {
        const ts_sv s = a->v.s[k], from = f->v.s[k], to = t->v.s[k];
        if (!n->valid[k] || from.n == 0) { /* nothing to replace: the argument itself */
            n->v.s[k] = n->valid[k] ? s : (ts_sv){"", 0};
            continue;
        }
        char *begin = o;
        const char *p = s.p, *end = s.p + s.n, *hit;
        while ((hit = memmem(p, (size_t)(end - p), from.p, (size_t)from.n))) {
            memcpy(o, p, (size_t)(hit - p)), o += hit - p;
            if (to.n)
                memcpy(o, to.p, (size_t)to.n), o += to.n;
            p = hit + from.n;
        }
        if (end > p)
            memcpy(o, p, (size_t)(end - p)), o += end - p;
        n->v.s[k].p = begin, n->v.s[k].n = o - begin;
    }
    return TS_OK;
}

/* ---- views: trim, substr, left, right; length --------------------------------------------------------------- */

/* 1 when the code point c[0..len) is one of the code points of set. */
static int in_set(const char *c, int64_t len, ts_sv set)
{
    for (int64_t i = 0; i < set.n;) {
        int64_t j = i + 1;
        while (j < set.n && is_cont(set.p[j]))
            j++;
        if (j - i == len && memcmp(set.p + i, c, (size_t)len) == 0)
            return 1;
        i = j;
    }
    return 0;
}

static ts_sv trim_one(ts_sv s, ts_sv set, int left, int right)
{
    int64_t b = 0, e = s.n;
    while (left && b < e) {
        int64_t j = b + 1;
        while (j < e && is_cont(s.p[j]))
            j++;
        if (!in_set(s.p + b, j - b, set))
            break;
        b = j;
    }
    while (right && e > b) {
        int64_t j = e - 1;
        while (j > b && is_cont(s.p[j]))
            j--;
        if (!in_set(s.p + j, e - j, set))
            break;
        e = j;
    }
    return (ts_sv){s.p + b, e - b};
}

static ts_err eval_trim(ts_xnode *n, int64_t start, int m, const uint8_t *active)
{
    (void)start, (void)active;
    const ts_xnode *a = n->args[0], *set = n->nargs > 1 ? n->args[1] : NULL;
    const int left = n->op != TS_X_RTRIM, right = n->op != TS_X_LTRIM;
    const ts_sv space = {" ", 1};
    for (int k = 0; k < m; k++) {
        n->valid[k] = (uint8_t)all_valid(n, k);
        n->v.s[k] = n->valid[k] ? trim_one(a->v.s[k], set ? set->v.s[k] : space, left, right) : (ts_sv){"", 0};
    }
    return TS_OK;
}

/* DuckDB's substring: a negative start counts from the end; a negative length takes the characters before start. */
static ts_sv substr_one(ts_sv s, int64_t start, int has_len, int64_t len)
{
    if (start < 0)
        start = sat_add(count_chars(s.p, s.n) + 1, start);
    int64_t from = start, to = INT64_MAX;
    if (has_len)
        from = len < 0 ? sat_add(start, len) : start, to = len < 0 ? start : sat_add(start, len);
    if (from < 1)
        from = 1;
    if (to <= from)
        return (ts_sv){s.p, 0};
    const int64_t b = char_offset(s.p, s.n, from - 1);
    const int64_t e = to == INT64_MAX ? s.n : b + char_offset(s.p + b, s.n - b, to - from);
    return (ts_sv){s.p + b, e - b};
}

static ts_err eval_substr(ts_xnode *n, int64_t start, int m, const uint8_t *active)
{
    (void)start, (void)active;
    const ts_xnode *a = n->args[0], *st = n->args[1], *len = n->nargs > 2 ? n->args[2] : NULL;
    for (int k = 0; k < m; k++) {
        n->valid[k] = (uint8_t)all_valid(n, k);
        n->v.s[k] =
            n->valid[k] ? substr_one(a->v.s[k], st->v.i[k], len != NULL, len ? len->v.i[k] : 0) : (ts_sv){"", 0};
    }
    return TS_OK;
}

static ts_err eval_left_right(ts_xnode *n, int64_t start, int m, const uint8_t *active)
{
    (void)start, (void)active;
    const ts_xnode *a = n->args[0], *cnt = n->args[1];
    const int left = n->op == TS_X_LEFT;
    for (int k = 0; k < m; k++) {
        n->valid[k] = (uint8_t)all_valid(n, k);
        if (!n->valid[k]) {
            n->v.s[k] = (ts_sv){"", 0};
            continue;
        }
        const ts_sv s = a->v.s[k];
        const int64_t c = cnt->v.i[k];
        /* characters to keep from the front (left) or to skip from the front (right) */
        const int64_t total = c < 0 || !left ? count_chars(s.p, s.n) : 0;
        int64_t front = left ? (c >= 0 ? c : total - sat_neg(c)) : (c >= 0 ? total - c : sat_neg(c));
        front = front < 0 ? 0 : front;
        const int64_t b = char_offset(s.p, s.n, front);
        n->v.s[k] = left ? (ts_sv){s.p, b} : (ts_sv){s.p + b, s.n - b};
    }
    return TS_OK;
}

static ts_err eval_length(ts_xnode *n, int64_t start, int m, const uint8_t *active)
{
    (void)start, (void)active;
    const ts_xnode *a = n->args[0];
    for (int k = 0; k < m; k++)
        n->v.i[k] = count_chars(a->v.s[k].p, a->valid[k] ? a->v.s[k].n : 0), n->valid[k] = a->valid[k];
    return TS_OK;
}

static ts_err eval_strpos(ts_xnode *n, int64_t start, int m, const uint8_t *active)
{
    (void)start, (void)active;
    const ts_xnode *a = n->args[0], *x = n->args[1];
    for (int k = 0; k < m; k++) {
        n->valid[k] = (uint8_t)all_valid(n, k);
        const ts_sv s = a->v.s[k], needle = x->v.s[k];
        const char *hit = !n->valid[k] ? NULL : needle.n == 0 ? s.p
                          : needle.n <= s.n ? memmem(s.p, (size_t)s.n, needle.p, (size_t)needle.n) : NULL;
        n->v.i[k] = hit ? count_chars(s.p, hit - s.p) + 1 : 0;
    }
    return TS_OK;
}

/* ---- predicates ---------------------------------------------------------------------------------------------- */

typedef struct spred spred;
struct spred {
    int (*fn)(spred *p, ts_sv s, const ts_xnode *n, int k); /* k: row of the other arguments */
    ts_like_pat like;
    int compiled;       /* LIKE pattern compiled once */
    regex_t re;
    int has_re;
    uint8_t *table;     /* per dictionary code */
    int32_t ncodes;
    int null_const;     /* a constant NULL argument: every row is NULL */
};

static void spred_free(void *x)
{
    spred *p = x;
    if (!p)
        return;
    if (p->has_re)
        regfree(&p->re);
    free(p->table), free(p);
}

static int pred_like(spred *p, ts_sv s, const ts_xnode *n, int k)
{
    if (p->compiled)
        return ts_like_match(&p->like, s.p, (size_t)s.n);
    const ts_sv pat = n->args[1]->v.s[k];
    return ts_like(s.p, (size_t)s.n, pat.p, (size_t)pat.n, n->op == TS_X_ILIKE);
}

static int pred_regex(spred *p, ts_sv s, const ts_xnode *n, int k)
{
    (void)n, (void)k;
    /* matched in place: no copy, and a NUL byte inside a value is a character, not the end of the text (a
     * NUL-terminated copy made "ab\0x" match '^ab$') */
    return ts_regex_match(&p->re, s.p, (size_t)s.n);
}

static int pred_starts(spred *p, ts_sv s, const ts_xnode *n, int k)
{
    (void)p;
    const ts_sv x = n->args[1]->v.s[k];
    return x.n <= s.n && (x.n == 0 || memcmp(s.p, x.p, (size_t)x.n) == 0);
}

static int pred_contains(spred *p, ts_sv s, const ts_xnode *n, int k)
{
    (void)p;
    const ts_sv x = n->args[1]->v.s[k];
    return x.n == 0 || (x.n <= s.n && memmem(s.p, (size_t)s.n, x.p, (size_t)x.n) != NULL);
}

static ts_err eval_pred(ts_xnode *n, int64_t start, int m, const uint8_t *active)
{
    (void)start, (void)active;
    spred *p = n->aux;
    const ts_xnode *a = n->args[0];
    if (p->null_const) {
        memset(n->valid, 0, (size_t)m);
        return TS_OK;
    }
    for (int k = 0; k < m; k++)
        n->valid[k] = (uint8_t)all_valid(n, k);
    if (p->table) {
        for (int k = 0; k < m; k++)
            n->v.i[k] = a->v.i[k] >= 0 && a->v.i[k] < p->ncodes && p->table[a->v.i[k]];
        return TS_OK;
    }
    for (int k = 0; k < m; k++) {
        /* a regular expression with back-references can take milliseconds a row (backtracking): its rows are
         * cancellation points too, not only the vectors */
        if (p->has_re && !(k & 31))
            TS_TRY(ts_cancel_point());
        const int r = n->valid[k] ? p->fn(p, a->v.s[k], n, k) : 0;
        if (r < 0)
            TS_FAIL(TS_ERR_NOMEM, "%s: out of memory for a %lld-byte value", ts_xname(n), (long long)a->v.s[k].n);
        n->v.i[k] = r;
    }
    return TS_OK;
}

static ts_err bind_pred(ts_xnode *n)
{
    spred *p = calloc(1, sizeof *p);
    if (!p)
        TS_FAIL(TS_ERR_NOMEM, "%s: out of memory", ts_xname(n));
    n->aux = p, n->aux_free = spred_free;
    TS_TRY(ts_xneed_str(n, 1));
    const ts_xnode *x = n->args[1];
    p->null_const = x->is_const && !x->valid[0];
    switch (n->op) {
    case TS_X_LIKE: case TS_X_ILIKE:
        p->fn = pred_like;
        if (ts_xconst(x))
            ts_like_compile(x->v.s[0].p, (size_t)x->v.s[0].n, n->op == TS_X_ILIKE, &p->like), p->compiled = 1;
        break;
    case TS_X_REGEXP_MATCHES: {
        if (!x->is_const)
            TS_FAIL(TS_ERR_USAGE, "regexp_matches: argument 2 (the pattern) must be a constant");
        p->fn = pred_regex;
        if (!x->valid[0])
            break;
        char *pat = strndup(x->v.s[0].p, (size_t)x->v.s[0].n), big[200];
        if (!pat)
            TS_FAIL(TS_ERR_NOMEM, "regexp_matches: out of memory");
        if (ts_regex_check_size(pat, big, sizeof big) != 0) { /* before regcomp, which could take gigabytes */
            ts_err err = ts_error_raise(TS_ERR_USAGE, __FILE__, __LINE__, __func__,
                                        "regexp_matches: pattern '%.80s' is too large to compile: %s", pat, big);
            free(pat);
            return err;
        }
        const int rc = regcomp(&p->re, pat, REG_EXTENDED | REG_NOSUB);
        if (rc) {
            char why[128];
            regerror(rc, &p->re, why, sizeof why);
            ts_err err = ts_error_raise(TS_ERR_USAGE, __FILE__, __LINE__, __func__,
                                        "regexp_matches: bad pattern '%s': %s", pat, why);
            free(pat);
            return err;
        }
        free(pat);
        p->has_re = 1;
        break;
    }
    case TS_X_STARTS_WITH: p->fn = pred_starts; break;
    default: p->fn = pred_contains; break;
    }
    n->type = TS_XT_BOOL, n->eval = eval_pred;
    const ts_xnode *a = n->args[0];
    if (a->type == TS_XT_CODE && x->is_const && !p->null_const) { /* once per dictionary value */
        if (!(p->table = malloc((size_t)(a->dict->n ? a->dict->n : 1))))
            TS_FAIL(TS_ERR_NOMEM, "%s: out of memory for a dictionary of %d values", ts_xname(n), a->dict->n);
        p->ncodes = a->dict->n;
        for (int32_t c = 0; c < a->dict->n; c++) {
            const int r = p->fn(p, ts_xdict_sv(a->dict, c), n, 0);
            if (r < 0)
                TS_FAIL(TS_ERR_NOMEM, "%s: out of memory", ts_xname(n));
            p->table[c] = (uint8_t)r;
        }
        return TS_OK;
    }
    return ts_xneed_str(n, 0);
}

/* ---- binding ----------------------------------------------------------------------------------------------- */

ts_err ts_xbind_string(ts_xnode *n)
{
    switch (n->op) {
    case TS_X_CONCAT: case TS_X_CONCAT_FN:
        for (int i = 0; i < n->nargs; i++) /* anything concatenates as its text */
            TS_TRY(ts_xis_str(n->args[i]->type) || n->args[i]->type == TS_XT_NULL
                       ? ts_xneed_str(n, i)
                       : ts_xcoerce(n, i, TS_XT_STRING, 0, NULL));
        n->type = TS_XT_STRING, n->eval = eval_concat;
        return TS_OK;
    case TS_X_LIKE: case TS_X_ILIKE: case TS_X_REGEXP_MATCHES: case TS_X_STARTS_WITH: case TS_X_CONTAINS:
        if (!ts_xis_str(n->args[0]->type) && n->args[0]->type != TS_XT_NULL)
            return ts_xneed_str(n, 0); /* fails with the message */
        return bind_pred(n);
    default: break;
    }
    TS_TRY(ts_xneed_str(n, 0));
    n->type = TS_XT_STRING;
    switch (n->op) {
    case TS_X_UPPER: case TS_X_LOWER: n->eval = eval_case_fold; break;
    case TS_X_REVERSE: n->eval = eval_reverse; break;
    case TS_X_TRIM: case TS_X_LTRIM: case TS_X_RTRIM:
        if (n->nargs > 1)
            TS_TRY(ts_xneed_str(n, 1));
        n->eval = eval_trim;
        break;
    case TS_X_LENGTH: n->type = TS_XT_INT, n->eval = eval_length; break;
    case TS_X_STRPOS:
        TS_TRY(ts_xneed_str(n, 1));
        n->type = TS_XT_INT, n->eval = eval_strpos;
        break;
    case TS_X_SUBSTR:
        for (int i = 1; i < n->nargs; i++)
            TS_TRY(ts_xneed_int(n, i));
        n->eval = eval_substr;
        break;
    case TS_X_LEFT: case TS_X_RIGHT:
        TS_TRY(ts_xneed_int(n, 1));
        n->eval = eval_left_right;
        break;
    case TS_X_REPLACE:
        TS_TRY(ts_xneed_str(n, 1));
        TS_TRY(ts_xneed_str(n, 2));
        n->eval = eval_replace;
        break;
    default: TS_FAIL(TS_ERR_INTERNAL, "operator %d is not a string function", (int)n->op);
    }
    return TS_OK;
}
