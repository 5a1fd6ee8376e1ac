// The oracle against the payouts service in-process, over many seeded random ledgers (the
// same generator as oracle.e2e.test.ts, written straight into a SQLite ledger): every
// statement, owner, split and the tie-out, for every month open and after closing in order.
import fc from 'fast-check';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closePeriod, payoutReport } from '../../src/payouts/report.js';
import { tempDir } from '../helpers/cli.js';
import { writeLedger, type LedgerSpec } from './ledger-fixture.js';
import { MONTHS, randomScenario } from './oracle/generate.js';
import { computeUpTo, type OMonth } from './oracle/oracle.js';
import { POOL, type Scenario } from './oracle/scenario.js';

let tmp: ReturnType<typeof tempDir>;
beforeAll(() => {
  tmp = tempDir('packops-oracle-prop-');
});
afterAll(() => tmp?.cleanup());

function toSpec(s: Scenario, prices: ReadonlyArray<{ slug: string; price: number }> = POOL): LedgerSpec {
  const price = new Map(prices.map((p) => [p.slug, p.price]));
  const bundles = new Set(s.bundles.map((b) => b.slug));
  const tx = (t: Scenario['transactions'][number]) => ({
    id: t.id,
    at: t.occurredAt,
    product: bundles.has(t.product) ? `bundle:${t.product}` : t.product,
    currency: t.currency,
    gross: t.gross,
    fee: t.fee,
    tax: t.tax,
    store: t.store as 'appstore' | 'googleplay' | 'web',
    ...(t.refundOf ? { refundOf: t.refundOf } : {}),
  });
  return {
    creators: s.creators,
    collaborations: s.collaborations.map((c) => ({
      id: c.id,
      lead: c.lead,
      members: Object.fromEntries(c.members.map((m) => [m.creator, Math.round(Number(m.percent.replace('.', '')))])),
    })),
    packs: s.packs.map((p) => ({ slug: p.slug, owner: p.owner, price: price.get(p.slug)!, publishedAt: new Date(p.publishedAt).toISOString() })),
    bundles: s.bundles.map((b) => ({ slug: b.slug, items: Object.fromEntries(b.items.map((i) => [i.pack, i.priceMinor])) })),
    sales: s.transactions.filter((t) => t.kind === 'sale').map(tx),
    refunds: s.transactions.filter((t) => t.kind === 'refund').map(tx),
    reviews: s.reviews.map((r) => ({ pack: r.pack, rating: r.rating, at: r.reviewedAt })),
    rates: s.rates.map((r) => [r.currency, r.month, r.usdPerUnit] as [string, string, string]),
  };
}

const n = (x: bigint) => Number(x);
const expected = (m: OMonth) => ({
  statements: m.statements.map((s) => [s.creator, s.tier, s.figures.units, n(s.earnings), n(s.bonus), n(s.carriedIn), n(s.payout), n(s.carriedOut)]),
  owners: m.owners.map((o) => [o.owner, n(o.net), n(o.share), o.splits.map((x) => [x.creator, n(x.share)]).sort()]),
  tie: [n(m.totals.net), n(m.totals.creatorShare), n(m.totals.platformShare), n(m.totals.bonus)],
});
const actual = (r: Awaited<ReturnType<typeof payoutReport>>) => ({
  statements: r.statements.map((s) => [s.creator, s.tier, s.figures.units, s.earningsMinor, s.bonusMinor, s.carriedInMinor, s.payoutMinor, s.carriedOutMinor]),
  owners: r.owners.map((o) => [o.owner, o.netMinor, o.creatorShareMinor, o.splits.map((x) => [x.creator, x.shareMinor]).sort()]),
  tie: [r.tieOut.netMinor, r.tieOut.creatorShareMinor, r.tieOut.platformShareMinor, r.tieOut.bonusMinor],
});

describe('payouts service = oracle over random ledgers', () => {
  it('every month, open and closed in order, to the cent', async () => {
    let k = 0;
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 1_000_000 }), fc.constantFrom(0n, 1000n, 2500n), async (seed, minimumMinor) => {
        const s = randomScenario(seed);
        const input = { ...s, minimumMinor };
        const ledger = await writeLedger(join(tmp.dir, `l-${k++}.db`), toSpec(s));
        try {
          for (const m of MONTHS) {
            expect(actual(await payoutReport(ledger.db, m, { minimumMinor })), `seed ${seed} ${m} open`).toEqual(expected(computeUpTo(input, m)));
          }
          const frozen = new Map<string, Map<string, bigint>>();
          for (const m of MONTHS.slice(0, 2)) {
            const closed = await closePeriod(ledger.db, m, { minimumMinor });
            const want = computeUpTo(input, m, frozen);
            expect(actual(closed), `seed ${seed} close ${m}`).toEqual(expected(want));
            frozen.set(m, new Map(want.statements.map((x) => [x.creator, x.carriedOut])));
          }
          const last = MONTHS[MONTHS.length - 1]!;
          expect(actual(await payoutReport(ledger.db, last, { minimumMinor })), `seed ${seed} ${last} after closes`).toEqual(expected(computeUpTo(input, last, frozen)));
        } finally {
          await ledger.close();
        }
      }),
      { numRuns: 30, seed: 20261126 },
    );
  }, 120_000);
});

describe('payouts service = oracle at the top tiers', () => {
  it('a creator crossing Silver → Gold → Platinum, with each bonus at its threshold', async () => {
    // 32 packs: 2 alone, 30 through a collaboration of three (lead zoe); published from
    // September 2025 (so 12 months active by August 2026), the last 16 only in October 2026.
    const packs = Array.from({ length: 32 }, (_, i) => ({ slug: `p-${String(i).padStart(2, '0')}`, price: 199 + 50 * (i % 7) }));
    const owner = (i: number) => (i < 2 ? 'zoe' : 'trio');
    const published = (i: number) => (i < 16 ? '2025-09-15T00:00:00Z' : '2026-10-20T00:00:00Z');
    const tx: Scenario['transactions'] = [];
    const sell = (month: string, k: number, slug: (j: number) => string) => {
      for (let j = 0; j < k; j++) tx.push({ store: 'web', id: `${month}-${j}`, kind: 'sale', occurredAt: `${month}-${String(1 + (j % 28)).padStart(2, '0')}T10:00:00Z`, product: slug(j), currency: j % 3 ? 'USD' : 'JPY', gross: j % 3 ? 499 : 750, fee: 100, tax: 7 });
    };
    sell('2026-08', 100, (j) => packs[j % 16]!.slug); // 16 packs: Gold needs 15; 100 units: Silver bonus only
    sell('2026-09', 250, (j) => packs[j % 16]!.slug); // Gold, bonus at exactly 250
    sell('2026-10', 500, (j) => packs[j % 32]!.slug); // 32 packs by October's end: Platinum at exactly 500
    const reviews = packs.flatMap((p, i) => [5, 5, 5, i % 4 === 0 ? 4 : 5].map((rating, r) => ({ pack: p.slug, rating, reviewedAt: `2026-0${r < 2 ? 7 : 8}-10T00:00:00Z` })));
    const s: Scenario = {
      creators: ['zoe', 'yan', 'xia'],
      collaborations: [{ id: 'trio', lead: 'zoe', members: [{ creator: 'zoe', percent: '50.00' }, { creator: 'yan', percent: '33.34' }, { creator: 'xia', percent: '16.66' }] }],
      packs: packs.map((p, i) => ({ slug: p.slug, owner: owner(i), publishedAt: published(i) })),
      bundles: [],
      transactions: tx,
      reviews,
      rates: ['2026-08', '2026-09', '2026-10'].map((month, i) => ({ currency: 'JPY', month, usdPerUnit: ['0.0067', '0.00675', '0.0068'][i]! })),
    };
    const ledger = await writeLedger(join(tmp.dir, 'top.db'), toSpec(s, packs));
    try {
      const tiers: Array<string | null> = [];
      for (const m of ['2026-08', '2026-09', '2026-10']) {
        const got = await payoutReport(ledger.db, m, { minimumMinor: 1000n });
        const want = computeUpTo(s, m);
        expect(actual(got), m).toEqual(expected(want));
        tiers.push(got.statements.find((x) => x.creator === 'zoe')!.tier);
        expect(got.statements.find((x) => x.creator === 'zoe')!.bonusMinor).toBe([5000, 15000, 50000][tiers.length - 1]);
      }
      expect(tiers).toEqual(['Silver', 'Gold', 'Platinum']);
    } finally {
      await ledger.close();
    }
  });
});
