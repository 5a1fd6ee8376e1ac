// The init wizard driven through its real prompts (@inquirer/testing swaps only the
// terminal for a virtual screen), and createPack writing a pack that validates.
import { screen } from '@inquirer/testing/vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { askAnswers } from '../../src/cli/commands/init.js';
import { answerProblems, createPack, slugify } from '../../src/manifest/init.js';
import { validatePack } from '../../src/manifest/validate.js';
import { isPackopsError } from '../../src/shared/errors.js';
import { tempDir } from '../helpers/cli.js';

const tmp = tempDir('packops-init-');
afterAll(() => tmp.cleanup());

describe('slugify', () => {
  it('makes kebab-case ids from names', () => {
    expect(slugify('Ocean Creatures')).toBe('ocean-creatures');
    expect(slugify('  Océan -- Créatures!! ')).toBe('ocean-creatures');
    expect(slugify('ABC')).toBe('abc');
    expect(slugify('Z')).toBe('zzz');
    expect(slugify('x'.repeat(100)).length).toBe(64);
  });
});

describe('the wizard', () => {
  it('asks every question, suggests the slug from the name, and validates answers', async () => {
    const answers = askAnswers({}, slugify);
    await screen.next(); // the prompts module is imported lazily: wait for the first render
    expect(screen.getScreen()).toContain('Pack name');
    screen.type('Counting Garden');
    screen.keypress('enter');

    await screen.next();
    expect(screen.getScreen()).toContain('counting-garden');
    screen.keypress('enter'); // accept the suggested slug

    await screen.next();
    expect(screen.getScreen()).toContain('Category');
    screen.keypress('down');
    screen.keypress('down');
    screen.keypress('enter'); // educational

    await screen.next();
    expect(screen.getScreen()).toContain('Youngest age');
    screen.type('4');
    screen.keypress('enter');

    await screen.next();
    expect(screen.getScreen()).toContain('Oldest age');
    screen.keypress('enter'); // default 8

    await screen.next();
    expect(screen.getScreen()).toContain('List price in US cents');
    screen.type('299');
    screen.keypress('enter');

    await screen.next();
    expect(screen.getScreen()).toContain('Creator or collaboration id');
    screen.type('Bo Chen');
    screen.keypress('enter');
    await screen.next();
    expect(screen.getScreen()).toContain('Lowercase kebab-case');
    for (let i = 0; i < 'Bo Chen'.length; i++) screen.keypress('backspace');
    screen.type('bo-chen');
    screen.keypress('enter');

    await expect(answers).resolves.toEqual({
      name: 'Counting Garden',
      slug: 'counting-garden',
      category: 'educational',
      ageMin: 4,
      ageMax: 8,
      priceMinor: 299,
      currency: 'USD',
      creator: 'bo-chen',
    });
  });

  it('skips the questions a flag answered', async () => {
    const answers = askAnswers({ name: 'Winter', slug: 'winter', category: 'seasonal', ageMin: 3, ageMax: 9, price: 0 }, slugify);
    await screen.next();
    expect(screen.getScreen()).toContain('Creator or collaboration id');
    screen.type('ana-lima');
    screen.keypress('enter');
    await expect(answers).resolves.toMatchObject({ name: 'Winter', creator: 'ana-lima', priceMinor: 0 });
  });
});

describe('createPack', () => {
  const answers = {
    name: 'Counting Garden',
    slug: 'counting-garden',
    category: 'educational' as const,
    ageMin: 3,
    ageMax: 6,
    priceMinor: 299,
    currency: 'USD',
    creator: 'bo-chen',
  };

  it('writes a pack that passes validate, files included', async () => {
    const r = await createPack('garden', answers, { cwd: tmp.dir });
    expect(r.written).toEqual(['garden/assets/placeholder.png', 'garden/pack.json']);
    const manifest = JSON.parse(readFileSync(join(tmp.dir, 'garden', 'pack.json'), 'utf8'));
    expect(manifest).toMatchObject({ slug: 'counting-garden', category: 'educational', price: { amountMinor: 299, currency: 'USD' } });
    const v = await validatePack('garden', { cwd: tmp.dir, strict: true });
    expect(v.findings).toEqual([]);
    expect(v.ok).toBe(true);
  });

  it('never overwrites an existing pack.json', async () => {
    const before = readFileSync(join(tmp.dir, 'garden', 'pack.json'), 'utf8');
    const err = await createPack('garden', { ...answers, name: 'Other' }, { cwd: tmp.dir }).catch((e: unknown) => e);
    expect(isPackopsError(err) && err.code).toBe('PACK_EXISTS');
    expect(isPackopsError(err) && err.exitCode).toBe(4);
    expect(readFileSync(join(tmp.dir, 'garden', 'pack.json'), 'utf8')).toBe(before);
  });

  it('answerProblems finds what the schema and rules would', () => {
    expect(answerProblems(answers)).toEqual([]);
    expect(answerProblems({ ...answers, ageMin: 9, ageMax: 4 }).map((f) => f.code)).toEqual(['AGE_RANGE']);
    expect(answerProblems({ ...answers, slug: 'No Slug' }).map((f) => f.pointer)).toEqual(['/slug']);
  });
});
