/**
 * Money for people, on pages only: `$1,234.56`, `¥750`, `£4.49`, `-$2.10`. Built from the
 * integer minor units and the ISO 4217 exponent (`formatMinor`), never from a float, so
 * the figure on a page is the JSON figure to the last digit. CSV, JSON and Markdown keep
 * the plain `1234.56` form for machines and spreadsheets.
 */
import { formatMinor } from '../shared/money.js';

/** Symbols people read without a code; any other currency is written as its code: `CHF 12.00`. */
const SYMBOLS = new Map<string, string>([
  ['USD', '$'],
  ['EUR', '€'],
  ['GBP', '£'],
  ['JPY', '¥'],
  ['INR', '₹'],
  ['KRW', '₩'],
]);

/** Thousands separators for the integer part of a plain decimal string. */
function group(digits: string): string {
  return digits.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

export function formatMoney(amountMinor: bigint | number, currency: string): string {
  const plain = formatMinor(amountMinor, currency);
  const negative = plain.startsWith('-');
  const [whole, frac] = (negative ? plain.slice(1) : plain).split('.');
  const number = `${group(whole!)}${frac === undefined ? '' : `.${frac}`}`;
  const symbol = SYMBOLS.get(currency);
  const body = symbol === undefined ? `${currency} ${number}` : `${symbol}${number}`;
  return negative ? `-${body}` : body;
}

/** The symbol (or code) a currency is shown with, for a table header. */
export function currencyLabel(currency: string): string {
  return SYMBOLS.get(currency) ?? currency;
}
