#include "ts_fault.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

enum kind { K_NONE, K_ERROR, K_OOM, K_CRASH, K_KILL, K_HANG, K_TRUNCATE };

static struct {
    char spec[160];   /* the variable's value, for messages */
    int any_rank;     /* RANK was '*' */
    int rank;         /* otherwise this rank number */
    char point[64];
    enum kind kind;
    long nth, seen;   /* fire at the nth arrival; arrivals so far */
    int armed;        /* some rank has a fault (agreed by ts_fault_init) */
    int mine;         /* the fault targets this rank */
    int capped;       /* an oom cap is in place */
    int my_rank;
    struct rlimit saved;
} g;

static const char *const KINDS[] = {"", "error", "oom", "crash", "kill", "hang", "truncate"};

/* Splits "RANK:POINT:KIND[:N]"; the point name may not contain ':' (stage names do not). */
static ts_err parse(const char *v)
{
    char buf[sizeof g.spec], *field[4] = {0};
    snprintf(buf, sizeof buf, "%s", v);
    int n = 0;
    for (char *save = NULL, *t = strtok_r(buf, ":", &save); t && n < 4; t = strtok_r(NULL, ":", &save))
        field[n++] = t;
    if (n < 3 || strlen(v) >= sizeof g.spec)
        TS_FAIL(TS_ERR_USAGE, "TESSERA_FAULT='%s': expected RANK:POINT:KIND[:N], e.g. 1:sort:crash", v);
    char *end;
    g.any_rank = strcmp(field[0], "*") == 0;
    g.rank = g.any_rank ? -1 : (int)strtol(field[0], &end, 10);
    if (!g.any_rank && (*end || g.rank < 0))
        TS_FAIL(TS_ERR_USAGE, "TESSERA_FAULT='%s': RANK must be a rank number or *, not '%s'", v, field[0]);
    snprintf(g.point, sizeof g.point, "%s", field[1]);
    for (int k = K_ERROR; k <= K_TRUNCATE; k++)
        if (strcmp(field[2], KINDS[k]) == 0)
            g.kind = (enum kind)k;
    if (g.kind == K_NONE)
        TS_FAIL(TS_ERR_USAGE, "TESSERA_FAULT='%s': KIND must be error, oom, crash, kill, hang or truncate, not '%s'", v,
                field[2]);
    g.nth = field[3] ? strtol(field[3], &end, 10) : 1;
    if (field[3] && (*end || g.nth < 1))
        TS_FAIL(TS_ERR_USAGE, "TESSERA_FAULT='%s': N must be a positive count, not '%s'", v, field[3]);
    snprintf(g.spec, sizeof g.spec, "%s", v);
    return TS_OK;
}

ts_err ts_fault_init(ts_ctx *ctx)
{
    memset(&g, 0, sizeof g);
    const char *v = getenv("TESSERA_FAULT");
    ts_err err = v && *v ? parse(v) : TS_OK;
    g.my_rank = ctx->rank;
    if (!err && v && *v)
        g.mine = g.any_rank || g.rank == ctx->rank;
    int armed = !err && v && *v;
    TS_MPI(MPI_Allreduce(MPI_IN_PLACE, &armed, 1, MPI_INT, MPI_MAX, ctx->comm));
    g.armed = armed;
    TS_TRY(ts_ctx_check(ctx, err));
    if (g.mine && ctx->rank == g.rank)
        fprintf(stderr, "tessera: rank %d: fault injection armed: %s\n", ctx->rank, g.spec);
    else if (g.any_rank && ctx->rank == 0)
        fprintf(stderr, "tessera: fault injection armed on every rank: %s\n", g.spec);
    return TS_OK;
}

int ts_fault_armed(void) { return g.armed; }

/* Caps the address space a little above what is mapped now: the stage's next sizeable allocations fail the way
 * they would on a node that is out of memory, but without the kernel's OOM killer getting involved. */
static ts_err cap_memory(const char *point)
{
    long pages = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f || fscanf(f, "%ld", &pages) != 1) {
        if (f)
            fclose(f);
        TS_FAIL(TS_ERR_INTERNAL, "TESSERA_FAULT=%s: cannot read /proc/self/statm", g.spec);
    }
    fclose(f);
    const rlim_t size = (rlim_t)pages * (rlim_t)sysconf(_SC_PAGESIZE), margin = (rlim_t)4 << 20;
    if (getrlimit(RLIMIT_AS, &g.saved) != 0)
        TS_FAIL(TS_ERR_INTERNAL, "TESSERA_FAULT=%s: getrlimit failed", g.spec);
    struct rlimit cap = {size + margin, g.saved.rlim_max};
    if (setrlimit(RLIMIT_AS, &cap) != 0)
        TS_FAIL(TS_ERR_INTERNAL, "TESSERA_FAULT=%s: setrlimit failed", g.spec);
    g.capped = 1;
    fprintf(stderr, "tessera: rank %d: address space capped at %lld MiB until %s ends\n", g.my_rank,
            (long long)((size + margin) >> 20), point);
    return TS_OK;
}

static ts_err fire(const char *point, const char *path);

ts_err ts_fault_point(const char *point) { return ts_fault_point_file(point, NULL); }

ts_err ts_fault_point_file(const char *point, const char *path)
{
    if (!g.mine || strcmp(point, g.point) != 0 || ++g.seen != g.nth)
        return TS_OK;
    return fire(point, path);
}

static ts_err fire(const char *point, const char *path)
{
    /* the wall-clock time lets tests measure how long the job takes to end after the fault */
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    fprintf(stderr, "tessera: rank %d: injecting %s at %s (TESSERA_FAULT=%s) at %lld.%03ld\n", g.my_rank,
            KINDS[g.kind], point, g.spec, (long long)now.tv_sec, now.tv_nsec / 1000000);
    switch (g.kind) {
    case K_ERROR:
        TS_FAIL(TS_ERR_DATA, "injected error at %s (TESSERA_FAULT=%s)", point, g.spec);
    case K_OOM: return cap_memory(point);
    case K_CRASH: raise(SIGSEGV); break;
    case K_KILL: raise(SIGKILL); break;
    case K_HANG:
        for (;;)
            pause();
    case K_TRUNCATE: {
        struct stat st;
        if (!path)
            TS_FAIL(TS_ERR_USAGE, "TESSERA_FAULT=%s: %s reads no file to truncate", g.spec, point);
        if (stat(path, &st) != 0 || truncate(path, st.st_size / 2) != 0)
            TS_FAIL(TS_ERR_INTERNAL, "TESSERA_FAULT=%s: cannot truncate %s", g.spec, path);
        return TS_OK;
    }
    case K_NONE: break;
    }
    TS_FAIL(TS_ERR_INTERNAL, "injected %s at %s did not stop the process", KINDS[g.kind], point);
}

void ts_fault_stage_end(void)
{
    if (g.capped && setrlimit(RLIMIT_AS, &g.saved) == 0)
        g.capped = 0;
}
