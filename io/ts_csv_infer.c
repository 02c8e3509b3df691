#include "ts_csv_infer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ts_date.h"
#include "ts_parse.h"

/* Candidate types in the order they are tried; a column keeps a bit per type that every value so far fits. */
enum { FIT_BOOL = 1, FIT_INT = 2, FIT_DOUBLE = 4, FIT_DATE = 8, FIT_TIMESTAMP = 16, FIT_ALL = 31 };

#define DETECT_LINES 64

/* ---- sniffing one value (DuckDB's sniffer is stricter than its casts: no '+', no leading zeros) ----------- */

static int lower_is(const char *s, size_t n, const char *word)
{
    if (strlen(word) != n)
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((char)(s[i] | 0x20) != word[i])
            return 0;
    return 1;
}

/* "0", "-0", "-05" are numbers; "007", "00.5" are not (codes, zip codes ...). */
static int leading_zero(const char *s, size_t n)
{
    return n > 1 && s[0] == '0' && (unsigned)(s[1] - '0') <= 9;
}

static unsigned fits(const char *s, size_t n, unsigned candidates)
{
    unsigned ok = 0;
    if ((candidates & FIT_BOOL) &&
        (lower_is(s, n, "true") || lower_is(s, n, "false") || lower_is(s, n, "t") || lower_is(s, n, "f")))
        ok |= FIT_BOOL;
    if ((candidates & (FIT_INT | FIT_DOUBLE)) && n && s[0] != '+' && !leading_zero(s, n)) {
        int64_t i;
        double d;
        if ((candidates & FIT_INT) && ts_parse_int64(s, n, &i))
            ok |= FIT_INT | FIT_DOUBLE;
        else if ((candidates & FIT_DOUBLE) && ts_parse_float64(s, n, &d))
            ok |= FIT_DOUBLE;
    }
    int32_t days;
    if ((candidates & FIT_DATE) && n == 10 && ts_parse_date_forms(s, n, TS_DATE_ISO, &days))
        ok |= FIT_DATE; /* not a timestamp: a column mixing dates and timestamps is VARCHAR (DuckDB) */
    else if ((candidates & FIT_TIMESTAMP) && ts_is_timestamp_text(s, n))
        ok |= FIT_TIMESTAMP;
    return ok & candidates;
}

static ts_type type_of(unsigned mask)
{
    return mask & FIT_BOOL     ? TS_T_BOOL
           : mask & FIT_INT    ? TS_T_INT64
           : mask & FIT_DOUBLE ? TS_T_FLOAT64
           : mask & FIT_DATE   ? TS_T_DATE
           : mask & FIT_TIMESTAMP ? TS_T_TIMESTAMP
                               : TS_T_STRING;
}

/* ---- lines ------------------------------------------------------------------------------------------------ */

typedef struct lines {
    const char **ptr;
    int64_t *len;
    int64_t n, cap, longest;
} lines;

/* Up to max lines of data[0..len) ('\r' before '\n' dropped); blank lines after line 1 are left out. */
static ts_err collect_lines(const char *data, int64_t len, int64_t max, lines *out)
{
    memset(out, 0, sizeof *out);
    for (int64_t pos = 0; pos < len && out->n < max;) {
        const char *nl = memchr(data + pos, '\n', (size_t)(len - pos));
        const int64_t stop = nl ? nl - data : len;
        int64_t ll = stop - pos;
        if (ll && data[stop - 1] == '\r')
            ll--;
        if (ll || out->n == 0) {
            if (out->n == out->cap) {
                const int64_t cap = out->cap ? out->cap * 2 : 1024;
                const char **p = realloc(out->ptr, sizeof *p * (size_t)cap);
                if (p)
                    out->ptr = p;
                int64_t *l = p ? realloc(out->len, sizeof *l * (size_t)cap) : NULL;
                if (!l)
                    TS_FAIL(TS_ERR_NOMEM, "out of memory sampling CSV lines");
                out->len = l, out->cap = cap;
            }
            out->ptr[out->n] = data + pos, out->len[out->n++] = ll;
            if (ll > out->longest)
                out->longest = ll;
        }
        pos = stop + 1;
    }
    return TS_OK;
}

static void lines_free(lines *l)
{
    free(l->ptr), free(l->len);
    memset(l, 0, sizeof *l);
}

/* Per-line field arrays for the sampling (TS_CSV_MAX_FIELDS entries each, on the heap: a wide file's would not
 * fit a stack frame comfortably), and the scratch for unescaped quoted fields. */
typedef struct work {
    int *identity;
    const char **ptr;
    uint32_t *len;
    char *scratch;
} work;

static void work_free(work *w) { free(w->identity), free(w->ptr), free(w->len), free(w->scratch); }

static ts_err work_new(int64_t longest, work *w)
{
    w->identity = malloc(sizeof *w->identity * TS_CSV_MAX_FIELDS);
    w->ptr = malloc(sizeof *w->ptr * TS_CSV_MAX_FIELDS), w->len = malloc(sizeof *w->len * TS_CSV_MAX_FIELDS);
    w->scratch = malloc((size_t)longest + 1);
    if (!w->identity || !w->ptr || !w->len || !w->scratch) {
        work_free(w);
        TS_FAIL(TS_ERR_NOMEM, "out of memory sampling CSV lines");
    }
    for (int i = 0; i < TS_CSV_MAX_FIELDS; i++)
        w->identity[i] = i;
    return TS_OK;
}

/* Splits line k untrimmed into w->ptr/len (TS_CSV_MAX_FIELDS fields at most stored). Returns the field count
 * (which may exceed what is stored) or -1. */
static int split(const lines *l, int64_t k, char delim, char quote, work *w)
{
    char *cursor = w->scratch;
    return ts_csv_split_line_ex(l->ptr[k], l->len[k], delim, quote, 0, w->identity, TS_CSV_MAX_FIELDS, w->ptr, w->len,
                                &cursor);
}

/* The candidate splitting the most of the first lines into line 1's field count (> 1); ties go to more fields,
 * then to the earlier candidate. */
static char detect_delim(const lines *l, char quote, work *w)
{
    static const char cand[] = {',', '|', ';', '\t'};
    char best = ',';
    int64_t best_score = 0;
    int best_nf = 0;
    for (int c = 0; c < 4; c++) {
        const int nf = split(l, 0, cand[c], quote, w);
        if (nf < 2)
            continue;
        int64_t score = 0;
        for (int64_t k = 0; k < l->n && k < DETECT_LINES; k++)
            score += split(l, k, cand[c], quote, w) == nf;
        if (score > best_score || (score == best_score && nf > best_nf))
            best = cand[c], best_score = score, best_nf = nf;
    }
    return best;
}

/* ---- names ------------------------------------------------------------------------------------------------ */

static int name_taken(const ts_csv_inferred *inf, int upto, const char *name)
{
    if (strcmp(name, "__pos") == 0 || strcmp(name, "__line") == 0)
        return 1;
    for (int i = 0; i < upto; i++)
        if (strcmp(inf->names[i], name) == 0)
            return 1;
    return 0;
}

/* ---- the spec --------------------------------------------------------------------------------------------- */

const char *ts_csv_sql_type_name(ts_type t, int precision, int scale, char *buf, size_t cap)
{
    switch (t) {
    case TS_T_BOOL: snprintf(buf, cap, "BOOLEAN"); break;
    case TS_T_INT32: snprintf(buf, cap, "INTEGER"); break;
    case TS_T_INT64: snprintf(buf, cap, "BIGINT"); break;
    case TS_T_FLOAT64: snprintf(buf, cap, "DOUBLE"); break;
    case TS_T_DATE: snprintf(buf, cap, "DATE"); break;
    case TS_T_TIMESTAMP: snprintf(buf, cap, "TIMESTAMP"); break;
    case TS_T_DECIMAL: snprintf(buf, cap, "DECIMAL(%d,%d)", precision, scale); break;
    default: snprintf(buf, cap, "VARCHAR"); break;
    }
    return buf;
}

/* Field i of the spec for a column of type t (decimal: precision p, scale s). */
static ts_err set_field(ts_csv_inferred *inf, int i, ts_type t, int p, int s)
{
    ts_csv_field *f = &inf->spec.fields[i];
    memset(f, 0, sizeof *f);
    f->name = inf->names[i];
    f->nullable = 1;
    f->reason_invalid = i + 1, f->reason_missing = -1, f->check_rank = i;
    inf->types[i] = t, inf->scales[i] = 0;
    switch (t) {
    case TS_T_BOOL: f->kind = TS_RULE_BOOL; break;
    case TS_T_INT32:
        f->kind = TS_RULE_INT64, inf->types[i] = TS_T_INT64;
        f->has_min = f->has_max = 1, f->min = INT32_MIN, f->max = INT32_MAX;
        break;
    case TS_T_INT64: f->kind = TS_RULE_INT64; break;
    case TS_T_FLOAT64: f->kind = TS_RULE_FLOAT64; break;
    case TS_T_DATE: f->kind = TS_RULE_DATE, f->date_forms = TS_DATE_ISO; break;
    case TS_T_TIMESTAMP: f->kind = TS_RULE_TIMESTAMP; break;
    case TS_T_STRING: f->kind = TS_RULE_STRING; break;
    case TS_T_DECIMAL:
        if (s < 0 || s > 9 || p <= s || p > 18)
            TS_FAIL(TS_ERR_USAGE, "column '%s': DECIMAL(%d,%d) is not supported by read_csv (scale at most 9, "
                                  "precision above the scale and at most 18)", inf->names[i], p, s);
        f->kind = TS_RULE_DECIMAL, f->scale = s, f->max_int_digits = p - s, inf->scales[i] = s;
        break;
    default: {
        char tn[32];
        TS_FAIL(TS_ERR_USAGE, "column '%s': read_csv cannot read a column as %s", inf->names[i],
                ts_type_name(t, 0, tn, sizeof tn));
    }
    }
    return TS_OK;
}

static int find_column(const ts_csv_inferred *inf, const char *name)
{
    for (int i = 0; i < inf->ncols; i++)
        if (strcmp(inf->names[i], name) == 0)
            return i;
    int found = -1; /* then case-insensitively, when that is unambiguous (SQL names ignore case) */
    for (int i = 0; i < inf->ncols; i++)
        if (strcasecmp(inf->names[i], name) == 0) {
            if (found >= 0)
                return -1;
            found = i;
        }
    return found;
}

static ts_err apply_overrides(ts_csv_inferred *inf, const ts_csv_infer_opts *o)
{
    for (int k = 0; k < o->ncolumns; k++) {
        const ts_csv_column_type *c = &o->columns[k];
        const int i = find_column(inf, c->name);
        if (i < 0) {
            char list[1024] = "";
            for (int j = 0; j < inf->ncols && strlen(list) < sizeof list - TS_NAME_MAX - 8; j++)
                snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", j ? ", " : "", inf->names[j]);
            TS_FAIL(TS_ERR_USAGE, "read_csv columns: '%s' is not a column of the file (its columns: %s)", c->name,
                    list);
        }
        TS_TRY(set_field(inf, i, c->type, c->precision, c->scale));
    }
    return TS_OK;
}

/* columns_all: the listed columns are the file's columns, in order. */
static ts_err set_all_columns(ts_csv_inferred *inf, const ts_csv_infer_opts *o)
{
    if (o->ncolumns < 1 || o->ncolumns > TS_CSV_MAX_FIELDS)
        TS_FAIL(TS_ERR_USAGE, "read_csv columns: 1 to %d columns, not %d", TS_CSV_MAX_FIELDS, o->ncolumns);
    TS_TRY(ts_csv_inferred_alloc(inf, o->ncolumns));
    for (int i = 0; i < o->ncolumns; i++) {
        const char *name = o->columns[i].name;
        if (!name[0] || strlen(name) >= TS_NAME_MAX)
            TS_FAIL(TS_ERR_USAGE, "read_csv columns: column names need 1 to %d bytes ('%.70s')", TS_NAME_MAX - 1,
                    name);
        if (name_taken(inf, i, name))
            TS_FAIL(TS_ERR_USAGE, "read_csv columns: '%s' is listed twice (or is reserved)", name);
        strcpy(inf->names[i], name);
        TS_TRY(set_field(inf, i, o->columns[i].type, o->columns[i].precision, o->columns[i].scale));
    }
    return TS_OK;
}

/* ---- sampling --------------------------------------------------------------------------------------------- */

typedef struct sample {          /* arrays of nf entries */
    unsigned *mask;              /* types every non-empty value of rows 2.. fits */
    int *seen;                   /* a non-empty value occurred in rows 2.. */
    unsigned *first;             /* types line 1's value fits (FIT_ALL when empty) */
    int *first_empty;
    int64_t rows;                /* rows 2.. sampled */
} sample;

static void sample_free(sample *sm) { free(sm->mask), free(sm->seen), free(sm->first), free(sm->first_empty); }

static ts_err sample_rows(const lines *l, int nf, char delim, char quote, work *w, sample *sm)
{
    memset(sm, 0, sizeof *sm);
    sm->mask = calloc((size_t)nf, sizeof *sm->mask), sm->seen = calloc((size_t)nf, sizeof *sm->seen);
    sm->first = calloc((size_t)nf, sizeof *sm->first), sm->first_empty = calloc((size_t)nf, sizeof *sm->first_empty);
    if (!sm->mask || !sm->seen || !sm->first || !sm->first_empty) {
        sample_free(sm);
        TS_FAIL(TS_ERR_NOMEM, "out of memory sampling %d CSV columns", nf);
    }
    for (int c = 0; c < nf; c++)
        sm->mask[c] = FIT_ALL;
    for (int64_t k = 0; k < l->n; k++) {
        if (split(l, k, delim, quote, w) != nf)
            continue; /* malformed: the scan rejects it */
        sm->rows += k > 0;
        for (int c = 0; c < nf; c++) {
            const char *s = w->ptr[c];
            size_t n = w->len[c];
            ts_trim(&s, &n);
            if (k == 0) {
                sm->first_empty[c] = n == 0;
                sm->first[c] = n ? fits(s, n, FIT_ALL) : FIT_ALL;
            } else if (n) {
                sm->seen[c] = 1;
                if (sm->mask[c])
                    sm->mask[c] = fits(s, n, sm->mask[c]);
            }
        }
    }
    return TS_OK;
}

/* Header detection from the sample; see the header comment. */
static int detect_header(const sample *sm, int nf)
{
    if (sm->rows == 0) {
        for (int c = 0; c < nf; c++)
            if (!sm->first_empty[c] && sm->first[c] == 0)
                return 1;
        return 0;
    }
    int all_text = 1, mismatch = 0;
    for (int c = 0; c < nf; c++) {
        const unsigned chosen = sm->seen[c] ? sm->mask[c] & (0u - sm->mask[c]) : 0; /* lowest bit: the type */
        all_text &= chosen == 0;
        mismatch |= chosen && !sm->first_empty[c] && !(sm->first[c] & chosen);
    }
    return all_text || mismatch;
}

/* Header detection against given types: line 1 is a header when every column is VARCHAR or one of its values does
 * not fit its column's type (what DuckDB does with columns=). */
static int header_for_types(const ts_csv_inferred *inf, const char *const *ptr, const uint32_t *len)
{
    int all_text = 1, mismatch = 0;
    for (int c = 0; c < inf->ncols; c++) {
        const ts_type t = inf->types[c];
        const unsigned want = t == TS_T_BOOL                             ? FIT_BOOL
                              : t == TS_T_INT64                          ? FIT_INT
                              : t == TS_T_FLOAT64 || t == TS_T_DECIMAL   ? FIT_DOUBLE
                              : t == TS_T_DATE                           ? FIT_DATE
                              : t == TS_T_TIMESTAMP                      ? FIT_TIMESTAMP
                                                                         : 0;
        const char *s = ptr[c];
        size_t n = len[c];
        ts_trim(&s, &n);
        all_text &= want == 0;
        mismatch |= want && n && !(fits(s, n, FIT_ALL) & want);
    }
    return all_text || mismatch;
}

static ts_err infer_lines(const lines *l, const ts_csv_infer_opts *o, char quote, work *w, ts_csv_inferred *out)
{
    const int nf = split(l, 0, out->delim, quote, w);
    if (nf < 0)
        TS_FAIL(TS_ERR_DATA, "line 1 is not valid CSV (a quote is not closed, or text follows a closing quote)");
    if (nf > TS_CSV_MAX_FIELDS)
        TS_FAIL(TS_ERR_DATA, "line 1 has %d fields: read_csv reads at most %d columns", nf, TS_CSV_MAX_FIELDS);
    if (o->columns_all) {
        /* dbgen's .tbl lines end with the delimiter: one empty field more than the columns, ignored (DuckDB) */
        out->trailing_field = nf == o->ncolumns + 1 && w->len[nf - 1] == 0;
        if (nf != o->ncolumns && !out->trailing_field)
            TS_FAIL(TS_ERR_DATA, "read_csv columns lists %d columns but line 1 has %d fields", o->ncolumns, nf);
        TS_TRY(set_all_columns(out, o));
        out->header = o->header >= 0 ? o->header : header_for_types(out, w->ptr, w->len);
        return TS_OK;
    }
    sample sm;
    TS_TRY(sample_rows(l, nf, out->delim, quote, w, &sm));
    out->header = o->header >= 0 ? o->header : detect_header(&sm, nf);
    ts_err err = ts_csv_inferred_alloc(out, nf);
    if (!err) {
        split(l, 0, out->delim, quote, w); /* sampling reused the scratch */
        for (int c = 0; c < nf; c++)
            ts_csv_header_name(out->names, c, nf, out->header ? w->ptr[c] : "", out->header ? w->len[c] : 0);
        out->sampled_rows = sm.rows + !out->header;
    }
    for (int c = 0; !err && c < nf; c++) {
        unsigned mask = sm.mask[c];
        int seen = sm.seen[c];
        if (!out->header && !sm.first_empty[c])
            mask &= sm.first[c], seen = 1;
        err = set_field(out, c, seen ? type_of(mask) : TS_T_STRING, 0, 0);
    }
    sample_free(&sm);
    TS_TRY(err);
    return apply_overrides(out, o);
}

ts_err ts_csv_infer(const char *data, int64_t len, const ts_csv_infer_opts *opts, ts_csv_inferred *out)
{
    static const ts_csv_infer_opts defaults = {.header = -1};
    const ts_csv_infer_opts *o = opts ? opts : &defaults;
    memset(out, 0, sizeof *out);
    const int bom = ts_csv_bom(data, len);
    data += bom, len -= bom;
    if (len <= 0)
        TS_FAIL(TS_ERR_DATA, "the file is empty: no columns to read");
    if (ts_csv_cr_only(data, len))
        TS_FAIL(TS_ERR_DATA, "line 1 holds carriage returns that are not followed by line feeds: the file seems to "
                "use old Mac (CR-only) line endings, which read_csv does not read as line breaks (convert them, "
                "e.g. tr '\\r' '\\n' < in > out)");
    const int64_t sample = o->sample_rows > 0 ? o->sample_rows : TS_CSV_SAMPLE_ROWS;
    const char quote = o->quote ? o->quote : '"';
    lines l;
    work w = {0};
    ts_err err = collect_lines(data, len, sample < INT64_MAX ? sample + 1 : sample, &l); /* + line 1 */
    if (!err)
        err = work_new(l.longest, &w);
    if (!err) {
        out->delim = o->delim ? o->delim : detect_delim(&l, quote, &w);
        err = infer_lines(&l, o, quote, &w, out);
    }
    work_free(&w);
    lines_free(&l);
    if (err) {
        ts_csv_inferred_free(out);
        return err;
    }
    ts_csv_spec *sp = &out->spec;
    sp->nfields = out->ncols;
    if (out->trailing_field) { /* a field counted but never read or kept */
        ts_csv_field *f = &sp->fields[sp->nfields++];
        memset(f, 0, sizeof *f);
        f->kind = TS_RULE_SKIP, f->name = out->names[out->ncols], f->nullable = 1, f->reason_missing = -1;
        f->check_rank = out->ncols;
    }
    sp->reason_malformed = 0;
    sp->delim = out->delim, sp->quote = o->quote;
    sp->no_header = !out->header;
    sp->header_by_position = out->header && o->columns_all; /* columns= names them: by position */
    sp->header_sql_names = out->header && !o->columns_all;  /* every file's header, matched by name */
    sp->no_trim = 1, sp->skip_blank = out->ncols > 1;
    return TS_OK;
}

ts_err ts_csv_inferred_alloc(ts_csv_inferred *inf, int ncols)
{
    const size_t n = (size_t)(ncols > 0 ? ncols : 0) + 1; /* + a dbgen trailing field's slot (ts_csv_infer) */
    free(inf->names), free(inf->types), free(inf->scales), free(inf->fields);
    inf->names = calloc(n, sizeof *inf->names), inf->types = calloc(n, sizeof *inf->types);
    inf->scales = calloc(n, sizeof *inf->scales), inf->fields = calloc(n, sizeof *inf->fields);
    inf->ncols = ncols, inf->spec.fields = inf->fields, inf->spec.nfields = ncols;
    if (!inf->names || !inf->types || !inf->scales || !inf->fields) {
        ts_csv_inferred_free(inf);
        TS_FAIL(TS_ERR_NOMEM, "out of memory for %d CSV columns", ncols);
    }
    return TS_OK;
}

ts_err ts_csv_inferred_copy(ts_csv_inferred *dst, const ts_csv_inferred *src)
{
    *dst = *src;
    dst->names = NULL, dst->types = NULL, dst->scales = NULL, dst->fields = NULL;
    TS_TRY(ts_csv_inferred_alloc(dst, src->ncols));
    const size_t n = (size_t)src->ncols + 1; /* with the trailing field's slot */
    memcpy(dst->names, src->names, sizeof *dst->names * n), memcpy(dst->types, src->types, sizeof *dst->types * n);
    memcpy(dst->scales, src->scales, sizeof *dst->scales * n), memcpy(dst->fields, src->fields, sizeof *dst->fields * n);
    dst->spec.nfields = src->spec.nfields;
    ts_csv_inferred_rebind(dst);
    return TS_OK;
}

void ts_csv_inferred_free(ts_csv_inferred *inf)
{
    free(inf->names), free(inf->types), free(inf->scales), free(inf->fields);
    inf->names = NULL, inf->types = NULL, inf->scales = NULL, inf->fields = NULL;
    inf->ncols = 0, inf->spec.fields = NULL, inf->spec.nfields = 0;
}

void ts_csv_inferred_rebind(ts_csv_inferred *inf)
{
    inf->spec.fields = inf->fields;
    for (int i = 0; i < inf->spec.nfields; i++) {
        inf->fields[i].name = inf->names[i];
        inf->fields[i].accepted = NULL, inf->fields[i].pattern = NULL;
    }
}

const char *ts_csv_inferred_reason(const ts_csv_inferred *inf, int reason)
{
    static char buf[TS_NAME_MAX + 96];
    if (reason == 0)
        return "malformed row (wrong number of fields or bad quoting)";
    if (reason < 1 || reason > inf->ncols) {
        snprintf(buf, sizeof buf, "unknown reason %d", reason);
        return buf;
    }
    const ts_csv_field *f = &inf->spec.fields[reason - 1];
    char tn[32];
    ts_type t = inf->types[reason - 1];
    if (f->kind == TS_RULE_INT64 && f->has_min && f->min == INT32_MIN)
        t = TS_T_INT32;
    snprintf(buf, sizeof buf, "column '%s': value does not parse as %s", inf->names[reason - 1],
             ts_csv_sql_type_name(t, f->max_int_digits + f->scale, f->scale, tn, sizeof tn));
    return buf;
}
