/* mpi_count: counts a process's MPI collective calls through the profiling interface (PMPI), for the cost model
 * of docs/scaling.md (which calls grow with P-1 messages, which with log2 P).
 *
 *   mpicc -O2 -shared -fPIC -o libmpi_count.so scripts/bench/mpi_count.c
 *   mpirun -n P -x LD_PRELOAD=$PWD/libmpi_count.so -x MPI_COUNT_OUT=PREFIX program ...
 *
 * At MPI_Finalize every rank writes PREFIX.<rank>.count: one line "name calls bytes" per collective, where bytes is
 * what the rank passed as its send buffer (counts x type size). Calls made by libraries (HDF5, MPI-IO) are counted
 * too. Without MPI_COUNT_OUT nothing is written. */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>

enum { ALLTOALLV, ALLTOALL, ALLREDUCE, ALLGATHER, ALLGATHERV, BCAST, GATHER, GATHERV, REDUCE, BARRIER, EXSCAN, NK };
static const char *names[NK] = {"alltoallv", "alltoall", "allreduce", "allgather", "allgatherv", "bcast",
                                "gather", "gatherv", "reduce", "barrier", "exscan"};
static long long calls[NK], bytes[NK];

static long long tsize(MPI_Datatype t)
{
    int s = 0;
    PMPI_Type_size(t, &s);
    return s;
}

int MPI_Alltoallv(const void *sb, const int sc[], const int sd[], MPI_Datatype st, void *rb, const int rc[],
                  const int rd[], MPI_Datatype rt, MPI_Comm c)
{
    int p;
    PMPI_Comm_size(c, &p);
    long long n = 0;
    for (int i = 0; i < p; i++)
        n += sc[i];
    calls[ALLTOALLV]++, bytes[ALLTOALLV] += n * tsize(st);
    return PMPI_Alltoallv(sb, sc, sd, st, rb, rc, rd, rt, c);
}

int MPI_Alltoall(const void *sb, int sc, MPI_Datatype st, void *rb, int rc, MPI_Datatype rt, MPI_Comm c)
{
    int p;
    PMPI_Comm_size(c, &p);
    calls[ALLTOALL]++, bytes[ALLTOALL] += (long long)sc * p * tsize(st);
    return PMPI_Alltoall(sb, sc, st, rb, rc, rt, c);
}

int MPI_Allreduce(const void *sb, void *rb, int n, MPI_Datatype t, MPI_Op op, MPI_Comm c)
{
    calls[ALLREDUCE]++, bytes[ALLREDUCE] += n * tsize(t);
    return PMPI_Allreduce(sb, rb, n, t, op, c);
}

int MPI_Allgather(const void *sb, int sc, MPI_Datatype st, void *rb, int rc, MPI_Datatype rt, MPI_Comm c)
{
    calls[ALLGATHER]++, bytes[ALLGATHER] += sc * tsize(st);
    return PMPI_Allgather(sb, sc, st, rb, rc, rt, c);
}

int MPI_Allgatherv(const void *sb, int sc, MPI_Datatype st, void *rb, const int rc[], const int rd[],
                   MPI_Datatype rt, MPI_Comm c)
{
    calls[ALLGATHERV]++, bytes[ALLGATHERV] += sc * tsize(st);
    return PMPI_Allgatherv(sb, sc, st, rb, rc, rd, rt, c);
}

int MPI_Bcast(void *b, int n, MPI_Datatype t, int root, MPI_Comm c)
{
    calls[BCAST]++, bytes[BCAST] += n * tsize(t);
    return PMPI_Bcast(b, n, t, root, c);
}

int MPI_Gather(const void *sb, int sc, MPI_Datatype st, void *rb, int rc, MPI_Datatype rt, int root, MPI_Comm c)
{
    calls[GATHER]++, bytes[GATHER] += sc * tsize(st);
    return PMPI_Gather(sb, sc, st, rb, rc, rt, root, c);
}

int MPI_Gatherv(const void *sb, int sc, MPI_Datatype st, void *rb, const int rc[], const int rd[], MPI_Datatype rt,
                int root, MPI_Comm c)
{
    calls[GATHERV]++, bytes[GATHERV] += sc * tsize(st);
    return PMPI_Gatherv(sb, sc, st, rb, rc, rd, rt, root, c);
}

int MPI_Reduce(const void *sb, void *rb, int n, MPI_Datatype t, MPI_Op op, int root, MPI_Comm c)
{
    calls[REDUCE]++, bytes[REDUCE] += n * tsize(t);
    return PMPI_Reduce(sb, rb, n, t, op, root, c);
}

int MPI_Barrier(MPI_Comm c)
{
    calls[BARRIER]++;
    return PMPI_Barrier(c);
}

int MPI_Exscan(const void *sb, void *rb, int n, MPI_Datatype t, MPI_Op op, MPI_Comm c)
{
    calls[EXSCAN]++, bytes[EXSCAN] += n * tsize(t);
    return PMPI_Exscan(sb, rb, n, t, op, c);
}

int MPI_Finalize(void)
{
    const char *prefix = getenv("MPI_COUNT_OUT");
    int rank = 0;
    PMPI_Comm_rank(MPI_COMM_WORLD, &rank);
    if (prefix && *prefix) {
        char path[4096];
        snprintf(path, sizeof path, "%s.%d.count", prefix, rank);
        FILE *f = fopen(path, "w");
        if (f) {
            for (int k = 0; k < NK; k++)
                fprintf(f, "%s %lld %lld\n", names[k], calls[k], bytes[k]);
            fclose(f);
        }
    }
    return PMPI_Finalize();
}
