/**
 * `packops validate <pack-dir|pack.json>...`: schema, semantic and asset-file checks of
 * many packs at once, one result per pack, in the reporter format CI reads.
 */
import { Option, type Command } from 'commander';
import { action, intOption } from '../action.js';
import type { CommandGroups } from '../command-groups.js';
import { REPORT_FORMATS, type ReportFormat } from '../reporters/index.js';

const PROFILE_CHOICES = ['first-party', 'creator', 'ugc'] as const;

interface ValidateFlags {
  profile?: (typeof PROFILE_CHOICES)[number];
  files: boolean;
  strict?: boolean;
  format: ReportFormat;
  concurrency?: number;
}

export function register(program: Command, _groups: CommandGroups): void {
  program
    .command('validate')
    .description('check pack manifests and their art: schema, semantic rules, asset files')
    .argument('<targets...>', 'pack folders or pack.json files')
    .addOption(new Option('--profile <name>', 'rules to apply (default first-party, or validate.profile in the config)').choices(PROFILE_CHOICES))
    .option('--no-files', 'check the manifests alone, not the asset files')
    .option('--strict', 'warnings fail too (or validate.strict in the config)')
    .addOption(new Option('--format <format>', 'report format (--json is --format json)').choices([...REPORT_FORMATS]).default('pretty'))
    .addOption(new Option('--concurrency <n>', 'packs whose files are checked at once (default: CPU count)').argParser(intOption('--concurrency', 1, 256)))
    .addHelpText(
      'after',
      `
Exit codes: 0 every pack is valid · 1 findings · 2 usage error · 3 a target does not exist

Examples:
  $ packops validate fixtures/packs/ocean-creatures
  $ packops validate packs/* --profile creator --strict
  $ packops validate --no-files --format github packs/*/pack.json
  $ packops validate packs/* --format junit > validate.xml
  $ packops validate packs/* --json`,
    )
    .action(
      action<[string[]], ValidateFlags>(async (ctx, [targets], flags, command) => {
        const { resolveOption } = await import('../config.js');
        const { usageError, inputError, isPackopsError } = await import('../../shared/errors.js');
        const profile = resolveOption<string>(command, 'profile', { config: ctx.config.validate?.profile }) ?? 'first-party';
        if (!(PROFILE_CHOICES as readonly string[]).includes(profile)) {
          throw usageError(`Unknown profile "${profile}" (from the config file); use first-party, creator or ugc.`);
        }
        const strict = resolveOption<boolean>(command, 'strict', { config: ctx.config.validate?.strict }) ?? false;
        const [{ validatePack }, { default: pLimit }, { availableParallelism }, { makeReport }] = await Promise.all([
          import('../../manifest/validate.js'),
          import('p-limit'),
          import('node:os'),
          import('../../shared/findings.js'),
        ]);
        const limit = pLimit(flags.concurrency ?? Math.max(2, availableParallelism()));
        const unique = [...new Set(targets)];
        // A target that does not exist is an input error (exit 3) for the whole call; the
        // others are still checked so that every missing one is named at once.
        const missing: string[] = [];
        const check = async (target: string) => {
          try {
            const v = await validatePack(target, { profile: profile as ValidateFlags['profile'], files: flags.files, strict, cwd: ctx.cwd });
            return { target: v.target, ok: v.ok, findings: v.findings };
          } catch (err) {
            if (isPackopsError(err) && err.code === 'PATH_NOT_FOUND') {
              missing.push(target);
              return undefined;
            }
            throw err;
          }
        };
        // Manifests are read synchronously, so without files nothing is gained by
        // interleaving; the files' decodes (sharp, off the main thread) are interleaved.
        const settled = flags.files
          ? await Promise.all(unique.map((target) => limit(() => check(target))))
          : await sequential(unique, check);
        if (missing.length > 0) {
          const inOrder = unique.filter((t) => missing.includes(t));
          throw inputError(
            'PATH_NOT_FOUND',
            inOrder.length === 1 ? `${inOrder[0]} does not exist.` : `These targets do not exist: ${inOrder.join(', ')}.`,
            { hint: 'Give pack folders or pack.json files.', details: { paths: inOrder } },
          );
        }
        const results = settled.filter((r) => r !== undefined);
        const report = makeReport(results);
        const { emitCheckReport } = await import('../reporters/index.js');
        await emitCheckReport(ctx, report, flags.format, { tool: 'validate' });
        if (!report.ok) ctx.setExitCode(1);
      }),
    );
}

async function sequential<T, R>(items: readonly T[], fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (const item of items) out.push(await fn(item));
  return out;
}
