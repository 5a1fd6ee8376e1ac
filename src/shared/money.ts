/**
 * Money is an integer count of a currency's minor unit. No floating point touches it:
 * decimal strings (rates, percentages, discounts) are parsed into exact rationals of
 * BigInts, and every rounding is explicit.
 */
import currencyCodes from 'currency-codes';

/**
 * Exponents by code, filled as codes are seen: currency-codes searches its whole table on
 * every call, and imports ask once per row (measured: ~12% of a Google Play import). The
 * key is checked against /^[A-Z]{3}$/ first, so the map holds at most 26³ entries.
 */
const EXPONENTS = new Map<string, number | undefined>();

/** ISO 4217 minor-unit exponent of a currency, or undefined for a code ISO does not list. */
export function minorUnitExponent(code: string): number | undefined {
  const known = EXPONENTS.get(code);
  if (known !== undefined || EXPONENTS.has(code)) return known;
  if (!/^[A-Z]{3}$/.test(code)) return undefined;
  const entry = currencyCodes.code(code);
  // currency-codes reports `digits` per ISO 4217 (e.g. JPY 0, KWD 3); funds with no
  // minor unit ("N.A.") come back as 0.
  const exponent = !entry ? undefined : typeof entry.digits === 'number' ? entry.digits : 0;
  EXPONENTS.set(code, exponent);
  return exponent;
}

export function isCurrencyCode(code: string): boolean {
  return minorUnitExponent(code) !== undefined;
}

/** An exact rational number num/den with den > 0. */
export interface Rational {
  num: bigint;
  den: bigint;
}

/**
 * Parses a plain decimal string ("72.50", "0.0064", "-3", "1e-3" is refused) exactly.
 * Returns undefined for anything that is not a finite decimal.
 */
export function parseDecimal(text: string, maxDecimals = 18): Rational | undefined {
  const m = /^([+-]?)(\d+)(?:\.(\d+))?$/.exec(text.trim());
  if (!m) return undefined;
  const frac = m[3] ?? '';
  if (frac.length > maxDecimals) return undefined;
  let num = BigInt((m[2] ?? '0') + frac);
  if (m[1] === '-') num = -num;
  return { num, den: 10n ** BigInt(frac.length) };
}

function absBig(x: bigint): bigint {
  return x < 0n ? -x : x;
}

/** |num| / |den| as quotient and remainder, with the sign of num/den. */
function divmodAbs(num: bigint, den: bigint): { sign: bigint; q: bigint; r: bigint; den: bigint } {
  if (den === 0n) throw new RangeError('division by zero');
  if (den < 0n) {
    num = -num;
    den = -den;
  }
  const a = absBig(num);
  return { sign: num < 0n ? -1n : 1n, q: a / den, r: a % den, den };
}

/** num/den rounded half to even (banker's rounding). */
export function roundHalfEven(num: bigint, den: bigint): bigint {
  const d = divmodAbs(num, den);
  const twice = d.r * 2n;
  const up = twice > d.den || (twice === d.den && d.q % 2n === 1n);
  return d.sign * (up ? d.q + 1n : d.q);
}

/** num/den rounded half away from zero (PostgreSQL's ROUND on numeric). */
export function roundHalfAwayFromZero(num: bigint, den: bigint): bigint {
  const d = divmodAbs(num, den);
  return d.sign * (d.r * 2n >= d.den ? d.q + 1n : d.q);
}

/**
 * Largest-remainder allocation: splits `total` (≥ 0) in proportion to `weights`
 * (non-negative, not all zero). Floors each share, then gives one unit each to the
 * largest remainders; ties go to the key that sorts first in code-point order.
 * The shares always sum to `total` exactly. (A negative total is split as its absolute
 * value and negated.) Items with the same key are summed.
 */
export function allocateLargestRemainder(
  total: bigint,
  items: ReadonlyArray<{ key: string; weight: bigint }>,
): Map<string, bigint> {
  const shares = largestRemainderShares(
    total,
    items.map((i) => i.weight),
    (i) => items[i]!.key,
  );
  const result = new Map<string, bigint>();
  items.forEach((item, i) => result.set(item.key, (result.get(item.key) ?? 0n) + shares[i]!));
  return result;
}

/**
 * `largestRemainderShares` in safe-integer Number arithmetic, for the hot loop of a split
 * done once per family: exact (every product, quotient and remainder is an integer below
 * 2^53, so no double rounding can occur) when |total| × Σ weights ≤ Number.MAX_SAFE_INTEGER
 * and every weight is a non-negative safe integer; returns undefined otherwise, and the
 * caller falls back to the BigInt version. The same shares, the same tie-break.
 */
export function largestRemainderSharesSafe(total: number, weights: readonly number[], keyOf: (i: number) => string): number[] | undefined {
  const n = weights.length;
  let sumWeights = 0;
  for (let i = 0; i < n; i++) {
    const w = weights[i]!;
    if (!Number.isSafeInteger(w) || w < 0) return undefined;
    sumWeights += w;
  }
  const amount = Math.abs(total);
  if (n === 0 || sumWeights <= 0 || !Number.isSafeInteger(total) || !Number.isSafeInteger(sumWeights) || amount > Math.floor(Number.MAX_SAFE_INTEGER / sumWeights)) return undefined;
  const shares = new Array<number>(n);
  const rems = new Array<number>(n);
  let left = amount;
  for (let i = 0; i < n; i++) {
    const product = amount * weights[i]!; // ≤ amount × Σ weights: exact
    let q = Math.floor(product / sumWeights);
    let r = product - q * sumWeights; // q × Σ weights ≤ product: exact
    // A quotient rounded across an integer is put back (cannot happen below 2^53, kept as proof).
    if (r < 0) {
      q -= 1;
      r += sumWeights;
    } else if (r >= sumWeights) {
      q += 1;
      r -= sumWeights;
    }
    shares[i] = q;
    rems[i] = r;
    left -= q;
  }
  if (left > 0) {
    const order = Array.from({ length: n }, (_v, i) => i).sort((a, b) =>
      rems[a] === rems[b] ? compareCodePoints(keyOf(a), keyOf(b)) : rems[a]! > rems[b]! ? -1 : 1,
    );
    for (let k = 0; k < left; k++) shares[order[k]!]! += 1;
  }
  if (total < 0) for (let i = 0; i < n; i++) shares[i] = 0 - shares[i]!; // (0 − 0 is +0)
  return shares;
}

/**
 * The shares of `allocateLargestRemainder` in the order of `weights`, without the Map:
 * for callers that split once per record of a large set (a month's families). `keyOf(i)`
 * names item i for the tie-break.
 */
export function largestRemainderShares(total: bigint, weights: readonly bigint[], keyOf: (i: number) => string): bigint[] {
  const n = weights.length;
  if (n === 0) {
    if (total !== 0n) throw new RangeError('cannot allocate a non-zero amount over no items');
    return [];
  }
  let sumWeights = 0n;
  for (const w of weights) {
    if (w < 0n) throw new RangeError('allocation weights must not be negative');
    sumWeights += w;
  }
  if (sumWeights <= 0n) throw new RangeError('allocation weights must sum to more than zero');
  const negative = total < 0n;
  const amount = negative ? -total : total;
  const shares = new Array<bigint>(n);
  const rems = new Array<bigint>(n);
  let left = amount;
  for (let i = 0; i < n; i++) {
    const product = amount * weights[i]!;
    shares[i] = product / sumWeights;
    rems[i] = product % sumWeights;
    left -= shares[i]!;
  }
  if (left > 0n) {
    // Fewer than n units are left: one each to the largest remainders.
    const order = Array.from({ length: n }, (_v, i) => i).sort((a, b) =>
      rems[a] === rems[b] ? compareCodePoints(keyOf(a), keyOf(b)) : rems[a]! > rems[b]! ? -1 : 1,
    );
    for (let k = 0; k < Number(left); k++) shares[order[k]!]! += 1n;
  }
  if (negative) for (let i = 0; i < n; i++) shares[i] = -shares[i]!;
  return shares;
}

/** Code-point order (not locale order), as PRODUCT.md §9 requires for tie-breaks. */
export function compareCodePoints(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Formats minor units as a decimal string in the currency's exponent: 1234 USD → "12.34". */
export function formatMinor(amountMinor: bigint | number, currency: string): string {
  const exp = minorUnitExponent(currency) ?? 2;
  const v = BigInt(amountMinor);
  const sign = v < 0n ? '-' : '';
  const a = absBig(v);
  if (exp === 0) return `${sign}${a}`;
  const s = a.toString().padStart(exp + 1, '0');
  return `${sign}${s.slice(0, -exp)}.${s.slice(-exp)}`;
}

/**
 * A percentage with at most two decimals as basis points: "33.34" → 3334. Undefined for
 * anything else (more decimals, not a plain decimal).
 */
export function percentToBasisPoints(text: string): number | undefined {
  const d = parseDecimal(text, 2);
  return d === undefined ? undefined : Number((d.num * 10000n) / (d.den * 100n));
}

/** Basis points as a percentage with two decimals: 5000 → "50.00", -250 → "-2.50". */
export function basisPointsToPercent(bps: number): string {
  const sign = bps < 0 ? '-' : '';
  const a = Math.abs(bps);
  return `${sign}${Math.trunc(a / 100)}.${String(a % 100).padStart(2, '0')}`;
}

/**
 * What a bundle saves against its packs' total: (total − price) / total as a percentage with
 * one decimal, rounded half away from zero, exact ("30.5"). A total of 0 or less saves "0.0".
 */
export function savingsPercent(totalMinor: number, priceMinor: number): string {
  if (totalMinor <= 0) return '0.0';
  const tenths = roundHalfAwayFromZero(BigInt(totalMinor - priceMinor) * 1000n, BigInt(totalMinor));
  const sign = tenths < 0n ? '-' : '';
  const a = absBig(tenths);
  return `${sign}${a / 10n}.${a % 10n}`;
}
