// The whole §14 pipeline against an oracle: random small months (monthly and annual plans,
// USD and EUR charges over the year before, refunds, usage with idle and usage-only
// families) go through the built CLI (`ledger import sales|usage`, `payouts report
// --json`) and the month's subscription figures must equal, to the cent, what a
// straightforward reading of PRODUCT.md §9.1 and §14 computes here. The oracle shares no
// code with src/: BigInt cents, its own rounding, its own schedule, its own allocation.
// (Checked against mutants: with the oracle's tie-break reversed, the first case fails.)
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, tempDir } from '../helpers/cli.js';
import { ledgerAt } from '../helpers/ledgers.js';
import { writeLedger } from '../payouts/ledger-fixture.js';

const PERIOD = '2026-10';
/** The report month and the 13 before it (charges as old as P−13: their schedules just ended). */
const MONTHS = Array.from({ length: 14 }, (_v, i) => {
  const index = 2026 * 12 + 9 - i;
  return `${Math.floor(index / 12)}-${String((index % 12) + 1).padStart(2, '0')}`;
});
const PACKS = ['a-z', 'a1', 'ab', 'farm', 'ocean'];
const FAMILIES = ['fam-0', 'fam-1', 'fam-2', 'fam-3', 'fam-4', 'fam-5', 'fam-6', 'fam-7'];
/** EUR → USD per month, 4 decimals (so conversions land on half cents now and then). */
const EUR_RATE = (month: string) => `1.0${String(800 + ((Number(month.slice(5)) * 37) % 100)).padStart(3, '0')}`;

interface Charge {
  id: string;
  family: string;
  months: 1 | 12;
  month: string;
  currency: 'USD' | 'EUR';
  gross: number;
  fee: number;
  tax: number;
  refunds: Array<{ id: string; month: string; gross: number; fee: number; tax: number }>;
}

const monthIndex = (m: string) => Number(m.slice(0, 4)) * 12 + Number(m.slice(5)) - 1;

const chargeArb = fc
  .record({
    family: fc.constantFrom(...FAMILIES.slice(0, 6)),
    months: fc.constantFrom<1 | 12>(1, 12),
    // Half the charges in the report month itself, the rest over the 13 months before.
    back: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 13 })),
    eur: fc.boolean(),
    gross: fc.integer({ min: 1, max: 20_000 }),
    feePct: fc.integer({ min: 0, max: 30 }),
    tax: fc.integer({ min: 0, max: 50 }),
    refunds: fc.array(fc.record({ after: fc.integer({ min: 0, max: 13 }), part: fc.integer({ min: 1, max: 100 }) }), { maxLength: 2 }),
  })
  .map(({ family, months, back, eur, gross, feePct, tax, refunds }) => {
    const fee = Math.floor((gross * feePct) / 100);
    const t = Math.min(tax, gross - fee);
    const month = MONTHS[back]!;
    // Refunds dated in the charge's month or later, up to the report month; together never
    // more than the sale, column by column.
    let leftGross = gross;
    let leftFee = fee;
    let leftTax = t;
    const rs = refunds
      .map((r) => ({ ...r, after: Math.min(r.after, back) }))
      .sort((a, b) => a.after - b.after)
      .map((r, i) => {
        const g = Math.max(0, Math.min(leftGross, Math.ceil((gross * r.part) / 200)));
        const f = Math.min(leftFee, Math.floor((fee * r.part) / 200));
        const x = Math.min(leftTax, Math.floor((t * r.part) / 200));
        leftGross -= g;
        leftFee -= f;
        leftTax -= x;
        return { id: `R${i}`, month: MONTHS[back - r.after]!, gross: g, fee: f, tax: x };
      })
      .filter((r) => r.gross > 0);
    return { family, months, month, currency: eur ? 'EUR' : 'USD', gross, fee, tax: t, refunds: rs } as Omit<Charge, 'id'>;
  });

const caseArb = fc.record({
  charges: fc.array(chargeArb, { maxLength: 9 }),
  // Mostly one day count, so remainders tie often and the slug tie-break decides cents.
  // (Now and then no usage at all: the month's money stays unallocated.)
  usage: fc.oneof(
    { weight: 5, arbitrary: fc.array(fc.tuple(fc.constantFrom(...FAMILIES), fc.constantFrom(...PACKS), fc.oneof(fc.constant(1), fc.constant(1), fc.constantFrom(2, 3, 7, 31)).map((d): number => d)), { minLength: 3, maxLength: 16 }) },
    { weight: 1, arbitrary: fc.constant([] as Array<[string, string, number]>) },
  ),
});

// ---- the oracle ------------------------------------------------------------------------

/** n/d for n ≥ 0, d > 0, half to even. */
function halfEven(n: bigint, d: bigint): bigint {
  const q = n / d;
  const r = n % d;
  if (2n * r > d || (2n * r === d && q % 2n === 1n)) return q + 1n;
  return q;
}

/** §9.1: a transaction's net in USD cents at its own month's rate (EUR has 2 decimals). */
function usdCents(net: number, currency: string, month: string): bigint {
  if (currency === 'USD') return BigInt(net);
  const [whole, frac = ''] = EUR_RATE(month).split('.');
  const num = BigInt(whole! + frac);
  const den = 10n ** BigInt(frac.length);
  return halfEven(BigInt(net) * num, den);
}

/** §14 recognition in `period`: M_f per family (a family is there when any of its transactions is live in the month). */
function recognise(charges: Charge[], period: string): Map<string, bigint> {
  const p = monthIndex(period);
  const m = new Map<string, bigint>();
  const add = (f: string, x: bigint) => m.set(f, (m.get(f) ?? 0n) + x);
  for (const c of charges) {
    const k0 = monthIndex(c.month);
    const net = usdCents(c.gross - c.fee - c.tax, c.currency, c.month);
    const refundNets = c.refunds.map((r) => ({ k: monthIndex(r.month), net: usdCents(r.gross - r.fee - r.tax, c.currency, r.month) }));
    for (const r of refundNets) if (r.k === p) add(c.family, -r.net);
    if (c.months === 1) {
      if (k0 === p) add(c.family, net);
      continue;
    }
    // The annual schedule: month i of 12 gets ⌊net/12⌋, the first net mod 12 one cent more.
    const schedule = Array.from({ length: 12 }, (_v, i) => net / 12n + (BigInt(i) < net % 12n ? 1n : 0n));
    const firstRefund = refundNets.length ? Math.min(...refundNets.map((r) => r.k)) : Infinity;
    const i = p - k0;
    if (i >= 0 && i < 12 && p < firstRefund) add(c.family, schedule[i]!);
    if (p === firstRefund) {
      let cancelled = 0n;
      for (let j = p - k0; j < 12; j++) cancelled += schedule[j]!;
      add(c.family, cancelled);
    }
  }
  return m;
}

/** Largest remainder of |total| over weights, ties to the key first in code-point order, sign restored. */
function split(total: bigint, items: Array<{ key: string; weight: bigint }>): Map<string, bigint> {
  const negative = total < 0n;
  const t = negative ? -total : total;
  const sum = items.reduce((s, x) => s + x.weight, 0n);
  const rows = items.map((x) => ({ key: x.key, share: (t * x.weight) / sum, rem: (t * x.weight) % sum }));
  let left = t - rows.reduce((s, r) => s + r.share, 0n);
  const order = [...rows].sort((a, b) => (a.rem !== b.rem ? (a.rem > b.rem ? -1 : 1) : a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  for (const r of order) {
    if (left === 0n) break;
    r.share += 1n;
    left -= 1n;
  }
  return new Map(rows.map((r) => [r.key, negative ? -r.share : r.share]));
}

function oracle(charges: Charge[], usage: Array<{ family: string; pack: string; days: number }>) {
  const M = recognise(charges, PERIOD);
  const byFamily = new Map<string, Array<{ pack: string; days: number }>>();
  for (const u of usage) byFamily.set(u.family, [...(byFamily.get(u.family) ?? []), u]);
  const packs = new Map<string, { families: number; days: number; fromUse: bigint; fromPool: bigint }>();
  for (const u of usage) {
    const p = packs.get(u.pack) ?? { families: 0, days: 0, fromUse: 0n, fromPool: 0n };
    p.families += 1;
    p.days += u.days;
    packs.set(u.pack, p);
  }
  let byUse = 0n;
  let pool = 0n;
  let idle = 0;
  for (const [f, amount] of M) {
    const own = byFamily.get(f);
    if (!own) {
      pool += amount;
      idle++;
      continue;
    }
    byUse += amount;
    for (const [pack, share] of split(amount, own.map((u) => ({ key: u.pack, weight: BigInt(u.days) })))) packs.get(pack)!.fromUse += share;
  }
  let unallocated = 0n;
  if (packs.size === 0) unallocated = pool;
  else for (const [pack, share] of split(pool, [...packs].map(([key, p]) => ({ key, weight: BigInt(p.days) })))) packs.get(pack)!.fromPool += share;
  const recognised = [...M.values()].reduce((s, x) => s + x, 0n);
  const inMonth = (m: string) => m === PERIOD;
  return {
    block: {
      recognisedMinor: Number(recognised),
      allocatedMinor: Number(recognised - unallocated),
      allocatedByUseMinor: Number(byUse),
      idlePooledMinor: Number(pool),
      unallocatedMinor: Number(unallocated),
      families: { subscribed: M.size, active: byFamily.size, idle },
      activeDays: usage.reduce((s, u) => s + u.days, 0),
      transactions: { sales: charges.filter((c) => inMonth(c.month)).length, refunds: charges.flatMap((c) => c.refunds).filter((r) => inMonth(r.month)).length },
    },
    lines: [...packs]
      .sort((a, b) => (a[0] < b[0] ? -1 : 1))
      .map(([pack, p]) => ({ pack, families: p.families, activeDays: p.days, netUsdMinor: Number(p.fromUse + p.fromPool), fromUseMinor: Number(p.fromUse), fromPoolMinor: Number(p.fromPool) })),
  };
}

// ---- through the CLI -------------------------------------------------------------------

let tmp: ReturnType<typeof tempDir>;
let runs = 0;
beforeAll(() => {
  tmp = tempDir('packops-subs-oracle-');
});
afterAll(() => tmp.cleanup());

const SALES_HEADER = 'transaction_id,occurred_at,store,kind,product,country,currency,gross_minor,store_fee_minor,tax_minor,consent_ref,family_ref,refund_of\n';

async function throughCli(charges: Charge[], usage: Array<{ family: string; pack: string; days: number }>) {
  const run = runs++;
  const db = await ledgerAt(tmp.dir, `oracle-${run}.db`);
  // The catalog, the plans and the rates are set up directly (they are not under test).
  const ledger = await writeLedger(db, {
    creators: ['ana-lima', 'bo-chen'],
    packs: PACKS.map((slug, i) => ({ slug, owner: i % 2 ? 'bo-chen' : 'ana-lima', price: 299, publishedAt: '2025-01-01T00:00:00Z' })),
    rates: MONTHS.map((m): [string, string, string] => ['EUR', m, EUR_RATE(m)]),
  });
  const plan = (id: string, months: number, price: number) => ({
    id, name: id, months, price_minor: price, currency: 'USD', appstore_product_id: null, googleplay_product_id: null, web_product_id: null, created_at: '2025-01-01T00:00:00.000Z',
  });
  await ledger.db.insertInto('plans').values([plan('plus-monthly', 1, 699), plan('plus-annual', 12, 5999)]).execute();
  await ledger.close();
  const cli = async (args: string[]) => {
    const r = await runCli([...args, '--json', '--db', db], { cwd: tmp.dir });
    if (r.code !== 0) throw new Error(`packops ${args.join(' ')} exited ${r.code}: ${r.stdout}${r.stderr}`);
    return r.json();
  };
  const file = (name: string, text: string) => {
    writeFileSync(join(tmp.dir, `${run}-${name}`), text);
    return `${run}-${name}`;
  };
  const rows: string[] = [];
  for (const c of charges) {
    const product = c.months === 1 ? 'plus-monthly' : 'plus-annual';
    rows.push(`${c.id},${c.month}-03T08:00:00Z,web,sale,${product},DE,${c.currency},${c.gross},${c.fee},${c.tax},consent-${c.id},${c.family},`);
    for (const r of c.refunds) rows.push(`${c.id}-${r.id},${r.month}-20T08:00:00Z,web,refund,${product},DE,${c.currency},${r.gross},${r.fee},${r.tax},,${c.family},${c.id}`);
  }
  if (rows.length) await cli(['ledger', 'import', 'sales', file('sales.csv', SALES_HEADER + rows.join('\n') + '\n')]);
  if (usage.length) await cli(['ledger', 'import', 'usage', file('usage.csv', `family_ref,pack,month,active_days\n${usage.map((u) => `${u.family},${u.pack},${PERIOD},${u.days}`).join('\n')}\n`)]);
  const doc = await cli(['payouts', 'report', '--period', PERIOD]);
  const lines = (doc.owners as Array<{ subscriptionLines: Array<Record<string, unknown>> }>)
    .flatMap((o) => o.subscriptionLines)
    .map((l) => ({ pack: l.pack, families: l.families, activeDays: l.activeDays, netUsdMinor: l.netUsdMinor, fromUseMinor: l.fromUseMinor, fromPoolMinor: l.fromPoolMinor }))
    .sort((a, b) => (String(a.pack) < String(b.pack) ? -1 : 1));
  return { block: doc.subscriptions, lines, tieOut: doc.tieOut };
}

describe('§14 end to end against an independent oracle', () => {
  it('random months: recognised, pooled, allocated and every pack line match to the cent', async () => {
    await fc.assert(
      fc.asyncProperty(caseArb, async ({ charges: drawn, usage: drawnUsage }) => {
        const charges: Charge[] = drawn.map((c, i) => ({ ...c, id: `S${i}` }));
        const seen = new Set<string>();
        const usage = drawnUsage
          .map(([family, pack, days]) => ({ family, pack, days }))
          .filter((u) => !seen.has(`${u.family}|${u.pack}`) && seen.add(`${u.family}|${u.pack}`));
        const want = oracle(charges, usage);
        const got = await throughCli(charges, usage);
        const { tieOut, ...block } = got.block as Record<string, unknown>;
        expect(block).toEqual(want.block);
        expect(tieOut).toMatchObject({ ok: true, recognisedMinor: want.block.recognisedMinor, unallocatedMinor: want.block.unallocatedMinor });
        expect(got.lines).toEqual(want.lines);
      }),
      // Each case is three CLI runs on a fresh ledger; the unit properties cover volume.
      { numRuns: 6 },
    );
  }, 600_000);

  it('the oracle itself: §14’s worked rounding cases', () => {
    // Annual 1999 cents: 166 × 12 = 1992, the first 7 months 167.
    const annual: Charge = { id: 'A', family: 'fam-0', months: 12, month: '2026-01', currency: 'USD', gross: 1999, fee: 0, tax: 0, refunds: [] };
    expect([...recognise([annual], '2026-07').values()]).toEqual([167n]);
    expect([...recognise([annual], '2026-08').values()]).toEqual([166n]);
    // A refund of 500 in month 5 (May) cancels May–December (2 × 167 + 5 × 166 + ... ) and recognises that − 500.
    const refunded = { ...annual, refunds: [{ id: 'R', month: '2026-05', gross: 500, fee: 0, tax: 0 }] };
    expect(recognise([refunded], '2026-05').get('fam-0')).toBe(167n * 3n + 166n * 5n - 500n);
    expect(recognise([refunded], '2026-06').size).toBe(0);
    // Three tied packs: 100 → 34/33/33, the extra cent to the slug first in code-point order ("a-z" < "a1" < "ab").
    expect(Object.fromEntries(split(100n, ['ab', 'a1', 'a-z'].map((key) => ({ key, weight: 10n }))))).toEqual({ 'a-z': 34n, a1: 33n, ab: 33n });
    expect(Object.fromEntries(split(-100n, ['ab', 'a1', 'a-z'].map((key) => ({ key, weight: 10n }))))).toEqual({ 'a-z': -34n, a1: -33n, ab: -33n });
    expect(halfEven(25n, 10n)).toBe(2n);
    expect(halfEven(35n, 10n)).toBe(4n);
  });
});
