// TPC-H peer: loads the .tbl files of DATA_DIR into DuckDB with the statements of load.sql (the same text Tessera
// runs), then runs each query of QUERY_DIR (qNN.sql) once, timed, and writes its answer to OUT_DIR/qNN.csv (CSV as
// `tessera sql --format csv` prints it: header line, NULL as an empty field). Rank-free peak memory per query: the
// process's resident high-water mark is reset before each query (Linux clear_refs) and read after it.
//   node duckdb.mjs DATA_DIR QUERY_DIR OUT_DIR [THREADS] [qNN ...]     env: DUCKDB_NODE_DIR (default
//   /tmp/tessera-bench/node, where scripts/bench/tpch.sh installs @duckdb/node-api)
// Prints one JSON object: {engine, version, threads, load: {seconds, peak_bytes}, queries: {qNN: {seconds,
// peak_bytes} | {error}}}.
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const nodeDir = process.env.DUCKDB_NODE_DIR ?? '/tmp/tessera-bench/node';
const api = createRequire(`${nodeDir}/`).resolve('@duckdb/node-api');
const { DuckDBInstance } = await import(pathToFileURL(api).href);
const [dataDir, queryDir, outDir, threads = '2', ...only] = process.argv.slice(2);
if (!dataDir || !queryDir || !outDir) {
  console.error('usage: node duckdb.mjs DATA_DIR QUERY_DIR OUT_DIR [THREADS] [qNN ...]');
  process.exit(2);
}
const here = dirname(fileURLToPath(import.meta.url));

const resetPeak = () => { try { writeFileSync('/proc/self/clear_refs', '5'); } catch { /* not Linux: whole-run peak */ } };
const peakBytes = () => {
  const m = /VmHWM:\s+(\d+)\s+kB/.exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) * 1024 : null;
};
const csvField = (v) => {
  if (v === null || v === undefined) return '';
  const s = typeof v === 'object' ? JSON.stringify(v) : String(v);
  return s === '' || /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
};

const db = await DuckDBInstance.create(':memory:');
const con = await db.connect();
await con.run(`SET threads = ${Number(threads)}`);
const version = (await con.runAndReadAll('SELECT version()')).getRows()[0][0];

const load = readFileSync(join(here, 'load.sql'), 'utf8').replaceAll('${data}', dataDir);
resetPeak();
let t0 = performance.now();
await con.run(load);
const result = { engine: 'duckdb', version, threads: Number(threads),
                 load: { seconds: (performance.now() - t0) / 1000, peak_bytes: peakBytes() }, queries: {} };

const names = readdirSync(queryDir).filter((f) => /^q\d+\.sql$/.test(f)).map((f) => f.slice(0, -4)).sort()
  .filter((q) => only.length === 0 || only.includes(q));
for (const q of names) {
  const sql = readFileSync(join(queryDir, `${q}.sql`), 'utf8');
  resetPeak();
  t0 = performance.now();
  try {
    const reader = await con.runAndReadAll(sql);
    const seconds = (performance.now() - t0) / 1000;
    const lines = [reader.columnNames().map(csvField).join(',')];
    for (const row of reader.getRowsJson()) lines.push(row.map(csvField).join(','));
    writeFileSync(join(outDir, `${q}.csv`), lines.join('\n') + '\n');
    result.queries[q] = { seconds, peak_bytes: peakBytes() };
  } catch (e) {
    result.queries[q] = { error: String(e.message ?? e).split('\n')[0] };
  }
}
console.log(JSON.stringify(result));
