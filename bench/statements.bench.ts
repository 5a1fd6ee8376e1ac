// Statements as PDF: `packops payouts report --format pdf` for a month of 500 creators
// (501 pages: a statement each and the finance summary), printed by one headless Chromium,
// against the way without packops's browser reuse: `chromium --headless --print-to-pdf`,
// one process per page, on the same HTML files (timed on a sample of pages, scaled to the
// month; the sample is said in the output). Target: the month in under 60 s, and faster
// than one process per page. STATEMENTS_BENCH_CREATORS=100 iterates on a smaller month
// (the target then scales: 12 s for 100); the load average is printed beside the figures.
import { mkdirSync, readdirSync, rmSync, existsSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { openLedger } from '../src/ledger/db.js';
import { findChromium } from '../src/pages/pdf.js';
import { mulberry32 as prng } from '../test/helpers/random.js';
import { PACKOPS, report, run, WORK, type Measurement } from './lib.js';

const CREATORS = Number(process.env.STATEMENTS_BENCH_CREATORS ?? 500);
const TEAMS = Math.min(50, Math.floor(CREATORS / 3));
const PERIOD = '2026-10';
const DB = join(WORK, `statements-${CREATORS}.db`);
const SAMPLE = 20;

async function buildLedger(): Promise<void> {
  rmSync(DB, { force: true });
  const ledger = await openLedger(DB);
  await ledger.close();
  const db = new BetterSqlite3(DB);
  const now = '2026-08-01T00:00:00.000Z';
  const rand = prng(7);
  db.transaction(() => {
    const addCreator = db.prepare('INSERT INTO creators (id, name, payout_ref, created_at, updated_at) VALUES (?, ?, ?, ?, ?)');
    const addPack = db.prepare(
      `INSERT INTO packs (slug, version, name, category, subcategory, tags, price_minor, currency, markets, owner_id, owner_kind,
        appstore_product_id, googleplay_product_id, web_product_id, available_from, available_until, archive_sha256, archive_path,
        archive_bytes, manifest, published_at) VALUES (?, '1.0.0', ?, 'characters', NULL, '[]', ?, 'USD', '{}', ?, ?, NULL, NULL, NULL, NULL, NULL, ?, 'x.zip', 1, '{}', ?)`,
    );
    const addCollab = db.prepare('INSERT INTO collaborations (id, name, lead_id, created_at, updated_at) VALUES (?, ?, ?, ?, ?)');
    const addMember = db.prepare('INSERT INTO collaboration_members (collaboration_id, creator_id, share_bp, share_percent) VALUES (?, ?, ?, ?)');
    const packs: Array<{ slug: string; price: number }> = [];
    for (let i = 0; i < CREATORS; i++) {
      const id = `creator-${String(i).padStart(3, '0')}`;
      addCreator.run(id, `Creator ${i}`, `acct-${i}`, now, now);
      for (let k = 0; k < 2; k++) {
        const slug = `pack-${String(i).padStart(3, '0')}-${k}`;
        const price = [199, 299, 399, 499][(i + k) % 4]!;
        addPack.run(slug, `Pack ${i}.${k}`, price, id, 'creator', '0'.repeat(64), '2026-05-01T00:00:00.000Z');
        packs.push({ slug, price });
      }
    }
    for (let c = 0; c < TEAMS; c++) {
      const id = `team-${c}`;
      addCollab.run(id, `Team ${c}`, `creator-${String(c * 3).padStart(3, '0')}`, now, now);
      [5000, 3000, 2000].forEach((bp, j) => addMember.run(id, `creator-${String(c * 3 + j).padStart(3, '0')}`, bp, `${bp / 100}.00`));
      const slug = `team-pack-${c}`;
      addPack.run(slug, `Team pack ${c}`, 499, id, 'collaboration', '0'.repeat(64), '2026-05-01T00:00:00.000Z');
      packs.push({ slug, price: 499 });
    }
    const addRate = db.prepare("INSERT INTO fx_rates (currency, month, usd_per_unit, batch_id) VALUES (?, ?, ?, 'bench')");
    for (const m of ['2026-09', PERIOD]) for (const [c, r] of [['GBP', '1.2710'], ['EUR', '1.0840'], ['JPY', '0.0067']] as const) addRate.run(c, m, r);
    const addSale = db.prepare(
      `INSERT INTO sales (store, transaction_id, kind, occurred_at, month, product, product_kind, pack_slug, bundle_slug, country, currency,
        gross_minor, store_fee_minor, tax_minor, consent_ref, family_hmac, refund_of, batch_id) VALUES (?, ?, 'sale', ?, ?, ?, 'pack', ?, NULL, ?, ?, ?, ?, ?, 'consent', NULL, NULL, 'bench')`,
    );
    const markets = [['US', 'USD', 1], ['GB', 'GBP', 0.9], ['DE', 'EUR', 0.95], ['JP', 'JPY', 1.5]] as const;
    let n = 0;
    for (const month of ['2026-09', PERIOD]) {
      for (let i = 0; i < 40 * CREATORS; i++) {
        const pack = packs[Math.floor(rand() * packs.length)]!;
        const [country, currency, factor] = markets[Math.floor(rand() * markets.length)]!;
        const gross = Math.round(pack.price * factor);
        const fee = Math.round(gross * 0.3);
        const day = String(1 + Math.floor(rand() * 28)).padStart(2, '0');
        addSale.run(rand() < 0.6 ? 'appstore' : 'googleplay', `t${n++}`, `${month}-${day}T12:00:00.000Z`, month, pack.slug, pack.slug, country, currency, gross, fee, 0);
      }
    }
  })();
  db.close();
}

export default async function statements(): Promise<void> {
  const chromium = findChromium();
  if (!existsSync(DB)) {
    await buildLedger();
    run('close 2026-09', process.execPath, [PACKOPS, 'payouts', 'close', '--period', '2026-09', '--db', DB, '--json']);
  }
  const out = join(WORK, 'statements-out');
  rmSync(out, { recursive: true, force: true });
  const env = { SOURCE_DATE_EPOCH: '1793491200', PACKOPS_CHROMIUM: chromium };
  const args = [PACKOPS, 'payouts', 'report', '--period', PERIOD, '--format', 'pdf', '--out', out, '--db', DB, '--quiet'];
  const ours = run(`packops payouts report --format pdf (${CREATORS} creators)`, process.execPath, args, { env });
  const dir = join(out, PERIOD);
  const pdfs = readdirSync(dir).filter((f) => f.endsWith('.pdf'));
  const htmls = readdirSync(dir).filter((f) => f.endsWith('.html')).sort();

  // One Chromium process per page, for a sample of the same pages.
  const cli = join(WORK, 'statements-cli');
  rmSync(cli, { recursive: true, force: true });
  mkdirSync(cli, { recursive: true });
  const sample = htmls.slice(0, SAMPLE);
  let ms = 0;
  for (const f of sample) {
    const m = run('chromium --print-to-pdf', chromium, ['--headless', '--no-sandbox', '--disable-gpu', '--no-pdf-header-footer', `--print-to-pdf=${join(cli, f.replace(/\.html$/, '.pdf'))}`, join(dir, f)]);
    ms += m.ms;
  }
  const theirs: Measurement = { label: `chromium --headless --print-to-pdf, one process per page (${SAMPLE} timed, scaled to ${htmls.length})`, ms: (ms / sample.length) * htmls.length };
  const limit = (60_000 * CREATORS) / 500;
  report({
    name: `statements as PDF, ${CREATORS} creators (${pdfs.length} PDFs)`,
    ours,
    theirs,
    target: `< ${limit / 1000} s and faster than a process per page`,
    met: pdfs.length === CREATORS + 1 && ours.ms < limit && ours.ms < theirs.ms,
    extra: `${(ours.ms / pdfs.length).toFixed(0)} ms per page; load average ${loadavg().map((l) => l.toFixed(2)).join(', ')} (1, 5, 15 min)`,
  });
}
