/**
 * 0300_subscriptions (PRODUCT.md §14): subscription plans, the families' monthly usage,
 * and which plan a sales row pays for. Portable DDL only.
 *
 * - `plans`: one row per plan (id, name, 1 or 12 months, USD price, store product ids).
 * - `usage`: active days per (month, family HMAC, pack); the primary key is the order the
 *   payouts report streams a month in (family by family).
 * - `sales.plan_id`: set on subscription rows (product_kind 'plan'); a partial index finds
 *   a month's subscription rows without touching the pack and bundle rows, and costs
 *   nothing on their inserts.
 */
import { sql, type Kysely } from 'kysely';
import { int, text } from './types.js';

export async function up(db: Kysely<any>): Promise<void> {
  const INT = int(db);
  const TEXT = text(db);
  await db.schema
    .createTable('plans')
    .addColumn('id', TEXT, (c) => c.primaryKey())
    .addColumn('name', TEXT, (c) => c.notNull())
    .addColumn('months', INT, (c) => c.notNull())
    .addColumn('price_minor', INT, (c) => c.notNull())
    .addColumn('currency', TEXT, (c) => c.notNull())
    .addColumn('appstore_product_id', TEXT)
    .addColumn('googleplay_product_id', TEXT)
    .addColumn('web_product_id', TEXT)
    .addColumn('created_at', TEXT, (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('usage')
    .addColumn('month', TEXT, (c) => c.notNull())
    .addColumn('family_hmac', TEXT, (c) => c.notNull())
    .addColumn('pack_slug', TEXT, (c) => c.notNull())
    .addColumn('active_days', INT, (c) => c.notNull())
    .addColumn('batch_id', TEXT, (c) => c.notNull())
    .addPrimaryKeyConstraint('usage_pk', ['month', 'family_hmac', 'pack_slug'])
    .execute();

  await db.schema.alterTable('sales').addColumn('plan_id', TEXT).execute();
  await db.schema
    .createIndex('sales_plan_month_idx')
    .on('sales')
    .columns(['month', 'kind'])
    .where(sql<boolean>`${sql.ref('product_kind')} = 'plan'`)
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('sales_plan_month_idx').execute();
  await db.schema.alterTable('sales').dropColumn('plan_id').execute();
  await db.schema.dropTable('usage').execute();
  await db.schema.dropTable('plans').execute();
}
