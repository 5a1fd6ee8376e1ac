// Ledger import: 1,000,000 generated sales rows (CSV) imported by `packops ledger import
// sales` (every §7 rule checked, one transaction) against the sqlite3 shell's `.import` of
// the same file into an equivalent table (same primary key, one covering index like the
// ledger's, WAL). Targets: packops no slower than the shell; peak memory under 300 MB.
import { existsSync, rmSync, statSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { median, PACKOPS, report, run, WORK } from './lib.js';
import { writeSalesFile } from '../test/ledger/generate.js';
import { seedLedger } from '../test/ledger/seed.js';

const ROWS = Number(process.env.LEDGER_BENCH_ROWS ?? 1_000_000);
const RUNS = Number(process.env.LEDGER_BENCH_RUNS ?? 1);

const SHELL_SQL = (csv: string) => `PRAGMA journal_mode=WAL;
CREATE TABLE sales (
  transaction_id TEXT NOT NULL, occurred_at TEXT NOT NULL, store TEXT NOT NULL, kind TEXT NOT NULL,
  product TEXT NOT NULL, country TEXT NOT NULL, currency TEXT NOT NULL, gross_minor INTEGER NOT NULL,
  store_fee_minor INTEGER NOT NULL, tax_minor INTEGER NOT NULL, consent_ref TEXT, family_ref TEXT, refund_of TEXT,
  PRIMARY KEY (store, transaction_id));
CREATE INDEX sales_cover_idx ON sales (occurred_at, kind, product, currency, gross_minor, store_fee_minor, tax_minor);
.import --csv --skip 1 ${csv} sales
`;

function removeDb(path: string): void {
  for (const suffix of ['', '-wal', '-shm']) rmSync(`${path}${suffix}`, { force: true });
}

export default async function ledgerImport(): Promise<void> {
  if (spawnSync('sqlite3', ['-version']).status !== 0) throw new Error('the sqlite3 shell is not installed (apt-get install sqlite3)');
  const csv = join(WORK, `sales-${ROWS}.csv`);
  if (!existsSync(csv)) await writeSalesFile(csv, ROWS);
  const seed = join(WORK, 'ledger-seed.db');
  removeDb(seed);
  await (await seedLedger(seed)).close();
  const db = join(WORK, 'ledger-bench.db');
  const shellDb = join(WORK, 'ledger-shell.db');

  const ours = median(`packops ledger import sales (${ROWS.toLocaleString('en')} rows)`, RUNS, () => {
    removeDb(db);
    spawnSync('cp', [seed, db]);
    return run('packops', process.execPath, [PACKOPS, 'ledger', 'import', 'sales', csv, '--db', db, '--json', '--quiet']);
  });
  const theirs = median('sqlite3 .import (same rows, equivalent table)', RUNS, () => {
    removeDb(shellDb);
    return run('sqlite3', 'sqlite3', [shellDb], { input: SHELL_SQL(csv) });
  });
  const memOk = ours.peakMiB === undefined || ours.peakMiB < 300;
  report({
    name: 'ledger import (1M sales rows)',
    ours,
    theirs,
    target: '≤ 1.0× and peak < 300 MiB',
    met: ours.ms <= theirs.ms && memOk,
    extra: `file ${(statSync(csv).size / 1e6).toFixed(0)} MB; packops ${((ROWS / ours.ms) * 1000).toFixed(0)} rows/s, sqlite3 ${((ROWS / theirs.ms) * 1000).toFixed(0)} rows/s; peak ${ours.peakMiB?.toFixed(0) ?? '?'} MiB (${memOk ? 'under' : 'OVER'} 300)`,
  });
}
