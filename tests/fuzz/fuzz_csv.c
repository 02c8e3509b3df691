/* Fuzz target: the CSV line splitter and the cleaning scan of io/ts_csv.h.
 *
 * Input: bytes 0-2 configure the scan, the rest is the file's content.
 *   byte 0  bits 0-1 delimiter (, ; | tab), bit 2 quote (" or '), bit 3 no_trim, bit 4 skip_blank,
 *           bits 5-6 header (by name, none, by position, by name), bit 7 fail=null on every checked column
 *   byte 1  nullable bit per column
 *   byte 2  check order (rotates the columns' check ranks) and where the content is cut in two ranges
 * The spec has one column of every kind (see csv_spec), with bounds, accepted values and a pattern.
 *
 * Invariants checked:
 *   - every line's fields from the splitter equal those of a naive RFC 4180 state machine (count, bytes after
 *     trimming); a line without a quote byte has 1 + (number of delimiters) fields
 *   - clean rows + rejects = the data lines, counted independently (header and skipped blank lines left out)
 *   - scanning [0, cut) and [cut, len) gives the same line, clean and reject counts and reasons as one scan
 *   - clean values satisfy their rules (ranges, accepted values, pattern, positive amounts); rejects keep
 *     their raw line bytes and a known reason */
#include <regex.h>

#include "ts_csv.h"
#include "ts_date.h"
#include "ts_fuzz.h"

#define CSV_NFIELDS 8
#define CSV_MAX_CHECKED_LINES 256

static regex_t csv_pattern;
static ts_dict *csv_currencies;

TS_FUZZ_INIT(csv)
{
    (void)argc, (void)argv;
    static const char *const ccy[] = {"usd", "eur", "gbp"};
    if (regcomp(&csv_pattern, "^([a-z]*)$", REG_EXTENDED | REG_NOSUB) != 0 || ts_dict_new(ccy, 3, &csv_currencies))
        abort();
    return 0;
}

/* id int64 [0, 10^12] | day date >= 2000-01-01 | ccy category | amount decimal(18,2) > 0, missing = 9 |
 * note string [a-z]* | rate float64 | flag bool | extra skip. Reasons: 0 malformed, i + 1 for column i. */
static void csv_spec(const uint8_t *cfg, ts_csv_spec *spec)
{
    static const char *const names[CSV_NFIELDS] = {"id", "day", "ccy", "amount", "note", "rate", "flag", "extra"};
    static const ts_rule_kind kinds[CSV_NFIELDS] = {TS_RULE_INT64,  TS_RULE_DATE,    TS_RULE_CATEGORY,
                                                    TS_RULE_DECIMAL, TS_RULE_STRING, TS_RULE_FLOAT64,
                                                    TS_RULE_BOOL,   TS_RULE_SKIP};
    static const char delims[4] = {',', ';', '|', '\t'};
    static ts_csv_field fields[CSV_NFIELDS];
    memset(spec, 0, sizeof *spec);
    spec->fields = fields, spec->nfields = CSV_NFIELDS;
    spec->delim = delims[cfg[0] & 3];
    spec->quote = cfg[0] & 4 ? '\'' : '"';
    spec->no_trim = cfg[0] >> 3 & 1, spec->skip_blank = cfg[0] >> 4 & 1;
    spec->no_header = (cfg[0] >> 5 & 3) == 1, spec->header_by_position = (cfg[0] >> 5 & 3) == 2;
    spec->hash_rows = 1;
    for (int i = 0; i < CSV_NFIELDS; i++) {
        ts_csv_field *f = &spec->fields[i];
        f->name = names[i], f->kind = kinds[i];
        f->reason_invalid = i + 1, f->reason_missing = -1;
        f->check_rank = (i + cfg[2]) % CSV_NFIELDS;
        f->nullable = cfg[1] >> i & 1, f->fail_to_null = cfg[0] >> 7;
    }
    spec->fields[0].has_min = spec->fields[0].has_max = 1, spec->fields[0].max = INT64_C(1000000000000);
    spec->fields[1].has_min = 1, spec->fields[1].min = ts_days_from_civil(2000, 1, 1);
    spec->fields[2].accepted = csv_currencies;
    spec->fields[3].scale = 2, spec->fields[3].max_int_digits = 16, spec->fields[3].positive = 1;
    spec->fields[3].reason_missing = 9;
    spec->fields[4].pattern = &csv_pattern;
}

/* ---- the naive splitter --------------------------------------------------------------------------------- */

typedef struct csv_ref_field {
    int64_t start, len; /* in the reference's own buffer */
} csv_ref_field;

/* RFC 4180 as ts_csv.h describes it, one byte at a time: the fields' bytes (unescaped) go to buf, their
 * positions to fields. Returns the field count or -1 for bad quoting. */
static int csv_ref_split(const char *s, int64_t n, char delim, char quote, int trim, char *buf,
                         csv_ref_field *fields, int max)
{
    int nf = 0;
    int64_t i = 0, w = 0;
    for (;;) {
        const int64_t start = w;
        if (i < n && s[i] == quote) {
            i++;
            for (;;) {
                if (i == n)
                    return -1;
                if (s[i] == quote) {
                    if (i + 1 < n && s[i + 1] == quote) {
                        buf[w++] = quote, i += 2;
                        continue;
                    }
                    i++;
                    break;
                }
                buf[w++] = s[i++];
            }
            if (i < n && s[i] != delim)
                return -1;
        } else {
            while (i < n && s[i] != delim)
                buf[w++] = s[i++];
        }
        int64_t a = start, b = w;
        while (trim && a < b && (buf[a] == ' ' || buf[a] == '\t'))
            a++;
        while (trim && b > a && (buf[b - 1] == ' ' || buf[b - 1] == '\t'))
            b--;
        if (nf < max)
            fields[nf] = (csv_ref_field){a, b - a};
        nf++;
        if (i >= n)
            return nf;
        i++; /* the delimiter */
    }
}

static void csv_check_split(const char *line, int64_t n, const ts_csv_spec *spec)
{
    int slot[TS_MAX_COLS];
    const char *ptr[TS_MAX_COLS];
    uint32_t len[TS_MAX_COLS];
    csv_ref_field ref[TS_MAX_COLS];
    for (int i = 0; i < TS_MAX_COLS; i++)
        slot[i] = i;
    char *scratch = malloc((size_t)n + 1), *cursor = scratch, *buf = malloc((size_t)n + 1);
    if (!scratch || !buf)
        abort();
    const int trim = !spec->no_trim;
    const int nf = ts_csv_split_line_ex(line, n, spec->delim, spec->quote, trim, slot, TS_MAX_COLS, ptr, len,
                                        &cursor);
    const int want = csv_ref_split(line, n, spec->delim, spec->quote, trim, buf, ref, TS_MAX_COLS);
    TS_FUZZ_ASSERT(nf == want);
    TS_FUZZ_ASSERT(cursor >= scratch && cursor <= scratch + n);
    for (int f = 0; f < nf && f < TS_MAX_COLS; f++)
        TS_FUZZ_ASSERT(len[f] == ref[f].len && memcmp(ptr[f], buf + ref[f].start, len[f]) == 0);
    if (!memchr(line, spec->quote, (size_t)n)) {
        int delims = 0;
        for (int64_t i = 0; i < n; i++)
            delims += line[i] == spec->delim;
        TS_FUZZ_ASSERT(nf == 1 + delims);
    }
    if (spec->delim == ',' && spec->quote == '"' && trim) { /* the default entry point is the same splitter */
        const char *p2[TS_MAX_COLS];
        uint32_t l2[TS_MAX_COLS];
        char *c2 = scratch;
        TS_FUZZ_ASSERT(ts_csv_split_line(line, n, slot, TS_MAX_COLS, p2, l2, &c2) == nf);
    }
    free(scratch), free(buf);
}

/* ---- the scan ------------------------------------------------------------------------------------------- */

typedef struct csv_result {
    int64_t lines, clean, rejects;
    ts_csv_sink sink;
} csv_result;

static void csv_scan(const ts_csv_spec *spec, const ts_csv_layout *layout, const char *data, int64_t len,
                     int64_t begin, int64_t end, csv_result *r)
{
    TS_FUZZ_ASSERT(ts_csv_sink_new(spec, &r->sink) == TS_OK);
    TS_FUZZ_ASSERT(ts_csv_scan_range(spec, layout, 7, data, len, begin, end, &r->sink, &r->lines) == TS_OK);
    r->clean = ts_table_rows(r->sink.clean), r->rejects = ts_table_rows(r->sink.rejects);
}

/* Data lines of data[0..len), counted without the scanner: every line start, minus the header and blanks. */
static int64_t csv_data_lines(const ts_csv_spec *spec, const ts_csv_layout *layout, const char *data, int64_t len,
                              int64_t *all)
{
    int64_t rows = 0, idx = 0;
    for (int64_t pos = 0; pos < len; idx++) {
        int64_t stop = pos;
        while (stop < len && data[stop] != '\n')
            stop++;
        int64_t start = pos, ll;
        if (pos == 0 && ts_csv_bom(data, stop))
            start = 3;
        ll = stop - start;
        if (ll && data[stop - 1] == '\r')
            ll--;
        rows += !(idx == 0 && layout->skip_line1) && !(ll == 0 && spec->skip_blank);
        pos = stop + 1;
    }
    *all = idx;
    return rows;
}

static void csv_check_clean(const ts_csv_spec *spec, const ts_table *clean)
{
    const int64_t n = ts_table_rows(clean);
    for (int c = 0; c < clean->ncols; c++)
        TS_FUZZ_ASSERT(clean->cols[c]->len == n);
    const ts_column *id = clean->cols[0], *day = clean->cols[1], *ccy = clean->cols[2], *amount = clean->cols[3],
                    *note = clean->cols[4];
    for (int64_t i = 0; i < n; i++) {
        if (ts_column_is_valid(id, i))
            TS_FUZZ_ASSERT(TS_COL(id, int64_t)[i] >= 0 && TS_COL(id, int64_t)[i] <= spec->fields[0].max);
        if (ts_column_is_valid(day, i))
            TS_FUZZ_ASSERT(TS_COL(day, int32_t)[i] >= spec->fields[1].min);
        if (ts_column_is_valid(ccy, i))
            TS_FUZZ_ASSERT(TS_COL(ccy, int32_t)[i] >= 0 && TS_COL(ccy, int32_t)[i] < 3);
        if (ts_column_is_valid(amount, i))
            TS_FUZZ_ASSERT(TS_COL(amount, int64_t)[i] > 0);
        const int64_t *off = TS_COL(note, int64_t);
        TS_FUZZ_ASSERT(off[i] <= off[i + 1] && off[i + 1] <= note->nbytes);
        for (int64_t k = off[i]; ts_column_is_valid(note, i) && k < off[i + 1]; k++)
            TS_FUZZ_ASSERT(note->bytes[k] >= 'a' && note->bytes[k] <= 'z');
    }
}

static void csv_check_rejects(const ts_table *rej, const char *data, int64_t len)
{
    const ts_column *reason = rej->cols[2], *raw = rej->cols[3];
    const int64_t *off = TS_COL(raw, int64_t);
    for (int64_t i = 0; i < ts_table_rows(rej); i++) {
        const int32_t r = TS_COL(reason, int32_t)[i];
        TS_FUZZ_ASSERT(r >= 0 && r <= 9 && r != 8); /* column 7 is skipped: never a reason */
        const int64_t rl = off[i + 1] - off[i];
        TS_FUZZ_ASSERT(rl >= 0 && rl <= len);
        TS_FUZZ_ASSERT(rl == 0 || memmem(data, (size_t)len, raw->bytes + off[i], (size_t)rl) != NULL);
    }
}

TS_FUZZ_ENTRY(csv)
{
    if (size < 3)
        return 0;
    ts_csv_spec spec;
    csv_spec(data, &spec);
    const char *text = (const char *)data + 3;
    const int64_t len = (int64_t)size - 3;

    int checked = 0; /* the splitter, line by line */
    for (int64_t pos = 0; pos < len && checked < CSV_MAX_CHECKED_LINES; checked++) {
        const char *nl = memchr(text + pos, '\n', (size_t)(len - pos));
        const int64_t stop = nl ? nl - text : len;
        csv_check_split(text + pos, stop - pos, &spec);
        pos = stop + 1;
    }

    ts_csv_layout layout;
    ts_csv_layout_from_header(&spec, text, len, &layout);
    TS_FUZZ_ASSERT(layout.nphys >= 1 && layout.nphys <= TS_CSV_MAX_FIELDS);
    csv_result whole = {0}, a = {0}, b = {0};
    csv_scan(&spec, &layout, text, len, 0, len, &whole);
    int64_t all_lines;
    const int64_t rows = csv_data_lines(&spec, &layout, text, len, &all_lines);
    TS_FUZZ_ASSERT(whole.lines == all_lines);
    TS_FUZZ_ASSERT(whole.clean + whole.rejects == rows);
    csv_check_clean(&spec, whole.sink.clean);
    csv_check_rejects(whole.sink.rejects, text, len);

    const int64_t cut = len ? (int64_t)((uint64_t)data[2] * (uint64_t)len / 256) : 0;
    csv_scan(&spec, &layout, text, len, 0, cut, &a);
    csv_scan(&spec, &layout, text, len, cut, len, &b);
    TS_FUZZ_ASSERT(a.lines + b.lines == whole.lines);
    TS_FUZZ_ASSERT(a.clean + b.clean == whole.clean && a.rejects + b.rejects == whole.rejects);
    const ts_column *wr = whole.sink.rejects->cols[2], *ar = a.sink.rejects->cols[2], *br = b.sink.rejects->cols[2];
    for (int64_t i = 0; i < whole.rejects; i++) {
        const int32_t r = i < a.rejects ? TS_COL(ar, int32_t)[i] : TS_COL(br, int32_t)[i - a.rejects];
        TS_FUZZ_ASSERT(r == TS_COL(wr, int32_t)[i]);
    }
    ts_csv_sink_free(&whole.sink), ts_csv_sink_free(&a.sink), ts_csv_sink_free(&b.sink);
    return 0;
}
