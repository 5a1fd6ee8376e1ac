/**
 * Reading values back out of the ledger. SQLite keeps whatever a row was given (text in an
 * INTEGER column, a REAL where cents belong), and a ledger file can be edited by hand or by
 * another tool, so a stored value is checked where it is read, like any input: a value that
 * is not what packops wrote is LEDGER_CORRUPT (exit 3), naming the table, the row and the
 * column, never an internal error and never a silently wrong statement.
 */
import { inputError, type PackopsError } from '../shared/errors.js';
import { parseDecimal, type Rational } from '../shared/money.js';
import { parseInstant } from '../shared/timestamp.js';
import { isPeriod } from '../shared/period.js';

/** Where a stored value came from: the table, a readable key of its row, the column. */
export interface StoredAt {
  table: string;
  /** e.g. "slug=ocean-creatures version=1.0.0", "store=web transaction_id=t1". */
  row: string;
  column: string;
}

/**
 * A StoredAt, or how to make one: a reader checking many values (every amount of every
 * charge of a month) passes a function, so the row's name is only built for a bad value.
 */
export type StoredWhere = StoredAt | (() => StoredAt);

/** A column of a `sales` row, named by its key. */
export function saleAt(r: { store: string; transaction_id: string }, column: string): StoredAt {
  return { table: 'sales', row: `store=${r.store} transaction_id=${r.transaction_id}`, column };
}

function shown(value: unknown): string {
  if (value === null) return 'NULL';
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value);
  return String(value);
}

export function ledgerCorrupt(where: StoredWhere, value: unknown, expected: string): PackopsError {
  const at = typeof where === 'function' ? where() : where;
  return inputError('LEDGER_CORRUPT', `The ledger is damaged: ${at.table} (${at.row}) has ${at.column} = ${shown(value)}, which is not ${expected}.`, {
    hint: 'The file was changed outside packops. Restore it from a backup, or correct that row with the sqlite3 tool.',
    details: { table: at.table, row: at.row, column: at.column },
  });
}

/** A whole number in [min, max] (safe integers only): counts, cents, basis points. */
export function storedInteger(at: StoredWhere, value: unknown, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= min && value <= max) return value;
  if (typeof value === 'bigint' && value >= BigInt(min) && value <= BigInt(max)) return Number(value);
  throw ledgerCorrupt(at, value, min === 0 ? 'a whole number ≥ 0' : `a whole number from ${min} to ${max}`);
}

/** An amount of minor units as a BigInt (never negative as stored). */
export function storedMinor(at: StoredWhere, value: unknown): bigint {
  return BigInt(storedInteger(at, value));
}

/** A signed amount of minor units (balances carried forward can be negative). */
export function storedSignedMinor(at: StoredWhere, value: unknown): bigint {
  return BigInt(storedInteger(at, value, Number.MIN_SAFE_INTEGER));
}

/** An instant packops stored (UTC ISO); returned in its canonical form. */
export function storedInstant(at: StoredWhere, value: unknown): string {
  if (typeof value === 'string') {
    const parsed = parseInstant(value);
    if (parsed.ok) return parsed.value.iso;
  }
  throw ledgerCorrupt(at, value, 'an ISO 8601 instant');
}

export function storedMonth(at: StoredWhere, value: unknown): string {
  if (typeof value === 'string' && isPeriod(value)) return value;
  throw ledgerCorrupt(at, value, 'a month (YYYY-MM)');
}

/** An exact non-negative decimal string ("1.2650", "72.50"). */
export function storedDecimal(at: StoredWhere, value: unknown): { text: string; value: Rational } {
  const text = typeof value === 'number' ? String(value) : value;
  if (typeof text === 'string' && /^\d+(\.\d+)?$/.test(text)) {
    const parsed = parseDecimal(text);
    if (parsed) return { text, value: parsed };
  }
  throw ledgerCorrupt(at, value, 'an exact decimal number');
}

/** One of the values packops writes in that column. */
export function storedChoice<T extends string>(at: StoredWhere, value: unknown, allowed: readonly T[]): T {
  if (typeof value === 'string' && (allowed as readonly string[]).includes(value)) return value as T;
  throw ledgerCorrupt(at, value, `one of ${allowed.join(', ')}`);
}

/** Text packops stored as JSON: parsed, and an object when `object` is set. */
export function storedJson(at: StoredWhere, value: unknown, object: true): Record<string, unknown>;
export function storedJson(at: StoredWhere, value: unknown, object?: false): unknown;
export function storedJson(at: StoredWhere, value: unknown, object = false): unknown {
  if (typeof value === 'string') {
    try {
      const parsed = JSON.parse(value) as unknown;
      if (!object || (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed))) return parsed;
    } catch {
      // reported below
    }
  }
  throw ledgerCorrupt(at, value, object ? 'a JSON object' : 'JSON');
}

/** A JSON array of strings packops stored (a pack's tags). */
export function storedStringArray(at: StoredWhere, value: unknown): string[] {
  const parsed = storedJson(at, value);
  if (Array.isArray(parsed) && parsed.every((t) => typeof t === 'string')) return parsed as string[];
  throw ledgerCorrupt(at, value, 'a JSON array of strings');
}
