// The pages' 12-month history uses the engine's active months (§14, §16): an open month that
// only subscription money makes active (an annual schedule, usage) is a provisional month
// of the history, as it is of the carried-in balances, not "no statement".
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, tempDir } from '../helpers/cli.js';
import { ledgerAt, rawQuery } from '../helpers/ledgers.js';
import { STORY, writeLedger } from './ledger-fixture.js';

const HEADER = 'transaction_id,occurred_at,store,kind,product,country,currency,gross_minor,store_fee_minor,tax_minor,consent_ref,family_ref,refund_of';

let tmp: ReturnType<typeof tempDir>;
let db: string;

beforeAll(async () => {
  tmp = tempDir('packops-pages-history-');
  db = await ledgerAt(tmp.dir, 'ledger.db');
  await (await writeLedger(db, STORY)).close();
}, 60_000);
afterAll(() => tmp.cleanup());

const cli = (args: string[]) => runCli([...args, '--db', db], { cwd: tmp.dir, env: { SOURCE_DATE_EPOCH: String(Date.parse('2026-12-06T00:00:00Z') / 1000) } });
const file = (name: string, text: string) => {
  writeFileSync(join(tmp.dir, name), text);
  return name;
};
const ok = async (args: string[]) => {
  const r = await cli([...args, '--json']);
  expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
  return r.json();
};

describe('the history of the statement pages', () => {
  it('shows an open month with only subscription money as provisional, with the earnings the engine carries from it', async () => {
    await ok(['subscriptions', 'create', 'plus-annual', '--name', 'Plus Annual', '--months', '12', '--price', '5999']);
    await ok(['ledger', 'import', 'sales', file('subs.csv', `${HEADER}\nsub-1,2026-10-03T00:00:00Z,web,sale,plus-annual,US,USD,5999,0,0,vpc-a,fam-A,\n`)]);
    await ok(['ledger', 'import', 'usage', file('use.csv', 'family_ref,pack,month,active_days\nfam-A,ocean-creatures,2026-10,3\nfam-A,forest-scenes,2026-11,5\n')]);
    await ok(['payouts', 'close', '--period', '2026-09']);
    await ok(['payouts', 'close', '--period', '2026-10']);
    await ok(['ledger', 'import', 'sales', file('dec.csv', `${HEADER}\nd-1,2026-12-03T00:00:00Z,web,sale,counting-garden,US,USD,299,0,0,vpc,fam-B,\n`)]);
    // November holds no sale or refund: only the annual schedule and usage make it active.
    expect(await rawQuery(db, "SELECT count(*) AS n FROM sales WHERE month = '2026-11'")).toEqual([{ n: 0 }]);
    const nov = await ok(['payouts', 'report', '--period', '2026-11']);
    const anaNov = nov.statements.find((s: { creator: string }) => s.creator === 'ana-lima').earningsMinor;
    expect(anaNov).toBeGreaterThan(0);

    const doc = await ok(['payouts', 'report', '--period', '2026-12', '--format', 'html', '--out', 'pages']);
    expect(doc.provisionalMonths).toEqual(['2026-11']);
    expect(doc.history.map((h: { month: string; status: string }) => [h.month, h.status])).toEqual([
      ['2026-09', 'closed'],
      ['2026-10', 'closed'],
      ['2026-11', 'open'],
      ['2026-12', 'open'],
    ]);
    const novHistory = doc.history.find((h: { month: string }) => h.month === '2026-11');
    expect(novHistory.payoutMinor).toBe(nov.totals.payoutMinor);
    expect(novHistory.creators.find((c: { creator: string }) => c.creator === 'ana-lima').earningsMinor).toBe(anaNov);
  }, 120_000);
});
