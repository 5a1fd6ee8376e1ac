// Every stable code packops throws or reports is listed in CODES (the SARIF rules, JUnit
// names and `codeTitle` read it) and documented in the README, where CI scripts look codes
// up (PRODUCT.md §11). Read from the sources, so a new code cannot be added without both.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CODES, codeTitle } from '../../src/shared/findings.js';

const ROOT = join(import.meta.dirname, '..', '..');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') && !e.name.endsWith('.generated.ts') ? [join(dir, e.name)] : [],
  );
}

/** Where a code is written in the sources: the error constructors, a finding or problem's `code`, an input check's renamed failure, the two arms of a chosen code. */
const CODE_SITES = [
  /\b(?:inputError|conflictError|usageError|PackopsError)\(\s*'([A-Z][A-Z0-9_]+)'/g,
  /\bcode: '([A-Z][A-Z0-9_]+)'/g,
  /\b(?:notFound|notRegular|tooLarge|unreadable|link): '([A-Z][A-Z0-9_]+)'/g,
  /\? '([A-Z][A-Z0-9_]+)' : '([A-Z][A-Z0-9_]+)'/g,
];

function codesInSources(): Map<string, string> {
  const found = new Map<string, string>();
  for (const file of sources(join(ROOT, 'src'))) {
    const text = readFileSync(file, 'utf8');
    for (const site of CODE_SITES) {
      for (const m of text.matchAll(site)) {
        for (const code of m.slice(1)) if (code !== undefined && !found.has(code)) found.set(code, file.slice(ROOT.length + 1));
      }
    }
  }
  return found;
}

describe('stable codes', () => {
  const found = codesInSources();

  it('finds the codes the sources write (the scan itself works)', () => {
    for (const code of ['SCHEMA', 'PERIOD_ORDER', 'KEY_PASSWORD_WRONG', 'IO_ERROR', 'CONFIG_UNREADABLE', 'REPORT_TRUNCATED', 'CSV_MALFORMED', 'SHARES']) {
      expect(found.has(code), code).toBe(true);
    }
  });

  it('lists every code the sources throw or report in CODES', () => {
    const unlisted = [...found].filter(([code]) => !(code in CODES)).map(([code, file]) => `${code} (${file})`);
    expect(unlisted).toEqual([]);
  });

  it('documents every code of CODES in the README', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    expect(Object.keys(CODES).filter((code) => !readme.includes(`\`${code}\``))).toEqual([]);
  });

  it('gives each code a one-line title', () => {
    for (const [code, title] of Object.entries(CODES)) {
      expect(title.length, code).toBeGreaterThan(10);
      expect(title, code).not.toMatch(/\n/);
      expect(codeTitle(code)).toBe(title);
    }
    expect(codeTitle('NOT_A_CODE')).toBe('NOT_A_CODE');
  });
});
