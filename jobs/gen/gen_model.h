/* The simulated world behind the sample data: countries, category lists and weights, the calendar of
 * 2021-01 … 2025-12, FX rates, and the arithmetic layout of customers and accounts (so no table is needed
 * in memory to pick a customer of a country or an account of a customer). */
#ifndef GEN_MODEL_H
#define GEN_MODEL_H
#include <stdint.h>

#define GEN_NCOUNTRY 10
#define GEN_NMONTH 60
#define GEN_FIRST_YEAR 2021
#define GEN_NYEAR 5
#define GEN_NDAY 1826 /* 2021-01-01 … 2025-12-31 */
#define GEN_NTYPE 6
#define GEN_NSECTOR 10
#define GEN_NSTATUS 4
#define GEN_NCHANNEL 5

typedef struct gen_country {
    const char *code, *name, *currency, *region, *income_group;
    unsigned weight;                    /* share of transactions and customers, in percent */
    double fx_start, fx_end, fx_wiggle; /* local units per USD in 2021-01 and 2025-12; relative wiggle */
    double pop_m, pop_growth, urban_pct, median_age;
    double gdp_bn, gdp_growth;                          /* 2021 GDP in USD bn; real growth a year */
    double infl_base, infl_peak, infl_peak_m, infl_w;   /* inflation = base + peak·gauss(month) */
    double real_rate, unemp_start, unemp_end;
} gen_country;

extern const gen_country gen_countries[GEN_NCOUNTRY];
extern const char *const gen_txn_types[GEN_NTYPE];
extern const char *const gen_sectors[GEN_NSECTOR];
extern const char *const gen_statuses[GEN_NSTATUS];
extern const char *const gen_channels[GEN_NCHANNEL];
/* Log-normal USD amounts by txn_type: sigma of ln(amount). */
extern const double gen_type_sigma[GEN_NTYPE];

/* Cumulative thresholds in [0, 2^32]: pick i with u32 < cdf[i]. */
typedef struct gen_cdf {
    int n;
    uint64_t t[GEN_NMONTH];
} gen_cdf;

typedef struct gen_model {
    uint64_t seed, txn_key;
    uint64_t n_customers;                  /* customers of the initial snapshot (0) */
    uint64_t snapshot;                     /* --snapshot K (gen_main sets it after gen_model_init) */
    uint64_t cust_start[GEN_NCOUNTRY + 1]; /* customers of country k: [cust_start[k], cust_start[k+1]) */
    gen_cdf country, month, type, sector, status, channel;
    int month_first[GEN_NMONTH]; /* day offset from 2021-01-01 */
    int month_days[GEN_NMONTH];
    double fx[GEN_NCOUNTRY][GEN_NMONTH];
    double type_mu[GEN_NTYPE]; /* ln(median USD amount) by txn_type */
    char date_text[GEN_NDAY][10]; /* canonical YYYY-MM-DD of each day offset */
    int32_t epoch_day0;           /* days since 1970-01-01 of 2021-01-01 */
} gen_model;

void gen_model_init(gen_model *m, uint64_t seed, uint64_t n_rows);

static inline int gen_cdf_pick(const gen_cdf *c, uint64_t h)
{
    const uint64_t u = h >> 32;
    int lo = 0, hi = c->n - 1;
    while (lo < hi) { /* first i with u < t[i]; t[n-1] = 2^32 so it always exists */
        const int mid = (lo + hi) / 2;
        if (u < c->t[mid])
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

/* FX rate: local currency per USD, month index 0 = 2021-01. */
double gen_fx_rate(int country, int month);

/* Days since 1970-01-01 of snapshot k's date: 2026-01-01 plus k months. */
int32_t gen_snapshot_date(uint64_t k);

/* Country of customer id (1-based). */
int gen_customer_country(const gen_model *m, uint64_t customer);

/* Accounts repeat a fixed pattern of 1..3 per customer over blocks of 8 customers, which keeps account ids
 * dense and computable: first account id of a customer and how many it has. */
uint64_t gen_first_account(uint64_t customer, int *count);
uint64_t gen_total_accounts(uint64_t n_customers);

#endif
