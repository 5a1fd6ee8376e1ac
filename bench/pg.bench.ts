// PostgreSQL ledger import: 1,000,000 generated sales rows (the file bench/ledger.bench.ts
// uses) imported by `packops ledger import sales` into a seeded PostgreSQL ledger (every §7
// rule checked, COPY into a staging table, one transaction) against `psql \copy` of the same
// CSV into a plain table with the same columns. Target: ≤ 2.0× psql. The SQLite import of the
// same file is printed beside it.
//
// The server: PACKOPS_BENCH_PG or PACKOPS_TEST_PG when set (a URL to any database on it),
// otherwise a throwaway one started with .ci/pg-server and stopped at the end.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { median, PACKOPS, report, ROOT, run, WORK } from './lib.js';
import { writeSalesFile } from '../test/ledger/generate.js';
import { seedLedger } from '../test/ledger/seed.js';

const ROWS = Number(process.env.LEDGER_BENCH_ROWS ?? 1_000_000);
const RUNS = Number(process.env.LEDGER_BENCH_RUNS ?? 1);

/** Peak RSS packops may reach on any file size: memory holds one chunk, not the file. */
const MEMORY_BOUND_MIB = 256;

const PLAIN_TABLE = `CREATE TABLE plain_sales (
  transaction_id text NOT NULL, occurred_at text NOT NULL, store text NOT NULL, kind text NOT NULL,
  product text NOT NULL, country text NOT NULL, currency text NOT NULL, gross_minor bigint NOT NULL,
  store_fee_minor bigint NOT NULL, tax_minor bigint NOT NULL, consent_ref text, family_ref text, refund_of text)`;

/**
 * For context only (not the target's peer): the same \copy into a table carrying keys and
 * indexes like the ledger's sales table (primary key on store + transaction id, a wide
 * reporting index, a partial refunds index): what index upkeep alone costs the server.
 */
const INDEXED = [
  'ALTER TABLE plain_sales ADD PRIMARY KEY (store, transaction_id)',
  'CREATE INDEX plain_sales_report ON plain_sales (occurred_at, kind, product, currency, gross_minor, store_fee_minor, tax_minor)',
  'CREATE INDEX plain_sales_refunds ON plain_sales (store, refund_of) WHERE refund_of IS NOT NULL',
];

function withDatabase(base: string, name: string): string {
  const u = new URL(base);
  u.pathname = `/${name}`;
  return u.toString();
}

export default async function pgImport(): Promise<void> {
  if (spawnSync('psql', ['--version']).status !== 0) throw new Error('psql is not installed (apt-get install postgresql-client)');
  let server = process.env.PACKOPS_BENCH_PG ?? process.env.PACKOPS_TEST_PG;
  let started: string | undefined;
  if (!server) {
    const out = execFileSync(join(ROOT, '.ci', 'pg-server'), ['start'], { encoding: 'utf8' }).trim().split('\n');
    started = out[0];
    server = out[1]!;
  }
  const psql = (sqlText: string, db = 'postgres') => execFileSync('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', withDatabase(server!, db), '-c', sqlText], { encoding: 'utf8' });
  try {
    const csv = join(WORK, `sales-${ROWS}.csv`);
    if (!existsSync(csv)) await writeSalesFile(csv, ROWS);
    const tag = `packops_bench_${process.pid}`;
    psql(`DROP DATABASE IF EXISTS ${tag}_seed WITH (FORCE)`);
    psql(`CREATE DATABASE ${tag}_seed TEMPLATE template0`);
    await (await seedLedger(withDatabase(server, `${tag}_seed`))).close();

    const ours = median(`packops ledger import sales into PostgreSQL (${ROWS.toLocaleString('en')} rows)`, RUNS, () => {
      psql(`DROP DATABASE IF EXISTS ${tag} WITH (FORCE)`);
      psql(`CREATE DATABASE ${tag} TEMPLATE ${tag}_seed`);
      return run('packops', process.execPath, [PACKOPS, 'ledger', 'import', 'sales', csv, '--db', withDatabase(server!, tag), '--json', '--quiet']);
    });
    const theirs = median('psql \\copy into a plain table (same rows)', RUNS, () => {
      psql(`DROP DATABASE IF EXISTS ${tag}_plain WITH (FORCE)`);
      psql(`CREATE DATABASE ${tag}_plain TEMPLATE template0`);
      psql(PLAIN_TABLE, `${tag}_plain`);
      return run('psql', 'psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', withDatabase(server!, `${tag}_plain`), '-c', `\\copy plain_sales FROM '${csv}' WITH (FORMAT csv, HEADER true)`]);
    });
    const indexed = median('psql \\copy into a table with the ledger\'s keys and indexes (context)', RUNS, () => {
      psql(`DROP DATABASE IF EXISTS ${tag}_plain WITH (FORCE)`);
      psql(`CREATE DATABASE ${tag}_plain TEMPLATE template0`);
      psql(PLAIN_TABLE, `${tag}_plain`);
      for (const statement of INDEXED) psql(statement, `${tag}_plain`);
      return run('psql', 'psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', withDatabase(server!, `${tag}_plain`), '-c', `\\copy plain_sales FROM '${csv}' WITH (FORMAT csv, HEADER true)`]);
    });
    const sqliteSeed = join(WORK, 'pg-bench-seed.db');
    const sqliteDb = join(WORK, 'pg-bench-sqlite.db');
    for (const f of [sqliteSeed, sqliteDb]) for (const s of ['', '-wal', '-shm']) rmSync(`${f}${s}`, { force: true });
    await (await seedLedger(sqliteSeed)).close();
    const sqlite = median('packops ledger import sales into SQLite (same rows)', RUNS, () => {
      for (const s of ['', '-wal', '-shm']) rmSync(`${sqliteDb}${s}`, { force: true });
      spawnSync('cp', [sqliteSeed, sqliteDb]);
      return run('packops', process.execPath, [PACKOPS, 'ledger', 'import', 'sales', csv, '--db', sqliteDb, '--json', '--quiet']);
    });
    for (const db of [tag, `${tag}_plain`, `${tag}_seed`]) psql(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
    report({
      name: `PostgreSQL ledger import (${ROWS.toLocaleString('en')} sales rows)`,
      ours,
      theirs,
      target: '≤ 2.0×',
      met: ours.ms <= 2 * theirs.ms,
      extra: [
        `packops into SQLite: ${sqlite.ms.toFixed(0)} ms (PostgreSQL/SQLite ${(ours.ms / sqlite.ms).toFixed(2)}×); packops on PostgreSQL ${((ROWS / ours.ms) * 1000).toFixed(0)} rows/s`,
        `${indexed.label}: ${indexed.ms.toFixed(0)} ms (packops/indexed ${(ours.ms / indexed.ms).toFixed(2)}×)`,
        `memory: packops peak ${ours.peakMiB?.toFixed(0) ?? '?'} MiB on ${ROWS.toLocaleString('en')} rows (bound ≤ ${MEMORY_BOUND_MIB} MiB) ${ours.peakMiB === undefined ? 'NOT MEASURED' : ours.peakMiB <= MEMORY_BOUND_MIB ? 'MET' : 'NOT MET'}`,
      ].join('\n  '),
    });
  } finally {
    if (started) execFileSync(join(ROOT, '.ci', 'pg-server'), ['stop', started]);
  }
}
