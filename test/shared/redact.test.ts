// The secret filter of messages (stderr, error documents): whole secrets of at least
// MIN_SECRET_LENGTH characters, never a part of a longer word, never a short one.
import { afterEach, describe, expect, it } from 'vitest';
import { addSecret, clearSecrets, MIN_SECRET_LENGTH, redactSecrets } from '../../src/shared/redact.js';

afterEach(() => clearSecrets());

describe('redactSecrets', () => {
  it('replaces a whole secret and its percent-encoded form', () => {
    addSecret('Zq7!Redact@Me:5566');
    expect(redactSecrets('postgres://u:Zq7!Redact@Me:5566@h/db failed')).toBe('postgres://u:***@h/db failed');
    expect(redactSecrets(`password "${encodeURIComponent('Zq7!Redact@Me:5566')}" refused`)).toBe('password "***" refused');
    expect(redactSecrets('Zq7!Redact@Me:5566')).toBe('***');
  });

  it('leaves a secret that is part of a longer word, and ignores short secrets', () => {
    addSecret('ocean-creatures');
    expect(redactSecrets('pack ocean-creatures-2 and ocean-creatures.')).toBe('pack ocean-creatures-2 and ***.');
    expect(redactSecrets('xocean-creatures')).toBe('xocean-creatures');
    addSecret('1000');
    addSecret('x'.repeat(MIN_SECRET_LENGTH - 1));
    expect(redactSecrets('"minimumMinor": 1000, xxxxxxx')).toBe('"minimumMinor": 1000, xxxxxxx');
  });
});
