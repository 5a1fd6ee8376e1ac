// A plan sale's stored amount is input too: a value packops cannot have written (past 2^53,
// where a JavaScript Number would round it) makes `payouts report` fail with LEDGER_CORRUPT
// (exit 3) naming the row and column, never a statement built on a rounded amount.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, tempDir } from '../helpers/cli.js';
import { writeLedger } from '../payouts/ledger-fixture.js';

let tmp: ReturnType<typeof tempDir>;
let db: string;
const cli = (args: string[]) => runCli([...args, '--db', db, '--json'], { cwd: tmp.dir });

beforeAll(async () => {
  tmp = tempDir('packops-subs-stored-');
  db = join(tmp.dir, 'ledger.db');
  const ledger = await writeLedger(db, { creators: ['ana-lima'], packs: [{ slug: 'ocean', owner: 'ana-lima', price: 299, publishedAt: '2026-06-01T00:00:00Z' }] });
  await ledger.close();
  expect((await cli(['subscriptions', 'create', 'plus-monthly', '--name', 'Plus Monthly', '--months', '1', '--price', '699'])).code).toBe(0);
  const sales = join(tmp.dir, 'sales.csv');
  writeFileSync(
    sales,
    'transaction_id,occurred_at,store,kind,product,country,currency,gross_minor,store_fee_minor,tax_minor,consent_ref,family_ref,refund_of\n' +
      's1,2026-10-03T10:00:00Z,web,sale,plus-monthly,US,USD,699,0,0,vpc-1,fam-1,\n',
  );
  const imported = await cli(['ledger', 'import', 'sales', sales]);
  expect(imported.code, imported.stderr).toBe(0);
}, 60_000);
afterAll(() => tmp.cleanup());

describe('stored plan amounts', () => {
  it('a plan sale amount past 2^53 is LEDGER_CORRUPT naming sales.gross_minor, not a rounded statement', async () => {
    const ok = await cli(['payouts', 'report', '--period', '2026-10']);
    expect(ok.code, ok.stderr).toBe(0);
    const raw = new BetterSqlite3(db);
    try {
      // 2^53 + 1: SQLite keeps it exactly; a JavaScript Number cannot hold it.
      expect(raw.prepare("UPDATE sales SET gross_minor = 9007199254740993 WHERE transaction_id = 's1'").run().changes).toBe(1);
    } finally {
      raw.close();
    }
    const r = await cli(['payouts', 'report', '--period', '2026-10']);
    expect(r.code, r.stdout).toBe(3);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    const error = r.json().error;
    expect(error.code).toBe('LEDGER_CORRUPT');
    expect(error.details).toEqual({ table: 'sales', row: 'store=web transaction_id=s1', column: 'gross_minor' });
  });
});
