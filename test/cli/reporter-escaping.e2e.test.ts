/* eslint-disable no-control-regex -- the test matches control characters on purpose */
/**
 * Reporters escape what comes from data. A manifest names an asset file carrying a
 * workflow command, an ANSI escape, raw HTML, a Markdown link and image and a bare URL;
 * validate reports it (ASSET_MISSING quotes the path) in every format, through the built
 * CLI: the github annotations stay one command per finding, the step summary stays text,
 * JUnit stays well-formed XML and SARIF carries the text exactly.
 */
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { markdownCode, markdownText } from '../../src/shared/markdown.js';
import { FIXTURES, runCli, tempDir } from '../helpers/cli.js';

const tmp = tempDir('packops-escaping-');
afterAll(() => tmp.cleanup());
const HOSTILE = 'assets/x%0A::error::pwned\n::warning file=a::injected\u001b[31mred\u0007 <img src=x onerror=alert(1)> [click](https://evil.example/) ![t](https://track.example/p.gif) www.evil.example | a@b.example.png';

function hostilePack(): string {
  // The folder name reaches the reporters raw (as the target and the file).
  const dir = join(tmp.dir, 'pack\n::error::folder-pwned\u001b[31m%0A,x:y');
  cpSync(join(FIXTURES, 'packs', 'ocean-creatures'), dir, { recursive: true, filter: (s) => !s.endsWith('.packops') });
  const m = JSON.parse(readFileSync(join(dir, 'pack.json'), 'utf8'));
  m.assets[0].file = HOSTILE;
  writeFileSync(join(dir, 'pack.json'), JSON.stringify(m, null, 2));
  return dir;
}

describe('reporters on hostile text', () => {
  const pack = hostilePack();

  it('github: one workflow command per finding, nothing injected, no ANSI; the summary is text only', async () => {
    const summary = join(tmp.dir, 'summary.md');
    writeFileSync(summary, '');
    const r = await runCli(['validate', pack, '--format', 'github'], { env: { GITHUB_STEP_SUMMARY: summary } });
    expect(r.code, r.stderr).toBe(1);
    const lines = r.stdout.trimEnd().split('\n');
    for (const line of lines) expect(line).toMatch(/^::(error|warning) file=[^:]*,(line=\d+,col=\d+,)?title=[A-Z_]+::/);
    expect(lines.length).toBeGreaterThan(0);
    expect(r.stdout).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f]/);
    // In a property: %, CR, LF, : and , are escaped, so the folder name cannot end the property list.
    expect(r.stdout).toContain('pack%0A%3A%3Aerror%3A%3Afolder-pwned␛[31m%250A%2Cx%3Ay');
    expect(r.stdout).toContain('x%250A::error::pwned');

    const md = readFileSync(summary, 'utf8');
    expect(md).not.toMatch(/<img|\]\(https?:|https:\/\/|www\.evil|\u001b/);
    expect(md).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(md).toContain('\\[click\\]');
    // The table keeps its columns: every row has the header's 7 cells.
    for (const row of md.split('\n').filter((l) => l.startsWith('| '))) expect(row.split(/(?<!\\)\|/).length).toBe(9);
  });

  it('junit is well-formed XML with the text escaped; sarif carries the message exactly', async () => {
    const j = await runCli(['validate', pack, '--format', 'junit']);
    expect(j.code).toBe(1);
    expect(j.stdout).not.toMatch(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/);
    expect(j.stdout).not.toContain('<img');
    expect(j.stdout).toContain('&lt;img src=x onerror=alert(1)&gt;');
    const s = await runCli(['validate', pack, '--format', 'sarif']);
    expect(s.code).toBe(1);
    const sarif = JSON.parse(s.stdout);
    const texts: string[] = sarif.runs[0].results.map((x: { message: { text: string } }) => x.message.text);
    expect(texts.some((t) => t.includes('<img src=x onerror=alert(1)> [click](https://evil.example/)'))).toBe(true);
    expect(sarif.runs[0].results[0].properties.target).toContain('pack\n::error::folder-pwned\u001b[31m');
  });
});

describe('markdownText', () => {
  it('leaves no HTML, link, image, autolink or table break', () => {
    const out = markdownText('<b>x</b> [a](http://e) ![i](https://e/i.png) https://e www.e.com me@e.com a|b\nc \u001b[0m');
    expect(out).toBe('&lt;b&gt;x&lt;/b&gt; \\[a\\](http\\://e) !\\[i\\](https\\://e/i.png) https\\://e www\\.e.com me\\@e.com a\\|b c \ufffd\\[0m');
  });
  it('makes a code span that holds any backticks', () => {
    expect(markdownCode('a`b')).toBe('``a`b``');
    expect(markdownCode('`x|y')).toBe('`` `x\\|y ``');
  });
});
