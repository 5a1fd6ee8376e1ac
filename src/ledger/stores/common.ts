/**
 * What the three store importers (purchases, googleplay, appstore) share: the products a
 * store id resolves to, closed months, family HMACs, bad-row errors, and the bookkeeping
 * of store files (which report a file is, whether it was imported before, its
 * predecessor) and of held money.
 */
import { createHmac } from 'node:crypto';
import type { Transaction } from 'kysely';
import { conflictError, inputError } from '../../shared/errors.js';
import type { LedgerDB, ProductKind, Store } from '../schema.js';

export type Tx = Transaction<LedgerDB>;

export interface BadRow {
  row: number;
  column: string;
  code: string;
  message: string;
}

/** Problems listed in an error's details; the counts always cover every row. */
export const MAX_REPORTED = 10_000;

export class Problems {
  readonly rows: BadRow[] = [];
  total = 0;
  add(p: BadRow): void {
    this.total++;
    if (this.rows.length < MAX_REPORTED) this.rows.push(p);
  }
  throwIfAny(label: string, read: number): void {
    if (this.total === 0) return;
    const lines = new Set(this.rows.map((r) => r.row)).size;
    throw inputError('ROWS_INVALID', `${label}: ${lines} bad line(s) of ${read}; nothing was imported.`, {
      hint: 'Each line is listed with its number and what is wrong. A store report is imported whole or not at all.',
      details: { file: label, badRows: lines, problems: this.total, truncated: this.total > this.rows.length, rows: this.rows },
    });
  }
}

export type Resolved = { kind: ProductKind; slug: string };

/** Store product id (or pack/bundle slug) → what it sells. */
export async function productResolver(trx: Tx, store: Store): Promise<(product: string) => Resolved | undefined> {
  const map = new Map<string, Resolved>();
  const packs = await trx.selectFrom('packs').select(['slug', 'appstore_product_id', 'googleplay_product_id']).execute();
  const bundles = await trx.selectFrom('bundles').select('slug').execute();
  for (const b of bundles) map.set(b.slug, { kind: 'bundle', slug: b.slug });
  for (const p of packs) map.set(p.slug, { kind: 'pack', slug: p.slug });
  for (const p of packs) {
    const id = store === 'appstore' ? p.appstore_product_id : store === 'googleplay' ? p.googleplay_product_id : null;
    if (id) map.set(id, { kind: 'pack', slug: p.slug });
  }
  return (product) => map.get(product);
}

/** Months close in order: every month up to the latest closed one is closed. */
export async function closedCheck(trx: Tx): Promise<(month: string) => boolean> {
  const rows = await trx.selectFrom('closed_periods').select('month').execute();
  const latest = rows.map((r) => r.month).sort().at(-1);
  return (month) => latest !== undefined && month <= latest;
}

export function periodClosed(label: string, months: Iterable<string>, why: string): never {
  const list = [...new Set(months)].sort();
  throw conflictError('PERIOD_CLOSED', `${label}: ${why} ${list.join(', ')}, a closed period; nothing was imported.`, {
    hint: 'A closed month is immutable. Record corrections in an open month.',
    details: { file: label, months: list },
  });
}

/** HMACs of family_ref, cached (bounded). */
export function familyHasher(secret: Buffer): (ref: string) => string {
  const cache = new Map<string, string>();
  return (ref) => {
    let h = cache.get(ref);
    if (h === undefined) {
      h = createHmac('sha256', secret).update(ref).digest('hex');
      if (cache.size >= 100_000) cache.clear();
      cache.set(ref, h);
    }
    return h;
  };
}

/** Amounts per currency (minor units), as a plain object sorted by currency. */
export class Amounts {
  private readonly m = new Map<string, number>();
  add(currency: string, minor: number): void {
    this.m.set(currency, (this.m.get(currency) ?? 0) + minor);
  }
  toJSON(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const k of [...this.m.keys()].sort()) out[k] = this.m.get(k)!;
    return out;
  }
}

export interface PriorReports {
  /** This very file (same SHA-256) was imported before as this report. */
  same: boolean;
  /** Earlier files of the same report with other content (a correction replaces them). */
  predecessors: string[];
}

/** How a store file relates to what is in the ledger already. */
export async function priorReports(trx: Tx, store: Store, reportKey: string, sha256: string): Promise<PriorReports> {
  const rows = await trx
    .selectFrom('store_reports')
    .select(['batch_id', 'file_sha256'])
    .where('store', '=', store)
    .where('report_key', '=', reportKey)
    .execute();
  return {
    same: rows.some((r) => r.file_sha256 === sha256),
    predecessors: rows.filter((r) => r.file_sha256 !== sha256).map((r) => r.batch_id),
  };
}

/**
 * Removes the rows an earlier version of a report wrote (its sales, its holds, its
 * record), refusing when any of them is in a closed month.
 */
export async function replacePredecessors(
  trx: Tx,
  store: Store,
  reportKey: string,
  batches: string[],
  isClosed: (month: string) => boolean,
  label: string,
): Promise<number> {
  if (batches.length === 0) return 0;
  const months = new Set<string>();
  for (const r of await trx.selectFrom('sales').select('month').distinct().where('store', '=', store).where('batch_id', 'in', batches).execute()) months.add(r.month);
  for (const r of await trx.selectFrom('consent_holds').select('month').distinct().where('store', '=', store).where('report_key', '=', reportKey).execute()) months.add(r.month);
  const closed = [...months].filter(isClosed);
  if (closed.length) periodClosed(label, closed, 'it corrects an earlier file of the same report, whose rows are in');
  const removed = await trx.deleteFrom('sales').where('store', '=', store).where('batch_id', 'in', batches).executeTakeFirst();
  await trx.deleteFrom('consent_holds').where('store', '=', store).where('report_key', '=', reportKey).execute();
  await trx.deleteFrom('store_reports').where('store', '=', store).where('report_key', '=', reportKey).execute();
  return Number(removed.numDeletedRows);
}

export interface OpenHold {
  hold_key: string;
  units: number;
  amount_minor: number;
  line: number;
}

export async function openHolds(trx: Tx, store: Store, reportKey: string): Promise<Map<string, OpenHold>> {
  const rows = await trx
    .selectFrom('consent_holds')
    .select(['hold_key', 'units', 'amount_minor', 'line'])
    .where('store', '=', store)
    .where('report_key', '=', reportKey)
    .where('released_batch', 'is', null)
    .execute();
  return new Map(rows.map((r) => [r.hold_key, { ...r, units: Number(r.units), amount_minor: Number(r.amount_minor), line: Number(r.line) }]));
}

export interface ConsentGap {
  line: number;
  id: string;
  month: string;
  currency: string;
  units: number;
  amountMinor: number;
  reason: string;
}

/** CONSENT_MISSING: every unmatched order or line, listed. */
export function consentMissing(label: string, gaps: ConsentGap[]): never {
  const amounts = new Amounts();
  for (const g of gaps) amounts.add(g.currency, g.amountMinor);
  throw inputError(
    'CONSENT_MISSING',
    `${label}: ${gaps.length} ${gaps.length === 1 ? 'sale has' : 'sales have'} no purchase record with parental consent (${Object.entries(amounts.toJSON()).map(([c, a]) => `${a} ${c} minor units`).join(', ')}); nothing was imported.`,
    {
      hint: 'Import the app server\'s purchase log first (`ledger import purchases`), or import with --quarantine to hold this money until it is matched.',
      details: {
        file: label,
        unmatched: gaps.length,
        amounts: amounts.toJSON(),
        rows: gaps.slice(0, MAX_REPORTED).map((g) => ({ row: g.line, column: 'consent', code: 'CONSENT_MISSING', message: `${g.id}: ${g.reason}` })),
      },
    },
  );
}

export function isoOf(ms: number): string {
  return new Date(ms).toISOString();
}
