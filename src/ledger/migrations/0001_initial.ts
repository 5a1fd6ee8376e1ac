/**
 * 0001_initial: every table of the ledger, and the roadmap's four creator tiers.
 * Portable DDL only (Kysely's schema builder; integer, text and composite keys, typed by
 * ./types.ts: BIGINT and C-collated TEXT on PostgreSQL), so the same migration runs on both. Value rules (kinds, stores, ranges) are checked in
 * the importers rather than with per-row CHECK constraints, which cost on bulk imports.
 */
import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import { int, text } from './types.js';

/** The roadmap's `marketplace.creator_tiers` rows, exactly (percentages as exact decimals). */
export const ROADMAP_TIERS = [
  {
    name: 'Bronze', rank: 1, minimum_packs_published: 1, minimum_average_rating: '4.00', minimum_monthly_sales: 10,
    minimum_months_active: 1, revenue_share_percent: '70.00', revenue_share_bp: 7000, early_feature_access: 0,
    marketing_support_level: 0, custom_creator_page: 0, priority_review_queue: 0, monthly_bonus_threshold: null,
    monthly_bonus_minor: null,
  },
  {
    name: 'Silver', rank: 2, minimum_packs_published: 5, minimum_average_rating: '4.20', minimum_monthly_sales: 50,
    minimum_months_active: 3, revenue_share_percent: '72.50', revenue_share_bp: 7250, early_feature_access: 1,
    marketing_support_level: 1, custom_creator_page: 1, priority_review_queue: 0, monthly_bonus_threshold: 100,
    monthly_bonus_minor: 5000,
  },
  {
    name: 'Gold', rank: 3, minimum_packs_published: 15, minimum_average_rating: '4.50', minimum_monthly_sales: 150,
    minimum_months_active: 6, revenue_share_percent: '75.00', revenue_share_bp: 7500, early_feature_access: 1,
    marketing_support_level: 2, custom_creator_page: 1, priority_review_queue: 1, monthly_bonus_threshold: 250,
    monthly_bonus_minor: 15000,
  },
  {
    name: 'Platinum', rank: 4, minimum_packs_published: 30, minimum_average_rating: '4.70', minimum_monthly_sales: 500,
    minimum_months_active: 12, revenue_share_percent: '80.00', revenue_share_bp: 8000, early_feature_access: 1,
    marketing_support_level: 2, custom_creator_page: 1, priority_review_queue: 1, monthly_bonus_threshold: 500,
    monthly_bonus_minor: 50000,
  },
] as const;

// Migrations must not depend on the app's current types (they describe a past schema).
export async function up(db: Kysely<any>): Promise<void> {
  const INT = int(db);
  const TEXT = text(db);
  await db.schema
    .createTable('meta')
    .addColumn('key', TEXT, (c) => c.primaryKey())
    .addColumn('value', TEXT, (c) => c.notNull())
    .execute();
  // The ledger-local secret for family_ref HMACs: made once, with the ledger, never printed.
  await db
    .insertInto('meta')
    .values([
      { key: 'family_hmac_secret', value: randomBytes(32).toString('hex') },
      { key: 'created_at', value: new Date().toISOString() },
    ])
    .execute();

  await db.schema
    .createTable('creators')
    .addColumn('id', TEXT, (c) => c.primaryKey())
    .addColumn('name', TEXT, (c) => c.notNull())
    .addColumn('payout_ref', TEXT)
    .addColumn('created_at', TEXT, (c) => c.notNull())
    .addColumn('updated_at', TEXT, (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('creator_tiers')
    .addColumn('name', TEXT, (c) => c.primaryKey())
    .addColumn('rank', INT, (c) => c.notNull().unique())
    .addColumn('minimum_packs_published', INT, (c) => c.notNull())
    .addColumn('minimum_average_rating', TEXT, (c) => c.notNull())
    .addColumn('minimum_monthly_sales', INT, (c) => c.notNull())
    .addColumn('minimum_months_active', INT, (c) => c.notNull())
    .addColumn('revenue_share_percent', TEXT, (c) => c.notNull())
    .addColumn('revenue_share_bp', INT, (c) => c.notNull())
    .addColumn('early_feature_access', INT, (c) => c.notNull().defaultTo(0))
    .addColumn('marketing_support_level', INT, (c) => c.notNull().defaultTo(0))
    .addColumn('custom_creator_page', INT, (c) => c.notNull().defaultTo(0))
    .addColumn('priority_review_queue', INT, (c) => c.notNull().defaultTo(0))
    .addColumn('monthly_bonus_threshold', INT)
    .addColumn('monthly_bonus_minor', INT)
    .execute();
  await db.insertInto('creator_tiers').values(ROADMAP_TIERS.map((t) => ({ ...t }))).execute();

  await db.schema
    .createTable('collaborations')
    .addColumn('id', TEXT, (c) => c.primaryKey())
    .addColumn('name', TEXT, (c) => c.notNull())
    .addColumn('lead_id', TEXT, (c) => c.notNull().references('creators.id'))
    .addColumn('created_at', TEXT, (c) => c.notNull())
    .addColumn('updated_at', TEXT, (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('collaboration_members')
    .addColumn('collaboration_id', TEXT, (c) => c.notNull().references('collaborations.id').onDelete('cascade'))
    .addColumn('creator_id', TEXT, (c) => c.notNull().references('creators.id'))
    .addColumn('share_bp', INT, (c) => c.notNull())
    .addColumn('share_percent', TEXT, (c) => c.notNull())
    .addPrimaryKeyConstraint('collaboration_members_pk', ['collaboration_id', 'creator_id'])
    .execute();

  await db.schema
    .createTable('packs')
    .addColumn('slug', TEXT, (c) => c.notNull())
    .addColumn('version', TEXT, (c) => c.notNull())
    .addColumn('name', TEXT, (c) => c.notNull())
    .addColumn('category', TEXT, (c) => c.notNull())
    .addColumn('subcategory', TEXT)
    .addColumn('tags', TEXT, (c) => c.notNull())
    .addColumn('price_minor', INT, (c) => c.notNull())
    .addColumn('currency', TEXT, (c) => c.notNull())
    .addColumn('markets', TEXT, (c) => c.notNull())
    .addColumn('owner_id', TEXT, (c) => c.notNull())
    .addColumn('owner_kind', TEXT, (c) => c.notNull())
    .addColumn('appstore_product_id', TEXT)
    .addColumn('googleplay_product_id', TEXT)
    .addColumn('web_product_id', TEXT)
    .addColumn('available_from', TEXT)
    .addColumn('available_until', TEXT)
    .addColumn('archive_sha256', TEXT, (c) => c.notNull())
    .addColumn('archive_path', TEXT, (c) => c.notNull())
    .addColumn('archive_bytes', INT, (c) => c.notNull())
    .addColumn('manifest', TEXT, (c) => c.notNull())
    .addColumn('published_at', TEXT, (c) => c.notNull())
    .addPrimaryKeyConstraint('packs_pk', ['slug', 'version'])
    .execute();
  await db.schema.createIndex('packs_owner_idx').on('packs').column('owner_id').execute();

  await db.schema
    .createTable('bundles')
    .addColumn('slug', TEXT, (c) => c.primaryKey())
    .addColumn('name', TEXT, (c) => c.notNull())
    .addColumn('kind', TEXT, (c) => c.notNull())
    .addColumn('season', TEXT)
    .addColumn('price_minor', INT, (c) => c.notNull())
    .addColumn('currency', TEXT, (c) => c.notNull())
    .addColumn('individual_total_minor', INT, (c) => c.notNull())
    .addColumn('discount', TEXT)
    .addColumn('charm', INT, (c) => c.notNull().defaultTo(0))
    .addColumn('savings_percent', TEXT, (c) => c.notNull())
    .addColumn('available_from', TEXT)
    .addColumn('available_until', TEXT)
    .addColumn('created_at', TEXT, (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('bundle_items')
    .addColumn('bundle_slug', TEXT, (c) => c.notNull().references('bundles.slug').onDelete('cascade'))
    .addColumn('pack_slug', TEXT, (c) => c.notNull())
    .addColumn('price_minor', INT, (c) => c.notNull())
    .addColumn('position', INT, (c) => c.notNull())
    .addPrimaryKeyConstraint('bundle_items_pk', ['bundle_slug', 'pack_slug'])
    .execute();

  await db.schema
    .createTable('import_batches')
    .addColumn('id', TEXT, (c) => c.primaryKey())
    .addColumn('kind', TEXT, (c) => c.notNull())
    .addColumn('file_name', TEXT, (c) => c.notNull())
    .addColumn('file_sha256', TEXT, (c) => c.notNull())
    .addColumn('rows', INT, (c) => c.notNull())
    .addColumn('imported', INT, (c) => c.notNull())
    .addColumn('skipped', INT, (c) => c.notNull())
    .addColumn('quarantined', INT, (c) => c.notNull())
    .addColumn('started_at', TEXT, (c) => c.notNull())
    .addColumn('finished_at', TEXT)
    .execute();

  // No foreign key from sales to import_batches/packs: bulk inserts stay cheap and the
  // importer resolves products and batches itself inside the same transaction.
  await db.schema
    .createTable('sales')
    .addColumn('store', TEXT, (c) => c.notNull())
    .addColumn('transaction_id', TEXT, (c) => c.notNull())
    .addColumn('kind', TEXT, (c) => c.notNull())
    .addColumn('occurred_at', TEXT, (c) => c.notNull())
    .addColumn('month', TEXT, (c) => c.notNull())
    .addColumn('product', TEXT, (c) => c.notNull())
    .addColumn('product_kind', TEXT, (c) => c.notNull())
    .addColumn('pack_slug', TEXT)
    .addColumn('bundle_slug', TEXT)
    .addColumn('country', TEXT, (c) => c.notNull())
    .addColumn('currency', TEXT, (c) => c.notNull())
    .addColumn('gross_minor', INT, (c) => c.notNull())
    .addColumn('store_fee_minor', INT, (c) => c.notNull())
    .addColumn('tax_minor', INT, (c) => c.notNull())
    .addColumn('consent_ref', TEXT)
    .addColumn('family_hmac', TEXT)
    .addColumn('refund_of', TEXT)
    .addColumn('batch_id', TEXT, (c) => c.notNull())
    .addPrimaryKeyConstraint('sales_pk', ['store', 'transaction_id'])
    .execute();
  // Month queries use the payouts migration's covering index (month first); one fewer
  // index here keeps bulk imports cheaper.

  await db.schema
    .createTable('reviews')
    .addColumn('review_id', TEXT, (c) => c.primaryKey())
    .addColumn('pack_slug', TEXT, (c) => c.notNull())
    .addColumn('rating', INT, (c) => c.notNull())
    .addColumn('reviewed_at', TEXT, (c) => c.notNull())
    .addColumn('month', TEXT, (c) => c.notNull())
    .addColumn('batch_id', TEXT, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('reviews_pack_idx').on('reviews').column('pack_slug').execute();

  await db.schema
    .createTable('fx_rates')
    .addColumn('currency', TEXT, (c) => c.notNull())
    .addColumn('month', TEXT, (c) => c.notNull())
    .addColumn('usd_per_unit', TEXT, (c) => c.notNull())
    .addColumn('batch_id', TEXT, (c) => c.notNull())
    .addPrimaryKeyConstraint('fx_rates_pk', ['currency', 'month'])
    .execute();

  await db.schema
    .createTable('quarantine')
    .addColumn('batch_id', TEXT, (c) => c.notNull().references('import_batches.id'))
    .addColumn('row_number', INT, (c) => c.notNull())
    .addColumn('kind', TEXT, (c) => c.notNull())
    .addColumn('code', TEXT, (c) => c.notNull())
    .addColumn('reasons', TEXT, (c) => c.notNull())
    .addColumn('raw', TEXT, (c) => c.notNull())
    .addColumn('created_at', TEXT, (c) => c.notNull())
    .addPrimaryKeyConstraint('quarantine_pk', ['batch_id', 'row_number'])
    .execute();

  await db.schema
    .createTable('closed_periods')
    .addColumn('month', TEXT, (c) => c.primaryKey())
    .addColumn('closed_at', TEXT, (c) => c.notNull())
    .addColumn('totals', TEXT)
    .execute();

  await db.schema
    .createTable('statements')
    .addColumn('month', TEXT, (c) => c.notNull())
    .addColumn('creator_id', TEXT, (c) => c.notNull().references('creators.id'))
    .addColumn('tier', TEXT)
    .addColumn('earnings_minor', INT, (c) => c.notNull())
    .addColumn('bonus_minor', INT, (c) => c.notNull())
    .addColumn('carried_in_minor', INT, (c) => c.notNull())
    .addColumn('payout_minor', INT, (c) => c.notNull())
    .addColumn('carried_out_minor', INT, (c) => c.notNull())
    .addColumn('detail', TEXT, (c) => c.notNull())
    .addColumn('created_at', TEXT, (c) => c.notNull())
    .addPrimaryKeyConstraint('statements_pk', ['month', 'creator_id'])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of [
    'statements', 'closed_periods', 'quarantine', 'fx_rates', 'reviews', 'sales', 'import_batches',
    'bundle_items', 'bundles', 'packs', 'collaboration_members', 'collaborations', 'creator_tiers',
    'creators', 'meta',
  ]) {
    await db.schema.dropTable(table).execute();
  }
}
