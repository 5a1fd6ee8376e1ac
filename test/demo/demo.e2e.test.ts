/**
 * `npm run demo` as a newcomer runs it (after the build): the whole pipeline on the
 * fixtures must succeed, print paths to files that exist, and the page it points to must
 * show every released pack in a real browser.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, testCache } from '../helpers/cli.js';
import { cardStates, loadAllImages, openFilePage } from '../catalog/browser.js';

describe('npm run demo', () => {
  it('runs every step and prints the archives, the statements and the page to open', async () => {
    const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', CI: 'true', PACKOPS_CACHE_DIR: testCache() };
    delete env.PACKOPS_DB;
    const listing = () => readdirSync(join(ROOT, 'fixtures', 'packs'), { recursive: true }).map(String).sort();
    const before = listing();
    const r = spawnSync(process.execPath, [join(ROOT, 'dist', 'cli', 'demo.js')], { cwd: ROOT, env, encoding: 'utf8', timeout: 170_000 });
    const scratch = /Everything is in (\S+)/.exec(r.stdout)?.[1] ?? /Demo folder: (\S+)/.exec(r.stderr)?.[1];
    try {
      expect(r.status, `${r.stdout}\n${r.stderr.slice(-4000)}`).toBe(0);
      const final = r.stdout.slice(r.stdout.indexOf('Demo finished'));
      const paths = [...final.matchAll(/^ {2}(archive|statement|catalog|page): +(\S+)$/gm)].map((m) => ({ kind: m[1]!, path: m[2]! }));
      expect(paths.filter((p) => p.kind === 'archive')).toHaveLength(4);
      expect(paths.filter((p) => p.kind === 'statement').length).toBeGreaterThan(0);
      expect(paths.filter((p) => p.kind === 'page')).toHaveLength(1);
      for (const p of paths) expect(existsSync(p.path), p.path).toBe(true);
      const feed = JSON.parse(readFileSync(paths.find((p) => p.kind === 'catalog')!.path, 'utf8'));
      expect(feed.packs).toHaveLength(4);
      expect(feed.bundles.map((b: { slug: string }) => b.slug)).toEqual(['starter-bundle', 'winter-collection']);
      // The page to open shows every released pack, its cover loaded, in a real browser.
      const opened = await openFilePage(paths.find((p) => p.kind === 'page')!.path);
      try {
        await loadAllImages(opened.page);
        const cards = await cardStates(opened.page);
        expect(cards.map((c) => c.slug)).toEqual(feed.packs.map((p: { slug: string }) => p.slug));
        for (const c of cards) expect(c, c.slug).toMatchObject({ visible: true, imageLoaded: true });
      } finally {
        await opened.close();
      }
      // Nothing was written into the repository's fixtures.
      expect(listing()).toEqual(before);
    } finally {
      if (scratch?.includes('packops-demo-')) rmSync(scratch, { recursive: true, force: true });
    }
  }, 180_000);
});
