/**
 * `ledger copy <from> <to>`: a whole ledger from one location to another (SQLite →
 * PostgreSQL is the common case; any direction works), through the same Kysely queries on
 * both sides.
 *
 * - The target must be empty: no rows in any table but the two its migrations seed (meta,
 *   creator_tiers), which are replaced by the source's, family HMAC secret included
 *   (LEDGER_NOT_EMPTY, exit 4, otherwise).
 * - The source is read inside a transaction that holds its write lock, so nothing changes
 *   under the copy; the target is written in ONE transaction.
 * - Then the copy is proven before that transaction commits: every table is read back from
 *   the target in the same canonical order as the source was read (all columns ascending,
 *   NULLs first; TEXT compares by code point on both databases), and its row count and
 *   SHA-256 digest must equal the source's, or the transaction is rolled back and nothing
 *   is kept (LEDGER_COPY_MISMATCH).
 */
import { createHash } from 'node:crypto';
import { sql, type Kysely, type Transaction } from 'kysely';
import { conflictError, usageError } from '../shared/errors.js';
import type { Ledger } from './db.js';
import { MIGRATION_TABLE } from './db.js';

/** Tables the target's own migrations fill, replaced by the source's rows. */
const SEEDED = new Set(['meta', 'creator_tiers']);

export interface TableProof {
  table: string;
  rows: number;
  sha256: string;
}

export interface CopyResult {
  ok: true;
  from: string;
  to: string;
  tables: TableProof[];
  rows: number;
}

interface TableShape {
  name: string;
  /** Column names in a fixed order (sorted), the digest's field order. */
  columns: string[];
}

type AnyDb = Kysely<any>;

/** The ledger's tables (Kysely's bookkeeping excluded) with their columns, sorted by name. */
async function tablesOf(ledger: Ledger, db: AnyDb): Promise<TableShape[]> {
  let schema: string | undefined;
  if (ledger.dialect === 'postgres') {
    const r = await sql<{ s: string }>`select current_schema() as s`.execute(db);
    schema = r.rows[0]?.s;
  }
  const tables = await db.introspection.getTables();
  return tables
    .filter((t) => !t.isView && !t.name.startsWith(MIGRATION_TABLE) && (schema === undefined || t.schema === schema))
    .map((t) => ({ name: t.name, columns: t.columns.map((c) => c.name).sort() }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** Parent tables before the tables whose foreign keys name them. */
async function insertOrder(ledger: Ledger, db: AnyDb, tables: TableShape[]): Promise<TableShape[]> {
  const edges =
    ledger.dialect === 'postgres'
      ? (
          await sql<{ child: string; parent: string }>`
            select cl.relname as child, pl.relname as parent
            from pg_constraint c join pg_class cl on cl.oid = c.conrelid join pg_class pl on pl.oid = c.confrelid
            where c.contype = 'f' and c.connamespace = current_schema()::regnamespace`.execute(db)
        ).rows
      : (
          await sql<{ child: string; parent: string }>`
            select m.name as child, f."table" as parent
            from sqlite_master m join pragma_foreign_key_list(m.name) f
            where m.type = 'table'`.execute(db)
        ).rows;
  const parents = new Map<string, Set<string>>();
  for (const e of edges) {
    if (e.child === e.parent) continue;
    let set = parents.get(e.child);
    if (!set) parents.set(e.child, (set = new Set()));
    set.add(e.parent);
  }
  const byName = new Map(tables.map((t) => [t.name, t]));
  const done = new Set<string>();
  const out: TableShape[] = [];
  const visit = (t: TableShape, path: Set<string>) => {
    if (done.has(t.name) || path.has(t.name)) return;
    path.add(t.name);
    for (const p of parents.get(t.name) ?? []) {
      const parent = byName.get(p);
      if (parent) visit(parent, path);
    }
    done.add(t.name);
    out.push(t);
  };
  for (const t of tables) visit(t, new Set());
  return out;
}

/** Every row of a table in the canonical order, in pages. */
function readRows(db: AnyDb, table: TableShape): AsyncIterable<Record<string, unknown>> {
  let q = db.selectFrom(table.name).select(table.columns);
  for (const c of table.columns) q = q.orderBy(c, (ob) => ob.asc().nullsFirst());
  return q.stream(2000);
}

/** A row as the digest sees it: its values in column order, as JSON (numbers, strings, null). */
function canonical(table: TableShape, row: Record<string, unknown>): string {
  return JSON.stringify(
    table.columns.map((c) => {
      const v = row[c];
      if (typeof v === 'bigint') return v.toString();
      if (v instanceof Uint8Array) return Buffer.from(v).toString('hex');
      return v ?? null;
    }),
  );
}

class Digest {
  private readonly hash = createHash('sha256');
  rows = 0;
  constructor(table: TableShape) {
    this.hash.update(`${table.name}\n${JSON.stringify(table.columns)}\n`);
  }
  add(line: string): void {
    this.hash.update(line);
    this.hash.update('\n');
    this.rows++;
  }
  hex(): string {
    return this.hash.digest('hex');
  }
}

/** Counts and digests of every table, read in the canonical order. */
async function prove(db: AnyDb, tables: TableShape[]): Promise<TableProof[]> {
  const out: TableProof[] = [];
  for (const t of tables) {
    const d = new Digest(t);
    for await (const row of readRows(db, t)) d.add(canonical(t, row));
    out.push({ table: t.name, rows: d.rows, sha256: d.hex() });
  }
  return out;
}

/** Rows per INSERT: under SQLite's 32,766 and PostgreSQL's 65,535 bound parameters. */
function batchSize(columns: number): number {
  return Math.max(1, Math.min(1000, Math.floor(30_000 / Math.max(1, columns))));
}

export async function copyLedger(source: Ledger, target: Ledger): Promise<CopyResult> {
  if (source.location === target.location) {
    throw usageError(`The source and the target are the same ledger (${source.location}).`);
  }
  return source.db.transaction().execute(async (src) => {
    const tables = await tablesOf(source, src);
    return target.db.transaction().execute(async (dst: Transaction<any>) => {
      const targetTables = await tablesOf(target, dst);
      const shape = (ts: TableShape[]) => ts.map((t) => `${t.name}(${t.columns.join(',')})`).join(' ');
      if (shape(tables) !== shape(targetTables)) {
        throw conflictError('LEDGER_COPY_MISMATCH', `The tables of ${source.location} and ${target.location} differ; both must be at the same migrations.`, {
          hint: 'Run `packops ledger migrate` on both with this packops, then copy again.',
        });
      }
      const holding: Array<{ table: string; rows: number }> = [];
      for (const t of targetTables) {
        if (SEEDED.has(t.name)) continue;
        const r = await dst.selectFrom(t.name).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
        if (Number(r.n) > 0) holding.push({ table: t.name, rows: Number(r.n) });
      }
      if (holding.length > 0) {
        throw conflictError('LEDGER_NOT_EMPTY', `The target ledger ${target.location} already holds rows (${holding.map((h) => `${h.table}: ${h.rows}`).join(', ')}); nothing was copied.`, {
          hint: 'Copy into a new, empty ledger (a new SQLite file, or an empty PostgreSQL database).',
          details: { tables: holding },
        });
      }
      for (const t of SEEDED) await dst.deleteFrom(t).execute();

      const sourceProofs = new Map<string, TableProof>();
      for (const t of await insertOrder(target, dst, tables)) {
        const digest = new Digest(t);
        const size = batchSize(t.columns.length);
        let pending: Array<Record<string, unknown>> = [];
        const flush = async () => {
          if (pending.length === 0) return;
          await dst.insertInto(t.name).values(pending).execute();
          pending = [];
        };
        for await (const row of readRows(src, t)) {
          digest.add(canonical(t, row));
          pending.push(row);
          if (pending.length >= size) await flush();
        }
        await flush();
        sourceProofs.set(t.name, { table: t.name, rows: digest.rows, sha256: digest.hex() });
      }

      const targetProofs = await prove(dst, tables);
      const differing = targetProofs.filter((p) => {
        const s = sourceProofs.get(p.table);
        return !s || s.rows !== p.rows || s.sha256 !== p.sha256;
      });
      if (differing.length > 0) {
        throw conflictError('LEDGER_COPY_MISMATCH', `The copy in ${target.location} does not match ${source.location} (${differing.map((d) => d.table).join(', ')}); nothing was kept.`, {
          details: { tables: differing.map((d) => ({ table: d.table, source: sourceProofs.get(d.table), target: d })) },
        });
      }
      return {
        ok: true as const,
        from: source.location,
        to: target.location,
        tables: targetProofs,
        rows: targetProofs.reduce((n, p) => n + p.rows, 0),
      };
    });
  });
}
