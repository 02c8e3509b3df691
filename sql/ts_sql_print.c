/* Printing: result cells and tables as aligned text, and plans for EXPLAIN. */
#include "ts_sql_print.h"

#include "ts_keyhash.h"
#include "ts_mem.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ts_date.h"

static int format_double(double v, char *buf, size_t cap)
{
    if (isnan(v))
        return snprintf(buf, cap, "nan");
    if (isinf(v))
        return snprintf(buf, cap, v > 0 ? "inf" : "-inf");
    for (int prec = 15; prec <= 17; prec++) { /* the shortest form that reads back as the same double */
        const int n = snprintf(buf, cap, "%.*g", prec, v);
        if (strtod(buf, NULL) == v || prec == 17)
            return n;
    }
    return 0;
}

static int format_decimal(int64_t v, int scale, char *buf, size_t cap)
{
    if (!scale)
        return snprintf(buf, cap, "%" PRId64, v);
    uint64_t mag = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v, p = 1;
    for (int i = 0; i < scale; i++)
        p *= 10;
    return snprintf(buf, cap, "%s%" PRIu64 ".%0*" PRIu64, v < 0 ? "-" : "", mag / p, scale, mag % p);
}

int ts_sql_format_cell(const ts_column *c, int64_t row, char *buf, size_t cap)
{
    if (!ts_column_is_valid(c, row))
        return snprintf(buf, cap, "NULL");
    int64_t len;
    const char *s;
    switch (c->type) {
    case TS_T_BOOL: return snprintf(buf, cap, "%s", TS_COL(c, uint8_t)[row] ? "true" : "false");
    case TS_T_INT32: return snprintf(buf, cap, "%" PRId32, TS_COL(c, int32_t)[row]);
    case TS_T_INT64: return snprintf(buf, cap, "%" PRId64, TS_COL(c, int64_t)[row]);
    case TS_T_FLOAT64: return format_double(TS_COL(c, double)[row], buf, cap);
    case TS_T_DECIMAL: return format_decimal(TS_COL(c, int64_t)[row], c->scale, buf, cap);
    case TS_T_DATE: {
        int y, m, d;
        ts_civil_from_days(TS_COL(c, int32_t)[row], &y, &m, &d);
        return snprintf(buf, cap, "%04d-%02d-%02d", y, m, d);
    }
    case TS_T_TIMESTAMP: {
        char t[64];
        const int n = ts_format_timestamp(TS_COL(c, int64_t)[row], t);
        return snprintf(buf, cap, "%.*s", n, t);
    }
    case TS_T_DICT: s = ts_dict_value(c->dict, TS_COL(c, int32_t)[row], &len); break;
    default:
        s = c->bytes + TS_COL(c, int64_t)[row];
        len = TS_COL(c, int64_t)[row + 1] - TS_COL(c, int64_t)[row];
        break;
    }
    return snprintf(buf, cap, "%.*s", (int)len, s);
}

/* ---- result tables ----------------------------------------------------------------------------------------------- */

#define CELL 256

static int right_aligned(ts_type t)
{
    return t != TS_T_STRING && t != TS_T_DICT && t != TS_T_BOOL && t != TS_T_DATE && t != TS_T_TIMESTAMP;
}

static void print_rule(FILE *out, const int *w, int n)
{
    for (int c = 0; c < n; c++) {
        fputc(c ? '+' : ' ', out);
        for (int k = 0; k < w[c] + 2; k++)
            fputc('-', out);
    }
    fputc('\n', out);
}

static void print_row(FILE *out, const ts_table *t, int64_t r, const int *w)
{
    char buf[CELL];
    for (int c = 0; c < t->ncols; c++) {
        int n = ts_sql_format_cell(t->cols[c], r, buf, sizeof buf);
        if (n >= CELL)
            n = CELL - 1;
        fprintf(out, c ? "| " : "  ");
        fprintf(out, right_aligned(t->cols[c]->type) ? "%*s " : "%-*s ", w[c], buf);
    }
    fputc('\n', out);
}

void ts_sql_print_table(FILE *out, const ts_table *t, const char *const *names, int max_rows)
{
    const int64_t rows = ts_table_rows(t);
    const int64_t head = rows <= max_rows ? rows : max_rows / 2, tail = rows <= max_rows ? 0 : max_rows - head;
    int *w = malloc(sizeof *w * (size_t)(t->ncols + 1));
    if (!w) {
        fprintf(out, "(out of memory printing %d columns)\n", t->ncols);
        return;
    }
    char buf[CELL];
    for (int c = 0; c < t->ncols; c++) {
        w[c] = (int)strlen(names[c]);
        for (int64_t r = 0; r < rows; r++) {
            if (r == head)
                r = rows - tail;
            if (r >= rows)
                break;
            int n = ts_sql_format_cell(t->cols[c], r, buf, sizeof buf);
            if (n >= CELL)
                n = CELL - 1;
            if (n > w[c])
                w[c] = n;
        }
    }
    for (int c = 0; c < t->ncols; c++)
        fprintf(out, c ? "| %-*s " : "  %-*s ", w[c], names[c]);
    fputc('\n', out);
    print_rule(out, w, t->ncols);
    for (int64_t r = 0; r < head; r++)
        print_row(out, t, r, w);
    if (tail)
        fprintf(out, "  ... (%" PRId64 " rows not shown)\n", rows - head - tail);
    for (int64_t r = rows - tail; r < rows; r++)
        print_row(out, t, r, w);
    fprintf(out, "(%" PRId64 " row%s)\n", rows, rows == 1 ? "" : "s");
    free(w);
}

/* ---- the sqlite3 / DuckDB shell modes: table, csv, markdown, line --------------------------------------------- */

/* A cell's text without truncation: strings point into the column, other values are formatted into buf. */
static const char *cell_text(const ts_column *c, int64_t row, char *buf, size_t cap, int64_t *len)
{
    if (ts_column_is_valid(c, row) && (c->type == TS_T_STRING || c->type == TS_T_DICT)) {
        if (c->type == TS_T_DICT)
            return ts_dict_value(c->dict, TS_COL(c, int32_t)[row], len);
        const int64_t *off = TS_COL(c, int64_t);
        *len = off[row + 1] - off[row];
        return c->bytes + off[row];
    }
    *len = ts_sql_format_cell(c, row, buf, cap);
    return buf;
}

/* Display width: UTF-8 code points (continuation bytes do not count). */
static int64_t text_width(const char *s, int64_t len)
{
    int64_t w = 0;
    for (int64_t i = 0; i < len; i++)
        w += ((unsigned char)s[i] & 0xC0) != 0x80;
    return w;
}

static void pad(FILE *out, int64_t n, char ch)
{
    for (int64_t i = 0; i < n; i++)
        fputc(ch, out);
}

static void put_text(FILE *out, const char *s, int64_t len) { fwrite(s, 1, (size_t)len, out); }

static void grid_rule(FILE *out, const int64_t *w, int n, char corner)
{
    for (int c = 0; c < n; c++)
        fputc(corner, out), pad(out, w[c] + 2, '-');
    fprintf(out, "%c\n", corner);
}

/* table and markdown: titles centred, values left-aligned, as sqlite3's shell prints them. */
static void print_grid(FILE *out, const ts_table *t, const char *const *names, int markdown)
{
    const int64_t rows = ts_table_rows(t);
    int64_t w[TS_MAX_COLS], len;
    char buf[CELL];
    for (int c = 0; c < t->ncols; c++) {
        w[c] = text_width(names[c], (int64_t)strlen(names[c]));
        for (int64_t r = 0; r < rows; r++) {
            const char *s = cell_text(t->cols[c], r, buf, sizeof buf, &len);
            const int64_t n = text_width(s, len);
            w[c] = n > w[c] ? n : w[c];
        }
    }
    const char corner = markdown ? '|' : '+';
    if (!markdown)
        grid_rule(out, w, t->ncols, corner);
    for (int c = 0; c < t->ncols; c++) {
        const int64_t n = text_width(names[c], (int64_t)strlen(names[c]));
        fputs("| ", out), pad(out, (w[c] - n) / 2, ' '), fputs(names[c], out), pad(out, (w[c] - n + 1) / 2, ' ');
        fputc(' ', out);
    }
    fputs("|\n", out);
    grid_rule(out, w, t->ncols, corner);
    for (int64_t r = 0; r < rows; r++) {
        for (int c = 0; c < t->ncols; c++) {
            const char *s = cell_text(t->cols[c], r, buf, sizeof buf, &len);
            fputs("| ", out), put_text(out, s, len), pad(out, w[c] - text_width(s, len) + 1, ' ');
        }
        fputs("|\n", out);
    }
    if (!markdown)
        grid_rule(out, w, t->ncols, corner);
}

/* RFC 4180: a field is quoted when it holds a comma, a quote, a line break or leading/trailing blanks, or is an
 * empty string (so that it differs from NULL, an empty field). */
static void put_csv_field(FILE *out, const char *s, int64_t len)
{
    int quote = len == 0 || s[0] == ' ' || s[0] == '\t' || s[len - 1] == ' ' || s[len - 1] == '\t';
    for (int64_t i = 0; i < len && !quote; i++)
        quote = s[i] == ',' || s[i] == '"' || s[i] == '\n' || s[i] == '\r';
    if (!quote) {
        put_text(out, s, len);
        return;
    }
    fputc('"', out);
    for (int64_t i = 0; i < len; i++) {
        if (s[i] == '"')
            fputc('"', out);
        fputc(s[i], out);
    }
    fputc('"', out);
}

void ts_sql_print_csv(FILE *out, const ts_table *t, const char *const *names)
{
    char buf[CELL];
    int64_t len;
    for (int c = 0; c < t->ncols; c++) {
        if (c)
            fputc(',', out);
        put_csv_field(out, names[c], (int64_t)strlen(names[c]));
    }
    fputc('\n', out);
    const int64_t rows = ts_table_rows(t);
    for (int64_t r = 0; r < rows; r++) {
        for (int c = 0; c < t->ncols; c++) {
            if (c)
                fputc(',', out);
            if (ts_column_is_valid(t->cols[c], r)) {
                const char *s = cell_text(t->cols[c], r, buf, sizeof buf, &len);
                put_csv_field(out, s, len);
            }
        }
        fputc('\n', out);
    }
    fputc('\n', out); /* results apart when a script prints several */
}

/* line: "name = value" per value, names right-aligned to the longest, a blank line between rows. */
static void print_lines(FILE *out, const ts_table *t, const char *const *names)
{
    char buf[CELL];
    int64_t len, w = 0;
    for (int c = 0; c < t->ncols; c++) {
        const int64_t n = text_width(names[c], (int64_t)strlen(names[c]));
        w = n > w ? n : w;
    }
    const int64_t rows = ts_table_rows(t);
    for (int64_t r = 0; r < rows; r++) {
        if (r)
            fputc('\n', out);
        for (int c = 0; c < t->ncols; c++) {
            const char *s = cell_text(t->cols[c], r, buf, sizeof buf, &len);
            pad(out, w - text_width(names[c], (int64_t)strlen(names[c])), ' ');
            fprintf(out, "%s = ", names[c]), put_text(out, s, len), fputc('\n', out);
        }
    }
}

void ts_sql_print_result(FILE *out, const ts_table *t, const char *const *names, ts_sql_print_mode mode,
                         int max_rows)
{
    switch (mode) {
    case TS_SQL_PRINT_TABLE: print_grid(out, t, names, 0); break;
    case TS_SQL_PRINT_MARKDOWN: print_grid(out, t, names, 1); break;
    case TS_SQL_PRINT_CSV: ts_sql_print_csv(out, t, names); break;
    case TS_SQL_PRINT_LINE: print_lines(out, t, names); break;
    default: ts_sql_print_table(out, t, names, max_rows); break;
    }
}

/* ---- plans ---------------------------------------------------------------------------------------------------- */

static const char *const KIND_NAMES[] = {"SCAN table", "SCAN read_csv", "SCAN read_h5", "RANGE", "VALUES",
                                         "ONE ROW", "FILTER", "PROJECT", "AGGREGATE", "JOIN", "SORT", "LIMIT",
                                         "DISTINCT", "WINDOW", "UNION ALL", "SET OPERATION", "DEPENDENT JOIN",
                                         "JOIN", "SCAN outer values", "SCAN read_parquet"};

const char *ts_sql_plan_kind_name(ts_sql_plan_kind kind) { return KIND_NAMES[kind]; }

/* A column id without its "#n" suffix. */
static void short_id(const char *id, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s", id);
    char *hash = strrchr(buf, '#');
    if (hash && hash != buf)
        *hash = 0;
}

static void print_detail(FILE *out, const ts_sql_plan *p)
{
    char a[TS_SQL_ID_MAX], b[TS_SQL_ID_MAX];
    switch (p->kind) {
    case TS_P_CATALOG: fprintf(out, " %s", p->table); break;
    case TS_P_CSV: case TS_P_H5: case TS_P_PARQUET: fprintf(out, " '%s'%s%s", p->path, p->group ? " " : "", p->group ? p->group : ""); break;
    case TS_P_AGGREGATE:
        fprintf(out, " keys:");
        for (int k = 0; k < p->nkeys; k++)
            short_id(p->keys[k], a, sizeof a), fprintf(out, " %s", a);
        fprintf(out, "%s aggregates: %d", p->nkeys ? "" : " none", p->naggs);
        break;
    case TS_P_JOIN: case TS_P_DELIM_JOIN:
        fprintf(out, " %s", p->cross ? "cross" : ts_join_type_name(p->join_type));
        for (int k = 0; k < p->njoin_keys; k++) {
            short_id(p->left_keys[k], a, sizeof a), short_id(p->right_keys[k], b, sizeof b);
            fprintf(out, "%s%s %s %s", k ? ", " : " on ", a, ts_key_null_equal(p->null_equal, k) ? "IS NOT DISTINCT FROM" : "=", b);
        }
        if (p->kind == TS_P_DELIM_JOIN) {
            fprintf(out, " (subquery, outer values:");
            for (int k = 0; k < p->ndelim; k++)
                short_id(p->delim_cols[k], a, sizeof a), fprintf(out, " %s", a);
            fprintf(out, ")");
        }
        break;
    case TS_P_SORT:
        for (int k = 0; k < p->nsort; k++)
            short_id(p->sort[k].name, a, sizeof a), fprintf(out, "%s%s%s", k ? ", " : " ", a, p->sort[k].desc ? " DESC" : "");
        break;
    case TS_P_LIMIT: fprintf(out, " %" PRId64 " offset %" PRId64, p->limit, p->offset); break;
    case TS_P_FILTER: fprintf(out, " %d condition%s", p->nconds, p->nconds == 1 ? "" : "s"); break;
    case TS_P_WINDOW:
        fprintf(out, " %d function%s, partition by %d, order by %d", p->nwins, p->nwins == 1 ? "" : "s",
                p->npartition, p->nsort);
        break;
    default: break;
    }
    if (p->kind == TS_P_PROJECT || p->kind == TS_P_CSV || p->kind == TS_P_H5 || p->kind == TS_P_CATALOG ||
        p->kind == TS_P_DELIM_GET || p->kind == TS_P_PARQUET) {
        fprintf(out, " [");
        for (int c = 0; c < p->ncols && c < 12; c++)
            short_id(p->cols[c].id, a, sizeof a), fprintf(out, "%s%s", c ? ", " : "", a);
        fprintf(out, "%s]", p->ncols > 12 ? ", ..." : "");
    }
}

static void print_node(FILE *out, const ts_sql_plan *p, int depth, int analyze)
{
    fprintf(out, "%*s%s", 2 * depth, "", KIND_NAMES[p->kind]);
    print_detail(out, p);
    if (p->est_rows >= 0)
        fprintf(out, "   est. rows %.0f", p->est_rows);
    if (analyze)
        fprintf(out, "   rows %" PRId64 "   %.3f s", p->rows_out, p->seconds);
    if (analyze && p->bytes_sent) {
        char b[24];
        fprintf(out, "   sent %s", ts_format_bytes((double)p->bytes_sent, b, sizeof b));
    }
    if (analyze && p->mem_peak) {
        char b[24];
        fprintf(out, "   memory %s", ts_format_bytes((double)p->mem_peak, b, sizeof b));
    }
    if (analyze && p->spill_bytes) {
        char b[24];
        fprintf(out, "   spilled %s", ts_format_bytes((double)p->spill_bytes, b, sizeof b));
    }
    if (p->note[0])
        fprintf(out, "   (%s)", p->note);
    if (analyze && p->run_note[0])
        fprintf(out, "   [ran: %s]", p->run_note);
    fputc('\n', out);
    for (int i = 0; i < 2; i++)
        if (p->in[i])
            print_node(out, p->in[i], depth + 1, analyze);
}

void ts_sql_print_plan(FILE *out, const ts_sql_plan *p, int analyze)
{
    print_node(out, p, 0, analyze);
}
