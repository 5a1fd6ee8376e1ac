/**
 * `npm run demo`: the whole pipeline on the shipped fixtures, in a scratch folder, with an
 * embedded SQLite ledger, by spawning the real `packops` binary as a user would:
 *
 *   throwaway key → creators → release the fixture packs → a bundle and a seasonal
 *   collection → FX rates, sales and refunds, reviews → the October payout summary and
 *   statements → the catalog feed and page → the library report
 *
 * Nothing is written into the repository (the packs are copied into the scratch folder
 * first). Exits non-zero, naming the step, when any step fails.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const bin = join(root, 'bin', 'packops.js');
const fixtures = join(root, 'fixtures');
const scratch = mkdtempSync(join(tmpdir(), 'packops-demo-'));

/** The packs were launched on 2026-09-01 (their reviews start in September). */
const LAUNCH = '2026-09-01T00:00:00Z';
const LAUNCH_EPOCH = String(Date.parse(LAUNCH) / 1000);
/** The catalog is published as of 2026-11-26, when the winter pack and collection are on sale. */
const PUBLISH_DAY = '2026-11-26';
const PUBLISH_EPOCH = String(Date.parse(`${PUBLISH_DAY}T00:00:00Z`) / 1000);

const env: NodeJS.ProcessEnv = { ...process.env, PACKOPS_DB: join(scratch, 'packops.db') };
// The demo signs with its own throwaway key; a key in the caller's environment must not win.
delete env.PACKOPS_SECRET_KEY;
delete env.PACKOPS_KEY_PASSWORD;
delete env.SOURCE_DATE_EPOCH;

const out = (text: string) => process.stdout.write(text);
const log = (text: string) => process.stderr.write(text);

function packops(args: string[], extraEnv: NodeJS.ProcessEnv = {}): number {
  log(`\n$ packops ${args.map((a) => (a.includes(' ') ? JSON.stringify(a) : a)).join(' ')}\n`);
  const r = spawnSync(process.execPath, [bin, ...args], {
    cwd: scratch,
    env: { ...env, ...extraEnv },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  return r.status ?? 70;
}

interface Step {
  title: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
}

const packsDir = join(scratch, 'packs');
cpSync(join(fixtures, 'packs'), packsDir, {
  recursive: true,
  // Never carry over a local assets cache or output from the repository's fixtures.
  filter: (src) => basename(src) !== '.packops',
});
const packs = readdirSync(packsDir)
  .sort()
  .map((p) => join('packs', p));

const steps: Step[] = [
  { title: 'a throwaway signing key (unencrypted, for this demo only)', args: ['keys', 'generate', '--unencrypted', '--out', 'keys'] },
  { title: 'creators and the ocean-team collaboration (owners come before packs)', args: ['creators', 'import', join(fixtures, 'ledger', 'creators.json')] },
  {
    title: 'release every fixture pack: validate → assets → build → verify → catalog add',
    args: ['release', ...packs, '--key', join('keys', 'packops.key'), '--out', 'dist', '--published-at', LAUNCH],
    env: { SOURCE_DATE_EPOCH: LAUNCH_EPOCH },
  },
  {
    title: 'a bundle of three packs, 25% off, with a charm price',
    args: ['bundles', 'create', 'starter-bundle', '--name', 'Starter Bundle', '--packs', 'ocean-creatures,forest-scenes,counting-garden', '--discount', '0.25', '--charm'],
  },
  { title: 'the winter seasonal collection', args: ['bundles', 'seasonal', 'winter', '--discount', '0.25', '--today', PUBLISH_DAY] },
  { title: 'FX rates', args: ['ledger', 'import', 'rates', join(fixtures, 'ledger', 'rates.csv')] },
  { title: 'October sales and refunds', args: ['ledger', 'import', 'sales', join(fixtures, 'ledger', 'sales-2026-10.csv')] },
  { title: 'reviews', args: ['ledger', 'import', 'reviews', join(fixtures, 'ledger', 'reviews.csv')] },
  { title: 'the October payout summary', args: ['payouts', 'report', '--period', '2026-10'] },
  { title: 'the October statements (CSV)', args: ['payouts', 'report', '--period', '2026-10', '--format', 'csv', '--out', 'statements'] },
  { title: `the catalog feed and page as of ${PUBLISH_DAY}`, args: ['catalog', 'publish', '--out', 'site'], env: { SOURCE_DATE_EPOCH: PUBLISH_EPOCH } },
  { title: 'the library against the launch plan', args: ['catalog', 'report'] },
];

const started = Date.now();
let failed: { step: number; title: string; code: number } | undefined;
for (const [i, step] of steps.entries()) {
  log(`\n── ${i + 1}/${steps.length} ${step.title}`);
  const code = packops(step.args, step.env);
  if (code !== 0) {
    failed = { step: i + 1, title: step.title, code };
    break;
  }
}

const seconds = ((Date.now() - started) / 1000).toFixed(1);
if (failed) {
  log(`\ndemo failed at step ${failed.step} (${failed.title}): packops exited ${failed.code}\nDemo folder: ${scratch}\n`);
  process.exitCode = failed.code === 0 ? 1 : failed.code;
} else {
  const list = (dir: string, ext: string) =>
    existsSync(join(scratch, dir))
      ? readdirSync(join(scratch, dir))
          .filter((f) => f.endsWith(ext))
          .sort()
          .map((f) => join(scratch, dir, f))
      : [];
  const index = join(scratch, 'site', 'index.html');
  const lines = [
    '',
    `Demo finished in ${seconds} s. Everything is in ${scratch}`,
    ...list('dist', '.zip').map((p) => `  archive:    ${p}`),
    ...list('statements', '').map((p) => `  statement:  ${p}`),
    `  catalog:    ${join(scratch, 'site', 'catalog.json')}`,
    `  page:       ${index}`,
    `Open the page: ${pathToFileURL(index).href}`,
  ];
  out(`${lines.join('\n')}\n`);
  process.exitCode = 0;
}
