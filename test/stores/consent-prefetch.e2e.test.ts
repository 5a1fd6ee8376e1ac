/**
 * A Google Play import's consent lookups on the prefetch thread (consent-prefetch.ts)
 * against the same import with every lookup on the main thread: on a generated earnings
 * report of several chunks (sales whose purchase records exist, are missing, renewals `..N`
 * tied to their base order, refunds, another app's rows) and a second month's file in the
 * same import, the ledger, the holds, the refusals and the summaries must be identical;
 * and a thread that cannot start or dies half-way must change nothing but who asks.
 */
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openLedger, type Ledger } from '../../src/ledger/db.js';
import { importFile } from '../../src/ledger/import/index.js';
import { googlePlayImporter } from '../../src/ledger/import/googleplay.js';
import { runImport } from '../../src/ledger/import/pipeline.js';
import type { PrefetchStats } from '../../src/ledger/import/consent-prefetch.js';
import { ROOT, runCli } from '../helpers/cli.js';
import { seedLedger } from '../ledger/seed.js';

const PKG = 'com.wondernest.app';
const HEADER =
  'Description,Transaction Date,Transaction Time,Tax Type,Transaction Type,Refund Type,Product Title,Product id,Product Type,Sku Id,Hardware,Buyer Country,Buyer State,Buyer Postal Code,Buyer Currency,Amount (Buyer Currency),Currency Conversion Rate,Merchant Currency,Amount (Merchant Currency)';
const SKUS = ['pack_ocean', 'pack_forest', 'pack_counting'];
/** The compiled worker (the tests import src/, whose folder holds no .js worker). */
const WORKER = pathToFileURL(join(ROOT, 'dist', 'ledger', 'import', 'consent-worker.js'));
/** Orders in October: three chunks of sales and more (the pipeline checks 1,000 at a time). */
const ORDERS = 2600;

const money = (minor: number) => `${minor < 0 ? '-' : ''}${Math.floor(Math.abs(minor) / 100)}.${String(Math.abs(minor) % 100).padStart(2, '0')}`;
/** The i-th order id: random-looking digits, as Google's are. */
const orderId = (i: number) => {
  const d = ((BigInt(i) * 6364136223846793007n + 1442695040888963407n) % 10n ** 17n).toString().padStart(17, '0');
  return `GPA.${d.slice(0, 4)}-${d.slice(4, 8)}-${d.slice(8, 12)}-${d.slice(12)}`;
};

interface Files {
  october: string;
  november: string;
  purchases: string;
  /** The purchase records the first log leaves out (their sales are held or refused). */
  missing: string;
}

function writeFiles(dir: string): Files {
  const oct: string[] = [HEADER];
  const nov: string[] = [HEADER];
  const log: string[] = [];
  const missing: string[] = [];
  const purchase = (id: string, i: number, day: number) => `googleplay,${id},sale,2026-10-${String(day).padStart(2, '0')}T00:00:00Z,${SKUS[i % 3]},US,vpc-${i},fam-${i % 97},`;
  const row = (lines: string[], id: string, month: string, day: number, i: number, type: string, amount: number, pkg = PKG, refund = '') =>
    lines.push(`${id},"${month} ${day}, 2026",${1 + (i % 11)}:${String(i % 60).padStart(2, '0')}:07 PM ${month === 'Nov' ? 'PST' : 'PDT'},${type === 'Tax' ? 'VAT' : ''},${type},${refund},"Pack, with a comma",${pkg},1,${SKUS[i % 3]},a15,US,CA,94110,USD,${money(amount)},1.000000,USD,${money(amount)}`);
  for (let i = 0; i < ORDERS; i++) {
    const id = orderId(i);
    const day = 1 + (i % 28);
    const charge = 99 + (i % 900);
    const fee = -Math.floor(charge * 0.15);
    const pkg = i % 37 === 0 ? 'com.wondernest.coloring' : PKG; // another app's rows: skipped, counted
    row(oct, id, 'Oct', day, i, 'Charge', charge, pkg);
    row(oct, id, 'Oct', day, i, 'Google fee', fee, pkg);
    if (i % 4 === 0) row(oct, id, 'Oct', day, i, 'Tax', -Math.floor(charge * 0.16), pkg);
    if (i % 23 === 5) {
      row(oct, id, 'Oct', day + 1, i, 'Charge refund', -charge, pkg, 'Full');
      row(oct, id, 'Oct', day + 1, i, 'Google fee refund', -fee, pkg, 'Full');
    }
    if (pkg !== PKG) continue;
    // One in eleven has no purchase record in the first log (held, or the import refused).
    (i % 11 === 3 ? missing : log).push(purchase(id, i, day));
    // One in five renews in November (`..1`, matched by its base order), some twice (`..2`).
    if (i % 5 === 0) {
      row(nov, `${id}..1`, 'Nov', day, i, 'Charge', charge);
      row(nov, `${id}..1`, 'Nov', day, i, 'Google fee', fee);
      if (i % 10 === 0) {
        row(nov, `${id}..2`, 'Nov', day + 1, i, 'Charge', charge);
        row(nov, `${id}..2`, 'Nov', day + 1, i, 'Google fee', fee);
      }
    }
    // A renewal with its own record and no record of its base.
    if (i % 13 === 7) {
      log.push(purchase(`${orderId(i + 100_000)}..3`, i, day));
      row(nov, `${orderId(i + 100_000)}..3`, 'Nov', day, i, 'Charge', charge);
    }
  }
  const head = 'store,transaction_id,kind,occurred_at,product,country,consent_ref,family_ref,refund_of';
  const files: Files = {
    october: join(dir, 'earnings_202610.csv'),
    november: join(dir, 'earnings_202611.csv'),
    purchases: join(dir, 'purchases.csv'),
    missing: join(dir, 'purchases-missing.csv'),
  };
  writeFileSync(files.october, `${oct.join('\n')}\n`);
  writeFileSync(files.november, `${nov.join('\n')}\n`);
  writeFileSync(files.purchases, `${head}\n${log.join('\n')}\n`);
  writeFileSync(files.missing, `${head}\n${missing.join('\n')}\n`);
  return files;
}

let dir: string;
let files: Files;
let seed: string;
let copies = 0;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'packops-prefetch-'));
  files = writeFiles(dir);
  seed = join(dir, 'seed.db');
  const ledger = await seedLedger(seed);
  try {
    await importFile(ledger, 'purchases', files.purchases);
  } finally {
    await ledger.close();
  }
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A copy of the seeded ledger (purchase log imported). */
function ledgerCopy(): string {
  const db = join(dir, `l${++copies}.db`);
  copyFileSync(seed, db);
  return db;
}

/** What an import leaves: every sale and refund, every quarantined row (batch ids and times aside). */
async function contents(db: string): Promise<unknown> {
  const l = await openLedger(db);
  try {
    const sales = await l.db.selectFrom('sales').selectAll().orderBy('store').orderBy('transaction_id').execute();
    const quarantine = await l.db.selectFrom('quarantine').selectAll().orderBy('kind').orderBy('row_key').execute();
    return {
      sales: sales.map(({ batch_id: _b, ...rest }) => rest),
      quarantine: quarantine.map(({ batch_id: _b, released_batch: r, created_at: _c, ...rest }) => ({ ...rest, released: r !== null })),
    };
  } finally {
    await l.close();
  }
}

/** The --json output without what differs from run to run (batch ids). */
function stable(out: unknown): unknown {
  return JSON.parse(JSON.stringify(out), (k, v: unknown) => (k === 'batch' || k === 'batchId' ? undefined : v));
}

const cli = (db: string, prefetch: boolean, ...args: string[]) =>
  runCli(['--db', db, '--json', 'ledger', 'import', ...args], { env: { PACKOPS_CONSENT_PREFETCH: prefetch ? undefined : 'off' } });

describe('googleplay consent prefetch: the CLI with the thread and without it', () => {
  it('holds, writes and later releases exactly the same rows, for two files in one import', async () => {
    const results: unknown[] = [];
    for (const prefetch of [true, false]) {
      const db = ledgerCopy();
      const held = await cli(db, prefetch, 'googleplay', files.october, files.november, '--package', PKG, '--quarantine');
      expect(held.code, held.stdout.slice(0, 1500)).toBe(0);
      const first = held.json();
      expect(first.held.count).toBeGreaterThan(200); // the records left out of the log, and renewals of them
      expect(first.imported).toBeGreaterThan(2500);
      const afterHold = await contents(db);
      expect((await cli(db, prefetch, 'purchases', files.missing)).code).toBe(0);
      const released = await cli(db, prefetch, 'googleplay', files.october, files.november, '--package', PKG, '--quarantine');
      expect(released.code, released.stderr).toBe(0);
      expect(released.json().released).toBe(first.held.count);
      results.push({ first: stable(first), afterHold, released: stable(released.json()), afterRelease: await contents(db) });
    }
    expect(results[0]).toEqual(results[1]);
  });

  it('refuses the same rows with the same error, and writes nothing', async () => {
    const results: unknown[] = [];
    for (const prefetch of [true, false]) {
      const db = ledgerCopy();
      const refused = await cli(db, prefetch, 'googleplay', files.october, files.november, '--package', PKG);
      expect(refused.code).not.toBe(0);
      expect(refused.code).not.toBe(70);
      const error = refused.json().error;
      expect(error.code).toBe('CONSENT_MISSING');
      expect(error.details.badRows).toBeGreaterThan(200);
      const after = (await contents(db)) as { sales: unknown[] };
      expect(after.sales).toEqual([]);
      results.push(stable(error));
    }
    expect(results[0]).toEqual(results[1]);
  });
});

describe('googleplay consent prefetch: the thread itself', () => {
  /** One in-process import of both files (--quarantine) with the given prefetch option. */
  async function importBoth(prefetch: false | { worker: URL; answerWaitMs?: number }, quarantine = true): Promise<{ contents: unknown; summary?: unknown; error?: unknown; stats?: PrefetchStats[] }> {
    const db = ledgerCopy();
    const stats: PrefetchStats[] = [];
    const ledger: Ledger = await openLedger(db);
    let summary: unknown;
    let error: unknown;
    try {
      await ledger.familySecret();
      const importer = googlePlayImporter({ package: PKG, prefetch: prefetch && { ...prefetch, onClose: (s) => stats.push(s) } });
      summary = stable(await runImport(ledger, importer, [files.october, files.november], { quarantine }));
    } catch (err) {
      error = stable({ code: (err as { code?: string }).code, details: (err as { details?: unknown }).details });
    } finally {
      await ledger.close();
    }
    return { contents: await contents(db), summary, error, stats: prefetch ? stats : undefined };
  }

  it('answers every sales chunk from the thread, with the results of the main thread alone', async () => {
    const threaded = await importBoth({ worker: WORKER });
    const alone = await importBoth(false);
    // One prefetch per file; October's ~2,400 sales are 3 chunks, November's renewals 1.
    expect(threaded.stats).toEqual([
      { answered: 3, queried: 0 },
      { answered: 1, queried: 0 },
    ]);
    expect(threaded.summary).toEqual(alone.summary);
    expect(threaded.contents).toEqual(alone.contents);
  });

  it('falls back to the main thread when the thread cannot start', async () => {
    const broken = await importBoth({ worker: pathToFileURL(join(dir, 'no-such-worker.js')) });
    const alone = await importBoth(false);
    for (const s of broken.stats!) {
      expect(s.answered).toBe(0);
      expect(s.failure).toMatch(/worker/);
    }
    expect(broken.summary).toEqual(alone.summary);
    expect(broken.contents).toEqual(alone.contents);
  });

  // A thread that exits on its first request (the first check waits for it, then every check
  // queries), and one that never answers (given up after the wait): both change nothing.
  for (const [name, body, wait, failure] of [
    ['falls back when the thread dies', `parentPort.on('message', () => process.exit(3));`, undefined, 'worker exited (3)'],
    ['gives up a thread that does not answer, and falls back', `parentPort.on('message', () => undefined);`, 50, 'no answer in time'],
  ] as const) {
    it(name, async () => {
      const file = join(dir, `${failure.replace(/\W+/g, '-')}-worker.mjs`);
      writeFileSync(file, `import { parentPort } from 'node:worker_threads';\n${body}\n`);
      const broken = await importBoth({ worker: pathToFileURL(file), ...(wait !== undefined ? { answerWaitMs: wait } : {}) });
      const alone = await importBoth(false);
      expect(broken.stats).toEqual([
        { answered: 0, queried: 3, failure },
        { answered: 0, queried: 1, failure },
      ]);
      expect(broken.summary).toEqual(alone.summary);
      expect(broken.contents).toEqual(alone.contents);
    });
  }

  it('refuses as the main thread does, and closes every thread', async () => {
    const refused = await importBoth({ worker: WORKER }, false);
    const alone = await importBoth(false, false);
    expect(refused.error).toMatchObject({ code: 'CONSENT_MISSING' });
    expect(refused.error).toEqual(alone.error);
    expect(refused.stats).toEqual([
      { answered: 3, queried: 0 },
      { answered: 1, queried: 0 },
    ]);
    expect(refused.contents).toEqual(alone.contents);
  });

  it('stops the thread when the import fails half-way through its sales', async () => {
    const db = ledgerCopy();
    const stats: PrefetchStats[] = [];
    const ledger = await openLedger(db);
    try {
      await ledger.familySecret();
      const importer = googlePlayImporter({ package: PKG, prefetch: { worker: WORKER, onClose: (s) => stats.push(s) } });
      const check = importer.check.bind(importer);
      let calls = 0;
      importer.check = async (ctx, items) => {
        if (++calls === 2) throw new Error('stopped on the second chunk');
        return check(ctx, items);
      };
      await expect(runImport(ledger, importer, [files.october, files.november], { quarantine: true })).rejects.toThrow('stopped on the second chunk');
    } finally {
      await ledger.close();
    }
    // October's thread was closed (terminated, then reported) when the import stopped; November's never started.
    expect(stats).toEqual([{ answered: 1, queried: 0 }]);
    expect(((await contents(db)) as { sales: unknown[] }).sales).toEqual([]);
  });
});
