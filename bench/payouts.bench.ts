// Payouts: `packops payouts report --json` for a month of 1,000,000 transactions across
// 150 packs and 60 creators, against a hand-written SQL aggregate of the same nets in the
// sqlite3 shell. Target: within 3× of the bare aggregate and under 5 s.
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { openLedger } from '../src/ledger/db.js';
import { median, PACKOPS, report, run, WORK } from './lib.js';
import { mulberry32 as prng } from '../test/helpers/random.js';

const DB = join(WORK, 'payouts-1m.db');
const ROWS = 1_000_000;
const PERIOD = '2026-10';


async function buildLedger(): Promise<void> {
  rmSync(DB, { force: true });
  const ledger = await openLedger(DB);
  await ledger.close();
  const db = new BetterSqlite3(DB);
  db.pragma('journal_mode = WAL');
  const now = '2026-11-01T00:00:00.000Z';
  const rand = prng(42);
  db.transaction(() => {
    const creators = Array.from({ length: 60 }, (_, i) => `creator-${String(i).padStart(2, '0')}`);
    const addCreator = db.prepare('INSERT INTO creators (id, name, payout_ref, created_at, updated_at) VALUES (?, ?, NULL, ?, ?)');
    for (const c of creators) addCreator.run(c, c, now, now);
    // Ten collaborations of three creators each.
    const addCollab = db.prepare('INSERT INTO collaborations (id, name, lead_id, created_at, updated_at) VALUES (?, ?, ?, ?, ?)');
    const addMember = db.prepare('INSERT INTO collaboration_members (collaboration_id, creator_id, share_bp, share_percent) VALUES (?, ?, ?, ?)');
    for (let i = 0; i < 10; i++) {
      const id = `team-${i}`;
      addCollab.run(id, id, creators[i * 3]!, now, now);
      [5000, 3000, 2000].forEach((bp, j) => addMember.run(id, creators[i * 3 + j]!, bp, `${bp / 100}.00`));
    }
    const prices = [199, 299, 399, 499, 599];
    const addPack = db.prepare(
      `INSERT INTO packs (slug, version, name, category, subcategory, tags, price_minor, currency, markets, owner_id, owner_kind,
        appstore_product_id, googleplay_product_id, web_product_id, available_from, available_until, archive_sha256, archive_path,
        archive_bytes, manifest, published_at) VALUES (?, '1.0.0', ?, 'characters', NULL, '[]', ?, 'USD', '{}', ?, ?, NULL, NULL, NULL, NULL, NULL, ?, 'x.zip', 1, '{}', ?)`,
    );
    const packs: Array<{ slug: string; price: number }> = [];
    for (let i = 0; i < 150; i++) {
      const slug = `pack-${String(i).padStart(3, '0')}`;
      const collab = i % 5 === 0;
      const owner = collab ? `team-${(i / 5) % 10}` : creators[i % 60]!;
      const price = prices[i % prices.length]!;
      const month = String(1 + (i % 9)).padStart(2, '0');
      addPack.run(slug, slug, price, owner, collab ? 'collaboration' : 'creator', '0'.repeat(64), `2026-${month}-01T00:00:00.000Z`);
      packs.push({ slug, price });
    }
    const addBundle = db.prepare(
      `INSERT INTO bundles (slug, name, kind, season, price_minor, currency, individual_total_minor, discount, charm, savings_percent,
        available_from, available_until, created_at) VALUES (?, ?, 'custom', NULL, ?, 'USD', ?, NULL, 0, '0.0', NULL, NULL, ?)`,
    );
    const addItem = db.prepare('INSERT INTO bundle_items (bundle_slug, pack_slug, price_minor, position) VALUES (?, ?, ?, ?)');
    for (let b = 0; b < 5; b++) {
      const items = [packs[b * 7]!, packs[b * 7 + 1]!, packs[b * 7 + 2]!];
      const total = items.reduce((s, p) => s + p.price, 0);
      addBundle.run(`bundle-${b}`, `bundle-${b}`, total - 300, total, now);
      items.forEach((p, j) => addItem.run(`bundle-${b}`, p.slug, p.price, j));
    }
    const addRate = db.prepare("INSERT INTO fx_rates (currency, month, usd_per_unit, batch_id) VALUES (?, ?, ?, 'bench')");
    for (const [c, r] of [['GBP', '1.2710'], ['EUR', '1.0840'], ['JPY', '0.0067'], ['KWD', '3.2550']] as const) addRate.run(c, PERIOD, r);
    const addReview = db.prepare("INSERT INTO reviews (review_id, pack_slug, rating, reviewed_at, month, batch_id) VALUES (?, ?, ?, ?, ?, 'bench')");
    for (let i = 0; i < 3000; i++) addReview.run(`rv-${i}`, packs[i % 150]!.slug, 3 + Math.floor(rand() * 3), '2026-09-15T00:00:00.000Z', '2026-09');
    // Local prices per currency (minor units), store fee 15% or 30%, tax by market.
    const markets = [
      { currency: 'USD', country: 'US', factor: 1, tax: [0] },
      { currency: 'GBP', country: 'GB', factor: 0.9, tax: [0.2] },
      { currency: 'EUR', country: 'DE', factor: 0.95, tax: [0.19] },
      { currency: 'JPY', country: 'JP', factor: 1.5, tax: [0.1] },
      { currency: 'KWD', country: 'KW', factor: 3.1, tax: [0] },
    ];
    const addSale = db.prepare(
      `INSERT INTO sales (store, transaction_id, kind, occurred_at, month, product, product_kind, pack_slug, bundle_slug, country, currency,
        gross_minor, store_fee_minor, tax_minor, consent_ref, family_hmac, refund_of, batch_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, 'bench')`,
    );
    const refunds = Math.floor(ROWS / 100);
    const sold: Array<{ id: string; args: unknown[] }> = [];
    for (let i = 0; i < ROWS - refunds; i++) {
      const store = rand() < 0.6 ? 'appstore' : 'googleplay';
      const bundle = rand() < 0.05 ? Math.floor(rand() * 5) : -1;
      const pack = packs[Math.floor(rand() * 150)]!;
      const market = markets[Math.floor(rand() * markets.length)]!;
      const usd = bundle >= 0 ? 999 : pack.price;
      const gross = Math.round(usd * market.factor * (market.currency === 'JPY' ? 1 : market.currency === 'KWD' ? 1 : 1));
      const tax = Math.round(gross * market.tax[0]!);
      const fee = Math.round((gross - tax) * (rand() < 0.7 ? 0.3 : 0.15));
      const day = 1 + Math.floor(rand() * 31);
      const at = `${PERIOD}-${String(day).padStart(2, '0')}T${String(Math.floor(rand() * 24)).padStart(2, '0')}:00:00.000Z`;
      const id = `t${i}`;
      const product = bundle >= 0 ? `bundle-${bundle}` : pack.slug;
      const args = [store, id, 'sale', at, PERIOD, product, bundle >= 0 ? 'bundle' : 'pack', bundle >= 0 ? null : pack.slug, bundle >= 0 ? product : null, market.country, market.currency, gross, fee, tax, 'consent', null];
      addSale.run(...args);
      if (i % 99 === 0 && sold.length < refunds) sold.push({ id, args });
    }
    sold.forEach((s, i) => {
      const a = s.args;
      const partial = i % 4 === 0;
      const gross = partial ? Math.floor((a[11] as number) / 2) : (a[11] as number);
      const fee = partial ? Math.floor((a[12] as number) / 2) : (a[12] as number);
      const tax = partial ? Math.floor((a[13] as number) / 2) : (a[13] as number);
      addSale.run(a[0], `r${i}`, 'refund', `${PERIOD}-31T23:00:00.000Z`, PERIOD, a[5], a[6], a[7], a[8], a[9], a[10], gross, fee, tax, null, s.id);
    });
  })();
  db.close();
}

const AGGREGATE = `SELECT pack_slug, bundle_slug, currency, kind, COUNT(*), SUM(gross_minor - store_fee_minor - tax_minor)
  FROM sales WHERE month = '${PERIOD}' GROUP BY pack_slug, bundle_slug, currency, kind;`;

export default async function payouts(): Promise<void> {
  if (!existsSync(DB)) {
    const t = Date.now();
    await buildLedger();
    console.log(`  built ${DB} (${ROWS} transactions) in ${((Date.now() - t) / 1000).toFixed(1)} s`);
  }
  if (spawnSync('sqlite3', ['-version']).status !== 0) throw new Error('the sqlite3 shell is not installed (apt-get install sqlite3)');
  const args = [PACKOPS, 'payouts', 'report', '--period', PERIOD, '--json', '--db', DB];
  run('warm-up', process.execPath, args);
  run('warm-up', 'sqlite3', [DB, AGGREGATE]);
  const ours = median('packops payouts report --json', 3, () => run('packops payouts report --json', process.execPath, args));
  const theirs = median('sqlite3 GROUP BY aggregate', 3, () => run('sqlite3 GROUP BY aggregate', 'sqlite3', [DB, AGGREGATE]));

  // Same data: packops's local-currency nets per currency equal the shell's sums.
  const doc = JSON.parse(spawnSync(process.execPath, args, { encoding: 'utf8', maxBuffer: 1 << 28 }).stdout) as {
    owners: Array<{ lines: Array<{ currency: string; bundle: string | null; netMinor: number }> }>;
    totals: { transactions: number };
  };
  const shell = spawnSync('sqlite3', [DB, `SELECT currency, SUM(CASE kind WHEN 'refund' THEN -1 ELSE 1 END * (gross_minor - store_fee_minor - tax_minor)) FROM sales WHERE month = '${PERIOD}' AND bundle_slug IS NULL GROUP BY currency;`], { encoding: 'utf8' }).stdout;
  const ourNets = new Map<string, number>();
  for (const o of doc.owners) for (const l of o.lines) if (l.bundle === null) ourNets.set(l.currency, (ourNets.get(l.currency) ?? 0) + l.netMinor);
  const agree = shell
    .trim()
    .split('\n')
    .every((line) => {
      const [currency, net] = line.split('|');
      return ourNets.get(currency!) === Number(net);
    });
  const r = ours.ms / theirs.ms;
  report({
    name: `payouts report, ${doc.totals.transactions} transactions, 150 packs, 60 creators`,
    ours,
    theirs,
    target: '≤ 3× and < 5 s',
    met: r <= 3 && ours.ms < 5000 && agree,
    extra: `per-currency pack nets agree with the shell: ${agree ? 'yes' : 'NO'}`,
  });
}
