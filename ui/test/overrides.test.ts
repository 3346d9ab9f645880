import { describe, expect, it } from 'vitest';
import { parseOverrides } from '../src/lib/overrides';

describe('parseOverrides', () => {
  it('parses key=value lines, ignoring blanks and # comments', () => {
    const p = parseOverrides('\n# tune depth\nmodel.params.max_depth=6\n   \nlabel.horizon_days = 20\n  # indented comment\ntickers=[SPX,NDX]\n');
    expect(p.values).toEqual({ 'model.params.max_depth': '6', 'label.horizon_days': '20', tickers: '[SPX,NDX]' });
    expect(p.overrides).toEqual(['model.params.max_depth=6', 'label.horizon_days=20', 'tickers=[SPX,NDX]']);
    expect(p.errors).toHaveLength(0);
    expect(p.lines.map((l) => l.line)).toEqual([3, 5, 7]);
  });

  it('keeps "=" inside the value', () => {
    expect(parseOverrides('note=a=b').values).toEqual({ note: 'a=b' });
  });

  it('flags malformed lines with their line numbers', () => {
    const p = parseOverrides('ok=1\nno equals sign\n=5\nbad key=1\nempty=\n');
    expect(p.values).toEqual({ ok: '1' });
    expect(p.errors.map((e) => e.line)).toEqual([2, 3, 4, 5]);
    expect(p.errors[0]!.error).toMatch(/missing "="/);
    expect(p.errors[1]!.error).toMatch(/empty key/);
    expect(p.errors[2]!.error).toMatch(/invalid key/);
    expect(p.errors[3]!.error).toMatch(/empty value/);
  });

  it('lets a later duplicate win and warns about it', () => {
    const p = parseOverrides('a=1\nb=2\na=3');
    expect(p.values).toEqual({ a: '3', b: '2' });
    expect(p.overrides).toEqual(['a=3', 'b=2']);
    expect(p.lines[2]!.warning).toMatch(/line 1/);
  });

  it('handles CRLF and an empty textarea', () => {
    expect(parseOverrides('a=1\r\nb=2').values).toEqual({ a: '1', b: '2' });
    expect(parseOverrides('')).toMatchObject({ values: {}, overrides: [], errors: [] });
  });
});
