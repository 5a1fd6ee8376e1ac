// Subscriptions end to end through the built CLI on a real ledger (SQLite, and PostgreSQL in its half): plans, plan rows
// in `ledger import sales`, `ledger import usage`, and the money in `payouts report|close`.
// The catalog and creators are written through the ledger schema (test/payouts/ledger-fixture.ts).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, tempDir } from '../helpers/cli.js';
import { ledgerAt } from '../helpers/ledgers.js';
import { writeLedger } from '../payouts/ledger-fixture.js';

let tmp: ReturnType<typeof tempDir>;
let db: string;

const cli = (args: string[]) => runCli([...args, '--db', db], { cwd: tmp.dir });
const file = (name: string, text: string) => {
  writeFileSync(join(tmp.dir, name), text);
  return name;
};
const SALES_HEADER = 'transaction_id,occurred_at,store,kind,product,country,currency,gross_minor,store_fee_minor,tax_minor,consent_ref,family_ref,refund_of\n';

beforeAll(async () => {
  tmp = tempDir('packops-subs-e2e-');
  db = await ledgerAt(tmp.dir, 'ledger.db');
  const ledger = await writeLedger(db, {
    creators: ['ana-lima', 'bo-chen'],
    packs: [
      { slug: 'ocean', owner: 'ana-lima', price: 299, publishedAt: '2026-06-01T00:00:00Z' },
      { slug: 'farm', owner: 'ana-lima', price: 299, publishedAt: '2026-06-01T00:00:00Z' },
      { slug: 'space', owner: 'bo-chen', price: 299, publishedAt: '2026-06-01T00:00:00Z' },
    ],
  });
  await ledger.close();
}, 60_000);
afterAll(() => tmp.cleanup());

describe('subscriptions create|list', () => {
  it('stores plans; a product name already taken is PRODUCT_ID_CONFLICT; bad values are refused', async () => {
    const m = await cli(['subscriptions', 'create', 'plus-monthly', '--name', 'Plus Monthly', '--months', '1', '--price', '699', '--appstore', 'com.wn.plus.monthly', '--json']);
    expect(m.code).toBe(0);
    expect(m.json()).toMatchObject({ ok: true, status: 'created', plan: { id: 'plus-monthly', months: 1, priceMinor: 699, storeProductIds: { appstore: 'com.wn.plus.monthly' } } });
    expect((await cli(['subscriptions', 'create', 'plus-annual', '--name', 'Plus Annual', '--months', '12', '--price', '5999', '--web', 'plus-annual-web'])).code).toBe(0);
    const again = await cli(['subscriptions', 'create', 'plus-monthly', '--name', 'Plus Monthly', '--months', '1', '--price', '699', '--appstore', 'com.wn.plus.monthly', '--json']);
    expect(again.json().status).toBe('unchanged');

  });

  it('refuses a changed plan, a name another product holds, and bad values', async () => {
    const changed = await cli(['subscriptions', 'create', 'plus-monthly', '--name', 'Plus Monthly', '--months', '1', '--price', '799', '--json']);
    expect([changed.code, changed.json().error.code]).toEqual([4, 'PLAN_EXISTS']);
    const packSlug = await cli(['subscriptions', 'create', 'ocean', '--name', 'X', '--months', '1', '--price', '1', '--json']);
    expect([packSlug.code, packSlug.json().error.code]).toEqual([4, 'PRODUCT_ID_CONFLICT']);
    const storeId = await cli(['subscriptions', 'create', 'plus-other', '--name', 'X', '--months', '1', '--price', '1', '--googleplay', 'plus-annual-web', '--json']);
    expect(storeId.code).toBe(3); // "-" is not allowed in a Google Play id
    const taken = await cli(['subscriptions', 'create', 'plus-other', '--name', 'X', '--months', '1', '--price', '1', '--web', 'com.wn.plus.monthly', '--json']);
    expect([taken.code, taken.json().error.code]).toEqual([4, 'PRODUCT_ID_CONFLICT']);
    const badId = await cli(['subscriptions', 'create', 'Plus_1', '--name', 'X', '--months', '1', '--price', '1', '--json']);
    expect([badId.code, badId.json().error.code]).toEqual([3, 'PLAN_INVALID']);
    expect((await cli(['subscriptions', 'create', 'plus-q', '--name', 'X', '--months', '3', '--price', '1'])).code).toBe(2);
    const bundle = await cli(['bundles', 'create', 'plus-annual', '--name', 'B', '--packs', 'ocean,farm', '--price', '499', '--json']);
    expect([bundle.code, bundle.json().error.code]).toEqual([4, 'PRODUCT_ID_CONFLICT']);

  });

  it('lists the plans as a table or JSON', async () => {
    const list = await cli(['subscriptions', 'list', '--json']);
    expect(list.json().plans.map((p: any) => [p.id, p.months, p.priceMinor])).toEqual([
      ['plus-annual', 12, 5999],
      ['plus-monthly', 1, 699],
    ]);
    const table = await cli(['subscriptions', 'list']);
    expect(table.stdout).toMatch(/^plus-annual\s+Plus Annual\s+12\s+59\.99\s+plus-annual-web/m);
  });
});

describe('subscription rows and usage', () => {
  it('a subscription row without family_ref is ROW_INVALID family_ref and nothing is written', async () => {
    const f = file('bad-sales.csv', SALES_HEADER +
      'OK-1,2026-10-02T10:00:00Z,appstore,sale,ocean,US,USD,299,0,0,c1,,\n' +
      'S-X,2026-10-02T10:00:00Z,appstore,sale,com.wn.plus.monthly,US,USD,699,105,0,c1,,\n');
    const r = await cli(['ledger', 'import', 'sales', f, '--json']);
    expect(r.code).toBe(3);
    expect(r.json().error.details.rows).toEqual([expect.objectContaining({ row: 3, column: 'family_ref', code: 'ROW_INVALID' })]);
    const report = (await cli(['payouts', 'report', '--period', '2026-10', '--json'])).json();
    expect(report.totals.transactions).toBe(0);
  });

  it('imports plan rows by plan id or store id, and usage (CSV and JSON Lines)', async () => {
    const sales = file('sales-2026-10.csv', SALES_HEADER +
      'S-1,2026-10-01T08:00:00Z,appstore,sale,com.wn.plus.monthly,US,USD,699,105,0,c1,family-one,\n' +
      'W-2,2026-10-03T08:00:00Z,web,sale,plus-annual,US,USD,5999,0,0,c2,family-two,\n' +
      'S-3,2026-10-05T08:00:00Z,appstore,sale,plus-monthly,US,USD,699,105,0,c3,family-three,\n' +
      'P-1,2026-10-06T08:00:00Z,appstore,sale,ocean,US,USD,299,0,0,c4,,\n');
    const s = await cli(['ledger', 'import', 'sales', sales, '--json']);
    expect(s.code).toBe(0);
    expect(s.json()).toMatchObject({ imported: 4 });
    const usage = file('usage-2026-10.csv', 'family_ref,pack,month,active_days\nfamily-one,ocean,2026-10,10\nfamily-one,farm,2026-10,5\nfamily-two,space,2026-10,20\n');
    const u = await cli(['ledger', 'import', 'usage', usage, '--json']);
    expect(u.code).toBe(0);
    expect(u.json()).toMatchObject({ ok: true, imported: 3, skipped: 0, updated: 0 });
    // A family without money of its own still weighs in the idle pool (JSON Lines).
    const jl = file('usage-extra.jsonl', '{"family_ref":"family-four","pack":"ocean","month":"2026-10","active_days":5}\n');
    expect((await cli(['ledger', 'import', 'usage', jl, '--json'])).json()).toMatchObject({ imported: 1 });
    const same = await cli(['ledger', 'import', 'usage', usage, '--json']);
    expect(same.json()).toMatchObject({ imported: 0, skipped: 3, updated: 0 });
  });

  it('refuses bad usage rows, every one, and writes nothing', async () => {
    const f = file('usage-bad.csv', 'family_ref,pack,month,active_days\n' +
      'family-one,ocean,2026-11,31\n' + // November has 30 days
      'family-one,nope,2026-11,3\n' +
      'family-one,farm,2026-11,0\n' +
      'family-two,space,2026-11,4\n' +
      'family-two,space,2026-11,4\n' +
      ',space,2026-11,4\n' +
      'family-five,space,2026-13,4\n');
    const r = await cli(['ledger', 'import', 'usage', f, '--json']);
    expect(r.code).toBe(3);
    const rows = r.json().error.details.rows.map((x: any) => [x.row, x.column, x.code]);
    expect(rows).toEqual([
      [2, 'active_days', 'ROW_INVALID'],
      [3, 'pack', 'ROW_PRODUCT_UNKNOWN'],
      [4, 'active_days', 'ROW_INVALID'],
      [6, 'family_ref', 'ROW_DUPLICATE_IN_FILE'],
      [7, 'family_ref', 'ROW_INVALID'],
      [8, 'month', 'ROW_INVALID'],
    ]);
    expect(r.json().error.details.rows[0].message).toMatch(/2026-11 has 30 days/);
    // Nothing of the file was written: the good row 5 imports now as new.
    const ok = file('usage-ok.csv', 'family_ref,pack,month,active_days\nfamily-two,space,2026-11,4\n');
    expect((await cli(['ledger', 'import', 'usage', ok, '--json'])).json()).toMatchObject({ imported: 1 });
  });
});

describe('payouts with subscriptions', () => {
  it('October: each family’s money follows its use, the idle family is pooled, the net joins owner_net', async () => {
    const r = await cli(['payouts', 'report', '--period', '2026-10', '--json']);
    expect(r.code).toBe(0);
    const doc = r.json();
    // Recognised: 594 (family-one) + 500 (family-two: 5999 = 11 × 500 + 499) + 594 (family-three, idle).
    // family-one 594 by 10:5 → ocean 396, farm 198. family-two 500 → space.
    // Pool 594 by days ocean 15, farm 5, space 20: 222.75 / 74.25 / 297 → 223 / 74 / 297.
    expect(doc.subscriptions).toEqual({
      recognisedMinor: 1688,
      allocatedMinor: 1688,
      allocatedByUseMinor: 1094,
      idlePooledMinor: 594,
      unallocatedMinor: 0,
      families: { subscribed: 3, active: 3, idle: 1 },
      activeDays: 40,
      transactions: { sales: 3, refunds: 0 },
      tieOut: { ok: true, recognisedMinor: 1688, packNetsMinor: 1688, unallocatedMinor: 0 },
    });
    const ana = doc.statements.find((s: any) => s.creator === 'ana-lima');
    expect(ana.own.subscriptionLines).toEqual([
      { pack: 'farm', families: 1, activeDays: 5, netUsdMinor: 272, fromUseMinor: 198, fromPoolMinor: 74 },
      { pack: 'ocean', families: 2, activeDays: 15, netUsdMinor: 619, fromUseMinor: 396, fromPoolMinor: 223 },
    ]);
    // owner_net = ocean sale 299 + subscriptions 891; 70% of 1190 = 833. Subscription use is never units.
    expect(ana.own).toMatchObject({ netMinor: 1190, shareMinor: 833 });
    expect(ana.figures.units).toBe(1);
    const bo = doc.statements.find((s: any) => s.creator === 'bo-chen');
    expect(bo.own).toMatchObject({ netMinor: 797, shareMinor: 558, lines: [] });
    expect(doc.totals).toMatchObject({ transactions: 1, netMinor: 1987, subscriptionNetMinor: 1688 });
    expect(doc.tieOut).toMatchObject({ ok: true, netMinor: 1987, creatorShareMinor: 833 + 558, platformShareMinor: 1987 - 1391 });
    // No report shows a family reference, raw or HMAC'd.
    expect(r.stdout).not.toMatch(/family-|[0-9a-f]{64}/);
  });

  it('the table, Markdown and CSV show the subscription line and the month’s figures', async () => {
    const table = await cli(['payouts', 'report', '--period', '2026-10']);
    expect(table.stdout).toMatch(/^\s+own\s+ocean\s+subscription\s+USD\s+6\.19\s+70\.00\s+2\s+15$/m);
    expect(table.stdout).toMatch(/Subscriptions: recognised 16\.88 .* idle pooled 5\.94 from 1 idle families\) · unallocated 0\.00/);
    const md = await cli(['payouts', 'report', '--period', '2026-10', '--format', 'md']);
    expect(md.stdout).toMatch(/^\| own \| space \| subscription \| USD \|.*\| 7\.97 \| 70\.00 \| {2}\| 1 \| 20 \|$/m);
    const csv = await cli(['payouts', 'report', '--period', '2026-10', '--format', 'csv']);
    expect(csv.stdout).toContain('ana-lima,own,farm,subscription,USD,,,,,,,,,2.72,70.00,,1,5\r\n');
    expect(csv.stdout.split('\r\n')[0]).toMatch(/,share_usd,families,active_days$/);
    expect(`${table.stdout}${md.stdout}${csv.stdout}`).not.toMatch(/family-|[0-9a-f]{64}/);
  });

  it('a month with no usage keeps the money unallocated (the platform’s); the annual schedule makes it active', async () => {
    const nov = (await cli(['payouts', 'report', '--period', '2026-12', '--json'])).json();
    // December: only family-two's annual plan (500) and nobody used anything.
    expect(nov.subscriptions).toMatchObject({ recognisedMinor: 500, allocatedMinor: 0, idlePooledMinor: 500, unallocatedMinor: 0 + 500 });
    expect(nov.totals.subscriptionNetMinor).toBe(0);
    expect(nov.provisionalMonths).toEqual(['2026-10', '2026-11']);
  });

  it('close stores the figures; a changed usage value for the closed month is PERIOD_CLOSED, the same value skipped', async () => {
    const before = (await cli(['payouts', 'report', '--period', '2026-10', '--json'])).json();
    const closed = await cli(['payouts', 'close', '--period', '2026-10', '--json']);
    expect(closed.code).toBe(0);
    const after = (await cli(['payouts', 'report', '--period', '2026-10', '--json'])).json();
    expect(after.status).toBe('closed');
    expect(after.subscriptions).toEqual(before.subscriptions);
    expect(after.statements).toEqual(before.statements);

    const changed = file('usage-late.csv', 'family_ref,pack,month,active_days\nfamily-one,ocean,2026-10,11\n');
    const r = await cli(['ledger', 'import', 'usage', changed, '--json']);
    expect([r.code, r.json().error.code]).toEqual([4, 'PERIOD_CLOSED']);
    const sameValue = file('usage-same.csv', 'family_ref,pack,month,active_days\nfamily-one,ocean,2026-10,10\n');
    expect((await cli(['ledger', 'import', 'usage', sameValue, '--json'])).json()).toMatchObject({ skipped: 1 });
    // November is active (the annual schedule reaches it): December cannot close before it.
    const dec = await cli(['payouts', 'close', '--period', '2026-12', '--json']);
    expect([dec.code, dec.json().error.code]).toEqual([4, 'PERIOD_ORDER']);
  });

  it('an open month’s new usage value replaces the stored one (updated); a refund cancels the rest of the schedule', async () => {
    const upd = file('usage-nov.csv', 'family_ref,pack,month,active_days\nfamily-two,space,2026-11,9\nfamily-two,farm,2026-11,3\n');
    expect((await cli(['ledger', 'import', 'usage', upd, '--json'])).json()).toMatchObject({ imported: 1, updated: 1 });
    // family-two's annual plan: 500 in November split 9:3 → space 375, farm 125.
    let nov = (await cli(['payouts', 'report', '--period', '2026-11', '--json'])).json();
    expect(nov.subscriptions).toMatchObject({ recognisedMinor: 500, allocatedByUseMinor: 500, unallocatedMinor: 0 });
    // A refund of 3000 in November: it cancels November–September (10 × 500 + 499 = 5499)
    // and recognises 5499 − 3000 = 2499 in November; a refund must name its sale's family.
    const wrongFamily = file('refund-bad.csv', SALES_HEADER + 'W-R1,2026-11-15T08:00:00Z,web,refund,plus-annual,US,USD,3000,0,0,,family-one,W-2\n');
    const bad = await cli(['ledger', 'import', 'sales', wrongFamily, '--json']);
    expect(bad.json().error.details.rows).toEqual([expect.objectContaining({ column: 'family_ref', code: 'ROW_INVALID' })]);
    const refund = file('refund.csv', SALES_HEADER + 'W-R1,2026-11-15T08:00:00Z,web,refund,plus-annual,US,USD,3000,0,0,,family-two,W-2\n');
    expect((await cli(['ledger', 'import', 'sales', refund, '--json'])).code).toBe(0);
    nov = (await cli(['payouts', 'report', '--period', '2026-11', '--json'])).json();
    expect(nov.subscriptions).toMatchObject({ recognisedMinor: 2499, transactions: { sales: 0, refunds: 1 } });
    const space = nov.statements.find((s: any) => s.creator === 'bo-chen').own.subscriptionLines[0];
    expect(space).toMatchObject({ pack: 'space', netUsdMinor: 1874 }); // 2499 × 9/12 = 1874.25
    const dec = (await cli(['payouts', 'report', '--period', '2026-12', '--json'])).json();
    expect(dec.subscriptions.recognisedMinor).toBe(0);
  });
});
