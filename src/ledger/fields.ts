/**
 * Field parsers shared by the importers. Each returns a value or a problem (a column, a
 * stable code and a message a person can act on); none throws on bad data.
 */
import { isCurrencyCode, minorUnitExponent } from '../shared/money.js';
import { isCountryCode } from '../shared/countries.js';
import { previewValue } from '../shared/format.js';
import { parseInstant, type Instant } from '../shared/timestamp.js';

export interface RowProblem {
  column: string;
  code: string;
  message: string;
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; problem: RowProblem };

const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });
const bad = (column: string, code: string, message: string): Parsed<never> => ({ ok: false, problem: { column, code, message } });

/**
 * A cell as text: strings as they are, JSON numbers and booleans as their text, null/absent
 * as "". An array or object (never valid where text is expected) becomes its bounded
 * preview: a cell nested 100,000 deep must not overflow the stack of the message about it.
 */
export function cellText(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return previewValue(value);
}

/**
 * A JSON number given where text is expected (an id, a reference, a product): its text
 * when the number is a whole number JSON holds exactly, else the problem. JSON.parse
 * rounds an integer beyond 2^53 − 1 to a neighbour (20000008123400011 becomes …012), so
 * such an id would silently become another transaction's; it must be written as a string.
 */
export function numberProblem(column: string, value: number): Parsed<never> | undefined {
  if (Number.isSafeInteger(value)) return undefined;
  return bad(
    column,
    'ROW_INVALID',
    Number.isInteger(value)
      ? `${column} is a JSON number beyond 2^53 − 1 (${String(value)} after reading), which JSON numbers cannot hold exactly; write it as a string ("…").`
      : `${column} is the JSON number ${String(value)}; write it as a string ("…").`,
  );
}

/**
 * Why a text cannot be stored in the ledger, or undefined: U+0000 (NUL), which a
 * PostgreSQL TEXT column cannot hold at all (SQLite would keep it, so both refuse it, alike).
 */
export function unstorableText(column: string, text: string): string | undefined {
  const at = text.indexOf('\u0000');
  return at < 0 ? undefined : `${column} holds U+0000 (NUL) at character ${at + 1}, which the ledger cannot store; remove it.`;
}

export function requiredText(column: string, value: unknown, maxLength = 200): Parsed<string> {
  if (value !== undefined && value !== null && typeof value !== 'string' && typeof value !== 'number') {
    return bad(column, 'ROW_INVALID', `${column} must be text.`);
  }
  if (typeof value === 'number') {
    const problem = numberProblem(column, value);
    if (problem) return problem;
  }
  const text = cellText(value).trim();
  if (text === '') return bad(column, 'ROW_INVALID', `${column} is empty.`);
  if (text.length > maxLength) return bad(column, 'ROW_INVALID', `${column} is longer than ${maxLength} characters.`);
  const nul = unstorableText(column, text);
  if (nul !== undefined) return bad(column, 'ROW_INVALID', nul);
  return ok(text);
}

export function optionalText(column: string, value: unknown, maxLength = 200): Parsed<string | null> {
  // A JSON array, object or boolean is not text (cellText would turn it into its JSON).
  if (value !== undefined && value !== null && typeof value !== 'string' && typeof value !== 'number') {
    return bad(column, 'ROW_INVALID', `${column} must be text.`);
  }
  const text = cellText(value).trim();
  if (text === '') return ok(null);
  return requiredText(column, text, maxLength);
}

export function oneOf<T extends string>(column: string, value: unknown, allowed: readonly T[]): Parsed<T> {
  const text = cellText(value).trim();
  if ((allowed as readonly string[]).includes(text)) return ok(text as T);
  return bad(column, 'ROW_INVALID', `${column} is "${text}"; expected ${allowed.map((a) => `"${a}"`).join(' or ')}.`);
}

export type { Instant } from '../shared/timestamp.js';

/**
 * A timestamp cell: the strict form of src/shared/timestamp.ts (the one parser of every
 * instant packops reads). A date or time without a zone is ROW_TIMEZONE_MISSING; anything
 * else that is not the form, not a real date and time, or an offset outside −12:00…+14:00
 * is ROW_INVALID.
 */
export function timestamp(column: string, value: unknown): Parsed<Instant> {
  if (typeof value === 'string' && value.length === 20) {
    const fast = parseInstant(value);
    if (fast.ok) return fast;
  }
  if (value !== undefined && value !== null && typeof value !== 'string') {
    return bad(column, 'ROW_INVALID', `${column} must be text (a timestamp such as 2026-10-03T14:05:00Z).`);
  }
  const text = cellText(value).trim();
  if (text === '') return bad(column, 'ROW_INVALID', `${column} is empty.`);
  const parsed = parseInstant(text);
  if (parsed.ok) return parsed;
  return bad(column, parsed.problem.kind === 'zone' ? 'ROW_TIMEZONE_MISSING' : 'ROW_INVALID', `${column} ${parsed.problem.message}`);
}

const countryCache = new Map<string, boolean>();
/** Whether `text` is an assigned ISO 3166-1 alpha-2 code (cached). */
export function knownCountry(text: string): boolean {
  let known = countryCache.get(text);
  if (known === undefined) {
    known = isCountryCode(text);
    countryCache.set(text, known);
  }
  return known;
}

/** Whether a character code at the end of a cell is whitespace that trimming removes. */
function trimmable(text: string, i: number): boolean {
  const c = text.charCodeAt(i);
  return c <= 32 || (c > 126 && /\s/.test(text[i]!));
}

/** Text with no surrounding whitespace (of any kind), 1..maxLength long: what the parsers accept unchanged. */
export function isPlainText(value: unknown, maxLength = 200): value is string {
  return (
    typeof value === 'string' &&
    value.length > 0 &&
    value.length <= maxLength &&
    !trimmable(value, 0) &&
    !trimmable(value, value.length - 1)
  );
}

/** A non-negative safe integer given as digits or a JSON integer, else undefined. */
export function plainMinor(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isSafeInteger(value) && value >= 0 ? value : undefined;
  if (typeof value !== 'string' || value.length === 0 || value.length > 15) return undefined;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 48 || c > 57) return undefined;
  }
  return Number(value);
}

export function country(column: string, value: unknown): Parsed<string> {
  const text = cellText(value).trim();
  return knownCountry(text) ? ok(text) : bad(column, 'ROW_INVALID', `${column} "${text}" is not an ISO 3166-1 alpha-2 country code (e.g. US, GB, JP).`);
}

/**
 * ISO 4217 codes that are not money (metals, units of account, XTS "testing", XXX "no
 * currency involved"): no sale, refund or rate is in them. The same list as validate's
 * CURRENCY rule (src/manifest/rules.ts).
 */
const NOT_MONEY = new Set(['XAG', 'XAU', 'XBA', 'XBB', 'XBC', 'XBD', 'XDR', 'XPD', 'XPT', 'XSU', 'XTS', 'XUA', 'XXX']);

const exponentCache = new Map<string, number | undefined>();
/** The minor-unit exponent of a currency a transaction can be in, else undefined. */
export function currencyExponent(code: string): number | undefined {
  if (!exponentCache.has(code)) {
    exponentCache.set(code, isCurrencyCode(code) && !NOT_MONEY.has(code) ? minorUnitExponent(code) : undefined);
  }
  return exponentCache.get(code);
}

export function currency(column: string, value: unknown): Parsed<string> {
  const text = cellText(value).trim();
  if (currencyExponent(text) !== undefined) return ok(text);
  if (NOT_MONEY.has(text)) {
    return bad(column, 'ROW_INVALID', `${column} "${text}" is an ISO 4217 code for something that is not a currency; amounts cannot be in it.`);
  }
  return bad(column, 'ROW_INVALID', `${column} "${text}" is not an ISO 4217 currency code (e.g. USD, GBP, JPY).`);
}

/**
 * A non-negative integer count of minor units. Decimals are refused with a message that
 * fits the currency (a JPY amount has no minor unit at all; a USD amount is in cents).
 */
export function minorAmount(column: string, value: unknown, currencyCode: string | undefined): Parsed<number> {
  let text: string;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return bad(column, 'ROW_INVALID', `${column} is not a number.`);
    text = String(value);
  } else {
    text = cellText(value).trim();
  }
  if (/^\d+$/.test(text)) {
    const n = Number(text);
    if (!Number.isSafeInteger(n)) return bad(column, 'ROW_INVALID', `${column} ${text} is too large.`);
    return ok(n);
  }
  if (text === '') return bad(column, 'ROW_INVALID', `${column} is empty; write 0 for none.`);
  if (/^-\s*\d+(\.\d*)?$/.test(text)) {
    return bad(column, 'ROW_INVALID', `${column} is negative (${text}); amounts are non-negative (a refund's amounts are the amounts reversed).`);
  }
  if (/^[+-]?\d*[.,]\d+$/.test(text) || /^[+-]?\d+(\.\d+)?e[+-]?\d+$/i.test(text)) {
    const exp = currencyCode === undefined ? undefined : currencyExponent(currencyCode);
    if (exp === 0) {
      return bad(column, 'ROW_INVALID', `${column} ${text} has decimals, but ${currencyCode} has no minor unit: amounts are whole ${currencyCode}.`);
    }
    return bad(column, 'ROW_INVALID', `${column} ${text} has decimals; amounts are whole minor units${currencyCode ? ` of ${currencyCode}` : ''} (499, not 4.99).`);
  }
  return bad(column, 'ROW_INVALID', `${column} "${text}" is not a whole number of minor units.`);
}

export function integerInRange(column: string, value: unknown, min: number, max: number): Parsed<number> {
  const text = cellText(value).trim();
  if (/^\d+$/.test(text)) {
    const n = Number(text);
    if (n >= min && n <= max) return ok(n);
  }
  return bad(column, 'ROW_INVALID', `${column} is "${text}"; expected a whole number from ${min} to ${max}.`);
}

export const MONTH = /^(\d{4})-(0[1-9]|1[0-2])$/;

export function month(column: string, value: unknown): Parsed<string> {
  const text = cellText(value).trim();
  return MONTH.test(text) ? ok(text) : bad(column, 'ROW_INVALID', `${column} "${text}" is not a month (YYYY-MM).`);
}
