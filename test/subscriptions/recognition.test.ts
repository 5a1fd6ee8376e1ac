// Recognition (§14), hand-worked where a naive method would be a cent (or more) off.
import { describe, expect, it } from 'vitest';
import {
  annualSchedule,
  recogniseMonth,
  recognisedIn,
  recognitionSchedule,
  type ChargeRecord,
} from '../../src/subscriptions/recognition.js';

const annual = (net: bigint, refunds: ChargeRecord['refunds'] = []): ChargeRecord => ({
  id: 'appstore:S-1',
  family: 'fam-a',
  plan: 'plus-annual',
  months: 12,
  month: '2026-10',
  netMinor: net,
  refunds,
});

describe('annual schedule', () => {
  it('spreads 1999 cents as 7 × 167 then 5 × 166 (rounding each month to 167 would recognise 2004)', () => {
    const s = annualSchedule(1999n);
    expect(s).toEqual([167n, 167n, 167n, 167n, 167n, 167n, 167n, 166n, 166n, 166n, 166n, 166n]);
    expect(s.reduce((a, b) => a + b, 0n)).toBe(1999n);
    // The naive method, Math.round(1999 / 12) each month:
    expect(BigInt(Math.round(1999 / 12)) * 12n).toBe(2004n);
  });

  it('runs over 12 calendar months from the charge month, across the year end', () => {
    const sched = recognitionSchedule(annual(1999n));
    expect(sched.map((x) => x.month)).toEqual([
      '2026-10', '2026-11', '2026-12', '2027-01', '2027-02', '2027-03',
      '2027-04', '2027-05', '2027-06', '2027-07', '2027-08', '2027-09',
    ]);
    expect(recognisedIn(annual(1999n), '2026-09')).toBe(0n);
    expect(recognisedIn(annual(1999n), '2027-10')).toBe(0n);
    expect(recognisedIn(annual(1999n), '2027-04')).toBe(167n);
    expect(recognisedIn(annual(1999n), '2027-05')).toBe(166n);
  });

  it('an exact multiple of 12 has no odd cents; a net below 12 gives its cents to the first months', () => {
    expect(annualSchedule(1200n)).toEqual(Array(12).fill(100n));
    expect(annualSchedule(5n)).toEqual([1n, 1n, 1n, 1n, 1n, 0n, 0n, 0n, 0n, 0n, 0n, 0n]);
  });
});

describe('refunds', () => {
  it('a partial refund in month 5 cancels months 5–12 and recognises cancelled − refund there', () => {
    // 1999 cents from 2026-10; refund of 1000 cents in 2027-02 (the 5th month).
    const c = annual(1999n, [{ id: 'appstore:R-1', month: '2027-02', netMinor: 1000n }]);
    const sched = recognitionSchedule(c);
    // Months 1–4: 167 each = 668. Cancelled: 167 × 3 + 166 × 5 = 1331. Month 5: 1331 − 1000 = 331.
    expect(sched).toEqual([
      { month: '2026-10', amountMinor: 167n },
      { month: '2026-11', amountMinor: 167n },
      { month: '2026-12', amountMinor: 167n },
      { month: '2027-01', amountMinor: 167n },
      { month: '2027-02', amountMinor: 331n },
    ]);
    expect(sched.reduce((s, x) => s + x.amountMinor, 0n)).toBe(999n);
    // Spreading the refund over the 8 remaining months instead (1000/8 = 125 off each)
    // would still recognise 42 cents in 2027-03; the rule recognises nothing after month 5.
    expect(recognisedIn(c, '2027-03')).toBe(0n);
  });

  it('a full refund in month 5 recognises −(the months already recognised) there', () => {
    const c = annual(1999n, [{ id: 'appstore:R-1', month: '2027-02', netMinor: 1999n }]);
    expect(recognisedIn(c, '2027-02')).toBe(-668n);
    expect(recognitionSchedule(c).reduce((s, x) => s + x.amountMinor, 0n)).toBe(0n);
  });

  it('a refund in the charge month cancels everything: the month recognises net − refund', () => {
    const c = annual(1999n, [{ id: 'appstore:R-1', month: '2026-10', netMinor: 500n }]);
    expect(recognitionSchedule(c)).toEqual([{ month: '2026-10', amountMinor: 1499n }]);
  });

  it('a second refund cancels nothing more: it recognises −(its net)', () => {
    const c = annual(1999n, [
      { id: 'appstore:R-1', month: '2027-02', netMinor: 1000n },
      { id: 'appstore:R-2', month: '2027-04', netMinor: 300n },
    ]);
    expect(recognisedIn(c, '2027-02')).toBe(331n);
    expect(recognisedIn(c, '2027-03')).toBe(0n);
    expect(recognisedIn(c, '2027-04')).toBe(-300n);
    expect(recognitionSchedule(c).reduce((s, x) => s + x.amountMinor, 0n)).toBe(1999n - 1300n);
  });

  it('a refund after the schedule ended recognises −(its net) and cancels nothing', () => {
    const c = annual(1999n, [{ id: 'appstore:R-1', month: '2027-12', netMinor: 100n }]);
    expect(recognisedIn(c, '2027-09')).toBe(166n);
    expect(recognisedIn(c, '2027-12')).toBe(-100n);
  });

  it("a monthly plan's net counts in its charge month; its refund recognises −net in the refund month", () => {
    const c: ChargeRecord = {
      id: 'web:W-1', family: 'fam-b', plan: 'plus-monthly', months: 1, month: '2026-10', netMinor: 699n,
      refunds: [{ id: 'web:W-2', month: '2026-11', netMinor: 699n }],
    };
    expect(recognitionSchedule(c)).toEqual([
      { month: '2026-10', amountMinor: 699n },
      { month: '2026-11', amountMinor: -699n },
    ]);
  });

  it('refuses a refund dated before its charge (a bug upstream, never silently recognised)', () => {
    expect(() => recognisedIn(annual(1200n, [{ id: 'r', month: '2026-09', netMinor: 1n }]), '2026-10')).toThrow(RangeError);
  });
});

describe('recogniseMonth', () => {
  it('sums a family’s charges and lists a family whose amounts cancel to 0', () => {
    const charges: ChargeRecord[] = [
      annual(1999n),
      { ...annual(1200n), id: 'x', family: 'fam-b' },
      { id: 'm', family: 'fam-a', plan: 'plus-monthly', months: 1, month: '2026-11', netMinor: 699n, refunds: [] },
      { id: 'n', family: 'fam-c', plan: 'plus-monthly', months: 1, month: '2026-11', netMinor: 699n, refunds: [{ id: 'r', month: '2026-11', netMinor: 699n }] },
      { id: 'old', family: 'fam-d', plan: 'plus-monthly', months: 1, month: '2026-10', netMinor: 699n, refunds: [] },
    ];
    const m = recogniseMonth('2026-11', charges);
    expect([...m].sort()).toEqual([
      ['fam-a', 167n + 699n],
      ['fam-b', 100n],
      ['fam-c', 0n],
    ]);
  });
});
