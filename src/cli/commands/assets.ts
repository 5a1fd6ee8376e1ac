/**
 * `packops assets <pack>` (optimised variants, lock file, cache) and `packops preview <pack>`
 * (contact sheet). sharp and the pipeline are imported inside the actions.
 */
import { displayPath } from '../../shared/paths.js';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { usageError } from '../../shared/errors.js';
import { action, intOption } from '../action.js';
import type { CommandGroups } from '../command-groups.js';

interface AssetsOptions {
  out?: string;
  cacheDir?: string;
  cache: boolean;
  concurrency?: number;
}

interface PreviewOptions {
  output?: string;
  from: 'sources' | 'variants';
  variants?: string;
}

function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / (1024 * 1024)).toFixed(1)} MiB`;
}

export function register(program: Command, _groups: CommandGroups): void {
  const assets = program
    .command('assets')
    .description('optimise every asset of a pack into the variants its type needs (sharp), with a lock file and a cache')
    .argument('<pack>', 'pack folder or its pack.json')
    .option('-o, --out <dir>', 'output folder (default: <pack>/.packops/out)')
    .option('--cache-dir <dir>', 'cache folder (default: PACKOPS_CACHE_DIR, config assets.cacheDir, else $XDG_CACHE_HOME/packops or ~/.cache/packops)')
    .option('--no-cache', 'do the image work even when the cache has the result')
    .option('--concurrency <n>', 'images processed at once (default: CPU count; config assets.concurrency)', intOption('--concurrency', 1, 256))
    .addHelpText(
      'after',
      `
Writes <out>/assets/<id>/<variant>.<ext> for every variant schemas/asset-rules.json names
for the asset's type, and <out>/assets.lock.json (path, format, size, bytes, SHA-256 and a
ThumbHash placeholder per variant). Outputs are sRGB, auto-oriented, and carry no metadata.

A second run with nothing changed restores every variant from the cache and decodes
nothing; a bad file is reported by its code and never stops the others. The cache is
packops's own, outside the pack (a .packops/ folder that comes with a pack is never read
as a cache): --cache-dir, else PACKOPS_CACHE_DIR, else the config's assets.cacheDir, else
$XDG_CACHE_HOME/packops or ~/.cache/packops. \`packops assets cache prune\` trims it.
Variants of assets no longer in the pack are removed only when packops's cache records
writing them there: a lock that came with the pack removes nothing else.

Sources are held to their type's rules before any decoding, as validate holds them: format,
and a long edge between the type's minimum and maximum (schemas/asset-rules.json). An
animated image gets an ASSET_ANIMATED warning; its variants are made from the first frame.

Exit codes: 0 ok · 1 findings (VARIANT_OVER_BUDGET, ASSET_CORRUPT, ASSET_TOO_LARGE, ASSET_TOO_SMALL,
ASSET_FORMAT, ASSET_MISSING, PATH_UNSAFE, or a manifest that cannot be read) · 2 usage · 3 pack path not
found (PATH_NOT_FOUND) or output not writable (OUTPUT_UNWRITABLE)

Examples:
  $ packops assets fixtures/packs/ocean-creatures
  $ packops assets fixtures/packs/forest-scenes --out build/forest --concurrency 2 --json`,
    )
    .action(
      action<[string], AssetsOptions>(async (ctx, [pack], opts, command) => {
        const { optimisePack } = await import('../../assets/pipeline.js');
        const { makeReport } = await import('../../shared/findings.js');
        const { emitCheckReport } = await import('../reporters/index.js');
        const fromFlag = command.getOptionValueSource('concurrency') === 'cli';
        const configured = ctx.config.assets?.concurrency;
        const concurrency = fromFlag ? opts.concurrency : typeof configured === 'number' && configured >= 1 ? Math.floor(configured) : undefined;

        const progress = await ctx.out.progress(`Optimising ${pack}…`);
        let outcome;
        try {
          outcome = await optimisePack(ctx.path(pack), {
            out: opts.out === undefined ? undefined : ctx.path(opts.out),
            cacheDir: await (await import('../cache-dir.js')).resolveCacheDir(ctx, command),
            cache: opts.cache,
            concurrency,
            cwd: ctx.cwd,
            onProgress: (done, total, label) => progress.update(`${done}/${total} assets · ${label}`),
          });
        } catch (err) {
          progress.stop();
          throw err;
        }
        const { stats, result } = outcome;
        const summary =
          `${stats.assets} assets, ${stats.variants} variants, ${formatBytes(stats.bytesIn)} → ${formatBytes(stats.bytesOut)} ` +
          `in ${(stats.ms / 1000).toFixed(1)} s (${stats.cached} variants from cache, ${stats.encoded} encoded)`;
        if (result.ok) progress.succeed(summary);
        else progress.fail(`${summary}; ${result.findings.filter((f) => f.severity === 'error').length} problems`);
        if (result.ok) ctx.out.info(`Lock file: ${displayPath(outcome.lockPath, ctx.cwd)}`);

        await emitCheckReport(ctx, makeReport([result]), 'pretty', { tool: 'assets' });
        if (!result.ok) ctx.setExitCode(1);
      }),
    );

  registerCachePrune(assets);

  program
    .command('preview')
    .description('compose a contact-sheet PNG of every asset of a pack, with its id, on a checkerboard')
    .argument('<pack>', 'pack folder or its pack.json')
    .option('-o, --output <file>', 'the PNG to write (default: <pack>/.packops/preview.png)')
    .addOption(new Option('--from <what>', 'draw the source art or the built variants').choices(['sources', 'variants']).default('sources'))
    .option('--variants <dir>', 'with --from variants: the folder `packops assets` wrote (default: <pack>/.packops/out)')
    .addHelpText(
      'after',
      `
Each asset's thumbnail sits on a checkerboard, so transparency shows, with its id under it;
the pack name is on top and the number of columns fits the number of assets. A source that
cannot be drawn gets a tile naming its problem code, and the command exits 1. With
--from variants, the lock's paths are pack content: one that is not assets/<id>/<name>.<ext>
or leads through a link is VARIANT_PATH_UNSAFE, and the file is not read.

Exit codes: 0 ok · 1 findings (VARIANT_PATH_UNSAFE, VARIANT_MISSING, ASSET_*, PATH_UNSAFE) · 2 usage ·
3 pack path not found, no assets.lock.json with --from variants (LOCK_MISSING), or a lock
behind a link (PATH_UNSAFE)

Examples:
  $ packops preview fixtures/packs/ocean-creatures -o ocean.png
  $ packops assets fixtures/packs/ocean-creatures && packops preview fixtures/packs/ocean-creatures --from variants`,
    )
    .action(
      action<[string], PreviewOptions>(async (ctx, [pack], opts) => {
        const { renderPreview } = await import('../../assets/preview.js');
        const { renderPretty } = await import('../reporters/pretty.js');
        const preview = await renderPreview(ctx.path(pack), {
          out: opts.output === undefined ? undefined : ctx.path(opts.output),
          from: opts.from,
          variantsDir: opts.variants === undefined ? undefined : ctx.path(opts.variants),
          cwd: ctx.cwd,
        });
        ctx.out.result(preview, () => {
          const head = preview.path
            ? `${displayPath(preview.path, ctx.cwd)} (${preview.width}×${preview.height}, ${preview.tiles.length} assets in ${preview.columns} columns)`
            : '';
          const findings = preview.findings.length
            ? renderPretty({ ok: preview.ok, results: [{ target: preview.target, ok: preview.ok, findings: preview.findings }] }, ctx.out.stdoutColor, { tool: 'preview' })
            : '';
          return [head, findings].filter(Boolean).join('\n');
        });
        if (!preview.ok) ctx.setExitCode(1);
      }),
    );
}

function parseNonNegative(flag: string): (value: string) => number {
  return (value: string) => {
    const n = Number(value);
    if (!/^\d+(\.\d+)?$/.test(value.trim()) || !Number.isFinite(n)) throw new InvalidArgumentError(`${flag} takes a number ≥ 0, not "${value}"`);
    return n;
  };
}

/** `packops assets cache prune`: the cache only grows otherwise. */
function registerCachePrune(assets: Command): void {
  assets
    .command('cache')
    .description("manage packops's own variant cache (outside every pack)")
    .command('prune')
    .description('remove cache entries not used for a while, or the least recently used beyond a size')
    .option('--older-than <days>', 'remove entries last used more than this many days ago', parseNonNegative('--older-than'))
    .option('--max-size <MB>', 'then remove the least recently used entries until the cache holds at most this many MB (10^6 bytes)', parseNonNegative('--max-size'))
    .option('--cache-dir <dir>', 'cache folder (default: PACKOPS_CACHE_DIR, config assets.cacheDir, else $XDG_CACHE_HOME/packops or ~/.cache/packops)')
    .addHelpText(
      'after',
      `
An entry holds every variant of one source at one set of settings; its last use is the
last run that took it from the cache. Removing entries is safe while other packops
processes run: an entry disappears whole, and a run that wanted it encodes it again.

Output (--json): {"ok": true, "cacheDir": "...", "removed": {"entries": n, "bytes": n},
"kept": {"entries": n, "bytes": n}, "sourceRecordsRemoved": n}

Exit codes: 0 ok · 2 usage (neither --older-than nor --max-size)

Examples:
  $ packops assets cache prune --older-than 30
  $ packops assets cache prune --max-size 2000 --json`,
    )
    .action(
      action<[], { olderThan?: number; maxSize?: number }>(async (ctx, _args, opts, command) => {
        if (opts.olderThan === undefined && opts.maxSize === undefined) {
          throw usageError('Give --older-than <days>, --max-size <MB>, or both.');
        }
        const { resolveCacheDir } = await import('../cache-dir.js');
        const { pruneCache } = await import('../../assets/prune.js');
        const cacheDir = await resolveCacheDir(ctx, command);
        const result = pruneCache(cacheDir, {
          ...(opts.olderThan !== undefined ? { olderThanDays: opts.olderThan } : {}),
          ...(opts.maxSize !== undefined ? { maxBytes: Math.floor(opts.maxSize * 1_000_000) } : {}),
        });
        ctx.out.result(
          { ok: true, ...result },
          () =>
            `${displayPath(cacheDir, ctx.cwd)}: removed ${result.removed.entries} entries (${formatBytes(result.removed.bytes)}), ` +
            `kept ${result.kept.entries} (${formatBytes(result.kept.bytes)})`,
        );
      }),
    );
}
