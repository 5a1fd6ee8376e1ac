// What payouts refuses, through the real CLI: an --out that cannot be written, a bad --period,
// rows dated before a closed month, and a close while another process holds the write lock.
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, tempDir } from '../helpers/cli.js';
import { holdWriteLock, ledgerAt, rawQuery } from '../helpers/ledgers.js';
import { STORY, writeLedger } from './ledger-fixture.js';

let tmp: ReturnType<typeof tempDir>;
let db: string;

beforeAll(async () => {
  tmp = tempDir('packops-payouts-refusals-');
  db = await ledgerAt(tmp.dir, 'ledger.db');
  await (await writeLedger(db, STORY)).close();
});
afterAll(() => tmp.cleanup());

const cli = (args: string[]) => runCli([...args, '--db', db], { cwd: tmp.dir });

describe('payouts report --out', () => {
  it('an --out that is an existing file is OUTPUT_UNWRITABLE (exit 3), not an internal error, and nothing is written', async () => {
    const file = join(tmp.dir, 'not-a-folder');
    writeFileSync(file, 'x');
    const r = await cli(['payouts', 'report', '--period', '2026-10', '--format', 'csv', '--out', file, '--json']);
    expect(r.code, r.stderr).toBe(3);
    expect(r.json().error).toMatchObject({ code: 'OUTPUT_UNWRITABLE', details: { errno: expect.stringMatching(/^E/) } });
    expect(r.stderr).not.toMatch(/\bat .*\.js:\d+/);
    expect(readdirSync(tmp.dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('a bad --period is a usage error that says what to type', async () => {
    const r = await cli(['payouts', 'report', '--period', '2026-13', '--json']);
    expect(r.code).toBe(2);
    expect(r.json().error.message).toMatch(/YYYY-MM, e\.g\. 2026-10/);
  });
});

describe('rows that land in an open month before a closed one', () => {
  it('are refused by the import (months close in order), and a ledger that already holds one is warned about, never silently dropped', async () => {
    expect((await cli(['payouts', 'close', '--period', '2026-09', '--json'])).code).toBe(0);
    expect((await cli(['payouts', 'close', '--period', '2026-10', '--json'])).code).toBe(0);
    // August was never closed (it had no sales), but months close in order: once October is
    // closed, August can never be closed or reported, so a row dated in it is refused.
    const header = 'transaction_id,occurred_at,store,kind,product,country,currency,gross_minor,store_fee_minor,tax_minor,consent_ref,family_ref,refund_of\n';
    const late = join(tmp.dir, 'late-august.csv');
    writeFileSync(late, `${header}late-1,2026-08-20T10:00:00Z,web,sale,forest-scenes,US,USD,5000,0,0,vpc-late,fam-late,\n`);
    const imported = await cli(['ledger', 'import', 'sales', late, '--json']);
    expect(imported.code, imported.stderr).toBe(4);
    expect(imported.json().error.code).toBe('PERIOD_CLOSED');
    expect(JSON.stringify(imported.json().error)).toMatch(/2026-08 is not after 2026-10, the latest closed period/);

    // A ledger written before that rule may already hold such a row: simulate it by moving an
    // October sale into August behind the import's back. Reports must say so, not drop it.
    await rawQuery(db, "UPDATE sales SET occurred_at = '2026-08-20T10:00:00.000Z', month = '2026-08' WHERE transaction_id = (SELECT min(transaction_id) FROM sales WHERE month = '2026-10' AND kind = 'sale')");
    expect(await rawQuery(db, "SELECT count(*) AS n FROM sales WHERE month = '2026-08'")).toEqual([{ n: 1 }]);
    const aug = await cli(['payouts', 'close', '--period', '2026-08', '--json']);
    expect(aug.code).toBe(4);
    expect(aug.json().error.code).toBe('PERIOD_ORDER');
    const nov = await cli(['payouts', 'report', '--period', '2026-11', '--json']);
    expect(nov.code, nov.stderr).toBe(0);
    expect(nov.json().strandedMonths).toEqual([{ month: '2026-08', transactions: 1 }]);
    expect(nov.stderr).toMatch(/2026-08 holds 1 sale\/refund row\(s\) but is still open while a later month is closed/);
    const closedNov = await cli(['payouts', 'close', '--period', '2026-11', '--json']);
    expect(closedNov.code).toBe(0);
    expect(closedNov.stderr).toMatch(/2026-08 holds 1/);
    // The stored month is unchanged by it, and its later report has no such field.
    const again = await cli(['payouts', 'report', '--period', '2026-11', '--json']);
    expect(again.json().strandedMonths).toBeUndefined();
  });
});

describe('a ledger locked by another process', () => {
  it('is LEDGER_BUSY (exit 4) for payouts close, not an internal error (readers are not blocked: WAL)', async () => {
    const release = await holdWriteLock(db);
    try {
      const close = await cli(['payouts', 'close', '--period', '2026-12', '--json']);
      expect(close.code, close.stdout).toBe(4);
      expect(close.json().error.code).toBe('LEDGER_BUSY');
    } finally {
      await release();
    }
  }, 60_000);
});
