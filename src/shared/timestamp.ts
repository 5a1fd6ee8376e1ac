/**
 * The one timestamp parser for every instant packops takes from outside: sales, refunds and
 * reviews in imports (`occurred_at`, `reviewed_at`), and `--published-at` of `catalog add`
 * and `release`. One strict form, nothing else:
 *
 *   YYYY-MM-DDThh:mm:ss[.f{1,3}](Z|±hh:mm)
 *
 * A real calendar date and a real time (no Feb 30, no 24:00, no leap second), a four-digit
 * year (no extended "+275760-…" years), an upper-case T and Z, and a UTC offset from −12:00
 * to +14:00 (the offsets in use on Earth). A date with no time or a time with no zone is its
 * own problem (`zone`): it is an instant only once the zone is known.
 */

import { inputError } from './errors.js';

export interface Instant {
  /** UTC, ISO 8601 with milliseconds: 2026-10-03T14:05:00.000Z. */
  iso: string;
  /** YYYY-MM in UTC. */
  month: string;
  ms: number;
}

export type InstantProblem =
  /** A date, or a date and time, without a zone. */
  | { kind: 'zone'; message: string }
  /** Not the strict form, not a real date or time, or an offset out of range. */
  | { kind: 'invalid'; message: string };

export type ParsedInstant = { ok: true; value: Instant } | { ok: false; problem: InstantProblem };

export const TIMESTAMP_FORM = 'YYYY-MM-DDThh:mm:ss[.fff](Z|±hh:mm)';
/** Offsets in use on Earth: UTC−12:00 (Baker Island) to UTC+14:00 (Line Islands). */
export const MIN_OFFSET_MINUTES = -12 * 60;
export const MAX_OFFSET_MINUTES = 14 * 60;

const STRICT = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,3}))?(?:(Z)|([+-])(\d{2}):(\d{2}))$/;
/** The same without a zone (or without seconds): recognised only to say what is missing. */
const ZONELESS = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$/;
/** The common form 2026-10-03T14:05:00Z, whose date part's validity is cached. */
const FAST_UTC = /^(\d{4})-(\d{2})-(\d{2})T([01]\d|2[0-3]):([0-5]\d):([0-5]\d)Z$/;
const validDays = new Map<string, boolean>();

export function isRealDate(y: number, m: number, d: number): boolean {
  const t = new Date(Date.UTC(y, m - 1, d));
  // Date.UTC maps years 0–99 to 1900–1999; setUTCFullYear does not.
  t.setUTCFullYear(y, m - 1, d);
  return m >= 1 && m <= 12 && t.getUTCFullYear() === y && t.getUTCMonth() === m - 1 && t.getUTCDate() === d;
}

const bad = (message: string): ParsedInstant => ({ ok: false, problem: { kind: 'invalid', message } });

/** Parses `text` (already a string, not trimmed: surrounding spaces are not the form). */
export function parseInstant(text: string): ParsedInstant {
  if (text.length === 20 && FAST_UTC.test(text)) {
    const day = text.slice(0, 10);
    let valid = validDays.get(day);
    if (valid === undefined) {
      valid = isRealDate(Number(text.slice(0, 4)), Number(text.slice(5, 7)), Number(text.slice(8, 10)));
      if (validDays.size >= 100_000) validDays.clear();
      validDays.set(day, valid);
    }
    if (valid) {
      const iso = `${text.slice(0, 19)}.000Z`;
      const ms = Date.parse(iso);
      if (!Number.isNaN(ms)) return { ok: true, value: { iso, month: text.slice(0, 7), ms } };
    }
  }
  const shown = JSON.stringify(text.length > 64 ? `${text.slice(0, 64)}…` : text);
  const m = STRICT.exec(text);
  if (!m) {
    if (ZONELESS.test(text)) {
      return {
        ok: false,
        problem: { kind: 'zone', message: `${shown} has no time zone; write it as ${TIMESTAMP_FORM}, e.g. 2026-10-03T14:05:00Z or 2026-10-03T14:05:00+01:00.` },
      };
    }
    return bad(`${shown} is not a timestamp of the form ${TIMESTAMP_FORM} (e.g. 2026-10-03T14:05:00Z).`);
  }
  const [y, mo, d, h, mi, s] = [m[1], m[2], m[3], m[4], m[5], m[6]].map(Number) as [number, number, number, number, number, number];
  const frac = m[7] === undefined ? 0 : Number(m[7].padEnd(3, '0'));
  if (!isRealDate(y, mo, d)) return bad(`${shown} is not a real date.`);
  if (h > 23 || mi > 59 || s > 59) return bad(`${shown} is not a real time of day (00:00:00 to 23:59:59).`);
  let offset = 0;
  if (m[8] === undefined) {
    const oh = Number(m[10]);
    const om = Number(m[11]);
    if (om > 59) return bad(`${shown} has an invalid offset.`);
    offset = (m[9] === '-' ? -1 : 1) * (oh * 60 + om);
    if (offset < MIN_OFFSET_MINUTES || offset > MAX_OFFSET_MINUTES) {
      return bad(`${shown} has the offset ${m[9]}${m[10]}:${m[11]}, outside −12:00…+14:00 (the offsets in use).`);
    }
  }
  const local = new Date(0);
  local.setUTCFullYear(y, mo - 1, d);
  local.setUTCHours(h, mi, s, frac);
  const ms = local.getTime() - offset * 60_000;
  const utc = new Date(ms);
  const year = utc.getUTCFullYear();
  // An offset can move year 0000 or 9999 across its edge: still a four-digit UTC year.
  if (Number.isNaN(ms) || year < 0 || year > 9999) return bad(`${shown} is outside the years 0000–9999 in UTC.`);
  const iso = utc.toISOString();
  return { ok: true, value: { iso, month: iso.slice(0, 7), ms } };
}

/**
 * A `--published-at` value (catalog add, release): the same strict form, as a UTC ISO
 * instant; anything else is PUBLISHED_AT_INVALID (exit 3), naming the form.
 */
export function publishedAtInstant(text: string): Instant {
  const parsed = parseInstant(text);
  if (parsed.ok) return parsed.value;
  throw inputError('PUBLISHED_AT_INVALID', `published-at ${parsed.problem.message}`, {
    hint: `Use ${TIMESTAMP_FORM}, for example 2026-10-01T09:00:00Z.`,
    details: { publishedAt: text.length > 64 ? `${text.slice(0, 64)}…` : text },
  });
}
