/**
 * What the statement pages show beyond the month's report, read from the ledger: the last
 * twelve months (closed months from their stored statements, open ones computed and marked
 * provisional), totals per store and per currency, the tier table, payout references and
 * pack names. All of it goes into the `--json` document of `payouts report --format
 * html|pdf`, so every figure on a page can be checked against JSON.
 */
import type { Kysely } from 'kysely';
import type { LedgerDB } from '../../ledger/schema.js';
import { compareCodePoints, parseDecimal } from '../../shared/money.js';
import { addMonths, daysInMonth, type Period } from '../../shared/period.js';
import { namesOn } from '../../shared/live-version.js';
import { convertToUsdCents } from '../engine.js';
import { loadSnapshot } from '../loader.js';
import { activeMonthsBetween } from '../months.js';
import { payoutReport, storedPayoutRefs, tierTable, toPlain, type PayoutOptions, type PayoutReport, type TiersReport } from '../report.js';
import { storedSignedMinor, type StoredAt } from '../../ledger/stored.js';

export interface HistoryMonth {
  month: Period;
  /** closed: from the stored statements; open: computed now, may still change. */
  status: 'closed' | 'open';
  payoutMinor: number;
  creators: Array<{ creator: string; earningsMinor: number }>;
}

export interface StoreTotal {
  store: string;
  transactions: number;
  /** USD cents, converted per transaction as §9.1. */
  netUsdMinor: number;
}

export interface CurrencyTotal {
  currency: string;
  /** USD per major unit used for the month ("1" for USD). */
  rate: string;
  transactions: number;
  /**
   * In the currency's minor units; refunds subtract. null when any of the month's lines in
   * the currency knows its net only (App Store report lines): then the currency's gross,
   * fees and tax are unknown, and only its net is a total.
   */
  grossMinor: number | null;
  feesMinor: number | null;
  taxMinor: number | null;
  netMinor: number;
  netUsdMinor: number;
}

export interface PagesExtras {
  tiers: TiersReport['tiers'];
  history: HistoryMonth[];
  stores: StoreTotal[];
  currencies: CurrencyTotal[];
  payoutRefs: Array<{ creator: string; payoutRef: string | null }>;
  /**
   * live: today's references (an open month). stored: those stored when the month was
   * closed. not stored: a month closed before references were stored (every one null).
   */
  payoutRefsSource: 'live' | 'stored' | 'not stored';
  packNames: Array<{ slug: string; name: string }>;
}

/** The twelve months ending with the report's month. */
async function history(db: Kysely<LedgerDB>, report: PayoutReport, options: PayoutOptions): Promise<HistoryMonth[]> {
  const first = addMonths(report.period, -11);
  const closed = new Set(
    (await db.selectFrom('closed_periods').select('month').where('month', '>=', first).where('month', '<=', report.period).execute()).map((r) => r.month),
  );
  const lastClosedEver = (await db.selectFrom('closed_periods').select('month').orderBy('month', 'desc').limit(1).executeTakeFirst())?.month;
  const rows = await db
    .selectFrom('statements')
    .select(['month', 'creator_id', 'earnings_minor', 'payout_minor'])
    .where('month', '>=', first)
    .where('month', '<', report.period)
    .execute();
  // The engine's active months (sales and refunds, usage, annual schedules reaching a month):
  // an open month that only subscriptions make active has a provisional statement too.
  const active = new Set(await activeMonthsBetween(db, first === '0000-01' ? undefined : addMonths(first, -1), report.period));
  const months: HistoryMonth[] = [];
  for (let i = 0; i < 11; i++) {
    const month = addMonths(first, i);
    if (closed.has(month)) {
      const mine = rows.filter((r) => r.month === month).sort((a, b) => compareCodePoints(a.creator_id, b.creator_id));
      months.push({
        month,
        status: 'closed',
        // Stored statements are read like every stored amount (stored.ts): checked, summed exactly.
        payoutMinor: toPlain(mine.reduce((s, r) => s + storedSignedMinor(statementAt(r, 'payout_minor'), r.payout_minor), 0n)),
        creators: mine.map((r) => ({ creator: r.creator_id, earningsMinor: toPlain(storedSignedMinor(statementAt(r, 'earnings_minor'), r.earnings_minor)) })),
      });
    } else if (active.has(month) && (lastClosedEver === undefined || month > lastClosedEver)) {
      // An open month after the last close: what it would pay today (provisional).
      const r = await payoutReport(db, month, options);
      months.push(fromReport(r));
    }
    // Open months before the last close are stranded (reported as warnings), and months
    // without activity have no statement: neither gets a bar.
  }
  months.push(fromReport(report));
  return months;
}

function statementAt(r: { month: string; creator_id: string }, column: string): StoredAt {
  return { table: 'statements', row: `month=${r.month} creator_id=${r.creator_id}`, column };
}

function fromReport(r: PayoutReport): HistoryMonth {
  return {
    month: r.period,
    status: r.status,
    payoutMinor: r.totals.payoutMinor,
    creators: r.statements.map((s) => ({ creator: s.creator, earningsMinor: s.earningsMinor })),
  };
}

/**
 * Sales and refunds of the month per store and per currency, subscription plans included
 * at their charge (recognition, which spreads an annual plan, is the subscriptions block's). Rows that agree on store,
 * currency, kind and the three amounts convert identically (one rounding per transaction),
 * so they are grouped in the database and multiplied.
 */
async function breakdown(db: Kysely<LedgerDB>, period: Period): Promise<{ stores: StoreTotal[]; currencies: CurrencyTotal[] }> {
  const rates = new Map(
    (await db.selectFrom('fx_rates').select(['currency', 'usd_per_unit']).where('month', '=', period).execute()).map((r) => [r.currency, r.usd_per_unit]),
  );
  const groups = await db
    .selectFrom('sales')
    .select((eb) => ['store', 'currency', 'kind', 'gross_minor', 'store_fee_minor', 'tax_minor', 'net_minor', eb.fn.countAll<number>().as('n')])
    .where('month', '=', period)
    .groupBy(['store', 'currency', 'kind', 'gross_minor', 'store_fee_minor', 'tax_minor', 'net_minor'])
    .execute();
  const stores = new Map<string, { transactions: number; net: bigint }>();
  const currencies = new Map<string, { rate: string; transactions: number; gross: bigint; fees: bigint; tax: bigint; net: bigint; usd: bigint; netOnly: boolean }>();
  for (const g of groups) {
    const rateText = g.currency === 'USD' ? (rates.get('USD') ?? '1') : rates.get(g.currency);
    const rate = rateText === undefined ? undefined : parseDecimal(rateText);
    // The report itself has already refused a month with a missing rate (FX_RATE_MISSING).
    if (rate === undefined) continue;
    const n = Number(g.n);
    const count = BigInt(n);
    const sign = g.kind === 'refund' ? -1n : 1n;
    // An App Store line knows its net only (gross, fee and tax NULL): it counts at that net,
    // and its currency's gross, fees and tax become unknown (null), not short.
    const netOnly = g.gross_minor === null || g.store_fee_minor === null || g.tax_minor === null;
    const gross = netOnly ? 0n : sign * BigInt(g.gross_minor!);
    const fees = netOnly ? 0n : sign * BigInt(g.store_fee_minor!);
    const tax = netOnly ? 0n : sign * BigInt(g.tax_minor!);
    const net = netOnly ? sign * BigInt(g.net_minor ?? 0) : gross - fees - tax;
    const usd = convertToUsdCents(net, g.currency, rate) * count;
    const s = stores.get(g.store) ?? { transactions: 0, net: 0n };
    s.transactions += n;
    s.net += usd;
    stores.set(g.store, s);
    const c = currencies.get(g.currency) ?? { rate: rateText!, transactions: 0, gross: 0n, fees: 0n, tax: 0n, net: 0n, usd: 0n, netOnly: false };
    c.transactions += n;
    if (netOnly) c.netOnly = true;
    c.gross += gross * count;
    c.fees += fees * count;
    c.tax += tax * count;
    c.net += net * count;
    c.usd += usd;
    currencies.set(g.currency, c);
  }
  return {
    stores: [...stores]
      .sort((a, b) => compareCodePoints(a[0], b[0]))
      .map(([store, s]) => ({ store, transactions: s.transactions, netUsdMinor: toPlain(s.net) })),
    currencies: [...currencies]
      .sort((a, b) => compareCodePoints(a[0], b[0]))
      .map(([currency, c]) => ({
        currency,
        rate: c.rate,
        transactions: c.transactions,
        grossMinor: c.netOnly ? null : toPlain(c.gross),
        feesMinor: c.netOnly ? null : toPlain(c.fees),
        taxMinor: c.netOnly ? null : toPlain(c.tax),
        netMinor: toPlain(c.net),
        netUsdMinor: toPlain(c.usd),
      })),
  };
}

/** The references the month is paid to: a closed month's as stored at its close, an open one's as of now. */
async function payoutRefsOf(
  db: Kysely<LedgerDB>,
  report: PayoutReport,
  ids: ReadonlySet<string>,
): Promise<Pick<PagesExtras, 'payoutRefs' | 'payoutRefsSource'>> {
  const byCreator = (refs: PagesExtras['payoutRefs']) => refs.filter((r) => ids.has(r.creator)).sort((a, b) => compareCodePoints(a.creator, b.creator));
  if (report.status === 'closed') {
    const stored = await storedPayoutRefs(db, report.period);
    if (stored !== undefined) return { payoutRefs: byCreator(stored), payoutRefsSource: 'stored' };
    return { payoutRefs: byCreator([...ids].map((creator) => ({ creator, payoutRef: null }))), payoutRefsSource: 'not stored' };
  }
  const refs = await db.selectFrom('creators').select(['id', 'payout_ref']).execute();
  return { payoutRefs: byCreator(refs.map((r) => ({ creator: r.id, payoutRef: r.payout_ref }))), payoutRefsSource: 'live' };
}

export async function pagesExtras(db: Kysely<LedgerDB>, report: PayoutReport, options: PayoutOptions): Promise<PagesExtras> {
  const snapshot = await loadSnapshot(db);
  const ids = new Set(report.statements.map((s) => s.creator));
  const { payoutRefs, payoutRefsSource } = await payoutRefsOf(db, report, ids);
  const slugs = new Set(report.statements.flatMap((s) => [...(s.own?.lines ?? []), ...s.collaborations.flatMap((c) => c.lines)].map((l) => l.pack)));
  // A pack is named as the catalog showed it on the month's last day (its live version then),
  // so a statement never shows a name released later, and a month's pages read the same
  // whenever they are made.
  const packs = slugs.size === 0 ? [] : await db.selectFrom('packs').select(['slug', 'name', 'published_at', 'version']).where('slug', 'in', [...slugs]).execute();
  const names = namesOn(
    packs.map((p) => ({ slug: p.slug, version: p.version, publishedAt: p.published_at, name: p.name })),
    `${report.period}-${String(daysInMonth(report.period)).padStart(2, '0')}`,
  );
  return {
    tiers: tierTable(snapshot.tiers),
    history: await history(db, report, options),
    ...(await breakdown(db, report.period)),
    payoutRefs,
    payoutRefsSource,
    packNames: [...names].sort((a, b) => compareCodePoints(a[0], b[0])).map(([slug, name]) => ({ slug, name })),
  };
}
