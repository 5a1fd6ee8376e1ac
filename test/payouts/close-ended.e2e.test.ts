// `payouts close` closes only a month that has ended (PERIOD_OPEN, exit 4, otherwise): a
// month frozen early would refuse its own later rows forever. "Now" is SOURCE_DATE_EPOCH
// when set (the one clock of date rules), so these tests pin it.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli, tempDir } from '../helpers/cli.js';
import { ledgerAt, rawQuery } from '../helpers/ledgers.js';
import { STORY, writeLedger } from './ledger-fixture.js';

const HEADER = 'transaction_id,occurred_at,store,kind,product,country,currency,gross_minor,store_fee_minor,tax_minor,consent_ref,family_ref,refund_of';
const epoch = (iso: string) => String(Date.parse(iso) / 1000);

let tmp: ReturnType<typeof tempDir>;
let db: string;

beforeEach(async () => {
  tmp = tempDir('packops-close-ended-');
  db = await ledgerAt(tmp.dir, 'ledger.db');
  await (await writeLedger(db, STORY)).close();
});
afterEach(() => tmp.cleanup());

const at = (iso: string) => (args: string[]) => runCli([...args, '--db', db], { cwd: tmp.dir, env: { SOURCE_DATE_EPOCH: epoch(iso) } });

describe('payouts close of a month that has not ended', () => {
  it('is PERIOD_OPEN (exit 4) up to its last second, saying when it can be closed; nothing is stored; from the next month it closes', async () => {
    const lastSecond = at('2026-10-31T23:59:59Z');
    const sept = await lastSecond(['payouts', 'close', '--period', '2026-09', '--json']);
    expect(sept.code, sept.stderr).toBe(0);
    // The stored close time is the same clock.
    expect(sept.json().closedAt).toBe('2026-10-31T23:59:59.000Z');

    const early = await lastSecond(['payouts', 'close', '--period', '2026-10', '--json']);
    expect(early.code, early.stdout).toBe(4);
    const error = early.json().error;
    expect(error.code).toBe('PERIOD_OPEN');
    expect(error.message).toMatch(/2026-10 has not ended yet .*it can be closed from 2026-11-01T00:00:00Z/);
    expect(error.details).toMatchObject({ period: '2026-10', closableFrom: '2026-11-01T00:00:00Z' });
    expect(early.stderr).not.toMatch(/\bat .*\.js:\d+/);
    expect(await rawQuery(db, 'SELECT month FROM closed_periods ORDER BY month')).toEqual([{ month: '2026-09' }]);
    expect(await rawQuery(db, "SELECT count(*) AS n FROM statements WHERE month = '2026-10'")).toEqual([{ n: 0 }]);

    const onTime = await at('2026-11-01T00:00:00Z')(['payouts', 'close', '--period', '2026-10', '--json']);
    expect(onTime.code, onTime.stderr).toBe(0);
    expect(onTime.json()).toMatchObject({ period: '2026-10', status: 'closed', closedAt: '2026-11-01T00:00:00.000Z' });
  });

  it('the reviewer’s case: December cannot be closed on 6 December, so a sale of 20 December still imports', async () => {
    const dec6 = at('2026-12-06T12:00:00Z');
    for (const period of ['2026-09', '2026-10', '2026-11']) expect((await dec6(['payouts', 'close', '--period', period, '--json'])).code).toBe(0);
    const dec = await dec6(['payouts', 'close', '--period', '2026-12', '--json']);
    expect([dec.code, dec.json().error.code]).toEqual([4, 'PERIOD_OPEN']);
    const far = await dec6(['payouts', 'close', '--period', '2030-01', '--json']);
    expect([far.code, far.json().error.code]).toEqual([4, 'PERIOD_OPEN']);
    const file = join(tmp.dir, 'dec20.csv');
    writeFileSync(file, `${HEADER}\nt-1,2026-12-20T00:00:00Z,web,sale,counting-garden,US,USD,299,0,0,vpc,fam-A,\n`);
    const imported = await dec6(['ledger', 'import', 'sales', file, '--json']);
    expect(imported.code, imported.stderr).toBe(0);
    expect(imported.json()).toMatchObject({ imported: 1 });
  });

  it('a SOURCE_DATE_EPOCH that is not whole seconds is a clear error, not a close', async () => {
    const r = await runCli(['payouts', 'close', '--period', '2026-09', '--db', db, '--json'], { cwd: tmp.dir, env: { SOURCE_DATE_EPOCH: 'soon' } });
    expect(r.code).toBe(3);
    expect(r.json().error.code).toBe('SOURCE_DATE_EPOCH_INVALID');
    expect(await rawQuery(db, 'SELECT count(*) AS n FROM closed_periods')).toEqual([{ n: 0 }]);
  });
});
