// Writes the Parquet fixtures of tests/sql/parquet.test into parquet/ next to this script, with DuckDB
// (@duckdb/node-api; DUCKDB_NODE_DIR, default /tmp/tessera-bench/node), then runs make_parquet_handmade.py and has
// DuckDB read its files back (a check of that writer). The files are committed: the test suite reads them without
// DuckDB, and tests/sql/duckdb_expect.mjs fills parquet.test's expected blocks with DuckDB's own answers.
//
//   node tests/sql/data/make_parquet.mjs
//
// Deterministic data (no random functions): rerunning it rewrites equivalent files.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const nodeDir = process.env.DUCKDB_NODE_DIR ?? '/tmp/tessera-bench/node';
const api = createRequire(`${nodeDir}/`).resolve('@duckdb/node-api');
const { DuckDBInstance } = await import(pathToFileURL(api).href);

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, 'parquet');
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
const db = await DuckDBInstance.create(':memory:');
const con = await db.connect();

// 1000 rows: every type Tessera maps, NULLs at different periods per column, a low- and a high-cardinality string
// (with a comma and quotes now and then), decimals of both widths, a timestamp and a UUID.
await con.run(`CREATE TABLE src AS SELECT
  i::INTEGER AS id,
  CASE WHEN i % 11 = 0 THEN NULL ELSE (i * 7919) % 100003 - 50000 END::BIGINT AS big,
  CASE WHEN i % 13 = 0 THEN NULL ELSE i / 8.0 END::DOUBLE AS dbl,
  (i % 100 / 4.0)::FLOAT AS flt,
  CASE WHEN i % 17 = 0 THEN NULL ELSE i % 3 = 0 END AS flag,
  CASE WHEN i % 9 = 0 THEN NULL ELSE ['ARG', 'BRA', 'CHL', 'DEU', 'FRA'][i % 5 + 1] END AS country,
  CASE WHEN i % 19 = 0 THEN NULL WHEN i % 50 = 7 THEN 'say "hi", ' || i ELSE
    'id-' || lpad((i * 37 % 1000)::VARCHAR, 4, '0') || repeat('x', i % 5) END AS code,
  DATE '2021-01-01' + (i * 3 % 700)::INTEGER AS day,
  CASE WHEN i % 23 = 0 THEN NULL ELSE ((i * 12345) % 10000000 - 5000000) / 100 END::DECIMAL(10,2) AS amount,
  ((i * 987654321) % 100000000000) / 10000::DECIMAL(18,4) AS price,
  (i * 3.25)::DECIMAL(30,4) AS wide,
  (i % 120 - 60)::TINYINT AS tiny,
  (i * 31 % 60000 - 30000)::SMALLINT AS small,
  (i * 1000003 % 4000000000)::UINTEGER AS uint,
  (i * 7)::UBIGINT AS ubig,
  TIMESTAMP '2020-02-29 12:00:00' + to_seconds(i * 3601) AS ts,
  md5(i::VARCHAR)::UUID AS uid,
  2021 + i % 2 AS yr
FROM range(1000) r(i)`);

const codecs = [['uncompressed', 300], ['snappy', 1000], ['gzip', 250], ['zstd', 400]];
for (const [codec, rg] of codecs) {
  for (const v of ['V1', 'V2'])
    await con.run(`COPY src TO '${out}/types_${v.toLowerCase()}_${codec}.parquet'
                   (FORMAT parquet, COMPRESSION ${codec}, ROW_GROUP_SIZE ${rg}, PARQUET_VERSION ${v})`);
}
// without dictionary pages: PLAIN (v1) and DELTA_LENGTH_BYTE_ARRAY (v2) strings
await con.run(`COPY src TO '${out}/types_nodict_v1.parquet' (FORMAT parquet, DICTIONARY_SIZE_LIMIT 1,
               ROW_GROUP_SIZE 500)`);
await con.run(`COPY src TO '${out}/types_nodict_v2.parquet' (FORMAT parquet, DICTIONARY_SIZE_LIMIT 1,
               PARQUET_VERSION V2, COMPRESSION zstd)`);
// a Hive-partitioned directory: a string key with NULLs (__HIVE_DEFAULT_PARTITION__) and an integer key
await con.run(`COPY (SELECT id, big, country, day, amount, yr FROM src WHERE id < 400) TO '${out}/hive'
               (FORMAT parquet, PARTITION_BY (country, yr))`);
await con.run(`COPY (SELECT * FROM src WHERE false) TO '${out}/empty.parquet' (FORMAT parquet)`);
await con.run(`COPY (SELECT i::INTEGER AS id, [i, i + 1] AS pair FROM range(10) r(i)) TO '${out}/nested.parquet'
               (FORMAT parquet)`);

// corrupt copies of a small valid file: wrong magic, a footer length past the file, a cut file
await con.run(`COPY (SELECT id, country FROM src WHERE id < 50) TO '${out}/small.parquet' (FORMAT parquet)`);
const small = readFileSync(`${out}/small.parquet`);
const bad = Buffer.from(small);
bad.write('XXXX', 0);
writeFileSync(`${out}/corrupt_magic.parquet`, bad);
const lying = Buffer.from(small);
lying.writeUInt32LE(small.length * 4, small.length - 8);
writeFileSync(`${out}/corrupt_footer_length.parquet`, lying);
writeFileSync(`${out}/corrupt_truncated.parquet`, Buffer.concat([small.subarray(0, 60), small.subarray(small.length - 40)]));

execFileSync('python3', [join(here, 'make_parquet_handmade.py')], { stdio: 'inherit' });
for (const f of ['handmade.parquet']) {
  const r = await con.runAndReadAll(`SELECT count(*) AS n FROM '${out}/${f}'`);
  console.log(`${f}: DuckDB reads ${r.getRowObjectsJson()[0].n} rows`);
}
const r = await con.runAndReadAll(`SELECT count(*) AS n FROM glob('${out}/**')`);
console.log(`wrote ${r.getRowObjectsJson()[0].n} files into ${out}`);
