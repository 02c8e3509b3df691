#include "ts_csv.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ts_check.h"
#include "ts_csv_lex.h"
#include "ts_date.h"
#include "ts_file.h"
#include "ts_hash.h"
#include "ts_mem.h"
#include "ts_parse.h"

#define REASON_OK 0xffff

/* The splitter, inlined with constant delimiter and quote on the default path. */
static inline int split_fields(const char *line, int64_t line_len, const char delim, const char quote, const int trim,
                               const int *slot, int max_fields, const char **ptr, uint32_t *len, char **scratch_io)
{
    char *scratch = *scratch_io;
    const char *p = line, *end = line + line_len;
    int f = 0;
    for (;;) {
        const char *fs, *fe;
        if (p < end && *p == quote) {
            /* quoted: find the closing quote, unescaping doubled quotes into scratch only when one occurs */
            const char *q = p + 1;
            char *w = NULL;
            for (;;) {
                const char *hit = memchr(q, quote, (size_t)(end - q));
                if (!hit)
                    return -1; /* runs past the end of the line */
                if (hit + 1 < end && hit[1] == quote) {
                    if (!w)
                        w = scratch, memcpy(w, p + 1, (size_t)(hit - p - 1)), w += hit - p - 1;
                    else
                        memcpy(w, q, (size_t)(hit - q)), w += hit - q;
                    *w++ = quote;
                    q = hit + 2;
                    continue;
                }
                if (w) {
                    memcpy(w, q, (size_t)(hit - q)), w += hit - q;
                    fs = scratch, fe = w, scratch = w;
                } else {
                    fs = p + 1, fe = hit;
                }
                p = hit + 1;
                break;
            }
            if (p < end && *p != delim)
                return -1; /* text after the closing quote */
        } else {
            /* fields are short: a byte loop beats a memchr call per field */
            fs = p;
            while (p < end && *p != delim)
                p++;
            fe = p;
        }
        if (f < max_fields && slot[f] >= 0) {
            size_t n = (size_t)(fe - fs);
            if (trim)
                ts_trim(&fs, &n);
            if (n > UINT32_MAX)
                return -1; /* 4 GiB or more does not fit the 32-bit lengths: malformed rather than cut short */
            ptr[slot[f]] = fs, len[slot[f]] = (uint32_t)n;
        }
        f++;
        if (p >= end) {
            *scratch_io = scratch;
            return f;
        }
        p++; /* past the delimiter */
    }
}

int ts_csv_split_line(const char *line, int64_t line_len, const int *slot, int max_fields, const char **ptr,
                      uint32_t *len, char **scratch_io)
{
    return split_fields(line, line_len, ',', '"', 1, slot, max_fields, ptr, len, scratch_io);
}

int ts_csv_split_line_ex(const char *line, int64_t line_len, char delim, char quote, int trim, const int *slot,
                         int max_fields, const char **ptr, uint32_t *len, char **scratch_io)
{
    return split_fields(line, line_len, delim, quote, trim, slot, max_fields, ptr, len, scratch_io);
}

static char spec_delim(const ts_csv_spec *spec) { return spec->delim ? spec->delim : ','; }
static char spec_quote(const ts_csv_spec *spec) { return spec->quote ? spec->quote : '"'; }

/* The spec's own order: no header, a header matched by position, or a header that cannot be used. */
static void positional_layout(const ts_csv_spec *spec, ts_csv_layout *layout)
{
    layout->nphys = spec->nfields;
    for (int f = 0; f < spec->nfields; f++)
        layout->slot[f] = spec->fields[f].kind == TS_RULE_SKIP ? -1 : f;
}

/* ---- names ------------------------------------------------------------------------------------------------- */

static int name_taken(char (*names)[TS_NAME_MAX], int upto, const char *name)
{
    if (strcmp(name, "__pos") == 0 || strcmp(name, "__line") == 0)
        return 1;
    for (int i = 0; i < upto; i++)
        if (strcmp(names[i], name) == 0)
            return 1;
    return 0;
}

/* Copies at most TS_NAME_MAX - 1 - reserve bytes of s, not cutting a UTF-8 sequence. */
static void copy_name(char *dst, const char *s, size_t n, size_t reserve)
{
    size_t cap = TS_NAME_MAX - 1 - reserve;
    if (n > cap) {
        n = cap;
        while (n && ((unsigned char)s[n] & 0xC0) == 0x80)
            n--;
    }
    memcpy(dst, s, n);
    dst[n] = '\0';
}

void ts_csv_header_name(char (*names)[TS_NAME_MAX], int i, int nfields, const char *s, size_t n)
{
    char base[TS_NAME_MAX];
    n = strnlen(s, n); /* names are C strings: a NUL byte ends one (found by fuzzing: "\0x" gave an empty name) */
    ts_trim(&s, &n);
    if (n)
        copy_name(base, s, n, 0);
    if (!n || !base[0]) { /* cutting to TS_NAME_MAX can leave nothing of a name of UTF-8 continuation bytes */
        int digits = 1;
        for (int v = nfields - 1; v >= 10; v /= 10)
            digits++;
        snprintf(base, sizeof base, "column%0*d", digits, i);
    }
    if (!name_taken(names, i, base)) {
        strcpy(names[i], base);
        return;
    }
    for (int k = 1;; k++) {
        char suffix[16], cand[TS_NAME_MAX];
        const int sl = snprintf(suffix, sizeof suffix, "_%d", k);
        copy_name(cand, base, strlen(base), (size_t)sl);
        strcat(cand, suffix);
        if (!name_taken(names, i, cand)) {
            strcpy(names[i], cand);
            return;
        }
    }
}

int ts_csv_cr_only(const char *data, int64_t len)
{
    const int64_t scan = len < (64 << 10) ? len : (64 << 10);
    const char *nl = memchr(data, '\n', (size_t)scan);
    const int64_t end = nl ? nl - data : scan;
    const char *cr = memchr(data, '\r', (size_t)end);
    return cr && cr + 1 < data + len && cr[1] != '\n';
}

/* ---- header layouts ------------------------------------------------------------------------------------------ */

/* Appends "'a', 'b'" (at most a few names, then "..."), for messages. */
static void list_names(char *buf, size_t cap, const char *const *names, int n)
{
    for (int k = 0; k < n; k++) {
        const size_t at = strlen(buf);
        if (k == 6) {
            snprintf(buf + at, cap - at, ", ... (%d in all)", n);
            break;
        }
        snprintf(buf + at, cap - at, "%s'%s'", k ? ", " : "", names[k]);
    }
}

/* The header fields of line 1 (trimmed), or -1 for a line that does not split. *fields is malloc'ed (with the
 * unescaped copies of quoted names) and freed by the caller. */
typedef struct header {
    int nf;
    const char **ptr;
    uint32_t *len;
    char *scratch;
} header;

static void header_free(header *h) { free(h->ptr), free(h->len), free(h->scratch); }

static int split_header(const ts_csv_spec *spec, const char *data, int64_t len, header *h)
{
    memset(h, 0, sizeof *h);
    const int bom = ts_csv_bom(data, len);
    data += bom, len -= bom;
    const char *nl = memchr(data, '\n', (size_t)len);
    int64_t hl = nl ? nl - data : len;
    if (hl && data[hl - 1] == '\r')
        hl--;
    int *all = malloc(sizeof *all * TS_CSV_MAX_FIELDS);
    h->ptr = malloc(sizeof *h->ptr * TS_CSV_MAX_FIELDS), h->len = malloc(sizeof *h->len * TS_CSV_MAX_FIELDS);
    h->scratch = malloc((size_t)hl + 1);
    char *cursor = h->scratch;
    if (all && h->ptr && h->len && h->scratch) {
        for (int i = 0; i < TS_CSV_MAX_FIELDS; i++)
            all[i] = i;
        h->nf = ts_csv_split_line_ex(data, hl, spec_delim(spec), spec_quote(spec), 1, all, TS_CSV_MAX_FIELDS, h->ptr,
                                     h->len, &cursor);
    } else {
        h->nf = -2; /* out of memory: no header read */
    }
    free(all);
    return h->nf;
}

/* read_csv (header_sql_names): the header's names made unique as inference made them, matched by name. */
static void sql_names_layout(const ts_csv_spec *spec, const header *h, ts_csv_layout *layout)
{
    char (*names)[TS_NAME_MAX] = malloc(sizeof *names * (size_t)h->nf);
    int *taken = calloc((size_t)spec->nfields + 1, sizeof *taken);
    const char **missing = malloc(sizeof *missing * (size_t)spec->nfields + 1), **extra = malloc(sizeof *extra * (size_t)h->nf);
    if (!names || !taken || !missing || !extra) {
        layout->fatal = 1;
        snprintf(layout->problem, sizeof layout->problem, "out of memory reading its header");
        free(names), free(taken), free(missing), free(extra);
        return;
    }
    int nextra = 0, nmissing = 0;
    for (int f = 0; f < h->nf; f++) {
        ts_csv_header_name(names, f, h->nf, h->ptr[f], h->len[f]);
        layout->slot[f] = -1;
        for (int s = 0; s < spec->nfields && layout->slot[f] < 0; s++)
            if (!taken[s] && strcmp(spec->fields[s].name, names[f]) == 0) {
                taken[s] = 1;
                layout->slot[f] = spec->fields[s].kind == TS_RULE_SKIP ? -2 : s;
            }
        if (layout->slot[f] == -1)
            extra[nextra++] = names[f];
        if (layout->slot[f] == -2)
            layout->slot[f] = -1;
    }
    for (int s = 0; s < spec->nfields; s++)
        if (!taken[s])
            missing[nmissing++] = spec->fields[s].name;
    layout->nphys = h->nf, layout->skip_line1 = 1;
    if (nmissing) {
        layout->fatal = 1;
        snprintf(layout->problem, sizeof layout->problem, "its header lacks column%s ", nmissing > 1 ? "s" : "");
        list_names(layout->problem, sizeof layout->problem, missing, nmissing);
        snprintf(layout->problem + strlen(layout->problem), sizeof layout->problem - strlen(layout->problem),
                 " of the first file (read_csv reads several files by column name: every file needs the first "
                 "one's columns, in any order)");
    } else {
        layout->header_ok = 1;
    }
    if (nextra) {
        snprintf(layout->note, sizeof layout->note, "column%s ", nextra > 1 ? "s" : "");
        list_names(layout->note, sizeof layout->note, extra, nextra);
        snprintf(layout->note + strlen(layout->note), sizeof layout->note - strlen(layout->note),
                 " %s not in the first file's header: not read", nextra > 1 ? "are" : "is");
    }
    free(names), free(taken), free(missing), free(extra);
}

/* A rules spec: exact names; see ts_csv_layout_from_header for the cases. */
static void rules_layout(const ts_csv_spec *spec, const header *h, ts_csv_layout *layout)
{
    int *taken = calloc((size_t)spec->nfields + 1, sizeof *taken);
    const char **missing = malloc(sizeof *missing * (size_t)spec->nfields + 1);
    if (!taken || !missing) {
        free(taken), free(missing);
        layout->fatal = 1;
        snprintf(layout->problem, sizeof layout->problem, "out of memory reading its header");
        return;
    }
    int found = 0, dup = -1, dup_at[2] = {0, 0};
    for (int f = 0; f < h->nf; f++) {
        layout->slot[f] = -1;
        for (int s = 0; s < spec->nfields; s++) {
            if (strlen(spec->fields[s].name) != h->len[f] || memcmp(spec->fields[s].name, h->ptr[f], h->len[f]) != 0)
                continue;
            if (taken[s]) {
                if (dup < 0)
                    dup = s, dup_at[0] = taken[s], dup_at[1] = f + 1;
                break;
            }
            taken[s] = f + 1, found++;
            layout->slot[f] = spec->fields[s].kind == TS_RULE_SKIP ? -1 : s;
            break;
        }
    }
    int nmissing = 0;
    for (int s = 0; s < spec->nfields; s++)
        if (!taken[s])
            missing[nmissing++] = spec->fields[s].name;
    if (dup >= 0) { /* refused: a header naming a column twice leaves which values to read to chance */
        positional_layout(spec, layout);
        layout->fatal = 1;
        snprintf(layout->problem, sizeof layout->problem, "its header names column '%s' twice (fields %d and %d): "
                 "which one holds the data is ambiguous; rename or remove one", spec->fields[dup].name, dup_at[0],
                 dup_at[1]);
    } else if (found == spec->nfields) {
        layout->nphys = h->nf, layout->header_ok = layout->skip_line1 = 1;
    } else if (found > 0) { /* a header, lacking columns: not a data row, and said which */
        positional_layout(spec, layout);
        layout->skip_line1 = 1;
        snprintf(layout->problem, sizeof layout->problem, "its header lacks column%s ", nmissing > 1 ? "s" : "");
        list_names(layout->problem, sizeof layout->problem, missing, nmissing);
        snprintf(layout->problem + strlen(layout->problem), sizeof layout->problem - strlen(layout->problem),
                 "; its rows are read in the standard column order (%d fields), so rows of another width are "
                 "rejected as malformed", spec->nfields);
    } else {
        positional_layout(spec, layout);
        snprintf(layout->problem, sizeof layout->problem, "line 1 does not name any of the %d expected columns; "
                 "the file is read in the standard column order and line 1 is treated as a data row",
                 spec->nfields);
    }
    free(taken), free(missing);
}

void ts_csv_layout_from_header(const ts_csv_spec *spec, const char *data, int64_t len, ts_csv_layout *layout)
{
    memset(layout, 0, offsetof(ts_csv_layout, slot));
    layout->header_ok = layout->skip_line1 = layout->fatal = 0;
    layout->problem[0] = layout->note[0] = '\0';
    if (spec->no_header || spec->header_by_position) {
        positional_layout(spec, layout);
        layout->header_ok = layout->skip_line1 = !spec->no_header;
        return;
    }
    if (ts_csv_cr_only(data, len)) { /* one huge "line": never skip it as a header (its rows would vanish) */
        positional_layout(spec, layout);
        layout->fatal = spec->header_sql_names;
        snprintf(layout->problem, sizeof layout->problem, "line 1 holds carriage returns that are not followed by "
                 "line feeds: the file seems to use old Mac (CR-only) line endings, which are not line breaks here "
                 "(convert them, e.g. tr '\\r' '\\n' < in > out)%s",
                 spec->header_sql_names ? "" : "; the whole file is one rejected row");
        return;
    }
    header h;
    const int nf = split_header(spec, data, len, &h);
    if (nf < 1 || nf > TS_CSV_MAX_FIELDS) {
        positional_layout(spec, layout);
        layout->fatal = spec->header_sql_names || nf == -2;
        if (nf == -2)
            snprintf(layout->problem, sizeof layout->problem, "out of memory reading its header");
        else if (nf > TS_CSV_MAX_FIELDS)
            snprintf(layout->problem, sizeof layout->problem, "line 1 has %d fields, more than the %d a scan reads%s",
                     nf, TS_CSV_MAX_FIELDS, layout->fatal ? "" : "; the file is read in the standard column order "
                     "and line 1 is treated as a data row");
        else
            snprintf(layout->problem, sizeof layout->problem, "line 1 is not a valid CSV header (a quote is not "
                     "closed, or text follows a closing quote)%s", layout->fatal ? "" : "; the file is read in the "
                     "standard column order and line 1 is treated as a data row");
    } else if (spec->header_sql_names) {
        sql_names_layout(spec, &h, layout);
    } else {
        rules_layout(spec, &h, layout);
    }
    header_free(&h);
}

ts_err ts_csv_sink_new(const ts_csv_spec *spec, ts_csv_sink *sink)
{
    memset(sink, 0, sizeof *sink);
    ts_err err;
    TS_TRY_GOTO(err, ts_table_new("clean", &sink->clean), fail);
    TS_TRY_GOTO(err, ts_table_new("rejects", &sink->rejects), fail);
    for (int s = 0; s < spec->nfields; s++) {
        const ts_csv_field *f = &spec->fields[s];
        static const ts_type types[] = {TS_T_INT64,   TS_T_INT64,  TS_T_DATE,    TS_T_DICT,
                                        TS_T_DECIMAL, TS_T_STRING, TS_T_FLOAT64, TS_T_BOOL, TS_T_TIMESTAMP};
        if (f->kind != TS_RULE_SKIP && !f->check_only)
            TS_TRY_GOTO(err, ts_table_add(sink->clean, f->name, types[f->kind], f->scale,
                                          f->kind == TS_RULE_CATEGORY ? f->accepted : NULL, NULL), fail);
    }
    TS_TRY_GOTO(err, ts_table_add(sink->clean, "__line", TS_T_INT64, 0, NULL, NULL), fail);
    if (spec->hash_rows) {
        TS_TRY_GOTO(err, ts_table_add(sink->clean, "__hash_lo", TS_T_INT64, 0, NULL, NULL), fail);
        TS_TRY_GOTO(err, ts_table_add(sink->clean, "__hash_hi", TS_T_INT64, 0, NULL, NULL), fail);
    }
    TS_TRY_GOTO(err, ts_table_add(sink->rejects, "__file", TS_T_INT32, 0, NULL, NULL), fail);
    TS_TRY_GOTO(err, ts_table_add(sink->rejects, "__line", TS_T_INT64, 0, NULL, NULL), fail);
    TS_TRY_GOTO(err, ts_table_add(sink->rejects, "reason", TS_T_INT32, 0, NULL, NULL), fail);
    TS_TRY_GOTO(err, ts_table_add(sink->rejects, "raw_line", TS_T_STRING, 0, NULL, NULL), fail);
    return TS_OK;
fail:
    ts_csv_sink_free(sink);
    return err;
}

void ts_csv_sink_free(ts_csv_sink *sink)
{
    ts_table_free(sink->clean), ts_table_free(sink->rejects);
    free(sink->marks);
    sink->clean = sink->rejects = NULL;
    sink->marks = NULL, sink->nmarks = sink->marks_cap = 0;
}

/* Appends a line mark (ts_csv_sink.marks). */
static ts_err add_mark(ts_csv_sink *sink, int64_t at)
{
    if (sink->nmarks == sink->marks_cap) {
        const int64_t cap = sink->marks_cap ? 2 * sink->marks_cap : 4096;
        int64_t *m = realloc(sink->marks, sizeof *m * (size_t)cap);
        if (!m)
            TS_FAIL(TS_ERR_NOMEM, "out of memory marking %lld lines", (long long)cap);
        sink->marks = m, sink->marks_cap = cap;
    }
    sink->marks[sink->nmarks++] = at;
    return TS_OK;
}

/* One vector of lines and the per-field views and values computed on it. */
typedef struct batch {
    int n;
    const char *line[TS_CSV_BATCH];
    int64_t line_len[TS_CSV_BATCH];
    int64_t line_idx[TS_CSV_BATCH];
    uint16_t reason[TS_CSV_BATCH];
    uint32_t sel[TS_CSV_BATCH];
    size_t nsel;
    /* per field, TS_CSV_BATCH values each; only the fields that are read are ever touched (the arrays of a wide
     * file's skipped fields stay untouched virtual memory) */
    const char **fptr;  /* [nfields][BATCH] */
    uint32_t *flen;     /* [nfields][BATCH] */
    int64_t *val;       /* [nfields][BATCH]: int64 values (FLOAT64: their bits; BOOL: 0/1), or a packed int32
                           array for DATE / DICT */
    uint8_t *isnull;    /* [nfields][BATCH]: 1 = the kept row has NULL in this field */
    char *scratch;      /* unescaped quoted fields */
    int64_t scratch_cap, scratch_used;
    int *order;         /* [nfields]: check order */
    int *kept, nkept;   /* the fields that are read (not SKIP), in field order */
    const char **rowptr; /* [nfields]: one row's fields, as the splitter stores them */
    uint32_t *rowlen;
    const char *(*values)[64]; /* [nfields]: CATEGORY lists as pointer/length arrays for the kernel */
    int64_t (*value_len)[64];
    /* the lexer's path (set per range from its layout): the physical fields that are read, their spec fields and
     * whether they are trimmed; delimiter positions of one line */
    int nreads;
    int *read_phys, *read_slot, *read_trim; /* [nfields] */
    const char **delims;                    /* [TS_CSV_MAX_FIELDS + 1] */
    int *nullable, nnullable;               /* the kept fields that can be NULL (nullable or fail_to_null) */
} batch;

static void batch_free(batch *b)
{
    if (b) {
        free(b->fptr), free(b->flen), free(b->val), free(b->isnull), ts_free(b->scratch);
        free(b->order), free(b->kept), free(b->rowptr), free(b->rowlen), free(b->values), free(b->value_len);
        free(b->read_phys), free(b->read_slot), free(b->read_trim), free(b->delims), free(b->nullable);
        free(b);
    }
}

static ts_err batch_new(const ts_csv_spec *spec, batch **out)
{
    batch *b = calloc(1, sizeof *b);
    const size_t nf = (size_t)(spec->nfields > 0 ? spec->nfields : 1), cells = nf * TS_CSV_BATCH;
    if (b) {
        b->fptr = calloc(cells, sizeof *b->fptr), b->flen = calloc(cells, sizeof *b->flen);
        b->val = calloc(cells, sizeof *b->val), b->isnull = calloc(cells, 1);
        b->order = calloc(nf, sizeof *b->order), b->kept = calloc(nf, sizeof *b->kept);
        b->rowptr = calloc(nf, sizeof *b->rowptr), b->rowlen = calloc(nf, sizeof *b->rowlen);
        b->values = calloc(nf, sizeof *b->values), b->value_len = calloc(nf, sizeof *b->value_len);
        b->read_phys = calloc(nf, sizeof *b->read_phys), b->read_slot = calloc(nf, sizeof *b->read_slot);
        b->read_trim = calloc(nf, sizeof *b->read_trim), b->nullable = calloc(nf, sizeof *b->nullable);
        b->delims = malloc(sizeof *b->delims * (TS_CSV_MAX_FIELDS + 1));
    }
    if (!b || !b->fptr || !b->flen || !b->val || !b->isnull || !b->order || !b->kept || !b->rowptr || !b->rowlen ||
        !b->values || !b->value_len || !b->read_phys || !b->read_slot || !b->read_trim || !b->delims ||
        !b->nullable) {
        batch_free(b);
        TS_FAIL(TS_ERR_NOMEM, "out of memory for a CSV batch of %d fields", spec->nfields);
    }
    for (int s = 0; s < spec->nfields; s++)
        if (spec->fields[s].kind != TS_RULE_SKIP) {
            b->kept[b->nkept++] = s;
            if (spec->fields[s].nullable || spec->fields[s].fail_to_null)
                b->nullable[b->nnullable++] = s;
        }
    /* check order: by check_rank, ties by field order (insertion sort of a handful of fields) */
    for (int s = 0; s < spec->nfields; s++) {
        int k = s;
        while (k > 0 && spec->fields[b->order[k - 1]].check_rank > spec->fields[s].check_rank)
            b->order[k] = b->order[k - 1], k--;
        b->order[k] = s;
        const ts_dict *d = spec->fields[s].accepted;
        for (int32_t v = 0; d && v < d->n && v < 64; v++)
            b->values[s][v] = ts_dict_value(d, v, &b->value_len[s][v]);
    }
    *out = b;
    return TS_OK;
}

/* Which physical fields the lexer's path stores for this range's layout, and whether each is trimmed (no_trim:
 * only strings keep their blanks). */
static void plan_reads(const ts_csv_spec *spec, const ts_csv_layout *layout, batch *b)
{
    b->nreads = 0;
    for (int f = 0; f < layout->nphys && b->nreads < spec->nfields; f++) {
        const int s = layout->slot[f];
        if (s < 0)
            continue;
        b->read_phys[b->nreads] = f, b->read_slot[b->nreads] = s;
        b->read_trim[b->nreads++] = !spec->no_trim || spec->fields[s].kind != TS_RULE_STRING;
    }
}

/* A line with the quote byte: the RFC 4180 splitter (a delimiter inside quotes is not a boundary). */
static int split_quoted(const ts_csv_spec *spec, const ts_csv_layout *layout, batch *b, int i, char **scratch)
{
    const char **ptr = b->rowptr;
    uint32_t *len = b->rowlen;
    const int plain = !spec->delim && !spec->quote && !spec->no_trim;
    const int nf = plain ? ts_csv_split_line(b->line[i], b->line_len[i], layout->slot, layout->nphys, ptr, len,
                                             scratch)
                         : split_fields(b->line[i], b->line_len[i], spec_delim(spec), spec_quote(spec),
                                        !spec->no_trim, layout->slot, layout->nphys, ptr, len, scratch);
    if (nf != layout->nphys)
        return 0;
    for (int j = 0; j < b->nkept; j++) { /* the fields that are read: the layout gives the others no slot */
        const int s = b->kept[j];
        if (spec->no_trim && spec->fields[s].kind != TS_RULE_STRING) { /* only strings keep their blanks */
            size_t n = len[s];
            ts_trim(&ptr[s], &n);
            len[s] = (uint32_t)n;
        }
        b->fptr[s * TS_CSV_BATCH + i] = ptr[s], b->flen[s * TS_CSV_BATCH + i] = len[s];
    }
    return 1;
}

/* Line i of the batch into the per-field arrays (or its malformed reason). The lexer found its nd delimiters
 * (b->delims) and whether the quote byte occurs in it: without one, field f lies between delimiters f - 1 and f,
 * so only the fields that are read are looked at. */
static void tokenize_line(const ts_csv_spec *spec, const ts_csv_layout *layout, batch *b, int i, int64_t nd,
                          int quoted, char **scratch)
{
    const char *const line = b->line[i], *const line_end = line + b->line_len[i];
    const char *const *d = b->delims;
    if (nd > 0 && nd <= TS_CSV_MAX_FIELDS + 1 && d[nd - 1] >= line_end)
        nd--; /* a delimiter at the '\r' dropped before the '\n' (a '\r' delimiter) is not in the line */
    int ok;
    if (quoted || b->line_len[i] > (int64_t)UINT32_MAX) {
        ok = split_quoted(spec, layout, b, i, scratch);
    } else if ((ok = nd + 1 == layout->nphys)) {
        const int nreads = b->nreads, *const phys = b->read_phys, *const slot = b->read_slot;
        const int *const trim = b->read_trim;
        const char **const fptr = b->fptr + i;
        uint32_t *const flen = b->flen + i;
        for (int r = 0; r < nreads; r++) {
            const int f = phys[r], s = slot[r];
            const char *fs = f ? d[f - 1] + 1 : line, *fe = f < nd ? d[f] : line_end;
            if (trim[r]) {
                while (fs < fe && (*fs == ' ' || *fs == '\t'))
                    fs++;
                while (fe > fs && (fe[-1] == ' ' || fe[-1] == '\t'))
                    fe--;
            }
            fptr[s * TS_CSV_BATCH] = fs, flen[s * TS_CSV_BATCH] = (uint32_t)(fe - fs);
        }
    }
    if (!ok) {
        b->reason[i] = (uint16_t)spec->reason_malformed;
        return;
    }
    b->reason[i] = REASON_OK;
    b->sel[b->nsel++] = (uint32_t)i;
    for (int j = 0; j < b->nnullable; j++) /* only fields that can be NULL ever read their flags */
        b->isnull[b->nullable[j] * TS_CSV_BATCH + i] = 0;
}

/* FLOAT64 and BOOL kernels: parse each selected field, or leave with code. */
static size_t check_float64(const char *const *p, const uint32_t *l, uint32_t *sel, size_t n, int64_t *out,
                            uint16_t *reason, uint16_t code)
{
    size_t kept = 0;
    for (size_t k = 0; k < n; k++) {
        const uint32_t i = sel[k];
        double v;
        if (ts_parse_float64(p[i], l[i], &v))
            memcpy(&out[i], &v, sizeof v), sel[kept++] = i;
        else
            reason[i] = code;
    }
    return kept;
}

static size_t check_bool(const char *const *p, const uint32_t *l, uint32_t *sel, size_t n, int64_t *out,
                         uint16_t *reason, uint16_t code)
{
    size_t kept = 0;
    for (size_t k = 0; k < n; k++) {
        const uint32_t i = sel[k];
        int v;
        if (ts_parse_bool(p[i], l[i], &v))
            out[i] = v, sel[kept++] = i;
        else
            reason[i] = code;
    }
    return kept;
}

static size_t check_timestamp(const char *const *p, const uint32_t *l, uint32_t *sel, size_t n, int64_t *out,
                              uint16_t *reason, uint16_t code)
{
    size_t kept = 0;
    for (size_t k = 0; k < n; k++) {
        const uint32_t i = sel[k];
        if (ts_parse_timestamp(p[i], l[i], &out[i]))
            sel[kept++] = i;
        else
            reason[i] = code;
    }
    return kept;
}

/* The parse kernel of field s over the selection. */
static void parse_field(const ts_csv_field *f, int s, batch *b)
{
    const char *const *p = b->fptr + s * TS_CSV_BATCH;
    const uint32_t *l = b->flen + s * TS_CSV_BATCH;
    int64_t *v = b->val + s * TS_CSV_BATCH;
    const uint16_t code = (uint16_t)f->reason_invalid;
    const uint16_t missing = (uint16_t)(f->reason_missing >= 0 ? f->reason_missing : f->reason_invalid);
    switch (f->kind) {
    case TS_RULE_INT64: b->nsel = ts_check_int64(p, l, b->sel, b->nsel, v, b->reason, code); break;
    case TS_RULE_DATE:
        b->nsel = ts_check_date_forms(p, l, b->sel, b->nsel, f->date_forms ? f->date_forms : TS_DATE_ALL,
                                      (int32_t *)v, b->reason, code);
        break;
    case TS_RULE_CATEGORY:
        b->nsel = ts_check_category(p, l, b->sel, b->nsel, b->values[s], b->value_len[s], f->accepted->n,
                                    f->fold_upper, (int32_t *)v, b->reason, code);
        break;
    case TS_RULE_DECIMAL:
        b->nsel = ts_check_decimal(p, l, b->sel, b->nsel, f->scale, f->max_int_digits, f->positive, v, b->reason,
                                   code, missing);
        break;
    case TS_RULE_STRING: { /* any non-empty text is a string (an empty one is missing unless nullable) */
        size_t kept = 0;
        for (size_t k = 0; k < b->nsel; k++) {
            if (l[b->sel[k]])
                b->sel[kept++] = b->sel[k];
            else
                b->reason[b->sel[k]] = missing;
        }
        b->nsel = kept;
        break;
    }
    case TS_RULE_FLOAT64: b->nsel = check_float64(p, l, b->sel, b->nsel, v, b->reason, code); break;
    case TS_RULE_BOOL: b->nsel = check_bool(p, l, b->sel, b->nsel, v, b->reason, code); break;
    case TS_RULE_TIMESTAMP: b->nsel = check_timestamp(p, l, b->sel, b->nsel, v, b->reason, code); break;
    case TS_RULE_SKIP: break;
    }
}

/* Range and pattern checks on the values that parsed. */
static void constrain_field(const ts_csv_field *f, int s, batch *b)
{
    const uint16_t code = (uint16_t)f->reason_invalid;
    if ((f->has_min || f->has_max) && f->kind != TS_RULE_DATE)
        b->nsel = ts_check_range(b->val + s * TS_CSV_BATCH, b->sel, b->nsel, f->has_min, f->min, f->min_open,
                                 f->has_max, f->max, f->max_open, b->reason, code);
    if ((f->has_min || f->has_max) && f->kind == TS_RULE_DATE) {
        int64_t wide[TS_CSV_BATCH];
        const int32_t *days = (const int32_t *)(b->val + s * TS_CSV_BATCH);
        for (size_t k = 0; k < b->nsel; k++)
            wide[b->sel[k]] = days[b->sel[k]];
        b->nsel = ts_check_range(wide, b->sel, b->nsel, f->has_min, f->min, f->min_open, f->has_max, f->max,
                                 f->max_open, b->reason, code);
    }
    if (f->pattern)
        b->nsel = ts_check_pattern(b->fptr + s * TS_CSV_BATCH, b->flen + s * TS_CSV_BATCH, b->sel, b->nsel,
                                   f->pattern, b->reason, code);
}

/* Merges the ascending row lists a (na) and b->sel into b->sel. */
static void merge_back(batch *b, const uint32_t *a, size_t na)
{
    uint32_t out[TS_CSV_BATCH];
    size_t i = 0, j = 0, k = 0;
    while (i < na || j < b->nsel)
        out[k++] = j == b->nsel || (i < na && a[i] < b->sel[j]) ? a[i++] : b->sel[j++];
    memcpy(b->sel, out, sizeof *out * k);
    b->nsel = k;
}

/* One field's checks. Nullable empties skip the kernels and come back as NULL; with fail_to_null the rows that
 * fail come back as NULL too instead of leaving with a reason. */
static void check_field(const ts_csv_field *f, int s, batch *b)
{
    uint32_t aside[TS_CSV_BATCH], before[TS_CSV_BATCH];
    size_t naside = 0, nbefore = 0, kept = 0;
    const uint32_t *l = b->flen + s * TS_CSV_BATCH;
    uint8_t *isnull = b->isnull + s * TS_CSV_BATCH;
    for (size_t k = 0; k < b->nsel; k++) {
        const uint32_t i = b->sel[k];
        if (f->nullable && l[i] == 0)
            aside[naside++] = i, isnull[i] = 1;
        else
            b->sel[kept++] = i;
    }
    b->nsel = kept;
    if (f->fail_to_null)
        memcpy(before, b->sel, sizeof *before * (nbefore = b->nsel));
    parse_field(f, s, b);
    constrain_field(f, s, b);
    if (f->fail_to_null) {
        uint32_t failed[TS_CSV_BATCH];
        size_t nf = 0, j = 0;
        for (size_t k = 0; k < nbefore; k++) {
            if (j < b->nsel && b->sel[j] == before[k]) {
                j++;
                continue;
            }
            failed[nf++] = before[k], b->reason[before[k]] = REASON_OK, isnull[before[k]] = 1;
        }
        merge_back(b, failed, nf);
    }
    if (naside)
        merge_back(b, aside, naside);
}

static void run_checks(const ts_csv_spec *spec, batch *b)
{
    for (int o = 0; o < spec->nfields && b->nsel; o++)
        if (spec->fields[b->order[o]].kind != TS_RULE_SKIP)
            check_field(&spec->fields[b->order[o]], b->order[o], b);
}

static ts_err emit_clean(const ts_csv_spec *spec, batch *b, ts_table *clean)
{
    const int64_t base = ts_table_rows(clean), n = (int64_t)b->nsel;
    for (int c = 0; c < clean->ncols; c++)
        TS_TRY(ts_column_reserve(clean->cols[c], base + n, 0));
    int c = 0;
    for (int s = 0; s < spec->nfields; s++) {
        const ts_csv_field *f = &spec->fields[s];
        if (f->kind == TS_RULE_SKIP || f->check_only)
            continue;
        const int64_t *v = b->val + s * TS_CSV_BATCH;
        ts_column *col = clean->cols[c++];
        if (col->type == TS_T_STRING) {
            for (int64_t k = 0; k < n; k++) {
                const uint32_t i = b->sel[k];
                TS_TRY(ts_column_append_string(col, b->fptr[s * TS_CSV_BATCH + i], b->flen[s * TS_CSV_BATCH + i]));
            }
        } else if (ts_type_width(col->type) == 1) {
            uint8_t *d = TS_COL(col, uint8_t) + base;
            for (int64_t k = 0; k < n; k++)
                d[k] = (uint8_t)v[b->sel[k]];
        } else if (ts_type_width(col->type) == 4) {
            int32_t *d = TS_COL(col, int32_t) + base;
            for (int64_t k = 0; k < n; k++)
                d[k] = ((const int32_t *)v)[b->sel[k]]; /* 4-byte kernels write a packed int32 array */
        } else {
            int64_t *d = TS_COL(col, int64_t) + base;
            for (int64_t k = 0; k < n; k++)
                d[k] = v[b->sel[k]];
        }
    }
    int64_t *line = TS_COL(clean->cols[c++], int64_t) + base;
    for (int64_t k = 0; k < n; k++)
        line[k] = b->line_idx[b->sel[k]];
    if (spec->hash_rows) {
        int64_t *lo = TS_COL(clean->cols[c], int64_t) + base, *hi = TS_COL(clean->cols[c + 1], int64_t) + base;
        for (int64_t k = 0; k < n; k++) {
            const uint32_t i = b->sel[k];
            const ts_hash128 h = ts_hash128_bytes(b->line[i], (size_t)b->line_len[i]);
            lo[k] = (int64_t)h.lo, hi[k] = (int64_t)h.hi;
        }
    }
    for (int k = 0; k < clean->ncols; k++)
        clean->cols[k]->len = base + n;
    c = 0;
    for (int s = 0; s < spec->nfields; s++) { /* NULLs, only for fields that can have them */
        const ts_csv_field *f = &spec->fields[s];
        if (f->kind == TS_RULE_SKIP || f->check_only)
            continue;
        ts_column *col = clean->cols[c++];
        for (int64_t k = 0; (f->nullable || f->fail_to_null) && k < n; k++)
            if (b->isnull[s * TS_CSV_BATCH + b->sel[k]])
                TS_TRY(ts_column_set_null(col, base + k));
    }
    return TS_OK;
}

static ts_err emit_rejects(batch *b, int32_t file_id, ts_table *rej)
{
    ts_column *file = rej->cols[0], *line = rej->cols[1], *reason = rej->cols[2], *raw = rej->cols[3];
    for (int i = 0; i < b->n; i++) {
        if (b->reason[i] == REASON_OK)
            continue;
        const int64_t r = file->len;
        TS_TRY(ts_column_reserve(file, r + 1, 0));
        TS_TRY(ts_column_reserve(line, r + 1, 0));
        TS_TRY(ts_column_reserve(reason, r + 1, 0));
        TS_COL(file, int32_t)[r] = file_id, TS_COL(line, int64_t)[r] = b->line_idx[i];
        TS_COL(reason, int32_t)[r] = b->reason[i];
        file->len = line->len = reason->len = r + 1;
        TS_TRY(ts_column_append_string(raw, b->line[i], b->line_len[i]));
    }
    return TS_OK;
}

static ts_err flush_batch(const ts_csv_spec *spec, int32_t file_id, batch *b, ts_csv_sink *sink)
{
    run_checks(spec, b);
    TS_TRY(emit_clean(spec, b, sink->clean));
    TS_TRY(emit_rejects(b, file_id, sink->rejects));
    b->n = 0, b->nsel = 0, b->scratch_used = 0;
    return TS_OK;
}

/* The first line start at or after begin: begin itself when a line starts there. */
static int64_t first_line_start(const char *data, int64_t len, int64_t begin)
{
    if (begin == 0 || data[begin - 1] == '\n')
        return begin;
    const char *nl = memchr(data + begin, '\n', (size_t)(len - begin));
    return nl ? nl - data + 1 : len;
}

ts_err ts_csv_scan_range(const ts_csv_spec *spec, const ts_csv_layout *layout, int32_t file_id, const char *data,
                         int64_t len, int64_t begin, int64_t end, ts_csv_sink *sink, int64_t *nlines)
{
    batch *b = NULL;
    TS_TRY(batch_new(spec, &b));
    ts_err err = TS_OK;
    const int faults = ts_file_faults();
    int64_t pos = first_line_start(data, len, begin), idx = 0;
    const int skip_header = begin == 0 && layout->skip_line1;
    ts_lex lex;
    ts_lex_init(&lex, data, len, spec_delim(spec), spec_quote(spec));
    plan_reads(spec, layout, b);
    for (; pos < end && pos < len; idx++) {
        if (idx % TS_CSV_MARK_EVERY == 0)
            TS_TRY_GOTO(err, add_mark(sink, pos), done);
        const int64_t start = pos == 0 ? ts_csv_bom(data, len) : pos;
        const char *eol;
        int quoted;
        ts_lex_seek(&lex, data + start);
        const int64_t nd = ts_lex_line(&lex, b->delims, TS_CSV_MAX_FIELDS + 1, &eol, &quoted);
        const int64_t stop = eol - data;
        if (ts_file_faults() != faults) { /* the file shrank under its mapping: what follows is zero pages */
            err = ts_error_raise(TS_ERR_IO, __FILE__, __LINE__, __func__, "an input changed while being read");
            goto done;
        }
        int64_t ll = stop - start;
        if (ll && data[stop - 1] == '\r')
            ll--;
        if (!(idx == 0 && skip_header) && !(ll == 0 && spec->skip_blank)) {
            if (b->scratch_used + ll + 1 > b->scratch_cap) {
                if (b->n)
                    TS_TRY_GOTO(err, flush_batch(spec, file_id, b, sink), done);
                if (ll + 1 > b->scratch_cap) {
                    void *p = b->scratch;
                    TS_TRY_GOTO(err, ts_realloc(&p, 0, (size_t)(ll + 1) * 2 + (1 << 20)), done);
                    b->scratch = p, b->scratch_cap = (ll + 1) * 2 + (1 << 20);
                }
            }
            b->line[b->n] = data + start, b->line_len[b->n] = ll, b->line_idx[b->n] = idx;
            char *scratch = b->scratch + b->scratch_used;
            tokenize_line(spec, layout, b, b->n, nd, quoted, &scratch);
            b->scratch_used += ll + 1;
            if (++b->n == TS_CSV_BATCH)
                TS_TRY_GOTO(err, flush_batch(spec, file_id, b, sink), done);
        }
        pos = stop + 1;
    }
    if (b->n)
        TS_TRY_GOTO(err, flush_batch(spec, file_id, b, sink), done);
    *nlines = idx;
done:
    batch_free(b);
    return err;
}
