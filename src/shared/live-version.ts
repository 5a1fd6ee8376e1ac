/**
 * Which version of a pack is live on a day (§10): the highest semver precedence among its
 * versions published by the end of that day (UTC) that are not pre-releases. A later
 * `published_at` (a scheduled release) or a pre-release (2.0.0-beta.1) never replaces the
 * live version. One rule for everything that reads "the current pack": the catalog feed and
 * report, and the prices bundles and seasonal collections are made from.
 */
import { compareCodePoints } from './money.js';
import { compareVersions, isPrerelease } from './version.js';

/** What the rule reads of a registered version: slug, version, `published_at` (ISO 8601, UTC). */
export interface VersionKey {
  slug: string;
  version: string;
  publishedAt: string;
}

export type NotLiveReason = 'not-yet-published' | 'pre-release';

export interface NotLive<T> {
  slug: string;
  /** The slug's highest registered version (the one a reader would have expected). */
  version: string;
  reason: NotLiveReason;
  entry: T;
}

/** Whether one version may be live on `day` (YYYY-MM-DD): published by that day's end, not a pre-release. */
export function mayBeLive(k: VersionKey, day: string): boolean {
  return k.publishedAt.slice(0, 10) <= day && !isPrerelease(k.version);
}

/** The highest version of each slug (semver precedence), sorted by slug in code-point order. */
export function highestPerSlug<T>(entries: readonly T[], key: (entry: T) => VersionKey): T[] {
  const best = new Map<string, { entry: T; k: VersionKey }>();
  for (const entry of entries) {
    const k = key(entry);
    const cur = best.get(k.slug);
    if (!cur || compareVersions(k.version, cur.k.version) > 0) best.set(k.slug, { entry, k });
  }
  return [...best.values()].sort((a, b) => compareCodePoints(a.k.slug, b.k.slug)).map((b) => b.entry);
}

/** The live version of each slug on `day`, and the slugs that have none (with why), both sorted by slug. */
export function liveOn<T>(entries: readonly T[], day: string, key: (entry: T) => VersionKey): { live: T[]; notLive: Array<NotLive<T>> } {
  const live = highestPerSlug(
    entries.filter((e) => mayBeLive(key(e), day)),
    key,
  );
  const liveSlugs = new Set(live.map((e) => key(e).slug));
  const publishedSlugs = new Set(entries.filter((e) => key(e).publishedAt.slice(0, 10) <= day).map((e) => key(e).slug));
  const notLive = highestPerSlug(
    entries.filter((e) => !liveSlugs.has(key(e).slug)),
    key,
  ).map((entry) => {
    const k = key(entry);
    return { slug: k.slug, version: k.version, reason: publishedSlugs.has(k.slug) ? ('pre-release' as const) : ('not-yet-published' as const), entry };
  });
  return { live, notLive };
}

/**
 * Each slug's name as a reader saw it on `day`: its live version's; for a slug with none
 * that day, its highest version published by then (a pre-release); for one not published
 * yet, its highest version's. A version scheduled after `day` never names a pack before it.
 */
export function namesOn<T extends VersionKey & { name: string }>(versions: readonly T[], day: string): Map<string, string> {
  const names = new Map(highestPerSlug(versions, (v) => v).map((v) => [v.slug, v.name]));
  for (const v of highestPerSlug(versions.filter((x) => x.publishedAt.slice(0, 10) <= day), (x) => x)) names.set(v.slug, v.name);
  for (const v of liveOn(versions, day, (x) => x).live) names.set(v.slug, v.name);
  return names;
}
