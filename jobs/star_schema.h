/* star-schema job (docs/jobs/star-schema.md): internal interface between jobs/star_schema.c (the plan: scan,
 * fact, quality, write) and jobs/star_dims.c (the dimensions: stable surrogate keys from key maps, unknown
 * members, dates, the customer versions of an scd2 dimension and the as-of lookup into them). */
#ifndef STAR_SCHEMA_H
#define STAR_SCHEMA_H

#include "bank_common.h"
#include "ts_jobs.h"
#include "ts_scan.h"

#define STAR_MAX_REASONS TS_RULES_MAX_REASONS

/* quality_flags bits of a fact row: what is wrong with it (it is in the fact table all the same) */
enum {
    STAR_ORPHAN_CUSTOMER = 1,  /* customer_id not in customers.csv: customer_key = -1 */
    STAR_ORPHAN_ACCOUNT = 2,   /* account_id not in accounts.csv: account_key = -1 */
    STAR_ACCOUNT_MISMATCH = 4, /* the account belongs to another customer (accounts.csv's customer_id differs) */
    STAR_MISSING_FX = 8,       /* no FX rate for (country, month): amount_usd is NULL */
    STAR_NO_VERSION = 16,      /* --scd2 given, but no version of the customer is valid on txn_date: customer_sk = -1 */
    STAR_NFLAGS = 5
};
extern const char *const STAR_FLAG_NAMES[STAR_NFLAGS];

/* The unknown member's key in every dimension. */
#define STAR_UNKNOWN (-1)

typedef struct star_state {
    const ts_job_args *args;
    ts_rules *rules;
    ts_dict *countries_dict; /* accepted country codes (the scan's country_code dictionary) */
    ts_dict *reasons;        /* the rules' reasons */
    int nreasons;
    ts_table *fx;            /* country (DICT), month, usd_rate; on every rank */
    ts_column *currency;     /* STRING: row c = currency of country code c (countries.csv); on every rank */
    ts_table *country_ref;   /* countries.csv (country_code, name, currency, region, income_group) on rank 0 */
    /* dimensions, each sorted by its key, the unknown member first (on rank 0) */
    ts_table *customers, *accounts, *countries, *dates, *versions;
    /* key maps: every (natural key, surrogate key) ever assigned, sorted by key */
    ts_table *customer_map, *account_map, *country_map;
    int64_t new_keys[3];     /* keys assigned by this build: customers, accounts, countries */
    /* lookups of the fact's keys (the dimensions without their unknown member) */
    ts_table *cust_lookup;   /* customer_id, customer_key */
    ts_table *acct_lookup;   /* account_id, account_key, acct_customer_id (the owner) */
    ts_table *country_lookup; /* country_code, country_key */
    ts_table *version_lookup; /* customer_id, customer_sk, valid_from, valid_to, __first of --scd2 (or empty) */
    ts_scan scan;
    ts_table *rows;          /* the fact rows between stages */
    ts_table *late;          /* __pos, reason: duplicates (rejected after the scan), on their reader */
    ts_table *rejects, *summary;
    int64_t counts[3 + STAR_MAX_REASONS + STAR_NFLAGS]; /* rows_read, rows_clean, rows_rejected, per reason, per flag */
} star_state;

/* Builds every dimension and key map (collective): customers, accounts, countries with stable keys (from the
 * key maps of --in when given), the customer versions of --scd2 (or only the unknown member). */
ts_err star_build_dimensions(ts_ctx *ctx, star_state *s);

/* dim_dates: the unknown member, then every day from the earliest to the latest txn_date of s->rows. */
ts_err star_build_dates(ts_ctx *ctx, star_state *s);

/* Adds customer_sk to *rows (customer_id, txn_date): the key of the version valid on txn_date (the earliest
 * version also covers the days before it), -1 when none; sets STAR_NO_VERSION in quality_flags then. Rows may
 * change rank (co-partitioned with the versions when those are too large to broadcast). Collective. */
ts_err star_version_keys(ts_ctx *ctx, star_state *s, ts_table **rows);

/* A destination array for exchanging n rows (zeros: all to rank 0). Collective: a failed allocation stops every
 * rank before the exchange instead of leaving the others waiting in it. free() it. */
ts_err star_alloc_dest(ts_ctx *ctx, int64_t n, int32_t **dest);

/* Moves column `name` of `from` to the end of `to`. */
ts_err star_move_column(ts_table *from, ts_table *to, const char *name);

/* Replaces *t by its columns `names` in that order (the others are dropped), named `name`. */
ts_err star_select_columns(ts_table **t, const char *name, const char *const *names, int n);

#endif
