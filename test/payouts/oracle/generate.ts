/** Seeded random ledgers over the archive pool: collaborations, bundles, refunds, currencies. */
import { POOL, type Scenario } from './scenario.js';
import { mulberry32 } from '../../helpers/random.js';

export const rng = mulberry32;

export const MONTHS = ['2026-07', '2026-08', '2026-09', '2026-10'];
const OFFSETS = ['Z', '+09:00', '-05:00', '+05:30', '-11:00', '+14:00'];
const RATES: Record<string, string[]> = {
  JPY: ['0.0067', '0.0068', '0.00665', '0.0069'],
  KWD: ['3.2541', '3.25', '3.2617', '3.2541'],
  GBP: ['1.27', '1.2650', '1.2710', '1.265'],
  EUR: ['1.0850', '1.0725', '1.09', '1.0835'],
};

/** An ISO instant `ms` written in the given offset ("Z" or "+hh:mm"). */
export function withOffset(ms: number, offset: string): string {
  if (offset === 'Z') return new Date(ms).toISOString().replace('.000Z', 'Z');
  const sign = offset[0] === '-' ? -1 : 1;
  const mins = sign * (Number(offset.slice(1, 3)) * 60 + Number(offset.slice(4, 6)));
  return new Date(ms + mins * 60_000).toISOString().slice(0, 19) + offset;
}

export function randomScenario(seed: number): Scenario {
  const r = rng(seed);
  const int = (lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const owners = [...new Set(POOL.map((p) => p.owner))];
  const extra = ['cr-x', 'cr-y', 'cr-z', 'cr-idle'];
  const collabOwners = owners.filter(() => r() < 0.45);
  const soloOwners = owners.filter((o) => !collabOwners.includes(o));
  const creators = [...soloOwners, ...extra];
  const collaborations = collabOwners.map((id) => {
    const size = int(2, 3);
    const members = [...creators.filter((c) => c !== 'cr-idle')].sort(() => r() - 0.5).slice(0, size);
    // Uneven basis points summing to 10000.
    const cuts = members.slice(1).map(() => int(1, 9999)).sort((a, b) => a - b);
    const bps = [...cuts, 10000].map((c, i) => c - (i ? cuts[i - 1]! : 0));
    if (bps.some((b) => b === 0)) bps.splice(0, bps.length, ...members.map((_, i) => (i === 0 ? 10000 - 3333 * (members.length - 1) : 3333)));
    return { id, lead: members[int(0, members.length - 1)]!, members: members.map((creator, i) => ({ creator, percent: `${Math.trunc(bps[i]! / 100)}.${String(bps[i]! % 100).padStart(2, '0')}` })) };
  });
  // A few publication instants (one catalog add each), two of them inside the reported months
  // and one whose offset moves it into the next UTC month.
  const instants = ['2026-03-15T12:30:00Z', '2026-06-01T00:00:00Z', '2026-07-31T23:30:00-02:00', '2026-09-20T08:00:00+09:00'];
  const packs = POOL.map((p) => ({ slug: p.slug, owner: p.owner, publishedAt: pick(instants) }));
  const price = new Map(POOL.map((p) => [p.slug, p.price]));
  const shuffled = POOL.map((p) => p.slug).sort(() => r() - 0.5);
  const bundles = [
    { slug: 'bundle-one', items: shuffled.slice(0, 3) },
    { slug: 'bundle-two', items: shuffled.slice(3, 5) },
  ].map((b) => ({ slug: b.slug, items: b.items.map((pack) => ({ pack, priceMinor: price.get(pack)! })) }));

  const rates = MONTHS.flatMap((m, i) => Object.entries(RATES).map(([currency, rs]) => ({ currency, month: m, usdPerUnit: rs[i]! })));
  const transactions: Scenario['transactions'] = [];
  const products = [...POOL.map((p) => p.slug), 'bundle-one', 'bundle-two'];
  const heavy = pick(POOL).slug; // one pack sells a lot, so someone reaches Silver's units
  let n = 0;
  for (const [mi, month] of MONTHS.entries()) {
    const [y, m] = month.split('-').map(Number) as [number, number];
    const start = Date.UTC(y, m - 1, 1);
    const end = Date.UTC(y, m, 1);
    const count = int(25, 50) + (mi >= 2 ? 40 : 0);
    for (let i = 0; i < count; i++) {
      const product = r() < 0.4 ? heavy : pick(products);
      const currency = pick(['USD', 'USD', 'JPY', 'KWD', 'GBP', 'EUR']);
      const gross = currency === 'JPY' ? int(100, 2400) : currency === 'KWD' ? int(300, 4000) : int(99, 2999);
      const fee = Math.floor((gross * int(0, 30)) / 100);
      const tax = Math.floor(((gross - fee) * int(0, 20)) / 100);
      // Near the month's edges sometimes, so the offset decides nothing but the UTC month.
      const at = r() < 0.15 ? (r() < 0.5 ? start + int(0, 3 * 3600) * 1000 : end - int(1, 3 * 3600) * 1000) : int(start, end - 1);
      const store = pick(['appstore', 'googleplay', 'web'] as const);
      const id = `t-${seed}-${n++}`;
      const sale = { store, id, kind: 'sale' as const, occurredAt: withOffset(at, pick(OFFSETS)), product, currency, gross, fee, tax };
      transactions.push(sale);
      const roll = r();
      if (roll < 0.16) {
        // Refunds: full, partial, or partial then completing, in this month or a later one.
        const laterEnd = Date.UTC(2026, 10, 1);
        const when = (from: number) => (r() < 0.5 ? Math.min(end - 1, from + int(1, 5 * 86400) * 1000) : int(from, laterEnd - 1));
        const shape = roll < 0.06 ? 'full' : roll < 0.11 ? 'partial' : 'two';
        const t1 = when(at);
        if (shape === 'full') transactions.push({ store, id: `t-${seed}-${n++}`, kind: 'refund', occurredAt: withOffset(t1, 'Z'), product, currency, gross, fee, tax, refundOf: id });
        else {
          const g1 = int(1, gross - 1), f1 = int(0, fee), x1 = int(0, tax);
          transactions.push({ store, id: `t-${seed}-${n++}`, kind: 'refund', occurredAt: withOffset(t1, pick(OFFSETS)), product, currency, gross: g1, fee: f1, tax: x1, refundOf: id });
          if (shape === 'two') {
            const t2 = Math.max(t1 + 1000, when(t1));
            if (t2 < laterEnd) transactions.push({ store, id: `t-${seed}-${n++}`, kind: 'refund', occurredAt: withOffset(t2, 'Z'), product, currency, gross: gross - g1, fee: fee - f1, tax: tax - x1, refundOf: id });
          }
        }
      }
    }
  }
  // Reviews: every pack but those of one owner, dated across the months.
  const unreviewed = pick(owners);
  const reviews: Scenario['reviews'] = [];
  for (const p of POOL) {
    if (p.owner === unreviewed) continue;
    const k = int(0, 6);
    for (let i = 0; i < k; i++) reviews.push({ pack: p.slug, rating: int(3, 5) + (r() < 0.5 ? 0 : 0), reviewedAt: withOffset(int(Date.UTC(2026, 5, 1), Date.UTC(2026, 10, 1) - 1), pick(OFFSETS)) });
  }
  return { creators, collaborations, packs, bundles, transactions, reviews, rates };
}
