/* One transaction line: clean generation of any row from its number, and the injected faults. */
#ifndef GEN_ROWS_H
#define GEN_ROWS_H
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "gen_model.h"

enum gen_field {
    F_TXN_ID, F_DATE, F_COUNTRY, F_CUSTOMER, F_ACCOUNT, F_TYPE, F_SECTOR, F_AMOUNT, F_CURRENCY, F_STATUS,
    F_CHANNEL, GEN_NFIELD
};
#define GEN_MAX_FIELD (GEN_NFIELD + 1) /* an "extra field" fault adds one */
#define GEN_MAX_LINE 2048              /* upper bound of one emitted line, faults included */
#define GEN_DUP_WINDOW 16              /* how far back a duplicate looks for a clean source row */

/* What a row carries. At most one fault a row; the rejects are in domain.md's check order. */
enum gen_kind {
    K_NONE,
    /* valid but non-canonical: a reader must normalise and keep these */
    K_DATE_DMY, K_DATE_YMD_SLASH, K_DATE_COMPACT, K_CASE, K_PAD, K_QUOTED, K_CRLF,
    /* invalid: a reader must reject these with the reason of the same name */
    K_MALFORMED, K_BAD_DATE, K_UNKNOWN_COUNTRY, K_BAD_CATEGORY, K_MISSING_AMOUNT, K_BAD_AMOUNT, K_DUPLICATE,
    GEN_NKIND
};

typedef struct gen_line {
    const char *f[GEN_MAX_FIELD];
    int n[GEN_MAX_FIELD];
    int nf, crlf;
    /* the row's values, reused by the fault injectors */
    int day; /* offset from 2021-01-01 */
    int country, type, sector, status, channel;
    char id_txt[3][24]; /* txn_id, customer_id, account_id */
    char amount_txt[24];
    char scratch[2][160];
} gen_line;

extern const char *const gen_header;

/* The kind row `row` is meant to carry (a pure function of seed, rate and row). */
int gen_fault_kind(const gen_model *m, double rate, uint64_t row);

/* The canonical, clean content of row `row`. */
void gen_clean_row(const gen_model *m, uint64_t row, gen_line *l);

/* Row `row` of the file starting at global row `file_first`, faults included; returns the kind actually
 * emitted (a duplicate without a clean source in reach degrades to K_NONE). */
int gen_make_row(const gen_model *m, double rate, uint64_t row, uint64_t file_first, gen_line *l);

/* Turns the clean line of `row` into one carrying fault `kind` (not K_NONE / K_DUPLICATE); gen_faults.c. */
void gen_inject_fault(const gen_model *m, uint64_t row, int kind, gen_line *l);

/* Writes the line with its terminator at dst (at most GEN_MAX_LINE bytes); returns its length. */
static inline size_t gen_line_emit(const gen_line *l, char *dst)
{
    char *p = dst;
    for (int i = 0; i < l->nf; i++) {
        if (i)
            *p++ = ',';
        memcpy(p, l->f[i], (size_t)l->n[i]);
        p += l->n[i];
    }
    if (l->crlf)
        *p++ = '\r';
    *p++ = '\n';
    return (size_t)(p - dst);
}

#endif
