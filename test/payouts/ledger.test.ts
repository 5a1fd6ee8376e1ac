// The loader, report, tiers and close against a real SQLite ledger (the ledger's schema
// and migrations), with the STORY month-end worked out by hand below.
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Ledger } from '../../src/ledger/db.js';
import { closePeriod, creatorTiers, payoutReport, type PayoutReport } from '../../src/payouts/report.js';
import { isPackopsError } from '../../src/shared/errors.js';
import { tempDir } from '../helpers/cli.js';
import { ledgerAt } from '../helpers/ledgers.js';
import { addToLedger, STORY, writeLedger, type SaleSpec } from './ledger-fixture.js';

const MIN = { minimumMinor: 1000n };
const stmt = (r: PayoutReport, id: string) => r.statements.find((s) => s.creator === id)!;
const owner = (r: PayoutReport, id: string) => r.owners.find((o) => o.owner === id)!;

async function expectCode(p: Promise<unknown>, code: string, exit: number): Promise<void> {
  try {
    await p;
    expect.unreachable(`expected ${code}`);
  } catch (err) {
    expect(isPackopsError(err) ? `${err.code}/${err.exitCode}` : String(err)).toBe(`${code}/${exit}`);
  }
}

let tmp: ReturnType<typeof tempDir>;
let ledger: Ledger;
beforeEach(async () => {
  tmp = tempDir('packops-payouts-');
  ledger = await writeLedger(await ledgerAt(tmp.dir, 'ledger.db'), STORY);
});
afterEach(async () => {
  await ledger.close();
  tmp.cleanup();
});

describe('September, by hand', () => {
  it('converts, splits the bundle and shares per owner', async () => {
    const r = await payoutReport(ledger.db, '2026-09', MIN);
    // forest 279; ocean GBP 239p × 1.25 = 298.75 → 299; bundle 699 → ocean 291, forest 233, counting 175
    // (699 × 399/1197 is exactly 233; the left-over cent goes to counting's remainder 723 over ocean's 474).
    expect(r.totals.netMinor).toBe(1277);
    expect(owner(r, 'ana-lima').netMinor).toBe(512);
    expect(owner(r, 'ana-lima').creatorShareMinor).toBe(358); // 358.4
    expect(owner(r, 'bo-chen').creatorShareMinor).toBe(122); // 122.5 → even
    expect(owner(r, 'ocean-team').creatorShareMinor).toBe(413); // 590 × 70% = 413
    expect(owner(r, 'ocean-team').splits.map((s) => s.shareMinor)).toEqual([206, 124, 83]); // 206.5, 123.9, 82.6
    expect(r.statements.map((s) => [s.creator, s.carriedOutMinor])).toEqual([
      ['ana-lima', 564],
      ['bo-chen', 246],
      ['caro-diaz', 83],
    ]);
    expect(r.provisional).toBe(false);
  });
});

describe('October, by hand', () => {
  it('reports provisionally while September is open', async () => {
    const r = await payoutReport(ledger.db, '2026-10', MIN);
    expect(r.status).toBe('open');
    expect(r.provisional).toBe(true);
    expect(r.provisionalMonths).toEqual(['2026-09']);
    // 349 + JPY 525 × 0.0067 = 351.75 → 352 + GBP bundle 479p × 1.2710 = 608.809 → 609 + 209 + 279
    // − 70 (partial refund) − 699 (bundle refund, split 291/233/175 and negated) = 1029.
    expect(r.totals.netMinor).toBe(1029);
    expect(owner(r, 'ana-lima').netMinor).toBe(249); // 203 + 279 − 233
    expect(owner(r, 'ocean-team').netMinor).toBe(664); // 349 + 352 + 254 − 291
    expect(owner(r, 'bo-chen').netMinor).toBe(116); // 152 + 209 − 70 − 175
    expect(owner(r, 'ocean-team').creatorShareMinor).toBe(465); // 464.8
    // 232.5 / 139.5 / 93: the one cent left ties ana-lima and bo-chen at .5; ana-lima sorts first.
    expect(owner(r, 'ocean-team').splits.map((s) => s.shareMinor)).toEqual([233, 139, 93]);
    expect(r.tieOut).toEqual({ ok: true, netMinor: 1029, creatorShareMinor: 720, platformShareMinor: 309, bonusMinor: 0 });
    expect(stmt(r, 'ana-lima')).toMatchObject({ earningsMinor: 407, carriedInMinor: 564, balanceMinor: 971, payoutMinor: 0, carriedOutMinor: 971 });
    expect(stmt(r, 'bo-chen')).toMatchObject({ earningsMinor: 220, carriedInMinor: 246, carriedOutMinor: 466 });
    expect(stmt(r, 'caro-diaz')).toMatchObject({ earningsMinor: 93, carriedInMinor: 83, carriedOutMinor: 176 });
  });

  it('pays balances at or above the minimum', async () => {
    const r = await payoutReport(ledger.db, '2026-10', { minimumMinor: 400n });
    // September at 400: ana 564 paid, bo 246 and caro 83 carried.
    expect(stmt(r, 'ana-lima')).toMatchObject({ carriedInMinor: 0, balanceMinor: 407, payoutMinor: 407, carriedOutMinor: 0 });
    expect(stmt(r, 'bo-chen')).toMatchObject({ balanceMinor: 466, payoutMinor: 466 });
    expect(stmt(r, 'caro-diaz')).toMatchObject({ balanceMinor: 176, payoutMinor: 0, carriedOutMinor: 176 });
  });

  it('tier figures as of the month end', async () => {
    const t = await creatorTiers(ledger.db, '2026-10');
    const ana = t.creators.find((c) => c.creator === 'ana-lima')!;
    // forest and ocean published by Oct 31 (winter-wonders on Nov 20 is not); reviews 5 and 4
    // (the 23:59:59 one counts, the Nov 1 00:00 one does not); May → October = 6 months;
    // units: forest +1 +1 −1 (bundle refund), ocean +1 +1 +1 −1 = 3.
    expect(ana.figures).toEqual({ packsPublished: 2, averageRating: '4.50', ratingCount: 2, units: 3, monthsActive: 6 });
    expect(ana.tier).toBeNull();
    expect(ana.sharePercent).toBe('70.00');
    expect(ana.next).toEqual({ tier: 'Bronze', unmet: [{ minimum: 'units', required: '10', actual: '3' }] });
    const bo = t.creators.find((c) => c.creator === 'bo-chen')!;
    // counting: bundle +1, sale +1, partial refund 0, bundle refund −1; ocean 2.
    expect(bo.figures).toEqual({ packsPublished: 2, averageRating: '4.00', ratingCount: 1, units: 3, monthsActive: 5 });
    expect(t.tiers.map((x) => x.name)).toEqual(['Bronze', 'Silver', 'Gold', 'Platinum']);
  });

  it('a refund that completes an earlier partial refund counts as a unit in its month', async () => {
    await addToLedger(ledger, { refunds: [{ id: 'r-11-1', at: '2026-11-03T00:00:00Z', product: 'counting-garden', gross: 199, fee: 60, refundOf: 's-10-4' }] });
    const t = await creatorTiers(ledger.db, '2026-11');
    expect(t.creators.find((c) => c.creator === 'bo-chen')!.figures.units).toBe(-1);
  });

  it('a missing rate is FX_RATE_MISSING (exit 3)', async () => {
    await addToLedger(ledger, { sales: [{ id: 's-10-eur', at: '2026-10-05T00:00:00Z', product: 'forest-scenes', currency: 'EUR', gross: 399 }] });
    await expectCode(payoutReport(ledger.db, '2026-10', MIN), 'FX_RATE_MISSING', 3);
  });
});

describe('close', () => {
  it('closes in order, refuses twice, and a closed month never changes', async () => {
    await expectCode(closePeriod(ledger.db, '2026-10', MIN), 'PERIOD_ORDER', 4);
    const sepPreview = await payoutReport(ledger.db, '2026-09', MIN);
    const sep = await closePeriod(ledger.db, '2026-09', { ...MIN, now: () => new Date('2026-10-05T00:00:00Z') });
    expect(sep.status).toBe('closed');
    expect(sep.closedAt).toBe('2026-10-05T00:00:00.000Z');
    expect({ ...sep, status: 'open', closedAt: null }).toEqual(sepPreview);
    await expectCode(closePeriod(ledger.db, '2026-09', MIN), 'PERIOD_CLOSED', 4);

    const octPreview = await payoutReport(ledger.db, '2026-10', MIN);
    expect(octPreview.provisional).toBe(false);
    expect(stmt(octPreview, 'ana-lima').carriedInMinor).toBe(564);
    const oct = await closePeriod(ledger.db, '2026-10', MIN);
    expect(oct.statements).toEqual(octPreview.statements);
    await expectCode(closePeriod(ledger.db, '2026-08', MIN), 'PERIOD_ORDER', 4);

    // Later data — even rows slipped into the closed month behind the importer's back, and a
    // changed rate — leave the closed report exactly as stored.
    await addToLedger(ledger, {
      sales: [
        { id: 'late-10', at: '2026-10-30T00:00:00Z', product: 'forest-scenes', gross: 100_000 },
        { id: 's-11-1', at: '2026-11-02T00:00:00Z', product: 'forest-scenes', gross: 399, fee: 120 },
      ],
    });
    await ledger.db.updateTable('fx_rates').set({ usd_per_unit: '9' }).where('month', '=', '2026-10').execute();
    expect(await payoutReport(ledger.db, '2026-10', MIN)).toEqual(oct);
    // November carries October's stored balances.
    const nov = await payoutReport(ledger.db, '2026-11', MIN);
    expect(nov.provisional).toBe(false);
    expect(stmt(nov, 'ana-lima').carriedInMinor).toBe(971);
    expect(stmt(nov, 'caro-diaz')).toMatchObject({ earningsMinor: 0, carriedInMinor: 176, carriedOutMinor: 176 });
  });

  it('refuses a month whose statements name a creator the ledger does not know', async () => {
    await addToLedger(ledger, {
      packs: [{ slug: 'stray', owner: 'nobody-known', price: 100, publishedAt: '2026-01-01T00:00:00Z' }],
      sales: [{ id: 'stray-1', at: '2026-08-01T00:00:00Z', product: 'stray', gross: 100 }],
    });
    await expectCode(closePeriod(ledger.db, '2026-08', MIN), 'CREATOR_UNKNOWN', 3);
    expect(await ledger.db.selectFrom('closed_periods').selectAll().execute()).toEqual([]);
  });
});

describe('property: a closed month reports the same numbers forever', () => {
  it('holds for random later activity', async () => {
    await closePeriod(ledger.db, '2026-09', MIN);
    const closed = await closePeriod(ledger.db, '2026-10', MIN);
    let n = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            day: fc.integer({ min: 1, max: 28 }),
            month: fc.constantFrom('2026-10', '2026-11', '2026-12'),
            product: fc.constantFrom('forest-scenes', 'ocean-creatures', 'counting-garden', 'bundle:starter'),
            gross: fc.integer({ min: 0, max: 5000 }),
          }),
          { maxLength: 8 },
        ),
        async (rows) => {
          const sales: SaleSpec[] = rows.map((r) => ({
            id: `p-${n++}`,
            at: `${r.month}-${String(r.day).padStart(2, '0')}T12:00:00Z`,
            product: r.product,
            gross: r.gross,
          }));
          await addToLedger(ledger, { sales });
          expect(await payoutReport(ledger.db, '2026-10', MIN)).toEqual(closed);
        },
      ),
      { numRuns: 15 },
    );
  });
});
