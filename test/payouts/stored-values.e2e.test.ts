// What the ledger holds is input too: a damaged stored value makes a command fail with
// LEDGER_CORRUPT (exit 3) naming table, row and column — never exit 70, never a stack
// trace. A closed month's tiers are the ones its close stored. Quarantined rows are shown by
// payouts report in every format, and stay with the closed month.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { runCli, tempDir } from '../helpers/cli.js';
import { importFile } from '../../src/ledger/import/index.js';
import { LEDGER_FIXTURES, seedLedger } from '../ledger/seed.js';
import { SALES_HEADER } from '../ledger/generate.js';

let tmp: ReturnType<typeof tempDir>;
let base: string; // fixtures imported, 2026-10 closed, one November sale

beforeAll(async () => {
  tmp = tempDir('packops-stored-');
  base = join(tmp.dir, 'base.db');
  const ledger = await seedLedger(base);
  await importFile(ledger, 'rates', join(LEDGER_FIXTURES, 'rates.csv'));
  await importFile(ledger, 'sales', join(LEDGER_FIXTURES, 'sales-2026-10.csv'));
  await importFile(ledger, 'reviews', join(LEDGER_FIXTURES, 'reviews.csv'));
  await ledger.close();
  const nov = join(tmp.dir, 'nov.csv');
  writeFileSync(nov, `${SALES_HEADER}\nn1,2026-11-02T10:00:00Z,web,sale,ocean-creatures,US,USD,499,150,0,vpc-n1,,\n`);
  expect((await runCli(['ledger', 'import', 'sales', nov, '--db', base])).code).toBe(0);
  const closed = await runCli(['payouts', 'close', '--period', '2026-10', '--db', base, '--json']);
  expect(closed.code, closed.stderr).toBe(0);
}, 120_000);
afterAll(() => tmp.cleanup());

function copyWith(name: string, sql: string): string {
  const db = join(tmp.dir, `${name}.db`);
  copyFileSync(base, db);
  const raw = new BetterSqlite3(db);
  try {
    expect(raw.prepare(sql).run().changes, sql).toBeGreaterThan(0);
  } finally {
    raw.close();
  }
  return db;
}

const COMMANDS: Record<string, string[]> = {
  'report closed': ['payouts', 'report', '--period', '2026-10'],
  'report open': ['payouts', 'report', '--period', '2026-11'],
  'pages open': ['payouts', 'report', '--period', '2026-11', '--format', 'html', '--out', 'PAGES'],
  'tiers closed': ['creators', 'tiers', '--period', '2026-10'],
  'tiers open': ['creators', 'tiers', '--period', '2026-11'],
  'close': ['payouts', 'close', '--period', '2026-11'],
  'catalog report': ['catalog', 'report'],
  'bundles seasonal': ['bundles', 'seasonal', 'summer', '--discount', '0.2', '--today', '2026-07-01'],
  'bundles create': ['bundles', 'create', 'sea-and-trees', '--name', 'Sea and Trees', '--packs', 'ocean-creatures,forest-scenes', '--discount', '0.2'],
};

describe('a damaged ledger value is LEDGER_CORRUPT, never exit 70', () => {
  const cases: Array<{ name: string; sql: string; fails: string[]; table: string; column: string }> = [
    // The case found in review: one bad published_at made every payouts command exit 70.
    { name: 'published_at', sql: "UPDATE packs SET published_at = '1' WHERE slug = 'ocean-creatures'", fails: ['report open', 'tiers open', 'close'], table: 'packs', column: 'published_at' },
    { name: 'sale amount as text', sql: "UPDATE sales SET gross_minor = 'abc' WHERE transaction_id = 'n1'", fails: ['report open', 'close'], table: 'sales', column: 'gross_minor' },
    { name: 'sale amount with a fraction', sql: "UPDATE sales SET store_fee_minor = 1.5 WHERE transaction_id = 'n1'", fails: ['report open', 'close'], table: 'sales', column: 'store_fee_minor' },
    // An App Store row knows its net only: that net is checked as it is read, like the gross.
    { name: 'net-only sale amount as text', sql: "UPDATE sales SET gross_minor = NULL, store_fee_minor = NULL, tax_minor = NULL, net_minor = 'abc' WHERE transaction_id = 'n1'", fails: ['report open', 'close'], table: 'sales', column: 'net_minor' },
    { name: 'net-only sale amount past 2^53', sql: "UPDATE sales SET gross_minor = NULL, store_fee_minor = NULL, tax_minor = NULL, net_minor = 9007199254740993 WHERE transaction_id = 'n1'", fails: ['report open', 'close'], table: 'sales', column: 'net_minor' },
    { name: 'sale kind', sql: "UPDATE sales SET kind = 'gift' WHERE transaction_id = 'n1'", fails: ['report open', 'tiers open', 'close'], table: 'sales', column: 'kind' },
    // The report seeks odd kinds in three ranges of its index: below 'refund' (above), between 'refund' and 'sale', above 'sale'.
    { name: 'sale kind between refund and sale', sql: "UPDATE sales SET kind = 'return' WHERE transaction_id = 'n1'", fails: ['report open', 'tiers open', 'close'], table: 'sales', column: 'kind' },
    { name: 'sale kind above sale', sql: "UPDATE sales SET kind = 'sales' WHERE transaction_id = 'n1'", fails: ['report open', 'tiers open', 'close'], table: 'sales', column: 'kind' },
    { name: 'tier share', sql: "UPDATE creator_tiers SET revenue_share_percent = 'lots'", fails: ['report open', 'tiers open', 'close'], table: 'creator_tiers', column: 'revenue_share_percent' },
    { name: 'tier bonus', sql: "UPDATE creator_tiers SET monthly_bonus_minor = 'x' WHERE monthly_bonus_minor IS NOT NULL", fails: ['report open', 'tiers open', 'close'], table: 'creator_tiers', column: 'monthly_bonus_minor' },
    { name: 'member share', sql: "UPDATE collaboration_members SET share_bp = 'half'", fails: ['report open', 'tiers open', 'close'], table: 'collaboration_members', column: 'share_bp' },
    { name: 'bundle item price', sql: "UPDATE bundle_items SET price_minor = 'x'", fails: ['report open', 'tiers open', 'close'], table: 'bundle_items', column: 'price_minor' },
    { name: 'review rating', sql: "UPDATE reviews SET rating = 'x' WHERE rowid = 1", fails: ['report open', 'tiers open', 'close', 'catalog report'], table: 'reviews', column: 'rating' },
    { name: 'stored report', sql: "UPDATE closed_periods SET totals = '{' WHERE month = '2026-10'", fails: ['report closed', 'tiers closed'], table: 'closed_periods', column: 'totals' },
    { name: 'stored statement', sql: "UPDATE statements SET detail = '{}' WHERE rowid = 1", fails: ['report closed', 'tiers closed'], table: 'statements', column: 'detail' },
    // The statement pages' 12-month history reads the closed months' stored statements.
    { name: 'stored payout', sql: "UPDATE statements SET payout_minor = 'x' WHERE rowid = 1", fails: ['pages open'], table: 'statements', column: 'payout_minor' },
    { name: 'stored earnings past 2^53', sql: 'UPDATE statements SET earnings_minor = 9007199254740993 WHERE rowid = 1', fails: ['pages open'], table: 'statements', column: 'earnings_minor' },
    { name: 'carried balance', sql: "UPDATE statements SET carried_out_minor = 'x' WHERE rowid = 1", fails: ['report open', 'close'], table: 'statements', column: 'carried_out_minor' },
    { name: 'pack tags not JSON', sql: "UPDATE packs SET tags = '[\"summer\"' WHERE slug = 'ocean-creatures'", fails: ['bundles seasonal'], table: 'packs', column: 'tags' },
    { name: 'pack tags not a list of strings', sql: "UPDATE packs SET tags = '{\"summer\":1}' WHERE slug = 'ocean-creatures'", fails: ['bundles seasonal'], table: 'packs', column: 'tags' },
    { name: 'pack price', sql: "UPDATE packs SET price_minor = 'x' WHERE slug = 'ocean-creatures'", fails: ['bundles create'], table: 'packs', column: 'price_minor' },
  ];
  for (const c of cases) {
    it(`${c.name}: ${c.fails.join(', ')} fail with LEDGER_CORRUPT naming ${c.table}.${c.column}; no command exits 70`, async () => {
      const db = copyWith(c.name.replace(/\W+/g, '-'), c.sql);
      // Every command for the headline case; for the others, the ones that read the value.
      const labels = c === cases[0] ? Object.keys(COMMANDS) : [...new Set([...c.fails, 'report closed'])];
      for (const label of labels) {
        const args = COMMANDS[label]!;
        const work = join(tmp.dir, `${c.name.replace(/\W+/g, '-')}-${label.replace(/\W+/g, '-')}.db`);
        copyFileSync(db, work);
        const r = await runCli([...args.map((a) => (a === 'PAGES' ? join(tmp.dir, `${label.replace(/\W+/g, '-')}-${c.name.replace(/\W+/g, '-')}-pages`) : a)), '--db', work, '--json']);
        expect(r.code, `${label}: ${r.stderr}`).not.toBe(70);
        expect(r.stderr, label).not.toMatch(/\n\s+at /);
        if (c.fails.includes(label)) {
          expect(r.code, `${label}: ${r.stdout}`).toBe(3);
          const error = r.json().error;
          expect(error.code, label).toBe('LEDGER_CORRUPT');
          expect(error.details, label).toMatchObject({ table: c.table, column: c.column });
          expect(error.message, label).toContain(`${c.table} (`);
        }
      }
    }, 120_000);
  }
});

describe('creators tiers of a closed month', () => {
  it('reads the tier table stored by the close: later changes to the ledger do not move it', async () => {
    const db = join(tmp.dir, 'tiers.db');
    copyFileSync(base, db);
    const tiers = async (period: string) => {
      const r = await runCli(['creators', 'tiers', '--period', period, '--db', db, '--json']);
      expect(r.code, r.stderr).toBe(0);
      return r.json();
    };
    const closedBefore = await tiers('2026-10');
    const report = (await runCli(['payouts', 'report', '--period', '2026-10', '--db', db, '--json'])).json();
    // The stored tiers agree with the stored statements.
    for (const s of report.statements) {
      expect(closedBefore.creators.find((c: { creator: string }) => c.creator === s.creator)).toMatchObject({ tier: s.tier, figures: s.figures });
    }
    // The tier definitions change afterwards (every minimum raised out of reach).
    const raw = new BetterSqlite3(db);
    raw.prepare('UPDATE creator_tiers SET minimum_packs_published = 99').run();
    raw.close();
    expect(await tiers('2026-10')).toEqual(closedBefore);
    // An open month is computed from the ledger as it is now.
    const open = await tiers('2026-11');
    expect(open.tiers.every((t: { minimums: { packs: number } }) => t.minimums.packs === 99)).toBe(true);
    expect(open.creators.every((c: { tier: string | null }) => c.tier === null)).toBe(true);
    expect(closedBefore.creators.some((c: { tier: string | null }) => c.tier !== null)).toBe(true);
  });
});

describe('quarantined rows in payouts report', () => {
  it('are shown per month and reason, with amounts per currency, in json, table, md and csv; the close keeps them', async () => {
    const db = join(tmp.dir, 'quarantine.db');
    copyFileSync(base, db);
    const file = join(tmp.dir, 'q.csv');
    writeFileSync(
      file,
      [
        SALES_HEADER,
        'q1,2026-11-02T10:00:00Z,web,sale,no-such-pack,US,USD,499,0,0,vpc-q1,,',
        'q2,2026-11-03T10:00:00+01:00,web,sale,no-such-pack,DE,EUR,399,0,0,vpc-q2,,',
        'q3,2026-11-03T11:00:00Z,web,sale,no-such-pack,DE,EUR,100,0,0,vpc-q3,,',
        'q4,2026-11-03T12:00:00Z,web,sale,ocean-creatures,US,USD,299,0,0,,,',
        'q5,2026-11-04T10:00:00Z,web,sale,ocean-creatures,US,USD,4.99,0,0,vpc-q5,,',
        'q6,2026-12-04T10:00:00Z,web,sale,no-such-pack,US,USD,700,0,0,vpc-q6,,',
        'q7,2026-11-05T10:00:00Z,web,sale,ocean-creatures,US,USD,100,0,0,vpc-q7,,',
      ].join('\n') + '\n',
    );
    const imported = await runCli(['ledger', 'import', 'sales', file, '--quarantine', '--db', db, '--json']);
    expect(imported.code, imported.stderr).toBe(0);
    expect(imported.json()).toMatchObject({ imported: 1, quarantined: 6 });
    const expected = [
      { month: '2026-11', reason: 'ROW_CONSENT_MISSING', label: 'quarantined: consent missing', rows: 1, amounts: [{ currency: 'USD', amountMinor: 299 }], rowsWithoutAmount: 0 },
      { month: '2026-11', reason: 'ROW_INVALID', label: 'quarantined: invalid value', rows: 1, amounts: [], rowsWithoutAmount: 1 },
      {
        month: '2026-11',
        reason: 'ROW_PRODUCT_UNKNOWN',
        label: 'quarantined: unknown product',
        rows: 3,
        amounts: [{ currency: 'EUR', amountMinor: 499 }, { currency: 'USD', amountMinor: 499 }],
        rowsWithoutAmount: 0,
      },
    ];
    const json = await runCli(['payouts', 'report', '--period', '2026-11', '--db', db, '--json']);
    expect(json.code, json.stderr).toBe(0);
    expect(json.json().quarantine).toEqual(expected);
    expect(json.stderr).toContain('2026-11 quarantined: unknown product: 3 row(s), EUR 4.99, USD 4.99 (in no statement).');
    const table = await runCli(['payouts', 'report', '--period', '2026-11', '--db', db]);
    expect(table.stdout).toMatch(/2026-11\s+ROW_PRODUCT_UNKNOWN\s+quarantined: unknown product\s+3\s+EUR\s+4\.99\s+0/);
    expect(table.stdout).toMatch(/ROW_CONSENT_MISSING\s+quarantined: consent missing\s+1\s+USD\s+2\.99/);
    const md = await runCli(['payouts', 'report', '--period', '2026-11', '--format', 'md', '--db', db]);
    expect(md.stdout).toContain('## Not in any statement');
    expect(md.stdout).toContain('| 2026-11 | ROW_PRODUCT_UNKNOWN | quarantined: unknown product | 3 | EUR | 4.99 | 0 |');
    const out = join(tmp.dir, 'csv-out');
    const csv = await runCli(['payouts', 'report', '--period', '2026-11', '--format', 'csv', '--out', out, '--db', db]);
    expect(csv.code, csv.stderr).toBe(0);
    expect(readFileSync(join(out, 'payouts-2026-11.quarantine.csv'), 'utf8')).toContain('2026-11,ROW_PRODUCT_UNKNOWN,quarantined: unknown product,,USD,4.99,');
    const csvStdout = await runCli(['payouts', 'report', '--period', '2026-11', '--format', 'csv', '--db', db]);
    expect(csvStdout.stderr).toContain('quarantined: consent missing: 1 row(s), USD 2.99');

    // December's report has December's row only.
    const dec = await runCli(['payouts', 'report', '--period', '2026-12', '--db', db, '--json']);
    expect(dec.json().quarantine).toEqual([
      { month: '2026-12', reason: 'ROW_PRODUCT_UNKNOWN', label: 'quarantined: unknown product', rows: 1, amounts: [{ currency: 'USD', amountMinor: 700 }], rowsWithoutAmount: 0 },
    ]);

    // Closing stores the block with the month; the closed report shows the same.
    const closed = await runCli(['payouts', 'close', '--period', '2026-11', '--db', db, '--json']);
    expect(closed.code, closed.stderr).toBe(0);
    expect(closed.json().quarantine).toEqual(expected);
    const after = await runCli(['payouts', 'report', '--period', '2026-11', '--db', db, '--json']);
    expect(after.json()).toMatchObject({ status: 'closed', quarantine: expected });

    // A month closed by an earlier packops has no stored block: its report still works and
    // shows the rows dated in it (none can be quarantined into a closed month since).
    const raw = new BetterSqlite3(db);
    const row = raw.prepare("SELECT totals FROM closed_periods WHERE month = '2026-11'").get() as { totals: string };
    const old = JSON.parse(row.totals);
    delete old.quarantine;
    delete old.tiers;
    raw.prepare("UPDATE closed_periods SET totals = ? WHERE month = '2026-11'").run(JSON.stringify(old));
    raw.close();
    const legacy = await runCli(['payouts', 'report', '--period', '2026-11', '--db', db, '--json']);
    expect(legacy.code, legacy.stderr).toBe(0);
    expect(legacy.json()).toMatchObject({ status: 'closed', quarantine: expected, totals: after.json().totals });
    const legacyTiers = await runCli(['creators', 'tiers', '--period', '2026-11', '--db', db, '--json']);
    expect(legacyTiers.code, legacyTiers.stderr).toBe(0);
    for (const s of after.json().statements) {
      expect(legacyTiers.json().creators.find((c: { creator: string }) => c.creator === s.creator)).toMatchObject({ tier: s.tier, figures: s.figures });
    }
  }, 120_000);
});
