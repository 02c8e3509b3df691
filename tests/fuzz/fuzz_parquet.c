/* Fuzz target: the Parquet reader (io/ts_parquet_read.h): footer (Thrift compact protocol), schema mapping, page
 * headers, levels, every encoding and codec, statistics, on arbitrary bytes: corrupt footers, truncated pages,
 * lying lengths and counts.
 *
 * The input is the file itself, opened from the buffer (ts_pq_open_buffer). When it opens and its row groups claim
 * at most 2^16 rows each (2^20 in all: a row count read from the file is only a claim, and a page of NULLs can
 * stand for millions of rows in a few bytes, so the bound keeps every execution's memory small), every column
 * chunk of every row group is read, strings interned or not (by the parity of the input's length), and every
 * chunk's statistics are decoded.
 *
 * Invariants checked:
 *   - reading a chunk appends exactly the row group's row count to the column, or fails with a message that names
 *     the file
 *   - string offsets start at 0, ascend and end at the payload size; interned codes are below the set's size;
 *     booleans are 0 or 1; nulls only where the column is optional
 *   - string statistics point inside the input */
#include "ts_fuzz.h"
#include "ts_parquet_read.h"

#define PQ_MAX_RG_ROWS (1 << 16)
#define PQ_MAX_ROWS (1 << 20)

TS_FUZZ_INIT(parquet)
{
    (void)argc, (void)argv;
    return 0;
}

static void pq_check_column(const ts_pq_column *pc, const ts_column *c, const ts_pq_intern *in)
{
    if (c->type == TS_T_STRING) {
        const int64_t *off = TS_COL(c, int64_t);
        TS_FUZZ_ASSERT(off[0] == 0 && off[c->len] == c->nbytes);
        for (int64_t i = 0; i < c->len; i++)
            TS_FUZZ_ASSERT(off[i] <= off[i + 1]);
    } else if (in) {
        for (int64_t i = 0; i < c->len; i++)
            TS_FUZZ_ASSERT(TS_COL(c, int32_t)[i] >= 0 && TS_COL(c, int32_t)[i] < in->values->len);
    } else if (c->type == TS_T_BOOL) {
        for (int64_t i = 0; i < c->len; i++)
            TS_FUZZ_ASSERT(TS_COL(c, uint8_t)[i] <= 1);
    }
    if (!pc->max_def)
        TS_FUZZ_ASSERT(c->valid == NULL);
}

TS_FUZZ_ENTRY(parquet)
{
    ts_pq_file *f;
    if (ts_pq_open_buffer(data, size, "fuzz.parquet", &f) != TS_OK) {
        TS_FUZZ_ASSERT(strstr(ts_error_message(), "fuzz.parquet") != NULL);
        ts_error_clear();
        return 0;
    }
    int64_t total = 0;
    int small = 1;
    for (int g = 0; g < f->meta.nrgs; g++) {
        small &= f->meta.rgs[g].num_rows <= PQ_MAX_RG_ROWS;
        total += f->meta.rgs[g].num_rows;
    }
    if (small && total <= PQ_MAX_ROWS) {
        ts_pq_reader r = {0};
        for (int c = 0; c < f->ncols; c++) {
            const ts_pq_column *pc = &f->cols[c];
            const int intern = pc->type == TS_T_STRING && (size & 1);
            ts_pq_intern in;
            ts_column *col;
            if ((intern && ts_pq_intern_init(&in, 64) != TS_OK) ||
                ts_column_new(pc->name, intern ? TS_T_INT32 : pc->type, pc->scale, NULL, &col) != TS_OK)
                abort();
            ts_pq_target t = {col, intern ? &in : NULL};
            for (int g = 0; g < f->meta.nrgs; g++) {
                const int64_t before = t.col->len;
                ts_pq_value mn, mx;
                int64_t nulls;
                if (ts_pq_chunk_bounds(f, g, c, &mn, &mx, &nulls) && pc->type == TS_T_STRING)
                    TS_FUZZ_ASSERT(mn.s >= data && mn.s + mn.len <= data + size && mx.s >= data &&
                                   mx.s + mx.len <= data + size);
                if (ts_pq_read_chunk(&r, f, g, c, &t) != TS_OK) {
                    TS_FUZZ_ASSERT(strstr(ts_error_message(), "fuzz.parquet") != NULL);
                    ts_error_clear();
                    break;
                }
                TS_FUZZ_ASSERT(t.col->len - before == f->meta.rgs[g].num_rows);
                pq_check_column(pc, t.col, t.intern);
            }
            ts_column_free(t.col);
            if (intern)
                ts_pq_intern_free(&in);
        }
        ts_pq_reader_free(&r);
    }
    ts_pq_close(f);
    return 0;
}
