// Hand-worked examples for every §9 rule. Each rounding rule has a case where the naive
// method (sum then round, round each share, half-up) lands a cent away from the right one.
import { describe, expect, it } from 'vitest';
import { applyPercent, computePayouts, convertToUsdCents, type EngineResult } from '../../src/payouts/engine.js';
import { isPackopsError } from '../../src/shared/errors.js';
import { parseDecimal } from '../../src/shared/money.js';
import { BRONZE_ACTIVITY, input, refund, sale } from './engine-input.js';

const rate = (t: string) => parseDecimal(t)!;
const stmt = (r: EngineResult, id: string) => r.statements.find((s) => s.creator === id)!;
const owner = (r: EngineResult, id: string) => r.owners.find((o) => o.owner === id)!;

describe('§9.1 conversion: once per transaction, half to even, ISO exponent', () => {
  it('converts each transaction before summing (naive sum-then-convert differs by a cent)', () => {
    // Two GBP transactions of net 1p at 1.5 USD/GBP: 1.5 → 2 cents each → 4 cents.
    // Summing first: 2p × 1.5 = 3 cents.
    const r = computePayouts(input({ transactions: [sale('p1', 'GBP', 1, 0, 0, 2)], packs: { p1: 'ana' }, rates: { GBP: '1.5' } }));
    expect(r.totals.netMinor).toBe(4n);
    expect(owner(r, 'ana').lines[0]!.netUsdMinor).toBe(4n);
  });

  it('rounds half to even, not half up', () => {
    expect(convertToUsdCents(5n, 'GBP', rate('0.5'))).toBe(2n); // 2.5 → 2 (half-up: 3)
    expect(convertToUsdCents(7n, 'GBP', rate('0.5'))).toBe(4n); // 3.5 → 4
    expect(convertToUsdCents(-5n, 'GBP', rate('0.5'))).toBe(-2n);
  });

  it('uses ISO 4217 exponents: JPY has none, KWD three', () => {
    // 750 JPY × 0.0067 USD/JPY × 100 = 502.5 cents → 502 (half-up 503; "÷100 as cents" would give 5).
    expect(convertToUsdCents(750n, 'JPY', rate('0.0067'))).toBe(502n);
    // 1.300 KWD (1300 fils) × 3.25 × 100 / 1000 = 422.5 → 422 (treating fils as cents: 4225).
    expect(convertToUsdCents(1300n, 'KWD', rate('3.25'))).toBe(422n);
    const r = computePayouts(
      input({
        transactions: [sale('p1', 'JPY', 750, 0, 0, 1), sale('p1', 'KWD', 1300, 0, 0, 1), sale('p1', 'USD', 499, 150, 0, 1)],
        packs: { p1: 'ana' },
        rates: { JPY: '0.0067', KWD: '3.25' },
      }),
    );
    expect(r.totals.netMinor).toBe(502n + 422n + 349n);
  });

  it('net = gross − fee − tax, and a refund counts as the negative of its net in its own month', () => {
    const r = computePayouts(
      input({
        transactions: [sale('p1', 'GBP', 449, 135, 75), refund('p1', 'GBP', 449, 135, 75)],
        packs: { p1: 'ana' },
        rates: { GBP: '1.2710' },
      }),
    );
    // 239p × 1.2710 = 303.769 → 304; refund −304.
    const line = owner(r, 'ana').lines[0]!;
    expect(line.netMinor).toBe(0n);
    expect(line.netUsdMinor).toBe(0n);
    expect(line.sales).toBe(1);
    expect(line.refunds).toBe(1);
    expect(convertToUsdCents(239n, 'GBP', rate('1.2710'))).toBe(304n);
  });

  it('a missing rate is FX_RATE_MISSING naming the currency and month (exit 3)', () => {
    try {
      computePayouts(input({ transactions: [sale('p1', 'EUR', 100)], packs: { p1: 'ana' } }));
      expect.unreachable();
    } catch (err) {
      expect(isPackopsError(err) && err.code).toBe('FX_RATE_MISSING');
      expect(isPackopsError(err) && err.exitCode).toBe(3);
      expect((err as Error).message).toMatch(/EUR.*2026-10/);
    }
  });
});

describe('§9.3 bundles: largest remainder over stored item prices', () => {
  const bundles = { trio: { 'a-pack': 499, 'b-pack': 399, 'c-pack': 299 } };
  const packs = { 'a-pack': 'ana', 'b-pack': 'bo', 'c-pack': 'caro' };

  it('splits a bundle of three uneven prices (rounding each share would pay 12 cents out of 11)', () => {
    // 11 × 499/1197 = 4.586, 11 × 399/1197 = 3.667, 11 × 299/1197 = 2.748: floors 4+3+2 = 9;
    // the 2 cents left go to the largest remainders, c (0.748) and b (0.667): 4, 4, 3.
    const r = computePayouts(input({ transactions: [sale('bundle:trio', 'USD', 11)], packs, bundles }));
    expect(owner(r, 'ana').netMinor).toBe(4n);
    expect(owner(r, 'bo').netMinor).toBe(4n);
    expect(owner(r, 'caro').netMinor).toBe(3n);
    expect(owner(r, 'ana').lines[0]!.bundle).toBe('trio');
  });

  it('a bundle refund splits |net| as a sale would and negates (floor of negatives would differ)', () => {
    const r = computePayouts(input({ transactions: [refund('bundle:trio', 'USD', 11)], packs, bundles }));
    expect([owner(r, 'ana').netMinor, owner(r, 'bo').netMinor, owner(r, 'caro').netMinor]).toEqual([-4n, -4n, -3n]);
  });

  it('ties go to the slug that sorts first in code-point order', () => {
    const r = computePayouts(
      input({ transactions: [sale('bundle:eq', 'USD', 2)], packs: { gamma: 'g', alpha: 'a', beta: 'b' }, bundles: { eq: { gamma: 1, beta: 1, alpha: 1 } } }),
    );
    expect([owner(r, 'a').netMinor, owner(r, 'b').netMinor]).toEqual([1n, 1n]);
    expect(r.owners.find((o) => o.owner === 'g')?.netMinor ?? 0n).toBe(0n);
  });

  it('counts one unit for each pack of a bundle', () => {
    const r = computePayouts(input({ transactions: [sale('bundle:trio', 'USD', 1000, 0, 0, 3)], packs: { ...packs, 'c-pack': 'ana' }, bundles }));
    expect(stmt(r, 'ana').figures.units).toBe(6);
    expect(stmt(r, 'bo').figures.units).toBe(3);
  });
});

describe('§9.6 creator share: once per owner per month, half to even', () => {
  it('rounds the share of owner_net, not of each pack line', () => {
    // Two packs of 1 cent each at 72.50%: per line 0.725 → 1 + 1 = 2; per owner 2 × 0.725 = 1.45 → 1.
    const silver = { packsPublished: 5, ratingSum: 42, ratingCount: 10, monthsActive: 3 };
    const r = computePayouts(
      input({
        transactions: [sale('p1', 'USD', 1, 0, 0, 1), sale('p2', 'USD', 1, 0, 0, 1), sale('p3', 'USD', 0, 0, 0, 48)],
        packs: { p1: 'ana', p2: 'ana', p3: 'ana' },
        activity: { ana: silver },
      }),
    );
    expect(stmt(r, 'ana').tier).toBe('Silver');
    expect(owner(r, 'ana').creatorShareMinor).toBe(1n);
    expect(owner(r, 'ana').platformShareMinor).toBe(1n);
  });

  it('applies percentages exactly (72.50 is no float) and rounds half to even', () => {
    expect(applyPercent(6n, '75.00')).toBe(4n); // 4.5 → 4 (half-up: 5)
    expect(applyPercent(2n, '75.00')).toBe(2n); // 1.5 → 2
    expect(applyPercent(1000n, '72.50')).toBe(725n);
    expect(applyPercent(-6n, '75.00')).toBe(-4n);
  });
});

describe('§9.6 collaborations', () => {
  const collaborations = {
    'ocean-team': {
      lead: 'ana-lima',
      members: [
        { creator: 'ana-lima', bps: 5000 },
        { creator: 'bo-chen', bps: 3000 },
        { creator: 'caro-diaz', bps: 2000 },
      ],
    },
  };

  it('splits among three members by largest remainder (naive rounding loses the indivisible cent)', () => {
    // owner_net 1430 at Bronze 70% = 1001; 50/30/20 → 500.5, 300.3, 200.2: floors 1000,
    // the cent goes to ana-lima (0.5). Rounding each half-even: 500 + 300 + 200 = 1000.
    const r = computePayouts(
      input({ transactions: [sale('ocean', 'USD', 1430)], packs: { ocean: 'ocean-team' }, collaborations, activity: { 'ana-lima': BRONZE_ACTIVITY } }),
    );
    const o = owner(r, 'ocean-team');
    expect(o.creatorShareMinor).toBe(1001n);
    expect(o.splits.map((s) => [s.creator, s.shareMinor])).toEqual([
      ['ana-lima', 501n],
      ['bo-chen', 300n],
      ['caro-diaz', 200n],
    ]);
    expect(stmt(r, 'bo-chen').collaborations[0]!.memberShareMinor).toBe(300n);
    expect(stmt(r, 'bo-chen').earningsMinor).toBe(300n);
  });

  it('uses the lead creator’s tier, and splits a negative share like a positive one, negated', () => {
    const r = computePayouts(
      input({ transactions: [refund('ocean', 'USD', 1430)], packs: { ocean: 'ocean-team' }, collaborations, activity: { 'ana-lima': BRONZE_ACTIVITY } }),
    );
    const o = owner(r, 'ocean-team');
    expect(o.tierOf).toBe('ana-lima');
    expect(o.creatorShareMinor).toBe(-1001n);
    expect(o.splits.map((s) => s.shareMinor)).toEqual([-501n, -300n, -200n]);
  });

  it('ties go to the creator id that sorts first', () => {
    const r = computePayouts(
      input({
        transactions: [sale('duo-pack', 'USD', 1)],
        packs: { 'duo-pack': 'duo' },
        collaborations: { duo: { lead: 'zed', members: [{ creator: 'zed', bps: 5000 }, { creator: 'amy', bps: 5000 }] } },
        tiers: [{ name: 'Flat', minPacks: 0, minRating: '0', minUnits: 0, minMonths: 0, sharePercent: '100.00', bonusThreshold: null, bonusMinor: null }],
        activity: { zed: BRONZE_ACTIVITY },
      }),
    );
    expect(owner(r, 'duo').splits).toEqual([
      { creator: 'amy', sharePercent: '50.00', shareMinor: 1n },
      { creator: 'zed', sharePercent: '50.00', shareMinor: 0n },
    ]);
  });
});

describe('§9.5 and §9.7 tiers and bonuses', () => {
  const goldFigures = { packsPublished: 15, ratingSum: 45, ratingCount: 10, monthsActive: 6 };

  it('a creator crossing from Silver to Gold', () => {
    const month = (units: number) =>
      computePayouts(input({ transactions: [sale('p1', 'USD', 100, 0, 0, units)], packs: { p1: 'ana' }, activity: { ana: goldFigures } }));
    const september = month(149);
    expect(stmt(september, 'ana').tier).toBe('Silver');
    expect(stmt(september, 'ana').sharePercent).toBe('72.50');
    expect(stmt(september, 'ana').bonusMinor).toBe(5000n); // Silver bonus at 100 units
    const october = month(150);
    expect(stmt(october, 'ana').tier).toBe('Gold');
    expect(owner(october, 'ana').creatorShareMinor).toBe(11250n); // 15000 × 75%
    expect(stmt(october, 'ana').bonusMinor).toBe(0n); // Gold's bonus needs 250 units
  });

  it('the average rating is exact: 4.49 < 4.50 even where a float might round up', () => {
    const figures = { ...goldFigures, ratingSum: 449, ratingCount: 100 };
    const r = computePayouts(input({ transactions: [sale('p1', 'USD', 100, 0, 0, 300)], packs: { p1: 'ana' }, activity: { ana: figures } }));
    expect(stmt(r, 'ana').tier).toBe('Silver');
    expect(r.tiers.find((t) => t.creator === 'ana')!.next).toEqual({
      tier: 'Gold',
      unmet: [{ minimum: 'rating', required: '4.50', actual: '4.49' }],
    });
  });

  it('no tier: tier null, the lowest tier’s share, no bonus; no reviews meets no rating minimum', () => {
    const r = computePayouts(
      input({
        transactions: [sale('p1', 'USD', 1000, 0, 0, 200)],
        packs: { p1: 'ana' },
        activity: { ana: { packsPublished: 20, ratingSum: 0, ratingCount: 0, monthsActive: 12 } },
      }),
    );
    expect(stmt(r, 'ana').tier).toBeNull();
    expect(stmt(r, 'ana').sharePercent).toBe('70.00');
    expect(stmt(r, 'ana').bonusMinor).toBe(0n);
    expect(r.tiers[0]!.next!.unmet.map((u) => u.minimum)).toEqual(['rating']);
  });

  it('a partial refund counts as a unit only when it completes its sale; units can go negative', () => {
    const r = computePayouts(
      input({
        transactions: [refund('p1', 'USD', 100, 0, 0, 3, true), refund('p1', 'USD', 50, 0, 0, 2, false)],
        packs: { p1: 'ana' },
      }),
    );
    expect(stmt(r, 'ana').figures.units).toBe(-3);
  });
});

describe('§9.8 balances', () => {
  it('a refund after a bonus month, and the negative balance carried forward', () => {
    const silver = { packsPublished: 5, ratingSum: 44, ratingCount: 10, monthsActive: 4 };
    // September: 100 units of 100 cents at Silver: share 7250 + bonus 5000 = 12250 paid.
    const sep = computePayouts(input({ period: '2026-09', transactions: [sale('p1', 'USD', 100, 0, 0, 100)], packs: { p1: 'ana' }, activity: { ana: silver } }));
    expect(stmt(sep, 'ana').bonusMinor).toBe(5000n);
    expect(stmt(sep, 'ana').payoutMinor).toBe(12250n);
    expect(stmt(sep, 'ana').carriedOutMinor).toBe(0n);
    // October: 40 of those sales refunded, nothing sold: units −40 → no tier (Bronze needs 10).
    const oct = computePayouts(
      input({ transactions: [refund('p1', 'USD', 100, 0, 0, 40)], packs: { p1: 'ana' }, activity: { ana: silver }, carriedIn: {} }),
    );
    const s = stmt(oct, 'ana');
    expect(s.tier).toBeNull();
    expect(s.earningsMinor).toBe(-2800n); // −4000 × 70%
    expect(s.bonusMinor).toBe(0n);
    expect(s.payoutMinor).toBe(0n);
    expect(s.carriedOutMinor).toBe(-2800n);
    // November: 50 sales (share 70% of 5000 = 3500) less the −2800 carried: 700 < 1000, carried.
    const nov = computePayouts(
      input({ period: '2026-11', transactions: [sale('p1', 'USD', 100, 0, 0, 50)], packs: { p1: 'ana' }, activity: { ana: BRONZE_ACTIVITY }, carriedIn: { ana: -2800 } }),
    );
    expect(stmt(nov, 'ana').carriedInMinor).toBe(-2800n);
    expect(stmt(nov, 'ana').balanceMinor).toBe(700n);
    expect(stmt(nov, 'ana').carriedOutMinor).toBe(700n);
  });

  it('pays at exactly the minimum, carries one cent below it; a balance alone still gets a statement', () => {
    const at = (cents: number) =>
      computePayouts(input({ transactions: [sale('p1', 'USD', cents)], packs: { p1: 'ana' }, tiers: [{ name: 'All', minPacks: 0, minRating: '0', minUnits: 0, minMonths: 0, sharePercent: '100.00', bonusThreshold: null, bonusMinor: null }], activity: { ana: BRONZE_ACTIVITY } }));
    expect(stmt(at(1000), 'ana').payoutMinor).toBe(1000n);
    expect(stmt(at(999), 'ana').carriedOutMinor).toBe(999n);
    const idle = computePayouts(input({ transactions: [], packs: { p1: 'ana' }, carriedIn: { ana: 999 } }));
    expect(idle.statements.map((s) => [s.creator, s.carriedInMinor, s.carriedOutMinor])).toEqual([['ana', 999n, 999n]]);
    const none = computePayouts(input({ transactions: [], packs: { p1: 'ana' } }));
    expect(none.statements).toEqual([]);
  });
});

describe('§9.9 tie-out', () => {
  it('holds to the cent and bonuses sit beside it', () => {
    const r = computePayouts(
      input({
        transactions: [sale('p1', 'GBP', 449, 135, 75, 7), sale('bundle:b', 'JPY', 1500, 450, 0, 3), refund('p2', 'USD', 399, 120, 0, 1)],
        packs: { p1: 'ana', p2: 'bo' },
        bundles: { b: { p1: 499, p2: 399 } },
        rates: { GBP: '1.2710', JPY: '0.0067' },
      }),
    );
    expect(r.tieOut.netMinor).toBe(r.tieOut.creatorShareMinor + r.tieOut.platformShareMinor);
    expect(r.statements.reduce((s, x) => s + x.earningsMinor, 0n)).toBe(r.totals.creatorShareMinor);
  });
});
