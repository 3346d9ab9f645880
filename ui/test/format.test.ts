import { describe, expect, it } from 'vitest';
import { fmtBytes, fmtConfusionTitle, fmtDuration, fmtInt, fmtLabel, fmtLift, fmtPct, fmtTpFp } from '../src/lib/format';

describe('formatters', () => {
  it('label: horizon days and threshold percent', () => {
    expect(fmtLabel(120, 0.2)).toBe('120d / 20%');
    expect(fmtLabel(20, 0.05)).toBe('20d / 5%');
    expect(fmtLabel(5, 0.025)).toBe('5d / 2.5%');
    expect(fmtLabel(null, 0.2)).toBe('— / 20%');
  });
  it('percentages, lift, integers', () => {
    expect(fmtPct(0.6123)).toBe('61.2%');
    expect(fmtPct(0.6123, 2)).toBe('61.23%');
    expect(fmtPct(null)).toBe('—');
    expect(fmtLift(1.234)).toBe('1.23x');
    expect(fmtLift(Number.NaN)).toBe('—');
    expect(fmtInt(1234567)).toBe('1,234,567');
  });
  it('tp / fp with tn/fn on hover', () => {
    expect(fmtTpFp(12, 3)).toBe('12 / 3');
    expect(fmtConfusionTitle(12, 3, 40, 5)).toBe('tp 12 · fp 3 · tn 40 · fn 5');
  });
  it('durations and sizes', () => {
    expect(fmtDuration(0.25)).toBe('250ms');
    expect(fmtDuration(42)).toBe('42.0s');
    expect(fmtDuration(185)).toBe('3m 05s');
    expect(fmtDuration(7380)).toBe('2h 03m');
    expect(fmtDuration(null)).toBe('—');
    expect(fmtBytes(20_000)).toBe('19.5 KB');
    expect(fmtBytes(100 * 1024 * 1024)).toBe('100.0 MB');
  });
});
