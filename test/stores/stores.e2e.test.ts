/**
 * `ledger import purchases|googleplay|appstore` through the built CLI on the fixtures in
 * fixtures/stores (written from the documented formats): consent matching, holding and
 * releasing, idempotency, corrections, closed months and every kind of bad file.
 */
import { createHash } from 'node:crypto';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import BetterSqlite3 from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { FIXTURES, runCli } from '../helpers/cli.js';
import { AS, GP, NOV_GP, OCT_GP, OCT_GP_ZIP, PKG, query, S, storeLedgers } from './store-ledgers.js';


const { root: rootDir, freshLedger } = storeLedgers('packops-stores-');
let n = 0;

const salesOf = (db: string, store: 'googleplay' | 'appstore') =>
  query(db, (l) => l.db.selectFrom('sales').selectAll().where('store', '=', store).orderBy('occurred_at').orderBy('transaction_id').execute());
const countSales = (db: string) => query(db, async (l) => Number((await l.db.selectFrom('sales').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n));
const holds = (db: string) => query(db, (l) => l.db.selectFrom('quarantine').selectAll().where('code', '=', 'CONSENT_MISSING').orderBy('hold_key').execute());

describe('ledger import googleplay', () => {
  it('matches sales to the purchase log from an index alone (consent_ref and family_hmac in it: no table page per sale)', async () => {
    const { db } = await freshLedger();
    const raw = new BetterSqlite3(db, { readonly: true });
    const plan = raw
      .prepare("EXPLAIN QUERY PLAN SELECT transaction_id, consent_ref, family_hmac FROM purchases WHERE store = 'googleplay' AND kind = 'sale' AND transaction_id IN ('GPA.1', 'GPA.2')")
      .all() as Array<{ detail: string }>;
    raw.close();
    expect(plan.map((p) => p.detail).join('\n')).toContain('USING COVERING INDEX purchases_consent_idx');
  });

  it('checks sales in id order but reports and holds them in line order, sales before refunds, with the same ledger as ever', async () => {
    // Sales whose ids are not in line order (the import looks them up and writes them by id),
    // none with a purchase record, and a refund of an order no sale has, between them.
    const header = readFileSync(OCT_GP, 'utf8').split('\r\n')[0]!;
    const line = (id: string, type: string, amount: string) =>
      `${id},"Oct 2, 2026",9:15:02 AM PDT,,${type},${type === 'Charge' ? '' : 'Full'},Ocean Creatures (WonderNest),com.wondernest.app,1,pack_ocean,a15,US,CA,94110,USD,${amount},1.000000,USD,${amount},,,,Yes,15,,`;
    const ids = ['GPA.9001-0000-0000-00001', 'GPA.1001-0000-0000-00002', 'GPA.5001-0000-0000-00003', 'GPA.0001-0000-0000-00004', 'GPA.7001-0000-0000-00005'];
    const rows = [line(ids[0]!, 'Charge', '4.99'), line(ids[1]!, 'Charge', '4.99'), line('GPA.4444-0000-0000-00009', 'Charge refund', '-4.99'), line(ids[2]!, 'Charge', '4.99'), line(ids[3]!, 'Charge', '4.99'), line(ids[4]!, 'Charge', '4.99')];
    const file = join(rootDir(), 'out-of-order.csv');
    writeFileSync(file, `${header}\r\n${rows.join('\r\n')}\r\n`);
    const { db, cli } = await freshLedger();
    const refused = await cli('ledger', 'import', 'googleplay', file, ...PKG);
    expect(refused.code).toBe(3);
    const err = refused.json().error;
    expect(err.code).toBe('ROWS_INVALID');
    expect(err.details.rows.map((r: { row: number; code: string }) => [r.row, r.code])).toEqual([
      [2, 'CONSENT_MISSING'], [3, 'CONSENT_MISSING'], [5, 'CONSENT_MISSING'], [6, 'CONSENT_MISSING'], [7, 'CONSENT_MISSING'], [4, 'ROW_REFUND_UNKNOWN'],
    ]);
    // Quarantined in the same order; then, with the purchase records, the sales go in once.
    writeFileSync(join(rootDir(), 'out-of-order-purchases.csv'), `store,transaction_id,kind,occurred_at,product,country,consent_ref,family_ref,refund_of\n${ids.map((id, i) => `googleplay,${id},sale,2026-10-02T16:15:02Z,pack_ocean,US,vpc-${i},fam-${i},`).join('\n')}\n`);
    expect((await cli('ledger', 'import', 'googleplay', file, ...PKG, '--quarantine')).code).toBe(0);
    const raw = new BetterSqlite3(db, { readonly: true });
    const quarantined = raw.prepare("SELECT row_number FROM quarantine WHERE kind = 'googleplay' ORDER BY rowid").all() as Array<{ row_number: number }>;
    raw.close();
    expect(quarantined.map((q) => q.row_number)).toEqual([2, 3, 5, 6, 7, 4]);
    expect((await cli('ledger', 'import', 'purchases', join(rootDir(), 'out-of-order-purchases.csv'))).code).toBe(0);
    expect((await cli('ledger', 'import', 'googleplay', file, ...PKG, '--quarantine')).json()).toMatchObject({ imported: 5, released: 5 });
    expect((await salesOf(db, 'googleplay')).map((x) => [x.transaction_id, x.gross_minor, x.consent_ref])).toEqual(
      [...ids].sort().map((id) => [id, 499, `vpc-${ids.indexOf(id)}`]),
    );
  });

  it('refuses unmatched orders (CONSENT_MISSING), holds them with --quarantine, releases them once after the purchase log', async () => {
    const { db, cli } = await freshLedger();
    expect((await cli('ledger', 'import', 'purchases', join(S, 'purchases-2026-10.csv'))).code).toBe(0);

    const refused = await cli('ledger', 'import', 'googleplay', OCT_GP_ZIP, ...PKG);
    expect(refused.code).toBe(3);
    const err = refused.json().error;
    expect(err.code).toBe('CONSENT_MISSING');
    expect(err.details.rows).toEqual([expect.objectContaining({ row: 14, code: 'CONSENT_MISSING', message: expect.stringContaining('GPA.3301-1001-2001-30007') })]);
    expect(err.details.amounts).toEqual({ USD: 424 });
    expect(await countSales(db)).toBe(0);

    const held = await cli('ledger', 'import', 'googleplay', OCT_GP_ZIP, ...PKG, '--quarantine');
    expect(held.code).toBe(0);
    const s = held.json();
    expect(s).toMatchObject({ ok: true, kind: 'googleplay', imported: 7, quarantined: 1, held: { count: 1, amounts: { USD: 424 } }, otherApps: { rows: 2, amounts: { USD: 254 } } });
    expect(s.reports[0]).toMatchObject({ status: 'new', lines: 20, transactions: 8, totals: { report: { USD: 2223 }, ledger: { USD: 1545 }, held: { USD: 424 }, otherApps: { USD: 254 } } });
    expect((await holds(db)).map((h) => [h.hold_key, h.month, h.currency, h.amount_minor, h.released_batch])).toEqual([['GPA.3301-1001-2001-30007', '2026-10', 'USD', 424, null]]);
    // payouts report shows the held money beside the statements (§15: "held: consent missing").
    const heldBlock = async () =>
      ((await cli('payouts', 'report', '--period', '2026-10')).json().quarantine as Array<{ reason: string }>).filter((q) => q.reason === 'CONSENT_MISSING');
    expect(await heldBlock()).toEqual([
      { month: '2026-10', reason: 'CONSENT_MISSING', label: 'held: consent missing', rows: 1, amounts: [{ currency: 'USD', amountMinor: 424 }], rowsWithoutAmount: 0 },
    ]);

    // The same file again, and a renamed copy: nothing changes, nothing is held twice.
    const copy = join(rootDir(), 'renamed-earnings.zip');
    copyFileSync(OCT_GP_ZIP, copy);
    for (const file of [OCT_GP_ZIP, copy]) {
      const again = (await cli('ledger', 'import', 'googleplay', file, ...PKG, '--quarantine')).json();
      expect(again).toMatchObject({ imported: 0, skipped: 8, quarantined: 0, released: 0, held: { count: 1 } });
      expect(again.reports[0].status).toBe('again');
    }
    expect(await countSales(db)).toBe(7);
    expect(await holds(db)).toHaveLength(1);

    // The late purchase record, then the same report again: exactly that order is released, once.
    expect((await cli('ledger', 'import', 'purchases', join(S, 'purchases-late.jsonl'))).code).toBe(0);
    const released = (await cli('ledger', 'import', 'googleplay', OCT_GP_ZIP, ...PKG)).json();
    expect(released).toMatchObject({ imported: 1, released: 1, held: { count: 0 } });
    expect(released.reports[0].totals).toMatchObject({ report: { USD: 2223 }, ledger: { USD: 1969 }, held: {}, otherApps: { USD: 254 } });
    const [h] = await holds(db);
    expect(h!.released_batch).toBe(released.files[0].batch);
    expect(await heldBlock()).toEqual([]);
    const once = (await cli('ledger', 'import', 'googleplay', OCT_GP_ZIP, ...PKG)).json();
    expect(once).toMatchObject({ imported: 0, released: 0, skipped: 8 });
    expect(await countSales(db)).toBe(8);
  });

  it('groups orders, converts Pacific times across the DST switch, ties renewals and later partial refunds to their purchase', async () => {
    const { db, cli } = await freshLedger(join(S, 'purchases-2026-10.csv'), join(S, 'purchases-2026-11.jsonl'), join(S, 'purchases-late.jsonl'));
    expect((await cli('ledger', 'import', 'googleplay', OCT_GP, NOV_GP, ...PKG)).code).toBe(0);
    const rows = new Map((await salesOf(db, 'googleplay')).map((r) => [r.transaction_id, r]));
    // One transaction per order: charge, fee and tax (the fee row of 30001 comes 19 lines after its charge).
    expect(rows.get('GPA.3301-1001-2001-30001')).toMatchObject({ kind: 'sale', gross_minor: 499, store_fee_minor: 75, tax_minor: 0, occurred_at: '2026-10-02T16:15:02.000Z', consent_ref: 'vpc-g-0001' });
    expect(rows.get('GPA.3301-1001-2001-30002')).toMatchObject({ gross_minor: 485, store_fee_minor: 61, tax_minor: 77, country: 'DE', currency: 'USD' });
    // A full refund in the same month, a partial one a month later.
    expect(rows.get('GPA.3301-1001-2001-30002/refund/2026-10-25T17:00:00Z')).toMatchObject({ kind: 'refund', refund_of: 'GPA.3301-1001-2001-30002', gross_minor: 485, store_fee_minor: 61, tax_minor: 77, month: '2026-10' });
    expect(rows.get('GPA.3301-1001-2001-30001/refund/2026-11-18T22:05:31Z')).toMatchObject({ kind: 'refund', refund_of: 'GPA.3301-1001-2001-30001', gross_minor: 200, store_fee_minor: 30, tax_minor: 0, month: '2026-11' });
    // The repeated hour of November 1: 1:30 PDT and 1:30 PST are an hour apart.
    expect(rows.get('GPA.3301-1001-2001-30010')!.occurred_at).toBe('2026-11-01T08:30:00.000Z');
    expect(rows.get('GPA.3301-1001-2001-30011')!.occurred_at).toBe('2026-11-01T09:30:00.000Z');
    // Month-end near midnight Pacific: the UTC month is the next one.
    expect(rows.get('GPA.3301-1001-2001-30005')).toMatchObject({ occurred_at: '2026-11-01T00:30:00.000Z', month: '2026-11' });
    expect(rows.get('GPA.3301-1001-2001-30012')).toMatchObject({ occurred_at: '2026-12-01T07:45:00.000Z', month: '2026-12' });
    // Renewals carry the consent of the order they renew.
    expect(rows.get('GPA.3301-1001-2001-30004..0')!.consent_ref).toBe('vpc-g-0004');
    expect(rows.get('GPA.3301-1001-2001-30004..1')).toMatchObject({ consent_ref: 'vpc-g-0004', month: '2026-11' });
    // A promotion: a zero charge, still a sale with its consent.
    expect(rows.get('GPA.3301-1001-2001-30003')).toMatchObject({ gross_minor: 0, store_fee_minor: 0, consent_ref: 'vpc-g-0003' });
    expect([...rows.keys()].some((k) => k.startsWith('GPA.3399'))).toBe(false);
    expect(rows.size).toBe(13);
  });

  it('a later refund of a stored sale whose amount is damaged is LEDGER_CORRUPT naming it, and nothing of the report is written', async () => {
    const { db, cli } = await freshLedger(join(S, 'purchases-2026-10.csv'), join(S, 'purchases-2026-11.jsonl'), join(S, 'purchases-late.jsonl'));
    expect((await cli('ledger', 'import', 'googleplay', OCT_GP, ...PKG)).code).toBe(0);
    const raw = new BetterSqlite3(db);
    try {
      expect(raw.prepare("UPDATE sales SET gross_minor = 'abc' WHERE transaction_id = 'GPA.3301-1001-2001-30001'").run().changes).toBe(1);
      const before = (raw.prepare('SELECT count(*) AS n FROM sales').get() as { n: number }).n;
      // November holds a partial refund of that order.
      const r = await cli('ledger', 'import', 'googleplay', NOV_GP, ...PKG);
      expect(r.code, r.stdout).toBe(3);
      expect(r.json().error).toMatchObject({ code: 'LEDGER_CORRUPT', details: { table: 'sales', row: 'store=googleplay transaction_id=GPA.3301-1001-2001-30001', column: 'gross_minor' } });
      expect((raw.prepare('SELECT count(*) AS n FROM sales').get() as { n: number }).n).toBe(before);
    } finally {
      raw.close();
    }
  });

  it('reads the same report as UTF-8, UTF-8 with BOM, UTF-16LE and UTF-16BE alike', async () => {
    const results = [];
    for (const variant of ['csv', 'utf8bom.csv', 'utf16le.csv', 'utf16be.csv']) {
      const { db, cli } = await freshLedger(join(S, 'purchases-2026-10.csv'), join(S, 'purchases-2026-11.jsonl'));
      const r = await cli('ledger', 'import', 'googleplay', join(GP, `earnings_202611_com.wondernest.app.${variant}`), ...PKG, '--quarantine');
      expect(r.code, r.stdout).toBe(0);
      // Each ledger has its own family HMAC secret; everything else must be identical.
      results.push((await salesOf(db, 'googleplay')).map(({ batch_id: _b, family_hmac: _f, ...rest }) => rest));
    }
    expect(results[0]).toHaveLength(4);
    for (const r of results.slice(1)) expect(r).toEqual(results[0]);
  });

  it('skips and counts other apps; without --package or config an account report of two apps is refused', async () => {
    const { db, dir, cli } = await freshLedger(join(S, 'purchases-2026-10.csv'), join(S, 'purchases-late.jsonl'));
    const ambiguous = await cli('ledger', 'import', 'googleplay', OCT_GP);
    expect(ambiguous.code).toBe(2);
    expect(ambiguous.json().error.message).toMatch(/com\.wondernest\.app, com\.wondernest\.coloring.*--package/);
    writeFileSync(join(dir, 'packops.config.json'), JSON.stringify({ googleplay: { package: 'com.wondernest.app' } }));
    const r = await runCli(['--db', db, '--json', 'ledger', 'import', 'googleplay', OCT_GP], { cwd: dir });
    expect(r.code, r.stdout).toBe(0);
    expect(r.json().otherApps).toEqual({ rows: 2, amounts: { USD: 254 } });
  });

  it('records each file\'s SHA-256 as stored (hashed while it is read; a zip on its own), and knows the same bytes again', async () => {
    const gz = join(rootDir(), 'earnings_202610.csv.gz');
    writeFileSync(gz, gzipSync(readFileSync(OCT_GP)));
    for (const file of [OCT_GP, gz, OCT_GP_ZIP]) {
      const { cli } = await freshLedger(join(S, 'purchases-2026-10.csv'), join(S, 'purchases-late.jsonl'));
      const sha = createHash('sha256').update(readFileSync(file)).digest('hex');
      const first = await cli('ledger', 'import', 'googleplay', file, ...PKG, '--quarantine');
      expect(first.code, first.stdout).toBe(0);
      expect(first.json().files[0].sha256).toBe(sha);
      const again = await cli('ledger', 'import', 'googleplay', file, ...PKG, '--quarantine');
      expect(again.code, again.stdout).toBe(0);
      expect(again.json().files[0].sha256).toBe(sha);
      expect(again.json().reports[0].status).toBe('again');
      expect(again.json().imported).toBe(0);
    }
  });

  it('imports an account paid in EUR in EUR', async () => {
    const { db, cli } = await freshLedger(join(GP, 'eur', 'purchases.csv'));
    const r = await cli('ledger', 'import', 'googleplay', join(GP, 'eur', 'earnings_202610_com.wondernest.app.csv'));
    expect(r.code, r.stdout).toBe(0);
    const rows = await salesOf(db, 'googleplay');
    expect(rows.map((x) => [x.country, x.currency, x.gross_minor, x.store_fee_minor, x.tax_minor])).toEqual([
      ['DE', 'EUR', 449, 56, 72],
      ['US', 'EUR', 369, 56, 0],
      ['FR', 'EUR', 449, 56, 75],
    ]);
    expect(r.json().reports[0].totals.report).toEqual({ EUR: 952 });
  });
});

describe('ledger import appstore', () => {
  it('matches units oldest first within the Pacific dates, one partner share each, gross/fee/tax unknown', async () => {
    const { db, cli } = await freshLedger(join(S, 'purchases-2026-10.csv'), join(S, 'purchases-late.jsonl'));
    const r = await cli('ledger', 'import', 'appstore', join(AS, '80012345_1026_US_JP.zip'), join(AS, '80012345_1026_EU.txt.gz'));
    expect(r.code, r.stdout).toBe(0);
    expect(r.json()).toMatchObject({ imported: 11, quarantined: 0 });
    expect(r.json().reports.map((x: { totals: { report: unknown; ledger: unknown } }) => [x.totals.report, x.totals.ledger])).toEqual([
      [{ USD: 1605 }, { USD: 1605 }],
      [{ JPY: 238 }, { JPY: 238 }],
      [{ EUR: 857 }, { EUR: 857 }],
    ]);
    const rows = await salesOf(db, 'appstore');
    const us = rows.filter((x) => x.product === 'com.wondernest.pack.ocean' && x.country === 'US');
    // 09/27–10/31 Pacific: 2026-11-01T06:30Z (Oct 31, 23:30 PDT) is in, 2026-09-27T06:30Z (Sep 26 PDT) is out.
    expect(us.map((x) => x.transaction_id)).toEqual(['2000000812340001', '2000000812340002', '2000000812340003']);
    for (const x of rows) {
      expect(x).toMatchObject({ gross_minor: null, store_fee_minor: null, tax_minor: null, month: '2026-10' });
    }
    expect(us.map((x) => x.net_minor)).toEqual([349, 349, 349]);
    expect(rows.filter((x) => x.currency === 'JPY').map((x) => x.net_minor)).toEqual([119, 119]);
    const de = rows.filter((x) => x.country === 'DE').map((x) => [x.transaction_id, x.net_minor, x.consent_ref]);
    // The two paid units take the two oldest records; the promo unit (0.00) the next one.
    expect(de).toEqual([
      ['2000000812340009', 306, 'vpc-a-0009'],
      ['2000000812340010', 306, 'vpc-a-0010'],
      ['2000000812340011', 0, 'vpc-a-0011'],
    ]);
  });

  it('the statement pages count App Store lines at their net: the finance summary per store and per currency adds up to the month', async () => {
    const { db, cli } = await freshLedger(join(S, 'purchases-2026-10.csv'), join(S, 'purchases-late.jsonl'));
    expect((await cli('ledger', 'import', 'rates', join(FIXTURES, 'ledger', 'rates.csv'))).code).toBe(0);
    expect((await cli('ledger', 'import', 'appstore', join(AS, '80012345_1026_US_JP.zip'), join(AS, '80012345_1026_EU.txt.gz'))).code).toBe(0);
    const r = await cli('payouts', 'report', '--period', '2026-10', '--format', 'html', '--out', join(db, '..', 'pages'));
    expect(r.code, r.stdout).toBe(0);
    const doc = r.json();
    const appstore = doc.stores.find((x: { store: string }) => x.store === 'appstore');
    // Every line of these reports is net-only (gross, fee and tax unknown): the store's net is theirs.
    expect(appstore.transactions).toBe(11);
    expect(appstore.netUsdMinor).toBeGreaterThan(1605);
    const sum = (list: Array<{ netUsdMinor: number }>) => list.reduce((t, x) => t + x.netUsdMinor, 0);
    expect(sum(doc.stores)).toBe(doc.totals.netMinor);
    expect(sum(doc.currencies)).toBe(doc.totals.netMinor);
    // Gross, fees and tax are unknown (null, shown "—"), not 0: only the net is a total.
    const usd = doc.currencies.find((x: { currency: string }) => x.currency === 'USD');
    expect(usd).toMatchObject({ grossMinor: null, feesMinor: null, taxMinor: null, netMinor: 1605 });
    const pages = join(db, '..', 'pages', '2026-10');
    const summary = readFileSync(join(pages, 'summary.html'), 'utf8');
    const i = doc.currencies.indexOf(usd);
    expect(summary).toContain(`<span data-json="/currencies/${i}/grossMinor" data-kind="money:USD">—</span>`);
    expect(summary).toContain(`<span data-json="/currencies/${i}/netMinor" data-kind="money:USD">$16.05</span>`);
    // A creator's statement shows an App Store line's gross, fees and tax as "—" too, as the
    // Markdown and CSV statements do.
    const ana = doc.statements.findIndex((x: { creator: string }) => x.creator === 'ana-lima');
    const line = doc.statements[ana].own.lines[0];
    expect(line).toMatchObject({ amountsUnknown: true });
    const page = readFileSync(join(pages, 'ana-lima.html'), 'utf8');
    for (const k of ['grossMinor', 'feesMinor', 'taxMinor']) expect(page).toContain(`<span data-json="/statements/${ana}/own/lines/0/${k}" data-kind="money:${line.currency}">—</span>`);
    expect(page).not.toContain(`<span data-json="/statements/${ana}/own/lines/0/netMinor" data-kind="money:${line.currency}">—</span>`);
  });

  it('reads the transaction-level layout; a return line becomes a refund of the purchase it names', async () => {
    const { db, cli } = await freshLedger(join(S, 'purchases-2026-10.csv'), join(S, 'purchases-2026-11.jsonl'));
    await cli('ledger', 'import', 'appstore', join(AS, '80012345_1026_US.txt'));
    const r = await cli('ledger', 'import', 'appstore', join(AS, '80012345_1126_transactions.txt'));
    expect(r.code, r.stdout).toBe(0);
    const nov = (await salesOf(db, 'appstore')).filter((x) => x.month === '2026-11');
    expect(nov.map((x) => [x.transaction_id, x.kind, x.net_minor, x.refund_of])).toEqual([
      ['2000000812340020', 'sale', 349, null],
      ['2000000812340022', 'sale', 245, null],
      ['2000000812340021', 'refund', 349, '2000000812340001'],
    ]);
  });

  it('holds unmatched units with --quarantine and releases them after the purchase log; CONSENT_MISSING lists the line', async () => {
    const { db, cli } = await freshLedger(join(S, 'purchases-2026-10.csv'));
    const eu = join(AS, '80012345_1026_EU.txt');
    const refused = await cli('ledger', 'import', 'appstore', eu);
    expect(refused.code).toBe(3);
    expect(refused.json().error).toMatchObject({ code: 'CONSENT_MISSING', details: { amounts: { EUR: 245 }, rows: [expect.objectContaining({ row: 4 })] } });
    expect(await countSales(db)).toBe(0);
    expect((await cli('ledger', 'import', 'appstore', eu, '--quarantine')).json()).toMatchObject({ imported: 3, held: { count: 1, amounts: { EUR: 245 } } });
    expect((await cli('ledger', 'import', 'appstore', eu, '--quarantine')).json()).toMatchObject({ imported: 0, quarantined: 0, held: { count: 1 } });
    await cli('ledger', 'import', 'purchases', join(S, 'purchases-late.jsonl'));
    expect((await cli('ledger', 'import', 'appstore', eu)).json()).toMatchObject({ imported: 1, released: 1, held: { count: 0 } });
    expect((await cli('ledger', 'import', 'appstore', eu)).json()).toMatchObject({ imported: 0, released: 0, skipped: 4 });
    expect((await holds(db)).map((h) => [h.hold_key, h.line, h.amount_minor, h.released_batch !== null])).toEqual([['line:4:unit:0', 4, 245, true]]);
  });

  it('a corrected file replaces its predecessor in an open month; in a closed month it is PERIOD_CLOSED', async () => {
    const { db, cli } = await freshLedger(join(S, 'purchases-2026-10.csv'), join(S, 'purchases-late.jsonl'));
    const us = join(AS, '80012345_1026_US.txt');
    await cli('ledger', 'import', 'appstore', us);
    // Apple re-issues the report: the forest line had 2.80 per unit, not 2.79.
    const corrected = join(rootDir(), `80012345_1026_US.txt`);
    writeFileSync(corrected, readFileSync(us, 'utf8').replace('2\t2.79\t5.58', '2\t2.80\t5.60').replace('Total_Amount\t16.05', 'Total_Amount\t16.07'));
    const r = (await cli('ledger', 'import', 'appstore', corrected)).json();
    expect(r.reports[0]).toMatchObject({ status: 'corrected', replaced: 5, imported: 5 });
    const forest = (await salesOf(db, 'appstore')).filter((x) => x.product === 'com.wondernest.pack.forest');
    expect(forest.map((x) => x.net_minor)).toEqual([280, 280]);
    expect(await countSales(db)).toBe(5);

    await cli('ledger', 'import', 'rates', join(FIXTURES, 'ledger', 'rates.csv'));
    expect((await cli('payouts', 'close', '--period', '2026-10')).code).toBe(0);
    const closed = await cli('ledger', 'import', 'appstore', us);
    expect(closed.code).toBe(4);
    expect(closed.json().error.code).toBe('PERIOD_CLOSED');
    expect((await salesOf(db, 'appstore')).filter((x) => x.product === 'com.wondernest.pack.forest').map((x) => x.net_minor)).toEqual([280, 280]);
  });
});

describe('bad store files: a code, the line, nothing written', () => {
  const bad = async (store: 'googleplay' | 'appstore', name: string, content: string | Buffer, ...extra: string[]) => {
    const { db, cli } = await freshLedger(join(S, 'purchases-2026-10.csv'));
    const file = join(rootDir(), `${++n}-${name}`);
    writeFileSync(file, content);
    const r = await cli('ledger', 'import', store, file, ...extra);
    expect(r.stderr).not.toMatch(/at .*\.js:\d+/);
    expect(await countSales(db)).toBe(0);
    return { code: r.code, error: r.json().error };
  };
  const oct = readFileSync(OCT_GP, 'utf8');
  const eu = readFileSync(join(AS, '80012345_1026_EU.txt'), 'utf8');

  it('another store\'s file or an unknown layout is REPORT_FORMAT_UNKNOWN, naming the expected headers', async () => {
    const a = await bad('googleplay', 'apple.txt', eu, ...PKG);
    expect(a).toMatchObject({ code: 3, error: { code: 'REPORT_FORMAT_UNKNOWN', hint: expect.stringContaining('Transaction Type') } });
    const g = await bad('appstore', 'google.csv', oct);
    expect(g).toMatchObject({ code: 3, error: { code: 'REPORT_FORMAT_UNKNOWN', message: expect.stringContaining('googleplay'), hint: expect.stringContaining('Extended Partner Share') } });
    const x = await bad('googleplay', 'other.csv', 'Order Number,Order Charged Date,Financial Status\nGPA.1,2026-10-01,Charged\n', ...PKG);
    expect(x.error.code).toBe('REPORT_FORMAT_UNKNOWN');
  });

  it('an App Store trailer that disagrees is REPORT_TOTALS_MISMATCH; a missing one REPORT_TRUNCATED', async () => {
    const m = await bad('appstore', 'eu.txt', eu.replace('Total_Units\t4', 'Total_Units\t5'));
    expect(m).toMatchObject({ code: 3, error: { code: 'REPORT_TOTALS_MISMATCH', details: { mismatches: [expect.objectContaining({ field: 'Total_Units', report: '5', rows: '4' })] } } });
    const t = await bad('appstore', 'eu-cut.txt', eu.slice(0, eu.indexOf('Total_Rows')));
    expect(t).toMatchObject({ code: 3, error: { code: 'REPORT_TRUNCATED', message: expect.stringContaining('line 4') } });
    const gz = gzipSync(Buffer.from(eu));
    const z = await bad('appstore', 'eu.txt.gz', gz.subarray(0, gz.length - 12));
    expect(z).toMatchObject({ code: 3, error: { code: 'REPORT_TRUNCATED' } });
  });

  it('a Google file cut short, inside a quote or inside a row, is refused with its line', async () => {
    const cutQuote = oct.slice(0, oct.indexOf('"Oct 22, 2026"') + 5);
    expect((await bad('googleplay', 'cut1.csv', cutQuote, ...PKG)).error.code).toBe('REPORT_TRUNCATED');
    const lines = oct.split('\r\n');
    const cutRow = [...lines.slice(0, 6), lines[6]!.split(',').slice(0, 9).join(',')].join('\r\n');
    const r = await bad('googleplay', 'cut2.csv', cutRow, ...PKG);
    expect(r).toMatchObject({ code: 3, error: { code: 'ROWS_INVALID', details: { rows: [expect.objectContaining({ row: 7, column: '*' })] } } });
  });

  it('unparseable dates and amounts, fractions a currency lacks, unknown transaction types: ROWS_INVALID with every line', async () => {
    const lines = oct.split('\r\n');
    lines[2] = lines[2]!.replace('"Oct 5, 2026"', '"2026-10-05"');
    lines[4] = lines[4]!.replace(',-0.56,1.080178,USD,-0.61', ',-0.56,1.080178,USD,-0.615');
    lines[5] = lines[5]!.replace(',Charge,', ',Charge rebill,');
    const g = await bad('googleplay', 'bad.csv', lines.join('\r\n'), ...PKG);
    expect(g.code).toBe(3);
    expect(g.error.code).toBe('ROWS_INVALID');
    expect(g.error.details.rows.map((r: { row: number; column: string }) => [r.row, r.column])).toEqual([
      [3, 'Transaction Date'],
      [5, 'Amount (Merchant Currency)'],
      [6, 'Transaction Type'],
    ]);
    const jp = readFileSync(join(AS, '80012345_1026_JP.txt'), 'utf8').replace('119.00\t238.00', '119.50\t239.00').replace('Total_Amount\t238', 'Total_Amount\t239');
    const a = await bad('appstore', 'jp.txt', jp);
    expect(a.error).toMatchObject({ code: 'ROWS_INVALID', details: { rows: [expect.objectContaining({ row: 2, column: 'Partner Share', message: expect.stringContaining('JPY has no minor unit') })] } });
  });

  it('a zip bomb and a zip without a report are refused', async () => {
    const { writeZip } = await import('../../src/archive/zip-writer.js');
    const zip = join(rootDir(), 'nothing.zip');
    await writeZip(zip, [{ name: 'readme.md', data: Buffer.from('hi'), method: 'deflate' }], { mtime: 1_800_000_000 });
    const { cli } = await freshLedger();
    expect((await cli('ledger', 'import', 'googleplay', zip, ...PKG)).json().error.code).toBe('REPORT_FORMAT_UNKNOWN');
    const bomb = join(rootDir(), 'bomb.zip');
    // 8 MiB of commas deflate to ~8 KiB: far past the 100:1 ratio limit (size is not the point).
    await writeZip(bomb, [{ name: 'earnings.csv', data: Buffer.alloc(8 << 20, 0x2c), method: 'deflate' }], { mtime: 1_800_000_000 });
    const r = await cli('ledger', 'import', 'googleplay', bomb, ...PKG);
    expect(r.code).toBe(3);
    expect(r.json().error.code).toBe('ZIP_BOMB');
  });
});
