// db-benchmark peer: runs a scripts/bench/dbbench/*.sql script in DuckDB, statement by statement, as Tessera runs
// it, and prints one JSON object: seconds per statement (the load statements, i.e. every table not named qN,
// summed as "load") and, per answer table qN, its row count and checksums (per column: non-NULL count; numbers:
// sum of the finite values and count of NaNs; strings: count of distinct values). The checksums are computed
// untimed right after each question, then the answer is dropped (so memory holds one answer at a time).
//   node dbbench_duckdb.mjs SQL_FILE DATA_DIR [THREADS]       env: BENCH_DIR or DUCKDB_NODE_DIR
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

const nodeDir = process.env.DUCKDB_NODE_DIR ?? `${process.env.BENCH_DIR ?? '/tmp/tessera-bench'}/node`;
const api = createRequire(`${nodeDir}/`).resolve('@duckdb/node-api');
const { DuckDBInstance } = await import(pathToFileURL(api).href);
const [sqlFile, dataDir, threads = '2'] = process.argv.slice(2);
if (!sqlFile || !dataDir) {
  console.error('usage: node dbbench_duckdb.mjs SQL_FILE DATA_DIR [THREADS]');
  process.exit(2);
}

// Statements of a script: '--' comments dropped, split at ';' outside string literals, ${data} substituted.
function statements(text) {
  const out = [];
  let cur = '', inStr = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inStr) {
      cur += c;
      if (c === "'") inStr = false;
    } else if (c === "'") {
      inStr = true;
      cur += c;
    } else if (c === '-' && text[i + 1] === '-') {
      while (i < text.length && text[i] !== '\n') i++;
      cur += '\n';
    } else if (c === ';') {
      if (cur.trim()) out.push(cur.trim());
      cur = '';
    } else {
      cur += c;
    }
  }
  if (cur.trim()) out.push(cur.trim());
  return out.map((s) => s.replaceAll('${data}', dataDir));
}

const db = await DuckDBInstance.create(':memory:');
const con = await db.connect();
await con.run(`SET threads = ${Number(threads)}`);
const rows = async (sql) => (await con.runAndReadAll(sql)).getRowObjectsJson();
const version = (await rows('SELECT version() AS v'))[0].v;

const quote = (name) => `"${name.replaceAll('"', '""')}"`;
async function checksums(table) {
  const cols = await rows(`SELECT column_name AS name, data_type AS type FROM information_schema.columns
    WHERE table_name = '${table}' ORDER BY ordinal_position`);
  const parts = ['count(*)::BIGINT AS nrows'];
  cols.forEach((c, i) => {
    const q = quote(c.name);
    parts.push(`count(${q})::BIGINT AS n${i}`);
    if (c.type === 'VARCHAR') {
      parts.push(`count(DISTINCT ${q})::BIGINT AS d${i}`);
    } else if (c.type === 'DOUBLE' || c.type === 'FLOAT') {
      parts.push(`sum(${q}) FILTER (WHERE NOT isnan(${q}) AND NOT isinf(${q}))::DOUBLE AS s${i}`);
      parts.push(`count(*) FILTER (WHERE isnan(${q}))::BIGINT AS nan${i}`);
    } else {
      parts.push(`sum(${q})::DOUBLE AS s${i}`);
    }
  });
  const r = (await rows(`SELECT ${parts.join(', ')} FROM ${quote(table)}`))[0];
  const num = (v) => (v === null || v === undefined ? 0 : Number(v));
  return {
    rows: num(r.nrows),
    columns: cols.map((c, i) => (c.type === 'VARCHAR'
      ? { name: c.name, kind: 'str', n: num(r[`n${i}`]), distinct: num(r[`d${i}`]) }
      : { name: c.name, kind: 'num', n: num(r[`n${i}`]), sum: num(r[`s${i}`]), nan: num(r[`nan${i}`]) })),
  };
}

const seconds = { load: 0 };
const answers = {};
const stmts = statements(readFileSync(sqlFile, 'utf8'));
for (const [i, sql] of stmts.entries()) {
  const m = /^CREATE\s+(?:OR\s+REPLACE\s+)?TABLE\s+(\w+)/i.exec(sql);
  if (!m) throw new Error(`${sqlFile}: statement ${i} is not a CREATE TABLE: ${sql.slice(0, 60)}`);
  const name = m[1].toLowerCase();
  const t0 = performance.now();
  await con.run(sql);
  const s = (performance.now() - t0) / 1000;
  process.stderr.write(`stmt ${i} ${name} ${s.toFixed(6)}\n`);
  if (/^q\d+$/.test(name)) {
    seconds[name] = s;
    answers[name] = await checksums(name);
    await con.run(`DROP TABLE ${name}`);
  } else {
    seconds.load += s;
  }
}
console.log(JSON.stringify({ engine: 'duckdb', version, threads: Number(threads), sql: sqlFile, data: dataDir,
  seconds, answers }));
