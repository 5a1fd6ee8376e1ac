// Spawned-CLI tests of `payouts report|close` and `creators tiers` on a real SQLite ledger.
// Run `npx tsc -p tsconfig.build.json` first (npm test does).
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseCsv } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, tempDir } from '../helpers/cli.js';
import { ledgerAt } from '../helpers/ledgers.js';
import { STORY, writeLedger } from './ledger-fixture.js';

let tmp: ReturnType<typeof tempDir>;
let db: string;

beforeAll(async () => {
  tmp = tempDir('packops-payouts-e2e-');
  db = await ledgerAt(tmp.dir, 'ledger.db');
  const ledger = await writeLedger(db, STORY);
  // A creator name that a spreadsheet would run as a formula.
  await ledger.db.updateTable('creators').set({ name: '=HYPERLINK("http://x","Caro")' }).where('id', '=', 'caro-diaz').execute();
  await ledger.close();
});
afterAll(() => tmp.cleanup());

const cli = (args: string[], cwd?: string) => runCli([...args, '--db', db], { cwd: cwd ?? tmp.dir });


/** A ledger of two packs with one October sale each: forest-scenes owned by `forestOwner`, ocean-creatures by ana-lima. */
async function twoPackLedger(dir: string, creators: string[], forestOwner: string): Promise<string> {
  const location = await ledgerAt(dir, 'ledger.db');
  const ledger = await writeLedger(location, {
    creators,
    packs: [
      { slug: 'forest-scenes', owner: forestOwner, price: 399, publishedAt: '2026-05-15T09:00:00Z' },
      { slug: 'ocean-creatures', owner: 'ana-lima', price: 499, publishedAt: '2026-05-15T09:00:00Z' },
    ],
    sales: [
      { id: 's-1', at: '2026-10-03T10:00:00Z', product: 'forest-scenes', gross: 399, fee: 120 },
      { id: 's-2', at: '2026-10-04T10:00:00Z', product: 'ocean-creatures', gross: 499, fee: 150 },
    ],
  });
  await ledger.close();
  return location;
}

describe('packops payouts report', () => {
  it('--json prints one document with statements, totals and the tie-out', async () => {
    const r = await cli(['payouts', 'report', '--period', '2026-10', '--json']);
    expect(r.code).toBe(0);
    const doc = r.json();
    expect(doc).toMatchObject({ ok: true, period: '2026-10', currency: 'USD', status: 'open', provisional: true, provisionalMonths: ['2026-09'] });
    expect(doc.tieOut).toEqual({ ok: true, netMinor: 1029, creatorShareMinor: 720, platformShareMinor: 309, bonusMinor: 0 });
    expect(doc.statements.map((s: any) => [s.creator, s.payoutMinor, s.carriedOutMinor])).toEqual([
      ['ana-lima', 0, 971],
      ['bo-chen', 0, 466],
      ['caro-diaz', 0, 176],
    ]);
    expect(r.stderr).toMatch(/provisional/);
  });

  it('takes the minimum payout from packops.config.json', async () => {
    const dir = tempDir('packops-payouts-cfg-');
    try {
      writeFileSync(join(dir.dir, 'packops.config.json'), JSON.stringify({ payouts: { minimumMinor: 400 } }));
      const r = await cli(['payouts', 'report', '--period', '2026-10', '--json'], dir.dir);
      expect(r.code).toBe(0);
      const doc = r.json();
      expect(doc.minimumMinor).toBe(400);
      expect(doc.statements.map((s: any) => s.payoutMinor)).toEqual([407, 466, 0]);
      writeFileSync(join(dir.dir, 'packops.config.json'), JSON.stringify({ payouts: { minimumMinor: 4.5 } }));
      const bad = await cli(['payouts', 'report', '--period', '2026-10', '--json'], dir.dir);
      expect(bad.code).toBe(3);
      expect(bad.json().error.code).toBe('CONFIG_INVALID');
    } finally {
      dir.cleanup();
    }
  });

  it('the table shows every statement and the tie-out', async () => {
    const r = await cli(['payouts', 'report', '--period', '2026-10']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^ana-lima \(Ana Lima\) — tier none at 70\.00%/m);
    expect(r.stdout).toMatch(/member share 30\.00%/);
    expect(r.stdout).toMatch(/Tie-out: Σ net 10\.29 = Σ creator shares 7\.20 \+ Σ platform shares 3\.09 — ok/);
  });

  it('--format md prints Markdown for people', async () => {
    const r = await cli(['payouts', 'report', '--period', '2026-10', '--format', 'md']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^# Creator payouts 2026-10$/m);
    expect(r.stdout).toMatch(/^\| section \| pack \|/m);
    expect(r.stdout).toMatch(/^## Totals and tie-out$/m);
  });

  it('--format csv --out writes a summary and one RFC 4180 file per creator, guarded against formulas', async () => {
    const out = join(tmp.dir, 'statements');
    const r = await cli(['payouts', 'report', '--period', '2026-10', '--format', 'csv', '--out', out]);
    expect(r.code).toBe(0);
    expect(readdirSync(out).sort()).toEqual(['creators', 'payouts-2026-10-summary.csv']);
    expect(readdirSync(join(out, 'creators')).sort()).toEqual([
      'payouts-2026-10-ana-lima.csv',
      'payouts-2026-10-bo-chen.csv',
      'payouts-2026-10-caro-diaz.csv',
    ]);
    expect(r.stdout.trim().split('\n').map((f) => f.slice(out.length + 1)).sort()).toEqual([
      'creators/payouts-2026-10-ana-lima.csv',
      'creators/payouts-2026-10-bo-chen.csv',
      'creators/payouts-2026-10-caro-diaz.csv',
      'payouts-2026-10-summary.csv',
    ]);
    const summary = readFileSync(join(out, 'payouts-2026-10-summary.csv'), 'utf8');
    expect(summary.startsWith('\uFEFFcreator,name,tier,share_percent,units,earnings_usd')).toBe(true);
    expect(summary).toContain('\r\n');
    // Leading "=" neutralised with an apostrophe, quotes doubled, field quoted.
    expect(summary).toContain(`caro-diaz,"'=HYPERLINK(""http://x"",""Caro"")",,70.00,2,0.93,0.00,0.83,1.76,0.00,1.76\r\n`);
    const ana = readFileSync(join(out, 'creators', 'payouts-2026-10-ana-lima.csv'), 'utf8');
    // Negative amounts stay numbers.
    // Two trailing columns (families, active_days) are filled on subscription lines only.
    expect(ana).toContain('own,forest-scenes,starter,USD,1,0,1,-1,-9.99,-3.00,0.00,-6.99,-2.33,70.00,,,\r\n');
    expect(ana).toContain('balance,carried out,,USD,,,,,,,,,,,9.71,,\r\n');
    expect(readdirSync(out).some((f) => f.endsWith('.tmp'))).toBe(false);
  });

  it('--format csv --out: a creator whose id is "summary" gets its own file and never replaces the summary', async () => {
    const dir = tempDir('packops-payouts-csv-names-');
    try {
      const named = await twoPackLedger(dir.dir, ['summary', 'ana-lima'], 'summary');
      const out = join(dir.dir, 'out');
      const r = await runCli(['payouts', 'report', '--period', '2026-10', '--format', 'csv', '--out', out, '--json', '--db', named], { cwd: dir.dir });
      expect(r.code, r.stderr).toBe(0);
      expect(readdirSync(out).sort()).toEqual(['creators', 'payouts-2026-10-summary.csv']);
      expect(readdirSync(join(out, 'creators')).sort()).toEqual(['payouts-2026-10-ana-lima.csv', 'payouts-2026-10-summary.csv']);
      // The summary is the summary: one row per statement, both creators in it.
      const summary = readFileSync(join(out, 'payouts-2026-10-summary.csv'), 'utf8');
      expect(summary.startsWith('\uFEFFcreator,name,tier,')).toBe(true);
      expect(summary).toMatch(/\r\nana-lima,/);
      expect(summary).toMatch(/\r\nsummary,/);
      // The creator "summary" has its own statement lines.
      const creator = readFileSync(join(out, 'creators', 'payouts-2026-10-summary.csv'), 'utf8');
      expect(creator).toContain('own,forest-scenes,');
      expect(creator).not.toContain('ocean-creatures');
    } finally {
      dir.cleanup();
    }
  });

  it('--format csv --out refuses a creator id that is not one kebab-case segment, and writes nothing', async () => {
    const dir = tempDir('packops-payouts-csv-hostile-');
    try {
      const hostile = await twoPackLedger(dir.dir, ['ana-lima'], '../../escape');
      const out = join(dir.dir, 'out');
      const r = await runCli(['payouts', 'report', '--period', '2026-10', '--format', 'csv', '--out', out, '--json', '--db', hostile], { cwd: dir.dir });
      expect(r.code).toBe(3);
      expect(r.json().error.code).toBe('STATEMENT_FILE_NAME');
      expect(r.stderr).not.toMatch(/\n\s+at /);
      expect(existsSync(out)).toBe(false);
      expect(existsSync(join(dir.dir, 'escape'))).toBe(false);
    } finally {
      dir.cleanup();
    }
  });

  it('a bad period is a usage error (exit 2); a missing ledger an input error (exit 3)', async () => {
    const bad = await cli(['payouts', 'report', '--period', '2026-13', '--json']);
    expect(bad.code).toBe(2);
    expect(bad.json().error.code).toBe('USAGE');
    const missing = await runCli(['payouts', 'report', '--period', '2026-10', '--db', join(tmp.dir, 'nope.db')], { cwd: tmp.dir });
    expect(missing.code).toBe(3);
    expect(missing.stderr).toMatch(/PATH_NOT_FOUND/);
    expect(missing.stderr).not.toMatch(/\n\s+at /);
    expect(existsSync(join(tmp.dir, 'nope.db'))).toBe(false);
  });

  it('--help shows an example', async () => {
    const r = await runCli(['payouts', 'report', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/\$ packops payouts report --period 2026-10/);
  });
});

describe('packops creators tiers', () => {
  it('--json lists the four figures, the tier and the unmet minimum of the next tier', async () => {
    const r = await cli(['creators', 'tiers', '--period', '2026-10', '--json']);
    expect(r.code).toBe(0);
    const ana = r.json().creators.find((c: any) => c.creator === 'ana-lima');
    expect(ana).toMatchObject({
      tier: null,
      sharePercent: '70.00',
      figures: { packsPublished: 2, averageRating: '4.50', units: 3, monthsActive: 6 },
      next: { tier: 'Bronze', unmet: [{ minimum: 'units', required: '10', actual: '3' }] },
    });
  });

  it('--format csv leaves a missing rating empty instead of writing a formula-escaped "\'-"', async () => {
    const r = await cli(['creators', 'tiers', '--period', '2026-09', '--format', 'csv']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).not.toContain("'-");
    const rows = parseCsv(r.stdout) as string[][];
    const caro = rows.find((row) => row[0] === 'caro-diaz')!;
    // creator,name,packs,rating,reviews,…: no reviews of ocean-creatures by the end of September.
    expect(caro.slice(2, 5)).toEqual(['1', '', '0']);
  });
});

describe('packops payouts close', () => {
  it('closes in order; twice is PERIOD_CLOSED; the closed month reports the same numbers', async () => {
    const early = await cli(['payouts', 'close', '--period', '2026-10', '--json']);
    expect(early.code).toBe(4);
    expect(early.json().error).toMatchObject({ code: 'PERIOD_ORDER', details: { open: ['2026-09'] } });

    expect((await cli(['payouts', 'close', '--period', '2026-09', '--json'])).code).toBe(0);
    const preview = (await cli(['payouts', 'report', '--period', '2026-10', '--json'])).json();
    expect(preview.provisional).toBe(false);
    const closed = await cli(['payouts', 'close', '--period', '2026-10']);
    expect(closed.code).toBe(0);
    expect(closed.stdout).toMatch(/^Closed 2026-10: 3 statement\(s\)/);

    const again = await cli(['payouts', 'close', '--period', '2026-10', '--json']);
    expect(again.code).toBe(4);
    expect(again.json().error.code).toBe('PERIOD_CLOSED');

    const after = (await cli(['payouts', 'report', '--period', '2026-10', '--json'])).json();
    expect(after.status).toBe('closed');
    expect(after.statements).toEqual(preview.statements);
    expect(after.totals).toEqual(preview.totals);
  });
});
