/**
 * The sales-row subscription rule (PRODUCT.md §14): a sales or refund row whose product is
 * a plan id, or one of the plan's store product ids, is a subscription transaction. It is
 * imported like any sales row, except that family_ref is required on every one (it is what
 * ties the money to the family's use), and a refund belongs to the family of its sale.
 */
import type { RowProblem } from '../fields.js';
import type { Store } from '../schema.js';
import type { Tx } from './types.js';

export interface PlanResolver {
  /** The plan a row's product names in its store, or undefined when it names no plan. */
  resolve(product: string, store: Store): { kind: 'plan'; slug: string } | { problem: RowProblem } | undefined;
}

/** Loads the plans' ids and store product ids, inside the import's transaction. */
export async function loadPlanResolver(trx: Tx): Promise<PlanResolver> {
  const rows = await trx.selectFrom('plans').select(['id', 'appstore_product_id', 'googleplay_product_id', 'web_product_id']).execute();
  const ids = new Set<string>();
  const byStore = new Map<string, { store: Store; plan: string }>();
  for (const r of rows) {
    ids.add(r.id);
    if (r.appstore_product_id) byStore.set(r.appstore_product_id, { store: 'appstore', plan: r.id });
    if (r.googleplay_product_id) byStore.set(r.googleplay_product_id, { store: 'googleplay', plan: r.id });
    if (r.web_product_id) byStore.set(r.web_product_id, { store: 'web', plan: r.id });
  }
  return {
    resolve(product, store) {
      if (ids.has(product)) return { kind: 'plan', slug: product };
      const hit = byStore.get(product);
      if (!hit) return undefined;
      if (hit.store === store) return { kind: 'plan', slug: hit.plan };
      return {
        problem: {
          column: 'product',
          code: 'ROW_PRODUCT_UNKNOWN',
          message: `"${product}" is the ${hit.store} product id of plan ${hit.plan}, but the row's store is ${store}.`,
        },
      };
    },
  };
}

/**
 * The problems of a subscription row: no family_ref, or (for a refund) a family other than
 * its sale's. `saleFamily` is the sale's family HMAC when the row is a refund of a known sale.
 */
export function subscriptionRowProblems(p: { kind: 'sale' | 'refund'; familyHmac: string | null; refundOf: string | null }, saleFamily: string | null | undefined): RowProblem[] {
  if (p.familyHmac === null) {
    return [
      {
        column: 'family_ref',
        code: 'ROW_INVALID',
        message: `A subscription ${p.kind} needs family_ref: it ties the family's subscription money to the packs the family uses.`,
      },
    ];
  }
  if (p.kind === 'refund' && saleFamily !== undefined && saleFamily !== p.familyHmac) {
    return [{ column: 'family_ref', code: 'ROW_INVALID', message: `The refund's family_ref is not the family of its sale ${p.refundOf}.` }];
  }
  return [];
}
