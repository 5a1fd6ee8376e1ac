// A database password never appears anywhere: not on stdout or stderr (pretty, --json,
// --verbose), not in any file a command writes, not in any row of the ledger, whether it
// came in the URL or in PGPASSWORD, and whether the command succeeded or failed.
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, tempDir, type RunResult } from '../helpers/cli.js';
import { freshPgDatabase, rawQuery } from '../helpers/ledgers.js';
import { LEDGER_FIXTURES, seedLedger } from '../ledger/seed.js';
import { SALES_HEADER } from '../ledger/generate.js';

const URL_PASSWORD = 'Zq7!Redact@Me:5566';
const ENV_PASSWORD = 'Pgpass-Env-9911';
const SECRETS = [URL_PASSWORD, encodeURIComponent(URL_PASSWORD), ENV_PASSWORD];

let tmp: ReturnType<typeof tempDir>;
let plain: string;
let withPassword: string;

beforeAll(async () => {
  tmp = tempDir('packops-pg-redact-');
  plain = await freshPgDatabase('redact');
  await (await seedLedger(plain)).close();
  const u = new URL(plain);
  u.password = encodeURIComponent(URL_PASSWORD);
  withPassword = u.toString();
  expect(withPassword).toContain(encodeURIComponent(URL_PASSWORD));
}, 120_000);
afterAll(() => tmp.cleanup());

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? files(p) : [p];
  });
}

describe('passwords are never shown', () => {
  it('in output, errors, files or stored rows, for every command, succeeding or failing', async () => {
    const bad = join(tmp.dir, 'bad.csv');
    writeFileSync(bad, `${SALES_HEADER}\nr-1,2026-10-09T10:00:00Z,web,sale,ocean-creatures,US,USD,499,15,0,vpc-1,fam-1,\nr-2,2026-10-09T10:00:00,web,sale,ocean-creatures,US,USD,499,15,0,vpc-2,,\n`);
    const port = new URL(plain).port;
    const down = `postgres://packops:${encodeURIComponent(URL_PASSWORD)}@127.0.0.1:9/ledger`;
    const env = { PGPASSWORD: ENV_PASSWORD };
    const noPw = plain; // the password comes from PGPASSWORD here
    const runs: Array<[string[], Record<string, string>?]> = [
      [['ledger', 'migrate', '--db', withPassword]],
      [['ledger', 'migrate', '--db', withPassword, '--json']],
      [['ledger', 'migrate', '--json'], { PACKOPS_DB: withPassword }],
      [['ledger', 'migrate', '--db', noPw, '--json']],
      [['ledger', 'import', 'rates', join(LEDGER_FIXTURES, 'rates.csv'), '--db', withPassword, '--json']],
      [['ledger', 'import', 'sales', join(LEDGER_FIXTURES, 'sales-2026-10.csv'), '--db', withPassword]],
      [['ledger', 'import', 'sales', bad, '--db', withPassword]],
      [['ledger', 'import', 'sales', bad, '--db', withPassword, '--json', '--verbose']],
      [['ledger', 'import', 'sales', bad, '--db', noPw, '--quarantine', '--json']],
      [['ledger', 'import', 'reviews', join(LEDGER_FIXTURES, 'reviews.csv'), '--db', noPw]],
      [['creators', 'import', join(LEDGER_FIXTURES, 'creators.json'), '--db', withPassword, '--json']],
      [['creators', 'tiers', '--period', '2026-10', '--db', withPassword, '--json']],
      [['payouts', 'report', '--period', '2026-10', '--db', withPassword]],
      [['payouts', 'report', '--period', '2026-10', '--db', withPassword, '--format', 'md']],
      [['payouts', 'report', '--period', '2026-10', '--db', withPassword, '--format', 'csv', '--out', join(tmp.dir, 'csv')]],
      [['payouts', 'close', '--period', '2026-10', '--db', withPassword, '--json']],
      [['payouts', 'close', '--period', '2026-10', '--db', withPassword, '--verbose']],
      [['bundles', 'list', '--db', withPassword, '--json']],
      [['bundles', 'create', 'pair', '--name', 'Pair', '--packs', 'forest-scenes,ocean-creatures', '--discount', '0.2', '--db', withPassword, '--json']],
      [['catalog', 'publish', '--out', join(tmp.dir, 'site'), '--db', withPassword, '--json']],
      [['ledger', 'copy', withPassword, join(tmp.dir, 'copy.db'), '--json']],
      [['ledger', 'copy', join(tmp.dir, 'copy.db'), withPassword, '--json']],
      [['ledger', 'copy', join(tmp.dir, 'copy.db'), withPassword]],
      [['ledger', 'migrate', '--db', down]],
      [['ledger', 'migrate', '--db', down, '--json', '--verbose']],
      [['payouts', 'report', '--period', '2026-10', '--db', `${withPassword}?bogus=1`]],
      [['payouts', 'report', '--period', '2026-10', '--db', `${withPassword}?sslmode=sometimes`, '--json']],
      [['payouts', 'report', '--period', '2026-10', '--db', `${withPassword}?sslmode=require`, '--json']],
      [['payouts', 'report', '--period', '2026-10', '--db', `postgres://packops@127.0.0.1:${port}/${new URL(plain).pathname.slice(1)}?password=${encodeURIComponent(URL_PASSWORD)}`, '--json']],
      [['ledger', 'migrate', '--db', `postgres://packops:${encodeURIComponent(URL_PASSWORD)}@127.0.0.1:${port}/packops_missing_db`]],
      [['ledger', 'import', 'nope', 'x.csv', '--db', withPassword]],
    ];
    const results: RunResult[] = [];
    for (const [args, extra] of runs) {
      const r = await runCli(args, { cwd: tmp.dir, env: { ...env, ...extra } });
      expect(r.code, `${args.join(' ')}\n${r.stderr}`).not.toBe(70);
      results.push(r);
    }
    // The run really exercised both paths.
    expect(results.some((r) => r.code === 0)).toBe(true);
    expect(results.filter((r) => r.code !== 0).length).toBeGreaterThanOrEqual(8);
    expect(results[1]!.json().db).toContain(':***@');
    for (const [i, r] of results.entries()) {
      for (const s of SECRETS) {
        expect(r.stdout, `stdout of ${runs[i]![0].join(' ')}`).not.toContain(s);
        expect(r.stderr, `stderr of ${runs[i]![0].join(' ')}`).not.toContain(s);
      }
    }
    for (const file of files(tmp.dir)) {
      const text = readFileSync(file).toString('latin1');
      for (const s of SECRETS) expect(text.includes(s), file).toBe(false);
    }
    const tables = await rawQuery<{ t: string }>(plain, "SELECT table_name AS t FROM information_schema.tables WHERE table_schema = 'public'");
    expect(tables.length).toBeGreaterThan(10);
    for (const { t } of tables) {
      const rows = JSON.stringify(await rawQuery(plain, `SELECT * FROM "${t}"`));
      for (const s of SECRETS) expect(rows.includes(s), t).toBe(false);
    }
  }, 300_000);
});
