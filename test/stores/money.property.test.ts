/**
 * Property: every cent of a Google Play earnings report ends up in exactly one place — a
 * ledger transaction, the held (consent missing) amount, or the skipped rows of other apps —
 * whatever the orders, refunds, row order and purchase records. Checked against the
 * ledger's own rows, not only the import's summary.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { importFiles } from '../../src/ledger/import/index.js';
import { seedLedger } from '../ledger/seed.js';

const HEADER =
  'Description,Transaction Date,Transaction Time,Tax Type,Transaction Type,Refund Type,Product Title,Product id,Product Type,Sku Id,Hardware,Buyer Country,Buyer State,Buyer Postal Code,Buyer Currency,Amount (Buyer Currency),Currency Conversion Rate,Merchant Currency,Amount (Merchant Currency)';

const money = (minor: number): string => `${minor < 0 ? '-' : ''}${Math.floor(Math.abs(minor) / 100)}.${String(Math.abs(minor) % 100).padStart(2, '0')}`;

interface Order {
  charge: number;
  feePct: number;
  taxPct: number;
  sku: 'pack_ocean' | 'pack_forest' | 'pack_counting';
  day: number;
  consented: boolean;
  refund: null | { pct: number; day: number };
  otherApp: boolean;
}

const order = fc.record<Order>({
  charge: fc.integer({ min: 0, max: 9999 }),
  feePct: fc.integer({ min: 0, max: 30 }),
  taxPct: fc.integer({ min: 0, max: 20 }),
  sku: fc.constantFrom('pack_ocean', 'pack_forest', 'pack_counting'),
  day: fc.integer({ min: 1, max: 20 }),
  consented: fc.boolean(),
  refund: fc.option(fc.record({ pct: fc.integer({ min: 1, max: 100 }), day: fc.integer({ min: 21, max: 30 }) }), { nil: null }),
  otherApp: fc.boolean(),
});

function report(orders: Order[], order: number[]): { csv: string; purchases: string; total: number; other: number } {
  const rows: string[][] = [];
  let total = 0;
  let other = 0;
  const purchases = ['store,transaction_id,kind,occurred_at,product,country,consent_ref,family_ref,refund_of'];
  orders.forEach((o, i) => {
    const id = `GPA.9000-0000-0000-${String(i).padStart(5, '0')}`;
    const pkg = o.otherApp ? 'com.example.other' : 'com.wondernest.app';
    const fee = -Math.floor((o.charge * o.feePct) / 100);
    const tax = -Math.floor((o.charge * o.taxPct) / 100);
    const line = (type: string, amount: number, day: number, refundType = ''): string[] => [
      id, `"Oct ${day}, 2026"`, '10:00:00 AM PDT', '', type, refundType, 'Pack', pkg, '1', o.sku, 'x', 'US', '', '', 'USD', money(amount), '1.000000', 'USD', money(amount),
    ];
    const mine = [line('Charge', o.charge, o.day), ...(fee ? [line('Google fee', fee, o.day)] : []), ...(tax ? [line('Tax', tax, o.day)] : [])];
    let sum = o.charge + fee + tax;
    if (o.refund) {
      const back = Math.floor((o.charge * o.refund.pct) / 100);
      const feeBack = Math.floor((-fee * o.refund.pct) / 100);
      mine.push(line('Charge refund', -back, o.refund.day, o.refund.pct === 100 ? 'Full' : 'Partial'));
      if (feeBack) mine.push(line('Google fee refund', feeBack, o.refund.day, 'Partial'));
      sum += -back + feeBack;
    }
    rows.push(...mine);
    total += sum;
    if (o.otherApp) other += sum;
    if (o.consented) purchases.push(`googleplay,${id},sale,2026-10-${String(o.day).padStart(2, '0')}T16:59:59Z,${o.sku},US,vpc-${i},fam-${i},`);
  });
  // Rows of one order need not be adjacent: shuffle them by the generated permutation.
  const shuffled = rows.map((r, i) => ({ r, k: order[i % order.length]! * 1000 + i })).sort((a, b) => a.k - b.k).map((x) => x.r.join(','));
  return { csv: [HEADER, ...shuffled].join('\n') + '\n', purchases: purchases.join('\n') + '\n', total, other };
}

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('every cent of an earnings report is accounted for', () => {
  it('ledger transactions + held + other apps = the report, per currency, from the ledger itself', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(order, { minLength: 1, maxLength: 14 }), fc.array(fc.nat(50), { minLength: 1, maxLength: 40 }), async (orders, perm) => {
        const dir = mkdtempSync(join(tmpdir(), 'packops-cents-'));
        dirs.push(dir);
        const { csv, purchases, total, other } = report(orders, perm);
        writeFileSync(join(dir, 'earnings.csv'), csv);
        writeFileSync(join(dir, 'purchases.csv'), purchases);
        const ledger = await seedLedger(join(dir, 'l.db'));
        try {
          await importFiles(ledger, 'purchases', [join(dir, 'purchases.csv')]);
          const r = await importFiles(ledger, 'googleplay', [join(dir, 'earnings.csv')], { quarantine: true, package: 'com.wondernest.app' });
          const sales = await ledger.db.selectFrom('sales').select(['kind', 'gross_minor', 'store_fee_minor', 'tax_minor']).where('store', '=', 'googleplay').execute();
          const inLedger = sales.reduce((s, x) => s + (x.kind === 'refund' ? -1 : 1) * (x.gross_minor! - x.store_fee_minor! - x.tax_minor!), 0);
          const held = (await ledger.db.selectFrom('quarantine').select('amount_minor').where('code', '=', 'CONSENT_MISSING').where('released_batch', 'is', null).execute()).reduce((s, x) => s + x.amount_minor!, 0);
          expect(inLedger + held + other).toBe(total);
          const extra = r.extra as { held: { amounts: Record<string, number> }; otherApps: { amounts: Record<string, number> }; reports: Array<{ totals: { report: Record<string, number>; ledger: Record<string, number> } }> };
          expect(extra.reports[0]!.totals.report.USD ?? 0).toBe(total);
          expect(extra.reports[0]!.totals.ledger.USD ?? 0).toBe(inLedger);
          expect(extra.held.amounts.USD ?? 0).toBe(held);
          expect(extra.otherApps.amounts.USD ?? 0).toBe(other);
          // Nothing unconsented reached the ledger as a sale.
          const unconsented = await ledger.db.selectFrom('sales').select('transaction_id').where('store', '=', 'googleplay').where('kind', '=', 'sale').where('consent_ref', 'is', null).execute();
          expect(unconsented).toEqual([]);
        } finally {
          await ledger.close();
        }
      }),
      { numRuns: 25, seed: 20261101 },
    );
  });
});
