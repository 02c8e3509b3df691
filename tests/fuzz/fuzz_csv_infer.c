/* Fuzz target: CSV schema inference (io/ts_csv_infer.h), then a scan of the same content with the inferred spec.
 *
 * Input: byte 0 chooses the options (bits 0-2: delimiter detected or , ; | tab; bits 3-4: header detected, yes,
 * no; bit 5: quote ' instead of "; bit 6: a small sample of 3 rows), the rest is the file's content.
 *
 * Invariants checked:
 *   - 1 to TS_MAX_COLS - 1 columns; names non-empty, shorter than TS_NAME_MAX, unique, never __pos / __line;
 *     the spec points at the names and has one field per column, every field nullable
 *   - the spec scans the content: clean rows + rejects = the data lines (blank lines left out when skipped)
 *   - when the whole content was sampled (default sample size, types inferred), no value is rejected: the
 *     sniffing rules are stricter than the scan's parsers, so every reject is a malformed row (reason 0)
 *   - ts_csv_inferred_reason names every code; ts_csv_inferred_rebind restores a copied struct */
#include "ts_csv_infer.h"
#include "ts_fuzz.h"

TS_FUZZ_INIT(csv_infer)
{
    (void)argc, (void)argv;
    return 0;
}

static void infer_check_names(const ts_csv_inferred *inf)
{
    TS_FUZZ_ASSERT(inf->ncols >= 1 && inf->ncols <= TS_CSV_MAX_FIELDS);
    TS_FUZZ_ASSERT(inf->spec.nfields == inf->ncols);
    for (int i = 0; i < inf->ncols; i++) {
        const size_t n = strnlen(inf->names[i], TS_NAME_MAX);
        TS_FUZZ_ASSERT(n >= 1 && n < TS_NAME_MAX);
        TS_FUZZ_ASSERT(strcmp(inf->names[i], "__pos") != 0 && strcmp(inf->names[i], "__line") != 0);
        for (int j = 0; j < i; j++)
            TS_FUZZ_ASSERT(strcmp(inf->names[i], inf->names[j]) != 0);
        TS_FUZZ_ASSERT(inf->spec.fields[i].name == inf->names[i] && inf->spec.fields[i].nullable);
        TS_FUZZ_ASSERT(inf->spec.fields[i].reason_invalid == i + 1);
        TS_FUZZ_ASSERT(strlen(ts_csv_inferred_reason(inf, i + 1)) > 0);
    }
}

/* Lines the scan turns into rows: every line start but the header and, when skipped, blank lines. */
static int64_t infer_data_lines(const ts_csv_spec *spec, const char *data, int64_t len)
{
    int64_t rows = 0, idx = 0;
    for (int64_t pos = 0; pos < len; idx++) {
        int64_t stop = pos;
        while (stop < len && data[stop] != '\n')
            stop++;
        const int64_t start = pos == 0 ? ts_csv_bom(data, stop) : pos;
        int64_t ll = stop - start;
        if (ll && data[stop - 1] == '\r')
            ll--;
        rows += !(idx == 0 && (spec->header_by_position || spec->header_sql_names)) && !(ll == 0 && spec->skip_blank);
        pos = stop + 1;
    }
    return rows;
}

TS_FUZZ_ENTRY(csv_infer)
{
    if (size < 1)
        return 0;
    static const char delims[8] = {0, ',', ';', '|', '\t', 0, 0, 0};
    const unsigned ctl = data[0];
    const int header = (ctl >> 3 & 3) == 1 ? 1 : (ctl >> 3 & 3) == 2 ? 0 : -1;
    ts_csv_infer_opts opts = {.delim = delims[ctl & 7], .header = header, .quote = ctl & 32 ? '\'' : 0,
                              .sample_rows = ctl & 64 ? 3 : 0};
    const char *text = (const char *)data + 1;
    const int64_t len = (int64_t)size - 1;
    ts_csv_inferred *inf = malloc(sizeof *inf), *copy = malloc(sizeof *copy);
    if (!inf || !copy)
        abort();
    if (ts_csv_infer(text, len, &opts, inf) != TS_OK) {
        ts_error_clear();
        free(inf), free(copy);
        return 0;
    }
    infer_check_names(inf);
    TS_FUZZ_ASSERT(ts_csv_inferred_copy(copy, inf) == TS_OK);
    for (int i = 0; i < copy->ncols; i++)
        TS_FUZZ_ASSERT(copy->spec.fields[i].name == copy->names[i] && strcmp(copy->names[i], inf->names[i]) == 0);
    ts_csv_inferred_free(copy);

    ts_csv_layout layout;
    ts_csv_layout_from_header(&inf->spec, text, len, &layout);
    TS_FUZZ_ASSERT(layout.nphys == inf->ncols && layout.header_ok == inf->header);
    ts_csv_sink sink;
    int64_t lines = 0;
    TS_FUZZ_ASSERT(ts_csv_sink_new(&inf->spec, &sink) == TS_OK);
    TS_FUZZ_ASSERT(ts_csv_scan_range(&inf->spec, &layout, 0, text, len, 0, len, &sink, &lines) == TS_OK);
    const int64_t clean = ts_table_rows(sink.clean), rejects = ts_table_rows(sink.rejects);
    TS_FUZZ_ASSERT(clean + rejects == infer_data_lines(&inf->spec, text, len));
    /* everything sampled (at most a few thousand lines fit max_len): sampled values never fail their type */
    if (!opts.sample_rows && lines <= TS_CSV_SAMPLE_ROWS)
        for (int64_t i = 0; i < rejects; i++)
            TS_FUZZ_ASSERT(TS_COL(sink.rejects->cols[2], int32_t)[i] == 0);
    ts_csv_sink_free(&sink);
    ts_csv_inferred_free(inf);
    free(inf), free(copy);
    return 0;
}
