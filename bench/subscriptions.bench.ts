// Subscriptions (§14): a month of 200,000 families × 3 packs of usage (600,000 rows)
// imported with `packops ledger import usage`, then the month's `packops payouts report
// --json` (recognition of 220,000 plan charges — 20,000 of them idle families — and the
// user-centric allocation). Against the sqlite3 shell importing the same CSV and summing
// active days per pack. Target: import + report under 10 s together, memory bounded.
//
// The annual plans were bought over January–October, so January–September carry
// recognised money too. A finance team closes each month as it ends, so the seed closes
// them (`packops payouts close`, in order) and October's report reads their stored
// balances instead of recomputing nine months. SUBS_BENCH_OPEN=1 leaves them open (the
// report then recomputes each one provisionally); SUBS_BENCH_FAMILIES sizes the month.
import { spawnSync } from 'node:child_process';
import { copyFileSync, createWriteStream, existsSync, rmSync } from 'node:fs';
import { createHmac } from 'node:crypto';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { openLedger } from '../src/ledger/db.js';
import { median, PACKOPS, report, run, WORK, type Measurement } from './lib.js';
import { mulberry32 as prng } from '../test/helpers/random.js';

const FAMILIES = Number(process.env.SUBS_BENCH_FAMILIES ?? 200_000);
const IDLE = Math.floor(FAMILIES / 10);
const OPEN = process.env.SUBS_BENCH_OPEN === '1';
const SEED_DB = join(WORK, `subs-seed-${FAMILIES}${OPEN ? '-open' : ''}.db`);
const DB = join(WORK, `subs-${FAMILIES}.db`);
const USAGE = join(WORK, `usage-${FAMILIES * 3}.csv`);
const PACKS = 150;
const PERIOD = '2026-10';

const family = (i: number) => `fam-${String(i).padStart(7, '0')}`;

export async function buildSeed(): Promise<void> {
  rmSync(SEED_DB, { force: true });
  const ledger = await openLedger(SEED_DB);
  const secret = await ledger.familySecret();
  await ledger.close();
  const db = new BetterSqlite3(SEED_DB);
  db.pragma('journal_mode = WAL');
  const now = '2026-09-01T00:00:00.000Z';
  const rand = prng(7);
  db.transaction(() => {
    const addCreator = db.prepare('INSERT INTO creators (id, name, payout_ref, created_at, updated_at) VALUES (?, ?, NULL, ?, ?)');
    for (let c = 0; c < 60; c++) addCreator.run(`creator-${c}`, `Creator ${c}`, now, now);
    const addPack = db.prepare(
      `INSERT INTO packs (slug, version, name, category, subcategory, tags, price_minor, currency, markets, owner_id, owner_kind,
        appstore_product_id, googleplay_product_id, web_product_id, available_from, available_until, archive_sha256, archive_path,
        archive_bytes, manifest, published_at) VALUES (?, '1.0.0', ?, 'characters', NULL, '[]', 299, 'USD', '{}', ?, 'creator', NULL, NULL, NULL, NULL, NULL, ?, 'x.zip', 1, '{}', ?)`,
    );
    for (let p = 0; p < PACKS; p++) addPack.run(`pack-${p}`, `pack-${p}`, `creator-${p % 60}`, '0'.repeat(64), '2026-01-01T00:00:00.000Z');
    const addPlan = db.prepare('INSERT INTO plans (id, name, months, price_minor, currency, appstore_product_id, googleplay_product_id, web_product_id, created_at) VALUES (?, ?, ?, ?, \'USD\', ?, ?, NULL, ?)');
    addPlan.run('plus-monthly', 'Plus Monthly', 1, 699, 'com.wn.plus.monthly', 'plus_monthly', now);
    addPlan.run('plus-annual', 'Plus Annual', 12, 5999, 'com.wn.plus.annual', 'plus_annual', now);
    const addSale = db.prepare(
      `INSERT INTO sales (store, transaction_id, kind, occurred_at, month, product, product_kind, pack_slug, bundle_slug, plan_id, country, currency,
        gross_minor, store_fee_minor, tax_minor, consent_ref, family_hmac, refund_of, batch_id) VALUES (?, ?, 'sale', ?, ?, ?, 'plan', NULL, NULL, ?, 'US', 'USD', ?, ?, 0, 'consent', ?, NULL, 'bench')`,
    );
    for (let i = 0; i < FAMILIES + IDLE; i++) {
      const annual = rand() < 0.25;
      const store = rand() < 0.6 ? 'appstore' : 'googleplay';
      const gross = annual ? 5999 : 699;
      const fee = Math.round(gross * (rand() < 0.7 ? 0.3 : 0.15));
      // Annual plans bought over the last year all recognise a twelfth in October.
      const month = annual ? `2026-${String(1 + Math.floor(rand() * 10)).padStart(2, '0')}` : PERIOD;
      const at = `${month}-${String(1 + Math.floor(rand() * 28)).padStart(2, '0')}T12:00:00.000Z`;
      const product = store === 'appstore' ? (annual ? 'com.wn.plus.annual' : 'com.wn.plus.monthly') : annual ? 'plus_annual' : 'plus_monthly';
      const hmac = createHmac('sha256', secret).update(family(i)).digest('hex');
      addSale.run(store, `sub-${i}`, at, month, product, annual ? 'plus-annual' : 'plus-monthly', gross, fee, hmac);
    }
  })();
  db.close();
  if (OPEN) return;
  for (let m = 1; m <= 9; m++) {
    const period = `2026-${String(m).padStart(2, '0')}`;
    run(`packops payouts close --period ${period}`, process.execPath, [PACKOPS, 'payouts', 'close', '--period', period, '--json', '--db', SEED_DB]);
  }
  // Everything in the main file: the bench copies only it.
  const after = new BetterSqlite3(SEED_DB);
  after.pragma('wal_checkpoint(TRUNCATE)');
  after.close();
}

export async function writeUsage(): Promise<void> {
  const rand = prng(11);
  const out = createWriteStream(USAGE);
  const write = (s: string) => (out.write(s) ? Promise.resolve() : new Promise<void>((r) => out.once('drain', () => r())));
  await write('family_ref,pack,month,active_days\n');
  for (let i = 0; i < FAMILIES; i++) {
    // Three distinct packs per family, popular packs used more often.
    const packs = new Set<number>();
    while (packs.size < 3) packs.add(Math.floor(PACKS * rand() * rand()));
    let chunk = '';
    for (const p of packs) chunk += `${family(i)},pack-${p},${PERIOD},${1 + Math.floor(rand() * 31)}\n`;
    await write(chunk);
  }
  await new Promise<void>((r) => out.end(() => r()));
}

const SHELL = `.mode csv
CREATE TEMP TABLE u(family_ref TEXT, pack TEXT, month TEXT, active_days INTEGER);
.import --skip 1 ${USAGE} u
SELECT pack, COUNT(*), SUM(active_days) FROM u GROUP BY pack;`;

export default async function subscriptions(): Promise<void> {
  if (!existsSync(SEED_DB)) {
    const t = Date.now();
    await buildSeed();
    console.log(`  built ${SEED_DB} (${FAMILIES + IDLE} plan charges${OPEN ? '' : ', 2026-01…09 closed'}) in ${((Date.now() - t) / 1000).toFixed(1)} s`);
  }
  if (!existsSync(USAGE)) await writeUsage();
  if (spawnSync('sqlite3', ['-version']).status !== 0) throw new Error('the sqlite3 shell is not installed (apt-get install sqlite3)');
  const fresh = () => {
    for (const suffix of ['', '-wal', '-shm']) rmSync(DB + suffix, { force: true });
    copyFileSync(SEED_DB, DB);
  };
  const importArgs = [PACKOPS, 'ledger', 'import', 'usage', USAGE, '--json', '--db', DB];
  const reportArgs = [PACKOPS, 'payouts', 'report', '--period', PERIOD, '--json', '--db', DB];
  const imports: Measurement[] = [];
  const reports: Measurement[] = [];
  for (let i = 0; i < 3; i++) {
    fresh();
    imports.push(run('packops ledger import usage (600k rows)', process.execPath, importArgs));
    reports.push(run('packops payouts report --json', process.execPath, reportArgs));
  }
  const med = (xs: typeof imports) => [...xs].sort((a, b) => a.ms - b.ms)[1]!;
  const imp = med(imports);
  const rep = med(reports);
  const ours = { label: 'packops import usage + payouts report', ms: imp.ms + rep.ms, peakMiB: Math.max(imp.peakMiB ?? 0, rep.peakMiB ?? 0) || undefined };
  const theirs = median('sqlite3 .import + GROUP BY', 3, () => run('sqlite3 .import + GROUP BY', 'sqlite3', [':memory:'], { input: SHELL }));

  // The same data: per-pack families and active days agree with the shell.
  const doc = JSON.parse(spawnSync(process.execPath, reportArgs, { encoding: 'utf8', maxBuffer: 1 << 28 }).stdout) as {
    subscriptions: { recognisedMinor: number; allocatedMinor: number; idlePooledMinor: number; families: { subscribed: number; active: number; idle: number } };
    owners: Array<{ subscriptionLines: Array<{ pack: string; families: number; activeDays: number }> }>;
  };
  const shell = spawnSync('sqlite3', [':memory:'], { input: SHELL, encoding: 'utf8' }).stdout.trim().split('\n');
  const lines = new Map(doc.owners.flatMap((o) => o.subscriptionLines).map((l) => [l.pack, `${l.families},${l.activeDays}`]));
  const agree = shell.length === lines.size && shell.every((row) => {
    const [pack, n, days] = row.split(',');
    return lines.get(pack!) === `${n},${days}`;
  });
  const s = doc.subscriptions;
  report({
    name: `subscriptions: ${FAMILIES * 3} usage rows (${FAMILIES} families × 3 packs), ${FAMILIES + IDLE} plan charges, ${PACKS} packs, earlier months ${OPEN ? 'open' : 'closed'}`,
    ours,
    theirs,
    target: 'import + report < 10 s',
    met: ours.ms < 10_000 && agree,
    extra:
      `import ${imp.ms.toFixed(0)} ms (peak ${imp.peakMiB?.toFixed(0) ?? '?'} MiB) + report ${rep.ms.toFixed(0)} ms (peak ${rep.peakMiB?.toFixed(0) ?? '?'} MiB); ` +
      `recognised ${s.recognisedMinor} cents, idle pooled ${s.idlePooledMinor} from ${s.families.idle} families; per-pack families and days agree with the shell: ${agree ? 'yes' : 'NO'}`,
  });
}
