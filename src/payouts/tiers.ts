/**
 * Tiers (PRODUCT.md §9.5, §9.7): each creator's four figures as of the month's end, the
 * highest tier whose minimums all hold, the bonus it pays, and units per pack (sale rows
 * minus completing refunds; subscription use never counts).
 */
import { inputError } from '../shared/errors.js';
import { compareCodePoints, parseDecimal, roundHalfEven, type Rational } from '../shared/money.js';
import type { CreatorActivity, EngineInput, TierAssessment, TierDef, TierFigures, TxGroup } from './types.js';

/** An exact decimal string as a rational; anything else is bad input. */
export function exactDecimal(text: string, what: string): Rational {
  const r = parseDecimal(text);
  if (!r) throw inputError('ROW_INVALID', `${what} "${text}" is not an exact decimal.`);
  return r;
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
    const x = exactDecimal(a, 'tier value');
    const y = exactDecimal(b, 'tier value');
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
  if (activity.ratingCount === 0 || !compareRating(activity.ratingSum, activity.ratingCount, exactDecimal(tier.minRating, 'minimum rating'))) {
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

/** A row group's units (§9.5): sales count, a refund counts only when it completes its sale. */
export function unitDelta(g: TxGroup): number {
  return g.kind === 'sale' ? g.count : g.completes ? -g.count : 0;
}

/** Units per pack (§9.5): sale rows minus completing refund rows; a bundle row counts for each of its packs. */
export function unitsByPack(input: Pick<EngineInput, 'transactions' | 'bundles'>): Map<string, number> {
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

export function assessTiersFromUnits(
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

