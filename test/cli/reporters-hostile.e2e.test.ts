// Reporters given hostile input (found in an audit): text from a manifest must not drive the
// terminal, the machine formats must stay well-formed, and a step summary that cannot be
// written must not turn a validation into an internal error.
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FIXTURES, runCli, tempDir } from '../helpers/cli.js';

const tmp = tempDir('packops-reporters-');
afterAll(() => tmp.cleanup());

/** A copy of ocean-creatures whose first asset file names control characters and markup. */
function hostilePack(name: string): string {
  const dir = join(tmp.dir, name);
  cpSync(join(FIXTURES, 'packs', 'ocean-creatures'), dir, { recursive: true });
  const manifest = JSON.parse(readFileSync(join(dir, 'pack.json'), 'utf8'));
  manifest.assets[0].file = 'assets/\u001b]0;pwned\u0007\u001b[2J\u202e<x>&]]>\n::,%.png';
  writeFileSync(join(dir, 'pack.json'), JSON.stringify(manifest, null, 2));
  return dir;
}

describe('hostile text in findings', () => {
  it('pretty: no raw escape, bell, newline or bidi override from the manifest reaches the terminal', async () => {
    const r = await runCli(['validate', hostilePack('pretty')], { cwd: tmp.dir });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('ASSET_MISSING');
    // eslint-disable-next-line no-control-regex -- looking for raw control characters
    expect(r.stdout).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f\u202e]/);
    expect(r.stdout).toContain('␛]0;pwned␇␛[2J');
    // The asset's finding is one line: the newline in the path is shown, not obeyed.
    const line = r.stdout.split('\n').find((l) => l.includes('ASSET_MISSING'));
    expect(line).toContain('␊::,%.png');
  });

  it('junit stays well-formed XML and sarif valid JSON', async () => {
    const dir = hostilePack('machine');
    const junit = await runCli(['validate', '--format', 'junit', dir], { cwd: tmp.dir });
    expect(junit.code).toBe(1);
    // eslint-disable-next-line no-control-regex -- looking for raw control characters
    expect(junit.stdout).not.toMatch(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/);
    expect(junit.stdout).toContain('&lt;x&gt;&amp;]]&gt;');
    const sarif = await runCli(['validate', '--format', 'sarif', dir], { cwd: tmp.dir });
    const doc = JSON.parse(sarif.stdout);
    const { rules, results } = { rules: doc.runs[0].tool.driver.rules, results: doc.runs[0].results };
    for (const result of results) {
      expect(rules[result.ruleIndex].id).toBe(result.ruleId);
      expect(result.locations[0].physicalLocation.region.startLine).toBeGreaterThanOrEqual(1);
      expect(result.locations[0].physicalLocation.region.startColumn).toBeGreaterThanOrEqual(1);
    }
  });
});

describe('github step summary', () => {
  it('an unwritable $GITHUB_STEP_SUMMARY is a warning: annotations printed, exit 1 from the findings, never 70', async () => {
    const r = await runCli(['validate', '--format', 'github', join(FIXTURES, 'invalid', 'CURRENCY')], {
      env: { GITHUB_STEP_SUMMARY: join(tmp.dir, 'no-such-folder', 'summary.md') },
    });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^::error .*title=CURRENCY::/);
    expect(r.stderr).toContain('GITHUB_STEP_SUMMARY');
    expect(r.stderr).not.toContain('internal error');
  });

  it('a valid pack with an unwritable summary still exits 0', async () => {
    const r = await runCli(['validate', '--format', 'github', join(FIXTURES, 'packs', 'ocean-creatures')], {
      env: { GITHUB_STEP_SUMMARY: tmp.dir },
    });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('GITHUB_STEP_SUMMARY');
  });
});
