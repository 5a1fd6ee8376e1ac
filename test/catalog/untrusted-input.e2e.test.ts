/**
 * Values a catalog command gets from outside (a feed file, a flag) are never trusted:
 * `catalog diff` keys markets by a real map and refuses market keys that are not ISO 3166-1
 * countries; `catalog publish --base-url` refuses user info (without echoing it) and an empty
 * query or fragment. Through the built CLI, on a ledger with a released pack.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, tempDir } from '../helpers/cli.js';
import { workspace, type Workspace } from './workspace.js';

const feed = (markets: string) => `{
  "generatedAt": "2026-11-01T00:00:00Z",
  "packs": [
    { "slug": "ocean-creatures", "version": "1.0.0", "price": { "amountMinor": 499, "currency": "USD" },
      "markets": ${markets} }
  ],
  "bundles": []
}`;

describe('catalog diff market keys', () => {
  const tmp = tempDir('packops-diff-');
  afterAll(() => tmp.cleanup());
  const write = (name: string, markets: string) => {
    const path = join(tmp.dir, name);
    writeFileSync(path, feed(markets));
    return path;
  };

  it('sees a re-price in every real market', async () => {
    const a = write('a.json', '{ "GB": { "amountMinor": 449, "currency": "GBP" }, "JP": { "amountMinor": 750, "currency": "JPY" } }');
    const b = write('b.json', '{ "GB": { "amountMinor": 399, "currency": "GBP" }, "JP": { "amountMinor": 750, "currency": "JPY" } }');
    const r = await runCli(['catalog', 'diff', a, b, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json().packs.repriced).toEqual([
      { slug: 'ocean-creatures', changes: [{ market: 'GB', from: { amountMinor: 449, currency: 'GBP' }, to: { amountMinor: 399, currency: 'GBP' } }] },
    ]);
  });

  // "__proto__" hid a re-price (the key set the object's prototype); "constructor" exited 70.
  for (const key of ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'gb', 'UK', 'XX', '']) {
    it(`refuses the market key ${JSON.stringify(key)} with MARKET_INVALID (exit 3)`, async () => {
      const a = write('old.json', `{ ${JSON.stringify(key)}: { "amountMinor": 100, "currency": "EUR" } }`);
      const b = write('new.json', `{ ${JSON.stringify(key)}: { "amountMinor": 900, "currency": "EUR" } }`);
      const r = await runCli(['catalog', 'diff', a, b, '--json']);
      expect(r.code, r.stderr).toBe(3);
      const error = r.json().error;
      expect(error.code).toBe('MARKET_INVALID');
      expect(error.details.pointer).toBe(`/packs/0/markets/${key}`);
      expect(r.stderr).not.toMatch(/internal error|at .*\.js:\d+/);
    });
  }
});

describe('catalog publish --base-url', () => {
  let ws: Workspace;
  beforeAll(async () => {
    ws = await workspace(['ocean-creatures']);
    const r = await ws.run(['release', ...ws.packs, '--key', 'keys/packops.key', '--published-at', '2026-09-01T00:00:00Z']);
    if (r.code !== 0) throw new Error(`release failed\n${r.stderr}`);
  }, 180_000);
  afterAll(() => ws?.cleanup());

  it('publishes with a plain base URL', async () => {
    const r = await ws.run(['catalog', 'publish', '--out', 'site', '--base-url', 'https://cdn.example.com/packs', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(readFileSync(join(ws.dir, 'site', 'catalog.json'), 'utf8')).baseUrl).toBe('https://cdn.example.com/packs/');
  });

  for (const url of ['https://cdn.example.com/packs?', 'https://cdn.example.com/packs#', 'https://cdn.example.com/packs/?#', 'https://cdn.example.com/?v=1']) {
    it(`refuses ${url} (a query or fragment, even empty) with BASE_URL_INVALID`, async () => {
      for (const args of [
        ['catalog', 'publish', '--out', 'q-site', '--base-url', url, '--json'],
        ['release', ...ws.packs, '--key', 'keys/packops.key', '--publish', 'q-site', '--base-url', url, '--json'],
      ]) {
        const r = await ws.run(args);
        expect(r.code, r.stderr).toBe(3);
        expect(r.json().error.code).toBe('BASE_URL_INVALID');
      }
    });
  }

  for (const url of ['https://deploy:s3cr3t-token@cdn.example.com/packs/', 'https://:s3cr3t-token@cdn.example.com/', 'https://s3cr3t-token@cdn.example.com/', 'ftp://u:s3cr3t-token@cdn.example.com/']) {
    it(`refuses user info in ${url.replace('s3cr3t-token', '…')} without echoing the secret`, async () => {
      const r = await ws.run(['catalog', 'publish', '--out', 'u-site', '--base-url', url, '--json']);
      expect(r.code, r.stderr).toBe(3);
      expect(r.json().error.code).toBe('BASE_URL_INVALID');
      expect(r.stdout + r.stderr).not.toContain('s3cr3t-token');
      const pretty = await ws.run(['catalog', 'publish', '--out', 'u-site', '--base-url', url, '--verbose']);
      expect(pretty.code).toBe(3);
      expect(pretty.stdout + pretty.stderr).not.toContain('s3cr3t-token');
    });
  }
});
