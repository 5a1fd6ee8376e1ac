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
import { ledgerCorrupt, saleAt, storedInstant, storedMinor, storedSignedMinor, type StoredWhere } from '../ledger/stored.js';
import { compareCodePoints } from '../shared/money.js';
import type { Period, TxGroup } from './types.js';

/** Keys per IN (…) list: far below every driver's parameter limit. */
const CHUNK = 500;


type Db = Kysely<LedgerDB>;

/** Each month's transaction groups (sales grouped in SQL, refunds with whether each completes its sale). */
export async function loadTransactions(db: Db, months: readonly Period[]): Promise<Map<Period, TxGroup[]>> {
  const byMonth = new Map<Period, TxGroup[]>(months.map((m) => [m, []]));
  if (months.length === 0) return byMonth;
  await addSaleGroups(db, months, byMonth);
  await addRefunds(db, months, byMonth);
  return byMonth;
}

async function addSaleGroups(db: Db, months: readonly Period[], byMonth: Map<Period, TxGroup[]>): Promise<void> {
  await refuseOddKinds(db, months);
  // Sales of packs and bundles only: refunds are read row by row below, and plan rows (§14)
  // reach packs through recognition and usage, not as sales. The index is read in its own
  // order from (month, 'sale', product kind) on, without a sort.
  const rows = await db
    .selectFrom('sales')
    .select((eb) => [
      'month',
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
    .where('kind', '=', 'sale')
    .where('product_kind', 'in', ['pack', 'bundle'])
    .groupBy(['month', 'product_kind', 'pack_slug', 'bundle_slug', 'currency', 'gross_minor', 'store_fee_minor', 'tax_minor', 'net_minor'])
    .execute();
  for (const r of rows) {
    // App Store rows know their net only (gross, fee and tax NULL); the rest are checked.
    const amounts = r.gross_minor === null ? await groupNet(db, r.month, r.net_minor) : await groupAmounts(db, r.month, r);
    byMonth.get(r.month)?.push({ kind: 'sale', product: productOf(r), currency: r.currency, ...amounts, count: Number(r.n) });
  }
}

/**
 * A row whose kind is neither sale nor refund is damage, never silently dropped: per month,
 * the kinds below 'refund', between the two and above 'sale' are three seeks in the index
 * that starts (month, kind), whatever the database's collation (each is in one of the three).
 */
async function refuseOddKinds(db: Db, months: readonly Period[]): Promise<void> {
  for (const month of months) {
    const ranges = [
      db.selectFrom('sales').where('kind', '<', 'refund'),
      db.selectFrom('sales').where('kind', '>', 'refund').where('kind', '<', 'sale'),
      db.selectFrom('sales').where('kind', '>', 'sale'),
    ];
    for (const range of ranges) {
      const odd = await range.select(['store', 'transaction_id', 'kind']).where('month', '=', month).orderBy('kind').limit(1).executeTakeFirst();
      if (odd) throw ledgerCorrupt(saleAt(odd, 'kind'), odd.kind, 'sale or refund');
    }
  }
}

const saleKey = (store: string, id: string) => `${store}\u0000${id}`;

/**
 * The refunds of the months, each with whether it completes the refund of its sale (a unit,
 * §9.5), grouped like the sales. One query reads every refund with its sale (primary key)
 * and how many refunds that sale has in all (sales_refunds_idx, from the index alone); only
 * the sales refunded more than once need their other refunds, read by index in chunks.
 */
async function addRefunds(db: Db, months: readonly Period[], byMonth: Map<Period, TxGroup[]>): Promise<void> {
  const refunds = await db
    .selectFrom('sales as r')
    .leftJoin('sales as s', (join) => join.onRef('s.store', '=', 'r.store').onRef('s.transaction_id', '=', 'r.refund_of').on('s.kind', '=', 'sale'))
    .select([
      'r.store',
      'r.transaction_id',
      'r.month',
      'r.refund_of',
      'r.product_kind',
      'r.pack_slug',
      'r.bundle_slug',
      'r.currency',
      'r.gross_minor',
      'r.store_fee_minor',
      'r.tax_minor',
      'r.net_minor',
      's.transaction_id as sale_id',
      's.gross_minor as sale_gross',
      's.net_minor as sale_net',
    ])
    // Rows naming the same sale, whatever their kind: 1 is this refund alone, and more is
    // only a reason to read them (the history below keeps the refunds).
    .select((eb) =>
      eb
        .selectFrom('sales as h')
        .select(eb.fn.countAll<number>().as('n'))
        .whereRef('h.store', '=', 'r.store')
        .whereRef('h.refund_of', '=', 'r.refund_of')
        .as('refunds_of_sale'),
    )
    .where('r.month', 'in', [...months])
    .where('r.kind', '=', 'refund')
    .where('r.product_kind', 'in', ['pack', 'bundle'])
    .execute();
  if (refunds.length === 0) return;

  // The sales refunded more than once, per store: their refunds in any month, sorted.
  const salesOf = new Map<string, Set<string>>();
  for (const r of refunds) {
    if (r.refund_of === null || Number(r.refunds_of_sale) <= 1) continue;
    let ids = salesOf.get(r.store);
    if (!ids) salesOf.set(r.store, (ids = new Set()));
    ids.add(r.refund_of);
  }
  const history = new Map<string, Array<{ at: string; id: string; gross: bigint }>>();
  for (const [store, ids] of salesOf) {
    const list = [...ids];
    for (let i = 0; i < list.length; i += CHUNK) {
      const earlier = await db
        .selectFrom('sales')
        .select(['store', 'transaction_id', 'occurred_at', 'refund_of', 'gross_minor', 'net_minor'])
        .where('store', '=', store as SalesTable['store'])
        .where('refund_of', 'in', list.slice(i, i + CHUNK))
        .where('kind', '=', 'refund')
        .execute();
      for (const h of earlier) {
        const key = saleKey(h.store, h.refund_of ?? '');
        const entry = {
          at: storedInstant(() => saleAt(h, 'occurred_at'), h.occurred_at),
          id: h.transaction_id,
          gross: h.gross_minor === null ? netBasis(h.net_minor, () => saleAt(h, 'net_minor')) : storedMinor(() => saleAt(h, 'gross_minor'), h.gross_minor),
        };
        const entries = history.get(key);
        if (entries) entries.push(entry);
        else history.set(key, [entry]);
      }
    }
  }
  for (const entries of history.values()) entries.sort((a, b) => compareCodePoints(a.at, b.at) || compareCodePoints(a.id, b.id));

  const grouped = new Map<Period, Map<string, TxGroup>>();
  for (const r of refunds) {
    const amounts =
      r.gross_minor === null
        ? netOnly(() => saleAt(r, 'net_minor'), r.net_minor)
        : {
            grossMinor: storedMinor(() => saleAt(r, 'gross_minor'), r.gross_minor),
            feeMinor: storedMinor(() => saleAt(r, 'store_fee_minor'), r.store_fee_minor),
            taxMinor: storedMinor(() => saleAt(r, 'tax_minor'), r.tax_minor),
          };
    let completes = false;
    if (r.refund_of !== null) {
      // Refunds of the sale before this one (by time, then id): all dated no later than it.
      let before = 0n;
      for (const h of history.get(saleKey(r.store, r.refund_of)) ?? []) {
        if (h.id === r.transaction_id) break;
        before += h.gross;
      }
      const sale =
        r.sale_id === null
          ? undefined
          : r.sale_gross === null
            ? netBasis(r.sale_net, () => saleAt({ store: r.store, transaction_id: r.sale_id! }, 'net_minor'))
            : storedMinor(() => saleAt({ store: r.store, transaction_id: r.sale_id! }, 'gross_minor'), r.sale_gross);
      const after = before + (r.gross_minor === null ? netBasis(r.net_minor, () => saleAt(r, 'net_minor')) : amounts.grossMinor);
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
 * The amounts of a row whose store reported only the net (App Store: gross, fee and tax
 * NULL): that net, checked as it is read (a whole number within ±2^53, else LEDGER_CORRUPT).
 */
function netOnly(at: StoredWhere, net: unknown): Pick<TxGroup, 'grossMinor' | 'feeMinor' | 'taxMinor' | 'netMinor'> {
  return { grossMinor: 0n, feeMinor: 0n, taxMinor: 0n, netMinor: storedSignedMinor(at, net ?? 0) };
}

/** `netOnly` for a group of a month's sales: a damaged net is named by one row that holds it. */
async function groupNet(db: Db, month: Period, net: unknown): Promise<Pick<TxGroup, 'grossMinor' | 'feeMinor' | 'taxMinor' | 'netMinor'>> {
  if (net === null || (typeof net === 'number' && Number.isSafeInteger(net))) return netOnly({ table: 'sales', row: `month=${month}`, column: 'net_minor' }, net);
  const row = await db
    .selectFrom('sales')
    .select(['store', 'transaction_id'])
    .where('month', '=', month)
    .where('gross_minor', 'is', null)
    .where('net_minor', '=', net as number)
    .limit(1)
    .executeTakeFirst();
  throw ledgerCorrupt(row ? saleAt(row, 'net_minor') : { table: 'sales', row: `month=${month}`, column: 'net_minor' }, net, 'a whole number');
}

/** What a refund is measured against its sale by where only the net is known: that net (checked). */
function netBasis(net: unknown, at: StoredWhere): bigint {
  return storedSignedMinor(at, net ?? 0);
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
