/**
 * 0310_subscription_reads (PRODUCT.md §14, measured): the two reads of a month's
 * subscription money become sequential index scans.
 *
 * - `usage` on SQLite becomes a WITHOUT ROWID table: its primary key (month, family HMAC,
 *   pack) is the table itself. Before, the report walked the key's index in family order and
 *   fetched active_days from a rowid table written in file order, one random page per row;
 *   and every import wrote two B-trees. PostgreSQL keeps its table and key index as they are.
 * - `sales_plan_read_idx` replaces `sales_plan_month_idx` (month, kind; plan rows only) with
 *   the same key plus every column recognition reads, so a month's plan charges are read
 *   from the index alone, in (store, transaction id) order. Partial: pack and bundle rows
 *   pay nothing for it on insert.
 */
import { sql, type Kysely } from 'kysely';
import { int, isPostgres, text } from './types.js';

const PLAN_READ_COLUMNS = ['month', 'kind', 'store', 'transaction_id', 'plan_id', 'family_hmac', 'currency', 'gross_minor', 'store_fee_minor', 'tax_minor'];

async function rebuildUsage(db: Kysely<any>, withoutRowid: boolean): Promise<void> {
  const INT = int(db);
  const TEXT = text(db);
  await db.schema
    .createTable('usage_rebuilt')
    .addColumn('month', TEXT, (c) => c.notNull())
    .addColumn('family_hmac', TEXT, (c) => c.notNull())
    .addColumn('pack_slug', TEXT, (c) => c.notNull())
    .addColumn('active_days', INT, (c) => c.notNull())
    .addColumn('batch_id', TEXT, (c) => c.notNull())
    .addPrimaryKeyConstraint('usage_pk', ['month', 'family_hmac', 'pack_slug'])
    .$call((b) => (withoutRowid ? b.modifyEnd(sql`without rowid`) : b))
    .execute();
  await sql`insert into usage_rebuilt (month, family_hmac, pack_slug, active_days, batch_id)
    select month, family_hmac, pack_slug, active_days, batch_id from usage order by month, family_hmac, pack_slug`.execute(db);
  await db.schema.dropTable('usage').execute();
  await db.schema.alterTable('usage_rebuilt').renameTo('usage').execute();
}

/**
 * PostgreSQL runs each migration in a transaction; SQLite's migrations do not (Kysely: no
 * transactional DDL), so the table rebuild runs in one here: a process killed half-way
 * leaves the ledger as it was, and the migration simply runs again.
 */
async function inTransaction(db: Kysely<any>, work: (db: Kysely<any>) => Promise<void>): Promise<void> {
  if (isPostgres(db)) await work(db);
  else await db.transaction().execute(work);
}

export async function up(db: Kysely<any>): Promise<void> {
  await inTransaction(db, async (trx) => {
    if (!isPostgres(trx)) await rebuildUsage(trx, true);
    await trx.schema
      .createIndex('sales_plan_read_idx')
      .ifNotExists()
      .on('sales')
      .columns(PLAN_READ_COLUMNS)
      .where(sql<boolean>`${sql.ref('product_kind')} = 'plan'`)
      .execute();
    await trx.schema.dropIndex('sales_plan_month_idx').ifExists().execute();
  });
}

export async function down(db: Kysely<any>): Promise<void> {
  await inTransaction(db, async (trx) => {
    await trx.schema
      .createIndex('sales_plan_month_idx')
      .ifNotExists()
      .on('sales')
      .columns(['month', 'kind'])
      .where(sql<boolean>`${sql.ref('product_kind')} = 'plan'`)
      .execute();
    await trx.schema.dropIndex('sales_plan_read_idx').ifExists().execute();
    if (!isPostgres(trx)) await rebuildUsage(trx, false);
  });
}
