/**
 * One product name, one product: a sales row's `product` is a pack slug, a bundle slug, a
 * plan id, or a store product id of a pack or a plan (PRODUCT.md §7, §14). This finds who
 * already answers to a name, so catalog add, bundles and plans can refuse a second claim
 * (PRODUCT_ID_CONFLICT) before sales could be credited to the wrong product.
 */
import type { Kysely } from 'kysely';
import type { LedgerDB } from './schema.js';

export type ProductNameKind = 'pack' | 'bundle' | 'plan';

export interface ProductClaim {
  kind: ProductNameKind;
  /** The pack slug, bundle slug or plan id that holds the name. */
  id: string;
  /** How it holds it: as its own slug or id, or as a store's product id. */
  as: 'slug' | 'appstore' | 'googleplay' | 'web';
}

const STORE_COLUMNS = [
  ['appstore', 'appstore_product_id'],
  ['googleplay', 'googleplay_product_id'],
  ['web', 'web_product_id'],
] as const;

/** Every pack, bundle and plan that answers to `name` (in any store). */
export async function productNameClaims(db: Kysely<LedgerDB>, name: string): Promise<ProductClaim[]> {
  const claims: ProductClaim[] = [];
  const packs = await db
    .selectFrom('packs')
    .select(['slug', 'appstore_product_id', 'googleplay_product_id', 'web_product_id'])
    .where((eb) =>
      eb.or([eb('slug', '=', name), eb('appstore_product_id', '=', name), eb('googleplay_product_id', '=', name), eb('web_product_id', '=', name)]),
    )
    .execute();
  const plans = await db
    .selectFrom('plans')
    .select(['id as slug', 'appstore_product_id', 'googleplay_product_id', 'web_product_id'])
    .where((eb) =>
      eb.or([eb('id', '=', name), eb('appstore_product_id', '=', name), eb('googleplay_product_id', '=', name), eb('web_product_id', '=', name)]),
    )
    .execute();
  for (const [kind, rows] of [['pack', packs], ['plan', plans]] as const) {
    for (const r of rows) {
      if (r.slug === name) claims.push({ kind, id: r.slug, as: 'slug' });
      for (const [store, column] of STORE_COLUMNS) if (r[column] === name) claims.push({ kind, id: r.slug, as: store });
    }
  }
  const bundle = await db.selectFrom('bundles').select('slug').where('slug', '=', name).executeTakeFirst();
  if (bundle) claims.push({ kind: 'bundle', id: bundle.slug, as: 'slug' });
  // A pack has a row per version: one claim per pack is enough.
  const seen = new Set<string>();
  return claims.filter((c) => {
    const key = `${c.kind}\u0000${c.id}\u0000${c.as}`;
    return seen.has(key) ? false : (seen.add(key), true);
  });
}

/** "the appstore product id of pack ocean-creatures", "the slug of bundle starter". */
export function describeClaim(c: ProductClaim): string {
  return c.as === 'slug' ? `the ${c.kind === 'plan' ? 'id' : 'slug'} of ${c.kind} ${c.id}` : `the ${c.as} product id of ${c.kind} ${c.id}`;
}
