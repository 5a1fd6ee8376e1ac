/**
 * Calendar months in UTC as `YYYY-MM` (PRODUCT.md §9: a period is a calendar month). Pure
 * helpers shared by payouts and subscriptions; no Date arithmetic that a time zone could move.
 */
export type Period = string; // 'YYYY-MM'

const PERIOD_RE = /^(\d{4})-(0[1-9]|1[0-2])$/;

export function isPeriod(text: string): boolean {
  return PERIOD_RE.test(text);
}

/**
 * A month a command takes as `--period`: YYYY-MM from 0001-01 to 9999-12. Year 0000 is a
 * stored month (timestamps reach it) but not one to report: a report looks 11 months back
 * (its history, annual subscriptions), and nothing comes before 0000-01.
 */
export function isPeriodArgument(text: string): boolean {
  return PERIOD_RE.test(text) && !text.startsWith('0000-');
}

/** Parsed periods: a ledger holds few months, and recognition asks for them once per row. */
const indexCache = new Map<string, number>();

/** Months since year 0: a total order on periods where consecutive months differ by 1. */
export function periodIndex(period: Period): number {
  const hit = indexCache.get(period);
  if (hit !== undefined) return hit;
  const m = PERIOD_RE.exec(period);
  if (!m) throw new RangeError(`not a period: ${period}`);
  const index = Number(m[1]) * 12 + (Number(m[2]) - 1);
  if (indexCache.size < 4096) indexCache.set(period, index);
  return index;
}

export function periodFromIndex(index: number): Period {
  // Before 0000-01 there is no four-digit year: a caller looking back past it is a bug.
  if (!Number.isSafeInteger(index) || index < 0) throw new RangeError(`no month before 0000-01 (index ${index})`);
  const year = Math.floor(index / 12);
  const month = (index % 12) + 1;
  return `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}`;
}

export function addMonths(period: Period, n: number): Period {
  return periodFromIndex(periodIndex(period) + n);
}

/**
 * The first instant (UTC, ISO) of the month after `period`, as a bound that compares with
 * stored instants as text. After 9999-12 it is ISO 8601's end of day, 9999-12-31T24:00,
 * which sorts after every instant of the year 9999 (a year 10000 would sort before them).
 */
export function nextPeriodStart(period: Period): string {
  const next = addMonths(period, 1);
  return next.length > 7 ? '9999-12-31T24:00:00.000Z' : `${next}-01T00:00:00.000Z`;
}

/** The first instant of the month after `period`, in milliseconds since 1970 (UTC). */
export function periodEndMs(period: Period): number {
  const next = periodIndex(period) + 1;
  const d = new Date(0);
  // setUTCFullYear, not Date.UTC: Date.UTC maps the years 0–99 to 1900–1999.
  d.setUTCFullYear(Math.floor(next / 12), next % 12, 1);
  return d.getTime();
}

/** Calendar months from `from` to `to` inclusive (0 when `to` is before `from`). */
export function monthsBetweenInclusive(from: Period, to: Period): number {
  const diff = periodIndex(to) - periodIndex(from);
  return diff < 0 ? 0 : diff + 1;
}

/** Days in a calendar month (Gregorian leap years). */
export function daysInMonth(period: Period): number {
  const index = periodIndex(period);
  const year = Math.floor(index / 12);
  const month = (index % 12) + 1;
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}
