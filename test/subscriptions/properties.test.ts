// Property tests (§14): over a subscription's life the recognised amounts sum to its net
// minus its refunds' nets; in any month every recognised cent is allocated or unallocated,
// never lost or doubled, and each family's money reaches exactly its own packs.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { allocateFamily, allocateMonth, type UsageRecord } from '../../src/subscriptions/allocation.js';
import { recogniseMonth, recognisedIn, type ChargeRecord } from '../../src/subscriptions/recognition.js';
import { addMonths, periodIndex } from '../../src/shared/period.js';

const chargeArb = fc
  .record({
    months: fc.constantFrom<1 | 12>(1, 12),
    start: fc.integer({ min: 0, max: 30 }),
    net: fc.bigInt({ min: -500n, max: 10_000_000n }),
    refunds: fc.array(fc.record({ after: fc.integer({ min: 0, max: 20 }), net: fc.bigInt({ min: 0n, max: 10_000_000n }) }), { maxLength: 3 }),
    family: fc.constantFrom('f0', 'f1', 'f2', 'f3', 'f4', 'f5'),
  })
  .map(({ months, start, net, refunds, family }): ChargeRecord => {
    const month = addMonths('2025-01', start);
    return {
      id: `c${start}`,
      family,
      plan: months === 1 ? 'plus-monthly' : 'plus-annual',
      months,
      month,
      netMinor: net,
      refunds: refunds.map((r, i) => ({ id: `r${i}`, month: addMonths(month, r.after), netMinor: r.net })),
    };
  });

const MONTHS = Array.from({ length: 60 }, (_v, i) => addMonths('2025-01', i));

describe('recognition over a life', () => {
  it('sums to net − Σ refund nets, and recognises nothing before the charge', () => {
    fc.assert(
      fc.property(chargeArb, (c) => {
        let sum = 0n;
        for (const m of MONTHS) {
          const amount = recognisedIn(c, m);
          if (periodIndex(m) < periodIndex(c.month)) expect(amount).toBe(0n);
          sum += amount;
        }
        expect(sum).toBe(c.netMinor - c.refunds.reduce((s, r) => s + r.netMinor, 0n));
      }),
      { numRuns: 500 },
    );
  });

  it('a month’s per-family amounts sum to what each charge recognises in it', () => {
    fc.assert(
      fc.property(fc.array(chargeArb, { maxLength: 8 }), fc.constantFrom(...MONTHS), (charges, m) => {
        const byFamily = recogniseMonth(m, charges);
        const total = [...byFamily.values()].reduce((s, x) => s + x, 0n);
        expect(total).toBe(charges.reduce((s, c) => s + recognisedIn(c, m), 0n));
      }),
      { numRuns: 300 },
    );
  });
});

const PACKS = ['a-z', 'a1', 'farm', 'ocean', 'space'];

const monthArb = fc.record({
  // Mostly small amounts; now and then one near 2^53 (the allocator's Number arithmetic
  // declines that family: |M_f| × U_f past the bound) or past it (the whole month in BigInt).
  money: fc.array(
    fc.tuple(
      fc.integer({ min: 0, max: 12 }),
      fc.oneof(
        { arbitrary: fc.bigInt({ min: -100_000n, max: 100_000n }), weight: 8 },
        { arbitrary: fc.bigInt({ min: -(2n ** 52n), max: 2n ** 52n }), weight: 1 },
        { arbitrary: fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }), weight: 1 },
      ),
    ),
    { maxLength: 12 },
  ),
  usage: fc.array(fc.tuple(fc.integer({ min: 0, max: 12 }), fc.integer({ min: 0, max: PACKS.length - 1 }), fc.integer({ min: 1, max: 31 })), { maxLength: 30 }),
});

describe('allocation of a month', () => {
  it('every recognised cent is allocated or unallocated; each family’s money goes to its own packs', () => {
    fc.assert(
      fc.property(monthArb, ({ money, usage }) => {
        const recognised = new Map<string, bigint>();
        for (const [f, amount] of money) recognised.set(`f${f}`, (recognised.get(`f${f}`) ?? 0n) + amount);
        const rows = new Map<string, UsageRecord>();
        for (const [f, p, d] of usage) rows.set(`f${f}|${PACKS[p]}`, { family: `f${f}`, pack: PACKS[p]!, activeDays: d });
        const usageRows = [...rows.values()];
        const a = allocateMonth('2026-10', recognised, usageRows);
        const recognisedTotal = [...recognised.values()].reduce((s, x) => s + x, 0n);
        const packTotal = a.packs.reduce((s, p) => s + p.netMinor, 0n);
        expect(packTotal + a.unallocatedMinor).toBe(recognisedTotal);
        expect(a.recognisedMinor).toBe(recognisedTotal);

        // Recompute step 1 family by family: Σ of each family's shares is its M_f.
        const users = new Set(usageRows.map((u) => u.family));
        const fromUse = new Map<string, bigint>();
        for (const f of users) {
          const own = usageRows.filter((u) => u.family === f);
          const shares = allocateFamily(recognised.get(f) ?? 0n, own);
          expect([...shares.values()].reduce((s, x) => s + x, 0n)).toBe(recognised.get(f) ?? 0n);
          for (const [p, x] of shares) fromUse.set(p, (fromUse.get(p) ?? 0n) + x);
        }
        for (const p of a.packs) expect(p.fromUseMinor).toBe(fromUse.get(p.pack) ?? 0n);
        const idle = [...recognised].filter(([f]) => !users.has(f)).reduce((s, [, x]) => s + x, 0n);
        expect(a.idlePooledMinor).toBe(idle);
        expect(a.unallocatedMinor).toBe(usageRows.length === 0 ? idle : 0n);
        // A pool share never strays more than one cent from the exact proportion.
        const days = usageRows.reduce((s, u) => s + u.activeDays, 0);
        for (const p of a.packs) {
          const exactTimesDays = idle * BigInt(p.activeDays);
          const diff = p.fromPoolMinor * BigInt(days) - exactTimesDays;
          expect(diff < 0n ? -diff : diff).toBeLessThan(BigInt(days));
        }
      }),
      { numRuns: 500 },
    );
  });
});
