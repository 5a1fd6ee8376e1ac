/**
 * The one containment test (src/shared/paths.ts) and `statOutput`, the read-only walk of an
 * output place that follows no link below its base (src/shared/atomic.ts).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { statOutput } from '../../src/shared/atomic.js';
import { climbsOut, displayPath, isInside } from '../../src/shared/paths.js';
import { tempDir } from '../helpers/cli.js';

const tmp = tempDir('packops-containment-');
afterAll(() => tmp.cleanup());

describe('climbsOut and isInside', () => {
  it.each([
    ['..', true],
    ['../x', true],
    ['/etc/passwd', true],
    ['..star.png', false],
    ['...', false],
    ['', false],
    ['assets/..hidden/x.png', false],
  ])('climbsOut(%j) is %s', (rel, out) => {
    expect(climbsOut(rel)).toBe(out);
  });

  it('keeps names that start with two dots inside, and .. or other folders outside', () => {
    expect(isInside('/p/..star.png', '/p')).toBe(true);
    expect(isInside('/p', '/p')).toBe(true);
    expect(isInside('/p/a/../b', '/p')).toBe(true);
    expect(isInside('/p/../q', '/p')).toBe(false);
    expect(isInside('/p-other/x', '/p')).toBe(false);
    expect(isInside('/', '/p')).toBe(false);
    expect(displayPath('/w/..star.png', '/w')).toBe('..star.png');
    expect(displayPath('/x/y', '/w')).toBe('/x/y');
  });
});

describe('statOutput', () => {
  const base = join(tmp.dir, 'out');
  mkdirSync(join(base, 'assets', 'a'), { recursive: true });
  writeFileSync(join(base, 'assets', 'a', 'x.webp'), 'x');
  mkdirSync(join(tmp.dir, 'elsewhere'), { recursive: true });
  writeFileSync(join(tmp.dir, 'elsewhere', 'secret'), 's');
  symlinkSync(join(tmp.dir, 'elsewhere'), join(base, 'assets', 'linked'));
  symlinkSync(join(tmp.dir, 'elsewhere', 'secret'), join(base, 'assets', 'a', 'link.webp'));
  execFileSync('mkfifo', [join(base, 'assets', 'a', 'fifo.webp')]);

  it('gives the lstat of a file reached with no link, and undefined for a missing one (making nothing)', () => {
    expect(statOutput(join(base, 'assets', 'a', 'x.webp'), { base })?.isFile()).toBe(true);
    expect(statOutput(join(base, 'assets', 'none', 'x.webp'), { base })).toBeUndefined();
    expect(statOutput(join(base, 'assets', 'a', 'missing.webp'), { base })).toBeUndefined();
  });

  it('reports a final link as a link, and a FIFO as what it is, never following or opening them', () => {
    expect(statOutput(join(base, 'assets', 'a', 'link.webp'), { base })?.isSymbolicLink()).toBe(true);
    expect(statOutput(join(base, 'assets', 'a', 'fifo.webp'), { base })?.isFIFO()).toBe(true);
  });

  it('refuses a linked folder on the way, a file used as a folder, and a path outside the base', () => {
    expect(() => statOutput(join(base, 'assets', 'linked', 'secret'), { base })).toThrow(/symbolic link/);
    expect(() => statOutput(join(base, 'assets', 'a', 'x.webp', 'y'), { base })).toThrow(/not a folder/);
    expect(() => statOutput(join(base, '..', 'elsewhere', 'secret'), { base })).toThrow(/not inside/);
    expect(() => statOutput(base, { base })).toThrow(/not inside/);
  });
});
