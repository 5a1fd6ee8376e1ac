/**
 * 0200_quarantine_row_key (imports): the identity of a quarantined row, so re-running an
 * import with --quarantine never keeps the same bad row twice. `row_key` is an HMAC-SHA256
 * (the ledger's own secret, like family_hmac) of the import kind and the row's content, or
 * an importer's own key for rows it builds (a held store transaction); unique per kind.
 * Rows quarantined before this migration keep a null key (their family_ref is gone, so the
 * key cannot be recomputed); unique indexes allow many nulls on SQLite and PostgreSQL.
 */
import type { Kysely } from 'kysely';
import { text } from './types.js';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('quarantine').addColumn('row_key', text(db)).execute();
  await db.schema.createIndex('quarantine_row_key_idx').on('quarantine').columns(['kind', 'row_key']).unique().execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('quarantine_row_key_idx').execute();
  await db.schema.alterTable('quarantine').dropColumn('row_key').execute();
}
