// Property tests over random ledgers: the tie-out holds exactly, allocations sum to what
// they split, and grouping identical transactions changes nothing.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { computePayouts, type CollaborationDef, type EngineInput, type TxGroup } from '../../src/payouts/engine.js';
import { allocateLargestRemainder } from '../../src/shared/money.js';
import { ROADMAP } from './engine-input.js';

const CREATORS = ['ana-lima', 'bo-chen', 'caro-diaz', 'dee'];
const CURRENCIES = ['USD', 'GBP', 'JPY', 'KWD', 'EUR'];

const rateArb = fc
  .tuple(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 0, max: 9999 }))
  .map(([i, f]) => `${i}.${String(f).padStart(4, '0')}`);

const bpsArb = (n: number) =>
  fc.array(fc.integer({ min: 0, max: 10000 }), { minLength: n - 1, maxLength: n - 1 }).map((cuts) => {
    const sorted = [0, ...cuts.sort((a, b) => a - b), 10000];
    return sorted.slice(1).map((v, i) => v - sorted[i]!);
  });

export const ledgerArb = fc
  .record({
    packCount: fc.integer({ min: 1, max: 6 }),
    owners: fc.array(fc.integer({ min: 0, max: CREATORS.length }), { minLength: 6, maxLength: 6 }),
    collabSize: fc.integer({ min: 2, max: 3 }),
    collabLead: fc.integer({ min: 0, max: 2 }),
    bps: bpsArb(3),
    bundlePrices: fc.array(fc.integer({ min: 0, max: 1500 }), { minLength: 3, maxLength: 3 }),
    rates: fc.array(rateArb, { minLength: CURRENCIES.length, maxLength: CURRENCIES.length }),
    txs: fc.array(
      fc.record({
        refund: fc.boolean(),
        bundle: fc.boolean(),
        pack: fc.integer({ min: 0, max: 5 }),
        currency: fc.integer({ min: 0, max: CURRENCIES.length - 1 }),
        gross: fc.integer({ min: 0, max: 200_000 }),
        fee: fc.integer({ min: 0, max: 60_000 }),
        tax: fc.integer({ min: 0, max: 40_000 }),
        count: fc.integer({ min: 1, max: 4 }),
        completes: fc.boolean(),
      }),
      { maxLength: 25 },
    ),
    activity: fc.array(
      fc.record({ packs: fc.integer({ min: 0, max: 35 }), sum: fc.integer({ min: 0, max: 500 }), n: fc.integer({ min: 0, max: 100 }), months: fc.integer({ min: 0, max: 24 }) }),
      { minLength: CREATORS.length, maxLength: CREATORS.length },
    ),
    carried: fc.array(fc.integer({ min: -50_000, max: 50_000 }), { minLength: CREATORS.length, maxLength: CREATORS.length }),
    minimum: fc.integer({ min: 0, max: 5000 }),
  })
  .map((g): EngineInput => {
    const members = CREATORS.slice(0, g.collabSize);
    const bps = g.collabSize === 3 ? g.bps : [g.bps[0]!, 10000 - g.bps[0]!];
    const collab: CollaborationDef = { lead: members[g.collabLead % members.length]!, members: members.map((creator, i) => ({ creator, bps: bps[i]! })) };
    const packSlugs = Array.from({ length: g.packCount }, (_, i) => `pack-${i}`);
    const packs = new Map(packSlugs.map((slug, i) => [slug, { owner: g.owners[i]! === CREATORS.length ? 'team' : CREATORS[g.owners[i]!]! }]));
    const bundleItems = packSlugs.slice(0, 3).map((pack, i) => ({ pack, priceMinor: BigInt(g.bundlePrices[i]!) }));
    const transactions: TxGroup[] = g.txs.map((t) => ({
      kind: t.refund ? 'refund' : 'sale',
      product: t.bundle ? { kind: 'bundle', slug: 'bundle' } : { kind: 'pack', slug: packSlugs[t.pack % packSlugs.length]! },
      currency: CURRENCIES[t.currency]!,
      grossMinor: BigInt(t.gross),
      feeMinor: BigInt(t.fee),
      taxMinor: BigInt(t.tax),
      count: t.count,
      ...(t.refund ? { completes: t.completes } : {}),
    }));
    return {
      period: '2026-10',
      transactions,
      rates: new Map(CURRENCIES.map((c, i) => [c, g.rates[i]!])),
      bundles: new Map([['bundle', { items: bundleItems }]]),
      packs,
      collaborations: new Map([['team', collab]]),
      creators: new Map(CREATORS.map((c) => [c, { name: c }])),
      tiers: ROADMAP,
      activity: new Map(CREATORS.map((c, i) => [c, { packsPublished: g.activity[i]!.packs, ratingSum: Math.min(g.activity[i]!.sum, 5 * g.activity[i]!.n), ratingCount: g.activity[i]!.n, monthsActive: g.activity[i]!.months }])),
      carriedIn: new Map(CREATORS.map((c, i) => [c, BigInt(g.carried[i]!)] as const).filter(([, v]) => v !== 0n)),
      minimumMinor: BigInt(g.minimum),
    };
  });

const sum = (xs: Iterable<bigint>) => [...xs].reduce((s, x) => s + x, 0n);

describe('payout properties over random ledgers', () => {
  it('Σ net = Σ creator shares + Σ platform shares exactly; statements sum to the totals', () => {
    fc.assert(
      fc.property(ledgerArb, (input) => {
        const r = computePayouts(input);
        expect(r.totals.netMinor).toBe(r.totals.creatorShareMinor + r.totals.platformShareMinor);
        expect(sum(r.owners.map((o) => o.creatorShareMinor + o.platformShareMinor))).toBe(r.totals.netMinor);
        expect(sum(r.statements.map((s) => s.earningsMinor))).toBe(r.totals.creatorShareMinor);
        expect(sum(r.statements.map((s) => s.payoutMinor))).toBe(r.totals.payoutMinor);
        expect(sum(r.statements.map((s) => s.payoutMinor + s.carriedOutMinor))).toBe(
          r.totals.creatorShareMinor + r.totals.bonusMinor + sum(input.carriedIn.values()),
        );
        for (const s of r.statements) {
          expect(s.payoutMinor === 0n || s.payoutMinor >= input.minimumMinor).toBe(true);
          expect(s.payoutMinor >= 0n).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('collaboration splits sum to the collaboration share; bundle lines sum to the bundle nets', () => {
    fc.assert(
      fc.property(ledgerArb, (input) => {
        const r = computePayouts(input);
        for (const o of r.owners.filter((x) => x.ownerKind === 'collaboration')) {
          expect(sum(o.splits.map((s) => s.shareMinor))).toBe(o.creatorShareMinor);
        }
        expect(sum(r.owners.flatMap((o) => o.lines.map((l) => l.netUsdMinor)))).toBe(r.totals.netMinor);
      }),
      { numRuns: 200 },
    );
  });

  it('grouping identical transactions gives exactly the row-by-row result', () => {
    fc.assert(
      fc.property(ledgerArb, (input) => {
        const expanded = { ...input, transactions: input.transactions.flatMap((t) => Array.from({ length: t.count }, () => ({ ...t, count: 1 }))) };
        expect(computePayouts(expanded)).toEqual(computePayouts(input));
      }),
      { numRuns: 150 },
    );
  });

  it('largest remainder: shares sum to the total and each is within one unit of its exact part', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: -(10n ** 12n), max: 10n ** 12n }),
        fc.array(fc.bigInt({ min: 0n, max: 10n ** 6n }), { minLength: 1, maxLength: 8 }).filter((w) => w.some((x) => x > 0n)),
        (total, weights) => {
          const items = weights.map((weight, i) => ({ key: `k${i}`, weight }));
          const shares = allocateLargestRemainder(total, items);
          expect(sum(shares.values())).toBe(total);
          const W = sum(weights);
          items.forEach((it) => {
            const s = shares.get(it.key)!;
            const diff = s * W - total * it.weight; // (share − exact) × W
            expect(diff < W && diff > -W).toBe(true);
          });
        },
      ),
      { numRuns: 300 },
    );
  });
});
