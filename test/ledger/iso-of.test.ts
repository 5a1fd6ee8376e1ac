/** isoOf (src/ledger/import/store-report.ts) formats every instant exactly as Date#toISOString. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isoOf } from '../../src/ledger/import/store-report.js';

describe('isoOf', () => {
  it('is Date#toISOString for any instant: whole milliseconds of 1970–9999, and the rest by the general way', () => {
    const instant = fc.oneof(
      fc.integer({ min: 0, max: 253_402_300_799_999 }),
      fc.integer({ min: Date.UTC(2026, 0, 1), max: Date.UTC(2027, 0, 1) }),
      fc.constantFrom(0, 999, 1000, 86_399_999, 86_400_000, 253_402_300_799_999, 253_402_300_800_000, -1, -86_400_001, 1.5),
      fc.integer({ min: -8_640_000_000_000_000, max: 8_640_000_000_000_000 }),
    );
    fc.assert(
      fc.property(instant, (ms) => {
        expect(isoOf(ms)).toBe(new Date(ms).toISOString());
      }),
      { numRuns: 20_000 },
    );
  });
});
