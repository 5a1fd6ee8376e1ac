/**
 * SOURCE_DATE_EPOCH, as reproducible-builds.org defines it: a decimal count of seconds since
 * 1970-01-01 UTC. One parser for every command that honours it (build, catalog publish,
 * release), so the same value can never pass one step and fail the next. It is also the
 * clock of date rules (the catalog's publish day, whether a month has ended for `payouts
 * close`), so tests and reproducible runs pin "now" with one variable.
 */
import { inputError } from './errors.js';

export function sourceDateEpochFrom(env: NodeJS.ProcessEnv): number | undefined {
  const raw = env.SOURCE_DATE_EPOCH;
  if (raw === undefined || raw === '') return undefined;
  // At most 12 digits: year 33658 at the latest, so the value stays an exact safe integer.
  if (!/^\d{1,12}$/.test(raw)) {
    throw inputError('SOURCE_DATE_EPOCH_INVALID', `SOURCE_DATE_EPOCH must be whole seconds since 1970 (a whole number), not "${raw}".`);
  }
  return Number(raw);
}

/** SOURCE_DATE_EPOCH (whole seconds since 1970) as the clock, or the real clock. */
export function clockFromEnv(env: NodeJS.ProcessEnv, fallback: () => Date = () => new Date()): Date {
  const seconds = sourceDateEpochFrom(env);
  return seconds === undefined ? fallback() : new Date(seconds * 1000);
}

/** The UTC day (YYYY-MM-DD) of an instant. */
export function utcDay(d: Date): string {
  return d.toISOString().slice(0, 10);
}
