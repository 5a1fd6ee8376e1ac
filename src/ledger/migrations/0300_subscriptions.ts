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

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('plans')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('months', 'integer', (c) => c.notNull())
    .addColumn('price_minor', 'integer', (c) => c.notNull())
    .addColumn('currency', 'text', (c) => c.notNull())
    .addColumn('appstore_product_id', 'text')
    .addColumn('googleplay_product_id', 'text')
    .addColumn('web_product_id', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('usage')
    .addColumn('month', 'text', (c) => c.notNull())
    .addColumn('family_hmac', 'text', (c) => c.notNull())
    .addColumn('pack_slug', 'text', (c) => c.notNull())
    .addColumn('active_days', 'integer', (c) => c.notNull())
    .addColumn('batch_id', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('usage_pk', ['month', 'family_hmac', 'pack_slug'])
    .execute();

  await db.schema.alterTable('sales').addColumn('plan_id', 'text').execute();
  await db.schema
    .createIndex('sales_plan_month_idx')
    .on('sales')
    .columns(['month', 'kind'])
    .where(sql<boolean>`product_kind = 'plan'`)
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('sales_plan_month_idx').execute();
  await db.schema.alterTable('sales').dropColumn('plan_id').execute();
  await db.schema.dropTable('usage').execute();
  await db.schema.dropTable('plans').execute();
}
