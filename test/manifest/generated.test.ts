import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { GENERATED_URL, generateValidatorSource } from '../../src/manifest/build-validator.js';
import { packValidator } from '../../src/manifest/schema.js';
import * as generated from '../../src/manifest/pack-validator.generated.js';

describe('the precompiled pack validator', () => {
  it('is up to date with schemas/pack.schema.json (else: npx tsx src/manifest/build-validator.ts)', () => {
    expect(readFileSync(GENERATED_URL, 'utf8')).toBe(generateValidatorSource());
  });

  it('is the validator in use, and reports like Ajv with verbose errors', () => {
    const validate = packValidator();
    expect(validate).toBe(generated.validate);
    expect(validate({ schemaVersion: 1, colour: 'red' })).toBe(false);
    const unknown = validate.errors!.find((e) => e.keyword === 'additionalProperties')!;
    expect(unknown.params.additionalProperty).toBe('colour');
    expect(Object.keys(unknown.parentSchema!.properties as object)).toContain('slug');
  });
});
