// Operator benchmark peer: the same join, group-bys and sort as `tessera run bench-ops`, in DuckDB.
//   node ops_duckdb.mjs DATA_DIR THREADS        prints one JSON line: seconds per operation and checksums
// Each timed statement materialises its result (CREATE TABLE ... AS), as Tessera materialises its tables; the
// checksums are computed afterwards, untimed, with the same formulas as jobs/bench_ops.c.
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

const nodeDir = process.env.DUCKDB_NODE_DIR ?? `${process.env.BENCH_DIR ?? '/tmp/tessera-bench'}/node`;
const api = createRequire(`${nodeDir}/`).resolve('@duckdb/node-api');
const { DuckDBInstance } = await import(pathToFileURL(api).href);
const [dir, threads = '2'] = process.argv.slice(2);
const MOD = '2305843009213693951';

const db = await DuckDBInstance.create(':memory:');
const con = await db.connect();
await con.run(`SET threads = ${Number(threads)}`);
const seconds = {};
const timed = async (name, sql) => {
  const t0 = performance.now();
  await con.run(sql);
  seconds[name] = (performance.now() - t0) / 1000;
};
const one = async (sql) => (await con.runAndReadAll(sql)).getRowObjectsJson()[0];

await timed('scan x', `CREATE TABLE x AS SELECT * FROM read_csv('${dir}/x/*.csv', header = true, columns = {
  'id': 'BIGINT', 'g2': 'BIGINT', 'g5': 'BIGINT', 'g7': 'BIGINT', 'yid': 'BIGINT', 'v1': 'BIGINT',
  'v3': 'DECIMAL(18,6)'})`);
await timed('scan y', `CREATE TABLE y AS SELECT * FROM read_csv('${dir}/y/*.csv', header = true,
  columns = {'id': 'BIGINT', 'w': 'BIGINT'})`);
await timed('join', 'CREATE TABLE j AS SELECT x.id, x.yid, x.v1, y.w FROM x JOIN y ON x.yid = y.id');
for (const g of ['g2', 'g5', 'g7'])
  await timed(`group ${g}`, `CREATE TABLE r_${g} AS SELECT ${g}, count(*) AS n, sum(v1) AS s, max(v1) AS mx,
    avg(v3) AS avg_v3 FROM x GROUP BY ${g}`);
await timed('sort', 'CREATE TABLE s AS SELECT * FROM x ORDER BY v3, id');

const checks = {};
let r = await one(`SELECT count(*)::BIGINT AS n, (sum(w) % ${MOD})::BIGINT AS c FROM j`);
checks.join = [Number(r.n), String(r.c)];
for (const g of ['g2', 'g5', 'g7']) {
  r = await one(`SELECT count(*)::BIGINT AS n, (sum(mx) % ${MOD})::BIGINT AS c FROM r_${g}`);
  checks[`group ${g}`] = [Number(r.n), String(r.c)];
}
r = await one(`SELECT count(*)::BIGINT AS n, (sum((id::HUGEINT * rn) % ${MOD}) % ${MOD})::BIGINT AS c
  FROM (SELECT id, row_number() OVER (ORDER BY v3, id) AS rn FROM x)`);
checks.sort = [Number(r.n), String(r.c)];
console.log(JSON.stringify({ threads: Number(threads), seconds, checks }));
