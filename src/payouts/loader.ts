/**
 * Reads the engine's input from the ledger, through Kysely only (dialect-neutral: no
 * SQLite functions, no raw SQL): the month-independent snapshot (catalog, creators, tiers)
 * once, then everything the months of one report need, once for all of them. Sums and
 * counts that are exact integers are done in SQL (sales grouped, ratings summed); the §9
 * rules that round stay in the engine.
 */
import type { Kysely } from 'kysely';
import type { LedgerDB } from '../ledger/schema.js';
import { compareCodePoints } from '../shared/money.js';
import { ledgerCorrupt, storedDecimal, storedInstant, storedInteger, storedMinor } from '../ledger/stored.js';
import { monthsBetweenInclusive, nextPeriodStart } from '../shared/period.js';
import { loadSubscriptionMonth, type SubscriptionMonth } from './subscriptions.js';
import { loadTransactions } from './transactions.js';
import type { BundleDef, CollaborationDef, CreatorActivity, EngineInput, Period, TierDef } from './types.js';

export interface LedgerSnapshot {
  tiers: TierDef[];
  creators: Map<string, { name?: string }>;
  collaborations: Map<string, CollaborationDef>;
  bundles: Map<string, BundleDef>;
  /** Every version of every pack (small: the catalog). */
  packVersions: Array<{ slug: string; version: string; owner: string; publishedAt: string }>;
}

/** The month-independent part of the ledger the engine needs (catalog, creators, tiers). */
export async function loadSnapshot(db: Kysely<LedgerDB>): Promise<LedgerSnapshot> {
  const tierRows = await db.selectFrom('creator_tiers').selectAll().orderBy('rank').execute();
  const tiers: TierDef[] = tierRows.map((t) => {
    const at = (column: string) => ({ table: 'creator_tiers', row: `name=${t.name}`, column });
    return {
      name: t.name,
      minPacks: storedInteger(at('minimum_packs_published'), t.minimum_packs_published),
      minRating: storedDecimal(at('minimum_average_rating'), t.minimum_average_rating).text,
      minUnits: storedInteger(at('minimum_monthly_sales'), t.minimum_monthly_sales),
      minMonths: storedInteger(at('minimum_months_active'), t.minimum_months_active),
      sharePercent: storedDecimal(at('revenue_share_percent'), t.revenue_share_percent).text,
      bonusThreshold: t.monthly_bonus_threshold === null ? null : storedInteger(at('monthly_bonus_threshold'), t.monthly_bonus_threshold),
      bonusMinor: t.monthly_bonus_minor === null ? null : storedMinor(at('monthly_bonus_minor'), t.monthly_bonus_minor),
    };
  });
  const creators = new Map<string, { name?: string }>();
  for (const c of await db.selectFrom('creators').select(['id', 'name']).execute()) creators.set(c.id, { name: c.name });
  const collaborations = new Map<string, CollaborationDef>();
  for (const c of await db.selectFrom('collaborations').select(['id', 'name', 'lead_id']).execute()) {
    collaborations.set(c.id, { name: c.name, lead: c.lead_id, members: [] });
  }
  const members = await db
    .selectFrom('collaboration_members')
    .select(['collaboration_id', 'creator_id', 'share_bp'])
    .orderBy('collaboration_id')
    .orderBy('creator_id')
    .execute();
  for (const m of members) {
    const at = { table: 'collaboration_members', row: `collaboration_id=${m.collaboration_id} creator_id=${m.creator_id}`, column: 'share_bp' };
    collaborations.get(m.collaboration_id)?.members.push({ creator: m.creator_id, bps: storedInteger(at, m.share_bp, 0, 10_000) });
  }
  const bundles = new Map<string, BundleDef>();
  const items = await db
    .selectFrom('bundle_items')
    .select(['bundle_slug', 'pack_slug', 'price_minor'])
    .orderBy('bundle_slug')
    .orderBy('pack_slug')
    .execute();
  for (const i of items) {
    let b = bundles.get(i.bundle_slug);
    if (!b) bundles.set(i.bundle_slug, (b = { items: [] }));
    const at = { table: 'bundle_items', row: `bundle_slug=${i.bundle_slug} pack_slug=${i.pack_slug}`, column: 'price_minor' };
    b.items.push({ pack: i.pack_slug, priceMinor: storedMinor(at, i.price_minor) });
  }
  const packVersions = (
    await db.selectFrom('packs').select(['slug', 'version', 'owner_id', 'published_at']).execute()
  ).map((p) => ({
    slug: p.slug,
    version: p.version,
    owner: p.owner_id,
    publishedAt: storedInstant({ table: 'packs', row: `slug=${p.slug} version=${p.version}`, column: 'published_at' }, p.published_at),
  }));
  return { tiers, creators, collaborations, bundles, packVersions };
}

/**
 * A pack's owner in a month: the owner of its latest version published by the month's
 * end; for a pack not yet published then (sales can predate a late `catalog add`), the
 * owner of its first version.
 */
export function packOwners(snapshot: LedgerSnapshot, period: Period): Map<string, { owner: string; firstPublished: string; publishedByEnd: boolean }> {
  const end = nextPeriodStart(period);
  const bySlug = new Map<string, LedgerSnapshot['packVersions']>();
  for (const v of snapshot.packVersions) {
    const list = bySlug.get(v.slug) ?? [];
    list.push(v);
    bySlug.set(v.slug, list);
  }
  const result = new Map<string, { owner: string; firstPublished: string; publishedByEnd: boolean }>();
  for (const [slug, versions] of [...bySlug].sort((a, b) => compareCodePoints(a[0], b[0]))) {
    versions.sort((a, b) => compareCodePoints(a.publishedAt, b.publishedAt) || compareCodePoints(a.version, b.version));
    const published = versions.filter((v) => v.publishedAt < end);
    const current = published.length ? published[published.length - 1]! : versions[0]!;
    result.set(slug, { owner: current.owner, firstPublished: versions[0]!.publishedAt, publishedByEnd: published.length > 0 });
  }
  return result;
}

/** Σ ratings and their count per pack, from reviews dated up to each month's end. */
type Ratings = Map<string, { sum: number; n: number }>;

/**
 * Each month's ratings per pack: one GROUP BY (pack, month) up to the last month, summed up
 * to each month here (integer sums, exact). A damaged rating is refused, not summed.
 */
async function loadRatings(db: Kysely<LedgerDB>, months: readonly Period[]): Promise<Map<Period, Ratings>> {
  const last = [...months].sort(compareCodePoints).pop()!;
  // SUM would read a damaged rating as 0 and count it: look for one first.
  const badRating = await db
    .selectFrom('reviews')
    .select(['review_id', 'rating'])
    .where('month', '<=', last)
    .where('rating', 'not in', [1, 2, 3, 4, 5])
    .limit(1)
    .executeTakeFirst();
  if (badRating) throw ledgerCorrupt({ table: 'reviews', row: `review_id=${badRating.review_id}`, column: 'rating' }, badRating.rating, 'a rating from 1 to 5');
  const rows = await db
    .selectFrom('reviews')
    .select((eb) => ['pack_slug', 'month', eb.fn.sum<number>('rating').as('sum'), eb.fn.countAll<number>().as('n')])
    .where('month', '<=', last)
    .groupBy(['pack_slug', 'month'])
    .execute();
  const result = new Map<Period, Ratings>();
  for (const month of months) {
    const ratings: Ratings = new Map();
    for (const r of rows) {
      if (r.month > month) continue;
      const cur = ratings.get(r.pack_slug);
      if (cur) {
        cur.sum += Number(r.sum);
        cur.n += Number(r.n);
      } else ratings.set(r.pack_slug, { sum: Number(r.sum), n: Number(r.n) });
    }
    result.set(month, ratings);
  }
  return result;
}

/** §9.5's figures other than units for one month: packs published, ratings, months active. */
function activityOf(
  snapshot: LedgerSnapshot,
  owners: ReturnType<typeof packOwners>,
  ratings: Ratings,
  period: Period,
): Map<string, CreatorActivity> {
  const creatorsOf = (owner: string): string[] => {
    const collab = snapshot.collaborations.get(owner);
    return collab ? collab.members.map((m) => m.creator) : [owner];
  };
  const activity = new Map<string, CreatorActivity & { first?: string }>();
  for (const [slug, pack] of owners) {
    if (!pack.publishedByEnd) continue;
    for (const creator of creatorsOf(pack.owner)) {
      let a = activity.get(creator);
      if (!a) activity.set(creator, (a = { packsPublished: 0, ratingSum: 0, ratingCount: 0, monthsActive: 0 }));
      a.packsPublished += 1;
      const r = ratings.get(slug);
      if (r) {
        a.ratingSum += r.sum;
        a.ratingCount += r.n;
      }
      if (a.first === undefined || pack.firstPublished < a.first) a.first = pack.firstPublished;
    }
  }
  const result = new Map<string, CreatorActivity>();
  for (const [creator, a] of activity) {
    result.set(creator, {
      packsPublished: a.packsPublished,
      ratingSum: a.ratingSum,
      ratingCount: a.ratingCount,
      monthsActive: a.first === undefined ? 0 : monthsBetweenInclusive(a.first.slice(0, 7), period),
    });
  }
  return result;
}

/** The engine inputs of a run of months, read once; carried-in balances are given per month as they roll. */
export interface MonthInputs {
  input(month: Period, carriedIn: ReadonlyMap<string, bigint>): Promise<EngineInput>;
}

/**
 * Everything the engine needs for each of `months` (the open months a report rolls
 * balances through, and the month itself), loaded once for all of them: one GROUP BY of
 * their sales, their refunds and the history those need, their rates and ratings. Only the
 * subscription allocation is read per month (it streams the month's usage).
 */
export async function loadMonths(
  db: Kysely<LedgerDB>,
  snapshot: LedgerSnapshot,
  months: readonly Period[],
  options: { minimumMinor: bigint; subscriptions?: boolean },
): Promise<MonthInputs> {
  const wanted = [...new Set(months)].sort(compareCodePoints);
  const transactions = await loadTransactions(db, wanted);
  const rateRows = wanted.length ? await db.selectFrom('fx_rates').select(['currency', 'month', 'usd_per_unit']).where('month', 'in', wanted).execute() : [];
  const rates = new Map<Period, Map<string, string>>(wanted.map((m) => [m, new Map()]));
  for (const r of rateRows) {
    const text = storedDecimal({ table: 'fx_rates', row: `currency=${r.currency} month=${r.month}`, column: 'usd_per_unit' }, r.usd_per_unit).text;
    rates.get(r.month)?.set(r.currency, text);
  }
  const ratings = wanted.length ? await loadRatings(db, wanted) : new Map<Period, Ratings>();
  return {
    async input(month, carriedIn) {
      if (!transactions.has(month)) throw new RangeError(`${month} was not loaded`);
      const owners = packOwners(snapshot, month);
      const subscriptions = options.subscriptions === false ? undefined : toEngineSubscriptions(await loadSubscriptionMonth(db, month));
      return {
        period: month,
        transactions: transactions.get(month)!,
        rates: rates.get(month)!,
        bundles: snapshot.bundles,
        packs: new Map([...owners].map(([slug, p]) => [slug, { owner: p.owner }])),
        collaborations: snapshot.collaborations,
        creators: snapshot.creators,
        tiers: snapshot.tiers,
        activity: activityOf(snapshot, owners, ratings.get(month)!, month),
        carriedIn,
        minimumMinor: options.minimumMinor,
        ...(subscriptions ? { subscriptions } : {}),
      };
    },
  };
}

/** Everything the engine needs for `period` alone. */
export async function loadMonth(
  db: Kysely<LedgerDB>,
  snapshot: LedgerSnapshot,
  period: Period,
  options: { minimumMinor: bigint; carriedIn: ReadonlyMap<string, bigint>; subscriptions?: boolean },
): Promise<EngineInput> {
  return (await loadMonths(db, snapshot, [period], options)).input(period, options.carriedIn);
}

function toEngineSubscriptions(m: SubscriptionMonth): NonNullable<EngineInput['subscriptions']> {
  const { packs, period: _period, ...summary } = m;
  return {
    summary,
    lines: packs.map((p) => ({
      pack: p.pack,
      families: p.families,
      activeDays: p.activeDays,
      netUsdMinor: p.netMinor,
      fromUseMinor: p.fromUseMinor,
      fromPoolMinor: p.fromPoolMinor,
    })),
  };
}
