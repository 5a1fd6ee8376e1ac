/**
 * `catalog report`: the library against the roadmap's launch plan (25 packs: 8
 * characters, 6 environments, 5 educational, 4 creative tools, 2 seasonal), the price
 * spread per category, and each pack's reviews with those under 4.0 stars flagged.
 * Pure: plain inputs in, a report out. Ratings are exact (integer sums), never floats.
 *
 * The library is what the feed shows on the day: each slug's live version, chosen by the
 * feed's own `liveVersions` (latest published by the day, never a pre-release or a
 * scheduled release). Slugs with no live version are listed apart, with why.
 */
import { CATEGORIES, type Category, type PackManifest } from '../manifest/types.js';
import { compareCodePoints, roundHalfEven } from '../shared/money.js';
import { liveVersions } from './feed.js';

/** Roadmap, Phase 1 "Launch Content Library (25 packs minimum)". */
export const LAUNCH_PLAN = {
  characters: 8,
  environments: 6,
  educational: 5,
  creative_tools: 4,
  seasonal: 2,
} as const satisfies Record<Category, number>;

/** Roadmap, Phase 1 content metrics: "All packs maintain 4.0+ star rating". */
export const RATING_THRESHOLD = '4.0';

export interface ReportMoney {
  amountMinor: number;
  currency: string;
}

export interface CategoryLine {
  category: Category;
  packs: number;
  planned: number;
  /** planned − packs: positive when short of the plan, negative when over it. */
  gap: number;
  /** USD list prices of the category's packs; null when it has none. */
  price: { min: ReportMoney; median: ReportMoney; max: ReportMoney } | null;
  slugs: string[];
}

export interface PackLine {
  slug: string;
  version: string;
  name: string;
  category: Category;
  creator: string;
  price: ReportMoney;
  reviews: number;
  /** Mean rating to two decimals ("4.33"), rounded half to even; null without reviews. */
  averageRating: string | null;
  /** Average under 4.0 stars (exact comparison); packs without reviews are not flagged. */
  flagged: boolean;
}

export interface CatalogReport {
  ratingThreshold: string;
  totals: { packs: number; planned: number; reviews: number; averageRating: string | null };
  categories: CategoryLine[];
  packs: PackLine[];
  flagged: string[];
  /** Reviews naming a slug that is not registered. */
  orphanReviews: number;
  /** The day (UTC) whose live versions are counted. */
  day: string;
  /** Registered slugs with no live version on that day (only scheduled, or only pre-releases). */
  notLive: Array<{ slug: string; version: string; reason: 'not-yet-published' | 'pre-release' }>;
}

export interface ReportInput {
  packs: ReadonlyArray<{ manifest: PackManifest; publishedAt: string }>;
  reviews: ReadonlyArray<{ pack: string; rating: number }>;
  /** YYYY-MM-DD (UTC): the day whose live versions are counted, as `catalog publish` would. */
  day: string;
}

function average(sum: number, count: number): string | null {
  if (count === 0) return null;
  const hundredths = roundHalfEven(BigInt(sum) * 100n, BigInt(count));
  return `${hundredths / 100n}.${String(hundredths % 100n).padStart(2, '0')}`;
}

/** Median of integer amounts: the mean of the two middle ones when even, half to even. */
export function medianMinor(amounts: readonly number[]): number {
  const s = [...amounts].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  if (s.length % 2 === 1) return s[mid]!;
  return Number(roundHalfEven(BigInt(s[mid - 1]!) + BigInt(s[mid]!), 2n));
}

export function buildCatalogReport(input: ReportInput): CatalogReport {
  const { live: latest, notLive } = liveVersions(input.packs, input.day);
  // Reviews of a registered slug that is not live yet are not orphans; they are just not counted.
  const slugs = new Set(input.packs.map((p) => p.manifest.slug));
  const liveSlugs = new Set(latest.map((p) => p.manifest.slug));
  const ratings = new Map<string, { sum: number; count: number }>();
  let orphanReviews = 0;
  let totalSum = 0;
  let totalCount = 0;
  for (const r of input.reviews) {
    if (!slugs.has(r.pack)) {
      orphanReviews++;
      continue;
    }
    if (!liveSlugs.has(r.pack)) continue;
    const cur = ratings.get(r.pack) ?? { sum: 0, count: 0 };
    cur.sum += r.rating;
    cur.count += 1;
    ratings.set(r.pack, cur);
    totalSum += r.rating;
    totalCount += 1;
  }
  const packs: PackLine[] = latest.map(({ manifest: m }) => {
    const r = ratings.get(m.slug) ?? { sum: 0, count: 0 };
    return {
      slug: m.slug,
      version: m.version,
      name: m.name,
      category: m.category,
      creator: m.creator,
      price: { amountMinor: m.price.amountMinor, currency: m.price.currency },
      reviews: r.count,
      averageRating: average(r.sum, r.count),
      // average < 4.0 ⇔ sum < 4 × count, exactly.
      flagged: r.count > 0 && r.sum < 4 * r.count,
    };
  });
  const categories: CategoryLine[] = CATEGORIES.map((category) => {
    const inCat = packs.filter((p) => p.category === category);
    const usd = inCat.filter((p) => p.price.currency === 'USD').map((p) => p.price.amountMinor);
    const usdMoney = (amountMinor: number): ReportMoney => ({ amountMinor, currency: 'USD' });
    return {
      category,
      packs: inCat.length,
      planned: LAUNCH_PLAN[category],
      gap: LAUNCH_PLAN[category] - inCat.length,
      price:
        usd.length === 0
          ? null
          : { min: usdMoney(Math.min(...usd)), median: usdMoney(medianMinor(usd)), max: usdMoney(Math.max(...usd)) },
      slugs: inCat.map((p) => p.slug).sort(compareCodePoints),
    };
  });
  return {
    ratingThreshold: RATING_THRESHOLD,
    totals: {
      packs: packs.length,
      planned: Object.values(LAUNCH_PLAN).reduce((a, b) => a + b, 0),
      reviews: totalCount,
      averageRating: average(totalSum, totalCount),
    },
    categories,
    packs,
    flagged: packs.filter((p) => p.flagged).map((p) => p.slug),
    orphanReviews,
    day: input.day,
    notLive,
  };
}
