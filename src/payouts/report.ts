/**
 * The payouts service: a month's report (computed for an open month, read back from the
 * stored statements for a closed one), the tier table, and the month close. Money in
 * the documents it returns is integer minor units (JSON numbers), exactly what is stored.
 */
import type { Kysely } from 'kysely';
import type { LedgerDB } from '../ledger/schema.js';
import { conflictError, inputError, usageError } from '../shared/errors.js';
import { compareCodePoints } from '../shared/money.js';
import { isPeriodArgument, periodEndMs } from '../shared/period.js';
import { computePayouts } from './engine.js';
import { assessTier, assessTiers, orderTiers } from './tiers.js';
import { checkSubscriptions, NO_SUBSCRIPTIONS } from './tieout.js';
import type { EngineResult, OwnerResult, PayoutTotals, Period, Statement, TierAssessment, TierDef } from './types.js';
import { loadMonth, loadMonths, loadSnapshot } from './loader.js';
import { activeMonthsBetween, closedMonths, storedCarriedOut, strandedMonths } from './months.js';
import { quarantineFor, type QuarantineEntry } from './quarantine.js';
import { inCloseTransaction } from '../ledger/close-lock.js';
import { ledgerCorrupt, storedJson } from '../ledger/stored.js';
import { inReadTransaction } from '../ledger/read-transaction.js';

/** A value with every bigint turned into a JSON number (what is printed and stored). */
export type Plain<T> = T extends bigint
  ? number
  : T extends ReadonlyArray<infer U>
    ? Plain<U>[]
    : T extends object
      ? { [K in keyof T]: Plain<T[K]> }
      : T;

/**
 * `value` as JSON would carry it (what is printed and stored): every bigint a number, and
 * what JSON leaves out (undefined, functions) left out. A walk, not a JSON round trip: a
 * month's statements are a few hundred kilobytes, and stringify with a replacer plus parse
 * cost more than the rest of the report's JavaScript.
 */
export function toPlain<T>(value: T): Plain<T> {
  return plainValue(value) as Plain<T>;
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const MIN_SAFE = BigInt(Number.MIN_SAFE_INTEGER);
const dropped = (v: unknown) => v === undefined || typeof v === 'function' || typeof v === 'symbol';

function plainValue(v: unknown): unknown {
  if (typeof v === 'bigint') {
    if (v > MAX_SAFE || v < MIN_SAFE) {
      // Only a ledger written before imports bounded a month's totals (ledger/import/month-totals.ts) gets here.
      throw inputError(
        'MONTH_TOTAL_TOO_LARGE',
        `A figure of this month (${v} minor units) is beyond what packops reports exactly (±2^53): the ledger holds amounts that imports now refuse (at most 10^12 minor units per month and currency).`,
        { hint: 'Correct or remove the oversized rows of this month in the ledger; until then it cannot be reported or closed.' },
      );
    }
    return Number(v);
  }
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (v === null || typeof v !== 'object') return v;
  // Anything that serialises itself (a Date) goes the way JSON takes it.
  if (typeof (v as { toJSON?: unknown }).toJSON === 'function') return JSON.parse(JSON.stringify(v)) as unknown;
  if (Array.isArray(v)) return v.map((x: unknown) => (dropped(x) ? null : plainValue(x)));
  // Object.fromEntries defines keys as own properties (a key "__proto__" stays data).
  return Object.fromEntries(
    Object.keys(v)
      .filter((k) => !dropped((v as Record<string, unknown>)[k]))
      .map((k) => [k, plainValue((v as Record<string, unknown>)[k])]),
  );
}

export type StatementDoc = Plain<Statement>;
export type OwnerDoc = Plain<OwnerResult>;

export interface PayoutReport {
  ok: true;
  period: Period;
  currency: 'USD';
  /** closed: read from the stored statements, final. open: a preview. */
  status: 'open' | 'closed';
  /** True when an earlier month this one's balances come from is still open. */
  provisional: boolean;
  /** The open months whose provisional figures fed the carried-in balances. */
  provisionalMonths: Period[];
  /**
   * Open months before the latest closed month that hold sales or refunds (imported after
   * a later month was closed). Months close in order, so no statement will ever include
   * them: shown so the money is never dropped silently. Present only when there are some
   * (open reports and the close itself; never stored).
   */
  strandedMonths?: Array<{ month: Period; transactions: number }>;
  closedAt: string | null;
  minimumMinor: number;
  totals: Plain<EngineResult['totals']>;
  tieOut: Plain<EngineResult['tieOut']>;
  /** §14: the month's subscription money (recognised, allocated, idle pooled, unallocated) and its tie-out. */
  subscriptions: Plain<EngineResult['subscriptions']>;
  owners: OwnerDoc[];
  statements: StatementDoc[];
  /**
   * Rows dated in this month (or undated) that are in no statement: quarantined by an
   * import, per reason, with their amounts per currency. Stored with a closed month.
   */
  quarantine: QuarantineEntry[];
}

export interface TiersReport {
  ok: true;
  period: Period;
  tiers: Array<{
    name: string;
    minimums: { packs: number; rating: string; units: number; months: number };
    sharePercent: string;
    bonus: { threshold: number; amountMinor: number } | null;
  }>;
  creators: Array<Plain<TierAssessment>>;
}

export interface PayoutOptions {
  minimumMinor: bigint;
}

function requirePeriod(period: string): void {
  if (!isPeriodArgument(period)) throw usageError(`--period takes a calendar month YYYY-MM (0001-01 to 9999-12), not "${period}".`);
}

function carriedOutOf(result: EngineResult): Map<string, bigint> {
  return new Map(result.statements.filter((s) => s.carriedOutMinor !== 0n).map((s) => [s.creator, s.carriedOutMinor]));
}

function toReport(
  result: EngineResult,
  meta: { status: 'open' | 'closed'; provisionalMonths: Period[]; closedAt: string | null; quarantine: QuarantineEntry[] },
): PayoutReport {
  return {
    ok: true,
    period: result.period,
    currency: 'USD',
    status: meta.status,
    provisional: meta.provisionalMonths.length > 0,
    provisionalMonths: meta.provisionalMonths,
    closedAt: meta.closedAt,
    minimumMinor: Number(result.minimumMinor),
    totals: toPlain(result.totals),
    tieOut: toPlain(result.tieOut),
    subscriptions: toPlain(result.subscriptions),
    owners: toPlain(result.owners),
    statements: toPlain(result.statements),
    quarantine: meta.quarantine,
  };
}

/**
 * An open month computed now: the last closed month's stored carried-out balances, rolled
 * (provisionally) through every open month with activity in between, then the month. What
 * those months need is loaded once for all of them (loader.ts).
 */
async function computeOpen(
  db: Kysely<LedgerDB>,
  period: Period,
  closed: Map<Period, string>,
  options: PayoutOptions,
): Promise<{ report: PayoutReport; tiers: TiersReport }> {
  const snapshot = await loadSnapshot(db);
  const lastClosed = [...closed.keys()].filter((m) => m < period).sort(compareCodePoints).pop();
  let carriedIn = lastClosed ? await storedCarriedOut(db, lastClosed) : new Map<string, bigint>();
  const provisionalMonths = await activeMonthsBetween(db, lastClosed, period);
  const months = await loadMonths(db, snapshot, [...provisionalMonths, period], { minimumMinor: options.minimumMinor });
  for (const month of provisionalMonths) carriedIn = carriedOutOf(computePayouts(await months.input(month, carriedIn)));
  const result = computePayouts(await months.input(period, carriedIn));
  const report = toReport(result, { status: 'open', provisionalMonths, closedAt: null, quarantine: await quarantineFor(db, period) });
  const stranded = await strandedMonths(db, closed);
  if (stranded.length > 0) report.strandedMonths = stranded;
  return { report, tiers: tiersReport(period, snapshot.tiers, result.tiers) };
}

function tiersReport(period: Period, defs: readonly TierDef[], creators: readonly TierAssessment[]): TiersReport {
  return { ok: true, period, tiers: tierTable(defs), creators: toPlain(creators) };
}

/**
 * What closed_periods.totals holds: the report without its statements (those are rows),
 * and the month's tier table as it stood at the close. Months closed by an earlier packops
 * have neither `quarantine` nor `tiers`.
 */
type StoredHeader = Omit<PayoutReport, 'statements' | 'status' | 'closedAt' | 'quarantine'> & {
  version: 1;
  quarantine?: QuarantineEntry[];
  tiers?: Omit<TiersReport, 'ok' | 'period'>;
  /** Each statement's creator's payout reference at the close (what was paid to); not in the report. */
  payoutRefs?: PayoutRef[];
};

export interface PayoutRef {
  creator: string;
  payoutRef: string | null;
}

interface ClosedMonth {
  header: StoredHeader;
  closedAt: string;
  statements: StatementDoc[];
}

/** A closed month's stored header and statements, checked as they are read (LEDGER_CORRUPT). */
async function readStored(db: Kysely<LedgerDB>, period: Period): Promise<ClosedMonth> {
  const row = await db.selectFrom('closed_periods').selectAll().where('month', '=', period).executeTakeFirstOrThrow();
  const statementRows = await db.selectFrom('statements').select(['creator_id', 'detail']).where('month', '=', period).execute();
  if (row.totals === null) {
    throw inputError('PERIOD_UNREADABLE', `${period} is closed but its stored report is missing.`, {
      hint: 'The month was closed by another tool; its statements cannot be shown.',
    });
  }
  const headerAt = { table: 'closed_periods', row: `month=${period}`, column: 'totals' };
  const header = storedJson(headerAt, row.totals, true);
  const isObject = (v: unknown) => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (!isObject(header.totals) || !isObject(header.tieOut) || !Array.isArray(header.owners) || header.period !== period) {
    throw ledgerCorrupt(headerAt, row.totals.slice(0, 60), `the stored report of ${period}`);
  }
  const statements = statementRows
    .sort((a, b) => compareCodePoints(a.creator_id, b.creator_id))
    .map((r) => {
      const at = { table: 'statements', row: `month=${period} creator_id=${r.creator_id}`, column: 'detail' };
      const detail = storedJson(at, r.detail, true);
      if (detail.creator !== r.creator_id || typeof detail.payoutMinor !== 'number' || !Array.isArray(detail.collaborations)) {
        throw ledgerCorrupt(at, r.detail, `the stored statement of ${r.creator_id}`);
      }
      return withSubscriptionLines(detail as unknown as StatementDoc);
    });
  return { header: header as unknown as StoredHeader, closedAt: row.closed_at, statements };
}

async function readClosed(db: Kysely<LedgerDB>, period: Period): Promise<PayoutReport> {
  const { header, closedAt, statements } = await readStored(db, period);
  const { version: _version, tiers: _tiers, payoutRefs: _refs, quarantine, ...rest } = header;
  return {
    ...rest,
    // A month closed before subscriptions existed had none: its figures are zeros.
    subscriptions: rest.subscriptions ?? toPlain(checkSubscriptions(NO_SUBSCRIPTIONS, { subscriptionNetMinor: 0n } as PayoutTotals)),
    owners: rest.owners.map((o) => ({ ...o, subscriptionLines: o.subscriptionLines ?? [] })),
    status: 'closed',
    closedAt,
    statements,
    // Closed before the block existed: no row of a closed month can be quarantined since.
    quarantine: quarantine ?? (await quarantineFor(db, period)),
  };
}

/**
 * The payout references a closed month stored at its close (one per statement), or
 * undefined for a month closed before they were stored.
 */
export async function storedPayoutRefs(db: Kysely<LedgerDB>, period: Period): Promise<PayoutRef[] | undefined> {
  const { header } = await readStored(db, period);
  const refs: unknown = header.payoutRefs;
  if (refs === undefined) return undefined;
  const at = { table: 'closed_periods', row: `month=${period}`, column: 'totals' };
  const valid = (r: unknown): r is PayoutRef => {
    const o = r as { creator?: unknown; payoutRef?: unknown } | null;
    return typeof o === 'object' && o !== null && typeof o.creator === 'string' && (o.payoutRef === null || typeof o.payoutRef === 'string');
  };
  if (!Array.isArray(refs) || !refs.every(valid)) throw ledgerCorrupt(at, JSON.stringify(refs).slice(0, 60), 'the stored payout references');
  return refs;
}

/** A statement stored before subscriptions existed has no subscription lines: empty ones. */
function withSubscriptionLines(s: StatementDoc): StatementDoc {
  return {
    ...s,
    own: s.own ? { ...s.own, subscriptionLines: s.own.subscriptionLines ?? [] } : null,
    collaborations: s.collaborations.map((c) => ({ ...c, subscriptionLines: c.subscriptionLines ?? [] })),
  };
}

/** `payouts report`: a closed month from its stored statements, an open one computed now. */
export async function payoutReport(db: Kysely<LedgerDB>, period: Period, options: PayoutOptions): Promise<PayoutReport> {
  requirePeriod(period);
  // One read transaction: an import committing meanwhile is either wholly in the figures
  // or not at all, across every query and every month rolled through.
  return inReadTransaction(db, async (trx) => {
    const closed = await closedMonths(trx);
    if (closed.has(period)) return readClosed(trx, period);
    return (await computeOpen(trx, period, closed, options)).report;
  });
}

/**
 * `creators tiers`: each creator's four figures, the tier reached and what the next one
 * misses. A closed month reads what its close stored, like `payouts report`: later catalog
 * or review changes never move a closed month's tiers.
 */
export async function creatorTiers(db: Kysely<LedgerDB>, period: Period): Promise<TiersReport> {
  requirePeriod(period);
  return inReadTransaction(db, async (trx) => {
    const closed = await closedMonths(trx);
    if (closed.has(period)) return storedTiers(trx, period);
    const snapshot = await loadSnapshot(trx);
    const input = await loadMonth(trx, snapshot, period, { minimumMinor: 0n, carriedIn: new Map(), subscriptions: false });
    return tiersReport(period, snapshot.tiers, assessTiers(input));
  });
}

async function storedTiers(db: Kysely<LedgerDB>, period: Period): Promise<TiersReport> {
  const { header, statements } = await readStored(db, period);
  if (header.tiers && Array.isArray(header.tiers.tiers) && Array.isArray(header.tiers.creators)) {
    return { ok: true, period, tiers: header.tiers.tiers, creators: header.tiers.creators };
  }
  // Closed by an earlier packops, which stored no tier table: the tiers and figures of the
  // stored statements (creators with a statement), with what the next tier misses worked
  // out from those figures and today's tier definitions.
  const defs = (await loadSnapshot(db)).tiers;
  const creators = statements.map((s) => {
    const f = s.figures;
    const activity = {
      packsPublished: f.packsPublished,
      ratingCount: f.ratingCount,
      // The stored average has two decimals: exact for fewer than 100 reviews.
      ratingSum: f.averageRating === null ? 0 : Math.round(Number(f.averageRating) * f.ratingCount),
      monthsActive: f.monthsActive,
    };
    const assessed = toPlain(assessTier(s.creator, s.name, activity, f.units, defs));
    return { ...assessed, figures: f, tier: s.tier, sharePercent: s.sharePercent, bonusMinor: s.bonusMinor };
  });
  return { ...tiersReport(period, defs, []), creators };
}

/** The tier definitions as reports print them, lowest first. */
export function tierTable(tiers: readonly TierDef[]): TiersReport['tiers'] {
  return orderTiers(tiers).map((t) => ({
    name: t.name,
    minimums: { packs: t.minPacks, rating: t.minRating, units: t.minUnits, months: t.minMonths },
    sharePercent: t.sharePercent,
    bonus: t.bonusThreshold !== null && t.bonusMinor !== null ? { threshold: t.bonusThreshold, amountMinor: Number(t.bonusMinor) } : null,
  }));
}

function isUniqueViolation(err: unknown): boolean {
  const text = err instanceof Error ? `${(err as { code?: unknown }).code ?? ''} ${err.message}` : '';
  return /UNIQUE|PRIMARY KEY|unique constraint|23505/i.test(text);
}

/**
 * `payouts close`: stores the month's statements and freezes it. Months close in order:
 * every earlier month with activity must be closed first (PERIOD_ORDER, exit 4), and a
 * month before the latest closed one cannot be closed any more. Closing twice is
 * PERIOD_CLOSED (exit 4); a month that has not ended by `now` is PERIOD_OPEN (exit 4).
 */
export async function closePeriod(
  db: Kysely<LedgerDB>,
  period: Period,
  options: PayoutOptions & { now?: () => Date },
): Promise<PayoutReport> {
  requirePeriod(period);
  const now = (options.now ?? (() => new Date()))();
  const alreadyClosed = () =>
    conflictError('PERIOD_CLOSED', `${period} is already closed; its statements are final.`, {
      hint: `Show them with: packops payouts report --period ${period}`,
      details: { period },
    });
  let stranded: PayoutReport['strandedMonths'];
  try {
    // One write transaction under the close's lock: the month is computed and stored from
    // one picture of the ledger, and no import can add a row to it in between (an import
    // waits, then finds the month closed: PERIOD_CLOSED).
    await inCloseTransaction(db, period, async (trx) => {
      const closed = await closedMonths(trx);
      if (closed.has(period)) throw alreadyClosed();
      const later = [...closed.keys()].filter((m) => m > period).sort(compareCodePoints);
      if (later.length > 0) {
        throw conflictError('PERIOD_ORDER', `${period} cannot be closed: the later month ${later[later.length - 1]} is already closed, and months close in order.`, {
          details: { period, closed: later },
        });
      }
      const lastClosed = [...closed.keys()].sort(compareCodePoints).pop();
      const open = await activeMonthsBetween(trx, lastClosed, period);
      if (open.length > 0) {
        throw conflictError('PERIOD_ORDER', `${period} cannot be closed while ${open.join(', ')} ${open.length > 1 ? 'are' : 'is'} open; months close in order.`, {
          hint: `Close ${open[0]} first: packops payouts close --period ${open[0]}`,
          details: { period, open },
        });
      }
      // A month is closed once it has ended: rows dated in its rest would be refused forever.
      const ends = periodEndMs(period);
      if (now.getTime() < ends) {
        const from = new Date(ends).toISOString().replace('.000Z', 'Z');
        throw conflictError('PERIOD_OPEN', `${period} has not ended yet (now is ${now.toISOString()}); it can be closed from ${from}.`, {
          hint: `Close it on or after ${from.slice(0, 10)} (UTC), once its sales, refunds and rates are imported.`,
          details: { period, now: now.toISOString(), closableFrom: from },
        });
      }
      const { report, tiers } = await computeOpen(trx, period, closed, options);
      stranded = report.strandedMonths;
      const creatorRows = await trx.selectFrom('creators').select(['id', 'payout_ref']).execute();
      const known = new Set(creatorRows.map((r) => r.id));
      const unknown = report.statements.map((s) => s.creator).filter((id) => !known.has(id));
      if (unknown.length > 0) {
        throw inputError('CREATOR_UNKNOWN', `Statements name creators that are not in the ledger: ${unknown.join(', ')}.`, {
          hint: 'Import them with packops creators import <creators.json>, then close the month.',
          details: { creators: unknown },
        });
      }
      const closedAt = now.toISOString();
      const { statements, status: _s, closedAt: _c, strandedMonths: _stranded, ...rest } = report;
      // The references the month is paid to, kept with it: a later `creators import` changes
      // today's, never the ones a closed month's summary shows.
      const refOf = new Map(creatorRows.map((r) => [r.id, r.payout_ref]));
      const payoutRefs = statements.map((s) => ({ creator: s.creator, payoutRef: refOf.get(s.creator) ?? null }));
      const header: StoredHeader = { version: 1, ...rest, tiers: { tiers: tiers.tiers, creators: tiers.creators }, payoutRefs };
      await trx.insertInto('closed_periods').values({ month: period, closed_at: closedAt, totals: JSON.stringify(header) }).execute();
      for (let i = 0; i < statements.length; i += 100) {
        await trx
          .insertInto('statements')
          .values(
            statements.slice(i, i + 100).map((s) => ({
              month: period,
              creator_id: s.creator,
              tier: s.tier,
              earnings_minor: s.earningsMinor,
              bonus_minor: s.bonusMinor,
              carried_in_minor: s.carriedInMinor,
              payout_minor: s.payoutMinor,
              carried_out_minor: s.carriedOutMinor,
              detail: JSON.stringify(s),
              created_at: closedAt,
            })),
          )
          .execute();
      }
    });
  } catch (err) {
    if (isUniqueViolation(err)) throw alreadyClosed();
    throw err;
  }
  const result = await readClosed(db, period);
  if (stranded) result.strandedMonths = stranded;
  return result;
}
