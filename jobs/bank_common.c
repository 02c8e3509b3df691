/* Shared bank-data helpers (bank_common.h), used by bank-analytics, data-quality, star-schema and top-customers. */
#include "bank_common.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ts_builtin_rules.h"
#include "ts_csv_table.h"
#include "ts_exchange.h"

ts_join_strategy bank_join_strategy(void)
{
    const char *v = getenv("TS_STAR_JOIN");
    if (v && strcmp(v, "shuffle") == 0)
        return TS_JOIN_SHUFFLE;
    if (v && strcmp(v, "broadcast") == 0)
        return TS_JOIN_BROADCAST;
    return TS_JOIN_AUTO;
}

ts_err bank_load_rules(const char *rules_path, ts_rules **out)
{
    if (rules_path)
        return ts_rules_load(rules_path, out);
    return ts_rules_parse(ts_rules_bank_transactions, "built-in bank_transactions.rules", out);
}

/* codes as NUL-terminated strings (ts_rules_set_values' input); *v is freed by free_values. */
static ts_err copy_values(const ts_column *codes, char ***out)
{
    const int64_t n = codes->len, *off = TS_COL(codes, int64_t);
    char **v = calloc((size_t)n + 1, sizeof *v);
    *out = v;
    if (!v)
        TS_FAIL(TS_ERR_NOMEM, "out of memory copying %lld country codes", (long long)n);
    for (int64_t i = 0; i < n; i++)
        if (!(v[i] = strndup(codes->bytes + off[i], (size_t)(off[i + 1] - off[i]))))
            TS_FAIL(TS_ERR_NOMEM, "out of memory copying country codes");
    return TS_OK;
}

static void free_values(char **v, int64_t n)
{
    for (int64_t i = 0; v && i < n; i++)
        free(v[i]);
    free(v);
}

/* The country_code category field of the rules, or a usage error. */
static ts_err country_field(const ts_rules *rules, int *field)
{
    *field = ts_rules_field(rules, "country_code");
    if (*field < 0 || rules->spec.fields[*field].kind != TS_RULE_CATEGORY)
        TS_FAIL(TS_ERR_USAGE, "rules for '%s' need a category column country_code", rules->table);
    return TS_OK;
}

ts_err bank_country_dict(const ts_rules *rules, ts_dict **countries)
{
    int field;
    TS_TRY(country_field(rules, &field));
    TS_TRY(ts_rules_check_complete(rules));
    *countries = ts_dict_retain(rules->spec.fields[field].accepted);
    return TS_OK;
}

ts_err bank_resolve_countries(ts_rules *rules, const ts_column *codes, ts_dict **countries)
{
    int field;
    TS_TRY(country_field(rules, &field));
    char **v;
    ts_err err = copy_values(codes, &v);
    if (!err && rules->ref_file[field]) /* values=@FILE:COLUMN: this job supplies countries.csv's codes */
        err = ts_rules_set_values(rules, field, (const char *const *)v, (int)codes->len);
    free_values(v, codes->len);
    TS_TRY(err);
    return bank_country_dict(rules, countries);
}

ts_err bank_check_inputs(const char *dir, const char *const *extra, int nextra)
{
    static const char *const needed[] = {"transactions", "countries.csv", "fx_rates.csv"};
    const int nneeded = (int)(sizeof needed / sizeof needed[0]);
    char missing[1024] = "", path[4200];
    for (int i = 0; i < nneeded + nextra; i++) {
        const char *name = i < nneeded ? needed[i] : extra[i - nneeded];
        snprintf(path, sizeof path, "%s/%s", dir, name);
        if (access(path, R_OK) == 0)
            continue;
        if (errno != ENOENT) /* there, but not readable (or not reachable): say why, not "lacks" */
            TS_FAIL(TS_ERR_IO, "cannot read '%s': %s", path, strerror(errno));
        snprintf(missing + strlen(missing), sizeof missing - strlen(missing), "%s%s", *missing ? ", " : "", name);
    }
    if (*missing)
        TS_FAIL(TS_ERR_IO, "data directory '%s' lacks %s (generate sample data with tessera-gen)", dir, missing);
    return TS_OK;
}

ts_err bank_code_countries(ts_table *t, ts_dict *countries)
{
    ts_column *cc;
    TS_TRY(ts_table_need(t, "country_code", &cc));
    const int64_t n = cc->len, *off = TS_COL(cc, int64_t);
    ts_column *code;
    TS_TRY(ts_table_add(t, "country", TS_T_DICT, 0, countries, &code));
    TS_TRY(ts_column_reserve(code, n, 0));
    for (int64_t i = 0; i < n; i++) {
        const int32_t c = ts_dict_find(countries, cc->bytes + off[i], (size_t)(off[i + 1] - off[i]));
        TS_COL(code, int32_t)[code->len++] = c < 0 ? 0 : c;
        if (c < 0)
            TS_TRY(ts_column_set_null(code, i));
    }
    return TS_OK;
}

ts_err bank_read_fx(ts_ctx *ctx, const char *dir, ts_dict *countries, ts_table **out)
{
    static const ts_ref_column cols[] = {{"country_code", TS_REF_STRING}, {"month", TS_REF_MONTH},
                                         {"usd_rate", TS_REF_FLOAT64}};
    ts_table *fx = NULL;
    ts_err err = TS_OK;
    if (ctx->rank == 0) {
        char path[4200];
        snprintf(path, sizeof path, "%s/fx_rates.csv", dir);
        err = ts_read_csv_table(path, cols, 3, &fx);
    }
    *out = NULL;
    TS_TRY(ts_ctx_check(ctx, err));
    TS_TRY(ts_broadcast_table(ctx, &fx, 0));
    *out = fx;
    return bank_code_countries(fx, countries);
}

ts_err bank_currency_by_code(const ts_dict *countries, const ts_table *ref, ts_column **out)
{
    ts_column *cc, *cur, *c;
    TS_TRY(ts_table_need(ref, "country_code", &cc));
    TS_TRY(ts_table_need(ref, "currency", &cur));
    TS_TRY(ts_column_new("currency", TS_T_STRING, 0, NULL, &c));
    *out = c;
    const int64_t *co = TS_COL(cc, int64_t), *uo = TS_COL(cur, int64_t);
    for (int32_t code = 0; code < countries->n; code++) {
        int64_t len, row = -1;
        const char *s = ts_dict_value(countries, code, &len);
        for (int64_t i = 0; row < 0 && i < cc->len; i++)
            if (co[i + 1] - co[i] == len && memcmp(cc->bytes + co[i], s, (size_t)len) == 0)
                row = i;
        TS_TRY(ts_column_append_string(c, row < 0 ? "" : cur->bytes + uo[row], row < 0 ? 0 : uo[row + 1] - uo[row]));
    }
    return TS_OK;
}
