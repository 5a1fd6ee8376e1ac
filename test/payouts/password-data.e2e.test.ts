// A database password is a secret of the PostgreSQL ledger in use, never a filter over data:
// a PGPASSWORD (or a URL password) equal to a figure, a creator id or a pack slug of the
// report leaves stdout byte-identical to a run without it, in every format, on SQLite (where
// PGPASSWORD is not used at all) and on PostgreSQL. test/pg/redaction.e2e.test.ts proves the
// other half: the password itself is never shown.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, tempDir } from '../helpers/cli.js';
import { ledgerAt, ON_POSTGRES } from '../helpers/ledgers.js';
import { STORY, writeLedger } from './ledger-fixture.js';

let tmp: ReturnType<typeof tempDir>;
let db: string;

beforeAll(async () => {
  tmp = tempDir('packops-password-data-');
  db = await ledgerAt(tmp.dir, 'ledger.db');
  await (await writeLedger(db, STORY)).close();
});
afterAll(() => tmp.cleanup());

/** The ledger's location with `password` in it (PostgreSQL; the test server trusts this role, so it is sent but not needed). */
function withPassword(password: string): string {
  if (!ON_POSTGRES) return db;
  const u = new URL(db);
  u.password = encodeURIComponent(password);
  return u.toString();
}

const REPORTS = [
  ['payouts', 'report', '--period', '2026-10', '--json'],
  ['payouts', 'report', '--period', '2026-10', '--format', 'csv'],
  ['payouts', 'report', '--period', '2026-10', '--format', 'md'],
  ['creators', 'tiers', '--period', '2026-10', '--json'],
];

describe('a password equal to data', () => {
  it('leaves every report on stdout byte-identical', async () => {
    const run = (args: string[], location: string, env: Record<string, string> = {}) =>
      runCli([...args, '--db', location], { cwd: tmp.dir, env: { PGPASSWORD: '', ...env } });
    for (const args of REPORTS) {
      const plain = await run(args, db);
      expect(plain.code, plain.stderr).toBe(0);
      // A number (the minimum payout, 1000 by default), an 8-letter creator id, a pack slug,
      // and a figure of the report: each one is really in this output.
      const candidates = ['1000', 'ana-lima', 'forest-scenes', 'caro-diaz'];
      const inData = candidates.filter((c) => plain.stdout.includes(c));
      expect(inData.length, `${args.join(' ')}\n${plain.stdout}`).toBeGreaterThanOrEqual(args.includes('tiers') ? 1 : 3);
      for (const password of inData) {
        const r = await run(args, withPassword(password), { PGPASSWORD: password });
        expect(r.code, r.stderr).toBe(0);
        expect(r.stdout, `${args.join(' ')} with the password ${password}`).toBe(plain.stdout);
        expect(r.stdout).not.toContain('***');
      }
    }
  }, 120_000);

  it('PGPASSWORD is a secret only when it is the password in use: messages keep a word equal to it otherwise', async () => {
    // SQLite uses no password; a PostgreSQL URL with its own password does not use PGPASSWORD.
    const location = withPassword('url-own-password-77');
    const args = ['ledger', 'import', 'sales', 'october-sales.csv', '--db', location];
    const plain = await runCli(args, { cwd: tmp.dir, env: { PGPASSWORD: '' } });
    expect(plain.code).toBe(3);
    expect(plain.stderr).toContain('october-sales.csv');
    const r = await runCli(args, { cwd: tmp.dir, env: { PGPASSWORD: 'october-sales' } });
    expect(r.code).toBe(3);
    expect(r.stderr).toBe(plain.stderr);
  });
});
