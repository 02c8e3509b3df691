#include "ts_csv_table.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ts_csv.h"
#include "ts_date.h"
#include "ts_file.h"
#include "ts_parse.h"

static ts_err parse_cell(ts_column *c, ts_ref_type type, const char *s, uint32_t len, const char *path,
                         int64_t line)
{
    if (type == TS_REF_STRING)
        return ts_column_append_string(c, s, len);
    TS_TRY(ts_column_reserve(c, c->len + 1, 0));
    int ok;
    if (type == TS_REF_FLOAT64) { /* parsed in place: any length (a copy into a 64-byte buffer failed longer ones) */
        double v;
        ok = ts_parse_float64(s, len, &v) && isfinite(v);
        TS_COL(c, double)[c->len] = v;
    } else if (type == TS_REF_INT64) {
        ok = ts_parse_int64(s, len, &TS_COL(c, int64_t)[c->len]);
    } else {
        char day[11];
        ok = len == 7 && s[4] == '-';
        if (ok) {
            memcpy(day, s, 7), memcpy(day + 7, "-01", 4);
            ok = ts_parse_date(day, 10, &TS_COL(c, int32_t)[c->len]);
        }
    }
    if (!ok)
        TS_FAIL(TS_ERR_DATA, "%s:%lld: column '%s': cannot parse '%.*s' as %s", path, (long long)line, c->name,
                (int)(len < 40 ? len : 40), s,
                type == TS_REF_FLOAT64 ? "a number" : type == TS_REF_INT64 ? "an integer" : "a month (YYYY-MM)");
    c->len++;
    return TS_OK;
}

static ts_err read_rows(const ts_csv_spec *spec, const ts_csv_layout *layout, const ts_ref_column *cols,
                        const char *data, int64_t len, const char *path, ts_table *t)
{
    const char **ptr = malloc(sizeof *ptr * (size_t)spec->nfields);
    uint32_t *plen = malloc(sizeof *plen * (size_t)spec->nfields);
    char *scratch = malloc((size_t)len + 1);
    if (!scratch || !ptr || !plen) {
        free(scratch), free(ptr), free(plen);
        TS_FAIL(TS_ERR_NOMEM, "out of memory reading '%s'", path);
    }
    ts_err err = TS_OK;
    int64_t line = 1, pos = 0;
    for (; pos < len && !err; line++) {
        const char *nl = memchr(data + pos, '\n', (size_t)(len - pos));
        const int64_t stop = nl ? nl - data : len;
        int64_t ll = stop - pos;
        if (ll && data[stop - 1] == '\r')
            ll--;
        char *cursor = scratch;
        if (line > 1 && ll > 0) {
            const int nf = ts_csv_split_line(data + pos, ll, layout->slot, layout->nphys, ptr, plen, &cursor);
            if (nf != layout->nphys)
                err = ts_error_raise(TS_ERR_DATA, __FILE__, __LINE__, __func__,
                                     "%s:%lld: expected %d fields, found %d (or bad quoting)", path,
                                     (long long)line, layout->nphys, nf);
            for (int c = 0; !err && c < spec->nfields; c++)
                err = parse_cell(t->cols[c], cols[c].type, ptr[c], plen[c], path, line);
        }
        pos = stop + 1;
    }
    free(scratch), free(ptr), free(plen);
    return err;
}

ts_err ts_read_csv_table(const char *path, const ts_ref_column *cols, int ncols, ts_table **out)
{
    *out = NULL;
    ts_file_info info = {.gz = 0};
    snprintf(info.path, sizeof info.path, "%s", path);
    FILE *probe = fopen(path, "rb");
    if (!probe)
        TS_FAIL(TS_ERR_IO, "cannot open '%s': %s", path, strerror(errno));
    fseek(probe, 0, SEEK_END);
    info.size = ftell(probe);
    fclose(probe);
    ts_csv_field *fields = calloc((size_t)(ncols > 0 ? ncols : 1), sizeof *fields);
    if (!fields)
        TS_FAIL(TS_ERR_NOMEM, "out of memory reading '%s'", path);
    ts_csv_spec spec = {.fields = fields, .nfields = ncols};
    for (int c = 0; c < ncols; c++)
        fields[c].name = cols[c].name, fields[c].kind = TS_RULE_STRING; /* read, as text (parse_cell types it) */
    ts_file_data d;
    ts_err err = ts_file_load(&info, &d);
    if (err) {
        free(fields);
        return err;
    }
    ts_csv_layout layout;
    ts_csv_layout_from_header(&spec, d.data, d.len, &layout);
    if (!layout.header_ok)
        err = ts_error_raise(TS_ERR_DATA, __FILE__, __LINE__, __func__, "%s: %s", path, layout.problem);
    if (!err)
        err = ts_table_new(path, out);
    static const ts_type types[] = {TS_T_STRING, TS_T_FLOAT64, TS_T_INT64, TS_T_DATE};
    for (int c = 0; !err && c < ncols; c++)
        err = ts_table_add(*out, cols[c].name, types[cols[c].type], 0, NULL, NULL);
    if (!err)
        err = read_rows(&spec, &layout, cols, d.data, d.len, path, *out);
    const ts_err changed = ts_file_check(&info, &d);
    err = changed ? changed : err;
    ts_file_unload(&d);
    free(fields);
    if (err) {
        ts_table_free(*out);
        *out = NULL;
    }
    TS_TRY(err);
    return TS_OK;
}
