/**
 * An independent implementation of PRODUCT.md §9 for tests, written from the text alone
 * (it shares no code with src/payouts). Plain BigInt arithmetic over a plain description of
 * what was imported; the tests build the same data through the real CLI and compare.
 */

export interface OTier {
  name: string;
  rank: number;
  minPacks: number;
  /** Minimum rating in hundredths (4.20 → 420). */
  minRatingHundredths: bigint;
  minUnits: number;
  minMonths: number;
  /** Share in basis points (72.50 % → 7250). */
  bp: bigint;
  bonusThreshold: number | null;
  bonusMinor: bigint | null;
}

/** The roadmap's creator_tiers rows. */
export const ROADMAP_TIERS: OTier[] = [
  { name: 'Bronze', rank: 1, minPacks: 1, minRatingHundredths: 400n, minUnits: 10, minMonths: 1, bp: 7000n, bonusThreshold: null, bonusMinor: null },
  { name: 'Silver', rank: 2, minPacks: 5, minRatingHundredths: 420n, minUnits: 50, minMonths: 3, bp: 7250n, bonusThreshold: 100, bonusMinor: 5000n },
  { name: 'Gold', rank: 3, minPacks: 15, minRatingHundredths: 450n, minUnits: 150, minMonths: 6, bp: 7500n, bonusThreshold: 250, bonusMinor: 15000n },
  { name: 'Platinum', rank: 4, minPacks: 30, minRatingHundredths: 470n, minUnits: 500, minMonths: 12, bp: 8000n, bonusThreshold: 500, bonusMinor: 50000n },
];

export interface OInput {
  creators: string[];
  collaborations: Array<{ id: string; lead: string; members: Array<{ creator: string; percent: string }> }>;
  /** One row per registered version. */
  packs: Array<{ slug: string; owner: string; publishedAt: string }>;
  bundles: Array<{ slug: string; items: Array<{ pack: string; priceMinor: number }> }>;
  /** In the order they were imported. */
  transactions: Array<{
    store: string;
    id: string;
    kind: 'sale' | 'refund';
    occurredAt: string;
    /** A pack slug or a bundle slug. */
    product: string;
    currency: string;
    gross: number;
    fee: number;
    tax: number;
    refundOf?: string;
  }>;
  reviews: Array<{ pack: string; rating: number; reviewedAt: string }>;
  rates: Array<{ currency: string; month: string; usdPerUnit: string }>;
  minimumMinor?: bigint;
  tiers?: OTier[];
}

export interface OStatement {
  creator: string;
  tier: string | null;
  figures: { packs: number; ratingSum: number; ratingCount: number; units: number; monthsActive: number };
  earnings: bigint;
  bonus: bigint;
  carriedIn: bigint;
  balance: bigint;
  payout: bigint;
  carriedOut: bigint;
}

export interface OOwner {
  owner: string;
  net: bigint;
  share: bigint;
  platform: bigint;
  bp: bigint;
  splits: Array<{ creator: string; share: bigint }>;
}

export interface OMonth {
  month: string;
  /** Per pack slug, the month's USD net. */
  packNets: Map<string, bigint>;
  owners: OOwner[];
  statements: OStatement[];
  totals: { net: bigint; creatorShare: bigint; platformShare: bigint; bonus: bigint };
}

/** Exponents of ISO 4217 currencies with a minor unit other than 2 (ISO 4217 list). */
const EXPONENT: Record<string, number> = {
  BIF: 0, CLP: 0, DJF: 0, GNF: 0, ISK: 0, JPY: 0, KMF: 0, KRW: 0, PYG: 0, RWF: 0, UGX: 0, UYI: 0, VND: 0, VUV: 0, XAF: 0, XOF: 0, XPF: 0,
  BHD: 3, IQD: 3, JOD: 3, KWD: 3, LYD: 3, OMR: 3, TND: 3, CLF: 4, UYW: 4,
};
const exponentOf = (c: string): number => EXPONENT[c] ?? 2;

/** Rounds num/den (den > 0) to the nearest integer, ties to even. */
export function halfEven(num: bigint, den: bigint): bigint {
  if (den <= 0n) throw new Error('den');
  const neg = num < 0n;
  const a = neg ? -num : num;
  let q = a / den;
  const r = a % den;
  if (2n * r > den || (2n * r === den && q % 2n === 1n)) q += 1n;
  return neg ? -q : q;
}

function parseDec(s: string): { num: bigint; den: bigint } {
  const m = /^(\d+)(?:\.(\d+))?$/.exec(s);
  if (!m) throw new Error(`not a decimal: ${s}`);
  const frac = m[2] ?? '';
  return { num: BigInt(m[1]! + frac), den: 10n ** BigInt(frac.length) };
}

/** Largest remainder of a non-negative total over weights; ties to the key sorting first (code points). */
export function largestRemainder(total: bigint, parts: Array<{ key: string; weight: bigint }>): Map<string, bigint> {
  if (total < 0n) {
    const pos = largestRemainder(-total, parts);
    return new Map([...pos].map(([k, v]) => [k, -v]));
  }
  const W = parts.reduce((s, p) => s + p.weight, 0n);
  const out = new Map<string, bigint>();
  if (W === 0n) throw new Error('zero weights');
  let given = 0n;
  const rems: Array<{ key: string; rem: bigint }> = [];
  for (const p of parts) {
    const v = (total * p.weight) / W;
    out.set(p.key, (out.get(p.key) ?? 0n) + v);
    given += v;
    rems.push({ key: p.key, rem: (total * p.weight) % W });
  }
  rems.sort((a, b) => (a.rem === b.rem ? (a.key < b.key ? -1 : a.key > b.key ? 1 : 0) : a.rem > b.rem ? -1 : 1));
  let left = total - given;
  for (const r of rems) {
    if (left === 0n) break;
    out.set(r.key, out.get(r.key)! + 1n);
    left -= 1n;
  }
  return out;
}

const utcMonth = (iso: string): string => new Date(iso).toISOString().slice(0, 7);
const ms = (iso: string): number => new Date(iso).getTime();
function nextMonthStart(month: string): number {
  const [y, m] = month.split('-').map(Number) as [number, number];
  return Date.UTC(y, m, 1); // m is 1-based, so this is the next month
}
export function nextMonth(month: string): string {
  return new Date(nextMonthStart(month)).toISOString().slice(0, 7);
}
function monthIndex(month: string): number {
  const [y, m] = month.split('-').map(Number) as [number, number];
  return y * 12 + (m - 1);
}

/** The packs and owners a creator has a stake in. */
function stakes(input: OInput) {
  const collabs = new Map(input.collaborations.map((c) => [c.id, c]));
  const ownerOf = new Map<string, string>();
  for (const p of input.packs) ownerOf.set(p.slug, p.owner);
  const firstPublished = new Map<string, number>();
  for (const p of input.packs) {
    const t = ms(p.publishedAt);
    if (!firstPublished.has(p.slug) || t < firstPublished.get(p.slug)!) firstPublished.set(p.slug, t);
  }
  const creatorsOfPack = (slug: string): string[] => {
    const o = ownerOf.get(slug)!;
    const c = collabs.get(o);
    return c ? c.members.map((m) => m.creator) : [o];
  };
  return { collabs, ownerOf, firstPublished, creatorsOfPack };
}

/**
 * Computes `month`, with carried-in balances taken from `carriedIn` (creator → cents).
 */
export function computeMonth(input: OInput, month: string, carriedIn: Map<string, bigint>): OMonth {
  const tiers = [...(input.tiers ?? ROADMAP_TIERS)].sort((a, b) => b.rank - a.rank);
  const lowest = tiers[tiers.length - 1]!;
  const minimum = input.minimumMinor ?? 1000n;
  const { collabs, ownerOf, firstPublished, creatorsOfPack } = stakes(input);
  const bundles = new Map(input.bundles.map((b) => [b.slug, b]));
  const rate = new Map(input.rates.map((r) => [`${r.currency} ${r.month}`, parseDec(r.usdPerUnit)]));
  const end = nextMonthStart(month);

  // Which refunds complete their sale (by gross), in import order.
  const saleByKey = new Map<string, OInput['transactions'][number]>();
  const refundedGross = new Map<string, number>();
  const completes = new Set<OInput['transactions'][number]>();
  const ordered = [...input.transactions].sort((a, b) => ms(a.occurredAt) - ms(b.occurredAt));
  for (const t of ordered) {
    const key = `${t.store} ${t.kind === 'sale' ? t.id : t.refundOf}`;
    if (t.kind === 'sale') saleByKey.set(key, t);
    else {
      const sale = saleByKey.get(key)!;
      const before = refundedGross.get(key) ?? 0;
      const after = before + t.gross;
      refundedGross.set(key, after);
      if (before < sale.gross && after >= sale.gross) completes.add(t);
    }
  }

  const packNets = new Map<string, bigint>();
  const units = new Map<string, number>();
  const active = new Set<string>();
  for (const t of input.transactions) {
    if (utcMonth(t.occurredAt) !== month) continue;
    const exp = exponentOf(t.currency);
    const netMinor = BigInt(t.gross - t.fee - t.tax);
    let cents: bigint;
    if (t.currency === 'USD') cents = netMinor;
    else {
      const r = rate.get(`${t.currency} ${month}`);
      if (!r) throw new Error(`FX_RATE_MISSING ${t.currency} ${month}`);
      cents = halfEven(netMinor * r.num * 100n, r.den * 10n ** BigInt(exp));
    }
    const signed = t.kind === 'refund' ? -cents : cents;
    const bundle = bundles.get(t.product);
    const parts: Array<[string, bigint]> = bundle
      ? [...largestRemainder(signed, bundle.items.map((i) => ({ key: i.pack, weight: BigInt(i.priceMinor) })))]
      : [[t.product, signed]];
    for (const [slug, v] of parts) {
      packNets.set(slug, (packNets.get(slug) ?? 0n) + v);
      for (const c of creatorsOfPack(slug)) {
        active.add(c);
        const du = t.kind === 'sale' ? 1 : completes.has(t) ? -1 : 0;
        units.set(c, (units.get(c) ?? 0) + du);
      }
    }
  }

  // Tier figures per creator.
  const figures = new Map<string, OStatement['figures']>();
  const tierOf = new Map<string, OTier | null>();
  for (const c of input.creators) {
    const slugs = [...firstPublished.keys()].filter((s) => creatorsOfPack(s).includes(c) && firstPublished.get(s)! < end);
    const set = new Set(slugs);
    const revs = input.reviews.filter((r) => set.has(r.pack) && ms(r.reviewedAt) < end);
    const first = slugs.length ? Math.min(...slugs.map((s) => firstPublished.get(s)!)) : null;
    const f = {
      packs: slugs.length,
      ratingSum: revs.reduce((s, r) => s + r.rating, 0),
      ratingCount: revs.length,
      units: units.get(c) ?? 0,
      monthsActive: first === null ? 0 : monthIndex(month) - monthIndex(new Date(first).toISOString().slice(0, 7)) + 1,
    };
    figures.set(c, f);
    const t = tiers.find(
      (t) =>
        f.packs >= t.minPacks &&
        f.ratingCount > 0 &&
        BigInt(f.ratingSum) * 100n >= t.minRatingHundredths * BigInt(f.ratingCount) &&
        f.units >= t.minUnits &&
        f.monthsActive >= t.minMonths,
    );
    tierOf.set(c, t ?? null);
  }

  // Owners.
  const ownerNets = new Map<string, bigint>();
  for (const [slug, v] of packNets) {
    const o = ownerOf.get(slug)!;
    ownerNets.set(o, (ownerNets.get(o) ?? 0n) + v);
  }
  const earnings = new Map<string, bigint>();
  const owners: OOwner[] = [];
  for (const [owner, net] of [...ownerNets].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const collab = collabs.get(owner);
    const tier = tierOf.get(collab ? collab.lead : owner) ?? null;
    const bp = (tier ?? lowest).bp;
    const share = halfEven(net * bp, 10000n);
    let splits: Array<{ creator: string; share: bigint }> = [];
    if (collab) {
      const m = largestRemainder(share, collab.members.map((x) => ({ key: x.creator, weight: parseDec(x.percent).num * (100n / parseDec(x.percent).den) })));
      splits = [...m].map(([creator, s]) => ({ creator, share: s }));
      for (const s of splits) earnings.set(s.creator, (earnings.get(s.creator) ?? 0n) + s.share);
    } else earnings.set(owner, (earnings.get(owner) ?? 0n) + share);
    owners.push({ owner, net, share, platform: net - share, bp, splits });
  }

  const statements: OStatement[] = [];
  for (const c of [...input.creators].sort()) {
    const cin = carriedIn.get(c) ?? 0n;
    if (!active.has(c) && cin === 0n) continue;
    const tier = tierOf.get(c) ?? null;
    const f = figures.get(c)!;
    const bonus = tier && tier.bonusThreshold !== null && f.units >= tier.bonusThreshold ? tier.bonusMinor! : 0n;
    const earn = earnings.get(c) ?? 0n;
    const balance = earn + bonus + cin;
    const payout = balance >= minimum ? balance : 0n;
    statements.push({ creator: c, tier: tier?.name ?? null, figures: f, earnings: earn, bonus, carriedIn: cin, balance, payout, carriedOut: balance - payout });
  }
  const sum = (xs: bigint[]) => xs.reduce((s, x) => s + x, 0n);
  return {
    month,
    packNets,
    owners,
    statements,
    totals: {
      net: sum(owners.map((o) => o.net)),
      creatorShare: sum(owners.map((o) => o.share)),
      platformShare: sum(owners.map((o) => o.platform)),
      bonus: sum(statements.map((s) => s.bonus)),
    },
  };
}

/**
 * Every month from the first one with a transaction up to `month`, carrying balances
 * forward. `frozen` holds the carried-out balances of months closed earlier (as they were
 * when closed); those months are not recomputed for carrying.
 */
export function computeUpTo(input: OInput, month: string, frozen = new Map<string, Map<string, bigint>>()): OMonth {
  const months = input.transactions.map((t) => utcMonth(t.occurredAt)).sort();
  let m = months[0] && months[0] < month ? months[0] : month;
  let carried = new Map<string, bigint>();
  for (;;) {
    const r = computeMonth(input, m, carried);
    if (m === month) return r;
    carried = frozen.get(m) ?? new Map(r.statements.map((s) => [s.creator, s.carriedOut]));
    m = nextMonth(m);
  }
}
