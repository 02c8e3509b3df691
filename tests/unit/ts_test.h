/* Minimal test harness shared by Tessera's unit and MPI tests.
 *
 *   CHECK(cond, fmt, ...)  counts a pass or a failure; a failure prints file:line and the message.
 *   ts_test_rng            deterministic xorshift64* generator (same sequence on every machine and rank).
 *   TS_TEST_DONE(name)     prints "name: N passed, M failed" and evaluates to the process exit status.
 *
 * Header-only: each test program includes it once (static state per program). */
#ifndef TS_TEST_H
#define TS_TEST_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

static long ts_test_passed, ts_test_failed;

/* Failures beyond this many are counted but not printed (a broken kernel in a randomized loop would flood). */
#define TS_TEST_MAX_PRINTED 50

#define CHECK(cond, ...)                                                                                      \
    do {                                                                                                      \
        if (cond) {                                                                                           \
            ts_test_passed++;                                                                                 \
        } else {                                                                                              \
            if (ts_test_failed++ < TS_TEST_MAX_PRINTED) {                                                     \
                fprintf(stderr, "%s:%d: CHECK(%s) failed: ", __FILE__, __LINE__, #cond);                      \
                fprintf(stderr, __VA_ARGS__);                                                                 \
                fputc('\n', stderr);                                                                          \
            }                                                                                                 \
        }                                                                                                     \
    } while (0)

/* Checks that a ts_err-returning call succeeded; evaluates to 1 on success so callers can skip dependent work. */
#define CHECK_OK(expr)                                                                                        \
    ts_test_ok_((expr), #expr, __FILE__, __LINE__)

static inline int ts_test_ok_(int err, const char *what, const char *file, int line)
{
    if (err == 0) {
        ts_test_passed++;
        return 1;
    }
    if (ts_test_failed++ < TS_TEST_MAX_PRINTED)
        fprintf(stderr, "%s:%d: %s returned %d\n", file, line, what, err);
    return 0;
}

/* xorshift64* (Vigna): deterministic, never returns the same sequence for different nonzero seeds. */
typedef struct ts_test_rng {
    uint64_t s;
} ts_test_rng;

static inline ts_test_rng ts_rng_seed(uint64_t seed)
{
    ts_test_rng r = {seed ? seed : UINT64_C(0x9e3779b97f4a7c15)};
    return r;
}

static inline uint64_t ts_rng_next(ts_test_rng *r)
{
    r->s ^= r->s >> 12;
    r->s ^= r->s << 25;
    r->s ^= r->s >> 27;
    return r->s * UINT64_C(0x2545f4914f6cdd1d);
}

/* Uniform-ish integer in [0, n) (n > 0; the modulo bias is irrelevant for tests). */
static inline uint64_t ts_rng_below(ts_test_rng *r, uint64_t n) { return ts_rng_next(r) % n; }

/* Integer in [lo, hi]. */
static inline int64_t ts_rng_range(ts_test_rng *r, int64_t lo, int64_t hi)
{
    return lo + (int64_t)ts_rng_below(r, (uint64_t)(hi - lo) + 1);
}

#define TS_TEST_DONE(name)                                                                                    \
    (printf("%s: %ld passed, %ld failed\n", (name), ts_test_passed, ts_test_failed), fflush(stdout),          \
     ts_test_failed ? 1 : 0)

#endif
