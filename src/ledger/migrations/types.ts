/**
 * Column types that mean the same on both databases, for every migration:
 * - `int(db)`: SQLite's INTEGER is 64-bit; on PostgreSQL INTEGER is 32-bit, so every integer
 *   column (money in minor units, counts, sizes) is BIGINT there.
 * - `text(db)`: on PostgreSQL, TEXT with the "C" collation, so ORDER BY, comparisons and
 *   primary keys order by code point exactly as SQLite does, whatever the database's locale
 *   (reports and feeds are byte-identical on both).
 * On SQLite both are the plain types the first migrations always used.
 */
import { PostgresAdapter, sql, type Expression, type Kysely } from 'kysely';

export function isPostgres(db: Kysely<any>): boolean {
  return db.getExecutor().adapter instanceof PostgresAdapter;
}

export function int(db: Kysely<any>): 'integer' | 'bigint' {
  return isPostgres(db) ? 'bigint' : 'integer';
}

export function text(db: Kysely<any>): 'text' | Expression<unknown> {
  return isPostgres(db) ? sql`text collate "C"` : 'text';
}
