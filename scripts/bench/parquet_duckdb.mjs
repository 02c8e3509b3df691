// The DuckDB side of scripts/bench/parquet.sh (@duckdb/node-api from $DUCKDB_NODE_DIR):
//   node parquet_duckdb.mjs convert LINEITEM.tbl OUT.parquet      dbgen's lineitem as Parquet (snappy, DuckDB's
//                                                                 default row groups), TPC-H types
//   node parquet_duckdb.mjs time THREADS RUNS SQL...              best of RUNS seconds per query and the last
//                                                                 run's rows, as one JSON line
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

const api = createRequire(`${process.env.DUCKDB_NODE_DIR}/`).resolve('@duckdb/node-api');
const { DuckDBInstance } = await import(pathToFileURL(api).href);
const db = await DuckDBInstance.create(':memory:');
const con = await db.connect();
const [mode, ...args] = process.argv.slice(2);

if (mode === 'convert') {
  const [tbl, out] = args;
  const cols = {
    l_orderkey: 'BIGINT', l_partkey: 'BIGINT', l_suppkey: 'BIGINT', l_linenumber: 'INTEGER',
    l_quantity: 'DECIMAL(15,2)', l_extendedprice: 'DECIMAL(15,2)', l_discount: 'DECIMAL(15,2)',
    l_tax: 'DECIMAL(15,2)', l_returnflag: 'VARCHAR', l_linestatus: 'VARCHAR', l_shipdate: 'DATE',
    l_commitdate: 'DATE', l_receiptdate: 'DATE', l_shipinstruct: 'VARCHAR', l_shipmode: 'VARCHAR',
    l_comment: 'VARCHAR'};
  const spec = Object.entries(cols).map(([k, v]) => `'${k}': '${v}'`).join(', ');
  await con.run(`COPY (SELECT * FROM read_csv('${tbl}', delim = '|', header = false, columns = {${spec}}))
                 TO '${out}' (FORMAT parquet, COMPRESSION snappy)`);
} else if (mode === 'time') {
  const [threads, runs, ...queries] = args;
  await con.run(`SET threads = ${Number(threads)}`);
  const seconds = [];
  let rows = [];
  for (const q of queries) {
    let best = Infinity;
    for (let r = 0; r < Number(runs); r++) {
      const t0 = performance.now();
      const res = await con.runAndReadAll(q);
      best = Math.min(best, (performance.now() - t0) / 1000);
      rows = rows.concat(r === Number(runs) - 1 ? res.getRowsJson().map((row) => row.map(String)) : []);
    }
    seconds.push(best);
  }
  console.log(JSON.stringify({ seconds, rows }));
} else {
  console.error('usage: parquet_duckdb.mjs convert TBL OUT | time THREADS RUNS SQL...');
  process.exit(2);
}
