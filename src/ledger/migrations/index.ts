/**
 * The static list of migrations, in order. Migrations are compiled into packops and
 * never read from the working directory. Names sort in the order they run: `0001_…` for
 * the ledger's core tables; the payouts domain may add `0100_…` for payout-only tables
 * (add the import and the entry here). A later core migration takes the next number after
 * the last one (`0101_…`), so a ledger made before it upgrades in order.
 */
import type { Migration } from 'kysely';
import * as m0001 from './0001_initial.js';
import * as m0100 from './0100_payouts_sales_index.js';
import * as m0101 from './0101_sales_refunds_index.js';
import * as m0200 from './0200_quarantine_row_key.js';
import * as m0210 from './0210_store_reports.js';
import * as m0212 from './0212_purchases_refunds_index.js';
import * as m0290 from './0290_payouts_net_index.js';
import * as m0300 from './0300_subscriptions.js';
import * as m0310 from './0310_subscription_reads.js';
import * as m0320 from './0320_purchases_consent_index.js';
import * as m0500 from './0500_pack_signing_key.js';

export const MIGRATIONS: Readonly<Record<string, Migration>> = {
  '0001_initial': m0001,
  '0100_payouts_sales_index': m0100,
  '0101_sales_refunds_index': m0101,
  '0200_quarantine_row_key': m0200,
  '0210_store_reports': m0210,
  '0212_purchases_refunds_index': m0212,
  '0290_payouts_net_index': m0290,
  '0300_subscriptions': m0300,
  '0310_subscription_reads': m0310,
  '0320_purchases_consent_index': m0320,
  '0500_pack_signing_key': m0500,
};
