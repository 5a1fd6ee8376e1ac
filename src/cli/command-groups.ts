/**
 * The command groups several command files add to (`catalog`, `creators`). A type of its own
 * module, so that command files depend on it and not on commands/index.ts, which imports them.
 */
import type { Command } from 'commander';

export interface CommandGroups {
  /** `packops catalog …`: add (ledger), publish, diff, report (catalog). */
  catalog: Command;
  /** `packops creators …`: import (ledger), tiers (payouts). */
  creators: Command;
}
