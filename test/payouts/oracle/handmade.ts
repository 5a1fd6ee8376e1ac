/**
 * A hand-made four-month ledger aimed at the edges of §9 (see the comments per month).
 * The oracle computes the expected figures; a few are also written out by hand in the test.
 */
import type { Scenario } from './scenario.js';

type Tx = Scenario['transactions'][number];
let seq = 0;
const sale = (at: string, product: string, currency: string, gross: number, fee = 0, tax = 0, store = 'appstore'): Tx => ({ store, id: `h-${++seq}`, kind: 'sale', occurredAt: at, product, currency, gross, fee, tax });
const refund = (of: Tx, at: string, gross = of.gross, fee = of.fee, tax = of.tax): Tx => ({ store: of.store, id: `h-${++seq}`, kind: 'refund', occurredAt: at, product: of.product, currency: of.currency, gross, fee, tax, refundOf: of.id });
const times = <T>(k: number, f: (i: number) => T): T[] => Array.from({ length: k }, (_, i) => f(i));
const day = (month: string, i: number) => `${month}-${String(1 + (i % 27)).padStart(2, '0')}T${String(i % 24).padStart(2, '0')}:15:00Z`;

export function handmade(): Scenario {
  seq = 0;
  const tx: Tx[] = [];
  // July. own-1 (pk-a, pk-b alone; co-owns pk-c, pk-d via own-2 and pk-e, pk-f via own-3) is
  // Bronze on 12 units. own-4 sells 5 × 9.99: 4995 × 70% = 3496.5 → 3496 (half to even), paid.
  // own-5 sells once and never again: 566 carried through every later month.
  tx.push(...times(12, (i) => sale(day('2026-07', i), 'pk-a', 'USD', 499, 150)));
  const julyJpy = sale('2026-07-03T08:00:00+09:00', 'pk-c', 'JPY', 1001);
  const julyTrio = sale('2026-07-09T10:00:00Z', 'trio', 'KWD', 1234, 100, 34);
  tx.push(julyJpy, julyTrio);
  const own4July = times(5, (i) => sale(day('2026-07', i + 3), 'pk-g', 'USD', 999, 0, 0, 'web'));
  tx.push(...own4July, sale('2026-07-20T12:00:00Z', 'pk-h', 'USD', 1299, 390, 100));
  // August. own-1: exactly 50 units (49 + a co-owned pk-e sale), 5 packs (pk-e published 2026-07-31T23:30-02:00, i.e. in
  // August UTC), rating exactly 4.20 by month end → Silver. own-4's July sales refunded in
  // part: a negative balance carried. A GBP sale refunded in two parts later.
  const augA = times(49, (i) => sale(day('2026-08', i), 'pk-a', 'USD', 499, 150));
  tx.push(...augA);
  tx.push(...own4July.slice(0, 3).map((s, i) => refund(s, day('2026-08', i + 10))));
  const gbp = sale('2026-08-30T23:30:00-05:00', 'pk-e', 'GBP', 449, 112, 75); // 31 Aug 04:30 UTC
  tx.push(gbp);
  // September. own-1: exactly 100 units (95 + 2 duo bundles × 2 packs + pk-e; Silver bonus 5000); a partial refund of an August
  // sale (no unit); the first half of a two-part refund; the duo bundle with a slug tie.
  const sepB = times(95, (i) => sale(day('2026-09', i), 'pk-b', 'EUR', 399, 120, 0, 'googleplay'));
  tx.push(...sepB);
  tx.push(refund(augA[0]!, '2026-09-02T00:00:00Z', 200, 50, 0));
  tx.push(refund(augA[1]!, '2026-09-03T00:00:00Z', 300, 0, 0));
  tx.push(sale('2026-09-10T09:00:00Z', 'duo', 'USD', 299), sale('2026-09-11T09:00:00Z', 'pk-g', 'USD', 999, 0, 0, 'web'));
  tx.push(sale('2026-09-12T09:00:00Z', 'pk-e', 'KWD', 999));
  const sepDuo = sale('2026-09-13T09:00:00Z', 'duo', 'EUR', 1500, 300, 240);
  tx.push(sepDuo);
  tx.push(refund(gbp, '2026-09-15T00:00:00Z', 100, 12, 5));
  // October. own-1: 91 of September's sales refunded, plus the completing half of a two-part
  // refund (1 unit) and a zero-gross fee-only refund after it (no second unit): units −92,
  // no tier, a negative month after a bonus month. The July trio bundle refunded at
  // October's KWD rate; a partial duo refund; an indivisible cent in a collaboration of three.
  tx.push(...sepB.slice(0, 91).map((s, i) => refund(s, day('2026-10', i))));
  tx.push(refund(augA[1]!, '2026-10-04T00:00:00Z', 199, 100, 0));
  tx.push(refund(augA[1]!, '2026-10-05T00:00:00Z', 0, 50, 0));
  tx.push(refund(julyTrio, '2026-10-06T00:00:00+03:00'));
  tx.push(refund(sepDuo, '2026-10-07T00:00:00Z', 500, 100, 80));
  tx.push(sale('2026-10-08T00:00:00Z', 'pk-d', 'USD', 100), ...times(2, (i) => sale(day('2026-10', i + 20), 'pk-g', 'USD', 999, 0, 0, 'web')));
  tx.push(refund(gbp, '2026-10-31T23:59:59Z', 349, 100, 70));
  tx.push(sale('2026-10-31T23:30:00-01:00', 'pk-a', 'USD', 499, 150)); // 1 November UTC: not October

  return {
    creators: ['cr-x', 'cr-y', 'cr-z', 'own-1', 'own-4', 'own-5'],
    names: { 'cr-y': 'Caro Díaz, "CY"', 'own-4': '=cmd|calc' },
    collaborations: [
      { id: 'own-2', lead: 'own-1', members: [{ creator: 'own-1', percent: '40.00' }, { creator: 'cr-x', percent: '33.33' }, { creator: 'cr-y', percent: '26.67' }] },
      { id: 'own-3', lead: 'cr-x', members: [{ creator: 'cr-x', percent: '50.00' }, { creator: 'own-1', percent: '50.00' }] },
    ],
    packs: [
      { slug: 'pk-a', owner: 'own-1', publishedAt: '2026-05-10T00:00:00Z' },
      { slug: 'pk-b', owner: 'own-1', publishedAt: '2026-05-10T00:00:00Z' },
      { slug: 'pk-c', owner: 'own-2', publishedAt: '2026-06-01T00:00:00Z' },
      { slug: 'pk-d', owner: 'own-2', publishedAt: '2026-06-01T00:00:00Z' },
      { slug: 'pk-e', owner: 'own-3', publishedAt: '2026-07-31T23:30:00-02:00' },
      { slug: 'pk-f', owner: 'own-3', publishedAt: '2026-09-30T23:59:59Z' },
      { slug: 'pk-g', owner: 'own-4', publishedAt: '2026-07-15T00:00:00Z' },
      { slug: 'pk-h', owner: 'own-5', publishedAt: '2026-07-01T00:00:00Z' },
    ],
    bundles: [
      { slug: 'trio', items: [{ pack: 'pk-a', priceMinor: 499 }, { pack: 'pk-c', priceMinor: 299 }, { pack: 'pk-g', priceMinor: 333 }] },
      { slug: 'duo', items: [{ pack: 'pk-b', priceMinor: 399 }, { pack: 'pk-d', priceMinor: 199 }] },
    ],
    transactions: tx,
    reviews: [
      { pack: 'pk-a', rating: 4, reviewedAt: '2026-07-02T00:00:00Z' },
      { pack: 'pk-b', rating: 4, reviewedAt: '2026-07-03T00:00:00Z' },
      { pack: 'pk-c', rating: 5, reviewedAt: '2026-07-04T00:00:00Z' },
      { pack: 'pk-a', rating: 4, reviewedAt: '2026-08-02T00:00:00Z' },
      { pack: 'pk-e', rating: 4, reviewedAt: '2026-08-03T00:00:00Z' },
      // 31 August local, 1 September UTC: counts from September (would sink August to 4.00).
      { pack: 'pk-d', rating: 3, reviewedAt: '2026-08-31T23:30:00-01:00' },
      ...times(3, (i) => ({ pack: 'pk-f', rating: 5, reviewedAt: day('2026-09', i) })),
      { pack: 'pk-h', rating: 5, reviewedAt: '2026-07-21T00:00:00Z' },
    ],
    rates: [
      ...['2026-07', '2026-08', '2026-09', '2026-10'].flatMap((m, i) => [
        { currency: 'JPY', month: m, usdPerUnit: ['0.0067', '0.0068', '0.0067', '0.00665'][i]! },
        { currency: 'KWD', month: m, usdPerUnit: ['3.2541', '3.25', '3.2617', '3.26'][i]! },
        { currency: 'GBP', month: m, usdPerUnit: ['1.27', '1.2650', '1.2710', '1.265'][i]! },
        { currency: 'EUR', month: m, usdPerUnit: ['1.0850', '1.0725', '1.09', '1.0835'][i]! },
      ]),
    ],
  };
}
