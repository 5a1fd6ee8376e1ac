/**
 * Product names: what a sales row's `product` can say (PRODUCT.md §7: a pack slug, a bundle
 * slug, or a store product id from a pack's `storeProductIds`). A name names one product —
 * one pack, one bundle or one plan — never two: otherwise a store's sales would be credited
 * to whichever owner the import happened to find first.
 *
 * `assertProductNamesFree` is the one check, run inside the write transaction that adds the
 * product: `catalog add` (a pack: its slug and store ids), `bundles create` (a bundle's slug),
 * (subscription plans have their own check in plans.ts over the same lookup,
 * productNameClaims in product-ids.ts).
 */
import type { Transaction } from 'kysely';
import { conflictError } from '../shared/errors.js';
import { describeClaim, productNameClaims, type ProductNameKind } from './product-ids.js';
import type { LedgerDB, Store } from './schema.js';

export interface NewProduct {
  kind: ProductNameKind;
  slug: string;
  /** Store product ids the product wants, per store. */
  storeIds?: Partial<Record<Store, string>>;
}

const STORES: readonly Store[] = ['appstore', 'googleplay', 'web'];

/**
 * Refuses (exit 4) a product whose slug or store ids already name another pack, bundle or
 * plan (found by productNameClaims): PRODUCT_ID_CONFLICT, or BUNDLE_SLUG_TAKEN for a bundle
 * named like a pack. The product's own earlier versions are not a conflict.
 */
export async function assertProductNamesFree(trx: Transaction<LedgerDB>, product: NewProduct): Promise<void> {
  const wanted: Array<{ name: string; store: Store | null }> = [{ name: product.slug, store: null }];
  for (const store of STORES) {
    const id = product.storeIds?.[store];
    if (id !== undefined && id !== '') wanted.push({ name: id, store });
  }
  for (const w of wanted) {
    const other = (await productNameClaims(trx, w.name)).find((c) => !(c.kind === product.kind && c.id === product.slug));
    if (!other) continue;
    if (product.kind === 'bundle' && other.kind === 'pack' && other.as === 'slug') {
      throw conflictError('BUNDLE_SLUG_TAKEN', `"${product.slug}" is a pack's slug; a bundle needs a slug of its own (sales name products by slug).`);
    }
    const what = w.store === null ? `slug "${w.name}"` : `${w.store} product id "${w.name}"`;
    throw conflictError('PRODUCT_ID_CONFLICT', `${product.kind} ${product.slug}: its ${what} is already ${describeClaim(other)}; a product name names one pack, bundle or plan, never two.`, {
      hint: 'Sales name products by slug or store product id: give this product ids of its own (storeProductIds in pack.json).',
      details: { slug: product.slug, kind: product.kind, name: w.name, store: w.store, claimedBy: [other] },
    });
  }
}
