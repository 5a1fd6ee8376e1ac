// stageFiles: the shared writer for files that land together, written as they come
// (statement PDFs as Chromium prints them). Nothing lands before commit; abort or a failure
// leaves the targets as they were and no temporary file behind.
import { existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { stageFiles, writeFilesAtomic } from '../../src/shared/atomic.js';
import { tempDir } from '../helpers/cli.js';

let tmp: ReturnType<typeof tempDir> | undefined;
afterEach(() => tmp?.cleanup());

describe('stageFiles', () => {
  it('lands nothing until commit, then every file at once, in any put order', async () => {
    tmp = tempDir('packops-staged-');
    const dir = join(tmp.dir, 'out', '2026-10');
    const targets = ['a.pdf', 'b.pdf', 'c.pdf'].map((f) => join(dir, f));
    writeFileSync(join(tmp.dir, 'keep'), 'x');
    const staged = stageFiles(targets, { base: join(tmp.dir, 'out') });
    await staged.put(targets[2]!, 'C');
    await staged.put(targets[0]!, new Uint8Array([65]));
    expect(readdirSync(dir).filter((f) => !f.endsWith('.packops.tmp'))).toEqual([]);
    await staged.put(targets[1]!, 'B');
    await staged.commit();
    expect(readdirSync(dir).sort()).toEqual(['a.pdf', 'b.pdf', 'c.pdf']);
    expect(targets.map((t) => readFileSync(t, 'utf8'))).toEqual(['A', 'B', 'C']);
  });

  it('abort removes every temporary file and keeps what was there', async () => {
    tmp = tempDir('packops-staged-');
    const target = join(tmp.dir, 'a.pdf');
    writeFileSync(target, 'old');
    const staged = stageFiles([target, join(tmp.dir, 'b.pdf')], { base: tmp.dir });
    await staged.put(target, 'new');
    await staged.abort();
    expect(readdirSync(tmp.dir)).toEqual(['a.pdf']);
    expect(readFileSync(target, 'utf8')).toBe('old');
    await expect(staged.put(join(tmp.dir, 'b.pdf'), 'x')).rejects.toThrow(/after commit or abort/);
  });

  it('commit with a file missing writes nothing and cleans up', async () => {
    tmp = tempDir('packops-staged-');
    const staged = stageFiles([join(tmp.dir, 'a'), join(tmp.dir, 'b')], { base: tmp.dir });
    await staged.put(join(tmp.dir, 'a'), 'A');
    await expect(staged.commit()).rejects.toThrow(/without 1 file/);
    expect(readdirSync(tmp.dir)).toEqual([]);
  });

  it('checks every target before any work: a link below the base or a folder in the way is OUTPUT_UNWRITABLE', () => {
    const t = (tmp = tempDir('packops-staged-'));
    const elsewhere = join(tmp.dir, 'elsewhere');
    mkdirSync(elsewhere);
    mkdirSync(join(tmp.dir, 'out'));
    symlinkSync(elsewhere, join(tmp.dir, 'out', '2026-10'));
    expect(() => stageFiles([join(t.dir, 'out', '2026-10', 'a.pdf')], { base: join(t.dir, 'out') })).toThrow(expect.objectContaining({ code: 'OUTPUT_UNWRITABLE' }));
    mkdirSync(join(tmp.dir, 'dir.pdf'));
    expect(() => stageFiles([join(t.dir, 'dir.pdf')], { base: t.dir })).toThrow(expect.objectContaining({ code: 'OUTPUT_UNWRITABLE' }));
    expect(readdirSync(elsewhere)).toEqual([]);
  });

  it('refuses a target it was not given, or the same one twice', async () => {
    tmp = tempDir('packops-staged-');
    const staged = stageFiles([join(tmp.dir, 'a')], { base: tmp.dir });
    await expect(staged.put(join(tmp.dir, 'zzz'), 'x')).rejects.toThrow(/not an expected target/);
    await staged.put(join(tmp.dir, 'a'), 'A');
    await expect(staged.put(join(tmp.dir, 'a'), 'A')).rejects.toThrow(/put twice/);
    await staged.abort();
    expect(existsSync(join(tmp.dir, 'a'))).toBe(false);
  });

  it('writeFilesAtomic is stageFiles with every file at once', async () => {
    tmp = tempDir('packops-staged-');
    await writeFilesAtomic([{ path: join(tmp.dir, 'x', 'one'), data: '1' }, { path: join(tmp.dir, 'x', 'two'), data: '2', mode: 0o600 }], { base: tmp.dir });
    expect(readdirSync(join(tmp.dir, 'x')).sort()).toEqual(['one', 'two']);
  });
});
