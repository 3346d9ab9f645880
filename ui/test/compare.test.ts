import { describe, expect, it } from 'vitest';
import { bestIndex, toggleCompare } from '../src/lib/compare';
import { registryRow } from './fixtures';

const row = (ticker: string, run_id: string, precision = 0.5) => registryRow({ ticker, run_id, mode: 'base', precision });

describe('same-ticker compare rule', () => {
  it('adds rows of the same ticker and removes a ticked row', () => {
    let r = toggleCompare([], row('SPX', 'a'));
    expect(r.ok).toBe(true);
    r = toggleCompare(r.selected, row('SPX', 'b'));
    expect(r.selected.map((x) => x.run_id)).toEqual(['a', 'b']);
    r = toggleCompare(r.selected, row('SPX', 'a'));
    expect(r.selected.map((x) => x.run_id)).toEqual(['b']);
  });

  it('refuses a different ticker with a message and keeps the selection', () => {
    const sel = toggleCompare([], row('SPX', 'a')).selected;
    const r = toggleCompare(sel, row('NDX', 'b'));
    expect(r.ok).toBe(false);
    expect(r.selected).toBe(sel);
    if (!r.ok) expect(r.message).toMatch(/SPX.*NDX/);
  });

  it('accepts another ticker once the selection is empty again', () => {
    let sel = toggleCompare([], row('SPX', 'a')).selected;
    sel = toggleCompare(sel, row('SPX', 'a')).selected;
    expect(toggleCompare(sel, row('NDX', 'b')).ok).toBe(true);
  });

  it('treats the same run with another mode as a different row', () => {
    const base = row('SPX', 'a');
    const ft = { ...base, mode: 'finetune' };
    const r = toggleCompare([base], ft);
    expect(r.selected).toHaveLength(2);
  });

  it('bestIndex picks max or min and skips nulls', () => {
    const rows = [row('SPX', 'a', 0.4), registryRow({ ticker: 'SPX', run_id: 'n', precision: null }), row('SPX', 'b', 0.7)];
    expect(bestIndex(rows, (r) => r.precision, true)).toBe(2);
    expect(bestIndex(rows, (r) => r.precision, false)).toBe(0);
  });
});
