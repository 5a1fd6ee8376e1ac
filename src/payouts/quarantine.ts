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
import type { LedgerDB, Store } from '../ledger/schema.js';
import { currencyExponent, oneOf, plainMinor } from '../ledger/fields.js';
import { identifier } from '../ledger/ids.js';
import { STORES } from '../ledger/import/sales.js';
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
  ['CONSENT_MISSING', 'held: consent missing'],
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
  read(raw: Record<string, unknown>): { at: unknown; currency: unknown; gross: unknown; store: unknown; transactionId: unknown };
}

/** Kinds of quarantined rows that carry money; reviews and rates do not. */
export const SOURCES: ReadonlyMap<string, Source> = new Map<string, Source>([
  [
    'sales',
    { read: (raw) => ({ at: raw.occurred_at, currency: raw.currency, gross: raw.gross_minor, store: raw.store, transactionId: raw.transaction_id }) },
  ],
]);

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/**
 * The ledger key (store, transaction id) a quarantined row would be imported under, read
 * the way the import reads it (ids.ts canonical form); undefined when either cell cannot be
 * read (such a row is held as it is: nothing can release it but a fixed import).
 */
function transactionKey(store: unknown, transactionId: unknown): string | undefined {
  const s = oneOf('store', store, STORES);
  const id = identifier('transaction_id', transactionId);
  return s.ok && id.ok ? `${s.value}\u0000${id.value}` : undefined;
}

/** The keys among `keys` that are in `sales` now: one primary-key probe per key, in chunks. */
async function inSales(db: Kysely<LedgerDB>, keys: readonly string[]): Promise<Set<string>> {
  const found = new Set<string>();
  const byStore = new Map<Store, string[]>();
  for (const key of keys) {
    const [store, id] = key.split('\u0000') as [Store, string];
    const ids = byStore.get(store) ?? [];
    ids.push(id);
    byStore.set(store, ids);
  }
  for (const [store, ids] of byStore) {
    for (let i = 0; i < ids.length; i += 500) {
      const rows = await db.selectFrom('sales').select('transaction_id').where('store', '=', store).where('transaction_id', 'in', ids.slice(i, i + 500)).execute();
      for (const r of rows) found.add(`${store}\u0000${r.transaction_id}`);
    }
  }
  return found;
}

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
    .select(['batch_id', 'row_number', 'kind', 'code', 'raw', 'created_at'])
    .where('kind', 'in', [...SOURCES.keys()] as Array<LedgerDB['quarantine']['kind']>)
    .execute();
  const groups = new Map<string, { month: Period | null; reason: string; rows: number; amounts: Map<string, bigint>; without: number }>();
  const group = (month: Period | null, reason: string) => {
    const key = `${month ?? ''}\u0000${reason}`;
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { month, reason, rows: 0, amounts: new Map(), without: 0 }));
    return g;
  };
  const add = (g: ReturnType<typeof group>, currency: string | undefined, amount: number | undefined) => {
    g.rows += 1;
    const sum = currency === undefined || amount === undefined ? undefined : (g.amounts.get(currency) ?? 0n) + BigInt(amount);
    // A sum past 2^53 would not be an exact JSON number: such a row counts as one without an amount.
    if (currency === undefined || currencyExponent(currency) === undefined || sum === undefined || sum > MAX_SAFE || sum < -MAX_SAFE) g.without += 1;
    else g.amounts.set(currency, sum);
  };
  // Store-report money (§15) is held with its month, currency and signed amount in columns of
  // its own; a row a later import released is in the ledger now and no longer held.
  const held = await db
    .selectFrom('quarantine')
    .select(['batch_id', 'row_number', 'code', 'month', 'currency', 'amount_minor'])
    .where('store', 'is not', null)
    .where('released_batch', 'is', null)
    .where((eb) => eb.or([eb('month', '=', period), eb('month', 'is', null)]))
    .execute();
  for (const r of held) {
    const where = { table: 'quarantine', row: `batch_id=${r.batch_id} row_number=${r.row_number}` };
    if (typeof r.code !== 'string' || r.code === '') throw ledgerCorrupt({ ...where, column: 'code' }, r.code, 'a code');
    const stored: unknown = r.amount_minor;
    if (stored !== null && !(typeof stored === 'number' && Number.isSafeInteger(stored))) {
      throw ledgerCorrupt({ ...where, column: 'amount_minor' }, stored, 'an integer');
    }
    const signed = stored === null ? undefined : stored;
    add(group((r.month as Period | null) ?? null, r.code), r.currency ?? undefined, signed);
  }
  // Import-quarantined rows (§7): each transaction counts once, as its latest quarantined row
  // (one transaction quarantined twice with different bad values is one held row), and not at
  // all once a later import wrote it to the ledger (then it is in a statement, not held).
  const latest = new Map<string, { month: Period | null; code: string; currency: string | undefined; amount: number | undefined }>();
  const unkeyed: Array<{ month: Period | null; code: string; currency: string | undefined; amount: number | undefined }> = [];
  const ordered = [...rows].sort(
    (a, b) => compareCodePoints(String(a.created_at), String(b.created_at)) || compareCodePoints(a.batch_id, b.batch_id) || Number(a.row_number) - Number(b.row_number),
  );
  for (const r of ordered) {
    const source = SOURCES.get(r.kind)!;
    const where = { table: 'quarantine', row: `batch_id=${r.batch_id} row_number=${r.row_number}` };
    const raw = storedJson({ ...where, column: 'raw' }, r.raw, true);
    if (typeof r.code !== 'string' || r.code === '') throw ledgerCorrupt({ ...where, column: 'code' }, r.code, 'a code');
    const cells = source.read(raw);
    const at = text(cells.at);
    const instant = at === undefined ? undefined : parseInstant(at);
    const entry = { month: instant?.ok ? instant.value.month : null, code: r.code, currency: text(cells.currency), amount: plainMinor(text(cells.gross)) };
    const key = transactionKey(cells.store, cells.transactionId);
    if (key === undefined) unkeyed.push(entry);
    else {
      // Re-inserted so the map's order stays the order of each transaction's latest row.
      latest.delete(key);
      latest.set(key, entry);
    }
  }
  const inPeriod = (e: { month: Period | null }) => e.month === null || e.month === period;
  const candidates = [...latest].filter(([, e]) => inPeriod(e));
  const released = await inSales(db, candidates.map(([key]) => key));
  for (const [key, e] of candidates) if (!released.has(key)) add(group(e.month, e.code), e.currency, e.amount);
  for (const e of unkeyed) if (inPeriod(e)) add(group(e.month, e.code), e.currency, e.amount);
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

