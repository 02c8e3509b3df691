/* Status codes and error propagation (PETSc style).
 *
 * Every function that can fail returns ts_err (0 = success). The first failure records a message with
 * ts_error_raise(); each caller on the way up appends its location with TS_TRY, so the final message reads
 * like a short traceback. The message buffer is per process (each MPI rank has its own); Tessera runs one
 * thread per rank, so no locking is needed. ts_ctx_check() (ts_ctx.h) turns a local error into a collective one. */
#ifndef TS_ERROR_H
#define TS_ERROR_H

#include <stdarg.h>
#include <stddef.h>

typedef int ts_err;

/* Codes double as the process exit status of the CLI. */
enum {
    TS_OK = 0,
    TS_ERR_INTERNAL = 1, /* a bug: an invariant did not hold */
    TS_ERR_USAGE = 2,    /* bad command line or API misuse */
    TS_ERR_IO = 3,       /* a file could not be read or written */
    TS_ERR_DATA = 4,     /* input that cannot be processed at all (bad header, overflow) */
    TS_ERR_NOMEM = 5,    /* allocation failed */
    TS_ERR_MPI = 6,      /* an MPI call failed or another rank failed */
    TS_ERR_CANCELLED = 7 /* the user cancelled the statement (Ctrl-C in the SQL shell: ts_ctx.h) */
};

/* Records "msg" as the current error (replacing any earlier one) and returns code. */
ts_err ts_error_raise(ts_err code, const char *file, int line, const char *func, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* Appends a traceback frame "  at func (file:line)" to the current error. */
void ts_error_trace(const char *file, int line, const char *func);
/* The current error message ("" when none). Owned by the error module; valid until the next raise. */
const char *ts_error_message(void);
/* The first line of the message, without traceback: what users see without --debug. */
const char *ts_error_headline(void);
/* Replaces the whole message (used to adopt another rank's message). */
void ts_error_set_message(const char *msg);
void ts_error_clear(void);
/* Set once ts_ctx_check has made the current error collective (every rank holds the same headline), so later
 * checks pass it on unchanged instead of prefixing the rank again. Cleared by ts_error_raise. */
void ts_error_mark_shared(void);
int ts_error_is_shared(void);
/* The length of msg's leading "rank N: " (the tag ts_ctx_check gives a message), or 0. */
size_t ts_error_rank_tag(const char *msg);
/* Short name of a code: "I/O error", "bad input data", ... */
const char *ts_error_code_name(ts_err code);

#define TS_FAIL(code, ...) return ts_error_raise((code), __FILE__, __LINE__, __func__, __VA_ARGS__)

/* Propagates a failure of expr to the caller, adding this frame to the traceback. */
#define TS_TRY(expr)                                                                                          \
    do {                                                                                                      \
        const ts_err ts_try_e_ = (expr);                                                                      \
        if (ts_try_e_ != TS_OK) {                                                                             \
            ts_error_trace(__FILE__, __LINE__, __func__);                                                     \
            return ts_try_e_;                                                                                 \
        }                                                                                                     \
    } while (0)

/* Same, but jumps to a cleanup label with err set instead of returning. */
#define TS_TRY_GOTO(err, expr, label)                                                                         \
    do {                                                                                                      \
        (err) = (expr);                                                                                       \
        if ((err) != TS_OK) {                                                                                 \
            ts_error_trace(__FILE__, __LINE__, __func__);                                                     \
            goto label;                                                                                       \
        }                                                                                                     \
    } while (0)

#endif
