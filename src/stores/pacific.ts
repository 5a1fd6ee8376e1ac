/**
 * Pacific time (America/Los_Angeles), as the stores write it: Google's earnings rows carry
 * a wall time with `PST` or `PDT`, Apple's fiscal dates are Pacific calendar days. The
 * offset of an instant comes from the runtime's time-zone data (Intl), never from a
 * hand-kept DST table.
 */

const ZONE = 'America/Los_Angeles';

let formatter: Intl.DateTimeFormat | undefined;
const offsetCache = new Map<number, number>();

/** The UTC offset (minutes, −480 for PST, −420 for PDT) of Los Angeles at `utcMs`. */
export function pacificOffsetMinutes(utcMs: number): number {
  // Offsets change only on the hour: cache per UTC hour.
  const hour = Math.floor(utcMs / 3_600_000);
  const cached = offsetCache.get(hour);
  if (cached !== undefined) return cached;
  formatter ??= new Intl.DateTimeFormat('en-US', {
    timeZone: ZONE,
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
    second: 'numeric',
  });
  const parts = new Map(formatter.formatToParts(new Date(hour * 3_600_000)).map((p) => [p.type, p.value]));
  const wall = Date.UTC(
    Number(parts.get('year')),
    Number(parts.get('month')) - 1,
    Number(parts.get('day')),
    Number(parts.get('hour')),
    Number(parts.get('minute')),
    Number(parts.get('second')),
  );
  const offset = Math.round((wall - hour * 3_600_000) / 60_000);
  if (offsetCache.size > 100_000) offsetCache.clear();
  offsetCache.set(hour, offset);
  return offset;
}

export interface WallTime {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

const ABBREVIATIONS: ReadonlyMap<string, number> = new Map([
  ['PST', -480],
  ['PDT', -420],
]);

/**
 * A Pacific wall time to UTC milliseconds. With `zone` (`PST`/`PDT`) the wall time is read
 * at that offset, and it must be the offset Los Angeles really had then (a `PST` in July
 * is an error, and the repeated hour of November is told apart by it). Without `zone` the
 * offset in force is used; a wall time that does not exist (the skipped hour of March) is
 * an error, and the repeated hour takes its first (daylight) reading.
 */
export function pacificToUtc(wall: WallTime, zone?: string): { ok: true; ms: number } | { ok: false; message: string } {
  const asUtc = Date.UTC(wall.year, wall.month - 1, wall.day, wall.hour, wall.minute, wall.second);
  if (zone !== undefined) {
    const offset = ABBREVIATIONS.get(zone.toUpperCase());
    if (offset === undefined) return { ok: false, message: `the time zone "${zone}" is not PST or PDT` };
    const ms = asUtc - offset * 60_000;
    if (pacificOffsetMinutes(ms) !== offset) {
      return { ok: false, message: `Los Angeles was not on ${zone.toUpperCase()} at that date and time` };
    }
    return { ok: true, ms };
  }
  for (const offset of [-420, -480]) {
    const ms = asUtc - offset * 60_000;
    if (pacificOffsetMinutes(ms) === offset) return { ok: true, ms };
  }
  return { ok: false, message: 'that wall time does not exist in Los Angeles (the hour skipped when daylight time starts)' };
}

/** The first instant (UTC ms) of a Pacific calendar day. */
export function pacificDayStart(year: number, month: number, day: number): number {
  const r = pacificToUtc({ year, month, day, hour: 0, minute: 0, second: 0 });
  // Midnight always exists in Los Angeles (its DST switches happen at 02:00).
  if (!r.ok) throw new RangeError(`no midnight on ${year}-${month}-${day} in ${ZONE}`);
  return r.ms;
}

/** The first instant after a Pacific calendar day (the start of the next day). */
export function pacificDayEnd(year: number, month: number, day: number): number {
  const next = new Date(Date.UTC(year, month - 1, day + 1));
  return pacificDayStart(next.getUTCFullYear(), next.getUTCMonth() + 1, next.getUTCDate());
}

/** Whether y-m-d is a real calendar date. */
export function realDate(year: number, month: number, day: number): boolean {
  const t = new Date(Date.UTC(year, month - 1, day));
  return month >= 1 && month <= 12 && t.getUTCFullYear() === year && t.getUTCMonth() === month - 1 && t.getUTCDate() === day;
}
