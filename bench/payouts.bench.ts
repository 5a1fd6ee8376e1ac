// Payouts: `packops payouts report --json` against a hand-written SQL aggregate of the same
// figures in the sqlite3 shell, on two ledgers of 1,000,000 transactions across 150 packs
// and 60 creators (built once into bench/.work/; delete them after a schema change):
// - one month of 1,000,000 (the issue's row). Target: within 3× of the aggregate, under 1 s;
// - a carry-forward chain: four OPEN months of 250,000 each, refunds crossing into the next
//   month (partial ones completed there), reporting the last, so balances roll through the
//   three before it. The aggregate is over the same four months. Target: within 3×.
// PAYOUTS_BENCH_ROWS=100000 makes both ledgers smaller (for iterating; own file names).
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { openLedger } from '../src/ledger/db.js';
import { median, PACKOPS, report, run, WORK } from './lib.js';
import { mulberry32 as prng } from '../test/helpers/random.js';

const ROWS = Number(process.env.PAYOUTS_BENCH_ROWS ?? 1_000_000);
const SIZE = ROWS % 1_000_000 === 0 ? `${ROWS / 1_000_000}m` : `${ROWS / 1000}k`;
const DB = join(WORK, `payouts-${SIZE}.db`);
const CHAIN_DB = join(WORK, `payouts-chain-${SIZE}.db`);
const PERIOD = '2026-10';
const CHAIN = ['2026-07', '2026-08', '2026-09', '2026-10'];


/**
 * `rows` transactions spread evenly over `months` (1% of them refunds). With one month,
 * every refund is in the month of its sale; with several, half of them land in the next
 * month, and a partial refund is completed there by a second one.
 */
async function buildLedger(file: string, months: readonly string[], rows: number): Promise<void> {
  rmSync(file, { force: true });
  const ledger = await openLedger(file);
  await ledger.close();
  const db = new BetterSqlite3(file);
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
    for (const month of months) for (const [c, r] of [['GBP', '1.2710'], ['EUR', '1.0840'], ['JPY', '0.0067'], ['KWD', '3.2550']] as const) addRate.run(c, month, r);
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
    const perMonth = Math.floor(rows / months.length);
    months.forEach((month, m) => {
      const refunds = Math.floor(perMonth / 100);
      const days = new Date(Date.UTC(Number(month.slice(0, 4)), Number(month.slice(5, 7)), 0)).getUTCDate();
      const next = months[m + 1];
      const sold: Array<{ id: string; args: unknown[] }> = [];
      for (let i = 0; i < perMonth - refunds; i++) {
        const store = rand() < 0.6 ? 'appstore' : 'googleplay';
        const bundle = rand() < 0.05 ? Math.floor(rand() * 5) : -1;
        const pack = packs[Math.floor(rand() * 150)]!;
        const market = markets[Math.floor(rand() * markets.length)]!;
        const usd = bundle >= 0 ? 999 : pack.price;
        const gross = Math.round(usd * market.factor);
        const tax = Math.round(gross * market.tax[0]!);
        const fee = Math.round((gross - tax) * (rand() < 0.7 ? 0.3 : 0.15));
        const day = 1 + Math.floor(rand() * days);
        const at = `${month}-${String(day).padStart(2, '0')}T${String(Math.floor(rand() * 24)).padStart(2, '0')}:00:00.000Z`;
        const id = months.length === 1 ? `t${i}` : `t${m}-${i}`;
        const product = bundle >= 0 ? `bundle-${bundle}` : pack.slug;
        const args = [store, id, 'sale', at, month, product, bundle >= 0 ? 'bundle' : 'pack', bundle >= 0 ? null : pack.slug, bundle >= 0 ? product : null, market.country, market.currency, gross, fee, tax, 'consent', null];
        addSale.run(...args);
        if (i % 99 === 0 && sold.length < refunds) sold.push({ id, args });
      }
      const refundId = (i: number, part = '') => (months.length === 1 ? `r${i}${part}` : `r${m}-${i}${part}`);
      sold.forEach((s, i) => {
        const a = s.args;
        const partial = i % 4 === 0;
        const gross = partial ? Math.floor((a[11] as number) / 2) : (a[11] as number);
        const fee = partial ? Math.floor((a[12] as number) / 2) : (a[12] as number);
        const tax = partial ? Math.floor((a[13] as number) / 2) : (a[13] as number);
        // Several months: every other refund lands early in the next month; a partial one is
        // made at the month's end and completed by the rest of the sale in the next month.
        const later = next !== undefined && i % 2 === 0;
        const monthEnd = `${month}-${String(days).padStart(2, '0')}T23:00:00.000Z`;
        const [when, inMonth] = later && !partial ? [`${next}-01T06:00:00.000Z`, next] : [monthEnd, month];
        addSale.run(a[0], refundId(i), 'refund', when, inMonth, a[5], a[6], a[7], a[8], a[9], a[10], gross, fee, tax, null, s.id);
        if (later && partial) {
          const rest = [(a[11] as number) - gross, (a[12] as number) - fee, (a[13] as number) - tax];
          addSale.run(a[0], refundId(i, 'b'), 'refund', `${next}-01T06:00:00.000Z`, next, a[5], a[6], a[7], a[8], a[9], a[10], ...rest, null, s.id);
        }
      });
    });
  })();
  db.close();
}

/** The peer: the same figures (count and net per month, pack, bundle, currency, kind) in one GROUP BY. */
const aggregate = (first: string, last: string) => `SELECT month, pack_slug, bundle_slug, currency, kind, COUNT(*), SUM(gross_minor - store_fee_minor - tax_minor)
  FROM sales WHERE month >= '${first}' AND month <= '${last}' GROUP BY month, pack_slug, bundle_slug, currency, kind;`;

async function ensure(file: string, months: readonly string[]): Promise<void> {
  if (existsSync(file)) return;
  const t = Date.now();
  await buildLedger(file, months, ROWS);
  console.log(`  built ${file} (${ROWS} transactions over ${months.join(', ')}) in ${((Date.now() - t) / 1000).toFixed(1)} s`);
}

/** Times the report against the aggregate; checks packops's per-currency pack nets of PERIOD against the shell's. */
function compare(name: string, file: string, first: string, target: { ratio: number; ms?: number }): void {
  const args = [PACKOPS, 'payouts', 'report', '--period', PERIOD, '--json', '--db', file];
  const sqlArgs = [file, aggregate(first, PERIOD)];
  run('warm-up', process.execPath, args);
  run('warm-up', 'sqlite3', sqlArgs);
  const ours = median('packops payouts report --json', 3, () => run('packops payouts report --json', process.execPath, args));
  const theirs = median('sqlite3 GROUP BY aggregate', 3, () => run('sqlite3 GROUP BY aggregate', 'sqlite3', sqlArgs));

  // Same data: packops's local-currency nets per currency equal the shell's sums.
  const doc = JSON.parse(spawnSync(process.execPath, args, { encoding: 'utf8', maxBuffer: 1 << 28 }).stdout) as {
    owners: Array<{ lines: Array<{ currency: string; bundle: string | null; netMinor: number }> }>;
    totals: { transactions: number };
    provisionalMonths: string[];
  };
  const shell = spawnSync('sqlite3', [file, `SELECT currency, SUM(CASE kind WHEN 'refund' THEN -1 ELSE 1 END * (gross_minor - store_fee_minor - tax_minor)) FROM sales WHERE month = '${PERIOD}' AND bundle_slug IS NULL GROUP BY currency;`], { encoding: 'utf8' }).stdout;
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
    name: `${name}: ${doc.totals.transactions} transactions in ${PERIOD}, ${doc.provisionalMonths.length} open month(s) before it, 150 packs, 60 creators`,
    ours,
    theirs,
    target: `≤ ${target.ratio}×${target.ms ? ` and < ${target.ms / 1000} s` : ''}`,
    met: r <= target.ratio && (target.ms === undefined || ours.ms < target.ms) && agree,
    extra: `per-currency pack nets agree with the shell: ${agree ? 'yes' : 'NO'}`,
  });
}

export default async function payouts(): Promise<void> {
  if (spawnSync('sqlite3', ['-version']).status !== 0) throw new Error('the sqlite3 shell is not installed (apt-get install sqlite3)');
  await ensure(DB, [PERIOD]);
  await ensure(CHAIN_DB, CHAIN);
  compare('payouts report, one month', DB, PERIOD, { ratio: 3, ms: 1000 });
  compare('payouts report, carry-forward chain', CHAIN_DB, CHAIN[0]!, { ratio: 3 });
}
