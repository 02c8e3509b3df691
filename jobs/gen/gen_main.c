/* tessera-gen: deterministic sample bank data, written in parallel by MPI ranks.
 * Phases: options → output directory (rank 0) → reference tables (rank 0) and transaction files (round-robin
 * over ranks) → reduction of the per-file counts → manifest (rank 0). After each phase (and each round of
 * files) the ranks agree on the worst exit code, so one rank's failure ends the whole job cleanly with the
 * message printed by the failing rank. --dbbench writes the db-benchmark's tables instead (gen_dbbench.h). */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>

#include "gen_dbbench.h"
#include "gen_manifest.h"
#include "gen_model.h"
#include "gen_opts.h"
#include "gen_outdir.h"
#include "gen_ref.h"
#include "gen_txn.h"

/* Worst exit code over all ranks. */
static int agree(int code)
{
    int worst = code;
    MPI_Allreduce(&code, &worst, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    return worst;
}

static void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size);
    if (!p) { /* the last resort: a rank without memory cannot take part in the collectives */
        fprintf(stderr, "tessera-gen: out of memory\n");
        MPI_Abort(MPI_COMM_WORLD, 3);
    }
    return p;
}

typedef struct progress {
    double t0, last;
} progress;

static void report_progress(progress *p, const gen_opts *o, uint64_t files_done, uint64_t nfiles)
{
    const double now = MPI_Wtime();
    if (now - p->last < 1.0 && files_done < nfiles)
        return;
    p->last = now;
    const uint64_t rows = files_done * o->rows_per_file < o->rows ? files_done * o->rows_per_file : o->rows;
    fprintf(stderr, "tessera-gen: %llu/%llu files, %llu rows, %.2f M rows/s\n", (unsigned long long)files_done,
            (unsigned long long)nfiles, (unsigned long long)rows, rows / (now - p->t0 + 1e-9) / 1e6);
}

/* Rank r writes files r, r+P, r+2P, ...; all ranks meet after each round to stop early on a failure. */
static int write_files(const gen_model *m, const gen_opts *o, int rank, int size, gen_totals *t,
                       uint64_t *rows, uint64_t *bytes, int err)
{
    progress p = {MPI_Wtime(), MPI_Wtime()};
    const uint64_t rounds = (t->nfiles + (uint64_t)size - 1) / (uint64_t)size;
    for (uint64_t round = 0; round < rounds; round++) {
        const uint64_t f = round * (uint64_t)size + (uint64_t)rank;
        if (!err && f < t->nfiles)
            err = gen_write_txn_file(m, o, f, &rows[f], &bytes[f], t->kinds);
        if ((err = agree(err)) != 0)
            return err;
        if (rank == 0 && !o->quiet) {
            const uint64_t done = (round + 1) * (uint64_t)size;
            report_progress(&p, o, done < t->nfiles ? done : t->nfiles, t->nfiles);
        }
    }
    return 0;
}

static void sum_to_root(void *buf, int count, int rank)
{
    MPI_Reduce(rank == 0 ? MPI_IN_PLACE : buf, buf, count, MPI_UINT64_T, MPI_SUM, 0, MPI_COMM_WORLD);
}

static void print_summary(const gen_opts *o, const gen_totals *t, double seconds)
{
    uint64_t bytes = 0;
    for (uint64_t i = 0; i < t->nfiles; i++)
        bytes += t->file_bytes[i];
    fprintf(stderr,
            "tessera-gen: wrote %llu rows in %llu files (%.1f MB) + %d reference tables to %s in %.2f s "
            "(%.2f M rows/s, %.1f MB/s); %llu rows carry a reject reason\n",
            (unsigned long long)o->rows, (unsigned long long)t->nfiles, bytes / 1e6, GEN_NREF, o->out, seconds,
            o->rows / seconds / 1e6, bytes / 1e6 / seconds, (unsigned long long)gen_rejected_rows(t));
}

static int run(const gen_opts *o, int rank, int size)
{
    const double t0 = MPI_Wtime();
    int err = agree(rank == 0 ? gen_prepare_outdir(o) : 0);
    if (err)
        return err;
    gen_model *m = xcalloc(1, sizeof *m);
    gen_model_init(m, o->seed, o->rows);
    m->snapshot = o->snapshot;
    gen_totals t = {.nfiles = gen_opts_nfiles(o)};
    uint64_t *rows = xcalloc(t.nfiles, sizeof *rows), *bytes = xcalloc(t.nfiles, sizeof *bytes);
    t.file_rows = rows;
    t.file_bytes = bytes;

    /* Rank 0 writes the reference tables before its first file; a failure is shared after round one. */
    err = rank == 0 ? gen_write_reference(m, o->out, t.ref_rows) : 0;
    err = write_files(m, o, rank, size, &t, rows, bytes, err);
    if (!err) {
        sum_to_root(rows, (int)t.nfiles, rank);
        sum_to_root(bytes, (int)t.nfiles, rank);
        sum_to_root(t.kinds, GEN_NKIND, rank);
        err = agree(rank == 0 ? gen_write_manifest(o, &t) : 0);
    }
    if (!err && rank == 0 && !o->quiet)
        print_summary(o, &t, MPI_Wtime() - t0);
    free(rows);
    free(bytes);
    free(m);
    return err;
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    gen_opts o;
    int rc = gen_opts_parse(argc, argv, &o, rank == 0);
    if (rc < 0)
        rc = o.dbbench ? gen_dbbench_run(&o, rank, size) : run(&o, rank, size);
    MPI_Finalize();
    return rc;
}
