#include "gen_ref.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "gen_fmt.h"
#include "gen_rng.h"
#include "gen_sink.h"
#include "ts_date.h"

const char *const gen_ref_names[GEN_NREF] = {"countries.csv",    "fx_rates.csv",  "indicators.csv",
                                             "demographics.csv", "customers.csv", "accounts.csv"};

/* Small tables: printf is fine here (a few thousand rows). */
static void sink_printf(gen_sink *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sink_printf(gen_sink *s, const char *fmt, ...)
{
    char *p = gen_sink_reserve(s, 512);
    va_list ap;
    va_start(ap, fmt);
    const int n = vsnprintf(p, 512, fmt, ap);
    va_end(ap);
    gen_sink_commit(s, n < 512 ? (size_t)n : 511);
}

static void write_countries(const gen_model *m, gen_sink *s, uint64_t *rows)
{
    (void)m;
    sink_printf(s, "country_code,name,currency,region,income_group\n");
    for (int k = 0; k < GEN_NCOUNTRY; k++, ++*rows) {
        const gen_country *c = &gen_countries[k];
        sink_printf(s, "%s,%s,%s,%s,%s\n", c->code, c->name, c->currency, c->region, c->income_group);
    }
}

static void write_fx(const gen_model *m, gen_sink *s, uint64_t *rows)
{
    sink_printf(s, "country_code,month,usd_rate\n");
    for (int k = 0; k < GEN_NCOUNTRY; k++)
        for (int i = 0; i < GEN_NMONTH; i++, ++*rows)
            sink_printf(s, "%s,%04d-%02d,%.6f\n", gen_countries[k].code, GEN_FIRST_YEAR + i / 12, i % 12 + 1,
                        m->fx[k][i]);
}

/* Year-on-year inflation: a base level plus a bump (the 2022 wave; Argentina's 2023-24 peak). */
static double inflation(const gen_country *c, int month)
{
    const double x = (month - c->infl_peak_m) / c->infl_w;
    return c->infl_base + c->infl_peak * exp(-x * x);
}

static void write_indicators(const gen_model *m, gen_sink *s, uint64_t *rows)
{
    (void)m;
    sink_printf(s, "country_code,month,indicator,value\n");
    for (int k = 0; k < GEN_NCOUNTRY; k++) {
        const gen_country *c = &gen_countries[k];
        for (int i = 0; i < GEN_NMONTH; i++, *rows += 4) {
            const int y = GEN_FIRST_YEAR + i / 12, mo = i % 12 + 1;
            /* Annualised nominal USD GDP: real growth plus ~2 % USD inflation, with a mild cycle. */
            const double gdp = c->gdp_bn * pow(1.0 + c->gdp_growth + 0.02, i / 12.0) * (1.0 + 0.01 * sin(i / 6.0 + k));
            const double policy = fmax(0.25, c->real_rate + 0.9 * inflation(c, i - 4));
            const double unemp = c->unemp_start + (c->unemp_end - c->unemp_start) * i / (GEN_NMONTH - 1.0) +
                                 0.3 * sin(2.0 * M_PI * i / 12.0);
            sink_printf(s, "%s,%04d-%02d,gdp_usd_bn,%.3f\n", c->code, y, mo, gdp);
            sink_printf(s, "%s,%04d-%02d,inflation_pct,%.2f\n", c->code, y, mo, inflation(c, i));
            sink_printf(s, "%s,%04d-%02d,policy_rate_pct,%.2f\n", c->code, y, mo, policy);
            sink_printf(s, "%s,%04d-%02d,unemployment_pct,%.2f\n", c->code, y, mo, unemp);
        }
    }
}

static void write_demographics(const gen_model *m, gen_sink *s, uint64_t *rows)
{
    (void)m;
    sink_printf(s, "country_code,year,population,urban_pct,median_age\n");
    for (int k = 0; k < GEN_NCOUNTRY; k++) {
        const gen_country *c = &gen_countries[k];
        for (int j = 0; j < GEN_NYEAR; j++, ++*rows)
            sink_printf(s, "%s,%d,%.0f,%.1f,%.1f\n", c->code, GEN_FIRST_YEAR + j,
                        c->pop_m * 1e6 * pow(1.0 + c->pop_growth, j), fmin(99.0, c->urban_pct + 0.15 * j),
                        c->median_age + 0.3 * j);
    }
}

static const char *const first_names[] = {
    "Maria", "Jose",  "Juan",    "Ana",    "Luis",    "Carlos",   "Sofia",    "Valentina", "Diego",  "Camila", "Mateo",
    "Lucia", "Gabriel", "Isabela", "Pedro", "Fernanda", "Jorge",  "Daniela",  "Miguel",    "Paula",  "Andres", "Mariana",
    "Ricardo", "Laura", "Felipe",  "Carolina", "Santiago", "Beatriz", "Rafael", "Julia",   "Tomas",  "Elena"};
static const char *const last_names[] = {
    "Silva",  "Santos", "Oliveira", "Souza",   "Rodriguez", "Gonzalez", "Hernandez", "Lopez",  "Martinez", "Garcia", "Perez",
    "Sanchez", "Ramirez", "Torres", "Flores",  "Rivera",    "Gomez",    "Diaz",      "Vargas", "Castro",   "Rojas",  "Morales",
    "Ortiz",  "Mendoza", "Ruiz",    "Alvarez", "Romero",    "Herrera",  "Medina",    "Aguilar", "Pereira", "Costa"};
static const char *const firm_words[] = {"Agro", "Energia", "Salud", "Construcciones", "Transportes", "Tecnologia",
                                         "Aguas", "Comercial", "Educacion", "Inversiones"};
static const char *const segments[] = {"retail", "sme", "corporate", "microfinance", "public"};
static const unsigned segment_pct[] = {62, 22, 8, 5, 3};
static const char *const products[] = {"checking", "savings", "credit_card", "personal_loan",
                                       "mortgage", "business_loan", "term_deposit", "microloan"};
#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* Customer and account dates lie in 2005-01-01 … 2020-12-31, before any transaction. */
static int32_t open_lo(void) { return ts_days_from_civil(2005, 1, 1); }
static int32_t open_hi(void) { return ts_days_from_civil(2020, 12, 31); }

static int pick_segment(uint64_t h)
{
    unsigned u = (unsigned)gen_below(h, 100), i = 0;
    while (u >= segment_pct[i])
        u -= segment_pct[i++];
    return (int)i;
}

static int32_t customer_opened(uint64_t key)
{
    return open_lo() + (int32_t)gen_below(gen_draw(key, ST_VAR3), (uint64_t)(open_hi() - open_lo() + 1));
}

/* Appends s lower-cased with spaces turned into dots (an e-mail local part). */
static int fmt_email_part(char *p, const char *s)
{
    int n = 0;
    for (; s[n]; n++)
        p[n] = s[n] == ' ' ? '.' : (s[n] >= 'A' && s[n] <= 'Z') ? (char)(s[n] - 'A' + 'a') : s[n];
    return n;
}

/* Customer snapshots (--snapshot K). A customer's state is a function of (seed, customer_id) at birth and of
 * (seed, k, customer_id) at every later snapshot k: step k deletes about 1 % of the customers alive at k-1 and
 * changes one attribute of about 4 % (segment, e-mail or name, always to a different value); customers
 * n0 + (k-1)*n_new + 1 .. n0 + k*n_new are born at step k (n_new = n0 / 50, ids never reused). Snapshot 0 is
 * written by write_customers below; snapshot K >= 1 by write_customers_snapshot, which for a customer with no
 * change writes exactly snapshot 0's line. */
static const char *const email_domains[] = {"example.com", "mail.example.org", "correo.example.net",
                                            "banco.example.com"};
#define SNAP_DELETE_PERMILLE 10
#define SNAP_CHANGE_PERMILLE 40

typedef struct cust_state {
    int person, first, last, firm, seg, country, domain;
    int32_t opened;
    char email_local[64]; /* lower-cased name with dots, as of the last e-mail change */
} cust_state;

static int customer_name(const cust_state *c, char *name)
{
    int nn;
    if (c->person) {
        nn = gen_fmt_str(name, first_names[c->first]);
        name[nn++] = ' ';
        nn += gen_fmt_str(name + nn, last_names[c->last]);
    } else {
        nn = gen_fmt_str(name, last_names[c->last]);
        name[nn++] = ' ';
        nn += gen_fmt_str(name + nn, firm_words[c->firm]);
        nn += gen_fmt_str(name + nn, " SA");
    }
    name[nn] = '\0';
    return nn;
}

static void set_email_local(cust_state *c)
{
    char name[64];
    customer_name(c, name);
    c->email_local[fmt_email_part(c->email_local, name)] = '\0';
}

/* Key of customer c's draws at snapshot step k >= 1. */
static uint64_t snapshot_key(uint64_t seed, uint64_t k, uint64_t c)
{
    const uint64_t step = gen_mix64(gen_domain_key(seed, GD_SNAPSHOT) ^ (k * 0xd6e8feb86659fd93ULL));
    return gen_row_key(step, c);
}

/* State of customer c in snapshot K; 0 when c does not exist there (not born yet or deleted). */
static int customer_at(const gen_model *m, uint64_t c, uint64_t K, cust_state *st)
{
    const uint64_t n0 = m->n_customers, n_new = n0 / 50 ? n0 / 50 : 1;
    const uint64_t born = c <= n0 ? 0 : (c - n0 - 1) / n_new + 1;
    if (born > K)
        return 0;
    const uint64_t key = gen_row_key(gen_domain_key(m->seed, GD_CUSTOMER), c);
    memset(st, 0, sizeof *st);
    st->seg = pick_segment(gen_draw(key, ST_VAR4));
    st->person = st->seg == 0 || st->seg == 3;
    st->last = (int)gen_below(gen_draw(key, ST_VAR2), NELEM(last_names));
    if (st->person)
        st->first = (int)gen_below(gen_draw(key, ST_VAR1), NELEM(first_names));
    else
        st->firm = (int)gen_below(gen_draw(key, ST_VAR1), NELEM(firm_words));
    if (born == 0) {
        st->country = gen_customer_country(m, c);
        st->opened = customer_opened(key);
    } else { /* opened in the month before the snapshot that first lists it */
        st->country = gen_cdf_pick(&m->country, gen_draw(key, ST_COUNTRY));
        st->opened = gen_snapshot_date(born) - 1 - (int32_t)gen_below(gen_draw(key, ST_VAR3), 28);
    }
    set_email_local(st);
    for (uint64_t k = born + 1; k <= K; k++) {
        const uint64_t rk = snapshot_key(m->seed, k, c);
        const uint64_t u = gen_below(gen_draw(rk, ST_FAULT), 1000), v = gen_draw(rk, ST_VAR1);
        if (u < SNAP_DELETE_PERMILLE)
            return 0;
        if (u >= SNAP_DELETE_PERMILLE + SNAP_CHANGE_PERMILLE)
            continue;
        switch (gen_below(gen_draw(rk, ST_FAULT_KIND), 3)) {
        case 0: /* segment */
            st->seg = (int)((st->seg + 1 + gen_below(v, NELEM(segments) - 1)) % NELEM(segments));
            break;
        case 1: /* new e-mail domain, local part from the current name */
            st->domain = (int)((st->domain + 1 + gen_below(v, NELEM(email_domains) - 1)) % NELEM(email_domains));
            set_email_local(st);
            break;
        default: /* name: a person's last name, a firm's trade word; the e-mail stays */
            if (st->person)
                st->last = (int)((st->last + 1 + gen_below(v, NELEM(last_names) - 1)) % NELEM(last_names));
            else
                st->firm = (int)((st->firm + 1 + gen_below(v, NELEM(firm_words) - 1)) % NELEM(firm_words));
            break;
        }
    }
    return 1;
}

static void write_customers_snapshot(const gen_model *m, gen_sink *s, uint64_t *rows)
{
    const uint64_t n0 = m->n_customers, n_new = n0 / 50 ? n0 / 50 : 1, K = m->snapshot;
    sink_printf(s, "customer_id,name,email,segment,country_code,opened_date\n");
    for (uint64_t c = 1; c <= n0 + K * n_new; c++) {
        cust_state st;
        if (!customer_at(m, c, K, &st))
            continue;
        char name[64], *p = gen_sink_reserve(s, 256), *q = p;
        customer_name(&st, name);
        q += gen_fmt_u64(q, c);
        *q++ = ',';
        q += gen_fmt_str(q, name);
        *q++ = ',';
        q += gen_fmt_str(q, st.email_local);
        *q++ = '.';
        q += gen_fmt_u64(q, c);
        *q++ = '@';
        q += gen_fmt_str(q, email_domains[st.domain]);
        *q++ = ',';
        q += gen_fmt_str(q, segments[st.seg]);
        *q++ = ',';
        q += gen_fmt_str(q, gen_countries[st.country].code);
        *q++ = ',';
        ts_format_date(st.opened, q);
        q += 10;
        *q++ = '\n';
        gen_sink_commit(s, (size_t)(q - p));
        ++*rows;
    }
}

static void write_customers(const gen_model *m, gen_sink *s, uint64_t *rows)
{
    if (m->snapshot) {
        write_customers_snapshot(m, s, rows);
        return;
    }
    const uint64_t dk = gen_domain_key(m->seed, GD_CUSTOMER);
    sink_printf(s, "customer_id,name,email,segment,country_code,opened_date\n");
    for (uint64_t c = 1; c <= m->n_customers; c++, ++*rows) {
        const uint64_t key = gen_row_key(dk, c);
        const int seg = pick_segment(gen_draw(key, ST_VAR4));
        const char *last = last_names[gen_below(gen_draw(key, ST_VAR2), NELEM(last_names))];
        char name[64], *p = gen_sink_reserve(s, 256), *q = p;
        int nn;
        if (seg == 0 || seg == 3) { /* people: retail and microfinance clients */
            nn = gen_fmt_str(name, first_names[gen_below(gen_draw(key, ST_VAR1), NELEM(first_names))]);
            name[nn++] = ' ';
            nn += gen_fmt_str(name + nn, last);
        } else { /* firms and public bodies */
            nn = gen_fmt_str(name, last);
            name[nn++] = ' ';
            nn += gen_fmt_str(name + nn, firm_words[gen_below(gen_draw(key, ST_VAR1), NELEM(firm_words))]);
            nn += gen_fmt_str(name + nn, " SA");
        }
        name[nn] = '\0';
        q += gen_fmt_u64(q, c);
        *q++ = ',';
        q += gen_fmt_str(q, name);
        *q++ = ',';
        q += fmt_email_part(q, name);
        *q++ = '.';
        q += gen_fmt_u64(q, c);
        q += gen_fmt_str(q, "@example.com,");
        q += gen_fmt_str(q, segments[seg]);
        *q++ = ',';
        q += gen_fmt_str(q, gen_countries[gen_customer_country(m, c)].code);
        *q++ = ',';
        ts_format_date(customer_opened(key), q);
        q += 10;
        *q++ = '\n';
        gen_sink_commit(s, (size_t)(q - p));
    }
}

static void write_accounts(const gen_model *m, gen_sink *s, uint64_t *rows)
{
    const uint64_t ck = gen_domain_key(m->seed, GD_CUSTOMER), ak = gen_domain_key(m->seed, GD_ACCOUNT);
    sink_printf(s, "account_id,customer_id,product,opened_date,currency\n");
    for (uint64_t c = 1; c <= m->n_customers; c++) {
        int count;
        const uint64_t first = gen_first_account(c, &count);
        const int32_t cust_open = customer_opened(gen_row_key(ck, c));
        const char *currency = gen_countries[gen_customer_country(m, c)].currency;
        for (uint64_t a = first; a < first + (uint64_t)count; a++, ++*rows) {
            const uint64_t key = gen_row_key(ak, a);
            char *p = gen_sink_reserve(s, 128), *q = p;
            q += gen_fmt_u64(q, a);
            *q++ = ',';
            q += gen_fmt_u64(q, c);
            *q++ = ',';
            q += gen_fmt_str(q, products[gen_below(gen_draw(key, ST_VAR1), NELEM(products))]);
            *q++ = ',';
            ts_format_date(cust_open + (int32_t)gen_below(gen_draw(key, ST_VAR2), (uint64_t)(open_hi() - cust_open + 1)), q);
            q += 10;
            *q++ = ',';
            q += gen_fmt_str(q, currency);
            *q++ = '\n';
            gen_sink_commit(s, (size_t)(q - p));
        }
    }
}

typedef void (*table_writer)(const gen_model *, gen_sink *, uint64_t *);

int gen_write_reference(const gen_model *m, const char *dir, uint64_t rows[GEN_NREF])
{
    static const table_writer writers[GEN_NREF] = {write_countries,    write_fx,        write_indicators,
                                                   write_demographics, write_customers, write_accounts};
    for (int t = 0; t < GEN_NREF; t++) {
        char path[4096];
        gen_sink s;
        snprintf(path, sizeof path, "%s/%s", dir, gen_ref_names[t]);
        rows[t] = 0;
        if (gen_sink_open(&s, path, 0) == 0)
            writers[t](m, &s, &rows[t]);
        if (gen_sink_close(&s) != 0) {
            gen_sink_report(&s);
            return 3;
        }
    }
    return 0;
}
