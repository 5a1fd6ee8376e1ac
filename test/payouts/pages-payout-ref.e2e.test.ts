// A closed month's finance summary shows the payout references stored with the close (§9: a
// closed month reports the same forever), not today's; a month closed before references
// were stored says so instead of showing a live reference as if it had been paid to it.
import { writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURES, runCli, tempDir } from '../helpers/cli.js';
import { ledgerAt, ON_POSTGRES, rawQuery } from '../helpers/ledgers.js';
import { STORY, writeLedger } from './ledger-fixture.js';

let tmp: ReturnType<typeof tempDir>;
let db: string;

beforeAll(async () => {
  tmp = tempDir('packops-pages-payout-ref-');
  db = await ledgerAt(tmp.dir, 'ledger.db');
  await (await writeLedger(db, STORY)).close();
  // Every positive balance is paid, so the summary lists payouts and their references.
  writeFileSync(join(tmp.dir, 'packops.config.json'), JSON.stringify({ payouts: { minimumMinor: 0 } }));
}, 60_000);
afterAll(() => tmp.cleanup());

const cli = (args: string[]) => runCli([...args, '--db', db], { cwd: tmp.dir, env: { SOURCE_DATE_EPOCH: String(Date.parse('2026-12-06T00:00:00Z') / 1000) } });
const ok = async (args: string[]) => {
  const r = await cli([...args, '--json']);
  expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
  return r.json();
};
/** The fixture creators (acct-001…), or with every reference moved to `<prefix>-<id>`. */
const creators = (prefix?: string) => {
  const spec = JSON.parse(readFileSync(join(FIXTURES, 'ledger', 'creators.json'), 'utf8'));
  if (prefix) for (const c of spec.creators as Array<{ id: string; payoutRef: string }>) c.payoutRef = `${prefix}-${c.id}`;
  const file = join(tmp.dir, `creators-${prefix ?? 'fixture'}.json`);
  writeFileSync(file, JSON.stringify(spec));
  return file;
};
const summary = (out: string, period: string) => readFileSync(join(tmp.dir, out, period, 'summary.html'), 'utf8');
type Ref = { creator: string; payoutRef: string | null };

describe('payout references on the finance summary', () => {
  it('a closed month shows those stored at its close; an open month today’s; a month closed without them says so', async () => {
    await ok(['creators', 'import', creators()]);
    await ok(['payouts', 'close', '--period', '2026-09']);
    const closed = await ok(['payouts', 'close', '--period', '2026-10']);
    const before = await ok(['payouts', 'report', '--period', '2026-10']);
    // The stored references are not part of the report: JSON and CSV of the month are unchanged.
    expect(closed).not.toHaveProperty('payoutRefs');
    expect(before).not.toHaveProperty('payoutRefs');

    await ok(['creators', 'import', creators('moved')]);
    expect((await ok(['payouts', 'report', '--period', '2026-10'])).statements).toEqual(before.statements);
    const oct = await ok(['payouts', 'report', '--period', '2026-10', '--format', 'html', '--out', 'after']);
    expect(oct.payoutRefsSource).toBe('stored');
    const paid = oct.statements.filter((x: { payoutMinor: number }) => x.payoutMinor > 0).map((x: { creator: string }) => x.creator);
    expect(paid.length).toBeGreaterThan(0);
    const fixtureRefs = new Map([['ana-lima', 'acct-001'], ['bo-chen', 'acct-002'], ['caro-diaz', 'acct-003']]);
    for (const r of oct.payoutRefs as Ref[]) expect(r.payoutRef).toBe(fixtureRefs.get(r.creator));
    const page = summary('after', '2026-10');
    for (const creator of paid) expect(page).toContain(fixtureRefs.get(creator));
    expect(page).not.toContain('moved-');
    expect(page).toMatch(/Payout references as stored when the month was closed/);

    const nov = await ok(['payouts', 'report', '--period', '2026-11', '--format', 'html', '--out', 'open']);
    expect(nov.payoutRefsSource).toBe('live');
    expect(nov.payoutRefs.every((r: Ref) => r.payoutRef === `moved-${r.creator}`)).toBe(true);

    // A month closed by an earlier packops stored no references.
    const drop = ON_POSTGRES ? "(totals::jsonb - 'payoutRefs')::text" : "json_remove(totals, '$.payoutRefs')";
    await rawQuery(db, `UPDATE closed_periods SET totals = ${drop} WHERE month = '2026-10'`);
    const old = await ok(['payouts', 'report', '--period', '2026-10', '--format', 'html', '--out', 'old']);
    expect(old.payoutRefsSource).toBe('not stored');
    expect(old.payoutRefs.every((r: Ref) => r.payoutRef === null)).toBe(true);
    const oldPage = summary('old', '2026-10');
    expect(oldPage).not.toContain('moved-');
    expect(oldPage).toMatch(/not stored with this closed month/);
  }, 120_000);
});
