/**
 * `catalog publish|diff|report` (the `catalog` group is shared: `catalog add` is the
 * ledger's) and the top-level `release`. Domain modules are imported inside the actions.
 */
import { Option, type Command } from 'commander';
import { action } from '../action.js';
import { withLedger } from '../ledger.js';
import type { CliContext } from '../context.js';
import type { CommandGroups } from '../command-groups.js';

type TextOrJson = 'table' | 'md' | 'json';

function formatOption(extra: readonly string[] = []): Option {
  return new Option('--format <format>', 'output format').choices(['table', 'md', 'json', ...extra]).default('table');
}

const NO_LEDGER_HINT = 'Pass --db (or set PACKOPS_DB) to the ledger that holds the released packs, or run `packops release` first.';

function emitText(ctx: CliContext, format: TextOrJson, data: unknown, render: (f: 'table' | 'md') => string): void {
  if (ctx.global.json) ctx.out.writeJson(data);
  else if (format === 'json') ctx.out.raw(`${JSON.stringify(data, null, 2)}\n`);
  else ctx.out.result(data, () => render(format));
}

/** Paths shown to people: relative to the working directory when inside it. */
async function pathShower(ctx: CliContext): Promise<(p: string) => string> {
  const { displayPath } = await import('../../shared/paths.js');
  return (p) => displayPath(p, ctx.cwd);
}

interface PublishOpts {
  out: string;
  baseUrl?: string;
  market?: string;
  title?: string;
}

interface DiffOpts {
  format: TextOrJson;
}

interface ReleaseOpts {
  key?: string;
  pubkey?: string;
  publish?: string;
  out: string;
  baseUrl?: string;
  market?: string;
  publishedAt?: string;
  format: 'pretty' | 'github' | 'junit' | 'sarif';
  cache: boolean;
}

export function register(program: Command, groups: CommandGroups): void {
  groups.catalog
    .command('publish')
    .description('write catalog.json, index.html and the archives, signatures and thumbnails they point to')
    .requiredOption('-o, --out <dir>', 'the site folder (replaced as a whole; must be new, empty or an earlier site)')
    .option('--base-url <url>', 'absolute http(s) URL the site will be served from (URLs are relative without it)')
    .option('--market <country>', 'publish for one market (ISO 3166-1 alpha-2, e.g. GB): only its local prices')
    .option('--title <text>', 'title of index.html')
    .addHelpText(
      'after',
      `
The feed holds each slug's latest registered version, and leaves out packs (and bundles)
outside their availability window on the publish day: the UTC day of SOURCE_DATE_EPOCH,
else today. The same ledger and SOURCE_DATE_EPOCH give a byte-identical catalog.json.

Examples:
  $ packops catalog publish --out site
  $ SOURCE_DATE_EPOCH=1795651200 packops catalog publish --out site --base-url https://cdn.example.com/catalog/ --json
  $ packops catalog publish --out site-gb --market GB`,
    )
    .action(
      action<[], PublishOpts>(async (ctx, _args, opts) => {
        const { publishCatalog } = await import('../../catalog/publish.js');
        const { clockFromEnv, normaliseBaseUrl } = await import('../../catalog/feed.js');
        const show = await pathShower(ctx);
        const now = clockFromEnv(ctx.env);
        // A bad --base-url is refused before the ledger is opened or anything is written.
        if (opts.baseUrl !== undefined) normaliseBaseUrl(opts.baseUrl);
        const result = await withLedger(
          ctx,
          (ledger) => publishCatalog(ledger, { out: ctx.path(opts.out), baseUrl: opts.baseUrl, market: opts.market, now, title: opts.title }),
          { mustExist: NO_LEDGER_HINT },
        );
        for (const e of result.excluded) {
          const window = e.availability ? ` (available ${e.availability.from ?? '…'} to ${e.availability.until ?? '…'})` : '';
          const why =
            e.reason === 'pack-not-in-feed'
              ? `its packs ${e.missingPacks?.join(', ')} are not in the feed`
              : e.reason === 'not-yet-published'
                ? `no version of it is published by ${result.feed.publishDate}`
                : e.reason === 'pre-release'
                  ? 'its only versions published so far are pre-releases'
              : e.reason === 'expired'
                ? `its availability ended before ${result.feed.publishDate}${window}`
                : `it is not available yet on ${result.feed.publishDate}${window}`;
          ctx.out.warn(`left out ${e.kind} ${e.slug}${e.version ? ` ${e.version}` : ''}: ${why}`);
        }
        const summary = {
          ok: true,
          out: result.outDir,
          catalog: result.catalogPath,
          index: result.indexPath,
          sha256: result.sha256,
          generatedAt: result.feed.generatedAt,
          publishDate: result.feed.publishDate,
          market: result.feed.market,
          baseUrl: result.feed.baseUrl,
          packs: result.feed.packs.map((p) => ({ slug: p.slug, version: p.version })),
          bundles: result.feed.bundles.map((b) => b.slug),
          excluded: result.excluded,
          files: result.files,
        };
        ctx.out.result(summary, () =>
          [
            `Published ${summary.packs.length} packs and ${summary.bundles.length} bundles for ${summary.publishDate}` +
              (result.excluded.length > 0 ? ` (${result.excluded.length} left out)` : '') +
              '.',
            `  feed: ${show(result.catalogPath)}`,
            `  page: ${show(result.indexPath)}`,
          ].join('\n'),
        );
      }),
    );

  groups.catalog
    .command('diff')
    .description('what changed between two catalog.json files: packs and bundles added, removed, re-versioned, re-priced')
    .argument('<old>', 'the earlier catalog.json')
    .argument('<new>', 'the later catalog.json')
    .addOption(formatOption())
    .addHelpText(
      'after',
      `
Exit code 0 whatever changed; 3 when a file is missing, not JSON or not a catalog.

Examples:
  $ packops catalog diff old/catalog.json site/catalog.json
  $ packops catalog diff old/catalog.json site/catalog.json --format md >> release-notes.md`,
    )
    .action(
      action<[string, string], DiffOpts>(async (ctx, [oldFile, newFile], opts) => {
        const { diffCatalogs, readCatalogForDiff } = await import('../../catalog/diff.js');
        const { renderDiff } = await import('../../catalog/render.js');
        const [a, b] = await Promise.all([readCatalogForDiff(ctx.path(oldFile)), readCatalogForDiff(ctx.path(newFile))]);
        const diff = diffCatalogs(a, b, { old: oldFile, new: newFile });
        emitText(ctx, opts.format, { ok: true, ...diff }, (f) => renderDiff(diff, f));
      }),
    );

  groups.catalog
    .command('report')
    .description("the library by category against the roadmap's launch plan, price spread, ratings, packs under 4.0 stars")
    .addOption(formatOption(['html']))
    .addHelpText(
      'after',
      `
Counts each slug's live version on the day, the one \`catalog publish\` puts in the feed:
the latest published by the end of that day (UTC; SOURCE_DATE_EPOCH, else today), never a
pre-release or a release scheduled for later. Slugs with no live version are listed under
notLive (and warned about), not counted. Ratings come from imported reviews.

Examples:
  $ packops catalog report
  $ packops catalog report --format md > library.md
  $ packops catalog report --format html > library.html   # one self-contained page
  $ packops catalog report --json`,
    )
    .action(
      action<[], { format: TextOrJson | 'html' }>(async (ctx, _args, opts) => {
        const { buildCatalogReport } = await import('../../catalog/report.js');
        const { loadReviews, loadStoredPacks } = await import('../../catalog/source.js');
        const { renderReport } = await import('../../catalog/render.js');
        const { clockFromEnv, utcDay } = await import('../../catalog/feed.js');
        const day = utcDay(clockFromEnv(ctx.env));
        const report = await withLedger(
          ctx,
          async (ledger) => buildCatalogReport({ packs: await loadStoredPacks(ledger), reviews: await loadReviews(ledger), day }),
          { mustExist: NO_LEDGER_HINT },
        );
        if (report.orphanReviews > 0) ctx.out.warn(`${report.orphanReviews} reviews name packs that are not registered; they are not counted`);
        for (const p of report.notLive) {
          ctx.out.warn(`${p.slug} ${p.version} is not counted: ${p.reason === 'pre-release' ? 'only pre-releases of it are published' : 'no version of it is published'} by ${report.day}`);
        }
        if (opts.format === 'html' && !ctx.global.json) {
          const { renderCatalogReportPage } = await import('../../catalog/report-html.js');
          return ctx.out.raw(renderCatalogReportPage(report));
        }
        emitText(ctx, opts.format === 'html' ? 'json' : opts.format, { ok: true, ...report }, (f) => renderReport(report, f));
      }),
    );

  program
    .command('release')
    .description('validate → assets → build → verify → catalog add (→ catalog publish) for each pack, non-interactively')
    .argument('<pack...>', 'pack folders (or pack.json files)')
    .option('--key <file>', 'minisign secret key (else PACKOPS_SECRET_KEY holds the key file contents)')
    .option('--pubkey <file>', 'public key to verify with (must match the signing key; default: derived from it)')
    .option('--out <dir>', 'folder for the archives and their .minisig (default: build.out in the config, else dist/)', 'dist')
    .option('--publish <dir>', 'then publish the catalog (catalog.json, index.html, files) into this folder')
    .option('--base-url <url>', 'with --publish: absolute URL the site will be served from')
    .option('--market <country>', 'with --publish: publish for one market (ISO 3166-1 alpha-2)')
    .option('--published-at <iso>', 'registration time of new packs (default: SOURCE_DATE_EPOCH, else now)')
    .addOption(new Option('--format <format>', 'how findings of a failing pack are printed').choices(['pretty', 'github', 'junit', 'sarif']).default('pretty'))
    .option('--no-cache', 'redo the image work even when the assets cache has it')
    .option('--cache-dir <dir>', 'assets cache folder (default: PACKOPS_CACHE_DIR, config assets.cacheDir, else ~/.cache/packops)')
    .addHelpText(
      'after',
      `
Stops at the first pack that fails a step and prints its findings (exit 1); a conflict in
the ledger (another archive under the same slug and version) is exit 4. Idempotent: run
again with nothing changed, it encodes no image, keeps the archive it already wrote and
registers nothing twice. Owners (creators, collaborations) must be imported first.
The secret key is never printed; an encrypted key reads PACKOPS_KEY_PASSWORD.

Examples:
  $ packops release fixtures/packs/ocean-creatures --key packops.key
  $ PACKOPS_SECRET_KEY="$(cat packops.key)" packops release packs/* --publish site --format github
  $ packops release packs/* --key packops.key --publish site --json`,
    )
    .action(
      action<[string[]], ReleaseOpts>(async (ctx, [targets], opts, command) => {
        const { loadSecretKey, loadTrustedKeys } = await import('../../signing/keys.js');
        const { release } = await import('../../release/release.js');
        const { clockFromEnv, isoSeconds, normaliseBaseUrl } = await import('../../catalog/feed.js');
        const show = await pathShower(ctx);
        const now = clockFromEnv(ctx.env);
        if (opts.publish === undefined && (opts.baseUrl !== undefined || opts.market !== undefined)) {
          const { usageError } = await import('../../shared/errors.js');
          throw usageError('--base-url and --market apply to --publish; add --publish <dir>.');
        }
        // Refused before anything is built, signed or registered.
        if (opts.baseUrl !== undefined) normaliseBaseUrl(opts.baseUrl);
        const { resolveCacheDir } = await import('../cache-dir.js');
        const cacheDir = await resolveCacheDir(ctx, command);
        const secretKey = await loadSecretKey({ ...(opts.key !== undefined ? { keyPath: opts.key } : {}), env: ctx.env, cwd: ctx.cwd });
        const publicKey =
          opts.pubkey !== undefined ? (await loadTrustedKeys({ pubkey: opts.pubkey, cwd: ctx.cwd }))[0]! : secretKey.toPublicKey('the signing key');
        // Archives go where `build` puts them: --out, else the config's build.out, else dist/.
        const configOut = ctx.config.build?.out;
        const outDir = command.getOptionValueSource('out') === 'default' && typeof configOut === 'string' ? configOut : opts.out;
        const marks = { start: '…', done: '✓' } as const;
        const result = await withLedger(ctx, (ledger) =>
          release(
            targets.map((t) => ctx.path(t)),
            {
              secretKey,
              publicKey,
              ledger,
              outDir: ctx.path(outDir),
              publishedAt: opts.publishedAt ?? isoSeconds(now),
              cwd: ctx.cwd,
              env: ctx.env,
              cache: opts.cache,
              cacheDir,
              ...(opts.publish !== undefined
                ? { publish: { out: ctx.path(opts.publish), baseUrl: opts.baseUrl, market: opts.market, now } }
                : {}),
              onEvent: (e) => {
                if (e.status === 'done' || ctx.global.verbose) {
                  const who = e.target ? `${show(e.target)}: ` : '';
                  ctx.out.info(`${marks[e.status]} ${who}${e.step}${e.detail ? ` (${e.detail})` : ''}`);
                }
              },
            },
          ),
        );
        const failed = result.packs.find((p) => !p.ok);
        if (result.publish) {
          for (const e of result.publish.excluded) ctx.out.warn(`left out of the catalog: ${e.kind} ${e.slug}${e.version ? ` ${e.version}` : ''} (${e.reason})`);
        }
        const summary = {
          ok: result.ok,
          packs: result.packs.map((p) => ({ ...p, target: show(p.target) })),
          notAttempted: result.notAttempted.map((t) => show(t)),
          ...(result.publish
            ? {
                publish: {
                  out: result.publish.outDir,
                  catalog: result.publish.catalogPath,
                  index: result.publish.indexPath,
                  sha256: result.publish.sha256,
                  packs: result.publish.feed.packs.map((p) => ({ slug: p.slug, version: p.version })),
                  bundles: result.publish.feed.bundles.map((b) => b.slug),
                  excluded: result.publish.excluded,
                },
              }
            : {}),
        };
        if (failed) {
          ctx.setExitCode(1);
          ctx.out.error(`${ctx.out.color.red('release stopped')}: ${show(failed.target)} failed at ${failed.failedStep}` +
            (result.notAttempted.length > 0 ? `; not attempted: ${summary.notAttempted.join(', ')}` : ''));
          if (ctx.global.json) {
            ctx.out.writeJson(summary);
          } else {
            const { emitCheckReport } = await import('../reporters/index.js');
            const { makeReport } = await import('../../shared/findings.js');
            await emitCheckReport(ctx, makeReport([{ target: show(failed.target), ok: false, findings: failed.findings }]), opts.format, {
              tool: 'release',
            });
          }
          return;
        }
        ctx.out.result(summary, () =>
          [
            ...result.packs.map(
              (p) =>
                `${p.slug} ${p.version}: archive ${p.archive?.status} (${show(p.archive!.path)}), ${p.registration?.status === 'added' ? 'registered' : 'already registered'}; ` +
                `${p.assets?.encoded ?? 0} variants encoded, ${p.assets?.cached ?? 0} from the cache`,
            ),
            ...(result.publish ? [`catalog: ${show(result.publish.catalogPath)} · page: ${show(result.publish.indexPath)}`] : []),
          ].join('\n'),
        );
      }),
    );
}
