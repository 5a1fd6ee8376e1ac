// A config value of the wrong type is CONFIG_INVALID naming the key (exit 3), never ignored
// or misread (a "yes" for validate.strict used to turn strict mode on as a truthy string).
import { cpSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURES, runCli, tempDir } from '../helpers/cli.js';

let tmp: ReturnType<typeof tempDir>;
beforeAll(() => {
  tmp = tempDir('packops-config-');
  cpSync(join(FIXTURES, 'packs', 'ocean-creatures'), join(tmp.dir, 'ocean'), { recursive: true, filter: (s) => !s.includes('.packops') });
});
afterAll(() => tmp.cleanup());

describe('config values of the wrong type', () => {
  const cases: Array<[unknown, string]> = [
    [{ validate: { strict: 'yes' } }, 'validate.strict'],
    [{ validate: { profile: 7 } }, 'validate.profile'],
    [{ validate: 'strict' }, 'validate'],
    [{ assets: { concurrency: 'many' } }, 'assets.concurrency'],
    [{ db: ['a.db'] }, 'db'],
    [{ build: { out: false } }, 'build.out'],
    [{ payouts: { minimumMinor: 10.5 } }, 'payouts.minimumMinor'],
  ];
  for (const [config, key] of cases) {
    it(`${JSON.stringify(config)} is CONFIG_INVALID naming ${key}`, async () => {
      writeFileSync(join(tmp.dir, 'packops.config.json'), JSON.stringify(config));
      const r = await runCli(['validate', 'ocean', '--json'], { cwd: tmp.dir });
      expect(r.code, r.stdout + r.stderr).toBe(3);
      expect(r.json().error).toMatchObject({ code: 'CONFIG_INVALID', details: { key } });
      expect(r.json().error.message).toContain(key);
    });
  }

  it('values of the right type still work', async () => {
    writeFileSync(join(tmp.dir, 'packops.config.json'), JSON.stringify({ validate: { strict: true, profile: 'first-party' }, assets: { concurrency: 2 } }));
    const r = await runCli(['validate', 'ocean', '--json'], { cwd: tmp.dir });
    expect(r.code, r.stderr).toBe(0);
  });
});
