/**
 * What the two store-report importers (googleplay, appstore) share on top of the pipeline:
 * which report a file is and how it relates to earlier files (the same file again, or a
 * correction that replaces its predecessor's rows), the money held for want of consent
 * (quarantine rows with code CONSENT_MISSING, released once a purchase record matches),
 * products by store id, and the per-report summary with the report's totals next to the
 * ledger's.
 */
import { basename } from 'node:path';
import { conflictError, inputError, type PackopsError } from '../../shared/errors.js';
import type { ProductKind } from '../schema.js';
import type { ImportContext, Item, RefusalDetails } from './pipeline.js';
import type { Corrections } from './store-corrections.js';
import type { Tx } from './types.js';

export type StoreName = 'googleplay' | 'appstore';
export type Resolved = { kind: ProductKind; slug: string };

/** Amounts per currency (minor units). */
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

/** One report's tallies, for the --json summary. */
export class ReportTally {
  status: 'new' | 'again' | 'corrected' = 'new';
  /** Data lines read (not header, trailer or summary). */
  lines = 0;
  /** Google: orders and refunds of the app; Apple: units. */
  transactions = 0;
  imported = 0;
  skipped = 0;
  released = 0;
  heldCount = 0;
  newlyHeld = 0;
  replaced = 0;
  otherRows = 0;
  readonly report = new Amounts();
  readonly ledger = new Amounts();
  readonly held = new Amounts();
  readonly other = new Amounts();
  /** The batch that read the report. */
  batch = '';
  constructor(
    readonly file: string,
    /** Which report the file is (store, app, period, currency, region): a corrected file has the same key. */
    public key = '',
  ) {}

  toJSON(): Record<string, unknown> {
    return {
      file: this.file,
      report: this.key,
      status: this.status,
      lines: this.lines,
      transactions: this.transactions,
      imported: this.imported,
      skipped: this.skipped,
      released: this.released,
      held: { count: this.heldCount, newly: this.newlyHeld, amounts: this.held.toJSON() },
      replaced: this.replaced,
      otherApps: { rows: this.otherRows, amounts: this.other.toJSON() },
      totals: { report: this.report.toJSON(), ledger: this.ledger.toJSON(), held: this.held.toJSON(), otherApps: this.other.toJSON() },
    };
  }
}

/** Store product id (or pack/bundle slug) → what it sells. */
export async function productResolver(trx: Tx, store: StoreName): Promise<(product: string) => Resolved | undefined> {
  const map = new Map<string, Resolved>();
  for (const b of await trx.selectFrom('bundles').select('slug').execute()) map.set(b.slug, { kind: 'bundle', slug: b.slug });
  const packs = await trx.selectFrom('packs').select(['slug', 'appstore_product_id', 'googleplay_product_id']).execute();
  for (const p of packs) map.set(p.slug, { kind: 'pack', slug: p.slug });
  for (const p of packs) {
    const id = store === 'appstore' ? p.appstore_product_id : p.googleplay_product_id;
    if (id) map.set(id, { kind: 'pack', slug: p.slug });
  }
  return (product) => map.get(product);
}

/** How a report file is recognised: by its content, whatever its name or container. */
export interface ReportIdentity {
  /** SHA-256 of the report text itself (a zip entry's or a .gz's content, a plain file's bytes). */
  content: string;
  /**
   * Hashes the same file was recorded under before reports were known by content (the
   * container's SHA-256 of a .gz or .zip, `<zip sha>:<entry>` of an App Store zip entry).
   */
  aliases?: readonly string[];
  /** Keys an earlier version derived for this report (its predecessors may be recorded under them). */
  legacyKeys?: readonly string[];
  /**
   * Only earlier reports whose key starts with this are the same report: Google's account
   * report holds every app, so the same file read for another app (`--package`) is not it.
   */
  keyPrefix?: string;
}

/**
 * Records the report this input is and returns how it relates to earlier files.
 * - The same report text (SHA-256 of the content, whatever the file's name or container)
 *   as ANY earlier file of the store is that earlier report: `again`, under its key, whatever
 *   key this file would give. Its rows are skipped; held ones may be released.
 * - Otherwise another file of the same report key is a correction: it first removes
 *   everything its predecessors wrote (their sales, their held rows), refusing with
 *   PERIOD_CLOSED when any of that is in a closed month. What the correction may not do
 *   (drop transactions without --replace, strand refunds) is checked once the import's rows
 *   are written (`corrections.check`, store-corrections.ts).
 */
export async function identifyReport(ctx: ImportContext, store: StoreName, tally: ReportTally, id: ReportIdentity, corrections: Corrections): Promise<void> {
  const { trx } = ctx;
  tally.batch = ctx.batch;
  const known = await trx
    .selectFrom('store_reports')
    .select(['report_key'])
    .where('store', '=', store)
    .where('file_sha256', 'in', [id.content, ...(id.aliases ?? [])])
    .orderBy('created_at', 'desc')
    .execute()
    .then((rows) => rows.find((r) => r.report_key.startsWith(id.keyPrefix ?? '')));
  if (known) {
    tally.key = known.report_key;
    tally.status = 'again';
    await recordReport(ctx, store, tally, id.content);
    return;
  }
  const keys = [tally.key, ...(id.legacyKeys ?? []).filter((k) => k !== tally.key)];
  const rows = await trx.selectFrom('store_reports').select(['batch_id', 'file_name', 'created_at', 'report_key']).where('store', '=', store).where('report_key', 'in', keys).orderBy('created_at').execute();
  const predecessors = [...new Set(rows.filter((r) => r.batch_id !== ctx.batch).map((r) => r.batch_id))];
  tally.status = predecessors.length ? 'corrected' : 'new';
  if (predecessors.length) {
    const oldKeys = [...new Set(rows.map((r) => r.report_key))];
    const months = new Set<string>();
    for (const r of await trx.selectFrom('sales').select('month').distinct().where('store', '=', store).where('batch_id', 'in', predecessors).execute()) months.add(r.month);
    for (const r of await trx.selectFrom('quarantine').select('month').distinct().where('store', '=', store).where('report_key', 'in', oldKeys).execute()) if (r.month) months.add(r.month);
    const closed = [...months].filter((m) => ctx.closed.has(m)).sort();
    if (closed.length) {
      throw conflictError('PERIOD_CLOSED', `${tally.file} corrects an earlier file of the same report, whose rows are in ${closed.join(', ')}: ${closed.map((m) => ctx.closed.describe(m)).join('; ')}. Nothing was imported.`, {
        hint: 'A closed month is immutable. Record corrections in an open month.',
        details: { file: tally.file, months: closed },
      });
    }
    const earlier = rows.filter((r) => predecessors.includes(r.batch_id)).map((r) => ({ file: r.file_name, importedAt: r.created_at }));
    await corrections.snapshot(trx, { store, file: tally.file, key: tally.key, predecessors: earlier }, predecessors);
    const removed = await trx.deleteFrom('sales').where('store', '=', store).where('batch_id', 'in', predecessors).executeTakeFirst();
    tally.replaced = Number(removed.numDeletedRows);
    await trx.deleteFrom('quarantine').where('store', '=', store).where('report_key', 'in', oldKeys).execute();
    await trx.deleteFrom('store_reports').where('store', '=', store).where('report_key', 'in', oldKeys).execute();
  }
  await recordReport(ctx, store, tally, id.content);
}

/** The report's record for this batch (once per batch and key: a zip may hold the same report twice). */
async function recordReport(ctx: ImportContext, store: StoreName, tally: ReportTally, sha256: string): Promise<void> {
  await ctx.trx
    .insertInto('store_reports')
    .values({ batch_id: ctx.batch, store, report_key: tally.key, file_sha256: sha256, file_name: basename(tally.file), summary: '{}', created_at: ctx.now().toISOString() })
    .onConflict((oc) => oc.columns(['batch_id', 'report_key']).doNothing())
    .execute();
}

/** Held rows of a report still waiting for consent: hold key → its quarantine row. */
export async function openHolds(trx: Tx, store: StoreName, reportKey: string): Promise<Map<string, { batch: string; row: number }>> {
  const rows = await trx
    .selectFrom('quarantine')
    .select(['hold_key', 'batch_id', 'row_number'])
    .where('store', '=', store)
    .where('report_key', '=', reportKey)
    .where('code', '=', 'CONSENT_MISSING')
    .where('released_batch', 'is', null)
    .execute();
  return new Map(rows.map((r) => [r.hold_key!, { batch: r.batch_id, row: Number(r.row_number) }]));
}

/** Marks held rows as released by this batch (they are in the ledger now). */
export async function releaseHolds(ctx: ImportContext, store: StoreName, reportKey: string, holdKeys: string[]): Promise<void> {
  for (let i = 0; i < holdKeys.length; i += 500) {
    await ctx.trx
      .updateTable('quarantine')
      .set({ released_batch: ctx.batch })
      .where('store', '=', store)
      .where('report_key', '=', reportKey)
      .where('hold_key', 'in', holdKeys.slice(i, i + 500))
      .where('released_batch', 'is', null)
      .execute();
  }
}

/** Saves each report's totals with its record (what `--json` printed, for later audits). */
export async function saveTotals(ctx: ImportContext, tallies: readonly ReportTally[]): Promise<void> {
  for (const t of tallies) {
    await ctx.trx
      .updateTable('store_reports')
      .set({ summary: JSON.stringify(t.toJSON()) })
      .where('batch_id', '=', t.batch)
      .where('report_key', '=', t.key)
      .execute();
  }
}

/** The fields a held or bad store row carries into the quarantine table. */
export interface HeldFields {
  store: StoreName;
  report_key: string;
  hold_key: string;
  line: number;
  month: string;
  currency: string;
  amount_minor: number;
}

/**
 * The quarantine row key of held store money: one row per store, report and hold, ever.
 * A JSON array, not NUL-separated: PostgreSQL text cannot hold a NUL byte.
 */
export function heldRowKey(held: HeldFields): string {
  return JSON.stringify([held.store, held.report_key, held.hold_key]);
}

/**
 * CONSENT_MISSING when every refused row is a sale without a purchase record (each listed
 * with its line and amount); undefined (ROWS_INVALID) when any row is bad otherwise.
 */
export function consentRefusal<P extends { held?: HeldFields }>(bad: ReadonlyArray<Item<P>>, details: RefusalDetails): PackopsError | undefined {
  if (!bad.every((b) => b.problems.every((p) => p.code === 'CONSENT_MISSING'))) return undefined;
  const amounts = new Amounts();
  for (const b of bad) if (b.parsed?.held) amounts.add(b.parsed.held.currency, b.parsed.held.amount_minor);
  const money = Object.entries(amounts.toJSON()).map(([c, a]) => `${a} ${c}`).join(', ');
  return inputError(
    'CONSENT_MISSING',
    `${details.file}: ${bad.length} store transaction(s) have no purchase record with parental consent (${money} minor units); nothing was imported.`,
    {
      hint: 'Import the app server\'s purchase log first (`ledger import purchases`), or import with --quarantine to hold this money (shown as "held: consent missing") until a purchase record matches.',
      details: { ...details, amounts: amounts.toJSON() },
    },
  );
}

/** Format errors found while reading a report: ROWS_INVALID, every line listed, nothing written. */
export function badLines(label: string, lines: number, rows: Array<{ row: number; column: string; code: string; message: string }>, total: number): PackopsError {
  return inputError('ROWS_INVALID', `${label}: ${new Set(rows.map((r) => r.row)).size} bad line(s) of ${lines}; nothing was imported.`, {
    hint: 'Each line is listed with its number and what is wrong. A store report is imported whole or not at all.',
    details: { file: label, badRows: new Set(rows.map((r) => r.row)).size, problems: total, truncated: total > rows.length, rows },
  });
}

const DAY_MS = 86_400_000;
/** `YYYY-MM-DDT` of each UTC day met (a report spans a month or a few). */
const dayPrefixes = new Map<number, string>();
const TWO_DIGITS = Array.from({ length: 60 }, (_, i) => String(i).padStart(2, '0'));

/**
 * `new Date(ms).toISOString()`, without a Date per call for the instants of years 1970–9999
 * in whole milliseconds (each import formats one per transaction): the day's prefix is
 * formatted once, the time of day from integers.
 */
export function isoOf(ms: number): string {
  if (!(ms >= 0 && ms < 253_402_300_800_000) || !Number.isInteger(ms)) return new Date(ms).toISOString();
  const day = Math.floor(ms / DAY_MS);
  let prefix = dayPrefixes.get(day);
  if (prefix === undefined) {
    if (dayPrefixes.size >= 10_000) dayPrefixes.clear();
    prefix = new Date(day * DAY_MS).toISOString().slice(0, 11);
    dayPrefixes.set(day, prefix);
  }
  let rest = ms - day * DAY_MS;
  const milli = rest % 1000;
  rest = (rest - milli) / 1000;
  const second = rest % 60;
  rest = (rest - second) / 60;
  const minute = rest % 60;
  const hour = (rest - minute) / 60;
  return `${prefix}${TWO_DIGITS[hour]}:${TWO_DIGITS[minute]}:${TWO_DIGITS[second]}.${milli < 10 ? '00' : milli < 100 ? '0' : ''}${milli}Z`;
}
