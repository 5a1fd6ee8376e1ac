// Google Play earnings import: a generated 1,000,000-row earnings report (CSV as Google
// writes it: quoted dates, Pacific times, charge/fee/tax rows per order, refunds, another
// app's rows) imported by `packops ledger import googleplay` (grouped by order, matched to
// the purchase log, one transaction) against the sqlite3 shell's `.import` of the same file
// into a table of its columns. Target (PRODUCT §15): ≤ 2.0× the shell.
import { spawnSync } from 'node:child_process';
import { createWriteStream, existsSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { median, PACKOPS, report, run, WORK } from './lib.js';
import { seedLedger } from '../test/ledger/seed.js';

const ROWS = Number(process.env.GOOGLEPLAY_BENCH_ROWS ?? 1_000_000);
const RUNS = Number(process.env.GOOGLEPLAY_BENCH_RUNS ?? 1);
/**
 * Order ids as Google gives them: 17 digits with no order (`random`, the default), or
 * counting up (`sequential`, the ids of the figures before session 5). Counting ids flatter
 * the import: its purchase-log lookups and the sales primary key then walk their B-trees in
 * order, which a real report never does.
 */
const IDS = process.env.GOOGLEPLAY_BENCH_IDS === 'sequential' ? 'sequential' : 'random';

const HEADER =
  'Description,Transaction Date,Transaction Time,Tax Type,Transaction Type,Refund Type,Product Title,Product id,Product Type,Sku Id,Hardware,Buyer Country,Buyer State,Buyer Postal Code,Buyer Currency,Amount (Buyer Currency),Currency Conversion Rate,Merchant Currency,Amount (Merchant Currency)';

const SHELL_SQL = (csv: string) => `PRAGMA journal_mode=WAL;
CREATE TABLE earnings (
  description TEXT, transaction_date TEXT, transaction_time TEXT, tax_type TEXT, transaction_type TEXT, refund_type TEXT,
  product_title TEXT, product_id TEXT, product_type TEXT, sku_id TEXT, hardware TEXT, buyer_country TEXT, buyer_state TEXT,
  buyer_postal_code TEXT, buyer_currency TEXT, amount_buyer TEXT, conversion_rate TEXT, merchant_currency TEXT, amount_merchant TEXT);
.import --csv --skip 1 ${csv} earnings
`;

const SKUS = ['pack_ocean', 'pack_forest', 'pack_counting'];
/** The i-th order id: with `random`, i → (a·i + c) mod 10^17 (a prime to 10, so no two orders share one). */
function orderId(i: number): string {
  if (IDS === 'sequential') return `GPA.3300-${String(Math.floor(i / 10000)).padStart(4, '0')}-${String(i % 10000).padStart(4, '0')}-${String(i % 99991).padStart(5, '0')}`;
  const d = ((BigInt(i) * 6364136223846793007n + 1442695040888963407n) % 10n ** 17n).toString().padStart(17, '0');
  return `GPA.${d.slice(0, 4)}-${d.slice(4, 8)}-${d.slice(8, 12)}-${d.slice(12)}`;
}

const money = (minor: number): string => `${minor < 0 ? '-' : ''}${Math.floor(Math.abs(minor) / 100)}.${String(Math.abs(minor) % 100).padStart(2, '0')}`;

/** Writes the earnings report and the purchase log for its orders (October 2026, deterministic). */
async function writeFiles(csv: string, purchases: string, rows: number): Promise<void> {
  const out = createWriteStream(csv);
  const log = createWriteStream(purchases);
  const write = (s: NodeJS.WritableStream, text: string) => (s.write(text) ? Promise.resolve() : new Promise<void>((r) => s.once('drain', () => r())));
  await write(out, `${HEADER}\n`);
  await write(log, 'store,transaction_id,kind,occurred_at,product,country,consent_ref,family_ref,refund_of\n');
  let written = 0;
  for (let i = 0; written < rows; i++) {
    const id = orderId(i);
    const day = 1 + (i % 30);
    const h = i % 12 || 12;
    const time = `${h}:${String(i % 60).padStart(2, '0')}:${String((i * 7) % 60).padStart(2, '0')} ${i % 2 ? 'PM' : 'AM'} PDT`;
    const sku = SKUS[i % 3]!;
    const other = i % 20 === 0;
    const pkg = other ? 'com.wondernest.coloring' : 'com.wondernest.app';
    const charge = 99 + (i % 900);
    const fee = -Math.floor(charge * 0.15);
    const tax = i % 4 === 0 ? -Math.floor(charge * 0.16) : 0;
    const row = (type: string, amount: number, refund = '', d = day) =>
      `${id},"Oct ${d}, 2026",${time},${type === 'Tax' ? 'VAT' : ''},${type},${refund},"Pack, with a comma",${pkg},1,${sku},a15,US,CA,94110,USD,${money(amount)},1.000000,USD,${money(amount)}\n`;
    let text = row('Charge', charge) + row('Google fee', fee);
    if (tax) text += row('Tax', tax);
    if (i % 50 === 1 && day < 30) text += row('Charge refund', -charge, 'Full', day + 1) + row('Google fee refund', -fee, 'Full', day + 1) + (tax ? row('Tax refund', -tax, 'Full', day + 1) : '');
    written += text.split('\n').length - 1;
    await write(out, text);
    if (!other) await write(log, `googleplay,${id},sale,2026-10-${String(day).padStart(2, '0')}T00:00:00Z,${sku},US,vpc-${i},fam-${i % 5000},\n`);
  }
  await new Promise<void>((r) => out.end(() => r()));
  await new Promise<void>((r) => log.end(() => r()));
}

function removeDb(path: string): void {
  for (const suffix of ['', '-wal', '-shm']) rmSync(`${path}${suffix}`, { force: true });
}

export default async function googlePlayImport(): Promise<void> {
  if (spawnSync('sqlite3', ['-version']).status !== 0) throw new Error('the sqlite3 shell is not installed (apt-get install sqlite3)');
  const csv = join(WORK, `earnings-${ROWS}${IDS === 'random' ? '-r' : ''}.csv`);
  const purchases = join(WORK, `earnings-${ROWS}${IDS === 'random' ? '-r' : ''}-purchases.csv`);
  if (!existsSync(csv) || !existsSync(purchases)) await writeFiles(csv, purchases, ROWS);
  // The ledger with the catalog and the purchase log in it (not timed).
  const seed = join(WORK, 'googleplay-seed.db');
  removeDb(seed);
  await (await seedLedger(seed)).close();
  run('purchases', process.execPath, [PACKOPS, 'ledger', 'import', 'purchases', purchases, '--db', seed, '--json', '--quiet']);
  const db = join(WORK, 'googleplay-bench.db');
  const shellDb = join(WORK, 'googleplay-shell.db');

  const ours = median(`packops ledger import googleplay (${ROWS.toLocaleString('en')} rows)`, RUNS, () => {
    removeDb(db);
    spawnSync('cp', [seed, db]);
    spawnSync('sync'); // the copy's dirty pages are written back now, not during the timed run
    return run('packops', process.execPath, [PACKOPS, 'ledger', 'import', 'googleplay', csv, '--package', 'com.wondernest.app', '--db', db, '--json', '--quiet']);
  });
  const theirs = median('sqlite3 .import (same file, a table of its columns)', RUNS, () => {
    removeDb(shellDb);
    spawnSync('sync'); // nor the ledger packops just wrote during the shell's
    return run('sqlite3', 'sqlite3', [shellDb], { input: SHELL_SQL(csv) });
  });
  report({
    name: `ledger import googleplay (${ROWS.toLocaleString('en')} earnings rows)`,
    ours,
    theirs,
    target: '≤ 2.0×',
    met: ours.ms <= 2 * theirs.ms,
    extra: `file ${(statSync(csv).size / 1e6).toFixed(0)} MB; packops ${((ROWS / ours.ms) * 1000).toFixed(0)} rows/s, sqlite3 ${((ROWS / theirs.ms) * 1000).toFixed(0)} rows/s; peak ${ours.peakMiB?.toFixed(0) ?? '?'} MiB`,
  });
}
