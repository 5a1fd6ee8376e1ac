/** The shipped fixtures (fixtures/ledger/*.csv, the fixture packs) as oracle input, read straight from the files. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES } from '../../helpers/cli.js';
import type { OInput } from './oracle.js';

const PACKS = ['counting-garden', 'forest-scenes', 'ocean-creatures', 'winter-wonders'];

function rows(file: string): Array<Record<string, string>> {
  const [head, ...lines] = readFileSync(join(FIXTURES, 'ledger', file), 'utf8').trim().split(/\r?\n/);
  const cols = head!.split(',');
  return lines.map((l) => Object.fromEntries(l.split(',').map((v, i) => [cols[i]!, v])));
}

/** The fixtures released at `publishedAt`, with the starter bundle over ocean 499, forest 399, counting 299. */
export function fixturesInput(publishedAt: string): OInput {
  const creators = JSON.parse(readFileSync(join(FIXTURES, 'ledger', 'creators.json'), 'utf8'));
  const manifests = PACKS.map((p) => JSON.parse(readFileSync(join(FIXTURES, 'packs', p, 'pack.json'), 'utf8')));
  const product = new Map<string, string>();
  for (const m of manifests) {
    product.set(m.slug, m.slug);
    for (const id of Object.values(m.storeProductIds ?? {})) product.set(id as string, m.slug);
  }
  product.set('starter-bundle', 'starter-bundle');
  return {
    creators: creators.creators.map((c: { id: string }) => c.id),
    collaborations: creators.collaborations.map((c: any) => ({ id: c.id, lead: c.lead, members: c.members.map((m: any) => ({ creator: m.creator, percent: m.sharePercent })) })),
    packs: manifests.map((m) => ({ slug: m.slug, owner: m.creator, publishedAt })),
    bundles: [{ slug: 'starter-bundle', items: [{ pack: 'ocean-creatures', priceMinor: 499 }, { pack: 'forest-scenes', priceMinor: 399 }, { pack: 'counting-garden', priceMinor: 299 }] }],
    transactions: rows('sales-2026-10.csv').map((r) => ({
      store: r.store!,
      id: r.transaction_id!,
      kind: r.kind as 'sale' | 'refund',
      occurredAt: r.occurred_at!,
      product: product.get(r.product!)!,
      currency: r.currency!,
      gross: Number(r.gross_minor),
      fee: Number(r.store_fee_minor),
      tax: Number(r.tax_minor),
      ...(r.refund_of ? { refundOf: r.refund_of } : {}),
    })),
    reviews: rows('reviews.csv').map((r) => ({ pack: r.pack!, rating: Number(r.rating), reviewedAt: r.reviewed_at! })),
    rates: rows('rates.csv').map((r) => ({ currency: r.currency!, month: r.month!, usdPerUnit: r.usd_per_unit! })),
  };
}
