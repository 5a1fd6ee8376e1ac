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

function toSpec(s: Scenario): LedgerSpec {
  const price = new Map(POOL.map((p) => [p.slug, p.price]));
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
