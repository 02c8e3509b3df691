#include "ts_parquet_write.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "ts_bitpack.h"
#include "ts_parquet_codec.h"
#include "ts_parquet_intern.h"
#include "ts_rle.h"

#define PAGE_BYTES (1 << 20)      /* target uncompressed size of a data page */
#define STAT_MAX_BYTES 1024       /* strings longer than this get no min / max */
#define DICT_MAX_BYTES (8 << 20)  /* a string dictionary page larger than this falls back to PLAIN */

int ts_pq_codec_from_name(const char *name)
{
    if (!strcasecmp(name, "snappy"))
        return TS_PQ_SNAPPY;
    if (!strcasecmp(name, "zstd"))
        return TS_PQ_ZSTD;
    if (!strcasecmp(name, "gzip"))
        return TS_PQ_GZIP;
    if (!strcasecmp(name, "uncompressed") || !strcasecmp(name, "none"))
        return TS_PQ_UNCOMPRESSED;
    return -1;
}

static ts_err grow(void *pp, size_t *cap, size_t need)
{
    void **p = pp;
    if (need <= *cap)
        return TS_OK;
    size_t n = *cap ? *cap : 4096;
    while (n < need)
        n *= 2;
    void *q = realloc(*p, n);
    if (!q)
        TS_FAIL(TS_ERR_NOMEM, "out of memory writing Parquet (%zu bytes)", n);
    *p = q, *cap = n;
    return TS_OK;
}

static int is_binary(const ts_pq_write_opts *o, const char *name)
{
    for (int i = 0; i < o->nbinary; i++)
        if (!strcmp(o->binary_cols[i], name))
            return 1;
    return 0;
}

ts_err ts_pq_writer_init(ts_pq_writer *w, const ts_table *t, const ts_pq_write_opts *opt)
{
    memset(w, 0, sizeof *w);
    w->opt = *opt;
    if (!w->opt.row_group_rows)
        w->opt.row_group_rows = 122880;
    if (!ts_pq_codec_supported(w->opt.codec))
        TS_FAIL(TS_ERR_USAGE, "cannot write compression codec %s", ts_pq_codec_name(w->opt.codec));
    w->ncols = t->ncols;
    ts_pq_schema_elem *root = &w->schema[0];
    *root = (ts_pq_schema_elem){.name = "schema", .name_len = 6, .type = -1, .repetition = -1,
                                .num_children = t->ncols, .converted = TS_PQ_CT_NONE};
    for (int c = 0; c < t->ncols; c++) {
        const ts_column *col = t->cols[c];
        snprintf(w->names[c], TS_NAME_MAX, "%s", col->name);
        ts_pq_schema_elem *e = &w->schema[c + 1];
        *e = (ts_pq_schema_elem){.name = w->names[c], .name_len = (uint32_t)strlen(w->names[c]),
                                 .repetition = TS_PQ_OPTIONAL, .converted = TS_PQ_CT_NONE};
        switch (col->type) {
        case TS_T_BOOL: e->type = TS_PQ_BOOLEAN; break;
        case TS_T_INT32: e->type = TS_PQ_INT32; break;
        case TS_T_INT64: e->type = TS_PQ_INT64; break;
        case TS_T_FLOAT64: e->type = TS_PQ_DOUBLE; break;
        case TS_T_DATE:
            e->type = TS_PQ_INT32, e->converted = TS_PQ_CT_DATE, e->logical = TS_PQ_LT_DATE;
            break;
        case TS_T_TIMESTAMP: /* a naive timestamp, as DuckDB's TIMESTAMP: not adjusted to UTC */
            e->type = TS_PQ_INT64, e->logical = TS_PQ_LT_TIMESTAMP, e->lt_unit = TS_PQ_MICROS, e->lt_utc = 0;
            break;
        case TS_T_DECIMAL:
            e->type = TS_PQ_INT64, e->converted = TS_PQ_CT_DECIMAL, e->logical = TS_PQ_LT_DECIMAL;
            e->scale = e->lt_scale = col->scale, e->precision = e->lt_precision = 18;
            break;
        default:
            e->type = TS_PQ_BYTE_ARRAY;
            if (!is_binary(opt, col->name))
                e->converted = TS_PQ_CT_UTF8, e->logical = TS_PQ_LT_STRING;
            break;
        }
    }
    return TS_OK;
}

void ts_pq_writer_free(ts_pq_writer *w)
{
    free(w->buf), free(w->chunks), free(w->rg_rows), free(w->stats), free(w->stat_off);
    free(w->page), free(w->zpage), free(w->vals), free(w->def), free(w->idx);
    memset(w, 0, sizeof *w);
}

/* ---- pages ------------------------------------------------------------------------------------------------------- */

/* Compresses body and appends header + page to the buffer; adds its sizes to the chunk's. */
static ts_err put_page(ts_pq_writer *w, ts_pq_chunk_out *k, int type, int32_t nvals, int encoding, const uint8_t *body,
                       size_t len)
{
    if (len > INT32_MAX)
        TS_FAIL(TS_ERR_USAGE, "a Parquet page of %zu bytes (over 2 GiB): column '%s' has too large values", len,
                k->name);
    TS_TRY(grow(&w->zpage, &w->zpage_cap, ts_pq_compress_bound(w->opt.codec, len) + 16));
    size_t zlen;
    TS_TRY(ts_pq_compress(w->opt.codec, w->opt.level, body, len, w->zpage, &zlen));
    const ts_pq_page_header h = {.type = type, .uncompressed_size = (int32_t)len, .compressed_size = (int32_t)zlen,
                                 .num_values = nvals, .encoding = encoding, .def_encoding = TS_PQ_RLE,
                                 .rep_encoding = TS_PQ_RLE};
    ts_thrift_writer hw;
    ts_thrift_writer_init(&hw);
    ts_pq_page_header_encode(&hw, &h);
    ts_err err = hw.nomem ? ts_error_raise(TS_ERR_NOMEM, __FILE__, __LINE__, __func__, "out of memory") : TS_OK;
    if (!err)
        err = grow(&w->buf, &w->cap, w->len + hw.len + zlen);
    if (!err) {
        memcpy(w->buf + w->len, hw.buf, hw.len);
        memcpy(w->buf + w->len + hw.len, w->zpage, zlen);
        w->len += hw.len + zlen;
        k->total_uncompressed += (int64_t)(hw.len + len);
        k->total_compressed += (int64_t)(hw.len + zlen);
    }
    ts_thrift_writer_free(&hw);
    return err;
}

/* ---- one column chunk ---------------------------------------------------------------------------------------------- */

typedef struct chunk_rows {
    const ts_column *col;
    const int64_t *rows;  /* NULL: first .. first + n */
    int64_t first, n;
} chunk_rows;

static inline int64_t row_at(const chunk_rows *c, int64_t k) { return c->rows ? c->rows[c->first + k] : c->first + k; }

static inline void str_at(const ts_column *c, int64_t r, const uint8_t **p, uint32_t *len)
{
    if (c->type == TS_T_DICT) {
        int64_t l;
        *p = (const uint8_t *)ts_dict_value(c->dict, TS_COL(c, int32_t)[r], &l);
        *len = (uint32_t)l;
    } else {
        const int64_t *off = TS_COL(c, int64_t);
        *p = (const uint8_t *)c->bytes + off[r], *len = (uint32_t)(off[r + 1] - off[r]);
    }
}

static int cmp_bytes(const uint8_t *a, uint32_t al, const uint8_t *b, uint32_t bl)
{
    const int c = memcmp(a, b, al < bl ? al : bl);
    return c ? c : (al > bl) - (al < bl);
}

static ts_err put_stat(ts_pq_writer *w, int64_t chunk, int which, const void *v, size_t len)
{
    TS_TRY(grow(&w->stats, &w->stats_cap, w->stats_len + len + 1));
    memcpy(w->stats + w->stats_len, v, len);
    w->stat_off[2 * chunk + which] = (int64_t)w->stats_len;
    ts_pq_chunk_out *k = &w->chunks[chunk];
    if (which)
        k->stats.max_len = len;
    else
        k->stats.min_len = len;
    w->stats_len += len;
    return TS_OK;
}

/* min / max of the non-null values, and the null count. */
static ts_err chunk_stats(ts_pq_writer *w, const chunk_rows *cr, int64_t chunk, const uint8_t *def)
{
    const ts_column *c = cr->col;
    int64_t nulls = 0;
    for (int64_t k = 0; k < cr->n; k++)
        nulls += !def[k];
    w->chunks[chunk].stats.null_count = nulls;
    if (nulls == cr->n)
        return TS_OK;
    switch (c->type) {
    case TS_T_BOOL: {
        uint8_t lo = 1, hi = 0;
        for (int64_t k = 0; k < cr->n; k++)
            if (def[k]) {
                const uint8_t v = TS_COL(c, uint8_t)[row_at(cr, k)] != 0;
                lo &= v, hi |= v;
            }
        TS_TRY(put_stat(w, chunk, 0, &lo, 1));
        return put_stat(w, chunk, 1, &hi, 1);
    }
#define INT_STATS(T, MIN, MAX)                                                                                   \
    do {                                                                                                         \
        T lo = MAX, hi = MIN;                                                                                    \
        for (int64_t k = 0; k < cr->n; k++)                                                                      \
            if (def[k]) {                                                                                        \
                const T v = TS_COL(c, T)[row_at(cr, k)];                                                         \
                lo = v < lo ? v : lo, hi = v > hi ? v : hi;                                                      \
            }                                                                                                    \
        TS_TRY(put_stat(w, chunk, 0, &lo, sizeof lo));                                                           \
        return put_stat(w, chunk, 1, &hi, sizeof hi);                                                            \
    } while (0)
    case TS_T_INT32: case TS_T_DATE: INT_STATS(int32_t, INT32_MIN, INT32_MAX);
    case TS_T_INT64: case TS_T_DECIMAL: case TS_T_TIMESTAMP: INT_STATS(int64_t, INT64_MIN, INT64_MAX);
#undef INT_STATS
    case TS_T_FLOAT64: {
        double lo = INFINITY, hi = -INFINITY;
        int any = 0;
        for (int64_t k = 0; k < cr->n; k++)
            if (def[k]) {
                const double v = TS_COL(c, double)[row_at(cr, k)];
                if (isnan(v))
                    continue;
                any = 1, lo = v < lo ? v : lo, hi = v > hi ? v : hi;
            }
        if (!any)
            return TS_OK;
        if (lo == 0) /* the spec's rule for signed zeros: -0.0 as min, +0.0 as max */
            lo = -0.0;
        if (hi == 0)
            hi = 0.0;
        TS_TRY(put_stat(w, chunk, 0, &lo, 8));
        return put_stat(w, chunk, 1, &hi, 8);
    }
    default: {
        const uint8_t *lo = NULL, *hi = NULL;
        uint32_t lol = 0, hil = 0;
        for (int64_t k = 0; k < cr->n; k++) {
            if (!def[k])
                continue;
            const uint8_t *p;
            uint32_t l;
            str_at(c, row_at(cr, k), &p, &l);
            if (l > STAT_MAX_BYTES)
                return TS_OK;
            if (!lo || cmp_bytes(p, l, lo, lol) < 0)
                lo = p, lol = l;
            if (!hi || cmp_bytes(p, l, hi, hil) > 0)
                hi = p, hil = l;
        }
        TS_TRY(put_stat(w, chunk, 0, lo, lol));
        return put_stat(w, chunk, 1, hi, hil);
    }
    }
}

/* The rows of a page: [a, b) of the chunk; b chosen so the page holds about PAGE_BYTES. */
static int64_t page_end(const chunk_rows *cr, const uint8_t *def, int64_t a, int dict_width)
{
    const ts_column *c = cr->col;
    if (dict_width >= 0 || c->type != TS_T_STRING) {
        const int64_t per = dict_width >= 0 ? (dict_width + 7) / 8 + 1 : (int64_t)ts_type_width(c->type);
        const int64_t rows = PAGE_BYTES / per;
        return a + rows < cr->n ? a + rows : cr->n;
    }
    int64_t bytes = 0, b = a;
    const int64_t *off = TS_COL(c, int64_t);
    while (b < cr->n && bytes < PAGE_BYTES) {
        if (def[b]) {
            const int64_t r = row_at(cr, b);
            bytes += 4 + off[r + 1] - off[r];
        }
        b++;
    }
    return b;
}

/* Page body: definition levels (4-byte length + RLE), then the values of rows [a, b). idx: dictionary indices of
 * the chunk's non-null rows in order (dict_width >= 0), starting at *vi. */
static ts_err data_page(ts_pq_writer *w, ts_pq_chunk_out *k, const chunk_rows *cr, const uint8_t *def, int64_t a,
                        int64_t b, int dict_width, const uint32_t *idx, int64_t *vi)
{
    const ts_column *c = cr->col;
    const int64_t n = b - a;
    int64_t nn = 0;
    for (int64_t i = a; i < b; i++)
        nn += def[i];
    size_t vbytes;
    if (dict_width >= 0)
        vbytes = 1 + ts_rle_max_bytes((size_t)nn, dict_width);
    else if (c->type == TS_T_BOOL)
        vbytes = ts_bitpack_bytes((size_t)nn, 1);
    else if (c->type == TS_T_STRING || c->type == TS_T_DICT) {
        vbytes = 0;
        for (int64_t i = a; i < b; i++)
            if (def[i]) {
                const uint8_t *p;
                uint32_t l;
                str_at(c, row_at(cr, i), &p, &l);
                vbytes += 4 + l;
            }
    } else
        vbytes = (size_t)nn * ts_type_width(c->type);
    const size_t lmax = ts_rle_max_bytes((size_t)n, 1);
    TS_TRY(grow(&w->page, &w->page_cap, 4 + lmax + vbytes));
    uint8_t *o = w->page;
    const size_t ll = ts_rle_encode8(def + a, (size_t)n, 1, o + 4);
    o[0] = (uint8_t)ll, o[1] = (uint8_t)(ll >> 8), o[2] = (uint8_t)(ll >> 16), o[3] = (uint8_t)(ll >> 24);
    size_t at = 4 + ll;
    int encoding = TS_PQ_PLAIN;
    if (dict_width >= 0) {
        encoding = TS_PQ_RLE_DICTIONARY;
        o[at++] = (uint8_t)dict_width;
        at += ts_rle_encode32(idx + *vi, (size_t)nn, dict_width, o + at);
        *vi += nn;
    } else if (c->type == TS_T_BOOL) {
        memset(o + at, 0, vbytes);
        int64_t j = 0;
        for (int64_t i = a; i < b; i++)
            if (def[i]) {
                o[at + (size_t)(j >> 3)] |= (uint8_t)((TS_COL(c, uint8_t)[row_at(cr, i)] != 0) << (j & 7));
                j++;
            }
        at += vbytes;
    } else if (c->type == TS_T_STRING || c->type == TS_T_DICT) {
        for (int64_t i = a; i < b; i++)
            if (def[i]) {
                const uint8_t *p;
                uint32_t l;
                str_at(c, row_at(cr, i), &p, &l);
                memcpy(o + at, &l, 4); /* little-endian hosts */
                memcpy(o + at + 4, p, l);
                at += 4 + l;
            }
    } else {
        const size_t wd = ts_type_width(c->type);
        const uint8_t *src = c->data;
        if (!cr->rows && nn == n) {
            memcpy(o + at, src + (size_t)(cr->first + a) * wd, (size_t)n * wd);
            at += (size_t)n * wd;
        } else if (wd == 4) {
            for (int64_t i = a; i < b; i++)
                if (def[i])
                    memcpy(o + at, src + (size_t)row_at(cr, i) * 4, 4), at += 4;
        } else {
            for (int64_t i = a; i < b; i++)
                if (def[i])
                    memcpy(o + at, src + (size_t)row_at(cr, i) * 8, 8), at += 8;
        }
    }
    return put_page(w, k, TS_PQ_DATA_PAGE, (int32_t)n, encoding, o, at);
}

/* Dictionary indices of the chunk's non-null rows into w->idx and the dictionary page's values; *width -1 when
 * the chunk should not use a dictionary. */
static ts_err build_dictionary(ts_pq_writer *w, ts_pq_chunk_out *k, const chunk_rows *cr, const uint8_t *def,
                               int64_t nn, int *width)
{
    const ts_column *c = cr->col;
    *width = -1;
    if (w->opt.no_dictionary || nn == 0 || (c->type != TS_T_DICT && c->type != TS_T_STRING))
        return TS_OK;
    TS_TRY(grow(&w->idx, &w->idx_cap, (size_t)nn * 4 + 4));
    uint32_t *idx = w->idx;
    int64_t nd = 0;
    ts_err err = TS_OK;
    if (c->type == TS_T_DICT) {
        /* the codes the chunk uses, renumbered in dictionary order */
        const int32_t dn = c->dict->n;
        int32_t *map = malloc(sizeof *map * (size_t)(dn ? dn : 1));
        if (!map)
            TS_FAIL(TS_ERR_NOMEM, "out of memory for a dictionary of %d values", dn);
        memset(map, 0xff, sizeof *map * (size_t)(dn ? dn : 1));
        const int32_t *codes = TS_COL(c, int32_t);
        for (int64_t i = 0; i < cr->n; i++)
            if (def[i])
                map[codes[row_at(cr, i)]] = 0;
        size_t bytes = 0;
        for (int32_t d = 0; d < dn; d++)
            if (map[d] == 0) {
                int64_t l;
                ts_dict_value(c->dict, d, &l);
                map[d] = (int32_t)nd++, bytes += 4 + (size_t)l;
            }
        err = grow(&w->vals, &w->vals_cap, bytes + 16);
        size_t at = 0;
        for (int32_t d = 0; !err && d < dn; d++)
            if (map[d] >= 0) {
                int64_t l;
                const char *s = ts_dict_value(c->dict, d, &l);
                const uint32_t l32 = (uint32_t)l;
                memcpy(w->vals + at, &l32, 4), memcpy(w->vals + at + 4, s, (size_t)l);
                at += 4 + (size_t)l;
            }
        for (int64_t i = 0, j = 0; !err && i < cr->n; i++)
            if (def[i])
                idx[j++] = (uint32_t)map[codes[row_at(cr, i)]];
        free(map);
        if (!err)
            err = put_page(w, k, TS_PQ_DICTIONARY_PAGE, (int32_t)nd, TS_PQ_PLAIN, w->vals, at);
    } else {
        /* distinct strings in first-seen order; worth it when at most about half the values are distinct */
        ts_pq_intern in;
        TS_TRY(ts_pq_intern_init(&in, nn / 2 + 16));
        ts_pq_sv sv[256];
        int32_t codes[256];
        int full = 0;
        for (int64_t i = 0, j = 0; !err && !full && i < cr->n;) {
            int m = 0;
            for (; i < cr->n && m < 256; i++)
                if (def[i]) {
                    str_at(c, row_at(cr, i), &sv[m].p, &sv[m].len);
                    m++;
                }
            err = ts_pq_intern_codes(&in, sv, (size_t)m, codes, &full);
            for (int q = 0; q < m; q++)
                idx[j++] = (uint32_t)codes[q];
            full |= in.values->nbytes > DICT_MAX_BYTES;
        }
        if (!err && !full) {
            nd = in.values->len;
            const int64_t *off = TS_COL(in.values, int64_t);
            err = grow(&w->vals, &w->vals_cap, (size_t)(in.values->nbytes + 4 * nd) + 16);
            size_t at = 0;
            for (int64_t d = 0; !err && d < nd; d++) {
                const uint32_t l = (uint32_t)(off[d + 1] - off[d]);
                memcpy(w->vals + at, &l, 4), memcpy(w->vals + at + 4, in.values->bytes + off[d], l);
                at += 4 + l;
            }
            if (!err)
                err = put_page(w, k, TS_PQ_DICTIONARY_PAGE, (int32_t)nd, TS_PQ_PLAIN, w->vals, at);
        }
        ts_pq_intern_free(&in);
        if (err || full)
            return err;
    }
    TS_TRY(err);
    *width = nd > 1 ? ts_bit_width64((uint64_t)(nd - 1)) : 0;
    return TS_OK;
}

static ts_err encode_chunk(ts_pq_writer *w, const chunk_rows *cr, int64_t chunk, int c)
{
    ts_pq_chunk_out *k = &w->chunks[chunk];
    *k = (ts_pq_chunk_out){.type = w->schema[c + 1].type, .codec = w->opt.codec, .name = w->names[c],
                           .num_values = cr->n, .dict_page_offset = -1};
    w->stat_off[2 * chunk] = w->stat_off[2 * chunk + 1] = -1;
    TS_TRY(grow(&w->def, &w->def_cap, (size_t)cr->n + 1));
    uint8_t *def = w->def;
    int64_t nn = 0;
    for (int64_t i = 0; i < cr->n; i++)
        nn += def[i] = (uint8_t)ts_column_is_valid(cr->col, row_at(cr, i));
    TS_TRY(chunk_stats(w, cr, chunk, def));
    const int64_t start = (int64_t)w->len;
    int width;
    TS_TRY(build_dictionary(w, k, cr, def, nn, &width));
    if (width >= 0) {
        k->dict_page_offset = start;
        k->encodings = 1u << TS_PQ_PLAIN | 1u << TS_PQ_RLE | 1u << TS_PQ_RLE_DICTIONARY;
    } else {
        k->encodings = 1u << TS_PQ_PLAIN | 1u << TS_PQ_RLE;
    }
    k->data_page_offset = (int64_t)w->len;
    int64_t vi = 0;
    for (int64_t a = 0; a < cr->n || a == 0;) { /* an empty chunk still gets one (empty) page */
        const int64_t b = page_end(cr, def, a, width);
        TS_TRY(data_page(w, k, cr, def, a, b, width, w->idx, &vi));
        if (b >= cr->n)
            break;
        a = b;
    }
    return TS_OK;
}

ts_err ts_pq_writer_add(ts_pq_writer *w, const ts_table *t, const int64_t *rows, int64_t n)
{
    if (t->ncols != w->ncols)
        TS_FAIL(TS_ERR_INTERNAL, "Parquet writer: a table of %d columns for a schema of %d", t->ncols, w->ncols);
    if (!rows)
        n = ts_table_rows(t);
    const int64_t per = w->opt.row_group_rows;
    for (int64_t first = 0; first < n || (first == 0 && w->nrg == 0 && n == 0); first += per) {
        const int64_t cnt = n - first < per ? n - first : per;
        if (w->nrg == w->rg_cap) {
            const int cap = w->rg_cap ? 2 * w->rg_cap : 8;
            ts_pq_chunk_out *ch = realloc(w->chunks, sizeof *ch * (size_t)cap * (size_t)w->ncols);
            if (ch)
                w->chunks = ch;
            int64_t *rr = realloc(w->rg_rows, sizeof *rr * (size_t)cap);
            if (rr)
                w->rg_rows = rr;
            int64_t *so = realloc(w->stat_off, sizeof *so * 2 * (size_t)cap * (size_t)w->ncols);
            if (so)
                w->stat_off = so;
            if (!ch || !rr || !so)
                TS_FAIL(TS_ERR_NOMEM, "out of memory for Parquet row groups");
            w->rg_cap = cap;
        }
        for (int c = 0; c < w->ncols; c++) {
            const chunk_rows cr = {t->cols[c], rows, first, cnt};
            TS_TRY(encode_chunk(w, &cr, (int64_t)w->nrg * w->ncols + c, c));
        }
        w->rg_rows[w->nrg++] = cnt;
        w->rows += cnt;
        if (n == 0)
            break;
    }
    return TS_OK;
}

ts_err ts_pq_writer_row_groups(const ts_pq_writer *w, int64_t base, ts_thrift_writer *out)
{
    ts_pq_chunk_out tmp[TS_MAX_COLS];
    for (int g = 0; g < w->nrg; g++) {
        for (int c = 0; c < w->ncols; c++) {
            const int64_t k = (int64_t)g * w->ncols + c;
            tmp[c] = w->chunks[k];
            tmp[c].stats.min = w->stat_off[2 * k] >= 0 ? w->stats + w->stat_off[2 * k] : NULL;
            tmp[c].stats.max = w->stat_off[2 * k + 1] >= 0 ? w->stats + w->stat_off[2 * k + 1] : NULL;
        }
        ts_pq_row_group_encode(out, tmp, w->ncols, w->rg_rows[g], base);
    }
    if (out->nomem)
        TS_FAIL(TS_ERR_NOMEM, "out of memory encoding Parquet metadata");
    return TS_OK;
}

ts_err ts_pq_writer_footer(const ts_pq_writer *w, const uint8_t *rg_bytes, size_t rg_len, int nrg, int64_t rows,
                           ts_thrift_writer *out)
{
    ts_pq_file_meta_encode(out, w->schema, w->ncols + 1, rows, rg_bytes, rg_len, nrg,
                           "tessera version " TS_VERSION);
    const uint32_t len = (uint32_t)out->len;
    const uint8_t tail[8] = {(uint8_t)len, (uint8_t)(len >> 8), (uint8_t)(len >> 16), (uint8_t)(len >> 24),
                             'P', 'A', 'R', '1'};
    ts_thrift_w_raw(out, tail, 8);
    if (out->nomem)
        TS_FAIL(TS_ERR_NOMEM, "out of memory encoding a Parquet footer");
    return TS_OK;
}

static ts_err write_all(int fd, const uint8_t *p, size_t n, const char *path)
{
    while (n) {
        const ssize_t k = write(fd, p, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            TS_FAIL(TS_ERR_IO, "cannot write %s: %s", path, k < 0 ? strerror(errno) : "no progress");
        p += k, n -= (size_t)k;
    }
    return TS_OK;
}

ts_err ts_pq_write_file(const char *path, const ts_table *t, const int64_t *rows, int64_t n,
                        const ts_pq_write_opts *opt)
{
    ts_pq_writer w;
    ts_thrift_writer rg, foot;
    ts_thrift_writer_init(&rg), ts_thrift_writer_init(&foot);
    ts_err err = ts_pq_writer_init(&w, t, opt);
    if (!err)
        err = ts_pq_writer_add(&w, t, rows, n);
    if (!err)
        err = ts_pq_writer_row_groups(&w, 4, &rg);
    if (!err)
        err = ts_pq_writer_footer(&w, rg.buf, rg.len, w.nrg, w.rows, &foot);
    char tmp[4200];
    const char *slash = strrchr(path, '/');
    const int dir = slash ? (int)(slash - path + 1) : 0;
    snprintf(tmp, sizeof tmp, "%.*s.%s.tmp-%d", dir, path, path + dir, (int)getpid());
    int fd = -1;
    if (!err && (fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0)
        err = ts_error_raise(TS_ERR_IO, __FILE__, __LINE__, __func__, "cannot create %s: %s", tmp, strerror(errno));
    if (!err)
        err = write_all(fd, (const uint8_t *)"PAR1", 4, tmp);
    if (!err)
        err = write_all(fd, w.buf, w.len, tmp);
    if (!err)
        err = write_all(fd, foot.buf, foot.len, tmp);
    if (fd >= 0 && close(fd) != 0 && !err)
        err = ts_error_raise(TS_ERR_IO, __FILE__, __LINE__, __func__, "cannot write %s: %s", tmp, strerror(errno));
    if (!err && rename(tmp, path) != 0)
        err = ts_error_raise(TS_ERR_IO, __FILE__, __LINE__, __func__, "cannot rename %s to %s: %s", tmp, path,
                             strerror(errno));
    if (err && fd >= 0)
        unlink(tmp);
    ts_pq_writer_free(&w);
    ts_thrift_writer_free(&rg), ts_thrift_writer_free(&foot);
    return err;
}
