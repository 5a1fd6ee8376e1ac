/**
 * App Store return lines through the built CLI (§15 "Return lines match refund records the
 * same way", §7 refunds need no consent and never exceed their sale): a return of a unit
 * sold in the same report, chunk or earlier file of one import; a return whose sale is held
 * stays held and is released with it, once; all returns of a sale together never exceed its
 * net (ROW_REFUND_EXCEEDS with the line); a second App Store refund record of one sale in
 * the purchase log is refused. The per-region files are written byte for byte as Apple
 * writes them (fixtures/stores/appstore): tab-separated, padded cells, the trailer.
 * Runs on SQLite and, with PACKOPS_TEST_PG, on PostgreSQL.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importFile } from '../../src/ledger/import/index.js';
import { runCli, tempDir } from '../helpers/cli.js';
import { ledgerAt, rawQuery } from '../helpers/ledgers.js';
import { seedLedger } from '../ledger/seed.js';

let tmp: ReturnType<typeof tempDir>;
beforeAll(() => {
  tmp = tempDir('packops-appstore-returns-');
});
afterAll(() => tmp.cleanup());

const T = '\t';
const HEADER = [
  'Start Date', 'End Date', 'UPC', 'ISRC/ISBN', 'Vendor Identifier', 'Quantity', 'Partner Share', 'Extended Partner Share', 'Partner Share Currency',
  'Sales or Return', 'Apple Identifier', 'Artist/Show/Developer/Author', 'Title', 'Label/Studio/Network/Developer/Publisher', 'Grid',
  'Product Type Identifier', 'ISAN/Other Identifier', 'Country Of Sale', 'Pre-order Flag', 'Promo Code', 'Customer Price', 'Customer Currency',
].join(T);

/** Apple's fiscal months of these tests (start, end; MM/DD/YYYY). */
const SEP: [string, string] = ['08/30/2026', '09/26/2026'];
const OCT: [string, string] = ['09/27/2026', '10/31/2026'];
const NOV: [string, string] = ['11/01/2026', '11/28/2026'];

interface Line {
  qty: number;
  /** Partner share per unit, in cents (always positive, as Apple writes it). */
  share: number;
  price?: string;
}

const money = (cents: number) => `${cents < 0 ? '-' : ''}${Math.floor(Math.abs(cents) / 100)}.${String(Math.abs(cents) % 100).padStart(2, '0')}`;

/** A per-region US report of Ocean Creatures lines, with the trailer Apple writes (Total_Units: sale lines only). */
function report(name: string, period: [string, string], lines: Line[]): string {
  const rows = lines.map((l) =>
    [
      period[0], period[1], ' ', '', 'com.wondernest.pack.ocean', String(l.qty), money(l.share), money(l.qty * l.share), 'USD', l.qty < 0 ? 'R' : 'S',
      '6470012301', 'WonderNest Ltd', 'Ocean Creatures', ' ', '', 'IA1', ' ', 'US', ' ', ' ', l.price ?? (l.qty < 0 ? '-4.99' : '4.99'), 'USD',
    ].join(T),
  );
  const total = lines.reduce((a, l) => a + l.qty * l.share, 0);
  const units = lines.reduce((a, l) => a + (l.qty > 0 ? l.qty : 0), 0);
  const file = join(tmp.dir, name);
  writeFileSync(file, `${[HEADER, ...rows, `Total_Rows${T}${lines.length}`, `Total_Amount${T}${money(total)}`, `Total_Units${T}${units}`].join('\n')}\n`);
  return file;
}

const LOG_HEADER = 'store,transaction_id,kind,occurred_at,product,country,consent_ref,family_ref,refund_of';
type Rec = [id: string, kind: 'sale' | 'refund', at: string, refundOf?: string];
function log(name: string, recs: Rec[], store = 'appstore', product = 'com.wondernest.pack.ocean'): string {
  const file = join(tmp.dir, name);
  const rows = recs.map(([id, kind, at, of]) => `${store},${id},${kind},${at},${product},US,${kind === 'sale' ? `vpc-${id}` : ''},fam-1,${of ?? ''}`);
  writeFileSync(file, `${[LOG_HEADER, ...rows].join('\n')}\n`);
  return file;
}

let n = 0;
/** A seeded ledger (SQLite file or PostgreSQL database) with the given purchase logs imported in this process (setup). */
async function fresh(...logs: string[]) {
  const db = await ledgerAt(tmp.dir, `r${++n}.db`);
  const ledger = await seedLedger(db);
  try {
    for (const f of logs) await importFile(ledger, 'purchases', f);
  } finally {
    await ledger.close();
  }
  return { db, cli: (...args: string[]) => runCli(['--db', db, '--json', ...args]) };
}

const sales = (db: string) =>
  rawQuery<{ transaction_id: string; kind: string; net_minor: number; refund_of: string | null; month: string }>(
    db, "SELECT transaction_id, kind, net_minor, refund_of, month FROM sales WHERE store = 'appstore' ORDER BY kind DESC, transaction_id",
  );
const quarantine = (db: string) =>
  rawQuery<{ code: string; hold_key: string; amount_minor: number; released: number }>(
    db, "SELECT code, hold_key, amount_minor, CASE WHEN released_batch IS NULL THEN 0 ELSE 1 END AS released FROM quarantine WHERE kind = 'appstore' ORDER BY code, hold_key",
  );

const SALE = '3000000000000001';

describe('App Store return lines (finding 6: a return of a unit sold in the same import)', () => {
  it('a report with a sale and its own return imports both, whichever line comes first; nothing is held; again changes nothing', async () => {
    const { db, cli } = await fresh(log('a.csv', [[SALE, 'sale', '2026-10-05T18:00:00Z'], ['3000000000000002', 'refund', '2026-10-06T18:00:00Z', SALE]]));
    // The return line before the sale line: the import checks sale lines first.
    const file = report('81_1026_US.txt', OCT, [{ qty: -1, share: 349 }, { qty: 1, share: 349 }]);
    const r = await cli('ledger', 'import', 'appstore', file);
    expect(r.code, r.stdout).toBe(0);
    expect(r.json()).toMatchObject({ imported: 2, quarantined: 0, held: { count: 0 } });
    expect(r.json().reports[0].totals).toMatchObject({ report: { USD: 0 }, ledger: { USD: 0 } });
    expect(await sales(db)).toEqual([
      { transaction_id: SALE, kind: 'sale', net_minor: 349, refund_of: null, month: '2026-10' },
      { transaction_id: '3000000000000002', kind: 'refund', net_minor: 349, refund_of: SALE, month: '2026-10' },
    ]);
    const again = await cli('ledger', 'import', 'appstore', file, '--quarantine');
    expect(again.json()).toMatchObject({ imported: 0, skipped: 2, quarantined: 0, held: { count: 0 } });
    expect(await quarantine(db)).toEqual([]);
  });

  it('a return in a later file of the same import call refunds a sale of an earlier file', async () => {
    const { db, cli } = await fresh(log('b.csv', [[SALE, 'sale', '2026-10-05T18:00:00Z'], ['3000000000000002', 'refund', '2026-11-06T18:00:00Z', SALE]]));
    const oct = report('82_1026_US.txt', OCT, [{ qty: 1, share: 349 }]);
    const nov = report('82_1126_US.txt', NOV, [{ qty: -1, share: 349 }]);
    const r = await cli('ledger', 'import', 'appstore', oct, nov);
    expect(r.code, r.stdout).toBe(0);
    expect(r.json()).toMatchObject({ imported: 2, held: { count: 0 } });
    expect((await sales(db)).map((s) => [s.kind, s.net_minor, s.refund_of, s.month])).toEqual([['sale', 349, null, '2026-10'], ['refund', 349, SALE, '2026-11']]);
  });

  it('a return whose sale is in an earlier chunk of the same report (1,000 units a chunk) is matched', async () => {
    const recs: Rec[] = Array.from({ length: 1000 }, (_, i) => [String(3100000000000000 + i), 'sale', `2026-10-0${1 + (i % 9)}T12:00:00Z`] as Rec);
    recs.push(['3199999999999999', 'refund', '2026-10-20T12:00:00Z', '3100000000000000']);
    const { db, cli } = await fresh(log('c.csv', recs));
    const file = report('83_1026_US.txt', OCT, [{ qty: -1, share: 349 }, { qty: 1000, share: 349 }]);
    const r = await cli('ledger', 'import', 'appstore', file);
    expect(r.code, r.stdout).toBe(0);
    expect(r.json()).toMatchObject({ imported: 1001, held: { count: 0 } });
    expect((await sales(db)).filter((s) => s.kind === 'refund')).toEqual([
      { transaction_id: '3199999999999999', kind: 'refund', net_minor: 349, refund_of: '3100000000000000', month: '2026-10' },
    ]);
  });

  it('a return whose sale is held for want of consent stays held (both lines listed, in line order), and is released with its sale, once', async () => {
    // The sale record is dated 09/20 (Apple's September): October's sale line has no record, so it is held,
    // and the return of that sale is held with it.
    const { db, cli } = await fresh(log('d.csv', [[SALE, 'sale', '2026-09-20T18:00:00Z'], ['3000000000000002', 'refund', '2026-10-06T18:00:00Z', SALE]]));
    const oct = report('84_1026_US.txt', OCT, [{ qty: -1, share: 349 }, { qty: 1, share: 349 }]);
    const refused = await cli('ledger', 'import', 'appstore', oct);
    expect(refused.code).toBe(3);
    const err = refused.json().error;
    expect(err.code).toBe('CONSENT_MISSING');
    expect(err.details.rows.map((x: { row: number; code: string }) => [x.row, x.code])).toEqual([[2, 'CONSENT_MISSING'], [3, 'CONSENT_MISSING']]);
    expect(err.details.rows[0].message).toContain('refund sales that are not in the ledger or earlier in this import');
    expect(await sales(db)).toEqual([]);

    const held = await cli('ledger', 'import', 'appstore', oct, '--quarantine');
    expect(held.code, held.stdout).toBe(0);
    expect(held.json()).toMatchObject({ imported: 0, held: { count: 2, amounts: { USD: 0 } } });
    expect(await quarantine(db)).toEqual([
      { code: 'CONSENT_MISSING', hold_key: 'line:2:unit:0', amount_minor: -349, released: 0 },
      { code: 'CONSENT_MISSING', hold_key: 'line:3:unit:0', amount_minor: 349, released: 0 },
    ]);
    // September's report brings the sale; October again releases the return (its sale line stays held).
    expect((await cli('ledger', 'import', 'appstore', report('84_0926_US.txt', SEP, [{ qty: 1, share: 349 }]))).json()).toMatchObject({ imported: 1 });
    const released = await cli('ledger', 'import', 'appstore', oct, '--quarantine');
    expect(released.json()).toMatchObject({ imported: 1, released: 1, held: { count: 1, amounts: { USD: 349 } } });
    expect((await cli('ledger', 'import', 'appstore', oct, '--quarantine')).json()).toMatchObject({ imported: 0, released: 0, quarantined: 0, held: { count: 1 } });
    expect((await sales(db)).map((s) => [s.transaction_id, s.kind, s.month])).toEqual([[SALE, 'sale', '2026-09'], ['3000000000000002', 'refund', '2026-10']]);
    expect((await quarantine(db)).map((q) => [q.hold_key, q.released])).toEqual([['line:2:unit:0', 1], ['line:3:unit:0', 0]]);
  });
});

describe('App Store refunds never exceed their sale (finding 3)', () => {
  it('the purchase log refuses a second App Store refund record of one sale (in the file or already in the log); Google\'s may have several', async () => {
    const { db, cli } = await fresh();
    const two = log('e.csv', [[SALE, 'sale', '2026-10-05T18:00:00Z'], ['3000000000000002', 'refund', '2026-11-06T18:00:00Z', SALE], ['3000000000000003', 'refund', '2026-11-07T18:00:00Z', SALE]]);
    const r = await cli('ledger', 'import', 'purchases', two);
    expect(r.code).toBe(3);
    expect(r.json().error.details.rows).toEqual([
      { row: 4, column: 'refund_of', code: 'ROW_REFUND_EXCEEDS', message: `App Store sale ${SALE} already has a refund record (row 3); Apple refunds a transaction whole, once.` },
    ]);
    expect(await rawQuery(db, 'SELECT transaction_id FROM purchases')).toEqual([]);
    expect((await cli('ledger', 'import', 'purchases', two, '--quarantine')).json()).toMatchObject({ imported: 2, quarantined: 1 });
    // Again: the records in the log are skipped, the second refund is refused naming the one in the log.
    const later = log('e2.csv', [['3000000000000003', 'refund', '2026-11-07T18:00:00Z', SALE]]);
    const again = await cli('ledger', 'import', 'purchases', later);
    expect(again.code).toBe(3);
    expect(again.json().error.details.rows[0]).toMatchObject({ row: 2, code: 'ROW_REFUND_EXCEEDS', message: expect.stringContaining('3000000000000002 in the purchase log') });
    const google = log('e3.csv', [['GPA.1-1', 'sale', '2026-10-05T18:00:00Z'], ['GPA.1-2', 'refund', '2026-11-06T18:00:00Z', 'GPA.1-1'], ['GPA.1-3', 'refund', '2026-11-07T18:00:00Z', 'GPA.1-1']], 'googleplay', 'pack_ocean');
    expect((await cli('ledger', 'import', 'purchases', google)).json()).toMatchObject({ imported: 3 });
  });

  it('two returns of one sale (a log from before that rule): the second is ROW_REFUND_EXCEEDS with its line; --quarantine keeps it out', async () => {
    const { db, cli } = await fresh(log('f.csv', [[SALE, 'sale', '2026-10-05T18:00:00Z'], ['3000000000000002', 'refund', '2026-11-06T18:00:00Z', SALE]]));
    // A second refund record of the sale, as a purchase log imported before the rule left it.
    await rawQuery(db, "INSERT INTO purchases (store, transaction_id, kind, occurred_at, product, country, consent_ref, family_hmac, refund_of, batch_id) VALUES ('appstore', '3000000000000003', 'refund', '2026-11-07T18:00:00Z', 'com.wondernest.pack.ocean', 'US', NULL, 'h', ?, 'old')", [SALE]);
    expect((await cli('ledger', 'import', 'appstore', report('85_1026_US.txt', OCT, [{ qty: 1, share: 349 }]))).json()).toMatchObject({ imported: 1 });
    const nov = report('85_1126_US.txt', NOV, [{ qty: 1, share: 100 }, { qty: -2, share: 349 }]);
    const r = await cli('ledger', 'import', 'appstore', nov);
    expect(r.code).toBe(3);
    expect(r.json().error).toMatchObject({ code: 'ROWS_INVALID' });
    expect(r.json().error.details.rows).toEqual([
      { row: 2, column: 'consent', code: 'CONSENT_MISSING', message: expect.stringContaining('no purchase record') },
      { row: 3, column: 'Extended Partner Share', code: 'ROW_REFUND_EXCEEDS', message: `Refunds of ${SALE} would reach 698 USD minor units of net; the sale had 349 (349 already refunded).` },
    ]);
    expect((await sales(db)).length).toBe(1);
    const q = await cli('ledger', 'import', 'appstore', nov, '--quarantine');
    expect(q.code, q.stdout).toBe(0);
    expect(q.json()).toMatchObject({ imported: 1, quarantined: 2 });
    expect((await sales(db)).map((s) => [s.transaction_id, s.kind, s.net_minor])).toEqual([[SALE, 'sale', 349], ['3000000000000002', 'refund', 349]]);
    expect((await quarantine(db)).map((x) => [x.code, x.hold_key, x.amount_minor])).toEqual([
      ['CONSENT_MISSING', 'line:2:unit:0', 100],
      ['ROW_REFUND_EXCEEDS', 'line:3:unit:1', -349],
    ]);
  });

  it('a return worth more than its sale\'s net is refused, whether the sale is in the ledger or in the same report', async () => {
    const recs: Rec[] = [[SALE, 'sale', '2026-10-05T18:00:00Z'], ['3000000000000002', 'refund', '2026-10-06T18:00:00Z', SALE]];
    const same = await fresh(log('g.csv', recs));
    const r = await same.cli('ledger', 'import', 'appstore', report('86_1026_US.txt', OCT, [{ qty: 1, share: 349 }, { qty: -1, share: 399 }]));
    expect(r.code).toBe(3);
    expect(r.json().error.details.rows).toEqual([
      { row: 3, column: 'Extended Partner Share', code: 'ROW_REFUND_EXCEEDS', message: `Refunds of ${SALE} would reach 399 USD minor units of net; the sale had 349.` },
    ]);
    expect(await sales(same.db)).toEqual([]);

    const later = await fresh(log('h.csv', [recs[0]!, ['3000000000000002', 'refund', '2026-11-06T18:00:00Z', SALE]]));
    expect((await later.cli('ledger', 'import', 'appstore', report('87_1026_US.txt', OCT, [{ qty: 1, share: 349 }]))).code).toBe(0);
    const over = await later.cli('ledger', 'import', 'appstore', report('87_1126_US.txt', NOV, [{ qty: -1, share: 350 }]));
    expect(over.code).toBe(3);
    expect(over.json().error.details.rows[0]).toMatchObject({ row: 2, code: 'ROW_REFUND_EXCEEDS' });
    // Exactly the sale's net is fine.
    const exact = await later.cli('ledger', 'import', 'appstore', report('88_1126_US.txt', NOV, [{ qty: -1, share: 349 }]));
    expect(exact.code, exact.stdout).toBe(0);
    expect((await sales(later.db)).map((s) => [s.kind, s.net_minor])).toEqual([['sale', 349], ['refund', 349]]);
  });
});
