/* A bound on what a POSIX extended regular expression costs to compile, checked before regcomp.
 *
 * glibc's regcomp expands every counted repetition r{m,n} into n copies of r (m of them mandatory, n - m
 * optional) and builds an automaton over the expanded pattern whose memory grows with the square of its size in
 * the worst case: (x{1,255}){1,255}{1,255} asks for about 12 GB, x{1,32767} runs for minutes. Like RE2 (which
 * refuses repetition counts above 1000 and programs above its memory budget), Tessera refuses such patterns up
 * front with a message instead of letting the process be killed.
 *
 * The size counts one per literal, bracket expression, '.', anchor and back-reference, one per group and per
 * '|', '*', '+', '?', and multiplies by the repetition counts: size(r{m,n}) = n * size(r) + (n - m),
 * size(r{m,}) = (m + 1) * size(r) + 1. With the limits below glibc stays under ~30 MB and ~1 s per pattern
 * (measured: x{1,1000} 8 MB; ((x*)*){1,500} 24 MB, 1 s). Pure function, no allocation. */
#ifndef TS_REGEX_H
#define TS_REGEX_H

#include <regex.h>
#include <stddef.h>

#define TS_REGEX_MAX_SIZE 2000  /* expanded size of a whole pattern */
#define TS_REGEX_MAX_REPEAT 1000 /* largest count in {m,n} */

/* 0 when the ERE `pattern` is within the limits; otherwise -1 and a reason in why ("the repetition {1,5000}
 * exceeds 1000", "its repetitions expand to more than 2000 elements"). A pattern that is not valid ERE passes
 * (regcomp reports it). */
int ts_regex_check_size(const char *pattern, char *why, size_t cap);

/* regexec of the bytes s[0..n), which need not be NUL-terminated and may hold NUL bytes (ordinary characters):
 * REG_STARTEND bounds the text, so values of any length are matched in place, without a copy. 1 on a match, 0
 * otherwise (-1: out of memory, in sanitizer builds only). In builds with AddressSanitizer the value is copied
 * and terminated first: its regexec interceptor reads the text up to a NUL whatever REG_STARTEND says. */
int ts_regex_match(const regex_t *re, const char *s, size_t n);

#endif
