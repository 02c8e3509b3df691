// DuckDB checks Parquet and CSV files Tessera wrote (tests/e2e/job_parquet_roundtrip.sh). One task per call, or
// `-` and one task a line on standard input (one DuckDB for all of them):
//   node parquet_duckdb_check.mjs compare FIXTURE.parquet OUT [CODEC]   OUT (a file, or a directory read with
//        hive_partitioning) holds exactly FIXTURE's rows (EXCEPT ALL both ways, as DuckDB reads both files; types
//        normalised where Tessera maps them: small integers widened, DECIMAL(30,4) as
//        DOUBLE, UUIDs as text); for a Parquet file also its metadata: the codec, statistics equal to the true
//        min / max / null count of every column chunk, dictionary encoding of the low-cardinality string (country)
//   node parquet_duckdb_check.mjs same A B                               two inputs hold the same rows
//   node parquet_duckdb_check.mjs convert IN.csv OUT.csv OUT.parquet     the rows DuckDB can parse (every column as
//        text) written as CSV and as Parquet: the same input in both formats
// Prints what differs; exit status 1 when anything does. Needs @duckdb/node-api (DUCKDB_NODE_DIR).
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';

const api = createRequire(`${process.env.DUCKDB_NODE_DIR}/`).resolve('@duckdb/node-api');
const { DuckDBInstance } = await import(pathToFileURL(api).href);
const db = await DuckDBInstance.create(':memory:');
const con = await db.connect();
const rows = async (sql) => (await con.runAndReadAll(sql)).getRowObjectsJson();
let failed = 0;
const fail = (msg) => { console.error(`FAIL ${msg}`); failed = 1; };

const source = (path) => {
  if (statSync(path).isDirectory())
    return `read_parquet('${path}/**/*.parquet', hive_partitioning = true)`;
  return path.endsWith('.csv') ? `read_csv('${path}')` : `read_parquet('${path}')`;
};

// the fixture's columns as Tessera represents them, in a fixed order and types both sides share
const FIXTURE_COLS = ['id::BIGINT AS id', 'big', 'dbl', 'flt::DOUBLE AS flt', 'flag', 'country', 'code', 'day',
  'amount::DECIMAL(18,2) AS amount', 'price::DECIMAL(18,4) AS price', 'round(wide::DOUBLE, 4) AS wide',
  'tiny::BIGINT AS tiny', 'small::BIGINT AS small', 'uint::BIGINT AS uint', 'ubig::BIGINT AS ubig',
  'ts', 'uid::VARCHAR AS uid', 'yr::BIGINT AS yr'];
const OUT_COLS = ['id::BIGINT AS id', 'big', 'dbl', 'flt::DOUBLE AS flt', 'flag', 'country', 'code', 'day',
  'amount::DECIMAL(18,2) AS amount', 'price::DECIMAL(18,4) AS price', 'round(wide::DOUBLE, 4) AS wide',
  'tiny::BIGINT AS tiny', 'small::BIGINT AS small', 'uint::BIGINT AS uint', 'ubig::BIGINT AS ubig', 'ts',
  'uid::VARCHAR AS uid', 'yr::BIGINT AS yr'];

async function sameRows(a, b, what) {
  const [n] = await rows(`SELECT (SELECT count(*) FROM (${a})) AS a, (SELECT count(*) FROM (${b})) AS b`);
  if (n.a !== n.b)
    fail(`${what}: ${n.a} rows against ${n.b}`);
  for (const [x, y, side] of [[a, b, 'only in the first'], [b, a, 'only in the second']]) {
    const d = await rows(`SELECT * FROM ((${x}) EXCEPT ALL (${y})) LIMIT 3`);
    if (d.length)
      fail(`${what}: rows ${side}, e.g. ${JSON.stringify(d)}`);
  }
}

async function checkMetadata(path, codec) {
  const meta = await rows(`SELECT row_group_id, path_in_schema AS col, compression, encodings, stats_min_value AS mn,
                           stats_max_value AS mx, stats_null_count AS nulls, row_group_num_rows AS n
                           FROM parquet_metadata('${path}') ORDER BY row_group_id, column_id`);
  if (meta.length === 0)
    fail(`${path}: no column chunks`);
  for (const m of meta) {
    if (codec && m.compression !== codec.toUpperCase())
      fail(`${path}: column ${m.col} compressed with ${m.compression}, asked ${codec}`);
    if (m.col === 'country' && !String(m.encodings).includes('DICTIONARY') && Number(m.n) > 0)
      fail(`${path}: string column ${m.col} is not dictionary-encoded (${m.encodings})`);
  }
  // the recorded statistics equal the true ones of each row group (DuckDB's own reading of the values), compared
  // as values of the column's type
  const cols = [...new Set(meta.map((m) => m.col))];
  const types = (await rows(`DESCRIBE SELECT * FROM read_parquet('${path}')`)).reduce((o, r) => (o[r.column_name] = r.column_type, o), {});
  const groups = [...new Set(meta.map((m) => Number(m.row_group_id)))].sort((x, y) => x - y);
  let start = 0;
  for (const g of groups) {
    const gm = meta.filter((m) => Number(m.row_group_id) === g);
    const end = start + Number(gm[0].n);
    const q = (v, t) => (v === null ? 'NULL' : `'${String(v).replaceAll("'", "''")}'::${t}`);
    const checks = gm.map((m, k) => {
      const c = `"${m.col}"`, t = types[m.col];
      return `count(*) - count(${c}) = ${m.nulls} AS n${k}, ` +
             `(min(${c}) IS NULL OR (min(${c}) = ${q(m.mn, t)} AND max(${c}) = ${q(m.mx, t)})) AS s${k}`;
    });
    const [r] = await rows(`SELECT ${checks.join(', ')} FROM read_parquet('${path}', file_row_number = true)
                            WHERE file_row_number >= ${start} AND file_row_number < ${end}`);
    gm.forEach((m, k) => {
      if (r[`n${k}`] !== true)
        fail(`${path}: ${m.col} row group ${g}: null_count ${m.nulls} is not the true count`);
      if (r[`s${k}`] !== true)
        fail(`${path}: ${m.col} row group ${g}: statistics [${m.mn}, ${m.mx}] are not the true min and max`);
    });
    start = end;
  }
  void cols;
}

async function run(mode, a, b, codec) {
if (mode === 'compare') {
  const isDir = statSync(b).isDirectory();
  await sameRows(`SELECT ${FIXTURE_COLS.join(', ')} FROM read_parquet('${a}')`,
                 `SELECT ${OUT_COLS.join(', ')} FROM ${source(b)}`, `${b} against ${a}`);
  if (!isDir && b.endsWith('.parquet'))
    await checkMetadata(b, codec);
} else if (mode === 'same') {
  await sameRows(`SELECT * FROM ${source(a)}`, `SELECT * FROM ${source(b)}`, `${a} against ${b}`);
} else if (mode === 'convert') {
  // lines with quotes or control bytes (the generator's malformed rows) dropped first: DuckDB's reader would let a
  // stray quote swallow the lines after it
  const lines = readFileSync(a, 'latin1').split('\n').filter((l) => !/["\x00-\x08\x0b-\x1f]/.test(l));
  const cleaned = `${b}.in`;
  writeFileSync(cleaned, lines.join('\n'), 'latin1');
  const header = lines[0].split(',');
  const cols = header.map((h) => `'${h}': 'VARCHAR'`).join(', ');
  await con.run(`CREATE TABLE t AS SELECT * FROM read_csv('${cleaned}', auto_detect = false, header = true,
                 delim = ',', quote = '', escape = '', ignore_errors = true, columns = {${cols}})`);
  unlinkSync(cleaned);
  await con.run(`COPY t TO '${b}' (HEADER)`);
  await con.run(`COPY t TO '${codec}' (FORMAT parquet)`);
} else {
  console.error(`unknown task ${mode}: compare FIXTURE OUT [CODEC] | same A B | convert IN OUT.csv OUT.parquet`);
  process.exit(2);
}
}

// one task from the command line, or (with -) one task per line of standard input: one DuckDB for all
const argv = process.argv.slice(2);
if (argv[0] === '-') {
  for (const line of readFileSync(0, 'utf8').split('\n').filter((l) => l.trim()))
    await run(...line.trim().split(/\s+/));
} else {
  await run(...argv);
}
process.exit(failed);
