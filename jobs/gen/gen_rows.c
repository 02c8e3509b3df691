/* Clean rows: realistic, weighted, and regenerable from the row number alone. */
#include "gen_rows.h"

#include <math.h>

#include "gen_fmt.h"
#include "gen_rng.h"

const char *const gen_header =
    "txn_id,txn_date,country_code,customer_id,account_id,txn_type,sector,amount,currency,status,channel\n";

int gen_fault_kind(const gen_model *m, double rate, uint64_t row)
{
    if (rate <= 0.0)
        return K_NONE;
    const uint64_t k = gen_row_key(m->txn_key, row);
    if (gen_u01(gen_draw(k, ST_FAULT)) >= rate)
        return K_NONE;
    /* 70 slots: 28 (40 %) for the 7 kept variants, 42 (60 %) for the 7 reject reasons. */
    const int c = (int)gen_below(gen_draw(k, ST_FAULT_KIND), 70);
    return c < 28 ? K_DATE_DMY + c % 7 : K_MALFORMED + (c - 28) % 7;
}

/* Customers of a country form one id block; half the draws are squared to make low ids heavy users. */
static uint64_t pick_customer(const gen_model *m, uint64_t k, int country)
{
    const uint64_t base = m->cust_start[country], size = m->cust_start[country + 1] - base;
    double u = gen_u01(gen_draw(k, ST_CUSTOMER));
    if (gen_draw(k, ST_CUSTOMER_SKEW) & 1)
        u *= u;
    uint64_t i = (uint64_t)(u * (double)size);
    return base + (i < size ? i : size - 1);
}

/* Log-normal USD amount of the txn_type, converted at the month's FX rate, in cents (>= 1). */
static uint64_t pick_amount_cents(const gen_model *m, uint64_t k, int type, int country, int month)
{
    const double u1 = gen_u01(gen_draw(k, ST_AMOUNT_U1)), u2 = gen_u01(gen_draw(k, ST_AMOUNT_U2));
    const double z = sqrt(-2.0 * log1p(-u1)) * cos(2.0 * M_PI * u2); /* Box–Muller; 1-u1 > 0 */
    const double local = exp(m->type_mu[type] + gen_type_sigma[type] * z) * m->fx[country][month];
    const double cents = nearbyint(local * 100.0);
    return cents < 1.0 ? 1 : cents > 1e15 ? (uint64_t)1e15 : (uint64_t)cents;
}

static void set_text(gen_line *l, int field, const char *s)
{
    l->f[field] = s;
    l->n[field] = (int)strlen(s);
}

void gen_clean_row(const gen_model *m, uint64_t row, gen_line *l)
{
    const uint64_t k = gen_row_key(m->txn_key, row);
    const int c = gen_cdf_pick(&m->country, gen_draw(k, ST_COUNTRY));
    const int month = gen_cdf_pick(&m->month, gen_draw(k, ST_MONTH));
    const uint64_t customer = pick_customer(m, k, c);
    int n_acct;
    const uint64_t account = gen_first_account(customer, &n_acct) + gen_below(gen_draw(k, ST_ACCOUNT), (uint64_t)n_acct);

    l->day = m->month_first[month] + (int)gen_below(gen_draw(k, ST_DAY), (uint64_t)m->month_days[month]);
    l->country = c;
    l->type = gen_cdf_pick(&m->type, gen_draw(k, ST_TYPE));
    l->sector = gen_cdf_pick(&m->sector, gen_draw(k, ST_SECTOR));
    l->status = gen_cdf_pick(&m->status, gen_draw(k, ST_STATUS));
    l->channel = gen_cdf_pick(&m->channel, gen_draw(k, ST_CHANNEL));

    l->nf = GEN_NFIELD;
    l->crlf = 0;
    l->f[F_TXN_ID] = l->id_txt[0];
    l->n[F_TXN_ID] = gen_fmt_u64(l->id_txt[0], row + 1);
    l->f[F_DATE] = m->date_text[l->day];
    l->n[F_DATE] = 10;
    l->f[F_COUNTRY] = gen_countries[c].code;
    l->n[F_COUNTRY] = 3;
    l->f[F_CUSTOMER] = l->id_txt[1];
    l->n[F_CUSTOMER] = gen_fmt_u64(l->id_txt[1], customer);
    l->f[F_ACCOUNT] = l->id_txt[2];
    l->n[F_ACCOUNT] = gen_fmt_u64(l->id_txt[2], account);
    set_text(l, F_TYPE, gen_txn_types[l->type]);
    set_text(l, F_SECTOR, gen_sectors[l->sector]);
    l->f[F_AMOUNT] = l->amount_txt;
    l->n[F_AMOUNT] = gen_fmt_cents(l->amount_txt, pick_amount_cents(m, k, l->type, c, month));
    l->f[F_CURRENCY] = gen_countries[c].currency;
    l->n[F_CURRENCY] = 3;
    set_text(l, F_STATUS, gen_statuses[l->status]);
    set_text(l, F_CHANNEL, gen_channels[l->channel]);
}

int gen_make_row(const gen_model *m, double rate, uint64_t row, uint64_t file_first, gen_line *l)
{
    int kind = gen_fault_kind(m, rate, row);
    if (kind == K_DUPLICATE) {
        /* A byte copy of the nearest earlier clean row of the same file (the copy keeps its txn_id). */
        for (uint64_t back = 1; back <= GEN_DUP_WINDOW && row >= file_first + back; back++) {
            if (gen_fault_kind(m, rate, row - back) == K_NONE) {
                gen_clean_row(m, row - back, l);
                return K_DUPLICATE;
            }
        }
        kind = K_NONE; /* no source in reach: emit the row clean and do not count a fault */
    }
    gen_clean_row(m, row, l);
    if (kind != K_NONE)
        gen_inject_fault(m, row, kind, l);
    return kind;
}
