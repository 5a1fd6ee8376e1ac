/**
 * `ledger import sales`: the §7 sales and refunds CSV / JSON Lines. One row is one
 * transaction; refunds are checked against their sale (sales-refunds.ts).
 */
import {
  country,
  currency,
  currencyExponent,
  isPlainText,
  knownCountry,
  minorAmount,
  oneOf,
  plainMinor,
  requiredText,
  timestamp,
  type RowProblem,
} from '../fields.js';
import { identifier, optionalIdentifier, plainId } from '../ids.js';
import type { ColumnSpec } from '../records.js';
import type { ProductKind, SaleKind, Store } from '../schema.js';
import { collect, type Importer } from './pipeline.js';
import { checkRefund, groupByStore, loadRefundSums, saleKey, storedSaleState, type SaleParsed, type SaleState } from './sales-refunds.js';
import type { ClosedPeriods } from './closed.js';
import { stagedSales } from '../pg-sales.js';
import { hmacSha256Hex } from '../../shared/hmac.js';
import { sqliteStagedSales } from './sales-staged.js';
import { checkMonthTotals } from './month-totals.js';
import { loadPlanResolver, subscriptionRowProblems, type PlanResolver } from './subscription-rows.js';

export const STORES = ['appstore', 'googleplay', 'web'] as const satisfies readonly Store[];
export const SALE_KINDS = ['sale', 'refund'] as const satisfies readonly SaleKind[];

/**
 * A sale's store fee and tax come out of its gross: together they never exceed it (a sale
 * with a negative net is a mistake in the file, not money to claw back). Refunds are not
 * held to it row by row: a store may return the fee in a later refund than the gross (a
 * fee-only refund), and all refunds of a sale are checked against it column by column.
 */
export function amountsProblem(gross: number, fee: number, tax: number): RowProblem | undefined {
  if (fee + tax <= gross) return undefined;
  const column = fee > gross ? 'store_fee_minor' : 'tax_minor';
  return {
    column,
    code: 'ROW_INVALID',
    message: `store_fee_minor ${fee} + tax_minor ${tax} = ${fee + tax} exceeds gross_minor ${gross}; the fee and tax are parts of the gross.`,
  };
}

const SALES_COLUMNS: ColumnSpec = {
  required: ['transaction_id', 'occurred_at', 'store', 'kind', 'product', 'country', 'currency', 'gross_minor', 'store_fee_minor', 'tax_minor'],
  optional: ['consent_ref', 'family_ref', 'refund_of'],
};

const SALE_INSERT_COLUMNS = [
  'store', 'transaction_id', 'kind', 'occurred_at', 'month', 'product', 'product_kind', 'pack_slug', 'bundle_slug',
  'country', 'currency', 'gross_minor', 'store_fee_minor', 'tax_minor', 'consent_ref', 'family_hmac', 'refund_of', 'batch_id', 'plan_id',
] as const;

/** HMACs of family_ref, cached: a family buys more than once (bounded, so memory stays flat). */
export function familyHasher(secret: Buffer): (ref: string) => string {
  const cache = new Map<string, string>();
  const hmac = hmacSha256Hex(secret); // createHmac's bytes, without a native object per family
  return (ref) => {
    let h = cache.get(ref);
    if (h === undefined) {
      h = hmac(ref);
      if (cache.size >= 100_000) cache.clear();
      cache.set(ref, h);
    }
    return h;
  };
}

/** A sales row's values in SALE_INSERT_COLUMNS order. */
function saleValues(p: SaleParsed, batch: string): unknown[] {
  const r = p.resolved!;
  return [
    p.store, p.transactionId, p.kind, p.at.iso, p.at.month, p.product, r.kind,
    r.kind === 'pack' ? r.slug : null, r.kind === 'bundle' ? r.slug : null,
    p.country, p.currency, p.gross, p.fee, p.tax, p.consentRef, p.familyHmac, p.refundOf, batch,
    r.kind === 'plan' ? r.slug : null,
  ];
}

/** `fingerprintBits`: narrows the staged path's key fingerprints (tests make keys collide with it). */
export function salesImporter(secret: Buffer, options: { fingerprintBits?: number } = {}): Importer<SaleParsed> {
  const slugs = new Map<string, { kind: ProductKind; slug: string }>();
  const storeIds = new Map<string, Map<string, string>>();
  const hmac = familyHasher(secret);
  // Keys of this file's rows that were not written (bad or already in the ledger), with
  // their row: a later copy is a duplicate, a refund of a bad sale is reported as such.
  const badKeys = new Map<string, number>();
  // Rows already in the ledger, by store then transaction id (a re-import of a large file
  // keeps every one: no composite key string per row, so 1M skipped rows stay well under 300 MB).
  const skipped: Record<Store, Map<string, number>> = { appstore: new Map(), googleplay: new Map(), web: new Map() };
  // Sales that refunds in this file have named, with everything refunded of them so far.
  const refunded = new Map<string, SaleState>();
  let plans: PlanResolver | undefined;
  // The months and currencies of the rows this import may write (bounded, month-totals.ts).
  const touched = new Map<string, { month: string; currency: string }>();

  return {
    kind: 'sales',
    columns: SALES_COLUMNS,
    table: 'sales',
    insertColumns: SALE_INSERT_COLUMNS,
    // After every row is written, in the transaction: no month's total past the bound.
    async finish({ trx }) {
      await checkMonthTotals(trx, touched);
    },

    async init({ trx }) {
      const packs = await trx
        .selectFrom('packs')
        .select(['slug', 'appstore_product_id', 'googleplay_product_id', 'web_product_id'])
        .execute();
      for (const store of STORES) storeIds.set(store, new Map());
      for (const p of packs) {
        slugs.set(p.slug, { kind: 'pack', slug: p.slug });
        if (p.appstore_product_id) storeIds.get('appstore')!.set(p.appstore_product_id, p.slug);
        if (p.googleplay_product_id) storeIds.get('googleplay')!.set(p.googleplay_product_id, p.slug);
        if (p.web_product_id) storeIds.get('web')!.set(p.web_product_id, p.slug);
      }
      plans = await loadPlanResolver(trx);
      const bundles = await trx.selectFrom('bundles').select('slug').execute();
      for (const b of bundles) if (!slugs.has(b.slug)) slugs.set(b.slug, { kind: 'bundle', slug: b.slug });
    },

    parse(rec) {
      const c = rec.cells;
      const fast = fastSale(c);
      if (fast) return { parsed: fast, problems: [] };
      const txid = identifier('transaction_id', c[0]);
      const at = timestamp('occurred_at', c[1]);
      const store = oneOf('store', c[2], STORES);
      const kind = oneOf('kind', c[3], SALE_KINDS);
      const product = requiredText('product', c[4]);
      const ctry = country('country', c[5]);
      const cur = currency('currency', c[6]);
      const curCode = cur.ok ? cur.value : undefined;
      const gross = minorAmount('gross_minor', c[7], curCode);
      const fee = minorAmount('store_fee_minor', c[8], curCode);
      const tax = minorAmount('tax_minor', c[9], curCode);
      const consent = optionalIdentifier('consent_ref', c[10]);
      const family = optionalIdentifier('family_ref', c[11], 500);
      const refundOf = optionalIdentifier('refund_of', c[12]);
      const problems = collect(txid, store, kind, at, product, ctry, cur, gross, fee, tax, consent, family, refundOf);
      if (kind.ok && consent.ok && kind.value === 'sale' && consent.value === null) {
        problems.push({
          column: 'consent_ref',
          code: 'ROW_CONSENT_MISSING',
          message: 'A sale needs consent_ref: the verifiable parental consent behind the purchase (COPPA).',
        });
      }
      if (kind.ok && refundOf.ok) {
        if (kind.value === 'refund' && refundOf.value === null) {
          problems.push({ column: 'refund_of', code: 'ROW_INVALID', message: 'A refund needs refund_of: the transaction_id of the sale it reverses.' });
        } else if (kind.value === 'sale' && refundOf.value !== null) {
          problems.push({ column: 'refund_of', code: 'ROW_INVALID', message: 'A sale cannot have refund_of; is the kind "refund"?' });
        }
      }
      if (kind.ok && kind.value === 'sale' && gross.ok && fee.ok && tax.ok) {
        const over = amountsProblem(gross.value, fee.value, tax.value);
        if (over) problems.push(over);
      }
      if (!txid.ok || !store.ok) return { problems };
      const key = saleKey(store.value, txid.value);
      if (problems.length > 0) {
        // Keep what identifies the row, so duplicates and refunds of it are reported too.
        return { parsed: { store: store.value, transactionId: txid.value, key } as SaleParsed, problems };
      }
      const familyRef = (family as { value: string | null }).value;
      return {
        parsed: {
          store: store.value,
          transactionId: txid.value,
          key,
          kind: (kind as { value: SaleKind }).value,
          at: (at as { value: SaleParsed['at'] }).value,
          product: (product as { value: string }).value,
          country: (ctry as { value: string }).value,
          currency: curCode!,
          gross: (gross as { value: number }).value,
          fee: (fee as { value: number }).value,
          tax: (tax as { value: number }).value,
          consentRef: (consent as { value: string | null }).value,
          familyHmac: familyRef === null ? null : hmac(familyRef),
          refundOf: (refundOf as { value: string | null }).value,
        },
        problems,
      };
    },

    async check({ trx, batch, closed }, items) {
      // One query for the chunk: its rows already written (earlier imports, or earlier in
      // this file) and the sales its refunds name that are not yet known here.
      const lookup = new Set<string>();
      const targets = new Set<string>();
      for (const it of items) {
        const p = it.parsed;
        if (!p) continue;
        lookup.add(p.key);
        if (it.problems.length === 0 && p.kind === 'refund') {
          const target = saleKey(p.store, p.refundOf!);
          if (!refunded.has(target)) {
            lookup.add(target);
            targets.add(target);
          }
        }
      }
      const found = new Map<string, SaleState & { batch: string }>();
      if (lookup.size > 0) {
        // One query per store, so the primary key (store, transaction_id) is probed once per id.
        for (const [st, ids] of groupByStore(lookup)) {
          const rows = await trx
            .selectFrom('sales')
            .select(['transaction_id', 'kind', 'occurred_at', 'currency', 'pack_slug', 'bundle_slug', 'plan_id', 'gross_minor', 'store_fee_minor', 'tax_minor', 'net_minor', 'batch_id', 'family_hmac'])
            .where('store', '=', st)
            .where('transaction_id', 'in', ids)
            .execute();
          for (const r of rows) found.set(saleKey(st, r.transaction_id), { ...storedSaleState(r, { store: st, transaction_id: r.transaction_id }), batch: r.batch_id });
        }
        await loadRefundSums(trx, [...targets].filter((k) => found.get(k)?.kind === 'sale'), found);
      }

      const chunkRows = new Map<string, number>();
      const chunkSales = new Map<string, SaleState>();
      for (const it of items) {
        const p = it.parsed;
        if (!p) continue;
        const prior = found.get(p.key);
        const firstRow = chunkRows.get(p.key) ?? badKeys.get(p.key) ?? skipped[p.store].get(p.transactionId);
        if (firstRow !== undefined || prior?.batch === batch) {
          it.problems.push({
            column: 'transaction_id',
            code: 'ROW_DUPLICATE_IN_FILE',
            message: `Transaction ${p.transactionId} (${p.store}) already appears ${firstRow === undefined ? 'earlier in this file' : `in row ${firstRow}`}; later copies are not imported.`,
          });
          continue;
        }
        chunkRows.set(p.key, it.rec.row);
        if (it.problems.length > 0) {
          badKeys.set(p.key, it.rec.row);
          continue;
        }
        if (prior) {
          skipped[p.store].set(p.transactionId, it.rec.row);
          it.action = 'skip';
          continue;
        }
        it.problems.push(...freshProblems(p, closed));
        const target = p.kind === 'refund' ? saleKey(p.store, p.refundOf!) : undefined;
        const sale = target === undefined ? undefined : (refunded.get(target) ?? chunkSales.get(target) ?? found.get(target));
        if (p.resolved?.kind === 'plan') it.problems.push(...subscriptionRowProblems(p, sale?.family));
        if (target !== undefined) {
          checkRefund(it, p, sale, badKeys.get(target));
          if (it.problems.length === 0 && sale) refunded.set(target, sale);
        }
        if (it.problems.length > 0) {
          badKeys.set(p.key, it.rec.row);
          continue;
        }
        if (p.kind === 'sale') {
          chunkSales.set(p.key, {
            kind: 'sale', ms: p.at.ms, currency: p.currency, product: p.resolved!.slug,
            gross: p.gross, fee: p.fee, tax: p.tax, refGross: 0, refFee: 0, refTax: 0, family: p.familyHmac,
          });
        }
        it.action = 'insert';
      }
    },

    period: (p) => (p.at ? { column: 'occurred_at', month: p.at.month } : undefined),

    // One file: the whole-file path of the ledger's dialect (several files keep `check`).
    staged: (ledger) =>
      ledger.pg
        ? stagedSales(ledger.pg, { columns: SALE_INSERT_COLUMNS, values: saleValues, freshProblems: stagedFreshProblems })
        : sqliteStagedSales({ freshProblems: stagedFreshProblems, fingerprintBits: options.fingerprintBits }),

    values: saleValues,
  };

  /**
   * The common case without a single problem object: every cell already in its canonical
   * form. Anything else (or any doubt) goes through the full field parsers, which find the
   * same values for good rows and name every problem of bad ones.
   */
  function fastSale(c: unknown[]): SaleParsed | undefined {
    const [id, occurredAt, store, kind, product, ctry, cur, g, f, t, consent, family, refundOf] = c;
    const txid = plainId(id);
    if (txid === undefined || !isPlainText(product) || typeof ctry !== 'string' || typeof cur !== 'string') return undefined;
    if (store !== 'appstore' && store !== 'googleplay' && store !== 'web') return undefined;
    if (kind !== 'sale' && kind !== 'refund') return undefined;
    const gross = plainMinor(g);
    const fee = plainMinor(f);
    const tax = plainMinor(t);
    if (gross === undefined || fee === undefined || tax === undefined || (kind === 'sale' && fee + tax > gross)) return undefined;
    if (!knownCountry(ctry) || currencyExponent(cur) === undefined) return undefined;
    const consentRef = consent === undefined || consent === '' ? null : plainId(consent);
    const familyRef = family === undefined || family === '' ? null : plainId(family, 500);
    const refund = refundOf === undefined || refundOf === '' ? null : plainId(refundOf);
    if (consentRef === undefined || familyRef === undefined || refund === undefined) return undefined;
    if (kind === 'sale' ? consentRef === null || refund !== null : refund === null) return undefined;
    const at = timestamp('occurred_at', occurredAt);
    if (!at.ok) return undefined;
    return {
      store,
      transactionId: txid,
      key: saleKey(store, txid),
      kind,
      at: at.value,
      product,
      country: ctry,
      currency: cur,
      gross,
      fee,
      tax,
      consentRef,
      familyHmac: familyRef === null ? null : hmac(familyRef),
      refundOf: refund,
    };
  }

  /** freshProblems for the whole-file paths, which check a refund's family against its sale later. */
  function stagedFreshProblems(p: SaleParsed, closed: ClosedPeriods): RowProblem[] {
    const problems = freshProblems(p, closed);
    // A subscription sale's rule needs no sale.
    if (p.resolved?.kind === 'plan') problems.push(...subscriptionRowProblems(p, undefined));
    return problems;
  }

  /**
   * The checks of a row that is neither a duplicate nor already in the ledger and need no
   * lookup: its month is open and its product is known (sets `p.resolved`).
   */
  function freshProblems(p: SaleParsed, closed: ClosedPeriods): RowProblem[] {
    const problems: RowProblem[] = [];
    const pair = `${p.at.month} ${p.currency}`;
    if (!touched.has(pair)) touched.set(pair, { month: p.at.month, currency: p.currency });
    if (closed.has(p.at.month)) problems.push(closed.problem('occurred_at', p.at.month));
    const resolved = resolveProduct(p);
    if ('problem' in resolved) problems.push(resolved.problem);
    else p.resolved = resolved;
    return problems;
  }

  function resolveProduct(p: SaleParsed): { kind: ProductKind; slug: string } | { problem: RowProblem } {
    const plan = plans?.resolve(p.product, p.store);
    if (plan) return plan;
    const bySlug = slugs.get(p.product);
    if (bySlug) return bySlug;
    const byId = storeIds.get(p.store)?.get(p.product);
    if (byId) return { kind: 'pack', slug: byId };
    for (const [otherStore, ids] of storeIds) {
      const other = ids.get(p.product);
      if (other !== undefined) {
        return {
          problem: {
            column: 'product',
            code: 'ROW_PRODUCT_UNKNOWN',
            message: `"${p.product}" is the ${otherStore} product id of ${other}, but the row's store is ${p.store}.`,
          },
        };
      }
    }
    return {
      problem: {
        column: 'product',
        code: 'ROW_PRODUCT_UNKNOWN',
        message: `No pack, bundle, plan or store product id "${p.product}" is registered in the ledger.`,
      },
    };
  }
}
