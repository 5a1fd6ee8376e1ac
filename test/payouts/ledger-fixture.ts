// Writes small ledgers through the ledger's own Kysely schema (LedgerDB), for loader,
// close and spawned-CLI tests.
import { openLedger, type Ledger } from '../../src/ledger/db.js';

export interface SaleSpec {
  id: string;
  at: string;
  product: string; // pack slug, or "bundle:<slug>"
  currency?: string;
  gross: number;
  fee?: number;
  tax?: number;
  refundOf?: string;
  store?: 'appstore' | 'googleplay' | 'web';
}

export interface LedgerSpec {
  creators: string[];
  collaborations?: Array<{ id: string; lead: string; members: Record<string, number> }>;
  packs: Array<{ slug: string; owner: string; price: number; publishedAt: string; version?: string }>;
  bundles?: Array<{ slug: string; items: Record<string, number> }>;
  sales?: SaleSpec[];
  refunds?: SaleSpec[];
  reviews?: Array<{ pack: string; rating: number; at: string }>;
  rates?: Array<[currency: string, month: string, usdPerUnit: string]>;
}

const NOW = '2026-11-01T00:00:00.000Z';

export async function writeLedger(location: string, spec: LedgerSpec): Promise<Ledger> {
  const ledger = await openLedger(location);
  await addToLedger(ledger, spec);
  return ledger;
}

export async function addToLedger(ledger: Ledger, spec: Partial<LedgerSpec>): Promise<void> {
  const db = ledger.db;
  const collabIds = new Set((spec.collaborations ?? []).map((c) => c.id));
  const existingCollabs = new Set((await db.selectFrom('collaborations').select('id').execute()).map((r) => r.id));
  await db.transaction().execute(async (trx) => {
    for (const id of spec.creators ?? []) {
      await trx.insertInto('creators').values({ id, name: id.split('-').map((w) => w[0]!.toUpperCase() + w.slice(1)).join(' '), payout_ref: null, created_at: NOW, updated_at: NOW }).execute();
    }
    for (const c of spec.collaborations ?? []) {
      await trx.insertInto('collaborations').values({ id: c.id, name: c.id, lead_id: c.lead, created_at: NOW, updated_at: NOW }).execute();
      for (const [creator, bp] of Object.entries(c.members)) {
        await trx
          .insertInto('collaboration_members')
          .values({ collaboration_id: c.id, creator_id: creator, share_bp: bp, share_percent: `${Math.trunc(bp / 100)}.${String(bp % 100).padStart(2, '0')}` })
          .execute();
      }
    }
    for (const p of spec.packs ?? []) {
      await trx
        .insertInto('packs')
        .values({
          slug: p.slug,
          version: p.version ?? '1.0.0',
          name: p.slug,
          category: 'characters',
          subcategory: null,
          tags: '[]',
          price_minor: p.price,
          currency: 'USD',
          markets: '{}',
          owner_id: p.owner,
          owner_kind: collabIds.has(p.owner) || existingCollabs.has(p.owner) ? 'collaboration' : 'creator',
          appstore_product_id: null,
          googleplay_product_id: null,
          web_product_id: null,
          available_from: null,
          available_until: null,
          archive_sha256: '0'.repeat(64),
          archive_path: `dist/${p.slug}.zip`,
          archive_bytes: 1,
          manifest: '{}',
          published_at: p.publishedAt,
        })
        .execute();
    }
    for (const b of spec.bundles ?? []) {
      const total = Object.values(b.items).reduce((s, x) => s + x, 0);
      await trx
        .insertInto('bundles')
        .values({ slug: b.slug, name: b.slug, kind: 'custom', season: null, price_minor: total, currency: 'USD', individual_total_minor: total, discount: null, charm: 0, savings_percent: '0.0', available_from: null, available_until: null, created_at: NOW })
        .execute();
      let position = 0;
      for (const [pack, price] of Object.entries(b.items)) {
        await trx.insertInto('bundle_items').values({ bundle_slug: b.slug, pack_slug: pack, price_minor: price, position: position++ }).execute();
      }
    }
    const rows = [...(spec.sales ?? []).map((s) => ({ s, kind: 'sale' as const })), ...(spec.refunds ?? []).map((s) => ({ s, kind: 'refund' as const }))];
    for (const { s, kind } of rows) {
      const bundle = s.product.startsWith('bundle:') ? s.product.slice(7) : null;
      const at = new Date(s.at).toISOString();
      await trx
        .insertInto('sales')
        .values({
          store: s.store ?? 'appstore',
          transaction_id: s.id,
          kind,
          occurred_at: at,
          month: at.slice(0, 7),
          product: bundle ?? s.product,
          product_kind: bundle ? 'bundle' : 'pack',
          pack_slug: bundle ? null : s.product,
          bundle_slug: bundle,
          country: 'US',
          currency: s.currency ?? 'USD',
          gross_minor: s.gross,
          store_fee_minor: s.fee ?? 0,
          tax_minor: s.tax ?? 0,
          consent_ref: kind === 'sale' ? 'consent' : null,
          family_hmac: null,
          refund_of: kind === 'refund' ? (s.refundOf ?? null) : null,
          batch_id: 'test',
        })
        .execute();
    }
    let n = 0;
    for (const r of spec.reviews ?? []) {
      const at = new Date(r.at).toISOString();
      await trx
        .insertInto('reviews')
        .values({ review_id: `rv-${Date.now()}-${n++}-${r.pack}`, pack_slug: r.pack, rating: r.rating, reviewed_at: at, month: at.slice(0, 7), batch_id: 'test' })
        .execute();
    }
    for (const [currency, month, usd] of spec.rates ?? []) {
      await trx.insertInto('fx_rates').values({ currency, month, usd_per_unit: usd, batch_id: 'test' }).execute();
    }
  });
}

/** A three-month story: a collaboration, a bundle, GBP and JPY, partial and completing refunds. */
export const STORY: LedgerSpec = {
  creators: ['ana-lima', 'bo-chen', 'caro-diaz'],
  collaborations: [{ id: 'ocean-team', lead: 'ana-lima', members: { 'ana-lima': 5000, 'bo-chen': 3000, 'caro-diaz': 2000 } }],
  packs: [
    { slug: 'forest-scenes', owner: 'ana-lima', price: 399, publishedAt: '2026-05-15T09:00:00Z' },
    { slug: 'ocean-creatures', owner: 'ocean-team', price: 499, publishedAt: '2026-06-01T09:00:00Z' },
    { slug: 'counting-garden', owner: 'bo-chen', price: 299, publishedAt: '2026-07-01T09:00:00Z' },
    { slug: 'winter-wonders', owner: 'ana-lima', price: 199, publishedAt: '2026-11-20T09:00:00Z' },
  ],
  bundles: [{ slug: 'starter', items: { 'ocean-creatures': 499, 'forest-scenes': 399, 'counting-garden': 299 } }],
  rates: [
    ['GBP', '2026-09', '1.25'],
    ['GBP', '2026-10', '1.2710'],
    ['JPY', '2026-10', '0.0067'],
  ],
  sales: [
    { id: 's-09-1', at: '2026-09-03T10:00:00Z', product: 'forest-scenes', gross: 399, fee: 120 },
    { id: 's-09-2', at: '2026-09-04T10:00:00Z', product: 'ocean-creatures', currency: 'GBP', gross: 449, fee: 135, tax: 75 },
    { id: 's-09-3', at: '2026-09-30T23:59:59Z', product: 'bundle:starter', gross: 999, fee: 300 },
    { id: 's-10-1', at: '2026-10-01T00:00:00Z', product: 'ocean-creatures', gross: 499, fee: 150 },
    { id: 's-10-2', at: '2026-10-02T08:00:00+02:00', product: 'ocean-creatures', currency: 'JPY', gross: 750, fee: 225 },
    { id: 's-10-3', at: '2026-10-10T12:00:00Z', product: 'bundle:starter', currency: 'GBP', gross: 899, fee: 270, tax: 150 },
    { id: 's-10-4', at: '2026-10-11T12:00:00Z', product: 'counting-garden', gross: 299, fee: 90 },
    { id: 's-10-5', at: '2026-10-12T12:00:00Z', product: 'forest-scenes', gross: 399, fee: 120 },
  ],
  refunds: [
    // A partial refund in October (no unit), completed in November (a unit then).
    { id: 'r-10-1', at: '2026-10-20T12:00:00Z', product: 'counting-garden', gross: 100, fee: 30, refundOf: 's-10-4' },
    // The September bundle refunded in full in October.
    { id: 'r-10-2', at: '2026-10-21T12:00:00Z', product: 'bundle:starter', gross: 999, fee: 300, refundOf: 's-09-3' },
  ],
  reviews: [
    { pack: 'forest-scenes', rating: 5, at: '2026-09-10T00:00:00Z' },
    { pack: 'ocean-creatures', rating: 4, at: '2026-10-31T23:59:59Z' },
    { pack: 'counting-garden', rating: 3, at: '2026-11-01T00:00:00Z' },
  ],
};
