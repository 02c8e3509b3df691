#include "ts_parquet_thrift.h"

#include <stdlib.h>
#include <string.h>

#include "ts_bitpack.h"

/* ---- reader ----------------------------------------------------------------------------------------------------- */

void ts_thrift_reader_init(ts_thrift_reader *r, const uint8_t *data, size_t len)
{
    memset(r, 0, sizeof *r);
    r->start = r->p = data, r->end = data + len;
}

void ts_thrift_fail(ts_thrift_reader *r, const char *what)
{
    if (!r->err)
        r->err = what, r->err_at = ts_thrift_offset(r);
    r->p = r->end; /* every later read sees no bytes */
}

static uint64_t varint(ts_thrift_reader *r)
{
    uint64_t v = 0;
    if (!r->err && ts_uleb128(&r->p, r->end, &v))
        ts_thrift_fail(r, "a varint runs past the end or over 10 bytes");
    return r->err ? 0 : v;
}

static uint8_t byte(ts_thrift_reader *r)
{
    if (r->p >= r->end) {
        ts_thrift_fail(r, "the data end in the middle of a structure");
        return 0;
    }
    return *r->p++;
}

void ts_thrift_struct_begin(ts_thrift_reader *r)
{
    if (r->depth >= TS_THRIFT_MAX_DEPTH) {
        ts_thrift_fail(r, "structures nested too deeply");
        return;
    }
    r->last_id[++r->depth] = 0;
}

void ts_thrift_struct_end(ts_thrift_reader *r)
{
    if (r->depth > 0)
        r->depth--;
}

int ts_thrift_field(ts_thrift_reader *r, int *id, int *type)
{
    if (r->err)
        return 0;
    const uint8_t b = byte(r);
    if (r->err || b == TS_TT_STOP)
        return 0;
    *type = b & 0x0f;
    const int delta = b >> 4;
    int fid;
    if (delta)
        fid = r->last_id[r->depth] + delta;
    else {
        const int64_t v = ts_unzigzag64(varint(r));
        if (v < INT16_MIN || v > INT16_MAX) {
            ts_thrift_fail(r, "a field id is out of range");
            return 0;
        }
        fid = (int)v;
    }
    if (*type > TS_TT_STRUCT || *type == TS_TT_STOP) {
        ts_thrift_fail(r, "a field has an unknown type");
        return 0;
    }
    r->last_id[r->depth] = (int16_t)fid;
    *id = fid;
    return !r->err;
}

int64_t ts_thrift_i64(ts_thrift_reader *r, int type)
{
    switch (type) {
    case TS_TT_I8: return (int8_t)byte(r);
    case TS_TT_I16: case TS_TT_I32: case TS_TT_I64: return ts_unzigzag64(varint(r));
    default: ts_thrift_skip(r, type), ts_thrift_fail(r, "an integer field has another type"); return 0;
    }
}

int32_t ts_thrift_i32(ts_thrift_reader *r, int type)
{
    const int64_t v = ts_thrift_i64(r, type);
    if (v < INT32_MIN || v > INT32_MAX) {
        ts_thrift_fail(r, "a 32-bit field is out of range");
        return 0;
    }
    return (int32_t)v;
}

int ts_thrift_bool(ts_thrift_reader *r, int type)
{
    if (type == TS_TT_TRUE || type == TS_TT_FALSE)
        return type == TS_TT_TRUE;
    ts_thrift_skip(r, type), ts_thrift_fail(r, "a boolean field has another type");
    return 0;
}

double ts_thrift_double(ts_thrift_reader *r, int type)
{
    if (type != TS_TT_DOUBLE || r->end - r->p < 8) {
        ts_thrift_fail(r, "a double field is malformed");
        return 0;
    }
    uint64_t bits = 0;
    for (int i = 0; i < 8; i++)
        bits |= (uint64_t)r->p[i] << (8 * i);
    r->p += 8;
    double d;
    memcpy(&d, &bits, 8);
    return d;
}

const uint8_t *ts_thrift_binary(ts_thrift_reader *r, int type, uint32_t *len)
{
    *len = 0;
    if (type != TS_TT_BINARY) {
        ts_thrift_skip(r, type), ts_thrift_fail(r, "a string field has another type");
        return NULL;
    }
    const uint64_t n = varint(r);
    if (r->err || n > (uint64_t)(r->end - r->p)) {
        ts_thrift_fail(r, "a string's length runs past the end");
        return NULL;
    }
    const uint8_t *s = r->p;
    r->p += n;
    *len = (uint32_t)n;
    return s;
}

uint32_t ts_thrift_list(ts_thrift_reader *r, int type, int *elem_type)
{
    *elem_type = TS_TT_STOP;
    if (type != TS_TT_LIST && type != TS_TT_SET) {
        ts_thrift_skip(r, type), ts_thrift_fail(r, "a list field has another type");
        return 0;
    }
    const uint8_t h = byte(r);
    uint64_t n = h >> 4;
    if (n == 15)
        n = varint(r);
    *elem_type = h & 0x0f;
    if (*elem_type == TS_TT_FALSE) /* some writers mark bool lists with 2 */
        *elem_type = TS_TT_TRUE;
    if (*elem_type == TS_TT_STOP || *elem_type > TS_TT_STRUCT)
        ts_thrift_fail(r, "a list has an unknown element type");
    else if (n > (uint64_t)(r->end - r->p)) /* every element takes at least one byte */
        ts_thrift_fail(r, "a list's size runs past the end");
    return r->err ? 0 : (uint32_t)n;
}

/* A list element of a scalar type is encoded as the field of that type would be (bools: one byte). */
static void skip_value(ts_thrift_reader *r, int type, int in_list)
{
    if (r->err)
        return;
    switch (type) {
    case TS_TT_TRUE: case TS_TT_FALSE:
        if (in_list)
            byte(r);
        break;
    case TS_TT_I8: byte(r); break;
    case TS_TT_I16: case TS_TT_I32: case TS_TT_I64: varint(r); break;
    case TS_TT_DOUBLE:
        if (r->end - r->p < 8)
            ts_thrift_fail(r, "a double runs past the end");
        else
            r->p += 8;
        break;
    case TS_TT_BINARY: {
        uint32_t n;
        ts_thrift_binary(r, type, &n);
        break;
    }
    case TS_TT_LIST: case TS_TT_SET: {
        int et;
        const uint32_t n = ts_thrift_list(r, type, &et);
        if (r->depth >= TS_THRIFT_MAX_DEPTH) {
            ts_thrift_fail(r, "structures nested too deeply");
            return;
        }
        r->depth++;
        for (uint32_t i = 0; i < n && !r->err; i++)
            skip_value(r, et, 1);
        r->depth--;
        break;
    }
    case TS_TT_MAP: {
        const uint64_t n = varint(r);
        if (!n)
            break;
        const uint8_t kv = byte(r);
        if (n > (uint64_t)(r->end - r->p)) {
            ts_thrift_fail(r, "a map's size runs past the end");
            return;
        }
        if (r->depth >= TS_THRIFT_MAX_DEPTH) {
            ts_thrift_fail(r, "structures nested too deeply");
            return;
        }
        r->depth++;
        for (uint64_t i = 0; i < n && !r->err; i++)
            skip_value(r, kv >> 4, 1), skip_value(r, kv & 0x0f, 1);
        r->depth--;
        break;
    }
    case TS_TT_STRUCT: {
        ts_thrift_struct_begin(r);
        int id, t;
        while (ts_thrift_field(r, &id, &t))
            skip_value(r, t, 0);
        ts_thrift_struct_end(r);
        break;
    }
    default: ts_thrift_fail(r, "a value has an unknown type"); break;
    }
}

void ts_thrift_skip(ts_thrift_reader *r, int type) { skip_value(r, type, 0); }

/* ---- writer ----------------------------------------------------------------------------------------------------- */

void ts_thrift_writer_init(ts_thrift_writer *w) { memset(w, 0, sizeof *w); }

void ts_thrift_writer_free(ts_thrift_writer *w)
{
    free(w->buf);
    memset(w, 0, sizeof *w);
}

static uint8_t *room(ts_thrift_writer *w, size_t n)
{
    if (w->nomem)
        return NULL;
    if (w->len + n > w->cap) {
        size_t cap = w->cap ? w->cap * 2 : 256;
        while (cap < w->len + n)
            cap *= 2;
        uint8_t *b = realloc(w->buf, cap);
        if (!b) {
            w->nomem = 1;
            return NULL;
        }
        w->buf = b, w->cap = cap;
    }
    return w->buf + w->len;
}

static void put_byte(ts_thrift_writer *w, uint8_t b)
{
    uint8_t *d = room(w, 1);
    if (d)
        *d = b, w->len++;
}

static void put_varint(ts_thrift_writer *w, uint64_t v)
{
    uint8_t *d = room(w, 10);
    if (d)
        w->len += (size_t)ts_put_uleb128(d, v);
}

void ts_thrift_w_raw(ts_thrift_writer *w, const void *data, size_t len)
{
    uint8_t *d = room(w, len);
    if (d && len)
        memcpy(d, data, len), w->len += len;
}

void ts_thrift_w_struct_begin(ts_thrift_writer *w)
{
    if (w->depth < TS_THRIFT_MAX_DEPTH)
        w->last_id[++w->depth] = 0;
}

void ts_thrift_w_struct_end(ts_thrift_writer *w)
{
    put_byte(w, TS_TT_STOP);
    if (w->depth > 0)
        w->depth--;
}

void ts_thrift_w_field(ts_thrift_writer *w, int id, int type)
{
    const int delta = id - w->last_id[w->depth];
    if (delta > 0 && delta <= 15)
        put_byte(w, (uint8_t)(delta << 4 | type));
    else
        put_byte(w, (uint8_t)type), put_varint(w, ts_zigzag64(id));
    w->last_id[w->depth] = (int16_t)id;
}

void ts_thrift_w_i32(ts_thrift_writer *w, int id, int32_t v)
{
    ts_thrift_w_field(w, id, TS_TT_I32);
    put_varint(w, ts_zigzag64(v));
}

void ts_thrift_w_i64(ts_thrift_writer *w, int id, int64_t v)
{
    ts_thrift_w_field(w, id, TS_TT_I64);
    put_varint(w, ts_zigzag64(v));
}

void ts_thrift_w_bool(ts_thrift_writer *w, int id, int v) { ts_thrift_w_field(w, id, v ? TS_TT_TRUE : TS_TT_FALSE); }

void ts_thrift_w_binary(ts_thrift_writer *w, int id, const void *data, size_t len)
{
    ts_thrift_w_field(w, id, TS_TT_BINARY);
    ts_thrift_w_elem_binary(w, data, len);
}

void ts_thrift_w_list(ts_thrift_writer *w, int id, int elem_type, uint32_t count)
{
    ts_thrift_w_field(w, id, TS_TT_LIST);
    if (count < 15)
        put_byte(w, (uint8_t)(count << 4 | (uint32_t)elem_type));
    else
        put_byte(w, (uint8_t)(0xf0 | elem_type)), put_varint(w, count);
}

void ts_thrift_w_elem_i32(ts_thrift_writer *w, int32_t v) { put_varint(w, ts_zigzag64(v)); }

void ts_thrift_w_elem_binary(ts_thrift_writer *w, const void *data, size_t len)
{
    put_varint(w, len);
    ts_thrift_w_raw(w, data, len);
}
