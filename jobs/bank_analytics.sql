-- bank-analytics (../shared/domain.md) in SQL: the same tables as `tessera run bank-analytics`, cell for cell.
--   mpirun -n P build/tessera sql jobs/bank_analytics.sql --set data=DIR --set rules=jobs/rules/bank_transactions.rules --out FILE.h5
-- ${data}: a tessera-gen directory (transactions/*.csv[.gz], countries.csv, fx_rates.csv, indicators.csv).

-- 1-2. ingest and clean in parallel with the job's rules (types, dates, categories, amounts, duplicates); every
-- rejected row lands in quality_rejects with its reason and raw bytes, the counts in quality_summary.
CREATE TABLE txn AS
  SELECT txn_date, country_code, customer_id, sector, amount, status
  FROM read_csv('${data}/transactions', rules = '${rules}', values_dir = '${data}',
                rejects = 'quality_rejects', summary = 'quality_summary');

-- monthly FX rates (month as 'YYYY-MM')
CREATE TABLE fx AS
  SELECT country_code, CAST(month || '-01' AS DATE) AS month, usd_rate
  FROM read_csv('${data}/fx_rates.csv', types = {'month': 'VARCHAR'});

-- 3-5. partition by (country, month), aggregate, join the month's USD rate (one division per group: exact cents
-- sums, so the result does not depend on the number of ranks)
CREATE TABLE analytics.country_month AS
WITH g AS (
  SELECT country_code, date_trunc('month', txn_date) AS month, count(*) AS txn_count,
         count(*) FILTER (WHERE status = 'success') AS success_count,
         sum(amount) FILTER (WHERE status = 'success') AS volume_local,
         count(DISTINCT customer_id) AS distinct_customers
  FROM txn GROUP BY 1, 2)
SELECT g.country_code, g.month, txn_count, success_count,
       CAST(success_count AS DOUBLE) / txn_count AS success_rate,
       CAST(coalesce(volume_local, 0) AS DOUBLE) / usd_rate AS volume_usd,
       CASE WHEN success_count = 0 THEN CAST('nan' AS DOUBLE)
            ELSE CAST(coalesce(volume_local, 0) AS DOUBLE) / usd_rate / success_count END AS avg_amount_usd,
       distinct_customers
FROM g LEFT JOIN fx ON g.country_code = fx.country_code AND g.month = fx.month
ORDER BY country_code, month;

CREATE TABLE analytics.country_sector_month AS
WITH g AS (
  SELECT country_code, sector, date_trunc('month', txn_date) AS month, count(*) AS txn_count,
         count(*) FILTER (WHERE status = 'success') AS success_count,
         sum(amount) FILTER (WHERE status = 'success') AS volume_local,
         count(DISTINCT customer_id) AS distinct_customers
  FROM txn GROUP BY 1, 2, 3)
SELECT g.country_code, sector, g.month, txn_count, success_count,
       CAST(success_count AS DOUBLE) / txn_count AS success_rate,
       CAST(coalesce(volume_local, 0) AS DOUBLE) / usd_rate AS volume_usd,
       CASE WHEN success_count = 0 THEN CAST('nan' AS DOUBLE)
            ELSE CAST(coalesce(volume_local, 0) AS DOUBLE) / usd_rate / success_count END AS avg_amount_usd,
       distinct_customers
FROM g LEFT JOIN fx ON g.country_code = fx.country_code AND g.month = fx.month
ORDER BY country_code, sector, month;

-- indicators.csv (long: country, month, indicator, value) pivoted to columns beside each (country, month)
CREATE TABLE analytics.country_month_indicators AS
WITH ind AS (
  SELECT country_code, CAST(month || '-01' AS DATE) AS month,
         max(value) FILTER (WHERE indicator = 'inflation_pct') AS inflation_pct,
         max(value) FILTER (WHERE indicator = 'policy_rate_pct') AS policy_rate_pct,
         max(value) FILTER (WHERE indicator = 'gdp_usd_bn') AS gdp_usd_bn
  FROM read_csv('${data}/indicators.csv', types = {'month': 'VARCHAR', 'value': 'DOUBLE'})
  GROUP BY 1, 2)
SELECT c.*, inflation_pct, policy_rate_pct, gdp_usd_bn
FROM analytics.country_month c LEFT JOIN ind ON c.country_code = ind.country_code AND c.month = ind.month
ORDER BY c.country_code, c.month;

-- 6. the quality tables
CREATE TABLE quality.rejects AS SELECT file, line, reason, raw_line FROM quality_rejects ORDER BY file, line;
CREATE TABLE quality.summary AS SELECT * FROM quality_summary;

DROP TABLE txn;
DROP TABLE fx;
