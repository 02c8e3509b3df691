#include "ts_pivot.h"

#include <stdlib.h>
#include <string.h>

#include "ts_ht.h"
#include "ts_keys.h"

static int name_index(const ts_column *c, int64_t i, const char *const *names, int n)
{
    const int64_t *off = TS_COL(c, int64_t), len = off[i + 1] - off[i];
    for (int k = 0; k < n; k++)
        if ((int64_t)strlen(names[k]) == len && memcmp(names[k], c->bytes + off[i], (size_t)len) == 0)
            return k;
    return -1;
}

/* Wide output: the key columns (first appearance order) and one FLOAT64 column per name, all NULL at first. */
static ts_err new_wide(const ts_table *in, const char *const *keys, int nkeys, const char *const *names, int nnames,
                       ts_table **out)
{
    TS_TRY(ts_table_new(in->name, out));
    for (int k = 0; k < nkeys; k++) {
        ts_column *c;
        TS_TRY(ts_column_new_like(ts_table_col(in, keys[k]), &c));
        TS_TRY(ts_table_adopt(*out, c));
    }
    for (int k = 0; k < nnames; k++)
        TS_TRY(ts_table_add(*out, names[k], TS_T_FLOAT64, 0, NULL, NULL));
    return TS_OK;
}

static ts_err fill(const ts_table *in, const char *const *keys, int nkeys, const ts_column *nm, const ts_column *val,
                   const char *const *names, int nnames, ts_table *w)
{
    const int64_t n = ts_table_rows(in);
    uint64_t *lo = malloc(8 * (size_t)(n + 1)), *hi = malloc(8 * (size_t)(n + 1));
    uint8_t *seen = calloc((size_t)(n + 1) * (size_t)nnames + 1, 1);
    ts_ht ht = {0};
    ts_err err = lo && hi && seen && ts_ht_init(&ht, 64) == 0
                     ? ts_pack_keys(in, keys, nkeys, lo, hi)
                     : ts_error_raise(TS_ERR_NOMEM, __FILE__, __LINE__, __func__, "out of memory pivoting");
    int64_t rows = 0;
    for (int64_t i = 0; !err && i < n; i++) {
        const int k = name_index(nm, i, names, nnames);
        if (k < 0)
            continue;
        int inserted;
        int64_t *slot = ts_ht_upsert(&ht, lo[i], hi[i], rows, &inserted);
        if (!slot) {
            err = ts_error_raise(TS_ERR_NOMEM, __FILE__, __LINE__, __func__, "out of memory pivoting");
            break;
        }
        if (inserted) { /* a new key tuple: its key values, and NULL in every value column */
            for (int c = 0; c < nkeys && !err; c++)
                err = ts_column_append_rows(w->cols[c], ts_table_col(in, keys[c]), &i, 1);
            for (int c = 0; c < nnames && !err; c++)
                err = ts_column_append_nulls(w->cols[nkeys + c], 1);
            rows++;
        }
        const int64_t r = *slot;
        if (!err && seen[r * nnames + k])
            err = ts_error_raise(TS_ERR_DATA, __FILE__, __LINE__, __func__, "table '%s' row %lld: '%s' is given "
                                 "twice for the same key", in->name, (long long)i + 1, names[k]);
        if (!err) {
            ts_column *c = w->cols[nkeys + k];
            seen[r * nnames + k] = 1;
            TS_COL(c, double)[r] = TS_COL(val, double)[i];
            c->valid[r >> 6] |= UINT64_C(1) << (r & 63); /* append_nulls made the bitmap */
        }
    }
    free(lo), free(hi), free(seen), ts_ht_free(&ht);
    return err;
}

ts_err ts_pivot(const ts_table *in, const char *const *keys, int nkeys, const char *name, const char *value,
                const char *const *names, int nnames, ts_table **out)
{
    ts_column *nm, *val;
    TS_TRY(ts_table_need(in, name, &nm));
    TS_TRY(ts_table_need(in, value, &val));
    if (nm->type != TS_T_STRING || val->type != TS_T_FLOAT64)
        TS_FAIL(TS_ERR_USAGE, "pivot of '%s': the name column must be STRING and the value column FLOAT64", in->name);
    for (int k = 0; k < nkeys; k++)
        if (!ts_table_col(in, keys[k]))
            TS_FAIL(TS_ERR_USAGE, "pivot of '%s': no key column '%s'", in->name, keys[k]);
    *out = NULL;
    ts_err err = new_wide(in, keys, nkeys, names, nnames, out);
    if (!err)
        err = fill(in, keys, nkeys, nm, val, names, nnames, *out);
    if (err) {
        ts_table_free(*out);
        *out = NULL;
    }
    return err;
}
