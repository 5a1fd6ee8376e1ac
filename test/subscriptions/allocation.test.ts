// Allocation (§14), hand-worked: ties, a heavy family beside light ones, idle pooling, a
// negative family amount, a month with no usage.
import { describe, expect, it } from 'vitest';
import { allocateFamily, allocateMonth, AllocationError, checkAllocation, MonthAllocator, type UsageRecord } from '../../src/subscriptions/allocation.js';

const nets = (a: ReturnType<typeof allocateMonth>) => Object.fromEntries(a.packs.map((p) => [p.pack, p.netMinor]));

describe('one family', () => {
  it('splits by active days with the largest remainder; a tie goes to the slug that sorts first', () => {
    // 100 cents over three packs used 10 days each: 33.33… each. Floors give 99; the last
    // cent goes to "farm" (code-point first). Rounding each share would lose it.
    expect(Object.fromEntries(allocateFamily(100n, [{ pack: 'space', activeDays: 10 }, { pack: 'ocean', activeDays: 10 }, { pack: 'farm', activeDays: 10 }]))).toEqual({
      farm: 34n,
      ocean: 33n,
      space: 33n,
    });
    expect(Math.round(100 / 3) * 3).toBe(99);
  });

  it('ties in code-point order, not locale order: "a-z" sorts before "a1"', () => {
    expect(Object.fromEntries(allocateFamily(2n, [{ pack: 'a1', activeDays: 1 }, { pack: 'a-z', activeDays: 1 }, { pack: 'ab', activeDays: 1 }]))).toEqual({
      'a-z': 1n,
      a1: 1n,
      ab: 0n,
    });
  });

  it('splits a negative amount as its absolute value and negates each share', () => {
    // −100 over 1:1:1. As |−100|: 34/33/33, negated. Flooring −33.33 three times would give −102.
    const shares = allocateFamily(-100n, [{ pack: 'ocean', activeDays: 4 }, { pack: 'farm', activeDays: 4 }, { pack: 'space', activeDays: 4 }]);
    expect(Object.fromEntries(shares)).toEqual({ farm: -34n, ocean: -33n, space: -33n });
    expect(Math.floor(-100 / 3) * 3).toBe(-102);
  });
});

describe('a month', () => {
  it('three families tied on days: each keeps its own money; the idle pool tie goes to the first slug', () => {
    const recognised = new Map([
      ['f1', 699n],
      ['f2', 699n],
      ['f3', 699n],
      ['f4-idle', 100n],
    ]);
    const usage: UsageRecord[] = [
      { family: 'f1', pack: 'space', activeDays: 12 },
      { family: 'f2', pack: 'ocean', activeDays: 12 },
      { family: 'f3', pack: 'farm', activeDays: 12 },
    ];
    const a = allocateMonth('2026-10', recognised, usage);
    expect(nets(a)).toEqual({ farm: 699n + 34n, ocean: 699n + 33n, space: 699n + 33n });
    expect(a.idlePooledMinor).toBe(100n);
    expect(a.unallocatedMinor).toBe(0n);
    expect(a.families).toEqual({ subscribed: 4, active: 3, idle: 1 });
    expect(a.packs.find((p) => p.pack === 'farm')).toMatchObject({ families: 1, activeDays: 12, fromUseMinor: 699n, fromPoolMinor: 34n });
  });

  it('a heavy family cannot take the money of a hundred light ones (pro-rata by days would)', () => {
    const recognised = new Map<string, bigint>([['heavy', 999n]]);
    const usage: UsageRecord[] = [{ family: 'heavy', pack: 'binge', activeDays: 31 }];
    for (let i = 0; i < 100; i++) {
      const f = `light-${String(i).padStart(3, '0')}`;
      recognised.set(f, 999n);
      usage.push({ family: f, pack: 'quiet', activeDays: 1 });
    }
    const a = allocateMonth('2026-10', recognised, usage);
    expect(nets(a)).toEqual({ binge: 999n, quiet: 99_900n });
    // One pool split by total days (31 : 100) would pay "binge" 23,876 cents of the 100,899.
    expect((100_899n * 31n) / 131n).toBe(23_876n);
  });

  it('pools idle families over every pack by the month’s total active days, including non-paying users', () => {
    const recognised = new Map([
      ['a', 1000n],
      ['idle-1', 700n],
      ['idle-2', 301n],
    ]);
    const usage: UsageRecord[] = [
      { family: 'a', pack: 'ocean', activeDays: 3 },
      { family: 'a', pack: 'farm', activeDays: 1 },
      // A family that used packs but has no money this month still weighs in the pool.
      { family: 'b', pack: 'farm', activeDays: 4 },
    ];
    const a = allocateMonth('2026-10', recognised, usage);
    // Family a: 1000 × 3/4 = 750 ocean, 250 farm. Pool 1001 by days ocean 3, farm 5:
    // 375.375 → 375, 625.625 → 625, one cent left to the larger remainder (farm .625).
    expect(a.packs).toEqual([
      { pack: 'farm', families: 2, activeDays: 5, fromUseMinor: 250n, fromPoolMinor: 626n, netMinor: 876n },
      { pack: 'ocean', families: 1, activeDays: 3, fromUseMinor: 750n, fromPoolMinor: 375n, netMinor: 1125n },
    ]);
    expect(a).toMatchObject({ recognisedMinor: 2001n, allocatedMinor: 2001n, allocatedByUseMinor: 1000n, idlePooledMinor: 1001n, unallocatedMinor: 0n, activeDays: 8 });
    expect(a.families).toEqual({ subscribed: 3, active: 2, idle: 2 });
  });

  it('a refunded family (negative M_f) takes money back from the packs it used', () => {
    const a = allocateMonth('2026-11', new Map([['r', -668n], ['p', 300n]]), [
      { family: 'r', pack: 'ocean', activeDays: 2 },
      { family: 'r', pack: 'farm', activeDays: 1 },
      { family: 'p', pack: 'ocean', activeDays: 5 },
    ]);
    // Family r: |−668| by 2:1 is 445.33 and 222.67; floors 445 + 222 = 667, the last cent to
    // farm (remainder .67), then negated: ocean −445, farm −223.
    expect(nets(a)).toEqual({ farm: -223n, ocean: -445n + 300n });
    expect(a.recognisedMinor).toBe(-368n);
  });

  it('a month with no usage: the money stays unallocated and is shown as such', () => {
    const a = allocateMonth('2026-12', new Map([['a', 699n], ['b', 167n]]), []);
    expect(a).toMatchObject({ recognisedMinor: 866n, allocatedMinor: 0n, idlePooledMinor: 866n, unallocatedMinor: 866n, packs: [] });
    expect(a.families).toEqual({ subscribed: 2, active: 0, idle: 2 });
  });

  it('refuses families out of order or twice, so a stream cannot double-count', () => {
    const al = new MonthAllocator('2026-10', new Map());
    al.addFamily('b', [{ pack: 'x', activeDays: 1 }]);
    expect(() => al.addFamily('a', [{ pack: 'x', activeDays: 1 }])).toThrow(RangeError);
    expect(() => al.addFamily('b', [{ pack: 'x', activeDays: 1 }])).toThrow(RangeError);
    expect(() => new MonthAllocator('2026-10', new Map()).addFamily('a', [{ pack: 'x', activeDays: 1 }, { pack: 'x', activeDays: 2 }])).toThrow(RangeError);
  });

  it('the tie-out check catches a lost cent', () => {
    const a = allocateMonth('2026-10', new Map([['a', 10n]]), [{ family: 'a', pack: 'x', activeDays: 1 }]);
    expect(() => checkAllocation({ ...a, packs: [{ ...a.packs[0]!, netMinor: 9n }] })).toThrow(AllocationError);
  });
});
