/**
 * The Google Play earnings report (platform-facts §2.2): one CSV row per money movement,
 * grouped here into ledger transactions. The rows of an order share its `Description` (the
 * order id) and become one sale: gross = Σ Charge, fee = −Σ Google fee, tax = −Σ Tax, in
 * the merchant currency. Its `Charge refund` / `Google fee refund` / `Tax refund` rows
 * become one refund per refund date and time. Times are Pacific (`PST`/`PDT`) and are
 * converted to UTC. Pure: no database, no files.
 */
import { isCountryCode } from '../shared/countries.js';
import { isCurrencyCode, minorUnitExponent } from '../shared/money.js';
import { decimalToMinor } from './amounts.js';
import { formatUnknown, matchHeader, requiredNames, type ColumnDef, type ColumnIndex } from './header.js';
import { pacificToUtc } from './pacific.js';

export interface StoreProblem {
  line: number;
  column: string;
  code: string;
  message: string;
}

type GoogleKey =
  | 'description' | 'date' | 'time' | 'type' | 'refundType' | 'pkg' | 'sku' | 'country' | 'merchantCurrency' | 'merchantAmount'
  | 'buyerAmount' | 'rate';

export const GOOGLE_COLUMNS: ReadonlyArray<ColumnDef<GoogleKey>> = [
  { key: 'description', names: ['Description'], required: true },
  { key: 'date', names: ['Transaction Date'], required: true },
  { key: 'time', names: ['Transaction Time'], required: true },
  { key: 'type', names: ['Transaction Type'], required: true },
  { key: 'refundType', names: ['Refund Type'], required: false },
  { key: 'pkg', names: ['Product id', 'Package ID', 'Package Name'], required: true },
  { key: 'sku', names: ['Sku Id', 'SKU ID'], required: true },
  { key: 'country', names: ['Buyer Country'], required: true },
  { key: 'merchantCurrency', names: ['Merchant Currency'], required: true },
  { key: 'merchantAmount', names: ['Amount (Merchant Currency)'], required: true },
  // Read only to tell a last line cut short (lastLineCutShort).
  { key: 'buyerAmount', names: ['Amount (Buyer Currency)'], required: false },
  { key: 'rate', names: ['Currency Conversion Rate'], required: false },
];

export type GoogleRowType = 'charge' | 'fee' | 'tax' | 'chargeRefund' | 'feeRefund' | 'taxRefund';

const TYPES: ReadonlyMap<string, GoogleRowType> = new Map([
  ['charge', 'charge'],
  ['google fee', 'fee'],
  ['tax', 'tax'],
  ['charge refund', 'chargeRefund'],
  ['google fee refund', 'feeRefund'],
  ['tax refund', 'taxRefund'],
]);

export interface GoogleRow {
  line: number;
  order: string;
  /** UTC milliseconds of the row's Pacific date and time. */
  ms: number;
  type: GoogleRowType;
  pkg: string;
  sku: string;
  country: string;
  currency: string;
  /** Signed minor units, as in the file. */
  amount: number;
  /** The Pacific month as written (YYYY-MM): which month's report the row belongs to. */
  pacificMonth: string;
}

/** Distinct cell values kept per file by `GoogleHeader.intern` (a hostile file with more gets copies). */
const INTERN_LIMIT = 4096;

/**
 * A string that holds only its own characters. V8 returns a long substring (a cell split
 * from a line) as a view of the text it was cut from, so one value kept for the whole file
 * (an interned cell, a cached date) would keep its whole ~1 MB chunk of the file alive.
 */
export function ownCopy(text: string): string {
  return text.length < 13 ? text : (' ' + text).slice(1);
}

/** The cells `GoogleHeader.intern` keeps, each with its own one-entry cache of the last value. */
const PKG = 0;
const SKU = 1;
const COUNTRY = 2;
const CURRENCY = 3;
type Interned = typeof PKG | typeof SKU | typeof COUNTRY | typeof CURRENCY;

export class GoogleHeader {
  /** SKU, country, currency and package cells, one string per distinct value (see ownCopy). */
  private readonly interned = new Map<string, string>();
  /** Per kind of cell, the last text seen and its interned string (rows repeat them). */
  private readonly lastText = ['', '', '', ''];
  private readonly lastValue = ['', '', '', ''];
  /** Each column's position (-1: absent), as plain fields: read for every row. */
  readonly at: { readonly [K in GoogleKey]: number };
  /** The last currency read and its minor-unit exponent (undefined: not an ISO 4217 code). */
  private lastCurrency = '';
  private lastExponent: number | undefined;
  private constructor(
    readonly index: ColumnIndex<GoogleKey>,
    readonly width: number,
  ) {
    this.at = {
      description: index.description, date: index.date, time: index.time, type: index.type, refundType: index.refundType, pkg: index.pkg,
      sku: index.sku, country: index.country, merchantCurrency: index.merchantCurrency, merchantAmount: index.merchantAmount,
      buyerAmount: index.buyerAmount, rate: index.rate,
    };
  }

  /** The currency's minor-unit exponent, or undefined when it is not an ISO 4217 code (rows repeat their currency). */
  exponent(currency: string): number | undefined {
    if (currency === this.lastCurrency && currency !== '') return this.lastExponent;
    this.lastCurrency = currency;
    return (this.lastExponent = isCurrencyCode(currency) ? minorUnitExponent(currency) : undefined);
  }

  /** One shared copy per distinct value: the few products, countries and currencies of a report. */
  intern(text: string, kind: Interned): string {
    if (text === this.lastText[kind]) return this.lastValue[kind]!;
    this.lastText[kind] = text;
    return (this.lastValue[kind] = this.internNew(text));
  }

  private internNew(text: string): string {
    const known = this.interned.get(text);
    if (known !== undefined) return known;
    const own = ownCopy(text);
    if (this.interned.size < INTERN_LIMIT) this.interned.set(own, own);
    return own;
  }

  /** The header's columns, or REPORT_FORMAT_UNKNOWN naming the expected ones. */
  static from(cells: readonly string[], label: string): GoogleHeader {
    const index = matchHeader(cells, GOOGLE_COLUMNS);
    if (!index) {
      const apple = cells.length <= 2 && /\t/.test(cells[0] ?? '');
      formatUnknown(
        label,
        'a Google Play earnings report',
        requiredNames(GOOGLE_COLUMNS),
        cells,
        apple ? ' (it looks tab-separated, like an App Store report: use `ledger import appstore`)' : '',
      );
    }
    return new GoogleHeader(index, cells.length);
  }
}

const MONTHS: ReadonlyMap<string, number> = new Map(
  ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'].map((m, i) => [m, i + 1]),
);
const DATE = /^([A-Za-z]{3})[a-z]*\.? (\d{1,2}), (\d{4})$/;
const TIME = /^(\d{1,2}):(\d{2}):(\d{2}) ?([AaPp][Mm]) ([A-Za-z]{3})$/;

type PacificDate = { ok: true; year: number; month: number; day: number; pacificMonth: string } | { ok: false; message: string };

/** Dates already read (a report has a month's worth of distinct dates on a million rows). */
const dates = new Map<string, PacificDate>();

/** `Dec 23, 2024` → its parts, or a message. */
function googleDate(date: string): PacificDate {
  const known = dates.get(date);
  if (known !== undefined) return known;
  let r: PacificDate;
  const d = DATE.exec(date);
  const month = d ? MONTHS.get(d[1]!.toLowerCase()) : undefined;
  if (!d || month === undefined) r = { ok: false, message: `Transaction Date "${date}" is not a date like "Dec 23, 2024"` };
  else {
    const day = Number(d[2]);
    const year = Number(d[3]);
    const check = new Date(Date.UTC(year, month - 1, day));
    if (check.getUTCMonth() !== month - 1 || check.getUTCDate() !== day) r = { ok: false, message: `Transaction Date "${date}" is not a real date` };
    else r = { ok: true, year, month, day, pacificMonth: `${year}-${String(month).padStart(2, '0')}` };
  }
  if (dates.size >= 10_000) dates.clear();
  dates.set(ownCopy(date), r);
  return r;
}

type GoogleTime = { ok: true; ms: number; pacificMonth: string } | { ok: false; message: string };

/** The last date and time read and what they gave: the rows of one order share them. */
let lastDate = '';
let lastTime = '';
let lastWhen: GoogleTime = { ok: false, message: '' };

/** `Dec 23, 2024` + `1:20:34 PM PST` → UTC ms, or a message. */
export function googleTime(date: string, time: string): GoogleTime {
  if (date === lastDate && time === lastTime && lastDate !== '') return lastWhen;
  const when = readGoogleTime(date, time);
  lastDate = date;
  lastTime = time;
  lastWhen = when;
  return when;
}

type ClockTime = { ok: true; hour: number; minute: number; second: number; zone: string } | { ok: false; message: string };

/** Times of day already read (at most 2 × 86,400 distinct ones as Google writes them; cleared past 100,000). */
const clocks = new Map<string, ClockTime>();

/** `1:20:34 PM PST` → 24-hour parts and the zone as written, or a message. */
function googleClock(text: string): ClockTime {
  const known = clocks.get(text);
  if (known !== undefined) return known;
  const time = ownCopy(text);
  let r: ClockTime;
  const t = TIME.exec(time);
  if (!t) r = { ok: false, message: `Transaction Time "${time}" is not a time like "1:20:34 PM PST"` };
  else {
    let hour = Number(t[1]);
    const minute = Number(t[2]);
    const second = Number(t[3]);
    if (hour < 1 || hour > 12 || minute > 59 || second > 59) r = { ok: false, message: `Transaction Time "${time}" is not a real time` };
    else {
      const pm = t[4]!.toLowerCase() === 'pm';
      if (hour === 12) hour = pm ? 12 : 0;
      else if (pm) hour += 12;
      r = { ok: true, hour, minute, second, zone: t[5]! };
    }
  }
  if (clocks.size >= 100_000) clocks.clear();
  clocks.set(time, r);
  return r;
}

function readGoogleTime(date: string, time: string): GoogleTime {
  const d = googleDate(date);
  if (!d.ok) return d;
  const c = googleClock(time);
  if (!c.ok) return c;
  const { year, month, day } = d;
  const r = pacificToUtc({ year, month, day, hour: c.hour, minute: c.minute, second: c.second }, c.zone);
  if (!r.ok) return { ok: false, message: `"${date} ${time}": ${r.message}` };
  return { ok: true, ms: r.ms, pacificMonth: d.pacificMonth };
}

/** The Transaction Types as Google writes them (the common case, looked up without lower-casing). */
const TYPES_AS_WRITTEN: ReadonlyMap<string, GoogleRowType> = new Map([
  ['Charge', 'charge'],
  ['Google fee', 'fee'],
  ['Tax', 'tax'],
  ['Charge refund', 'chargeRefund'],
  ['Google fee refund', 'feeRefund'],
  ['Tax refund', 'taxRefund'],
]);

/** Whether a UTF-16 code unit is printable ASCII (never white space for `trim`). */
const printable = (c: number): boolean => c > 32 && c < 127;

/** The cell at `i`, trimmed as `trim` does ('' for an absent column); one that starts and ends with printable ASCII is returned as it is. */
export function cellAt(raw: readonly string[], i: number): string {
  if (i < 0) return '';
  const text = raw[i]!;
  const n = text.length;
  return n === 0 || (printable(text.charCodeAt(0)) && printable(text.charCodeAt(n - 1))) ? text : text.trim();
}

/** One data record → a row or its problems (cells are trimmed here). */
export function parseGoogleRow(line: number, raw: readonly string[], header: GoogleHeader): GoogleRow | StoreProblem[] {
  if (raw.length !== header.width) {
    return [{ line, column: '*', code: 'ROW_INVALID', message: `The row has ${raw.length} fields; the header has ${header.width} (a truncated or broken line).` }];
  }
  const at = header.at;
  let problems: StoreProblem[] | undefined;
  const bad = (column: string, message: string, code = 'ROW_INVALID'): void => {
    (problems ??= []).push({ line, column, code, message });
  };
  const order = cellAt(raw, at.description);
  if (order === '') bad('Description', 'The order id (Description) is empty.');
  else if (order.length > 200) bad('Description', 'The order id (Description) is longer than 200 characters.');
  const typeText = cellAt(raw, at.type);
  const type = TYPES_AS_WRITTEN.get(typeText) ?? TYPES.get(typeText.toLowerCase());
  if (!type) bad('Transaction Type', `Transaction Type "${typeText}" is not one packops imports (Charge, Google fee, Tax, Charge refund, Google fee refund, Tax refund); it is never guessed.`);
  const when = googleTime(cellAt(raw, at.date), cellAt(raw, at.time));
  if (!when.ok) bad('Transaction Date', `${when.message}.`);
  const pkg = header.intern(cellAt(raw, at.pkg), PKG);
  if (pkg === '') bad('Product id', 'The package name (Product id) is empty.');
  const sku = header.intern(cellAt(raw, at.sku), SKU);
  if (sku === '' || sku.length > 200) bad('Sku Id', sku === '' ? 'The Sku Id is empty.' : 'The Sku Id is longer than 200 characters.');
  const country = header.intern(cellAt(raw, at.country), COUNTRY);
  if (!isCountryCode(country)) bad('Buyer Country', `Buyer Country "${country}" is not an ISO 3166-1 alpha-2 code.`);
  const currency = header.intern(cellAt(raw, at.merchantCurrency), CURRENCY);
  const exponent = header.exponent(currency);
  let amount = 0;
  if (exponent === undefined) bad('Merchant Currency', `Merchant Currency "${currency}" is not an ISO 4217 code.`);
  else {
    const a = decimalToMinor(cellAt(raw, at.merchantAmount), exponent, currency);
    if (a.ok) amount = a.minor;
    else bad('Amount (Merchant Currency)', `Amount (Merchant Currency) ${a.message}.`);
  }
  if (problems) return problems;
  return { line, order, ms: (when as { ms: number }).ms, type: type!, pkg, sku, country, currency, amount, pacificMonth: (when as { pacificMonth: string }).pacificMonth };
}

/** A plain decimal (`-12.345`) as exact units and scale, or undefined. */
function exactDecimal(text: string): { units: bigint; scale: number } | undefined {
  const m = /^(-?)(\d{1,30})(?:\.(\d{1,30}))?$/.exec(text);
  if (!m) return undefined;
  const frac = m[3] ?? '';
  const units = BigInt(m[2]! + frac);
  return { units: m[1] === '-' ? -units : units, scale: frac.length };
}

/**
 * Whether the file's last line, when no line break follows it, looks cut short. A cut
 * inside the last cell (`-0.75` → `-0.7`) leaves a well-formed row with the right number
 * of cells: the 19-column layout ends with the merchant amount. The row carries its own
 * check: the merchant amount is the buyer amount times the conversion rate, in the merchant
 * currency's minor units (one unit of slack for Google's rounding). A row without a buyer
 * amount or rate cannot be checked and is taken as it is. Exact decimal arithmetic.
 */
export function lastLineCutShort(row: GoogleRow, raw: readonly string[], header: GoogleHeader): boolean {
  const buyer = exactDecimal(cellAt(raw, header.at.buyerAmount));
  const rate = exactDecimal(cellAt(raw, header.at.rate));
  const exponent = header.exponent(row.currency);
  if (!buyer || !rate || exponent === undefined) return false;
  const scale = 10n ** BigInt(buyer.scale + rate.scale);
  const diff = buyer.units * rate.units * 10n ** BigInt(exponent) - BigInt(row.amount) * scale;
  return (diff < 0n ? -diff : diff) > scale;
}

/** The renewal cycle suffix of a subscription order id: `GPA.1234-…-56789..3`. */
const RENEWAL = /\.\.\d+$/;

/** The order id of a renewal without its `..N` suffix (the purchase it renews), else the id. */
export function baseOrderId(order: string): string {
  return order.includes('..') ? order.replace(RENEWAL, '') : order; // (most ids are no renewal: no regular expression run)
}

export interface GoogleTx {
  /** The ledger transaction id: the order id for the sale, `<order>/refund/<UTC time>` for a refund. */
  txid: string;
  kind: 'sale' | 'refund';
  order: string;
  ms: number;
  sku: string;
  country: string;
  currency: string;
  /** Non-negative when good: the amounts of the sale, or the amounts a refund reverses. */
  gross: number;
  fee: number;
  tax: number;
  /** Σ of the rows' signed merchant amounts: the money this transaction moves. */
  net: number;
  firstLine: number;
  rows: number;
  hasCharge: boolean;
  /** The first row that disagrees with the transaction's first row (its line, what, its value). */
  mismatch?: Mismatch;
}

export interface Mismatch {
  line: number;
  field: 'currency' | 'sku' | 'country';
  value: string;
}

export function refundTxid(order: string, ms: number): string {
  return `${order}/refund/${new Date(ms).toISOString().replace('.000Z', 'Z')}`;
}

/**
 * Whether a row (or a part's first row), at `line`, disagrees with its transaction's first
 * row (`currency`, `sku`, `country`), and how.
 */
export function mismatchOf(currency: string, sku: string, country: string, line: number, other: { currency: string; sku: string; country: string }): Mismatch | undefined {
  if (other.currency !== currency) return { line, field: 'currency', value: other.currency };
  if (other.sku !== sku) return { line, field: 'sku', value: other.sku };
  if (other.country !== country) return { line, field: 'country', value: other.country };
  return undefined;
}

/** The problem of a finished transaction (all its rows seen), if any. */
export function checkTx(tx: GoogleTx): string | undefined {
  const m = tx.mismatch;
  if (m) {
    const first = `line ${tx.firstLine} of the same order`;
    if (m.field === 'currency') return `line ${m.line} is in ${m.value}, ${first} in ${tx.currency}`;
    if (m.field === 'sku') return `line ${m.line} is for ${m.value}, ${first} for ${tx.sku}`;
    return `line ${m.line} is from ${m.value}, ${first} from ${tx.country}`;
  }
  const what = tx.kind === 'sale' ? 'order' : 'refund';
  // Each row's amount is a safe integer, but the rows of one order are summed as doubles: a
  // sum past 2^53 − 1 minor units (90 trillion dollars) is no longer exact, so it is refused
  // rather than stored a cent off.
  if (!(Number.isSafeInteger(tx.gross) && Number.isSafeInteger(tx.fee) && Number.isSafeInteger(tx.tax) && Number.isSafeInteger(tx.net))) {
    return `the ${what}'s rows sum past 2^53 − 1 minor units, more than a ledger amount holds exactly`;
  }
  if (!tx.hasCharge) return `the ${what} has ${tx.kind === 'sale' ? 'Google fee or Tax' : 'fee or tax refund'} rows but no ${tx.kind === 'sale' ? 'Charge' : 'Charge refund'} row`;
  if (tx.gross < 0) return `the ${what}'s charge rows sum to a ${tx.kind === 'sale' ? 'negative charge' : 'positive refund'} (${tx.gross})`;
  if (tx.fee < 0) return `the ${what}'s Google fee rows ${tx.kind === 'sale' ? 'pay money in' : 'take money out'} (${tx.fee})`;
  if (tx.tax < 0) return `the ${what}'s tax rows ${tx.kind === 'sale' ? 'pay money in' : 'take money out'} (${tx.tax})`;
  if (tx.fee + tx.tax > tx.gross) return `the ${what}'s fee and tax (${tx.fee + tx.tax}) exceed its charge (${tx.gross})`;
  return undefined;
}
