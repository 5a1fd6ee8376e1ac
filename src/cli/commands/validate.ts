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
    .addOption(new Option('--concurrency <n>', 'packs whose files are checked at once (default: CPU count); --no-files checks manifests one by one').argParser(intOption('--concurrency', 1, 256)))
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
        const { usageError, inputError } = await import('../../shared/errors.js');
        const profile = resolveOption<string>(command, 'profile', { config: ctx.config.validate?.profile }) ?? 'first-party';
        if (!(PROFILE_CHOICES as readonly string[]).includes(profile)) {
          throw usageError(`Unknown profile "${profile}" (from the config file); use first-party, creator or ugc.`);
        }
        const strict = resolveOption<boolean>(command, 'strict', { config: ctx.config.validate?.strict }) ?? false;
        const [{ validatePacks }, { makeReport }] = await Promise.all([import('../../manifest/validate-many.js'), import('../../shared/findings.js')]);
        const unique = [...new Set(targets)];
        const outcomes = await validatePacks(unique, {
          profile: profile as ValidateFlags['profile'],
          files: flags.files,
          strict,
          cwd: ctx.cwd,
          concurrency: flags.concurrency,
        });
        // The first failure in target order is the one reported, as if checked one by one.
        const failed = outcomes.find((o) => o.kind === 'failed');
        if (failed) throw failed.error;
        // A target that does not exist is an input error (exit 3) for the whole call; the
        // others were still checked so that every missing one is named at once.
        const missing = unique.filter((_, i) => outcomes[i]!.kind === 'missing');
        if (missing.length > 0) {
          throw inputError(
            'PATH_NOT_FOUND',
            missing.length === 1 ? `${missing[0]} does not exist.` : `These targets do not exist: ${missing.join(', ')}.`,
            { hint: 'Give pack folders or pack.json files.', details: { paths: missing } },
          );
        }
        const results = outcomes.flatMap((o) => (o.kind === 'checked' ? [o.result] : []));
        const report = makeReport(results);
        const { emitCheckReport } = await import('../reporters/index.js');
        await emitCheckReport(ctx, report, flags.format, { tool: 'validate' });
        if (!report.ok) ctx.setExitCode(1);
      }),
    );
}
