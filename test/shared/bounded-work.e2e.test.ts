// Work grows at most n log n with the input, and no value from data can overflow the stack
// of the message about it (PRODUCT.md §3). No timing here: the checks are on the results, and
// a quadratic run would not finish within the test timeout (10,000 assets took over 40 s).
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURES, runCli, tempDir } from '../helpers/cli.js';

let tmp: ReturnType<typeof tempDir>;
beforeAll(() => {
  tmp = tempDir('packops-bounded-');
});
afterAll(() => tmp.cleanup());

describe('validate of a 1 MiB manifest with 10,000 assets', () => {
  it('reports every missing file, each at its own line, in one run', async () => {
    const manifest = JSON.parse(readFileSync(join(FIXTURES, 'packs', 'ocean-creatures', 'pack.json'), 'utf8'));
    manifest.assets = Array.from({ length: 10_000 }, (_, i) => ({
      id: `a${String(i).padStart(5, '0')}`,
      file: `assets/a${String(i).padStart(5, '0')}.png`,
      type: 'character',
      altText: `A${i}`,
    }));
    manifest.cover = 'a00000';
    const text = JSON.stringify(manifest, null, 1).replace(/\n +/g, '\n');
    expect(text.length).toBeLessThanOrEqual(1024 * 1024);
    writeFileSync(join(tmp.dir, 'pack.json'), text);
    const r = await runCli(['validate', tmp.dir, '--json'], { timeoutMs: 60_000 });
    expect(r.code, r.stderr).toBe(1);
    const findings = r.json().results[0].findings as Array<{ code: string; pointer: string; line: number; column: number }>;
    const missing = findings.filter((f) => f.code === 'ASSET_MISSING');
    expect(missing).toHaveLength(10_000);
    // Each finding at the line of its own "file" value.
    const lines = text.split('\n');
    for (const i of [0, 1, 4_999, 9_999]) {
      const f = missing.find((m) => m.pointer === `/assets/${i}/file`)!;
      expect(lines[f.line - 1]!.slice(f.column - 1)).toBe(`"assets/a${String(i).padStart(5, '0')}.png",`);
    }
  }, 90_000);
});

describe('a JSON Lines cell nested 100,000 deep', () => {
  const row = {
    transaction_id: 't-1',
    occurred_at: '2026-10-01T00:00:00Z',
    store: 'appstore',
    kind: '@@',
    product: 'com.wondernest.pack.ocean',
    country: 'US',
    currency: 'USD',
    gross_minor: 499,
    store_fee_minor: 150,
    tax_minor: 0,
    consent_ref: 'vpc-1',
    family_ref: 'fam-1',
  };
  const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;

  it('is a bad row with a short message (exit 3), never a stack overflow', async () => {
    const file = join(tmp.dir, 'deep.jsonl');
    writeFileSync(file, `${JSON.stringify(row).replace('"@@"', deep)}\n`);
    const r = await runCli(['ledger', 'import', 'sales', file, '--db', join(tmp.dir, 'l.db'), '--json'], { timeoutMs: 60_000 });
    expect(r.code, r.stderr).toBe(3);
    const err = r.json().error;
    expect(err.code).toBe('ROWS_INVALID');
    expect(err.details.rows[0].message).toMatch(/^kind is "\[+…\]+"; expected/);
    expect(err.details.rows[0].message.length).toBeLessThan(200);
    expect(r.stderr).not.toMatch(/internal error|Maximum call stack/);
  });

  it('is quarantined with a bounded copy of the row under --quarantine', async () => {
    const file = join(tmp.dir, 'deep-q.jsonl');
    writeFileSync(file, `${JSON.stringify({ ...row, kind: 'sale', store: '@@' }).replace('"@@"', deep)}\n`);
    const r = await runCli(['ledger', 'import', 'sales', file, '--db', join(tmp.dir, 'q.db'), '--quarantine', '--json'], { timeoutMs: 60_000 });
    expect(r.stderr).not.toMatch(/internal error|Maximum call stack/);
    expect([0, 3]).toContain(r.code);
  });
});
