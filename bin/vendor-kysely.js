// Build step after tsc: kysely as ONE module file, at dist/node_modules/kysely/.
//
// kysely's ESM build is about 265 files, and Node's ESM loader pays per file (resolve,
// read, compile, link): importing it cost about 150 ms of CPU (524 M instructions,
// callgrind), more than any ledger query of a small report, on every command that opens
// the ledger. The same code bundled into one minified file: 53 M instructions. Node
// resolves a bare `kysely` from a file under dist/ to the nearest node_modules folder,
// dist/node_modules/, so every compiled import of kysely gets this one copy (never two
// copies in one process) and no source file changes; the types, the unit tests (which run
// src/) and the benchmarks' own imports still use the package in the root node_modules.
// Without this step (a bare `tsc`), dist falls back to that package: the same code, slower
// to load.
import { build } from 'esbuild';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(join(root, 'package.json'));
// The package's own folder (its exports map hides package.json): <dir>/dist/cjs/index.js.
const pkgDir = join(dirname(require.resolve('kysely')), '..', '..');
const { version } = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8'));
const out = join(root, 'dist', 'node_modules', 'kysely');

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
await build({
  entryPoints: [join(pkgDir, 'dist', 'esm', 'index.js')],
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // Minified: V8 parses less (53 M instructions to import it instead of 84 M unminified).
  minify: true,
  outfile: join(out, 'index.js'),
  legalComments: 'inline',
  logLevel: 'warning',
});
writeFileSync(
  join(out, 'package.json'),
  `${JSON.stringify({ name: 'kysely', version, description: 'kysely bundled into one file by bin/vendor-kysely.js', type: 'module', exports: { '.': './index.js' } }, null, 2)}\n`,
);
