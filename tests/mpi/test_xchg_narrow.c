/* The streaming exchange (engine/dist/ts_xchg.h) on P ranks with integer columns of every range the messages narrow
 * (1, 2 or 4 bytes, bases near INT64_MIN and INT64_MAX, ranges too wide to narrow), NULLs, DICT codes, dates,
 * doubles and strings. Every row's content is a function of its global id, so each rank checks what it received
 * without the code under test: each row exactly once over all ranks, every value as sent, rows in (source rank,
 * source order), all rows of one key on one rank. Run with small messages (many per peer) and the default size. */
#include <mpi.h>
#include <stdlib.h>
#include <string.h>

#include "../unit/ts_test.h"
#include "ts_ctx.h"
#include "ts_pipe_ops.h"
#include "ts_pipeline.h"
#include "ts_xchg.h"

#define NKEYS 37

static const char *const TAGS[] = {"alpha", "beta", "gamma", "delta", "epsilon"};
static ts_dict *g_dict;

static uint64_t mix(uint64_t x) /* splitmix64 finaliser */
{
    x += UINT64_C(0x9e3779b97f4a7c15);
    x = (x ^ (x >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    x = (x ^ (x >> 27)) * UINT64_C(0x94d049bb133111eb);
    return x ^ (x >> 31);
}

static int64_t gid_of(int rank, int64_t i) { return (int64_t)rank * 1000000 + i; }
static int64_t rows_of(int rank) { return 70000 + 517 * rank; } /* over the first block of kept rows */

enum { C_GID, C_KEY, C_BIG, C_TOP, C_BOT, C_SPAN, C_I32, C_I32W, C_DATE, C_TAG, C_OPT, C_F, C_S, NCOLS };
static const char *const NAMES[NCOLS] = {"gid", "k", "big", "top", "bot", "span", "i32", "i32w", "d", "tag", "opt",
                                         "f", "s"};
static const ts_type TYPES[NCOLS] = {TS_T_INT64, TS_T_INT64, TS_T_INT64, TS_T_INT64, TS_T_INT64, TS_T_INT64,
                                     TS_T_INT32, TS_T_INT32, TS_T_DATE, TS_T_DICT, TS_T_INT64, TS_T_FLOAT64,
                                     TS_T_STRING};

/* The value of fixed-width column c of row g (as int64; doubles by their bits). */
static int64_t value_of(int c, int64_t g)
{
    const uint64_t h = mix((uint64_t)g);
    switch (c) {
    case C_GID: return g;
    case C_KEY: return g % NKEYS + 5;                        /* 1 byte */
    case C_BIG: return (int64_t)h;                           /* not narrowed */
    case C_TOP: return INT64_MAX - g % 200;                  /* 1 byte, base near the top */
    case C_BOT: return INT64_MIN + g % 70000;                /* 4 bytes, base at the bottom */
    case C_SPAN: return g % 2 ? INT64_MAX : INT64_MIN;       /* the whole range: not narrowed */
    case C_I32: return (int32_t)(g % 60000) - 30000;         /* 2 bytes */
    case C_I32W: return (int32_t)(uint32_t)h;                /* not narrowed */
    case C_DATE: return 18000 + g % 300;                     /* 2 bytes */
    case C_TAG: return (int64_t)(h % 5);                     /* 1 byte */
    case C_OPT: return g * 3 - 1000;
    default: {
        const double d = (double)g * 0.25 - 7.5;
        int64_t b;
        memcpy(&b, &d, 8);
        return b;
    }
    }
}
static int opt_valid(int64_t g) { return mix((uint64_t)g ^ 77) % 4 != 0; }
static size_t str_of(int64_t g, char *buf)
{
    const size_t len = mix((uint64_t)g * 3) % 4 == 0 ? 0 : mix((uint64_t)g * 5) % 40;
    for (size_t k = 0; k < len; k++)
        buf[k] = (char)('a' + (g + (int64_t)k) % 26);
    return len;
}

static ts_table *build_input(int rank)
{
    ts_table *t = NULL;
    if (!CHECK_OK(ts_table_new("rows", &t)))
        return NULL;
    ts_column *col[NCOLS];
    for (int c = 0; c < NCOLS; c++)
        CHECK_OK(ts_table_add(t, NAMES[c], TYPES[c], 0, c == C_TAG ? g_dict : NULL, &col[c]));
    const int64_t n = rows_of(rank);
    for (int c = 0; c < NCOLS; c++)
        if (c != C_S)
            CHECK_OK(ts_column_reserve(col[c], n, 0));
    for (int64_t i = 0; i < n; i++) {
        const int64_t g = gid_of(rank, i);
        for (int c = 0; c < C_S; c++) {
            if (ts_type_width(TYPES[c]) == 4)
                TS_COL(col[c], int32_t)[i] = (int32_t)value_of(c, g);
            else
                TS_COL(col[c], int64_t)[i] = value_of(c, g);
        }
        char buf[64];
        CHECK_OK(ts_column_append_string(col[C_S], buf, (int64_t)str_of(g, buf)));
    }
    for (int c = 0; c < C_S; c++)
        col[c]->len = n;
    for (int64_t i = 0; i < n; i++)
        if (!opt_valid(gid_of(rank, i)))
            CHECK_OK(ts_column_set_null(col[C_OPT], i));
    return t;
}

/* Runs table t through a sink exchanging by column k (or to opts->root) and a materialising source pipeline. */
static ts_table *exchange(ts_ctx *ctx, const ts_table *t, const ts_xchg_opts *opts)
{
    ts_op *src = NULL, *sink = NULL, *rsrc = NULL, *mat = NULL;
    ts_table *out = NULL;
    const char *keys[] = {"k"};
    if (CHECK_OK(ts_table_source_new(t, NULL, NULL, 0, &src)) &&
        CHECK_OK(ts_xchg_sink_new(ctx, src->out, keys, 1, opts, &sink))) {
        ts_pipeline p = {.source = src, .sink = sink};
        snprintf(p.name, sizeof p.name, "send");
        if (CHECK_OK(ts_pipeline_run(ctx, &p)) && CHECK_OK(ts_xchg_source_new(sink, &rsrc)) &&
            CHECK_OK(ts_materialize_new(rsrc->out, "got", &mat))) {
            ts_pipeline q = {.source = rsrc, .sink = mat};
            snprintf(q.name, sizeof q.name, "receive");
            if (CHECK_OK(ts_pipeline_run(ctx, &q)))
                out = ts_materialize_take(mat);
        }
    }
    ts_op_free(mat), ts_op_free(rsrc), ts_op_free(sink), ts_op_free(src);
    return out;
}

static void check(ts_ctx *ctx, const ts_table *out, const char *what, int root)
{
    if (!out || out->ncols != NCOLS) {
        CHECK(0, "%s: no result or %d columns", what, out ? out->ncols : -1);
        return;
    }
    const int64_t n = ts_table_rows(out);
    const int64_t *gid = TS_COL(out->cols[C_GID], int64_t);
    long bad = 0;
    int64_t prev = -1;
    uint64_t keys_here = 0; /* bit k: key k arrived here */
    for (int64_t r = 0; r < n; r++) {
        const int64_t g = gid[r];
        bad += g <= prev; /* (source rank, source order) is increasing global id */
        prev = g;
        for (int c = 0; c < C_S; c++) {
            const ts_column *col = out->cols[c];
            const int64_t v = ts_type_width(col->type) == 4 ? TS_COL(col, int32_t)[r] : TS_COL(col, int64_t)[r];
            const int valid = ts_column_is_valid(col, r);
            if (c == C_OPT ? valid != opt_valid(g) || (valid && v != value_of(c, g)) : !valid || v != value_of(c, g))
                if (bad++ < 5)
                    CHECK(0, "%s: rank %d row %lld (gid %lld) column %s: %lld", what, ctx->rank, (long long)r,
                          (long long)g, NAMES[c], (long long)v);
        }
        char buf[64];
        const size_t len = str_of(g, buf);
        const int64_t *o = TS_COL(out->cols[C_S], int64_t);
        bad += o[r + 1] - o[r] != (int64_t)len || (len && memcmp(out->cols[C_S]->bytes + o[r], buf, len) != 0);
        keys_here |= UINT64_C(1) << (g % NKEYS);
    }
    CHECK(bad == 0, "%s: rank %d: %ld rows differ or out of order", what, ctx->rank, bad);
    CHECK(out->cols[C_TAG]->dict == g_dict, "%s: the dictionary travels with the schema", what);
    /* every row exactly once: the counts and the sums of the ids (mod 2^64) over ranks */
    int64_t mine[2] = {n, 0}, all[2], want[2] = {0, 0};
    for (int64_t r = 0; r < n; r++)
        mine[1] = (int64_t)((uint64_t)mine[1] + (uint64_t)gid[r] * (uint64_t)gid[r]);
    MPI_Allreduce(mine, all, 2, MPI_INT64_T, MPI_SUM, ctx->comm);
    for (int s = 0; s < ctx->size; s++)
        for (int64_t i = 0; i < rows_of(s); i++) {
            const int64_t g = gid_of(s, i);
            want[0]++, want[1] = (int64_t)((uint64_t)want[1] + (uint64_t)g * (uint64_t)g);
        }
    CHECK(all[0] == want[0] && all[1] == want[1], "%s: %lld rows over the ranks, expected %lld", what,
          (long long)all[0], (long long)want[0]);
    if (root >= 0) {
        CHECK(ctx->rank == root || n == 0, "%s: rank %d received %lld rows, not the root", what, ctx->rank,
              (long long)n);
        return;
    }
    uint64_t any = 0; /* a key on two ranks shows in the sum of the ranks' key bits */
    int64_t count[NKEYS] = {0}, sum[NKEYS];
    for (int k = 0; k < NKEYS; k++)
        count[k] = (keys_here >> k) & 1;
    MPI_Allreduce(count, sum, NKEYS, MPI_INT64_T, MPI_SUM, ctx->comm);
    for (int k = 0; k < NKEYS; k++)
        any |= (uint64_t)(sum[k] > 1) << k;
    CHECK(any == 0, "%s: a key arrived on several ranks", what);
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
    ts_table *in = build_input(ctx.rank);
    const struct {
        const char *what;
        ts_xchg_opts o;
    } runs[] = {
        {"hash, small messages", {4096, 0, -1}},
        {"hash, default messages", {0, 0, -1}},
        {"to the last rank, small messages", {8192, 2, ctx.size - 1}},
    };
    for (size_t i = 0; in && i < sizeof runs / sizeof runs[0]; i++) {
        ts_table *out = exchange(&ctx, in, &runs[i].o);
        check(&ctx, out, runs[i].what, runs[i].o.root);
        ts_table_free(out);
    }
    ts_table_free(in);
    ts_dict_release(g_dict);
    long local[2] = {ts_test_passed, ts_test_failed}, total[2];
    MPI_Allreduce(local, total, 2, MPI_LONG, MPI_SUM, MPI_COMM_WORLD);
    if (ctx.rank == 0)
        printf("test_xchg_narrow: %ld passed, %ld failed\n", total[0], total[1]);
    ts_ctx_free(&ctx);
    MPI_Finalize();
    return total[1] ? 1 : 0;
}
