/**
 * Every command group registers itself here. Registration only declares commands and
 * options; each action imports its domain module lazily.
 */
import type { Command } from 'commander';
import { register as registerValidate } from './validate.js';
import { register as registerInit } from './init.js';
import { register as registerAssets } from './assets.js';
import { register as registerArchive } from './archive.js';
import { register as registerLedger } from './ledger.js';
import { register as registerPricing } from './pricing.js';
import { register as registerPayouts } from './payouts.js';
import { register as registerCatalog } from './catalog.js';

export function registerCommands(program: Command): void {
  registerInit(program);
  registerValidate(program);
  registerAssets(program);
  registerArchive(program);
  registerCatalog(program);
  registerPricing(program);
  registerLedger(program);
  registerPayouts(program);
}
