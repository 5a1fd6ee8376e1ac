// The family HMAC of every import (src/shared/hmac.ts) must be byte for byte what
// createHmac gives, or stored family keys would stop matching: checked on random keys of
// every size (64 bytes is one pad block, longer keys are hashed first) and random messages
// (empty, around the one-block limit of 55 bytes, several blocks, non-ASCII, lone surrogates).
import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hmacSha256Hex } from '../../src/shared/hmac.js';

const reference = (key: Uint8Array, message: string) => createHmac('sha256', key).update(message).digest('hex');

describe('hmacSha256Hex', () => {
  it('matches createHmac on the RFC 4231 case 2 and on edge lengths', () => {
    const key = Buffer.from('Jefe');
    expect(hmacSha256Hex(key)('what do ya want for nothing?')).toBe('5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843');
    const h = hmacSha256Hex(Buffer.alloc(32, 9));
    for (let n = 0; n <= 200; n++) expect(h('x'.repeat(n))).toBe(reference(Buffer.alloc(32, 9), 'x'.repeat(n)));
  });

  it('matches createHmac for random keys and messages, one hasher reused', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 0, maxLength: 150 }),
        fc.array(fc.oneof(fc.string({ maxLength: 70 }), fc.string({ unit: 'binary', maxLength: 200 }), fc.string({ unit: 'grapheme', maxLength: 40 })), { minLength: 1, maxLength: 8 }),
        (key, messages) => {
          const h = hmacSha256Hex(key);
          for (const m of messages) expect(h(m)).toBe(reference(key, m));
          expect(h('\ud800 lone')).toBe(reference(key, '\ud800 lone'));
        },
      ),
      { numRuns: 300 },
    );
  });
});
