/**
 * `npm run bench [-- name...]`: runs every benchmark in bench/*.bench.ts (or the named
 * ones) and prints, for each, packops against the established tool as a ratio.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './lib.js';

const wanted = process.argv.slice(2);
const files = readdirSync(join(ROOT, 'bench'))
  .filter((f) => f.endsWith('.bench.ts'))
  .sort()
  .filter((f) => wanted.length === 0 || wanted.some((w) => f.startsWith(w)));
let failed = 0;
for (const file of files) {
  console.log(`\n# ${file}`);
  try {
    const mod = (await import(join(ROOT, 'bench', file))) as { default: () => Promise<void> | void };
    await mod.default();
  } catch (err) {
    failed++;
    console.error(`benchmark ${file} failed: ${(err as Error).message}`);
  }
}
process.exitCode = failed ? 1 : 0;
