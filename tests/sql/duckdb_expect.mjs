// Expected results for the SQL conformance suite, from DuckDB: reads sqllogictest files (tests/sql/*.test), runs
// every statement and query in a fresh in-memory DuckDB per file and rewrites each query's expected block (the
// lines after `----`) and column letters with DuckDB's answers, formatted the way ts_sqllogic compares them.
//
//   node tests/sql/duckdb_expect.mjs [--check] [--set name=value]... FILE.test...
//
// --check reports records whose expected block differs from DuckDB's answer and writes nothing. ${data} defaults
// to tests/sql/data. A record preceded by a `# tessera: <why>` comment is Tessera's deliberate difference from
// DuckDB: its hand-written block is kept and DuckDB's answer is only shown. Statements that DuckDB fails (or, for
// `statement error`, that it runs, or whose message lacks the expected substring) are reported, never rewritten.
// A `statement error` marked so is one Tessera refuses on purpose. Exit status 1 when anything was reported.
// Needs @duckdb/node-api (DUCKDB_NODE_DIR, default /tmp/tessera-bench/node); a development tool only: the test suite
// itself never runs it.
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const nodeDir = process.env.DUCKDB_NODE_DIR ?? '/tmp/tessera-bench/node';
const api = createRequire(`${nodeDir}/`).resolve('@duckdb/node-api');
const { DuckDBInstance } = await import(pathToFileURL(api).href);

const params = { data: join(dirname(fileURLToPath(import.meta.url)), 'data') };
const files = [];
let check = false;
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  if (argv[i] === '--check') check = true;
  else if (argv[i] === '--set' && i + 1 < argv.length) {
    const [k, ...v] = argv[++i].split('=');
    params[k] = v.join('=');
  } else files.push(argv[i]);
}
if (files.length === 0) {
  console.error('usage: node duckdb_expect.mjs [--check] [--set name=value]... FILE.test...');
  process.exit(2);
}

const substitute = (sql) => sql.replace(/\$\{(\w+)\}/g, (m, k) => {
  if (!(k in params)) throw new Error(`unknown parameter ${m}`);
  return params[k];
});

// Records of a file: {kind, line (0-based index of the header), header, sql, blockStart, blockEnd, tessera};
// the expected block is lines [blockStart, blockEnd) (blockStart = -1 when there is no `----`).
function parse(lines) {
  const recs = [];
  let tessera = false;
  for (let i = 0; i < lines.length;) {
    const l = lines[i];
    if (l.trim() === '') { tessera = false; i++; continue; }
    if (l.startsWith('#')) { if (/^#\s*tessera:/.test(l)) tessera = true; i++; continue; }
    const m = /^(statement\s+(ok|error)|query\s+(\S+)(?:\s+(\S+))?)\s*$/.exec(l);
    if (!m) throw new Error(`line ${i + 1}: expected statement or query, found: ${l}`);
    const rec = { kind: m[2] ? `statement ${m[2]}` : 'query', line: i, header: l, letters: m[3], sort: m[4] ?? 'nosort',
                  tessera, blockStart: -1, blockEnd: -1 };
    const sql = [];
    for (i++; i < lines.length && lines[i].trim() !== '' && lines[i] !== '----'; i++) sql.push(lines[i]);
    rec.sql = sql.join('\n');
    if (i < lines.length && lines[i] === '----') {
      rec.blockStart = ++i;
      while (i < lines.length && lines[i].trim() !== '') i++;
      rec.blockEnd = i;
    }
    recs.push(rec);
    tessera = false;
  }
  return recs;
}

const INT_TYPES = /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|UHUGEINT)$/;
const REAL_TYPES = /^(DOUBLE|FLOAT|DECIMAL.*)$/;
const TEXT_TYPES = /^(VARCHAR|BOOLEAN|DATE|TIMESTAMP)$/;

function letter(type) {
  const t = String(type);
  if (INT_TYPES.test(t)) return 'I';
  if (REAL_TYPES.test(t)) return 'R';
  if (TEXT_TYPES.test(t)) return 'T';
  throw new Error(`result column of type ${t}: Tessera has no such type (cast it)`);
}

function cell(v, type) {
  if (v === null || v === undefined) return 'NULL';
  const t = String(type);
  if (t === 'DOUBLE' || t === 'FLOAT') {
    if (Number.isNaN(v)) return 'nan';
    if (v === Infinity) return 'inf';
    if (v === -Infinity) return '-inf';
    return String(v); // JavaScript's shortest round-trip form
  }
  const s = String(v);
  if (t === 'VARCHAR') {
    if (s === '') return '(empty)';
    if (/[\t\n\r]/.test(s)) throw new Error(`string ${JSON.stringify(s)} has a tab or line break`);
  }
  return s;
}

async function runFile(path) {
  const text = readFileSync(path, 'utf8');
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  const recs = parse(lines);
  const db = await DuckDBInstance.create(':memory:');
  const con = await db.connect();
  let problems = 0;
  const report = (rec, msg) => { problems++; console.log(`${path}:${rec.line + 1}: ${msg}\n  ${rec.sql.replace(/\n/g, '\n  ')}`); };
  const edits = []; // [start, end, newLines], applied bottom-up
  for (const rec of recs) {
    const sql = substitute(rec.sql);
    if (rec.kind === 'statement ok') {
      try { await con.run(sql); } catch (e) { report(rec, `DuckDB fails: ${e.message.split('\n')[0]}`); }
      continue;
    }
    if (rec.kind === 'statement error') {
      const want = rec.blockStart < 0 ? '' : lines.slice(rec.blockStart, rec.blockEnd).join('\n');
      try {
        await con.run(sql);
        if (rec.tessera) console.log(`${path}:${rec.line + 1}: (tessera, kept) DuckDB runs it without an error`);
        else report(rec, 'DuckDB runs it without an error');
      } catch (e) {
        if (!e.message.includes(want))
          report(rec, `DuckDB's message lacks "${want}": ${e.message.split('\n')[0]}`);
      }
      continue;
    }
    let reader;
    try { reader = await con.runAndReadAll(sql); } catch (e) {
      report(rec, `DuckDB fails: ${e.message.split('\n')[0]}`);
      continue;
    }
    const types = reader.columnTypes();
    let rows, letters;
    try {
      letters = types.map(letter).join('');
      rows = reader.getRows().map((r) => r.map((v, c) => cell(v, types[c])).join('\t'));
    } catch (e) {
      report(rec, e.message);
      continue;
    }
    if (rec.sort === 'rowsort') rows.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    else if (rec.sort !== 'nosort') { report(rec, `unknown sort mode ${rec.sort}`); continue; }
    else if (rows.length > 1 && !/order\s+by/i.test(sql)) report(rec, 'nosort without ORDER BY');
    const old = rec.blockStart < 0 ? null : lines.slice(rec.blockStart, rec.blockEnd);
    if (rec.tessera) {
      if (old === null || old.join('\n') !== rows.join('\n'))
        console.log(`${path}:${rec.line + 1}: (tessera, kept) DuckDB gives:\n  ${rows.join('\n  ')}`);
      continue;
    }
    const header = `query ${letters}${rec.sort === 'rowsort' ? ' rowsort' : ''}`;
    if (old !== null && old.join('\n') === rows.join('\n') && header === rec.header) continue;
    if (check) { report(rec, `expected block differs from DuckDB's:\n  ${rows.join('\n  ')}`); continue; }
    edits.push([rec.line, rec.line + 1, [header]]);
    if (rec.blockStart < 0) {
      const at = rec.line + 1 + rec.sql.split('\n').length;
      edits.push([at, at, ['----', ...rows]]);
    } else edits.push([rec.blockStart, rec.blockEnd, rows]);
  }
  if (edits.length && !check) {
    edits.sort((a, b) => b[0] - a[0]);
    for (const [s, e, repl] of edits) lines.splice(s, e - s, ...repl);
    writeFileSync(path, lines.join('\n') + '\n');
    console.log(`${path}: ${edits.length} edits`);
  }
  con.closeSync?.();
  return { cases: recs.length, problems };
}

let total = 0, bad = 0;
for (const f of files) {
  const { cases, problems } = await runFile(f);
  total += cases;
  bad += problems;
}
console.log(`${total} cases, ${bad} reported`);
process.exit(bad ? 1 : 0);
