/**
 * Builds ledgers through the real CLI (creators import, build + catalog add, bundles
 * create, ledger import rates|sales|reviews) from one plain description, which the oracle
 * reads too. A pool of signed archives is built once and registered in every ledger.
 */
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES, runCli, type RunResult } from '../../helpers/cli.js';
import type { OInput } from './oracle.js';

/** The pool: slug → [owner id named in pack.json, USD price]. Uneven prices on purpose. */
export const POOL: Array<{ slug: string; owner: string; price: number }> = [
  { slug: 'pk-a', owner: 'own-1', price: 499 },
  { slug: 'pk-b', owner: 'own-1', price: 399 },
  { slug: 'pk-c', owner: 'own-2', price: 299 },
  { slug: 'pk-d', owner: 'own-2', price: 199 },
  { slug: 'pk-e', owner: 'own-3', price: 999 },
  { slug: 'pk-f', owner: 'own-3', price: 150 },
  { slug: 'pk-g', owner: 'own-4', price: 333 },
  { slug: 'pk-h', owner: 'own-5', price: 1299 },
];

export interface Pool {
  dir: string;
  pub: string;
  zip: (slug: string) => string;
}

async function must(r: Promise<RunResult>, what: string): Promise<RunResult> {
  const res = await r;
  if (res.code !== 0) throw new Error(`${what} exited ${res.code}\n${res.stdout}\n${res.stderr}`);
  return res;
}

export async function buildPool(dir: string, pool = POOL): Promise<Pool> {
  await must(runCli(['keys', 'generate', '--unencrypted', '--out', join(dir, 'keys'), '--json']), 'keys generate');
  const base = JSON.parse(readFileSync(join(FIXTURES, 'packs', 'counting-garden', 'pack.json'), 'utf8'));
  const jobs = pool.map((p) => async () => {
    const src = join(dir, 'src', p.slug);
    mkdirSync(src, { recursive: true });
    cpSync(join(FIXTURES, 'packs', 'counting-garden', 'assets'), join(src, 'assets'), { recursive: true });
    const m = { ...base, slug: p.slug, name: `Pack ${p.slug}`, creator: p.owner, price: { amountMinor: p.price, currency: 'USD' } };
    delete m.storeProductIds;
    delete m.markets;
    delete m.availability;
    writeFileSync(join(src, 'pack.json'), JSON.stringify(m, null, 2));
    await must(runCli(['build', src, '--key', join(dir, 'keys', 'packops.key'), '--out', join(dir, 'dist'), '--json']), `build ${p.slug}`);
  });
  for (let i = 0; i < jobs.length; i += 3) await Promise.all(jobs.slice(i, i + 3).map((j) => j()));
  return { dir, pub: join(dir, 'keys', 'packops.pub'), zip: (slug) => join(dir, 'dist', `${slug}-1.0.0.zip`) };
}

export interface Scenario extends OInput {
  names?: Record<string, string>;
}

const SALES_HEADER = 'transaction_id,occurred_at,store,kind,product,country,currency,gross_minor,store_fee_minor,tax_minor,consent_ref,family_ref,refund_of';

export function csvCell(s: string): string {
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** Runs packops in `dir` against `dir/packops.db`, --json, and returns the parsed document. */
export function cliIn(dir: string) {
  const run = (args: string[]) => runCli([...args, '--json'], { cwd: dir, env: { PACKOPS_DB: join(dir, 'packops.db') } });
  const ok = async (args: string[]) => (await must(run(args), `packops ${args.join(' ')}`)).json();
  return { run, ok };
}

/** Imports everything in the scenario (creators, packs, bundles, rates, sales, reviews). */
export async function importScenario(dir: string, pool: Pool, s: Scenario, file = 'all'): Promise<void> {
  const { ok } = cliIn(dir);
  const creators = {
    creators: s.creators.map((id) => ({ id, name: s.names?.[id] ?? `Creator ${id}`, payoutRef: `acct-${id}` })),
    collaborations: s.collaborations.map((c) => ({ id: c.id, name: `Team ${c.id}`, lead: c.lead, members: c.members.map((m) => ({ creator: m.creator, sharePercent: m.percent })) })),
  };
  writeFileSync(join(dir, 'creators.json'), JSON.stringify(creators, null, 2));
  await ok(['creators', 'import', 'creators.json']);
  const byDate = new Map<string, string[]>();
  for (const p of s.packs) byDate.set(p.publishedAt, [...(byDate.get(p.publishedAt) ?? []), p.slug]);
  for (const [at, slugs] of byDate) await ok(['catalog', 'add', ...slugs.map(pool.zip), '--pubkey', pool.pub, '--published-at', at]);
  for (const b of s.bundles) await ok(['bundles', 'create', b.slug, '--name', `Bundle ${b.slug}`, '--packs', b.items.map((i) => i.pack).join(','), '--price', String(b.items.reduce((t, i) => t + i.priceMinor, 0) - 1)]);
  await importRows(dir, s, file);
}

/** Imports the scenario's rates, transactions and reviews (each as one file). */
export async function importRows(dir: string, s: Pick<OInput, 'rates' | 'transactions' | 'reviews'>, file: string): Promise<void> {
  const { ok } = cliIn(dir);
  if (s.rates.length) {
    writeFileSync(join(dir, `rates-${file}.csv`), ['currency,month,usd_per_unit', ...s.rates.map((r) => `${r.currency},${r.month},${r.usdPerUnit}`)].join('\n') + '\n');
    await ok(['ledger', 'import', 'rates', `rates-${file}.csv`]);
  }
  if (s.transactions.length) {
    const rows = s.transactions.map((t, i) =>
      [t.id, t.occurredAt, t.store, t.kind, t.product, 'US', t.currency, t.gross, t.fee, t.tax, t.kind === 'sale' ? `vpc-${i}` : '', `fam-${i % 7}`, t.refundOf ?? ''].map((x) => csvCell(String(x))).join(','),
    );
    writeFileSync(join(dir, `sales-${file}.csv`), [SALES_HEADER, ...rows].join('\n') + '\n');
    await ok(['ledger', 'import', 'sales', `sales-${file}.csv`]);
  }
  if (s.reviews.length) {
    writeFileSync(join(dir, `reviews-${file}.csv`), ['review_id,pack,rating,reviewed_at', ...s.reviews.map((r, i) => `rv-${file}-${i},${r.pack},${r.rating},${r.reviewedAt}`)].join('\n') + '\n');
    await ok(['ledger', 'import', 'reviews', `reviews-${file}.csv`]);
  }
}
