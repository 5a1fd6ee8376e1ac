/**
 * Where test ledgers live. The ledger, payouts, pricing and catalog suites run twice: as
 * the `sqlite` project (a file in the test's temporary folder) and, when PACKOPS_TEST_PG
 * names a PostgreSQL server, as the `postgres` project (a fresh database per ledger, so
 * test files run in parallel without seeing each other). vitest.config.ts sets
 * PACKOPS_TEST_BACKEND for the second project; the suites only ever call `ledgerAt`.
 */
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import type { Client } from 'pg';

const require = createRequire(import.meta.url);

export type Backend = 'sqlite' | 'postgres';
export const BACKEND: Backend = process.env.PACKOPS_TEST_BACKEND === 'postgres' ? 'postgres' : 'sqlite';
export const ON_POSTGRES = BACKEND === 'postgres';
/** The server the postgres half uses (any database on it; tests create their own). */
export const TEST_PG = process.env.PACKOPS_TEST_PG;
/** Databases made by this run share this prefix (the global teardown drops them). */
export const RUN_PREFIX = `packops_t_${process.env.PACKOPS_TEST_RUN ?? 'x'}_`;

/** The URL of another database on the test server. */
export function pgUrl(database: string, base = TEST_PG): string {
  if (!base) throw new Error('PACKOPS_TEST_PG is not set');
  const url = new URL(base);
  url.pathname = `/${database}`;
  return url.toString();
}

async function admin<T>(fn: (c: Client) => Promise<T>): Promise<T> {
  const { Client: PgClient } = require('pg') as typeof import('pg');
  const client = new PgClient({ connectionString: TEST_PG });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** A new, empty PostgreSQL database on the test server; returns its URL. */
export async function freshPgDatabase(tag = 'l'): Promise<string> {
  const name = `${RUN_PREFIX}${tag.replace(/[^a-z0-9]/gi, '').toLowerCase().slice(0, 12)}_${randomBytes(5).toString('hex')}`;
  await admin((c) => c.query(`CREATE DATABASE ${name} TEMPLATE template0 ENCODING 'UTF8'`));
  return pgUrl(name);
}

/** A location for a new ledger: `dir/name` on SQLite, a fresh database on PostgreSQL. */
export async function ledgerAt(dir: string, name: string): Promise<string> {
  return ON_POSTGRES ? freshPgDatabase(name) : join(dir, name);
}

/** int8 and integral numeric as numbers, as better-sqlite3 returns them (test values are small). */
function intsAsNumbers(oid: number, format?: string): (v: string) => unknown {
  if (oid === 20 || oid === 1700) return (v: string) => (/^-?\d+$/.test(v) ? Number(v) : v);
  const { types } = require('pg') as typeof import('pg');
  return types.getTypeParser(oid, format as 'text');
}

/** Runs SQL on a ledger location directly (not through packops); `?` placeholders on both. */
export async function rawQuery<T = Record<string, unknown>>(location: string, text: string, params: unknown[] = []): Promise<T[]> {
  if (/^postgres(ql)?:/.test(location)) {
    const { Client: PgClient } = require('pg') as typeof import('pg');
    const client = new PgClient({ connectionString: location, types: { getTypeParser: intsAsNumbers } });
    await client.connect();
    try {
      let i = 0;
      const r = await client.query(text.replace(/\?/g, () => `$${++i}`), params);
      return r.rows as T[];
    } finally {
      await client.end();
    }
  }
  const db = new BetterSqlite3(location);
  try {
    const stmt = db.prepare(text);
    if (stmt.reader) return stmt.all(...params) as T[];
    stmt.run(...params);
    return [];
  } finally {
    db.close();
  }
}

/** Drops every database this run made (vitest global teardown). */
export async function dropRunDatabases(): Promise<void> {
  if (!TEST_PG) return;
  await admin(async (c) => {
    const { rows } = await c.query<{ datname: string }>('SELECT datname FROM pg_database WHERE datname LIKE $1', [`${RUN_PREFIX}%`]);
    for (const { datname } of rows) await c.query(`DROP DATABASE IF EXISTS ${datname} WITH (FORCE)`);
  });
}

/**
 * Holds the ledger's write lock from another connection, as a long import would: SQLite's
 * exclusive transaction, or PostgreSQL's advisory write lock. Returns the release.
 */
export async function holdWriteLock(location: string): Promise<() => Promise<void>> {
  if (/^postgres(ql)?:/.test(location)) {
    const { Client: PgClient } = require('pg') as typeof import('pg');
    const client = new PgClient({ connectionString: location });
    await client.connect();
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock($1, $2)', [0x7061636b, 1]);
    return async () => {
      await client.query('ROLLBACK');
      await client.end();
    };
  }
  const db = new BetterSqlite3(location);
  db.exec('BEGIN EXCLUSIVE');
  return async () => {
    db.exec('ROLLBACK');
    db.close();
  };
}
