// The acceptance check, rehearsed: ledgers nobody in src/payouts wrote (seeded random ones
// with collaborations, bundles, refunds, five currencies and tier changes, and hand-made
// edge cases) go in through the real commands, and every creator's statement from
// `payouts report --json` / `payouts close --json` / `creators tiers --json` is compared,
// cent by cent, with an independent implementation of PRODUCT.md §9 (./oracle/oracle.ts).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/cli.js';
import { computeUpTo, type OMonth } from './oracle/oracle.js';
import { MONTHS, randomScenario } from './oracle/generate.js';
import { handmade } from './oracle/handmade.js';
import { buildPool, cliIn, importScenario, type Pool, type Scenario } from './oracle/scenario.js';

let tmp: ReturnType<typeof tempDir>;
let pool: Pool;

beforeAll(async () => {
  tmp = tempDir('packops-oracle-');
  pool = await buildPool(join(tmp.dir, 'pool'));
}, 120_000);
afterAll(() => tmp?.cleanup());

const n = (x: bigint) => Number(x);

/** The oracle's month in the report's JSON terms. */
function expected(m: OMonth) {
  return {
    statements: m.statements.map((s) => ({
      creator: s.creator,
      tier: s.tier,
      earningsMinor: n(s.earnings),
      bonusMinor: n(s.bonus),
      carriedInMinor: n(s.carriedIn),
      balanceMinor: n(s.balance),
      payoutMinor: n(s.payout),
      carriedOutMinor: n(s.carriedOut),
    })),
    owners: m.owners.map((o) => ({ owner: o.owner, netMinor: n(o.net), creatorShareMinor: n(o.share), platformShareMinor: n(o.platform), splits: o.splits.map((s) => [s.creator, n(s.share)]).sort() })),
    tieOut: { ok: true, netMinor: n(m.totals.net), creatorShareMinor: n(m.totals.creatorShare), platformShareMinor: n(m.totals.platformShare), bonusMinor: n(m.totals.bonus) },
  };
}

function actual(doc: any) {
  return {
    statements: doc.statements.map((s: any) => ({
      creator: s.creator,
      tier: s.tier,
      earningsMinor: s.earningsMinor,
      bonusMinor: s.bonusMinor,
      carriedInMinor: s.carriedInMinor,
      balanceMinor: s.balanceMinor,
      payoutMinor: s.payoutMinor,
      carriedOutMinor: s.carriedOutMinor,
    })),
    owners: doc.owners.map((o: any) => ({ owner: o.owner, netMinor: o.netMinor, creatorShareMinor: o.creatorShareMinor, platformShareMinor: o.platformShareMinor, splits: o.splits.map((s: any) => [s.creator, s.shareMinor]).sort() })),
    tieOut: doc.tieOut,
  };
}

function tierFigures(m: OMonth, s: Scenario) {
  return s.creators
    .map((c) => {
      const st = m.statements.find((x) => x.creator === c);
      return st ? [c, st.tier, st.figures.packs, st.figures.ratingCount, st.figures.units, st.figures.monthsActive] : undefined;
    })
    .filter((x) => x !== undefined)
    .sort((a, b) => (String(a[0]) < String(b[0]) ? -1 : 1));
}

async function runScenario(name: string, s: Scenario, minimumMinor?: number) {
  const dir = join(tmp.dir, name);
  mkdirSync(dir, { recursive: true });
  if (minimumMinor !== undefined) writeFileSync(join(dir, 'packops.config.json'), JSON.stringify({ payouts: { minimumMinor } }));
  const input = { ...s, minimumMinor: minimumMinor === undefined ? undefined : BigInt(minimumMinor) };
  await importScenario(dir, pool, s);
  const { ok } = cliIn(dir);
  const last = MONTHS[MONTHS.length - 1]!;
  // Every month open: later months are provisional, computed from the earlier ones.
  const open = await ok(['payouts', 'report', '--period', last]);
  const want = computeUpTo(input, last);
  expect(actual(open), `${name} ${last} open`).toEqual(expected(want));
  expect(open.provisional).toBe(true);
  const tiers = await ok(['creators', 'tiers', '--period', last]);
  const got = tiers.creators
    .filter((c: any) => want.statements.some((x) => x.creator === c.creator))
    .map((c: any) => [c.creator, c.tier, c.figures.packsPublished, c.figures.ratingCount, c.figures.units, c.figures.monthsActive]);
  expect(got, `${name} tiers`).toEqual(tierFigures(want, s));
  // Close in order; each close stores what the oracle computes; the last month then agrees again.
  const frozen = new Map<string, Map<string, bigint>>();
  for (const month of MONTHS.slice(0, -1)) {
    const closed = await ok(['payouts', 'close', '--period', month]);
    const m = computeUpTo(input, month, frozen);
    expect(actual(closed), `${name} close ${month}`).toEqual(expected(m));
    frozen.set(month, new Map(m.statements.map((x) => [x.creator, x.carriedOut])));
  }
  const after = await ok(['payouts', 'report', '--period', last]);
  expect(after.provisional).toBe(false);
  expect(actual(after), `${name} ${last} after closes`).toEqual(expected(computeUpTo(input, last, frozen)));
  return { dir, want };
}

describe('payouts agree with an independent implementation of §9, cent by cent', () => {
  // (The hand-made ledger below uses the default minimum; this one takes it from the config.)
  it('random ledger (seed 45: no tier, Bronze and Silver; a collaboration of three), payouts.minimumMinor 2500 from packops.config.json', async () => {
    await runScenario('seed-45', randomScenario(45), 2500);
  }, 120_000);
});

describe('a hand-made ledger at the edges of §9', () => {
  it('agrees with the oracle month by month, open and closed, and a closed month never changes', async () => {
    const s = handmade();
    const { dir } = await runScenario('handmade', s);
    const { ok, run } = cliIn(dir);
    // Facts worked by hand (the oracle agrees; these pin the scenario's intent).
    const aug = await ok(['payouts', 'report', '--period', '2026-08']);
    const own1Aug = aug.statements.find((x: any) => x.creator === 'own-1');
    expect(own1Aug).toMatchObject({ tier: 'Silver', sharePercent: '72.50', figures: { packsPublished: 5, averageRating: '4.20', ratingCount: 5, units: 50, monthsActive: 4 }, bonusMinor: 0 });
    expect(aug.statements.find((x: any) => x.creator === 'own-4')).toMatchObject({ tier: null, figures: { ratingCount: 0, averageRating: null }, payoutMinor: 0, carriedOutMinor: -2098 });
    const sep = await ok(['payouts', 'report', '--period', '2026-09']);
    expect(sep.statements.find((x: any) => x.creator === 'own-1')).toMatchObject({ tier: 'Silver', figures: { units: 100 }, bonusMinor: 5000 });
    const oct = await ok(['payouts', 'report', '--period', '2026-10']);
    expect(oct.statements.find((x: any) => x.creator === 'own-1')).toMatchObject({ tier: null, sharePercent: '70.00', figures: { units: -94 }, bonusMinor: 0, payoutMinor: 0, carriedOutMinor: -19655 });
    expect(oct.statements.find((x: any) => x.creator === 'own-5')).toMatchObject({ earningsMinor: 0, carriedInMinor: 566, payoutMinor: 0, carriedOutMinor: 566 });
    expect(oct.statements.map((x: any) => x.creator)).not.toContain('cr-z');

    // Close October too, then November: no transaction is dated in it (the late pk-a sale is
    // 1 November UTC), yet every non-zero balance still gets a statement.
    const closedOct = await ok(['payouts', 'close', '--period', '2026-10']);
    const frozen = new Map<string, Map<string, bigint>>();
    for (const m of [...MONTHS]) frozen.set(m, new Map(computeUpTo(s, m).statements.map((x) => [x.creator, x.carriedOut])));
    const nov = await ok(['payouts', 'report', '--period', '2026-11']);
    expect(actual(nov)).toEqual(expected(computeUpTo(s, '2026-11', frozen)));
    expect(nov.statements.map((x: any) => [x.creator, x.carriedInMinor])).toEqual([['cr-x', 376], ['cr-y', 209], ['own-1', -19655], ['own-4', -75], ['own-5', 566]]);
    const twice = await run(['payouts', 'close', '--period', '2026-10']);
    expect(twice.code).toBe(4);
    expect(twice.json().error.code).toBe('PERIOD_CLOSED');
    // Later changes that §7 lets through must not move a closed month: a collaboration's
    // shares re-imported and a pack published back in August.
    writeFileSync(join(dir, 'creators2.json'), JSON.stringify({
      creators: s.creators.map((id) => ({ id, name: s.names?.[id] ?? `Creator ${id}`, payoutRef: `acct-${id}` })),
      collaborations: [{ id: 'own-2', name: 'Team own-2', lead: 'own-1', members: [{ creator: 'own-1', sharePercent: '10.00' }, { creator: 'cr-x', sharePercent: '90.00' }] }],
    }));
    const reimport = await run(['creators', 'import', 'creators2.json']);
    const after = await ok(['payouts', 'report', '--period', '2026-10']);
    expect(after.statements).toEqual(closedOct.statements);
    expect(after.owners).toEqual(closedOct.owners);
    expect(reimport.code === 0 || reimport.code === 4).toBe(true);
  }, 120_000);
});
