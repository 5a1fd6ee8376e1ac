/**
 * 0210_store_reports (store reports, §15): what importing the stores' own files needs.
 * - `sales.gross_minor`, `store_fee_minor` and `tax_minor` may be NULL: Apple reports
 *   proceeds only, so an App Store line's gross, fee and tax are unknown, and
 *   `sales.net_minor` holds its net as reported (NULL when the three amounts are known:
 *   the net is then gross − fee − tax). PostgreSQL drops the NOT NULLs in place; SQLite
 *   cannot, so the table is rebuilt from its own CREATE statement (whatever columns earlier
 *   migrations added) and its indexes are made again.
 * - `purchases`: the app server's purchase log (who bought, with whose consent), which
 *   store sales are matched to.
 * - `store_reports`: one row per imported store file (its SHA-256 and the report it is, so
 *   a renamed copy is recognised and a corrected file replaces its predecessor).
 * - `quarantine` gains the columns held store money needs (store, report, hold key, line,
 *   month, currency, amount, and the batch that released it): a sale no purchase record
 *   accounts for is quarantined with code CONSENT_MISSING until one does.
 */
import { sql, type Kysely } from 'kysely';
import { int, isPostgres, text } from './types.js';

const UNKNOWN_AMOUNTS = ['gross_minor', 'store_fee_minor', 'tax_minor'] as const;

async function nullableAmounts(db: Kysely<any>): Promise<void> {
  if (isPostgres(db)) {
    for (const column of UNKNOWN_AMOUNTS) {
      await db.schema.alterTable('sales').alterColumn(column, (c) => c.dropNotNull()).execute();
    }
    return;
  }
  const table = await sql<{ sql: string }>`select sql from sqlite_master where type = 'table' and name = 'sales'`.execute(db);
  const create = table.rows[0]?.sql;
  if (!create) throw new Error('0210_store_reports: the sales table is missing');
  const indexes = await sql<{ sql: string }>`select sql from sqlite_master where type = 'index' and tbl_name = 'sales' and sql is not null`.execute(db);
  let rebuilt = create.replace(/^create table\s+"?sales"?/i, 'create table "sales_0210"');
  let changed = 0;
  for (const column of UNKNOWN_AMOUNTS) {
    const pattern = new RegExp(`("${column}"\\s+integer)\\s+not null`, 'i');
    if (pattern.test(rebuilt)) changed++;
    rebuilt = rebuilt.replace(pattern, '$1');
  }
  // Already nullable (this migration was undone and is run again): nothing to rebuild.
  if (changed === 0) return;
  await sql.raw(rebuilt).execute(db);
  await sql`insert into "sales_0210" select * from "sales"`.execute(db);
  await sql`drop table "sales"`.execute(db);
  await sql`alter table "sales_0210" rename to "sales"`.execute(db);
  for (const index of indexes.rows) await sql.raw(index.sql).execute(db);
}

export async function up(db: Kysely<any>): Promise<void> {
  await nullableAmounts(db);
  await db.schema.alterTable('sales').addColumn('net_minor', int(db)).execute();

  await db.schema
    .createTable('purchases')
    .addColumn('store', text(db), (c) => c.notNull())
    .addColumn('transaction_id', text(db), (c) => c.notNull())
    .addColumn('kind', text(db), (c) => c.notNull())
    .addColumn('occurred_at', text(db), (c) => c.notNull())
    .addColumn('product', text(db), (c) => c.notNull())
    .addColumn('country', text(db), (c) => c.notNull())
    .addColumn('consent_ref', text(db))
    .addColumn('family_hmac', text(db), (c) => c.notNull())
    .addColumn('refund_of', text(db))
    .addColumn('batch_id', text(db), (c) => c.notNull())
    .addPrimaryKeyConstraint('purchases_pk', ['store', 'transaction_id'])
    .execute();
  // Apple lines are matched to the records of one product and country in a date range, oldest first.
  await db.schema
    .createIndex('purchases_match_idx')
    .on('purchases')
    .columns(['store', 'product', 'country', 'kind', 'occurred_at'])
    .execute();

  await db.schema
    .createTable('store_reports')
    .addColumn('batch_id', text(db), (c) => c.notNull())
    .addColumn('store', text(db), (c) => c.notNull())
    .addColumn('report_key', text(db), (c) => c.notNull())
    .addColumn('file_sha256', text(db), (c) => c.notNull())
    .addColumn('file_name', text(db), (c) => c.notNull())
    /** JSON: the report's own totals and the ledger's, as the --json summary gave them. */
    .addColumn('summary', text(db), (c) => c.notNull())
    .addColumn('created_at', text(db), (c) => c.notNull())
    .addPrimaryKeyConstraint('store_reports_pk', ['batch_id', 'report_key'])
    .execute();
  await db.schema.createIndex('store_reports_key_idx').on('store_reports').columns(['store', 'report_key']).execute();
  await db.schema.createIndex('store_reports_sha_idx').on('store_reports').column('file_sha256').execute();

  // Held store money lives in the quarantine table (code CONSENT_MISSING), with what a
  // report needs to show it and an import needs to release it. NULL for other rows.
  for (const [column, type] of [
    ['store', text(db)], ['report_key', text(db)], ['hold_key', text(db)], ['line', int(db)], ['month', text(db)],
    ['currency', text(db)], ['amount_minor', int(db)], ['released_batch', text(db)],
  ] as const) {
    await db.schema.alterTable('quarantine').addColumn(column, type).execute();
  }
  await db.schema.createIndex('quarantine_holds_idx').on('quarantine').columns(['store', 'report_key', 'hold_key']).execute();
  await db.schema.createIndex('quarantine_month_idx').on('quarantine').columns(['month', 'code']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('quarantine_month_idx').execute();
  await db.schema.dropIndex('quarantine_holds_idx').execute();
  for (const column of ['released_batch', 'amount_minor', 'currency', 'month', 'line', 'hold_key', 'report_key', 'store']) {
    await db.schema.alterTable('quarantine').dropColumn(column).execute();
  }
  await db.schema.dropTable('store_reports').execute();
  await db.schema.dropTable('purchases').execute();
  await db.schema.alterTable('sales').dropColumn('net_minor').execute();
}
