/**
 * Reads one month's engine input from the ledger, through Kysely only (dialect-neutral:
 * no SQLite functions, no raw SQL). Sales are aggregated in the database: rows that agree
 * on product, currency, kind and the three amounts convert and split identically under
 * §9's per-transaction rounding, so GROUP BY over exactly those columns hands the engine
 * a few hundred groups instead of a million rows, with the same cents.
 */
import type { Kysely } from 'kysely';
import type { LedgerDB, SalesTable } from '../ledger/schema.js';
import { compareCodePoints } from '../shared/money.js';
import { monthsBetweenInclusive, nextPeriodStart } from '../shared/period.js';
import { loadSubscriptionMonth, type SubscriptionMonth } from './subscriptions.js';
import type {
  BundleDef,
  CollaborationDef,
  CreatorActivity,
  EngineInput,
  Period,
  TierDef,
  TxGroup,
} from './types.js';

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
  const tiers: TierDef[] = tierRows.map((t) => ({
    name: t.name,
    minPacks: Number(t.minimum_packs_published),
    minRating: t.minimum_average_rating,
    minUnits: Number(t.minimum_monthly_sales),
    minMonths: Number(t.minimum_months_active),
    sharePercent: t.revenue_share_percent,
    bonusThreshold: t.monthly_bonus_threshold === null ? null : Number(t.monthly_bonus_threshold),
    bonusMinor: t.monthly_bonus_minor === null ? null : BigInt(t.monthly_bonus_minor),
  }));
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
  for (const m of members) collaborations.get(m.collaboration_id)?.members.push({ creator: m.creator_id, bps: Number(m.share_bp) });
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
    b.items.push({ pack: i.pack_slug, priceMinor: BigInt(i.price_minor) });
  }
  const packVersions = (
    await db.selectFrom('packs').select(['slug', 'version', 'owner_id', 'published_at']).execute()
  ).map((p) => ({ slug: p.slug, version: p.version, owner: p.owner_id, publishedAt: toIso(p.published_at) }));
  return { tiers, creators, collaborations, bundles, packVersions };
}

function toIso(text: string): string {
  const t = Date.parse(text);
  return Number.isNaN(t) ? text : new Date(t).toISOString();
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

/** §9.5's figures other than units: packs published, ratings, months active. */
async function loadActivity(
  db: Kysely<LedgerDB>,
  snapshot: LedgerSnapshot,
  owners: ReturnType<typeof packOwners>,
  period: Period,
): Promise<Map<string, CreatorActivity>> {
  const ratingRows = await db
    .selectFrom('reviews')
    .select((eb) => ['pack_slug', eb.fn.sum<number>('rating').as('sum'), eb.fn.countAll<number>().as('n')])
    .where('month', '<=', period)
    .groupBy('pack_slug')
    .execute();
  const ratings = new Map(ratingRows.map((r) => [r.pack_slug, { sum: Number(r.sum), n: Number(r.n) }]));
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

/** The month's sales grouped by everything §9 looks at; refunds with whether each completes its sale. */
async function loadTransactions(db: Kysely<LedgerDB>, period: Period): Promise<TxGroup[]> {
  const groups: TxGroup[] = [];
  const saleRows = await db
    .selectFrom('sales')
    .select((eb) => [
      'product_kind',
      'pack_slug',
      'bundle_slug',
      'currency',
      'gross_minor',
      'store_fee_minor',
      'tax_minor',
      eb.fn.countAll<number>().as('n'),
    ])
    .where('month', '=', period)
    .where('kind', '=', 'sale')
    // Plan rows (§14) reach packs through recognition and usage, not as sales.
    .where('product_kind', 'in', ['pack', 'bundle'])
    .groupBy(['product_kind', 'pack_slug', 'bundle_slug', 'currency', 'gross_minor', 'store_fee_minor', 'tax_minor'])
    .execute();
  for (const r of saleRows) {
    groups.push({
      kind: 'sale',
      product: productOf(r),
      currency: r.currency,
      grossMinor: BigInt(r.gross_minor),
      feeMinor: BigInt(r.store_fee_minor),
      taxMinor: BigInt(r.tax_minor),
      count: Number(r.n),
    });
  }

  const refunds = await db
    .selectFrom('sales')
    .select(['store', 'transaction_id', 'occurred_at', 'refund_of', 'product_kind', 'pack_slug', 'bundle_slug', 'currency', 'gross_minor', 'store_fee_minor', 'tax_minor'])
    .where('month', '=', period)
    .where('kind', '=', 'refund')
    .where('product_kind', 'in', ['pack', 'bundle'])
    .execute();
  if (refunds.length === 0) return groups;
  // Whether a refund completes its sale depends on every earlier refund of that sale
  // (earlier months too) and on the sale itself.
  const end = nextPeriodStart(period);
  const saleKey = (store: string, id: string | null) => `${store}\u0000${id ?? ''}`;
  const wanted = new Set(refunds.map((r) => saleKey(r.store, r.refund_of)));
  const history = new Map<string, Array<{ at: string; id: string; gross: bigint }>>();
  const allRefunds = await db
    .selectFrom('sales')
    .select(['store', 'transaction_id', 'occurred_at', 'refund_of', 'gross_minor'])
    .where('kind', '=', 'refund')
    .where('month', '<=', period)
    .execute();
  for (const r of allRefunds) {
    const key = saleKey(r.store, r.refund_of);
    if (!wanted.has(key) || r.occurred_at >= end) continue;
    const list = history.get(key) ?? [];
    list.push({ at: r.occurred_at, id: r.transaction_id, gross: BigInt(r.gross_minor) });
    history.set(key, list);
  }
  const saleGross = new Map<string, bigint>();
  const byStore = new Map<string, Set<string>>();
  for (const r of refunds) if (r.refund_of !== null) (byStore.get(r.store) ?? byStore.set(r.store, new Set()).get(r.store)!).add(r.refund_of);
  for (const [store, ids] of byStore) {
    const list = [...ids];
    // (store, transaction_id) is the primary key: each chunk is an index lookup.
    for (let i = 0; i < list.length; i += 500) {
      const rows = await db
        .selectFrom('sales')
        .select(['store', 'transaction_id', 'gross_minor'])
        .where('store', '=', store as SalesTable['store'])
        .where('transaction_id', 'in', list.slice(i, i + 500))
        .where('kind', '=', 'sale')
        .execute();
      for (const s of rows) saleGross.set(saleKey(s.store, s.transaction_id), BigInt(s.gross_minor));
    }
  }
  const grouped = new Map<string, TxGroup>();
  for (const r of refunds) {
    const key = saleKey(r.store, r.refund_of);
    const list = (history.get(key) ?? []).sort((a, b) => compareCodePoints(a.at, b.at) || compareCodePoints(a.id, b.id));
    const sale = saleGross.get(key);
    let before = 0n;
    for (const h of list) {
      if (h.id === r.transaction_id) break;
      before += h.gross;
    }
    const after = before + BigInt(r.gross_minor);
    // A partial refund counts as a unit only when it completes the refund of its sale.
    const completes = sale !== undefined && before < sale ? after >= sale : sale === 0n && before === 0n;
    const product = productOf(r);
    const gk = [product.kind, product.slug, r.currency, r.gross_minor, r.store_fee_minor, r.tax_minor, completes].join('\u0000');
    const g = grouped.get(gk);
    if (g) g.count += 1;
    else {
      grouped.set(gk, {
        kind: 'refund',
        product,
        currency: r.currency,
        grossMinor: BigInt(r.gross_minor),
        feeMinor: BigInt(r.store_fee_minor),
        taxMinor: BigInt(r.tax_minor),
        count: 1,
        completes,
      });
    }
  }
  groups.push(...grouped.values());
  return groups;
}

function productOf(r: { product_kind: string; pack_slug: string | null; bundle_slug: string | null }): TxGroup['product'] {
  return r.product_kind === 'bundle' ? { kind: 'bundle', slug: r.bundle_slug ?? '' } : { kind: 'pack', slug: r.pack_slug ?? '' };
}

/** Everything the engine needs for `period`, except the carried-in balances. */
export async function loadMonth(
  db: Kysely<LedgerDB>,
  snapshot: LedgerSnapshot,
  period: Period,
  options: { minimumMinor: bigint; carriedIn: Map<string, bigint>; subscriptions?: boolean },
): Promise<EngineInput> {
  const owners = packOwners(snapshot, period);
  const rateRows = await db.selectFrom('fx_rates').select(['currency', 'usd_per_unit']).where('month', '=', period).execute();
  const transactions = await loadTransactions(db, period);
  const activity = await loadActivity(db, snapshot, owners, period);
  const subscriptions = options.subscriptions === false ? undefined : toEngineSubscriptions(await loadSubscriptionMonth(db, period));
  return {
    period,
    transactions,
    rates: new Map(rateRows.map((r) => [r.currency, r.usd_per_unit])),
    bundles: snapshot.bundles,
    packs: new Map([...owners].map(([slug, p]) => [slug, { owner: p.owner }])),
    collaborations: snapshot.collaborations,
    creators: snapshot.creators,
    tiers: snapshot.tiers,
    activity,
    carriedIn: options.carriedIn,
    minimumMinor: options.minimumMinor,
    ...(subscriptions ? { subscriptions } : {}),
  };
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
