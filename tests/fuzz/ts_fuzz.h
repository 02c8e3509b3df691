/* Shared by the fuzz targets (tests/fuzz/fuzz_*.c) and their replay driver (tests/unit/test_fuzz_regressions.c).
 *
 * A target defines its entry points with TS_FUZZ_ENTRY(name) / TS_FUZZ_INIT(name). Built as a libFuzzer target
 * they are LLVMFuzzerTestOneInput / LLVMFuzzerInitialize; with TS_FUZZ_REPLAY defined (the gcc unit test that
 * compiles every target into one program) they become ts_fuzz_one_<name> / ts_fuzz_init_<name>, so several
 * targets can live in one executable. Static helpers of a target carry the target's prefix for the same reason.
 *
 * TS_FUZZ_ASSERT(cond) is an invariant check: on violation it prints the condition and traps, which libFuzzer
 * reports as a crash (with the input saved) and which fails the replay test. */
#ifndef TS_FUZZ_H
#define TS_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef TS_FUZZ_REPLAY
#define TS_FUZZ_ENTRY(name) int ts_fuzz_one_##name(const uint8_t *data, size_t size)
#define TS_FUZZ_INIT(name) int ts_fuzz_init_##name(int *argc, char ***argv)
#else
#define TS_FUZZ_ENTRY(name) int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
#define TS_FUZZ_INIT(name) int LLVMFuzzerInitialize(int *argc, char ***argv)
#endif

#define TS_FUZZ_ASSERT(cond)                                                                                  \
    do {                                                                                                      \
        if (!(cond)) {                                                                                        \
            fprintf(stderr, "%s:%d: fuzz invariant violated: %s\n", __FILE__, __LINE__, #cond);               \
            fflush(stderr);                                                                                   \
            __builtin_trap();                                                                                 \
        }                                                                                                     \
    } while (0)

/* A NUL-terminated copy of data[0..size) (the parsers under test read views, but the references use libc). */
static inline char *ts_fuzz_cstr(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s)
        abort();
    if (size)
        memcpy(s, data, size);
    s[size] = '\0';
    return s;
}

#endif
