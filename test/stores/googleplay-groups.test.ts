/**
 * Grouping an earnings report in bounded memory (src/ledger/import/googleplay-groups.ts over
 * the compact window of src/stores/googleplay-window.ts): whatever the row order and however
 * small the in-memory window, the transactions that come out are exactly those of the
 * plainest grouping of the whole file at once (`reference` below: one object per
 * transaction in a Map, the form the window replaced).
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openLedger, type Ledger } from '../../src/ledger/db.js';
import { OrderGroups } from '../../src/ledger/import/googleplay-groups.js';
import { checkTx, mismatchOf, refundTxid, type GoogleRow, type GoogleRowType, type GoogleTx } from '../../src/stores/googleplay.js';
import { TxWindow } from '../../src/stores/googleplay-window.js';

const TYPES: GoogleRowType[] = ['charge', 'fee', 'tax', 'chargeRefund', 'feeRefund', 'taxRefund'];

/** Grouping every row at once, one object per transaction: what the window must give. */
function reference(rows: readonly GoogleRow[]): GoogleTx[] {
  const txs = new Map<string, GoogleTx>();
  for (const row of rows) {
    const refund = row.type === 'chargeRefund' || row.type === 'feeRefund' || row.type === 'taxRefund';
    const txid = refund ? refundTxid(row.order, row.ms) : row.order;
    let tx = txs.get(txid);
    if (!tx) {
      tx = {
        txid, kind: refund ? 'refund' : 'sale', order: row.order, ms: row.ms, sku: row.sku, country: row.country, currency: row.currency,
        gross: 0, fee: 0, tax: 0, net: 0, firstLine: row.line, rows: 0, hasCharge: false, mismatch: undefined,
      };
      txs.set(txid, tx);
    }
    tx.rows++;
    tx.net += row.amount;
    tx.mismatch ??= mismatchOf(tx.currency, tx.sku, tx.country, row.line, row);
    if (row.type === 'charge') {
      if (!tx.hasCharge || row.ms < tx.ms) tx.ms = row.ms;
      tx.hasCharge = true;
      tx.gross += row.amount;
    } else if (row.type === 'fee') tx.fee -= row.amount;
    else if (row.type === 'tax') tx.tax -= row.amount;
    else if (row.type === 'chargeRefund') {
      tx.hasCharge = true;
      tx.gross -= row.amount;
    } else if (row.type === 'feeRefund') tx.fee += row.amount;
    else tx.tax += row.amount;
  }
  return [...txs.values()];
}

// Ids with characters beyond Latin-1 and a surrogate pair (kept code unit for code unit), a renewal, and one containing "/refund/".
const ORDERS = ['GPA.0', 'GPA.1', 'GPA.2..1', 'GPA.3', 'GPA.é4', 'GPA.😀5', 'GPA.7/refund/x', 'GPA.3300-0000-0001-00001', 'G', 'GPA.10', 'GPA.11', 'GPA.12'];

const rowArb = fc.record({
  order: fc.integer({ min: 0, max: ORDERS.length - 1 }),
  type: fc.constantFrom(...TYPES),
  // Refund rows of one order at two times: two refund transactions.
  minute: fc.integer({ min: 0, max: 1 }),
  // Mostly agreeing rows, sometimes another currency, product or country (a problem).
  currency: fc.constantFrom('USD', 'USD', 'USD', 'EUR'),
  sku: fc.constantFrom('pack_ocean', 'pack_ocean', 'pack_ocean', 'pack_forest'),
  country: fc.constantFrom('US', 'US', 'US', 'DE'),
  amount: fc.integer({ min: -2000, max: 2000 }),
  ms: fc.integer({ min: 0, max: 10_000 }),
});

type Generated = typeof rowArb extends fc.Arbitrary<infer T> ? T : never;

function toRows(gen: Generated[]): GoogleRow[] {
  return gen.map((g, i) => {
    const refund = g.type === 'chargeRefund' || g.type === 'feeRefund' || g.type === 'taxRefund';
    return {
      line: i + 2,
      order: ORDERS[g.order]!,
      // A refund's rows share a time; a sale's rows may differ (the earliest Charge dates it).
      ms: Date.UTC(2026, 9, 1) + (refund ? g.minute * 60_000 : g.ms),
      type: g.type,
      pkg: 'com.wondernest.app',
      sku: g.sku,
      country: g.country,
      currency: g.currency,
      amount: g.amount,
      pacificMonth: '2026-10',
    };
  });
}

/** Code unit by code unit, a shorter id first (JavaScript's `<` on strings). */
const byId = (a: { txid: string }, b: { txid: string }) => (a.txid < b.txid ? -1 : a.txid > b.txid ? 1 : 0);

/**
 * Per kind, with each one's problem (which names its mismatch): sales in id order (the
 * ledger's key order; for these ids SQLite's byte order is the same), refunds in first-line
 * order.
 */
function expected(rows: GoogleRow[], kind: 'sale' | 'refund'): Array<GoogleTx & { check?: string }> {
  const txs = reference(rows).filter((t) => t.kind === kind);
  if (kind === 'sale') txs.sort(byId);
  return txs.map((t) => normal(t));
}

function normal(t: GoogleTx): GoogleTx & { check?: string } {
  return { ...t, check: checkTx(t) };
}

async function grouped(groups: OrderGroups, kind: 'sale' | 'refund', page: number): Promise<Array<GoogleTx & { check?: string }>> {
  const got: Array<GoogleTx & { check?: string }> = [];
  for await (const chunk of groups.chunks(kind, page)) {
    expect(chunk.length).toBeLessThanOrEqual(page);
    got.push(...chunk.map(normal));
  }
  return got;
}

describe('OrderGroups', () => {
  let ledger: Ledger;
  beforeAll(async () => {
    ledger = await openLedger(':memory:');
  });
  afterAll(async () => {
    await ledger.close();
  });

  it('gives the transactions of grouping the whole file at once, for any order and window (spilled or not)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(rowArb, { minLength: 0, maxLength: 80 }), fc.integer({ min: 1, max: 100 }), fc.integer({ min: 1, max: 5 }), async (gen, limit, page) => {
        const rows = toRows(gen);
        await ledger.db.transaction().execute(async (trx) => {
          const groups = new OrderGroups(trx, limit);
          for (const r of rows) if (groups.add({ ...r })) await groups.spill();
          expect(await groups.count()).toBe(reference(rows).length);
          for (const kind of ['sale', 'refund'] as const) expect(await grouped(groups, kind, page)).toEqual(expected(rows, kind));
          await groups.drop();
        });
      }),
      { numRuns: 200 },
    );
  });

  it('keeps no more than its window in memory: a report larger than it goes through the staging table', async () => {
    const rows = toRows(Array.from({ length: 50 }, (_, i) => ({ order: i % ORDERS.length, type: 'charge' as const, minute: 0, currency: 'USD', sku: 'pack_ocean', country: 'US', amount: 100, ms: i })));
    for (const r of rows) r.order = `GPA.${r.line}`;
    await ledger.db.transaction().execute(async (trx) => {
      const groups = new OrderGroups(trx, 10);
      let spills = 0;
      for (const r of rows) {
        if (groups.add(r)) {
          spills++;
          await groups.spill();
        }
      }
      expect(spills).toBe(5);
      expect(await groups.count()).toBe(50);
      const ids: string[] = [];
      for await (const chunk of groups.chunks('sale', 7)) ids.push(...chunk.map((t) => t.txid));
      expect(ids).toEqual(rows.map((r) => r.order).sort());
      await groups.drop();
    });
  });

  it('grows past its first allocation and table: 12,000 orders in random order, as grouped at once', async () => {
    // Every order 2–4 rows, rows shuffled (a deterministic generator), some refunds, a few mismatches.
    let seed = 12345;
    const next = (n: number) => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed % n;
    };
    const rows: GoogleRow[] = [];
    for (let o = 0; o < 12_000; o++) {
      const order = `GPA.${3300 + (o % 7)}-${o}`;
      const base = { pkg: 'com.wondernest.app', sku: 'pack_ocean', country: 'US', currency: 'USD', pacificMonth: '2026-10', order };
      rows.push({ ...base, line: 0, ms: 1_000_000 + o, type: 'charge', amount: 100 + (o % 500) });
      rows.push({ ...base, line: 0, ms: 1_000_000 + o, type: 'fee', amount: -15, ...(o % 997 === 0 ? { country: 'DE' } : {}) });
      if (o % 3 === 0) rows.push({ ...base, line: 0, ms: 1_000_000 + o, type: 'tax', amount: -7 });
      if (o % 50 === 1) rows.push({ ...base, line: 0, ms: 2_000_000 + o * 1000, type: 'chargeRefund', amount: -50 });
    }
    for (let i = rows.length - 1; i > 0; i--) {
      const j = next(i + 1);
      [rows[i], rows[j]] = [rows[j]!, rows[i]!];
    }
    rows.forEach((r, i) => (r.line = i + 2));
    const window = new TxWindow(1_000_000);
    for (const r of rows) window.add(r);
    expect(window.full).toBe(false);
    const got = Array.from({ length: window.size }, (_, slot) => window.tx(slot));
    expect(got).toEqual(reference(rows));
    expect(Array.from(window.slotsInIdOrder(false), (slot) => window.tx(slot).txid)).toEqual(got.filter((t) => t.kind === 'sale').map((t) => t.txid).sort());
    // The same through the groups, spilling every 3,000 transactions.
    await ledger.db.transaction().execute(async (trx) => {
      const groups = new OrderGroups(trx, 3_000);
      for (const r of rows) if (groups.add(r)) await groups.spill();
      for (const kind of ['sale', 'refund'] as const) expect(await grouped(groups, kind, 1000)).toEqual(expected(rows, kind));
      await groups.drop();
    });
  });

  it('gives the slots of each kind in id order, for any ids (shared prefixes, ids that are prefixes of others, characters past Latin-1, ties in the sort key)', () => {
    // Few characters, so ids share long prefixes and tie in the first units; ÿ (U+00FF) and
    // U+FFFD are past the byte the sort key gives a unit; 😀 is a surrogate pair.
    const char = fc.constantFrom('G', 'P', 'A', '.', '0', '1', '9', '-', 'é', 'ÿ', '\ufffd', '😀');
    const id = fc.array(char, { minLength: 1, maxLength: 12 }).map((c) => c.join(''));
    fc.assert(
      fc.property(fc.uniqueArray(fc.tuple(id, fc.boolean()), { selector: ([i, r]) => `${i}${r}`, maxLength: 60 }), fc.constantFrom('', 'GPA.', 'GPA.3300-'), (ids, prefix) => {
        const window = new TxWindow(1000);
        ids.forEach(([i, refund], n) => {
          const base = { line: n + 2, order: prefix + i, ms: 60_000 * n, pkg: 'p', sku: 's', country: 'US', currency: 'USD', pacificMonth: '2026-10' };
          window.add(refund ? { ...base, type: 'chargeRefund', amount: -1 } : { ...base, type: 'charge', amount: 1 });
        });
        for (const refunds of [false, true]) {
          const want = Array.from({ length: window.size }, (_, slot) => window.tx(slot)).filter((t) => (t.kind === 'refund') === refunds).sort(byId).map((t) => t.txid);
          expect(Array.from(window.slotsInIdOrder(refunds), (slot) => window.tx(slot).txid)).toEqual(want);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('is full at its character limit too (long ids spill sooner)', () => {
    const window = new TxWindow(1000, 100);
    const row: GoogleRow = { line: 2, order: 'x'.repeat(60), ms: 0, type: 'charge', pkg: 'p', sku: 's', country: 'US', currency: 'USD', amount: 1, pacificMonth: '2026-10' };
    window.add(row);
    expect(window.full).toBe(false);
    window.add({ ...row, line: 3, order: 'y'.repeat(60) });
    expect(window.full).toBe(true);
    window.clear();
    expect(window.size).toBe(0);
    expect(window.full).toBe(false);
    window.add({ ...row, order: 'z' });
    expect(window.tx(0)).toMatchObject({ txid: 'z', order: 'z', firstLine: 2, rows: 1, gross: 1, hasCharge: true });
  });

  it('still holds every transaction when a caller adds past its limit without emptying it', () => {
    const rows = toRows(Array.from({ length: 5000 }, (_, i) => ({ order: i % ORDERS.length, type: 'charge' as const, minute: 0, currency: 'USD', sku: 'pack_ocean', country: 'US', amount: 100, ms: i })));
    rows.forEach((r, i) => (r.order = `${ORDERS[i % ORDERS.length]}-${i % 4500}`));
    const window = new TxWindow(3);
    for (const r of rows) window.add(r);
    expect(window.full).toBe(true);
    expect(Array.from({ length: window.size }, (_, slot) => window.tx(slot))).toEqual(reference(rows));
  });
});
