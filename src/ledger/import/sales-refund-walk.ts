/**
 * The dialect-neutral half of a whole-file (staged) sales import's settle step, shared by
 * SQLite (sales-staged.ts) and PostgreSQL (pg-sales.ts, pg-sales-refunds.ts): each dialect
 * reads its staged refunds, in file order, joined to their sale, as `RefundRow`s; the walk
 * checks them with the same rules as the chunk path (checkRefund), adding up in file order;
 * `settleHeld` then decides what the rows held back while staging (bad as parsed, or with a
 * problem that only counts if the row is new) finally are.
 */
import type { RowProblem } from '../fields.js';
import type { ProductKind, SaleKind, Store } from '../schema.js';
import { DEFERRED, GOOD, unpackCells } from '../pg-sales-stage.js';
import type { Item } from './pipeline.js';
import { checkRefund, saleKey, storedRefundSum, storedSaleState, type SaleParsed, type SaleState } from './sales-refunds.js';
import { subscriptionRowProblems } from './subscription-rows.js';

/**
 * A staged refund that is neither a later copy nor already stored, with its sale: `l_*` the
 * ledger's (and `rg/rf/rt`, what was refunded of it so far), `t_*` the file's first copy
 * (dated before the refund), either or both NULL.
 */
export interface RefundRow {
  row: number;
  state: number;
  store: Store;
  transaction_id: string;
  refund_of: string;
  occurred_at: string;
  month: string;
  currency: string;
  product: string;
  product_kind: ProductKind;
  slug: string;
  gross_minor: number;
  store_fee_minor: number;
  tax_minor: number;
  family_hmac: string | null;
  cells: string | null;
  l_kind: SaleKind | null;
  l_occurred_at: string;
  l_currency: string;
  l_pack_slug: string | null;
  l_bundle_slug: string | null;
  l_plan_id: string | null;
  l_gross_minor: number | null;
  l_store_fee_minor: number | null;
  l_tax_minor: number | null;
  l_net_minor: number | null;
  l_family_hmac: string | null;
  rg: number | string | null;
  rf: number | string | null;
  rt: number | string | null;
  t_row: number | null;
  t_state: number | null;
  t_kind: SaleKind | null;
  t_occurred_at: string;
  t_currency: string;
  t_slug: string;
  t_gross_minor: number;
  t_store_fee_minor: number;
  t_tax_minor: number;
  t_family_hmac: string | null;
}

/**
 * Walks the staged refunds in file order. A bad one is added to `bad` (a held row's
 * problems are recorded in `deferred`, for `settleHeld`); `turnedBad` lists the rows of
 * staged (good) refunds that turned bad, which the caller must not write.
 */
export class RefundWalk {
  private readonly refunded = new Map<string, SaleState>();
  private readonly badRows = new Set<number>();
  readonly turnedBad: number[] = [];

  constructor(
    private readonly heldRows: ReadonlyMap<number, Item<SaleParsed>>,
    private readonly deferred: Map<number, RowProblem[]>,
    private readonly quarantine: boolean,
    private readonly bad: Array<Item<SaleParsed>>,
  ) {}

  step(r: RefundRow): void {
    const held = r.state === DEFERRED ? this.heldRows.get(r.row) : undefined;
    const p: SaleParsed = held?.parsed ?? {
      store: r.store, transactionId: r.transaction_id, key: saleKey(r.store, r.transaction_id), kind: 'refund',
      at: { iso: r.occurred_at, month: r.month, ms: Date.parse(r.occurred_at) },
      product: r.product, country: '', currency: r.currency, gross: r.gross_minor, fee: r.store_fee_minor, tax: r.tax_minor,
      consentRef: null, familyHmac: r.family_hmac, refundOf: r.refund_of, resolved: { kind: r.product_kind, slug: r.slug },
    };
    const it: Item<SaleParsed> = held
      ? { rec: held.rec, parsed: p, problems: [...this.deferred.get(r.row)!] }
      : { rec: { row: r.row, cells: [] }, parsed: p, problems: [] };
    const target = saleKey(p.store, p.refundOf!);
    let sale = this.refunded.get(target);
    let badRow: number | undefined;
    if (!sale && r.l_kind !== null) {
      const where = { store: p.store, transaction_id: p.refundOf! };
      sale = storedSaleState(
        {
          kind: r.l_kind, occurred_at: r.l_occurred_at, currency: r.l_currency, pack_slug: r.l_pack_slug, bundle_slug: r.l_bundle_slug,
          plan_id: r.l_plan_id, gross_minor: r.l_gross_minor, store_fee_minor: r.l_store_fee_minor, tax_minor: r.l_tax_minor,
          net_minor: r.l_net_minor, family_hmac: r.l_family_hmac,
        },
        where,
      );
      sale.refGross = storedRefundSum(where, 'gross_minor', r.rg);
      sale.refFee = storedRefundSum(where, 'store_fee_minor', r.rf);
      sale.refTax = storedRefundSum(where, 'tax_minor', r.rt);
    } else if (!sale && r.t_row !== null) {
      if (r.t_state === GOOD && !this.badRows.has(r.t_row)) {
        sale = {
          kind: r.t_kind!, ms: Date.parse(r.t_occurred_at), currency: r.t_currency, product: r.t_slug,
          gross: r.t_gross_minor, fee: r.t_store_fee_minor, tax: r.t_tax_minor, refGross: 0, refFee: 0, refTax: 0, family: r.t_family_hmac,
        };
      } else {
        badRow = r.t_row;
      }
    }
    if (p.resolved?.kind === 'plan' && p.familyHmac !== null) it.problems.push(...subscriptionRowProblems(p, sale?.family));
    checkRefund(it, p, sale, badRow);
    if (it.problems.length === 0) {
      if (sale) this.refunded.set(target, sale);
      return;
    }
    this.badRows.add(r.row);
    if (held) {
      // Reported with the held row by settleHeld.
      this.deferred.set(r.row, it.problems);
      return;
    }
    if (this.quarantine) it.rec.cells = unpackCells(r.cells);
    this.bad.push(it);
    this.turnedBad.push(r.row);
  }
}

/**
 * The rows held back while staging, settled: a later copy is a duplicate (whatever else was
 * wrong with it); a row whose only problems need it to be new (`deferred`: closed month,
 * unknown product) is skipped when the ledger already holds it (`storedDeferred`), bad
 * otherwise; a row bad as parsed stays bad. Adds the bad ones to `bad`; returns how many
 * were skipped.
 */
export function settleHeld(
  held: ReadonlyMap<number, Item<SaleParsed>>,
  deferred: ReadonlyMap<number, RowProblem[]>,
  duplicates: ReadonlyMap<number, RowProblem>,
  storedDeferred: ReadonlySet<number>,
  bad: Array<Item<SaleParsed>>,
): number {
  let skipped = 0;
  for (const [row, it] of held) {
    const dup = duplicates.get(row);
    const problems = deferred.get(row);
    if (problems === undefined) {
      if (dup) it.problems.push(dup);
    } else if (dup) {
      it.problems = [dup];
    } else if (storedDeferred.has(row)) {
      skipped++;
      continue;
    } else if (it.problems.length === 0) {
      it.problems = problems;
    }
    bad.push(it);
  }
  return skipped;
}

/** The problem of a later copy of a transaction in the file. */
export function duplicateProblem(store: string, transactionId: string, first: number): RowProblem {
  return {
    column: 'transaction_id',
    code: 'ROW_DUPLICATE_IN_FILE',
    message: `Transaction ${transactionId} (${store}) already appears in row ${first}; later copies are not imported.`,
  };
}
