/**
 * Every command group registers itself here. Registration only declares commands and
 * options; each action imports its domain module lazily. Groups shared by several
 * domains (catalog, creators) are created here and handed to each registrar.
 *
 * The command files themselves are loaded on demand too: a run of one top-level command
 * that a single file declares (`packops validate …`) loads that file alone; `--help`, a
 * group shared by several files, or anything unclear loads them all.
 */
import type { Command } from 'commander';
import type { CommandGroups } from '../command-groups.js';

interface CommandFile {
  register(program: Command, groups: CommandGroups): void;
}

/**
 * The command files in registration order, each with the top-level commands it declares
 * (test/cli/command-files.test.ts holds this list to what registering each file gives).
 */
export const COMMAND_FILES: ReadonlyArray<{ load: () => Promise<CommandFile>; commands: readonly string[] }> = [
  { load: () => import('./init.js'), commands: ['init'] },
  { load: () => import('./validate.js'), commands: ['validate'] },
  { load: () => import('./assets.js'), commands: ['assets', 'preview'] },
  { load: () => import('./archive.js'), commands: ['keys', 'build', 'verify'] },
  { load: () => import('./catalog.js'), commands: ['release'] },
  { load: () => import('./pricing.js'), commands: ['bundles', 'price'] },
  { load: () => import('./ledger.js'), commands: ['ledger'] },
  { load: () => import('./payouts.js'), commands: ['payouts'] },
  { load: () => import('./subscriptions.js'), commands: ['subscriptions'] },
];

/**
 * Registers the commands: only the file that declares `command` when one does, else all
 * of them (with the shared `catalog` and `creators` groups).
 */
export async function registerCommands(program: Command, command?: string): Promise<void> {
  const groups: CommandGroups = {
    catalog: new (program.constructor as typeof Command)('catalog').description(
      'register verified archives, publish the catalog feed and page, diff and report',
    ),
    creators: new (program.constructor as typeof Command)('creators').description(
      'import creators and collaborations; see the tier each creator reaches',
    ),
  };
  const one = command === undefined ? undefined : COMMAND_FILES.find((f) => f.commands.includes(command));
  if (one) {
    (await one.load()).register(program, groups);
    return;
  }
  const files = await Promise.all(COMMAND_FILES.map((f) => f.load()));
  for (const file of files) file.register(program, groups);
  program.addCommand(groups.catalog);
  program.addCommand(groups.creators);
}
