/**
 * Sales as refunds see them: the key of a transaction (store + id), the state a refund is
 * checked against (its sale and everything refunded of it so far) and the refund rules.
 */
import type { ProductKind, SaleKind, Store } from '../schema.js';
import { ledgerCorrupt, saleAt, storedInstant, storedInteger } from '../stored.js';
import type { Item } from './pipeline.js';
import type { Tx } from './types.js';

export interface SaleParsed {
  store: Store;
  transactionId: string;
  key: string;
  kind: SaleKind;
  at: { iso: string; month: string; ms: number };
  product: string;
  country: string;
  currency: string;
  gross: number;
  fee: number;
  tax: number;
  consentRef: string | null;
  familyHmac: string | null;
  refundOf: string | null;
  resolved?: { kind: ProductKind; slug: string };
}

/** What a refund is checked against: its sale and everything refunded of it so far. */
export interface SaleState {
  kind: SaleKind;
  ms: number;
  currency: string;
  product: string;
  gross: number;
  fee: number;
  tax: number;
  refGross: number;
  refFee: number;
  refTax: number;
  /** The sale's family_ref HMAC (a subscription refund must name the same family). */
  family?: string | null;
}

/** A stored sales row's columns a refund is checked against. */
export interface StoredSale {
  kind: SaleKind;
  occurred_at: string;
  currency: string;
  pack_slug: string | null;
  bundle_slug: string | null;
  plan_id: string | null;
  gross_minor: number | null;
  store_fee_minor: number | null;
  tax_minor: number | null;
  net_minor: number | null;
  family_hmac: string | null;
}

/** A stored sale's key, naming it in LEDGER_CORRUPT. */
export interface SaleWhere {
  store: string;
  transaction_id: string;
}

/**
 * The state of a stored sale (refund sums not loaded). Its amounts and date are checked as
 * they are read: a value packops cannot have written is LEDGER_CORRUPT naming the row, not a
 * NaN that every refund bound would pass.
 */
export function storedSaleState(r: StoredSale, where: SaleWhere): SaleState {
  return {
    kind: r.kind, ms: Date.parse(storedInstant(() => saleAt(where, 'occurred_at'), r.occurred_at)), currency: r.currency, product: (r.pack_slug ?? r.bundle_slug ?? r.plan_id)!,
    // An App Store sale knows its net only: refunds of it are bounded by that net.
    gross: r.gross_minor !== null ? storedInteger(() => saleAt(where, 'gross_minor'), r.gross_minor) : storedInteger(() => saleAt(where, 'net_minor'), r.net_minor ?? 0, Number.MIN_SAFE_INTEGER),
    fee: r.store_fee_minor !== null ? storedInteger(() => saleAt(where, 'store_fee_minor'), r.store_fee_minor) : 0,
    tax: r.tax_minor !== null ? storedInteger(() => saleAt(where, 'tax_minor'), r.tax_minor) : 0,
    refGross: 0, refFee: 0, refTax: 0,
    family: r.family_hmac,
  };
}

/** What the ledger's refunds of a sale add up to in one column (a SQL sum), checked. */
export function storedRefundSum(where: SaleWhere, column: string, value: unknown): number {
  const n = value === null || value === undefined ? 0 : Number(value);
  if (Number.isSafeInteger(n) && n >= 0 && (typeof value !== 'string' || /^\d+$/.test(value))) return n;
  throw ledgerCorrupt({ table: 'sales', row: `refunds of store=${where.store} transaction_id=${where.transaction_id}`, column }, value, 'a whole number ≥ 0 (the sum of whole amounts)');
}

export function saleKey(store: string, txid: string): string {
  return `${store}\u0000${txid}`;
}

export function splitKey(key: string): [Store, string] {
  const i = key.indexOf('\u0000');
  return [key.slice(0, i) as Store, key.slice(i + 1)];
}

/** Transaction keys grouped by store: store → transaction ids. */
export function groupByStore(keys: Iterable<string>): Map<Store, string[]> {
  const byStore = new Map<Store, string[]>();
  for (const k of keys) {
    const [st, id] = splitKey(k);
    const ids = byStore.get(st);
    if (ids) ids.push(id);
    else byStore.set(st, [id]);
  }
  return byStore;
}

/** Adds the refunds already in the ledger to each named sale's state. */
export async function loadRefundSums(trx: Tx, keys: string[], states: Map<string, SaleState>): Promise<void> {
  for (const [store, ids] of groupByStore(keys)) {
    const sums = await trx
      .selectFrom('sales')
      .select((eb) => [
        'refund_of',
        eb.fn.sum<number | string>('gross_minor').as('g'),
        eb.fn.sum<number | string>('store_fee_minor').as('f'),
        eb.fn.sum<number | string>('tax_minor').as('t'),
      ])
      .where('kind', '=', 'refund')
      .where('store', '=', store)
      .where('refund_of', 'in', ids)
      .groupBy('refund_of')
      .execute();
    for (const r of sums) {
      const st = states.get(saleKey(store, r.refund_of!))!;
      const where = { store, transaction_id: r.refund_of! };
      st.refGross = storedRefundSum(where, 'gross_minor', r.g);
      st.refFee = storedRefundSum(where, 'store_fee_minor', r.f);
      st.refTax = storedRefundSum(where, 'tax_minor', r.t);
    }
  }
}

/**
 * A refund must name an earlier sale of the same store, in the same currency and for the
 * same product, dated no later than the refund; all refunds of a sale together never
 * exceed it, column by column (gross, store fee and tax each).
 */
export function checkRefund(it: Item<SaleParsed>, p: SaleParsed, sale: SaleState | undefined, badRow: number | undefined): void {
  if (!sale) {
    it.problems.push({
      column: 'refund_of',
      code: 'ROW_REFUND_UNKNOWN',
      message:
        badRow !== undefined
          ? `The sale ${p.refundOf} (${p.store}) it refunds, in row ${badRow}, is itself invalid.`
          : `No earlier ${p.store} sale ${p.refundOf} is in the ledger or earlier in this file.`,
    });
    return;
  }
  if (sale.kind !== 'sale') {
    it.problems.push({ column: 'refund_of', code: 'ROW_REFUND_UNKNOWN', message: `${p.refundOf} is a refund, not a sale.` });
    return;
  }
  if (sale.currency !== p.currency) {
    it.problems.push({ column: 'currency', code: 'ROW_INVALID', message: `The refund is in ${p.currency}; its sale ${p.refundOf} was in ${sale.currency}.` });
  }
  if (p.resolved && sale.product !== p.resolved.slug) {
    it.problems.push({ column: 'product', code: 'ROW_INVALID', message: `The refund is for ${p.resolved.slug}; its sale ${p.refundOf} was for ${sale.product}.` });
  }
  if (p.at.ms < sale.ms) {
    it.problems.push({ column: 'occurred_at', code: 'ROW_INVALID', message: `The refund is dated before its sale ${p.refundOf}.` });
  }
  const over: Array<[string, number, number, number]> = [
    ['gross_minor', p.gross, sale.refGross, sale.gross],
    ['store_fee_minor', p.fee, sale.refFee, sale.fee],
    ['tax_minor', p.tax, sale.refTax, sale.tax],
  ];
  for (const [column, amount, already, limit] of over) {
    if (already + amount > limit) {
      it.problems.push({
        column,
        code: 'ROW_REFUND_EXCEEDS',
        message: `Refunds of ${p.refundOf} would reach ${already + amount} ${p.currency} minor units of ${column}; the sale had ${limit}${already ? ` (${already} already refunded)` : ''}.`,
      });
    }
  }
  if (it.problems.length === 0) {
    sale.refGross += p.gross;
    sale.refFee += p.fee;
    sale.refTax += p.tax;
  }
}
