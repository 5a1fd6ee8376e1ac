/**
 * 0500_pack_signing_key (catalog): the public key that verified a pack archive's detached
 * signature when `catalog add` (or `release`) registered it, as minisign's base64 key line
 * (the key id is part of it). `catalog publish` checks every `.minisig` it copies against the
 * archive and this key, so a site never serves a signature the app would refuse (another
 * key's, or text that is not a signature). Packs registered before this migration keep a
 * null key: publish refuses them (SIGNATURE_KEY_UNRECORDED) until the archive is added again,
 * which records the key and changes nothing else.
 */
import type { Kysely } from 'kysely';
import { text } from './types.js';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('packs').addColumn('signing_key', text(db)).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('packs').dropColumn('signing_key').execute();
}
