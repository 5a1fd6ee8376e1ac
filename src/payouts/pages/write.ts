/**
 * `payouts report --format html|pdf --out <dir>`: the month's pages, written as
 * `<dir>/<period>/<creator-id>.html|.pdf` and `<dir>/<period>/summary.html|.pdf`.
 * The HTML is written first, all files or none; a PDF run then prints the same HTML in
 * one headless Chromium and writes the PDFs, all or none. Without a browser the PDF run
 * fails with CHROMIUM_MISSING and the HTML stays.
 */
import { join } from 'node:path';
import type { Kysely } from 'kysely';
import { inReadTransaction } from '../../ledger/read-transaction.js';
import type { LedgerDB } from '../../ledger/schema.js';
import { findChromium, printPdfs, type Paper } from '../../pages/pdf.js';
import { stageFiles, writeFilesAtomic } from '../../shared/atomic.js';
import { inputError } from '../../shared/errors.js';
import { payoutReport, type PayoutOptions } from '../report.js';
import { STATEMENT_FILE_NAME } from '../file-names.js';
import type { PagesDoc } from './common.js';
import { pagesExtras } from './data.js';
import { renderStatementPage, statementDigest } from './statement.js';
import { renderSummaryPage } from './summary.js';

export interface PagesDocOptions extends PayoutOptions {
  platform: string;
  /** SOURCE_DATE_EPOCH in seconds, when set: the issued date of every page. */
  sourceDateEpoch?: number;
  now?: () => Date;
}

/** The report plus what the pages show, as `--json` prints it. */
export async function pagesDocument(db: Kysely<LedgerDB>, period: string, options: PagesDocOptions): Promise<PagesDoc> {
  // One snapshot for the report and the extras the pages add (history, per-store lines):
  // an import committing between the two would print pages whose figures disagree.
  const { report, extras } = await inReadTransaction(db, async (trx) => {
    const report = await payoutReport(trx, period, options);
    return { report, extras: await pagesExtras(trx, report, options) };
  });
  const issuedAt =
    options.sourceDateEpoch !== undefined
      ? new Date(options.sourceDateEpoch * 1000)
      : report.closedAt !== null
        ? new Date(report.closedAt)
        : (options.now ?? (() => new Date()))();
  return { ...report, ...extras, platform: options.platform, issued: issuedAt.toISOString().slice(0, 10) };
}


export interface RenderedPage {
  /** File name without the extension: a creator id, or "summary". */
  name: string;
  creator: string | null;
  html: string;
  /** SHA-256 of the figures the page shows (the statement's, or the whole report's). */
  sha256?: string;
}

/** Every page of the month: the summary first, then one statement per creator. */
export function renderPages(doc: PagesDoc): RenderedPage[] {
  for (const s of doc.statements) {
    if (!STATEMENT_FILE_NAME.test(s.creator) || s.creator === 'summary') {
      throw inputError('STATEMENT_FILE_NAME', `The creator id "${s.creator}" cannot name a statement file${s.creator === 'summary' ? ' (summary.html is the finance summary)' : ''}.`, {
        hint: 'Creator ids are kebab-case (a-z, 0-9, single hyphens), and "summary" is taken.',
        details: { creator: s.creator },
      });
    }
  }
  return [
    { name: 'summary', creator: null, html: renderSummaryPage(doc) },
    ...doc.statements.map((s, i) => {
      const sha256 = statementDigest(doc.period, s);
      return { name: s.creator, creator: s.creator, html: renderStatementPage(doc, i, sha256), sha256 };
    }),
  ];
}

export interface WriteOptions {
  format: 'html' | 'pdf';
  out: string;
  paper: Paper;
  /** Base of the paths shown in messages. */
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  onProgress?: (done: number, total: number) => void;
}

export interface WrittenPages {
  dir: string;
  files: string[];
  statements: Array<{ creator: string; number: string; sha256: string }>;
}

export async function writePages(doc: PagesDoc, options: WriteOptions): Promise<WrittenPages> {
  const dir = join(options.out, doc.period);
  const pages = renderPages(doc);
  const htmlFiles = pages.map((p) => ({ path: join(dir, `${p.name}.html`), data: p.html }));
  // The shared writer: no link below --out is followed, nothing special is replaced, and a
  // folder that cannot be written is OUTPUT_UNWRITABLE (exit 3) with nothing left behind.
  const place = { base: options.out, cwd: options.cwd };
  await writeFilesAtomic(htmlFiles, place);
  const files = htmlFiles.map((f) => f.path);
  if (options.format === 'pdf') {
    const executable = findChromium(options.env ?? process.env);
    const pdfPaths = pages.map((p) => join(dir, `${p.name}.pdf`));
    // Each PDF goes to its temporary file as soon as Chromium hands it over (memory holds a
    // page per tab, not the month); they are renamed into place together, or none is.
    const staged = stageFiles(pdfPaths, place);
    try {
      await printPdfs(pages, { executable, paper: options.paper, onPdf: (i, pdf) => staged.put(pdfPaths[i]!, pdf), onPage: options.onProgress });
      await staged.commit();
    } catch (err) {
      await staged.abort();
      throw err;
    }
    files.push(...pdfPaths);
  }
  return {
    dir,
    files,
    statements: pages.filter((p) => p.creator !== null).map((p) => ({ creator: p.creator!, number: `${doc.period}-${p.creator}`, sha256: p.sha256! })),
  };
}
