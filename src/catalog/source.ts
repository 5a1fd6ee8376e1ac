/**
 * Reads what the catalog needs from the ledger (Kysely queries only): every registered
 * pack version with its stored manifest and archive, the bundles with their items, and
 * the reviews. The rows become the plain typed inputs of feed.ts and report.ts.
 */
import type { Ledger } from '../ledger/db.js';
import type { PackManifest } from '../manifest/types.js';
import { inputError } from '../shared/errors.js';
import { storedInstant, storedInteger } from '../ledger/stored.js';
import type { RegisteredBundle, RegisteredPack } from './feed.js';

export interface StoredPack extends RegisteredPack {
  /** Where the verified archive was registered from (its .minisig lies beside it). */
  archivePath: string;
  ownerKind: string;
  /** The public key (base64 line) that verified the detached signature at registration; null before migration 0500. */
  signingKey: string | null;
}

function parseManifest(text: string, slug: string, version: string): PackManifest {
  try {
    const value = JSON.parse(text) as unknown;
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value as PackManifest;
  } catch {
    // reported below
  }
  throw inputError('CATALOG_DATA_INVALID', `The ledger's manifest of ${slug} ${version} is not a JSON object.`);
}

const packAt = (r: { slug: string; version: string }, column: string) => ({ table: 'packs', row: `slug=${r.slug} version=${r.version}`, column });

export async function loadStoredPacks(ledger: Ledger): Promise<StoredPack[]> {
  const rows = await ledger.db
    .selectFrom('packs')
    .select(['slug', 'version', 'manifest', 'archive_sha256', 'archive_bytes', 'archive_path', 'published_at', 'owner_kind', 'signing_key'])
    .orderBy('slug')
    .orderBy('version')
    .execute();
  return rows.map((r) => {
    const manifest = parseManifest(r.manifest, r.slug, r.version);
    if (manifest.slug !== r.slug || manifest.version !== r.version) {
      throw inputError('CATALOG_DATA_INVALID', `The ledger row ${r.slug} ${r.version} holds the manifest of ${manifest.slug} ${manifest.version}.`);
    }
    return {
      manifest,
      sha256: r.archive_sha256,
      bytes: storedInteger(packAt(r, 'archive_bytes'), r.archive_bytes),
      publishedAt: storedInstant(packAt(r, 'published_at'), r.published_at),
      archivePath: r.archive_path,
      ownerKind: r.owner_kind,
      signingKey: r.signing_key,
    };
  });
}

const bundleAt = (b: { slug: string }, column: string) => ({ table: 'bundles', row: `slug=${b.slug}`, column });

export async function loadStoredBundles(ledger: Ledger): Promise<RegisteredBundle[]> {
  const bundles = await ledger.db.selectFrom('bundles').selectAll().orderBy('slug').execute();
  const items = await ledger.db.selectFrom('bundle_items').selectAll().orderBy('bundle_slug').orderBy('position').execute();
  return bundles.map((b) => ({
    slug: b.slug,
    name: b.name,
    packs: items.filter((i) => i.bundle_slug === b.slug).map((i) => i.pack_slug),
    priceMinor: storedInteger(bundleAt(b, 'price_minor'), b.price_minor),
    individualTotalMinor: storedInteger(bundleAt(b, 'individual_total_minor'), b.individual_total_minor),
    currency: b.currency,
    savingsPercent: b.savings_percent,
    availableFrom: b.available_from,
    availableUntil: b.available_until,
  }));
}

export interface StoredReview {
  pack: string;
  rating: number;
  reviewedAt: string;
}

export async function loadReviews(ledger: Ledger): Promise<StoredReview[]> {
  const rows = await ledger.db.selectFrom('reviews').select(['review_id', 'pack_slug', 'rating', 'reviewed_at']).orderBy('review_id').execute();
  return rows.map((r) => ({
    pack: r.pack_slug,
    rating: storedInteger({ table: 'reviews', row: `review_id=${r.review_id}`, column: 'rating' }, r.rating, 1, 5),
    reviewedAt: r.reviewed_at,
  }));
}
