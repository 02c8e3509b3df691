/* ts_sqllogic: the SQL conformance suite's runner. Runs sqllogictest-style files (DuckDB's dialect, simplified;
 * tests/sql/README.md) against Tessera's SQL session on every rank of MPI_COMM_WORLD:
 *
 *   mpirun -n P ts_sqllogic [--set name=value]... [--verbose] FILE.test...
 *
 * Each file runs in a fresh session. `statement ok|error` runs the SQL with ts_sql_run, `query` with ts_sql_query;
 * rank 0 formats the gathered result with ts_sql_format_cell and compares it with the expected rows (numbers
 * within a relative 1e-9). Every case also checks that all ranks agree on the outcome (errors are collective).
 * Prints each failure (file:line, SQL, expected and actual rows) and "N cases, F failed"; exit status 1 on any
 * failure, 2 on a bad command line or an unreadable or malformed file. */
#include <math.h>
#include <mpi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ts_ctx.h"
#include "ts_error.h"
#include "ts_sql.h"
#include "ts_table.h"

#define SL_SHOW_ROWS 12 /* rows of expected / actual results printed for a failure */

typedef enum { SL_STMT_OK, SL_STMT_ERROR, SL_QUERY } sl_kind;

/* One record of a test file. Strings point into the file's buffer (lines NUL-terminated in place), except sql,
 * which is joined into a buffer of its own. */
typedef struct sl_case {
    sl_kind kind;
    int line;          /* 1-based line of the record's header */
    int ncols;         /* query: letters in the header */
    int rowsort;
    char *sql;         /* owned */
    char **expect;     /* query: expected rows; statement error: the message substring lines */
    int nexpect;
} sl_case;

typedef struct sl_file {
    char *text; /* the file, lines split in place */
    sl_case *cases;
    int ncases;
} sl_file;

typedef struct sl_run {
    ts_ctx *ctx;
    const char *path;
    const char *const *names, *const *values;
    int nparams, verbose;
    long cases, failed; /* counted on rank 0 */
} sl_run;

/* ---- files ---------------------------------------------------------------------------------------------- */

static void sl_file_free(sl_file *f)
{
    for (int i = 0; i < f->ncases; i++) {
        free(f->cases[i].sql);
        free(f->cases[i].expect);
    }
    free(f->cases);
    free(f->text);
    memset(f, 0, sizeof *f);
}

static int sl_blank(const char *l)
{
    for (; *l; l++)
        if (*l != ' ' && *l != '\t')
            return 0;
    return 1;
}

/* Splits text into NUL-terminated lines in place (a trailing '\r' dropped); returns the count, -1 out of memory. */
static int sl_lines(char *text, char ***out)
{
    int n = 0, cap = 256;
    char **lines = malloc(sizeof *lines * (size_t)cap);
    if (!lines)
        return -1;
    for (char *p = text; *p;) {
        if (n == cap) {
            char **grown = realloc(lines, sizeof *lines * (size_t)(cap *= 2));
            if (!grown) {
                free(lines);
                return -1;
            }
            lines = grown;
        }
        lines[n++] = p;
        char *nl = strchr(p, '\n');
        char *end = nl ? nl : p + strlen(p);
        if (end > p && end[-1] == '\r')
            end[-1] = '\0';
        if (!nl)
            break;
        *nl = '\0';
        p = nl + 1;
    }
    *out = lines;
    return n;
}

static ts_err sl_read_text(const char *path, char **out)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        TS_FAIL(TS_ERR_IO, "cannot open %s", path);
    char *buf = NULL;
    long size = -1;
    if (fseek(fp, 0, SEEK_END) == 0 && (size = ftell(fp)) >= 0 && fseek(fp, 0, SEEK_SET) == 0)
        buf = malloc((size_t)size + 1);
    if (!buf || fread(buf, 1, (size_t)size, fp) != (size_t)size) {
        free(buf);
        fclose(fp);
        TS_FAIL(TS_ERR_IO, "cannot read %s", path);
    }
    fclose(fp);
    buf[size] = '\0';
    *out = buf;
    return TS_OK;
}

/* Joins lines[from, to) with '\n' into a new string. */
static char *sl_join(char **lines, int from, int to)
{
    size_t len = 1;
    for (int i = from; i < to; i++)
        len += strlen(lines[i]) + 1;
    char *s = malloc(len), *p = s;
    if (!s)
        return NULL;
    for (int i = from; i < to; i++) {
        const size_t l = strlen(lines[i]);
        memcpy(p, lines[i], l);
        p += l;
        if (i + 1 < to)
            *p++ = '\n';
    }
    *p = '\0';
    return s;
}

/* Parses a record header into c; fails naming the line. */
static ts_err sl_header(const char *path, int line, const char *h, sl_case *c)
{
    char word[16], letters[64], mode[16];
    c->line = line;
    const int n = sscanf(h, "%15s %63s %15s", word, letters, mode);
    if (n == 2 && strcmp(word, "statement") == 0 && strcmp(letters, "ok") == 0)
        c->kind = SL_STMT_OK;
    else if (n == 2 && strcmp(word, "statement") == 0 && strcmp(letters, "error") == 0)
        c->kind = SL_STMT_ERROR;
    else if (n >= 2 && strcmp(word, "query") == 0 && strspn(letters, "ITR") == strlen(letters)) {
        c->kind = SL_QUERY;
        c->ncols = (int)strlen(letters);
        if (n == 3 && strcmp(mode, "rowsort") == 0)
            c->rowsort = 1;
        else if (n == 3 && strcmp(mode, "nosort") != 0)
            TS_FAIL(TS_ERR_USAGE, "%s:%d: unknown sort mode '%s' (nosort or rowsort)", path, line, mode);
    } else
        TS_FAIL(TS_ERR_USAGE, "%s:%d: expected 'statement ok', 'statement error' or 'query <ITR...> [rowsort]', "
                              "found '%s'", path, line, h);
    return TS_OK;
}

/* Reads the record whose header is lines[*i] into c (SQL, then after `----` the expected lines) and moves *i
 * past it. */
static ts_err sl_record(const char *path, char **lines, int n, int *i, sl_case *c)
{
    TS_TRY(sl_header(path, *i + 1, lines[*i], c));
    const int from = ++*i;
    while (*i < n && !sl_blank(lines[*i]) && strcmp(lines[*i], "----") != 0)
        ++*i;
    if (*i == from)
        TS_FAIL(TS_ERR_USAGE, "%s:%d: a record without SQL", path, c->line);
    if (!(c->sql = sl_join(lines, from, *i)))
        TS_FAIL(TS_ERR_NOMEM, "%s: out of memory", path);
    if (*i == n || strcmp(lines[*i], "----") != 0) {
        if (c->kind == SL_QUERY)
            TS_FAIL(TS_ERR_USAGE, "%s:%d: a query without '----'", path, c->line);
        return TS_OK;
    }
    const int b = ++*i;
    while (*i < n && !sl_blank(lines[*i]))
        ++*i;
    if (*i > b && !(c->expect = malloc(sizeof *c->expect * (size_t)(*i - b))))
        TS_FAIL(TS_ERR_NOMEM, "%s: out of memory", path);
    for (int k = b; k < *i; k++)
        c->expect[c->nexpect++] = lines[k];
    return TS_OK;
}

/* Reads and parses a test file into f (emptied again on failure). */
static ts_err sl_parse(const char *path, sl_file *f)
{
    char **lines = NULL;
    TS_TRY(sl_read_text(path, &f->text));
    const int n = sl_lines(f->text, &lines);
    ts_err err = n < 0 ? ts_error_raise(TS_ERR_NOMEM, __FILE__, __LINE__, __func__, "%s: out of memory", path)
                       : TS_OK;
    for (int i = 0, cap = 0; i < n && err == TS_OK;) {
        if (sl_blank(lines[i]) || lines[i][0] == '#') {
            i++;
            continue;
        }
        if (f->ncases == cap) {
            sl_case *grown = realloc(f->cases, sizeof *grown * (size_t)(cap = cap ? 2 * cap : 64));
            if (!grown) {
                err = ts_error_raise(TS_ERR_NOMEM, __FILE__, __LINE__, __func__, "%s: out of memory", path);
                break;
            }
            f->cases = grown;
        }
        memset(&f->cases[f->ncases], 0, sizeof f->cases[0]);
        err = sl_record(path, lines, n, &i, &f->cases[f->ncases++]);
    }
    free(lines);
    if (err != TS_OK) {
        ts_error_trace(__FILE__, __LINE__, __func__);
        sl_file_free(f);
    }
    return err;
}

/* ---- comparing results ---------------------------------------------------------------------------------- */

/* A cell that reads as a plain decimal number (digits, sign, point, exponent; no spaces, no hex). */
static int sl_number(const char *s, size_t len, double *v)
{
    char buf[64];
    if (len == 0 || len >= sizeof buf || strspn(s, "0123456789+-.eE") < len)
        return 0;
    memcpy(buf, s, len);
    buf[len] = '\0';
    char *end;
    *v = strtod(buf, &end);
    return end == buf + len;
}

static int sl_cell_eq(const char *a, size_t alen, const char *b, size_t blen)
{
    if (alen == blen && memcmp(a, b, alen) == 0)
        return 1;
    double x, y;
    if (!sl_number(a, alen, &x) || !sl_number(b, blen, &y))
        return 0;
    const double d = fabs(x - y), m = fmax(fabs(x), fabs(y));
    return d <= 1e-9 * m || d <= 1e-12;
}

/* Compares two rows cell by cell (tab-separated). */
static int sl_row_eq(const char *a, const char *b)
{
    for (;;) {
        const size_t la = strcspn(a, "\t"), lb = strcspn(b, "\t");
        if (!sl_cell_eq(a, la, b, lb))
            return 0;
        if (!a[la] || !b[lb])
            return !a[la] && !b[lb];
        a += la + 1;
        b += lb + 1;
    }
}

static int sl_strcmp(const void *x, const void *y)
{
    return strcmp(*(char *const *)x, *(char *const *)y);
}

/* The result's rows as tab-joined strings (rank 0). One buffer holds all of them: *buf and *rows are new. */
static ts_err sl_format(const ts_table *t, char **buf, char ***rows)
{
    const int64_t n = ts_table_rows(t);
    size_t cap = 4096, len = 0;
    char cell[4096];
    size_t *starts = malloc(sizeof *starts * (size_t)(n + 1));
    char *b = malloc(cap);
    if (!starts || !b)
        goto nomem;
    for (int64_t r = 0; r < n; r++) {
        starts[r] = len;
        for (int c = 0; c < t->ncols; c++) {
            int w = ts_sql_format_cell(t->cols[c], r, cell, sizeof cell);
            const char *s = cell;
            if (w == 0)
                s = "(empty)", w = 7;
            if (len + (size_t)w + 2 > cap) {
                char *grown = realloc(b, cap = 2 * cap + (size_t)w);
                if (!grown)
                    goto nomem;
                b = grown;
            }
            memcpy(b + len, s, (size_t)w);
            len += (size_t)w;
            b[len++] = c + 1 < t->ncols ? '\t' : '\0';
        }
        if (t->ncols == 0)
            b[len++] = '\0';
    }
    char **rs = malloc(sizeof *rs * (size_t)(n ? n : 1));
    if (!rs)
        goto nomem;
    for (int64_t r = 0; r < n; r++)
        rs[r] = b + starts[r];
    free(starts);
    *buf = b;
    *rows = rs;
    return TS_OK;
nomem:
    free(starts);
    free(b);
    TS_FAIL(TS_ERR_NOMEM, "out of memory formatting a result of %lld rows", (long long)n);
}

static void sl_show(const char *what, char **rows, int64_t n)
{
    printf("  %s (%lld rows):\n", what, (long long)n);
    for (int64_t r = 0; r < n && r < SL_SHOW_ROWS; r++)
        printf("    %s\n", rows[r]);
    if (n > SL_SHOW_ROWS)
        printf("    ...\n");
}

/* Prints text with every line indented by two spaces. */
static void sl_indented(const char *text)
{
    for (const char *p = text; *p;) {
        const size_t len = strcspn(p, "\n");
        printf("  %.*s\n", (int)len, p);
        p += len + (p[len] == '\n');
    }
}

static void sl_fail_head(sl_run *run, const sl_case *c, const char *why)
{
    run->failed++;
    printf("FAIL %s:%d: %s\n", run->path, c->line, why);
    sl_indented(c->sql);
}

/* Compares a query's result with the expected rows and reports a difference (rank 0). */
static ts_err sl_compare(sl_run *run, const sl_case *c, const ts_table *t)
{
    char *buf = NULL, **rows = NULL;
    if (t->ncols != c->ncols) {
        char why[96];
        snprintf(why, sizeof why, "%d result columns, the header says %d", t->ncols, c->ncols);
        sl_fail_head(run, c, why);
        return TS_OK;
    }
    TS_TRY(sl_format(t, &buf, &rows));
    const int64_t n = ts_table_rows(t);
    char **want = c->expect;
    if (c->rowsort) {
        qsort(rows, (size_t)n, sizeof *rows, sl_strcmp);
        want = malloc(sizeof *want * (size_t)(c->nexpect ? c->nexpect : 1));
        if (!want) {
            free(rows);
            free(buf);
            TS_FAIL(TS_ERR_NOMEM, "out of memory sorting expected rows");
        }
        if (c->nexpect)
            memcpy(want, c->expect, sizeof *want * (size_t)c->nexpect);
        qsort(want, (size_t)c->nexpect, sizeof *want, sl_strcmp);
    }
    int64_t diff = -1;
    for (int64_t r = 0; r < n && r < c->nexpect && diff < 0; r++)
        if (!sl_row_eq(rows[r], want[r]))
            diff = r;
    if (diff < 0 && n != c->nexpect)
        diff = n < c->nexpect ? n : c->nexpect;
    if (diff >= 0) {
        char why[128];
        snprintf(why, sizeof why, "wrong result: first difference at row %lld%s", (long long)diff + 1,
                 c->rowsort ? " (rows sorted)" : "");
        sl_fail_head(run, c, why);
        if (diff < n && diff < c->nexpect)
            printf("  expected: %s\n  got:      %s\n", want[diff], rows[diff]);
        sl_show("expected", want, c->nexpect);
        sl_show("got", rows, n);
    }
    if (want != c->expect)
        free(want);
    free(rows);
    free(buf);
    return TS_OK;
}

/* ---- running ---------------------------------------------------------------------------------------------- */

static uint64_t sl_hash(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

/* 1 when every rank returned the same code with the same message headline; collective. */
static int sl_ranks_agree(ts_ctx *ctx, ts_err err)
{
    const uint64_t h = err ? sl_hash(ts_error_headline()) : 0;
    long long mine[4] = {err, -(long long)err, (long long)(h >> 1), -(long long)(h >> 1)}, all[4];
    MPI_Allreduce(mine, all, 4, MPI_LONG_LONG, MPI_MAX, ctx->comm);
    return all[0] == -all[1] && all[2] == -all[3];
}

/* Whether the error message contains the expected substring: looked for in the headline, then in the other
 * lines of the message except the echo of the SQL source, carets and traceback frames (so a name that is merely
 * quoted back from the statement does not count). */
static int sl_message_has(const char *msg, const char *sql, const char *want)
{
    for (const char *p = msg; *p;) {
        const size_t len = strcspn(p, "\n");
        const int headline = p == msg;
        char line[1024];
        const size_t l = len < sizeof line - 1 ? len : sizeof line - 1;
        memcpy(line, p, l);
        line[l] = '\0';
        const char *trimmed = line + strspn(line, " \t");
        const int echo = !headline && *trimmed && strstr(sql, trimmed) != NULL;
        const int frame = strncmp(trimmed, "at ", 3) == 0 && strchr(trimmed, '(');
        const int caret = trimmed[0] == '^';
        if (!echo && !frame && !caret && strstr(line, want))
            return 1;
        p += len + (p[len] == '\n');
    }
    return 0;
}

static void sl_error_check(sl_run *run, const sl_case *c)
{
    char want[512] = "";
    for (int i = 0; i < c->nexpect; i++) {
        if (i)
            strncat(want, "\n", sizeof want - strlen(want) - 1);
        strncat(want, c->expect[i], sizeof want - strlen(want) - 1);
    }
    const char *msg = ts_error_message();
    if (*want && !sl_message_has(msg, c->sql, want)) {
        char why[600];
        snprintf(why, sizeof why, "the error message lacks \"%s\"", want);
        sl_fail_head(run, c, why);
        printf("  message:\n");
        sl_indented(msg);
    }
}

static ts_err sl_case_run(sl_run *run, ts_sql_session *s, const sl_case *c)
{
    const int root = run->ctx->rank == 0;
    if (root && run->verbose)
        printf("%s:%d\n", run->path, c->line), fflush(stdout);
    ts_error_clear();
    ts_table *result = NULL;
    const ts_err err = c->kind == SL_QUERY ? ts_sql_query_result(s, c->sql, run->path, &result)
                                           : ts_sql_run(s, c->sql, run->path);
    const int agree = sl_ranks_agree(run->ctx, err);
    /* other ranks get an empty result: a row there means the gather lost it on the way to rank 0 */
    int stray = err == TS_OK && result && run->ctx->rank > 0 && ts_table_rows(result) > 0, any_stray = 0;
    MPI_Allreduce(&stray, &any_stray, 1, MPI_INT, MPI_MAX, run->ctx->comm);
    ts_err rc = TS_OK;
    if (root) {
        run->cases++;
        if (!agree) {
            sl_fail_head(run, c, "the ranks disagree on the outcome (an error that is not collective)");
            printf("  rank 0: %s\n", err ? ts_error_headline() : "ok");
        } else if (any_stray)
            sl_fail_head(run, c, "a rank other than 0 got result rows");
        else if (c->kind == SL_STMT_ERROR) {
            if (err == TS_OK)
                sl_fail_head(run, c, "expected an error, the statement succeeded");
            else
                sl_error_check(run, c);
        } else if (err != TS_OK) {
            sl_fail_head(run, c, c->kind == SL_QUERY ? "the query failed" : "the statement failed");
            printf("  error:\n");
            sl_indented(ts_error_message());
        } else if (c->kind == SL_QUERY)
            rc = sl_compare(run, c, result);
    }
    ts_table_free(result);
    ts_error_clear();
    return rc;
}

/* Runs one file in a fresh session. */
static ts_err sl_file_run(sl_run *run, const sl_file *f, FILE *devnull)
{
    ts_sql_options opt = {0};
    opt.param_names = run->names;
    opt.param_values = run->values;
    opt.nparams = run->nparams;
    opt.out = devnull;
    opt.quiet = 1;
    ts_sql_session *s = NULL;
    TS_TRY(ts_sql_session_new(run->ctx, &opt, &s));
    ts_err err = TS_OK;
    for (int i = 0; i < f->ncases && err == TS_OK; i++)
        err = sl_case_run(run, s, &f->cases[i]);
    ts_sql_session_free(s);
    return err;
}

static int sl_usage(const char *msg)
{
    fprintf(stderr, "ts_sqllogic: %s\nusage: ts_sqllogic [--set name=value]... [--verbose] FILE.test...\n", msg);
    return 2;
}

/* Parses the command line into run (names/values point into argv) and files; returns 0 or an exit status. */
static int sl_args(int argc, char **argv, sl_run *run, const char **names, const char **values, char **files,
                   int *nfiles)
{
    static char keys[64][128];
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--verbose") == 0 || strcmp(argv[i], "-v") == 0)
            run->verbose = 1;
        else if (strcmp(argv[i], "--set") == 0) {
            const char *kv = i + 1 < argc ? argv[++i] : NULL, *eq = kv ? strchr(kv, '=') : NULL;
            if (!eq || eq == kv || (size_t)(eq - kv) >= sizeof keys[0] || run->nparams == 64)
                return sl_usage("--set takes name=value");
            memcpy(keys[run->nparams], kv, (size_t)(eq - kv));
            keys[run->nparams][eq - kv] = '\0';
            names[run->nparams] = keys[run->nparams];
            values[run->nparams++] = eq + 1;
        } else if (argv[i][0] == '-')
            return sl_usage("unknown option");
        else
            files[(*nfiles)++] = argv[i];
    }
    return *nfiles ? 0 : sl_usage("no test file");
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    ts_ctx ctx;
    if (ts_ctx_init(MPI_COMM_WORLD, &ctx) != TS_OK) {
        fprintf(stderr, "ts_sqllogic: %s\n", ts_error_message());
        MPI_Abort(MPI_COMM_WORLD, 2);
    }
    const char *names[64], *values[64];
    char **files = malloc(sizeof *files * (size_t)argc);
    sl_run run = {.ctx = &ctx, .names = names, .values = values};
    int nfiles = 0, status = files ? sl_args(argc, argv, &run, names, values, files, &nfiles) : 2;
    FILE *devnull = fopen("/dev/null", "w");
    for (int i = 0; i < nfiles && status == 0; i++) {
        sl_file f = {0};
        run.path = files[i];
        const long cases0 = run.cases, failed0 = run.failed;
        const double t0 = ts_now();
        ts_err err = sl_parse(files[i], &f);
        err = ts_ctx_check(&ctx, err);
        if (err == TS_OK)
            err = ts_ctx_check(&ctx, sl_file_run(&run, &f, devnull));
        sl_file_free(&f);
        if (err != TS_OK) {
            if (ctx.rank == 0)
                fprintf(stderr, "ts_sqllogic: %s\n", ts_error_message());
            status = 2;
        } else if (ctx.rank == 0)
            printf("%s: %ld cases, %ld failed (%.2f s)\n", files[i], run.cases - cases0, run.failed - failed0,
                   ts_now() - t0);
    }
    if (ctx.rank == 0 && status == 0)
        printf("sqllogic on %d ranks: %ld cases, %ld failed\n", ctx.size, run.cases, run.failed);
    int code = status ? status : run.failed ? 1 : 0;
    MPI_Bcast(&code, 1, MPI_INT, 0, ctx.comm);
    if (devnull)
        fclose(devnull);
    free(files);
    ts_ctx_free(&ctx);
    MPI_Finalize();
    return code;
}
