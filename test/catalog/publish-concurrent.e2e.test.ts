// Two `catalog publish --out site` started together into the same new folder (two CI jobs)
// take turns on the site's lock: both succeed and the site left is complete, in every round
// (it used to be IO_ERROR ENOTEMPTY for the second). A lock a killed publish left is taken over.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { epochOf, workspace, type Workspace } from './workspace.js';

let ws: Workspace;
const NOV = epochOf('2026-11-26');

beforeAll(async () => {
  ws = await workspace(['ocean-creatures', 'forest-scenes']);
  const r = await ws.run(['release', ...ws.packs, '--key', 'keys/packops.key', '--published-at', '2026-09-01T00:00:00Z']);
  if (r.code !== 0) throw new Error(`release failed\n${r.stderr}`);
}, 180_000);
afterAll(() => ws?.cleanup());

/** Every file the site's marker lists exists, and catalog.json is the expected one. */
function expectCompleteSite(site: string, catalog: string): void {
  const marker = JSON.parse(readFileSync(join(site, '.packops-site.json'), 'utf8')) as { files: string[] };
  expect(marker.files.filter((f) => f.endsWith('.zip'))).toHaveLength(2);
  expect(marker.files.filter((f) => f.endsWith('.minisig'))).toHaveLength(2);
  for (const f of marker.files) expect(existsSync(join(site, f)), f).toBe(true);
  expect(readFileSync(join(site, 'catalog.json'), 'utf8')).toBe(catalog);
}

describe('concurrent catalog publish into one folder', () => {
  it('two processes started together into a new folder both succeed, round after round, leaving a complete site', async () => {
    const reference = await ws.run(['catalog', 'publish', '--out', 'reference', '--json'], { SOURCE_DATE_EPOCH: NOV });
    expect(reference.code, reference.stderr).toBe(0);
    const catalog = readFileSync(join(ws.dir, 'reference', 'catalog.json'), 'utf8');
    for (let round = 0; round < 6; round++) {
      rmSync(join(ws.dir, 'site'), { recursive: true, force: true });
      const runs = await Promise.all([0, 1].map(() => ws.run(['catalog', 'publish', '--out', 'site', '--json'], { SOURCE_DATE_EPOCH: NOV })));
      for (const r of runs) {
        expect(r.code, `round ${round}: ${r.stdout}${r.stderr}`).toBe(0);
        expect(r.json().ok).toBe(true);
      }
      expectCompleteSite(join(ws.dir, 'site'), catalog);
      // No staging folder, old site or lock is left beside it.
      expect(readdirSync(ws.dir).filter((n) => n.startsWith('.site'))).toEqual([]);
    }
  }, 240_000);

  it('three at once into an existing site all succeed too', async () => {
    const catalog = readFileSync(join(ws.dir, 'reference', 'catalog.json'), 'utf8');
    const runs = await Promise.all([0, 1, 2].map(() => ws.run(['catalog', 'publish', '--out', 'site', '--json'], { SOURCE_DATE_EPOCH: NOV })));
    for (const r of runs) expect(r.code, r.stdout + r.stderr).toBe(0);
    expectCompleteSite(join(ws.dir, 'site'), catalog);
  }, 120_000);

  it('takes over the lock of a publish that was killed (its pid is gone)', async () => {
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    const lock = join(ws.dir, '.fresh.publish.packops.lock');
    writeFileSync(lock, `${dead.stdout}\n`);
    const r = await ws.run(['catalog', 'publish', '--out', 'fresh', '--json'], { SOURCE_DATE_EPOCH: NOV });
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(lock)).toBe(false);
    expectCompleteSite(join(ws.dir, 'fresh'), readFileSync(join(ws.dir, 'reference', 'catalog.json'), 'utf8'));
  });
});
