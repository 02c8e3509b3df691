#include "gen_model.h"

#include <math.h>
#include <string.h>

#include "gen_rng.h"
#include "ts_date.h"

/* Levels are rounded 2021–2025 figures: FX from central banks, macro series in the IMF WEO's ranges. */
const gen_country gen_countries[GEN_NCOUNTRY] = {
    {"ARG", "Argentina", "ARS", "South America", "Upper middle income", 11, 86.5, 1450.0, 0.015,
     45.8, 0.0060, 92.1, 32.0, 487.0, 0.015, 32.0, 200.0, 36.0, 10.0, 3.0, 10.0, 7.2},
    {"BOL", "Bolivia", "BOB", "South America", "Lower middle income", 4, 6.96, 6.96, 0.0,
     12.1, 0.0130, 70.5, 25.0, 40.4, 0.025, 1.5, 4.0, 54.0, 10.0, 1.0, 5.8, 4.6},
    {"BRA", "Brazil", "BRL", "South America", "Upper middle income", 24, 5.36, 5.55, 0.05,
     214.3, 0.0055, 87.3, 33.5, 1650.0, 0.022, 4.0, 7.0, 16.0, 9.0, 5.5, 14.5, 6.4},
    {"CHL", "Chile", "CLP", "South America", "High income", 8, 725.0, 950.0, 0.04,
     19.5, 0.0070, 87.8, 35.5, 317.0, 0.018, 3.5, 9.0, 20.0, 9.0, 1.5, 10.2, 8.6},
    {"COL", "Colombia", "COP", "South America", "Upper middle income", 12, 3480.0, 4150.0, 0.06,
     51.5, 0.0090, 81.7, 31.0, 318.0, 0.025, 3.5, 9.5, 26.0, 10.0, 2.0, 15.5, 9.3},
    {"CRI", "Costa Rica", "CRC", "Central America", "Upper middle income", 4, 617.0, 505.0, 0.02,
     5.15, 0.0075, 81.4, 33.5, 64.3, 0.035, 1.0, 8.0, 19.0, 8.0, 2.0, 17.8, 7.2},
    {"ECU", "Ecuador", "USD", "South America", "Upper middle income", 6, 1.0, 1.0, 0.0,
     17.8, 0.0110, 64.4, 28.0, 106.2, 0.020, 1.5, 3.0, 20.0, 8.0, 4.5, 5.3, 3.9},
    {"MEX", "Mexico", "MXN", "North America", "Upper middle income", 20, 20.0, 18.6, 0.05,
     126.7, 0.0070, 81.0, 29.5, 1273.0, 0.020, 4.0, 4.5, 20.0, 10.0, 4.0, 4.6, 2.7},
    {"PER", "Peru", "PEN", "South America", "Upper middle income", 8, 3.62, 3.45, 0.03,
     33.7, 0.0100, 78.5, 30.0, 225.0, 0.025, 2.2, 6.5, 20.0, 9.0, 2.5, 10.0, 6.3},
    {"URY", "Uruguay", "UYU", "South America", "High income", 3, 44.0, 40.5, 0.04,
     3.43, 0.0010, 95.6, 35.5, 61.4, 0.020, 5.5, 4.5, 18.0, 10.0, 2.5, 9.5, 7.1},
};

const char *const gen_txn_types[GEN_NTYPE] = {"loan", "disbursement", "repayment", "transfer", "fee", "grant"};
const char *const gen_sectors[GEN_NSECTOR] = {"agriculture", "education", "energy", "health", "housing",
                                              "infrastructure", "sme", "technology", "transport", "water"};
const char *const gen_statuses[GEN_NSTATUS] = {"success", "failed", "pending", "reversed"};
const char *const gen_channels[GEN_NCHANNEL] = {"agent", "atm", "branch", "mobile", "online"};

static const double type_weight[GEN_NTYPE] = {8, 12, 25, 35, 15, 5};
static const double sector_weight[GEN_NSECTOR] = {14, 8, 9, 9, 13, 10, 18, 7, 7, 5};
static const double status_weight[GEN_NSTATUS] = {950, 30, 15, 5};
static const double channel_weight[GEN_NCHANNEL] = {12, 10, 18, 35, 25};
/* USD medians: fees small, transfers and repayments medium, loans / disbursements / grants large. */
static const double type_median_usd[GEN_NTYPE] = {25000, 12000, 900, 250, 6, 15000};
const double gen_type_sigma[GEN_NTYPE] = {1.0, 1.0, 0.8, 1.2, 0.7, 1.1};

/* Activity by calendar month (December peak, slow January/February) and a 12 % yearly growth trend. */
static const double season[12] = {0.80, 0.86, 0.97, 0.98, 1.00, 0.99, 1.00, 1.02, 1.00, 1.04, 1.10, 1.30};
static const double yearly_growth = 1.12;

static void cdf_init(gen_cdf *c, const double *w, int n)
{
    double total = 0, cum = 0;
    for (int i = 0; i < n; i++)
        total += w[i];
    c->n = n;
    for (int i = 0; i < n; i++) {
        cum += w[i];
        c->t[i] = (uint64_t)llround(cum / total * 4294967296.0);
    }
    c->t[n - 1] = 4294967296ULL;
}

double gen_fx_rate(int k, int month)
{
    const gen_country *c = &gen_countries[k];
    const double t = month / (double)(GEN_NMONTH - 1);
    /* Geometric drift between the two anchors plus a slow cycle of a couple of years. */
    return c->fx_start * pow(c->fx_end / c->fx_start, t) * (1.0 + c->fx_wiggle * sin(2.0 * M_PI * month / 27.0 + k));
}

static void calendar_init(gen_model *m)
{
    m->epoch_day0 = ts_days_from_civil(GEN_FIRST_YEAR, 1, 1);
    for (int i = 0; i < GEN_NMONTH; i++) {
        const int y = GEN_FIRST_YEAR + i / 12, mo = i % 12 + 1;
        m->month_first[i] = ts_days_from_civil(y, mo, 1) - m->epoch_day0;
        const int next = mo == 12 ? ts_days_from_civil(y + 1, 1, 1) : ts_days_from_civil(y, mo + 1, 1);
        m->month_days[i] = next - m->epoch_day0 - m->month_first[i];
    }
    for (int d = 0; d < GEN_NDAY; d++)
        ts_format_date(m->epoch_day0 + d, m->date_text[d]);
}

void gen_model_init(gen_model *m, uint64_t seed, uint64_t n_rows)
{
    memset(m, 0, sizeof *m);
    m->seed = seed;
    m->txn_key = gen_domain_key(seed, GD_TXN);
    m->n_customers = n_rows / 20 > 100 ? n_rows / 20 : 100;

    double cw[GEN_NCOUNTRY], mw[GEN_NMONTH];
    unsigned cum = 0;
    for (int k = 0; k < GEN_NCOUNTRY; k++) {
        cw[k] = gen_countries[k].weight;
        /* Contiguous customer blocks sized by the same weights (they sum to 100). */
        m->cust_start[k] = 1 + (uint64_t)((unsigned __int128)m->n_customers * cum / 100);
        cum += gen_countries[k].weight;
    }
    m->cust_start[GEN_NCOUNTRY] = m->n_customers + 1;
    for (int i = 0; i < GEN_NMONTH; i++)
        mw[i] = season[i % 12] * pow(yearly_growth, i / 12.0);
    cdf_init(&m->country, cw, GEN_NCOUNTRY);
    cdf_init(&m->month, mw, GEN_NMONTH);
    cdf_init(&m->type, type_weight, GEN_NTYPE);
    cdf_init(&m->sector, sector_weight, GEN_NSECTOR);
    cdf_init(&m->status, status_weight, GEN_NSTATUS);
    cdf_init(&m->channel, channel_weight, GEN_NCHANNEL);
    calendar_init(m);
    for (int k = 0; k < GEN_NCOUNTRY; k++)
        for (int i = 0; i < GEN_NMONTH; i++)
            m->fx[k][i] = gen_fx_rate(k, i);
    for (int t = 0; t < GEN_NTYPE; t++)
        m->type_mu[t] = log(type_median_usd[t]);
}

int32_t gen_snapshot_date(uint64_t k)
{
    return ts_days_from_civil(2026 + (int)(k / 12), (int)(k % 12) + 1, 1);
}

int gen_customer_country(const gen_model *m, uint64_t customer)
{
    int k = 0;
    while (k + 1 < GEN_NCOUNTRY && customer >= m->cust_start[k + 1])
        k++;
    return k;
}

static const int acct_count[8] = {1, 2, 1, 3, 2, 1, 1, 2};
static const int acct_prefix[9] = {0, 1, 3, 4, 7, 9, 10, 11, 13};

uint64_t gen_first_account(uint64_t customer, int *count)
{
    const uint64_t i = customer - 1;
    *count = acct_count[i % 8];
    return 13 * (i / 8) + (uint64_t)acct_prefix[i % 8] + 1;
}

uint64_t gen_total_accounts(uint64_t n_customers)
{
    return 13 * (n_customers / 8) + (uint64_t)acct_prefix[n_customers % 8];
}
