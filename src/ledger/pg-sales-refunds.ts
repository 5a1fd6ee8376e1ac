/**
 * The refund step of a PostgreSQL sales import (pg-sales.ts): the staged refunds that are
 * neither later copies nor already stored, read in file order with a cursor, each joined to
 * its sale (the ledger's, with what was refunded of it, or the file's first copy), and
 * checked by the same rules as on SQLite (checkRefund), adding up in file order.
 */
import { createRequire } from 'node:module';
import type { Client as PgClient } from 'pg';
import type { RowProblem } from './fields.js';
import type { Item } from './import/pipeline.js';
import { checkRefund, saleKey, storedSaleState, type SaleParsed, type SaleState } from './import/sales-refunds.js';
import { subscriptionRowProblems } from './import/subscription-rows.js';
import type { ProductKind, SaleKind, Store } from './schema.js';
import { DEFERRED, DUPLICATE, GOOD, REFUNDS, STAGE, unpackCells } from './pg-sales-stage.js';

const require = createRequire(import.meta.url);

/** Refund rows read back per round trip. */
const CURSOR_ROWS = 5000;

interface RefundRow {
  row: number;
  state: number;
  store: Store;
  transaction_id: string;
  refund_of: string;
  occurred_at: string;
  month: string;
  currency: string;
  product: string;
  product_kind: ProductKind;
  slug: string;
  gross_minor: number;
  store_fee_minor: number;
  tax_minor: number;
  family_hmac: string | null;
  cells: string | null;
  l_kind: SaleKind | null;
  l_occurred_at: string;
  l_currency: string;
  l_pack_slug: string | null;
  l_bundle_slug: string | null;
  l_plan_id: string | null;
  l_gross_minor: number | null;
  l_store_fee_minor: number | null;
  l_tax_minor: number | null;
  l_net_minor: number | null;
  l_family_hmac: string | null;
  rg: number | null;
  rf: number | null;
  rt: number | null;
  t_row: number | null;
  t_state: number | null;
  t_kind: SaleKind | null;
  t_occurred_at: string;
  t_currency: string;
  t_slug: string;
  t_gross_minor: number;
  t_store_fee_minor: number;
  t_tax_minor: number;
  t_family_hmac: string | null;
}

/** The part of pg-cursor used here (it ships no types). */
interface CursorClass {
  new (text: string, values?: unknown[]): { read(rows: number): Promise<RefundRow[]>; close(): Promise<void> } & import('pg').Submittable;
}

/**
 * The refunds that are neither later copies nor already stored, in file order, each with
 * its sale: the ledger's (and what was refunded of it) or the file's first copy. Sales this
 * import (`batch`) moved early count as the file's, not the ledger's. Adds the
 * bad ones to `bad` (a held row's problems are extended in place) and returns the rows of
 * staged rows that turned bad.
 */
export async function walkRefunds(
  client: PgClient,
  batch: string,
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
         LEFT JOIN sales l ON l.store = r.store AND l.transaction_id = r.refund_of AND l.batch_id <> $1
         LEFT JOIN LATERAL (
           SELECT sum(x.gross_minor) AS g, sum(x.store_fee_minor) AS f, sum(x.tax_minor) AS t FROM sales x
            WHERE x.kind = 'refund' AND x.store = r.store AND x.refund_of = r.refund_of
         ) rs ON l.kind = 'sale'
         LEFT JOIN ${STAGE} t ON t.store = r.store AND t.transaction_id = r.refund_of AND t.state < ${DUPLICATE} AND t."row" < r."row"
        WHERE r.state <= ${DEFERRED}
          AND NOT EXISTS (SELECT 1 FROM sales z WHERE z.store = r.store AND z.transaction_id = r.transaction_id AND z.batch_id <> $1)
        ORDER BY r."row"`,
      [batch],
    ),
  );
  const refunded = new Map<string, SaleState>();
  /** Staged refunds found bad here (a later refund of one names a bad row). */
  const turnedBad = new Set<number>();
  const out: number[] = [];
  try {
    for (;;) {
      const rows = await cursor.read(CURSOR_ROWS);
      if (rows.length === 0) break;
      for (const r of rows) {
        const held = r.state === DEFERRED ? heldRows.get(r.row) : undefined;
        const p: SaleParsed = held?.parsed ?? {
          store: r.store, transactionId: r.transaction_id, key: saleKey(r.store, r.transaction_id), kind: 'refund',
          at: { iso: r.occurred_at, month: r.month, ms: Date.parse(r.occurred_at) },
          product: r.product, country: '', currency: r.currency, gross: r.gross_minor, fee: r.store_fee_minor, tax: r.tax_minor,
          consentRef: null, familyHmac: r.family_hmac, refundOf: r.refund_of, resolved: { kind: r.product_kind, slug: r.slug },
        };
        const it: Item<SaleParsed> = held
          ? { rec: held.rec, parsed: p, problems: [...deferred.get(r.row)!] }
          : { rec: { row: r.row, cells: [] }, parsed: p, problems: [] };
        const target = saleKey(p.store, p.refundOf!);
        let sale = refunded.get(target);
        let badRow: number | undefined;
        if (!sale && r.l_kind !== null) {
          sale = storedSaleState({
            kind: r.l_kind, occurred_at: r.l_occurred_at, currency: r.l_currency, pack_slug: r.l_pack_slug, bundle_slug: r.l_bundle_slug,
            plan_id: r.l_plan_id, gross_minor: r.l_gross_minor, store_fee_minor: r.l_store_fee_minor, tax_minor: r.l_tax_minor,
            net_minor: r.l_net_minor, family_hmac: r.l_family_hmac,
          });
          sale.refGross = Number(r.rg ?? 0);
          sale.refFee = Number(r.rf ?? 0);
          sale.refTax = Number(r.rt ?? 0);
        } else if (!sale && r.t_row !== null) {
          if (r.t_state === GOOD && !turnedBad.has(r.t_row)) {
            sale = {
              kind: r.t_kind!, ms: Date.parse(r.t_occurred_at), currency: r.t_currency, product: r.t_slug,
              gross: r.t_gross_minor, fee: r.t_store_fee_minor, tax: r.t_tax_minor, refGross: 0, refFee: 0, refTax: 0, family: r.t_family_hmac,
            };
          } else {
            badRow = r.t_row;
          }
        }
        if (p.resolved?.kind === 'plan' && p.familyHmac !== null) it.problems.push(...subscriptionRowProblems(p, sale?.family));
        checkRefund(it, p, sale, badRow);
        if (it.problems.length === 0) {
          if (sale) refunded.set(target, sale);
          continue;
        }
        turnedBad.add(r.row);
        if (held) {
          // Reported with the held row by the caller.
          deferred.set(r.row, it.problems);
          continue;
        }
        if (quarantine) it.rec.cells = unpackCells(r.cells);
        bad.push(it);
        out.push(r.row);
      }
    }
  } finally {
    await cursor.close();
  }
  return out;
}
