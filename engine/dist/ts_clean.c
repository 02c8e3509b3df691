#include "ts_clean.h"
#include "ts_clean_part.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ts_csv_table.h"
#include "ts_exchange.h"
#include "ts_mem.h"
#include "ts_rowset.h"
#include "ts_spill.h"
#include "ts_table_rules.h"

/* ---- @FILE values ------------------------------------------------------------------------------------------ */

/* The column's strings as NUL-terminated copies, handed to ts_rules_set_values. */
static ts_err set_values_from(ts_rules *rules, int field, const ts_column *col)
{
    const int64_t n = col->len, *off = TS_COL(col, int64_t);
    if (n < 1 || n > 64)
        TS_FAIL(TS_ERR_USAGE, "column '%s': values=@%s:%s has %lld values (1 to 64 are accepted)",
                rules->spec.fields[field].name, rules->ref_file[field], rules->ref_column[field], (long long)n);
    char **v = calloc((size_t)n, sizeof *v);
    ts_err err = v ? TS_OK : ts_error_raise(TS_ERR_NOMEM, __FILE__, __LINE__, __func__, "out of memory");
    for (int64_t i = 0; !err && i < n; i++)
        if (!(v[i] = strndup(col->bytes + off[i], (size_t)(off[i + 1] - off[i]))))
            err = ts_error_raise(TS_ERR_NOMEM, __FILE__, __LINE__, __func__, "out of memory copying values");
    if (!err)
        err = ts_rules_set_values(rules, field, (const char *const *)v, (int)n);
    for (int64_t i = 0; v && i < n; i++)
        free(v[i]);
    free(v);
    return err;
}

/* Rank 0 reads FILE's COLUMN as text. */
static ts_err read_values(const ts_rules *rules, int field, const char *ref_dir, ts_table **out)
{
    const char *file = rules->ref_file[field];
    char path[4200];
    const int len = file[0] == '/' || !ref_dir ? snprintf(path, sizeof path, "%s", file)
                                               : snprintf(path, sizeof path, "%s/%s", ref_dir, file);
    if (len < 0 || (size_t)len >= sizeof path)
        TS_FAIL(TS_ERR_USAGE, "reference file path too long: %s/%s", ref_dir ? ref_dir : ".", file);
    const ts_ref_column rc = {rules->ref_column[field], TS_REF_STRING};
    return ts_read_csv_table(path, &rc, 1, out);
}

ts_err ts_clean_resolve_values(ts_ctx *ctx, ts_rules *rules, const char *ref_dir)
{
    for (int f = 0; f < rules->spec.nfields; f++) {
        if (!rules->ref_file[f] || rules->spec.fields[f].accepted) /* inline, or supplied by the caller */
            continue;
        ts_table *t = NULL;
        ts_err err = ctx->rank == 0 ? read_values(rules, f, ref_dir, &t) : TS_OK;
        TS_TRY(ts_ctx_check(ctx, err));
        err = ts_broadcast_table(ctx, &t, 0);
        if (!err)
            err = set_values_from(rules, f, t->cols[0]);
        ts_table_free(t);
        TS_TRY(ts_ctx_check(ctx, err));
    }
    return ts_rules_check_complete(rules); /* the same rules everywhere: every rank gets the same answer */
}

/* ---- duplicates -------------------------------------------------------------------------------------------- */

/* Removes column `name` from t (keeping the order of the others) and returns it, or NULL when absent. */
static ts_column *take_column(ts_table *t, const char *name)
{
    for (int i = 0; i < t->ncols; i++)
        if (strcmp(t->cols[i]->name, name) == 0) {
            ts_column *c = t->cols[i];
            memmove(t->cols + i, t->cols + i + 1, sizeof *t->cols * (size_t)(t->ncols - i - 1));
            t->ncols--;
            return c;
        }
    return NULL;
}

/* Whether the ranks' clean rows, rank after rank, are in input order: so when the ranks read consecutive byte
 * ranges (plain files), not always with gzip files (whole files go to ranks by size). Then an exchange delivers
 * rows in input order (by source rank, then source order), and positions need not travel. Collective. */
static ts_err ranks_in_input_order(ts_ctx *ctx, const ts_table *clean, int *ordered)
{
    const ts_column *pos = ts_table_col(clean, "__pos");
    const int64_t n = pos->len, *p = TS_COL(pos, int64_t), mine[2] = {n ? p[0] : -1, n ? p[n - 1] : -1};
    int64_t *all = malloc(sizeof mine * (size_t)ctx->size);
    TS_TRY(ts_ctx_check(ctx, all ? TS_OK : ts_error_raise(TS_ERR_NOMEM, __FILE__, __LINE__, __func__, "oom")));
    const int rc = MPI_Allgather(mine, 2, MPI_INT64_T, all, 2, MPI_INT64_T, ctx->comm);
    int64_t last = -1;
    *ordered = 1;
    for (int r = 0; r < ctx->size; r++)
        if (all[2 * r] >= 0) { /* ranks without rows do not count */
            *ordered &= all[2 * r] > last;
            last = all[2 * r + 1];
        }
    free(all);
    return ts_mpi_status(rc, "MPI_Allgather of position ranges", __FILE__, __LINE__, __func__);
}

/* The judging rank of a line hash: its high 32 bits scaled to [0, P) (a multiply, not a division; the hash set
 * below mixes both words, so one rank's share does not crowd its slots). Recomputed where needed rather than kept
 * per row: an array of them was 4 bytes a row of fresh memory. */
static inline int hash_dest(uint64_t hi, int p) { return (int)(((hi >> 32) * (uint64_t)p) >> 32); }

/* counts[r] = the clean rows whose line rank r judges. */
static void route_by_hash(const ts_ctx *ctx, const ts_table *clean, int64_t *counts)
{
    const int64_t n = ts_table_rows(clean);
    const uint64_t *hi = TS_COL(ts_table_col(clean, "__hash_hi"), uint64_t);
    if (ctx->size == 1) {
        counts[0] = n;
        return;
    }
    for (int64_t i = 0; i < n; i++)
        counts[hash_dest(hi[i], ctx->size)]++;
}

/* later[i] = 1 for every line hash i of n seen before: earlier in delivery order when that is the input order
 * (pos NULL), else with a smaller position. Row i's hash is lo[i * stride], hi[i * stride] (and pos[i * stride]):
 * the clean table's columns (stride 1) or the exchange's records. ts_dedup's method, marking only: the hashes
 * stay put. */
static ts_err mark_later(const uint64_t *lo, const uint64_t *hi, const int64_t *pos, uint64_t stride, int64_t n,
                         uint8_t *later)
{
    if (n >= (INT64_C(1) << 32))
        TS_FAIL(TS_ERR_USAGE, "duplicate detection over %lld lines on one rank: at most 2^32", (long long)n);
    const uint64_t nslots = ts_rowset_slots(n);
    uint64_t *slots;
    TS_TRY(ts_calloc(nslots * sizeof *slots, (void **)&slots));
    ts_rowset set;
    ts_rowset_init_strided(&set, slots, nslots, lo, hi, stride);
    uint32_t first[1024];
    for (int64_t base = 0; base < n; base += 1024) {
        const uint32_t m = (uint32_t)(n - base < 1024 ? n - base : 1024);
        ts_rowset_insert_many(&set, NULL, (uint32_t)base, m, first);
        for (uint32_t k = 0; k < m; k++) {
            const uint32_t i = (uint32_t)base + k;
            if (first[k] == i)
                continue;
            if (!pos) {
                later[i] = 1;
                continue;
            }
            /* keep the earliest copy in the slot, whichever rank's hash arrived first */
            uint64_t *slot = ts_rowset_insert(&set, i);
            const uint32_t f = ts_rowset_row(slot);
            if (pos[i * stride] < pos[f * stride])
                later[f] = 1, ts_rowset_set_row(slot, i);
            else
                later[i] = 1;
        }
    }
    ts_free(slots);
    return TS_OK;
}

/* The verdicts, addressed to the ranks that read the lines: for each later copy, its ordinal among the hashes
 * its source sent here. Delivered hashes come ordered by source rank (ts_exchange.h), from[r] of them from r;
 * named[r] counts the verdicts for r. */
static ts_err verdicts(const ts_ctx *ctx, int64_t n, const uint8_t *later, const int64_t *from, ts_table **out,
                       int32_t **back, int64_t *named)
{
    int64_t m = 0;
    for (int64_t i = 0; i < n; i++)
        m += later[i];
    ts_column *k;
    TS_TRY(ts_table_new("later_copies", out));
    TS_TRY(ts_table_add(*out, "__k", TS_T_INT64, 0, NULL, &k));
    TS_TRY(ts_column_reserve(k, m, 0));
    if (!(*back = malloc(4 * (size_t)(m + 1))))
        TS_FAIL(TS_ERR_NOMEM, "out of memory returning %lld duplicates", (long long)m);
    int r = 0;
    for (int64_t i = 0, start = 0, end = from[0]; i < n; i++) {
        while (i >= end && r + 1 < ctx->size)
            start = end, end += from[++r];
        if (later[i])
            (*back)[k->len] = r, TS_COL(k, int64_t)[k->len++] = i - start, named[r]++;
    }
    return TS_OK;
}

/* This rank's rows named by the verdicts, ascending: the k-th hash sent to rank d is the k-th row whose
 * destination is d. The verdicts come ordered by judging rank, named[d] from rank d, ascending k within. */
static ts_err named_rows(const ts_ctx *ctx, const uint64_t *hi, int64_t n, const ts_table *home,
                         const int64_t *named, int64_t **out, int64_t *nout)
{
    const int64_t m = ts_table_rows(home), *k = m ? TS_COL(ts_table_col(home, "__k"), int64_t) : NULL;
    int64_t *next = calloc(3 * (size_t)ctx->size, sizeof *next), *end = next + ctx->size, *seen = end + ctx->size;
    int64_t *rows = malloc(8 * (size_t)(m + 1)), c = 0;
    if (!next || !rows) {
        free(next), free(rows);
        TS_FAIL(TS_ERR_NOMEM, "out of memory locating %lld duplicates", (long long)m);
    }
    for (int d = 0; d < ctx->size; d++)
        next[d] = d ? end[d - 1] : 0, end[d] = next[d] + named[d];
    for (int64_t i = 0; i < n && c < m; i++) {
        const int d = hash_dest(hi[i], ctx->size);
        if (next[d] < end[d] && k[next[d]] == seen[d])
            rows[c++] = i, next[d]++;
        seen[d]++;
    }
    free(next);
    if (c != m) {
        free(rows);
        TS_FAIL(TS_ERR_INTERNAL, "%lld of %lld duplicate verdicts match no row of this rank", (long long)(m - c),
                (long long)m);
    }
    *out = rows, *nout = m;
    return TS_OK;
}

/* Where pack_round is in the clean rows' line hashes (and positions when words = 3). */
typedef struct hash_pack {
    const uint64_t *lo, *hi;
    const int64_t *pos;
    int64_t n, next; /* rows, the first row not yet packed */
    int words, p;
} hash_pack;

/* ts_stage_fill_fn: the next rows' records {lo, hi[, pos]} into their destination's region, in input order. */
static int pack_round(void *arg, char *stage, int64_t cap, int64_t *count)
{
    hash_pack *hp = arg;
    const int words = hp->words;
    uint64_t *base = (uint64_t *)stage;
    int64_t i = hp->next;
    for (; i < hp->n; i++) {
        const int d = hash_dest(hp->hi[i], hp->p);
        if (count[d] == cap)
            break;
        uint64_t *w = base + (size_t)words * (size_t)(d * cap + count[d]++);
        w[0] = hp->lo[i], w[1] = hp->hi[i];
        if (words == 3)
            w[2] = (uint64_t)hp->pos[i];
    }
    hp->next = i;
    return i < hp->n;
}

/* Stage of the hash exchange: large enough that rounds are few, small enough to stay resident between them. */
#define HASH_STAGE_BYTES ((size_t)4 << 20)

/* Moves this rank's line hashes to their judging ranks: *recv (ts_free) gets counts[p + r] records of `words`
 * uint64 from each rank r, ordered by source rank, then source order. The records are packed a round at a time
 * into a small stage (ts_exchange_staged): a send buffer as large as the hashes was fresh memory, whose page
 * faults cost more than the exchange (docs/scaling.md). */
static ts_err send_hashes(ts_ctx *ctx, const ts_table *clean, const int64_t *counts, int words,
                          uint64_t **recv)
{
    const int p = ctx->size;
    int64_t nrecv = 0;
    for (int r = 0; r < p; r++)
        nrecv += counts[p + r];
    ts_err err = TS_OK;
    if (!(*recv = ts_big(8 * (size_t)words * (size_t)(nrecv + 1))))
        err = ts_error_raise(TS_ERR_NOMEM, __FILE__, __LINE__, __func__, "out of memory receiving %lld line hashes",
                             (long long)nrecv);
    TS_TRY(ts_ctx_check(ctx, err));
    hash_pack hp = {TS_COL(ts_table_col(clean, "__hash_lo"), uint64_t),
                    TS_COL(ts_table_col(clean, "__hash_hi"), uint64_t),
                    TS_COL(ts_table_col(clean, "__pos"), int64_t), ts_table_rows(clean), 0, words, p};
    return ts_exchange_staged(ctx, 8 * (size_t)words, HASH_STAGE_BYTES, pack_round, &hp, *recv, counts + p);
}

/* This rank's clean rows (local indexes, ascending, malloc'ed) whose line copies an earlier line. Only line
 * hashes travel (with positions when the ranks' rows are not in input order): partitioned by hash, all copies
 * of a line meet on one rank, which sends back a verdict for each later copy. On one rank nothing moves: the
 * hash columns are judged where they are. The hash columns leave clean. */
static ts_err later_copies(ts_ctx *ctx, ts_table *clean, int64_t **out, int64_t *nout)
{
    const int p = ctx->size;
    ts_table *home = NULL;
    int32_t *back = NULL; /* ranks of the verdicts */
    uint8_t *later = NULL;
    uint64_t *recv = NULL;
    int ordered = 0;
    int64_t *counts = calloc(4 * (size_t)p, sizeof *counts); /* hashes sent, received; verdicts sent, received */
    ts_err err = ts_ctx_check(ctx, counts ? TS_OK : ts_error_raise(TS_ERR_NOMEM, __FILE__, __LINE__, __func__,
                                                                    "out of memory"));
    if (!err)
        err = ranks_in_input_order(ctx, clean, &ordered);
    if (!err)
        route_by_hash(ctx, clean, counts);
    err = ts_ctx_check(ctx, err);
    if (!err)
        err = ts_mpi_status(MPI_Alltoall(counts, 1, MPI_INT64_T, counts + p, 1, MPI_INT64_T, ctx->comm),
                            "MPI_Alltoall of line-hash counts", __FILE__, __LINE__, __func__);
    const int words = ordered ? 2 : 3;
    if (!err && p > 1) {
        err = send_hashes(ctx, clean, counts, words, &recv);
        ts_column_free(take_column(clean, "__hash_lo")); /* sent; __hash_hi still routes the verdicts */
    }
    int64_t nkeys = 0; /* hashes this rank judges */
    for (int r = 0; !err && r < p; r++)
        nkeys += counts[p + r];
    if (!err && !(later = ts_big_zero((size_t)nkeys + 1)))
        err = ts_error_raise(TS_ERR_NOMEM, __FILE__, __LINE__, __func__, "out of memory");
    if (!err && p > 1)
        err = mark_later(recv, recv + 1, ordered ? NULL : (const int64_t *)(recv + 2), (uint64_t)words, nkeys, later);
    else if (!err)
        err = mark_later(TS_COL(ts_table_col(clean, "__hash_lo"), uint64_t),
                         TS_COL(ts_table_col(clean, "__hash_hi"), uint64_t),
                         ordered ? NULL : TS_COL(ts_table_col(clean, "__pos"), int64_t), 1, nkeys, later);
    ts_free(recv);
    ts_column_free(take_column(clean, "__hash_lo")); /* judged: clean has no further use for it */
    if (!err)
        err = verdicts(ctx, nkeys, later, counts + p, &home, &back, counts + 2 * p);
    ts_free(later);
    err = ts_ctx_check(ctx, err);
    if (!err)
        err = ts_mpi_status(MPI_Alltoall(counts + 2 * p, 1, MPI_INT64_T, counts + 3 * p, 1, MPI_INT64_T, ctx->comm),
                            "MPI_Alltoall of verdict counts", __FILE__, __LINE__, __func__);
    if (!err)
        err = ts_exchange_rows_move(ctx, &home, back);
    if (!err)
        err = named_rows(ctx, TS_COL(ts_table_col(clean, "__hash_hi"), uint64_t), ts_table_rows(clean), home,
                         counts + 3 * p, out, nout);
    ts_column_free(take_column(clean, "__hash_hi"));
    ts_table_free(home), free(back), free(counts);
    return err;
}

/* Moves the clean rows rows[0..n) (ascending) to the rejects with `reason` and their raw lines. In partitioned
 * mode the raw lines are fetched later, all at once (ts_clean_fetch_pending): fetching walks the input, and
 * walking it once per partition would read it nparts times. */
static ts_err reject_rows(ts_clean *c, const int64_t *rows, int64_t n, int reason)
{
    ts_scan *s = &c->scan;
    ts_table *clean = s->clean, *rej = s->rejects;
    const int64_t m = ts_table_rows(clean), *cpos = TS_COL(ts_table_col(clean, "__pos"), int64_t);
    int64_t *keep = ts_big(8 * (size_t)(m + 1)), *pos = malloc(8 * (size_t)(n + 1)), nk = 0;
    if (!keep || !pos) {
        ts_free(keep), free(pos);
        TS_FAIL(TS_ERR_NOMEM, "out of memory rejecting duplicates");
    }
    for (int64_t i = 0, j = 0; i < m; i++) {
        if (j < n && rows[j] == i)
            pos[j++] = cpos[i];
        else
            keep[nk++] = i;
    }
    ts_err err = c->nparts > 1 ? ts_clean_defer_lines(c, pos, n)
                               : ts_scan_fetch_lines(s, pos, n, ts_table_col(rej, "raw_line"));
    ts_column *rpos = ts_table_col(rej, "__pos"), *why = ts_table_col(rej, "reason");
    if (!err)
        err = ts_column_reserve(rpos, rpos->len + n, 0);
    if (!err)
        err = ts_column_reserve(why, why->len + n, 0);
    for (int64_t k = 0; !err && k < n; k++)
        TS_COL(rpos, int64_t)[rpos->len++] = pos[k], TS_COL(why, int32_t)[why->len++] = reason;
    if (!err && n)
        ts_table_keep_rows(clean, keep, nk);
    ts_free(keep), free(pos);
    return err;
}

ts_err ts_clean_dedup(ts_ctx *ctx, ts_clean *c)
{
    if (c->deduped || !c->scan.clean) /* done, or every partition taken */
        return TS_OK;
    c->deduped = 1;
    if (c->rules->duplicate_reason < 0) /* these rules keep duplicates (and the scan hashed nothing) */
        return TS_OK;
    int64_t *rows = NULL, n = 0;
    ts_err err = later_copies(ctx, c->scan.clean, &rows, &n);
    if (!err) {
        err = reject_rows(c, rows, n, c->rules->duplicate_reason);
        c->rows_duplicate += n; /* partitioned mode dedups partition by partition */
    }
    free(rows);
    return ts_ctx_check(ctx, err);
}

/* ---- steps, rejects, counts -------------------------------------------------------------------------------- */

/* ts_clean_begin's work; opts NULL scans in one piece (ts_scan_opts). */
static ts_err begin_with(ts_ctx *ctx, const ts_file_info *files, int nfiles, ts_rules *rules, const char *ref_dir,
                         const ts_scan_opts *opts, ts_clean *c)
{
    if (rules->spec.skip_blank) /* the same rules on every rank: all fail here together */
        TS_FAIL(TS_ERR_USAGE, "cleaning rules for '%s': blank lines must be rows (skip_blank is not supported), so "
                              "that every line ends in the clean rows or the rejects", rules->table);
    ts_err err = ts_clean_resolve_values(ctx, rules, ref_dir);
    if (!err)
        err = ts_scan_csv_files_opts(ctx, files, nfiles, &rules->spec, opts, &c->scan);
    if (!err)
        err = ts_apply_table_rules(ctx, rules, ref_dir ? ref_dir : ".", &c->scan, NULL);
    if (err) {
        ts_clean_free(c);
        TS_TRY(err);
    }
    snprintf(c->scan.clean->name, sizeof c->scan.clean->name, "%s", rules->table);
    return TS_OK;
}

ts_err ts_clean_begin(ts_ctx *ctx, const ts_file_info *files, int nfiles, ts_rules *rules, const char *ref_dir,
                      ts_clean *c)
{
    memset(c, 0, sizeof *c);
    c->rules = rules;
    return begin_with(ctx, files, nfiles, rules, ref_dir, NULL, c);
}

ts_err ts_clean_begin_partitioned(ts_ctx *ctx, const ts_file_info *files, int nfiles, ts_rules *rules,
                                  const char *ref_dir, int nparts, int64_t chunk_bytes, const char *spill_dir,
                                  ts_clean_part_fn part_of, void *arg, ts_clean *c)
{
    memset(c, 0, sizeof *c);
    c->rules = rules, c->nparts = nparts, c->part_of = part_of, c->part_arg = arg;
    if (rules->ntable_rules) /* the same rules on every rank: all fail here together */
        TS_FAIL(TS_ERR_USAGE, "cleaning rules for '%s' have table rules (unique, references, outlier), which need "
                              "every row in memory at once: raise --memory-limit", rules->table);
    c->spill_dir = spill_dir;
    const ts_scan_opts opts = {chunk_bytes, ts_clean_spill_piece, c};
    return begin_with(ctx, files, nfiles, rules, ref_dir, &opts, c);
}

typedef struct pos_row {
    int64_t pos, row;
} pos_row;

static int cmp_pos_row(const void *a, const void *b)
{
    const int64_t x = ((const pos_row *)a)->pos, y = ((const pos_row *)b)->pos;
    return (x > y) - (x < y);
}

ts_err ts_clean_pos_order(const int64_t *p, int64_t n, int64_t **order)
{
    int64_t i = 1;
    while (i < n && p[i] > p[i - 1])
        i++;
    *order = NULL;
    if (i >= n)
        return TS_OK;
    pos_row *pr = malloc(sizeof *pr * (size_t)n);
    int64_t *o = malloc(sizeof *o * (size_t)n);
    if (!pr || !o) {
        free(pr), free(o);
        TS_FAIL(TS_ERR_NOMEM, "out of memory ordering %lld positions", (long long)n);
    }
    for (i = 0; i < n; i++)
        pr[i] = (pos_row){p[i], i};
    qsort(pr, (size_t)n, sizeof *pr, cmp_pos_row);
    for (i = 0; i < n; i++)
        o[i] = pr[i].row;
    free(pr);
    *order = o;
    return TS_OK;
}

/* The public rejects layout, in input order, from the scan's (__pos, reason, raw_line). */
static ts_err rejects_table(const ts_scan *s, const ts_rules *rules, ts_table **out)
{
    ts_table *t = NULL;
    ts_dict *names;
    ts_column *file, *line, *why, *raw, *rpos;
    TS_TRY(ts_dict_new((const char *const *)rules->reasons, rules->nreasons, &names));
    ts_err err = ts_table_new("rejects", &t);
    if (!err)
        err = ts_table_add(t, "file", TS_T_STRING, 0, NULL, &file);
    if (!err)
        err = ts_table_add(t, "line", TS_T_INT64, 0, NULL, &line);
    if (!err)
        err = ts_table_add(t, "reason", TS_T_DICT, 0, names, &why);
    if (!err)
        err = ts_table_add(t, "raw_line", TS_T_STRING, 0, NULL, &raw);
    if (!err)
        err = ts_table_add(t, "__pos", TS_T_INT64, 0, NULL, &rpos);
    ts_dict_release(names); /* the column holds its own reference */
    if (err) {
        ts_table_free(t);
        return err;
    }
    *out = t;
    const ts_column *pos = ts_table_col(s->rejects, "__pos"), *code = ts_table_col(s->rejects, "reason");
    int64_t *order; /* they come per range, then per table rule, then the duplicates */
    TS_TRY(ts_clean_pos_order(TS_COL(pos, int64_t), pos->len, &order));
    const int64_t n = pos->len, *p = TS_COL(pos, int64_t);
    int64_t bytes = 0;
    for (int64_t i = 0; i < n; i++)
        bytes += (int64_t)strlen(ts_file_base(&s->files[ts_pos_file(p[i])]));
    err = ts_column_reserve(file, n, bytes);
    if (!err)
        err = ts_column_reserve(line, n, 0);
    if (!err)
        err = ts_column_reserve(why, n, 0);
    for (int64_t k = 0; !err && k < n; k++) {
        const int64_t i = order ? order[k] : k;
        const char *base = ts_file_base(&s->files[ts_pos_file(p[i])]);
        err = ts_column_append_string(file, base, (int64_t)strlen(base));
        TS_COL(line, int64_t)[k] = ts_pos_line(p[i]), TS_COL(why, int32_t)[k] = TS_COL(code, int32_t)[i];
    }
    if (!err) {
        line->len = why->len = n;
        err = ts_column_append_rows(raw, ts_table_col(s->rejects, "raw_line"), order, n);
    }
    if (!err)
        err = ts_column_append_rows(rpos, pos, order, n);
    free(order);
    return err;
}

/* Global counts: rows read, clean rows, rejects per reason; checks that every row is accounted for. */
static ts_err global_counts(ts_ctx *ctx, const ts_clean *c, const ts_table *rej, ts_clean_result *out)
{
    const int nr = c->rules->nreasons;
    int64_t local[2 + TS_RULES_MAX_REASONS] = {c->scan.rows_read,
                                               c->rows_taken + (c->scan.clean ? ts_table_rows(c->scan.clean) : 0)};
    int64_t all[2 + TS_RULES_MAX_REASONS];
    const ts_column *why = ts_table_col(rej, "reason");
    for (int64_t i = 0; i < why->len; i++)
        local[2 + TS_COL(why, int32_t)[i]]++;
    TS_MPI(MPI_Allreduce(local, all, 2 + nr, MPI_INT64_T, MPI_SUM, ctx->comm));
    out->rows_read = all[0], out->rows_clean = all[1], out->nreasons = nr;
    for (int i = 0; i < nr; i++) {
        out->reason_counts[i] = all[2 + i];
        out->rows_rejected += all[2 + i];
    }
    if (out->rows_read != out->rows_clean + out->rows_rejected)
        TS_FAIL(TS_ERR_INTERNAL, "cleaning '%s': %lld rows read but %lld clean + %lld rejected", c->rules->table,
                (long long)out->rows_read, (long long)out->rows_clean, (long long)out->rows_rejected);
    return TS_OK;
}

ts_err ts_clean_finish(ts_ctx *ctx, ts_clean *c, ts_clean_result *out)
{
    memset(out, 0, sizeof *out);
    TS_TRY(ts_clean_dedup(ctx, c));
    ts_table *rej = NULL;
    ts_err err = ts_clean_fetch_pending(c);
    if (!err)
        err = rejects_table(&c->scan, c->rules, &rej);
    err = ts_ctx_check(ctx, err);
    if (!err)
        err = global_counts(ctx, c, rej, out);
    if (err) {
        ts_table_free(rej);
        memset(out, 0, sizeof *out);
        return err;
    }
    out->clean = c->scan.clean, out->rejects = rej;
    c->scan.clean = NULL;
    ts_scan_free(&c->scan); /* unmaps the input: every raw line a reject needs has been copied */
    return TS_OK;
}

void ts_clean_free(ts_clean *c)
{
    ts_spill_close(c->spill);
    free(c->order), ts_free(c->pending);
    ts_scan_free(&c->scan);
    memset(c, 0, sizeof *c);
}

ts_err ts_clean_scan(ts_ctx *ctx, const ts_file_info *files, int nfiles, ts_rules *rules, const char *ref_dir,
                     ts_clean_result *out)
{
    ts_clean c;
    memset(out, 0, sizeof *out);
    TS_TRY(ts_clean_begin(ctx, files, nfiles, rules, ref_dir, &c));
    const ts_err err = ts_clean_finish(ctx, &c, out);
    ts_clean_free(&c);
    return err;
}

void ts_clean_result_free(ts_clean_result *r)
{
    ts_table_free(r->clean), ts_table_free(r->rejects);
    memset(r, 0, sizeof *r);
}

ts_err ts_clean_summary(int rank, const ts_rules *rules, const ts_clean_result *r, ts_table **out)
{
    ts_column *metric, *count;
    TS_TRY(ts_table_new("summary", out));
    TS_TRY(ts_table_add(*out, "metric", TS_T_STRING, 0, NULL, &metric));
    TS_TRY(ts_table_add(*out, "count", TS_T_INT64, 0, NULL, &count));
    if (rank != 0) /* one copy of the summary: rank 0's slab */
        return TS_OK;
    static const char *const names[3] = {"rows_read", "rows_clean", "rows_rejected"};
    const int64_t totals[3] = {r->rows_read, r->rows_clean, r->rows_rejected};
    TS_TRY(ts_column_reserve(count, 3 + r->nreasons, 0));
    for (int i = 0; i < 3 + r->nreasons; i++) {
        const char *m = i < 3 ? names[i] : rules->reasons[i - 3];
        TS_TRY(ts_column_append_string(metric, m, (int64_t)strlen(m)));
        TS_COL(count, int64_t)[count->len++] = i < 3 ? totals[i] : r->reason_counts[i - 3];
    }
    return TS_OK;
}
