/**
 * `npm run demo`: runs the real pipeline on the shipped fixtures in a scratch folder
 * and prints where the results are.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const bin = join(root, 'bin', 'packops.js');
const scratch = mkdtempSync(join(tmpdir(), 'packops-demo-'));

function packops(args: string[]): number {
  process.stderr.write(`\n$ packops ${args.join(' ')}\n`);
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: scratch, stdio: 'inherit' });
  return r.status ?? 70;
}

const packsDir = join(root, 'fixtures', 'packs');
const packs = readdirSync(packsDir).map((p) => join(packsDir, p));
const code = packops(['validate', ...packs]);
process.stdout.write(`\nDemo folder: ${scratch}\n`);
process.exitCode = code;
