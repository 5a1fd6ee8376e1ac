/**
 * Store amounts: decimal strings in major units ("-12.17", "119.00", ".70", "179") scaled
 * to integer minor units of the currency, exactly (no floating point). A fraction finer
 * than the currency's minor unit is refused unless its extra digits are zeros, so a JPY
 * "119.00" is 119 yen and a JPY "119.50" is an error.
 */
export type AmountResult = { ok: true; minor: number } | { ok: false; message: string };

const DECIMAL = /^([+-]?)(\d*)(?:\.(\d*))?$/;

/** Powers of ten up to 10^15 (exact as doubles). */
const TEN = Array.from({ length: 16 }, (_, i) => 10 ** i);

export function decimalToMinor(text: string, exponent: number, currency: string): AmountResult {
  const quick = plainDecimal(text, exponent);
  if (quick !== undefined) return { ok: true, minor: quick };
  const m = DECIMAL.exec(text);
  if (!m || (m[2] === '' && (m[3] === undefined || m[3] === ''))) {
    return { ok: false, message: `"${text}" is not a decimal amount` };
  }
  const int = m[2] || '0';
  let frac = m[3] ?? '';
  if (frac.length > exponent) {
    if (!/^0*$/.test(frac.slice(exponent))) {
      return {
        ok: false,
        message:
          exponent === 0
            ? `"${text}" has a fraction, but ${currency} has no minor unit`
            : `"${text}" has more decimals than ${currency}'s ${exponent}`,
      };
    }
    frac = frac.slice(0, exponent);
  }
  const digits = (int + frac.padEnd(exponent, '0')).replace(/^0+(?=\d)/, '');
  if (digits.length > 15) return { ok: false, message: `"${text}" is too large` };
  const value = Number(digits);
  return { ok: true, minor: m[1] === '-' && value !== 0 ? -value : value };
}

/**
 * The common form read without regular expressions: an optional `-`, digits, optionally a
 * point and at most `exponent` more digits, with at most 15 digits once scaled. Anything
 * else (a `+`, extra zero decimals, a long or malformed amount) is undefined and goes the
 * general way, which gives the same value or the error.
 */
function plainDecimal(text: string, exponent: number): number | undefined {
  const n = text.length;
  let i = 0;
  if (n > 0 && text.charCodeAt(0) === 45) i = 1;
  let int = 0;
  let intDigits = 0;
  for (; i < n; i++) {
    const c = text.charCodeAt(i) - 48;
    if (c < 0 || c > 9) break;
    int = int * 10 + c;
    intDigits++;
  }
  let frac = 0;
  let fracDigits = 0;
  if (i < n) {
    if (text.charCodeAt(i) !== 46) return undefined;
    for (i++; i < n; i++) {
      const c = text.charCodeAt(i) - 48;
      if (c < 0 || c > 9) return undefined;
      frac = frac * 10 + c;
      fracDigits++;
    }
  }
  if ((intDigits === 0 && fracDigits === 0) || fracDigits > exponent || intDigits + exponent > 15) return undefined;
  const value = int * TEN[exponent]! + frac * TEN[exponent - fracDigits]!;
  return text.charCodeAt(0) === 45 && value !== 0 ? -value : value;
}

/**
 * Splits `total` minor units over `n` equal shares by largest remainder: every share is
 * ⌊total/n⌋ or one unit more (in magnitude), the larger ones first, and they sum to
 * `total` exactly. A negative total splits its magnitude and negates.
 */
export function splitEqually(total: number, n: number): number[] {
  if (!Number.isSafeInteger(total) || !Number.isSafeInteger(n) || n <= 0) {
    throw new RangeError(`cannot split ${total} into ${n} shares`);
  }
  const sign = total < 0 ? -1 : 1;
  const magnitude = Math.abs(total);
  const base = Math.floor(magnitude / n);
  const extra = magnitude - base * n;
  const shares = new Array<number>(n);
  for (let i = 0; i < n; i++) shares[i] = sign * (base + (i < extra ? 1 : 0)) || 0;
  return shares;
}
