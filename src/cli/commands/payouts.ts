import { join } from 'node:path';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { action } from '../action.js';
import { withLedger } from '../ledger.js';
import type { CliContext } from '../context.js';
import { isPeriodArgument } from '../../shared/period.js';
import type { CommandGroups } from '../command-groups.js';

const FORMATS = ['table', 'csv', 'json', 'md', 'html', 'pdf'] as const;
type Format = (typeof FORMATS)[number];

const periodOption = () =>
  new Option('--period <YYYY-MM>', 'the calendar month (UTC)')
    .makeOptionMandatory(true)
    .argParser((value: string) => {
      if (!isPeriodArgument(value)) throw new InvalidArgumentError('Use a calendar month as YYYY-MM, e.g. 2026-10 (years 0001 to 9999).');
      return value;
    });

/** The minimum payout from config (`payouts.minimumMinor`), default 1000 cents. */
async function minimumMinor(ctx: CliContext): Promise<bigint> {
  const value = ctx.config.payouts?.minimumMinor;
  if (value === undefined) return 1000n;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    const { inputError } = await import('../../shared/errors.js');
    throw inputError('CONFIG_INVALID', `payouts.minimumMinor must be a whole number of cents ≥ 0, not ${JSON.stringify(value)}.`, {
      details: { file: ctx.configPath, key: 'payouts.minimumMinor' },
    });
  }
  return BigInt(value);
}

/** The ledger's Kysely handle for a payouts command; the ledger must already exist. */
function withLedgerDb<T>(ctx: CliContext, fn: (db: import('kysely').Kysely<import('../../ledger/schema.js').LedgerDB>) => Promise<T>): Promise<T> {
  return withLedger(ctx, (ledger) => fn(ledger.db), {
    mustExist: 'Pass --db (or PACKOPS_DB), or import sales first: packops ledger import sales <file>.',
  });
}

export function register(program: Command, groups: CommandGroups): void {
  const payouts = program
    .command('payouts')
    .description("revenue-share statements per creator; close a month and carry balances forward");

  payouts
    .command('report')
    .description('every creator’s statement for a month, the totals and the tie-out (a preview until the month is closed)')
    .addOption(periodOption())
    .addOption(new Option('--format <format>', 'table, csv, json, md, or pages: html, pdf').choices(FORMATS).default('table'))
    .option('--out <dir>', 'write the report into this folder (csv: payouts-<period>-summary.csv plus creators/payouts-<period>-<creator>.csv; html/pdf: <dir>/<period>/<creator>.html and summary.html)')
    .addOption(new Option('--paper <size>', 'pdf: paper size').choices(['a4', 'letter']).default('a4'))
    .addHelpText(
      'after',
      `
Money is USD; JSON amounts are integer cents. A closed month is read from its stored
statements and never changes.

Pages (--format html|pdf, --out required): one statement per creator,
<out>/<period>/<creator-id>.html, and the finance summary <out>/<period>/summary.html;
pdf also prints each with headless Chromium (chromium, chromium-browser or google-chrome
on PATH, or PACKOPS_CHROMIUM) into .pdf files beside them. Pages are self-contained and
byte-identical for the same ledger and SOURCE_DATE_EPOCH (the issued date; else the close
time, else today). The platform name on the pages is statements.platform in the config.

Exit codes: 0 ok · 2 usage · 3 missing rate or ledger, CHROMIUM_MISSING (the HTML is
still written), OUTPUT_UNWRITABLE · 70 tie-out failure (a bug; nothing is reported).

Examples:
  $ packops payouts report --period 2026-10
  $ packops payouts report --period 2026-10 --format csv --out statements/2026-10
  $ packops payouts report --period 2026-10 --format pdf --out statements
  $ packops payouts report --period 2026-10 --json`,
    )
    .action(
      action<[], { period: string; format: Format; out?: string; paper: 'a4' | 'letter' }>(async (ctx, _args, opts) => {
        const minimum = await minimumMinor(ctx);
        if (opts.format === 'html' || opts.format === 'pdf') return emitPages(ctx, opts.period, minimum, { ...opts, format: opts.format });
        const { payoutReport } = await import('../../payouts/report.js');
        const report = await withLedgerDb(ctx, (db) => payoutReport(db, opts.period, { minimumMinor: minimum }));
        await emitReport(ctx, report, opts.format, opts.out);
      }),
    );

  payouts
    .command('close')
    .description('store the month’s statements and freeze it (months close in order)')
    .addOption(periodOption())
    .addHelpText(
      'after',
      `
Closing computes the month exactly as \`payouts report\` shows it, stores every statement
and the totals, and from then on the month reports the same numbers forever; imports into
it are refused. Earlier months with activity must be closed first, and a month can be
closed only once it has ended (UTC; "now" is SOURCE_DATE_EPOCH when set, else the clock,
and is also the stored close time).
Exit codes: 0 closed · 2 usage · 3 missing rate, ledger or creator · 4 PERIOD_CLOSED
(already closed), PERIOD_ORDER (an earlier month is open, or a later one is closed) or
PERIOD_OPEN (the month has not ended yet).

Example:
  $ packops payouts report --period 2026-10 --format md > review.md   # review first
  $ packops payouts close --period 2026-10`,
    )
    .action(
      action<[], { period: string }>(async (ctx, _args, opts) => {
        const minimum = await minimumMinor(ctx);
        const { closePeriod } = await import('../../payouts/report.js');
        const { alignTable, SUMMARY_HEADERS, summaryRows } = await import('../../payouts/render.js');
        const { formatMinor } = await import('../../shared/money.js');
        const { clockFromEnv } = await import('../../shared/source-date.js');
        const now = clockFromEnv(ctx.env);
        const report = await withLedgerDb(ctx, (db) => closePeriod(db, opts.period, { minimumMinor: minimum, now: () => now }));
        warnStranded(ctx, report);
        ctx.out.result(report, () =>
          [
            `Closed ${report.period}: ${report.statements.length} statement(s), payouts ${formatMinor(report.totals.payoutMinor, 'USD')} USD, carried out ${formatMinor(report.totals.carriedOutMinor, 'USD')} USD.`,
            '',
            alignTable(SUMMARY_HEADERS, summaryRows(report)),
          ].join('\n'),
        );
      }),
    );

  groups.creators
    .command('tiers')
    .description('the tier each creator reaches for a month: the four figures, the tier, and what the next tier misses')
    .addOption(periodOption())
    .addOption(new Option('--format <format>', 'table, csv, json or html (one self-contained page)').choices(['table', 'csv', 'json', 'html']).default('table'))
    .addHelpText(
      'after',
      `
Figures as of the month's end (UTC): packs published (owned or co-owned), average review
rating, monthly units (sale rows minus completed refunds; a bundle counts for each of its
packs) and months active. A creator who meets no tier shows tier "none" (null in JSON).

Examples:
  $ packops creators tiers --period 2026-10
  $ packops creators tiers --period 2026-10 --format html > tiers.html`,
    )
    .action(
      action<[], { period: string; format: 'table' | 'csv' | 'json' | 'html' }>(async (ctx, _args, opts) => {
        const { creatorTiers } = await import('../../payouts/report.js');
        const render = await import('../../payouts/render.js');
        const report = await withLedgerDb(ctx, (db) => creatorTiers(db, opts.period));
        if (ctx.global.json) return ctx.out.writeJson(report);
        if (opts.format === 'json') return ctx.out.raw(`${JSON.stringify(report, null, 2)}\n`);
        if (opts.format === 'csv') return ctx.out.raw(render.toCsv(render.TIER_HEADERS, render.tierRows(report, '')));
        if (opts.format === 'html') {
          const { renderTiersPage } = await import('../../payouts/pages/tiers.js');
          return ctx.out.raw(renderTiersPage(report, await platformName(ctx)));
        }
        ctx.out.result(report, () => render.renderTiersTable(report));
      }),
    );
}

/** The platform name printed on statements: config `statements.platform`. */
async function platformName(ctx: CliContext): Promise<string> {
  const section = ctx.config.statements as { platform?: unknown } | undefined;
  const value = section?.platform;
  if (value === undefined) return 'Content pack marketplace';
  if (typeof value !== 'string' || value.trim() === '' || value.length > 200) {
    const { inputError } = await import('../../shared/errors.js');
    throw inputError('CONFIG_INVALID', `statements.platform must be a name (1 to 200 characters), not ${JSON.stringify(value)}.`, {
      details: { file: ctx.configPath, key: 'statements.platform' },
    });
  }
  return value;
}

/** `--format html|pdf`: the statement pages and the finance summary. */
async function emitPages(
  ctx: CliContext,
  period: string,
  minimum: bigint,
  opts: { format: 'html' | 'pdf'; out?: string; paper: 'a4' | 'letter' },
): Promise<void> {
  if (opts.out === undefined) {
    const { usageError } = await import('../../shared/errors.js');
    throw usageError(`--format ${opts.format} writes one page per creator: pass --out <dir>.`);
  }
  const platform = await platformName(ctx);
  const { sourceDateEpochFrom } = await import('../../shared/source-date.js');
  const sourceDateEpoch = sourceDateEpochFrom(ctx.env);
  const { pagesDocument, writePages } = await import('../../payouts/pages/write.js');
  const doc = await withLedgerDb(ctx, (db) => pagesDocument(db, period, { minimumMinor: minimum, platform, sourceDateEpoch }));
  if (doc.provisional) ctx.out.warn(`${doc.period} is provisional: carried-in balances use open month(s) ${doc.provisionalMonths.join(', ')}.`);
  warnStranded(ctx, doc);
  const progress = opts.format === 'pdf' ? await ctx.out.progress(`Printing ${doc.statements.length + 1} page(s) to PDF`) : undefined;
  let written: Awaited<ReturnType<typeof writePages>>;
  try {
    written = await writePages(doc, {
      format: opts.format,
      out: ctx.path(opts.out),
      paper: opts.paper,
      cwd: ctx.cwd,
      env: ctx.env,
      onProgress: (done, total) => progress?.update(`${done}/${total} pages printed`),
    });
  } catch (err) {
    progress?.fail('PDF printing stopped');
    throw err;
  }
  progress?.succeed(`Printed ${written.files.length / 2} PDF page(s)`);
  ctx.out.info(`Wrote ${written.files.length} file(s) to ${written.dir}.`);
  ctx.out.result({ ...doc, files: written.files, pages: written.statements }, () => written.files.join('\n'));
}

async function emitReport(
  ctx: CliContext,
  report: import('../../payouts/report.js').PayoutReport,
  format: Format,
  out: string | undefined,
): Promise<void> {
  const render = await import('../../payouts/render.js');
  if (report.provisional) {
    ctx.out.warn(`${report.period} is provisional: carried-in balances use open month(s) ${report.provisionalMonths.join(', ')}.`);
  }
  warnStranded(ctx, report);
  for (const line of render.quarantineLines(report)) ctx.out.warn(`${line} (in no statement).`);
  if (out !== undefined) {
    const { writeFilesAtomic } = await import('../../shared/atomic.js');
    const dir = ctx.path(out);
    const files = new Map<string, string>();
    if (format === 'csv') {
      // A byte-order mark so spreadsheet programs read names as UTF-8.
      for (const [name, text] of render.renderReportCsvFiles(report)) files.set(name, `\uFEFF${text}`);
    } else if (format === 'json') files.set(`payouts-${report.period}.json`, `${JSON.stringify(report, null, 2)}\n`);
    else if (format === 'md') files.set(`payouts-${report.period}.md`, render.renderReportMarkdown(report));
    else files.set(`payouts-${report.period}.txt`, render.renderReportTable(report));
    const written = [...files].map(([name, data]) => ({ path: join(dir, name), data }));
    try {
      await writeFilesAtomic(written, { base: dir, cwd: ctx.cwd });
    } catch (err) {
      // A folder that cannot be written (a file in the way, no permission, disk full) is the
      // user's input, not a crash: exit 3, and writeFilesAtomic has left nothing behind.
      const code = (err as NodeJS.ErrnoException | undefined)?.code;
      if (typeof code !== 'string' || !/^E[A-Z]+$/.test(code)) throw err;
      const { inputError } = await import('../../shared/errors.js');
      throw inputError('OUTPUT_UNWRITABLE', `Cannot write the report into ${dir} (${code}).`, {
        hint: 'Pass --out a folder that can be created and written (not an existing file).',
        details: { out: dir, errno: code },
        cause: err,
      });
    }
    ctx.out.info(`Wrote ${written.length} file(s) to ${dir}.`);
    ctx.out.result({ ...report, files: written.map((f) => f.path) }, () => written.map((f) => f.path).join('\n'));
    return;
  }
  if (ctx.global.json) return ctx.out.writeJson(report);
  switch (format) {
    case 'json':
      return ctx.out.raw(`${JSON.stringify(report, null, 2)}\n`);
    case 'csv': {
      const rows = report.statements.flatMap((s) => render.statementRows(s).map((r) => [s.creator, ...r]));
      return ctx.out.raw(render.toCsv(['creator', ...render.LINE_HEADERS], rows));
    }
    case 'md':
      return ctx.out.raw(render.renderReportMarkdown(report));
    default:
      ctx.out.result(report, () => render.renderReportTable(report));
  }
}

/** Rows in open months before the latest closed one: no statement will ever carry them. */
function warnStranded(ctx: CliContext, report: import('../../payouts/report.js').PayoutReport): void {
  for (const s of report.strandedMonths ?? []) {
    ctx.out.warn(
      `${s.month} holds ${s.transactions} sale/refund row(s) but is still open while a later month is closed: months close in order, so no statement includes them. Record the correction as a sale or refund dated in an open month.`,
    );
  }
}
