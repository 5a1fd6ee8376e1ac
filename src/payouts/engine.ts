/**
 * The payout engine (PRODUCT.md §9): a pure function from plain typed inputs to the
 * month's statements, totals and tie-out. No database, no clock, no floating point:
 * every amount is a BigInt count of minor units and every rounding is named.
 *
 * Transactions arrive grouped: rows that agree on everything the rules look at
 * (product, currency, kind, gross, fee, tax, whether a refund completes its sale)
 * convert and split identically, so a group of `count` rows is computed once and
 * multiplied — exactly the same cents as row by row, at a fraction of the work.
 */
import { inputError } from '../shared/errors.js';
import {
  allocateLargestRemainder,
  basisPointsToPercent,
  compareCodePoints,
  minorUnitExponent,
  parseDecimal,
  roundHalfEven,
  type Rational,
} from '../shared/money.js';

export type Period = string; // 'YYYY-MM'

export interface TierDef {
  name: string;
  minPacks: number;
  /** Minimum average rating as an exact decimal string, e.g. "4.20". */
  minRating: string;
  minUnits: number;
  minMonths: number;
  /** Revenue share as an exact decimal string, e.g. "72.50". */
  sharePercent: string;
  bonusThreshold: number | null;
  bonusMinor: bigint | null;
}

export type Product = { kind: 'pack'; slug: string } | { kind: 'bundle'; slug: string };

export interface TxGroup {
  kind: 'sale' | 'refund';
  product: Product;
  currency: string;
  /** Amounts of ONE row, as stored (non-negative; a refund's amounts are the ones reversed). */
  grossMinor: bigint;
  feeMinor: bigint;
  taxMinor: bigint;
  /** How many rows share these values. */
  count: number;
  /** Refunds only: whether each of these rows completes the refund of its sale (counts as a unit). */
  completes?: boolean;
}

export interface BundleDef {
  items: Array<{ pack: string; priceMinor: bigint }>;
}

export interface CollaborationDef {
  name?: string;
  lead: string;
  /** Member shares in basis points (5000 = 50.00%), summing to 10000. */
  members: Array<{ creator: string; bps: number }>;
}

/** The tier figures the engine cannot see in the month's transactions. */
export interface CreatorActivity {
  packsPublished: number;
  ratingSum: number;
  ratingCount: number;
  monthsActive: number;
}

export interface EngineInput {
  period: Period;
  transactions: TxGroup[];
  /** usd_per_unit per currency for this month, exact decimal strings. USD needs none. */
  rates: ReadonlyMap<string, string>;
  bundles: ReadonlyMap<string, BundleDef>;
  /** Pack slug → owner id (a creator or a collaboration). */
  packs: ReadonlyMap<string, { owner: string }>;
  collaborations: ReadonlyMap<string, CollaborationDef>;
  /** Known creators (id → display name); owners and members not listed are reported too. */
  creators: ReadonlyMap<string, { name?: string }>;
  tiers: TierDef[];
  activity: ReadonlyMap<string, CreatorActivity>;
  carriedIn: ReadonlyMap<string, bigint>;
  minimumMinor: bigint;
}

export interface PackLine {
  pack: string;
  /** The bundle this line's revenue came through, or null for direct pack sales. */
  bundle: string | null;
  currency: string;
  /** USD per major unit used for this line's conversions. */
  rate: string;
  sales: number;
  refunds: number;
  units: number;
  /** In the transaction currency's minor units; refunds negative. For a bundle line: the whole bundle transactions. */
  grossMinor: bigint;
  feesMinor: bigint;
  taxMinor: bigint;
  netMinor: bigint;
  /** This pack's USD net in cents (per-transaction conversion; bundle share by largest remainder). */
  netUsdMinor: bigint;
}

export interface OwnerResult {
  owner: string;
  ownerKind: 'creator' | 'collaboration';
  /** The creator whose tier sets the share (the owner itself, or the collaboration's lead). */
  tierOf: string;
  tier: string | null;
  sharePercent: string;
  lines: PackLine[];
  netMinor: bigint;
  creatorShareMinor: bigint;
  platformShareMinor: bigint;
  /** For a collaboration: how its creator share is split. */
  splits: Array<{ creator: string; sharePercent: string; shareMinor: bigint }>;
}

export interface TierFigures {
  packsPublished: number;
  averageRating: string | null;
  ratingCount: number;
  units: number;
  monthsActive: number;
}

export interface TierAssessment {
  creator: string;
  name: string | null;
  figures: TierFigures;
  tier: string | null;
  sharePercent: string;
  /** The next tier up and the minimums it misses (null at the top tier). */
  next: { tier: string; unmet: Array<{ minimum: 'packs' | 'rating' | 'units' | 'months'; required: string; actual: string }> } | null;
  bonusMinor: bigint;
}

export interface Statement {
  creator: string;
  name: string | null;
  tier: string | null;
  sharePercent: string;
  figures: TierFigures;
  /** Packs the creator owns alone: lines, owner net and the share rounded once. */
  own: { lines: PackLine[]; netMinor: bigint; shareMinor: bigint } | null;
  collaborations: Array<{
    collaboration: string;
    name: string | null;
    lead: string;
    tier: string | null;
    sharePercent: string;
    lines: PackLine[];
    netMinor: bigint;
    collaborationShareMinor: bigint;
    memberPercent: string;
    memberShareMinor: bigint;
  }>;
  earningsMinor: bigint;
  bonusMinor: bigint;
  carriedInMinor: bigint;
  balanceMinor: bigint;
  payoutMinor: bigint;
  carriedOutMinor: bigint;
}

export interface PayoutTotals {
  transactions: number;
  netMinor: bigint;
  creatorShareMinor: bigint;
  platformShareMinor: bigint;
  bonusMinor: bigint;
  carriedInMinor: bigint;
  payoutMinor: bigint;
  carriedOutMinor: bigint;
}

export interface TieOut {
  ok: true;
  netMinor: bigint;
  creatorShareMinor: bigint;
  platformShareMinor: bigint;
  bonusMinor: bigint;
}

export interface EngineResult {
  period: Period;
  currency: 'USD';
  minimumMinor: bigint;
  owners: OwnerResult[];
  tiers: TierAssessment[];
  statements: Statement[];
  totals: PayoutTotals;
  tieOut: TieOut;
}

/** A broken invariant is a bug, never a silent report: exit 70. */
export class TieOutError extends Error {
  constructor(message: string) {
    super(`tie-out failed: ${message}`);
    this.name = 'TieOutError';
  }
}

const PERIOD_RE = /^(\d{4})-(0[1-9]|1[0-2])$/;

export function isPeriod(text: string): boolean {
  return PERIOD_RE.test(text);
}

/** The first instant (UTC, ISO) of the month after `period`. */
export function nextPeriodStart(period: Period): string {
  return `${addMonths(period, 1)}-01T00:00:00.000Z`;
}

export function addMonths(period: Period, n: number): Period {
  const m = PERIOD_RE.exec(period);
  if (!m) throw new RangeError(`not a period: ${period}`);
  const index = Number(m[1]) * 12 + (Number(m[2]) - 1) + n;
  const year = Math.floor(index / 12);
  const month = (index % 12) + 1;
  return `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}`;
}

/** Calendar months from `from` to `to` inclusive (0 when `to` is before `from`). */
export function monthsBetweenInclusive(from: Period, to: Period): number {
  const a = PERIOD_RE.exec(from);
  const b = PERIOD_RE.exec(to);
  if (!a || !b) throw new RangeError(`not a period: ${from} / ${to}`);
  const diff = Number(b[1]) * 12 + Number(b[2]) - (Number(a[1]) * 12 + Number(a[2]));
  return diff < 0 ? 0 : diff + 1;
}

function decimal(text: string, what: string): Rational {
  const r = parseDecimal(text);
  if (!r) throw inputError('ROW_INVALID', `${what} "${text}" is not an exact decimal.`);
  return r;
}

/** USD cents of one transaction's net: `net × rate × 100 / 10^exponent`, half to even, once. */
export function convertToUsdCents(netMinor: bigint, currency: string, rate: Rational): bigint {
  const exponent = minorUnitExponent(currency);
  if (exponent === undefined) throw inputError('CURRENCY', `${currency} is not an ISO 4217 currency code.`);
  return roundHalfEven(netMinor * rate.num * 100n, rate.den * 10n ** BigInt(exponent));
}

/** `amount × percent / 100`, half to even; `percent` is an exact decimal string. */
export function applyPercent(amountMinor: bigint, percent: string): bigint {
  const p = decimal(percent, 'percentage');
  return roundHalfEven(amountMinor * p.num, p.den * 100n);
}

function rateFor(input: EngineInput, currency: string): { text: string; value: Rational } {
  const text = input.rates.get(currency) ?? (currency === 'USD' ? '1' : undefined);
  if (text === undefined) {
    throw inputError('FX_RATE_MISSING', `No exchange rate for ${currency} in ${input.period}.`, {
      hint: `Import it: packops ledger import rates <file> with a row "${currency},${input.period},<usd_per_unit>".`,
      details: { currency, month: input.period },
    });
  }
  return { text, value: decimal(text, `rate of ${currency} for ${input.period}`) };
}

/** Splits one transaction's USD cents across the packs it pays for. */
function splitProduct(input: EngineInput, product: Product, cents: bigint): Array<{ pack: string; cents: bigint }> {
  if (product.kind === 'pack') return [{ pack: product.slug, cents }];
  const bundle = input.bundles.get(product.slug);
  if (!bundle || bundle.items.length === 0) {
    throw inputError('ROW_PRODUCT_UNKNOWN', `Bundle ${product.slug} has no stored items to split its revenue over.`, {
      details: { bundle: product.slug },
    });
  }
  const allZero = bundle.items.every((i) => i.priceMinor === 0n);
  // A bundle of free packs has no price weights: split evenly (still largest remainder).
  const items = bundle.items.map((i) => ({ key: i.pack, weight: allZero ? 1n : i.priceMinor }));
  // allocateLargestRemainder splits |cents| and negates a negative amount: §9's bundle-refund reading.
  const shares = allocateLargestRemainder(cents, items);
  return [...shares].map(([pack, c]) => ({ pack, cents: c }));
}

function compareRating(sum: number, count: number, minimum: Rational): boolean {
  // sum/count ≥ num/den  ⇔  sum·den ≥ num·count (count > 0)
  return BigInt(sum) * minimum.den >= minimum.num * BigInt(count);
}

function formatAverage(sum: number, count: number): string | null {
  if (count === 0) return null;
  const hundredths = roundHalfEven(BigInt(sum) * 100n, BigInt(count));
  const s = hundredths.toString().padStart(3, '0');
  return `${s.slice(0, -2)}.${s.slice(-2)}`;
}

/** Tiers from the lowest to the highest: by share, then by each minimum. */
export function orderTiers(tiers: readonly TierDef[]): TierDef[] {
  const cmpDec = (a: string, b: string) => {
    const x = decimal(a, 'tier value');
    const y = decimal(b, 'tier value');
    const l = x.num * y.den;
    const r = y.num * x.den;
    return l < r ? -1 : l > r ? 1 : 0;
  };
  return [...tiers].sort(
    (a, b) =>
      cmpDec(a.sharePercent, b.sharePercent) ||
      a.minPacks - b.minPacks ||
      cmpDec(a.minRating, b.minRating) ||
      a.minUnits - b.minUnits ||
      a.minMonths - b.minMonths ||
      compareCodePoints(a.name, b.name),
  );
}

function unmetMinimums(tier: TierDef, f: TierFigures, activity: CreatorActivity) {
  const unmet: NonNullable<TierAssessment['next']>['unmet'] = [];
  if (f.packsPublished < tier.minPacks) unmet.push({ minimum: 'packs', required: String(tier.minPacks), actual: String(f.packsPublished) });
  if (activity.ratingCount === 0 || !compareRating(activity.ratingSum, activity.ratingCount, decimal(tier.minRating, 'minimum rating'))) {
    unmet.push({ minimum: 'rating', required: tier.minRating, actual: f.averageRating ?? 'no reviews' });
  }
  if (f.units < tier.minUnits) unmet.push({ minimum: 'units', required: String(tier.minUnits), actual: String(f.units) });
  if (f.monthsActive < tier.minMonths) unmet.push({ minimum: 'months', required: String(tier.minMonths), actual: String(f.monthsActive) });
  return unmet;
}

/** §9.5 and §9.7: the highest tier whose four minimums all hold, and the bonus it pays. */
export function assessTier(
  creator: string,
  name: string | null,
  activity: CreatorActivity,
  units: number,
  tiers: readonly TierDef[],
): TierAssessment {
  const ordered = orderTiers(tiers);
  if (ordered.length === 0) throw inputError('TIERS_MISSING', 'The ledger holds no creator tiers.', { hint: 'Run packops ledger migrate.' });
  const figures: TierFigures = {
    packsPublished: activity.packsPublished,
    averageRating: formatAverage(activity.ratingSum, activity.ratingCount),
    ratingCount: activity.ratingCount,
    units,
    monthsActive: activity.monthsActive,
  };
  let reached = -1;
  ordered.forEach((t, i) => {
    if (unmetMinimums(t, figures, activity).length === 0) reached = i;
  });
  const tier = reached >= 0 ? ordered[reached]! : undefined;
  const nextTier = ordered[reached + 1];
  const bonusMinor =
    tier && tier.bonusThreshold !== null && tier.bonusMinor !== null && units >= tier.bonusThreshold ? tier.bonusMinor : 0n;
  return {
    creator,
    name,
    figures,
    tier: tier ? tier.name : null,
    sharePercent: (tier ?? ordered[0]!).sharePercent,
    next: nextTier ? { tier: nextTier.name, unmet: unmetMinimums(nextTier, figures, activity) } : null,
    bonusMinor,
  };
}

const NO_ACTIVITY: CreatorActivity = { packsPublished: 0, ratingSum: 0, ratingCount: 0, monthsActive: 0 };

function lineKey(pack: string, bundle: string | null, currency: string): string {
  return `${pack}\u0000${bundle ?? ''}\u0000${currency}`;
}

function compareLines(a: PackLine, b: PackLine): number {
  return (
    compareCodePoints(a.pack, b.pack) ||
    compareCodePoints(a.bundle ?? '', b.bundle ?? '') ||
    compareCodePoints(a.currency, b.currency)
  );
}

/** A row group's units (§9.5): sales count, a refund counts only when it completes its sale. */
function unitDelta(g: TxGroup): number {
  return g.kind === 'sale' ? g.count : g.completes ? -g.count : 0;
}

/** Units per pack (§9.5): sale rows minus completing refund rows; a bundle row counts for each of its packs. */
function unitsByPack(input: Pick<EngineInput, 'transactions' | 'bundles'>): Map<string, number> {
  const units = new Map<string, number>();
  for (const g of input.transactions) {
    if (g.count <= 0) continue;
    const delta = unitDelta(g);
    const packs =
      g.product.kind === 'pack' ? [g.product.slug] : (input.bundles.get(g.product.slug)?.items ?? []).map((i) => i.pack);
    for (const pack of packs) units.set(pack, (units.get(pack) ?? 0) + delta);
  }
  return units;
}

/** Each creator's tier for the month; needs no exchange rates. */
export function assessTiers(
  input: Omit<EngineInput, 'rates' | 'carriedIn' | 'minimumMinor'>,
): TierAssessment[] {
  const { tierOf } = assessTiersFromUnits(input, unitsByPack(input));
  return [...tierOf.values()].filter((t) => !input.collaborations.has(t.creator));
}

function assessTiersFromUnits(
  input: Pick<EngineInput, 'creators' | 'packs' | 'collaborations' | 'activity' | 'tiers'> & { carriedIn?: ReadonlyMap<string, bigint> },
  packUnits: ReadonlyMap<string, number>,
): { tierOf: Map<string, TierAssessment>; memberOf: Map<string, string[]> } {
  // Every creator the month concerns: known creators, owners, members, balances.
  const creatorIds = new Set<string>(input.creators.keys());
  for (const pack of input.packs.values()) {
    if (!input.collaborations.has(pack.owner)) creatorIds.add(pack.owner);
  }
  for (const c of input.collaborations.values()) {
    creatorIds.add(c.lead);
    for (const m of c.members) creatorIds.add(m.creator);
  }
  for (const id of input.carriedIn?.keys() ?? []) creatorIds.add(id);
  for (const id of input.activity.keys()) creatorIds.add(id);

  // Units per creator: every pack owned alone or co-owned through a collaboration.
  const memberOf = new Map<string, string[]>();
  for (const [id, c] of input.collaborations) {
    for (const m of c.members) {
      const list = memberOf.get(m.creator) ?? [];
      list.push(id);
      memberOf.set(m.creator, list);
    }
  }
  const unitsOfOwner = new Map<string, number>();
  for (const [pack, u] of packUnits) {
    const owner = input.packs.get(pack)?.owner;
    if (owner !== undefined) unitsOfOwner.set(owner, (unitsOfOwner.get(owner) ?? 0) + u);
  }
  const tierOf = new Map<string, TierAssessment>();
  for (const id of [...creatorIds].sort(compareCodePoints)) {
    if (input.collaborations.has(id)) continue;
    const units = (unitsOfOwner.get(id) ?? 0) + (memberOf.get(id) ?? []).reduce((s, c) => s + (unitsOfOwner.get(c) ?? 0), 0);
    tierOf.set(id, assessTier(id, input.creators.get(id)?.name ?? null, input.activity.get(id) ?? NO_ACTIVITY, units, input.tiers));
  }
  return { tierOf, memberOf };
}

/** Runs §9 for one month. Throws PackopsError for bad input, TieOutError for a broken invariant. */
export function computePayouts(input: EngineInput): EngineResult {
  if (!isPeriod(input.period)) throw new RangeError(`not a period: ${input.period}`);
  // §9.1–9.3: per-transaction USD nets, split to packs, gathered into lines.
  const lines = new Map<string, PackLine>();
  let totalNet = 0n;
  let transactions = 0;
  const packUnits = unitsByPack(input);
  for (const g of input.transactions) {
    if (g.count <= 0) continue;
    const rate = rateFor(input, g.currency);
    const sign = g.kind === 'refund' ? -1n : 1n;
    const count = BigInt(g.count);
    const netOne = sign * (g.grossMinor - g.feeMinor - g.taxMinor);
    const centsOne = convertToUsdCents(netOne, g.currency, rate.value);
    totalNet += centsOne * count;
    transactions += g.count;
    const units = unitDelta(g);
    const bundle = g.product.kind === 'bundle' ? g.product.slug : null;
    for (const part of splitProduct(input, g.product, centsOne)) {
      if (!input.packs.has(part.pack)) {
        throw inputError('ROW_PRODUCT_UNKNOWN', `Pack ${part.pack} is not in the catalog, so its revenue has no owner.`, {
          details: { pack: part.pack, ...(bundle ? { bundle } : {}) },
        });
      }
      const key = lineKey(part.pack, bundle, g.currency);
      let line = lines.get(key);
      if (!line) {
        line = {
          pack: part.pack,
          bundle,
          currency: g.currency,
          rate: rate.text,
          sales: 0,
          refunds: 0,
          units: 0,
          grossMinor: 0n,
          feesMinor: 0n,
          taxMinor: 0n,
          netMinor: 0n,
          netUsdMinor: 0n,
        };
        lines.set(key, line);
      }
      if (g.kind === 'sale') line.sales += g.count;
      else line.refunds += g.count;
      line.units += units;
      line.grossMinor += sign * g.grossMinor * count;
      line.feesMinor += sign * g.feeMinor * count;
      line.taxMinor += sign * g.taxMinor * count;
      line.netMinor += netOne * count;
      line.netUsdMinor += part.cents * count;
    }
  }

  // §9.4: owners and their nets.
  const byOwner = new Map<string, PackLine[]>();
  for (const line of lines.values()) {
    const owner = input.packs.get(line.pack)!.owner;
    let list = byOwner.get(owner);
    if (!list) byOwner.set(owner, (list = []));
    list.push(line);
  }

  const { tierOf, memberOf } = assessTiersFromUnits(input, packUnits);

  // §9.6: creator share per owner, rounded once; collaboration splits.
  const owners: OwnerResult[] = [];
  for (const owner of [...byOwner.keys()].sort(compareCodePoints)) {
    const ownerLines = byOwner.get(owner)!.sort(compareLines);
    const netMinor = ownerLines.reduce((s, l) => s + l.netUsdMinor, 0n);
    const collab = input.collaborations.get(owner);
    const tierCreator = collab ? collab.lead : owner;
    const assessment = tierOf.get(tierCreator)!;
    const creatorShareMinor = applyPercent(netMinor, assessment.sharePercent);
    let splits: OwnerResult['splits'] = [];
    if (collab) {
      const members = collab.members.map((m) => ({ key: m.creator, weight: BigInt(m.bps) }));
      const shares = allocateLargestRemainder(creatorShareMinor, members);
      splits = collab.members
        .map((m) => ({ creator: m.creator, sharePercent: basisPointsToPercent(m.bps), shareMinor: shares.get(m.creator) ?? 0n }))
        .sort((a, b) => compareCodePoints(a.creator, b.creator));
    }
    owners.push({
      owner,
      ownerKind: collab ? 'collaboration' : 'creator',
      tierOf: tierCreator,
      tier: assessment.tier,
      sharePercent: assessment.sharePercent,
      lines: ownerLines,
      netMinor,
      creatorShareMinor,
      platformShareMinor: netMinor - creatorShareMinor,
      splits,
    });
  }
  const ownerById = new Map(owners.map((o) => [o.owner, o]));

  // §9.7–9.8: statements.
  const statements: Statement[] = [];
  for (const [id, assessment] of tierOf) {
    const ownResult = ownerById.get(id);
    const own = ownResult ? { lines: ownResult.lines, netMinor: ownResult.netMinor, shareMinor: ownResult.creatorShareMinor } : null;
    const collaborations: Statement['collaborations'] = [];
    for (const cid of (memberOf.get(id) ?? []).sort(compareCodePoints)) {
      const o = ownerById.get(cid);
      if (!o) continue;
      const c = input.collaborations.get(cid)!;
      const split = o.splits.find((s) => s.creator === id)!;
      collaborations.push({
        collaboration: cid,
        name: c.name ?? null,
        lead: c.lead,
        tier: o.tier,
        sharePercent: o.sharePercent,
        lines: o.lines,
        netMinor: o.netMinor,
        collaborationShareMinor: o.creatorShareMinor,
        memberPercent: split.sharePercent,
        memberShareMinor: split.shareMinor,
      });
    }
    const carriedInMinor = input.carriedIn.get(id) ?? 0n;
    const active = own !== null || collaborations.length > 0 || assessment.bonusMinor !== 0n;
    if (!active && carriedInMinor === 0n) continue;
    const earningsMinor = (own?.shareMinor ?? 0n) + collaborations.reduce((s, c) => s + c.memberShareMinor, 0n);
    const bonusMinor = assessment.bonusMinor;
    const balanceMinor = earningsMinor + bonusMinor + carriedInMinor;
    const paid = balanceMinor >= input.minimumMinor && balanceMinor > 0n;
    statements.push({
      creator: id,
      name: assessment.name,
      tier: assessment.tier,
      sharePercent: assessment.sharePercent,
      figures: assessment.figures,
      own,
      collaborations,
      earningsMinor,
      bonusMinor,
      carriedInMinor,
      balanceMinor,
      payoutMinor: paid ? balanceMinor : 0n,
      carriedOutMinor: paid ? 0n : balanceMinor,
    });
  }

  const sum = <T>(xs: readonly T[], f: (x: T) => bigint) => xs.reduce((s, x) => s + f(x), 0n);
  const totals: PayoutTotals = {
    transactions,
    netMinor: totalNet,
    creatorShareMinor: sum(owners, (o) => o.creatorShareMinor),
    platformShareMinor: sum(owners, (o) => o.platformShareMinor),
    bonusMinor: sum(statements, (s) => s.bonusMinor),
    carriedInMinor: sum(statements, (s) => s.carriedInMinor),
    payoutMinor: sum(statements, (s) => s.payoutMinor),
    carriedOutMinor: sum(statements, (s) => s.carriedOutMinor),
  };
  const tieOut = checkTieOut(owners, statements, totals, input.carriedIn);
  return {
    period: input.period,
    currency: 'USD',
    minimumMinor: input.minimumMinor,
    owners,
    tiers: [...tierOf.values()],
    statements,
    totals,
    tieOut,
  };
}

/** §9.9, enforced: any difference is a bug and stops the report. */
function checkTieOut(
  owners: readonly OwnerResult[],
  statements: readonly Statement[],
  totals: PayoutTotals,
  carriedIn: ReadonlyMap<string, bigint>,
): TieOut {
  const fail = (what: string, a: bigint, b: bigint) => {
    if (a !== b) throw new TieOutError(`${what}: ${a} ≠ ${b} (difference ${a - b} cents)`);
  };
  const linesNet = owners.reduce((s, o) => s + o.lines.reduce((t, l) => t + l.netUsdMinor, 0n), 0n);
  fail('Σ transaction nets = Σ pack-line nets', totals.netMinor, linesNet);
  fail('Σ net = Σ creator shares + Σ platform shares', totals.netMinor, totals.creatorShareMinor + totals.platformShareMinor);
  for (const o of owners) {
    if (o.ownerKind === 'collaboration') {
      fail(`collaboration ${o.owner}: Σ member splits = its share`, o.creatorShareMinor, o.splits.reduce((s, x) => s + x.shareMinor, 0n));
    }
  }
  const earnings = statements.reduce((s, x) => s + x.earningsMinor, 0n);
  fail('Σ statement earnings = Σ creator shares', earnings, totals.creatorShareMinor);
  const allCarried = [...carriedIn.values()].reduce((s, x) => s + x, 0n);
  fail('Σ carried in on statements = Σ balances carried from the previous month', totals.carriedInMinor, allCarried);
  for (const s of statements) {
    fail(`statement ${s.creator}: balance`, s.balanceMinor, s.earningsMinor + s.bonusMinor + s.carriedInMinor);
    fail(`statement ${s.creator}: payout + carried out = balance`, s.payoutMinor + s.carriedOutMinor, s.balanceMinor);
  }
  fail(
    'Σ payouts + Σ carried out = Σ creator shares + Σ bonuses + Σ carried in',
    totals.payoutMinor + totals.carriedOutMinor,
    totals.creatorShareMinor + totals.bonusMinor + totals.carriedInMinor,
  );
  return {
    ok: true,
    netMinor: totals.netMinor,
    creatorShareMinor: totals.creatorShareMinor,
    platformShareMinor: totals.platformShareMinor,
    bonusMinor: totals.bonusMinor,
  };
}
