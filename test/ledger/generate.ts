/**
 * Generated sales files for the reliability tests and the benchmark: deterministic rows
 * over the fixture packs (store product ids, slugs, the starter bundle), three currencies,
 * and a full refund of every 50th sale, so every rule runs on every row.
 */
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';

export const SALES_HEADER =
  'transaction_id,occurred_at,store,kind,product,country,currency,gross_minor,store_fee_minor,tax_minor,consent_ref,family_ref,refund_of';

const PRODUCTS = [
  { store: 'appstore', product: 'com.wondernest.pack.ocean' },
  { store: 'googleplay', product: 'pack_forest' },
  { store: 'googleplay', product: 'pack_counting' },
  { store: 'web', product: 'ocean-creatures' },
  { store: 'appstore', product: 'com.wondernest.pack.forest' },
  { store: 'web', product: 'starter-bundle' },
] as const;
const MARKETS = [
  { country: 'US', currency: 'USD', gross: 499, fee: 150, tax: 0 },
  { country: 'GB', currency: 'GBP', gross: 449, fee: 112, tax: 75 },
  { country: 'JP', currency: 'JPY', gross: 750, fee: 225, tax: 68 },
] as const;

/** The i-th row (0-based) of a generated month; `prefix` keeps transaction ids apart between files. */
export function salesRow(i: number, prefix = 't'): string {
  const p = PRODUCTS[i % PRODUCTS.length]!;
  const m = MARKETS[i % MARKETS.length]!;
  const second = Math.floor((i * 2.5) % (30 * 86400));
  const at = new Date(Date.UTC(2026, 9, 1) + second * 1000).toISOString().replace('.000Z', 'Z');
  if (i % 50 === 49) {
    // A full refund of the sale 49 rows earlier, later in the month than the sale.
    const j = i - 49;
    const s = PRODUCTS[j % PRODUCTS.length]!;
    const sm = MARKETS[j % MARKETS.length]!;
    const refundAt = new Date(Date.UTC(2026, 9, 1) + (Math.floor((j * 2.5) % (30 * 86400)) + 60) * 1000).toISOString().replace('.000Z', 'Z');
    return `${prefix}${i},${refundAt},${s.store},refund,${s.product},${sm.country},${sm.currency},${sm.gross},${sm.fee},${sm.tax},,fam-${j % 5000},${prefix}${j}`;
  }
  return `${prefix}${i},${at},${p.store},sale,${p.product},${m.country},${m.currency},${m.gross},${m.fee},${m.tax},vpc-${i},fam-${i % 5000},`;
}

/** Writes `rows` generated rows (plus the header) to `path`. */
export async function writeSalesFile(path: string, rows: number, options: { prefix?: string; start?: number } = {}): Promise<void> {
  const out = createWriteStream(path);
  out.write(`${SALES_HEADER}\n`);
  const start = options.start ?? 0;
  let buf = '';
  for (let i = start; i < start + rows; i++) {
    buf += `${salesRow(i, options.prefix)}\n`;
    if (buf.length > 1 << 16) {
      if (!out.write(buf)) await once(out, 'drain');
      buf = '';
    }
  }
  out.end(buf);
  await once(out, 'finish');
}
