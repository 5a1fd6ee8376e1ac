/**
 * Every command group registers itself here. Registration only declares commands and
 * options; each action imports its domain module lazily. Groups shared by several
 * domains (catalog, creators) are created here and handed to each registrar.
 */
import type { Command } from 'commander';
import type { CommandGroups } from '../command-groups.js';
import { register as registerValidate } from './validate.js';
import { register as registerInit } from './init.js';
import { register as registerAssets } from './assets.js';
import { register as registerArchive } from './archive.js';
import { register as registerLedger } from './ledger.js';
import { register as registerPricing } from './pricing.js';
import { register as registerPayouts } from './payouts.js';
import { register as registerCatalog } from './catalog.js';
import { register as registerSubscriptions } from './subscriptions.js';

export function registerCommands(program: Command): void {
  const groups: CommandGroups = {
    catalog: new (program.constructor as typeof Command)('catalog').description(
      'register verified archives, publish the catalog feed and page, diff and report',
    ),
    creators: new (program.constructor as typeof Command)('creators').description(
      'import creators and collaborations; see the tier each creator reaches',
    ),
  };
  registerInit(program, groups);
  registerValidate(program, groups);
  registerAssets(program, groups);
  registerArchive(program, groups);
  registerCatalog(program, groups);
  registerPricing(program, groups);
  registerLedger(program, groups);
  registerPayouts(program, groups);
  registerSubscriptions(program, groups);
  program.addCommand(groups.catalog);
  program.addCommand(groups.creators);
}
