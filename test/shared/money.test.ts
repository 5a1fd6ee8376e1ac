import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  allocateLargestRemainder,
  compareCodePoints,
  largestRemainderShares,
  largestRemainderSharesSafe,
  formatMinor,
  minorUnitExponent,
  parseDecimal,
  roundHalfAwayFromZero,
  roundHalfEven,
} from '../../src/shared/money.js';

describe('ISO 4217 minor units', () => {
  it('follows ISO, not Intl: JPY and KRW 0, USD 2, KWD and BHD 3; unknown codes undefined', () => {
    expect(minorUnitExponent('JPY')).toBe(0);
    expect(minorUnitExponent('KRW')).toBe(0);
    expect(minorUnitExponent('USD')).toBe(2);
    expect(minorUnitExponent('KWD')).toBe(3);
    expect(minorUnitExponent('BHD')).toBe(3);
    expect(minorUnitExponent('usd')).toBeUndefined();
    expect(minorUnitExponent('ABC')).toBeUndefined();
  });
});

describe('rounding', () => {
  it('half to even rounds exact halves to the even neighbour, in both signs', () => {
    const cases: Array<[bigint, bigint, bigint]> = [
      [5n, 2n, 2n], // 2.5 → 2
      [7n, 2n, 4n], // 3.5 → 4
      [-5n, 2n, -2n],
      [-7n, 2n, -4n],
      [251n, 100n, 3n], // 2.51 → 3
      [249n, 100n, 2n],
      [5n, -2n, -2n],
      [0n, 7n, 0n],
    ];
    for (const [n, d, want] of cases) expect(roundHalfEven(n, d), `${n}/${d}`).toBe(want);
  });

  it('half away from zero rounds exact halves outwards (PostgreSQL ROUND)', () => {
    expect(roundHalfAwayFromZero(5n, 2n)).toBe(3n);
    expect(roundHalfAwayFromZero(-5n, 2n)).toBe(-3n);
    expect(roundHalfAwayFromZero(449n, 100n)).toBe(4n);
    // The roadmap's seasonal bundle: 199 × 0.75 = 149.25 → 149; 299 × 0.5 = 149.5 → 150.
    expect(roundHalfAwayFromZero(199n * 75n, 100n)).toBe(149n);
    expect(roundHalfAwayFromZero(299n * 5n, 10n)).toBe(150n);
  });

  it('refuses division by zero', () => {
    expect(() => roundHalfEven(1n, 0n)).toThrow(RangeError);
    expect(() => roundHalfAwayFromZero(1n, 0n)).toThrow(RangeError);
  });
});

describe('largest remainder', () => {
  it('sums to the total exactly and gives the odd cent to the largest remainder', () => {
    const shares = allocateLargestRemainder(100n, [
      { key: 'a', weight: 1n },
      { key: 'b', weight: 1n },
      { key: 'c', weight: 1n },
    ]);
    // 33.33 each: one cent left, tie on remainders → the key that sorts first.
    expect([...shares]).toEqual([
      ['a', 34n],
      ['b', 33n],
      ['c', 33n],
    ]);
  });

  it('breaks ties in code-point order, not locale order', () => {
    const shares = allocateLargestRemainder(1n, [
      { key: 'b', weight: 1n },
      { key: 'B', weight: 1n },
    ]);
    expect(shares.get('B')).toBe(1n); // 'B' (U+0042) sorts before 'b' (U+0062)
    expect(compareCodePoints('B', 'b')).toBe(-1);
  });

  it('splits a negative amount like a positive one, negated', () => {
    const shares = allocateLargestRemainder(-101n, [
      { key: 'x', weight: 499n },
      { key: 'y', weight: 399n },
    ]);
    expect(shares.get('x')! + shares.get('y')!).toBe(-101n);
    expect(shares.get('x')).toBe(-56n);
  });

  it('refuses weights that cannot split a non-zero amount', () => {
    expect(() => allocateLargestRemainder(5n, [])).toThrow(RangeError);
    expect(() => allocateLargestRemainder(5n, [{ key: 'a', weight: 0n }])).toThrow(RangeError);
  });
});

describe('decimals and formatting', () => {
  it('parses plain decimals exactly and refuses everything else', () => {
    expect(parseDecimal('72.50')).toEqual({ num: 7250n, den: 100n });
    expect(parseDecimal('-0.0067')).toEqual({ num: -67n, den: 10000n });
    expect(parseDecimal('1e-3')).toBeUndefined();
    expect(parseDecimal('1.')).toBeUndefined();
    expect(parseDecimal('0.123', 2)).toBeUndefined();
  });

  it('formats minor units in the currency exponent', () => {
    expect(formatMinor(1234n, 'USD')).toBe('12.34');
    expect(formatMinor(-5, 'USD')).toBe('-0.05');
    expect(formatMinor(750, 'JPY')).toBe('750');
    expect(formatMinor(1500, 'KWD')).toBe('1.500');
  });
});

describe('largestRemainderSharesSafe (Number arithmetic below 2^53)', () => {
  const keys = ['a', 'b', 'a-z', 'ab', 'a1', 'zz', 'é', 'A'];
  it('gives the BigInt shares exactly, up to the bound, and declines past it', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.integer({ min: -1_000_000, max: 1_000_000 }), fc.maxSafeInteger(), fc.integer({ min: -(2 ** 53) + 1, max: 2 ** 53 - 1 })),
        fc.array(fc.oneof(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 0, max: 2 ** 40 })), { minLength: 1, maxLength: 8 }),
        (total, weights) => {
          const keyOf = (i: number) => keys[i]!;
          const sum = weights.reduce((a, b) => a + b, 0);
          const safe = largestRemainderSharesSafe(total, weights, keyOf);
          const fits = sum > 0 && BigInt(Math.abs(total)) * BigInt(sum) <= BigInt(Number.MAX_SAFE_INTEGER);
          expect(safe !== undefined).toBe(fits);
          if (safe === undefined) return;
          const exact = largestRemainderShares(BigInt(total), weights.map(BigInt), keyOf);
          expect(safe.map(BigInt)).toEqual(exact);
          expect(safe.every((s) => !Object.is(s, -0))).toBe(true);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('at the edge: 2^53 − 1 over weights 1 and 0, and ties broken by code point', () => {
    const max = Number.MAX_SAFE_INTEGER;
    expect(largestRemainderSharesSafe(max, [1, 0], (i) => ['x', 'y'][i]!)).toEqual([max, 0]);
    expect(largestRemainderSharesSafe(max, [1, 1], (i) => ['x', 'y'][i]!)).toBeUndefined();
    // 7 over three equal weights: 2 each, the 1 left to the slug that sorts first.
    expect(largestRemainderSharesSafe(7, [5, 5, 5], (i) => ['b', 'a-z', 'ab'][i]!)).toEqual([2, 3, 2]);
    expect(largestRemainderSharesSafe(-7, [5, 5, 5], (i) => ['b', 'a-z', 'ab'][i]!)).toEqual([-2, -3, -2]);
  });
});
