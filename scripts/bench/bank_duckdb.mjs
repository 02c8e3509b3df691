// bank-analytics in DuckDB SQL, as a benchmark peer of Tessera (scripts/bench/bank.sh).
//   node bank_duckdb.mjs DATA_DIR OUT_DIR [THREADS=2]
// Cleans per shared/domain.md in SQL, writes country_month / country_sector_month / rejects CSVs to OUT_DIR and
// prints one JSON line: seconds (query work, without start-up) and the totals bank.sh cross-checks.
// Needs @duckdb/node-api: bank.sh installs it with `npm install --prefix $BENCH_DIR/node`; ES imports ignore
// NODE_PATH, so it is resolved from that folder ($DUCKDB_NODE_DIR, default /tmp/tessera-bench/node).
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

const nodeDir = process.env.DUCKDB_NODE_DIR ?? `${process.env.BENCH_DIR ?? '/tmp/tessera-bench'}/node`;
const api = createRequire(`${nodeDir}/`).resolve('@duckdb/node-api');
const { DuckDBInstance } = await import(pathToFileURL(api).href);

const [dataDir, outDir, threads = '2'] = process.argv.slice(2);
if (!dataDir || !outDir) {
  console.error('usage: node bank_duckdb.mjs DATA_DIR OUT_DIR [THREADS]');
  process.exit(2);
}
mkdirSync(outDir, { recursive: true });
const q = (s) => `'${s.replaceAll("'", "''")}'`;

// One RFC 4180 field: quoted (with "" escapes) or unquoted (may hold quotes, never starts with one) or empty.
const F = '("(?:[^"]|"")*"|[^",][^,]*|)';
const ROW_RE = `^${Array(11).fill(F).join(',')}$`;
const NAMES = ['txn_id', 'txn_date', 'country_code', 'customer_id', 'account_id', 'txn_type', 'sector', 'amount',
  'currency', 'status', 'channel'];

const sql = `
SET threads = ${Number(threads)};
-- unquote ("" -> ") then trim ASCII spaces and tabs
CREATE MACRO unq(x) AS trim(CASE WHEN starts_with(x, '"') THEN replace(x[2:-2], '""', '"') ELSE x END,
                            ' ' || chr(9));
CREATE MACRO is_int(x) AS regexp_full_match(x, '[+-]?[0-9]+') AND TRY_CAST(x AS BIGINT) IS NOT NULL;
CREATE MACRO norm_date(d) AS CASE
  WHEN regexp_full_match(d, '[0-9]{4}-[0-9]{2}-[0-9]{2}') THEN d
  WHEN regexp_full_match(d, '[0-9]{2}/[0-9]{2}/[0-9]{4}') THEN d[7:10] || '-' || d[4:5] || '-' || d[1:2]
  WHEN regexp_full_match(d, '[0-9]{4}/[0-9]{2}/[0-9]{2}') THEN replace(d, '/', '-')
  WHEN regexp_full_match(d, '[0-9]{8}') THEN d[1:4] || '-' || d[5:6] || '-' || d[7:8] END;

CREATE TABLE countries AS SELECT country_code FROM read_csv(${q(dataDir + '/countries.csv')}, all_varchar = true);
CREATE TABLE fx AS SELECT country_code, month, usd_rate
  FROM read_csv(${q(dataDir + '/fx_rates.csv')}, types = {'month': 'VARCHAR', 'usd_rate': 'DOUBLE'});

-- Each line as one value: no delimiter or quote char, so nothing is split or unquoted by the reader.
-- With mixed \\r\\n endings the reader strips the \\r but adds a NULL row per such line: drop NULLs (the
-- generator never writes empty lines, which would be NULL too).
CREATE TABLE lines AS
  SELECT filename, line FROM read_csv(${q(dataDir + '/transactions/*.csv')}, columns = {'line': 'VARCHAR'},
      header = true, delim = E'\\x01', quote = '', escape = '', auto_detect = false, strict_mode = false,
      new_line = '\\n', filename = true)
  WHERE line IS NOT NULL;

-- Fields: lines without a quote split on commas (exactly 11 fields, or malformed); only lines holding a quote
-- go through the RFC 4180 row regex, then are unquoted.
CREATE TABLE parsed AS
  WITH p AS (
    SELECT filename, line, string_split(line, ',') AS f FROM lines WHERE NOT contains(line, '"')),
  s AS (
    SELECT filename, line, regexp_full_match(line, ${q(ROW_RE)}) AS well_formed,
           regexp_extract(line, ${q(ROW_RE)}, [${NAMES.map(q).join(', ')}]) AS f
    FROM lines WHERE contains(line, '"')),
  t AS (
    SELECT filename, line, len(f) = 11 AS well_formed,
           ${NAMES.map((n, i) => `trim(f[${i + 1}], ' ' || chr(9)) AS ${n}`).join(', ')} FROM p
    UNION ALL
    SELECT filename, line, well_formed, ${NAMES.map((n) => `unq(f.${n}) AS ${n}`).join(', ')} FROM s),
  c AS (
    SELECT *, try_strptime(norm_date(txn_date), '%Y-%m-%d')::DATE AS d, upper(country_code) AS cc,
           lower(sector) AS sec, lower(status) AS st,
           CASE WHEN regexp_full_match(amount, '[+-]?[0-9]{1,16}(\\.[0-9]{1,2})?')
                THEN (CAST(amount AS DECIMAL(18, 2)) * 100)::BIGINT END AS cents
    FROM t)
  SELECT filename, line, d, cc, sec, st, cents, TRY_CAST(customer_id AS BIGINT) AS cust, CASE
    WHEN NOT well_formed OR NOT (is_int(txn_id) AND is_int(customer_id) AND is_int(account_id))
      THEN 'malformed_row'
    WHEN d IS NULL THEN 'bad_date'
    WHEN cc NOT IN (SELECT country_code FROM countries) THEN 'unknown_country'
    WHEN lower(txn_type) NOT IN ('loan', 'disbursement', 'repayment', 'transfer', 'fee', 'grant')
      OR sec NOT IN ('agriculture', 'education', 'energy', 'health', 'housing', 'infrastructure', 'sme',
                     'technology', 'transport', 'water')
      OR st NOT IN ('success', 'failed', 'pending', 'reversed')
      OR lower(channel) NOT IN ('agent', 'atm', 'branch', 'mobile', 'online') THEN 'bad_category'
    WHEN amount = '' THEN 'missing_amount'
    WHEN cents IS NULL OR cents <= 0 THEN 'bad_amount'
  END AS reason
  FROM c;

-- Exact copies of an earlier clean line are duplicates (identical bytes always get the same verdict).
CREATE TABLE checked AS
  SELECT * REPLACE (CASE WHEN reason IS NULL AND row_number() OVER (PARTITION BY line) > 1
                         THEN 'duplicate' ELSE reason END AS reason)
  FROM parsed;

CREATE TABLE clean AS
  SELECT cc, sec, date_trunc('month', d)::DATE AS m, cust, st = 'success' AS ok, cents
  FROM checked WHERE reason IS NULL;

CREATE TABLE country_month AS
  SELECT g.* EXCLUDE (distinct_customers), g.volume_usd / NULLIF(g.success_count, 0) AS avg_amount_usd,
         g.distinct_customers FROM (
    SELECT cc AS country_code, m AS month, count(*) AS txn_count, count_if(ok) AS success_count,
           count_if(ok) / count(*) AS success_rate,
           sum(cents) FILTER (WHERE ok)::DOUBLE / 100 / any_value(fx.usd_rate) AS volume_usd,
           count(DISTINCT cust) AS distinct_customers
    FROM clean LEFT JOIN fx ON fx.country_code = cc AND fx.month = strftime(m, '%Y-%m')
    GROUP BY cc, m) g
  ORDER BY country_code, month;
CREATE TABLE country_sector_month AS
  SELECT g.* EXCLUDE (distinct_customers), g.volume_usd / NULLIF(g.success_count, 0) AS avg_amount_usd,
         g.distinct_customers FROM (
    SELECT cc AS country_code, sec AS sector, m AS month, count(*) AS txn_count, count_if(ok) AS success_count,
           count_if(ok) / count(*) AS success_rate,
           sum(cents) FILTER (WHERE ok)::DOUBLE / 100 / any_value(fx.usd_rate) AS volume_usd,
           count(DISTINCT cust) AS distinct_customers
    FROM clean LEFT JOIN fx ON fx.country_code = cc AND fx.month = strftime(m, '%Y-%m')
    GROUP BY cc, sec, m) g
  ORDER BY country_code, sector, month;
COPY country_month TO ${q(outDir + '/country_month.csv')};
COPY country_sector_month TO ${q(outDir + '/country_sector_month.csv')};
COPY (SELECT filename, reason, line AS raw_line FROM checked WHERE reason IS NOT NULL ORDER BY filename)
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
const out = {
  system: 'duckdb', threads: Number(threads), seconds, rows_read: Number(rows.n),
  txn_count: Number(totals.txn_count), success_count: Number(totals.success_count),
  volume_usd: Number(totals.volume_usd), country_months: Number(totals.country_months),
  rejects: Object.fromEntries(reasons.map((r) => [r.reason, Number(r.n)])),
};
console.log(JSON.stringify(out));
