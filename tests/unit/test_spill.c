/* engine/ops/ts_spill: random tables (every column type, nulls, empty and long strings, a dictionary) appended in
 * random batches with random row selections to random partitions, read back partition by partition; each
 * partition must hold exactly its rows, in append order, with their values, nulls and batch tags, checked
 * against a reference kept here (the source row of every spilled row). Also: files are deleted after reading
 * and on close, a second read of a partition and a bad directory are errors. */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ts_spill.h"
#include "ts_test.h"

enum { ROWS = 5000, PARTS = 5, ROUNDS = 40 };

static ts_table *make_source(ts_test_rng *r, ts_dict *d)
{
    ts_table *t;
    ts_column *b, *i32, *i64, *f, *dt, *dec, *s, *dc;
    ts_table_new("src", &t);
    ts_table_add(t, "b", TS_T_BOOL, 0, NULL, &b);
    ts_table_add(t, "i32", TS_T_INT32, 0, NULL, &i32);
    ts_table_add(t, "i64", TS_T_INT64, 0, NULL, &i64);
    ts_table_add(t, "f", TS_T_FLOAT64, 0, NULL, &f);
    ts_table_add(t, "d", TS_T_DATE, 0, NULL, &dt);
    ts_table_add(t, "dec", TS_T_DECIMAL, 2, NULL, &dec);
    ts_table_add(t, "s", TS_T_STRING, 0, NULL, &s);
    ts_table_add(t, "dict", TS_T_DICT, 0, d, &dc);
    for (int c = 0; c < t->ncols; c++)
        ts_column_reserve(t->cols[c], ROWS, 0);
    char buf[300];
    for (int64_t k = 0; k < ROWS; k++) {
        TS_COL(b, uint8_t)[k] = (uint8_t)(ts_rng_next(r) & 1);
        TS_COL(i32, int32_t)[k] = (int32_t)ts_rng_next(r);
        TS_COL(i64, int64_t)[k] = (int64_t)ts_rng_next(r);
        TS_COL(f, double)[k] = (double)(int64_t)ts_rng_next(r) / 7.0;
        TS_COL(dt, int32_t)[k] = (int32_t)(ts_rng_next(r) % 40000);
        TS_COL(dec, int64_t)[k] = (int64_t)(ts_rng_next(r) % 1000000);
        TS_COL(dc, int32_t)[k] = (int32_t)(ts_rng_next(r) % (uint64_t)d->n);
        const int len = (int)(ts_rng_next(r) % 5 == 0 ? 0 : ts_rng_next(r) % sizeof buf);
        for (int j = 0; j < len; j++)
            buf[j] = (char)('a' + (k + j) % 26);
        ts_column_append_string(s, buf, len);
        for (int c = 0; c < t->ncols; c++)
            if (c != 6)
                t->cols[c]->len = k + 1;
    }
    for (int c = 0; c < t->ncols; c++) /* about 3 % nulls in every column but the bool */
        for (int64_t k = 0; c && k < ROWS; k++)
            if (ts_rng_next(r) % 33 == 0)
                ts_column_set_null(t->cols[c], k);
    return t;
}

/* Row a of table x equals row b of table y, value and validity, in every column. */
static int same_row(const ts_table *x, int64_t a, const ts_table *y, int64_t b)
{
    for (int c = 0; c < x->ncols; c++) {
        const ts_column *p = x->cols[c], *q = y->cols[c];
        if (ts_column_is_valid(p, a) != ts_column_is_valid(q, b))
            return 0;
        if (p->type == TS_T_STRING) {
            const int64_t *po = TS_COL(p, int64_t), *qo = TS_COL(q, int64_t);
            if (po[a + 1] - po[a] != qo[b + 1] - qo[b] ||
                memcmp(p->bytes + po[a], q->bytes + qo[b], (size_t)(po[a + 1] - po[a])) != 0)
                return 0;
        } else {
            const size_t w = ts_type_width(p->type);
            if (memcmp((const char *)p->data + w * (size_t)a, (const char *)q->data + w * (size_t)b, w) != 0)
                return 0;
        }
        if (q->type == TS_T_DICT && q->dict != p->dict)
            return 0;
    }
    return 1;
}

static int spill_files(const char *dir)
{
    DIR *d = opendir(dir);
    int n = 0;
    for (struct dirent *e; d && (e = readdir(d));)
        n += strncmp(e->d_name, "tessera-spill-", 14) == 0;
    if (d)
        closedir(d);
    return n;
}

typedef struct expect {
    int64_t *src, *tag, n; /* per partition: source row and batch tag of each spilled row, in order */
} expect;

typedef struct tag_check {
    const expect *e;
    int64_t bad;
} tag_check;

static ts_err check_tags(void *arg, int64_t tag, ts_table *dst, int64_t first, int64_t n)
{
    tag_check *tc = arg;
    (void)dst;
    for (int64_t i = first; i < first + n; i++)
        tc->bad += i >= tc->e->n || tc->e->tag[i] != tag;
    return TS_OK;
}

int main(void)
{
    char dir[] = "/tmp/ts-test-spill-XXXXXX";
    if (!mkdtemp(dir))
        return 1;
    static const char *const words[] = {"AR", "BR", "CL", "DE"};
    ts_dict *d;
    ts_dict_new(words, 4, &d);
    ts_test_rng r = ts_rng_seed(42);
    ts_table *src = make_source(&r, d);
    ts_spill *sp;
    expect e[PARTS] = {{0}};
    for (int p = 0; p < PARTS; p++)
        e[p].src = malloc(8 * ROWS * ROUNDS), e[p].tag = malloc(8 * ROWS * ROUNDS);
    if (CHECK_OK(ts_spill_open(dir, "t", PARTS, src, &sp))) {
        CHECK(spill_files(dir) == PARTS, "%d files for %d partitions", spill_files(dir), PARTS);
        int64_t *rows = malloc(8 * ROWS);
        for (int round = 0; round < ROUNDS; round++) {
            const int p = (int)(ts_rng_next(&r) % PARTS);
            int64_t n = 0;
            const int all = round % 7 == 0; /* rows == NULL: the whole table */
            for (int64_t k = 0; !all && k < ROWS; k++)
                if (ts_rng_next(&r) % 10 == 0)
                    rows[n++] = k;
            if (all)
                n = ROWS;
            CHECK_OK(ts_spill_append(sp, p, round, src, all ? NULL : rows, n));
            for (int64_t k = 0; k < n; k++)
                e[p].src[e[p].n] = all ? k : rows[k], e[p].tag[e[p].n++] = round;
        }
        free(rows);
        for (int p = 0; p < PARTS; p++) {
            CHECK(ts_spill_rows(sp, p) == e[p].n, "partition %d: %lld rows counted, %lld appended", p,
                  (long long)ts_spill_rows(sp, p), (long long)e[p].n);
            ts_table *back = NULL;
            tag_check tc = {&e[p], 0};
            if (CHECK_OK(ts_spill_read(sp, p, "back", check_tags, &tc, &back))) {
                CHECK(ts_table_rows(back) == e[p].n, "partition %d: %lld rows read, %lld appended", p,
                      (long long)ts_table_rows(back), (long long)e[p].n);
                int64_t bad = 0;
                for (int64_t k = 0; k < e[p].n && k < ts_table_rows(back); k++)
                    bad += !same_row(src, e[p].src[k], back, k);
                CHECK(bad == 0, "partition %d: %lld rows differ from their source", p, (long long)bad);
                CHECK(tc.bad == 0, "partition %d: %lld rows with the wrong batch tag", p, (long long)tc.bad);
                CHECK(strcmp(back->name, "back") == 0 && back->ncols == src->ncols, "name and columns");
            }
            ts_table_free(back);
            CHECK(spill_files(dir) == PARTS - 1 - p, "a read partition's file is deleted");
        }
        ts_table *again = NULL;
        CHECK(ts_spill_read(sp, 0, "x", NULL, NULL, &again) == TS_ERR_INTERNAL && !again, "second read refused");
        ts_spill_close(sp);
    }
    /* close deletes unread partitions */
    if (CHECK_OK(ts_spill_open(dir, "u", 3, src, &sp))) {
        CHECK_OK(ts_spill_append(sp, 1, 0, src, NULL, 10));
        ts_spill_close(sp);
        CHECK(spill_files(dir) == 0, "close deletes the files");
    }
    ts_spill *bad = NULL;
    CHECK(ts_spill_open("/nonexistent-dir-of-tessera", "v", 2, src, &bad) == TS_ERR_IO, "bad directory: I/O error");
    CHECK(strstr(ts_error_message(), "/nonexistent-dir-of-tessera/tessera-spill-") != NULL, "message names the file: %s",
          ts_error_message());
    ts_spill_close(bad);
    for (int p = 0; p < PARTS; p++)
        free(e[p].src), free(e[p].tag);
    ts_table_free(src);
    ts_dict_release(d);
    rmdir(dir);
    return TS_TEST_DONE("test_spill");
}
