/**
 * The PostgreSQL side of the ledger: one node-postgres connection behind Kysely's own
 * PostgresDialect, so the queries and migrations are the ones SQLite runs.
 *
 * - One connection per command, handed to Kysely through a one-client "pool" that queues
 *   callers (as the SQLite driver does): the COPY path and the copy command can reach the
 *   very connection an open Kysely transaction is using.
 * - Every write transaction first takes the ledger's advisory write lock
 *   (pg_advisory_xact_lock), so writers queue as SQLite's BEGIN IMMEDIATE makes them queue:
 *   closes, catalog and creator changes and most imports run one at a time, reports never
 *   wait. A sales import staged through COPY (pg-sales.ts) takes the same lock SHARED, so
 *   such imports run side by side while every other writer (a close above all) waits for
 *   them, and they for it; see pg-sales.ts for the sales lock they add.
 *   `lock_timeout` bounds every wait (LEDGER_BUSY).
 * - BIGINT (int8) and integral NUMERIC values come back as exact JavaScript numbers; a
 *   value beyond 2^53 is an error, never a rounded float or a string.
 * - Driver failures are classified: unreachable (connect refused, DNS, lost connection,
 *   server shut down), busy (lock timeout), retryable (serialization failure, deadlock).
 */
import { createRequire } from 'node:module';
import type { Client as PgClient, ClientConfig } from 'pg';
import { CompiledQuery, PostgresDialect, PostgresDriver, type DatabaseConnection, type Driver, type TransactionSettings } from 'kysely';
import { conflictError, errnoCode, inputError, PackopsError } from '../shared/errors.js';
import { redactSecrets } from '../shared/redact.js';
import type { PostgresLocation } from './location.js';

const require = createRequire(import.meta.url);

/** pg_advisory_xact_lock(classid, objid) keys: "pack" and what is locked. */
export const LOCK_CLASS = 0x7061636b;
export const WRITE_LOCK = 1;
/**
 * The sales lock (objid 2 of LOCK_CLASS): a one-file sales import takes it before its ledger
 * checks, SHARED when its file has no refund, EXCLUSIVE when it has one (pg-sales.ts).
 */
export const SALES_LOCK = 2;

const INT8_OID = 20;
const NUMERIC_OID = 1700;

function exactInteger(text: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n)) {
    throw new RangeError(`The ledger holds the integer ${text}, beyond the exact range of packops (±2^53).`);
  }
  return n;
}

const typeParsers = {
  getTypeParser(oid: number, format?: string): (value: string) => unknown {
    if (format === 'binary') return (v: string) => v;
    if (oid === INT8_OID) return exactInteger;
    if (oid === NUMERIC_OID) return (v: string) => (/^-?\d+$/.test(v) ? exactInteger(v) : v);
    const pgTypes = require('pg').types as { getTypeParser(oid: number, format?: string): (value: string) => unknown };
    return pgTypes.getTypeParser(oid, format as 'text');
  },
};

export interface PgSession {
  client: PgClient;
  /** The first error the connection emitted on its own (a lost connection). */
  lostWith(): Error | undefined;
  /**
   * How the next transaction takes the write lock: 'exclusive' (the default, every writer)
   * or 'shared' (a staged sales import). Read and reset when that transaction begins.
   */
  nextWriteLock: 'exclusive' | 'shared';
}

function clientConfig(loc: PostgresLocation, ssl: boolean): ClientConfig {
  const tls = ssl
    ? {
        ...(loc.ssl.ca ? { ca: loc.ssl.ca } : {}),
        ...(loc.ssl.cert ? { cert: loc.ssl.cert } : {}),
        ...(loc.ssl.key ? { key: loc.ssl.key } : {}),
        // libpq: require (without a CA) encrypts without checking; verify-ca checks the chain only.
        rejectUnauthorized: loc.sslmode === 'verify-ca' || loc.sslmode === 'verify-full' || (loc.sslmode === 'require' && !!loc.ssl.ca),
        ...(loc.sslmode === 'verify-full' ? {} : { checkServerIdentity: () => undefined }),
      }
    : false;
  return {
    host: loc.host,
    port: loc.port,
    user: loc.user,
    password: loc.password,
    database: loc.database,
    ssl: tls,
    types: typeParsers,
    connectionTimeoutMillis: 15_000,
    keepAlive: true,
    application_name: 'packops',
  };
}

/** Connects (sslmode as libpq: prefer tries TLS, then plain; allow tries plain, then TLS). */
export async function connectPostgres(loc: PostgresLocation, busyTimeoutMs: number): Promise<PgSession> {
  const { Client } = require('pg') as typeof import('pg');
  const attempts =
    loc.sslmode === 'disable' ? [false] : loc.sslmode === 'allow' ? [false, true] : loc.sslmode === 'prefer' ? [true, false] : [true];
  let lastError: unknown;
  for (const [i, ssl] of attempts.entries()) {
    const client = new Client(clientConfig(loc, ssl));
    let lost: Error | undefined;
    // Without a listener, a connection dropped between queries would crash the process.
    client.on('error', (err: Error) => {
      lost ??= err;
    });
    try {
      await client.connect();
      failPendingOnLoss(client);
      const ms = Math.max(0, Math.floor(busyTimeoutMs));
      await client.query(`set lock_timeout = ${ms}`);
      return { client, lostWith: () => lost, nextWriteLock: 'exclusive' };
    } catch (err) {
      lastError = err;
      await client.end().catch(() => undefined);
      const sslRefused = /does not support SSL|SSL.*(refused|off)|no pg_hba\.conf entry .*(SSL off|no encryption)/i.test((err as Error)?.message ?? '');
      if (!(i < attempts.length - 1 && (sslRefused || !ssl))) break;
    }
  }
  const mapped = mapPostgresError(lastError, loc);
  // Whatever else stops a session from starting (a FATAL such as a missing
  // session_preload_libraries file, a protocol error) still means the ledger cannot be
  // reached: exit 3 naming the server, never an internal error.
  if (mapped instanceof PackopsError) throw mapped;
  throw unreachable(loc, redactSecrets(((lastError as Error)?.message ?? String(lastError)).trim()));
}

interface CursorLike {
  read(rows: number, cb?: unknown): Promise<unknown> | undefined;
  close(cb?: unknown): Promise<void> | undefined;
}

/**
 * Makes every piece of work pending on the connection settle when the connection errors or
 * ends, whoever started it (Kysely, the COPY path, the copy command):
 * - a query's promise rejects with the connection's error;
 * - a cursor's read rejects, and its close resolves at once (there is no portal left to
 *   close: pg-cursor's own close waits for a ReadyForQuery that a dead socket never sends);
 * - a COPY stream is destroyed with the error.
 * Without this, a read waiting between pages of a cursor when the server goes away (ledger
 * copy from PostgreSQL) never settles: the event loop drains and Node exits 13 with nothing
 * printed, and the command never reaches its clean-up.
 */
function failPendingOnLoss(client: PgClient): void {
  let gone: Error | undefined;
  const waiting = new Set<(err: Error) => void>();
  const lose = (err: Error) => {
    gone ??= err;
    for (const fail of [...waiting]) fail(gone);
    waiting.clear();
  };
  client.on('error', lose);
  client.on('end', () => lose(new Error('Connection terminated')));
  /** `work`, or the connection's loss if that comes first. */
  const untilLost = <T>(work: Promise<T>, onLoss: (err: Error, settle: (v: T) => void, fail: (e: Error) => void) => void): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const fail = (err: Error) => onLoss(err, resolve, reject);
      if (gone) {
        work.catch(() => undefined);
        fail(gone);
        return;
      }
      waiting.add(fail);
      work.then(
        (v) => {
          waiting.delete(fail);
          resolve(v);
        },
        (e: unknown) => {
          waiting.delete(fail);
          reject(e);
        },
      );
    });
  const rejectWith = (err: Error, _settle: unknown, fail: (e: Error) => void) => fail(err);
  const query = client.query.bind(client) as (...args: unknown[]) => unknown;
  const Cursor = require('pg-cursor') as new (...args: unknown[]) => CursorLike;
  (client as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
    const first = args[0];
    if (first instanceof Cursor) {
      const read = first.read.bind(first);
      const close = first.close.bind(first);
      first.read = (rows: number, cb?: unknown) => (cb ? read(rows, cb) : untilLost(read(rows) as Promise<unknown>, rejectWith));
      first.close = (cb?: unknown) => (cb ? close(cb) : untilLost(close() as Promise<void>, (_err, settle) => settle(undefined)));
      return query(...args);
    }
    const out = query(...args);
    if (out instanceof Promise) return untilLost(out, rejectWith);
    if (out && typeof (out as { destroy?: unknown }).destroy === 'function') {
      const stream = out as { destroy(err?: Error): void; destroyed?: boolean; once(ev: string, fn: () => void): void };
      const fail = (err: Error) => {
        if (!stream.destroyed) stream.destroy(err);
      };
      if (gone) fail(gone);
      else {
        waiting.add(fail);
        stream.once('close', () => waiting.delete(fail));
      }
    }
    return out;
  };
}

/** A pool of exactly one client: Kysely's connection requests queue until the holder releases it. */
function singleClientPool(session: PgSession) {
  let queue: Promise<void> = Promise.resolve();
  let ended = false;
  return {
    async connect() {
      const previous = queue;
      let release!: () => void;
      queue = new Promise<void>((r) => (release = r));
      await previous;
      const client = session.client;
      return { query: client.query.bind(client), release: () => release() };
    },
    async end() {
      if (ended) return;
      ended = true;
      await session.client.end().catch(() => undefined);
    },
  };
}

class LockingPostgresDriver extends PostgresDriver {
  constructor(
    config: ConstructorParameters<typeof PostgresDriver>[0],
    private readonly session: PgSession,
  ) {
    super(config);
  }
  override async beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    const mode = this.session.nextWriteLock;
    this.session.nextWriteLock = 'exclusive';
    await super.beginTransaction(connection, settings);
    // A read-only transaction (a report's one picture of the ledger) never waits for writers.
    if (settings.accessMode === 'read only') return;
    const fn = mode === 'shared' ? 'pg_advisory_xact_lock_shared' : 'pg_advisory_xact_lock';
    await connection.executeQuery(CompiledQuery.raw(`select ${fn}($1, $2)`, [LOCK_CLASS, WRITE_LOCK]));
  }
}

export class LedgerPostgresDialect extends PostgresDialect {
  constructor(private readonly session: PgSession) {
    super({ pool: singleClientPool(session) as never });
  }
  override createDriver(): Driver {
    // pg-cursor lets `.stream()` read a large table in pages (ledger copy).
    return new LockingPostgresDriver({ pool: singleClientPool(this.session) as never, cursor: require('pg-cursor') }, this.session);
  }
}

const UNREACHABLE_ERRNO = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNRESET', 'EPIPE', 'ENOENT', 'EACCES']);
/** SQLSTATE classes and codes: connection exceptions, shutdowns, auth, missing database. */
const UNREACHABLE_SQLSTATE = /^(08|57P0[1-4]|28|3D000|53300)/;

export function isRetryable(err: unknown): boolean {
  const code = errnoCode(err);
  return code === '40001' || code === '40P01';
}

function isLockTimeout(err: unknown): boolean {
  return errnoCode(err) === '55P03';
}

function isUnreachable(err: unknown): boolean {
  const code = errnoCode(err);
  if (code && (UNREACHABLE_ERRNO.has(code) || UNREACHABLE_SQLSTATE.test(code))) return true;
  const message = (err as Error)?.message ?? '';
  return /Connection terminated|connection timeout|Client has encountered a connection error|Client was closed|not queryable|timeout expired|does not support SSL|self[- ]signed certificate|certificate|Hostname\/IP does not match/i.test(message);
}

const NO_PASSWORD = /client password must be a string|password authentication.*no password/i;

function unreachable(loc: PostgresLocation, message: string): PackopsError {
  return inputError('LEDGER_UNREACHABLE', `Cannot reach the PostgreSQL ledger at ${loc.target}: ${message}.`, {
    hint: 'Check that the server is running and the URL (host, port, database, user) and its sslmode; nothing was written.',
    details: { host: loc.host, port: loc.port, database: loc.database },
  });
}

/** Driver errors as ledger codes; the message names host, port and database, never the password. */
export function mapPostgresError(err: unknown, loc: PostgresLocation): unknown {
  if (err instanceof PackopsError) return err;
  let message = redactSecrets(((err as Error)?.message ?? String(err)).trim());
  if (NO_PASSWORD.test(message)) {
    // node-postgres's words when the server asks for a password (SCRAM) and none was given.
    message = `user "${loc.user}" needs a password and none was given (put it in the URL or in PGPASSWORD)`;
  }
  if (isUnreachable(err) || NO_PASSWORD.test((err as Error)?.message ?? '')) return unreachable(loc, message);
  if (isLockTimeout(err) || isRetryable(err)) {
    return conflictError('LEDGER_BUSY', `The ledger ${loc.display} is busy: ${message}.`, {
      hint: 'Another import or close is writing the ledger; run this again when it has finished.',
    });
  }
  if (err instanceof RangeError) return inputError('LEDGER_UNREADABLE', message);
  const code = errnoCode(err);
  if (code === '22021' || code === '22P05') {
    // Text PostgreSQL cannot hold (U+0000 above all): bad input that a check let through
    // (or a SQLite ledger being copied holds), never an internal error. The transaction is
    // rolled back.
    return inputError('LEDGER_TEXT_INVALID', `The PostgreSQL ledger at ${loc.target} cannot store a text value: ${message}; nothing was written.`, {
      hint: 'Remove U+0000 (NUL) and other characters the database cannot hold from the input (or from the SQLite ledger being copied), then run this again.',
      details: { sqlstate: code, host: loc.host, port: loc.port, database: loc.database },
    });
  }
  const refused = refusalOf(errnoCode(err));
  if (refused !== undefined) {
    return inputError('LEDGER_REFUSED', `The PostgreSQL ledger at ${loc.target} refused the work (${refused}): ${message}; nothing was written.`, {
      hint: 'Ask the database owner: the role, its rights or the server (disk, memory, timeouts) stopped it, not the data.',
      details: { sqlstate: errnoCode(err), host: loc.host, port: loc.port, database: loc.database },
    });
  }
  return err;
}

/**
 * SQLSTATEs where the server refused for reasons of its own, not the data: no rights, a
 * read-only role or standby, out of disk, memory or a configured limit, a statement timeout.
 * The transaction is rolled back, so nothing was written.
 */
function refusalOf(sqlstate: string | undefined): string | undefined {
  if (sqlstate === undefined) return undefined;
  if (sqlstate === '42501') return 'permission denied';
  if (sqlstate === '25006') return 'read-only transaction';
  if (sqlstate === '53100') return 'disk full';
  if (sqlstate === '53200') return 'out of memory';
  if (sqlstate === '53400') return 'configuration limit exceeded';
  if (sqlstate === '57014') return 'statement cancelled or timed out';
  return undefined;
}
