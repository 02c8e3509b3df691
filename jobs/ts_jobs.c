#include "ts_jobs.h"

#include <string.h>

/* The registry: add a line here to make a job runnable as `tessera run NAME`. */
static const ts_job JOBS[] = {
    {"bank-analytics", "clean bank transactions, aggregate per country/month and country/sector/month in USD",
     TS_NEEDS_DATA | TS_NEEDS_OUT | TS_SPILLS, ts_job_bank_analytics},
    {"data-quality", "profile the transactions' columns, run dbt-style tests, score rows (exit 4 on a failed test)",
     TS_NEEDS_DATA | TS_NEEDS_OUT, ts_job_data_quality},
    {"scd2", "type-2 slowly changing dimension of customers from a snapshot (--in: the current dimension)",
     TS_NEEDS_DATA | TS_NEEDS_OUT, ts_job_scd2},
    {"star-schema", "bank data as a star schema: dim_customers, dim_accounts, dim_dates, fact_transactions",
     TS_NEEDS_DATA | TS_NEEDS_OUT, ts_job_star_schema},
    {"top-customers", "top customers by successful amount_usd, from a star-schema warehouse (--limit N)",
     TS_NEEDS_IN | TS_NEEDS_OUT, ts_job_top_customers},
    {"bench-ops", "operator benchmark: join, group-bys, sort on scripts/bench/ops.sh data (checksums)",
     TS_NEEDS_DATA | TS_NEEDS_OUT, ts_job_bench_ops},
};

const ts_job *ts_jobs_all(int *n)
{
    *n = (int)(sizeof JOBS / sizeof JOBS[0]);
    return JOBS;
}

const ts_job *ts_job_find(const char *name)
{
    int n;
    const ts_job *all = ts_jobs_all(&n);
    for (int i = 0; i < n; i++)
        if (strcmp(all[i].name, name) == 0)
            return &all[i];
    return NULL;
}
