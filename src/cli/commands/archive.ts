import type { Command } from 'commander';
import type { CommandGroups } from './index.js';

// Commands of this group are registered here (see CONTRIBUTING.md).
export function register(_program: Command, _groups: CommandGroups): void {}
