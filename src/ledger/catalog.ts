/**
 * Registering verified archives in the ledger's catalog (`packops catalog add`). The pack
 * belongs to whatever its `creator` field names: a creator or a collaboration. Adding the
 * same archive again is a no-op; another archive under a registered slug and version is a
 * conflict, as is a store product id already claimed by another pack (sales resolve
 * products through those ids).
 */
import { compareVersions } from '../catalog/version.js';
import type { PackManifest } from '../manifest/types.js';
import { conflictError, inputError } from '../shared/errors.js';
import type { Ledger } from './db.js';
import { describeClaim, productNameClaims } from './product-ids.js';
import type { Transaction } from 'kysely';
import type { LedgerDB, OwnerKind, PacksTable } from './schema.js';

export interface RegisterPackInput {
  manifest: PackManifest;
  sha256: string;
  bytes: number;
  archivePath: string;
  /** ISO 8601 instant; stored in UTC. */
  publishedAt: string;
}

export interface RegisterPackResult {
  status: 'added' | 'unchanged';
  slug: string;
  version: string;
  owner: { id: string; kind: OwnerKind };
  publishedAt: string;
}

const STORE_COLUMNS = {
  appstore: 'appstore_product_id',
  googleplay: 'googleplay_product_id',
  web: 'web_product_id',
} as const;

export async function registerPack(ledger: Ledger, input: RegisterPackInput): Promise<RegisterPackResult> {
  const [result] = await registerPacks(ledger, [input]);
  return result!;
}

/** Registers several archives in one transaction: all of them, or (on any conflict) none. */
export async function registerPacks(ledger: Ledger, inputs: readonly RegisterPackInput[]): Promise<RegisterPackResult[]> {
  return ledger.db.transaction().execute(async (trx) => {
    const results: RegisterPackResult[] = [];
    for (const input of inputs) results.push(await registerIn(trx, input));
    return results;
  });
}

async function registerIn(trx: Transaction<LedgerDB>, input: RegisterPackInput): Promise<RegisterPackResult> {
  const m = input.manifest;
  const publishedMs = Date.parse(input.publishedAt);
  if (!/(Z|[+-]\d{2}:?\d{2})$/i.test(input.publishedAt) || Number.isNaN(publishedMs)) {
    throw inputError('PUBLISHED_AT_INVALID', `published-at "${input.publishedAt}" is not an ISO 8601 instant with a zone.`, {
      hint: 'For example 2026-10-01T09:00:00Z.',
    });
  }
  const publishedAt = new Date(publishedMs).toISOString();
  const existing = await trx
    .selectFrom('packs')
    .select(['archive_sha256', 'owner_id', 'owner_kind', 'published_at'])
    .where('slug', '=', m.slug)
    .where('version', '=', m.version)
    .executeTakeFirst();
  if (existing) {
    if (existing.archive_sha256 === input.sha256) {
      return {
        status: 'unchanged',
        slug: m.slug,
        version: m.version,
        owner: { id: existing.owner_id, kind: existing.owner_kind },
        publishedAt: existing.published_at,
      };
    }
    throw conflictError('PACK_VERSION_CONFLICT', `${m.slug} ${m.version} is already registered from another archive.`, {
      hint: 'Publish the change under a new version (bump "version" in pack.json and build again).',
      details: { slug: m.slug, version: m.version, registeredSha256: existing.archive_sha256, sha256: input.sha256 },
    });
  }
  const creator = await trx.selectFrom('creators').select('id').where('id', '=', m.creator).executeTakeFirst();
  const collaboration = creator
    ? undefined
    : await trx.selectFrom('collaborations').select('id').where('id', '=', m.creator).executeTakeFirst();
  if (!creator && !collaboration) {
    throw inputError('OWNER_UNKNOWN', `${m.slug}: its creator "${m.creator}" is neither a creator nor a collaboration in the ledger.`, {
      hint: 'Import the creators first: packops creators import creators.json',
      details: { slug: m.slug, creator: m.creator },
    });
  }
  for (const [store, column] of Object.entries(STORE_COLUMNS) as Array<[keyof typeof STORE_COLUMNS, (typeof STORE_COLUMNS)[keyof typeof STORE_COLUMNS]]>) {
    const id = m.storeProductIds?.[store];
    if (!id) continue;
    const other = await trx.selectFrom('packs').select('slug').where(column, '=', id).where('slug', '<>', m.slug).executeTakeFirst();
    if (other) {
      throw conflictError('PRODUCT_ID_CONFLICT', `${m.slug}: the ${store} product id "${id}" already belongs to ${other.slug}.`, {
        details: { slug: m.slug, store, productId: id, owner: other.slug },
      });
    }
  }
  // Subscription plans answer to their ids and store product ids too (§14): one name, one product.
  for (const name of [m.slug, ...Object.values(m.storeProductIds ?? {})]) {
    const plan = typeof name === 'string' ? (await productNameClaims(trx, name)).find((c) => c.kind === 'plan') : undefined;
    if (plan) {
      throw conflictError('PRODUCT_ID_CONFLICT', `${m.slug}: "${name}" is already ${describeClaim(plan)}.`, {
        details: { slug: m.slug, productId: name, claimedBy: [plan] },
      });
    }
  }
  const row: PacksTable = {
    slug: m.slug,
    version: m.version,
    name: m.name,
    category: m.category,
    subcategory: m.subcategory ?? null,
    tags: JSON.stringify(m.tags ?? []),
    price_minor: m.price.amountMinor,
    currency: m.price.currency,
    markets: JSON.stringify(m.markets ?? {}),
    owner_id: m.creator,
    owner_kind: creator ? 'creator' : 'collaboration',
    appstore_product_id: m.storeProductIds?.appstore ?? null,
    googleplay_product_id: m.storeProductIds?.googleplay ?? null,
    web_product_id: m.storeProductIds?.web ?? null,
    available_from: m.availability?.from ?? null,
    available_until: m.availability?.until ?? null,
    archive_sha256: input.sha256,
    archive_path: input.archivePath,
    archive_bytes: input.bytes,
    manifest: JSON.stringify(m),
    published_at: publishedAt,
  };
  await trx.insertInto('packs').values(row).execute();
  return { status: 'added', slug: m.slug, version: m.version, owner: { id: row.owner_id, kind: row.owner_kind }, publishedAt };
}

/** The latest registered version of each slug (semver precedence), for pricing. */
export async function latestPacks(ledger: Ledger): Promise<Array<Pick<PacksTable, 'slug' | 'version' | 'name' | 'price_minor' | 'currency' | 'tags' | 'available_from' | 'available_until' | 'category'>>> {
  const rows = await ledger.db
    .selectFrom('packs')
    .select(['slug', 'version', 'name', 'price_minor', 'currency', 'tags', 'available_from', 'available_until', 'category'])
    .execute();
  const latest = new Map<string, (typeof rows)[number]>();
  for (const r of rows) {
    const cur = latest.get(r.slug);
    if (!cur || compareVersions(r.version, cur.version) > 0) latest.set(r.slug, r);
  }
  return [...latest.values()].sort((a, b) => (a.slug < b.slug ? -1 : a.slug > b.slug ? 1 : 0));
}
