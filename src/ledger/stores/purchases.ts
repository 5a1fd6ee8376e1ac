/**
 * `ledger import purchases <file>` (§15): the app server's purchase log — what it saw when
 * it verified each store purchase, with the parental consent behind it. CSV with a header
 * or JSON Lines, §7's rules: one transaction, any bad row and nothing is written (unless
 * --quarantine), records already in the ledger skipped, family_ref stored only as its HMAC.
 */
import { createHash, randomUUID } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { errnoCode, inputError } from '../../shared/errors.js';
import type { Ledger } from '../db.js';
import { country, oneOf, optionalText, requiredText, timestamp, type Parsed, type RowProblem } from '../fields.js';
import { detectFormat, readChunks, specColumns, type ColumnSpec, type FileFormat } from '../records.js';
import type { SaleKind } from '../schema.js';
import { familyHasher, Problems } from './common.js';

export const PURCHASE_COLUMNS: ColumnSpec = {
  required: ['store', 'transaction_id', 'kind', 'occurred_at', 'product', 'country', 'family_ref'],
  optional: ['consent_ref', 'refund_of'],
};

type PurchaseStore = 'appstore' | 'googleplay';

interface Purchase {
  store: PurchaseStore;
  transaction_id: string;
  kind: SaleKind;
  occurred_at: string;
  product: string;
  country: string;
  consent_ref: string | null;
  family_hmac: string;
  refund_of: string | null;
}

export interface PurchasesSummary {
  ok: true;
  kind: 'purchases';
  file: string;
  format: FileFormat;
  batch: string;
  sha256: string;
  rows: number;
  imported: number;
  skipped: number;
  quarantined: number;
}

const CHUNK = 1000;

function value<T>(p: Parsed<T>): T | undefined {
  return p.ok ? p.value : undefined;
}

export async function importPurchases(
  ledger: Ledger,
  file: string,
  options: { quarantine?: boolean; now?: () => Date } = {},
): Promise<PurchasesSummary> {
  try {
    if (!(await stat(file)).isFile()) throw inputError('PATH_NOT_FOUND', `${file} is not a file.`);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') throw inputError('PATH_NOT_FOUND', `${file} does not exist.`);
    throw err;
  }
  const now = options.now ?? (() => new Date());
  const format = await detectFormat(file);
  const hmac = familyHasher(await ledger.familySecret());
  const columns = specColumns(PURCHASE_COLUMNS);
  const batch = randomUUID();
  const hash = createHash('sha256');

  return ledger.db.transaction().execute(async (trx) => {
    const startedAt = now().toISOString();
    await trx
      .insertInto('import_batches')
      .values({ id: batch, kind: 'purchases', file_name: basename(file), file_sha256: '', rows: 0, imported: 0, skipped: 0, quarantined: 0, started_at: startedAt, finished_at: null })
      .execute();
    const problems = new Problems();
    const bad: Array<{ row: number; problems: RowProblem[]; cells: unknown[] }> = [];
    /** This file's records by store and id: their row (sales also their kind). */
    const seen = new Map<string, { row: number; kind: SaleKind; ok: boolean }>();
    let rows = 0;
    let imported = 0;
    let skipped = 0;

    for await (const records of readChunks(file, { format, columns: PURCHASE_COLUMNS, chunkSize: CHUNK, onChunk: (b) => hash.update(b) })) {
      rows += records.length;
      const parsed: Array<{ row: number; p?: Purchase; problems: RowProblem[]; cells: unknown[] }> = [];
      for (const rec of records) {
        if (rec.shapeError) {
          parsed.push({ row: rec.row, problems: [{ column: rec.shapeError.column, code: 'ROW_INVALID', message: rec.shapeError.message }], cells: rec.cells });
          continue;
        }
        const [vStore, vId, vKind, vAt, vProduct, vCountry, vFamily, vConsent, vRefundOf] = rec.cells;
        const store = oneOf('store', vStore, ['appstore', 'googleplay'] as const);
        const id = requiredText('transaction_id', vId);
        const kind = oneOf('kind', vKind, ['sale', 'refund'] as const);
        const at = timestamp('occurred_at', vAt);
        const product = requiredText('product', vProduct);
        const ctry = country('country', vCountry);
        const family = requiredText('family_ref', vFamily, 500);
        const consent = optionalText('consent_ref', vConsent);
        const refundOf = optionalText('refund_of', vRefundOf);
        const list: RowProblem[] = [];
        for (const r of [store, id, kind, at, product, ctry, family, consent, refundOf] as Array<Parsed<unknown>>) if (!r.ok) list.push(r.problem);
        const k = value(kind);
        if (k === 'sale' && consent.ok && consent.value === null) {
          list.push({ column: 'consent_ref', code: 'ROW_CONSENT_MISSING', message: 'A sale needs consent_ref: the verifiable parental consent behind the purchase (COPPA).' });
        }
        if (k === 'sale' && refundOf.ok && refundOf.value !== null) list.push({ column: 'refund_of', code: 'ROW_INVALID', message: 'A sale has no refund_of.' });
        if (k === 'refund' && refundOf.ok && refundOf.value === null) list.push({ column: 'refund_of', code: 'ROW_INVALID', message: 'A refund names the sale it refunds in refund_of.' });
        const p: Purchase | undefined =
          list.length === 0
            ? {
                store: store.ok ? store.value : 'appstore', transaction_id: id.ok ? id.value : '', kind: k!, occurred_at: at.ok ? at.value.iso : '',
                product: product.ok ? product.value : '', country: ctry.ok ? ctry.value : '', consent_ref: consent.ok ? consent.value : null,
                family_hmac: family.ok ? hmac(family.value) : '', refund_of: refundOf.ok ? refundOf.value : null,
              }
            : undefined;
        parsed.push({ row: rec.row, p, problems: list, cells: rec.cells });
      }

      // Which of these are in the ledger already, and which sales the refunds name.
      const byStore = new Map<PurchaseStore, string[]>();
      for (const it of parsed) {
        if (!it.p) continue;
        const ids = byStore.get(it.p.store) ?? [];
        ids.push(it.p.transaction_id);
        if (it.p.refund_of) ids.push(it.p.refund_of);
        byStore.set(it.p.store, ids);
      }
      const inLedger = new Map<string, SaleKind>();
      for (const [store, ids] of byStore) {
        for (let i = 0; i < ids.length; i += 500) {
          const found = await trx
            .selectFrom('purchases')
            .select(['transaction_id', 'kind'])
            .where('store', '=', store)
            .where('transaction_id', 'in', ids.slice(i, i + 500))
            .execute();
          for (const f of found) inLedger.set(`${store}\u0000${f.transaction_id}`, f.kind);
        }
      }

      const values: Purchase[] = [];
      for (const it of parsed) {
        const p = it.p;
        if (p) {
          const key = `${p.store}\u0000${p.transaction_id}`;
          const first = seen.get(key);
          if (first) {
            it.problems.push({ column: 'transaction_id', code: 'ROW_DUPLICATE_IN_FILE', message: `${p.store} ${p.transaction_id} already appears in row ${first.row}; later copies are not imported.` });
          } else if (inLedger.has(key)) {
            seen.set(key, { row: it.row, kind: p.kind, ok: true });
            skipped++;
            continue;
          } else if (p.refund_of !== null) {
            const target = `${p.store}\u0000${p.refund_of}`;
            const sale = inLedger.get(target) ?? seen.get(target)?.kind;
            const saleOk = inLedger.has(target) || seen.get(target)?.ok === true;
            if (sale !== 'sale' || !saleOk) {
              it.problems.push({ column: 'refund_of', code: 'ROW_REFUND_UNKNOWN', message: `No ${p.store} sale ${p.refund_of} is in the purchase log or earlier in this file.` });
            }
          }
          seen.set(key, { row: it.row, kind: p.kind, ok: it.problems.length === 0 });
        }
        if (it.problems.length) {
          for (const pr of it.problems) problems.add({ row: it.row, ...pr });
          bad.push({ row: it.row, problems: it.problems, cells: it.cells });
          continue;
        }
        values.push(p!);
      }
      for (let i = 0; i < values.length; i += 500) {
        await trx.insertInto('purchases').values(values.slice(i, i + 500).map((v) => ({ ...v, batch_id: batch }))).execute();
      }
      imported += values.length;
    }

    if (bad.length && !options.quarantine) problems.throwIfAny(file, rows);
    const createdAt = now().toISOString();
    for (let i = 0; i < bad.length; i += 100) {
      await trx
        .insertInto('quarantine')
        .values(
          bad.slice(i, i + 100).map((b) => {
            const raw: Record<string, unknown> = {};
            columns.forEach((c, j) => {
              if (c !== 'family_ref' && b.cells[j] !== undefined) raw[c] = b.cells[j];
            });
            return { batch_id: batch, row_number: b.row, kind: 'purchases', code: b.problems[0]!.code, reasons: JSON.stringify(b.problems), raw: JSON.stringify(raw), created_at: createdAt };
          }),
        )
        .execute();
    }
    const sha256 = hash.digest('hex');
    await trx
      .updateTable('import_batches')
      .set({ file_sha256: sha256, rows, imported, skipped, quarantined: bad.length, finished_at: now().toISOString() })
      .where('id', '=', batch)
      .execute();
    return { ok: true, kind: 'purchases', file, format, batch, sha256, rows, imported, skipped, quarantined: bad.length };
  });
}
