#include "ts_parquet_read.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ts_bitpack.h"
#include "ts_parquet_codec.h"
#include "ts_rle.h"

/* How the reader turns physical values into the column's Tessera values. */
enum {
    CV_BOOL,        /* BOOLEAN -> BOOL */
    CV_COPY4,       /* INT32 -> INT32 / DATE */
    CV_COPY8,       /* INT64 -> INT64 / DECIMAL, DOUBLE -> FLOAT64 */
    CV_I32_I64,     /* INT32 -> INT64 (DECIMAL from INT32) */
    CV_U32_I64,     /* UINT32 -> INT64 */
    CV_I32_MS_US,   /* TIME_MILLIS (int32) -> INT64 microseconds */
    CV_I64_MS_US,   /* TIMESTAMP_MILLIS -> microseconds (overflow checked) */
    CV_I64_NS_US,   /* nanoseconds -> microseconds (floored) */
    CV_U64,         /* UINT64 -> INT64 (values of 2^63 or more are an error) */
    CV_I96,         /* INT96 timestamp -> INT64 microseconds */
    CV_F32,         /* FLOAT -> FLOAT64 */
    CV_STR,         /* BYTE_ARRAY / FLBA -> STRING */
    CV_UUID,        /* FLBA(16) -> STRING, 36-character form */
    CV_DEC_BYTES,   /* big-endian two's complement -> DECIMAL */
    CV_DEC_F64,     /* big-endian two's complement DECIMAL(p > 18) -> FLOAT64 */
    CV_F16          /* FLBA(2) half precision -> FLOAT64 */
};

static int views_in(int phys) { return phys == TS_PQ_BYTE_ARRAY || phys == TS_PQ_FLBA; }
static int string_out(const ts_pq_column *c) { return c->type == TS_T_STRING; }

/* ---- buffers ----------------------------------------------------------------------------------------------------- */

/* Ensures a scratch buffer of need bytes (plus 16 bytes of slack for word-sized over-reads); contents are not kept. */
static ts_err scratch(void *pp, size_t *cap, size_t need)
{
    void **p = pp;
    need += 16;
    if (need <= *cap)
        return TS_OK;
    size_t n = *cap ? *cap : 4096;
    while (n < need)
        n *= 2;
    free(*p);
    *p = malloc(n);
    *cap = *p ? n : 0;
    if (!*p)
        TS_FAIL(TS_ERR_NOMEM, "out of memory for a page buffer of %zu bytes", need);
    return TS_OK;
}

void ts_pq_reader_free(ts_pq_reader *r)
{
    free(r->page), free(r->dict_page), free(r->def), free(r->dense), free(r->vals), free(r->u64), free(r->idx);
    free(r->sv), free(r->codes), free(r->text), free(r->dict_vals), free(r->dict_sv), free(r->dict_code);
    free(r->dict_text);
    memset(r, 0, sizeof *r);
}

static inline uint32_t le32(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }

/* ---- schema ------------------------------------------------------------------------------------------------------ */

static const char *const PHYS_NAMES[] = {"BOOLEAN", "INT32", "INT64", "INT96", "FLOAT", "DOUBLE", "BYTE_ARRAY",
                                         "FIXED_LEN_BYTE_ARRAY"};

/* The logical type of e, from its LogicalType or else its legacy ConvertedType; unit / bits / signedness /
 * decimal scale and precision through the pointers. */
static int logical_of(const ts_pq_schema_elem *e, int *unit, int *bits, int *is_signed, int *scale, int *precision)
{
    *unit = e->lt_unit, *bits = e->lt_bits, *is_signed = e->lt_signed;
    *scale = e->lt_scale, *precision = e->lt_precision;
    if (e->logical != TS_PQ_LT_NONE) {
        if (e->logical == TS_PQ_LT_DECIMAL && !*precision) /* some writers fill only the legacy fields */
            *scale = e->scale, *precision = e->precision;
        return e->logical;
    }
    *scale = e->scale, *precision = e->precision;
    switch (e->converted) {
    case TS_PQ_CT_UTF8: return TS_PQ_LT_STRING;
    case TS_PQ_CT_ENUM: return TS_PQ_LT_ENUM;
    case TS_PQ_CT_JSON: return TS_PQ_LT_JSON;
    case TS_PQ_CT_BSON: return TS_PQ_LT_BSON;
    case TS_PQ_CT_DECIMAL: return TS_PQ_LT_DECIMAL;
    case TS_PQ_CT_DATE: return TS_PQ_LT_DATE;
    case TS_PQ_CT_TIME_MILLIS: *unit = TS_PQ_MILLIS; return TS_PQ_LT_TIME;
    case TS_PQ_CT_TIME_MICROS: *unit = TS_PQ_MICROS; return TS_PQ_LT_TIME;
    case TS_PQ_CT_TIMESTAMP_MILLIS: *unit = TS_PQ_MILLIS; return TS_PQ_LT_TIMESTAMP;
    case TS_PQ_CT_TIMESTAMP_MICROS: *unit = TS_PQ_MICROS; return TS_PQ_LT_TIMESTAMP;
    case TS_PQ_CT_UINT_8: case TS_PQ_CT_UINT_16: case TS_PQ_CT_UINT_32: case TS_PQ_CT_UINT_64:
        *bits = 8 << (e->converted - TS_PQ_CT_UINT_8), *is_signed = 0;
        return TS_PQ_LT_INTEGER;
    case TS_PQ_CT_INT_8: case TS_PQ_CT_INT_16: case TS_PQ_CT_INT_32: case TS_PQ_CT_INT_64:
        *bits = 8 << (e->converted - TS_PQ_CT_INT_8), *is_signed = 1;
        return TS_PQ_LT_INTEGER;
    case TS_PQ_CT_INTERVAL: return TS_PQ_LT_OTHER;
    case TS_PQ_CT_MAP: case TS_PQ_CT_MAP_KEY_VALUE: return TS_PQ_LT_MAP;
    case TS_PQ_CT_LIST: return TS_PQ_LT_LIST;
    default: return TS_PQ_LT_NONE;
    }
}

static const char *unit_name(int unit) { return unit == TS_PQ_MILLIS ? "MILLIS" : unit == TS_PQ_NANOS ? "NANOS" : "MICROS"; }

/* Maps leaf e to a Tessera type and conversion; a message in why (and -1) when the column cannot be read. */
static int map_column(const ts_pq_schema_elem *e, ts_pq_column *c, char *why, size_t cap)
{
    int unit, bits, sgn, scale, prec;
    const int lt = logical_of(e, &unit, &bits, &sgn, &scale, &prec);
    const char *pn = PHYS_NAMES[e->type];
    c->phys = e->type, c->type_length = e->type_length, c->scale = 0;
    snprintf(c->desc, sizeof c->desc, "%s", pn);
    if (lt == TS_PQ_LT_LIST || lt == TS_PQ_LT_MAP) {
        snprintf(why, cap, "is a %s (nested columns are not supported)", lt == TS_PQ_LT_LIST ? "LIST" : "MAP");
        return -1;
    }
    if (lt == TS_PQ_LT_DECIMAL) {
        if (scale < 0 || scale > 18 || prec < 1 || scale > prec || prec > 76) {
            snprintf(why, cap, "has DECIMAL(%d,%d), which Tessera cannot represent (scale 0..18)", prec, scale);
            return -1;
        }
        snprintf(c->desc, sizeof c->desc, "%s DECIMAL(%d,%d)", pn, prec, scale);
        c->scale = scale;
        switch (e->type) {
        case TS_PQ_INT32: c->type = TS_T_DECIMAL, c->conv = CV_I32_I64; return 0;
        case TS_PQ_INT64: c->type = TS_T_DECIMAL, c->conv = CV_COPY8; return 0;
        case TS_PQ_BYTE_ARRAY: case TS_PQ_FLBA:
            if (prec <= 18) {
                c->type = TS_T_DECIMAL, c->conv = CV_DEC_BYTES;
            } else {
                c->type = TS_T_FLOAT64, c->conv = CV_DEC_F64, c->lossy = 1;
                c->scale = scale; /* kept for the conversion */
            }
            return 0;
        default: break;
        }
        snprintf(why, cap, "has DECIMAL on %s", pn);
        return -1;
    }
    switch (e->type) {
    case TS_PQ_BOOLEAN: c->type = TS_T_BOOL, c->conv = CV_BOOL; return 0;
    case TS_PQ_INT32:
        if (lt == TS_PQ_LT_DATE) {
            c->type = TS_T_DATE, c->conv = CV_COPY4;
            snprintf(c->desc, sizeof c->desc, "INT32 DATE");
        } else if (lt == TS_PQ_LT_TIME) {
            c->type = TS_T_INT64, c->conv = CV_I32_MS_US, c->temporal = 2;
            snprintf(c->desc, sizeof c->desc, "INT32 TIME(MILLIS)");
        } else if (lt == TS_PQ_LT_INTEGER && !sgn && bits == 32) {
            c->type = TS_T_INT64, c->conv = CV_U32_I64;
            snprintf(c->desc, sizeof c->desc, "INT32 UINT32");
        } else {
            c->type = TS_T_INT32, c->conv = CV_COPY4;
            if (lt == TS_PQ_LT_INTEGER)
                snprintf(c->desc, sizeof c->desc, "INT32 %sINT%d", sgn ? "" : "U", bits);
        }
        return 0;
    case TS_PQ_INT64:
        c->type = TS_T_INT64, c->conv = CV_COPY8;
        if (lt == TS_PQ_LT_TIMESTAMP || lt == TS_PQ_LT_TIME) {
            c->conv = unit == TS_PQ_MILLIS ? CV_I64_MS_US : unit == TS_PQ_NANOS ? CV_I64_NS_US : CV_COPY8;
            c->temporal = lt == TS_PQ_LT_TIME ? 2 : 1;
            if (lt == TS_PQ_LT_TIMESTAMP)
                c->type = TS_T_TIMESTAMP;
            snprintf(c->desc, sizeof c->desc, "INT64 %s(%s)", lt == TS_PQ_LT_TIME ? "TIME" : "TIMESTAMP",
                     unit_name(unit));
        } else if (lt == TS_PQ_LT_INTEGER && !sgn) {
            c->conv = CV_U64;
            snprintf(c->desc, sizeof c->desc, "INT64 UINT64");
        }
        return 0;
    case TS_PQ_INT96:
        c->type = TS_T_TIMESTAMP, c->conv = CV_I96, c->temporal = 1;
        snprintf(c->desc, sizeof c->desc, "INT96 TIMESTAMP");
        return 0;
    case TS_PQ_FLOAT: c->type = TS_T_FLOAT64, c->conv = CV_F32; return 0;
    case TS_PQ_DOUBLE: c->type = TS_T_FLOAT64, c->conv = CV_COPY8; return 0;
    case TS_PQ_BYTE_ARRAY:
        c->type = TS_T_STRING, c->conv = CV_STR;
        if (lt == TS_PQ_LT_STRING || lt == TS_PQ_LT_ENUM || lt == TS_PQ_LT_JSON)
            snprintf(c->desc, sizeof c->desc, "BYTE_ARRAY %s", lt == TS_PQ_LT_STRING ? "STRING" : lt == TS_PQ_LT_ENUM ?
                     "ENUM" : "JSON");
        return 0;
    case TS_PQ_FLBA:
        if (e->type_length <= 0 || e->type_length > (1 << 20)) {
            snprintf(why, cap, "has FIXED_LEN_BYTE_ARRAY of length %d", e->type_length);
            return -1;
        }
        if (lt == TS_PQ_LT_OTHER || e->converted == TS_PQ_CT_INTERVAL) {
            snprintf(why, cap, "has a type Tessera does not read (%s, e.g. INTERVAL)", pn);
            return -1;
        }
        c->type = TS_T_STRING, c->conv = CV_STR;
        if (lt == TS_PQ_LT_UUID && e->type_length == 16)
            c->conv = CV_UUID, snprintf(c->desc, sizeof c->desc, "FIXED_LEN_BYTE_ARRAY UUID");
        else if (lt == TS_PQ_LT_FLOAT16 && e->type_length == 2)
            c->type = TS_T_FLOAT64, c->conv = CV_F16, snprintf(c->desc, sizeof c->desc, "FIXED_LEN_BYTE_ARRAY FLOAT16");
        else
            snprintf(c->desc, sizeof c->desc, "FIXED_LEN_BYTE_ARRAY(%d)", e->type_length);
        return 0;
    default: snprintf(why, cap, "has an unknown physical type"); return -1;
    }
}

static void elem_name(const ts_pq_schema_elem *e, char *buf, size_t cap)
{
    snprintf(buf, cap, "%.*s", (int)(e->name_len < 200 ? e->name_len : 200), e->name ? e->name : "");
    for (char *p = buf; *p; p++)
        if ((unsigned char)*p < 32)
            *p = '?';
}

/* Walks the schema: the root's children must all be primitive, non-repeated leaves; the first nested column is
 * refused by name. */
static ts_err map_schema(ts_pq_file *f)
{
    const ts_pq_meta *m = &f->meta;
    const ts_pq_schema_elem *root = &m->schema[0];
    if (root->type >= 0 || root->num_children < 0 || root->num_children > m->nschema - 1)
        TS_FAIL(TS_ERR_DATA, "%s: corrupt schema (the root has %d children, the schema %d elements)", f->path,
                root->num_children, m->nschema);
    f->cols = calloc((size_t)m->nschema, sizeof *f->cols);
    if (!f->cols)
        TS_FAIL(TS_ERR_NOMEM, "%s: out of memory for the schema", f->path);
    for (int i = 1; i <= root->num_children; i++) {
        const ts_pq_schema_elem *e = &m->schema[i];
        char name[256], why[160];
        elem_name(e, name, sizeof name);
        if (e->type < 0 || e->num_children > 0) {
            const int lt = e->logical ? e->logical : e->converted == TS_PQ_CT_LIST ? TS_PQ_LT_LIST
                         : e->converted == TS_PQ_CT_MAP || e->converted == TS_PQ_CT_MAP_KEY_VALUE ? TS_PQ_LT_MAP : 0;
            TS_FAIL(TS_ERR_DATA, "%s: column '%s' is a %s; nested schemas (lists, maps, structs) are not supported: "
                    "read a flat file or flatten it first", f->path, name,
                    lt == TS_PQ_LT_LIST ? "LIST" : lt == TS_PQ_LT_MAP ? "MAP" : "struct (a group of columns)");
        }
        if (e->repetition == TS_PQ_REPEATED)
            TS_FAIL(TS_ERR_DATA, "%s: column '%s' is a repeated field (a list); nested schemas are not supported",
                    f->path, name);
        if (e->name_len == 0 || e->name_len >= TS_NAME_MAX || memchr(e->name, 0, e->name_len))
            TS_FAIL(TS_ERR_DATA, "%s: column name '%s' is empty, longer than %d bytes or holds a NUL byte", f->path,
                    name, TS_NAME_MAX - 1);
        ts_pq_column *c = &f->cols[f->ncols];
        memcpy(c->name, e->name, e->name_len);
        c->name[e->name_len] = 0;
        for (int k = 0; k < f->ncols; k++)
            if (!strcmp(f->cols[k].name, c->name))
                TS_FAIL(TS_ERR_DATA, "%s: column name '%s' appears twice", f->path, c->name);
        c->leaf = i, c->max_def = e->repetition == TS_PQ_OPTIONAL;
        if (map_column(e, c, why, sizeof why))
            TS_FAIL(TS_ERR_DATA, "%s: column '%s' %s", f->path, name, why);
        f->ncols++;
    }
    if (root->num_children != m->nschema - 1)
        TS_FAIL(TS_ERR_DATA, "%s: corrupt schema (the root has %d children, the schema %d elements)", f->path,
                root->num_children, m->nschema);
    return TS_OK;
}

static int64_t chunk_start(const ts_pq_chunk *ch)
{
    return ch->dict_page_offset > 0 && ch->dict_page_offset < ch->data_page_offset ? ch->dict_page_offset
                                                                                   : ch->data_page_offset;
}

static ts_err check_row_groups(const ts_pq_file *f)
{
    const ts_pq_meta *m = &f->meta;
    for (int g = 0; g < m->nrgs; g++) {
        const ts_pq_row_group *rg = &m->rgs[g];
        if (rg->ncols != f->ncols)
            TS_FAIL(TS_ERR_DATA, "%s: row group %d has %d column chunks, the schema %d columns", f->path, g, rg->ncols,
                    f->ncols);
        for (int c = 0; c < rg->ncols; c++) {
            const ts_pq_chunk *ch = &rg->cols[c];
            const char *name = f->cols[c].name;
            if (ch->has_file_path)
                TS_FAIL(TS_ERR_DATA, "%s: column '%s' of row group %d lives in another file (external column chunks "
                        "are not supported)", f->path, name, g);
            if (ch->type != f->cols[c].phys)
                TS_FAIL(TS_ERR_DATA, "%s: column '%s' of row group %d has physical type %s, the schema says %s",
                        f->path, name, g, PHYS_NAMES[ch->type], PHYS_NAMES[f->cols[c].phys]);
            if (!ts_pq_codec_supported(ch->codec))
                TS_FAIL(TS_ERR_DATA, "%s: column '%s' is compressed with %s, which Tessera does not read (supported: "
                        "UNCOMPRESSED, SNAPPY, GZIP, ZSTD)", f->path, name, ts_pq_codec_name(ch->codec));
            const int64_t start = chunk_start(ch);
            if (start < 4 || ch->total_compressed > f->data_end - start)
                TS_FAIL(TS_ERR_DATA, "%s: column '%s' of row group %d lies outside the file's data (bytes %lld to "
                        "%lld of %lld)", f->path, name, g, (long long)start,
                        (long long)start + (long long)ch->total_compressed, (long long)f->data_end);
        }
    }
    return TS_OK;
}

static ts_err open_common(ts_pq_file *f)
{
    if (f->size < 12)
        TS_FAIL(TS_ERR_DATA, "%s: not a Parquet file (%lld bytes, too short)", f->path, (long long)f->size);
    const uint8_t *d = f->data, *tail = d + f->size - 4;
    if (!memcmp(tail, "PARE", 4))
        TS_FAIL(TS_ERR_DATA, "%s: an encrypted Parquet file (not supported)", f->path);
    if (memcmp(d, "PAR1", 4) || memcmp(tail, "PAR1", 4))
        TS_FAIL(TS_ERR_DATA, "%s: not a Parquet file (no PAR1 magic at its %s)", f->path,
                memcmp(d, "PAR1", 4) ? "start" : "end");
    const uint32_t flen = le32(d + f->size - 8);
    if ((int64_t)flen > f->size - 12)
        TS_FAIL(TS_ERR_DATA, "%s: corrupt footer: its length (%u bytes) exceeds the file (%lld bytes)", f->path, flen,
                (long long)f->size);
    f->data_end = f->size - 8 - flen;
    ts_err err = ts_pq_meta_decode(d + f->data_end, flen, &f->meta);
    if (err) {
        char msg[512];
        snprintf(msg, sizeof msg, "%s", ts_error_headline());
        TS_FAIL(err, "%s: %s", f->path, msg);
    }
    TS_TRY(map_schema(f));
    return check_row_groups(f);
}

ts_err ts_pq_open_buffer(const uint8_t *data, size_t len, const char *name, ts_pq_file **out)
{
    *out = NULL;
    ts_pq_file *f = calloc(1, sizeof *f);
    if (!f)
        TS_FAIL(TS_ERR_NOMEM, "out of memory opening %s", name);
    snprintf(f->path, sizeof f->path, "%s", name);
    f->data = data, f->size = (int64_t)len;
    const ts_err err = open_common(f);
    if (err) {
        ts_pq_close(f);
        return err;
    }
    *out = f;
    return TS_OK;
}

ts_err ts_pq_open(const char *path, ts_pq_file **out)
{
    *out = NULL;
    const int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        TS_FAIL(TS_ERR_IO, "cannot open %s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        const int e = errno;
        close(fd);
        TS_FAIL(TS_ERR_IO, "%s: %s", path, S_ISREG(st.st_mode) ? strerror(e) : "not a regular file");
    }
    void *map = NULL;
    if (st.st_size > 0 && (map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0)) == MAP_FAILED) {
        const int e = errno;
        close(fd);
        TS_FAIL(TS_ERR_IO, "cannot map %s: %s", path, strerror(e));
    }
    close(fd);
    ts_pq_file *f = calloc(1, sizeof *f);
    if (!f) {
        if (map)
            munmap(map, (size_t)st.st_size);
        TS_FAIL(TS_ERR_NOMEM, "out of memory opening %s", path);
    }
    snprintf(f->path, sizeof f->path, "%s", path);
    f->map = map, f->data = map ? map : (const uint8_t *)"", f->size = st.st_size;
    const ts_err err = open_common(f);
    if (err) {
        ts_pq_close(f);
        return err;
    }
    *out = f;
    return TS_OK;
}

void ts_pq_close(ts_pq_file *f)
{
    if (!f)
        return;
    if (f->map)
        munmap(f->map, (size_t)f->size);
    ts_pq_meta_free(&f->meta);
    free(f->cols);
    free(f);
}

int ts_pq_find_column(const ts_pq_file *f, const char *name)
{
    for (int c = 0; c < f->ncols; c++)
        if (!strcmp(f->cols[c].name, name))
            return c;
    return -1;
}

/* ---- conversions --------------------------------------------------------------------------------------------------- */

static inline int32_t ld_i32(const uint8_t *p) { int32_t v; memcpy(&v, p, 4); return v; }
static inline uint32_t ld_u32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static inline int64_t ld_i64(const uint8_t *p) { int64_t v; memcpy(&v, p, 8); return v; }
static inline float ld_f32(const uint8_t *p) { float v; memcpy(&v, p, 4); return v; }

/* n physical values at src (possibly unaligned) into n Tessera values at dst. */
static ts_err convert_fixed(const ts_pq_column *c, const uint8_t *src, size_t n, void *dst)
{
    int64_t *o64 = dst;
    switch (c->conv) {
    case CV_BOOL: memcpy(dst, src, n); return TS_OK;
    case CV_COPY4: memcpy(dst, src, n * 4); return TS_OK;
    case CV_COPY8: memcpy(dst, src, n * 8); return TS_OK;
    case CV_I32_I64:
        for (size_t i = 0; i < n; i++)
            o64[i] = ld_i32(src + 4 * i);
        return TS_OK;
    case CV_U32_I64:
        for (size_t i = 0; i < n; i++)
            o64[i] = ld_u32(src + 4 * i);
        return TS_OK;
    case CV_I32_MS_US:
        for (size_t i = 0; i < n; i++)
            o64[i] = (int64_t)ld_i32(src + 4 * i) * 1000;
        return TS_OK;
    case CV_I64_MS_US: {
        int over = 0;
        for (size_t i = 0; i < n; i++)
            over |= __builtin_mul_overflow(ld_i64(src + 8 * i), 1000, &o64[i]);
        if (over)
            TS_FAIL(TS_ERR_DATA, "a TIMESTAMP(MILLIS) value is out of the microsecond range");
        return TS_OK;
    }
    case CV_I64_NS_US:
        for (size_t i = 0; i < n; i++) {
            const int64_t v = ld_i64(src + 8 * i);
            o64[i] = v / 1000 - (v % 1000 < 0); /* floor */
        }
        return TS_OK;
    case CV_U64: {
        uint64_t high = 0;
        for (size_t i = 0; i < n; i++)
            high |= (uint64_t)(o64[i] = ld_i64(src + 8 * i));
        if (high >> 63)
            TS_FAIL(TS_ERR_DATA, "a UINT64 value of 2^63 or more does not fit Tessera's INT64");
        return TS_OK;
    }
    case CV_I96: {
        int over = 0;
        for (size_t i = 0; i < n; i++) {
            const int64_t nanos = ld_i64(src + 12 * i);
            const int64_t day = (int64_t)ld_u32(src + 12 * i + 8) - 2440588; /* Julian day of 1970-01-01 */
            int64_t us;
            over |= __builtin_mul_overflow(day, INT64_C(86400000000), &us);
            over |= __builtin_add_overflow(us, nanos / 1000 - (nanos % 1000 < 0), &o64[i]);
        }
        if (over)
            TS_FAIL(TS_ERR_DATA, "an INT96 timestamp is out of range");
        return TS_OK;
    }
    case CV_F32:
        for (size_t i = 0; i < n; i++)
            ((double *)dst)[i] = ld_f32(src + 4 * i);
        return TS_OK;
    default: TS_FAIL(TS_ERR_INTERNAL, "column '%s': no fixed-width conversion", c->name);
    }
}

static double half_to_double(uint16_t h)
{
    const int e = (h >> 10) & 0x1f, m = h & 0x3ff;
    const double s = h >> 15 ? -1.0 : 1.0;
    if (e == 0)
        return s * ldexp(m, -24);
    if (e == 31)
        return m ? NAN : s * INFINITY;
    return s * ldexp(m + 1024, e - 25);
}

static const double POW10[] = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14,
                               1e15, 1e16, 1e17, 1e18};

/* n byte-string values into n Tessera values (decimals, half floats). */
static ts_err convert_views(const ts_pq_column *c, const ts_pq_sv *v, size_t n, void *dst)
{
    for (size_t i = 0; i < n; i++) {
        const uint8_t *p = v[i].p;
        const uint32_t len = v[i].len;
        if (c->conv == CV_F16) {
            ((double *)dst)[i] = len == 2 ? half_to_double((uint16_t)(p[0] | p[1] << 8)) : NAN;
            continue;
        }
        if (c->conv == CV_DEC_F64) { /* two's complement of any length, to the nearest double */
            double x = len ? (double)(int8_t)p[0] : 0;
            for (uint32_t k = 1; k < len; k++)
                x = x * 256.0 + p[k];
            ((double *)dst)[i] = x / POW10[c->scale];
            continue;
        }
        /* CV_DEC_BYTES: at most 8 significant bytes; the others must extend the sign */
        int64_t x = len ? (int8_t)p[0] : 0;
        const uint32_t skip = len > 8 ? len - 8 : 0;
        for (uint32_t k = 0; k < skip; k++)
            if (p[k] != (p[skip] & 0x80 ? 0xff : 0x00))
                TS_FAIL(TS_ERR_DATA, "a DECIMAL value of column '%s' does not fit 18 digits", c->name);
        if (skip)
            x = (int8_t)p[skip];
        for (uint32_t k = skip + 1; k < len; k++)
            x = (int64_t)((uint64_t)x << 8 | p[k]);
        ((int64_t *)dst)[i] = x;
    }
    return TS_OK;
}

/* UUIDs as text: 36 bytes each into r->text (or r->dict_text for a dictionary), views replaced. */
static ts_err uuid_text(uint8_t **buf, size_t *cap, ts_pq_sv *v, size_t n)
{
    TS_TRY(scratch(buf, cap, n * 36));
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        uint8_t *o = *buf + 36 * i;
        for (int k = 0, at = 0; k < 16; k++) {
            if (k == 4 || k == 6 || k == 8 || k == 10)
                o[at++] = '-';
            o[at++] = (uint8_t)hex[v[i].p[k] >> 4], o[at++] = (uint8_t)hex[v[i].p[k] & 15];
        }
        v[i].p = o, v[i].len = 36;
    }
    return TS_OK;
}

/* ---- page content ------------------------------------------------------------------------------------------------- */

/* The page's payload decompressed (or, uncompressed, in place in the file). Sizes are checked against what the
 * codec can produce before any allocation, so a lying header cannot make the reader allocate without bound. */
static ts_err page_bytes(uint8_t **buf, size_t *cap, int codec, const uint8_t *src, size_t len, size_t want,
                         const uint8_t **out)
{
    if (codec == TS_PQ_UNCOMPRESSED) {
        if (len != want)
            TS_FAIL(TS_ERR_DATA, "an uncompressed page has %zu bytes, its header says %zu", len, want);
        *out = src;
        return TS_OK;
    }
    TS_TRY(ts_pq_check_sizes(codec, src, len, want));
    TS_TRY(scratch(buf, cap, want));
    TS_TRY(ts_pq_decompress(codec, src, len, *buf, want));
    *out = *buf;
    return TS_OK;
}

/* Spreads dense values (width w) over rows [0, n) of dst where def[i] is 1, zero elsewhere. dense holds one
 * readable element past its values. */
static void scatter(const uint8_t *dense, const uint8_t *def, size_t n, int w, void *dst)
{
#define SCATTER(T)                                                                                                     \
    do {                                                                                                               \
        const T *s = (const T *)dense;                                                                                 \
        T *d = dst;                                                                                                    \
        size_t j = 0;                                                                                                  \
        for (size_t i = 0; i < n; i++) {                                                                               \
            const T v = s[j];                                                                                          \
            d[i] = def[i] ? v : (T)0;                                                                                  \
            j += def[i];                                                                                               \
        }                                                                                                              \
    } while (0)
    switch (w) {
    case 1: SCATTER(uint8_t); break;
    case 4: SCATTER(uint32_t); break;
    default: SCATTER(uint64_t); break;
    }
#undef SCATTER
}

static void gather(const uint8_t *vals, const uint32_t *idx, size_t n, int w, void *dst)
{
    switch (w) {
    case 1: for (size_t i = 0; i < n; i++) ((uint8_t *)dst)[i] = vals[idx[i]]; break;
    case 4: for (size_t i = 0; i < n; i++) ((uint32_t *)dst)[i] = ((const uint32_t *)vals)[idx[i]]; break;
    default: for (size_t i = 0; i < n; i++) ((uint64_t *)dst)[i] = ((const uint64_t *)vals)[idx[i]]; break;
    }
}

/* Clears the validity bits of rows at + i where def[i] is 0. */
static ts_err mark_nulls(ts_column *c, int64_t at, const uint8_t *def, size_t n)
{
    size_t i = 0;
    while (i < n && def[i])
        i++;
    if (i == n)
        return TS_OK;
    TS_TRY(ts_column_set_null(c, at + (int64_t)i));
    for (; i < n; i++) {
        const int64_t r = at + (int64_t)i;
        c->valid[r >> 6] &= ~((uint64_t)!def[i] << (r & 63));
    }
    return TS_OK;
}

/* String views of nn values encoded with enc (not a dictionary encoding) into r->sv; *limit receives the end of
 * the memory they point into. */
static ts_err value_views(ts_pq_reader *r, const ts_pq_column *c, int enc, const uint8_t *v, size_t vlen, size_t nn,
                          const uint8_t *buf_end, const uint8_t **limit)
{
    TS_TRY(scratch(&r->sv, &r->sv_cap, nn * sizeof *r->sv));
    *limit = buf_end;
    switch (enc) {
    case TS_PQ_PLAIN:
        return c->phys == TS_PQ_BYTE_ARRAY ? ts_pq_plain_strings(v, vlen, nn, r->sv)
                                           : ts_pq_plain_flba(v, vlen, nn, c->type_length, r->sv);
    case TS_PQ_DELTA_LENGTH_BYTE_ARRAY:
        if (c->phys != TS_PQ_BYTE_ARRAY)
            break;
        TS_TRY(scratch(&r->u64, &r->u64_cap, nn * 8));
        return ts_pq_dlba_strings(v, vlen, nn, r->sv, r->u64);
    case TS_PQ_DELTA_BYTE_ARRAY: {
        TS_TRY(scratch(&r->u64, &r->u64_cap, nn * 24));
        size_t bytes, at;
        TS_TRY(ts_pq_dba_prepare(v, vlen, nn, r->u64, r->u64 + nn, r->u64 + 2 * nn, &bytes, &at));
        TS_TRY(scratch(&r->text, &r->text_cap, bytes));
        *limit = r->text + r->text_cap;
        return ts_pq_dba_build(v, vlen, nn, r->u64, r->u64 + nn, at, r->text, r->sv);
    }
    case TS_PQ_BYTE_STREAM_SPLIT:
        if (c->phys != TS_PQ_FLBA)
            break;
        TS_TRY(scratch(&r->vals, &r->vals_cap, nn * (size_t)c->type_length));
        TS_TRY(ts_pq_byte_stream_split(v, vlen, nn, c->type_length, r->vals));
        *limit = r->vals + r->vals_cap;
        return ts_pq_plain_flba(r->vals, nn * (size_t)c->type_length, nn, c->type_length, r->sv);
    default: break;
    }
    TS_FAIL(TS_ERR_DATA, "encoding %s is not valid for %s values", ts_pq_encoding_name(enc), PHYS_NAMES[c->phys]);
}

/* Fixed-width physical values of nn values encoded with enc, as a pointer to them (into the page or r->vals). */
static ts_err value_fixed(ts_pq_reader *r, const ts_pq_column *c, int enc, const uint8_t *v, size_t vlen, size_t nn,
                          const uint8_t **phys)
{
    const int w = ts_pq_phys_width(c->phys, c->type_length);
    if (c->phys == TS_PQ_BOOLEAN && (enc == TS_PQ_PLAIN || enc == TS_PQ_RLE)) {
        TS_TRY(scratch(&r->vals, &r->vals_cap, nn));
        TS_TRY(enc == TS_PQ_PLAIN ? ts_pq_plain_bools(v, vlen, nn, r->vals) : ts_pq_rle_bools(v, vlen, nn, r->vals));
        *phys = r->vals;
        return TS_OK;
    }
    if (c->phys == TS_PQ_BOOLEAN)
        TS_FAIL(TS_ERR_DATA, "encoding %s is not valid for BOOLEAN values", ts_pq_encoding_name(enc));
    switch (enc) {
    case TS_PQ_PLAIN: return ts_pq_plain_fixed(v, vlen, nn, w, phys);
    case TS_PQ_DELTA_BINARY_PACKED:
        if (c->phys != TS_PQ_INT32 && c->phys != TS_PQ_INT64)
            break;
        TS_TRY(scratch(&r->vals, &r->vals_cap, nn * 8));
        TS_TRY(scratch(&r->u64, &r->u64_cap, nn * 8));
        TS_TRY(ts_pq_delta_ints(v, vlen, nn, w, r->vals, r->u64));
        *phys = r->vals;
        return TS_OK;
    case TS_PQ_BYTE_STREAM_SPLIT:
        if (c->phys == TS_PQ_INT96)
            break;
        TS_TRY(scratch(&r->vals, &r->vals_cap, nn * (size_t)w));
        TS_TRY(ts_pq_byte_stream_split(v, vlen, nn, w, r->vals));
        *phys = r->vals;
        return TS_OK;
    default: break;
    }
    TS_FAIL(TS_ERR_DATA, "encoding %s is not valid for %s values", ts_pq_encoding_name(enc), PHYS_NAMES[c->phys]);
}

/* The target's codes become strings: its set is full. */
static ts_err to_strings(ts_pq_target *t)
{
    ts_column *s;
    TS_TRY(ts_pq_intern_expand(t->intern, t->col, &s));
    ts_column_free(t->col);
    t->col = s, t->intern = NULL;
    return TS_OK;
}

static int is_dict_encoding(int enc) { return enc == TS_PQ_PLAIN_DICTIONARY || enc == TS_PQ_RLE_DICTIONARY; }

/* The values of one data page: n rows, nn of them non-null (def[i] = 1; def NULL when none is null). */
static ts_err page_values(ts_pq_reader *r, const ts_pq_column *c, int enc, const uint8_t *v, size_t vlen,
                          const uint8_t *buf_end, size_t n, size_t nn, const uint8_t *def, ts_pq_target *t)
{
    const int dict = is_dict_encoding(enc);
    if (dict && r->dict_n < 0)
        TS_FAIL(TS_ERR_DATA, "a dictionary-encoded page comes without a dictionary page");
    if (dict) {
        TS_TRY(scratch(&r->idx, &r->idx_cap, nn * 4));
        TS_TRY(ts_pq_dict_indices(v, vlen, nn, r->dict_n, r->idx));
    }
    if (string_out(c) && !(dict && t->intern)) {
        const uint8_t *limit;
        if (dict) { /* views of the dictionary's values */
            TS_TRY(scratch(&r->sv, &r->sv_cap, nn * sizeof *r->sv));
            for (size_t i = 0; i < nn; i++)
                r->sv[i] = r->dict_sv[r->idx[i]];
            limit = c->conv == CV_UUID ? r->dict_text + r->dict_text_cap : r->dict_page + r->dict_page_cap;
        } else {
            TS_TRY(value_views(r, c, enc, v, vlen, nn, buf_end, &limit));
            if (c->conv == CV_UUID) {
                TS_TRY(uuid_text(&r->text, &r->text_cap, r->sv, nn));
                limit = r->text + r->text_cap;
            }
        }
        if (t->intern) {
            TS_TRY(scratch(&r->codes, &r->codes_cap, nn * 4 + 8));
            int full;
            TS_TRY(ts_pq_intern_codes(t->intern, r->sv, nn, r->codes, &full));
            if (!full)
                goto codes;
            TS_TRY(to_strings(t));
        }
        const int64_t at = t->col->len;
        TS_TRY(ts_pq_append_strings(t->col, r->sv, def, n, limit));
        return def ? mark_nulls(t->col, at, def, n) : TS_OK;
    }
codes:;
    /* fixed-width output: values (or interned codes) densely, then spread over the rows */
    ts_column *col = t->col;
    const int64_t at = col->len;
    const int w = (int)ts_type_width(col->type);
    TS_TRY(ts_column_reserve(col, at + (int64_t)n, 0));
    uint8_t *dst = (uint8_t *)col->data + (size_t)at * (size_t)w;
    if (def) {
        TS_TRY(scratch(&r->dense, &r->dense_cap, (nn + 1) * (size_t)w));
        dst = r->dense;
    }
    if (string_out(c) && dict) /* interned: the dictionary's codes */
        for (size_t i = 0; i < nn; i++)
            ((int32_t *)dst)[i] = r->dict_code[r->idx[i]];
    else if (string_out(c))
        memcpy(dst, r->codes, nn * 4);
    else if (dict)
        gather(r->dict_vals, r->idx, nn, w, dst);
    else if (views_in(c->phys)) {
        const uint8_t *limit;
        TS_TRY(value_views(r, c, enc, v, vlen, nn, buf_end, &limit));
        TS_TRY(convert_views(c, r->sv, nn, dst));
    } else {
        const uint8_t *phys;
        TS_TRY(value_fixed(r, c, enc, v, vlen, nn, &phys));
        TS_TRY(convert_fixed(c, phys, nn, dst));
    }
    if (def)
        scatter(dst, def, n, w, (uint8_t *)col->data + (size_t)at * (size_t)w);
    col->len = at + (int64_t)n;
    return def ? mark_nulls(col, at, def, n) : TS_OK;
}

static ts_err dictionary_page(ts_pq_reader *r, const ts_pq_file *f, const ts_pq_column *c, const ts_pq_chunk *ch,
                              const ts_pq_page_header *h, const uint8_t *payload, ts_pq_target *t)
{
    if (r->dict_n >= 0)
        TS_FAIL(TS_ERR_DATA, "a second dictionary page");
    if (h->encoding != TS_PQ_PLAIN && h->encoding != TS_PQ_PLAIN_DICTIONARY)
        TS_FAIL(TS_ERR_DATA, "a dictionary page encoded with %s", ts_pq_encoding_name(h->encoding));
    const uint8_t *v;
    TS_TRY(page_bytes(&r->dict_page, &r->dict_page_cap, ch->codec, payload, (size_t)h->compressed_size,
                      (size_t)h->uncompressed_size, &v));
    if (v != r->dict_page) { /* uncompressed: copied, so its views survive and have slack */
        TS_TRY(scratch(&r->dict_page, &r->dict_page_cap, (size_t)h->uncompressed_size));
        memcpy(r->dict_page, v, (size_t)h->uncompressed_size);
        v = r->dict_page;
    }
    const size_t n = (size_t)h->num_values, len = (size_t)h->uncompressed_size;
    const int w = ts_pq_phys_width(c->phys, c->type_length);
    if (views_in(c->phys) ? n > len / (c->phys == TS_PQ_FLBA ? (size_t)w : 4) + (len == 0)
                          : c->phys == TS_PQ_BOOLEAN ? n > len * 8 : n > len / (size_t)w)
        TS_FAIL(TS_ERR_DATA, "a dictionary page says %zu values in %zu bytes", n, len);
    (void)f;
    if (views_in(c->phys)) {
        TS_TRY(scratch(&r->dict_sv, &r->dict_sv_cap, n * sizeof *r->dict_sv));
        TS_TRY(c->phys == TS_PQ_BYTE_ARRAY ? ts_pq_plain_strings(v, len, n, r->dict_sv)
                                           : ts_pq_plain_flba(v, len, n, w, r->dict_sv));
        if (c->conv == CV_UUID)
            TS_TRY(uuid_text(&r->dict_text, &r->dict_text_cap, r->dict_sv, n));
        if (!string_out(c)) {
            TS_TRY(scratch(&r->dict_vals, &r->dict_vals_cap, n * 8));
            TS_TRY(convert_views(c, r->dict_sv, n, r->dict_vals));
        } else if (t->intern) {
            TS_TRY(scratch(&r->dict_code, &r->dict_code_cap, n * 4));
            int full;
            TS_TRY(ts_pq_intern_codes(t->intern, r->dict_sv, n, r->dict_code, &full));
            if (full)
                TS_TRY(to_strings(t));
        }
    } else {
        const uint8_t *phys;
        TS_TRY(value_fixed(r, c, TS_PQ_PLAIN, v, len, n, &phys));
        TS_TRY(scratch(&r->dict_vals, &r->dict_vals_cap, n * 8));
        TS_TRY(convert_fixed(c, phys, n, r->dict_vals));
    }
    r->dict_n = (int32_t)n;
    return TS_OK;
}

/* Definition levels of n rows (width 1 for flat optional columns) into r->def; *nn the non-null count. */
static ts_err levels(ts_pq_reader *r, int encoding, const uint8_t *p, size_t len, size_t n, int prefixed,
                     size_t *used, size_t *nn)
{
    TS_TRY(scratch(&r->def, &r->def_cap, n));
    if (encoding == TS_PQ_RLE) {
        size_t at = 0, l = len;
        if (prefixed) {
            if (len < 4 || le32(p) > len - 4)
                TS_FAIL(TS_ERR_DATA, "the definition levels' length runs past the page");
            l = le32(p), at = 4;
        }
        if (ts_rle_decode8(p + at, l, 1, r->def, n, NULL))
            TS_FAIL(TS_ERR_DATA, "malformed definition levels, or fewer than the page's %zu", n);
        *used = at + l;
    } else if (encoding == TS_PQ_BIT_PACKED) { /* deprecated: most significant bit first */
        if (ts_bitpack_bytes(n, 1) > len)
            TS_FAIL(TS_ERR_DATA, "the definition levels run past the page");
        for (size_t i = 0; i < n; i++)
            r->def[i] = (p[i >> 3] >> (7 - (i & 7))) & 1;
        *used = ts_bitpack_bytes(n, 1);
    } else {
        TS_FAIL(TS_ERR_DATA, "definition levels encoded with %s", ts_pq_encoding_name(encoding));
    }
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        k += r->def[i];
    *nn = k;
    return TS_OK;
}

static ts_err data_page(ts_pq_reader *r, const ts_pq_column *c, const ts_pq_chunk *ch, const ts_pq_page_header *h,
                        const uint8_t *payload, const uint8_t *file_end, ts_pq_target *t)
{
    const size_t n = (size_t)h->num_values;
    size_t nn = n;
    const uint8_t *def = NULL, *v, *buf_end;
    size_t vlen;
    if (h->type == TS_PQ_DATA_PAGE) {
        const uint8_t *b;
        TS_TRY(page_bytes(&r->page, &r->page_cap, ch->codec, payload, (size_t)h->compressed_size,
                          (size_t)h->uncompressed_size, &b));
        buf_end = b == r->page ? r->page + r->page_cap : file_end;
        size_t used = 0;
        if (c->max_def) {
            TS_TRY(levels(r, h->def_encoding, b, (size_t)h->uncompressed_size, n, 1, &used, &nn));
            def = r->def;
        }
        v = b + used, vlen = (size_t)h->uncompressed_size - used;
    } else {
        const size_t lv = (size_t)h->def_len + (size_t)h->rep_len;
        if (lv > (size_t)h->compressed_size || lv > (size_t)h->uncompressed_size)
            TS_FAIL(TS_ERR_DATA, "the levels (%zu bytes) are larger than the page", lv);
        if (c->max_def) {
            size_t used;
            TS_TRY(levels(r, TS_PQ_RLE, payload + h->rep_len, (size_t)h->def_len, n, 0, &used, &nn));
            def = r->def;
        }
        const size_t clen = (size_t)h->compressed_size - lv, ulen = (size_t)h->uncompressed_size - lv;
        TS_TRY(page_bytes(&r->page, &r->page_cap, h->is_compressed ? ch->codec : TS_PQ_UNCOMPRESSED, payload + lv,
                          clen, ulen, &v));
        buf_end = v == r->page ? r->page + r->page_cap : file_end;
        vlen = ulen;
    }
    if (def && nn == n)
        def = NULL; /* no null in this page */
    return page_values(r, c, h->encoding, v, vlen, buf_end, n, nn, def, t);
}

static ts_err read_chunk(ts_pq_reader *r, const ts_pq_file *f, int rg, int col, ts_pq_target *t)
{
    const ts_pq_row_group *g = &f->meta.rgs[rg];
    const ts_pq_chunk *ch = &g->cols[col];
    const ts_pq_column *c = &f->cols[col];
    const int64_t rows = g->num_rows, start = chunk_start(ch), end = start + ch->total_compressed;
    int64_t done = 0, pos = start;
    r->dict_n = -1;
    /* strings stay codes only through dictionary pages: a chunk written without one (high cardinality) would
     * cost a hash probe per value for nothing */
    if (t->intern && !(ch->encodings & (1u << TS_PQ_PLAIN_DICTIONARY | 1u << TS_PQ_RLE_DICTIONARY)))
        TS_TRY(to_strings(t));
    if (c->type != TS_T_STRING || t->intern)
        TS_TRY(ts_column_reserve(t->col, t->col->len + rows, 0));
    while (done < rows) {
        if (pos >= end)
            TS_FAIL(TS_ERR_DATA, "the column chunk ends after %lld of its %lld rows", (long long)done, (long long)rows);
        ts_pq_page_header h;
        size_t used;
        TS_TRY(ts_pq_page_header_decode(f->data + pos, (size_t)(end - pos), &h, &used));
        const int64_t payload = pos + (int64_t)used;
        if (h.compressed_size > end - payload)
            TS_FAIL(TS_ERR_DATA, "a page (%d bytes at byte %lld) runs past the end of its column chunk",
                    h.compressed_size, (long long)payload);
        pos = payload + h.compressed_size;
        if (h.type == TS_PQ_DICTIONARY_PAGE) {
            TS_TRY(dictionary_page(r, f, c, ch, &h, f->data + payload, t));
        } else if (h.type == TS_PQ_DATA_PAGE || h.type == TS_PQ_DATA_PAGE_V2) {
            if (h.num_values > rows - done)
                TS_FAIL(TS_ERR_DATA, "a page holds %d values, only %lld rows of the row group are left",
                        h.num_values, (long long)(rows - done));
            TS_TRY(data_page(r, c, ch, &h, f->data + payload, f->data + f->size, t));
            done += h.num_values;
        }
    }
    return TS_OK;
}

ts_err ts_pq_read_chunk(ts_pq_reader *r, const ts_pq_file *f, int rg, int col, ts_pq_target *t)
{
    const ts_err err = read_chunk(r, f, rg, col, t);
    if (!err)
        return TS_OK;
    char msg[512];
    snprintf(msg, sizeof msg, "%s", ts_error_headline());
    return ts_error_raise(err, __FILE__, __LINE__, __func__, "%s: column '%s', row group %d: %s", f->path,
                          f->cols[col].name, rg, msg);
}

/* ---- statistics ------------------------------------------------------------------------------------------------------ */

/* One plain-encoded statistic into a value of the column's type; 0 when unusable. */
static int stat_value(const ts_pq_column *c, const uint8_t *p, uint32_t len, ts_pq_value *out)
{
    memset(out, 0, sizeof *out);
    const int w = ts_pq_phys_width(c->phys, c->type_length);
    if (c->phys == TS_PQ_BOOLEAN) {
        if (len < 1)
            return 0;
        out->i = p[0] & 1;
        return 1;
    }
    if (c->type == TS_T_STRING) {
        if (c->conv == CV_UUID)
            return 0;
        out->s = p, out->len = len;
        return 1;
    }
    uint8_t buf[8];
    if (views_in(c->phys)) {
        if (c->conv == CV_F16)
            return 0;
        const ts_pq_sv sv = {p, len};
        if (convert_views(c, &sv, 1, buf)) {
            ts_error_clear();
            return 0;
        }
    } else {
        if (c->phys == TS_PQ_INT96 || (int)len != w)
            return 0;
        if (convert_fixed(c, p, 1, buf)) {
            ts_error_clear();
            return 0;
        }
    }
    if (c->type == TS_T_FLOAT64) {
        memcpy(&out->f, buf, 8);
        return !isnan(out->f);
    }
    if (c->type == TS_T_INT32 || c->type == TS_T_DATE) {
        int32_t x;
        memcpy(&x, buf, 4);
        out->i = x;
    } else {
        memcpy(&out->i, buf, 8);
    }
    return 1;
}

int ts_pq_chunk_bounds(const ts_pq_file *f, int rg, int col, ts_pq_value *min, ts_pq_value *max, int64_t *nulls)
{
    const ts_pq_chunk *ch = &f->meta.rgs[rg].cols[col];
    const ts_pq_column *c = &f->cols[col];
    *nulls = ch->has_stats ? ch->stats.null_count : -1;
    if (!ch->has_stats || !ch->stats.has_min || !ch->stats.has_max)
        return 0;
    /* the deprecated fields compare signed: trustworthy only for signed numbers */
    if (ch->stats.legacy && (views_in(c->phys) || c->conv == CV_U32_I64 || c->conv == CV_U64 ||
                             c->phys == TS_PQ_INT96))
        return 0;
    return stat_value(c, ch->stats.min, ch->stats.min_len, min) && stat_value(c, ch->stats.max, ch->stats.max_len, max);
}
