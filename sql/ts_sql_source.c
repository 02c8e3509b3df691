/* Script memory (arena), located error messages, "did you mean" matching and ${param} substitution. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ts_sql_lex.h"
#include "ts_sql_parse.h"

/* ---- arena ---------------------------------------------------------------------------------------------- */

#define ARENA_ALIGN 16
/* Fixed 64 KiB chunks come from the heap and reuse pages already touched (e.g. by the token array); bigger,
 * mmap'ed chunks were measured slower because every page of them faults. */
#define ARENA_CHUNK ((size_t)64 << 10)
#define ARENA_BIG (ARENA_CHUNK / 4)

typedef struct chunk {
    struct chunk *next;
    size_t used, cap;
} chunk;

/* Chunk payloads start at this offset, so they keep calloc's 16-byte alignment. */
#define CHUNK_HDR ((sizeof(chunk) + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1))

struct ts_sql_arena {
    chunk *head;
};

static chunk *chunk_new(size_t cap)
{
    chunk *c = calloc(1, CHUNK_HDR + cap);
    if (c)
        c->cap = cap;
    return c;
}

static void *arena_alloc(ts_sql_arena *a, size_t size)
{
    if (size > SIZE_MAX - CHUNK_HDR - ARENA_ALIGN)
        return NULL;
    size = (size + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
    if (size == 0)
        size = ARENA_ALIGN;
    chunk *c = a->head;
    if (!c || c->cap - c->used < size) {
        /* a big block gets its own chunk behind the current one, so the current one's free space stays usable */
        if (!(c = chunk_new(size > ARENA_BIG ? size : ARENA_CHUNK)))
            return NULL;
        if (size > ARENA_BIG && a->head) {
            c->next = a->head->next;
            a->head->next = c;
        } else {
            c->next = a->head;
            a->head = c;
        }
    }
    void *p = (char *)c + CHUNK_HDR + c->used;
    c->used += size;
    return p;
}

void *ts_sql_alloc(ts_sql_script *s, size_t size) { return s && s->arena ? arena_alloc(s->arena, size) : NULL; }

char *ts_sql_strdup(ts_sql_script *s, const char *str)
{
    if (!str)
        return NULL;
    size_t n = strlen(str);
    char *p = ts_sql_alloc(s, n + 1);
    if (p)
        memcpy(p, str, n + 1);
    return p;
}

ts_err ts_sql_script_new(const char *text, const char *filename, ts_sql_script **out)
{
    *out = NULL;
    ts_sql_arena *a = calloc(1, sizeof *a);
    if (!a)
        TS_FAIL(TS_ERR_NOMEM, "out of memory for a SQL script");
    ts_sql_script *s = arena_alloc(a, sizeof *s);
    if (s) {
        s->arena = a;
        s->text = ts_sql_strdup(s, text ? text : "");
        s->filename = ts_sql_strdup(s, filename ? filename : "sql");
    }
    if (!s || !s->text || !s->filename) {
        ts_sql_script_free(s ? s : &(ts_sql_script){.arena = a});
        TS_FAIL(TS_ERR_NOMEM, "out of memory for a SQL script of %zu bytes", text ? strlen(text) : 0);
    }
    *out = s;
    return TS_OK;
}

void ts_sql_script_free(ts_sql_script *s)
{
    if (!s || !s->arena)
        return;
    ts_sql_arena *a = s->arena; /* s itself lives in the arena */
    for (chunk *c = a->head, *next; c; c = next) {
        next = c->next;
        free(c);
    }
    free(a);
}

/* ---- located errors ------------------------------------------------------------------------------------- */

/* Shown part of a long source line: this many bytes before the token, this many in all. */
#define SHOW_BEFORE 80
#define SHOW_MAX 200

static int is_cont(unsigned char c) { return (c & 0xC0) == 0x80; }

static int code_points(const unsigned char *t, size_t from, size_t to)
{
    int n = 0;
    for (size_t i = from; i < to; i++)
        n += !is_cont(t[i]);
    return n;
}

/* Appends printf output to buf (cap bytes, *len used), truncating silently. */
static void put(char *buf, size_t cap, size_t *len, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void put(char *buf, size_t cap, size_t *len, const char *fmt, ...)
{
    if (*len + 1 >= cap)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf + *len, cap - *len, fmt, ap);
    va_end(ap);
    if (n > 0)
        *len += (size_t)n < cap - *len ? (size_t)n : cap - *len - 1;
}

/* The source line around off and a caret line under [off, off + len). */
static void put_excerpt(char *buf, size_t cap, size_t *blen, const unsigned char *t, size_t n, size_t off,
                        size_t len)
{
    size_t ls = off, le = off;
    while (ls > 0 && t[ls - 1] != '\n')
        ls--;
    while (le < n && t[le] != '\n')
        le++;
    if (le > ls && t[le - 1] == '\r')
        le--;
    if (off > le)
        off = le;
    size_t ws = ls, we = le;
    if (le - ls > SHOW_MAX) {
        ws = off - ls > SHOW_BEFORE ? off - SHOW_BEFORE : ls;
        while (ws > ls && is_cont(t[ws]))
            ws--;
        we = le - ws > SHOW_MAX ? ws + SHOW_MAX : le;
        if (we < off + 1)
            we = off + 1 < le ? off + 1 : le;
        while (we < le && is_cont(t[we]))
            we++;
    }
    const char *pre = ws > ls ? "..." : "";
    put(buf, cap, blen, "\n  %s", pre);
    for (size_t i = ws; i < we; i++)
        put(buf, cap, blen, "%c", (t[i] < 0x20 && t[i] != '\t') || t[i] == 0x7f ? '?' : (char)t[i]);
    put(buf, cap, blen, "%s\n  %s", we < le ? "..." : "", *pre ? "   " : "");
    for (size_t i = ws; i < off; i++)
        if (t[i] == '\t')
            put(buf, cap, blen, "\t");
        else if (!is_cont(t[i]))
            put(buf, cap, blen, " ");
    size_t end = off + len < we ? off + len : we;
    int width = code_points(t, off, end);
    put(buf, cap, blen, "^");
    for (int i = 1; i < width; i++)
        put(buf, cap, blen, "~");
}

ts_err ts_sql_verror_span(const char *text, const char *filename, size_t off, size_t len, ts_err code,
                          const char *fmt, va_list ap)
{
    char msg[1024], buf[4000];
    size_t blen = 0;
    vsnprintf(msg, sizeof msg, fmt, ap);
    const unsigned char *t = (const unsigned char *)(text ? text : "");
    size_t n = strlen((const char *)t);
    if (off > n)
        off = n;
    int line = 1;
    size_t ls = 0;
    for (size_t i = 0; i < off; i++)
        if (t[i] == '\n')
            line++, ls = i + 1;
    put(buf, sizeof buf, &blen, "%s:%d:%d: %s", filename ? filename : "sql", line, code_points(t, ls, off) + 1,
        msg);
    if (text)
        put_excerpt(buf, sizeof buf, &blen, t, n, off, len);
    return ts_error_raise(code, __FILE__, __LINE__, __func__, "%s", buf);
}

ts_err ts_sql_error_span(const char *text, const char *filename, size_t off, size_t len, ts_err code,
                         const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    ts_err err = ts_sql_verror_span(text, filename, off, len, code, fmt, ap);
    va_end(ap);
    return err;
}

/* Byte offset of a line/column position (columns in code points), clamped to the text. */
static size_t offset_of(const char *text, ts_sql_pos pos)
{
    const unsigned char *t = (const unsigned char *)text;
    size_t off = 0;
    for (int line = 1; line < pos.line && t[off]; off++)
        if (t[off] == '\n')
            line++;
    for (int col = 1; t[off] && t[off] != '\n';) {
        if (!is_cont(t[off]) && col++ == pos.col)
            break;
        off++;
    }
    return off;
}

int ts_sql_error_located(const ts_sql_script *s)
{
    const char *m = ts_error_headline(), *file = s && s->filename ? s->filename : "sql";
    m += ts_error_rank_tag(m);
    const size_t n = strlen(file);
    if (strncmp(m, file, n) || m[n] != ':')
        return 0;
    const char *p = m + n + 1;
    for (int part = 0; part < 2; part++) { /* LINE: COL: */
        const char *d = p;
        while (*p >= '0' && *p <= '9')
            p++;
        if (p == d || *p++ != ':')
            return 0;
    }
    return *p == ' ';
}

ts_err ts_sql_error_at(const ts_sql_script *s, ts_sql_pos pos, ts_err code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    ts_err err;
    if (!s || !s->text) {
        char msg[1024];
        vsnprintf(msg, sizeof msg, fmt, ap);
        err = ts_error_raise(code, __FILE__, __LINE__, __func__, "%s:%d:%d: %s",
                             s && s->filename ? s->filename : "sql", pos.line, pos.col, msg);
    } else {
        size_t off = offset_of(s->text, pos);
        err = ts_sql_verror_span(s->text, s->filename, off, ts_sql_token_length(s->text, off), code, fmt, ap);
    }
    va_end(ap);
    return err;
}

/* ---- closest name --------------------------------------------------------------------------------------- */

static int lower(int c) { return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c; }

/* Optimal string alignment distance (edits: insert, delete, substitute, swap two neighbours), case-insensitive.
 * rows holds 3 * (lb + 1) ints. */
static int osa_distance(const char *a, size_t la, const char *b, size_t lb, int *rows)
{
    int *pp = rows, *prev = rows + lb + 1, *cur = rows + 2 * (lb + 1);
    for (size_t j = 0; j <= lb; j++)
        prev[j] = (int)j;
    for (size_t i = 1; i <= la; i++) {
        cur[0] = (int)i;
        for (size_t j = 1; j <= lb; j++) {
            int sub = lower(a[i - 1]) != lower(b[j - 1]);
            int d = prev[j - 1] + sub;
            if (prev[j] + 1 < d)
                d = prev[j] + 1;
            if (cur[j - 1] + 1 < d)
                d = cur[j - 1] + 1;
            if (i > 1 && j > 1 && lower(a[i - 1]) == lower(b[j - 2]) && lower(a[i - 2]) == lower(b[j - 1]) &&
                pp[j - 2] + 1 < d)
                d = pp[j - 2] + 1;
            cur[j] = d;
        }
        int *t = pp;
        pp = prev, prev = cur, cur = t;
    }
    return prev[lb];
}

const char *ts_sql_closest(const char *name, const char *const *candidates, int n)
{
    if (!name || !candidates)
        return NULL;
    size_t ln = strlen(name);
    size_t limit = ln / 3 < 2 ? 2 : ln / 3;
    const char *best = NULL;
    size_t best_d = limit + 1;
    for (int k = 0; k < n; k++) {
        const char *c = candidates[k];
        if (!c)
            continue;
        size_t lc = strlen(c);
        if ((ln > lc ? ln - lc : lc - ln) > limit)
            continue;
        int *rows = malloc(3 * (lc + 1) * sizeof *rows);
        if (!rows)
            return best;
        size_t d = (size_t)osa_distance(name, ln, c, lc, rows);
        free(rows);
        if (d < best_d)
            best = c, best_d = d;
    }
    return best;
}

/* ---- ${param} substitution ------------------------------------------------------------------------------ */

typedef struct strbuf {
    char *p;
    size_t len, cap;
} strbuf;

static ts_err sb_append(strbuf *b, const char *s, size_t n)
{
    if (b->cap - b->len <= n) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap - b->len <= n)
            cap *= 2;
        char *g = realloc(b->p, cap);
        if (!g)
            TS_FAIL(TS_ERR_NOMEM, "out of memory substituting parameters (%zu bytes)", cap);
        b->p = g, b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
    return TS_OK;
}

static int find_param(const char *name, size_t len, const char *const *names, int n)
{
    for (int k = 0; k < n; k++)
        if (names[k] && strlen(names[k]) == len && memcmp(names[k], name, len) == 0)
            return k;
    return -1;
}

/* ${name} at text + off (len bytes in all) is not among names. */
static ts_err unknown_param(const char *text, const char *filename, size_t off, size_t len,
                            const char *const *names, int n)
{
    char name[256];
    size_t nl = len - 3 < sizeof name - 1 ? len - 3 : sizeof name - 1;
    memcpy(name, text + off + 2, nl);
    name[nl] = '\0';
    const char *best = ts_sql_closest(name, names, n);
    int shown = len - 3 > 200 ? 200 : (int)(len - 3);
    if (best)
        return ts_sql_error_span(text, filename, off, len, TS_ERR_USAGE,
                                 "unknown parameter ${%.*s} (did you mean ${%s}?)", shown, text + off + 2, best);
    return ts_sql_error_span(text, filename, off, len, TS_ERR_USAGE, "unknown parameter ${%.*s}%s", shown,
                             text + off + 2, n ? "" : " (no parameters are set)");
}

static ts_err substitute(const char *text, const char *filename, const char *const *names,
                         const char *const *values, int n, strbuf *b)
{
    size_t i = 0, copied = 0;
    while (text[i]) {
        if (text[i] != '$' || text[i + 1] != '{') {
            i++;
            continue;
        }
        size_t end = i + 2;
        while (text[end] && text[end] != '}' && text[end] != '\n')
            end++;
        if (text[end] != '}')
            return ts_sql_error_span(text, filename, i, 2, TS_ERR_USAGE, "unterminated parameter: '${' without '}'");
        if (end == i + 2)
            return ts_sql_error_span(text, filename, i, 3, TS_ERR_USAGE, "empty parameter name '${}'");
        int k = find_param(text + i + 2, end - i - 2, names, n);
        if (k < 0)
            return unknown_param(text, filename, i, end + 1 - i, names, n);
        const char *v = values && values[k] ? values[k] : "";
        TS_TRY(sb_append(b, text + copied, i - copied));
        TS_TRY(sb_append(b, v, strlen(v)));
        i = copied = end + 1;
    }
    TS_TRY(sb_append(b, text + copied, i - copied));
    return TS_OK;
}

ts_err ts_sql_substitute(const char *text, const char *filename, const char *const *names,
                         const char *const *values, int n, char **out)
{
    strbuf b = {0};
    *out = NULL;
    ts_err err = substitute(text ? text : "", filename ? filename : "sql", names, values, names ? n : 0, &b);
    if (err) {
        free(b.p);
        ts_error_trace(__FILE__, __LINE__, __func__);
        return err;
    }
    *out = b.p;
    return TS_OK;
}
