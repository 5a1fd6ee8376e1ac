/**
 * The App Store Connect Payments and Financial Reports (platform-facts §1.3): the
 * per-region tab-separated layout with its `Total_Rows` / `Total_Amount` / `Total_Units`
 * trailer, and the newer transaction-level layout (a preamble, a header, rows, then a
 * summary block per country and currency), told apart by their headers. Apple reports
 * proceeds only: a line's money is its `Extended Partner Share` (= Quantity × Partner
 * Share). The trailer and the summary block are checksums over the rows. Pure: no
 * database, no files.
 */
import { inputError } from '../shared/errors.js';
import { isCountryCode } from '../shared/countries.js';
import { isCurrencyCode, minorUnitExponent } from '../shared/money.js';
import { decimalToMinor } from './amounts.js';
import type { StoreProblem } from './googleplay.js';
import { formatUnknown, matchHeader, requiredNames, type ColumnDef, type ColumnIndex } from './header.js';
import { pacificDayEnd, pacificDayStart, realDate } from './pacific.js';

type AppleKey =
  | 'start' | 'end' | 'txDate' | 'product' | 'quantity' | 'share' | 'extended' | 'currency' | 'saleOrReturn' | 'country' | 'promo';

/** The per-region layout (the 2014 header and the documented field names). */
export const APPLE_REGION_COLUMNS: ReadonlyArray<ColumnDef<AppleKey>> = [
  { key: 'start', names: ['Start Date'], required: true },
  { key: 'end', names: ['End Date'], required: true },
  { key: 'product', names: ['Vendor Identifier'], required: true },
  { key: 'quantity', names: ['Quantity'], required: true },
  { key: 'share', names: ['Partner Share'], required: true },
  { key: 'extended', names: ['Extended Partner Share'], required: true },
  { key: 'currency', names: ['Partner Share Currency'], required: true },
  { key: 'saleOrReturn', names: ['Sales or Return', 'Sale or Return'], required: true },
  { key: 'country', names: ['Country Of Sale', 'Country of Sale'], required: true },
  { key: 'promo', names: ['Promo Code'], required: false },
];

/** The transaction-level layout. */
export const APPLE_TRANSACTION_COLUMNS: ReadonlyArray<ColumnDef<AppleKey>> = [
  { key: 'txDate', names: ['Transaction Date'], required: true },
  { key: 'product', names: ['SKU', 'Vendor Identifier'], required: true },
  { key: 'quantity', names: ['Quantity'], required: true },
  { key: 'share', names: ['Partner Share'], required: true },
  { key: 'extended', names: ['Extended Partner Share'], required: true },
  { key: 'currency', names: ['Partner Share Currency'], required: true },
  { key: 'saleOrReturn', names: ['Sale or Return', 'Sales or Return'], required: true },
  { key: 'country', names: ['Country of Sale', 'Country Of Sale'], required: true },
  { key: 'promo', names: ['Promo Code'], required: false },
];

export type AppleLayout = 'region' | 'transaction';

export interface Day {
  year: number;
  month: number;
  day: number;
}

export interface AppleLine {
  line: number;
  start: Day;
  end: Day;
  /** UTC ms: the first instant of the start day and the first after the end day, Pacific time. */
  fromMs: number;
  untilMs: number;
  /** YYYY-MM: the calendar month of the line's (report's) end date. */
  month: string;
  product: string;
  /** Units: positive for a sale, negative for a return. */
  quantity: number;
  kind: 'sale' | 'refund';
  currency: string;
  /** One unit's proceeds, minor units, non-negative. */
  shareMinor: number;
  /** The line's proceeds, minor units, signed (negative for a return). */
  extendedMinor: number;
  country: string;
  promo: string;
}

const DAY = /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/;

export function appleDay(text: string): Day | undefined {
  const m = DAY.exec(text);
  if (!m) return undefined;
  const d = { year: Number(m[3]), month: Number(m[1]), day: Number(m[2]) };
  return realDate(d.year, d.month, d.day) ? d : undefined;
}

function dayText(d: Day): string {
  return `${d.year}-${String(d.month).padStart(2, '0')}-${String(d.day).padStart(2, '0')}`;
}

export function formatDay(d: Day): string {
  return dayText(d);
}

const TRAILER_KEYS = new Set(['total_rows', 'total_amount', 'total_units']);

/**
 * Reads an App Store report record by record: finds the layout from the header, parses
 * data lines, then checks the trailer (per-region) or summary block (transaction-level)
 * against them. `finish()` throws REPORT_TRUNCATED or REPORT_TOTALS_MISMATCH.
 */
export class AppleReportReader {
  layout: AppleLayout | undefined;
  private index: ColumnIndex<AppleKey> | undefined;
  private width = 0;
  private preamble = new Map<string, string>();
  private preambleLines = 0;
  private section: 'head' | 'rows' | 'trailer' | 'summary' = 'head';
  private lastLine = 0;
  /** Checksums over the data lines: rows, Σ extended share in hundredths, Σ sale units. */
  private rows = 0;
  private amountHundredths = 0;
  private saleUnits = 0;
  private trailer = new Map<string, { value: string; line: number }>();
  private summaryWidth = 0;
  private bySummaryKey = new Map<string, { quantity: number; hundredths: number }>();
  private summaries: Array<{ line: number; country: string; currency: string; quantity: string; amount: string }> = [];
  /** The first line's start and end (what keys were derived from before 2026-12: see legacyKey). */
  period: { start: Day; end: Day } | undefined;
  /** The earliest start and latest end of all lines (`YYYY-MM-DD`). */
  private first: string | undefined;
  private last: string | undefined;
  readonly currencies = new Set<string>();
  readonly countries = new Set<string>();

  constructor(private readonly label: string) {}

  /** Parses one record: a data line, a problem list, or null (header, preamble, trailer). */
  accept(line: number, raw: readonly string[]): AppleLine | StoreProblem[] | null {
    this.lastLine = line;
    const cells = raw.map((c) => c.trim());
    if (this.section === 'head') {
      this.findHeader(line, cells);
      return null;
    }
    const first = (cells[0] ?? '').toLowerCase();
    if (this.layout === 'region' && TRAILER_KEYS.has(first) && cells.length <= 2) {
      this.section = 'trailer';
      if (this.trailer.has(first)) return [{ line, column: cells[0]!, code: 'ROW_INVALID', message: `${cells[0]} appears twice in the trailer.` }];
      this.trailer.set(first, { value: cells[1] ?? '', line });
      return null;
    }
    if (this.section === 'trailer') {
      return [{ line, column: '*', code: 'ROW_INVALID', message: 'A line after the Total_Rows/Total_Amount/Total_Units trailer.' }];
    }
    if (this.layout === 'transaction') {
      if (this.section === 'summary') return this.summaryLine(line, cells);
      if (first === 'country of sale' && cells.some((c) => c.toLowerCase() === 'extended partner share') && cells.length < this.width) {
        this.section = 'summary';
        this.summaryWidth = cells.length;
        return null;
      }
    }
    return this.dataLine(line, cells);
  }

  private findHeader(line: number, cells: string[]): void {
    const region = matchHeader(cells, APPLE_REGION_COLUMNS);
    if (region) {
      this.layout = 'region';
      this.index = region;
    } else {
      const tx = matchHeader(cells, APPLE_TRANSACTION_COLUMNS);
      if (tx) {
        this.layout = 'transaction';
        this.index = tx;
      }
    }
    if (this.index) {
      this.width = cells.length;
      this.section = 'rows';
      return;
    }
    // A preamble line of the transaction-level layout: "Key<TAB>Value".
    const googleLike = cells.length === 1 && /^"?description"?,/i.test(cells[0] ?? '');
    if (!googleLike && cells.length <= 3 && this.preambleLines < 20 && cells[0] && !cells.some((c) => c.toLowerCase() === 'quantity')) {
      this.preambleLines++;
      this.preamble.set(cells[0].toLowerCase(), cells[1] ?? '');
      return;
    }
    formatUnknown(
      this.label,
      'an App Store financial report',
      [...requiredNames(APPLE_REGION_COLUMNS), `(or the transaction-level layout: ${requiredNames(APPLE_TRANSACTION_COLUMNS).join(', ')})`],
      cells.length === 1 ? (cells[0] ?? '').split(',') : cells,
      googleLike ? ' (it is comma-separated with Description first, like a Google Play earnings report: use `ledger import googleplay`)' : ` (line ${line})`,
    );
  }

  private dataLine(line: number, cells: string[]): AppleLine | StoreProblem[] {
    if (cells.length !== this.width) {
      return [{ line, column: '*', code: 'ROW_INVALID', message: `The line has ${cells.length} fields; the header has ${this.width} (a truncated or broken line).` }];
    }
    const ix = this.index!;
    const cell = (k: AppleKey): string => (ix[k] < 0 ? '' : cells[ix[k]]!);
    const problems: StoreProblem[] = [];
    const bad = (column: string, message: string): void => {
      problems.push({ line, column, code: 'ROW_INVALID', message });
    };
    let start: Day | undefined;
    let end: Day | undefined;
    if (this.layout === 'region') {
      start = appleDay(cell('start'));
      end = appleDay(cell('end'));
      if (!start) bad('Start Date', `Start Date "${cell('start')}" is not a date (MM/DD/YYYY).`);
      if (!end) bad('End Date', `End Date "${cell('end')}" is not a date (MM/DD/YYYY).`);
      if (start && end && dayText(end) < dayText(start)) bad('End Date', 'End Date is before Start Date.');
    } else {
      start = end = appleDay(cell('txDate'));
      if (!start) bad('Transaction Date', `Transaction Date "${cell('txDate')}" is not a date (MM/DD/YYYY).`);
    }
    const product = cell('product');
    if (product === '' || product.length > 200) bad(this.layout === 'region' ? 'Vendor Identifier' : 'SKU', product === '' ? 'The product id is empty.' : 'The product id is longer than 200 characters.');
    const qText = cell('quantity');
    const quantity = /^[+-]?\d{1,9}$/.test(qText) ? Number(qText) : undefined;
    if (quantity === undefined || quantity === 0) bad('Quantity', `Quantity "${qText}" is not a non-zero whole number.`);
    const sr = cell('saleOrReturn').toUpperCase();
    if (sr !== 'S' && sr !== 'R') bad('Sale or Return', `Sale or Return is "${cell('saleOrReturn')}"; expected S or R.`);
    else if (quantity !== undefined && quantity !== 0 && (sr === 'S') !== quantity > 0) {
      bad('Quantity', `A ${sr === 'S' ? 'sale' : 'return'} line has quantity ${quantity}; sales are positive and returns negative.`);
    }
    const country = cell('country');
    if (!isCountryCode(country)) bad('Country of Sale', `Country of Sale "${country}" is not an ISO 3166-1 alpha-2 code.`);
    const currency = cell('currency');
    const exponent = isCurrencyCode(currency) ? minorUnitExponent(currency) : undefined;
    let shareMinor = 0;
    let extendedMinor = 0;
    let extendedHundredths = 0;
    if (exponent === undefined) bad('Partner Share Currency', `Partner Share Currency "${currency}" is not an ISO 4217 code.`);
    else {
      const s = decimalToMinor(cell('share'), exponent, currency);
      const e = decimalToMinor(cell('extended'), exponent, currency);
      // Apple writes two decimals whatever the currency: the checksums are in hundredths.
      const h = decimalToMinor(cell('extended'), 2, currency);
      if (!s.ok) bad('Partner Share', `Partner Share ${s.message}.`);
      else if (s.minor < 0) bad('Partner Share', `Partner Share ${cell('share')} is negative; it is one unit's proceeds, always positive.`);
      else shareMinor = s.minor;
      if (!e.ok) bad('Extended Partner Share', `Extended Partner Share ${e.message}.`);
      else extendedMinor = e.minor;
      if (h.ok) extendedHundredths = h.minor;
      if (s.ok && e.ok && quantity !== undefined && s.minor >= 0 && quantity * s.minor !== e.minor) {
        bad('Extended Partner Share', `Extended Partner Share ${cell('extended')} is not Quantity × Partner Share (${quantity} × ${cell('share')}).`);
      }
    }
    // Checksums count every data line as written, good or bad, as Apple did.
    this.rows++;
    if (quantity !== undefined && sr === 'S') this.saleUnits += quantity;
    this.amountHundredths += extendedHundredths;
    if (this.layout === 'transaction' && quantity !== undefined) {
      const key = `${country}\u0000${currency}`;
      const s = this.bySummaryKey.get(key) ?? { quantity: 0, hundredths: 0 };
      s.quantity += quantity;
      s.hundredths += extendedHundredths;
      this.bySummaryKey.set(key, s);
    }
    if (problems.length) return problems;
    let reportEnd = end!;
    if (this.layout === 'transaction') {
      const pe = appleDay(this.preamble.get('end date') ?? '');
      if (pe) reportEnd = pe;
    }
    this.period ??= { start: start!, end: reportEnd };
    const from = dayText(start!);
    const to = dayText(reportEnd);
    if (this.first === undefined || from < this.first) this.first = from;
    if (this.last === undefined || to > this.last) this.last = to;
    this.currencies.add(currency);
    this.countries.add(country);
    return {
      line,
      start: start!,
      end: end!,
      fromMs: pacificDayStart(start!.year, start!.month, start!.day),
      untilMs: pacificDayEnd(end!.year, end!.month, end!.day),
      month: `${reportEnd.year}-${String(reportEnd.month).padStart(2, '0')}`,
      product,
      quantity: quantity!,
      kind: sr === 'S' ? 'sale' : 'refund',
      currency,
      shareMinor,
      extendedMinor,
      country,
      promo: cell('promo'),
    };
  }

  private summaryLine(line: number, cells: string[]): StoreProblem[] | null {
    if (cells.length !== this.summaryWidth) {
      return [{ line, column: '*', code: 'ROW_INVALID', message: `The summary line has ${cells.length} fields; its header has ${this.summaryWidth}.` }];
    }
    this.summaries.push({ line, country: cells[0]!, currency: cells[1]!, quantity: cells[2]!, amount: cells[3]! });
    return null;
  }

  /** The checksums, once every record is read: a missing trailer is a truncated file. */
  finish(): void {
    if (this.section === 'head') {
      throw inputError('REPORT_FORMAT_UNKNOWN', `${this.label} has no App Store report header; nothing was imported.`, {
        hint: `Expected a header with: ${requiredNames(APPLE_REGION_COLUMNS).join(', ')}.`,
        details: { file: this.label },
      });
    }
    const mismatches: Array<{ field: string; report: string; rows: string; line: number }> = [];
    if (this.layout === 'region') {
      const missing = ['total_rows', 'total_amount', 'total_units'].filter((k) => !this.trailer.has(k));
      if (missing.length) {
        throw inputError('REPORT_TRUNCATED', `${this.label} ends at line ${this.lastLine} without its ${missing.map(trailerName).join(', ')} trailer line(s): the file is truncated; nothing was imported.`, {
          hint: 'Download the report again; a complete file ends with Total_Rows, Total_Amount and Total_Units.',
          details: { file: this.label, line: this.lastLine, missing: missing.map(trailerName) },
        });
      }
      const rowsT = this.trailer.get('total_rows')!;
      const amountT = this.trailer.get('total_amount')!;
      const unitsT = this.trailer.get('total_units')!;
      if (rowsT.value !== String(this.rows)) mismatches.push({ field: 'Total_Rows', report: rowsT.value, rows: String(this.rows), line: rowsT.line });
      const amount = decimalToMinor(amountT.value, 2, 'the report');
      if (!amount.ok || amount.minor !== this.amountHundredths) {
        mismatches.push({ field: 'Total_Amount', report: amountT.value, rows: hundredthsText(this.amountHundredths), line: amountT.line });
      }
      if (unitsT.value !== String(this.saleUnits)) mismatches.push({ field: 'Total_Units', report: unitsT.value, rows: String(this.saleUnits), line: unitsT.line });
    } else {
      if (this.section !== 'summary') {
        throw inputError('REPORT_TRUNCATED', `${this.label} ends at line ${this.lastLine} without its summary block (Country Of Sale, Partner Share Currency, Quantity, Extended Partner Share): the file is truncated; nothing was imported.`, {
          hint: 'Download the report again.',
          details: { file: this.label, line: this.lastLine },
        });
      }
      const seen = new Set<string>();
      for (const s of this.summaries) {
        const key = `${s.country}\u0000${s.currency}`;
        seen.add(key);
        const rows = this.bySummaryKey.get(key) ?? { quantity: 0, hundredths: 0 };
        if (s.quantity !== String(rows.quantity)) mismatches.push({ field: `Quantity ${s.country} ${s.currency}`, report: s.quantity, rows: String(rows.quantity), line: s.line });
        const amount = decimalToMinor(s.amount, 2, s.currency);
        if (!amount.ok || amount.minor !== rows.hundredths) {
          mismatches.push({ field: `Extended Partner Share ${s.country} ${s.currency}`, report: s.amount, rows: hundredthsText(rows.hundredths), line: s.line });
        }
      }
      for (const [key, rows] of this.bySummaryKey) {
        if (!seen.has(key)) {
          const [country, currency] = key.split('\u0000');
          mismatches.push({ field: `${country} ${currency}`, report: '(no summary line)', rows: `${rows.quantity} units, ${hundredthsText(rows.hundredths)}`, line: this.lastLine });
        }
      }
    }
    if (mismatches.length) {
      throw inputError(
        'REPORT_TOTALS_MISMATCH',
        `${this.label}: the report's own totals disagree with its lines (${mismatches.map((m) => `${m.field} ${m.report} ≠ ${m.rows}`).join('; ')}); nothing was imported.`,
        { hint: 'The file is damaged or was edited: download it again from App Store Connect.', details: { file: this.label, mismatches } },
      );
    }
  }

  /**
   * The key naming this report among its corrections, from its content alone, so a copy
   * under another name and a re-issued (corrected) file of the same report get the same one:
   * the layout; the period (the transaction-level layout states it in its preamble, Start
   * Date and End Date; otherwise the earliest start and the latest end of all its lines, not
   * the first line's, which a re-issued file may change); its currencies; and the countries
   * it sells in (two regions may share a currency: US and Rest of World both pay USD). The
   * file name is never used: Apple's region code in it is lost when a file is renamed.
   */
  reportKey(): string {
    const stated = this.layout === 'transaction' ? [appleDay(this.preamble.get('start date') ?? ''), appleDay(this.preamble.get('end date') ?? '')] : [];
    const period = stated[0] && stated[1] ? `${dayText(stated[0])}..${dayText(stated[1])}` : this.first ? `${this.first}..${this.last!}` : 'empty';
    return `appstore:${this.layout}:${period}:${[...this.currencies].sort().join(',')}:${[...this.countries].sort().join(',')}`;
  }

  /** The key earlier versions derived (first line's period, the region in the file name): its predecessors may be recorded under it. */
  legacyKey(regionHint: string | undefined): string {
    const p = this.period;
    const period = p ? `${dayText(p.start)}..${dayText(p.end)}` : 'empty';
    const region = regionHint ?? [...this.countries].sort().join(',');
    return `appstore:${this.layout}:${period}:${[...this.currencies].sort().join(',')}:${region}`;
  }
}

function trailerName(key: string): string {
  return key === 'total_rows' ? 'Total_Rows' : key === 'total_amount' ? 'Total_Amount' : 'Total_Units';
}

function hundredthsText(h: number): string {
  const sign = h < 0 ? '-' : '';
  const a = Math.abs(h);
  return `${sign}${Math.floor(a / 100)}.${String(a % 100).padStart(2, '0')}`;
}

/** The region code in Apple's file name `<vendor>_<MMYY>_<REGION>.txt`, if it has one (legacy keys only). */
export function regionFromName(name: string): string | undefined {
  const m = /_\d{4}_([A-Z0-9]{2,3})(?:\.txt)?(?:\.gz)?$/i.exec(name);
  return m ? m[1]!.toUpperCase() : undefined;
}
