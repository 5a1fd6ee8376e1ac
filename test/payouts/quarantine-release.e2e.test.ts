// The quarantine block of `payouts report` shows only what is still held (§7, §15): a row a
// later import wrote to the ledger is released (it is in a statement now), one transaction
// quarantined several times counts once (its latest row), and a closed month keeps the block
// its close stored. Through the real CLI on a real SQLite ledger.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli, tempDir } from '../helpers/cli.js';
import { ledgerAt } from '../helpers/ledgers.js';
import { STORY, writeLedger } from './ledger-fixture.js';

const HEADER = 'transaction_id,occurred_at,store,kind,product,country,currency,gross_minor,store_fee_minor,tax_minor,consent_ref,family_ref,refund_of';

let tmp: ReturnType<typeof tempDir>;
let db: string;

beforeEach(async () => {
  tmp = tempDir('packops-quarantine-release-');
  db = await ledgerAt(tmp.dir, 'ledger.db');
  await (await writeLedger(db, STORY)).close();
});
afterEach(() => tmp.cleanup());

const cli = (args: string[]) => runCli([...args, '--db', db], { cwd: tmp.dir });

let files = 0;
async function importRows(rows: string[], quarantine = true): Promise<{ imported: number; quarantined: number }> {
  const file = join(tmp.dir, `rows-${++files}.csv`);
  writeFileSync(file, `${HEADER}\n${rows.join('\n')}\n`);
  const r = await cli(['ledger', 'import', 'sales', file, ...(quarantine ? ['--quarantine'] : []), '--json']);
  expect(r.code, r.stderr).toBe(0);
  return r.json() as { imported: number; quarantined: number };
}

async function report(period: string): Promise<{ quarantine: Array<{ reason: string; rows: number; amounts: unknown[]; rowsWithoutAmount: number }>; totals: { transactions: number; netMinor: number }; status: string }> {
  const r = await cli(['payouts', 'report', '--period', period, '--json']);
  expect(r.code, r.stderr).toBe(0);
  return r.json();
}

describe('quarantined rows that a later import wrote to the ledger', () => {
  it('leave the block: a sale held for missing consent, then imported with it, is counted once (in the statements)', async () => {
    const before = await report('2026-11');
    expect(await importRows(['q-1,2026-11-03T00:00:00Z,web,sale,counting-garden,US,USD,299,0,0,,fam-A,'])).toMatchObject({ imported: 0, quarantined: 1 });
    const held = await report('2026-11');
    expect(held.quarantine).toEqual([
      { month: '2026-11', reason: 'ROW_CONSENT_MISSING', label: 'quarantined: consent missing', rows: 1, amounts: [{ currency: 'USD', amountMinor: 299 }], rowsWithoutAmount: 0 },
    ]);
    expect(held.totals.transactions).toBe(before.totals.transactions);

    expect(await importRows(['q-1,2026-11-03T00:00:00Z,web,sale,counting-garden,US,USD,299,0,0,vpc-fixed,fam-A,'], false)).toMatchObject({ imported: 1 });
    const released = await report('2026-11');
    expect(released.quarantine).toEqual([]);
    expect(released.totals.transactions).toBe(before.totals.transactions + 1);
    expect(released.totals.netMinor).toBe(before.totals.netMinor + 299);
    // The table output says nothing is held any more either.
    const table = await cli(['payouts', 'report', '--period', '2026-11']);
    expect(table.stderr).not.toMatch(/quarantined/);
  });

  it('a refund quarantined as ROW_REFUND_UNKNOWN leaves the block once its sale and the refund are imported', async () => {
    await importRows(['rf-1,2026-11-09T00:00:00Z,web,refund,counting-garden,US,USD,299,0,0,,,late-sale']);
    expect((await report('2026-11')).quarantine).toMatchObject([{ reason: 'ROW_REFUND_UNKNOWN', rows: 1, amounts: [{ currency: 'USD', amountMinor: 299 }] }]);
    await importRows(
      ['late-sale,2026-11-02T00:00:00Z,web,sale,counting-garden,US,USD,299,0,0,vpc,fam-A,', 'rf-1,2026-11-09T00:00:00Z,web,refund,counting-garden,US,USD,299,0,0,,,late-sale'],
      false,
    );
    expect((await report('2026-11')).quarantine).toEqual([]);
  });
});

describe('one transaction quarantined several times', () => {
  it('counts once, as its latest row, and leaves the block when it is finally imported', async () => {
    await importRows(['q-2,2026-11-04T00:00:00Z,web,sale,ocean-creaturs,US,USD,49900,0,0,vpc,fam-A,']);
    await importRows(['q-2,2026-11-04T00:00:00Z,web,sale,ocean-creaturez,US,USD,49900,0,0,vpc,fam-A,']);
    expect((await report('2026-11')).quarantine).toMatchObject([{ reason: 'ROW_PRODUCT_UNKNOWN', rows: 1, amounts: [{ currency: 'USD', amountMinor: 49900 }] }]);
    // The latest row decides the month and amount: here it says October and 499.
    await importRows(['q-2,2026-10-30T00:00:00Z,web,sale,ocean-creatures-x,US,USD,499,0,0,vpc,fam-A,']);
    expect((await report('2026-11')).quarantine).toEqual([]);
    expect((await report('2026-10')).quarantine).toMatchObject([{ reason: 'ROW_PRODUCT_UNKNOWN', rows: 1, amounts: [{ currency: 'USD', amountMinor: 499 }] }]);
    await importRows(['q-2,2026-11-04T00:00:00Z,web,sale,ocean-creatures,US,USD,499,0,0,vpc,fam-A,'], false);
    expect((await report('2026-10')).quarantine).toEqual([]);
    expect((await report('2026-11')).quarantine).toEqual([]);
  });

  it('rows without a readable transaction id cannot be matched to a transaction: each still counts', async () => {
    await importRows([',2026-11-05T00:00:00Z,web,sale,counting-garden,US,USD,299,0,0,vpc,fam-A,', ',2026-11-06T00:00:00Z,web,sale,counting-garden,US,USD,299,0,0,vpc,fam-B,']);
    expect((await report('2026-11')).quarantine).toMatchObject([{ reason: 'ROW_INVALID', rows: 2, amounts: [{ currency: 'USD', amountMinor: 598 }] }]);
  });
});

describe('a closed month', () => {
  it('keeps the block its close stored, even after the held row is imported into a later month', async () => {
    await importRows(['q-3,2026-10-15T00:00:00Z,web,sale,counting-garden,US,USD,299,0,0,,fam-A,']);
    expect((await cli(['payouts', 'close', '--period', '2026-09', '--json'])).code).toBe(0);
    const close = await cli(['payouts', 'close', '--period', '2026-10', '--json']);
    expect(close.code, close.stderr).toBe(0);
    const stored = close.json().quarantine;
    expect(stored).toMatchObject([{ reason: 'ROW_CONSENT_MISSING', rows: 1 }]);
    // Corrected and dated in the open month: it is in November's statements now.
    await importRows(['q-3,2026-11-02T00:00:00Z,web,sale,counting-garden,US,USD,299,0,0,vpc,fam-A,'], false);
    expect((await report('2026-10')).quarantine).toEqual(stored);
    expect((await report('2026-11')).quarantine).toEqual([]);
  });
});
