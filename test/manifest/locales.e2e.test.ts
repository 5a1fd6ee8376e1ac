// locales/<lang>.json (PRODUCT.md §4) is not supported yet: validate says so with a warning
// (LOCALES_UNSUPPORTED) instead of passing a pack whose translations were never looked at.
import { cpSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURES, runCli, tempDir } from '../helpers/cli.js';

let tmp: ReturnType<typeof tempDir>;
beforeAll(() => {
  tmp = tempDir('packops-locales-');
  cpSync(join(FIXTURES, 'packs', 'ocean-creatures'), join(tmp.dir, 'ocean'), { recursive: true, filter: (s) => !s.includes('.packops') });
});
afterAll(() => tmp.cleanup());

describe('a pack with a locales/ folder', () => {
  it('validates with a LOCALES_UNSUPPORTED warning (an error under --strict)', async () => {
    const before = await runCli(['validate', 'ocean', '--json'], { cwd: tmp.dir });
    expect(before.json().results[0].findings).toEqual([]);
    mkdirSync(join(tmp.dir, 'ocean', 'locales'));
    writeFileSync(join(tmp.dir, 'ocean', 'locales', 'fr.json'), '{"name": "Créatures de l\'océan"}\n');
    const r = await runCli(['validate', 'ocean', '--json'], { cwd: tmp.dir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.json().results[0].findings).toMatchObject([{ code: 'LOCALES_UNSUPPORTED', severity: 'warning', file: 'ocean/locales' }]);
    const strict = await runCli(['validate', 'ocean', '--strict', '--json'], { cwd: tmp.dir });
    expect(strict.code).toBe(1);
  });
});
