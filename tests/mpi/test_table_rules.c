/* engine/dist/ts_table_rules: unique, references and outlier (z-score and IQR) rules over a scan on P ranks, against
 * a naive sequential application of the same rules (in precedence order) to the same CSV on rank 0. */
#include <math.h>
#include <mpi.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../unit/ts_test.h"
#include "ts_mpi_test.h"
#include "ts_ctx.h"
#include "ts_exchange.h"
#include "ts_table_rules.h"

#define N 3000

static const char *RULES = "table t\n"
                           "order bad unknown_cust dup_id outlier_z outlier_iqr\n"
                           "malformed bad\n"
                           "column id int64 reject=bad\n"
                           "column cust int64 nullable reject=bad\n"
                           "column amt decimal(18,2) nullable reject=bad\n"
                           "outlier amt iqr=1.5 reject=outlier_iqr\n"
                           "unique id reject=dup_id\n"
                           "references cust custs.csv:cust_id reject=unknown_cust\n"
                           "outlier amt zscore=2.5 reject=outlier_z\n";

typedef struct row {
    int64_t id, cust, cents;
    int cust_null, amt_null;
} row;

static row row_of(int i)
{
    row r = {i % 97 == 5 ? i : i + 1, 1 + (i * 7) % 60, 1000 + (i * 37) % 9000, i % 53 == 0, i % 61 == 0};
    if (i % 211 == 3)
        r.cents = 10000000; /* 100000.00: an outlier */
    if (i % 389 == 7)
        r.cents = 250000; /* 2500.00: outside the IQR fence, not a 2.5-sigma outlier once the big ones are gone */
    return r;
}

static void write_data(const char *dir)
{
    char path[512];
    snprintf(path, sizeof path, "mkdir -p %s/t", dir);
    CHECK(system(path) == 0, "mkdir");
    snprintf(path, sizeof path, "%s/t/part-00000.csv", dir);
    FILE *f = fopen(path, "w");
    fprintf(f, "id,cust,amt\n");
    for (int i = 0; i < N; i++) {
        const row r = row_of(i);
        fprintf(f, "%lld,", (long long)r.id);
        if (!r.cust_null)
            fprintf(f, "%lld", (long long)r.cust);
        fputc(',', f);
        if (!r.amt_null)
            fprintf(f, "%lld.%02lld", (long long)(r.cents / 100), (long long)(r.cents % 100));
        fputc('\n', f);
    }
    fclose(f);
    snprintf(path, sizeof path, "%s/custs.csv", dir);
    f = fopen(path, "w");
    fprintf(f, "cust_id,name\n");
    for (int c = 1; c <= 50; c++)
        fprintf(f, "%d,c%d\n", c, c);
    fclose(f);
}

static int cmp_d(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Expected reason per input row (-1 = clean), applying the rules in precedence order to the surviving rows. */
static void naive(int *reason)
{
    for (int i = 0; i < N; i++)
        reason[i] = -1;
    for (int i = 0; i < N; i++) /* 1 unknown_cust */
        if (!row_of(i).cust_null && row_of(i).cust > 50)
            reason[i] = 1;
    for (int i = 0; i < N; i++) /* 2 dup_id: an earlier surviving row with the same id */
        for (int j = 0; j < i && reason[i] < 0; j++)
            if (reason[j] < 0 && row_of(j).id == row_of(i).id)
                reason[i] = 2;
    double sum = 0, dev = 0, cnt = 0; /* 3 outlier_z */
    for (int i = 0; i < N; i++)
        if (reason[i] < 0 && !row_of(i).amt_null)
            sum += (double)row_of(i).cents / 100, cnt++;
    const double mean = sum / cnt;
    for (int i = 0; i < N; i++)
        if (reason[i] < 0 && !row_of(i).amt_null)
            dev += ((double)row_of(i).cents / 100 - mean) * ((double)row_of(i).cents / 100 - mean);
    const double sd = sqrt(dev / cnt);
    for (int i = 0; i < N; i++)
        if (reason[i] < 0 && !row_of(i).amt_null && fabs((double)row_of(i).cents / 100 - mean) > 2.5 * sd)
            reason[i] = 3;
    double *v = malloc(sizeof *v * N); /* 4 outlier_iqr, quantile_cont */
    int m = 0;
    for (int i = 0; i < N; i++)
        if (reason[i] < 0 && !row_of(i).amt_null)
            v[m++] = (double)row_of(i).cents / 100;
    qsort(v, (size_t)m, sizeof *v, cmp_d);
    const double h1 = 0.25 * (m - 1), h3 = 0.75 * (m - 1);
    const double q1 = v[(int)h1] + (h1 - floor(h1)) * (v[(int)h1 + 1] - v[(int)h1]);
    const double q3 = v[(int)h3] + (h3 - floor(h3)) * (v[(int)h3 + 1] - v[(int)h3]);
    for (int i = 0; i < N; i++) {
        const double x = (double)row_of(i).cents / 100;
        if (reason[i] < 0 && !row_of(i).amt_null && (x < q1 - 1.5 * (q3 - q1) || x > q3 + 1.5 * (q3 - q1)))
            reason[i] = 4;
    }
    free(v);
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    ts_ctx ctx;
    if (ts_ctx_init(MPI_COMM_WORLD, &ctx) != TS_OK)
        MPI_Abort(MPI_COMM_WORLD, 1);
    char dir[256];
    if (ctx.rank == 0) {
        snprintf(dir, sizeof dir, "/tmp/ts_table_rules.%d", (int)getpid());
        write_data(dir);
    }
    MPI_Bcast(dir, sizeof dir, MPI_CHAR, 0, ctx.comm);
    ts_rules *rules = NULL;
    ts_scan scan;
    char tdir[300];
    snprintf(tdir, sizeof tdir, "%s/t", dir);
    int64_t moved = 0;
    if (CHECK_OK(ts_rules_parse(RULES, "test", &rules)) && CHECK_OK(ts_scan_csv(&ctx, tdir, &rules->spec, &scan))) {
        CHECK(rules->ntable_rules == 4 && rules->table_rules[0].kind == TS_TRULE_REFERENCES &&
                  rules->table_rules[3].kind == TS_TRULE_IQR,
              "table rules sorted by reason precedence");
        if (CHECK_OK(ts_apply_table_rules(&ctx, rules, dir, &scan, &moved))) {
            /* gather (line, reason) of the rejects and the lines of the clean rows on rank 0 */
            ts_table *rej = NULL, *clean = NULL;
            int32_t *d1 = calloc((size_t)ts_table_rows(scan.rejects) + 1, 4);
            int32_t *d2 = calloc((size_t)ts_table_rows(scan.clean) + 1, 4);
            CHECK_OK(ts_exchange_rows(&ctx, scan.rejects, d1, &rej));
            CHECK_OK(ts_exchange_rows(&ctx, scan.clean, d2, &clean));
            if (ctx.rank == 0 && rej && clean) {
                int want[N], got[N];
                naive(want);
                for (int i = 0; i < N; i++)
                    got[i] = -2;
                for (int64_t k = 0; k < ts_table_rows(rej); k++) /* line 1 is the header: row i is line i + 2 */
                    got[ts_pos_line(TS_COL(ts_table_col(rej, "__pos"), int64_t)[k]) - 2] =
                        TS_COL(ts_table_col(rej, "reason"), int32_t)[k];
                for (int64_t k = 0; k < ts_table_rows(clean); k++)
                    got[ts_pos_line(TS_COL(ts_table_col(clean, "__pos"), int64_t)[k]) - 2] = -1;
                int bad = 0, counts[5] = {0};
                for (int i = 0; i < N; i++) {
                    bad += got[i] != want[i];
                    if (want[i] >= 0)
                        counts[want[i]]++;
                }
                CHECK(bad == 0, "table rules on %d ranks: %d rows differ from the naive application", ctx.size, bad);
                CHECK(counts[1] && counts[2] && counts[3] && counts[4], "every rule fires (%d %d %d %d)", counts[1],
                      counts[2], counts[3], counts[4]);
                const int64_t *off = TS_COL(ts_table_col(rej, "raw_line"), int64_t);
                CHECK(ts_table_rows(rej) == 0 || off[1] > off[0], "raw lines travel with the rejects");
            }
            free(d1), free(d2);
            ts_table_free(rej), ts_table_free(clean);
        }
        ts_scan_free(&scan);
    }
    ts_rules_free(rules);
    if (ctx.rank == 0) {
        char cmd[300];
        snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
        CHECK(system(cmd) == 0, "cleanup");
    }
    return ts_mpi_test_done(&ctx, "test_table_rules");
}
