/**
 * §9.9, enforced: Σ net = Σ creator shares + Σ platform shares to the cent, statements sum
 * to the totals, every balance adds up. Any difference is a bug and stops the report.
 */
import type { OwnerResult, PayoutTotals, Statement, SubscriptionSummary, SubscriptionTieOut, TieOut } from './types.js';

/** A broken invariant is a bug, never a silent report: exit 70. */
export class TieOutError extends Error {
  constructor(message: string) {
    super(`tie-out failed: ${message}`);
    this.name = 'TieOutError';
  }
}

/** §9.9, enforced: any difference is a bug and stops the report. */
export function checkTieOut(
  owners: readonly OwnerResult[],
  statements: readonly Statement[],
  totals: PayoutTotals,
  carriedIn: ReadonlyMap<string, bigint>,
): TieOut {
  const fail = (what: string, a: bigint, b: bigint) => {
    if (a !== b) throw new TieOutError(`${what}: ${a} ≠ ${b} (difference ${a - b} cents)`);
  };
  const linesNet = owners.reduce((s, o) => s + [...o.lines, ...o.subscriptionLines].reduce((t, l) => t + l.netUsdMinor, 0n), 0n);
  fail('Σ transaction nets + Σ subscription nets = Σ pack-line nets', totals.netMinor, linesNet);
  const subscriptionNet = owners.reduce((s, o) => s + o.subscriptionLines.reduce((t, l) => t + l.netUsdMinor, 0n), 0n);
  fail('Σ owners\' subscription lines = the month\'s subscription nets', subscriptionNet, totals.subscriptionNetMinor);
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

export const NO_SUBSCRIPTIONS: SubscriptionSummary = {
  recognisedMinor: 0n,
  allocatedMinor: 0n,
  allocatedByUseMinor: 0n,
  idlePooledMinor: 0n,
  unallocatedMinor: 0n,
  families: { subscribed: 0, active: 0, idle: 0 },
  activeDays: 0,
  transactions: { sales: 0, refunds: 0 },
};

/** §14.4, added to §9.9: Σ recognised = Σ pack subscription nets + unallocated, to the cent. */
export function checkSubscriptions(s: SubscriptionSummary, totals: PayoutTotals): SubscriptionSummary & { tieOut: SubscriptionTieOut } {
  const fail = (what: string, a: bigint, b: bigint) => {
    if (a !== b) throw new TieOutError(`${what}: ${a} ≠ ${b} (difference ${a - b} cents)`);
  };
  fail('Σ pack subscription nets in statements = allocated', totals.subscriptionNetMinor, s.allocatedMinor);
  fail('Σ recognised = Σ pack subscription nets + unallocated', s.recognisedMinor, totals.subscriptionNetMinor + s.unallocatedMinor);
  fail('recognised = allocated by use + idle pooled', s.recognisedMinor, s.allocatedByUseMinor + s.idlePooledMinor);
  return {
    ...s,
    tieOut: { ok: true, recognisedMinor: s.recognisedMinor, packNetsMinor: totals.subscriptionNetMinor, unallocatedMinor: s.unallocatedMinor },
  };
}
