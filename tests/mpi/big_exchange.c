/* Exchanges of more than 2^31 bytes, on exactly 2 ranks (peak RSS 4.6 + 2.1 GiB, ~40 s on this 2-core VM).
 *
 * Not named test_*.c on purpose: the MPI glob would run it on 1, 2 and 4 ranks. tests/valgrind/tests.cmake
 * registers it as big_exchange_np2 (label `big`).
 *
 * MPI counts and displacements are ints, so ts_alltoallv_bytes switches to point-to-point messages of at most
 * 1 GiB as soon as any rank sends or receives INT_MAX bytes or more. Both tests below make rank 0 send more than
 * 2^31 bytes to rank 1 in one call (three messages on that link), while the other links stay small, and check
 * every received byte against a function of (source rank, position) computed independently on the receiver.
 *   1. ts_alltoallv_bytes directly: 2^31 + 2^20 + 7 bytes from rank 0 to rank 1; rank 1's own bytes then land
 *      at a displacement above INT_MAX.
 *   2. ts_exchange_rows of a table whose STRING column carries 2^31 + 64 MiB bytes from rank 0 to rank 1, with
 *      an INT64 and a nullable INT32 column; rows must arrive by source rank, then in source order. */
#include <limits.h>
#include <mpi.h>
#include <stdlib.h>
#include <string.h>

#include "../unit/ts_test.h"
#include "ts_ctx.h"
#include "ts_exchange.h"
#include "ts_mem.h"
#include "ts_mpi_test.h"

static uint64_t mix(uint64_t x) /* splitmix64 finaliser */
{
    x += UINT64_C(0x9e3779b97f4a7c15);
    x = (x ^ (x >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    x = (x ^ (x >> 27)) * UINT64_C(0x94d049bb133111eb);
    return x ^ (x >> 31);
}

/* ---- 1. ts_alltoallv_bytes with a count above INT_MAX ------------------------------------------------------- */

/* Bytes rank s sends to rank d. */
static int64_t raw_count(int s, int d)
{
    static const int64_t n[2][2] = {{4099, (INT64_C(1) << 31) + (1 << 20) + 7}, {1000003, 17}};
    return n[s][d];
}

/* Byte k of the stream from s to d: the top byte of a linear sequence, so a message shifted by any whole chunk
 * (or chunks swapped) changes the bytes. */
static uint8_t raw_byte(int s, int d, int64_t k)
{
    const uint64_t seed = (uint64_t)(2 * s + d + 1) * UINT64_C(0x632be59bd9b4e019);
    return (uint8_t)(((uint64_t)k * UINT64_C(0x9e3779b97f4a7c15) + seed) >> 56);
}

static void test_alltoallv_bytes(ts_ctx *ctx)
{
    const int me = ctx->rank;
    int64_t scount[2], rcount[2], stotal = 0, rtotal = 0;
    for (int r = 0; r < 2; r++) {
        scount[r] = raw_count(me, r), rcount[r] = raw_count(r, me);
        stotal += scount[r], rtotal += rcount[r];
    }
    /* ts_big: after test 2, these come from the pool of mappings it freed (no fresh pages to fault in) */
    uint8_t *send = ts_big((size_t)stotal), *recv = ts_big((size_t)rtotal);
    int ok = send && recv;
    CHECK(ok, "rank %d: cannot allocate %lld + %lld bytes", me, (long long)stotal, (long long)rtotal);
    MPI_Allreduce(MPI_IN_PLACE, &ok, 1, MPI_INT, MPI_MIN, ctx->comm);
    if (!ok) {
        ts_free(send), ts_free(recv);
        return;
    }
    for (int d = 0; d < 2; d++) {
        uint8_t *p = send + (d ? scount[0] : 0);
        for (int64_t k = 0; k < scount[d]; k++)
            p[k] = raw_byte(me, d, k);
    }
    const int64_t sent0 = ctx->bytes_sent;
    CHECK_OK(ts_alltoallv_bytes(ctx, send, scount, recv, rcount));
    CHECK(ctx->bytes_sent - sent0 == scount[1 - me], "rank %d: %lld bytes counted as sent, expected %lld", me,
          (long long)(ctx->bytes_sent - sent0), (long long)scount[1 - me]);
    int64_t bad = 0, first_bad = -1;
    for (int s = 0; s < 2; s++) {
        const uint8_t *p = recv + (s ? rcount[0] : 0);
        for (int64_t k = 0; k < rcount[s]; k++)
            if (p[k] != raw_byte(s, me, k) && bad++ == 0)
                first_bad = (s ? rcount[0] : 0) + k;
    }
    CHECK(bad == 0, "rank %d: %lld of %lld received bytes differ, first at offset %lld", me, (long long)bad,
          (long long)rtotal, (long long)first_bad);
    ts_free(send), ts_free(recv);
}

/* ---- 2. ts_exchange_rows with a STRING column of more than 2^31 bytes ------------------------------------------ */

#define RANK1_ROWS 5000
#define BIG_MARGIN (INT64_C(1) << 26)

static int64_t gid_of(int src, int64_t i) { return (int64_t)src << 40 | i; }
/* Rank 0's strings are long (1500..2499 bytes), rank 1's short (0..40): rank 0 alone passes 2^31. */
static int64_t len_of(int64_t g)
{
    return g >> 40 ? (int64_t)(mix((uint64_t)g) % 41) : 1500 + (int64_t)(mix((uint64_t)g) % 1000);
}
/* Rank 0 keeps 1 row in 16; rank 1 sends its odd rows to rank 0. */
static int32_t dest_of(int64_t g) { return g >> 40 ? (int32_t)((g & 1) == 0) : (mix((uint64_t)g ^ 99) % 16 != 0); }
static int v_valid(int64_t g) { return mix((uint64_t)g ^ 7) % 7 != 0; }
static int32_t v_of(int64_t g) { return (int32_t)(mix((uint64_t)g ^ 3) >> 33); }

static void str_fill(int64_t g, char *out, int64_t len)
{
    const uint64_t h = mix((uint64_t)g ^ 0x5555);
    for (int64_t k = 0; k < len; k++)
        out[k] = (char)(32 + ((h + (uint64_t)k * UINT64_C(0x9e3779b97f4a7c15)) >> 58));
}

/* Rank 0's row count: the fewest rows whose strings bound for rank 1 exceed 2^31 + 64 MiB (every rank computes
 * it the same way). */
static int64_t rank0_rows(void)
{
    int64_t n = 0, to1 = 0;
    for (; to1 <= (INT64_C(1) << 31) + BIG_MARGIN; n++)
        if (dest_of(gid_of(0, n)) == 1)
            to1 += len_of(gid_of(0, n));
    return n;
}

static int64_t rows_of(int src, int64_t n0) { return src == 0 ? n0 : RANK1_ROWS; }

static ts_table *build_rows(int me, int64_t n, int32_t **dest)
{
    ts_table *t = NULL;
    ts_column *id, *v, *s;
    int64_t bytes = 0;
    for (int64_t i = 0; i < n; i++)
        bytes += len_of(gid_of(me, i));
    *dest = malloc(sizeof **dest * (size_t)(n + 1));
    if (!*dest || !CHECK_OK(ts_table_new("big", &t)) || !CHECK_OK(ts_table_add(t, "id", TS_T_INT64, 0, NULL, &id)) ||
        !CHECK_OK(ts_table_add(t, "v", TS_T_INT32, 0, NULL, &v)) ||
        !CHECK_OK(ts_table_add(t, "s", TS_T_STRING, 0, NULL, &s)) || !CHECK_OK(ts_column_reserve(id, n, 0)) ||
        !CHECK_OK(ts_column_reserve(v, n, 0)) || !CHECK_OK(ts_column_reserve(s, n, bytes))) {
        ts_table_free(t);
        return NULL;
    }
    int64_t *off = TS_COL(s, int64_t);
    off[0] = 0;
    for (int64_t i = 0; i < n; i++) {
        const int64_t g = gid_of(me, i), len = len_of(g);
        TS_COL(id, int64_t)[i] = g, TS_COL(v, int32_t)[i] = v_of(g), (*dest)[i] = dest_of(g);
        str_fill(g, s->bytes + off[i], len);
        off[i + 1] = off[i] + len;
    }
    id->len = v->len = s->len = n, s->nbytes = bytes;
    for (int64_t i = 0; i < n; i++)
        if (!v_valid(gid_of(me, i)))
            CHECK_OK(ts_column_set_null(v, i));
    return t;
}

/* Every received row against the rows each source holds, in (source rank, source order). */
static void check_rows(const ts_table *out, int me, int64_t n0)
{
    if (!out || out->ncols != 3) {
        CHECK(0, "rank %d: no table or wrong columns", me);
        return;
    }
    const ts_column *id = out->cols[0], *v = out->cols[1], *s = out->cols[2];
    const int64_t n = ts_table_rows(out), *off = TS_COL(s, int64_t);
    char *want = malloc(4096);
    int64_t k = 0, bad = 0;
    for (int src = 0; src < 2 && want; src++)
        for (int64_t i = 0; i < rows_of(src, n0); i++) {
            const int64_t g = gid_of(src, i);
            if (dest_of(g) != me)
                continue;
            if (k < n) {
                const int64_t len = len_of(g);
                str_fill(g, want, len);
                const int ok = TS_COL(id, int64_t)[k] == g && ts_column_is_valid(v, k) == v_valid(g) &&
                               (!v_valid(g) || TS_COL(v, int32_t)[k] == v_of(g)) && off[k + 1] - off[k] == len &&
                               memcmp(s->bytes + off[k], want, (size_t)len) == 0;
                if (!ok && bad++ < 3)
                    CHECK(0, "rank %d: row %lld (source %d row %lld) differs", me, (long long)k, src, (long long)i);
            }
            k++;
        }
    free(want);
    CHECK(k == n, "rank %d: %lld rows received, expected %lld", me, (long long)n, (long long)k);
    CHECK(bad == 0, "rank %d: %lld rows differ", me, (long long)bad);
    CHECK(n == 0 || off[n] == s->nbytes, "rank %d: string payload size", me);
}

/* Bytes rank `me` must count as sent: per row to the other rank 8 (id) + 4 (v) + 1 (null flag: some rank has
 * nulls) + 8 (string length), plus its string bytes. */
static int64_t expected_sent(int me, int64_t n0, int64_t *str_bytes)
{
    int64_t b = 0, sb = 0;
    for (int64_t i = 0; i < rows_of(me, n0); i++)
        if (dest_of(gid_of(me, i)) != me)
            b += 21 + len_of(gid_of(me, i)), sb += len_of(gid_of(me, i));
    *str_bytes = sb;
    return b;
}

static void test_exchange_rows(ts_ctx *ctx)
{
    const int me = ctx->rank;
    const int64_t n0 = rank0_rows();
    int32_t *dest = NULL;
    ts_table *in = build_rows(me, rows_of(me, n0), &dest), *out = NULL;
    int ok = in != NULL;
    MPI_Allreduce(MPI_IN_PLACE, &ok, 1, MPI_INT, MPI_MIN, ctx->comm);
    if (ok) {
        int64_t str_bytes;
        const int64_t want_sent = expected_sent(me, n0, &str_bytes), sent0 = ctx->bytes_sent;
        if (me == 0)
            CHECK(str_bytes > INT_MAX, "precondition: %lld string bytes to rank 1 must exceed INT_MAX",
                  (long long)str_bytes);
        const double t0 = MPI_Wtime();
        CHECK_OK(ts_exchange_rows(ctx, in, dest, &out));
        const double dt = MPI_Wtime() - t0;
        CHECK(ctx->bytes_sent - sent0 == want_sent, "rank %d: %lld bytes counted as sent, expected %lld", me,
              (long long)(ctx->bytes_sent - sent0), (long long)want_sent);
        ts_table_free(in), in = NULL;
        check_rows(out, me, n0);
        if (me == 0)
            printf("big_exchange: %lld rows, %lld bytes sent by rank 0 in %.1f s\n", (long long)n0,
                   (long long)want_sent, dt);
    }
    ts_table_free(in), ts_table_free(out), free(dest);
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    ts_ctx ctx;
    if (ts_ctx_init(MPI_COMM_WORLD, &ctx) != TS_OK)
        MPI_Abort(MPI_COMM_WORLD, 1);
    if (ctx.size != 2) {
        if (ctx.rank == 0)
            fprintf(stderr, "big_exchange runs on exactly 2 ranks (got %d)\n", ctx.size);
        ts_ctx_free(&ctx);
        MPI_Finalize();
        return 2;
    }
    /* this order lets test 1 reuse the mappings test 2 freed: faulting in fresh pages is most of the time here */
    const double t0 = MPI_Wtime();
    test_exchange_rows(&ctx);
    const double t1 = MPI_Wtime();
    test_alltoallv_bytes(&ctx);
    if (ctx.rank == 0)
        printf("big_exchange: ts_exchange_rows test %.1f s, ts_alltoallv_bytes test %.1f s\n", t1 - t0,
               MPI_Wtime() - t1);
    double peak = (double)ts_peak_rss_bytes(), peaks[2];
    MPI_Gather(&peak, 1, MPI_DOUBLE, peaks, 1, MPI_DOUBLE, 0, ctx.comm);
    if (ctx.rank == 0)
        printf("big_exchange: peak RSS rank 0 %.2f GiB, rank 1 %.2f GiB\n", peaks[0] / (1 << 30),
               peaks[1] / (1 << 30));
    return ts_mpi_test_done(&ctx, "big_exchange");
}
