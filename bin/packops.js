#!/usr/bin/env node
// Thin shim: everything lives in the compiled CLI entry. `packops --version` alone is
// answered here without loading the CLI, so that it costs no more than starting node
// (measured by bench/startup.bench.ts).
import { readFileSync } from 'node:fs';

const args = process.argv.slice(2);
if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
  process.stdout.write(`${pkg.version}\n`);
} else {
  const { main } = await import('../dist/cli/main.js');
  await main(process.argv);
}
