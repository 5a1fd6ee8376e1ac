/**
 * Registering verified archives in the ledger's catalog (`packops catalog add`). The pack
 * belongs to whatever its `creator` field names: a creator or a collaboration. Adding the
 * same archive again is a no-op; another archive under a registered slug and version is a
 * conflict, as is a store product id already claimed by another pack (sales resolve
 * products through those ids).
 */
import { liveOn, type NotLive } from '../shared/live-version.js';
import { compareVersions } from '../shared/version.js';
import type { PackManifest } from '../manifest/types.js';
import { conflictError, inputError } from '../shared/errors.js';
import { publishedAtInstant } from '../shared/timestamp.js';
import { closedMonths } from './import/closed.js';
import { storedInstant, storedInteger, storedStringArray } from './stored.js';
import { assertProductNamesFree } from './products.js';
import type { Ledger } from './db.js';
import type { Kysely, Transaction } from 'kysely';
import type { LedgerDB, OwnerKind, PacksTable } from './schema.js';

export interface RegisterPackInput {
  manifest: PackManifest;
  sha256: string;
  bytes: number;
  archivePath: string;
  /** ISO 8601 instant; stored in UTC. */
  publishedAt: string;
  /**
   * The minisign public key (base64 key line) that verified the archive's detached signature:
   * `catalog publish` checks the signature it copies against it. Adding the archive again
   * records it for a pack registered before it was kept (or after a re-signing).
   */
  signingKey?: string;
}

export interface RegisterPackResult {
  status: 'added' | 'unchanged';
  slug: string;
  version: string;
  owner: { id: string; kind: OwnerKind };
  publishedAt: string;
}

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
  const published = publishedAtInstant(input.publishedAt);
  const publishedAt = published.iso;
  const existing = await trx
    .selectFrom('packs')
    .select(['archive_sha256', 'owner_id', 'owner_kind', 'published_at', 'signing_key'])
    .where('slug', '=', m.slug)
    .where('version', '=', m.version)
    .executeTakeFirst();
  if (existing) {
    if (existing.archive_sha256 === input.sha256) {
      if (input.signingKey !== undefined && existing.signing_key !== input.signingKey) {
        await trx.updateTable('packs').set({ signing_key: input.signingKey }).where('slug', '=', m.slug).where('version', '=', m.version).execute();
      }
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
  // Publication counts towards a month's tiers: a closed month's figures are final.
  const closed = await closedMonths(trx);
  if (closed.has(published.month)) {
    throw conflictError('PERIOD_CLOSED', `${m.slug} ${m.version}: published-at ${publishedAt} falls in a closed month: ${closed.describe(published.month)}.`, {
      hint: 'A closed month is immutable; publish with a --published-at in an open month (the default, now, usually is).',
      details: { slug: m.slug, version: m.version, publishedAt, month: published.month },
    });
  }
  await assertOwnerKept(trx, m);
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
  await assertProductNamesFree(trx, { kind: 'pack', slug: m.slug, storeIds: m.storeProductIds ?? {} });
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
    signing_key: input.signingKey ?? null,
  };
  await trx.insertInto('packs').values(row).execute();
  return { status: 'added', slug: m.slug, version: m.version, owner: { id: row.owner_id, kind: row.owner_kind }, publishedAt };
}

/**
 * §9.4: a pack belongs to one creator or one collaboration, for all of its versions (payouts
 * attribute a month's sales to one owner; a new owner would take the month's earlier sales).
 * A version naming anyone else than the slug's registered versions is PACK_OWNER_CHANGED.
 * Called inside registration's transaction, and by `release` before it builds anything.
 */
export async function assertOwnerKept(db: Kysely<LedgerDB>, m: Pick<PackManifest, 'slug' | 'version' | 'creator'>): Promise<void> {
  const owners = await db.selectFrom('packs').select(['owner_id', 'owner_kind', 'version']).where('slug', '=', m.slug).execute();
  const other = owners.find((o) => o.owner_id !== m.creator);
  if (!other) return;
  const versions = owners.filter((o) => o.owner_id === other.owner_id).map((o) => o.version).sort(compareVersions);
  throw conflictError(
    'PACK_OWNER_CHANGED',
    `${m.slug} ${m.version} names "${m.creator}" as its creator, but ${m.slug} belongs to ${other.owner_kind} "${other.owner_id}" (registered ${versions.join(', ')}); a pack keeps one owner.`,
    {
      hint: `Keep "creator": "${other.owner_id}" in pack.json, or publish the pack under a new slug for "${m.creator}". To share a pack's revenue, make it a collaboration's pack from its first version.`,
      details: { slug: m.slug, version: m.version, creator: m.creator, owner: { id: other.owner_id, kind: other.owner_kind }, ownerVersions: versions },
    },
  );
}

export type PricedPack = Pick<PacksTable, 'slug' | 'version' | 'name' | 'price_minor' | 'currency' | 'available_from' | 'available_until' | 'category'> & {
  tags: string[];
  publishedAt: string;
};

/**
 * Every registered version of every pack, for pricing: `price_minor` checked, `tags`
 * parsed and `published_at` read as an instant (a stored value that is not is LEDGER_CORRUPT).
 */
export async function packVersions(ledger: Ledger): Promise<PricedPack[]> {
  const rows = await ledger.db
    .selectFrom('packs')
    .select(['slug', 'version', 'name', 'price_minor', 'currency', 'tags', 'available_from', 'available_until', 'category', 'published_at'])
    .execute();
  return rows.map(({ published_at, tags, ...r }) => {
    const at = (column: string) => ({ table: 'packs', row: `slug=${r.slug} version=${r.version}`, column });
    return {
      ...r,
      price_minor: storedInteger(at('price_minor'), r.price_minor),
      tags: storedStringArray(at('tags'), tags),
      publishedAt: storedInstant(at('published_at'), published_at),
    };
  });
}

/**
 * Each slug's live version on `day` (YYYY-MM-DD, UTC) by the catalog's rule (§10,
 * shared/live-version.ts): published by that day and not a pre-release. The prices bundles
 * and seasonal collections are made from. Slugs with no live version come back apart.
 */
export async function livePacks(ledger: Ledger, day: string): Promise<{ live: PricedPack[]; notLive: Array<NotLive<PricedPack>> }> {
  return liveOn(await packVersions(ledger), day, (p) => p);
}
