/* Tessera's regular expressions: POSIX extended syntax as glibc's regcomp(REG_EXTENDED) reads it, matched by
 * Tessera's own engine with RE2-like guarantees (no backtracking, no exponential case).
 *
 * Why not glibc's regcomp/regexec: its compiler expands counted repetitions and stacked '+' into trees whose size
 * and automaton cost are exponential or cubic in the pattern (measured: ^(((x*)*){1,30})$ runs for more than 20 s,
 * ^((x?){1,600})$ takes 30 s and 580 MB, x+++...+ doubles its tree with every '+' until memory runs out), and no
 * pre-check modelled it all (the fuzzer kept finding new shapes). Here the pattern is parsed into a tree whose
 * expanded size (instructions) is known before anything is emitted; compiling costs time and memory linear in
 * that size, which is bounded by TS_REGEX_MAX_PROG; matching is a Thompson NFA simulation (the Pike VM without
 * captures) over sparse thread lists: O(len(text) * program size) time, no allocation per call.
 *
 * Syntax (byte-wise, C locale): literals; '.' (any byte but NUL); bracket expressions with ranges, negation, ']'
 * first, '-' first or last, the 12 classes [:alpha:] [:digit:] [:alnum:] [:upper:] [:lower:] [:space:]
 * [:blank:] [:punct:] [:print:] [:graph:] [:cntrl:] [:xdigit:], and one-character [=x=] [.x.]; anchors ^ and $
 * anywhere; groups; alternation with empty alternatives; * + ? {m} {m,} {m,n} {,n} (= {0,n}), stacked
 * quantifiers; GNU escapes \w \W \s \S \b \B \< \> \` \'; any other escaped byte is itself; a ')' without its '('
 * is a literal. Back-references \1..\9 are refused (they are not regular; RE2 refuses them too). A NUL byte in
 * the pattern is an ordinary character. */
#ifndef TS_REGEX_H
#define TS_REGEX_H

#include <stddef.h>

#define TS_REGEX_MAX_REPEAT 1000    /* largest count in {m,n} (RE2's limit too) */
#define TS_REGEX_MAX_PROG 20000     /* instructions of a compiled pattern (x{1,1000} needs 2000) */
#define TS_REGEX_MAX_DEPTH 255      /* nesting of groups */
#define TS_REGEX_MAX_PATTERN 65536  /* bytes of a pattern */

enum {
    TS_REGEX_SEARCH = 0, /* a match anywhere in the text (regexec's meaning) */
    TS_REGEX_WHOLE = 1   /* the whole text must match (as "^(PAT)$" would) */
};

typedef struct ts_regex ts_regex;

/* Compiles pat[0..len) (need not be NUL-terminated). 0 and a new *out (ts_regex_free), or -1 with the reason in
 * why[0..cap) (like regerror's: "unmatched '('", "the repetition {1,5000} exceeds 1000", "out of memory", ...).
 * Memory and time are linear in the pattern and the program (at most TS_REGEX_MAX_PROG instructions). */
int ts_regex_compile(const char *pat, size_t len, int mode, ts_regex **out, char *why, size_t cap);

/* 1 when the bytes s[0..n) match (in re's mode), 0 otherwise. The text need not be NUL-terminated and may hold
 * NUL bytes. Never allocates: re owns its scratch, so one object must not be used by two threads at once
 * (compile one per thread; Tessera has no threads today). Time O(n * program size). */
int ts_regex_match(ts_regex *re, const char *s, size_t n);

/* Instructions of the compiled program (for tests and messages). */
size_t ts_regex_program_size(const ts_regex *re);

void ts_regex_free(ts_regex *re);

#endif
