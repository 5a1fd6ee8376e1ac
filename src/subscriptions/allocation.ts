/**
 * User-centric allocation (PRODUCT.md §14), one month at a time. Pure: plain records in,
 * plain records out, BigInt USD cents, every rounding by the shared largest-remainder
 * helper (ties to the pack slug that sorts first in code-point order).
 *
 * 1. A family that used packs (U_f > 0) has its month's money M_f split over its packs in
 *    proportion to its active days; a negative M_f is split as its absolute value and negated.
 * 2. The money of idle families (U_f = 0) is pooled and split over all packs in proportion
 *    to the month's total active days across every family. If nobody used anything, it
 *    stays unallocated (the platform's).
 * 3. A pack's subscription net = its shares from 1 and 2.
 * 4. Tie-out: Σ recognised = Σ pack subscription nets + unallocated, to the cent.
 *
 * Families are fed one at a time (`MonthAllocator.addFamily`, in code-point order of their
 * key), so a caller can stream a month of usage without holding it: memory grows with the
 * number of packs and of families with money, never with usage rows.
 */
import { allocateLargestRemainder, compareCodePoints, largestRemainderShares, largestRemainderSharesSafe } from '../shared/money.js';
import type { Period } from '../shared/period.js';

export interface UsageRecord {
  /** The family key (the HMAC of its family_ref). */
  family: string;
  pack: string;
  /** Days of the month on which the family opened the pack (1..days in month). */
  activeDays: number;
}

export interface PackSubscription {
  pack: string;
  /** Families that used the pack this month. */
  families: number;
  /** Their active days on it, summed. */
  activeDays: number;
  /** From the families' own money (step 1). */
  fromUseMinor: bigint;
  /** From the idle families' pool (step 2). */
  fromPoolMinor: bigint;
  /** The pack's subscription net: fromUse + fromPool. */
  netMinor: bigint;
}

export interface MonthAllocation {
  period: Period;
  /** Σ M_f: everything recognised this month. */
  recognisedMinor: bigint;
  /** Σ of pack subscription nets (= allocated by use + idle pool allocated). */
  allocatedMinor: bigint;
  /** Money of families that used packs, split over their own packs. */
  allocatedByUseMinor: bigint;
  /** Σ M_f of idle families (pooled; allocated by total active days, or unallocated). */
  idlePooledMinor: bigint;
  /** Idle money nobody's use could carry (no usage at all this month): the platform's. */
  unallocatedMinor: bigint;
  families: {
    /** Families with subscription money (or a refund) in the month. */
    subscribed: number;
    /** Families with usage in the month (with or without money of their own). */
    active: number;
    /** Subscribed families without usage: their money is pooled. */
    idle: number;
  };
  activeDays: number;
  /** Packs with usage, in code-point order of slug. */
  packs: PackSubscription[];
}

/** A broken allocation invariant is a bug, never a silent report. */
export class AllocationError extends Error {
  constructor(message: string) {
    super(`subscription tie-out failed: ${message}`);
    this.name = 'AllocationError';
  }
}

interface PackAcc {
  families: number;
  activeDays: number;
  fromUse: bigint;
  /** Shares split in Number arithmetic (exact: see MonthAllocator.safe); added to fromUse at the end. */
  fromUseSafe: number;
  fromPool: bigint;
}

/** Splits one family's money over its packs by active days (§14 step 1). */
export function allocateFamily(amountMinor: bigint, usage: ReadonlyArray<{ pack: string; activeDays: number }>): Map<string, bigint> {
  const shares = splitByDays(amountMinor, usage);
  return new Map(usage.map((u, i) => [u.pack, shares[i]!]));
}

/** §14 step 1 for one family: the shares in `usage` order (it runs once for every family of the month). */
function splitByDays(amountMinor: bigint, usage: ReadonlyArray<{ pack: string; activeDays: number }>): bigint[] {
  if (usage.length === 1) return [amountMinor];
  return largestRemainderShares(
    amountMinor,
    usage.map((u) => BigInt(u.activeDays)),
    (i) => usage[i]!.pack,
  );
}

/** A pack named twice in one family's usage (a handful of packs: pairwise beats a Set). */
function repeatedPack(usage: ReadonlyArray<{ pack: string }>): string | undefined {
  if (usage.length > 16) {
    const seen = new Set<string>();
    for (const u of usage) {
      if (seen.has(u.pack)) return u.pack;
      seen.add(u.pack);
    }
    return undefined;
  }
  for (let i = 1; i < usage.length; i++) for (let j = 0; j < i; j++) if (usage[i]!.pack === usage[j]!.pack) return usage[i]!.pack;
  return undefined;
}

export class MonthAllocator {
  /** M_f of the families not yet seen using a pack: what is left at the end is the idle pool. */
  private readonly remaining: Map<string, bigint>;
  private readonly recognisedMinor: bigint;
  private readonly subscribed: number;
  private readonly packs = new Map<string, PackAcc>();
  private lastFamily: string | undefined;
  private active = 0;
  private activeDays = 0;
  private byUse = 0n;
  private finished = false;
  /**
   * Σ |M_f| ≤ 2^53 − 1: then every family's shares, and every running sum of them per pack,
   * are integers a double holds exactly, so a family whose |M_f| × U_f fits too is split in
   * Number arithmetic (largestRemainderSharesSafe, the same shares as the BigInt split).
   * Otherwise, and for any family past the bound, BigInt.
   */
  private readonly safe: boolean;

  /**
   * `recognised`: M_f per family for the month. The allocator takes the map and empties it
   * as families are fed (a month holds one entry per subscribed family: no copy is made);
   * `allocateMonth` copies it for callers that keep theirs.
   */
  constructor(
    private readonly period: Period,
    recognised: Map<string, bigint>,
  ) {
    let total = 0n;
    let abs = 0n;
    for (const amount of recognised.values()) {
      total += amount;
      abs += amount < 0n ? -amount : amount;
    }
    this.recognisedMinor = total;
    this.safe = abs <= BigInt(Number.MAX_SAFE_INTEGER);
    this.subscribed = recognised.size;
    this.remaining = recognised;
  }

  /** One family's usage for the month: all of its packs at once; families in code-point order. */
  addFamily(family: string, usage: ReadonlyArray<{ pack: string; activeDays: number }>): void {
    if (this.finished) throw new Error('allocator already finished');
    if (this.lastFamily !== undefined && compareCodePoints(this.lastFamily, family) >= 0) {
      throw new RangeError('families must be added once each, in code-point order');
    }
    this.lastFamily = family;
    let total = 0;
    for (const u of usage) {
      if (!Number.isSafeInteger(u.activeDays) || u.activeDays <= 0) throw new RangeError(`active days must be a positive integer (${u.pack})`);
      total += u.activeDays;
    }
    const twice = repeatedPack(usage);
    if (twice !== undefined) throw new RangeError(`pack ${twice} listed twice for one family`);
    if (total === 0) return; // no usage: the family stays idle
    this.active += 1;
    this.activeDays += total;
    const amount = this.remaining.get(family);
    let shares: bigint[] | undefined;
    let safeShares: number[] | undefined;
    if (amount !== undefined) {
      this.remaining.delete(family);
      this.byUse += amount;
      if (amount !== 0n) {
        if (this.safe) {
          safeShares = usage.length === 1 ? [Number(amount)] : largestRemainderSharesSafe(Number(amount), usage.map((u) => u.activeDays), (i) => usage[i]!.pack);
        }
        if (!safeShares) shares = splitByDays(amount, usage);
      }
    }
    for (let i = 0; i < usage.length; i++) {
      const u = usage[i]!;
      let acc = this.packs.get(u.pack);
      if (!acc) this.packs.set(u.pack, (acc = { families: 0, activeDays: 0, fromUse: 0n, fromUseSafe: 0, fromPool: 0n }));
      acc.families += 1;
      acc.activeDays += u.activeDays;
      if (safeShares) acc.fromUseSafe += safeShares[i]!;
      else if (shares) acc.fromUse += shares[i]!;
    }
  }

  finish(): MonthAllocation {
    if (this.finished) throw new Error('allocator already finished');
    this.finished = true;
    let pool = 0n;
    for (const amount of this.remaining.values()) pool += amount;
    const idle = this.remaining.size;
    let unallocated = 0n;
    if (this.packs.size === 0) unallocated = pool;
    else if (pool !== 0n) {
      const shares = allocateLargestRemainder(
        pool,
        [...this.packs].map(([pack, acc]) => ({ key: pack, weight: BigInt(acc.activeDays) })),
      );
      for (const [pack, share] of shares) this.packs.get(pack)!.fromPool += share;
    }
    const packs: PackSubscription[] = [...this.packs]
      .sort((a, b) => compareCodePoints(a[0], b[0]))
      .map(([pack, acc]) => ({
        pack,
        families: acc.families,
        activeDays: acc.activeDays,
        fromUseMinor: acc.fromUse + BigInt(acc.fromUseSafe),
        fromPoolMinor: acc.fromPool,
        netMinor: acc.fromUse + BigInt(acc.fromUseSafe) + acc.fromPool,
      }));
    const allocated = packs.reduce((s, p) => s + p.netMinor, 0n);
    const result: MonthAllocation = {
      period: this.period,
      recognisedMinor: this.recognisedMinor,
      allocatedMinor: allocated,
      allocatedByUseMinor: this.byUse,
      idlePooledMinor: pool,
      unallocatedMinor: unallocated,
      families: { subscribed: this.subscribed, active: this.active, idle },
      activeDays: this.activeDays,
      packs,
    };
    checkAllocation(result);
    return result;
  }
}

/** §14.4 and the identities behind it; throws AllocationError on any difference. */
export function checkAllocation(a: MonthAllocation): void {
  const fail = (what: string, x: bigint, y: bigint) => {
    if (x !== y) throw new AllocationError(`${what}: ${x} ≠ ${y} (difference ${x - y} cents)`);
  };
  const nets = a.packs.reduce((s, p) => s + p.netMinor, 0n);
  fail('Σ recognised = Σ pack subscription nets + unallocated', a.recognisedMinor, nets + a.unallocatedMinor);
  fail('Σ pack subscription nets = allocated', nets, a.allocatedMinor);
  fail('recognised = allocated by use + idle pooled', a.recognisedMinor, a.allocatedByUseMinor + a.idlePooledMinor);
  fail('Σ from use = allocated by use', a.packs.reduce((s, p) => s + p.fromUseMinor, 0n), a.allocatedByUseMinor);
  fail('Σ from pool + unallocated = idle pooled', a.packs.reduce((s, p) => s + p.fromPoolMinor, 0n) + a.unallocatedMinor, a.idlePooledMinor);
}

/** The whole month at once: groups usage by family and feeds the allocator in order. */
export function allocateMonth(period: Period, recognised: ReadonlyMap<string, bigint>, usage: readonly UsageRecord[]): MonthAllocation {
  const byFamily = new Map<string, Array<{ pack: string; activeDays: number }>>();
  for (const u of usage) {
    let list = byFamily.get(u.family);
    if (!list) byFamily.set(u.family, (list = []));
    list.push({ pack: u.pack, activeDays: u.activeDays });
  }
  const allocator = new MonthAllocator(period, new Map(recognised));
  for (const family of [...byFamily.keys()].sort(compareCodePoints)) allocator.addFamily(family, byFamily.get(family)!);
  return allocator.finish();
}
