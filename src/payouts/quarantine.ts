/**
 * Rows kept out of the statements, as reports show them (PRODUCT.md §7: quarantined rows
 * are shown by reports): per month, per reason, a row count and the amounts per currency.
 *
 * The block is generic on purpose. A reason is a stable code and a label people read; a
 * source is a kind of quarantined row and how to read its month, currency and amount from
 * what the import kept. Adding a reason (e.g. rows held for missing consent) is one entry in
 * REASON_LABELS; adding an importer's rows is one entry in SOURCES.
 */
import type { Kysely } from 'kysely';
import type { LedgerDB } from '../ledger/schema.js';
import { currencyExponent, plainMinor } from '../ledger/fields.js';
import { ledgerCorrupt, storedJson } from '../ledger/stored.js';
import { compareCodePoints } from '../shared/money.js';
import { parseInstant } from '../shared/timestamp.js';
import type { Period } from '../shared/period.js';

export interface QuarantineEntry {
  /** The row's UTC month (from its own date); null when that date cannot be read. */
  month: Period | null;
  /** Why the rows are not in any statement: a stable code (the row's first problem). */
  reason: string;
  /** The reason as reports print it, e.g. "quarantined: unknown product". */
  label: string;
  rows: number;
  /** Σ gross as the rows state it (sales and refunds alike), per currency, integer minor units. */
  amounts: Array<{ currency: string; amountMinor: number }>;
  /** Rows whose currency or gross cannot be read: counted in `rows`, not in `amounts`. */
  rowsWithoutAmount: number;
}

/** How reports name each reason; a code without an entry reads "quarantined: <CODE>". */
export const REASON_LABELS: ReadonlyMap<string, string> = new Map([
  ['ROW_INVALID', 'quarantined: invalid value'],
  ['ROW_TIMEZONE_MISSING', 'quarantined: no time zone'],
  ['ROW_CONSENT_MISSING', 'quarantined: consent missing'],
  ['ROW_PRODUCT_UNKNOWN', 'quarantined: unknown product'],
  ['ROW_REFUND_UNKNOWN', 'quarantined: refund of an unknown sale'],
  ['ROW_REFUND_EXCEEDS', 'quarantined: refund exceeds its sale'],
  ['ROW_DUPLICATE_IN_FILE', 'quarantined: duplicate in its file'],
]);

export function reasonLabel(code: string): string {
  return REASON_LABELS.get(code) ?? `quarantined: ${code}`;
}

/** What a quarantined row of one kind says about money: its date, currency and gross. */
interface Source {
  /** The row as the import kept it (`raw`, family_ref removed) → its date, currency and gross cells. */
  read(raw: Record<string, unknown>): { at: unknown; currency: unknown; gross: unknown };
}

/** Kinds of quarantined rows that carry money; reviews and rates do not. */
export const SOURCES: ReadonlyMap<string, Source> = new Map<string, Source>([
  ['sales', { read: (raw) => ({ at: raw.occurred_at, currency: raw.currency, gross: raw.gross_minor }) }],
]);

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

function text(value: unknown): string | undefined {
  if (typeof value === 'string') return value.trim();
  if (typeof value === 'number') return String(value);
  return undefined;
}

/**
 * The quarantine block for `period`: rows dated in it, and rows whose date cannot be read
 * (month null: they belong to no month, so every month's report shows them).
 */
export async function quarantineFor(db: Kysely<LedgerDB>, period: Period): Promise<QuarantineEntry[]> {
  const rows = await db
    .selectFrom('quarantine')
    .select(['batch_id', 'row_number', 'kind', 'code', 'raw'])
    .where('kind', 'in', [...SOURCES.keys()] as Array<LedgerDB['quarantine']['kind']>)
    .execute();
  const groups = new Map<string, { month: Period | null; reason: string; rows: number; amounts: Map<string, bigint>; without: number }>();
  for (const r of rows) {
    const source = SOURCES.get(r.kind)!;
    const raw = storedJson({ table: 'quarantine', row: `batch_id=${r.batch_id} row_number=${r.row_number}`, column: 'raw' }, r.raw, true);
    if (typeof r.code !== 'string' || r.code === '') {
      throw ledgerCorrupt({ table: 'quarantine', row: `batch_id=${r.batch_id} row_number=${r.row_number}`, column: 'code' }, r.code, 'a code');
    }
    const cells = source.read(raw);
    const at = text(cells.at);
    const instant = at === undefined ? undefined : parseInstant(at);
    const month = instant?.ok ? instant.value.month : null;
    if (month !== null && month !== period) continue;
    const key = `${month ?? ''}\u0000${r.code}`;
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { month, reason: r.code, rows: 0, amounts: new Map(), without: 0 }));
    g.rows += 1;
    const currency = text(cells.currency);
    const gross = plainMinor(text(cells.gross));
    const sum = currency === undefined || gross === undefined ? undefined : (g.amounts.get(currency) ?? 0n) + BigInt(gross);
    // A sum past 2^53 would not be an exact JSON number: such a row counts as one without an amount.
    if (currency === undefined || currencyExponent(currency) === undefined || sum === undefined || sum > MAX_SAFE) g.without += 1;
    else g.amounts.set(currency, sum);
  }
  return [...groups.values()]
    .sort((a, b) => compareCodePoints(a.month ?? '', b.month ?? '') || compareCodePoints(a.reason, b.reason))
    .map((g) => ({
      month: g.month,
      reason: g.reason,
      label: reasonLabel(g.reason),
      rows: g.rows,
      amounts: [...g.amounts]
        .sort((a, b) => compareCodePoints(a[0], b[0]))
        .map(([currency, amount]) => ({ currency, amountMinor: Number(amount) })),
      rowsWithoutAmount: g.without,
    }));
}

