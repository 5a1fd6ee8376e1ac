/**
 * The payout engine's plain records (PRODUCT.md §9 and §14): what goes in (a month's
 * transactions, catalog, creators, tiers, subscription nets) and what comes out
 * (owners, statements, totals, tie-out). Every amount is a BigInt count of minor units.
 */
export type { Period } from '../shared/period.js';
import type { Period } from '../shared/period.js';

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
  /**
   * The net of ONE row as the store reported it, when gross, fee and tax are unknown (App
   * Store lines report proceeds only; the three amounts above are then 0 and ignored).
   */
  netMinor?: bigint;
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
  /**
   * §14: the month's subscription allocation (src/subscriptions): each pack's subscription
   * net joins its owner_net (never units), and the month's figures are reported beside.
   */
  subscriptions?: { summary: SubscriptionSummary; lines: readonly SubscriptionLine[] };
}

/** The month's subscription figures (§14): what was recognised and where it went. */
export interface SubscriptionSummary {
  /** Σ M_f: everything plan sales and refunds recognise in the month. */
  recognisedMinor: bigint;
  /** Σ pack subscription nets. */
  allocatedMinor: bigint;
  /** Money of families that used packs, split over their own packs. */
  allocatedByUseMinor: bigint;
  /** Money of idle families (no usage), pooled over every pack by the month's active days. */
  idlePooledMinor: bigint;
  /** Idle money no usage could carry (nobody used anything): the platform's. */
  unallocatedMinor: bigint;
  families: { subscribed: number; active: number; idle: number };
  activeDays: number;
  /** Plan sales and refunds dated in the month. */
  transactions: { sales: number; refunds: number };
}

/** §14.4, checked: Σ recognised = Σ pack subscription nets + unallocated. */
export interface SubscriptionTieOut {
  ok: true;
  recognisedMinor: bigint;
  packNetsMinor: bigint;
  unallocatedMinor: bigint;
}

/** A pack's subscription line (§14): families that used it, their active days, its subscription net. */
export interface SubscriptionLine {
  pack: string;
  families: number;
  activeDays: number;
  /** The pack's subscription net in USD cents (from its families' own money + the idle pool). */
  netUsdMinor: bigint;
  /** Of which from the families that used it (§14 step 1) … */
  fromUseMinor: bigint;
  /** … and from the idle families' pool (§14 step 2). */
  fromPoolMinor: bigint;
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
  /** Some of the line's transactions came with their net only (App Store): gross, fees and tax are then unknown (shown as —). */
  amountsUnknown?: boolean;
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
  /** §14 subscription lines of the owner's packs (by slug). */
  subscriptionLines: SubscriptionLine[];
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
  own: { lines: PackLine[]; subscriptionLines: SubscriptionLine[]; netMinor: bigint; shareMinor: bigint } | null;
  collaborations: Array<{
    collaboration: string;
    name: string | null;
    lead: string;
    tier: string | null;
    sharePercent: string;
    lines: PackLine[];
    subscriptionLines: SubscriptionLine[];
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
  /** Σ owner nets: sales and refunds (transactions) plus subscription nets. */
  netMinor: bigint;
  /** Of which pack subscription nets (§14). */
  subscriptionNetMinor: bigint;
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
  /** §14: the month's subscription figures and their tie-out (zeros in a month without any). */
  subscriptions: SubscriptionSummary & { tieOut: SubscriptionTieOut };
}
