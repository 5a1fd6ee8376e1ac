/**
 * The catalog feed (`catalog.json`, schemas/catalog.schema.json) built from plain typed
 * inputs: the registered packs (every version), the bundles and a clock. Pure: no files,
 * no database. The same inputs give the same feed, key order included, so that the
 * serialised catalog is byte-identical for the same ledger and SOURCE_DATE_EPOCH.
 */
import type { AssetType, Category, LockVariant, PackManifest } from '../manifest/types.js';
import { inputError } from '../shared/errors.js';
import { compareCodePoints, savingsPercent } from '../shared/money.js';
import { isSemver } from '../shared/version.js';
import { utcDay } from '../shared/source-date.js';
import { highestPerSlug, liveOn, type NotLiveReason, type VersionKey } from '../shared/live-version.js';
import { own, setOwn } from '../shared/lookup.js';

export const CATALOG_VERSION = 1;

export interface FeedMoney {
  amountMinor: number;
  currency: string;
}

export interface FeedAvailability {
  from: string | null;
  until: string | null;
}

export interface FeedVariant {
  name: string;
  url: string;
  format: LockVariant['format'];
  width: number;
  height: number;
  bytes: number;
  sha256: string;
  placeholder: string;
}

export interface FeedAsset {
  id: string;
  type: AssetType;
  altText: string | null;
  variants: FeedVariant[];
}

export interface FeedPack {
  slug: string;
  version: string;
  name: string;
  tagline: string | null;
  description: string | null;
  category: Category;
  subcategory: string | null;
  tags: string[];
  ageRange: { min: number; max: number };
  educationalObjectives: string[];
  compatibleFeatures: string[];
  creator: string;
  price: FeedMoney;
  markets: Record<string, FeedMoney>;
  storeProductIds: { appstore?: string; googleplay?: string; web?: string };
  availability: FeedAvailability;
  publishedAt: string;
  cover: string | null;
  assets: FeedAsset[];
  archive: { url: string; bytes: number; sha256: string; signatureUrl: string };
}

export interface FeedBundle {
  slug: string;
  name: string;
  packs: string[];
  price: FeedMoney;
  individualTotal: FeedMoney;
  savings: FeedMoney;
  savingsPercent: string;
  availability: FeedAvailability;
}

export interface CatalogFeed {
  catalogVersion: typeof CATALOG_VERSION;
  generatedAt: string;
  publishDate: string;
  market: string | null;
  baseUrl: string | null;
  packs: FeedPack[];
  bundles: FeedBundle[];
}

/** A pack version registered in the ledger, its manifest carrying each asset's variants. */
export interface RegisteredPack {
  manifest: PackManifest;
  sha256: string;
  bytes: number;
  publishedAt: string;
}

export interface RegisteredBundle {
  slug: string;
  name: string;
  packs: string[];
  priceMinor: number;
  individualTotalMinor: number;
  currency: string;
  /** The savings percentage stored with the bundle ("30.5"); computed when absent. */
  savingsPercent?: string;
  availableFrom?: string | null;
  availableUntil?: string | null;
}

export interface FeedInput {
  packs: readonly RegisteredPack[];
  bundles: readonly RegisteredBundle[];
  /** The generation time; its UTC day is the publish day. */
  now: Date;
  /** Publish for one market (ISO 3166-1 alpha-2): only that market's local price is listed. */
  market?: string;
  /** Absolute http(s) base for every URL; relative URLs when absent. */
  baseUrl?: string;
}

export type ExclusionReason = 'not-yet-available' | 'expired' | 'pack-not-in-feed' | 'not-yet-published' | 'pre-release';

export interface Exclusion {
  kind: 'pack' | 'bundle';
  slug: string;
  version?: string;
  reason: ExclusionReason;
  availability?: FeedAvailability;
  /** For a bundle left out because of its packs: which ones. */
  missingPacks?: string[];
}

/** A file the site must hold beside catalog.json, by its path relative to the site. */
export type SiteFile =
  | { kind: 'archive'; sitePath: string; slug: string; version: string; sha256: string; bytes: number }
  | { kind: 'signature'; sitePath: string; slug: string; version: string }
  | { kind: 'variant'; sitePath: string; slug: string; version: string; entry: string; sha256: string; bytes: number };

export interface FeedBuild {
  feed: CatalogFeed;
  excluded: Exclusion[];
  files: SiteFile[];
}

// ---------------------------------------------------------------------------------------
// Site layout: where each file lives relative to catalog.json.

const SEGMENT = /^[0-9A-Za-z][0-9A-Za-z.+-]*$/;

function segment(value: string, what: string): string {
  if (!SEGMENT.test(value) || value.includes('..')) {
    throw inputError('CATALOG_DATA_INVALID', `The ledger holds a ${what} that cannot be used in a path: ${JSON.stringify(value)}.`);
  }
  return value;
}

export function archiveSitePath(slug: string, version: string): string {
  return `packs/${segment(slug, 'slug')}/${slug}-${segment(version, 'version')}.zip`;
}

export function variantSitePath(slug: string, version: string, variantPath: string): string {
  const parts = variantPath.split('/');
  if (parts.length < 2 || parts.some((p) => !SEGMENT.test(p) || p === '..' || p === '.')) {
    throw inputError('CATALOG_DATA_INVALID', `Pack ${slug} ${version} names a variant path that is not safe: ${JSON.stringify(variantPath)}.`);
  }
  return `packs/${segment(slug, 'slug')}/${segment(version, 'version')}/${variantPath}`;
}

// ---------------------------------------------------------------------------------------

// The clock and its UTC day live in shared/source-date.ts (pricing reads them too).
export { clockFromEnv, utcDay } from '../shared/source-date.js';

/** ISO 8601 in UTC to the second, so that sub-second clock noise never reaches the feed. */
export function isoSeconds(d: Date): string {
  return `${d.toISOString().slice(0, 19)}Z`;
}

export function windowOf(from?: string | null, until?: string | null): FeedAvailability {
  return { from: from ?? null, until: until ?? null };
}

/** Where `day` stands against an inclusive window (null ends are open). */
export function windowStatus(w: FeedAvailability, day: string): 'available' | 'not-yet-available' | 'expired' {
  if (w.from !== null && day < w.from) return 'not-yet-available';
  if (w.until !== null && day > w.until) return 'expired';
  return 'available';
}


/**
 * The base URL every feed URL is resolved against: absolute http(s), with no user info
 * (a `user:secret@` would be published in every URL of the feed), no query and no
 * fragment (an empty `?` or `#` counts: it would be dropped from resolved URLs). Messages
 * never echo the user info.
 */
export function normaliseBaseUrl(raw: string): string {
  const shown = JSON.stringify(redactUserInfo(raw));
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw inputError('BASE_URL_INVALID', `--base-url must be an absolute http(s) URL, not ${shown}.`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw inputError('BASE_URL_INVALID', `--base-url must be an http(s) URL, not ${shown}.`);
  }
  if (url.username !== '' || url.password !== '' || authorityOf(raw).includes('@')) {
    throw inputError('BASE_URL_INVALID', `--base-url must not carry user info (a name or password before "@"): ${shown}.`, {
      hint: 'Catalog URLs are public: give the plain https://host/path the files are served from.',
    });
  }
  if (url.search !== '' || url.hash !== '' || url.href.includes('?') || url.href.includes('#')) {
    throw inputError('BASE_URL_INVALID', `--base-url must not carry a query or a fragment: ${shown}.`);
  }
  if (!url.pathname.endsWith('/')) url.pathname += '/';
  return url.toString();
}

/** The authority part of a URL as typed (WHATWG URL parsing also ends it at a backslash). */
function authorityOf(raw: string): string {
  return /^[a-z][a-z0-9+.-]*:[/\\]*([^/\\?#]*)/i.exec(raw.trim())?.[1] ?? '';
}

/** `scheme://user:secret@host/...` → `scheme://***@host/...` (anything up to the last "@"), for messages. */
function redactUserInfo(raw: string): string {
  const at = raw.lastIndexOf('@');
  if (at < 0) return raw;
  const start = /^[a-z][a-z0-9+.-]*:[/\\]*/i.exec(raw)?.[0].length ?? 0;
  return `${raw.slice(0, Math.min(start, at))}***${raw.slice(at)}`;
}

/** The live version of each slug on `day` (YYYY-MM-DD, UTC), by the one rule in shared/live-version.ts. */
export function liveVersions<T extends { manifest: { slug: string; version: string }; publishedAt: string }>(
  packs: readonly T[],
  day: string,
): { live: T[]; notLive: Array<{ slug: string; version: string; reason: NotLiveReason }> } {
  const { live, notLive } = liveOn(packs, day, registeredKey);
  return { live, notLive: notLive.map(({ slug, version, reason }) => ({ slug, version, reason })) };
}

/** The latest version of each slug, sorted by slug. */
export function latestPerSlug<T extends { manifest: { slug: string; version: string } }>(packs: readonly T[]): T[] {
  return highestPerSlug(packs, (p) => ({ slug: p.manifest.slug, version: p.manifest.version, publishedAt: '' }));
}

function registeredKey(p: { manifest: { slug: string; version: string }; publishedAt: string }): VersionKey {
  return { slug: p.manifest.slug, version: p.manifest.version, publishedAt: p.publishedAt };
}

function sortedRecord<V>(rec: Record<string, V> | undefined, map: (v: V) => V): Record<string, V> {
  const out: Record<string, V> = {};
  for (const key of Object.keys(rec ?? {}).sort(compareCodePoints)) setOwn(out, key, map(rec![key]!));
  return out;
}

function money(m: FeedMoney): FeedMoney {
  return { amountMinor: m.amountMinor, currency: m.currency };
}

export function buildFeed(input: FeedInput): FeedBuild {
  const day = utcDay(input.now);
  const baseUrl = input.baseUrl === undefined ? null : normaliseBaseUrl(input.baseUrl);
  const url = (sitePath: string): string => (baseUrl === null ? sitePath : new URL(sitePath, baseUrl).toString());
  const excluded: Exclusion[] = [];
  const files: SiteFile[] = [];
  const packs: FeedPack[] = [];

  const { live, notLive } = liveVersions(input.packs, day);
  for (const n of notLive) excluded.push({ kind: 'pack', slug: n.slug, version: n.version, reason: n.reason });
  for (const reg of live) {
    const m = reg.manifest;
    if (!isSemver(m.version)) {
      throw inputError('CATALOG_DATA_INVALID', `Pack ${m.slug} is registered with a version that is not semver: ${JSON.stringify(m.version)}.`);
    }
    const availability = windowOf(m.availability?.from, m.availability?.until);
    const status = windowStatus(availability, day);
    if (status !== 'available') {
      excluded.push({ kind: 'pack', slug: m.slug, version: m.version, reason: status, availability });
      continue;
    }
    const archivePath = archiveSitePath(m.slug, m.version);
    files.push({ kind: 'archive', sitePath: archivePath, slug: m.slug, version: m.version, sha256: reg.sha256, bytes: reg.bytes });
    files.push({ kind: 'signature', sitePath: `${archivePath}.minisig`, slug: m.slug, version: m.version });
    const assets: FeedAsset[] = m.assets.map((a) => {
      if (!a.variants || a.variants.length === 0) {
        throw inputError('CATALOG_DATA_INVALID', `Asset "${a.id}" of ${m.slug} ${m.version} has no variants in its archive's pack.json.`, {
          hint: 'Archives built by `packops build` list each asset\'s variants; rebuild and re-register the pack.',
        });
      }
      return {
        id: a.id,
        type: a.type,
        altText: a.altText ?? null,
        variants: a.variants.map((v) => {
          const sitePath = variantSitePath(m.slug, m.version, v.path);
          files.push({ kind: 'variant', sitePath, slug: m.slug, version: m.version, entry: v.path, sha256: v.sha256, bytes: v.bytes });
          return {
            name: v.name,
            url: url(sitePath),
            format: v.format,
            width: v.width,
            height: v.height,
            bytes: v.bytes,
            sha256: v.sha256,
            placeholder: v.placeholder,
          };
        }),
      };
    });
    const markets = sortedRecord(m.markets, money);
    const storeIds = m.storeProductIds ?? {};
    packs.push({
      slug: m.slug,
      version: m.version,
      name: m.name,
      tagline: m.tagline ?? null,
      description: m.description ?? null,
      category: m.category,
      subcategory: m.subcategory ?? null,
      tags: [...(m.tags ?? [])],
      ageRange: { min: m.ageRange.min, max: m.ageRange.max },
      educationalObjectives: [...(m.educationalObjectives ?? [])],
      compatibleFeatures: [...(m.compatibleFeatures ?? [])],
      creator: m.creator,
      price: money(m.price),
      markets:
        input.market === undefined
          ? markets
          : own(markets, input.market) !== undefined
            ? { [input.market]: own(markets, input.market)! }
            : {},
      storeProductIds: {
        ...(storeIds.appstore !== undefined ? { appstore: storeIds.appstore } : {}),
        ...(storeIds.googleplay !== undefined ? { googleplay: storeIds.googleplay } : {}),
        ...(storeIds.web !== undefined ? { web: storeIds.web } : {}),
      },
      availability,
      publishedAt: reg.publishedAt,
      cover: m.cover ?? null,
      assets,
      archive: { url: url(archivePath), bytes: reg.bytes, sha256: reg.sha256, signatureUrl: url(`${archivePath}.minisig`) },
    });
  }

  const inFeed = new Set(packs.map((p) => p.slug));
  const bundles: FeedBundle[] = [];
  for (const b of [...input.bundles].sort((x, y) => compareCodePoints(x.slug, y.slug))) {
    const availability = windowOf(b.availableFrom, b.availableUntil);
    const status = windowStatus(availability, day);
    if (status !== 'available') {
      excluded.push({ kind: 'bundle', slug: b.slug, reason: status, availability });
      continue;
    }
    const missing = b.packs.filter((s) => !inFeed.has(s));
    if (missing.length > 0 || b.packs.length === 0) {
      excluded.push({ kind: 'bundle', slug: b.slug, reason: 'pack-not-in-feed', availability, missingPacks: missing });
      continue;
    }
    const savings = b.individualTotalMinor - b.priceMinor;
    bundles.push({
      slug: b.slug,
      name: b.name,
      packs: [...b.packs],
      price: { amountMinor: b.priceMinor, currency: b.currency },
      individualTotal: { amountMinor: b.individualTotalMinor, currency: b.currency },
      savings: { amountMinor: savings, currency: b.currency },
      savingsPercent:
        b.savingsPercent !== undefined && /^-?\d{1,3}\.\d$/.test(b.savingsPercent)
          ? b.savingsPercent
          : savingsPercent(b.individualTotalMinor, b.priceMinor),
      availability,
    });
  }

  return {
    feed: {
      catalogVersion: CATALOG_VERSION,
      generatedAt: isoSeconds(input.now),
      publishDate: day,
      market: input.market ?? null,
      baseUrl,
      packs,
      bundles,
    },
    excluded,
    files,
  };
}

/** The serialised feed: two-space JSON with a final newline (deterministic). */
export function serialiseFeed(feed: CatalogFeed): string {
  return `${JSON.stringify(feed, null, 2)}\n`;
}
