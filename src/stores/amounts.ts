/**
 * Store amounts: decimal strings in major units ("-12.17", "119.00", ".70", "179") scaled
 * to integer minor units of the currency, exactly (no floating point). A fraction finer
 * than the currency's minor unit is refused unless its extra digits are zeros, so a JPY
 * "119.00" is 119 yen and a JPY "119.50" is an error.
 */
export type AmountResult = { ok: true; minor: number } | { ok: false; message: string };

const DECIMAL = /^([+-]?)(\d*)(?:\.(\d*))?$/;

export function decimalToMinor(text: string, exponent: number, currency: string): AmountResult {
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
