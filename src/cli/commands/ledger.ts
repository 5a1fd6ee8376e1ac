/**
 * The ledger commands: `ledger migrate`, `ledger import sales|reviews|rates`,
 * `creators import` and `catalog add`. Each opens the ledger (migrating a new or old
 * file), runs the domain function and prints its summary. Domain modules load lazily.
 */
import { Argument, type Command } from 'commander';
import { action } from '../action.js';
import type { CliContext } from '../context.js';
import type { CommandGroups } from '../command-groups.js';
import { printBadRows, withLedger } from '../ledger.js';
import { usageError } from '../../shared/errors.js';

/** How long an import waits for another process's write transaction (a large file takes a while). */
const IMPORT_BUSY_TIMEOUT_MS = 120_000;

const IMPORT_KINDS = ['sales', 'reviews', 'rates', 'usage', 'purchases', 'googleplay', 'appstore'] as const;
type ImportKindArg = (typeof IMPORT_KINDS)[number];

function oneFile(kind: string, files: string[]): string {
  if (files.length !== 1) throw usageError(`ledger import ${kind} takes one file; ${files.length} were given.`);
  return files[0]!;
}

function amountsText(amounts: Record<string, number>): string {
  const parts = Object.entries(amounts).map(([c, a]) => `${a} ${c}`);
  return parts.length ? ` (${parts.join(', ')} minor units)` : '';
}

interface ReportJson {
  file: string;
  status: 'new' | 'again' | 'corrected';
  lines: number;
  transactions: number;
  imported: number;
  skipped: number;
  released: number;
  replaced: number;
  held: { count: number; newly: number; amounts: Record<string, number> };
  otherApps: { rows: number; amounts: Record<string, number> };
  totals: { report: Record<string, number>; ledger: Record<string, number> };
}

/** `ledger import googleplay|appstore <file…>`: all files in one transaction, a summary per report. */
async function importStoreReports(
  ctx: CliContext,
  store: 'googleplay' | 'appstore',
  fileArgs: string[],
  opts: { quarantine?: boolean; package?: string; replace?: boolean },
): Promise<void> {
  const files = fileArgs.map((f) => ctx.path(f));
  const section = ctx.config.googleplay;
  const configured = typeof section === 'object' && section !== null ? (section as { package?: unknown }).package : undefined;
  const pkg = opts.package ?? (typeof configured === 'string' ? configured : undefined);
  const { importFiles } = await import('../../ledger/import/index.js');
  const progress = await ctx.out.progress(`Importing ${store} reports…`);
  let result;
  try {
    result = await withLedger(
      ctx,
      (l) =>
        importFiles(l, store, files, {
          quarantine: opts.quarantine ?? false,
          ...(store === 'googleplay' && pkg !== undefined ? { package: pkg } : {}),
          replace: opts.replace ?? false,
          onProgress: ({ rows }) => progress.update(`Importing ${store}: ${rows.toLocaleString('en')} transactions`),
        }),
      { busyTimeoutMs: IMPORT_BUSY_TIMEOUT_MS },
    );
  } catch (err) {
    progress.fail(`Import refused; nothing was written.`);
    if (!ctx.global.json) printBadRows(ctx, fileArgs.length === 1 ? fileArgs[0]! : store, err);
    throw err;
  }
  progress.succeed(`Imported ${fileArgs.length} ${store} file(s).`);
  const extra = result.extra as { released: number; held: { count: number; amounts: Record<string, number> }; otherApps: { rows: number; amounts: Record<string, number> }; reports: ReportJson[] };
  const json = {
    ok: true as const,
    kind: store,
    files: result.files.map((f, i) => ({ ...f, file: fileArgs[i]! })),
    rows: result.rows,
    imported: result.imported,
    skipped: result.skipped,
    quarantined: result.quarantined,
    released: extra.released,
    held: extra.held,
    otherApps: extra.otherApps,
    reports: extra.reports,
  };
  ctx.out.result(json, () =>
    [
      ...extra.reports.map((f) =>
        [
          `${store}: ${f.file} (${f.status === 'new' ? 'new report' : f.status === 'again' ? 'imported before' : 'corrects an earlier file'})`,
          `  ${store === 'googleplay' ? 'orders    ' : 'units     '}   ${f.transactions} (${f.lines} line(s) read)`,
          `  imported     ${f.imported}`,
          `  skipped      ${f.skipped} (already in the ledger)`,
          ...(f.released ? [`  released     ${f.released} (consent now on record)`] : []),
          `  held         ${f.held.count}${amountsText(f.held.amounts)}: consent missing${f.held.newly ? ` (${f.held.newly} new)` : ''}`,
          ...(store === 'googleplay' ? [`  other apps   ${f.otherApps.rows} row(s) skipped${amountsText(f.otherApps.amounts)}`] : []),
          ...(f.replaced ? [`  replaced     ${f.replaced} ledger row(s) of the earlier file`] : []),
          `  report total${amountsText(f.totals.report)}; in the ledger${amountsText(f.totals.ledger)}`,
        ].join('\n'),
      ),
      `  batch        ${result.files.map((f) => f.batch).join(', ')}`,
    ].join('\n'),
  );
}

export function register(program: Command, groups: CommandGroups): void {
  const ledger = program
    .command('ledger')
    .description('create, upgrade or copy the ledger; import sales, refunds, reviews and FX rates');

  ledger
    .command('migrate')
    .description('create the ledger, or upgrade it to this packops (refuses a ledger made by a newer packops)')
    .addHelpText(
      'after',
      `
Every command that uses the ledger migrates it itself; run this to create one up front
or to upgrade it deliberately. --db takes a SQLite path or a postgres:// URL (libpq syntax;
PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE, PGSSLMODE fill the gaps). Codes:
LEDGER_TOO_NEW (exit 4), LEDGER_UNSUPPORTED (a URL packops cannot use, exit 3),
LEDGER_UNREADABLE (not a ledger, exit 3), LEDGER_UNREACHABLE (server down, exit 3).

Examples:
  $ packops ledger migrate --db finance/packops.db
  $ packops ledger migrate --db postgres://packops@db.internal/ledger --json`,
    )
    .action(
      action(async (ctx) => {
        const summary = await withLedger(ctx, async (l) => {
          const { appliedMigrations } = await import('../../ledger/db.js');
          return { ok: true, db: l.location, applied: l.migrated, migrations: await appliedMigrations(l.db) };
        });
        ctx.out.result(summary, () =>
          summary.applied.length
            ? `Ledger ${summary.db}: applied ${summary.applied.join(', ')}.`
            : `Ledger ${summary.db} is up to date (${summary.migrations.join(', ')}).`,
        );
      }),
    );

  ledger
    .command('import')
    .description('import a CSV or JSON Lines file of sales (and refunds), reviews, FX rates or subscription usage, in one transaction')
    .addArgument(new Argument('<kind>', 'what the file holds').choices(IMPORT_KINDS))
    .argument('<file...>', 'the file: CSV with a header, or JSON Lines (.jsonl/.ndjson, or sniffed); googleplay and appstore take several store reports')
    .option('--quarantine', 'write the good rows and keep the bad ones (with their reasons) in the quarantine table; for store reports, hold sales without a purchase record instead of refusing the file')
    .option('--package <name>', 'googleplay: the app\'s package name; rows of other apps are skipped and counted (config: googleplay.package)')
    .option('--replace', 'googleplay, appstore: the file is a corrected report: remove what it no longer lists (without it, a correction that would delete transactions an earlier file of the same report wrote is CORRECTION_CONFLICT)')
    .addHelpText(
      'after',
      `
Columns:
  sales    transaction_id,occurred_at,store,kind,product,country,currency,gross_minor,
           store_fee_minor,tax_minor[,consent_ref,family_ref,refund_of]
  reviews  review_id,pack,rating,reviewed_at
  rates    currency,month,usd_per_unit
  usage    family_ref,pack,month,active_days   (§14: days of the month a family opened a pack;
           one row per family, pack and month; a new value for an open month is "updated")

A sales row whose product is a subscription plan (packops subscriptions create) needs
family_ref, as every usage row does; both are stored only as an HMAC, never raw.
  purchases  store,transaction_id,kind,occurred_at,product,country,family_ref[,consent_ref,refund_of]
             (the app server's purchase log: who bought, with whose consent)
  googleplay <earnings.csv|.zip…>  the Google Play earnings report, as downloaded
  appstore   <report.txt|.txt.gz|.zip…>  App Store Connect financial reports, as downloaded

Store reports are matched to the purchase log: a sale no purchase record accounts for is
refused (CONSENT_MISSING, exit 3, every one listed), or held with --quarantine and released
when the purchase log and the same report are imported again. A wrong store's file or an
unknown layout is REPORT_FORMAT_UNKNOWN; an App Store trailer that disagrees with the lines
is REPORT_TOTALS_MISMATCH; a file cut short is REPORT_TRUNCATED (all exit 3, nothing written).
A store report is known by its content (a renamed, zipped or re-gzipped copy changes
nothing); another file of the same report corrects it, and may remove transactions only
with --replace; a correction that strands a refund of its sales is CORRECTION_CONFLICT (exit 4).

One transaction per file: any bad row and nothing is written (exit 3, ROWS_INVALID, every
bad row listed with its row, column and code), unless --quarantine. Rows already in the
ledger are skipped, so re-importing a file is a no-op. A row in a closed month is refused
(PERIOD_CLOSED, exit 4). Row numbers are lines: the CSV header is row 1.

Examples:
  $ packops ledger import sales fixtures/ledger/sales-2026-10.csv
  $ packops ledger import sales appstore-2026-10.jsonl --quarantine --json
  $ packops ledger import rates fixtures/ledger/rates.csv
  $ packops ledger import usage usage-2026-10.csv
  $ packops ledger import purchases purchases-2026-10.csv
  $ packops ledger import googleplay earnings_202610.zip --package com.wondernest.app --json
  $ packops ledger import appstore 80012345_1026_US.txt 80012345_1026_EU.txt.gz --quarantine`,
    )
    .action(
      action<[ImportKindArg, string[]], { quarantine?: boolean; package?: string; replace?: boolean }>(async (ctx, [kind, fileArgs], opts) => {
        if (kind === 'googleplay' || kind === 'appstore') {
          await importStoreReports(ctx, kind, fileArgs, opts);
          return;
        }
        if (opts.replace) throw usageError('--replace is for store reports (ledger import googleplay|appstore): a corrected report replaces its predecessor.');
        const fileArg = oneFile(kind, fileArgs);
        const file = ctx.path(fileArg);
        const { importFile } = await import('../../ledger/import/index.js');
        const progress = await ctx.out.progress(`Importing ${kind} from ${fileArg}…`);
        let summary;
        try {
          summary = await withLedger(ctx, (l) =>
            importFile(l, kind, file, {
              quarantine: opts.quarantine ?? false,
              onProgress: ({ rows, bytes, totalBytes }) =>
                progress.update(`Importing ${kind}: ${rows.toLocaleString('en')} rows (${totalBytes ? Math.floor((bytes / totalBytes) * 100) : 100}%)`),
            }),
            // Another import holds the write lock for as long as its file takes: wait for it.
            { busyTimeoutMs: IMPORT_BUSY_TIMEOUT_MS },
          );
        } catch (err) {
          progress.fail(`Import of ${fileArg} refused; nothing was written.`);
          if (!ctx.global.json) printBadRows(ctx, fileArg, err);
          throw err;
        }
        progress.succeed(`Imported ${fileArg}.`);
        const json = {
          ok: true as const,
          imported: summary.imported,
          skipped: summary.skipped,
          quarantined: summary.quarantined,
          batch: summary.batch,
          kind,
          file: fileArg,
          rows: summary.rows,
          updated: summary.updated,
          sha256: summary.sha256,
        };
        ctx.out.result(json, () =>
          [
            `${kind}: ${summary.rows} row(s) in ${fileArg}`,
            `  imported     ${summary.imported}${summary.updated ? ` (+${summary.updated} updated)` : ''}`,
            `  skipped      ${summary.skipped} (already in the ledger)`,
            `  quarantined  ${summary.quarantined}`,
            `  batch        ${summary.batch}`,
          ].join('\n'),
        );
      }),
    );

  ledger
    .command('copy')
    .description('copy a whole ledger into an empty one (SQLite ⇄ PostgreSQL), in one transaction, proven by row counts and digests')
    .argument('<from>', 'the ledger to copy: a SQLite file or a postgres:// URL')
    .argument('<to>', 'an empty ledger: a new SQLite file or an empty PostgreSQL database')
    .addHelpText(
      'after',
      `
Every table is copied, closed statements and the family HMAC secret included, in one
transaction on the target. Before it commits, every table is read back in a fixed order and
its row count and SHA-256 digest compared with the source's; any difference and nothing is
kept (LEDGER_COPY_MISMATCH, exit 4). A target that already holds rows is refused
(LEDGER_NOT_EMPTY, exit 4). The source must be at this packops's migrations
(LEDGER_OUTDATED: run \`packops ledger migrate --db <from>\` first).

Examples:
  $ packops ledger copy ./packops.db postgres://packops@db.internal/ledger
  $ packops ledger copy postgres://packops@db.internal/ledger backup.db --json`,
    )
    .action(
      action<[string, string], Record<string, never>>(async (ctx, [fromArg, toArg]) => {
        const { openLedger } = await import('../../ledger/db.js');
        const { parseLedgerLocation } = await import('../../ledger/location.js');
        const { copyLedger } = await import('../../ledger/copy.js');
        const { existsSync, rmSync } = await import('node:fs');
        const target = parseLedgerLocation(toArg, ctx.cwd);
        // A SQLite target this command creates is removed again if the copy is refused.
        const newFile = target.kind === 'sqlite' && target.file !== ':memory:' && !existsSync(target.file) ? target.file : undefined;
        const source = await openLedger(fromArg, { migrate: false, mustExist: 'Check <from>: it must name an existing ledger.', cwd: ctx.cwd });
        let result;
        try {
          const dest = await openLedger(toArg, { cwd: ctx.cwd });
          try {
            result = await copyLedger(source, dest).catch((err: unknown) => {
              throw source.pg?.lostWith() ? source.mapError(err) : dest.mapError(source.mapError(err));
            });
          } finally {
            await dest.close();
          }
        } catch (err) {
          if (newFile) for (const f of [newFile, `${newFile}-wal`, `${newFile}-shm`]) rmSync(f, { force: true });
          throw err;
        } finally {
          await source.close();
        }
        ctx.out.result(result, () =>
          [
            `Copied ${result.from} → ${result.to}: ${result.rows} row(s), every table's count and digest verified.`,
            ...result.tables.map((t) => `  ${t.table.padEnd(22)} ${String(t.rows).padStart(9)}  ${t.sha256}`),
          ].join('\n'),
        );
      }),
    );

  groups.creators
    .command('import')
    .description('import creators and collaborations (member shares summing to 100); re-import updates')
    .argument('<creators.json>', 'creators file (schemas/creators.schema.json)')
    .addHelpText(
      'after',
      `
File shape:
  {"creators": [{"id": "ana-lima", "name": "Ana Lima", "payoutRef": "acct-001"}],
   "collaborations": [{"id": "ocean-team", "name": "Ocean Team", "lead": "ana-lima",
     "members": [{"creator": "ana-lima", "sharePercent": "50.00"},
                 {"creator": "bo-chen", "sharePercent": "50.00"}]}]}

Shares have at most two decimals and sum to exactly 100; the lead is a member; members
are creators. Any problem and nothing is imported (CREATORS_INVALID, exit 3).

Examples:
  $ packops creators import fixtures/ledger/creators.json
  $ packops creators import creators.json --json`,
    )
    .action(
      action<[string], Record<string, never>>(async (ctx, [fileArg]) => {
        const { importCreators } = await import('../../ledger/creators.js');
        const result = await withLedger(ctx, (l) => importCreators(l, ctx.path(fileArg)));
        ctx.out.result({ ...result, file: fileArg }, () => {
          const c = result.creators;
          const k = result.collaborations;
          return [
            `creators        ${c.added} added, ${c.updated} updated, ${c.unchanged} unchanged`,
            `collaborations  ${k.added} added, ${k.updated} updated, ${k.unchanged} unchanged`,
          ].join('\n');
        });
      }),
    );

  groups.catalog
    .command('add')
    .description('verify signed archives and register their packs in the ledger (same archive again: no-op)')
    .argument('<zip...>', 'archives built by packops build')
    .option('--pubkey <pk>', 'trusted minisign public key (file, or the base64 key)')
    .option('--trusted-keys <dir>', 'folder of trusted *.pub keys')
    .option('--published-at <iso>', 'publication instant (ISO 8601 with a zone; default now)')
    .addHelpText(
      'after',
      `
Every archive is verified first (as packops verify does); if any fails, its findings are
printed, nothing is registered, and the exit code is 1. The pack's owner is the creator or
collaboration its "creator" field names (OWNER_UNKNOWN, exit 3, when neither exists).
Another archive under a registered slug and version is PACK_VERSION_CONFLICT (exit 4).

Examples:
  $ packops catalog add dist/ocean-creatures-1.0.0.zip --pubkey packops.pub
  $ packops catalog add dist/*.zip --trusted-keys keys/ --published-at 2026-10-01T09:00:00Z --json`,
    )
    .action(
      action<[string[]], { pubkey?: string; trustedKeys?: string; publishedAt?: string }>(async (ctx, [zips], opts) => {
        const { loadTrustedKeys } = await import('../../signing/keys.js');
        const { verifyArchive } = await import('../../archive/verify.js');
        const { inputError } = await import('../../shared/errors.js');
        const { existsSync } = await import('node:fs');
        const keys = await loadTrustedKeys({ pubkey: opts.pubkey, trustedKeysDir: opts.trustedKeys, cwd: ctx.cwd });
        const publishedAt = opts.publishedAt ?? new Date().toISOString();
        const verified: Array<{ zip: string; path: string; v: import('../../archive/verify.js').ArchiveVerification }> = [];
        for (const zip of zips) {
          const path = ctx.path(zip);
          if (!existsSync(path)) throw inputError('PATH_NOT_FOUND', `${zip} does not exist.`, { details: { path } });
          verified.push({ zip, path, v: await verifyArchive(path, { keys, cwd: ctx.cwd }) });
        }
        const failed = verified.filter((x) => !x.v.ok || !x.v.manifest);
        if (failed.length > 0) {
          const { emitCheckReport } = await import('../reporters/index.js');
          const { makeReport } = await import('../../shared/findings.js');
          const report = makeReport(
            verified.map((x) => ({ target: x.v.target, ok: x.v.ok && !!x.v.manifest, findings: x.v.findings })),
          );
          await emitCheckReport(ctx, report, 'pretty', { tool: 'catalog add' });
          ctx.out.info(`Nothing was registered: ${failed.length} archive(s) failed verification.`);
          ctx.setExitCode(1);
          return;
        }
        const { publicKeyString } = await import('../../signing/minisign.js');
        // The trusted key that verified each detached signature: publish checks against it.
        const signingKeyOf = (keyId: string | undefined) => {
          const key = keys.find((k) => k.keyId === keyId);
          return key ? publicKeyString(key) : undefined;
        };
        const { registerPacks } = await import('../../ledger/catalog.js');
        const results = await withLedger(ctx, (l) =>
          registerPacks(
            l,
            verified.map((x) => ({ manifest: x.v.manifest!, sha256: x.v.sha256, bytes: x.v.bytes, archivePath: x.path, publishedAt, signingKey: signingKeyOf(x.v.keyId) })),
          ),
        );
        const out = {
          ok: true,
          results: results.map((r, i) => ({
            target: verified[i]!.v.target,
            ok: true,
            findings: [],
            status: r.status,
            slug: r.slug,
            version: r.version,
            owner: r.owner,
            publishedAt: r.publishedAt,
            sha256: verified[i]!.v.sha256,
            keyId: verified[i]!.v.keyId,
          })),
        };
        ctx.out.result(out, () =>
          out.results
            .map((r) => `${r.status === 'added' ? 'added    ' : 'unchanged'} ${r.slug} ${r.version} (${r.owner.kind} ${r.owner.id})`)
            .join('\n'),
        );
      }),
    );
}
