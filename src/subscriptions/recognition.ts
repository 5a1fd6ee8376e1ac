/**
 * Recognition (PRODUCT.md §14): which month a subscription's money counts in. Pure
 * functions over plain records; every amount is a BigInt count of USD cents, already
 * converted per transaction as §9.1 says (the caller converts; this module never sees a
 * rate).
 *
 * - A monthly plan's net counts in the month of its charge.
 * - An annual plan's net is spread over 12 calendar months from the charge month: each
 *   gets ⌊net / 12⌋ and the first `net mod 12` months one cent more.
 * - A refund in month k cancels the schedule's months from k on; month k recognises the
 *   cancelled amounts minus the refund's net. A second refund finds nothing left to cancel.
 *   A monthly plan's refund simply recognises −(its net) in k.
 *
 * Over a charge's life the recognised amounts sum to its net minus its refunds' nets.
 */
import { periodFromIndex, periodIndex, type Period } from '../shared/period.js';

export type PlanMonths = 1 | 12;

export interface RefundRecord {
  /** Traceable id of the refund row (e.g. "appstore:R-1"). */
  id: string;
  /** The month the refund happened in (UTC). */
  month: Period;
  /** The refund's USD net in cents as the amount reversed: gross − fee − tax of the refund row, converted. */
  netMinor: bigint;
}

export interface ChargeRecord {
  /** Traceable id of the sale row (e.g. "appstore:S-1"). */
  id: string;
  /** The family the money belongs to (the HMAC of its family_ref; never the raw value). */
  family: string;
  plan: string;
  months: PlanMonths;
  /** The month of the charge (UTC). */
  month: Period;
  /** The sale's USD net in cents (§9.1). */
  netMinor: bigint;
  refunds: readonly RefundRecord[];
}

/** Floor division and its non-negative remainder (BigInt `/` truncates towards zero). */
function floorDivMod(a: bigint, b: bigint): { q: bigint; r: bigint } {
  let q = a / b;
  let r = a % b;
  if (r < 0n) {
    q -= 1n;
    r += b;
  }
  return { q, r };
}

/** The 12 monthly amounts of an annual net: ⌊net/12⌋ each, the first `net mod 12` one cent more. */
export function annualSchedule(netMinor: bigint): bigint[] {
  const { q, r } = floorDivMod(netMinor, 12n);
  return Array.from({ length: 12 }, (_v, i) => (BigInt(i) < r ? q + 1n : q));
}

/** The schedule amount of month `i` (0-based from the charge month) without building the array. */
function annualAmount(netMinor: bigint, i: number): bigint {
  const { q, r } = floorDivMod(netMinor, 12n);
  return BigInt(i) < r ? q + 1n : q;
}

/** Σ of the schedule from month `from` (0-based) to the end. */
function annualFrom(netMinor: bigint, from: number): bigint {
  if (from >= 12) return 0n;
  const start = Math.max(0, from);
  const { q, r } = floorDivMod(netMinor, 12n);
  const extra = r > BigInt(start) ? r - BigInt(start) : 0n;
  return q * BigInt(12 - start) + extra;
}

function checkRefunds(charge: ChargeRecord, chargeIndex: number): number | undefined {
  let first: number | undefined;
  for (const r of charge.refunds) {
    const k = periodIndex(r.month);
    if (k < chargeIndex) throw new RangeError(`refund ${r.id} (${r.month}) is dated before its charge ${charge.id} (${charge.month})`);
    if (first === undefined || k < first) first = k;
  }
  return first;
}

const NOT_LIVE: { readonly amountMinor: bigint; readonly live: boolean } = Object.freeze({ amountMinor: 0n, live: false });

/**
 * What `charge` recognises in `month` (any sign; 0 outside its life), and whether the month
 * is part of its life at all: its charge month, a month of an annual schedule not yet
 * cancelled, or the month of one of its refunds.
 */
export function recognition(charge: ChargeRecord, month: Period): { amountMinor: bigint; live: boolean } {
  const chargeIndex = periodIndex(charge.month);
  const m = periodIndex(month);
  if (charge.refunds.length === 0) {
    // Most charges: no refund, so only the charge month (monthly) or the schedule (annual).
    const i = m - chargeIndex;
    if (charge.months === 1) return i === 0 ? { amountMinor: charge.netMinor, live: true } : NOT_LIVE;
    return i >= 0 && i < 12 ? { amountMinor: annualAmount(charge.netMinor, i), live: true } : NOT_LIVE;
  }
  const firstRefund = checkRefunds(charge, chargeIndex);
  let amount = 0n;
  let live = false;
  for (const r of charge.refunds) {
    if (r.month === month) {
      amount -= r.netMinor;
      live = true;
    }
  }
  if (charge.months === 1) {
    if (m === chargeIndex) {
      amount += charge.netMinor;
      live = true;
    }
    return { amountMinor: amount, live };
  }
  const i = m - chargeIndex;
  if (i >= 0 && i < 12 && (firstRefund === undefined || m < firstRefund)) {
    amount += annualAmount(charge.netMinor, i);
    live = true;
  }
  // The first refund's month takes what it cancels; later refunds find nothing left.
  if (firstRefund !== undefined && m === firstRefund) amount += annualFrom(charge.netMinor, firstRefund - chargeIndex);
  return { amountMinor: amount, live };
}

export function recognisedIn(charge: ChargeRecord, month: Period): bigint {
  return recognition(charge, month).amountMinor;
}

/** Every month of a charge's life, in order, with what it recognises there. */
export function recognitionSchedule(charge: ChargeRecord): Array<{ month: Period; amountMinor: bigint }> {
  const chargeIndex = periodIndex(charge.month);
  const months = new Set<number>([chargeIndex]);
  if (charge.months === 12) for (let i = 1; i < 12; i++) months.add(chargeIndex + i);
  for (const r of charge.refunds) months.add(periodIndex(r.month));
  return [...months]
    .sort((a, b) => a - b)
    .map((m) => ({ month: periodFromIndex(m), ...recognition(charge, periodFromIndex(m)) }))
    .filter((x) => x.live)
    .map(({ month, amountMinor }) => ({ month, amountMinor }));
}

/**
 * The month's recognised amount per family (M_f of §14), summed over every charge given.
 * A family is listed when any of its charges is live in the month, even if its amounts
 * cancel to 0.
 */
export function recogniseMonth(month: Period, charges: Iterable<ChargeRecord>): Map<string, bigint> {
  const byFamily = new Map<string, bigint>();
  for (const c of charges) addRecognised(byFamily, c, month);
  return byFamily;
}

/** Adds one charge's amount for `month` to a per-family map (the streaming form of recogniseMonth). */
export function addRecognised(byFamily: Map<string, bigint>, charge: ChargeRecord, month: Period): bigint {
  const r = recognition(charge, month);
  if (r.live) byFamily.set(charge.family, (byFamily.get(charge.family) ?? 0n) + r.amountMinor);
  return r.amountMinor;
}
