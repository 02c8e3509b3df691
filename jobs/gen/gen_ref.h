/* Reference tables (clean; written by rank 0). */
#ifndef GEN_REF_H
#define GEN_REF_H
#include <stdint.h>

#include "gen_model.h"

enum gen_ref_table { R_COUNTRIES, R_FX, R_INDICATORS, R_DEMOGRAPHICS, R_CUSTOMERS, R_ACCOUNTS, GEN_NREF };
extern const char *const gen_ref_names[GEN_NREF];

/* Writes every table into dir; rows[t] gets each table's data rows. Returns 0, or 3 after printing the
 * failing file and errno text. */
int gen_write_reference(const gen_model *m, const char *dir, uint64_t rows[GEN_NREF]);

#endif
