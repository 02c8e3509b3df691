/* Helpers shared by the jobs that read tessera-gen's bank data (bank-analytics, data-quality, star-schema,
 * top-customers): the inputs they need, the cleaning rules,
 * the country dictionary the rules accept, FX rates keyed by that dictionary, and each country's currency. */
#ifndef BANK_COMMON_H
#define BANK_COMMON_H

#include "ts_ctx.h"
#include "ts_hashjoin.h"
#include "ts_rules.h"
#include "ts_table.h"

/* --rules FILE when given, else the built-in jobs/rules/bank_transactions.rules. */
ts_err bank_load_rules(const char *rules_path, ts_rules **out);

/* The rules' country_code category's accepted values (a new reference) in *countries: the dictionary the scan
 * codes country_code with. Its values must be supplied (inline, ts_clean_resolve_values or
 * bank_resolve_countries). */
ts_err bank_country_dict(const ts_rules *rules, ts_dict **countries);

/* Supplies countries.csv's codes (STRING column `codes`) to the rules' country_code category (values=@FILE) and
 * returns that category's dictionary (a new reference) in *countries. For jobs that read countries.csv anyway;
 * others let ts_clean_resolve_values (engine/dist/ts_clean.h) read it. */
ts_err bank_resolve_countries(ts_rules *rules, const ts_column *codes, ts_dict **countries);

/* Names every missing input of DIR at once (transactions/, countries.csv, fx_rates.csv and the job's `extra`
 * files), before work starts. */
ts_err bank_check_inputs(const char *dir, const char *const *extra, int nextra);

/* Adds a DICT column `country` to t: its STRING column country_code as codes of `countries` (NULL for a code not
 * in it), so reference tables join on integers with the scan's country_code. */
ts_err bank_code_countries(ts_table *t, ts_dict *countries);

/* Collective: rank 0 reads DIR/fx_rates.csv, every rank gets it as (country_code STRING, month DATE, usd_rate,
 * country DICT over `countries`, NULL for a code not in it): joins on integers with the scan's country_code. */
ts_err bank_read_fx(ts_ctx *ctx, const char *dir, ts_dict *countries, ts_table **out);

/* *out (new STRING column) holds, at row c, the currency of country code c of `countries`, from the table
 * `ref` (country_code, currency STRING columns of countries.csv); empty for a code ref lacks. */
ts_err bank_currency_by_code(const ts_dict *countries, const ts_table *ref, ts_column **out);

/* The join strategy of these jobs: TS_JOIN_AUTO, or what TS_STAR_JOIN=shuffle|broadcast forces (so tests cover the
 * shuffle join, which small test data would never pick). */
ts_join_strategy bank_join_strategy(void);

#endif
