#include "ts_parquet_meta.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef ts_thrift_reader rd;

/* A field expected to hold a struct: parses it with fn, or skips a value of another type and fails. */
#define EXPECT(r, type, want)                                                                                    \
    ((type) == (want) ? 1 : (ts_thrift_skip((r), (type)), ts_thrift_fail((r), "a field has the wrong type"), 0))

/* ---- decoding ---------------------------------------------------------------------------------------------------- */

static void decode_time_unit(rd *r, int *unit)
{
    ts_thrift_struct_begin(r);
    int id, t;
    while (ts_thrift_field(r, &id, &t)) {
        if (id >= 1 && id <= 3 && t == TS_TT_STRUCT)
            *unit = id;
        ts_thrift_skip(r, t);
    }
    ts_thrift_struct_end(r);
}

/* TIME / TIMESTAMP: isAdjustedToUTC (1), unit (2) */
static void decode_time_type(rd *r, ts_pq_schema_elem *e)
{
    ts_thrift_struct_begin(r);
    int id, t;
    while (ts_thrift_field(r, &id, &t)) {
        if (id == 1)
            e->lt_utc = ts_thrift_bool(r, t);
        else if (id == 2 && EXPECT(r, t, TS_TT_STRUCT))
            decode_time_unit(r, &e->lt_unit);
        else if (id != 2)
            ts_thrift_skip(r, t);
    }
    ts_thrift_struct_end(r);
}

static void decode_logical(rd *r, ts_pq_schema_elem *e)
{
    ts_thrift_struct_begin(r);
    int id, t;
    while (ts_thrift_field(r, &id, &t)) {
        if (t != TS_TT_STRUCT) {
            ts_thrift_skip(r, t);
            continue;
        }
        e->logical = id <= TS_PQ_LT_FLOAT16 && id != 9 ? id : TS_PQ_LT_OTHER;
        if (id == TS_PQ_LT_TIME || id == TS_PQ_LT_TIMESTAMP) {
            decode_time_type(r, e);
            continue;
        }
        if (id != TS_PQ_LT_DECIMAL && id != TS_PQ_LT_INTEGER) {
            ts_thrift_skip(r, t);
            continue;
        }
        ts_thrift_struct_begin(r);
        int fid, ft;
        while (ts_thrift_field(r, &fid, &ft)) {
            if (id == TS_PQ_LT_DECIMAL && fid == 1)
                e->lt_scale = ts_thrift_i32(r, ft);
            else if (id == TS_PQ_LT_DECIMAL && fid == 2)
                e->lt_precision = ts_thrift_i32(r, ft);
            else if (id == TS_PQ_LT_INTEGER && fid == 1)
                e->lt_bits = ts_thrift_i32(r, ft);
            else if (id == TS_PQ_LT_INTEGER && fid == 2)
                e->lt_signed = ts_thrift_bool(r, ft);
            else
                ts_thrift_skip(r, ft);
        }
        ts_thrift_struct_end(r);
    }
    ts_thrift_struct_end(r);
}

static void decode_schema_elem(rd *r, ts_pq_schema_elem *e)
{
    memset(e, 0, sizeof *e);
    e->type = -1, e->repetition = -1, e->converted = TS_PQ_CT_NONE;
    ts_thrift_struct_begin(r);
    int id, t, has_name = 0;
    while (ts_thrift_field(r, &id, &t)) {
        switch (id) {
        case 1: e->type = ts_thrift_i32(r, t); break;
        case 2: e->type_length = ts_thrift_i32(r, t); break;
        case 3: e->repetition = ts_thrift_i32(r, t); break;
        case 4: e->name = (const char *)ts_thrift_binary(r, t, &e->name_len), has_name = 1; break;
        case 5: e->num_children = ts_thrift_i32(r, t); break;
        case 6: e->converted = ts_thrift_i32(r, t); break;
        case 7: e->scale = ts_thrift_i32(r, t); break;
        case 8: e->precision = ts_thrift_i32(r, t); break;
        case 10:
            if (EXPECT(r, t, TS_TT_STRUCT))
                decode_logical(r, e);
            break;
        default: ts_thrift_skip(r, t); break;
        }
    }
    ts_thrift_struct_end(r);
    if (!r->err && !has_name)
        ts_thrift_fail(r, "a schema element has no name");
    if (!r->err && (e->type < -1 || e->type > TS_PQ_FLBA))
        ts_thrift_fail(r, "a schema element has an unknown physical type");
    if (!r->err && (e->repetition < -1 || e->repetition > TS_PQ_REPEATED))
        ts_thrift_fail(r, "a schema element has an unknown repetition");
    if (!r->err && (e->num_children < 0 || e->type_length < 0))
        ts_thrift_fail(r, "a schema element has a negative size");
}

static void decode_stats(rd *r, ts_pq_stats *s)
{
    memset(s, 0, sizeof *s);
    s->null_count = -1;
    const uint8_t *old_min = NULL, *old_max = NULL;
    uint32_t old_min_len = 0, old_max_len = 0;
    int has_old_min = 0, has_old_max = 0;
    ts_thrift_struct_begin(r);
    int id, t;
    while (ts_thrift_field(r, &id, &t)) {
        switch (id) {
        case 1: old_max = ts_thrift_binary(r, t, &old_max_len), has_old_max = 1; break;
        case 2: old_min = ts_thrift_binary(r, t, &old_min_len), has_old_min = 1; break;
        case 3: s->null_count = ts_thrift_i64(r, t); break;
        case 5: s->max = ts_thrift_binary(r, t, &s->max_len), s->has_max = 1; break;
        case 6: s->min = ts_thrift_binary(r, t, &s->min_len), s->has_min = 1; break;
        default: ts_thrift_skip(r, t); break;
        }
    }
    ts_thrift_struct_end(r);
    if (!s->has_min && !s->has_max && (has_old_min || has_old_max)) {
        s->legacy = 1;
        s->min = old_min, s->min_len = old_min_len, s->has_min = has_old_min;
        s->max = old_max, s->max_len = old_max_len, s->has_max = has_old_max;
    }
}

static void decode_column_meta(rd *r, ts_pq_chunk *c)
{
    int seen = 0; /* required fields: bits 1 type, 2 codec, 3 num_values, 4 sizes(2), 5 data page offset */
    ts_thrift_struct_begin(r);
    int id, t;
    while (ts_thrift_field(r, &id, &t)) {
        switch (id) {
        case 1: c->type = ts_thrift_i32(r, t), seen |= 1; break;
        case 2: {
            int et;
            const uint32_t n = ts_thrift_list(r, t, &et);
            for (uint32_t i = 0; i < n && !r->err; i++) {
                const int64_t e = ts_thrift_i64(r, et);
                if (e >= 0 && e < 32)
                    c->encodings |= UINT32_C(1) << e;
            }
            break;
        }
        case 3: {
            int et;
            const uint32_t n = ts_thrift_list(r, t, &et);
            for (uint32_t i = 0; i < n && !r->err; i++)
                ts_thrift_skip(r, et);
            c->path_depth = (int)n;
            break;
        }
        case 4: c->codec = ts_thrift_i32(r, t), seen |= 2; break;
        case 5: c->num_values = ts_thrift_i64(r, t), seen |= 4; break;
        case 6: c->total_uncompressed = ts_thrift_i64(r, t), seen |= 8; break;
        case 7: c->total_compressed = ts_thrift_i64(r, t), seen |= 16; break;
        case 9: c->data_page_offset = ts_thrift_i64(r, t), seen |= 32; break;
        case 11: c->dict_page_offset = ts_thrift_i64(r, t); break;
        case 12:
            if (EXPECT(r, t, TS_TT_STRUCT))
                decode_stats(r, &c->stats), c->has_stats = 1;
            break;
        default: ts_thrift_skip(r, t); break;
        }
    }
    ts_thrift_struct_end(r);
    if (r->err)
        return;
    if (seen != 63)
        ts_thrift_fail(r, "a column chunk's metadata lacks a required field");
    else if (c->num_values < 0 || c->total_compressed < 0 || c->total_uncompressed < 0 || c->data_page_offset < 0)
        ts_thrift_fail(r, "a column chunk has a negative size or offset");
    else if (c->type < 0 || c->type > TS_PQ_FLBA)
        ts_thrift_fail(r, "a column chunk has an unknown physical type");
}

static void decode_column_chunk(rd *r, ts_pq_chunk *c)
{
    memset(c, 0, sizeof *c);
    c->dict_page_offset = -1;
    int has_meta = 0;
    ts_thrift_struct_begin(r);
    int id, t;
    while (ts_thrift_field(r, &id, &t)) {
        if (id == 1) {
            uint32_t n;
            ts_thrift_binary(r, t, &n);
            c->has_file_path = n > 0;
        } else if (id == 3 && EXPECT(r, t, TS_TT_STRUCT)) {
            decode_column_meta(r, c);
            has_meta = 1;
        } else if (id != 3) {
            ts_thrift_skip(r, t);
        }
    }
    ts_thrift_struct_end(r);
    if (!r->err && !has_meta)
        ts_thrift_fail(r, "a column chunk has no metadata (an encrypted file?)");
}

static void decode_row_group(rd *r, ts_pq_row_group *g)
{
    memset(g, 0, sizeof *g);
    int has_cols = 0, has_rows = 0;
    ts_thrift_struct_begin(r);
    int id, t;
    while (ts_thrift_field(r, &id, &t)) {
        if (id == 1 && !has_cols) {
            int et;
            const uint32_t n = ts_thrift_list(r, t, &et);
            if (n && et != TS_TT_STRUCT)
                ts_thrift_fail(r, "a row group's column list does not hold structures");
            if (r->err)
                break;
            g->cols = calloc(n ? n : 1, sizeof *g->cols);
            if (!g->cols) {
                ts_thrift_fail(r, "out of memory for the column chunks");
                break;
            }
            for (uint32_t i = 0; i < n && !r->err; i++)
                decode_column_chunk(r, &g->cols[i]);
            g->ncols = (int)n, has_cols = 1;
        } else if (id == 2) {
            g->total_byte_size = ts_thrift_i64(r, t);
        } else if (id == 3) {
            g->num_rows = ts_thrift_i64(r, t), has_rows = 1;
        } else {
            ts_thrift_skip(r, t);
        }
    }
    ts_thrift_struct_end(r);
    if (!r->err && (!has_cols || !has_rows))
        ts_thrift_fail(r, "a row group lacks its columns or row count");
    if (!r->err && g->num_rows < 0)
        ts_thrift_fail(r, "a row group has a negative row count");
}

void ts_pq_meta_free(ts_pq_meta *m)
{
    for (int i = 0; m->rgs && i < m->nrgs; i++)
        free(m->rgs[i].cols);
    free(m->rgs), free(m->schema);
    memset(m, 0, sizeof *m);
}

ts_err ts_pq_meta_decode(const uint8_t *data, size_t len, ts_pq_meta *m)
{
    memset(m, 0, sizeof *m);
    rd r;
    ts_thrift_reader_init(&r, data, len);
    int seen = 0;
    ts_thrift_struct_begin(&r);
    int id, t;
    while (ts_thrift_field(&r, &id, &t)) {
        int et;
        uint32_t n;
        switch (id) {
        case 1: m->version = ts_thrift_i32(&r, t); break;
        case 2:
            if (seen & 1) {
                ts_thrift_fail(&r, "the schema appears twice");
                break;
            }
            n = ts_thrift_list(&r, t, &et);
            if (n && et != TS_TT_STRUCT)
                ts_thrift_fail(&r, "the schema list does not hold structures");
            if (r.err)
                break;
            if (!(m->schema = calloc(n ? n : 1, sizeof *m->schema))) {
                ts_thrift_fail(&r, "out of memory for the schema");
                break;
            }
            for (uint32_t i = 0; i < n && !r.err; i++)
                decode_schema_elem(&r, &m->schema[i]);
            m->nschema = (int)n, seen |= 1;
            break;
        case 3: m->num_rows = ts_thrift_i64(&r, t), seen |= 2; break;
        case 4:
            if (seen & 4) {
                ts_thrift_fail(&r, "the row groups appear twice");
                break;
            }
            n = ts_thrift_list(&r, t, &et);
            if (n && et != TS_TT_STRUCT)
                ts_thrift_fail(&r, "the row group list does not hold structures");
            if (r.err)
                break;
            if (!(m->rgs = calloc(n ? n : 1, sizeof *m->rgs))) {
                ts_thrift_fail(&r, "out of memory for the row groups");
                break;
            }
            for (uint32_t i = 0; i < n && !r.err; i++, m->nrgs++)
                decode_row_group(&r, &m->rgs[i]);
            seen |= 4;
            break;
        case 6: {
            uint32_t l;
            const uint8_t *s = ts_thrift_binary(&r, t, &l);
            snprintf(m->created_by, sizeof m->created_by, "%.*s", (int)(l < 127 ? l : 127), s ? (const char *)s : "");
            for (char *c = m->created_by; *c; c++) /* messages print it: no control bytes */
                if ((unsigned char)*c < 32)
                    *c = '?';
            break;
        }
        default: ts_thrift_skip(&r, t); break;
        }
    }
    ts_thrift_struct_end(&r);
    if (!r.err && seen != 7)
        ts_thrift_fail(&r, "the footer lacks its schema, row count or row groups");
    if (!r.err && m->nschema < 1)
        ts_thrift_fail(&r, "the schema is empty");
    if (!r.err && m->num_rows < 0)
        ts_thrift_fail(&r, "the row count is negative");
    if (r.err) {
        const size_t at = r.err_at;
        const char *what = r.err;
        ts_pq_meta_free(m);
        TS_FAIL(TS_ERR_DATA, "corrupt footer: %s (byte %zu of %zu)", what, at, len);
    }
    return TS_OK;
}

static void decode_page_body(rd *r, int id, int t, ts_pq_page_header *h, int *seen)
{
    ts_thrift_struct_begin(r);
    int fid, ft;
    while (ts_thrift_field(r, &fid, &ft)) {
        if (id == 5) { /* DataPageHeader */
            switch (fid) {
            case 1: h->num_values = ts_thrift_i32(r, ft), *seen |= 8; break;
            case 2: h->encoding = ts_thrift_i32(r, ft); break;
            case 3: h->def_encoding = ts_thrift_i32(r, ft); break;
            case 4: h->rep_encoding = ts_thrift_i32(r, ft); break;
            default: ts_thrift_skip(r, ft); break;
            }
        } else if (id == 7) { /* DictionaryPageHeader */
            switch (fid) {
            case 1: h->num_values = ts_thrift_i32(r, ft), *seen |= 8; break;
            case 2: h->encoding = ts_thrift_i32(r, ft); break;
            default: ts_thrift_skip(r, ft); break;
            }
        } else { /* DataPageHeaderV2 */
            switch (fid) {
            case 1: h->num_values = ts_thrift_i32(r, ft), *seen |= 8; break;
            case 2: h->num_nulls = ts_thrift_i32(r, ft); break;
            case 3: h->num_rows = ts_thrift_i32(r, ft); break;
            case 4: h->encoding = ts_thrift_i32(r, ft); break;
            case 5: h->def_len = ts_thrift_i32(r, ft); break;
            case 6: h->rep_len = ts_thrift_i32(r, ft); break;
            case 7: h->is_compressed = ts_thrift_bool(r, ft); break;
            default: ts_thrift_skip(r, ft); break;
            }
        }
    }
    (void)t;
    ts_thrift_struct_end(r);
}

ts_err ts_pq_page_header_decode(const uint8_t *data, size_t len, ts_pq_page_header *h, size_t *used)
{
    memset(h, 0, sizeof *h);
    h->is_compressed = 1;
    rd r;
    ts_thrift_reader_init(&r, data, len);
    int seen = 0; /* 1 type, 2 sizes, 4 both sizes, 8 a body with its value count */
    ts_thrift_struct_begin(&r);
    int id, t;
    while (ts_thrift_field(&r, &id, &t)) {
        switch (id) {
        case 1: h->type = ts_thrift_i32(&r, t), seen |= 1; break;
        case 2: h->uncompressed_size = ts_thrift_i32(&r, t), seen |= 2; break;
        case 3: h->compressed_size = ts_thrift_i32(&r, t), seen |= 4; break;
        case 5: case 7: case 8:
            if (EXPECT(&r, t, TS_TT_STRUCT))
                decode_page_body(&r, id, t, h, &seen);
            break;
        default: ts_thrift_skip(&r, t); break;
        }
    }
    ts_thrift_struct_end(&r);
    if (!r.err && (seen & 7) != 7)
        ts_thrift_fail(&r, "a page header lacks its type or sizes");
    if (!r.err && (h->type == TS_PQ_DATA_PAGE || h->type == TS_PQ_DATA_PAGE_V2 || h->type == TS_PQ_DICTIONARY_PAGE) &&
        !(seen & 8))
        ts_thrift_fail(&r, "a page header lacks its value count");
    if (!r.err && (h->uncompressed_size < 0 || h->compressed_size < 0 || h->num_values < 0 || h->num_nulls < 0 ||
                   h->def_len < 0 || h->rep_len < 0))
        ts_thrift_fail(&r, "a page header has a negative size or count");
    if (r.err)
        TS_FAIL(TS_ERR_DATA, "corrupt page header: %s", r.err);
    *used = ts_thrift_offset(&r);
    return TS_OK;
}

/* ---- encoding ---------------------------------------------------------------------------------------------------- */

typedef ts_thrift_writer wr;

void ts_pq_page_header_encode(wr *w, const ts_pq_page_header *h)
{
    ts_thrift_w_struct_begin(w);
    ts_thrift_w_i32(w, 1, h->type);
    ts_thrift_w_i32(w, 2, h->uncompressed_size);
    ts_thrift_w_i32(w, 3, h->compressed_size);
    if (h->type == TS_PQ_DICTIONARY_PAGE) {
        ts_thrift_w_field(w, 7, TS_TT_STRUCT);
        ts_thrift_w_struct_begin(w);
        ts_thrift_w_i32(w, 1, h->num_values);
        ts_thrift_w_i32(w, 2, h->encoding);
        ts_thrift_w_struct_end(w);
    } else {
        ts_thrift_w_field(w, 5, TS_TT_STRUCT);
        ts_thrift_w_struct_begin(w);
        ts_thrift_w_i32(w, 1, h->num_values);
        ts_thrift_w_i32(w, 2, h->encoding);
        ts_thrift_w_i32(w, 3, h->def_encoding);
        ts_thrift_w_i32(w, 4, h->rep_encoding);
        ts_thrift_w_struct_end(w);
    }
    ts_thrift_w_struct_end(w);
}

static void encode_stats(wr *w, const ts_pq_stats_out *s)
{
    ts_thrift_w_field(w, 12, TS_TT_STRUCT);
    ts_thrift_w_struct_begin(w);
    ts_thrift_w_i64(w, 3, s->null_count);
    if (s->max)
        ts_thrift_w_binary(w, 5, s->max, s->max_len);
    if (s->min)
        ts_thrift_w_binary(w, 6, s->min, s->min_len);
    ts_thrift_w_struct_end(w);
}

void ts_pq_row_group_encode(wr *w, const ts_pq_chunk_out *chunks, int ncols, int64_t num_rows, int64_t base)
{
    int64_t total_uncompressed = 0, total_compressed = 0, first = -1;
    ts_thrift_w_struct_begin(w);
    ts_thrift_w_list(w, 1, TS_TT_STRUCT, (uint32_t)ncols);
    for (int c = 0; c < ncols; c++) {
        const ts_pq_chunk_out *k = &chunks[c];
        const int64_t start = (k->dict_page_offset >= 0 ? k->dict_page_offset : k->data_page_offset) + base;
        if (first < 0)
            first = start;
        total_uncompressed += k->total_uncompressed, total_compressed += k->total_compressed;
        ts_thrift_w_struct_begin(w); /* ColumnChunk */
        ts_thrift_w_i64(w, 2, start);
        ts_thrift_w_field(w, 3, TS_TT_STRUCT);
        ts_thrift_w_struct_begin(w); /* ColumnMetaData */
        ts_thrift_w_i32(w, 1, k->type);
        int nenc = 0;
        for (int e = 0; e < 32; e++)
            nenc += (k->encodings >> e) & 1;
        ts_thrift_w_list(w, 2, TS_TT_I32, (uint32_t)nenc);
        for (int e = 0; e < 32; e++)
            if ((k->encodings >> e) & 1)
                ts_thrift_w_elem_i32(w, e);
        ts_thrift_w_list(w, 3, TS_TT_BINARY, 1);
        ts_thrift_w_elem_binary(w, k->name, strlen(k->name));
        ts_thrift_w_i32(w, 4, k->codec);
        ts_thrift_w_i64(w, 5, k->num_values);
        ts_thrift_w_i64(w, 6, k->total_uncompressed);
        ts_thrift_w_i64(w, 7, k->total_compressed);
        ts_thrift_w_i64(w, 9, k->data_page_offset + base);
        if (k->dict_page_offset >= 0)
            ts_thrift_w_i64(w, 11, k->dict_page_offset + base);
        encode_stats(w, &k->stats);
        ts_thrift_w_struct_end(w);
        ts_thrift_w_struct_end(w);
    }
    ts_thrift_w_i64(w, 2, total_uncompressed);
    ts_thrift_w_i64(w, 3, num_rows);
    ts_thrift_w_i64(w, 5, first < 0 ? 4 : first);
    ts_thrift_w_i64(w, 6, total_compressed);
    ts_thrift_w_struct_end(w);
}

static void encode_schema_elem(wr *w, const ts_pq_schema_elem *e)
{
    ts_thrift_w_struct_begin(w);
    if (e->type >= 0)
        ts_thrift_w_i32(w, 1, e->type);
    if (e->type == TS_PQ_FLBA)
        ts_thrift_w_i32(w, 2, e->type_length);
    if (e->repetition >= 0)
        ts_thrift_w_i32(w, 3, e->repetition);
    ts_thrift_w_binary(w, 4, e->name, e->name_len);
    if (e->type < 0)
        ts_thrift_w_i32(w, 5, e->num_children);
    if (e->converted != TS_PQ_CT_NONE)
        ts_thrift_w_i32(w, 6, e->converted);
    if (e->converted == TS_PQ_CT_DECIMAL) {
        ts_thrift_w_i32(w, 7, e->scale);
        ts_thrift_w_i32(w, 8, e->precision);
    }
    if (e->logical != TS_PQ_LT_NONE) {
        ts_thrift_w_field(w, 10, TS_TT_STRUCT);
        ts_thrift_w_struct_begin(w); /* LogicalType union */
        ts_thrift_w_field(w, e->logical, TS_TT_STRUCT);
        ts_thrift_w_struct_begin(w);
        if (e->logical == TS_PQ_LT_DECIMAL) {
            ts_thrift_w_i32(w, 1, e->lt_scale);
            ts_thrift_w_i32(w, 2, e->lt_precision);
        } else if (e->logical == TS_PQ_LT_TIMESTAMP || e->logical == TS_PQ_LT_TIME) {
            ts_thrift_w_bool(w, 1, e->lt_utc);
            ts_thrift_w_field(w, 2, TS_TT_STRUCT);
            ts_thrift_w_struct_begin(w); /* TimeUnit union */
            ts_thrift_w_field(w, e->lt_unit, TS_TT_STRUCT);
            ts_thrift_w_struct_begin(w);
            ts_thrift_w_struct_end(w);
            ts_thrift_w_struct_end(w);
        } else if (e->logical == TS_PQ_LT_INTEGER) {
            ts_thrift_w_field(w, 1, TS_TT_I8);
            const uint8_t bits = (uint8_t)e->lt_bits;
            ts_thrift_w_raw(w, &bits, 1);
            ts_thrift_w_bool(w, 2, e->lt_signed);
        }
        ts_thrift_w_struct_end(w);
        ts_thrift_w_struct_end(w);
    }
    ts_thrift_w_struct_end(w);
}

void ts_pq_file_meta_encode(wr *w, const ts_pq_schema_elem *schema, int nschema, int64_t num_rows,
                            const uint8_t *rg_bytes, size_t rg_len, int nrg, const char *created_by)
{
    ts_thrift_w_struct_begin(w);
    ts_thrift_w_i32(w, 1, 1);
    ts_thrift_w_list(w, 2, TS_TT_STRUCT, (uint32_t)nschema);
    for (int i = 0; i < nschema; i++)
        encode_schema_elem(w, &schema[i]);
    ts_thrift_w_i64(w, 3, num_rows);
    ts_thrift_w_list(w, 4, TS_TT_STRUCT, (uint32_t)nrg);
    ts_thrift_w_raw(w, rg_bytes, rg_len);
    ts_thrift_w_binary(w, 6, created_by, strlen(created_by));
    /* column_orders: TYPE_ORDER for every leaf, so readers trust min_value / max_value */
    ts_thrift_w_list(w, 7, TS_TT_STRUCT, (uint32_t)(nschema - 1));
    for (int i = 1; i < nschema; i++) {
        ts_thrift_w_struct_begin(w);
        ts_thrift_w_field(w, 1, TS_TT_STRUCT);
        ts_thrift_w_struct_begin(w);
        ts_thrift_w_struct_end(w);
        ts_thrift_w_struct_end(w);
    }
    ts_thrift_w_struct_end(w);
}
