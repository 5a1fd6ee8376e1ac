// The month helpers at the edges of the four-digit years: no negative or five-digit year
// leaks out as a malformed period, and bounds compare with stored instants as text.
import { describe, expect, it } from 'vitest';
import { addMonths, isPeriod, isPeriodArgument, nextPeriodStart, periodEndMs, periodFromIndex } from '../../src/shared/period.js';

describe('period helpers', () => {
  it('take --period from 0001-01 to 9999-12 only', () => {
    expect(['0001-01', '2026-10', '9999-12'].map(isPeriodArgument)).toEqual([true, true, true]);
    expect(['0000-01', '0000-12', '2026-13', '2026-00', '10000-01', '-001-01', '2026-1', ' 2026-10'].map(isPeriodArgument)).toEqual(Array(8).fill(false));
    // Year 0000 is still a month a stored row can be in.
    expect(isPeriod('0000-05')).toBe(true);
  });

  it('look back 11 months from 0001-01 without a negative year, and refuse to go before 0000-01', () => {
    expect(addMonths('0001-01', -11)).toBe('0000-02');
    expect(addMonths('0000-01', 0)).toBe('0000-01');
    expect(() => addMonths('0000-01', -1)).toThrow(RangeError);
    expect(() => periodFromIndex(-11)).toThrow(RangeError);
  });

  it('end 9999-12 with a bound that sorts after every instant of the year 9999', () => {
    expect(nextPeriodStart('2026-12')).toBe('2027-01-01T00:00:00.000Z');
    const end = nextPeriodStart('9999-12');
    expect('9999-12-31T23:59:59.999Z' < end).toBe(true);
    expect('9999-12-01T00:00:00.000Z' < end).toBe(true);
    expect(periodEndMs('9999-12')).toBe(Date.parse('9999-12-31T23:59:59.999Z') + 1);
    expect(periodEndMs('2026-10')).toBe(Date.parse('2026-11-01T00:00:00Z'));
    // Years below 100 are not moved to the 1900s.
    expect(periodEndMs('0050-12')).toBe(Date.parse('0051-01-01T00:00:00Z'));
  });
});
