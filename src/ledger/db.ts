/**
 * Opening the ledger: a SQLite file (better-sqlite3) behind Kysely. Every opener runs the
 * versioned migrations (a new file is created, an old one upgraded) and refuses a ledger
 * whose applied migrations include one this packops does not know (LEDGER_TOO_NEW).
 * WAL, foreign keys and a busy timeout let two processes share one file.
 */
import { closeSync, constants, existsSync, openSync, statSync } from 'node:fs';
import { fileKind } from '../shared/input.js';
import { dirname } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, Migrator, type MigrationResult } from 'kysely';
import type { PgSession } from './pg.js';
import { conflictError, errnoCode, inputError, PackopsError } from '../shared/errors.js';
import { LedgerSqliteDialect } from './driver.js';
import { parseLedgerLocation, type LedgerLocation, type PostgresLocation } from './location.js';
import { MIGRATIONS } from './migrations/index.js';
import type { LedgerDB } from './schema.js';

export const MIGRATION_TABLE = 'kysely_migration';
export const DEFAULT_BUSY_TIMEOUT_MS = 5000;

export interface OpenLedgerOptions {
  /** Run pending migrations (default true). With false, a ledger that needs them is refused. */
  migrate?: boolean;
  /** How long to wait for another process's write lock (default 5000 ms). */
  busyTimeoutMs?: number;
  /** Open read-only (reports). The file must exist. */
  readonly?: boolean;
  /** Refuse a location with no ledger yet (PATH_NOT_FOUND, with this hint) instead of creating one. */
  mustExist?: string;
  /** Resolves relative paths (default: the working directory). */
  cwd?: string;
}

export interface Ledger {
  db: Kysely<LedgerDB>;
  /** Which database holds the ledger. */
  dialect: 'sqlite' | 'postgres';
  /** Where the ledger is, as it may be shown: the SQLite file (or ":memory:"), or the URL with its password as ***. */
  location: string;
  /** The parsed location (a PostgreSQL one holds the password: never print it). */
  where: LedgerLocation;
  /** The PostgreSQL connection (COPY and the copy command use it); undefined for SQLite. */
  pg?: PgSession;
  /** Driver errors as ledger codes (busy, unreachable, not a ledger). */
  mapError(err: unknown): unknown;
  /** Migrations applied by this open (empty when the ledger was up to date). */
  migrated: string[];
  /** The ledger-local HMAC secret for family_ref (never printed or exported). */
  familySecret(): Promise<Buffer>;
  close(): Promise<void>;
}

/** Resolves `--db` to a SQLite file (a path, `sqlite:<path>`, `file:` URL); a PostgreSQL URL is refused here. */
export function resolveLedgerLocation(location: string, cwd = process.cwd()): string {
  const loc = parseLedgerLocation(location, cwd);
  if (loc.kind !== 'sqlite') throw inputError('LEDGER_UNSUPPORTED', `${loc.display} is not a SQLite ledger file.`);
  return loc.file;
}

function isBusy(err: unknown): boolean {
  const code = errnoCode(err);
  return code === 'SQLITE_BUSY' || code === 'SQLITE_BUSY_SNAPSHOT' || code === 'SQLITE_LOCKED';
}

/** Turns driver errors into PackopsErrors where the cause is the file, not a bug. */
export function mapLedgerError(err: unknown, location: string): unknown {
  if (err instanceof PackopsError) return err;
  const code = errnoCode(err);
  if (isBusy(err)) {
    return conflictError('LEDGER_BUSY', `The ledger ${location} is locked by another process.`, {
      hint: 'Another import or close is writing the ledger; run this again when it has finished.',
      cause: err,
    });
  }
  if (code === 'SQLITE_FULL' || code?.startsWith('SQLITE_IOERR')) {
    // The transaction is rolled back: a full disk (the ledger's, or the temporary folder a
    // large import stages in) or an I/O error leaves the ledger as it was.
    const why = code === 'SQLITE_FULL' ? 'the disk is full' : `an I/O error (${code})`;
    return inputError('LEDGER_REFUSED', `Writing the ledger ${location} failed: ${why}; nothing was written.`, {
      hint:
        code === 'SQLITE_FULL'
          ? 'Free space on the ledger\'s disk and in the temporary folder (SQLITE_TMPDIR, else TMPDIR or /tmp): a large import stages its rows there first.'
          : 'Check the disk holding the ledger; nothing was written.',
      details: { reason: code },
      cause: err,
    });
  }
  if (code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT' || code === 'SQLITE_CANTOPEN' || code === 'SQLITE_READONLY') {
    return inputError('LEDGER_UNREADABLE', `Cannot use ${location} as a ledger: ${(err as Error).message}.`, {
      hint: 'Check --db: it must name a packops SQLite ledger (or a new file to create).',
      cause: err,
    });
  }
  return err;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Opens (creating and migrating as needed) the ledger at `location`: a SQLite file or a PostgreSQL URL. */
export async function openLedger(location: string, options: OpenLedgerOptions = {}): Promise<Ledger> {
  const where = parseLedgerLocation(location, options.cwd);
  return where.kind === 'postgres' ? openPostgres(where, options) : openSqlite(where.file, where, options);
}

function familySecretOf(db: Kysely<LedgerDB>): () => Promise<Buffer> {
  let secret: Buffer | undefined;
  return async () => {
    if (secret) return secret;
    const row = await db.selectFrom('meta').select('value').where('key', '=', 'family_hmac_secret').executeTakeFirst();
    if (!row) throw new Error('the ledger has no family_ref secret (meta.family_hmac_secret)');
    secret = Buffer.from(row.value, 'hex');
    return secret;
  };
}

async function openSqlite(file: string, where: LedgerLocation, options: OpenLedgerOptions): Promise<Ledger> {
  if (file !== ':memory:') {
    // A FIFO, device, socket or folder is refused before SQLite opens it (which would
    // hang on a FIFO or fail deep inside the driver).
    const info = statSync(file, { throwIfNoEntry: false });
    if (info !== undefined && !info.isFile()) {
      throw inputError('LEDGER_UNREADABLE', `${file} is ${fileKind(info)}, not a ledger file.`, {
        hint: 'Check --db: it must name a packops SQLite ledger (or a new file to create).',
      });
    }
    if (options.mustExist !== undefined && !existsSync(file)) {
      throw inputError('PATH_NOT_FOUND', `There is no ledger at ${file}.`, { hint: options.mustExist, details: { path: file } });
    }
    if (!existsSync(dirname(file))) {
      throw inputError('PATH_NOT_FOUND', `The folder for the ledger ${file} does not exist.`, {
        hint: 'Create the folder first, or pass another --db.',
      });
    }
    if (options.readonly && !existsSync(file)) {
      throw inputError('PATH_NOT_FOUND', `There is no ledger at ${file}.`, { hint: 'Run `packops ledger migrate` first.' });
    }
    if (!options.readonly && info === undefined) {
      // A new ledger holds the family HMAC secret: owner-only (0600) from its first byte.
      // SQLite gives its -wal and -shm files the database file's permissions.
      try {
        closeSync(openSync(file, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | (constants.O_NOFOLLOW ?? 0), 0o600));
      } catch (err) {
        if (errnoCode(err) !== 'EEXIST') throw mapLedgerError(err, file);
      }
    }
  }
  let raw: BetterSqlite3.Database;
  try {
    raw = new BetterSqlite3(file, { readonly: options.readonly ?? false, timeout: options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS });
  } catch (err) {
    throw mapLedgerError(err, file);
  }
  const db = new Kysely<LedgerDB>({ dialect: new LedgerSqliteDialect(raw) });
  try {
    raw.pragma(`busy_timeout = ${Math.max(0, Math.floor(options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS))}`);
    if (!options.readonly && file !== ':memory:') raw.pragma('journal_mode = WAL');
    raw.pragma('foreign_keys = ON');
    // 16 MiB of page cache (the default is 2 MiB): bulk imports touch two indexes per row.
    raw.pragma('cache_size = -16384');
    const migrated = await migrateLedger(db, file, options.migrate ?? !options.readonly);
    return {
      db,
      dialect: 'sqlite',
      location: file,
      where,
      migrated,
      mapError: (err) => mapLedgerError(err, file),
      familySecret: familySecretOf(db),
      close: () => db.destroy(),
    };
  } catch (err) {
    await db.destroy().catch(() => undefined);
    throw mapLedgerError(err, file);
  }
}

async function openPostgres(where: PostgresLocation, options: OpenLedgerOptions): Promise<Ledger> {
  const { connectPostgres, LedgerPostgresDialect, mapPostgresError } = await import('./pg.js');
  const session = await connectPostgres(where, options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS);
  const db = new Kysely<LedgerDB>({ dialect: new LedgerPostgresDialect(session) });
  const mapError = (err: unknown) => mapPostgresError(session.lostWith() ?? err, where);
  try {
    if (options.mustExist !== undefined && (await appliedMigrations(db)).length === 0) {
      throw inputError('PATH_NOT_FOUND', `There is no ledger at ${where.display}.`, { hint: options.mustExist, details: { path: where.display } });
    }
    const migrated = await migrateLedger(db, where.display, options.migrate ?? !options.readonly);
    return {
      db,
      dialect: 'postgres',
      location: where.display,
      where,
      pg: session,
      migrated,
      mapError,
      familySecret: familySecretOf(db),
      close: () => db.destroy(),
    };
  } catch (err) {
    await db.destroy().catch(() => undefined);
    throw mapError(err);
  }
}

/** Names of the migrations recorded in the ledger (none for a new file). */
export async function appliedMigrations(db: Kysely<LedgerDB>): Promise<string[]> {
  const tables = await db.introspection.getTables({ withInternalKyselyTables: true });
  if (!tables.some((t) => t.name === MIGRATION_TABLE)) return [];
  // The migration table is Kysely's, not part of LedgerDB.
  const rows = await db
    .withoutPlugins()
    .selectFrom(MIGRATION_TABLE as keyof LedgerDB)
    .select(['name' as never])
    .execute();
  return (rows as unknown as Array<{ name: string }>).map((r) => r.name).sort();
}

async function migrateLedger(db: Kysely<LedgerDB>, file: string, migrate: boolean): Promise<string[]> {
  const known = Object.keys(MIGRATIONS);
  for (let attempt = 0; ; attempt++) {
    try {
      const applied = await appliedMigrations(db);
      const unknown = applied.filter((n) => !known.includes(n));
      if (unknown.length > 0) {
        throw conflictError('LEDGER_TOO_NEW', `The ledger ${file} was made by a newer packops (migrations ${unknown.join(', ')}).`, {
          hint: 'Upgrade packops to use this ledger.',
          details: { unknownMigrations: unknown },
        });
      }
      const pending = known.filter((n) => !applied.includes(n));
      if (pending.length === 0) return [];
      if (!migrate) {
        throw conflictError('LEDGER_OUTDATED', `The ledger ${file} needs migrations ${pending.join(', ')}.`, {
          hint: 'Run `packops ledger migrate`.',
        });
      }
      // Migration numbers are ranges per area (0100 payouts, 0200 imports, …), so a ledger
      // may hold a later range before an earlier number exists: apply whatever is pending.
      const migrator = new Migrator({
        db,
        provider: { getMigrations: () => Promise.resolve({ ...MIGRATIONS }) },
        allowUnorderedMigrations: true,
      });
      const { error, results } = await migrator.migrateToLatest();
      if (error) throw error;
      return (results ?? []).filter((r: MigrationResult) => r.status === 'Success').map((r) => r.migrationName);
    } catch (err) {
      // Two processes creating the same new ledger: the loser retries once the winner is done.
      if ((isBusy(err) || errnoCode(err) === '40001' || errnoCode(err) === '40P01') && attempt < 5) {
        await sleep(100 * (attempt + 1));
        continue;
      }
      throw err;
    }
  }
}
