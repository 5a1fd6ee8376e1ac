/**
 * 0212_purchases_refunds_index (PRODUCT.md §7, §15): the refund records of a purchase, found
 * by (store, refund_of). Apple refunds a StoreKit transaction whole, so `ledger import
 * purchases` refuses a second App Store refund record of one sale (ROW_REFUND_EXCEEDS) and
 * looks up the records already in the log by the sale they refund; without this index each
 * chunk of a purchase log would read every record. Partial (refund records only), so a sale
 * record's INSERT pays nothing for it. Portable DDL, as 0101's.
 */
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createIndex('purchases_refunds_idx')
    .on('purchases')
    .columns(['store', 'refund_of'])
    .where(sql.ref('refund_of'), 'is not', null)
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('purchases_refunds_idx').ifExists().execute();
}
