/**
 * Product names: what a sales row's `product` can say (PRODUCT.md §7: a pack slug, a bundle
 * slug, or a store product id from a pack's `storeProductIds`). A name names one product —
 * one pack, one bundle or one plan — never two: otherwise a store's sales would be credited
 * to whichever owner the import happened to find first.
 *
 * `assertProductNamesFree` is the one check, run inside the write transaction that adds the
 * product: `catalog add` (a pack: its slug and store ids), `bundles create` (a bundle's slug),
 * and subscription plans later (add their names to `registeredNames`).
 */
import type { Transaction } from 'kysely';
import { conflictError } from '../shared/errors.js';
import type { LedgerDB, Store } from './schema.js';

export type ProductKind = 'pack' | 'bundle' | 'plan';

export interface ProductClaim {
  kind: ProductKind;
  slug: string;
  /** Store product ids the product wants, per store. */
  storeIds?: Partial<Record<Store, string>>;
}

/** One registered name: what it names, and through which store id (null: the slug itself). */
interface RegisteredName {
  name: string;
  kind: ProductKind;
  slug: string;
  store: Store | null;
}

const STORE_COLUMNS = [
  ['appstore', 'appstore_product_id'],
  ['googleplay', 'googleplay_product_id'],
  ['web', 'web_product_id'],
] as const;

/** Every registered name equal to one of `names`: packs' slugs and store ids, bundles' slugs. */
async function registeredNames(trx: Transaction<LedgerDB>, names: readonly string[]): Promise<RegisteredName[]> {
  const found: RegisteredName[] = [];
  const packs = await trx
    .selectFrom('packs')
    .select(['slug', 'appstore_product_id', 'googleplay_product_id', 'web_product_id'])
    .where((eb) =>
      eb.or([
        eb('slug', 'in', names),
        eb('appstore_product_id', 'in', names),
        eb('googleplay_product_id', 'in', names),
        eb('web_product_id', 'in', names),
      ]),
    )
    .execute();
  for (const p of packs) {
    if (names.includes(p.slug)) found.push({ name: p.slug, kind: 'pack', slug: p.slug, store: null });
    for (const [store, column] of STORE_COLUMNS) {
      const id = p[column];
      if (id !== null && names.includes(id)) found.push({ name: id, kind: 'pack', slug: p.slug, store });
    }
  }
  for (const b of await trx.selectFrom('bundles').select('slug').where('slug', 'in', names).execute()) {
    found.push({ name: b.slug, kind: 'bundle', slug: b.slug, store: null });
  }
  return found;
}

function describe(n: RegisteredName): string {
  return n.store === null ? `the slug of the ${n.kind} ${n.slug}` : `the ${n.store} product id of the ${n.kind} ${n.slug}`;
}

/**
 * Refuses (exit 4) a product whose slug or store ids already name another product:
 * PRODUCT_ID_CONFLICT, or BUNDLE_SLUG_TAKEN for a bundle named like a pack.
 */
export async function assertProductNamesFree(trx: Transaction<LedgerDB>, claim: ProductClaim): Promise<void> {
  const wanted: Array<{ name: string; store: Store | null }> = [{ name: claim.slug, store: null }];
  for (const [store] of STORE_COLUMNS) {
    const id = claim.storeIds?.[store];
    if (id !== undefined && id !== '') wanted.push({ name: id, store });
  }
  const registered = await registeredNames(trx, [...new Set(wanted.map((w) => w.name))]);
  for (const w of wanted) {
    // The product's own earlier versions (a pack re-registered under a new version) are not a conflict.
    const other = registered.find((r) => r.name === w.name && !(r.kind === claim.kind && r.slug === claim.slug));
    if (!other) continue;
    const what = w.store === null ? `slug "${w.name}"` : `${w.store} product id "${w.name}"`;
    if (claim.kind === 'bundle' && other.kind === 'pack' && other.store === null) {
      throw conflictError('BUNDLE_SLUG_TAKEN', `"${claim.slug}" is a pack's slug; a bundle needs a slug of its own (sales name products by slug).`);
    }
    throw conflictError('PRODUCT_ID_CONFLICT', `${claim.kind} ${claim.slug}: its ${what} is already ${describe(other)}; a product name names one product.`, {
      hint: 'Sales name products by slug or store product id: give this product ids of its own (storeProductIds in pack.json).',
      details: { slug: claim.slug, kind: claim.kind, name: w.name, store: w.store, owner: { kind: other.kind, slug: other.slug, store: other.store } },
    });
  }
}
