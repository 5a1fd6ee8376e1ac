import type { Command } from 'commander';

// Commands of this group are registered here (see CONTRIBUTING.md).
export function register(_program: Command): void {}
