/* io/ts_parquet_thrift and ts_parquet_meta: the compact protocol against byte strings written by hand from the
 * Thrift specification, hostile inputs (sizes past the end, over-long varints, deep nesting, wrong field types)
 * that must fail with a message instead of reading out of bounds, and footer / page-header decoding of hand-built
 * structures, including the errors a corrupt footer must produce. */
#include <string.h>

#include "ts_parquet_meta.h"
#include "ts_parquet_thrift.h"
#include "ts_test.h"

static void test_reader_by_hand(void)
{
    /* struct { 1: i32 5, 20: i32 -3 (id delta over 15: long form), 21: bool true, 22: binary "ab",
     * 23: list<i32> [1, 2, 300] } */
    const uint8_t s[] = {0x15, 0x0a, 0x05, 0x28, 0x05, 0x11, 0x18, 0x02, 'a', 'b', 0x19, 0x35, 0x02, 0x04, 0xd8, 0x04,
                         0x00};
    ts_thrift_reader r;
    ts_thrift_reader_init(&r, s, sizeof s);
    ts_thrift_struct_begin(&r);
    int id, t, n = 0;
    int32_t a = 0, b = 0, list[3] = {0};
    int flag = 0;
    uint32_t blen = 0;
    const uint8_t *bin = NULL;
    while (ts_thrift_field(&r, &id, &t)) {
        n++;
        if (id == 1)
            a = ts_thrift_i32(&r, t);
        else if (id == 20)
            b = ts_thrift_i32(&r, t);
        else if (id == 21)
            flag = ts_thrift_bool(&r, t);
        else if (id == 22)
            bin = ts_thrift_binary(&r, t, &blen);
        else if (id == 23) {
            int et;
            const uint32_t k = ts_thrift_list(&r, t, &et);
            CHECK(k == 3 && et == TS_TT_I32, "list header: %u elements of type %d", k, et);
            for (uint32_t i = 0; i < k && i < 3; i++)
                list[i] = ts_thrift_i32(&r, et);
        }
    }
    ts_thrift_struct_end(&r);
    CHECK(!r.err, "hand-made struct: %s", r.err ? r.err : "");
    CHECK(n == 5 && a == 5 && b == -3 && flag == 1, "fields: n %d a %d b %d flag %d", n, a, b, flag);
    CHECK(blen == 2 && bin && !memcmp(bin, "ab", 2), "binary");
    CHECK(list[0] == 1 && list[1] == 2 && list[2] == 300, "list values %d %d %d", list[0], list[1], list[2]);
    CHECK(ts_thrift_offset(&r) == sizeof s, "consumed every byte");

    /* the writer produces the same bytes */
    ts_thrift_writer w;
    ts_thrift_writer_init(&w);
    ts_thrift_w_struct_begin(&w);
    ts_thrift_w_i32(&w, 1, 5);
    ts_thrift_w_i32(&w, 20, -3);
    ts_thrift_w_bool(&w, 21, 1);
    ts_thrift_w_binary(&w, 22, "ab", 2);
    ts_thrift_w_list(&w, 23, TS_TT_I32, 3);
    ts_thrift_w_elem_i32(&w, 1), ts_thrift_w_elem_i32(&w, 2), ts_thrift_w_elem_i32(&w, 300);
    ts_thrift_w_struct_end(&w);
    CHECK(w.len == sizeof s && !memcmp(w.buf, s, sizeof s), "writer bytes (%zu)", w.len);
    ts_thrift_writer_free(&w);
}

/* Skips one top-level struct of data; returns the error (NULL when fine). */
static const char *skip_all(const uint8_t *data, size_t len)
{
    ts_thrift_reader r;
    ts_thrift_reader_init(&r, data, len);
    ts_thrift_skip(&r, TS_TT_STRUCT);
    return r.err;
}

static void test_hostile(void)
{
    const uint8_t big_list[] = {0x19, 0xf5, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x02, 0x00}; /* 2^32-1 elements */
    CHECK(skip_all(big_list, sizeof big_list) != NULL, "a list longer than the bytes left fails");
    const uint8_t long_bin[] = {0x18, 0xff, 0xff, 0x03, 'x', 0x00};
    CHECK(skip_all(long_bin, sizeof long_bin) != NULL, "a string longer than the bytes left fails");
    const uint8_t varint[] = {0x15, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0x00};
    CHECK(skip_all(varint, sizeof varint) != NULL, "an 11-byte varint fails");
    uint8_t deep[200];
    for (int i = 0; i < 100; i++) /* 100 nested struct fields */
        deep[i] = 0x1c;
    memset(deep + 100, 0, 100);
    CHECK(skip_all(deep, sizeof deep) != NULL, "100 nested structures fail (depth cap)");
    const uint8_t cut[] = {0x15};
    CHECK(skip_all(cut, sizeof cut) != NULL, "a field without its value fails");
    const uint8_t badtype[] = {0x1d, 0x00};
    CHECK(skip_all(badtype, sizeof badtype) != NULL, "an unknown type fails");
    const uint8_t empty[] = {0x00};
    CHECK(skip_all(empty, sizeof empty) == NULL, "an empty struct is fine");
}

/* A FileMetaData with one INT64 column and one row group, built by hand with the writer. */
static size_t footer(uint8_t *out, size_t cap, int with_rows, int64_t data_offset)
{
    ts_thrift_writer w;
    ts_thrift_writer_init(&w);
    ts_thrift_w_struct_begin(&w);
    ts_thrift_w_i32(&w, 1, 1);
    ts_thrift_w_list(&w, 2, TS_TT_STRUCT, 2);
    ts_thrift_w_struct_begin(&w), ts_thrift_w_binary(&w, 4, "root", 4), ts_thrift_w_i32(&w, 5, 1),
        ts_thrift_w_struct_end(&w);
    ts_thrift_w_struct_begin(&w), ts_thrift_w_i32(&w, 1, TS_PQ_INT64), ts_thrift_w_i32(&w, 3, 1),
        ts_thrift_w_binary(&w, 4, "x", 1), ts_thrift_w_struct_end(&w);
    if (with_rows)
        ts_thrift_w_i64(&w, 3, 10);
    ts_thrift_w_list(&w, 4, TS_TT_STRUCT, 1);
    ts_thrift_w_struct_begin(&w);
    ts_thrift_w_list(&w, 1, TS_TT_STRUCT, 1);
    ts_thrift_w_struct_begin(&w);
    ts_thrift_w_i64(&w, 2, 4);
    ts_thrift_w_field(&w, 3, TS_TT_STRUCT);
    ts_thrift_w_struct_begin(&w);
    ts_thrift_w_i32(&w, 1, TS_PQ_INT64);
    ts_thrift_w_list(&w, 2, TS_TT_I32, 1), ts_thrift_w_elem_i32(&w, TS_PQ_PLAIN);
    ts_thrift_w_list(&w, 3, TS_TT_BINARY, 1), ts_thrift_w_elem_binary(&w, "x", 1);
    ts_thrift_w_i32(&w, 4, TS_PQ_SNAPPY);
    ts_thrift_w_i64(&w, 5, 10), ts_thrift_w_i64(&w, 6, 100), ts_thrift_w_i64(&w, 7, 90);
    ts_thrift_w_i64(&w, 9, data_offset);
    ts_thrift_w_struct_end(&w);
    ts_thrift_w_struct_end(&w);
    ts_thrift_w_i64(&w, 2, 100), ts_thrift_w_i64(&w, 3, 10);
    ts_thrift_w_struct_end(&w);
    ts_thrift_w_struct_end(&w);
    const size_t n = w.len < cap ? w.len : cap;
    memcpy(out, w.buf, n);
    ts_thrift_writer_free(&w);
    return n;
}

static void test_meta(void)
{
    uint8_t buf[512];
    size_t n = footer(buf, sizeof buf, 1, 4);
    ts_pq_meta m;
    if (CHECK_OK(ts_pq_meta_decode(buf, n, &m))) {
        CHECK(m.num_rows == 10 && m.nschema == 2 && m.nrgs == 1 && m.rgs[0].ncols == 1, "footer shape");
        const ts_pq_chunk *c = &m.rgs[0].cols[0];
        CHECK(c->type == TS_PQ_INT64 && c->codec == TS_PQ_SNAPPY && c->num_values == 10 && c->total_compressed == 90 &&
              c->data_page_offset == 4 && c->dict_page_offset == -1 && c->encodings == 1u << TS_PQ_PLAIN,
              "column chunk fields");
        CHECK(m.schema[1].name_len == 1 && m.schema[1].name[0] == 'x' && m.schema[1].repetition == 1, "schema");
        ts_pq_meta_free(&m);
    }
    n = footer(buf, sizeof buf, 0, 4);
    CHECK(ts_pq_meta_decode(buf, n, &m) == TS_ERR_DATA && strstr(ts_error_message(), "row count"),
          "a footer without its row count: %s", ts_error_message());
    n = footer(buf, sizeof buf, 1, -5);
    CHECK(ts_pq_meta_decode(buf, n, &m) == TS_ERR_DATA && strstr(ts_error_message(), "negative"),
          "a negative offset: %s", ts_error_message());
    n = footer(buf, sizeof buf, 1, 4);
    for (size_t cut = 0; cut < n; cut += 3) /* every truncation fails cleanly */
        CHECK(ts_pq_meta_decode(buf, cut, &m) == TS_ERR_DATA, "footer cut at %zu decoded", cut);

    /* page header: DATA_PAGE, 100 -> 60 bytes, 10 values, PLAIN, RLE levels */
    ts_thrift_writer w;
    ts_thrift_writer_init(&w);
    const ts_pq_page_header h = {.type = TS_PQ_DATA_PAGE, .uncompressed_size = 100, .compressed_size = 60,
                                 .num_values = 10, .encoding = TS_PQ_PLAIN, .def_encoding = TS_PQ_RLE,
                                 .rep_encoding = TS_PQ_RLE};
    ts_pq_page_header_encode(&w, &h);
    ts_pq_page_header got;
    size_t used;
    if (CHECK_OK(ts_pq_page_header_decode(w.buf, w.len, &got, &used)))
        CHECK(used == w.len && got.type == h.type && got.uncompressed_size == 100 && got.compressed_size == 60 &&
              got.num_values == 10 && got.def_encoding == TS_PQ_RLE, "page header fields");
    CHECK(ts_pq_page_header_decode(w.buf, w.len - 2, &got, &used) == TS_ERR_DATA, "a cut page header fails");
    ts_thrift_writer_free(&w);
}

int main(void)
{
    test_reader_by_hand();
    test_hostile();
    test_meta();
    return TS_TEST_DONE("test_parquet_thrift");
}
