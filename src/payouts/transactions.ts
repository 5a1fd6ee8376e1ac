/**
 * The sales and refunds of the months one report computes (the month asked for and the
 * open months its carried-in balances roll through), read once per report through Kysely
 * only (dialect-neutral: no SQLite functions, no raw SQL).
 *
 * - Sales: one GROUP BY over every one of those months. Rows that agree on month, product,
 *   currency and the stored amounts convert and split identically under §9's
 *   per-transaction rounding, so SQL hands the engine a few hundred groups instead of a
 *   million rows, with the same cents: counting rows is exact in SQL, and the rounding stays
 *   in the engine. The covering index sales_payouts_idx (0290) serves it in group order.
 * - Refunds: whether a refund completes its sale (a unit, §9.5) depends on the sale and on
 *   every earlier refund of it, in any month. The refunds of those months are read once,
 *   then the refunds and sales they point at once each, by index (sales_refunds_idx and the
 *   primary key): the work grows with the refunds, never with the ledger's history.
 */
import type { Kysely } from 'kysely';
import type { LedgerDB, SalesTable } from '../ledger/schema.js';
import { ledgerCorrupt, storedInstant, storedMinor, type StoredAt } from '../ledger/stored.js';
import { compareCodePoints } from '../shared/money.js';
import type { Period, TxGroup } from './types.js';

/** Keys per IN (…) list: far below every driver's parameter limit. */
const CHUNK = 500;

const PRODUCT_KINDS: ReadonlySet<string> = new Set(['pack', 'bundle']);

type Db = Kysely<LedgerDB>;

interface AmountCells {
  gross_minor: number | null;
  store_fee_minor: number | null;
  tax_minor: number | null;
  net_minor: number | null;
}

/** Each month's transaction groups (sales grouped in SQL, refunds with whether each completes its sale). */
export async function loadTransactions(db: Db, months: readonly Period[]): Promise<Map<Period, TxGroup[]>> {
  const byMonth = new Map<Period, TxGroup[]>(months.map((m) => [m, []]));
  if (months.length === 0) return byMonth;
  await addSaleGroups(db, months, byMonth);
  await addRefunds(db, months, byMonth);
  return byMonth;
}

async function addSaleGroups(db: Db, months: readonly Period[], byMonth: Map<Period, TxGroup[]>): Promise<void> {
  // Grouped by kind as well (no filter on it): the index is read in its own order, without a
  // sort, and a row of a damaged kind shows up here instead of being dropped.
  const rows = await db
    .selectFrom('sales')
    .select((eb) => [
      'month',
      'kind',
      'product_kind',
      'pack_slug',
      'bundle_slug',
      'currency',
      'gross_minor',
      'store_fee_minor',
      'tax_minor',
      'net_minor',
      eb.fn.countAll<number>().as('n'),
    ])
    .where('month', 'in', [...months])
    .groupBy(['month', 'kind', 'product_kind', 'pack_slug', 'bundle_slug', 'currency', 'gross_minor', 'store_fee_minor', 'tax_minor', 'net_minor'])
    .execute();
  for (const r of rows) {
    if (r.kind !== 'sale' && r.kind !== 'refund') {
      const odd = await db
        .selectFrom('sales')
        .select(['store', 'transaction_id'])
        .where('month', '=', r.month)
        .where('kind', '=', r.kind)
        .limit(1)
        .executeTakeFirst();
      const at = odd ? saleAt(odd, 'kind') : { table: 'sales', row: `month=${r.month}`, column: 'kind' };
      throw ledgerCorrupt(at, r.kind, 'sale or refund');
    }
    // Refunds are read row by row below; plan rows (§14) reach packs through recognition
    // and usage, not as sales.
    if (r.kind !== 'sale' || !PRODUCT_KINDS.has(r.product_kind)) continue;
    // App Store rows know their net only (gross, fee and tax NULL); the rest are checked.
    const amounts = r.gross_minor === null ? amountsOf(r) : await groupAmounts(db, r.month, r);
    byMonth.get(r.month)?.push({ kind: 'sale', product: productOf(r), currency: r.currency, ...amounts, count: Number(r.n) });
  }
}

const saleKey = (store: string, id: string) => `${store}\u0000${id}`;

async function addRefunds(db: Db, months: readonly Period[], byMonth: Map<Period, TxGroup[]>): Promise<void> {
  const refunds = await db
    .selectFrom('sales')
    .select(['store', 'transaction_id', 'month', 'occurred_at', 'refund_of', 'product_kind', 'pack_slug', 'bundle_slug', 'currency', 'gross_minor', 'store_fee_minor', 'tax_minor', 'net_minor'])
    .where('month', 'in', [...months])
    .where('kind', '=', 'refund')
    .where('product_kind', 'in', ['pack', 'bundle'])
    .execute();
  if (refunds.length === 0) return;

  // The sales these refunds point at, per store.
  const salesOf = new Map<string, Set<string>>();
  for (const r of refunds) {
    if (r.refund_of === null) continue;
    let ids = salesOf.get(r.store);
    if (!ids) salesOf.set(r.store, (ids = new Set()));
    ids.add(r.refund_of);
  }
  // Every refund of those sales (any month), and each sale's own gross: once each.
  const history = new Map<string, Array<{ at: string; id: string; gross: bigint }>>();
  const saleGross = new Map<string, bigint>();
  for (const [store, ids] of salesOf) {
    const list = [...ids];
    for (let i = 0; i < list.length; i += CHUNK) {
      const chunk = list.slice(i, i + CHUNK);
      const earlier = await db
        .selectFrom('sales')
        .select(['store', 'transaction_id', 'occurred_at', 'refund_of', 'gross_minor', 'net_minor'])
        .where('store', '=', store as SalesTable['store'])
        .where('refund_of', 'in', chunk)
        .where('kind', '=', 'refund')
        .execute();
      for (const h of earlier) {
        const key = saleKey(h.store, h.refund_of ?? '');
        const at = saleAt(h, 'occurred_at');
        const entry = { at: storedInstant(at, h.occurred_at), id: h.transaction_id, gross: h.gross_minor === null ? refundBasis(h) : storedMinor({ ...at, column: 'gross_minor' }, h.gross_minor) };
        const entries = history.get(key);
        if (entries) entries.push(entry);
        else history.set(key, [entry]);
      }
      // (store, transaction_id) is the primary key: each chunk is an index lookup.
      const sales = await db
        .selectFrom('sales')
        .select(['store', 'transaction_id', 'gross_minor', 'net_minor'])
        .where('store', '=', store as SalesTable['store'])
        .where('transaction_id', 'in', chunk)
        .where('kind', '=', 'sale')
        .execute();
      for (const s of sales) saleGross.set(saleKey(s.store, s.transaction_id), s.gross_minor === null ? refundBasis(s) : storedMinor(saleAt(s, 'gross_minor'), s.gross_minor));
    }
  }
  for (const entries of history.values()) entries.sort((a, b) => compareCodePoints(a.at, b.at) || compareCodePoints(a.id, b.id));

  const grouped = new Map<Period, Map<string, TxGroup>>();
  for (const r of refunds) {
    const amounts =
      r.gross_minor === null
        ? amountsOf(r)
        : {
            grossMinor: storedMinor(saleAt(r, 'gross_minor'), r.gross_minor),
            feeMinor: storedMinor(saleAt(r, 'store_fee_minor'), r.store_fee_minor),
            taxMinor: storedMinor(saleAt(r, 'tax_minor'), r.tax_minor),
          };
    let completes = false;
    if (r.refund_of !== null) {
      const key = saleKey(r.store, r.refund_of);
      // Refunds of the sale before this one (by time, then id): all dated no later than it.
      let before = 0n;
      for (const h of history.get(key) ?? []) {
        if (h.id === r.transaction_id) break;
        before += h.gross;
      }
      const sale = saleGross.get(key);
      const after = before + (r.gross_minor === null ? refundBasis(r) : amounts.grossMinor);
      // A partial refund counts as a unit only when it completes the refund of its sale.
      completes = sale !== undefined && before < sale ? after >= sale : sale === 0n && before === 0n;
    }
    const product = productOf(r);
    const gk = [product.kind, product.slug, r.currency, r.gross_minor, r.store_fee_minor, r.tax_minor, r.net_minor, completes].join('\u0000');
    let groups = grouped.get(r.month);
    if (!groups) grouped.set(r.month, (groups = new Map()));
    const g = groups.get(gk);
    if (g) g.count += 1;
    else groups.set(gk, { kind: 'refund', product, currency: r.currency, ...amounts, count: 1, completes });
  }
  for (const [month, groups] of grouped) byMonth.get(month)?.push(...groups.values());
}

/**
 * A row's amounts for the engine: gross, fee and tax, or, when the store reported only the
 * net (App Store: gross, fee and tax NULL), that net.
 */
function amountsOf(r: AmountCells): Pick<TxGroup, 'grossMinor' | 'feeMinor' | 'taxMinor' | 'netMinor'> {
  if (r.gross_minor === null || r.store_fee_minor === null || r.tax_minor === null) {
    return { grossMinor: 0n, feeMinor: 0n, taxMinor: 0n, netMinor: BigInt(r.net_minor ?? 0) };
  }
  return { grossMinor: BigInt(r.gross_minor), feeMinor: BigInt(r.store_fee_minor), taxMinor: BigInt(r.tax_minor) };
}

/** What a refund is measured against its sale by: the gross, or the net where only the net is known. */
function refundBasis(r: { gross_minor: number | null; net_minor: number | null }): bigint {
  return BigInt(r.gross_minor ?? r.net_minor ?? 0);
}

function saleAt(r: { store: string; transaction_id: string }, column: string): StoredAt {
  return { table: 'sales', row: `store=${r.store} transaction_id=${r.transaction_id}`, column };
}

type AmountColumn = 'gross_minor' | 'store_fee_minor' | 'tax_minor';

/**
 * The three amounts of a GROUP BY row of sales. A damaged amount is reported with one of the
 * rows that hold it (looked up only then).
 */
async function groupAmounts(db: Db, month: Period, r: Record<AmountColumn, unknown>): Promise<{ grossMinor: bigint; feeMinor: bigint; taxMinor: bigint }> {
  const out: bigint[] = [];
  for (const column of ['gross_minor', 'store_fee_minor', 'tax_minor'] as const) {
    const value = r[column];
    if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) {
      out.push(BigInt(value));
      continue;
    }
    const row = await db
      .selectFrom('sales')
      .select(['store', 'transaction_id'])
      .where('month', '=', month)
      .where(column, value === null ? 'is' : '=', value as number)
      .limit(1)
      .executeTakeFirst();
    throw ledgerCorrupt(row ? saleAt(row, column) : { table: 'sales', row: `month=${month}`, column }, value, 'a whole number ≥ 0');
  }
  return { grossMinor: out[0]!, feeMinor: out[1]!, taxMinor: out[2]! };
}

function productOf(r: { product_kind: string; pack_slug: string | null; bundle_slug: string | null }): TxGroup['product'] {
  return r.product_kind === 'bundle' ? { kind: 'bundle', slug: r.bundle_slug ?? '' } : { kind: 'pack', slug: r.pack_slug ?? '' };
}
