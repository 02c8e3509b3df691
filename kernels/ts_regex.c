/* Parser (recursive descent mirroring glibc's regcomp for ERE, so that patterns mean what they meant under glibc),
 * tree with sizes, emission into a Pike-VM program, and the NFA simulation. See ts_regex.h. */
#include "ts_regex.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RE_DUP_MAX_GLIBC 32767 /* glibc reads counts up to this; Tessera refuses above TS_REGEX_MAX_REPEAT */

/* ---- the tree ------------------------------------------------------------------------------------------------ */

enum { N_EMPTY, N_BYTE, N_CLASS, N_ASSERT, N_CAT, N_ALT, N_REP };
enum { A_BOL, A_EOL, A_WORD_FIRST, A_WORD_LAST, A_WORD_DELIM, A_NOT_WORD_DELIM };

typedef struct node {
    uint8_t type, arg;         /* arg: the byte (N_BYTE) or the assertion (N_ASSERT) */
    int32_t cls;               /* N_CLASS: index of its bitmap */
    int32_t kid, last, next;   /* first and last child (N_CAT, N_ALT; N_REP: kid), next sibling */
    int32_t min, max;          /* N_REP: max -1 = unbounded */
    uint64_t size;             /* instructions it emits (at most TS_REGEX_MAX_PROG: checked on creation) */
} node;

#define EMPTY 0 /* the one N_EMPTY node */

typedef struct parser {
    const unsigned char *p;
    size_t len, i;
    node *nodes;
    int32_t nnodes, capnodes;
    uint64_t (*cls)[4];
    int32_t ncls, capcls;
    char *why;
    size_t cap;
} parser;

static int32_t fail(parser *ps, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int32_t fail(parser *ps, const char *fmt, ...)
{
    if (ps->why && ps->cap) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(ps->why, ps->cap, fmt, ap);
        va_end(ap);
    }
    return -1;
}

static int32_t too_big(parser *ps)
{
    return fail(ps, "it expands to more than %d instructions (use * or + instead of large counts, or nest fewer "
                "counted repetitions)", TS_REGEX_MAX_PROG);
}

static int32_t new_node(parser *ps, int type)
{
    if (ps->nnodes == ps->capnodes) {
        const int32_t cap = ps->capnodes ? 2 * ps->capnodes : 64;
        node *n = realloc(ps->nodes, (size_t)cap * sizeof *n);
        if (!n)
            return fail(ps, "out of memory");
        ps->nodes = n, ps->capnodes = cap;
    }
    node *n = &ps->nodes[ps->nnodes];
    memset(n, 0, sizeof *n);
    n->type = (uint8_t)type, n->kid = n->last = n->next = -1, n->size = type == N_EMPTY ? 0 : 1;
    return ps->nnodes++;
}

static int32_t new_class(parser *ps, const uint64_t set[4])
{
    if (ps->ncls == ps->capcls) {
        const int32_t cap = ps->capcls ? 2 * ps->capcls : 8;
        uint64_t(*c)[4] = realloc(ps->cls, (size_t)cap * sizeof *c);
        if (!c)
            return fail(ps, "out of memory");
        ps->cls = c, ps->capcls = cap;
    }
    const int32_t t = new_node(ps, N_CLASS);
    if (t < 0)
        return -1;
    memcpy(ps->cls[ps->ncls], set, sizeof *ps->cls);
    ps->nodes[t].cls = ps->ncls++;
    return t;
}

static int32_t leaf(parser *ps, int type, unsigned arg)
{
    const int32_t t = new_node(ps, type);
    if (t >= 0)
        ps->nodes[t].arg = (uint8_t)arg;
    return t;
}

/* Appends kid to the list of a N_CAT or N_ALT node (whose size is then recomputed). */
static int32_t add_kid(parser *ps, int32_t list, int32_t kid)
{
    if (kid == EMPTY && (kid = new_node(ps, N_EMPTY)) < 0) /* an empty alternative: the shared node has no next */
        return -1;
    node *l = &ps->nodes[list];
    if (l->kid < 0)
        l->kid = kid, l->size = 0;
    else
        ps->nodes[l->last].next = kid, l->size += l->type == N_ALT ? 2 : 0; /* a split and a jump per '|' */
    l->last = kid, l->size += ps->nodes[kid].size;
    return l->size > TS_REGEX_MAX_PROG ? too_big(ps) : list;
}

/* ---- byte classes -------------------------------------------------------------------------------------------- */

static inline void set_bit(uint64_t s[4], unsigned c) { s[c >> 6] |= 1ull << (c & 63); }
static inline int has_bit(const uint64_t s[4], unsigned c) { return (int)(s[c >> 6] >> (c & 63) & 1); }

static int is_word(unsigned c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

/* The C locale's classes, as glibc's ctype tables give them for bytes 0..255 (nothing above 127). */
static int in_named_class(int k, unsigned c)
{
    const int upper = c >= 'A' && c <= 'Z', lower = c >= 'a' && c <= 'z', digit = c >= '0' && c <= '9';
    const int print = c >= 32 && c < 127;
    switch (k) {
    case 0: return upper || lower;                                          /* alpha */
    case 1: return digit;                                                   /* digit */
    case 2: return upper || lower || digit;                                 /* alnum */
    case 3: return upper;                                                   /* upper */
    case 4: return lower;                                                   /* lower */
    case 5: return c == ' ' || (c >= '\t' && c <= '\r');                    /* space */
    case 6: return c == ' ' || c == '\t';                                   /* blank */
    case 7: return print && c != ' ' && !upper && !lower && !digit;         /* punct */
    case 8: return print;                                                   /* print */
    case 9: return print && c != ' ';                                       /* graph */
    case 10: return c < 32 || c == 127;                                     /* cntrl */
    default: return digit || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); /* xdigit */
    }
}

static const char *const class_names[12] = {"alpha", "digit", "alnum", "upper", "lower", "space",
                                            "blank", "punct", "print", "graph", "cntrl", "xdigit"};

static int class_index(const unsigned char *name, size_t n)
{
    for (int k = 0; k < 12; k++)
        if (strlen(class_names[k]) == n && memcmp(class_names[k], name, n) == 0)
            return k;
    return -1;
}

static void add_named_class(uint64_t s[4], int k)
{
    for (unsigned c = 0; c < 256; c++)
        if (in_named_class(k, c))
            set_bit(s, c);
}

/* \w \W \s \S */
static int32_t escape_class(parser *ps, unsigned char e)
{
    uint64_t s[4] = {0};
    for (unsigned c = 0; c < 256; c++)
        if (e == 'w' || e == 'W' ? is_word(c) : in_named_class(5, c))
            set_bit(s, c);
    if (e == 'W' || e == 'S')
        for (int w = 0; w < 4; w++)
            s[w] = ~s[w];
    return new_class(ps, s);
}

/* One element of a bracket expression: a byte, or a [:class:], [=x=], [.x.] with its name. */
typedef struct belem {
    int kind; /* 0 byte, ':' class, '=' equivalence class, '.' collating symbol */
    unsigned char c;
    const unsigned char *name;
    size_t nlen;
} belem;

static int at_symbol(const parser *ps)
{
    return ps->i + 1 < ps->len && ps->p[ps->i] == '[' &&
           (ps->p[ps->i + 1] == '.' || ps->p[ps->i + 1] == '=' || ps->p[ps->i + 1] == ':');
}

/* Reads "[:name:]" (or . =) at ps->i as glibc's parse_bracket_symbol does: the name ends at the delimiter
 * followed by ']', is at most 31 bytes, and the pattern must go on after it. */
static int read_symbol(parser *ps, belem *e)
{
    const unsigned char delim = ps->p[ps->i + 1];
    ps->i += 2;
    e->kind = delim, e->name = ps->p + ps->i;
    for (size_t k = 0;; k++) {
        if (k >= 32 || ps->i + 1 >= ps->len)
            return fail(ps, "unmatched '[' (or a bracket symbol '[%c' without its '%c]')", delim, delim);
        if (ps->p[ps->i] == delim && ps->p[ps->i + 1] == ']') {
            e->nlen = k, ps->i += 2;
            return 0;
        }
        ps->i++;
    }
}

/* The byte of a [.x.] or [=x=] (one byte only in the C locale), or of a plain element; -1 otherwise. */
static int elem_byte(parser *ps, const belem *e)
{
    if (e->kind == 0)
        return e->c;
    if (e->nlen == 1)
        return e->name[0];
    return fail(ps, "invalid %s '[%c%.*s%c]' (only one character)",
                e->kind == '.' ? "collating element" : "equivalence class", e->kind, (int)e->nlen,
                (const char *)e->name, e->kind);
}

/* A bracket expression at ps->i == '[', as glibc's parse_bracket_exp reads it (ERE: no escapes inside). */
static int32_t parse_bracket(parser *ps)
{
    const size_t open = ps->i++;
    uint64_t set[4] = {0};
    int neg = 0, first = 1, force_char = 0;
#define UNMATCHED() fail(ps, "unmatched '[' at offset %zu", open)
    if (ps->i < ps->len && ps->p[ps->i] == '^')
        neg = 1, ps->i++;
    if (ps->i >= ps->len)
        return UNMATCHED();
    force_char = ps->p[ps->i] == ']'; /* a first ']' is a literal */
    for (;;) {
        belem a = {0}, b = {0};
        if (!force_char && at_symbol(ps)) {
            if (read_symbol(ps, &a) < 0)
                return -1;
        } else {
            a.c = ps->p[ps->i++];
            if (a.c == '-' && !first && !force_char && !(ps->i < ps->len && ps->p[ps->i] == ']'))
                return fail(ps, "invalid range in a bracket expression ('-' after a range or a class must be "
                            "last)");
        }
        first = force_char = 0;
        int range = 0;
        if (a.kind != ':' && a.kind != '=') {
            if (ps->i >= ps->len)
                return UNMATCHED();
            if (ps->p[ps->i] == '-') {
                if (ps->i + 1 >= ps->len)
                    return UNMATCHED();
                if (ps->p[ps->i + 1] == ']')
                    force_char = 1; /* a last '-' is a literal: read it in the next round */
                else
                    ps->i++, range = 1;
            }
        }
        if (range) {
            if (at_symbol(ps)) {
                if (read_symbol(ps, &b) < 0)
                    return -1;
            } else {
                b.c = ps->p[ps->i++];
            }
            if (a.kind == ':' || b.kind == ':' || b.kind == '=')
                return fail(ps, "invalid range end: a character class or equivalence class bounds a range");
            const int lo = elem_byte(ps, &a), hi = lo < 0 ? -1 : elem_byte(ps, &b);
            if (lo < 0 || hi < 0)
                return -1;
            if (lo > hi)
                return fail(ps, "invalid range end (%c-%c: the end is before the start)", lo, hi);
            for (int c = lo; c <= hi; c++)
                set_bit(set, (unsigned)c);
        } else if (a.kind == ':') {
            const int k = class_index(a.name, a.nlen);
            if (k < 0)
                return fail(ps, "unknown character class '[:%.*s:]'", (int)a.nlen, (const char *)a.name);
            add_named_class(set, k);
        } else {
            const int c = elem_byte(ps, &a);
            if (c < 0)
                return -1;
            set_bit(set, (unsigned)c);
        }
        if (ps->i >= ps->len)
            return UNMATCHED();
        if (!force_char && ps->p[ps->i] == ']')
            break;
    }
#undef UNMATCHED
    ps->i++;
    if (neg)
        for (int w = 0; w < 4; w++)
            set[w] = ~set[w];
    return new_class(ps, set);
}

/* ---- counted repetitions ------------------------------------------------------------------------------------- */

/* glibc's fetch_number: tokens up to an unescaped '}' or a ',' (escaped or not); -1 without digits, -2 when
 * something else came (or the end: *term = 0), else the number (capped above glibc's maximum). */
static long fetch_number(parser *ps, int *term)
{
    long num = -1;
    for (;;) {
        if (ps->i >= ps->len) {
            *term = 0;
            return -2;
        }
        unsigned char c = ps->p[ps->i];
        int digit;
        if (c == '\\' && ps->i + 1 < ps->len) {
            c = ps->p[ps->i + 1], ps->i += 2;
            digit = c == '0'; /* glibc reads \0 as the character '0'; \1..\9 are back-references */
        } else {
            ps->i++;
            if (c == '}') {
                *term = '}';
                return num;
            }
            digit = c >= '0' && c <= '9';
        }
        if (c == ',') {
            *term = ',';
            return num;
        }
        num = !digit || num == -2 ? -2 : num == -1 ? c - '0' : (num * 10 + c - '0' > RE_DUP_MAX_GLIBC ?
                                                                  RE_DUP_MAX_GLIBC + 1 : num * 10 + c - '0');
    }
}

/* An interval at ps->i == '{' into *m, *n (-1: unbounded). */
static int parse_interval(parser *ps, long *m, long *n)
{
    const size_t open = ps->i++;
    int term;
    long start = fetch_number(ps, &term), end = 0;
    if (start == -1) {
        if (term != ',')
            return fail(ps, "invalid repetition '{}' (a count is needed)");
        start = 0; /* glibc reads {,n} as {0,n} */
    }
    if (start != -2)
        end = term == '}' ? start : fetch_number(ps, &term);
    if (start == -2 || end == -2) {
        if (term == 0)
            return fail(ps, "unmatched '{' at offset %zu", open);
        return fail(ps, "invalid repetition '%.*s' (expected {m}, {m,}, {m,n} or {,n})", (int)(ps->i - open),
                    (const char *)ps->p + open);
    }
    if (term != '}')
        return fail(ps, "invalid repetition '%.*s' (expected {m}, {m,}, {m,n} or {,n})", (int)(ps->i - open),
                    (const char *)ps->p + open);
    if (end != -1 && start > end)
        return fail(ps, "invalid repetition '%.*s' (its minimum is above its maximum)", (int)(ps->i - open),
                    (const char *)ps->p + open);
    if (start > TS_REGEX_MAX_REPEAT || end > TS_REGEX_MAX_REPEAT)
        return fail(ps, "the repetition %.*s exceeds %d", (int)(ps->i - open), (const char *)ps->p + open,
                    TS_REGEX_MAX_REPEAT);
    *m = start, *n = end;
    return 0;
}

static uint64_t rep_size(uint64_t s, long m, long n)
{
    if (n < 0)
        return m == 0 ? s + 2 : (uint64_t)m * s + 1;
    return (uint64_t)m * s + (uint64_t)(n - m) * (s + 1);
}

/* t{m,n}. Stacked *, + and ? fold into one (r+? is r*, r?? is r?), {1} is t itself and {0} empty; every other
 * count at least doubles the size, so chains of them stay short under the program bound (and so does the
 * emitter's recursion). */
static int32_t repeat(parser *ps, int32_t t, long m, long n)
{
    if ((m == 0 && n == 0) || t == EMPTY)
        return EMPTY;
    if (m == 1 && n == 1)
        return t;
    node *k = &ps->nodes[t];
    const int simple = m <= 1 && (n == 1 || n == -1);
    if (simple && k->type == N_REP && k->min <= 1 && (k->max == 1 || k->max == -1)) {
        const int plus = m == 1 && k->min == 1, quest = n == 1 && k->max == 1;
        const uint64_t inner = k->size - (k->max == -1 && k->min == 0 ? 2 : 1);
        k->min = plus ? 1 : 0, k->max = quest ? 1 : -1;
        k->size = rep_size(inner, k->min, k->max);
        return t;
    }
    const uint64_t size = rep_size(k->size, m, n);
    if (size > TS_REGEX_MAX_PROG)
        return too_big(ps);
    const int32_t r = new_node(ps, N_REP);
    if (r < 0)
        return -1;
    node *rn = &ps->nodes[r];
    rn->kid = t, rn->min = (int32_t)m, rn->max = (int32_t)n, rn->size = size;
    return r;
}

/* ---- the grammar (glibc's parse_reg_exp, parse_branch, parse_expression) -------------------------------------- */

static int32_t parse_regexp(parser *ps, int nest);

static int32_t parse_expression(parser *ps, int nest)
{
    const unsigned char c = ps->p[ps->i];
    int32_t t;
    switch (c) {
    case '*': case '+': case '?': case '{':
        return fail(ps, "'%c' at offset %zu has nothing before it to repeat", c, ps->i);
    case '(':
        if (nest >= TS_REGEX_MAX_DEPTH)
            return fail(ps, "it nests groups more than %d deep", TS_REGEX_MAX_DEPTH);
        ps->i++;
        if (ps->i < ps->len && ps->p[ps->i] == ')') {
            ps->i++, t = EMPTY;
            break;
        }
        {
            const size_t open = ps->i - 1;
            if ((t = parse_regexp(ps, nest + 1)) < 0)
                return -1;
            if (ps->i >= ps->len)
                return fail(ps, "unmatched '(' at offset %zu", open);
            ps->i++; /* the ')' */
        }
        break;
    case '[':
        if ((t = parse_bracket(ps)) < 0)
            return -1;
        break;
    case '.': {
        uint64_t s[4] = {~1ull, ~0ull, ~0ull, ~0ull}; /* not NUL (glibc's RE_DOT_NOT_NULL) */
        if ((t = new_class(ps, s)) < 0)
            return -1;
        ps->i++;
        break;
    }
    case '^': case '$': /* an anchor takes no quantifier: "^*" is an error, as in glibc */
        ps->i++;
        return leaf(ps, N_ASSERT, c == '^' ? A_BOL : A_EOL);
    case '\\': {
        if (ps->i + 1 >= ps->len)
            return fail(ps, "trailing backslash");
        const unsigned char e = ps->p[ps->i + 1];
        ps->i += 2;
        switch (e) {
        case '1': case '2': case '3': case '4': case '5': case '6': case '7': case '8': case '9':
            return fail(ps, "back-references are not supported (\\%c): they are not regular", e);
        case '<': return leaf(ps, N_ASSERT, A_WORD_FIRST);
        case '>': return leaf(ps, N_ASSERT, A_WORD_LAST);
        case 'b': return leaf(ps, N_ASSERT, A_WORD_DELIM);
        case 'B': return leaf(ps, N_ASSERT, A_NOT_WORD_DELIM);
        case '`': return leaf(ps, N_ASSERT, A_BOL);
        case '\'': return leaf(ps, N_ASSERT, A_EOL);
        case 'w': case 'W': case 's': case 'S':
            if ((t = escape_class(ps, e)) < 0)
                return -1;
            break;
        default:
            if ((t = leaf(ps, N_BYTE, e)) < 0)
                return -1;
        }
        break;
    }
    default: /* includes a ')' outside any group and '}' */
        if ((t = leaf(ps, N_BYTE, c)) < 0)
            return -1;
        ps->i++;
    }
    while (ps->i < ps->len) {
        const unsigned char q = ps->p[ps->i];
        long m = 1, n = 1;
        if (q == '*' || q == '+' || q == '?')
            ps->i++, m = q == '+', n = q == '?' ? 1 : -1;
        else if (q == '{') {
            if (parse_interval(ps, &m, &n) < 0)
                return -1;
        } else
            break;
        if ((t = repeat(ps, t, m, n)) < 0)
            return -1;
    }
    return t;
}

static int ends_branch(const parser *ps, int nest)
{
    return ps->i >= ps->len || ps->p[ps->i] == '|' || (nest > 0 && ps->p[ps->i] == ')');
}

static int32_t parse_branch(parser *ps, int nest)
{
    int32_t first = EMPTY, cat = -1;
    while (!ends_branch(ps, nest)) {
        const int32_t e = parse_expression(ps, nest);
        if (e < 0)
            return -1;
        if (e == EMPTY)
            continue;
        if (first == EMPTY) {
            first = e;
            continue;
        }
        if (cat < 0 && ((cat = new_node(ps, N_CAT)) < 0 || add_kid(ps, cat, first) < 0))
            return -1;
        if (add_kid(ps, cat, e) < 0)
            return -1;
    }
    return cat >= 0 ? cat : first;
}

static int32_t parse_regexp(parser *ps, int nest)
{
    const int32_t first = parse_branch(ps, nest);
    int32_t alt = -1;
    if (first < 0)
        return -1;
    while (ps->i < ps->len && ps->p[ps->i] == '|') {
        ps->i++;
        const int32_t b = ends_branch(ps, nest) ? EMPTY : parse_branch(ps, nest);
        if (b < 0)
            return -1;
        if (alt < 0 && ((alt = new_node(ps, N_ALT)) < 0 || add_kid(ps, alt, first) < 0))
            return -1;
        if (add_kid(ps, alt, b) < 0)
            return -1;
    }
    return alt >= 0 ? alt : first;
}

/* ---- the program --------------------------------------------------------------------------------------------- */

enum { I_BYTE, I_CLASS, I_SPLIT, I_JMP, I_ASSERT, I_MATCH };

typedef struct inst {
    uint8_t op, arg; /* I_BYTE: the byte; I_ASSERT: the assertion */
    int32_t x, y;    /* I_CLASS: bitmap (x); I_JMP: target (x); I_SPLIT: both targets */
} inst;

struct ts_regex {
    inst *prog;
    int32_t nprog;
    uint64_t (*cls)[4];
    int whole;
    int anchored;          /* SEARCH mode, the program starts with '^': no thread starts after offset 0 */
    int skip;              /* 0: none; 1: threads start only at first_byte (memchr); 2: at a byte of first_set */
    unsigned char first_byte;
    uint64_t first_set[4];
    /* scratch of ts_regex_match */
    int32_t *cur, *nxt, *stack;
    uint32_t *mark, gen;
};

static void emit(const parser *ps, ts_regex *re, int32_t t);

static inst *put(ts_regex *re, int op, unsigned arg, int32_t x, int32_t y)
{
    inst *in = &re->prog[re->nprog++];
    in->op = (uint8_t)op, in->arg = (uint8_t)arg, in->x = x, in->y = y;
    return in;
}

/* Recursion follows the tree's depth: groups (at most TS_REGEX_MAX_DEPTH) and stacked counts (each at least
 * doubles the size, so there are few of them); lists (concatenation, alternation) are loops. */
static void emit(const parser *ps, ts_regex *re, int32_t t)
{
    const node *n = &ps->nodes[t];
    switch (n->type) {
    case N_EMPTY: return;
    case N_BYTE: put(re, I_BYTE, n->arg, 0, 0); return;
    case N_CLASS: put(re, I_CLASS, 0, n->cls, 0); return;
    case N_ASSERT: put(re, I_ASSERT, n->arg, 0, 0); return;
    case N_CAT:
        for (int32_t k = n->kid; k >= 0; k = ps->nodes[k].next)
            emit(ps, re, k);
        return;
    case N_ALT: {
        int32_t jumps = -1; /* chain of the jumps to patch, linked through their x */
        for (int32_t k = n->kid; k >= 0; k = ps->nodes[k].next) {
            if (ps->nodes[k].next < 0) {
                emit(ps, re, k);
                break;
            }
            const int32_t split = re->nprog;
            put(re, I_SPLIT, 0, split + 1, 0);
            emit(ps, re, k);
            put(re, I_JMP, 0, jumps, 0);
            jumps = re->nprog - 1;
            re->prog[split].y = re->nprog;
        }
        for (int32_t j = jumps, next; j >= 0; j = next)
            next = re->prog[j].x, re->prog[j].x = re->nprog;
        return;
    }
    default: break;
    }
    /* N_REP */
    if (n->max < 0 && n->min == 0) { /* L: split body, out; body; jmp L; out: */
        const int32_t split = re->nprog;
        put(re, I_SPLIT, 0, split + 1, 0);
        emit(ps, re, n->kid);
        put(re, I_JMP, 0, split, 0);
        re->prog[split].y = re->nprog;
        return;
    }
    if (n->max < 0) { /* min - 1 copies, then L: body; split L, out */
        for (int32_t k = 1; k < n->min; k++)
            emit(ps, re, n->kid);
        const int32_t body = re->nprog;
        emit(ps, re, n->kid);
        put(re, I_SPLIT, 0, body, re->nprog + 1);
        return;
    }
    for (int32_t k = 0; k < n->min; k++)
        emit(ps, re, n->kid);
    int32_t splits = -1; /* (body (body ...)?)?: every optional copy may skip to the end */
    for (int32_t k = n->min; k < n->max; k++) {
        put(re, I_SPLIT, 0, re->nprog + 1, splits);
        splits = re->nprog - 1;
        emit(ps, re, n->kid);
    }
    for (int32_t j = splits, next; j >= 0; j = next)
        next = re->prog[j].y, re->prog[j].y = re->nprog;
}

static inline void new_gen(ts_regex *re)
{
    if (++re->gen == 0) { /* after 2^32 positions: start the marks again */
        memset(re->mark, 0, (size_t)re->nprog * sizeof *re->mark);
        re->gen = 1;
    }
}

static int assert_holds(int a, const unsigned char *s, size_t n, size_t pos)
{
    const int before = pos > 0 && is_word(s[pos - 1]), after = pos < n && is_word(s[pos]);
    switch (a) {
    case A_BOL: return pos == 0;
    case A_EOL: return pos == n;
    case A_WORD_FIRST: return !before && after;
    case A_WORD_LAST: return before && !after;
    case A_WORD_DELIM: return before != after;
    default: return before == after;
    }
}

/* Adds to list the consuming instructions reachable from pc at offset pos without consuming (explicit stack;
 * each instruction visited once per offset thanks to the marks). 1 when the match instruction is reachable. */
static int add_thread(ts_regex *re, int32_t *list, int32_t *nlist, int32_t pc, const unsigned char *s, size_t n,
                      size_t pos)
{
    const uint32_t g = re->gen;
    int32_t *st = re->stack, sp = 0;
    if (re->mark[pc] == g)
        return 0;
    re->mark[pc] = g, st[sp++] = pc;
#define PUSH(target)                                                                                          \
    do {                                                                                                      \
        const int32_t to_ = (target);                                                                         \
        if (re->mark[to_] != g)                                                                               \
            re->mark[to_] = g, st[sp++] = to_;                                                                \
    } while (0)
    while (sp > 0) {
        pc = st[--sp];
        const inst *in = &re->prog[pc];
        switch (in->op) {
        case I_BYTE: case I_CLASS: list[(*nlist)++] = pc; break;
        case I_MATCH: return 1;
        case I_JMP: PUSH(in->x); break;
        case I_SPLIT: PUSH(in->y); PUSH(in->x); break;
        default:
            if (assert_holds(in->arg, s, n, pos))
                PUSH(pc + 1);
        }
    }
#undef PUSH
    return 0;
}

/* The first offset >= from where a thread can start (re->skip), or n. */
static size_t next_start(const ts_regex *re, const unsigned char *s, size_t n, size_t from)
{
    if (from >= n)
        return n;
    if (re->skip == 1) {
        const unsigned char *hit = memchr(s + from, re->first_byte, n - from);
        return hit ? (size_t)(hit - s) : n;
    }
    while (from < n && !has_bit(re->first_set, s[from]))
        from++;
    return from;
}

/* What threads starting at pc 0 can consume first: when that closure holds no assertion and no match, a search
 * skips the offsets whose byte is not among them. */
static void plan_skip(ts_regex *re)
{
    int saw_other = 0;
    new_gen(re);
    int32_t *st = re->stack, sp = 0;
    re->mark[0] = re->gen, st[sp++] = 0;
    while (sp > 0 && !saw_other) {
        const inst *in = &re->prog[st[--sp]];
        int32_t to[2], nto = 0;
        switch (in->op) {
        case I_BYTE: set_bit(re->first_set, in->arg); break;
        case I_CLASS:
            for (int w = 0; w < 4; w++)
                re->first_set[w] |= re->cls[in->x][w];
            break;
        case I_JMP: to[nto++] = in->x; break;
        case I_SPLIT: to[nto++] = in->x, to[nto++] = in->y; break;
        default: saw_other = 1;
        }
        for (int k = 0; k < nto; k++)
            if (re->mark[to[k]] != re->gen)
                re->mark[to[k]] = re->gen, st[sp++] = to[k];
    }
    int count = 0;
    for (unsigned c = 0; c < 256; c++)
        count += has_bit(re->first_set, c);
    if (saw_other || count == 256)
        return;
    re->skip = count == 1 ? 1 : 2;
    for (unsigned c = 0; c < 256 && count == 1; c++)
        if (has_bit(re->first_set, c))
            re->first_byte = (unsigned char)c;
}

int ts_regex_compile(const char *pat, size_t len, int mode, ts_regex **out, char *why, size_t cap)
{
    parser ps = {.p = (const unsigned char *)pat, .len = len, .why = why, .cap = cap};
    *out = NULL;
    if (len > TS_REGEX_MAX_PATTERN)
        return fail(&ps, "the pattern is longer than %d bytes", TS_REGEX_MAX_PATTERN);
    int32_t root = new_node(&ps, N_EMPTY); /* EMPTY */
    if (root >= 0)
        root = parse_regexp(&ps, 0);
    /* at depth 0 a ')' is a literal and every branch runs to the end */
    const uint64_t total = root < 0 ? 0 : ps.nodes[root].size + 1 + (mode == TS_REGEX_WHOLE);
    ts_regex *re = NULL;
    if (root >= 0 && ps.nodes[root].size + 2 > TS_REGEX_MAX_PROG) /* room for both modes: they accept alike */
        root = too_big(&ps);
    if (root >= 0) {
        const size_t np = (size_t)total;
        re = calloc(1, sizeof *re);
        if (re) {
            re->prog = malloc(np * sizeof *re->prog);
            re->cls = malloc((size_t)(ps.ncls ? ps.ncls : 1) * sizeof *re->cls);
            re->cur = malloc(np * sizeof *re->cur), re->nxt = malloc(np * sizeof *re->nxt);
            re->stack = malloc(np * sizeof *re->stack), re->mark = calloc(np, sizeof *re->mark);
        }
        if (!re || !re->prog || !re->cls || !re->cur || !re->nxt || !re->stack || !re->mark) {
            ts_regex_free(re), re = NULL;
            root = fail(&ps, "out of memory");
        }
    }
    if (root >= 0) {
        if (ps.ncls)
            memcpy(re->cls, ps.cls, (size_t)ps.ncls * sizeof *re->cls);
        re->whole = mode == TS_REGEX_WHOLE;
        emit(&ps, re, root);
        if (re->whole)
            put(re, I_ASSERT, A_EOL, 0, 0);
        put(re, I_MATCH, 0, 0, 0);
        if ((uint64_t)re->nprog != total) /* the sizes and the emitter disagree: a bug, never a wrong answer */
            abort();
        re->anchored = !re->whole && re->prog[0].op == I_ASSERT && re->prog[0].arg == A_BOL;
        if (!re->whole && !re->anchored)
            plan_skip(re);
    }
    free(ps.nodes), free(ps.cls);
    if (root < 0)
        return -1;
    *out = re;
    return 0;
}

int ts_regex_match(ts_regex *re, const char *text, size_t n)
{
    const unsigned char *s = (const unsigned char *)text;
    const int restart = !re->whole && !re->anchored; /* a thread starts at every offset */
    int32_t *cl = re->cur, *nl = re->nxt, nc = 0;
    size_t i = re->skip ? next_start(re, s, n, 0) : 0;
    if (re->skip && i == n)
        return 0; /* no thread can start, and the empty text is not a match (the closure has no match) */
    new_gen(re);
    if (add_thread(re, cl, &nc, 0, s, n, i))
        return 1;
    for (; i < n; i++) {
        const unsigned c = s[i];
        int32_t nn = 0;
        new_gen(re);
        for (int32_t k = 0; k < nc; k++) {
            const inst *in = &re->prog[cl[k]];
            if ((in->op == I_BYTE ? in->arg == c : has_bit(re->cls[in->x], c)) &&
                add_thread(re, nl, &nn, cl[k] + 1, s, n, i + 1))
                return 1;
        }
        if (restart) {
            if (nn == 0 && re->skip) { /* only a new start can match: jump to the next place one can begin */
                const size_t j = next_start(re, s, n, i + 1);
                if (j >= n)
                    return 0;
                i = j - 1;
                new_gen(re);
            }
            if (add_thread(re, nl, &nn, 0, s, n, i + 1))
                return 1;
        } else if (nn == 0) {
            return 0; /* no thread alive */
        }
        int32_t *tmp = cl;
        cl = nl, nl = tmp, nc = nn;
    }
    return 0;
}

size_t ts_regex_program_size(const ts_regex *re) { return re ? (size_t)re->nprog : 0; }

void ts_regex_free(ts_regex *re)
{
    if (!re)
        return;
    free(re->prog), free(re->cls), free(re->cur), free(re->nxt), free(re->stack), free(re->mark);
    free(re);
}
