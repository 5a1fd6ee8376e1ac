/**
 * `ledger import purchases` (§15): the app server's purchase log — what it saw when it
 * verified each store purchase, with the parental consent behind it. Stores never send
 * consent or family data; store reports are matched to these records. CSV or JSON Lines,
 * §7's rules; family_ref is stored only as its HMAC. Not money: no closed-month gate.
 */
import { country, oneOf, requiredText, timestamp, type RowProblem } from '../fields.js';
import { identifier, optionalIdentifier } from '../ids.js';
import type { ColumnSpec } from '../records.js';
import type { SaleKind } from '../schema.js';
import { collect, type Importer } from './pipeline.js';
import { familyHasher } from './sales.js';

type PurchaseStore = 'appstore' | 'googleplay';

export interface PurchaseParsed {
  store: PurchaseStore;
  id: string;
  kind: SaleKind;
  at: string;
  product: string;
  country: string;
  consent: string | null;
  family: string;
  refundOf: string | null;
}

const COLUMNS: ColumnSpec = {
  required: ['store', 'transaction_id', 'kind', 'occurred_at', 'product', 'country', 'family_ref'],
  optional: ['consent_ref', 'refund_of'],
};

const key = (store: string, id: string): string => `${store}\u0000${id}`;

export function purchasesImporter(secret: Buffer): Importer<PurchaseParsed> {
  const hmac = familyHasher(secret);
  /** This import's records: row, kind, and whether the row was good. */
  const seen = new Map<string, { row: number; kind: SaleKind; ok: boolean }>();
  /** App Store sales this import recorded a refund of: sale id → the refund's row. */
  const appleRefunded = new Map<string, number>();
  return {
    kind: 'purchases',
    columns: COLUMNS,
    table: 'purchases',
    insertColumns: ['store', 'transaction_id', 'kind', 'occurred_at', 'product', 'country', 'consent_ref', 'family_hmac', 'refund_of', 'batch_id'],
    async init() {},

    parse(rec) {
      const [vStore, vId, vKind, vAt, vProduct, vCountry, vFamily, vConsent, vRefundOf] = rec.cells;
      const store = oneOf('store', vStore, ['appstore', 'googleplay'] as const);
      const id = identifier('transaction_id', vId);
      const kind = oneOf('kind', vKind, ['sale', 'refund'] as const);
      const at = timestamp('occurred_at', vAt);
      const product = requiredText('product', vProduct);
      const ctry = country('country', vCountry);
      const family = identifier('family_ref', vFamily, 500);
      const consent = optionalIdentifier('consent_ref', vConsent);
      const refundOf = optionalIdentifier('refund_of', vRefundOf);
      const problems: RowProblem[] = collect(store, id, kind, at, product, ctry, family, consent, refundOf);
      if (kind.ok && consent.ok && refundOf.ok) {
        if (kind.value === 'sale' && consent.value === null) {
          problems.push({ column: 'consent_ref', code: 'ROW_CONSENT_MISSING', message: 'A sale needs consent_ref: the verifiable parental consent behind the purchase (COPPA).' });
        }
        if (kind.value === 'sale' && refundOf.value !== null) problems.push({ column: 'refund_of', code: 'ROW_INVALID', message: 'A sale has no refund_of.' });
        if (kind.value === 'refund' && refundOf.value === null) problems.push({ column: 'refund_of', code: 'ROW_INVALID', message: 'A refund names the sale it refunds in refund_of.' });
      }
      if (!store.ok || !id.ok || !kind.ok) return { problems };
      if (problems.length) return { parsed: { store: store.value, id: id.value, kind: kind.value } as PurchaseParsed, problems };
      return {
        parsed: {
          store: store.value, id: id.value, kind: kind.value, at: (at as { value: { iso: string } }).value.iso,
          product: (product as { value: string }).value, country: (ctry as { value: string }).value,
          consent: (consent as { value: string | null }).value, family: hmac((family as { value: string }).value),
          refundOf: (refundOf as { value: string | null }).value,
        },
        problems,
      };
    },

    async check({ trx }, items) {
      const byStore = new Map<PurchaseStore, string[]>();
      for (const it of items) {
        const p = it.parsed;
        if (!p) continue;
        const ids = byStore.get(p.store) ?? byStore.set(p.store, []).get(p.store)!;
        ids.push(p.id);
        if (p.refundOf) ids.push(p.refundOf);
      }
      const inLedger = new Map<string, SaleKind>();
      for (const [store, ids] of byStore) {
        for (let i = 0; i < ids.length; i += 500) {
          const rows = await trx.selectFrom('purchases').select(['transaction_id', 'kind']).where('store', '=', store).where('transaction_id', 'in', ids.slice(i, i + 500)).execute();
          for (const r of rows) inLedger.set(key(store, r.transaction_id), r.kind);
        }
      }
      // App Store sales of this chunk's refund records that the log holds a refund record of already.
      const appleIds = [...new Set(items.flatMap((it) => (it.parsed?.store === 'appstore' && it.parsed.kind === 'refund' && it.parsed.refundOf ? [it.parsed.refundOf] : [])))];
      const appleRefundInLog = new Map<string, string>();
      for (let i = 0; i < appleIds.length; i += 500) {
        const rows = await trx.selectFrom('purchases').select(['transaction_id', 'refund_of']).where('store', '=', 'appstore').where('refund_of', 'in', appleIds.slice(i, i + 500)).execute();
        for (const r of rows) appleRefundInLog.set(r.refund_of!, r.transaction_id);
      }
      for (const it of items) {
        const p = it.parsed;
        if (!p) continue;
        const k = key(p.store, p.id);
        const first = seen.get(k);
        if (first) {
          it.problems.push({ column: 'transaction_id', code: 'ROW_DUPLICATE_IN_FILE', message: `${p.store} ${p.id} already appears in row ${first.row}; later copies are not imported.` });
          continue;
        }
        seen.set(k, { row: it.rec.row, kind: p.kind, ok: it.problems.length === 0 });
        if (it.problems.length) continue;
        if (inLedger.has(k)) {
          it.action = 'skip';
          continue;
        }
        if (p.refundOf !== null) {
          const target = key(p.store, p.refundOf);
          const earlier = seen.get(target);
          const isSale = inLedger.get(target) === 'sale' || (earlier?.kind === 'sale' && earlier.ok);
          if (!isSale) {
            it.problems.push({ column: 'refund_of', code: 'ROW_REFUND_UNKNOWN', message: `No ${p.store} sale ${p.refundOf} is in the purchase log or earlier in this file.` });
            seen.get(k)!.ok = false;
            continue;
          }
          // Apple refunds a StoreKit transaction whole (one refund, of the whole transaction;
          // an App Store line's unit is one transaction): a second refund record of the same
          // App Store sale would refund it twice (§7: refunds never exceed their sale). Google
          // refunds an order in parts, so its refund records are bounded by amount in the
          // earnings report instead.
          if (p.store === 'appstore') {
            const row = appleRefunded.get(p.refundOf);
            const other = appleRefundInLog.get(p.refundOf);
            if (row !== undefined || other !== undefined) {
              it.problems.push({
                column: 'refund_of', code: 'ROW_REFUND_EXCEEDS',
                message: `App Store sale ${p.refundOf} already has a refund record (${row !== undefined ? `row ${row}` : `${other} in the purchase log`}); Apple refunds a transaction whole, once.`,
              });
              seen.get(k)!.ok = false;
              continue;
            }
            appleRefunded.set(p.refundOf, it.rec.row);
          }
        }
        it.action = 'insert';
      }
    },

    period() {
      return undefined;
    },

    values(p, batch) {
      return [p.store, p.id, p.kind, p.at, p.product, p.country, p.consent, p.family, p.refundOf, batch];
    },
  };
}
