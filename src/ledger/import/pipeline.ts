/**
 * The import pipeline: every `ledger import <kind>` runs through `runImport`, which owns
 * read → parse → check → stage → write (ONE write transaction: BEGIN IMMEDIATE on SQLite)
 * → quarantine → summary. An importer is an `Importer<P>` (P: its parsed row) and only
 * knows its format and rules:
 *
 *   1. `columns` (+ optional `read(input, ctx)`): the default reader streams CSV or JSON
 *      Lines by header name; override `read` to open containers (.zip/.gz), decode, group
 *      rows into transactions, and yield `SourceRecord[]` chunks (`input.open()` hashes).
 *   2. `parse(rec)` → `{ parsed?, problems }` (no I/O); `check(ctx, items)` does ledger and
 *      cross-row checks per chunk and sets each good item's `action`: insert (default),
 *      skip (already in the ledger), update (upsert via `update`, counted as `updated`).
 *   3. `period(p)` names the month (and column) a row is dated in: the pipeline refuses
 *      any row to be written into a closed month (PERIOD_CLOSED), read inside the write
 *      transaction — for every importer, whatever its own checks do.
 *   4. `table` + `insertColumns` + `values(p, batch)`: staged through a `RowWriter`
 *      (writer.ts; a dialect may stage differently, e.g. PostgreSQL COPY).
 *   5. Optional: `staged(ledger)`, a dialect's whole-file path for a one-file import
 *      (PostgreSQL sales: COPY every row into one staging table, the checks that need the
 *      ledger as set-based SQL, one INSERT … SELECT; see StagedPath).
 *   6. Optional: `quarantineRow(item)` (extra quarantine columns, e.g. a held amount, and
 *      the row's identity), `refuse(bad, details)` (a code more specific than ROWS_INVALID,
 *      e.g. CONSENT_MISSING), `finish(ctx)` (after the last input, in the transaction) and
 *      `summary()` (extra fields for --json).
 *
 * Several inputs go in one transaction, one import batch (and SHA-256) per input. Without
 * `quarantine` any bad row rolls everything back; with it, good rows are written and bad
 * ones kept in the quarantine table. A PERIOD_CLOSED row always refuses the whole import.
 */
import { createHmac, randomUUID } from 'node:crypto';
import { basename } from 'node:path';
import { conflictError, inputError, type PackopsError } from '../../shared/errors.js';
import { withCloseLock } from '../close-lock.js';
import type { Ledger } from '../db.js';
import { cellText, type RowProblem } from '../fields.js';
import { detectFormat, readRecords, specColumns, type ColumnSpec, type FileFormat, type SourceRecord } from '../records.js';
import type { ImportKind, LedgerDB } from '../schema.js';
import { closedMonths, type ClosedPeriods } from './closed.js';
import { fileSize, hashFile, IMPORT_INPUT, makeInput, type ImportInput } from './inputs.js';
import type { RowWriterFactory, Tx } from './types.js';
import { rowWriterFor } from './writer.js';
import { setOwn } from '../../shared/lookup.js';
import { boundedJson } from '../../shared/format.js';

/** Rows checked together (one lookup query per chunk). */
export const CHUNK = 1000;
/** Problems listed in an error's details; the counts always cover every row. */
const MAX_REPORTED = 10_000;

export type { ImportInput } from './inputs.js';

export type Action = 'insert' | 'skip' | 'update';

export interface Item<P> {
  rec: SourceRecord;
  parsed?: P;
  problems: RowProblem[];
  action?: Action;
}

export interface ImportContext {
  trx: Tx;
  ledger: Ledger;
  kind: ImportKind;
  /** The batch id of the input being read. */
  batch: string;
  /** Closed months, read inside this transaction. */
  closed: ClosedPeriods;
  quarantine: boolean;
  now: () => Date;
  /** A format forced by the caller (default reader only). */
  format?: FileFormat;
}

export interface Importer<P> {
  kind: ImportKind;
  /** Header names for the default reader; cells arrive in this order (required, then optional). */
  columns: ColumnSpec;
  table: keyof LedgerDB;
  insertColumns: readonly string[];
  /** Reads one input in chunks of records (default: CSV or JSON Lines by `columns`). */
  read?(input: ImportInput, ctx: ImportContext): AsyncIterable<SourceRecord[]>;
  /** Loads what the checks need, inside the write transaction. */
  init(ctx: ImportContext): Promise<void>;
  parse(rec: SourceRecord): { parsed?: P; problems: RowProblem[] };
  /**
   * Cross-row and ledger checks, in the order `read` yields rows (file order, unless the
   * importer says otherwise): sets each good item's action. Every row
   * accepted before this chunk is already written (in this transaction), so the ledger
   * itself answers "is it there already?".
   */
  check(ctx: ImportContext, items: Array<Item<P>>): Promise<void>;
  /** The month a row is dated in and the column that dates it (undefined: not known, the row is bad anyway). */
  period(p: P): { column: string; month: string } | undefined;
  /** Values of one row in `insertColumns` order. */
  values(p: P, batch: string): unknown[];
  update?(ctx: ImportContext, p: P): Promise<void>;
  /** Extra columns of a bad row's quarantine record (e.g. a held amount). */
  quarantineRow?(item: Item<P>): Record<string, unknown>;
  /**
   * Where a bad item of a file goes among the file's bad items when they are reported and
   * quarantined (ascending; default: the order `check` saw them). For an importer whose
   * `check` sees rows in another order than its file's (googleplay: sales by id).
   */
  reportOrder?(item: Item<P>): number;
  /** The error refusing the import when it is more specific than ROWS_INVALID; undefined for the default. */
  refuse?(bad: ReadonlyArray<Item<P>>, details: RefusalDetails): PackopsError | undefined;
  /** After the last input, inside the transaction (before quarantine and commit). */
  finish?(ctx: ImportContext): Promise<void>;
  /** Extra fields of the summary (--json). */
  summary?(): Record<string, unknown>;
  /** A whole-file path for this ledger (one input only), or undefined to check and write chunk by chunk. */
  staged?(ledger: Ledger): StagedPath<P> | undefined;
}

/**
 * A whole-file import path: every parsed chunk is handed to `add` (which checks what needs
 * no ledger lookup and stages the rows), and `settle` runs the ledger checks over the whole
 * file at once, then writes the accepted rows unless the import is refused (a bad row
 * without --quarantine). Its results replace `check`, the closed-month gate and the writer.
 */
export interface StagedPath<P> {
  /** Before the import's transaction begins (e.g. the lock it takes). */
  beforeBegin(): void;
  add(ctx: ImportContext, items: Array<Item<P>>): Promise<void>;
  /** Every bad item of the file, in row order, with the rows written, skipped and (optional) updated. */
  settle(ctx: ImportContext): Promise<{ bad: Array<Item<P>>; imported: number; skipped: number; updated?: number }>;
}

export interface ReportedProblem extends RowProblem {
  row: number;
  /** The input, when an import has several. */
  file?: string;
}

export interface RefusalDetails {
  [key: string]: unknown;
  file: string;
  badRows: number;
  problems: number;
  truncated: boolean;
  rows: ReportedProblem[];
}

export interface RunOptions {
  quarantine?: boolean;
  format?: FileFormat;
  now?: () => Date;
  onProgress?: (p: { rows: number; bytes: number; totalBytes: number }) => void;
  /** How accepted rows are staged (default: the ledger's dialect). */
  writer?: RowWriterFactory;
}

export interface FileSummary {
  file: string;
  format: string;
  batch: string;
  sha256: string;
  rows: number;
  imported: number;
  skipped: number;
  quarantined: number;
  updated: number;
}

export interface ImportResult {
  ok: true;
  kind: ImportKind;
  files: FileSummary[];
  rows: number;
  imported: number;
  skipped: number;
  quarantined: number;
  /** Rows whose stored value in an open month was replaced. */
  updated: number;
  /** The importer's own summary fields. */
  extra: Record<string, unknown>;
}

/** The default reader: CSV with a header, or JSON Lines, by the importer's columns. */
async function* defaultRead(columns: ColumnSpec, input: ImportInput, ctx: ImportContext): AsyncGenerator<SourceRecord[]> {
  const format = ctx.format ?? (await detectFormat(input.file, IMPORT_INPUT));
  input.format = format;
  yield* readRecords(input.file, input.open(), { format, columns, chunkSize: CHUNK });
}

/** Imports `files` with `importer` in one write transaction; throws and writes nothing on refusal. */
export async function runImport<P>(ledger: Ledger, importer: Importer<P>, files: readonly string[], options: RunOptions = {}): Promise<ImportResult> {
  const sizes: number[] = [];
  for (const file of files) sizes.push(await fileSize(file));
  const totalBytes = sizes.reduce((a, b) => a + b, 0);
  const now = options.now ?? (() => new Date());
  const quarantine = options.quarantine ?? false;
  const makeWriter = options.writer ?? rowWriterFor(ledger);
  const kind = importer.kind;
  const columns = specColumns(importer.columns);
  // Read (and cache) the family secret now: quarantine keys need it inside the transaction,
  // and there the ledger's one connection is held by the transaction itself, so a read through
  // ledger.db would wait on it forever.
  await ledger.familySecret();

  const staged = files.length === 1 && !options.writer ? importer.staged?.(ledger) : undefined;
  staged?.beforeBegin();

  return ledger.db.transaction().execute(async (trx) => {
    // The driver opens the transaction with BEGIN IMMEDIATE: the write lock is held from
    // here, so the closed months read now stay closed-or-open until the commit.
    const ctx: ImportContext = {
      trx, ledger, kind, batch: '', closed: await closedMonths(trx), quarantine, now,
      ...(options.format ? { format: options.format } : {}),
    };
    await importer.init(ctx);
    const writer = makeWriter(trx, importer.table, importer.insertColumns);
    const bad: Array<{ item: Item<P>; file: string; batch: string }> = [];
    const summaries: FileSummary[] = [];
    let rows = 0;
    let bytes = 0;
    const locked = new Set<string>();

    for (let f = 0; f < files.length; f++) {
      const file = files[f]!;
      const batch = randomUUID();
      const fileBad = bad.length;
      ctx.batch = batch;
      await trx
        .insertInto('import_batches')
        .values({
          id: batch, kind, file_name: basename(file), file_sha256: '', rows: 0, imported: 0, skipped: 0, quarantined: 0,
          started_at: now().toISOString(), finished_at: null,
        })
        .execute();
      const input = makeInput(file, sizes[f]!, (n) => (bytes += n));
      const s: FileSummary = { file, format: '', batch, sha256: '', rows: 0, imported: 0, skipped: 0, quarantined: 0, updated: 0 };
      const source = importer.read ? importer.read(input, ctx) : defaultRead(importer.columns, input, ctx);
      for await (const records of source) {
        s.rows += records.length;
        rows += records.length;
        const chunk: Array<Item<P>> = new Array<Item<P>>(records.length);
        for (let i = 0; i < records.length; i++) {
          const rec = records[i]!;
          if (rec.shapeError) {
            chunk[i] = { rec, parsed: undefined, problems: [{ column: rec.shapeError.column, code: 'ROW_INVALID', message: rec.shapeError.message }] };
          } else {
            const r = importer.parse(rec);
            chunk[i] = { rec, parsed: r.parsed, problems: r.problems }; // one object shape for every item
          }
        }
        if (staged) {
          await staged.add(ctx, chunk);
          options.onProgress?.({ rows, bytes, totalBytes });
          continue;
        }
        // Rows accepted so far go in first, so this chunk's lookups see them. After a bad row
        // (without --quarantine) rows are still written: the transaction is rolled back at
        // the end, and later rows are checked against a true picture of the file.
        await writer.flush();
        await importer.check(ctx, chunk);
        for (const item of chunk) {
          if (item.problems.length === 0 && item.action !== 'skip' && item.parsed !== undefined) {
            // The closed-month gate every importer passes through, whatever it checked itself.
            const period = importer.period(item.parsed);
            if (period && !locked.has(period.month)) {
              // The close's lock for each month written (a no-op on SQLite, where the write
              // transaction is the lock; a real one where writers run concurrently), then the
              // closed months as they are under it.
              await withCloseLock(trx, period.month);
              locked.add(period.month);
              ctx.closed = await closedMonths(trx);
            }
            if (period && ctx.closed.has(period.month)) item.problems.push(ctx.closed.problem(period.column, period.month));
          }
          if (item.problems.length > 0) {
            bad.push({ item, file, batch });
            s.quarantined++;
          } else if (item.action === 'skip') {
            s.skipped++;
          } else if (item.action === 'update') {
            await importer.update!(ctx, item.parsed!);
            s.updated++;
          } else {
            await writer.add(importer.values(item.parsed!, batch));
            s.imported++;
          }
        }
        options.onProgress?.({ rows, bytes, totalBytes });
      }
      await writer.flush();
      if (staged) {
        const settled = await staged.settle(ctx);
        for (const item of settled.bad) bad.push({ item, file, batch });
        s.quarantined += settled.bad.length;
        s.imported += settled.imported;
        s.skipped += settled.skipped;
        s.updated += settled.updated ?? 0;
      }
      if (importer.reportOrder) {
        const order = importer.reportOrder;
        const mine = bad.splice(fileBad).sort((a, b) => order(a.item) - order(b.item)); // stable
        for (const b of mine) bad.push(b);
      }
      s.format = input.format ?? '';
      s.sha256 = input.digest() ?? (await hashFile(file));
      summaries.push(s);
    }
    await importer.finish?.(ctx);

    const closedConflict = bad.some((b) => b.item.problems.some((p) => p.code === 'PERIOD_CLOSED'));
    if (bad.length > 0 && (closedConflict || !quarantine)) {
      const label = files.length === 1 ? files[0]! : `${files.length} files`;
      const reported = reportProblems(bad, files.length > 1);
      const details: RefusalDetails = {
        file: label,
        ...(files.length > 1 ? { files: [...files] } : {}),
        badRows: bad.length,
        problems: reported.total,
        truncated: reported.total > reported.rows.length,
        rows: reported.rows,
      };
      if (closedConflict) {
        throw conflictError('PERIOD_CLOSED', `${label}: ${bad.length} row(s) refused; rows dated in a closed period cannot be imported.`, {
          hint: 'A closed month is immutable. Record corrections in an open month (a refund dated now is fine).',
          details,
        });
      }
      const specific = importer.refuse?.(bad.map((b) => b.item), details);
      if (specific) throw specific;
      throw inputError('ROWS_INVALID', `${label}: ${bad.length} bad row(s) of ${rows}; nothing was imported.`, {
        hint: 'Fix the rows listed, or import with --quarantine to write the good rows and keep the bad ones aside.',
        details,
      });
    }

    // A row already in quarantine (same kind, same row_key) is not kept twice.
    const createdAt = now().toISOString();
    const secret = bad.length > 0 ? await ledger.familySecret() : undefined;
    for (let i = 0; i < bad.length; i += 100) {
      await trx
        .insertInto('quarantine')
        .values(
          bad.slice(i, i + 100).map(({ item, batch }) => ({
            batch_id: batch,
            row_number: item.rec.row,
            kind,
            code: item.problems[0]!.code,
            reasons: JSON.stringify(item.problems),
            raw: boundedJson(redact(columns, item.rec.cells)),
            created_at: createdAt,
            row_key: rowKey(secret!, kind, item.rec),
            ...importer.quarantineRow?.(item),
          })),
        )
        .onConflict((oc) => oc.columns(['kind', 'row_key']).doNothing())
        .execute();
    }
    for (const s of summaries) {
      await trx
        .updateTable('import_batches')
        .set({ file_sha256: s.sha256, rows: s.rows, imported: s.imported, skipped: s.skipped, quarantined: s.quarantined, finished_at: now().toISOString() })
        .where('id', '=', s.batch)
        .execute();
    }
    const total = (k: 'imported' | 'skipped' | 'quarantined' | 'updated') => summaries.reduce((a, s) => a + s[k], 0);
    return {
      ok: true,
      kind,
      files: summaries,
      rows,
      imported: total('imported'),
      skipped: total('skipped'),
      quarantined: total('quarantined'),
      updated: total('updated'),
      extra: importer.summary?.() ?? {},
    };
  });
}

/**
 * A quarantined row's identity: HMAC-SHA256 (the ledger's secret, as family_ref's, since the
 * content holds family_ref) of the kind and the row's cells in column order, so the same
 * row is one quarantine record whatever file, file name, column order or row number it
 * came in (CSV or JSON Lines); a record whose shape is wrong is identified by the record as read.
 */
function rowKey(secret: Buffer, kind: string, rec: SourceRecord): string {
  // Cells as text: a CSV's empty cell and a JSON Lines absent field or null are one value, as are 499 and "499".
  const content = rec.raw !== undefined ? { raw: rec.raw } : Array.from(rec.cells, cellText); // (JSON Lines cells may be sparse)
  return createHmac('sha256', secret).update(`${kind}\u0000${JSON.stringify(content)}`).digest('hex');
}

/** The row as an object of its columns, without family_ref (never stored raw). */
function redact(columns: readonly string[], cells: readonly unknown[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  columns.forEach((c, i) => {
    if (c !== 'family_ref' && cells[i] !== undefined) setOwn(out, c, cells[i]); // a column named __proto__ stays a column
  });
  return out;
}

function reportProblems(bad: ReadonlyArray<{ item: Item<unknown>; file: string }>, withFile: boolean): { rows: ReportedProblem[]; total: number } {
  const rows: ReportedProblem[] = [];
  let total = 0;
  for (const { item, file } of bad) {
    for (const p of item.problems) {
      total++;
      if (rows.length < MAX_REPORTED) {
        rows.push({ row: item.rec.row, column: p.column, code: p.code, message: p.message, ...(withFile ? { file } : {}) });
      }
    }
  }
  return { rows, total };
}

/** Problems of the parsers' results, in order. */
export function collect(...results: Array<{ ok: true } | { ok: false; problem: RowProblem }>): RowProblem[] {
  const problems: RowProblem[] = [];
  for (const r of results) if (!r.ok) problems.push(r.problem);
  return problems;
}
