/**
 * A Kysely driver over one better-sqlite3 connection. Kysely's own SqliteDriver prepares
 * every statement again on each call and opens transactions with a deferred BEGIN; this
 * one keeps a cache of prepared statements (bulk imports run the same INSERT thousands of
 * times) and opens write transactions with BEGIN IMMEDIATE, so two processes sharing a
 * ledger queue on the busy timeout instead of failing on a read-to-write lock upgrade
 * (a read-only transaction, read-transaction.ts, opens with a plain BEGIN instead).
 * Queries are still built and compiled by Kysely; only execution lives here.
 */
import type { Database, Statement } from 'better-sqlite3';
import {
  CompiledQuery,
  SqliteAdapter,
  SqliteIntrospector,
  SqliteQueryCompiler,
  type DatabaseConnection,
  type Dialect,
  type Driver,
  type Kysely,
  type QueryCompiler,
  type QueryResult,
  type TransactionSettings,
} from 'kysely';

const STATEMENT_CACHE_SIZE = 64;

class LedgerConnection implements DatabaseConnection {
  private readonly cache = new Map<string, Statement>();
  constructor(private readonly db: Database) {}

  private prepare(sqlText: string): Statement {
    let stmt = this.cache.get(sqlText);
    if (stmt) return stmt;
    stmt = this.db.prepare(sqlText);
    if (this.cache.size >= STATEMENT_CACHE_SIZE) {
      const oldest = this.cache.keys().next().value;
      if (oldest !== undefined) this.cache.delete(oldest);
    }
    this.cache.set(sqlText, stmt);
    return stmt;
  }

  executeQuery<R>(compiled: CompiledQuery): Promise<QueryResult<R>> {
    const stmt = this.prepare(compiled.sql);
    const params = compiled.parameters as unknown[];
    if (stmt.reader) return Promise.resolve({ rows: stmt.all(...params) as R[] });
    const { changes, lastInsertRowid } = stmt.run(...params);
    return Promise.resolve({
      rows: [],
      numAffectedRows: BigInt(changes),
      insertId: lastInsertRowid === undefined ? undefined : BigInt(lastInsertRowid),
    });
  }

  async *streamQuery<R>(compiled: CompiledQuery): AsyncIterableIterator<QueryResult<R>> {
    const stmt = this.prepare(compiled.sql);
    for (const row of stmt.iterate(...(compiled.parameters as unknown[]))) yield { rows: [row as R] };
  }
}

class LedgerDriver implements Driver {
  private connection: LedgerConnection;
  private queue: Promise<void> = Promise.resolve();
  private release: (() => void) | undefined;

  constructor(private readonly db: Database) {
    this.connection = new LedgerConnection(db);
  }

  async init(): Promise<void> {}

  async acquireConnection(): Promise<DatabaseConnection> {
    // One connection: callers queue until the previous holder releases it.
    const previous = this.queue;
    let release!: () => void;
    this.queue = new Promise<void>((r) => (release = r));
    await previous;
    this.release = release;
    return this.connection;
  }

  async beginTransaction(conn: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    // A read-only transaction (read-transaction.ts) takes no write lock: a deferred BEGIN,
    // whose snapshot starts at its first read.
    await conn.executeQuery(CompiledQuery.raw(settings.accessMode === 'read only' ? 'begin' : 'begin immediate'));
  }

  async commitTransaction(conn: DatabaseConnection): Promise<void> {
    await conn.executeQuery(CompiledQuery.raw('commit'));
  }

  async rollbackTransaction(conn: DatabaseConnection): Promise<void> {
    if (this.db.inTransaction) await conn.executeQuery(CompiledQuery.raw('rollback'));
  }

  async releaseConnection(): Promise<void> {
    const release = this.release;
    this.release = undefined;
    release?.();
  }

  async destroy(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}

export class LedgerSqliteDialect implements Dialect {
  constructor(private readonly db: Database) {}
  createDriver(): Driver {
    return new LedgerDriver(this.db);
  }
  createQueryCompiler(): QueryCompiler {
    return new SqliteQueryCompiler();
  }
  createAdapter(): SqliteAdapter {
    return new SqliteAdapter();
  }
  createIntrospector(db: Kysely<any>): SqliteIntrospector {
    return new SqliteIntrospector(db);
  }
}
