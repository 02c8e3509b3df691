/* Rules files built into the binary (the .rules files of jobs/rules, embedded by CMakeLists.txt as NUL-terminated
 * text). */
#ifndef TS_BUILTIN_RULES_H
#define TS_BUILTIN_RULES_H

extern const char ts_rules_bank_transactions[];
extern const char ts_rules_bench_x[];
extern const char ts_rules_bench_y[];

#endif
