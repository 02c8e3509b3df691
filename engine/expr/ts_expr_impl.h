/* Internals of the expression layer (ts_expr*.c only): the expression tree, the bound node, and the helpers the
 * operator families share.
 *
 * Binding turns a ts_expr tree into a tree of ts_xnode, one per expression node plus the implicit casts the binder
 * inserts. Each node owns a value vector (int64 for BOOL / INT / DATE / DECIMAL / DICT codes, double for FLOAT,
 * ts_sv views for STRING) and a validity vector. A node whose arguments are all constant is folded at bind time:
 * evaluated once for one row, and never evaluated again. Vectors start with one row and grow to TS_EXPR_VECTOR rows
 * (a constant's row 0 replicated) only for the nodes read per vector: so a long IN list of constants costs a few
 * bytes per item, not a vector each.
 *
 * Evaluation takes an `active` row mask (NULL = every row): values are computed for every row, but a row that would
 * raise an error (bad CAST, overflow, sqrt(-1)) raises it only when active; an inactive one becomes NULL. CASE,
 * COALESCE, AND and OR ("lazy" nodes) evaluate their arguments themselves with narrower masks.
 *
 * Values of NULL rows are unspecified (whatever the column holds): kernels must stay free of undefined behaviour
 * for any input value (no signed overflow, no out-of-range float-to-int conversion, dictionary codes checked). */
#ifndef TS_EXPR_IMPL_H
#define TS_EXPR_IMPL_H

/* A package header, as HDF5's H5*pkg.h: only the expression layer's own files define TS_EXPR_PACKAGE. */
#ifndef TS_EXPR_PACKAGE
#error "ts_expr_impl.h is internal to engine/expr/: include ts_expr.h"
#endif

#include <stdint.h>

#include "ts_expr.h"
#include "ts_interval.h"

__extension__ typedef __int128 ts_xi128;

struct ts_expr {
    ts_expr_op op;
    char *name;             /* COL (owned; names may be TS_NAME_MAX long, and most nodes are not columns) */
    int64_t i;              /* INT, BOOL, DATE, DECIMAL (unscaled) */
    double f;               /* FLOAT */
    char *s;                /* STRING (NUL-terminated copy of slen bytes) */
    size_t slen;
    ts_type cast_type;      /* CAST target */
    int scale;              /* DECIMAL literal or CAST target */
    int try_cast, has_target;
    int32_t iv_months, iv_days; /* INTERVAL (microseconds in i) */
    ts_expr **args;
    int nargs;
};

typedef enum { TS_XT_NULL, TS_XT_BOOL, TS_XT_INT, TS_XT_FLOAT, TS_XT_DATE, TS_XT_DEC, TS_XT_CODE, TS_XT_STRING,
               TS_XT_TS /* int64 microseconds */, TS_XT_IV /* ts_interval in the 16 bytes of a row */ } ts_xtype;

/* A string value: n bytes at p (p is never NULL, n == 0 for NULL rows of computed strings). */
typedef struct ts_sv {
    const char *p;
    int64_t n;
} ts_sv;

typedef struct ts_xnode ts_xnode;
typedef ts_err (*ts_xeval_fn)(ts_xnode *n, int64_t start, int m, const uint8_t *active);

struct ts_xnode {
    ts_expr_op op;
    const ts_expr *e;      /* source expression (NULL for inserted casts) */
    ts_xtype type;
    int scale;             /* DEC */
    const ts_dict *dict;   /* CODE */
    ts_xnode **args;
    int nargs;
    int is_const;          /* folded: never evaluated again */
    int lazy;              /* evaluates its own arguments */
    ts_xeval_fn eval;      /* set by the family binder */
    union {
        int64_t *i;
        double *f;
        ts_sv *s;
    } v;                   /* values of the current vector: own storage or a column's array */
    int rows;              /* allocated rows: 1 while binding, TS_EXPR_VECTOR once the node is read per vector */
    void *own;             /* rows * 16 bytes */
    uint8_t *valid;        /* rows flags, 1 = valid */
    uint8_t *mask;         /* 2 * rows scratch flags (row masks, bad-row flags); the second half at mask + rows */
    char *buf;             /* string scratch, reused for every vector */
    size_t cap;
    const ts_column *col;  /* COL */
    const int32_t *const *gather; /* COL of a bound expression: when *gather is set, row k of the vector is the
                                     column's row (*gather)[k] (a sparse selection evaluated densely) */
    int try_cast, narrow;  /* CAST: TRY_CAST; INT32 range check */
    int64_t param;         /* family-specific (date part, round digits, ...) */
    void *aux;             /* family-specific bind-time state, freed with aux_free */
    void (*aux_free)(void *);
};

/* ---- shared helpers (ts_expr.c) ------------------------------------------------------------------------- */

/* Name of n's operator for messages ("TRY_CAST" for a try cast). */
const char *ts_xname(const ts_xnode *n);
/* "INT64", "DECIMAL(18,2)", ... into buf. */
const char *ts_xtype_name(ts_xtype t, int scale, char *buf, size_t cap);
static inline int ts_xlive(const uint8_t *active, int k) { return !active || active[k]; }
static inline int ts_xis_num(ts_xtype t) { return t == TS_XT_INT || t == TS_XT_FLOAT || t == TS_XT_DEC; }
static inline int ts_xis_str(ts_xtype t) { return t == TS_XT_STRING || t == TS_XT_CODE; }
/* A constant, non-NULL argument? */
static inline int ts_xconst(const ts_xnode *a) { return a->is_const && a->valid[0]; }

/* Frees a bound node and its arguments. */
void ts_xfree(ts_xnode *n);
/* Evaluates n (and, unless n is lazy, its arguments first) for rows [start, start + m). */
ts_err ts_xeval(ts_xnode *n, int64_t start, int m, const uint8_t *active);
/* Makes args[i] of n have the given type: adopts an untyped NULL, else wraps it in an implicit CAST (folded and
 * checked at once when constant: failure is a TS_ERR_USAGE naming n and the argument position). */
ts_err ts_xcoerce(ts_xnode *n, int i, ts_xtype type, int scale, const ts_dict *dict);
/* Requires args[i] to be a string: DICT becomes its STRING view, NULL adopts STRING; anything else fails. */
ts_err ts_xneed_str(ts_xnode *n, int i);
/* Requires args[i] to be an integer (NULL adopts INT64). */
ts_err ts_xneed_int(ts_xnode *n, int i);
/* Requires args[i] to be a DATE; a string constant is parsed (NULL adopts DATE). */
ts_err ts_xneed_date(ts_xnode *n, int i);
/* Requires args[i] to be a DATE or a TIMESTAMP (kept as it is); a string constant is parsed as a TIMESTAMP when it
 * has a time part, else as a DATE (NULL adopts DATE). Sets *is_ts. */
ts_err ts_xneed_date_or_ts(ts_xnode *n, int i, int *is_ts);
/* Common value type of the arguments of n with use[i] set (all when use is NULL), for CASE, COALESCE, greatest,
 * IN: fails naming n when incompatible. A string constant adopts the others' type (parsed when cast). Casts
 * nothing; an all-NULL set gives TS_XT_NULL. */
ts_err ts_xunify(ts_xnode *n, const uint8_t *use, ts_xtype *type, int *scale, const ts_dict **dict);
/* Ensures n->buf holds `bytes` bytes; pointers into it stay valid for the rest of the vector only when every
 * reserve of the vector happens before writing (kernels reserve their whole vector first). */
ts_err ts_xreserve(ts_xnode *n, size_t bytes);
/* Rows flagged in bad[0..m) (valid rows that cannot be computed): inactive ones (or all, when nullify) become NULL;
 * returns the first active one, or -1. */
int ts_xbad(ts_xnode *n, const uint8_t *bad, int m, const uint8_t *active, int nullify);
/* The INTERVAL values of a node of type TS_XT_IV (16 bytes a row, like a string view). */
static inline ts_interval *ts_xiv(const ts_xnode *n) { return (ts_interval *)(void *)n->v.s; }

/* Copies row k of src's values into row k of dst (same type). */
static inline void ts_xcopy_row(ts_xnode *dst, const ts_xnode *src, int k)
{
    if (dst->type == TS_XT_STRING || dst->type == TS_XT_IV)
        dst->v.s[k] = src->v.s[k];
    else
        dst->v.i[k] = src->v.i[k];
}
/* The string of a dictionary code (empty for a code out of range: NULL rows may hold anything). */
static inline ts_sv ts_xdict_sv(const ts_dict *d, int64_t code)
{
    ts_sv s = {"", 0};
    if (code >= 0 && code < d->n)
        s.p = ts_dict_value(d, (int32_t)code, &s.n);
    return s;
}
/* Value of a numeric row as a double (DEC divided by 10^scale). */
double ts_xas_double(const ts_xnode *n, int k);
extern const int64_t ts_xpow10[19];

/* Calendar helpers safe for any int64 day number (clamped into the range the civil algorithms handle). */
#define TS_XDATE_MIN INT64_C(-2000000000)
#define TS_XDATE_MAX INT64_C(2000000000)
static inline int64_t ts_xclampd(int64_t d)
{
    return d < TS_XDATE_MIN ? TS_XDATE_MIN : d > TS_XDATE_MAX ? TS_XDATE_MAX : d;
}
void ts_xcivil(int64_t days, int *y, int *m, int *d);
/* YYYY-MM-DD (years past 9999 longer, years <= 0 as DuckDB: "0044-03-15 (BC)") into out; returns the length. */
int ts_xformat_date(int64_t days, char *out);
/* Day number and microseconds into the day of a TIMESTAMP row value (floor division). */
static inline void ts_xsplit_ts(int64_t us, int64_t *days, int64_t *of_day)
{
    int64_t d = us / INT64_C(86400000000), r = us % INT64_C(86400000000);
    if (r < 0)
        d--, r += INT64_C(86400000000);
    *days = d, *of_day = r;
}
/* Lenient date text as DuckDB's CAST: blanks, year digits, '-' or '/', month and day of 1-2 digits, then
 * nothing, blanks, or a time part after ' ' or 'T'. Returns 1 and *days on success. */
int ts_xparse_date(const char *s, int64_t n, int64_t *days);

/* ---- operator families: bind (check and coerce arguments, set type and eval) ----------------------------- */

ts_err ts_xbind_compare(ts_xnode *n);  /* = <> < <= > >=, IN, NULLIF, greatest, least */
/* A filter's fast path: when n compares a column leaf with a constant (int64 or int32 values, or dictionary codes
 * against a text constant), writes the rows of rows[0 .. m) (the chunk's, ascending; out may alias rows) where it
 * is true into out, reading the column directly, and returns how many; -1 when n is not such a comparison. */
int ts_xfilter_compare(const ts_xnode *n, const int32_t *rows, int m, int32_t *out);
ts_err ts_xbind_logic(ts_xnode *n);    /* AND OR NOT, IS NULL, CASE, COALESCE */
ts_err ts_xbind_math(ts_xnode *n);     /* + - * / % //, NEG, abs, round, floor, ceil, pow, sqrt, ln, ... */
ts_err ts_xbind_cast(ts_xnode *n);     /* CAST, TRY_CAST, TO_FLOAT (target in n->type / scale) */
ts_err ts_xbind_string(ts_xnode *n);   /* ||, LIKE, upper, trim, substr, ... */
ts_err ts_xbind_date(ts_xnode *n);     /* month_start, year, date_trunc, date_part, strftime, strptime */
ts_err ts_xbind_interval(ts_xnode *n); /* to_interval; + - * with an INTERVAL operand; TIMESTAMP - TIMESTAMP */
/* Whether + - * of n's (typed) arguments is interval arithmetic, which ts_xbind_interval binds. */
int ts_xis_interval_arith(const ts_xnode *n);

/* Casts (ts_expr_cast.c), shared with other families. */
/* Shortest text of x that reads back exactly, DuckDB style ("0.1", "1e+20", "100.0", "nan", "-inf"); returns the
 * length (at most 32). */
int ts_xformat_double(double x, char *out);

#endif
