/* Physical operators: what pipelines (engine/exec/ts_pipeline.h) are made of.
 *
 * A pipeline is one source, zero or more operators and one sink. The driver pulls chunks (ts_chunk.h) from the
 * source and pushes each through the operators into the sink (push-based, vectorized, as DuckDB's and HyPer's
 * pipelines). Blocking operators ("pipeline breakers": exchange, hash-join build, aggregation, sort, window,
 * materialisation, writes) are sinks; the pipeline that reads their result starts with a source over it.
 *   source    open (collective) -> next ... next (local; *out == NULL at the end) -> close (collective)
 *   operator  execute(in) -> out (local); *more = 1 asks to be called again with the same input (a join probe
 *             whose matches overflow one chunk), *out may be NULL (nothing passed this time)
 *   sink      sink(chunk) ... (local) -> finish(status) (collective)
 *   draining operator (optional, a right / full join's probe): once the source is exhausted on every rank,
 *             drain_begin (collective) -> drain ... drain (local; *out == NULL at the end): rows the operator
 *             still owes (the build rows no probe row matched), pushed on through the operators after it.
 *
 * SPMD rules: open, close and finish may be collective, and every rank calls them in the same order; everything
 * per chunk is local and never waits for another rank, so ranks may process different numbers of chunks. (A
 * streaming exchange sends and receives with non-blocking messages in sink() and completes its protocol in
 * finish().) finish() is called even when this rank failed earlier in the pipeline (status != TS_OK), so that
 * protocols other ranks are waiting in complete; it then returns status, and the driver makes the error collective.
 *
 * Ownership: a chunk returned by next() or execute() belongs to its producer and stays valid until the producer is
 * called again; consumers may narrow its selection, and copy what they keep. The operator owns its output chunk
 * (`out`). Operators are created by their modules' constructors and freed with ts_op_free.
 *
 * Profile: every operator carries counters (ts_prof); the driver fills seconds and rows, the operator the bytes it
 * sends and receives and the memory it holds (ts_op_hold). */
#ifndef TS_OP_H
#define TS_OP_H

#include <stddef.h>

#include "ts_chunk.h"
#include "ts_ctx.h"

/* Counters of one operator (or job stage) on one rank. */
typedef struct ts_prof {
    double seconds;         /* time in its own calls (sources and operators: not counting what runs downstream) */
    int64_t rows_in, rows_out;
    int64_t bytes_sent, bytes_recv;
    int64_t mem_peak;       /* bytes of its buffers and states at their largest (jobs' stages: peak RSS) */
    int64_t mem_now;
    int64_t spill_bytes;    /* bytes it wrote to spill files (a memory budget's partitions) */
} ts_prof;

typedef struct ts_op ts_op;

typedef struct ts_op_vt {
    const char *kind;                                                   /* "filter", "hash-aggregate", ... */
    ts_err (*open)(ts_op *op, ts_ctx *ctx);                             /* source, optional */
    ts_err (*next)(ts_op *op, ts_chunk **out);                          /* source */
    ts_err (*close)(ts_op *op, ts_ctx *ctx, ts_err status);             /* source, optional */
    ts_err (*execute)(ts_op *op, ts_chunk *in, ts_chunk **out, int *more); /* operator */
    ts_err (*sink)(ts_op *op, ts_chunk *in);                            /* sink */
    ts_err (*finish)(ts_op *op, ts_ctx *ctx, ts_err status);            /* sink, optional */
    ts_err (*drain_begin)(ts_op *op, ts_ctx *ctx);                      /* draining operator, optional */
    ts_err (*drain)(ts_op *op, ts_chunk **out);                         /* draining operator */
    void (*destroy)(ts_op *op);                                         /* frees the operator's own state */
} ts_op_vt;

struct ts_op {
    const ts_op_vt *vt;
    char label[192];        /* what EXPLAIN and the profile print: "filter: 2 conditions" */
    ts_chunk *out;          /* the output chunk of sources and operators (its schema is what flows out) */
    ts_prof prof;
    int done;               /* set by an operator or sink that wants no more input (LIMIT): the source stops */
    int tag;                /* the front-end's id of the plan node this operator implements (-1: none) */
};

/* Allocates an operator of `size` bytes (a struct whose first member is ts_op) with vtable vt; *out is zeroed
 * but for vt, tag = -1 and label. */
ts_err ts_op_alloc(size_t size, const ts_op_vt *vt, const char *label, ts_op **out);
/* Calls destroy, frees the output chunk and the operator. NULL is fine. */
void ts_op_free(ts_op *op);
/* Records that the operator now holds `bytes` (replacing the previous figure), for mem_now / mem_peak. */
static inline void ts_op_hold(ts_op *op, int64_t bytes)
{
    op->prof.mem_now = bytes;
    if (bytes > op->prof.mem_peak)
        op->prof.mem_peak = bytes;
}

#endif
