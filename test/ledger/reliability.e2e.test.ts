// Reliability: a SIGKILLed import leaves the ledger exactly as it was; two overlapping
// imports started together from two processes write each transaction once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { BIN, runCli, tempDir } from '../helpers/cli.js';
import { ledgerAt, ON_POSTGRES, rawQuery } from '../helpers/ledgers.js';
import { importFile } from '../../src/ledger/import/index.js';
import { LEDGER_FIXTURES, seedLedger } from './seed.js';
import { writeSalesFile } from './generate.js';

let tmp: ReturnType<typeof tempDir>;
beforeAll(() => (tmp = tempDir()));
afterAll(() => tmp.cleanup());

async function snapshot(db: string) {
  const n = async (t: string) => (await rawQuery<{ n: number }>(db, `SELECT count(*) AS n FROM ${t}`))[0]!.n;
  const rows = await rawQuery<{ store: string; transaction_id: string; gross_minor: number }>(db, 'SELECT store, transaction_id, gross_minor FROM sales ORDER BY store, transaction_id');
  let integrity = 'ok';
  if (!ON_POSTGRES) {
    const raw = new BetterSqlite3(db, { readonly: true });
    integrity = raw.pragma('integrity_check', { simple: true }) as string;
    raw.close();
  }
  return {
    sales: await n('sales'),
    batches: await n('import_batches'),
    quarantine: await n('quarantine'),
    integrity,
    digest: rows.map((r) => `${r.store}:${r.transaction_id}:${r.gross_minor}`).join(','),
  };
}

describe('reliability', () => {
  it('SIGKILL in the middle of a large import leaves the ledger exactly as before', async () => {
    const db = await ledgerAt(tmp.dir, 'kill.db');
    const ledger = await seedLedger(db);
    await importFile(ledger, 'sales', join(LEDGER_FIXTURES, 'sales-2026-10.csv'));
    await ledger.close();
    const before = await snapshot(db);
    const big = join(tmp.dir, 'big.csv');
    await writeSalesFile(big, 200_000);

    const child = spawn(process.execPath, [BIN, 'ledger', 'import', 'sales', big, '--db', db], {
      env: { ...process.env, CI: 'true', NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    // Progress lines go to stderr as rows are written inside the transaction; the first one
    // comes after the first chunk of 1,000 rows, long before 200,000 rows are done: kill then.
    const killedAt = await new Promise<string>((resolve, reject) => {
      let err = '';
      child.stderr.setEncoding('utf8').on('data', (d: string) => {
        err += d;
        const m = /Importing sales: ([\d,]+) rows/.exec(err.split('\n').reverse().find((l) => /rows/.test(l)) ?? '');
        if (m && Number(m[1]!.replace(/,/g, '')) >= 1000 && child.exitCode === null) {
          child.kill('SIGKILL');
          resolve(m[1]!);
        }
      });
      child.on('exit', (code) => reject(new Error(`the import ended (exit ${code}) before it could be killed:\n${err}`)));
    });
    await new Promise((r) => child.once('close', r));
    expect(child.signalCode).toBe('SIGKILL');
    expect(Number(killedAt.replace(/,/g, ''))).toBeLessThan(200_000);

    expect(await snapshot(db)).toEqual(before);
    expect(before.integrity).toBe('ok');
    // The ledger is not left locked: the same import now runs to the end.
    const r = await runCli(['ledger', 'import', 'sales', big, '--db', db, '--json', '--quiet'], { timeoutMs: 300_000 });
    expect(r.code, r.stderr).toBe(0);
    expect(r.json()).toMatchObject({ imported: 200_000 });
  }, 300_000);

  it('two overlapping imports started at the same moment write each transaction once', async () => {
    const db = await ledgerAt(tmp.dir, 'race.db');
    await (await seedLedger(db)).close();
    const a = join(tmp.dir, 'a.csv');
    const b = join(tmp.dir, 'b.csv');
    await writeSalesFile(a, 3000, { start: 0 }); // t0 … t2999
    await writeSalesFile(b, 3000, { start: 2000 }); // t2000 … t4999: 1000 rows overlap
    const [ra, rb] = await Promise.all([
      runCli(['ledger', 'import', 'sales', a, '--db', db, '--json', '--quiet']),
      runCli(['ledger', 'import', 'sales', b, '--db', db, '--json', '--quiet']),
    ]);
    expect(ra.code, ra.stderr).toBe(0);
    expect(rb.code, rb.stderr).toBe(0);
    const sa = ra.json();
    const sb = rb.json();
    expect(sa.imported + sb.imported).toBe(5000);
    expect(sa.skipped + sb.skipped).toBe(1000);
    const snap = await snapshot(db);
    expect(snap.sales).toBe(5000);
    expect(snap.batches).toBe(2);
    expect(snap.integrity).toBe('ok');
  });
});
