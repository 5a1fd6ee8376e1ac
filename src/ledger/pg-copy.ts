/**
 * The import pipeline's row writer on PostgreSQL: accepted rows stream with
 * `COPY … FROM STDIN` (text format) into a TEMP staging table made inside the import's
 * transaction (dropped at its end), and each flush moves them into the ledger table with one
 * `INSERT … SELECT … ON CONFLICT DO NOTHING` (a transaction stored by anyone else already is
 * skipped, never doubled). The pipeline flushes before every chunk's lookups, so those
 * queries see every row accepted so far, as on SQLite; memory holds at most one chunk.
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createRequire } from 'node:module';
import type { RowWriter, RowWriterFactory } from './import/types.js';
import type { PgSession } from './pg.js';

const require = createRequire(import.meta.url);

/** Rows buffered before a COPY is sent (the pipeline's chunks are 1,000 rows). */
const COPY_BATCH = 5000;
/**
 * The table is analysed after this many rows moved, then after four times as many, and so
 * on. Autovacuum cannot see an import's uncommitted rows, so without it the planner keeps the
 * statistics of the table before the import (for a new ledger: none) and answers the
 * pipeline's "already in the ledger?" lookups (`store = ? AND transaction_id IN (…)`) by
 * scanning every row of the store: quadratic over a large file. ANALYZE inside the
 * transaction counts the transaction's own rows.
 */
const FIRST_ANALYZE = 10_000;

const ident = (name: string) => `"${name.replace(/"/g, '""')}"`;

// eslint-disable-next-line no-control-regex
const NEEDS_ESCAPE = /[\\\t\n\r\u0008\u000b\u000c]/;

/** One value in COPY's text format: \N for NULL, backslash escapes for the separators. */
export function copyField(value: unknown): string {
  if (value === null || value === undefined) return '\\N';
  if (typeof value === 'number' || typeof value === 'bigint') return String(value);
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  // Most values have nothing to escape: test first, replace only then.
  if (!NEEDS_ESCAPE.test(text)) return text;
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\\\t\n\r\u0008\u000b\u000c]/g, (c) =>
    c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : c === '\r' ? '\\r' : c === '\b' ? '\\b' : c === '\v' ? '\\v' : '\\f',
  );
}

class CopyWriter implements RowWriter {
  private lines: string[] = [];
  private staged = false;
  /** Rows in the staging table not yet moved. */
  private waiting = false;
  private moved = 0;
  private nextAnalyze = FIRST_ANALYZE;
  private readonly stage: string;
  private readonly cols: string;

  constructor(
    private readonly session: PgSession,
    private readonly table: string,
    columns: readonly string[],
  ) {
    this.stage = ident(`packops_stage_${table}`);
    this.cols = columns.map(ident).join(', ');
  }

  async add(values: unknown[]): Promise<void> {
    this.lines.push(`${values.map(copyField).join('\t')}\n`);
    if (this.lines.length >= COPY_BATCH) await this.copy();
  }

  private async copy(): Promise<void> {
    if (this.lines.length === 0) return;
    const client = this.session.client;
    if (!this.staged) {
      // LIKE copies the columns' types and collations; ON COMMIT DROP ends it with the import.
      await client.query(`CREATE TEMP TABLE IF NOT EXISTS ${this.stage} (LIKE ${ident(this.table)}) ON COMMIT DROP`);
      await client.query(`TRUNCATE ${this.stage}`);
      this.staged = true;
    }
    const { from } = require('pg-copy-streams') as typeof import('pg-copy-streams');
    const lines = this.lines;
    this.lines = [];
    const sink = client.query(from(`COPY ${this.stage} (${this.cols}) FROM STDIN`));
    // Joined in slices: one write per ~1,000 rows keeps the stream's overhead small.
    this.waiting = true;
    await pipeline(
      Readable.from(
        (function* () {
          for (let i = 0; i < lines.length; i += 1000) yield lines.slice(i, i + 1000).join('');
        })(),
      ),
      sink,
    );
  }

  async flush(): Promise<void> {
    await this.copy();
    if (!this.waiting) return;
    const client = this.session.client;
    const r = await client.query(`INSERT INTO ${ident(this.table)} (${this.cols}) SELECT ${this.cols} FROM ${this.stage} ON CONFLICT DO NOTHING`);
    await client.query(`TRUNCATE ${this.stage}`);
    this.waiting = false;
    this.moved += r.rowCount ?? 0;
    if (this.moved >= this.nextAnalyze) {
      await client.query(`ANALYZE ${ident(this.table)}`);
      this.nextAnalyze = this.moved * 4;
    }
  }
}

/** The COPY writer factory for a ledger's PostgreSQL connection. */
export function copyWriter(session: PgSession): RowWriterFactory {
  return (_trx, table, columns) => new CopyWriter(session, table, columns);
}
