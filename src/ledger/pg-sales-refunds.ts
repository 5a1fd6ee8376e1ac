/**
 * The refund step of a PostgreSQL sales import (pg-sales.ts): the staged refunds that are
 * neither later copies nor already stored, read in file order with a cursor, each joined to
 * its sale (the ledger's, with what was refunded of it, or the file's first copy), and
 * checked by the walk SQLite's staged import uses too (import/sales-refund-walk.ts).
 */
import { createRequire } from 'node:module';
import type { Client as PgClient } from 'pg';
import type { RowProblem } from './fields.js';
import type { Item } from './import/pipeline.js';
import type { SaleParsed } from './import/sales-refunds.js';
import { RefundWalk, type RefundRow } from './import/sales-refund-walk.js';
import { DEFERRED, DUPLICATE, REFUNDS, STAGE } from './pg-sales-stage.js';

const require = createRequire(import.meta.url);

/** Refund rows read back per round trip. */
const CURSOR_ROWS = 5000;

/** The part of pg-cursor used here (it ships no types). */
interface CursorClass {
  new (text: string): { read(rows: number): Promise<RefundRow[]>; close(): Promise<void> } & import('pg').Submittable;
}

/**
 * The refunds that are neither later copies nor already stored, in file order, each with
 * its sale: the ledger's (and what was refunded of it) or the file's first copy. Adds the
 * bad ones to `bad` (a held row's problems are extended in place) and returns the rows of
 * staged rows that turned bad.
 */
export async function walkRefunds(
  client: PgClient,
  heldRows: ReadonlyMap<number, Item<SaleParsed>>,
  deferred: Map<number, RowProblem[]>,
  quarantine: boolean,
  bad: Array<Item<SaleParsed>>,
): Promise<number[]> {
  const Cursor = require('pg-cursor') as CursorClass;
  const cursor = client.query(
    new Cursor(
      `SELECT r."row", r.state, r.store, r.transaction_id, r.refund_of, r.occurred_at, r.month, r.currency, r.product, r.product_kind,
              coalesce(r.pack_slug, r.bundle_slug, r.plan_id) AS slug, r.gross_minor, r.store_fee_minor, r.tax_minor, r.family_hmac, r.cells,
              l.kind AS l_kind, l.occurred_at AS l_occurred_at, l.currency AS l_currency, l.pack_slug AS l_pack_slug,
              l.bundle_slug AS l_bundle_slug, l.plan_id AS l_plan_id, l.gross_minor AS l_gross_minor,
              l.store_fee_minor AS l_store_fee_minor, l.tax_minor AS l_tax_minor, l.net_minor AS l_net_minor, l.family_hmac AS l_family_hmac,
              rs.g AS rg, rs.f AS rf, rs.t AS rt,
              t."row" AS t_row, t.state AS t_state, t.kind AS t_kind, t.occurred_at AS t_occurred_at, t.currency AS t_currency,
              coalesce(t.pack_slug, t.bundle_slug, t.plan_id) AS t_slug, t.gross_minor AS t_gross_minor,
              t.store_fee_minor AS t_store_fee_minor, t.tax_minor AS t_tax_minor, t.family_hmac AS t_family_hmac
         FROM ${REFUNDS} r
         LEFT JOIN sales l ON l.store = r.store AND l.transaction_id = r.refund_of
         LEFT JOIN LATERAL (
           SELECT sum(x.gross_minor) AS g, sum(x.store_fee_minor) AS f, sum(x.tax_minor) AS t FROM sales x
            WHERE x.kind = 'refund' AND x.store = r.store AND x.refund_of = r.refund_of
         ) rs ON l.kind = 'sale'
         LEFT JOIN ${STAGE} t ON t.store = r.store AND t.transaction_id = r.refund_of AND t.state < ${DUPLICATE} AND t."row" < r."row"
        WHERE r.state <= ${DEFERRED}
          AND NOT EXISTS (SELECT 1 FROM sales z WHERE z.store = r.store AND z.transaction_id = r.transaction_id)
        ORDER BY r."row"`,
    ),
  );
  const walk = new RefundWalk(heldRows, deferred, quarantine, bad);
  try {
    for (;;) {
      const rows = await cursor.read(CURSOR_ROWS);
      if (rows.length === 0) break;
      for (const r of rows) walk.step(r);
    }
  } finally {
    await cursor.close();
  }
  return walk.turnedBad;
}
