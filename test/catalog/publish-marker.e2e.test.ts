// catalog publish never deletes a file it did not write (PRODUCT.md §3): a folder is replaced
// only when it is a site publish made (its .packops-site.json marker) holding nothing else.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { epochOf, workspace, type Workspace } from './workspace.js';

let ws: Workspace;
const NOV = epochOf('2026-11-26');

beforeAll(async () => {
  ws = await workspace(['ocean-creatures']);
  const r = await ws.run(['release', ...ws.packs, '--key', 'keys/packops.key', '--published-at', '2026-09-01T00:00:00Z']);
  if (r.code !== 0) throw new Error(`release failed\n${r.stderr}`);
}, 180_000);
afterAll(() => ws?.cleanup());

describe('catalog publish --out and files it did not write', () => {
  it('refuses (exit 4) a folder holding a stray catalog.json beside a ledger and a key, and deletes nothing', async () => {
    const dir = join(ws.dir, 'work');
    mkdirSync(dir);
    writeFileSync(join(dir, 'catalog.json'), '{}\n');
    writeFileSync(join(dir, 'packops.db'), 'precious ledger');
    writeFileSync(join(dir, 'packops.key'), 'precious key');
    const r = await ws.run(['catalog', 'publish', '--out', 'work', '--json'], { SOURCE_DATE_EPOCH: NOV });
    expect(r.code, r.stderr).toBe(4);
    expect(r.json().error.code).toBe('OUTPUT_NOT_EMPTY');
    expect(readFileSync(join(dir, 'packops.db'), 'utf8')).toBe('precious ledger');
    expect(readFileSync(join(dir, 'packops.key'), 'utf8')).toBe('precious key');
    expect(readFileSync(join(dir, 'catalog.json'), 'utf8')).toBe('{}\n');
  });

  it('replaces a site it published, and refuses once a file it did not write is added there', async () => {
    const first = await ws.run(['catalog', 'publish', '--out', 'site', '--json'], { SOURCE_DATE_EPOCH: NOV });
    expect(first.code, first.stderr).toBe(0);
    const marker = JSON.parse(readFileSync(join(ws.dir, 'site', '.packops-site.json'), 'utf8'));
    expect(marker.version).toBe(1);
    expect(marker.files).toContain('catalog.json');
    expect(marker.files).toContain('index.html');
    expect(marker.files.some((f: string) => f.endsWith('.zip'))).toBe(true);
    for (const f of marker.files as string[]) expect(existsSync(join(ws.dir, 'site', f)), f).toBe(true);

    const again = await ws.run(['catalog', 'publish', '--out', 'site', '--json'], { SOURCE_DATE_EPOCH: NOV });
    expect(again.code, again.stderr).toBe(0);

    writeFileSync(join(ws.dir, 'site', 'CNAME'), 'packs.example.com\n');
    mkdirSync(join(ws.dir, 'site', 'packs', 'notes'), { recursive: true });
    writeFileSync(join(ws.dir, 'site', 'packs', 'notes', 'todo.txt'), 'mine');
    const refused = await ws.run(['catalog', 'publish', '--out', 'site', '--json'], { SOURCE_DATE_EPOCH: NOV });
    expect(refused.code, refused.stderr).toBe(4);
    expect(refused.json().error).toMatchObject({ code: 'OUTPUT_NOT_EMPTY', details: { foreign: ['CNAME', 'packs/notes/todo.txt'] } });
    expect(readFileSync(join(ws.dir, 'site', 'CNAME'), 'utf8')).toBe('packs.example.com\n');
    expect(existsSync(join(ws.dir, 'site', 'catalog.json'))).toBe(true);
  });
});
