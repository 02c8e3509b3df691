// bank-analytics the way a typical DuckDB user writes it: DuckDB's own CSV reader, then SQL cleaning functions.
//   node bank_duckdb_native.mjs DATA_DIR OUT_DIR [THREADS=2]
// A benchmark peer of Tessera (scripts/bench/bank.sh) next to the exact bank_duckdb.mjs. It does NOT reproduce
// shared/domain.md's reject rules exactly: rows DuckDB's reader cannot split into 11 fields are skipped
// (ignore_errors) and counted as malformed, its lenient reader (strict_mode=false) may accept some malformed
// quoting, integers/dates/amounts are checked with casts and try_strptime rather than exact grammars, and
// duplicates are found on the parsed fields rather than the raw bytes. Its totals should be close to the exact
// systems'; bank.sh reports how close and keeps it out of the reject-count agreement check.
// Prints one JSON line like bank_duckdb.mjs (seconds: query work, without start-up).
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

const nodeDir = process.env.DUCKDB_NODE_DIR ?? `${process.env.BENCH_DIR ?? '/tmp/tessera-bench'}/node`;
const api = createRequire(`${nodeDir}/`).resolve('@duckdb/node-api');
const { DuckDBInstance } = await import(pathToFileURL(api).href);

const [dataDir, outDir, threads = '2'] = process.argv.slice(2);
if (!dataDir || !outDir) {
  console.error('usage: node bank_duckdb_native.mjs DATA_DIR OUT_DIR [THREADS]');
  process.exit(2);
}
mkdirSync(outDir, { recursive: true });
const q = (s) => `'${s.replaceAll("'", "''")}'`;
const NAMES = ['txn_id', 'txn_date', 'country_code', 'customer_id', 'account_id', 'txn_type', 'sector', 'amount',
  'currency', 'status', 'channel'];

const sql = `
SET threads = ${Number(threads)};
-- trim ASCII spaces/tabs, then unquote a field wrapped in quotes ("" -> ")
-- (the reader reads empty fields as NULL: make them '' so that the NOT IN checks below see them)
CREATE MACRO tr(x) AS trim(CASE WHEN x LIKE '"%"' THEN replace(x[2:-2], '""', '"') ELSE coalesce(x, '') END,
                           ' ' || chr(9));
CREATE TABLE countries AS SELECT country_code FROM read_csv(${q(dataDir + '/countries.csv')}, all_varchar = true);
CREATE TABLE fx AS SELECT country_code, month, usd_rate
  FROM read_csv(${q(dataDir + '/fx_rates.csv')}, types = {'month': 'VARCHAR', 'usd_rate': 'DOUBLE'});

CREATE TABLE raw AS
  SELECT * FROM read_csv(${q(dataDir + '/transactions/*.csv')},
      columns = {${NAMES.map((n) => `${q(n)}: 'VARCHAR'`).join(', ')}}, auto_detect = false, header = true,
      delim = ',', quote = '', escape = '', strict_mode = false, ignore_errors = true, filename = true);

CREATE TABLE checked AS
  WITH c AS (
    SELECT filename, *, TRY_CAST(tr(customer_id) AS BIGINT) AS cust,
           TRY_CAST(tr(txn_id) AS BIGINT) IS NOT NULL AND TRY_CAST(tr(account_id) AS BIGINT) IS NOT NULL AS ids_ok,
           try_strptime(tr(txn_date), ['%Y-%m-%d', '%d/%m/%Y', '%Y/%m/%d', '%Y%m%d'])::DATE AS d,
           upper(tr(country_code)) AS cc, lower(tr(sector)) AS sec, lower(tr(status)) AS st, tr(amount) AS amt
    FROM raw),
  r AS (
    SELECT *, CASE WHEN regexp_full_match(amt, '[+-]?[0-9]{1,16}(\\.[0-9]{1,2})?')
                   THEN (amt::DECIMAL(18, 2) * 100)::BIGINT END AS cents FROM c),
  v AS (
    SELECT *, CASE
      WHEN cust IS NULL OR NOT ids_ok THEN 'malformed_row'
      WHEN d IS NULL THEN 'bad_date'
      WHEN cc NOT IN (SELECT country_code FROM countries) THEN 'unknown_country'
      WHEN lower(tr(txn_type)) NOT IN ('loan', 'disbursement', 'repayment', 'transfer', 'fee', 'grant')
        OR sec NOT IN ('agriculture', 'education', 'energy', 'health', 'housing', 'infrastructure', 'sme',
                       'technology', 'transport', 'water')
        OR st NOT IN ('success', 'failed', 'pending', 'reversed')
        OR lower(tr(channel)) NOT IN ('agent', 'atm', 'branch', 'mobile', 'online') THEN 'bad_category'
      WHEN amt = '' THEN 'missing_amount'
      WHEN cents IS NULL OR cents <= 0 THEN 'bad_amount'
    END AS reason FROM r)
  SELECT * REPLACE (CASE WHEN reason IS NULL
      AND row_number() OVER (PARTITION BY ${NAMES.join(', ')}) > 1 THEN 'duplicate' ELSE reason END AS reason)
  FROM v;

CREATE TABLE clean AS
  SELECT cc, sec, date_trunc('month', d)::DATE AS m, cust, st = 'success' AS ok, cents
  FROM checked WHERE reason IS NULL;

CREATE TABLE country_month AS
  SELECT cc AS country_code, m AS month, count(*) AS txn_count, count_if(ok) AS success_count,
         count_if(ok) / count(*) AS success_rate,
         sum(cents) FILTER (WHERE ok)::DOUBLE / 100 / any_value(fx.usd_rate) AS volume_usd,
         volume_usd / NULLIF(success_count, 0) AS avg_amount_usd, count(DISTINCT cust) AS distinct_customers
  FROM clean LEFT JOIN fx ON fx.country_code = cc AND fx.month = strftime(m, '%Y-%m')
  GROUP BY ALL ORDER BY ALL;
CREATE TABLE country_sector_month AS
  SELECT cc AS country_code, sec AS sector, m AS month, count(*) AS txn_count, count_if(ok) AS success_count,
         count_if(ok) / count(*) AS success_rate,
         sum(cents) FILTER (WHERE ok)::DOUBLE / 100 / any_value(fx.usd_rate) AS volume_usd,
         volume_usd / NULLIF(success_count, 0) AS avg_amount_usd, count(DISTINCT cust) AS distinct_customers
  FROM clean LEFT JOIN fx ON fx.country_code = cc AND fx.month = strftime(m, '%Y-%m')
  GROUP BY ALL ORDER BY ALL;
COPY country_month TO ${q(outDir + '/country_month.csv')};
COPY country_sector_month TO ${q(outDir + '/country_sector_month.csv')};
COPY (SELECT filename, reason, ${NAMES.join(', ')} FROM checked WHERE reason IS NOT NULL ORDER BY filename)
  TO ${q(outDir + '/rejects.csv')};
`;

const db = await DuckDBInstance.create(':memory:');
const con = await db.connect();
const t0 = performance.now();
await con.run(sql);
const seconds = (performance.now() - t0) / 1000;

const one = async (s) => (await con.runAndReadAll(s)).getRowObjectsJson()[0];
const totals = await one(`SELECT sum(txn_count)::BIGINT AS txn_count, sum(success_count)::BIGINT AS success_count,
  sum(volume_usd) AS volume_usd, count(*) AS country_months FROM country_month`);
const reasons = (await con.runAndReadAll(`SELECT reason, count(*)::BIGINT AS n FROM checked
  WHERE reason IS NOT NULL GROUP BY reason`)).getRowObjectsJson();
const rows = await one('SELECT count(*)::BIGINT AS n FROM checked');
// rows the reader skipped: the manifest's row count minus the rows it returned
const manifest = JSON.parse(await (await import('node:fs/promises')).readFile(`${dataDir}/manifest.json`, 'utf8'));
const skipped = manifest.rows - Number(rows.n);
const rejects = Object.fromEntries(reasons.map((r) => [r.reason, Number(r.n)]));
if (skipped > 0) rejects.malformed_row = (rejects.malformed_row ?? 0) + skipped;
console.log(JSON.stringify({
  system: 'duckdb-native', threads: Number(threads), seconds, rows_read: Number(rows.n) + skipped,
  rows_skipped_by_reader: skipped, txn_count: Number(totals.txn_count), success_count: Number(totals.success_count),
  volume_usd: Number(totals.volume_usd), country_months: Number(totals.country_months), rejects,
}));
