/**
 * Grouping an earnings report in bounded memory (src/ledger/import/googleplay-groups.ts):
 * whatever the row order and however small the in-memory window, the transactions that
 * come out are exactly those of grouping the whole file at once with `addRow`.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openLedger, type Ledger } from '../../src/ledger/db.js';
import { OrderGroups } from '../../src/ledger/import/googleplay-groups.js';
import { addRow, checkTx, type GoogleRow, type GoogleRowType, type GoogleTx } from '../../src/stores/googleplay.js';

const TYPES: GoogleRowType[] = ['charge', 'fee', 'tax', 'chargeRefund', 'feeRefund', 'taxRefund'];

const rowArb = fc.record({
  order: fc.integer({ min: 0, max: 12 }),
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
      order: `GPA.${g.order}`,
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

/** What grouping in memory gives: per kind, in first-line order, with each one's problem. */
function expected(rows: GoogleRow[], kind: 'sale' | 'refund'): Array<GoogleTx & { check?: string }> {
  const txs = new Map<string, GoogleTx>();
  for (const r of rows) addRow(txs, { ...r });
  return [...txs.values()].filter((t) => t.kind === kind).map((t) => normal(t));
}

function normal(t: GoogleTx): GoogleTx & { check?: string } {
  const { mismatch: _m, ...rest } = t;
  return { ...rest, check: checkTx(t) };
}

describe('OrderGroups', () => {
  let ledger: Ledger;
  beforeAll(async () => {
    ledger = await openLedger(':memory:');
  });
  afterAll(async () => {
    await ledger.close();
  });

  it('gives the transactions of grouping the whole file at once, for any order and window', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(rowArb, { minLength: 0, maxLength: 80 }), fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 5 }), async (gen, limit, page) => {
        const rows = toRows(gen);
        await ledger.db.transaction().execute(async (trx) => {
          const groups = new OrderGroups(trx, limit);
          for (const r of rows) if (groups.add({ ...r })) await groups.spill();
          const all = new Map<string, GoogleTx>();
          for (const r of rows) addRow(all, { ...r });
          expect(await groups.count()).toBe(all.size);
          for (const kind of ['sale', 'refund'] as const) {
            const got: Array<GoogleTx & { check?: string }> = [];
            for await (const chunk of groups.chunks(kind, page)) {
              expect(chunk.length).toBeLessThanOrEqual(page);
              got.push(...chunk.map(normal));
            }
            expect(got).toEqual(expected(rows, kind));
          }
          await groups.drop();
        });
      }),
      { numRuns: 150 },
    );
  });

  it('keeps no more than its window in memory: a report larger than it goes through the staging table', async () => {
    const rows = toRows(Array.from({ length: 50 }, (_, i) => ({ order: i, type: 'charge' as const, minute: 0, currency: 'USD', sku: 'pack_ocean', country: 'US', amount: 100, ms: i })));
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
      const firstLines: number[] = [];
      for await (const chunk of groups.chunks('sale', 7)) firstLines.push(...chunk.map((t) => t.firstLine));
      expect(firstLines).toEqual(rows.map((r) => r.line));
      await groups.drop();
    });
  });
});
