/**
 * Bundles (§8): a set of packs at one USD price, stored with each pack's price at bundle
 * time (the weights of the revenue split). `createBundle` takes a fixed price or a
 * discount (total × (1 − discount), rounded half away from zero, optionally charmed down
 * to …99); `createSeasonalBundle` is the roadmap's `create_seasonal_bundle`.
 */
import { conflictError, inputError } from '../shared/errors.js';
import { parseDecimal, roundHalfAwayFromZero, savingsPercent, type Rational } from '../shared/money.js';
import { livePacks, packVersions } from '../ledger/catalog.js';
import { namesOn } from '../shared/live-version.js';
import { utcDay } from '../shared/source-date.js';
import { assertProductNamesFree } from '../ledger/products.js';
import type { Ledger } from '../ledger/db.js';
import type { BundleKind } from '../ledger/schema.js';

export const SLUG = /^[a-z0-9]+(-[a-z0-9]+)*$/;

export interface BundleItem {
  pack: string;
  name: string;
  priceMinor: number;
}

export interface Bundle {
  slug: string;
  name: string;
  kind: BundleKind;
  season: string | null;
  currency: 'USD';
  priceMinor: number;
  individualTotalMinor: number;
  savingsMinor: number;
  /** Percent saved against the individual total, one decimal, half away from zero ("30.5"). */
  savingsPercent: string;
  discount: string | null;
  charm: boolean;
  availableFrom: string | null;
  availableUntil: string | null;
  createdAt: string;
  items: BundleItem[];
}

export interface CreateResult {
  status: 'created' | 'unchanged';
  bundle: Bundle;
}

/** A discount as an exact fraction in [0, 1): "0.30", "0.25". */
export function parseDiscount(text: string): Rational {
  const r = parseDecimal(text, 6);
  if (!r || r.num < 0n || r.num >= r.den) {
    throw inputError('DISCOUNT_INVALID', `--discount "${text}" must be a decimal fraction from 0 up to (not including) 1, e.g. 0.30.`);
  }
  return r;
}

/** total × (1 − discount), rounded half away from zero (PostgreSQL's ROUND). */
export function discountedPrice(totalMinor: number, discount: Rational): number {
  return Number(roundHalfAwayFromZero(BigInt(totalMinor) * (discount.den - discount.num), discount.den));
}

/** Moves a price down to the nearest …99 (2517 → 2499, 899 → 899); below 99 there is none, so it stays. */
export function charmPrice(minor: number): number {
  if (minor < 99) return minor;
  return minor % 100 === 99 ? minor : Math.floor((minor - 99) / 100) * 100 + 99;
}


function addDays(day: string, days: number): string {
  const t = Date.parse(`${day}T00:00:00Z`) + days * 86_400_000;
  return new Date(t).toISOString().slice(0, 10);
}

/** Whether a pack's availability window contains `day` (no bound means open on that side). */
export function availableOn(from: string | null, until: string | null, day: string): boolean {
  return (from === null || from <= day) && (until === null || day <= until);
}

/**
 * The packs' current prices on `day`: each slug's live version (§10: published by that day,
 * not a pre-release), never a scheduled release or a beta registered beside it. Slugs with
 * no live version come back apart (bundles name them; seasonal collections skip them).
 */
async function currentPacks(ledger: Ledger, day: string) {
  const { live, notLive } = await livePacks(ledger, day);
  for (const p of live) {
    if (p.currency !== 'USD') {
      throw inputError('PACK_PRICE_CURRENCY', `${p.slug} has its list price in ${p.currency}; bundle prices are in USD.`);
    }
  }
  return { live, notLive };
}

async function store(ledger: Ledger, b: Bundle): Promise<CreateResult> {
  return ledger.db.transaction().execute(async (trx) => {
    await assertProductNamesFree(trx, { kind: 'bundle', slug: b.slug });
    const existing = await trx.selectFrom('bundles').selectAll().where('slug', '=', b.slug).executeTakeFirst();
    if (existing) {
      const items = await trx.selectFrom('bundle_items').select(['pack_slug', 'price_minor']).where('bundle_slug', '=', b.slug).orderBy('position').execute();
      const same =
        existing.price_minor === b.priceMinor &&
        existing.individual_total_minor === b.individualTotalMinor &&
        existing.name === b.name &&
        existing.available_until === b.availableUntil &&
        items.length === b.items.length &&
        items.every((it, i) => it.pack_slug === b.items[i]!.pack && it.price_minor === b.items[i]!.priceMinor);
      if (same) return { status: 'unchanged', bundle: { ...b, createdAt: existing.created_at, availableFrom: existing.available_from } };
      throw conflictError('BUNDLE_EXISTS', `A different bundle "${b.slug}" already exists.`, {
        hint: 'Bundles already sold keep their prices for revenue splits; create the new one under another slug.',
        details: { slug: b.slug },
      });
    }
    await trx
      .insertInto('bundles')
      .values({
        slug: b.slug,
        name: b.name,
        kind: b.kind,
        season: b.season,
        price_minor: b.priceMinor,
        currency: 'USD',
        individual_total_minor: b.individualTotalMinor,
        discount: b.discount,
        charm: b.charm ? 1 : 0,
        savings_percent: b.savingsPercent,
        available_from: b.availableFrom,
        available_until: b.availableUntil,
        created_at: b.createdAt,
      })
      .execute();
    await trx
      .insertInto('bundle_items')
      .values(b.items.map((it, i) => ({ bundle_slug: b.slug, pack_slug: it.pack, price_minor: it.priceMinor, position: i })))
      .execute();
    return { status: 'created', bundle: b };
  });
}

export interface CreateBundleOptions {
  slug: string;
  name: string;
  packs: string[];
  priceMinor?: number;
  discount?: string;
  charm?: boolean;
  /** The clock whose UTC day prices the packs (the CLI passes SOURCE_DATE_EPOCH, else now). */
  now?: () => Date;
}

export async function createBundle(ledger: Ledger, o: CreateBundleOptions): Promise<CreateResult> {
  if (!SLUG.test(o.slug) || o.slug.length < 3 || o.slug.length > 64) {
    throw inputError('BUNDLE_INVALID', `"${o.slug}" is not a valid slug (lowercase kebab-case, 3–64 characters).`);
  }
  if (o.name.trim() === '') throw inputError('BUNDLE_INVALID', 'The bundle needs a name (--name).');
  if ((o.priceMinor === undefined) === (o.discount === undefined)) {
    throw inputError('BUNDLE_INVALID', 'Give exactly one of --price <minor> or --discount <fraction>.');
  }
  const wanted = o.packs.map((p) => p.trim()).filter(Boolean);
  const dupes = wanted.filter((p, i) => wanted.indexOf(p) !== i);
  if (wanted.length < 2 || dupes.length) {
    throw inputError('BUNDLE_INVALID', dupes.length ? `${dupes[0]} is listed twice in --packs.` : 'A bundle needs at least two packs (--packs a,b).');
  }
  const now = (o.now ?? (() => new Date()))();
  const day = utcDay(now);
  const current = await currentPacks(ledger, day);
  const packs = new Map(current.live.map((p) => [p.slug, p]));
  const notLive = new Map(current.notLive.map((n) => [n.slug, n]));
  const unknown = wanted.filter((p) => !packs.has(p) && !notLive.has(p));
  if (unknown.length) {
    throw inputError('PACK_UNKNOWN', `Not registered in the ledger: ${unknown.join(', ')}.`, {
      hint: 'Register packs with packops catalog add first.',
      details: { packs: unknown },
    });
  }
  const dark = wanted.filter((p) => notLive.has(p)).map((p) => notLive.get(p)!);
  if (dark.length) {
    const why = dark.map((n) => `${n.slug} (${n.reason === 'pre-release' ? `only pre-releases published, highest ${n.version}` : `no version published yet, highest registered ${n.version}`})`);
    throw conflictError('PACK_NOT_LIVE', `No live version on ${day} to price from: ${why.join(', ')}. A bundle is priced from each pack's live version (published by that day, not a pre-release).`, {
      hint: 'Leave the pack out, or create the bundle once a release of it is published (SOURCE_DATE_EPOCH sets the day).',
      details: { day, packs: dark.map(({ slug, version, reason }) => ({ slug, version, reason })) },
    });
  }
  const items = wanted.map((slug) => ({ pack: slug, name: packs.get(slug)!.name, priceMinor: packs.get(slug)!.price_minor }));
  const total = items.reduce((s, i) => s + i.priceMinor, 0);
  let price: number;
  let discount: string | null = null;
  if (o.discount !== undefined) {
    const d = parseDiscount(o.discount);
    discount = o.discount.trim();
    price = discountedPrice(total, d);
    if (o.charm) price = charmPrice(price);
  } else {
    if (o.charm) throw inputError('BUNDLE_INVALID', '--charm rounds a price computed from --discount; with --price, give the price you want.');
    price = o.priceMinor!;
    if (!Number.isSafeInteger(price) || price < 0) throw inputError('BUNDLE_INVALID', '--price is a whole number of cents (2499 for $24.99).');
    if (price > total) {
      throw inputError('BUNDLE_INVALID', `The price ${price} is more than the packs cost separately (${total}); a bundle must not cost more.`);
    }
  }
  return store(ledger, {
    slug: o.slug,
    name: o.name.trim(),
    kind: 'custom',
    season: null,
    currency: 'USD',
    priceMinor: price,
    individualTotalMinor: total,
    savingsMinor: total - price,
    savingsPercent: savingsPercent(total, price),
    discount,
    charm: Boolean(o.charm),
    availableFrom: null,
    availableUntil: null,
    createdAt: now.toISOString(),
    items,
  });
}

export interface SeasonalOptions {
  season: string;
  discount: string;
  days?: number;
  /** YYYY-MM-DD; default today (UTC). */
  today?: string;
  slug?: string;
  now?: () => Date;
}

/**
 * The roadmap's create_seasonal_bundle: every pack tagged with the season and available
 * today; price = ROUND(total × (1 − discount)); "<Season> Collection", slug
 * "<season>-collection", available until today + days (60 by default).
 */
export async function createSeasonalBundle(ledger: Ledger, o: SeasonalOptions): Promise<CreateResult> {
  const season = o.season.trim();
  if (!/^[a-z0-9]+(-[a-z0-9]+)*$/i.test(season)) {
    throw inputError('BUNDLE_INVALID', `"${o.season}" is not a season tag (letters, digits and hyphens, e.g. winter).`);
  }
  const now = (o.now ?? (() => new Date()))();
  const today = o.today ?? utcDay(now);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(today) || Number.isNaN(Date.parse(`${today}T00:00:00Z`)) || utcDay(new Date(`${today}T00:00:00Z`)) !== today) {
    throw inputError('BUNDLE_INVALID', `--today "${today}" is not a date (YYYY-MM-DD).`);
  }
  const days = o.days ?? 60;
  if (!Number.isSafeInteger(days) || days < 1) throw inputError('BUNDLE_INVALID', '--days is a whole number of at least 1.');
  const d = parseDiscount(o.discount);
  const tag = season.toLowerCase();
  // A pack with no live version on --today is not in the catalog that day: not a candidate.
  const matching = (await currentPacks(ledger, today)).live.filter(
    (p) => p.tags.some((t) => t.toLowerCase() === tag) && availableOn(p.available_from, p.available_until, today),
  );
  if (matching.length === 0) {
    throw conflictError('BUNDLE_EMPTY', `No registered pack tagged "${tag}" is available on ${today}; no bundle was made.`, {
      hint: 'Check the tag and the packs\' availability windows, or pass another --today.',
      details: { season: tag, today },
    });
  }
  const items = matching.map((p) => ({ pack: p.slug, name: p.name, priceMinor: p.price_minor }));
  const total = items.reduce((s, i) => s + i.priceMinor, 0);
  const price = discountedPrice(total, d);
  const display = tag.charAt(0).toUpperCase() + tag.slice(1);
  const slug = o.slug ?? `${tag}-collection`;
  if (!SLUG.test(slug)) throw inputError('BUNDLE_INVALID', `"${slug}" is not a valid slug.`);
  return store(ledger, {
    slug,
    name: `${display} Collection`,
    kind: 'seasonal',
    season: tag,
    currency: 'USD',
    priceMinor: price,
    individualTotalMinor: total,
    savingsMinor: total - price,
    savingsPercent: savingsPercent(total, price),
    discount: o.discount.trim(),
    charm: false,
    availableFrom: today,
    availableUntil: addDays(today, days),
    createdAt: now.toISOString(),
    items,
  });
}

export async function listBundles(ledger: Ledger, now: () => Date = () => new Date()): Promise<Bundle[]> {
  const bundles = await ledger.db.selectFrom('bundles').selectAll().orderBy('slug').execute();
  const items = await ledger.db
    .selectFrom('bundle_items')
    .innerJoin('bundles', 'bundles.slug', 'bundle_items.bundle_slug')
    .select(['bundle_items.bundle_slug', 'bundle_items.pack_slug', 'bundle_items.price_minor', 'bundle_items.position'])
    .orderBy('bundle_items.bundle_slug')
    .orderBy('bundle_items.position')
    .execute();
  const names = namesOn(await packVersions(ledger), utcDay(now()));
  return bundles.map((b) => ({
    slug: b.slug,
    name: b.name,
    kind: b.kind,
    season: b.season,
    currency: 'USD',
    priceMinor: b.price_minor,
    individualTotalMinor: b.individual_total_minor,
    savingsMinor: b.individual_total_minor - b.price_minor,
    savingsPercent: b.savings_percent,
    discount: b.discount,
    charm: b.charm === 1,
    availableFrom: b.available_from,
    availableUntil: b.available_until,
    createdAt: b.created_at,
    items: items
      .filter((i) => i.bundle_slug === b.slug)
      .map((i) => ({ pack: i.pack_slug, name: names.get(i.pack_slug) ?? i.pack_slug, priceMinor: i.price_minor })),
  }));
}
