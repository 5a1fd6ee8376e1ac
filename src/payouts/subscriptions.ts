/**
 * A month's subscription money, from the ledger to pack nets (PRODUCT.md §14): reads the
 * plan rows that recognise something in the month and the month's usage, through Kysely
 * only (dialect-neutral), and hands them to the pure domain (src/subscriptions). Usage is
 * read in pages in primary-key order, family by family, so memory grows with the families
 * that have money and the packs, never with usage rows.
 *
 * What recognises in month P:
 * - plan sales charged in P (monthly and annual),
 * - annual plan sales charged in P−11 … P−1 (their schedules reach P), with their refunds
 *   dated up to P (a refund cancels the schedule from its month on),
 * - plan refunds dated in P of any other sale (a monthly plan, or an annual schedule that
 *   ended): they recognise −(their net) in P.
 * Each sale and refund is converted to USD cents at its own month's rate (§9.1).
 */
import { sql, type Kysely } from 'kysely';
import { ledgerCorrupt, saleAt, storedMinor } from '../ledger/stored.js';
import type { LedgerDB, Store } from '../ledger/schema.js';
import { inputError } from '../shared/errors.js';
import { parseDecimal, type Rational } from '../shared/money.js';
import { addMonths, periodIndex, type Period } from '../shared/period.js';
import { MonthAllocator, type MonthAllocation } from '../subscriptions/allocation.js';
import { addRecognised, type ChargeRecord, type RefundRecord } from '../subscriptions/recognition.js';
import { convertToUsdCents } from './engine.js';

/** Rows per page of usage and of plan charges (one indexed range read each). */
const PAGE = 20_000;

export interface SubscriptionMonth extends MonthAllocation {
  /** Plan sales and refunds dated in the month. */
  transactions: { sales: number; refunds: number };
}

type Db = Kysely<LedgerDB>;

/** Converts a row's net at its month's rate; one Rational per (currency, month), checked once. */
function converter(rates: Map<string, string>) {
  const parsed = new Map<string, Rational>();
  const cache = new Map<string, bigint>();
  return (currency: string, month: Period, netMinor: bigint): bigint => {
    if (currency === 'USD') return netMinor; // rate 1: the conversion is the identity
    const key = `${currency} ${month} ${netMinor}`;
    const hit = cache.get(key);
    if (hit !== undefined) return hit;
    let rate = parsed.get(`${currency} ${month}`);
    if (!rate) {
      const text = currency === 'USD' ? '1' : rates.get(`${currency} ${month}`);
      const r = text === undefined ? undefined : parseDecimal(text);
      if (!r) {
        throw inputError('FX_RATE_MISSING', `No exchange rate for ${currency} in ${month} (a subscription charged then is recognised later).`, {
          hint: `Import it: packops ledger import rates <file> with a row "${currency},${month},<usd_per_unit>".`,
          details: { currency, month },
        });
      }
      parsed.set(`${currency} ${month}`, (rate = r));
    }
    const cents = convertToUsdCents(netMinor, currency, rate);
    if (cache.size < 10_000) cache.set(key, cents);
    return cents;
  };
}

const key = (store: string, id: string) => `${store}\u0000${id}`;
const NO_REFUNDS: readonly RefundRecord[] = [];

/** M_f for `period`: what every family's plan sales and refunds recognise in it. */
async function recognise(db: Db, period: Period): Promise<{ byFamily: Map<string, bigint>; sales: number; refunds: number }> {
  const first = addMonths(period, -11);
  const plans = await db.selectFrom('plans').select(['id', 'months']).execute();
  const months = new Map(plans.map((p) => [p.id, Number(p.months) === 12 ? (12 as const) : (1 as const)]));
  const annual = plans.filter((p) => Number(p.months) === 12).map((p) => p.id);
  const rateRows = await db.selectFrom('fx_rates').select(['currency', 'month', 'usd_per_unit']).where('month', '>=', first).where('month', '<=', period).execute();
  const usd = converter(new Map(rateRows.map((r) => [`${r.currency} ${r.month}`, r.usd_per_unit])));
  // Plan rows come from `ledger import sales`, always with their three amounts (only App
  // Store report lines leave them unknown, and those are packs, never plans).
  // Each amount is checked as it is read: a value packops cannot have written (past 2^53, a
  // fraction, text) is LEDGER_CORRUPT naming the row (named only then: a month can hold
  // hundreds of thousands of charges), never a rounded Number.
  type PlanRow = { store: string; transaction_id: string; gross_minor: number | null; store_fee_minor: number | null; tax_minor: number | null };
  const amount = (r: PlanRow, column: 'gross_minor' | 'store_fee_minor' | 'tax_minor') => storedMinor(() => saleAt(r, column), r[column] ?? 0);
  const net = (r: PlanRow) => amount(r, 'gross_minor') - amount(r, 'store_fee_minor') - amount(r, 'tax_minor');

  // Refunds that can touch the month: dated from the window's first month up to the month.
  const refundRows = await db
    .selectFrom('sales')
    .select(['store', 'transaction_id', 'refund_of', 'month', 'family_hmac', 'currency', 'gross_minor', 'store_fee_minor', 'tax_minor'])
    .where('product_kind', '=', 'plan')
    .where('kind', '=', 'refund')
    .where('month', '>=', first)
    .where('month', '<=', period)
    .execute();
  const refundsOf = new Map<string, RefundRecord[]>();
  const refundFamily = new Map<string, string>();
  let refundsInMonth = 0;
  for (const r of refundRows) {
    const k = key(r.store, r.refund_of ?? '');
    let list = refundsOf.get(k);
    if (!list) refundsOf.set(k, (list = []));
    list.push({ id: `${r.store}:${r.transaction_id}`, month: r.month, netMinor: usd(r.currency, r.month, net(r)) });
    if (r.month === period) refundsInMonth++;
    if (r.family_hmac !== null) refundFamily.set(k, r.family_hmac);
  }

  const byFamily = new Map<string, bigint>();
  const used = new Set<string>();
  let sales = 0;
  for (let i = 0; i < 12; i++) {
    const month = addMonths(period, -i);
    if (i > 0 && annual.length === 0) break;
    // In pages, in (store, transaction id) order: the index holds every column read, and
    // memory holds one page of a month's charges, however many families subscribe.
    let cursor: { store: Store; id: string } | undefined;
    for (;;) {
      let q = db
        .selectFrom('sales')
        .select(['store', 'transaction_id', 'plan_id', 'family_hmac', 'currency', 'gross_minor', 'store_fee_minor', 'tax_minor'])
        .where('month', '=', month)
        .where('kind', '=', 'sale')
        .where('product_kind', '=', 'plan');
      // Earlier months: only annual schedules reach this month.
      if (i > 0) q = q.where('plan_id', 'in', annual);
      if (cursor) {
        const c = cursor;
        q = q.where((eb) => eb(eb.refTuple('store', 'transaction_id'), '>', eb.tuple(c.store, c.id)));
      }
      const page = await q.orderBy('store').orderBy('transaction_id').limit(PAGE).execute();
      for (const r of page) {
        if (i === 0) sales++;
        let refunds = NO_REFUNDS;
        if (refundsOf.size > 0) {
          const k = key(r.store, r.transaction_id);
          refunds = refundsOf.get(k) ?? NO_REFUNDS;
          if (refunds.length) used.add(k);
        }
        const charge: ChargeRecord = {
          id: `${r.store}:${r.transaction_id}`,
          family: r.family_hmac ?? '',
          plan: r.plan_id ?? '',
          months: months.get(r.plan_id ?? '') ?? 1,
          month,
          netMinor: usd(r.currency, month, net(r)),
          refunds,
        };
        addRecognised(byFamily, charge, period);
      }
      if (page.length < PAGE) break;
      const last = page[page.length - 1]!;
      cursor = { store: last.store, id: last.transaction_id };
    }
  }
  // Refunds in the month whose sale recognises nothing here any more (a monthly plan of an
  // earlier month, an annual schedule that ended): −(their net), to the sale's family.
  for (const [k, list] of refundsOf) {
    if (used.has(k)) continue;
    const family = refundFamily.get(k) ?? '';
    for (const r of list) if (r.month === period) byFamily.set(family, (byFamily.get(family) ?? 0n) - r.netMinor);
  }
  return { byFamily, sales, refunds: refundsInMonth };
}

/**
 * One family's usage as SQL groups it: "pack days pack days …" (pack slugs are kebab-case,
 * so a space never occurs in one), checked as it is read: a pair that is not a slug and a
 * positive whole number of days is LEDGER_CORRUPT.
 */
function parseFamilyUsage(family: string, period: Period, text: string, rows: number): Array<{ pack: string; activeDays: number }> {
  const parts = text.split(' ');
  const usage = new Array<{ pack: string; activeDays: number }>(parts.length >> 1);
  let ok = parts.length === rows * 2;
  for (let i = 0; ok && i < parts.length; i += 2) {
    const days = Number(parts[i + 1]);
    ok = parts[i]!.length > 0 && Number.isSafeInteger(days) && days > 0;
    usage[i >> 1] = { pack: parts[i]!, activeDays: days };
  }
  if (!ok) throw ledgerCorrupt({ table: 'usage', row: `month=${period} family_hmac=${family}`, column: 'pack_slug, active_days' }, text, 'pack slugs with positive whole numbers of days');
  return usage;
}

/**
 * The month's allocation: recognised money per family, split by the month's usage. Usage is
 * read grouped by family in SQL (one row per family, its packs and days as one text), in
 * pages in family order: a third of the rows and of the family keys materialised in JS, and
 * memory holds one page, however many families.
 */
export async function loadSubscriptionMonth(db: Db, period: Period): Promise<SubscriptionMonth> {
  const { byFamily, sales, refunds } = await recognise(db, period);
  const allocator = new MonthAllocator(period, byFamily);
  let cursor: string | undefined;
  for (;;) {
    let q = db
      .selectFrom('usage')
      .select([
        'family_hmac',
        sql<string>`string_agg(pack_slug || ' ' || active_days, ' ')`.as('packs'),
        sql<number | string | bigint>`count(*)`.as('rows'),
      ])
      .where('month', '=', period);
    if (cursor !== undefined) q = q.where('family_hmac', '>', cursor);
    const page = await q.groupBy('family_hmac').orderBy('family_hmac').limit(PAGE).execute();
    for (const r of page) allocator.addFamily(r.family_hmac, parseFamilyUsage(r.family_hmac, period, r.packs, Number(r.rows)));
    if (page.length < PAGE) break;
    cursor = page[page.length - 1]!.family_hmac;
  }
  return { ...allocator.finish(), transactions: { sales, refunds } };
}

/** Months (after `after`, before `before`) that subscriptions make active: usage, or an annual schedule reaching them. */
export async function subscriptionMonthsBetween(db: Db, after: Period | undefined, before: Period): Promise<Period[]> {
  const months = new Set<Period>();
  let uq = db.selectFrom('usage').select('month').distinct().where('month', '<', before);
  if (after !== undefined) uq = uq.where('month', '>', after);
  for (const r of await uq.execute()) months.add(r.month);
  const annual = (await db.selectFrom('plans').select('id').where('months', '=', 12).execute()).map((p) => p.id);
  if (annual.length > 0) {
    let sq = db
      .selectFrom('sales')
      .select('month')
      .distinct()
      .where('product_kind', '=', 'plan')
      .where('kind', '=', 'sale')
      .where('plan_id', 'in', annual)
      .where('month', '<', before);
    // Charges up to 11 months before `after` reach past it (none can be before 0000-01).
    if (after !== undefined && periodIndex(after) >= 11) sq = sq.where('month', '>', addMonths(after, -11));
    for (const r of await sq.execute()) {
      for (let i = 0; i < 12; i++) {
        const m = addMonths(r.month, i);
        if (m < before && (after === undefined || m > after)) months.add(m);
      }
    }
  }
  return [...months].sort();
}
