#include "ts_regex.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef REG_STARTEND
#error "ts_regex_match needs regexec's REG_STARTEND (glibc, musl, the BSDs and macOS have it)"
#endif
#if defined(__SANITIZE_ADDRESS__)
#define TS_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TS_ASAN 1
#endif
#endif

#define MAX_DEPTH 256 /* deeper nesting is refused too (regcomp recurses on it) */

typedef struct frame {
    uint64_t total; /* completed alternatives, and one per '|' */
    uint64_t cur;   /* the concatenation being built */
    uint64_t last;  /* size of its last piece (what a quantifier applies to) */
    int has_last;
} frame;

/* Index past the bracket expression starting at p[i] == '[', or 0 when it is not closed. */
static size_t bracket_end(const char *p, size_t i)
{
    size_t j = i + 1;
    if (p[j] == '^')
        j++;
    if (p[j] == ']')
        j++;
    while (p[j] && p[j] != ']') {
        if (p[j] == '[' && (p[j + 1] == ':' || p[j + 1] == '.' || p[j + 1] == '=')) {
            const char close[3] = {p[j + 1], ']', '\0'};
            const char *e = strstr(p + j + 2, close);
            if (!e)
                return 0;
            j = (size_t)(e - p) + 2;
        } else {
            j++;
        }
    }
    return p[j] == ']' ? j + 1 : 0;
}

/* Decimal digits at p[j] into *v (saturating at 10^6); returns the index past them. */
static size_t number(const char *p, size_t j, unsigned long *v)
{
    *v = 0;
    for (; p[j] >= '0' && p[j] <= '9'; j++)
        *v = *v < 1000000 ? *v * 10 + (unsigned long)(p[j] - '0') : *v;
    return j;
}

/* Parses "{m}", "{m,}", "{m,n}" or glibc's "{,n}" (taken as "{0,n}") at p[i]; returns the index past '}' or 0
 * when it is not an interval. */
static size_t interval(const char *p, size_t i, unsigned long *m, unsigned long *n, int *open)
{
    size_t j = i + 1;
    const int digit = p[j] >= '0' && p[j] <= '9';
    if (!digit && p[j] != ',')
        return 0;
    j = digit ? number(p, j, m) : (*m = 0, j);
    *n = *m, *open = 0;
    if (p[j] == ',') {
        j++;
        if (p[j] >= '0' && p[j] <= '9')
            j = number(p, j, n);
        else
            *open = 1;
    }
    return p[j] == '}' ? j + 1 : 0;
}

static int too_big(uint64_t v, char *why, size_t cap)
{
    if (v <= TS_REGEX_MAX_SIZE)
        return 0;
    snprintf(why, cap, "its repetitions expand to more than %d elements (use * or + instead of large counts, or "
             "nest fewer counted repetitions)", TS_REGEX_MAX_SIZE);
    return 1;
}

int ts_regex_check_size(const char *p, char *why, size_t cap)
{
    frame st[MAX_DEPTH];
    int depth = 0;
    st[0] = (frame){0};
    for (size_t i = 0; p[i];) {
        frame *f = &st[depth];
        uint64_t piece = 1;
        size_t next = i + 1;
        unsigned long m, n;
        int open;
        switch (p[i]) {
        case '\\':
            next = p[i + 1] ? i + 2 : i + 1;
            break;
        case '[':
            next = bracket_end(p, i);
            if (!next)
                return 0; /* regcomp reports the unclosed bracket */
            break;
        case '(':
            if (depth + 1 == MAX_DEPTH) {
                snprintf(why, cap, "it nests groups more than %d deep", MAX_DEPTH - 1);
                return -1;
            }
            st[++depth] = (frame){0};
            i = next;
            continue;
        case ')':
            if (depth == 0)
                break; /* a literal ')' */
            piece = f->total + f->cur + 1;
            depth--;
            break;
        case '|':
            f->total += f->cur + 1, f->cur = 0, f->has_last = 0;
            if (too_big(f->total, why, cap))
                return -1;
            i = next;
            continue;
        case '*':
        case '+':
        case '?':
            if (!f->has_last)
                break; /* nothing to repeat: regcomp decides */
            f->cur += 1, f->last += 1;
            if (too_big(f->cur, why, cap))
                return -1;
            i = next;
            continue;
        case '{':
            if (!f->has_last || !(next = interval(p, i, &m, &n, &open))) {
                next = i + 1; /* a literal '{' */
                break;
            }
            if (m > TS_REGEX_MAX_REPEAT || n > TS_REGEX_MAX_REPEAT) {
                snprintf(why, cap, "the repetition %.*s exceeds %d", (int)(next - i), p + i, TS_REGEX_MAX_REPEAT);
                return -1;
            }
            {
                const uint64_t r = open ? (m + 1) * f->last + 1 : n >= m ? n * f->last + (n - m) : m * f->last;
                f->cur = f->cur - f->last + r, f->last = r;
            }
            if (too_big(f->cur, why, cap))
                return -1;
            i = next;
            continue;
        default: break;
        }
        f = &st[depth];
        f->cur += piece, f->last = piece, f->has_last = 1;
        if (too_big(f->cur, why, cap))
            return -1;
        i = next;
    }
    uint64_t total = 0;
    for (int d = depth; d >= 0; d--)
        total += st[d].total + st[d].cur;
    return too_big(total, why, cap) ? -1 : 0;
}

int ts_regex_match(const regex_t *re, const char *s, size_t n)
{
#ifdef TS_ASAN
    char small[4096], *copy = n < sizeof small ? small : malloc(n + 1);
    if (!copy)
        return -1;
    if (n)
        memcpy(copy, s, n);
    copy[n] = '\0';
    s = copy;
#endif
    regmatch_t m = {.rm_so = 0, .rm_eo = (regoff_t)n};
    const int hit = regexec(re, n ? s : "", 1, &m, REG_STARTEND) == 0;
#ifdef TS_ASAN
    if (copy != small)
        free(copy);
#endif
    return hit;
}
