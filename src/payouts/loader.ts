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
import {
  ledgerCorrupt,
  storedDecimal,
  storedInstant,
  storedInteger,
  storedMinor,
  type StoredAt,
} from '../ledger/stored.js';
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
  // SUM would read a damaged rating as 0 and count it: look for one first.
  const badRating = await db
    .selectFrom('reviews')
    .select(['review_id', 'rating'])
    .where('month', '<=', period)
    .where('rating', 'not in', [1, 2, 3, 4, 5])
    .limit(1)
    .executeTakeFirst();
  if (badRating) throw ledgerCorrupt({ table: 'reviews', row: `review_id=${badRating.review_id}`, column: 'rating' }, badRating.rating, 'a rating from 1 to 5');
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
      'net_minor',
      eb.fn.countAll<number>().as('n'),
    ])
    .where('month', '=', period)
    .where('kind', '=', 'sale')
    // Plan rows (§14) reach packs through recognition and usage, not as sales.
    .where('product_kind', 'in', ['pack', 'bundle'])
    .groupBy(['product_kind', 'pack_slug', 'bundle_slug', 'currency', 'gross_minor', 'store_fee_minor', 'tax_minor', 'net_minor'])
    .execute();
  // A row of another kind would be in neither query: a damaged kind is refused, not dropped.
  const odd = await db
    .selectFrom('sales')
    .select(['store', 'transaction_id', 'kind'])
    .where('month', '=', period)
    .where('kind', 'not in', ['sale', 'refund'])
    .limit(1)
    .executeTakeFirst();
  if (odd) throw ledgerCorrupt({ table: 'sales', row: `store=${odd.store} transaction_id=${odd.transaction_id}`, column: 'kind' }, odd.kind, 'sale or refund');
  for (const r of saleRows) {
    // App Store rows know their net only (gross, fee and tax NULL); the rest are checked.
    const amounts = r.gross_minor === null ? amountsOf(r) : await groupAmounts(db, period, r);
    groups.push({ kind: 'sale', product: productOf(r), currency: r.currency, ...amounts, count: Number(r.n) });
  }

  const refunds = await db
    .selectFrom('sales')
    .select(['store', 'transaction_id', 'occurred_at', 'refund_of', 'product_kind', 'pack_slug', 'bundle_slug', 'currency', 'gross_minor', 'store_fee_minor', 'tax_minor', 'net_minor'])
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
    .select(['store', 'transaction_id', 'occurred_at', 'refund_of', 'gross_minor', 'net_minor'])
    .where('kind', '=', 'refund')
    .where('month', '<=', period)
    .execute();
  for (const r of allRefunds) {
    const key = saleKey(r.store, r.refund_of);
    if (!wanted.has(key)) continue;
    const at = saleAt(r, 'occurred_at');
    const occurredAt = storedInstant(at, r.occurred_at);
    if (occurredAt >= end) continue;
    const list = history.get(key) ?? [];
    list.push({ at: occurredAt, id: r.transaction_id, gross: r.gross_minor === null ? refundBasis(r) : storedMinor({ ...at, column: 'gross_minor' }, r.gross_minor) });
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
        .select(['store', 'transaction_id', 'gross_minor', 'net_minor'])
        .where('store', '=', store as SalesTable['store'])
        .where('transaction_id', 'in', list.slice(i, i + 500))
        .where('kind', '=', 'sale')
        .execute();
      for (const s of rows) saleGross.set(saleKey(s.store, s.transaction_id), s.gross_minor === null ? refundBasis(s) : storedMinor(saleAt(s, 'gross_minor'), s.gross_minor));
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
    const amounts =
      r.gross_minor === null
        ? amountsOf(r)
        : {
            grossMinor: storedMinor(saleAt(r, 'gross_minor'), r.gross_minor),
            feeMinor: storedMinor(saleAt(r, 'store_fee_minor'), r.store_fee_minor),
            taxMinor: storedMinor(saleAt(r, 'tax_minor'), r.tax_minor),
          };
    const after = before + (r.gross_minor === null ? refundBasis(r) : amounts.grossMinor);
    // A partial refund counts as a unit only when it completes the refund of its sale.
    const completes = sale !== undefined && before < sale ? after >= sale : sale === 0n && before === 0n;
    const product = productOf(r);
    const gk = [product.kind, product.slug, r.currency, r.gross_minor, r.store_fee_minor, r.tax_minor, r.net_minor, completes].join('\u0000');
    const g = grouped.get(gk);
    if (g) g.count += 1;
    else {
      grouped.set(gk, {
        kind: 'refund',
        product,
        currency: r.currency,
        ...amounts,
        count: 1,
        completes,
      });
    }
  }
  groups.push(...grouped.values());
  return groups;
}

/**
 * A row's amounts for the engine: gross, fee and tax, or, when the store reported only the
 * net (App Store: gross, fee and tax NULL), that net.
 */
function amountsOf(r: { gross_minor: number | null; store_fee_minor: number | null; tax_minor: number | null; net_minor: number | null }): Pick<TxGroup, 'grossMinor' | 'feeMinor' | 'taxMinor' | 'netMinor'> {
  if (r.gross_minor === null || r.store_fee_minor === null || r.tax_minor === null) {
    return { grossMinor: 0n, feeMinor: 0n, taxMinor: 0n, netMinor: BigInt(r.net_minor ?? 0) };
  }
  return { grossMinor: BigInt(r.gross_minor), feeMinor: BigInt(r.store_fee_minor), taxMinor: BigInt(r.tax_minor) };
}

/** What a refund is measured against its sale by: the gross, or the net where only the net is known. */
function refundBasis(r: { gross_minor: number | null; net_minor: number | null }): bigint {
  return BigInt(r.gross_minor ?? r.net_minor ?? 0);
}

function saleAt(r: { store: string; transaction_id: string }, column: string): StoredAt {
  return { table: 'sales', row: `store=${r.store} transaction_id=${r.transaction_id}`, column };
}

type AmountColumn = 'gross_minor' | 'store_fee_minor' | 'tax_minor';

/**
 * The three amounts of a GROUP BY row of sales. A damaged amount is reported with one of the
 * rows that hold it (looked up only then).
 */
async function groupAmounts(
  db: Kysely<LedgerDB>,
  period: Period,
  r: Record<AmountColumn, unknown>,
): Promise<{ grossMinor: bigint; feeMinor: bigint; taxMinor: bigint }> {
  const out: bigint[] = [];
  for (const column of ['gross_minor', 'store_fee_minor', 'tax_minor'] as const) {
    const value = r[column];
    if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) {
      out.push(BigInt(value));
      continue;
    }
    const row = await db
      .selectFrom('sales')
      .select(['store', 'transaction_id'])
      .where('month', '=', period)
      .where(column, value === null ? 'is' : '=', value as number)
      .limit(1)
      .executeTakeFirst();
    throw ledgerCorrupt(row ? saleAt(row, column) : { table: 'sales', row: `month=${period}`, column }, value, 'a whole number ≥ 0');
  }
  return { grossMinor: out[0]!, feeMinor: out[1]!, taxMinor: out[2]! };
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
    rates: new Map(
      rateRows.map((r) => [r.currency, storedDecimal({ table: 'fx_rates', row: `currency=${r.currency} month=${period}`, column: 'usd_per_unit' }, r.usd_per_unit).text]),
    ),
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
