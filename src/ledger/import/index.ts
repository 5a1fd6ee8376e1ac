/**
 * `ledger import <kind>`: the importers by kind, over the one pipeline (pipeline.ts). A new
 * importer is a file exporting an `Importer<P>` and one line in IMPORTERS.
 */
import type { Ledger } from '../db.js';
import type { FileFormat } from '../records.js';
import type { ImportKind } from '../schema.js';
import { runImport, type Importer, type ImportResult, type RunOptions } from './pipeline.js';
import { appStoreImporter } from './appstore.js';
import { googlePlayImporter } from './googleplay.js';
import { purchasesImporter } from './purchases.js';
import { ratesImporter } from './rates.js';
import { reviewsImporter } from './reviews.js';
import { salesImporter } from './sales.js';
import { usageImporter } from './usage.js';

export { canonicalDecimal } from './rates.js';
export { SALE_KINDS, STORES } from './sales.js';
import type { FileSummary } from './pipeline.js';
export type { FileSummary, ImportInput, ImportResult, Importer, Item, ReportedProblem, RunOptions } from './pipeline.js';
export { runImport } from './pipeline.js';

/** Makes the importer of a kind for one import (importers keep per-import state). */
export const IMPORTERS: { readonly [K in ImportKind]: (ledger: Ledger) => Promise<Importer<any>> } = {
  sales: async (ledger) => salesImporter(await ledger.familySecret()),
  reviews: async () => reviewsImporter(),
  rates: async () => ratesImporter(),
  usage: async (ledger) => usageImporter(await ledger.familySecret()),
  purchases: async (ledger) => purchasesImporter(await ledger.familySecret()),
  googleplay: async (ledger) => (await ledger.familySecret(), googlePlayImporter()),
  appstore: async (ledger) => (await ledger.familySecret(), appStoreImporter()),
};

export type ImportOptions = RunOptions;

/** One file's import, as `ledger import sales|reviews|rates` reports it. */
/** One file's import as `ledger import <kind> <file>` prints it: the pipeline's file summary, typed. */
export interface ImportSummary extends Omit<FileSummary, 'format'> {
  ok: true;
  kind: ImportKind;
  format: FileFormat;
}

/** Imports several files of one kind in one transaction (one batch each). */
export async function importFiles(
  ledger: Ledger,
  kind: ImportKind,
  files: readonly string[],
  options: RunOptions & { package?: string; replace?: boolean } = {},
): Promise<ImportResult> {
  // Google's earnings report covers every app of the account: the package picks ours.
  // The family secret is read before the write transaction (the pipeline keys quarantined
  // rows with it, and the ledger's one connection is the transaction's until the commit).
  await ledger.familySecret();
  const replace = options.replace ?? false;
  // PACKOPS_CONSENT_PREFETCH=off keeps a Google Play import's consent lookups on the main thread.
  const prefetch = process.env.PACKOPS_CONSENT_PREFETCH !== 'off';
  const importer =
    kind === 'googleplay'
      ? googlePlayImporter({ package: options.package, replace, prefetch })
      : kind === 'appstore'
        ? appStoreImporter({ replace })
        : await IMPORTERS[kind](ledger);
  return runImport(ledger, importer, files, options);
}

/** Imports one file; throws ROWS_INVALID (exit 3) or PERIOD_CLOSED (exit 4) and writes nothing on failure. */
export async function importFile(ledger: Ledger, kind: ImportKind, file: string, options: RunOptions = {}): Promise<ImportSummary> {
  const r = await importFiles(ledger, kind, [file], options);
  const f = r.files[0]!;
  return {
    ok: true, kind, file, format: f.format as FileFormat, batch: f.batch, sha256: f.sha256,
    rows: f.rows, imported: f.imported, skipped: f.skipped, quarantined: f.quarantined, updated: f.updated,
  };
}
