/* Named windows: a SELECT's WINDOW clause and the OVER clauses that refer to it (OVER w, OVER (w ORDER BY ..)).
 * Names are resolved here, before the window's expressions are bound, with PostgreSQL's rules: a window built on
 * another takes its PARTITION BY (it may not write one), adds an ORDER BY only when the base has none, and may
 * not copy a window that has a frame (OVER w, without parentheses, uses such a window as it is). A WINDOW
 * definition builds only on one defined before it, so chains resolve in one pass and cannot loop. Names are local
 * to their SELECT block (a subquery sees none of its enclosing block's) and compared case-insensitively, as column
 * names are. */
#include <strings.h>

#include "ts_sql_bind.h"
#include "ts_sql_parse.h"

static const ts_sql_named_window *find(const ts_sql_named_window *list, int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (!strcasecmp(list[i].name, name))
            return &list[i];
    return NULL;
}

/* w built on the window its ref names among defs[0..ndefs) (already resolved); later[0..nlater) are the
 * definitions written after it, named in the error when ref is one of them. in_over: w is an OVER clause. */
static ts_err resolve(ts_sql_binder *b, const ts_sql_window *w, const ts_sql_named_window *defs, int ndefs,
                      const ts_sql_named_window *later, int nlater, int in_over, const ts_sql_window **out)
{
    const ts_sql_named_window *base = find(defs, ndefs, w->ref);
    if (!base && find(later, nlater, w->ref))
        return ts_sql_error_at(b->src, w->ref_pos, TS_ERR_USAGE,
                               "window \"%s\" is defined after the window that refers to it (a WINDOW definition "
                               "may build only on one written before it)", w->ref);
    if (!base)
        return ts_sql_error_at(b->src, w->ref_pos, TS_ERR_USAGE, "window \"%s\" does not exist%s", w->ref,
                               ndefs + nlater ? ""
                                              : " (this SELECT has no WINDOW clause; a WINDOW clause serves only "
                                                "its own SELECT)");
    const ts_sql_window *d = base->def;
    if (w->bare) {
        *out = d;
        return TS_OK;
    }
    if (w->npartition)
        return ts_sql_error_at(b->src, w->partition_pos, TS_ERR_USAGE,
                               "cannot override PARTITION BY clause of window \"%s\" (a window built on another "
                               "takes its PARTITION BY)", base->name);
    if (w->norder && d->norder)
        return ts_sql_error_at(b->src, w->order_pos, TS_ERR_USAGE,
                               "cannot override ORDER BY clause of window \"%s\" (it has one; only a window "
                               "without ORDER BY can be given one)", base->name);
    if (d->has_frame)
        return ts_sql_error_at(b->src, w->ref_pos, TS_ERR_USAGE,
                               "cannot copy window \"%s\" because it has a frame clause%s", base->name,
                               in_over ? " (write OVER without parentheses to use it as it is)" : "");
    ts_sql_window *r = ts_sql_alloc(b->script, sizeof *r);
    if (!r)
        return ts_sql_error_at(b->src, w->ref_pos, TS_ERR_NOMEM, "out of memory");
    *r = *w; /* its own ORDER BY (when given) and frame */
    r->ref = NULL, r->bare = 0;
    r->partition = d->partition, r->npartition = d->npartition, r->partition_pos = d->partition_pos;
    if (!w->norder)
        r->order = d->order, r->norder = d->norder, r->order_pos = d->order_pos;
    *out = r;
    return TS_OK;
}

ts_err ts_sql_bind_window_clause(ts_sql_binder *b, const ts_sql_select *s)
{
    b->windows = NULL, b->nwindows = 0;
    if (!s->nwindows)
        return TS_OK;
    ts_sql_named_window *defs = ts_sql_alloc(b->script, sizeof *defs * (size_t)s->nwindows);
    if (!defs)
        return ts_sql_error_at(b->src, s->pos, TS_ERR_NOMEM, "out of memory");
    for (int i = 0; i < s->nwindows; i++) {
        const ts_sql_named_window *w = &s->windows[i], *dup = find(s->windows, i, w->name);
        if (dup)
            return ts_sql_error_at(b->src, w->pos, TS_ERR_USAGE,
                                   "window \"%s\" is already defined (at line %d, column %d)", w->name,
                                   dup->pos.line, dup->pos.col);
        defs[i] = *w;
        if (w->def->ref && !strcasecmp(w->def->ref, w->name))
            return ts_sql_error_at(b->src, w->def->ref_pos, TS_ERR_USAGE, "window \"%s\" refers to itself",
                                   w->name);
        if (w->def->ref) {
            const ts_sql_window *r = NULL;
            TS_TRY(resolve(b, w->def, defs, i, s->windows + i + 1, s->nwindows - i - 1, 0, &r));
            defs[i].def = (ts_sql_window *)r;
        }
    }
    b->windows = defs, b->nwindows = s->nwindows;
    return TS_OK;
}

ts_err ts_sql_resolve_window(ts_sql_binder *b, const ts_sql_window *w, const ts_sql_window **out)
{
    *out = w;
    return w->ref ? resolve(b, w, b->windows, b->nwindows, NULL, 0, 1, out) : TS_OK;
}
