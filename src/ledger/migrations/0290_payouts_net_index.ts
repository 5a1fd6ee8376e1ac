/**
 * 0290_payouts_net_index (payouts): the covering index of the month's payout aggregate
 * gains `net_minor`. Since 0210 an App Store row knows its net only, so `payouts report`
 * groups a month's rows by net_minor too; 0100's index lacks that column, and SQLite then
 * looked every one of a million rows up in the table and sorted them in a temporary
 * B-tree (measured: 17.3 s for a month of 1,000,000 sales in bench/payouts.bench.ts, where
 * the aggregate over the index alone takes under a second). With net_minor last the whole
 * GROUP BY is read from the index in group order.
 *
 * Numbered 0290, not in 0100's block: it must run after 0210 (which adds net_minor and, on
 * SQLite, rebuilds the sales table and its indexes) on a new ledger too, and migrations
 * run in name order there. Portable DDL only.
 */
import type { Kysely } from 'kysely';

const BASE = ['month', 'kind', 'product_kind', 'pack_slug', 'bundle_slug', 'currency', 'gross_minor', 'store_fee_minor', 'tax_minor'];

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('sales_payouts_idx').ifExists().execute();
  await db.schema.createIndex('sales_payouts_idx').on('sales').columns([...BASE, 'net_minor']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('sales_payouts_idx').ifExists().execute();
  await db.schema.createIndex('sales_payouts_idx').on('sales').columns(BASE).execute();
}
