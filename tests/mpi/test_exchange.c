/* engine/dist/ts_exchange and ts_ctx_check on P ranks. Every row's content is a function of its global id, so each
 * rank can compute exactly which rows it must receive, in which order, with which values, for any P. */
#include <mpi.h>
#include <stdlib.h>
#include <string.h>

#include "../unit/ts_test.h"
#include "ts_ctx.h"
#include "ts_exchange.h"

static const char *const TAGS[] = {"alpha", "beta", "gamma", "delta", "epsilon"};
static ts_dict *g_dict;

static uint64_t mix(uint64_t x) /* splitmix64 finaliser */
{
    x += UINT64_C(0x9e3779b97f4a7c15);
    x = (x ^ (x >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    x = (x ^ (x >> 27)) * UINT64_C(0x94d049bb133111eb);
    return x ^ (x >> 31);
}

/* Row contents by global id. */
static int64_t gid_of(int rank, int64_t i) { return (int64_t)rank * 1000000 + i; }
static double f64_of(int64_t g) { return (double)g * 0.5 - 3.25; }
static int32_t tag_of(int64_t g) { return (int32_t)(mix((uint64_t)g) % 5); }
static int opt_valid(int64_t g) { return mix((uint64_t)g ^ 77) % 5 != 0; }
static int32_t opt_of(int64_t g) { return (int32_t)(g % 1000) - 500; }
static size_t str_of(int64_t g, char *buf) /* 0..60 bytes, often empty */
{
    const size_t len = mix((uint64_t)g * 3) % 4 == 0 ? 0 : mix((uint64_t)g * 5) % 61;
    for (size_t k = 0; k < len; k++)
        buf[k] = (char)(' ' + (g + (int64_t)k * 7) % 90);
    return len;
}

/* Layouts of the input: how many rows rank r holds, and where row g goes. */
typedef struct scenario {
    const char *name;
    int64_t (*rows)(int rank, int size);
    int32_t (*dest)(int64_t g, int size);
    int force_p2p;
} scenario;

static int64_t rows_mixed(int rank, int size) { return size > 1 && rank % 3 == 1 ? 0 : 300 + 97 * rank; }
static int64_t rows_root_only(int rank, int size) { (void)size; return rank == 0 ? 1500 : 0; }
static int64_t rows_none(int rank, int size) { (void)rank, (void)size; return 0; }
/* rank 0's table is over the packed path's limit (4 MiB), the others' far under it: the ranks must agree on the
 * column-by-column path */
static int64_t rows_root_big(int rank, int size) { (void)size; return rank == 0 ? 90000 : 200 + rank; }
static int32_t dest_random(int64_t g, int size) { return (int32_t)(mix((uint64_t)g + 12345) % (uint64_t)size); }
static int32_t dest_last(int64_t g, int size) { (void)g; return size - 1; }

static ts_table *build_input(int rank, int size, const scenario *sc, int32_t **dest)
{
    ts_table *t;
    if (!CHECK_OK(ts_table_new("rows", &t)))
        return NULL;
    ts_column *gid, *f, *tag, *s, *opt;
    CHECK_OK(ts_table_add(t, "gid", TS_T_INT64, 0, NULL, &gid));
    CHECK_OK(ts_table_add(t, "f", TS_T_FLOAT64, 0, NULL, &f));
    CHECK_OK(ts_table_add(t, "tag", TS_T_DICT, 0, g_dict, &tag));
    CHECK_OK(ts_table_add(t, "s", TS_T_STRING, 0, NULL, &s));
    CHECK_OK(ts_table_add(t, "opt", TS_T_INT32, 0, NULL, &opt));
    const int64_t n = sc->rows(rank, size);
    *dest = malloc(sizeof **dest * (size_t)(n + 1));
    CHECK_OK(ts_column_reserve(gid, n, 0));
    CHECK_OK(ts_column_reserve(f, n, 0));
    CHECK_OK(ts_column_reserve(tag, n, 0));
    CHECK_OK(ts_column_reserve(opt, n, 0));
    for (int64_t i = 0; i < n; i++) {
        const int64_t g = gid_of(rank, i);
        TS_COL(gid, int64_t)[i] = g, TS_COL(f, double)[i] = f64_of(g), TS_COL(tag, int32_t)[i] = tag_of(g);
        TS_COL(opt, int32_t)[i] = opt_of(g);
        char buf[64];
        CHECK_OK(ts_column_append_string(s, buf, (int64_t)str_of(g, buf)));
        (*dest)[i] = sc->dest(g, size);
    }
    gid->len = f->len = tag->len = opt->len = n;
    for (int64_t i = 0; i < n; i++)
        if (!opt_valid(gid_of(rank, i)))
            CHECK_OK(ts_column_set_null(opt, i));
    return t;
}

static void check_received(const ts_table *out, int rank, int size, const scenario *sc)
{
    CHECK(out->ncols == 5, "%s: %d columns received", sc->name, out->ncols);
    if (out->ncols != 5)
        return;
    const ts_column *gid = out->cols[0], *f = out->cols[1], *tag = out->cols[2], *s = out->cols[3], *opt = out->cols[4];
    CHECK(strcmp(gid->name, "gid") == 0 && tag->type == TS_T_DICT && tag->dict == g_dict && s->type == TS_T_STRING,
          "%s: schema kept (dictionary shared)", sc->name);
    /* expected rows: by source rank, then source order */
    int64_t k = 0, n = ts_table_rows(out);
    long bad = 0;
    for (int src = 0; src < size; src++) {
        const int64_t ns = sc->rows(src, size);
        for (int64_t i = 0; i < ns; i++) {
            const int64_t g = gid_of(src, i);
            if (sc->dest(g, size) != rank)
                continue;
            if (k >= n) {
                k++;
                continue;
            }
            int ok = TS_COL(gid, int64_t)[k] == g && TS_COL(f, double)[k] == f64_of(g) &&
                     TS_COL(tag, int32_t)[k] == tag_of(g);
            char buf[64];
            const size_t len = str_of(g, buf);
            const int64_t *o = TS_COL(s, int64_t);
            ok = ok && o[k + 1] - o[k] == (int64_t)len && (len == 0 || memcmp(s->bytes + o[k], buf, len) == 0);
            ok = ok && ts_column_is_valid(opt, k) == opt_valid(g) &&
                 (!opt_valid(g) || TS_COL(opt, int32_t)[k] == opt_of(g));
            if (!ok && bad++ < 3)
                CHECK(0, "%s: rank %d row %lld (gid %lld received as %lld) differs", sc->name, rank, (long long)k,
                      (long long)g, (long long)TS_COL(gid, int64_t)[k]);
            k++;
        }
    }
    CHECK(k == n, "%s: rank %d received %lld rows, expected %lld", sc->name, rank, (long long)n, (long long)k);
    CHECK(bad == 0, "%s: rank %d: %ld rows differ", sc->name, rank, bad);
    CHECK(ts_table_rows(out) == 0 || TS_COL(s, int64_t)[n] == s->nbytes, "%s: string payload size", sc->name);
}

static void test_exchange(ts_ctx *ctx)
{
    const scenario scs[] = {
        {"random destinations", rows_mixed, dest_random, 0},
        {"random destinations, p2p", rows_mixed, dest_random, 1},
        {"all rows on rank 0", rows_root_only, dest_random, 0},
        {"all rows on rank 0, p2p", rows_root_only, dest_random, 1},
        {"everything to the last rank", rows_mixed, dest_last, 0},
        {"everything to the last rank, p2p", rows_mixed, dest_last, 1},
        {"no rows anywhere", rows_none, dest_random, 0},
        {"no rows anywhere, p2p", rows_none, dest_random, 1},
        {"one rank over the packed limit", rows_root_big, dest_random, 0},
    };
    for (size_t i = 0; i < sizeof scs / sizeof scs[0]; i++) {
        int32_t *dest = NULL;
        ts_table *in = build_input(ctx->rank, ctx->size, &scs[i], &dest), *out = NULL;
        ctx->force_p2p = scs[i].force_p2p;
        const int64_t sent0 = ctx->bytes_sent;
        const ts_err err = ts_exchange_rows(ctx, in, dest, &out);
        CHECK(err == TS_OK, "%s: ts_exchange_rows failed: %s", scs[i].name, ts_error_message());
        if (err == TS_OK && out)
            check_received(out, ctx->rank, ctx->size, &scs[i]);
        CHECK(ctx->bytes_sent >= sent0, "bytes_sent never decreases");
        ctx->force_p2p = 0;
        ts_table_free(in), ts_table_free(out), free(dest);
    }
}

/* ---- ts_broadcast_table --------------------------------------------------------------------------------- */

static ts_table *bcast_table(int64_t n)
{
    ts_table *t;
    CHECK_OK(ts_table_new("fx_rates", &t));
    ts_column *a, *b, *c, *d, *e;
    CHECK_OK(ts_table_add(t, "id", TS_T_INT64, 0, NULL, &a));
    CHECK_OK(ts_table_add(t, "rate", TS_T_FLOAT64, 0, NULL, &b));
    CHECK_OK(ts_table_add(t, "name", TS_T_STRING, 0, NULL, &c));
    CHECK_OK(ts_table_add(t, "amount", TS_T_DECIMAL, 2, NULL, &d));
    CHECK_OK(ts_table_add(t, "month", TS_T_DATE, 0, NULL, &e));
    CHECK_OK(ts_column_reserve(a, n, 0));
    CHECK_OK(ts_column_reserve(b, n, 0));
    CHECK_OK(ts_column_reserve(d, n, 0));
    CHECK_OK(ts_column_reserve(e, n, 0));
    for (int64_t i = 0; i < n; i++) {
        TS_COL(a, int64_t)[i] = i * 11, TS_COL(b, double)[i] = (double)i / 7, TS_COL(d, int64_t)[i] = i * 100 + 1;
        TS_COL(e, int32_t)[i] = 18628 + (int32_t)i;
        char buf[64];
        CHECK_OK(ts_column_append_string(c, buf, (int64_t)str_of(i, buf)));
    }
    a->len = b->len = d->len = e->len = n;
    return t;
}

static void test_broadcast(ts_ctx *ctx)
{
    const int64_t sizes[2] = {0, 777};
    for (int root = 0; root < ctx->size; root += ctx->size > 1 ? ctx->size - 1 : 1)
        for (int s = 0; s < 2; s++) {
            ts_table *t = ctx->rank == root ? bcast_table(sizes[s]) : NULL;
            const ts_err err = ts_broadcast_table(ctx, &t, root);
            CHECK(err == TS_OK && t, "broadcast from %d failed: %s", root, ts_error_message());
            if (err || !t)
                continue;
            ts_table *want = bcast_table(sizes[s]);
            CHECK(strcmp(t->name, "fx_rates") == 0 && t->ncols == 5 && ts_table_rows(t) == sizes[s],
                  "broadcast table '%s' %d cols %lld rows", t->name, t->ncols, (long long)ts_table_rows(t));
            for (int c = 0; c < 5 && t->ncols == 5; c++) {
                const ts_column *x = t->cols[c], *y = want->cols[c];
                CHECK(strcmp(x->name, y->name) == 0 && x->type == y->type && x->scale == y->scale && x->len == y->len,
                      "column %d schema (%s type %d scale %d)", c, x->name, x->type, x->scale);
                if (x->len != y->len || x->type != y->type)
                    continue;
                if (x->type == TS_T_STRING)
                    CHECK(x->nbytes == y->nbytes && memcmp(x->data, y->data, 8 * (size_t)(x->len + 1)) == 0 &&
                              (x->nbytes == 0 || memcmp(x->bytes, y->bytes, (size_t)x->nbytes) == 0),
                          "string column %s content", x->name);
                else
                    CHECK(x->len == 0 || memcmp(x->data, y->data, (size_t)x->len * ts_type_width(x->type)) == 0,
                          "column %s content", x->name);
            }
            ts_table_free(want), ts_table_free(t);
        }
    /* DICT columns are refused on every rank (no rank left waiting) */
    ts_table *t = NULL;
    if (ctx->rank == 0) {
        CHECK_OK(ts_table_new("d", &t));
        CHECK_OK(ts_table_add(t, "tag", TS_T_DICT, 0, g_dict, NULL));
    }
    const ts_err err = ts_broadcast_table(ctx, &t, 0);
    CHECK(err != TS_OK, "broadcasting a DICT column must fail on rank %d", ctx->rank);
    if (ctx->rank != 0)
        CHECK(t == NULL, "no table on a failed broadcast");
    ts_table_free(t);
    ts_error_clear();
}

/* ---- ts_ctx_check --------------------------------------------------------------------------------------- */

/* ---- ts_exchange_staged: records through a small stage in many rounds ---------------------------------------- */

/* Rank r holds staged_rows(r) records {gid, dest}; rank 1 has none, and destinations lean towards rank 0, so the
 * ranks need different numbers of rounds and some rounds carry nothing for some peers. */
static int64_t staged_rows(int rank) { return rank == 1 ? 0 : 1000 + 337 * rank; }
static int staged_dest(int64_t g, int p)
{
    return mix((uint64_t)g * 7) % 10 < 6 ? 0 : (int)(mix((uint64_t)g) % (uint64_t)p);
}

typedef struct staged_src {
    int64_t n, next;
    int rank, p;
} staged_src;

static int staged_fill(void *arg, char *stage, int64_t cap, int64_t *count)
{
    staged_src *src = arg;
    int64_t i = src->next;
    for (; i < src->n; i++) {
        const int64_t g = gid_of(src->rank, i);
        const int d = staged_dest(g, src->p);
        if (count[d] == cap)
            break;
        int64_t *w = (int64_t *)stage + 2 * (d * cap + count[d]++);
        w[0] = g, w[1] = d;
    }
    src->next = i;
    return i < src->n;
}

static void test_staged(ts_ctx *ctx)
{
    const int p = ctx->size, me = ctx->rank;
    int64_t *rcount = calloc((size_t)p, sizeof *rcount), nrecv = 0;
    for (int r = 0; r < p; r++) {
        for (int64_t i = 0; i < staged_rows(r); i++)
            rcount[r] += staged_dest(gid_of(r, i), p) == me;
        nrecv += rcount[r];
    }
    int64_t *recv = malloc(16 * (size_t)(nrecv + 1));
    for (size_t stage = 1; stage <= ((size_t)1 << 20); stage <<= 20) { /* 64 records a peer and round; one round */
        staged_src src = {staged_rows(me), 0, me, p};
        memset(recv, 0xff, 16 * (size_t)(nrecv + 1));
        const int64_t sent0 = ctx->bytes_sent;
        CHECK_OK(ts_exchange_staged(ctx, 16, stage, staged_fill, &src, recv, rcount));
        int64_t k = 0, bad = 0, leave = 0;
        for (int r = 0; r < p; r++)
            for (int64_t i = 0; i < staged_rows(r); i++) {
                const int64_t g = gid_of(r, i);
                if (staged_dest(g, p) != me)
                    continue;
                bad += recv[2 * k] != g || recv[2 * k + 1] != me;
                k++;
            }
        for (int64_t i = 0; i < staged_rows(me); i++)
            leave += staged_dest(gid_of(me, i), p) != me;
        CHECK(bad == 0, "staged exchange (stage %zu B): rank %d: %lld of %lld records differ or are out of order",
              stage, me, (long long)bad, (long long)nrecv);
        CHECK(recv[2 * nrecv] == -1, "staged exchange: rank %d: wrote past its %lld records", me, (long long)nrecv);
        CHECK(ctx->bytes_sent - sent0 == 16 * leave, "staged exchange: rank %d counted %lld bytes sent, expected %lld",
              me, (long long)(ctx->bytes_sent - sent0), (long long)(16 * leave));
    }
    free(recv), free(rcount);
}

static void test_ctx_check(ts_ctx *ctx)
{
    ts_error_clear();
    CHECK(ts_ctx_check(ctx, TS_OK) == TS_OK, "all ranks fine");

    const int bad_rank = ctx->size > 1 ? 1 : 0;
    ts_err local = TS_OK;
    if (ctx->rank == bad_rank)
        local = ts_error_raise(TS_ERR_DATA, __FILE__, __LINE__, __func__, "boom %d", 42);
    ts_err err = ts_ctx_check(ctx, local);
    char want[64];
    snprintf(want, sizeof want, "rank %d: boom 42", bad_rank);
    CHECK(err == TS_ERR_DATA, "rank %d got code %d, expected TS_ERR_DATA", ctx->rank, err);
    CHECK(strcmp(ts_error_headline(), want) == 0, "rank %d got headline [%s], expected [%s]", ctx->rank,
          ts_error_headline(), want);
    /* passing the collective error through another check keeps one prefix */
    err = ts_ctx_check(ctx, err);
    CHECK(err == TS_ERR_DATA && strcmp(ts_error_headline(), want) == 0, "second check: code %d headline [%s]", err,
          ts_error_headline());
    ts_error_clear();

    /* two failing ranks: the lowest one's code and message win */
    if (ctx->size >= 2) {
        local = TS_OK;
        if (ctx->rank == ctx->size - 1)
            local = ts_error_raise(TS_ERR_IO, __FILE__, __LINE__, __func__, "disk %d", ctx->rank);
        else if (ctx->rank == 1)
            local = ts_error_raise(TS_ERR_NOMEM, __FILE__, __LINE__, __func__, "memory %d", ctx->rank);
        err = ts_ctx_check(ctx, local);
        const int lowest = 1;
        snprintf(want, sizeof want, "%s", ctx->size - 1 == lowest ? "rank 1: disk 1" : "rank 1: memory 1");
        const ts_err want_code = ctx->size - 1 == lowest ? TS_ERR_IO : TS_ERR_NOMEM;
        CHECK(err == want_code && strcmp(ts_error_headline(), want) == 0,
              "two failures: rank %d got code %d [%s], expected %d [%s]", ctx->rank, err, ts_error_headline(),
              want_code, want);
        ts_error_clear();
    }
    /* a later, unrelated failure is reported afresh */
    local = ctx->rank == 0 ? ts_error_raise(TS_ERR_USAGE, __FILE__, __LINE__, __func__, "late") : TS_OK;
    err = ts_ctx_check(ctx, local);
    CHECK(err == TS_ERR_USAGE && strcmp(ts_error_headline(), "rank 0: late") == 0, "late failure: [%s]",
          ts_error_headline());
    ts_error_clear();
    CHECK(ts_ctx_check(ctx, TS_OK) == TS_OK, "fine again after a failure");
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    ts_ctx ctx;
    if (ts_ctx_init(MPI_COMM_WORLD, &ctx) != TS_OK) {
        fprintf(stderr, "ts_ctx_init failed: %s\n", ts_error_message());
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
    CHECK_OK(ts_dict_new(TAGS, 5, &g_dict));
    test_exchange(&ctx);
    test_broadcast(&ctx);
    test_staged(&ctx);
    test_ctx_check(&ctx);
    ts_dict_release(g_dict);

    long local[2] = {ts_test_passed, ts_test_failed}, total[2];
    MPI_Allreduce(local, total, 2, MPI_LONG, MPI_SUM, MPI_COMM_WORLD);
    if (ctx.rank == 0)
        printf("test_exchange: %ld passed, %ld failed\n", total[0], total[1]);
    ts_ctx_free(&ctx);
    MPI_Finalize();
    return total[1] ? 1 : 0;
}
