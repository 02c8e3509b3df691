/* Fuzz target: the rules-file parser (io/ts_rules.h, docs/rules-format.md), then a scan with the parsed rules.
 *
 * Input: the rules text, optionally followed by a NUL byte and CSV content; without one, a small CSV made of
 * the declared columns' names and two rows of sample values is scanned instead.
 *
 * Invariants checked on every accepted rules text (a line of more than 64 words is refused):
 *   - a table name, 1 to TS_RULES_MAX_REASONS distinct reasons, 1 to TS_MAX_COLS columns with distinct names,
 *     every reason code (malformed, duplicates, reject, missing, table rules) names a listed reason
 *   - table rules are in their reasons' precedence and name declared columns
 *   - a field's check rank is its most important reason (or after all reasons)
 *   - accepted values (1 to 64) are stored folded to the field's case
 *   - a category without values= is reported by ts_rules_check_complete; @FILE references get a fixed list
 *   - the spec makes the scan's tables (names fit and are not reserved) and scans the CSV: clean rows + rejects
 *     = the data lines */
#include "ts_fuzz.h"
#include "ts_rules.h"

TS_FUZZ_INIT(rules)
{
    (void)argc, (void)argv;
    return 0;
}

static void rules_check(const ts_rules *r)
{
    TS_FUZZ_ASSERT(r->table[0] && strlen(r->table) < TS_NAME_MAX);
    TS_FUZZ_ASSERT(r->nreasons >= 1 && r->nreasons <= TS_RULES_MAX_REASONS);
    for (int i = 0; i < r->nreasons; i++)
        for (int j = 0; j < i; j++)
            TS_FUZZ_ASSERT(strcmp(r->reasons[i], r->reasons[j]) != 0);
    const ts_csv_spec *sp = &r->spec;
    TS_FUZZ_ASSERT(sp->nfields >= 1 && sp->nfields <= TS_MAX_COLS);
    TS_FUZZ_ASSERT(sp->reason_malformed >= 0 && sp->reason_malformed < r->nreasons);
    TS_FUZZ_ASSERT(r->duplicate_reason >= -1 && r->duplicate_reason < r->nreasons);
    TS_FUZZ_ASSERT(sp->hash_rows == (r->duplicate_reason >= 0));
    for (int f = 0; f < sp->nfields; f++) {
        const ts_csv_field *fd = &sp->fields[f];
        TS_FUZZ_ASSERT(fd->name && fd->name == r->names[f] && ts_rules_field(r, fd->name) == f);
        if (fd->kind == TS_RULE_SKIP)
            continue;
        TS_FUZZ_ASSERT(fd->reason_invalid >= 0 && fd->reason_invalid < r->nreasons);
        TS_FUZZ_ASSERT(fd->reason_missing >= -1 && fd->reason_missing < r->nreasons);
        TS_FUZZ_ASSERT(fd->check_rank >= 0 && fd->check_rank <= r->nreasons);
        TS_FUZZ_ASSERT(fd->reason_missing < 0 || fd->check_rank <= fd->reason_missing);
        if (fd->kind == TS_RULE_DECIMAL)
            TS_FUZZ_ASSERT(fd->scale >= 0 && fd->scale <= 9 && fd->max_int_digits >= 1 &&
                           fd->scale + fd->max_int_digits <= 18);
        TS_FUZZ_ASSERT(!fd->pattern || (fd->pattern == &r->pattern[f] && r->has_pattern[f]));
        if (fd->accepted) {
            TS_FUZZ_ASSERT(fd->kind == TS_RULE_CATEGORY && fd->accepted->n >= 1 && fd->accepted->n <= 64);
            for (int32_t v = 0; v < fd->accepted->n; v++) {
                int64_t n;
                const char *s = ts_dict_value(fd->accepted, v, &n);
                for (int64_t k = 0; k < n; k++)
                    TS_FUZZ_ASSERT(fd->fold_upper ? !(s[k] >= 'a' && s[k] <= 'z') : !(s[k] >= 'A' && s[k] <= 'Z'));
            }
        }
    }
    TS_FUZZ_ASSERT(r->ntable_rules >= 0 && r->ntable_rules <= TS_RULES_MAX_TABLE_RULES);
    for (int i = 0; i < r->ntable_rules; i++) {
        const ts_table_rule *t = &r->table_rules[i];
        TS_FUZZ_ASSERT(t->reason >= 0 && t->reason < r->nreasons);
        TS_FUZZ_ASSERT(i == 0 || r->table_rules[i - 1].reason <= t->reason);
        TS_FUZZ_ASSERT(t->ncols >= 0 && t->ncols <= 8);
        for (int c = 0; c < t->ncols; c++)
            TS_FUZZ_ASSERT(ts_rules_field(r, t->cols[c]) >= 0);
        if (t->kind == TS_TRULE_ZSCORE || t->kind == TS_TRULE_IQR)
            TS_FUZZ_ASSERT(t->k > 0 && t->ncols == 1);
        if (t->kind == TS_TRULE_REFERENCES)
            TS_FUZZ_ASSERT(t->ncols == 1 && t->ref_file && t->ref_column && t->ref_column[0]);
    }
}

/* Header of the declared names, then one row of plausible values and one of junk. Returns a new buffer. */
static char *rules_sample_csv(const ts_rules *r, int64_t *len)
{
    static const char *const good[] = {[TS_RULE_SKIP] = "x",       [TS_RULE_INT64] = "42",
                                       [TS_RULE_DATE] = "2021-03-04", [TS_RULE_CATEGORY] = "usd",
                                       [TS_RULE_DECIMAL] = "12.5",  [TS_RULE_STRING] = "ABC",
                                       [TS_RULE_FLOAT64] = "1e3",   [TS_RULE_BOOL] = "true"};
    size_t cap = 64;
    for (int f = 0; f < r->spec.nfields; f++)
        cap += strlen(r->spec.fields[f].name) + 24;
    char *csv = malloc(cap), *w = csv;
    if (!csv)
        abort();
    for (int f = 0; f < r->spec.nfields; f++)
        w += sprintf(w, "%s%s", f ? "," : "", r->spec.fields[f].name);
    *w++ = '\n';
    for (int f = 0; f < r->spec.nfields; f++)
        w += sprintf(w, "%s%s", f ? "," : "", good[r->spec.fields[f].kind]);
    *w++ = '\n';
    for (int f = 0; f < r->spec.nfields; f++)
        w += sprintf(w, "%s%s", f ? "," : "", f % 2 ? "" : " -0 ");
    *w++ = '\n';
    *len = w - csv;
    return csv;
}

static void rules_scan(const ts_rules *r, const char *csv, int64_t len)
{
    ts_csv_layout layout;
    ts_csv_sink sink;
    int64_t lines = 0, rows = 0;
    ts_csv_layout_from_header(&r->spec, csv, len, &layout);
    const ts_err err = ts_csv_sink_new(&r->spec, &sink);
    if (err) /* rules the parser accepted must make a scan */
        fprintf(stderr, "accepted rules make no scan: %s\n", ts_error_message());
    TS_FUZZ_ASSERT(err == TS_OK);
    TS_FUZZ_ASSERT(ts_csv_scan_range(&r->spec, &layout, 0, csv, len, 0, len, &sink, &lines) == TS_OK);
    for (int64_t pos = 0, idx = 0; pos < len; idx++) { /* every line but the header is a row (no skip_blank) */
        const char *nl = memchr(csv + pos, '\n', (size_t)(len - pos));
        rows += !(idx == 0 && layout.skip_line1);
        pos = nl ? nl - csv + 1 : len;
    }
    TS_FUZZ_ASSERT(ts_table_rows(sink.clean) + ts_table_rows(sink.rejects) == rows);
    for (int64_t i = 0; i < ts_table_rows(sink.rejects); i++) {
        const int32_t reason = TS_COL(sink.rejects->cols[2], int32_t)[i];
        TS_FUZZ_ASSERT(reason >= 0 && reason < r->nreasons);
    }
    ts_csv_sink_free(&sink);
}

/* The most words (blank-separated, before a '#') on one line of text. */
static int rules_max_words(const char *text)
{
    int most = 0, words = 0, in_word = 0, comment = 0;
    for (const char *p = text;; p++) {
        if (!*p || *p == '\n') {
            most = words > most ? words : most;
            if (!*p)
                return most;
            words = in_word = comment = 0;
        } else if (*p == '#' || comment) {
            comment = 1, in_word = 0;
        } else if (*p == ' ' || *p == '\t' || *p == '\r') {
            in_word = 0;
        } else if (!in_word) {
            in_word = 1, words++;
        }
    }
}

TS_FUZZ_ENTRY(rules)
{
    char *text = ts_fuzz_cstr(data, size);
    const size_t tlen = strlen(text);
    ts_rules *r = NULL;
    const int too_many_words = rules_max_words(text) > 64; /* options past 64 words must not be dropped */
    if (ts_rules_parse(text, "fuzz.rules", &r) != TS_OK) {
        TS_FUZZ_ASSERT(strncmp(ts_error_message(), "fuzz.rules", 10) == 0 || strstr(ts_error_message(), "memory"));
        ts_error_clear();
        free(text);
        return 0;
    }
    TS_FUZZ_ASSERT(!too_many_words);
    rules_check(r);
    int missing_values = 0;
    for (int f = 0; f < r->spec.nfields; f++) /* @FILE references get a fixed list, as a job would supply */
        if (r->spec.fields[f].kind == TS_RULE_CATEGORY && !r->spec.fields[f].accepted) {
            static const char *const vals[] = {"usd", "EUR", "gbp"};
            if (r->ref_file[f])
                TS_FUZZ_ASSERT(ts_rules_set_values(r, f, vals, 3) == TS_OK);
            else
                missing_values = 1; /* neither values= nor values=@: ts_rules_check_complete says so */
        }
    if (missing_values) {
        TS_FUZZ_ASSERT(ts_rules_check_complete(r) == TS_ERR_USAGE);
        ts_error_clear();
        ts_rules_free(r);
        free(text);
        return 0;
    }
    TS_FUZZ_ASSERT(ts_rules_check_complete(r) == TS_OK);
    if (tlen < size) {
        rules_scan(r, (const char *)data + tlen + 1, (int64_t)(size - tlen - 1));
    } else {
        int64_t len;
        char *csv = rules_sample_csv(r, &len);
        rules_scan(r, csv, len);
        free(csv);
    }
    ts_rules_free(r);
    free(text);
    return 0;
}
