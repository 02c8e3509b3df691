/* exchange_bench: latency and bandwidth of the MPI calls Tessera's exchange makes (engine/dist/ts_exchange.c),
 * outside the engine, so the cost model of docs/scaling.md can be fitted to this machine's MPI.
 *
 *   mpicc -O2 -o exchange_bench scripts/bench/exchange_bench.c
 *   mpirun -n P ./exchange_bench [--max-bytes B] [--reps N]
 *
 * One "exchange" is what ts_exchange does per fixed-width column: an MPI_Allreduce (do all counts fit in an int?)
 * then an MPI_Alltoallv of B bytes per rank spread evenly over the P destinations (the rank's own share included,
 * as in Tessera, where it is a local copy). Before the columns, MPI_Alltoall swaps the row counts once per table;
 * it is timed separately (kind "alltoall8") with MPI_Allreduce ("allreduce8") and MPI_Allgather of a sort sample
 * ("allgather", B bytes per rank gathered to every rank: the O(P) terms).
 *
 * Prints one line per (kind, bytes): "kind P bytes_per_rank seconds" where seconds is the median over --reps runs
 * of the slowest rank's time (every run starts after a barrier). Exit 0, or 2 on a usage error. */
#include <mpi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cmp_double(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* median over reps of the slowest rank's time for one call of fn */
typedef void (*bench_fn)(void *arg);

static double time_median(bench_fn fn, void *arg, int reps)
{
    double *t = malloc(sizeof *t * (size_t)reps);
    fn(arg); /* warm-up: first-touch of the buffers, connection setup */
    for (int i = 0; i < reps; i++) {
        MPI_Barrier(MPI_COMM_WORLD);
        const double t0 = MPI_Wtime();
        fn(arg);
        double dt = MPI_Wtime() - t0, mx;
        MPI_Allreduce(&dt, &mx, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
        t[i] = mx;
    }
    qsort(t, (size_t)reps, sizeof *t, cmp_double);
    const double m = reps % 2 ? t[reps / 2] : (t[reps / 2 - 1] + t[reps / 2]) / 2;
    free(t);
    return m;
}

typedef struct args {
    int p;
    char *send, *recv;
    int *sc, *sd, *rc, *rd;
    int64_t counts[2][1024];
} args;

static void do_exchange(void *v)
{
    args *a = v;
    int small = 1, all_small;
    MPI_Allreduce(&small, &all_small, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
    MPI_Alltoallv(a->send, a->sc, a->sd, MPI_BYTE, a->recv, a->rc, a->rd, MPI_BYTE, MPI_COMM_WORLD);
}

static void do_alltoall8(void *v)
{
    args *a = v;
    MPI_Alltoall(a->counts[0], 1, MPI_INT64_T, a->counts[1], 1, MPI_INT64_T, MPI_COMM_WORLD);
}

static void do_allreduce8(void *v)
{
    (void)v;
    int64_t x = 1, y;
    MPI_Allreduce(&x, &y, 1, MPI_INT64_T, MPI_SUM, MPI_COMM_WORLD);
}

static int gather_bytes;
static void do_allgather(void *v)
{
    args *a = v;
    MPI_Allgather(a->send, gather_bytes, MPI_BYTE, a->recv, gather_bytes, MPI_BYTE, MPI_COMM_WORLD);
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    int p, me;
    MPI_Comm_size(MPI_COMM_WORLD, &p);
    MPI_Comm_rank(MPI_COMM_WORLD, &me);
    int64_t max_bytes = INT64_C(64) << 20;
    int reps = 9;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--max-bytes") && i + 1 < argc)
            max_bytes = strtoll(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--reps") && i + 1 < argc)
            reps = atoi(argv[++i]);
        else {
            if (me == 0)
                fprintf(stderr, "usage: mpirun -n P exchange_bench [--max-bytes B] [--reps N]\n");
            MPI_Finalize();
            return 2;
        }
    }
    if (p > 1024 || reps < 1 || max_bytes < 1 || max_bytes > (INT64_C(1) << 30)) {
        if (me == 0)
            fprintf(stderr, "exchange_bench: at most 1024 ranks, --reps >= 1, 1 <= --max-bytes <= 2^30\n");
        MPI_Finalize();
        return 2;
    }
    args a = {.p = p};
    const size_t cap = (size_t)max_bytes + (size_t)p * 64;
    a.send = malloc(cap), a.recv = malloc(cap > (size_t)p * 65536 ? cap : (size_t)p * 65536);
    a.sc = malloc(4 * sizeof(int) * (size_t)p);
    a.sd = a.sc + p, a.rc = a.sc + 2 * p, a.rd = a.sc + 3 * p;
    memset(a.send, me + 1, cap);
    memset(a.recv, 0, cap);
    if (me == 0)
        printf("# kind ranks bytes_per_rank seconds (median of %d, slowest rank)\n", reps);
    double t = time_median(do_allreduce8, &a, reps * 4);
    if (me == 0)
        printf("allreduce8 %d 8 %.9f\n", p, t);
    t = time_median(do_alltoall8, &a, reps * 4);
    if (me == 0)
        printf("alltoall8 %d %d %.9f\n", p, 8 * p, t);
    for (gather_bytes = 64; gather_bytes <= 65536; gather_bytes *= 16) {
        t = time_median(do_allgather, &a, reps);
        if (me == 0)
            printf("allgather %d %d %.9f\n", p, gather_bytes, t);
    }
    for (int64_t b = 1024; b <= max_bytes; b *= 4) {
        const int per = (int)(b / p);
        for (int r = 0; r < p; r++)
            a.sc[r] = a.rc[r] = per, a.sd[r] = a.rd[r] = r * per;
        t = time_median(do_exchange, &a, b >= (INT64_C(16) << 20) ? (reps + 1) / 2 : reps);
        if (me == 0)
            printf("exchange %d %lld %.9f\n", p, (long long)per * p, t);
    }
    free(a.send), free(a.recv), free(a.sc);
    MPI_Finalize();
    return 0;
}
