/**
 * The cumulative refund rule (§7: all refunds of a sale together never exceed it) for App
 * Store return lines. Apple reports proceeds only, so an App Store sale's gross, fee and
 * tax are unknown (NULL) and its refunds are bounded by its net: a refund's net must fit in
 * the sale's net minus the nets of its refunds already in the ledger and accepted earlier
 * in this import. Sums are BigInt: no floating point touches money.
 */
import type { RowProblem } from '../fields.js';
import { saleAt, storedInteger } from '../stored.js';
import type { Tx } from './types.js';

/** A sale as its refunds see it: its net, its currency, and the net refunded of it so far. */
export interface AppleSaleState {
  currency: string;
  net: bigint;
  refunded: bigint;
}

/**
 * A stored row's net: `net_minor` (App Store lines), else gross − fee − tax (an App Store
 * transaction written by `ledger import sales`, which knows those). Checked as read.
 */
function storedNet(r: { transaction_id: string; net_minor: number | null; gross_minor: number | null; store_fee_minor: number | null; tax_minor: number | null }): bigint {
  const where = { store: 'appstore', transaction_id: r.transaction_id };
  if (r.net_minor !== null || r.gross_minor === null) return BigInt(storedInteger(() => saleAt(where, 'net_minor'), r.net_minor));
  const part = (column: string, v: number | null) => BigInt(storedInteger(() => saleAt(where, column), v ?? 0));
  return part('gross_minor', r.gross_minor) - part('store_fee_minor', r.store_fee_minor) - part('tax_minor', r.tax_minor);
}

/**
 * Adds to `states` the App Store sales among `ids` that are in the ledger or in `pending`
 * (accepted by this chunk, not written yet), and not in `states` already (those carry this
 * chunk's refunds), each with the nets of its refunds in the ledger. Rows of earlier chunks
 * and files of this import are in the ledger already.
 */
export async function loadAppleSales(
  trx: Tx,
  ids: readonly string[],
  states: Map<string, AppleSaleState>,
  pending: ReadonlyMap<string, { currency: string; net: bigint }> = new Map(),
): Promise<void> {
  const wanted = [...new Set(ids)].filter((id) => !states.has(id));
  const cols = ['transaction_id', 'currency', 'net_minor', 'gross_minor', 'store_fee_minor', 'tax_minor'] as const;
  for (let i = 0; i < wanted.length; i += 500) {
    const slice = wanted.slice(i, i + 500);
    const found = new Map<string, AppleSaleState>();
    for (const id of slice) {
      const p = pending.get(id);
      if (p) found.set(id, { currency: p.currency, net: p.net, refunded: 0n });
    }
    const stored = slice.filter((id) => !found.has(id));
    const sales = stored.length ? await trx.selectFrom('sales').select([...cols]).where('store', '=', 'appstore').where('kind', '=', 'sale').where('transaction_id', 'in', stored).execute() : [];
    for (const s of sales) found.set(s.transaction_id, { currency: s.currency, net: storedNet(s), refunded: 0n });
    if (found.size === 0) continue;
    // One row per refund (a sale has one or two): summed here as BigInt, never by SQL into a float.
    const refunds = await trx.selectFrom('sales').select([...cols, 'refund_of']).where('store', '=', 'appstore').where('kind', '=', 'refund').where('refund_of', 'in', [...found.keys()]).execute();
    for (const r of refunds) found.get(r.refund_of!)!.refunded += storedNet(r);
    for (const [id, st] of found) states.set(id, st);
  }
}

/**
 * Whether a refund of `net` minor units in `currency` fits in its sale; when it does, the
 * sale's state counts it (the next refund of the same sale sees it). Otherwise the problem.
 */
export function takeRefund(saleId: string, sale: AppleSaleState, currency: string, net: bigint): RowProblem | undefined {
  if (sale.currency !== currency) {
    return { column: 'Partner Share Currency', code: 'ROW_INVALID', message: `The return is in ${currency}; the sale ${saleId} it refunds was in ${sale.currency}.` };
  }
  if (net < 0n || sale.refunded + net > sale.net) {
    return {
      column: 'Extended Partner Share',
      code: 'ROW_REFUND_EXCEEDS',
      message: `Refunds of ${saleId} would reach ${sale.refunded + net} ${currency} minor units of net; the sale had ${sale.net}${sale.refunded ? ` (${sale.refunded} already refunded)` : ''}.`,
    };
  }
  sale.refunded += net;
  return undefined;
}
