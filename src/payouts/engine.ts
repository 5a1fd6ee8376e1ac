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
  roundHalfEven,
  type Rational,
} from '../shared/money.js';
import { isPeriod } from '../shared/period.js';
import { assessTiersFromUnits, exactDecimal, unitDelta, unitsByPack } from './tiers.js';
import { checkSubscriptions, checkTieOut, NO_SUBSCRIPTIONS } from './tieout.js';
import type { EngineInput, EngineResult, OwnerResult, PackLine, PayoutTotals, Product, Statement, SubscriptionLine } from './types.js';

export type * from './types.js';

/** USD cents of one transaction's net: `net × rate × 100 / 10^exponent`, half to even, once. */
export function convertToUsdCents(netMinor: bigint, currency: string, rate: Rational): bigint {
  const exponent = minorUnitExponent(currency);
  if (exponent === undefined) throw inputError('CURRENCY', `${currency} is not an ISO 4217 currency code.`);
  return roundHalfEven(netMinor * rate.num * 100n, rate.den * 10n ** BigInt(exponent));
}

/** `amount × percent / 100`, half to even; `percent` is an exact decimal string. */
export function applyPercent(amountMinor: bigint, percent: string): bigint {
  const p = exactDecimal(percent, 'percentage');
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
  return { text, value: exactDecimal(text, `rate of ${currency} for ${input.period}`) };
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


/** Runs §9 for one month. Throws PackopsError for bad input, TieOutError for a broken invariant. */
export function computePayouts(input: EngineInput): EngineResult {
  if (!isPeriod(input.period)) throw new RangeError(`not a period: ${input.period}`);
  // §9.1–9.3: per-transaction USD nets, split to packs, gathered into lines.
  const lines = new Map<string, PackLine>();
  let totalNet = 0n;
  let transactions = 0;
  const packUnits = unitsByPack(input);
  const rates = new Map<string, ReturnType<typeof rateFor>>();
  for (const g of input.transactions) {
    if (g.count <= 0) continue;
    let rate = rates.get(g.currency);
    if (!rate) rates.set(g.currency, (rate = rateFor(input, g.currency)));
    const sign = g.kind === 'refund' ? -1n : 1n;
    const count = BigInt(g.count);
    const netOne = sign * (g.netMinor ?? g.grossMinor - g.feeMinor - g.taxMinor);
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
      if (g.netMinor !== undefined) line.amountsUnknown = true;
      else {
        line.grossMinor += sign * g.grossMinor * count;
        line.feesMinor += sign * g.feeMinor * count;
        line.taxMinor += sign * g.taxMinor * count;
      }
      line.netMinor += netOne * count;
      line.netUsdMinor += part.cents * count;
    }
  }

  // §9.4: owners and their nets; §14: a pack's subscription net joins its owner's.
  const byOwner = new Map<string, PackLine[]>();
  for (const line of lines.values()) {
    const owner = input.packs.get(line.pack)!.owner;
    let list = byOwner.get(owner);
    if (!list) byOwner.set(owner, (list = []));
    list.push(line);
  }
  const subsByOwner = subscriptionLinesByOwner(input);
  for (const owner of subsByOwner.keys()) if (!byOwner.has(owner)) byOwner.set(owner, []);

  const { tierOf, memberOf } = assessTiersFromUnits(input, packUnits);

  // §9.6: creator share per owner, rounded once; collaboration splits.
  const owners: OwnerResult[] = [];
  for (const owner of [...byOwner.keys()].sort(compareCodePoints)) {
    const ownerLines = byOwner.get(owner)!.sort(compareLines);
    const subscriptionLines = subsByOwner.get(owner) ?? [];
    const netMinor = [...ownerLines, ...subscriptionLines].reduce((s, l) => s + l.netUsdMinor, 0n);
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
      subscriptionLines,
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
    const own = ownResult
      ? { lines: ownResult.lines, subscriptionLines: ownResult.subscriptionLines, netMinor: ownResult.netMinor, shareMinor: ownResult.creatorShareMinor }
      : null;
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
        subscriptionLines: o.subscriptionLines,
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
  const subscriptionNet = sum(input.subscriptions?.lines ?? [], (l) => l.netUsdMinor);
  const totals: PayoutTotals = {
    transactions,
    netMinor: totalNet + subscriptionNet,
    subscriptionNetMinor: subscriptionNet,
    creatorShareMinor: sum(owners, (o) => o.creatorShareMinor),
    platformShareMinor: sum(owners, (o) => o.platformShareMinor),
    bonusMinor: sum(statements, (s) => s.bonusMinor),
    carriedInMinor: sum(statements, (s) => s.carriedInMinor),
    payoutMinor: sum(statements, (s) => s.payoutMinor),
    carriedOutMinor: sum(statements, (s) => s.carriedOutMinor),
  };
  const tieOut = checkTieOut(owners, statements, totals, input.carriedIn);
  const subscriptions = checkSubscriptions(input.subscriptions?.summary ?? NO_SUBSCRIPTIONS, totals);
  return {
    period: input.period,
    currency: 'USD',
    minimumMinor: input.minimumMinor,
    owners,
    tiers: [...tierOf.values()],
    statements,
    totals,
    tieOut,
    subscriptions,
  };
}

/** §14.3: each owner's subscription lines (packs by slug); a pack without an owner is bad input. */
function subscriptionLinesByOwner(input: EngineInput): Map<string, SubscriptionLine[]> {
  const byOwner = new Map<string, SubscriptionLine[]>();
  for (const line of [...(input.subscriptions?.lines ?? [])].sort((a, b) => compareCodePoints(a.pack, b.pack))) {
    const owner = input.packs.get(line.pack)?.owner;
    if (owner === undefined) {
      throw inputError('ROW_PRODUCT_UNKNOWN', `Pack ${line.pack} has subscription usage but is not in the catalog, so its money has no owner.`, {
        details: { pack: line.pack },
      });
    }
    let list = byOwner.get(owner);
    if (!list) byOwner.set(owner, (list = []));
    list.push(line);
  }
  return byOwner;
}
