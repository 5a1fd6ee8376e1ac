// The server refusing the work, not the data: a role that may read the ledger but not write
// it (42501), and a role whose transactions are read-only (25006, as on a hot standby), both
// get LEDGER_REFUSED (exit 3) with the SQLSTATE and no stack trace, and the ledger is as it was.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, tempDir } from '../helpers/cli.js';
import { ledgerAt, rawQuery, TEST_PG } from '../helpers/ledgers.js';
import { importFile } from '../../src/ledger/import/index.js';
import { LEDGER_FIXTURES, seedLedger } from '../ledger/seed.js';
import { writeSalesFile } from '../ledger/generate.js';

let tmp: ReturnType<typeof tempDir>;
let db: string;
let file: string;
beforeAll(async () => {
  tmp = tempDir('packops-pg-refusals-');
  db = await ledgerAt(tmp.dir, 'refusals.db');
  const ledger = await seedLedger(db);
  await importFile(ledger, 'sales', join(LEDGER_FIXTURES, 'sales-2026-10.csv'));
  await importFile(ledger, 'rates', join(LEDGER_FIXTURES, 'rates.csv'));
  await ledger.close();
  file = join(tmp.dir, 'more.csv');
  await writeSalesFile(file, 200);
  const database = new URL(db).pathname.slice(1);
  // Roles are server-wide (made once, granted again on every run's database). Both are
  // trusted by the test server, so no password is involved.
  for (const role of ['packops_reader', 'packops_standby']) {
    await rawQuery(TEST_PG!, `DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '${role}') THEN CREATE ROLE ${role} LOGIN; END IF; END $$`);
    await rawQuery(db, `GRANT SELECT ON ALL TABLES IN SCHEMA public TO ${role}`);
  }
  await rawQuery(db, 'GRANT INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO packops_standby');
  await rawQuery(TEST_PG!, `ALTER ROLE packops_standby IN DATABASE ${database} SET default_transaction_read_only = on`);
});
afterAll(() => tmp.cleanup());

function as(role: string): string {
  const u = new URL(db);
  u.username = role;
  return u.toString();
}

const sales = async () => rawQuery(db, 'SELECT store, transaction_id, gross_minor FROM sales ORDER BY store, transaction_id');

describe('PostgreSQL refusals', () => {
  it.each([
    ['packops_reader', '42501', 'permission denied'],
    ['packops_standby', '25006', 'read-only transaction'],
  ])('an import as %s is LEDGER_REFUSED (SQLSTATE %s, exit 3) and writes nothing', async (role, sqlstate, reason) => {
    const before = await sales();
    const r = await runCli(['ledger', 'import', 'sales', file, '--db', as(role), '--json']);
    expect(r.code).toBe(3);
    const error = r.json().error;
    expect(error.code).toBe('LEDGER_REFUSED');
    expect(error.details).toMatchObject({ sqlstate, database: new URL(db).pathname.slice(1) });
    expect(error.message).toContain(`(${reason})`);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(await sales()).toEqual(before);
    // Reading is still allowed: the reader's report works.
    if (role === 'packops_reader') {
      const report = await runCli(['payouts', 'report', '--period', '2026-10', '--db', as(role), '--json']);
      expect(report.code, report.stdout + report.stderr).toBe(0);
    }
  });
});
