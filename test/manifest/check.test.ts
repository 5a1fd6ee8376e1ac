import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkManifest, checkManifestValue } from '../../src/manifest/check.js';
import { depthExceeded } from '../../src/manifest/load.js';
import { describeSyntaxError, indexPointers, lineColumn, locateFindings } from '../../src/manifest/position.js';
import { effectiveProfile, unsafePathReason } from '../../src/manifest/rules.js';
import { packSchema, type SchemaError } from '../../src/manifest/schema.js';
import { closest, collapseAlternatives, levenshtein, translateSchemaErrors } from '../../src/manifest/schema-errors.js';
import { CATEGORIES, ASSET_TYPES, type PackManifest } from '../../src/manifest/types.js';
import { FIXTURES } from '../helpers/cli.js';

const PACKS = join(FIXTURES, 'packs');
const packNames = readdirSync(PACKS);

function fixture(name: string): PackManifest {
  return JSON.parse(readFileSync(join(PACKS, name, 'pack.json'), 'utf8')) as PackManifest;
}

function base(): Record<string, any> {
  return structuredClone(fixture('ocean-creatures')) as unknown as Record<string, any>;
}

const codes = (value: unknown, profile?: 'first-party' | 'creator' | 'ugc') =>
  checkManifestValue(value, { profile }).map((f) => `${f.code} ${f.pointer}`);

describe('schema and types', () => {
  it('the fixture packs are valid under every profile they are meant for', () => {
    expect(packNames.sort()).toEqual(['counting-garden', 'forest-scenes', 'ocean-creatures', 'winter-wonders']);
    for (const name of packNames) {
      expect(checkManifestValue(fixture(name)), name).toEqual([]);
    }
    expect(checkManifestValue(fixture('ocean-creatures'), { profile: 'creator' })).toEqual([]);
  });

  it('the schema lists the same categories and asset types as the TypeScript types', () => {
    const schema = packSchema();
    expect(schema.properties.category.enum).toEqual([...CATEGORIES]);
    expect(schema.$defs.asset.properties.type.enum).toEqual([...ASSET_TYPES]);
  });

  it('describes every property (editors show the descriptions)', () => {
    const missing: string[] = [];
    const walk = (node: any, path: string) => {
      if (!node || typeof node !== 'object') return;
      for (const [k, v] of Object.entries<any>(node.properties ?? {})) {
        if (typeof v.description !== 'string') missing.push(`${path}/${k}`);
        walk(v, `${path}/${k}`);
      }
      for (const [k, v] of Object.entries<any>(node.$defs ?? {})) walk(v, `#/$defs/${k}`);
      if (node.items) walk(node.items, `${path}/items`);
    };
    walk(packSchema(), '#');
    expect(missing).toEqual([]);
  });
});

describe('schema findings in plain words', () => {
  it('suggests the field a typo meant, at the key', () => {
    const m = base();
    m.assets[0].alttext = 'x';
    const { findings, atKey } = checkManifest(m);
    const f = findings.find((x) => x.pointer === '/assets/0/alttext')!;
    expect(f.code).toBe('SCHEMA');
    expect(f.message).toBe('Unknown field "alttext" in assets[0] — did you mean "altText"?');
    expect(atKey.has(f)).toBe(true);
  });

  it('names a missing required field with a pointer to it', () => {
    const m = base();
    delete m.creator;
    const [f] = checkManifestValue(m);
    expect(f).toMatchObject({ code: 'SCHEMA', pointer: '/creator' });
    expect(f!.message).toContain('missing the required field "creator"');
  });

  it('suggests the closest enum value', () => {
    const m = base();
    m.category = 'charcters';
    expect(checkManifestValue(m)[0]!.message).toContain('did you mean "characters"?');
  });

  it('reports every problem in one pass', () => {
    const m = base();
    m.slug = 'X';
    m.version = 'v1';
    m.assets[2].type = 'sprite';
    m.tags = ['ocean', 'ocean'];
    expect(codes(m)).toEqual(
      expect.arrayContaining(['SCHEMA /slug', 'SCHEMA /version', 'SCHEMA /assets/2/type', 'SCHEMA /tags/1']),
    );
  });

  it('rejects impossible calendar dates', () => {
    const m = base();
    m.availability = { from: '2026-02-30' };
    expect(checkManifestValue(m)[0]!.message).toContain('not a real calendar date');
  });

  it('treats __proto__ and constructor keys as unknown fields and never pollutes a prototype', () => {
    const m = JSON.parse(
      readFileSync(join(PACKS, 'ocean-creatures', 'pack.json'), 'utf8').replace(
        '"schemaVersion": 1,',
        '"schemaVersion": 1, "__proto__": {"polluted": true}, "constructor": {"prototype": {"polluted": true}},',
      ),
    );
    expect(codes(m)).toEqual(['SCHEMA /__proto__', 'SCHEMA /constructor']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.getPrototypeOf(m)).toBe(Object.prototype);
  });

  it('collapses oneOf noise to the branch that came closest', () => {
    const require = createRequire(import.meta.url);
    const Ajv2020 = require('ajv/dist/2020').default;
    const ajv = new Ajv2020({ allErrors: true, verbose: true });
    const validate = ajv.compile({
      type: 'object',
      properties: {
        price: {
          oneOf: [
            { type: 'integer', minimum: 0 },
            {
              type: 'object',
              additionalProperties: false,
              required: ['amountMinor', 'currency'],
              properties: { amountMinor: { type: 'integer' }, currency: { type: 'string', pattern: '^[A-Z]{3}$' } },
            },
          ],
        },
      },
    });
    expect(validate({ price: { amountMinor: 5, currency: 'usd' } })).toBe(false);
    const raw = validate.errors as SchemaError[];
    expect(raw.length).toBeGreaterThan(1);
    const kept = collapseAlternatives(raw);
    expect(kept.map((e) => `${e.keyword} ${e.instancePath}`)).toEqual(['pattern /price/currency']);
    const [f] = translateSchemaErrors(raw);
    expect(f!.message).toContain('three-letter ISO 4217 currency code');
  });

  it('closest() only suggests near misses', () => {
    expect(closest('colour', ['color', 'name'])).toBe('color');
    expect(closest('Slug', ['slug'])).toBe('slug');
    expect(closest('banana', ['slug', 'name'])).toBeUndefined();
  });
});

describe('dedicated codes', () => {
  it('AGE_RANGE replaces the schema finding at the same place', () => {
    const m = base();
    m.ageRange = { min: 3, max: 15 };
    expect(codes(m)).toEqual(['AGE_RANGE /ageRange/max']);
    m.ageRange = { min: 9, max: 4 };
    expect(codes(m)).toEqual(['AGE_RANGE /ageRange']);
    m.ageRange = { min: 2.5, max: 4 };
    expect(codes(m)).toEqual(['AGE_RANGE /ageRange/min']);
  });

  it('CURRENCY for codes ISO 4217 does not list, lowercase codes and a non-USD list price', () => {
    const m = base();
    m.price.currency = 'usd';
    m.markets.GB.currency = 'GBX';
    expect(codes(m)).toEqual(['CURRENCY /markets/GB/currency', 'CURRENCY /price/currency']);
    const n = base();
    n.price.currency = 'EUR';
    expect(codes(n)).toEqual(['CURRENCY /price/currency']);
  });

  it('markets are keyed by assigned ISO 3166-1 codes', () => {
    const m = base();
    m.markets.UK = { currency: 'GBP', amountMinor: 449 };
    const [f] = checkManifestValue(m);
    expect(f).toMatchObject({ code: 'SCHEMA', pointer: '/markets/UK', hint: 'The United Kingdom is "GB".' });
  });

  it('OBJECTIVES_MISSING for an educational pack without real objectives', () => {
    const m = base();
    m.category = 'educational';
    expect(codes(m)).toEqual(['OBJECTIVES_MISSING /educationalObjectives']);
    m.educationalObjectives = ['  '];
    expect(codes(m)).toEqual(['OBJECTIVES_MISSING /educationalObjectives']);
    m.educationalObjectives = ['count to 10'];
    expect(codes(m)).toEqual([]);
  });

  it('ASSET_ID_DUPLICATE, COVER_UNKNOWN and AVAILABILITY_WINDOW', () => {
    const m = base();
    m.assets[3].id = 'whale';
    m.cover = 'wale';
    m.availability = { from: '2026-09-01', until: '2026-08-31' };
    expect(codes(m).sort()).toEqual(['ASSET_ID_DUPLICATE /assets/3/id', 'AVAILABILITY_WINDOW /availability/until', 'COVER_UNKNOWN /cover']);
    expect(checkManifestValue(m).find((f) => f.code === 'COVER_UNKNOWN')!.message).toContain('did you mean "whale"?');
  });

  it('PATH_UNSAFE from the manifest alone', () => {
    for (const bad of ['../../etc/passwd', '/etc/passwd', 'assets\\whale.png', 'C:/whale.png', 'assets/../../x.png', 'file:///etc/passwd', '.']) {
      expect(unsafePathReason(bad), bad).toBeDefined();
    }
    for (const good of ['assets/whale.png', './assets/whale.png', 'whale.png', 'assets/sea life/whale 1.png']) {
      expect(unsafePathReason(good), good).toBeUndefined();
    }
  });
});

describe('profiles', () => {
  it('first-party: no altText or cover is a warning only', () => {
    const m = base();
    delete m.assets[0].altText;
    delete m.cover;
    const findings = checkManifestValue(m);
    expect(findings.map((f) => `${f.code} ${f.severity} ${f.pointer}`)).toEqual([
      'PROFILE warning /assets/0/altText',
      'PROFILE warning /cover',
    ]);
  });

  it('creator: cover, altText, a 40-character description and six assets', () => {
    const m = base();
    delete m.cover;
    delete m.assets[1].altText;
    m.description = 'Too short.';
    m.assets = m.assets.slice(0, 5);
    expect(codes(m, 'creator').sort()).toEqual(['PROFILE /assets', 'PROFILE /assets/1/altText', 'PROFILE /cover', 'PROFILE /description']);
    expect(checkManifestValue(m, { profile: 'creator' }).every((f) => f.severity === 'error')).toBe(true);
  });

  it('ugc: parent approval, at most 20 assets, PNG or JPEG names, screened texts', () => {
    const m = base();
    expect(codes(m, 'ugc')).toEqual(['PROFILE /ugc']);
    m.ugc = { parentApprovalRef: 'approval-1' };
    expect(codes(m, 'ugc')).toEqual([]);
    m.assets = Array.from({ length: 21 }, (_, i) => ({ id: `a${i}`, file: `assets/a${i}.png`, type: 'sticker', altText: 'A star' }));
    m.cover = 'a0';
    m.assets[4].file = 'assets/a4.webp';
    m.assets[7].altText = 'A b1tch';
    expect(codes(m, 'ugc')).toEqual(['PROFILE /assets', 'PROFILE /assets/4/file', 'TEXT_INAPPROPRIATE /assets/7/altText']);
  });

  it('a manifest with a ugc block is always checked as ugc', () => {
    const m = base();
    m.ugc = { parentApprovalRef: 'approval-1' };
    m.name = 'Bastard Bears';
    expect(effectiveProfile(m, 'first-party')).toBe('ugc');
    expect(codes(m)).toEqual(['TEXT_INAPPROPRIATE /name']);
  });
});

describe('positions and limits', () => {
  const text = '{\n  "slug": "x",\n  "assets": [\n    { "id": "a", "colour": 1 }\n  ]\n}\n';

  it('line and column of a value, of a key, and of the nearest ancestor', () => {
    expect(lineColumn(text, 0)).toEqual({ line: 1, column: 1 });
    const value = { code: 'SCHEMA', severity: 'error' as const, pointer: '/slug', message: '' };
    const key = { code: 'SCHEMA', severity: 'error' as const, pointer: '/assets/0/colour', message: '' };
    const missing = { code: 'SCHEMA', severity: 'error' as const, pointer: '/assets/0/file', message: '' };
    locateFindings(text, [value, key, missing], new Set([key]));
    expect(value).toMatchObject({ line: 2, column: 11 });
    expect(key).toMatchObject({ line: 4, column: 18 });
    expect(missing).toMatchObject({ line: 4, column: 5 });
  });

  it('finds deep nesting without parsing, ignoring brackets in strings', () => {
    expect(depthExceeded(`${'['.repeat(64)}${']'.repeat(64)}`, 64)).toBeUndefined();
    expect(depthExceeded(`${'['.repeat(65)}${']'.repeat(65)}`, 64)).toBe(64);
    expect(depthExceeded(`{"a": "${'['.repeat(100)}\\"["}`, 64)).toBeUndefined();
  });

  it('describes syntax errors with their place', async () => {
    expect(await describeSyntaxError('{\n  "a": 1,\n}')).toMatchObject({ at: { line: 3, column: 1 } });
    expect((await describeSyntaxError('{"a": 1 "b": 2}')).message).toContain('expected ","');
  });

  it('indexes pointers of valid JSON, escaped keys, repeated keys and nested arrays included', () => {
    const json = '{"a\\u002fb": [1, {"x": "s,]}\\"q"}], "k": 1, "k": [ [], {} ], "~": null}';
    const places = indexPointers(json);
    expect(JSON.parse(json)).toEqual({ 'a/b': [1, { x: 's,]}"q' }], k: [[], {}], '~': null });
    expect([...places.keys()]).toEqual(['', '/a~1b', '/a~1b/0', '/a~1b/1', '/a~1b/1/x', '/k', '/k/0', '/k/1', '/~0']);
    expect(places.get('/a~1b/1/x')).toEqual({ value: json.indexOf('"s,'), key: json.indexOf('"x"') });
    expect(places.get('/k')!.value).toBe(json.indexOf('[ []'));
    expect(places.get('/k/1')!.value).toBe(json.indexOf('{} ]'));
  });

  it('indexes only the wanted pointers (and their ancestors) exactly as the full index has them', () => {
    const json = '{"a\\u002fb": [1, {"x": "s,]}\\"q"}], "k": 1, "k": [ [], {"z": [true, -1.5e3]} ], "~": null}';
    const full = indexPointers(json);
    const wanted = new Set(['', '/k', '/k/1', '/k/1/z', '/k/1/z/1', '/a~1b']);
    const some = indexPointers(json, wanted);
    expect([...some.keys()].sort()).toEqual([...wanted].sort());
    for (const p of wanted) expect(some.get(p), p).toEqual(full.get(p));
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 4 }), fc.boolean(), fc.nat(), (value, pretty, pick) => {
        const text = JSON.stringify(value, null, pretty ? 2 : 0);
        const all = indexPointers(text);
        const pointers = [...all.keys()];
        const target = pointers[pick % pointers.length]!;
        const closure = new Set<string>();
        for (let p = target; ; p = p.slice(0, p.lastIndexOf('/'))) {
          closure.add(p);
          if (p === '') break;
        }
        const only = indexPointers(text, closure);
        for (const p of closure) expect(only.get(p)).toEqual(all.get(p));
        expect(only.size).toBe(closure.size);
      }),
      { numRuns: 300 },
    );
  });

  it('levenshtein is the edit distance in UTF-16 code units', () => {
    const reference = (a: string, b: string): number => {
      const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
      for (let i = 1; i <= a.length; i++) {
        for (let j = 1; j <= b.length; j++) d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      }
      return d[a.length]![b.length]!;
    };
    expect(levenshtein('colour', 'color')).toBe(1);
    expect(levenshtein('', 'abc')).toBe(3);
    fc.assert(
      fc.property(fc.string({ maxLength: 12 }), fc.string({ maxLength: 12 }), (a, b) => {
        expect(levenshtein(a, b)).toBe(reference(a, b));
      }),
    );
  });
});
