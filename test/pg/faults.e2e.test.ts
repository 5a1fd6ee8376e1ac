// PostgreSQL faults: a server that cannot be reached, a database that does not exist, and a
// connection cut in the middle of an import (pg_terminate_backend) all end with
// LEDGER_UNREACHABLE (exit 3), name host, port and database, and leave the ledger as it was.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, runCli, tempDir } from '../helpers/cli.js';
import { ledgerAt, pgUrl, rawQuery, TEST_PG } from '../helpers/ledgers.js';
import { importFile } from '../../src/ledger/import/index.js';
import { LEDGER_FIXTURES, seedLedger } from '../ledger/seed.js';
import { writeSalesFile } from '../ledger/generate.js';

const require = createRequire(import.meta.url);

let tmp: ReturnType<typeof tempDir>;
beforeAll(() => (tmp = tempDir('packops-pg-faults-')));
afterAll(() => tmp.cleanup());

describe('PostgreSQL faults', () => {
  it('an unreachable server and a missing database are LEDGER_UNREACHABLE (exit 3), named without the password', async () => {
    const down = await runCli(['payouts', 'report', '--period', '2026-10', '--db', 'postgresql://finance:Fault-Secret-1@127.0.0.1:9/ledger?sslmode=disable', '--json']);
    expect(down.code).toBe(3);
    expect(down.json().error).toMatchObject({ code: 'LEDGER_UNREACHABLE', details: { host: '127.0.0.1', port: 9, database: 'ledger' } });
    const missing = pgUrl('packops_no_such_database');
    const r = await runCli(['ledger', 'migrate', '--db', missing]);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/LEDGER_UNREACHABLE.*database packops_no_such_database/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(down.stdout + down.stderr).not.toContain('Fault-Secret-1');
  });

  it('a connection terminated in the middle of an import: exit 3 LEDGER_UNREACHABLE, nothing half-imported', async () => {
    const db = await ledgerAt(tmp.dir, 'cut.db');
    const ledger = await seedLedger(db);
    await importFile(ledger, 'sales', join(LEDGER_FIXTURES, 'sales-2026-10.csv'));
    await ledger.close();
    const before = await rawQuery(db, 'SELECT store, transaction_id, gross_minor FROM sales ORDER BY store, transaction_id');
    const big = join(tmp.dir, 'cut.csv');
    await writeSalesFile(big, 50_000);
    const database = new URL(db).pathname.slice(1);
    const child = spawn(process.execPath, [BIN, 'ledger', 'import', 'sales', big, '--db', db], {
      env: { ...process.env, CI: 'true', NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    await new Promise<void>((resolve, reject) => {
      child.stderr.setEncoding('utf8').on('data', (d: string) => {
        stderr += d;
        if (/Importing sales: [\d,]+ rows/.test(d)) resolve();
      });
      child.on('exit', (code) => reject(new Error(`the import ended (${code}) before the cut:\n${stderr}`)));
    });
    const killed = await rawQuery<{ ok: boolean }>(
      TEST_PG!,
      "SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE datname = ? AND application_name = 'packops'",
      [database],
    );
    expect(killed.length).toBeGreaterThan(0);
    const code = await new Promise<number | null>((r) => (child.exitCode !== null ? r(child.exitCode) : child.on('close', (c) => r(c))));
    expect(code, stderr).toBe(3);
    expect(stderr).toMatch(/LEDGER_UNREACHABLE/);
    expect(stderr).toContain(`database ${database}`);
    expect(stderr).not.toMatch(/\n\s+at /);
    expect(stdout).toBe('');
    expect(await rawQuery(db, 'SELECT store, transaction_id, gross_minor FROM sales ORDER BY store, transaction_id')).toEqual(before);
    expect((await rawQuery<{ n: number }>(db, 'SELECT count(*) AS n FROM import_batches'))[0]!.n).toBe(1);
  }, 300_000);
  it('ledger copy from PostgreSQL: a connection cut between pages of the source read is LEDGER_UNREACHABLE (exit 3), the new target removed', async () => {
    const db = await ledgerAt(tmp.dir, 'copysrc.db');
    const ledger = await seedLedger(db);
    const big = join(tmp.dir, 'copysrc.csv');
    await writeSalesFile(big, 60_000);
    await importFile(ledger, 'sales', big);
    await ledger.close();
    const database = new URL(db).pathname.slice(1);
    const target = join(tmp.dir, 'copy-target.db');
    const child = spawn(process.execPath, [BIN, 'ledger', 'copy', db, target, '--json'], {
      env: { ...process.env, CI: 'true', NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const exited = new Promise<number | null>((r) => child.on('close', (c) => r(c)));
    let done = false;
    void exited.then(() => (done = true));
    // The moment the copy's connection has read a page of sales (its cursor open, the next
    // page not yet asked for or on its way), cut it: found and terminated in one statement.
    const { Client } = require('pg') as typeof import('pg');
    const admin = new Client({ connectionString: TEST_PG });
    await admin.connect();
    let killed = 0;
    try {
      while (!done && killed === 0) {
        const r = await admin.query(
          `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
           WHERE datname = $1 AND application_name = 'packops' AND query LIKE 'select %from "sales"%'`,
          [database],
        );
        killed = r.rowCount ?? 0;
      }
    } finally {
      await admin.end();
    }
    const code = await exited;
    expect(killed, `the copy ended before its sales read could be cut:\n${stdout}\n${stderr}`).toBe(1);
    expect(code, stderr).toBe(3);
    const doc = JSON.parse(stdout) as { ok: boolean; error: { code: string; details: Record<string, unknown> } };
    expect(doc.ok).toBe(false);
    expect(doc.error.code).toBe('LEDGER_UNREACHABLE');
    expect(doc.error.details).toMatchObject({ database });
    expect(stderr).not.toMatch(/\n\s+at /);
    for (const f of [target, `${target}-wal`, `${target}-shm`]) expect(existsSync(f), f).toBe(false);
  }, 300_000);
});
