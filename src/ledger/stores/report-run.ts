/**
 * One run of `ledger import googleplay|appstore <file…>`: every file in ONE transaction
 * (any refusal and nothing is written), each file's batch, its report record, what it
 * replaced, and the summary per file and for the run.
 */
import { randomUUID } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { errnoCode, inputError } from '../../shared/errors.js';
import type { Ledger } from '../db.js';
import type { Store } from '../schema.js';
import { Amounts, consentMissing, type ConsentGap, type Tx } from './common.js';

export interface StoreImportOptions {
  /** Import the matched money and hold the rest (instead of CONSENT_MISSING). */
  quarantine?: boolean;
  now?: () => Date;
  onProgress?: (p: { file: string; rows: number }) => void;
}

/** What one report (a file, or one report in a zip) did. */
export interface ReportSummary {
  file: string;
  report: string;
  sha256: string;
  /** new: first import; again: the same file before (held rows re-checked); corrected: replaced an earlier file of the report. */
  status: 'new' | 'again' | 'corrected';
  /** Lines of the report read (data lines, not header or trailer). */
  rows: number;
  /** Google: orders and refunds of the app; Apple: report lines. */
  orders: number;
  imported: number;
  skipped: number;
  released: number;
  held: { count: number; amounts: Record<string, number> };
  /** Ledger rows an earlier version of the report had, removed (corrected). */
  replaced: number;
  otherApps: { rows: number; amounts: Record<string, number> };
  totals: {
    /** The report's own totals (Google: Σ of every row; Apple: the trailer or summary block). */
    report: Record<string, number>;
    /** This report's money in the ledger now. */
    ledger: Record<string, number>;
    held: Record<string, number>;
    otherApps: Record<string, number>;
  };
}

export interface StoreImportSummary {
  ok: true;
  store: 'googleplay' | 'appstore';
  batch: string | null;
  files: ReportSummary[];
  rows: number;
  orders: number;
  imported: number;
  skipped: number;
  released: number;
  held: { count: number; amounts: Record<string, number> };
  otherApps: { rows: number; amounts: Record<string, number> };
}

/** The mutable tallies of one report while it is written. */
export class ReportTally {
  rows = 0;
  orders = 0;
  imported = 0;
  skipped = 0;
  released = 0;
  heldCount = 0;
  replaced = 0;
  otherRows = 0;
  readonly report = new Amounts();
  readonly ledger = new Amounts();
  readonly held = new Amounts();
  readonly other = new Amounts();
  readonly gaps: ConsentGap[] = [];
  /** Whether this run wrote anything for the report. */
  get changed(): boolean {
    return this.imported > 0 || this.released > 0 || this.replaced > 0 || this.newHolds > 0;
  }
  newHolds = 0;

  summary(file: string, report: string, sha256: string, status: ReportSummary['status']): ReportSummary {
    return {
      file, report, sha256, status,
      rows: this.rows, orders: this.orders, imported: this.imported, skipped: this.skipped, released: this.released,
      held: { count: this.heldCount, amounts: this.held.toJSON() },
      replaced: this.replaced,
      otherApps: { rows: this.otherRows, amounts: this.other.toJSON() },
      totals: { report: this.report.toJSON(), ledger: this.ledger.toJSON(), held: this.held.toJSON(), otherApps: this.other.toJSON() },
    };
  }
}

/** Records a report this run wrote to, at once (a later file of the same run may correct it). */
export async function recordReport(ctx: RunContext, store: Store, s: ReportSummary): Promise<void> {
  await ctx.trx
    .insertInto('store_reports')
    .values({ batch_id: ctx.batch, store, report_key: s.report, file_sha256: s.sha256, file_name: basename(s.file), summary: JSON.stringify(s.totals), created_at: ctx.now().toISOString() })
    .execute();
}

export async function checkFile(file: string): Promise<void> {
  try {
    if (!(await stat(file)).isFile()) throw inputError('PATH_NOT_FOUND', `${file} is not a file.`);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') throw inputError('PATH_NOT_FOUND', `${file} does not exist.`);
    throw err;
  }
}

export interface RunContext {
  trx: Tx;
  batch: string;
  quarantine: boolean;
  now: () => Date;
}

/**
 * Runs `perFile` for each file inside one write transaction. The batch row is written
 * first (so the write lock is taken at once) and removed again when nothing changed:
 * re-importing a file leaves the ledger exactly as it was.
 */
export async function runStoreImport(
  ledger: Ledger,
  store: 'googleplay' | 'appstore',
  files: string[],
  options: StoreImportOptions,
  perFile: (ctx: RunContext, file: string) => Promise<Array<{ summary: ReportSummary; tally: ReportTally }>>,
): Promise<StoreImportSummary> {
  if (files.length === 0) throw inputError('USAGE', 'Name at least one report file.');
  for (const f of files) await checkFile(f);
  const now = options.now ?? (() => new Date());
  const batch = randomUUID();
  return ledger.db.transaction().execute(async (trx) => {
    await trx
      .insertInto('import_batches')
      .values({ id: batch, kind: store, file_name: files.map((f) => basename(f)).join(', ').slice(0, 1000), file_sha256: '', rows: 0, imported: 0, skipped: 0, quarantined: 0, started_at: now().toISOString(), finished_at: null })
      .execute();
    const ctx: RunContext = { trx, batch, quarantine: options.quarantine ?? false, now };
    const results: Array<{ summary: ReportSummary; tally: ReportTally }> = [];
    for (const file of files) results.push(...(await perFile(ctx, file)));
    const gaps = results.flatMap((r) => r.tally.gaps.map((g) => ({ ...g, file: r.summary.file })));
    if (gaps.length) consentMissing(files.length === 1 ? files[0]! : `${files.length} files`, gaps);

    const held = new Amounts();
    const other = new Amounts();
    const sum = { rows: 0, orders: 0, imported: 0, skipped: 0, released: 0, held: 0, otherRows: 0 };
    for (const { summary: s } of results) {
      sum.rows += s.rows;
      sum.orders += s.orders;
      sum.imported += s.imported;
      sum.skipped += s.skipped;
      sum.released += s.released;
      sum.held += s.held.count;
      sum.otherRows += s.otherApps.rows;
      for (const [c, a] of Object.entries(s.held.amounts)) held.add(c, a);
      for (const [c, a] of Object.entries(s.otherApps.amounts)) other.add(c, a);
    }
    const changed = results.some((r) => r.tally.changed);
    if (changed) {
      await trx
        .updateTable('import_batches')
        .set({
          file_sha256: results.map((r) => r.summary.sha256).filter((v, i, a) => a.indexOf(v) === i).join(','),
          rows: sum.rows,
          imported: sum.imported,
          skipped: sum.skipped,
          quarantined: sum.held,
          finished_at: now().toISOString(),
        })
        .where('id', '=', batch)
        .execute();
    } else {
      await trx.deleteFrom('import_batches').where('id', '=', batch).execute();
    }
    return {
      ok: true,
      store,
      batch: changed ? batch : null,
      files: results.map((r) => r.summary),
      rows: sum.rows,
      orders: sum.orders,
      imported: sum.imported,
      skipped: sum.skipped,
      released: sum.released,
      held: { count: sum.held, amounts: held.toJSON() },
      otherApps: { rows: sum.otherRows, amounts: other.toJSON() },
    };
  });
}
