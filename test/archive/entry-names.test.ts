// unsafeEntryName's length bounds (UTF-8 bytes, not characters) and parseIntegrity using it.
import { describe, expect, it } from 'vitest';
import { ENTRY_NAME_MAX_BYTES, ENTRY_SEGMENT_MAX_BYTES, parseIntegrity, unsafeEntryName } from '../../src/archive/integrity.js';

const segments = (n: number, last: string) => [...Array.from({ length: n }, () => 'b'.repeat(255)), last].join('/');

describe('unsafeEntryName: length bounds', () => {
  it('are the Linux limits', () => {
    expect(ENTRY_NAME_MAX_BYTES).toBe(4095);
    expect(ENTRY_SEGMENT_MAX_BYTES).toBe(255);
  });

  const cases: Array<[string, string, RegExp | undefined]> = [
    ['a 4,095-byte name', segments(15, 'c'.repeat(255)), undefined],
    ['a 4,096-byte name', segments(15, `${'c'.repeat(200)}/${'d'.repeat(55)}`), /longer than 4095 bytes/],
    ['a 4,096-byte name of 2,048 two-byte characters', `${'é'.repeat(127)}/`.repeat(16) + 'é'.repeat(8), /longer than 4095 bytes/],
    ['a 255-byte segment', `assets/${'b'.repeat(255)}`, undefined],
    ['a 256-byte segment', `assets/${'b'.repeat(256)}`, /segment longer than 255 bytes/],
    ['a 255-byte segment of two-byte characters', `assets/${'é'.repeat(127)}a`, undefined],
    ['a 256-byte segment of 128 characters', `assets/${'é'.repeat(128)}`, /segment longer than 255 bytes/],
    ['a 256-byte segment of emoji (64 characters)', `assets/${'🐳'.repeat(64)}`, /segment longer than 255 bytes/],
    ['a name past V8 hashing (17,000 characters)', `assets/${'a'.repeat(17_000)}`, /longer than 4095 bytes/],
  ];
  for (const [label, name, want] of cases) {
    it(`${want ? 'refuses' : 'accepts'} ${label}`, () => {
      const why = unsafeEntryName(name);
      if (want) expect(why).toMatch(want);
      else expect(why).toBeUndefined();
    });
  }
});

describe('parseIntegrity', () => {
  const doc = (path: string) => JSON.stringify({ version: 1, algorithm: 'sha256', files: [{ path, size: 1, sha256: 'a'.repeat(64) }] });
  it('refuses a path no archive entry can have, before it is a Set key', () => {
    const r = parseIntegrity(doc(`assets/${'a'.repeat(20_000)}`));
    expect(r.ok).toBe(false);
    expect(!r.ok && r.reason).toMatch(/^files\/0 lists the path "assets\/a+… \(20007 characters\)", which no archive entry can have: it is longer than 4095 bytes/);
  });
  it('refuses an unsafe path (..) too', () => {
    const r = parseIntegrity(doc('assets/../../evil.webp'));
    expect(!r.ok && r.reason).toMatch(/"\.\." segment/);
  });
  it('accepts an ordinary list', () => {
    expect(parseIntegrity(doc('assets/whale/512.webp')).ok).toBe(true);
  });
});
