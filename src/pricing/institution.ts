/**
 * Institution quotes: the roadmap's `_determineInstitutionPricing` tables as an itemised
 * annual quote in USD cents. Integer math only: a discount is the subtotal times an exact
 * decimal rate, rounded half away from zero to the cent; total = subtotal − discount.
 */
import { formatMinor, parseDecimal, roundHalfAwayFromZero } from '../shared/money.js';

export const INSTITUTION_TYPES = ['public_school', 'private_school', 'daycare', 'homeschool_group'] as const;
export type InstitutionType = (typeof INSTITUTION_TYPES)[number];

type Table =
  | { model: 'per_student_annual'; unitMinor: number; minimumSeats: number; volumeDiscounts: Array<[threshold: number, rate: string]> }
  | { model: 'site_license'; baseMinor: number; includedStudents: number; additionalStudentMinor: number }
  | { model: 'group_discount'; unitMinor: number; minimumFamilies: number; groupDiscount: string };

/** The roadmap's four tables, exactly (prices in cents, rates as exact decimals). */
export const INSTITUTION_TABLES: Readonly<Record<InstitutionType, Table>> = {
  public_school: {
    model: 'per_student_annual', unitMinor: 299, minimumSeats: 25,
    volumeDiscounts: [[100, '0.15'], [500, '0.25'], [1000, '0.35']],
  },
  private_school: {
    model: 'per_student_annual', unitMinor: 499, minimumSeats: 10,
    volumeDiscounts: [[50, '0.10'], [200, '0.20'], [500, '0.30']],
  },
  daycare: { model: 'site_license', baseMinor: 19999, includedStudents: 50, additionalStudentMinor: 299 },
  homeschool_group: { model: 'group_discount', unitMinor: 7999, minimumFamilies: 5, groupDiscount: '0.20' },
};

export interface QuoteLine {
  label: string;
  quantity?: number;
  unitMinor?: number;
  /** Negative for a discount. */
  amountMinor: number;
}

export interface InstitutionQuote {
  type: InstitutionType;
  model: Table['model'];
  currency: 'USD';
  period: 'annual';
  /** Students, or families for a homeschool group, as asked. */
  count: number;
  unit: 'students' | 'families';
  /** Seats or families billed (at least the minimum). */
  billed: number;
  lines: QuoteLine[];
  subtotalMinor: number;
  /** The discount rate applied, as an exact decimal ("0.15"), or null. */
  discountRate: string | null;
  discountMinor: number;
  totalMinor: number;
}

/** "$2.99", "-$53.82": USD cents for labels and tables. */
export function usd(minor: number): string {
  const text = formatMinor(minor, 'USD');
  return text.startsWith('-') ? `-$${text.slice(1)}` : `$${text}`;
}

function percent(rate: string): string {
  const r = parseDecimal(rate)!;
  const hundredths = roundHalfAwayFromZero(r.num * 10_000n, r.den); // percent × 100
  const whole = hundredths / 100n;
  const frac = hundredths % 100n;
  return frac === 0n ? `${whole}%` : `${whole}.${String(frac).padStart(2, '0').replace(/0$/, '')}%`;
}

function discountOf(subtotal: number, rate: string): number {
  const r = parseDecimal(rate)!;
  return Number(roundHalfAwayFromZero(BigInt(subtotal) * r.num, r.den));
}

/** The itemised annual quote for `count` students (or families, for a homeschool group). */
export function quoteInstitution(type: InstitutionType, count: number): InstitutionQuote {
  if (!Number.isSafeInteger(count) || count < 1) throw new RangeError('count must be a whole number of at least 1');
  const t = INSTITUTION_TABLES[type];
  const lines: QuoteLine[] = [];
  let subtotal: number;
  let rate: string | null = null;
  let billed = count;
  let rateLabel = '';
  switch (t.model) {
    case 'per_student_annual': {
      billed = Math.max(count, t.minimumSeats);
      subtotal = billed * t.unitMinor;
      lines.push({
        label: `${billed} student seat${billed === 1 ? '' : 's'} × ${usd(t.unitMinor)} per year${billed > count ? ` (minimum ${t.minimumSeats} seats)` : ''}`,
        quantity: billed,
        unitMinor: t.unitMinor,
        amountMinor: subtotal,
      });
      for (const [threshold, r] of t.volumeDiscounts) {
        if (count >= threshold) {
          rate = r;
          rateLabel = `volume discount ${percent(r)} (${threshold}+ students)`;
        }
      }
      break;
    }
    case 'site_license': {
      const extra = Math.max(0, count - t.includedStudents);
      subtotal = t.baseMinor + extra * t.additionalStudentMinor;
      lines.push({ label: `site licence per year (includes ${t.includedStudents} students)`, quantity: 1, unitMinor: t.baseMinor, amountMinor: t.baseMinor });
      if (extra > 0) {
        lines.push({
          label: `${extra} additional student${extra === 1 ? '' : 's'} × ${usd(t.additionalStudentMinor)}`,
          quantity: extra,
          unitMinor: t.additionalStudentMinor,
          amountMinor: extra * t.additionalStudentMinor,
        });
      }
      break;
    }
    case 'group_discount': {
      billed = Math.max(count, t.minimumFamilies);
      subtotal = billed * t.unitMinor;
      lines.push({
        label: `${billed} famil${billed === 1 ? 'y' : 'ies'} × ${usd(t.unitMinor)} per year${billed > count ? ` (minimum ${t.minimumFamilies} families)` : ''}`,
        quantity: billed,
        unitMinor: t.unitMinor,
        amountMinor: subtotal,
      });
      rate = t.groupDiscount;
      rateLabel = `group discount ${percent(t.groupDiscount)}`;
      break;
    }
  }
  if (!Number.isSafeInteger(subtotal)) throw new RangeError(`count ${count} is too large for an exact quote`);
  const discount = rate === null ? 0 : discountOf(subtotal, rate);
  if (rate !== null) lines.push({ label: rateLabel, amountMinor: -discount });
  return {
    type,
    model: t.model,
    currency: 'USD',
    period: 'annual',
    count,
    unit: type === 'homeschool_group' ? 'families' : 'students',
    billed,
    lines,
    subtotalMinor: subtotal,
    discountRate: rate,
    discountMinor: discount,
    totalMinor: subtotal - discount,
  };
}
