// Builds EngineInput values for the hand-worked engine tests.
import type { CollaborationDef, CreatorActivity, EngineInput, TierDef, TxGroup } from '../../src/payouts/engine.js';

export const ROADMAP: TierDef[] = [
  { name: 'Bronze', minPacks: 1, minRating: '4.00', minUnits: 10, minMonths: 1, sharePercent: '70.00', bonusThreshold: null, bonusMinor: null },
  { name: 'Silver', minPacks: 5, minRating: '4.20', minUnits: 50, minMonths: 3, sharePercent: '72.50', bonusThreshold: 100, bonusMinor: 5000n },
  { name: 'Gold', minPacks: 15, minRating: '4.50', minUnits: 150, minMonths: 6, sharePercent: '75.00', bonusThreshold: 250, bonusMinor: 15000n },
  { name: 'Platinum', minPacks: 30, minRating: '4.70', minUnits: 500, minMonths: 12, sharePercent: '80.00', bonusThreshold: 500, bonusMinor: 50000n },
];

export function sale(product: string, currency: string, gross: number, fee = 0, tax = 0, count = 1): TxGroup {
  return tx('sale', product, currency, gross, fee, tax, count);
}

export function refund(product: string, currency: string, gross: number, fee = 0, tax = 0, count = 1, completes = true): TxGroup {
  return { ...tx('refund', product, currency, gross, fee, tax, count), completes };
}

function tx(kind: 'sale' | 'refund', product: string, currency: string, gross: number, fee: number, tax: number, count: number): TxGroup {
  const [k, slug] = product.startsWith('bundle:') ? (['bundle', product.slice(7)] as const) : (['pack', product] as const);
  return { kind, product: { kind: k, slug }, currency, grossMinor: BigInt(gross), feeMinor: BigInt(fee), taxMinor: BigInt(tax), count };
}

/** A creator that meets Bronze only (1 pack, rating 4.5, 1 month) unless overridden. */
export const BRONZE_ACTIVITY: CreatorActivity = { packsPublished: 1, ratingSum: 9, ratingCount: 2, monthsActive: 1 };

export function input(over: {
  period?: string;
  transactions: TxGroup[];
  packs: Record<string, string>;
  rates?: Record<string, string>;
  bundles?: Record<string, Record<string, number>>;
  collaborations?: Record<string, CollaborationDef>;
  activity?: Record<string, CreatorActivity>;
  carriedIn?: Record<string, number>;
  minimumMinor?: number;
  tiers?: TierDef[];
}): EngineInput {
  const creators = new Map<string, { name?: string }>();
  for (const owner of Object.values(over.packs)) if (!over.collaborations?.[owner]) creators.set(owner, {});
  for (const c of Object.values(over.collaborations ?? {})) for (const m of c.members) creators.set(m.creator, {});
  return {
    period: over.period ?? '2026-10',
    transactions: over.transactions,
    rates: new Map(Object.entries(over.rates ?? {})),
    bundles: new Map(
      Object.entries(over.bundles ?? {}).map(([slug, items]) => [
        slug,
        { items: Object.entries(items).map(([pack, price]) => ({ pack, priceMinor: BigInt(price) })) },
      ]),
    ),
    packs: new Map(Object.entries(over.packs).map(([slug, owner]) => [slug, { owner }])),
    collaborations: new Map(Object.entries(over.collaborations ?? {})),
    creators,
    tiers: over.tiers ?? ROADMAP,
    activity: new Map(Object.entries(over.activity ?? {})),
    carriedIn: new Map(Object.entries(over.carriedIn ?? {}).map(([k, v]) => [k, BigInt(v)])),
    minimumMinor: BigInt(over.minimumMinor ?? 1000),
  };
}
