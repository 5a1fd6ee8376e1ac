// Spawned-CLI tests of bundles create|seasonal|list and price institution.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, tempDir } from '../helpers/cli.js';
import { ledgerAt } from '../helpers/ledgers.js';
import { seedLedger } from '../ledger/seed.js';

let tmp: ReturnType<typeof tempDir>;
let db: string;
beforeAll(async () => {
  tmp = tempDir();
  db = await ledgerAt(tmp.dir, 'l.db');
  await (await seedLedger(db)).close();
});
afterAll(() => tmp.cleanup());

describe('packops bundles', () => {
  it('create with --discount and --charm stores the computed price; list shows it', async () => {
    const r = await runCli(['bundles', 'create', 'nature-pair', '--name', 'Nature Pair', '--packs', 'forest-scenes,ocean-creatures', '--discount', '0.30', '--charm', '--db', db, '--json']);
    expect(r.code, r.stderr).toBe(0);
    // 898 × 0.70 = 628.6 → 629 → charm → 599.
    expect(r.json()).toMatchObject({ ok: true, status: 'created', bundle: { slug: 'nature-pair', individualTotalMinor: 898, priceMinor: 599, savingsPercent: '33.3' } });
    const list = await runCli(['bundles', 'list', '--db', db, '--json']);
    expect(list.json().bundles.map((b: { slug: string }) => b.slug)).toEqual(['nature-pair', 'starter-bundle']);
    const table = await runCli(['bundles', 'list', '--db', db]);
    expect(table.stdout).toContain('Nature Pair (nature-pair)');
    expect(table.stdout).toMatch(/bundle price\s+\$5\.99/);
  });

  it('needs exactly one of --price and --discount (usage error, exit 2)', async () => {
    const both = await runCli(['bundles', 'create', 'x-pair', '--name', 'X', '--packs', 'forest-scenes,ocean-creatures', '--price', '500', '--discount', '0.1', '--db', db, '--json']);
    expect(both.code).toBe(2);
    const badPrice = await runCli(['bundles', 'create', 'x-pair', '--name', 'X', '--packs', 'forest-scenes,ocean-creatures', '--price', '4.99', '--db', db]);
    expect(badPrice.code).toBe(2);
  });

  it('seasonal: the winter collection on a December day; nothing available is BUNDLE_EMPTY (exit 4)', async () => {
    const ok = await runCli(['bundles', 'seasonal', 'winter', '--discount', '0.25', '--today', '2026-12-01', '--db', db, '--json']);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.json().bundle).toMatchObject({ slug: 'winter-collection', name: 'Winter Collection', priceMinor: 149, individualTotalMinor: 199, availableUntil: '2027-01-30' });
    const empty = await runCli(['bundles', 'seasonal', 'winter', '--discount', '0.25', '--today', '2026-06-01', '--slug', 'early-winter', '--db', db, '--json']);
    expect(empty.code).toBe(4);
    expect(empty.json()).toMatchObject({ ok: false, error: { code: 'BUNDLE_EMPTY' } });
  });
});

describe('packops price institution', () => {
  it('prints an itemised quote as a table or JSON', async () => {
    const r = await runCli(['price', 'institution', '--type', 'private_school', '--students', '55', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json()).toMatchObject({ ok: true, quote: { subtotalMinor: 27445, discountMinor: 2745, totalMinor: 24700, currency: 'USD' } });
    const t = await runCli(['price', 'institution', '--type', 'daycare', '--students', '60']);
    expect(t.stdout).toMatch(/10 additional students × \$2\.99\s+\$29\.90/);
    expect(t.stdout).toMatch(/total\s+\$229\.89/);
  });

  it('refuses --families for a school and --students for a homeschool group (exit 2), and unknown types', async () => {
    expect((await runCli(['price', 'institution', '--type', 'public_school', '--families', '3'])).code).toBe(2);
    expect((await runCli(['price', 'institution', '--type', 'homeschool_group', '--students', '30'])).code).toBe(2);
    expect((await runCli(['price', 'institution', '--type', 'library', '--students', '30'])).code).toBe(2);
    expect((await runCli(['price', 'institution', '--type', 'daycare', '--students', '0'])).code).toBe(2);
  });

  it('keeps every amount exact: a count up to 1,000,000,000 is quoted to the cent, a larger one is a usage error', async () => {
    // 19999 + (1e9 − 50) × 299 = 299000005049 (a count near 2^53 used to print $…850.48).
    const big = await runCli(['price', 'institution', '--type', 'daycare', '--students', '1000000000', '--json']);
    expect(big.code, big.stderr).toBe(0);
    expect(big.json().quote).toMatchObject({ subtotalMinor: 299000005049, discountMinor: 0, totalMinor: 299000005049 });
    const tooBig = await runCli(['price', 'institution', '--type', 'daycare', '--students', '100000000000000', '--json']);
    expect(tooBig.code).toBe(2);
    expect(tooBig.json().error.code).toBe('USAGE');
    expect((await runCli(['price', 'institution', '--type', 'homeschool_group', '--families', '1000000001'])).code).toBe(2);
  });
});
