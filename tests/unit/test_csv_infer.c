/* io/ts_csv_infer: names, types, header and delimiter detection on small hand-made CSVs (expected results
 * written by hand, checked against DuckDB 1.x's read_csv where its sniffer agrees), randomized files whose column
 * types are known by construction, and scans with the inferred spec (values checked by hand). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ts_csv_infer.h"
#include "ts_date.h"
#include "ts_rules.h"
#include "ts_test.h"

static int infer(const char *text, const ts_csv_infer_opts *o, ts_csv_inferred *out)
{
    return ts_csv_infer(text, (int64_t)strlen(text), o, out);
}

/* "name:TYPE,..." as the inferred schema, for compact expectations. */
static void schema(const ts_csv_inferred *inf, char *buf, size_t cap)
{
    buf[0] = '\0';
    for (int i = 0; i < inf->ncols; i++) {
        char tn[32];
        snprintf(buf + strlen(buf), cap - strlen(buf), "%s%s:%s", i ? "," : "", inf->names[i],
                 ts_csv_sql_type_name(inf->types[i], inf->spec.fields[i].max_int_digits + inf->scales[i],
                                      inf->scales[i], tn, sizeof tn));
    }
}

static void expect(const char *text, const ts_csv_infer_opts *o, const char *want, int header, char delim)
{
    ts_csv_inferred inf;
    char got[2048];
    if (!CHECK_OK(infer(text, o, &inf)))
        return;
    schema(&inf, got, sizeof got);
    CHECK(strcmp(got, want) == 0, "[%s]: schema %s, expected %s", text, got, want);
    CHECK(inf.header == header, "[%s]: header %d, expected %d", text, inf.header, header);
    CHECK(inf.delim == delim, "[%s]: delimiter '%c', expected '%c'", text, inf.delim, delim);
    ts_csv_inferred_free(&inf);
}

static void test_names_and_types(void)
{
    /* DuckDB: x, y, x_1, column3, x_1_1, z */
    expect("x,y,x,,x_1, z \n1,2,3,4,5,6\n", NULL, "x:BIGINT,y:BIGINT,x_1:BIGINT,column3:BIGINT,x_1_1:BIGINT,z:BIGINT",
           1, ',');
    /* leading zeros are codes, nan is a double, t/F booleans, impossible dates are text */
    expect("a,b,d,e,f,g\n007,nan,true,1,2020-01-01,1.5\n010,NaN,F,0,2020-02-30,1e5\n", NULL,
           "a:VARCHAR,b:DOUBLE,d:BOOLEAN,e:BIGINT,f:VARCHAR,g:DOUBLE", 1, ',');
    expect("a,b,c,d\n-05,+3,0,-0\n12,4,0,1\n", NULL, "a:BIGINT,b:VARCHAR,c:BIGINT,d:BIGINT", 1, ',');
    expect("a,b,c\n.5,0.5,1.\n-.5,00.5,2\n", NULL, "a:DOUBLE,b:VARCHAR,c:DOUBLE", 1, ',');
    expect("a,b\n9223372036854775807,9223372036854775808\n-9223372036854775808,1\n", NULL, "a:BIGINT,b:DOUBLE", 1,
           ',');
    expect("d,n\n2021-12-31,20200101\n2024-02-29,20200102\n", NULL, "d:DATE,n:BIGINT", 1, ',');
    expect("d\n2021-12-31\n2021-1-5\n", NULL, "d:VARCHAR", 1, ',');
    expect("a,b\n1,\n2,\n", NULL, "a:BIGINT,b:VARCHAR", 1, ','); /* no value at all: VARCHAR */
    expect("a,b\n  12 , 2020-01-01 \n3,\n", NULL, "a:BIGINT,b:DATE", 1, ',');
    expect("a,b\ntrue,1\nfalse,0\n", NULL, "a:BOOLEAN,b:BIGINT", 1, ','); /* 1/0 are numbers */
    expect("a,b\n\"1\",\"x,y\"\n\"2\",z\n", NULL, "a:BIGINT,b:VARCHAR", 1, ',');
    expect("a,b\ninf,-Infinity\n1,2\n", NULL, "a:DOUBLE,b:DOUBLE", 1, ',');
}

static void test_header_detection(void)
{
    expect("hello,world\nfoo,bar\n", NULL, "hello:VARCHAR,world:VARCHAR", 1, ',');   /* all text: a header */
    expect("1,x\n2,y\n", NULL, "column0:BIGINT,column1:VARCHAR", 0, ',');           /* line 1 fits: data */
    expect("a,1\n2,3\n", NULL, "a:BIGINT,1:BIGINT", 1, ',');                         /* 'a' fits no type */
    expect("1.5,2\n2,3\n", NULL, "1.5:BIGINT,2:BIGINT", 1, ',');                    /* 1.5 is no BIGINT */
    expect("2,1.5\n2,3.5\n", NULL, "column0:BIGINT,column1:DOUBLE", 0, ',');         /* 2 is a DOUBLE */
    expect("1,2,3,4,5,6,7,8,9,10,11\n1,2,3,4,5,6,7,8,9,10,11\n", NULL,
           "column00:BIGINT,column01:BIGINT,column02:BIGINT,column03:BIGINT,column04:BIGINT,column05:BIGINT,"
           "column06:BIGINT,column07:BIGINT,column08:BIGINT,column09:BIGINT,column10:BIGINT",
           0, ',');
    expect("1,2,3,4,5,6,7,8,9,10\n", NULL,
           "column0:BIGINT,column1:BIGINT,column2:BIGINT,column3:BIGINT,column4:BIGINT,column5:BIGINT,"
           "column6:BIGINT,column7:BIGINT,column8:BIGINT,column9:BIGINT",
           0, ',');
    expect("a,b\n", NULL, "a:VARCHAR,b:VARCHAR", 1, ',');  /* only a header */
    /* forced */
    ts_csv_infer_opts o = {.header = 1};
    expect("1,2\n3,4\n", &o, "1:BIGINT,2:BIGINT", 1, ',');
    o.header = 0;
    expect("a,b\n3,4\n", &o, "column0:VARCHAR,column1:VARCHAR", 0, ',');
    /* reserved names get a suffix */
    expect("__pos,__line,a\n1,2,3\n", NULL, "__pos_1:BIGINT,__line_1:BIGINT,a:BIGINT", 1, ',');
}

static void test_dialect(void)
{
    expect("a;b\n1;2\n", NULL, "a:BIGINT,b:BIGINT", 1, ';');
    expect("a|b\n1|2\n", NULL, "a:BIGINT,b:BIGINT", 1, '|');
    expect("a\tb\n1\t2\n", NULL, "a:BIGINT,b:BIGINT", 1, '\t');
    expect("a;b,c\n1;2,3\n4;5,6\n", NULL, "a;b:VARCHAR,c:BIGINT", 1, ','); /* a tie in every respect: ',' */
    expect("a;b;c,d\n1;2;3,4\n", NULL, "a:BIGINT,b:BIGINT,c,d:VARCHAR", 1, ';'); /* a tie: more fields win */
    expect("a;b;c,d\n1;2;3,4\n1,2\n1,2\n", NULL, "a;b;c:VARCHAR,d:BIGINT", 1, ','); /* more lines agree */
    expect("\xEF\xBB\xBF" "a,b\r\n1,2\r\n", NULL, "a:BIGINT,b:BIGINT", 1, ',');
    expect("a,b\n1,2\n\n3,4\n\n", NULL, "a:BIGINT,b:BIGINT", 1, ',');
    expect("only\n1\n2\n", NULL, "only:BIGINT", 1, ',');
    ts_csv_infer_opts o = {.header = -1, .delim = ';'};
    expect("a,b\n1,2\n", &o, "a,b:VARCHAR", 1, ';');
    o = (ts_csv_infer_opts){.header = -1, .quote = '\''};
    expect("a,b\n'1,5',x\n'2,5',y\n", &o, "a:VARCHAR,b:VARCHAR", 1, ',');
    /* rows with the wrong field count are not sampled */
    expect("a,b\n1,2\n1,2,3\nx\n3,4\n", NULL, "a:BIGINT,b:BIGINT", 1, ',');
    /* the sample size bounds what is seen */
    o = (ts_csv_infer_opts){.header = -1, .sample_rows = 2};
    expect("a\n1\n2\nx\n", &o, "a:BIGINT", 1, ',');
    expect("a\n1\n2\nx\n", NULL, "a:VARCHAR", 1, ',');
}

static void test_overrides(void)
{
    const ts_csv_column_type t1[] = {{.name = "B", .type = TS_T_STRING}, {.name = "c", .type = TS_T_DECIMAL, .precision = 10, .scale = 2}};
    ts_csv_infer_opts o = {.header = -1, .columns = t1, .ncolumns = 2};
    expect("a,b,c\n1,2,3.5\n", &o, "a:BIGINT,b:VARCHAR,c:DECIMAL(10,2)", 1, ',');
    const ts_csv_column_type t2[] = {{.name = "zz", .type = TS_T_INT64}};
    o.columns = t2, o.ncolumns = 1;
    ts_csv_inferred inf;
    CHECK(infer("a,b\n1,2\n", &o, &inf) == TS_ERR_USAGE, "an unknown override column is a usage error");
    CHECK(strstr(ts_error_message(), "'zz'") && strstr(ts_error_message(), "a, b"), "message: %s",
          ts_error_message());
    const ts_csv_column_type t3[] = {{.name = "x", .type = TS_T_INT32}, {.name = "y", .type = TS_T_FLOAT64}};
    o = (ts_csv_infer_opts){.header = -1, .columns = t3, .ncolumns = 2, .columns_all = 1};
    expect("1,2\n3,4\n", &o, "x:BIGINT,y:DOUBLE", 0, ','); /* INTEGER is read as BIGINT in int32 range */
    expect("p,q\n3,4\n", &o, "x:BIGINT,y:DOUBLE", 1, ',');  /* 'p' is no INTEGER: a header (DuckDB) */
    o.header = 1;
    expect("1,2\n3,4\n", &o, "x:BIGINT,y:DOUBLE", 1, ',');
    const ts_csv_column_type t5[] = {{.name = "x", .type = TS_T_STRING}, {.name = "y", .type = TS_T_STRING}};
    o = (ts_csv_infer_opts){.header = -1, .columns = t5, .ncolumns = 2, .columns_all = 1};
    expect("1,2\n3,4\n", &o, "x:VARCHAR,y:VARCHAR", 1, ','); /* all VARCHAR: line 1 is a header (DuckDB) */
    o.header = 0;
    expect("1,2\n3,4\n", &o, "x:VARCHAR,y:VARCHAR", 0, ',');
    o = (ts_csv_infer_opts){.header = 1, .columns = t3, .ncolumns = 2, .columns_all = 1};
    CHECK(infer("1,2,3\n", &o, &inf) == TS_ERR_DATA, "columns= with a different field count");
    const ts_csv_column_type t4[] = {{.name = "x", .type = TS_T_DECIMAL, .precision = 5, .scale = 5}};
    o = (ts_csv_infer_opts){.header = -1, .columns = t4, .ncolumns = 1, .columns_all = 1};
    CHECK(infer("1\n", &o, &inf) == TS_ERR_USAGE, "DECIMAL(5,5) is refused");
    CHECK(infer("", NULL, &inf) == TS_ERR_DATA, "an empty file has no columns");
    CHECK(infer("\xEF\xBB\xBF", NULL, &inf) == TS_ERR_DATA, "a BOM alone has no columns");
    CHECK(infer("a,\"b\n1,2\n", NULL, &inf) == TS_ERR_DATA, "a broken header");
    /* reason texts */
    CHECK_OK(infer("n,d\n1,2020-01-01\n", NULL, &inf));
    CHECK(strcmp(ts_csv_inferred_reason(&inf, 0), "malformed row (wrong number of fields or bad quoting)") == 0,
          "reason 0: %s", ts_csv_inferred_reason(&inf, 0));
    CHECK(strcmp(ts_csv_inferred_reason(&inf, 1), "column 'n': value does not parse as BIGINT") == 0, "reason 1: %s",
          ts_csv_inferred_reason(&inf, 1));
    CHECK(strcmp(ts_csv_inferred_reason(&inf, 2), "column 'd': value does not parse as DATE") == 0, "reason 2: %s",
          ts_csv_inferred_reason(&inf, 2));
    /* the spec */
    const ts_csv_spec *sp = &inf.spec;
    CHECK(sp->nfields == 2 && sp->delim == ',' && sp->no_trim && sp->header_sql_names && !sp->header_by_position &&
              !sp->no_header &&
              sp->skip_blank && sp->reason_malformed == 0,
          "spec options");
    CHECK(sp->fields[0].kind == TS_RULE_INT64 && sp->fields[0].nullable && sp->fields[0].reason_invalid == 1 &&
              sp->fields[1].kind == TS_RULE_DATE && sp->fields[1].date_forms == TS_DATE_ISO &&
              sp->fields[1].reason_invalid == 2 && sp->fields[0].name == inf.names[0],
          "spec fields");
    /* a copy has its own arrays, its names pointing into them */
    ts_csv_inferred copy;
    if (CHECK_OK(ts_csv_inferred_copy(&copy, &inf))) {
        CHECK(copy.spec.fields[1].name == copy.names[1] && copy.names != inf.names &&
                  strcmp(copy.spec.fields[1].name, "d") == 0, "copy");
        ts_csv_inferred_free(&copy);
    }
    ts_csv_inferred_free(&inf);
}

/* ---- randomized: columns of a known type -------------------------------------------------------------------- */

enum { K_BOOL, K_INT, K_DOUBLE, K_DATE, K_TEXT, K_KINDS };

static void random_value(ts_test_rng *r, int kind, char *buf, size_t cap)
{
    switch (kind) {
    case K_BOOL: {
        static const char *const b[] = {"true", "false", "T", "f", "TRUE", "False"};
        snprintf(buf, cap, "%s", b[ts_rng_below(r, 6)]);
        break;
    }
    case K_INT: snprintf(buf, cap, "%lld", (long long)ts_rng_range(r, -100000, 100000)); break;
    case K_DOUBLE:
        snprintf(buf, cap, "%s%d.%d", ts_rng_below(r, 2) ? "-" : "", (int)ts_rng_below(r, 1000),
                 (int)ts_rng_below(r, 100));
        break;
    case K_DATE:
        snprintf(buf, cap, "%04d-%02d-%02d", (int)ts_rng_range(r, 1900, 2100), (int)ts_rng_range(r, 1, 12),
                 (int)ts_rng_range(r, 1, 28));
        break;
    default: snprintf(buf, cap, "s%d %s", (int)ts_rng_below(r, 1000), ts_rng_below(r, 2) ? "x" : ""); break;
    }
}

static void test_random_files(void)
{
    static const ts_type want_type[] = {TS_T_BOOL, TS_T_INT64, TS_T_FLOAT64, TS_T_DATE, TS_T_STRING};
    ts_test_rng r = ts_rng_seed(77);
    char *text = malloc(1 << 16);
    long bad = 0;
    for (int it = 0; it < 500; it++) {
        const int ncols = (int)ts_rng_range(&r, 1, 8), nrows = (int)ts_rng_range(&r, 1, 60);
        const int header = (int)ts_rng_below(&r, 2);
        const char delim = ",;|\t"[ts_rng_below(&r, 4)];
        int kind[8], any[8] = {0};
        size_t n = 0;
        for (int c = 0; c < ncols; c++) {
            kind[c] = (int)ts_rng_below(&r, K_KINDS);
            if (header)
                n += (size_t)sprintf(text + n, "%scol_%d", c ? (char[]){delim, 0} : "", c);
        }
        if (header)
            text[n++] = '\n';
        for (int row = 0; row < nrows; row++) {
            for (int c = 0; c < ncols; c++) {
                char v[64] = "";
                /* no NULL in the first data row without a header: line 1 must show its types */
                if (ts_rng_below(&r, 5) || (!header && row == 0))
                    random_value(&r, kind[c], v, sizeof v), any[c] = 1;
                n += (size_t)sprintf(text + n, "%s%s", c ? (char[]){delim, 0} : "", v);
            }
            text[n++] = '\n';
        }
        text[n] = '\0';
        ts_csv_infer_opts o = {.header = header, .delim = it % 2 ? delim : 0};
        ts_csv_inferred inf;
        if (!CHECK_OK(ts_csv_infer(text, (int64_t)n, &o, &inf)))
            continue;
        /* one column and no delimiter given: nothing shows the delimiter, ',' is assumed */
        int ok = inf.ncols == ncols && inf.delim == (ncols == 1 && !o.delim ? ',' : delim);
        for (int c = 0; ok && c < ncols; c++) {
            char name[16];
            snprintf(name, sizeof name, header ? "col_%d" : "column%d", c);
            ok = inf.types[c] == (any[c] ? want_type[kind[c]] : TS_T_STRING) && strcmp(inf.names[c], name) == 0;
        }
        if (!ok && bad++ < 5)
            CHECK(0, "random file %d (delim '%c', header %d) inferred wrongly:\n%s", it, delim, header, text);
        ts_csv_inferred_free(&inf);
    }
    CHECK(bad == 0, "%ld random files inferred wrongly", bad);
    free(text);
}

/* ---- a scan with the inferred spec ---------------------------------------------------------------------------- */

static void test_scan(void)
{
    const char *text = "id;name;score;ok;day\n"
                       "1;  Ann ;1.5;true;2024-02-29\n"
                       "\n"                              /* blank: not a row, still a line */
                       " 2 ;\"Bo;b\";;F;\n"
                       "3;;-2e3;t;2024-03-01\n"
                       "x;c;1;t;2024-03-01\n"            /* id does not parse: reason 1 */
                       "4;d;1;maybe;2024-03-01\n"        /* ok does not parse: reason 4 */
                       "5;e;1;t\n"                       /* 4 fields: malformed, reason 0 */
                       "6;\"  f  \";nan;0;2024-12-01\n"
                       "7;g;1;1;2024-13-01\n";           /* day does not parse: reason 5 */
    const int64_t len = (int64_t)strlen(text);
    /* id, ok and day hold bad values in the sample, so they are text: force their types to see the rejects */
    const ts_csv_column_type over[] = {{.name = "id", .type = TS_T_INT64}, {.name = "ok", .type = TS_T_BOOL},
                                       {.name = "day", .type = TS_T_DATE}};
    ts_csv_infer_opts o = {.header = -1};
    ts_csv_inferred inf;
    char got[512];
    if (!CHECK_OK(ts_csv_infer(text, len, &o, &inf)))
        return;
    schema(&inf, got, sizeof got);
    CHECK(strcmp(got, "id:VARCHAR,name:VARCHAR,score:DOUBLE,ok:VARCHAR,day:VARCHAR") == 0, "schema %s", got);
    ts_csv_inferred_free(&inf);
    o.columns = over, o.ncolumns = 3;
    if (!CHECK_OK(ts_csv_infer(text, len, &o, &inf)))
        return;
    schema(&inf, got, sizeof got);
    CHECK(strcmp(got, "id:BIGINT,name:VARCHAR,score:DOUBLE,ok:BOOLEAN,day:DATE") == 0, "schema %s", got);
    ts_csv_layout layout;
    ts_csv_layout_from_header(&inf.spec, text, len, &layout);
    CHECK(layout.header_ok && layout.skip_line1 && layout.nphys == 5, "layout by name with a header");
    ts_csv_sink sink;
    int64_t nlines = 0;
    if (!CHECK_OK(ts_csv_sink_new(&inf.spec, &sink))) {
        ts_csv_inferred_free(&inf);
        return;
    }
    CHECK_OK(ts_csv_scan_range(&inf.spec, &layout, 0, text, len, 0, len, &sink, &nlines));
    CHECK(nlines == 10, "10 lines, got %lld", (long long)nlines);
    const ts_table *t = sink.clean;
    CHECK(t->ncols == 6 && ts_table_rows(t) == 4, "4 clean rows, got %lld", (long long)ts_table_rows(t));
    if (ts_table_rows(t) == 4 && t->ncols == 6) {
        const ts_column *id = t->cols[0], *name = t->cols[1], *score = t->cols[2], *ok = t->cols[3], *day = t->cols[4],
                        *line = t->cols[5];
        const int64_t ids[] = {1, 2, 3, 6}, lines[] = {1, 3, 4, 8};
        const char *names[] = {"  Ann ", "Bo;b", NULL, "  f  "};
        for (int i = 0; i < 4; i++) {
            CHECK(TS_COL(id, int64_t)[i] == ids[i] && TS_COL(line, int64_t)[i] == lines[i], "row %d id/line", i);
            const int64_t *off = TS_COL(name, int64_t);
            if (names[i])
                CHECK(ts_column_is_valid(name, i) && off[i + 1] - off[i] == (int64_t)strlen(names[i]) &&
                          memcmp(name->bytes + off[i], names[i], strlen(names[i])) == 0,
                      "row %d name [%.*s]", i, (int)(off[i + 1] - off[i]), name->bytes + off[i]);
            else
                CHECK(!ts_column_is_valid(name, i), "row %d name is NULL", i);
        }
        const double *sc = TS_COL(score, double);
        CHECK(sc[0] == 1.5 && !ts_column_is_valid(score, 1) && sc[2] == -2000 && isnan(sc[3]), "scores");
        const uint8_t *b = TS_COL(ok, uint8_t);
        CHECK(b[0] == 1 && b[1] == 0 && b[2] == 1 && b[3] == 0 && ok->type == TS_T_BOOL, "booleans");
        const int32_t *d = TS_COL(day, int32_t);
        CHECK(d[0] == ts_days_from_civil(2024, 2, 29) && !ts_column_is_valid(day, 1) &&
                  d[2] == ts_days_from_civil(2024, 3, 1),
              "dates");
    }
    const ts_table *rj = sink.rejects;
    CHECK(ts_table_rows(rj) == 4, "4 rejects, got %lld", (long long)ts_table_rows(rj));
    if (ts_table_rows(rj) == 4) {
        const int32_t want_reason[] = {1, 4, 0, 5};
        const int64_t want_line[] = {5, 6, 7, 9};
        for (int i = 0; i < 4; i++)
            CHECK(TS_COL(rj->cols[2], int32_t)[i] == want_reason[i] && TS_COL(rj->cols[1], int64_t)[i] == want_line[i],
                  "reject %d: reason %d line %lld", i, TS_COL(rj->cols[2], int32_t)[i],
                  (long long)TS_COL(rj->cols[1], int64_t)[i]);
        const int64_t *off = TS_COL(rj->cols[3], int64_t);
        CHECK(off[1] - off[0] == 18 && memcmp(rj->cols[3]->bytes, "x;c;1;t;2024-03-01", 18) == 0, "raw line kept");
    }
    ts_csv_sink_free(&sink);
    ts_csv_inferred_free(&inf);
}

/* ---- the rules format's float64 and bool (trimmed fields, header matched by name) ------------------------------ */

static void test_rules_types(void)
{
    const char *rules = "table t\n"
                        "order malformed bad_rate bad_flag\n"
                        "malformed malformed\n"
                        "column rate float64 nullable reject=bad_rate\n"
                        "column flag bool reject=bad_flag\n"
                        "column x float64 nullable fail=null\n";
    ts_rules *r;
    if (!CHECK_OK(ts_rules_parse(rules, "t.rules", &r)))
        return;
    CHECK(r->spec.fields[0].kind == TS_RULE_FLOAT64 && r->spec.fields[1].kind == TS_RULE_BOOL, "kinds");
    const char *text = "flag,x,rate\n"
                       " TRUE ,abc, 1.5 \n"
                       "0,2e-3,\n"
                       "1,1,x\n"
                       "maybe,1,3\n";
    const int64_t len = (int64_t)strlen(text);
    ts_csv_layout layout;
    ts_csv_layout_from_header(&r->spec, text, len, &layout);
    ts_csv_sink sink;
    int64_t nlines;
    CHECK(layout.header_ok, "header matched by name");
    if (CHECK_OK(ts_csv_sink_new(&r->spec, &sink)) &&
        CHECK_OK(ts_csv_scan_range(&r->spec, &layout, 0, text, len, 0, len, &sink, &nlines))) {
        const ts_table *t = sink.clean;
        CHECK(ts_table_rows(t) == 2 && t->cols[0]->type == TS_T_FLOAT64 && t->cols[1]->type == TS_T_BOOL,
              "2 clean rows");
        if (ts_table_rows(t) == 2) {
            const double *rate = TS_COL(t->cols[0], double), *x = TS_COL(t->cols[2], double);
            const uint8_t *flag = TS_COL(t->cols[1], uint8_t);
            CHECK(rate[0] == 1.5 && flag[0] == 1 && !ts_column_is_valid(t->cols[2], 0), "row 1");
            CHECK(!ts_column_is_valid(t->cols[0], 1) && flag[1] == 0 && x[1] == 0.002, "row 2");
        }
        const ts_table *rj = sink.rejects;
        CHECK(ts_table_rows(rj) == 2 && TS_COL(rj->cols[2], int32_t)[0] == 1 && TS_COL(rj->cols[2], int32_t)[1] == 2,
              "rejects: bad_rate then bad_flag");
        ts_csv_sink_free(&sink);
    }
    ts_rules_free(r);
    CHECK(ts_rules_parse("table t\norder m\nmalformed m\ncolumn r float64 min=0 reject=m\n", "b.rules", &r) ==
              TS_ERR_USAGE,
          "no bounds on float64");
    ts_error_clear();
}

int main(void)
{
    test_names_and_types();
    test_header_detection();
    test_dialect();
    test_overrides();
    test_random_files();
    test_scan();
    test_rules_types();
    return TS_TEST_DONE("test_csv_infer");
}
