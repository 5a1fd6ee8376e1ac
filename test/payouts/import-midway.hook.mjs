// Preloaded into a spawned `packops payouts report` (NODE_OPTIONS=--import): right after the
// report's first GROUP BY over sales returns, runs a real `packops ledger import sales` to
// completion in another process (its own connection, its own committed transaction), then
// lets the report go on. Deterministic "an import commits while the report is reading".
// MIDWAY_ROOT: the repository; MIDWAY_ARGS: the import's argv (JSON); MIDWAY_DONE: a file
// written once the import has run, with its exit status.
import { execFileSync } from 'node:child_process';
import process from 'node:process';
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const root = process.env.MIDWAY_ROOT;
const require = createRequire(join(root, 'package.json'));
const env = { ...process.env };
delete env.NODE_OPTIONS;
let fired = false;

const isTrigger = (sql) => typeof sql === 'string' && /from "sales"/i.test(sql) && /group by/i.test(sql);

function importNow() {
  if (fired) return;
  fired = true;
  let status = 0;
  try {
    execFileSync(process.execPath, [join(root, 'bin', 'packops.js'), ...JSON.parse(process.env.MIDWAY_ARGS)], { env, stdio: 'ignore' });
  } catch (err) {
    status = err.status ?? -1;
  }
  writeFileSync(process.env.MIDWAY_DONE, String(status));
}

// SQLite (better-sqlite3): the statement's rows are read, then the import runs.
const Database = require('better-sqlite3');
const prepare = Database.prototype.prepare;
Database.prototype.prepare = function (sql) {
  const stmt = prepare.call(this, sql);
  if (isTrigger(sql)) {
    const all = stmt.all;
    stmt.all = function (...params) {
      const rows = all.apply(this, params);
      importNow();
      return rows;
    };
  }
  return stmt;
};

// PostgreSQL (node-postgres): once the query's result has arrived.
const { Client } = require('pg');
const query = Client.prototype.query;
Client.prototype.query = function (...args) {
  const result = query.apply(this, args);
  const sql = typeof args[0] === 'string' ? args[0] : args[0]?.text;
  if (isTrigger(sql) && result && typeof result.then === 'function') return result.then((r) => (importNow(), r));
  return result;
};
