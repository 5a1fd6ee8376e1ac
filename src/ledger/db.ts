/**
 * Opening the ledger: a SQLite file (better-sqlite3) behind Kysely. Every opener runs the
 * versioned migrations (a new file is created, an old one upgraded) and refuses a ledger
 * whose applied migrations include one this packops does not know (LEDGER_TOO_NEW).
 * WAL, foreign keys and a busy timeout let two processes share one file.
 */
import { existsSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, Migrator, type MigrationResult } from 'kysely';
import { conflictError, errnoCode, inputError, PackopsError } from '../shared/errors.js';
import { LedgerSqliteDialect } from './driver.js';
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
}

export interface Ledger {
  db: Kysely<LedgerDB>;
  /** The SQLite file (or ":memory:"). */
  location: string;
  /** Migrations applied by this open (empty when the ledger was up to date). */
  migrated: string[];
  /** The ledger-local HMAC secret for family_ref (never printed or exported). */
  familySecret(): Promise<Buffer>;
  close(): Promise<void>;
}

/** Resolves `--db`: a path, `sqlite:<path>`, `sqlite://<path>` or a `file:` URL. */
export function resolveLedgerLocation(location: string, cwd = process.cwd()): string {
  const text = location.trim();
  if (/^postgres(ql)?:\/\//i.test(text)) {
    throw inputError('LEDGER_UNSUPPORTED', 'PostgreSQL ledgers are not supported yet; use a SQLite file.', {
      hint: 'Pass --db ./packops.db (or a sqlite: / file: URL). A PostgreSQL backend is planned.',
    });
  }
  if (text === ':memory:' || text === 'sqlite::memory:') return ':memory:';
  if (/^file:/i.test(text)) {
    try {
      return fileURLToPath(text);
    } catch {
      throw inputError('LEDGER_UNREADABLE', `"${location}" is not a valid file: URL.`);
    }
  }
  const sqlite = /^sqlite:(?:\/\/)?(.*)$/i.exec(text);
  if (sqlite) return resolve(cwd, sqlite[1] ?? '');
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) {
    throw inputError('LEDGER_UNSUPPORTED', `Unsupported ledger URL scheme in "${location}".`, {
      hint: 'Use a path, a sqlite: URL or a file: URL.',
    });
  }
  return resolve(cwd, text);
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
  if (code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT' || code === 'SQLITE_CANTOPEN' || code === 'SQLITE_READONLY') {
    return inputError('LEDGER_UNREADABLE', `Cannot use ${location} as a ledger: ${(err as Error).message}.`, {
      hint: 'Check --db: it must name a packops SQLite ledger (or a new file to create).',
      cause: err,
    });
  }
  return err;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Opens (creating and migrating as needed) the ledger at `location`. */
export async function openLedger(location: string, options: OpenLedgerOptions = {}): Promise<Ledger> {
  const file = resolveLedgerLocation(location);
  if (file !== ':memory:') {
    if (existsSync(file) && statSync(file).isDirectory()) {
      throw inputError('LEDGER_UNREADABLE', `${file} is a directory, not a ledger file.`);
    }
    if (!existsSync(dirname(file))) {
      throw inputError('PATH_NOT_FOUND', `The folder for the ledger ${file} does not exist.`, {
        hint: 'Create the folder first, or pass another --db.',
      });
    }
    if (options.readonly && !existsSync(file)) {
      throw inputError('PATH_NOT_FOUND', `There is no ledger at ${file}.`, { hint: 'Run `packops ledger migrate` first.' });
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
    let secret: Buffer | undefined;
    return {
      db,
      location: file,
      migrated,
      async familySecret() {
        if (secret) return secret;
        const row = await db.selectFrom('meta').select('value').where('key', '=', 'family_hmac_secret').executeTakeFirst();
        if (!row) throw new Error('the ledger has no family_ref secret (meta.family_hmac_secret)');
        secret = Buffer.from(row.value, 'hex');
        return secret;
      },
      close: () => db.destroy(),
    };
  } catch (err) {
    await db.destroy().catch(() => undefined);
    throw mapLedgerError(err, file);
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
      if (isBusy(err) && attempt < 5) {
        await sleep(100 * (attempt + 1));
        continue;
      }
      throw err;
    }
  }
}
