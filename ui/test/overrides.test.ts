import { describe, expect, it } from 'vitest';
import { OVERRIDE_ITEM_PATTERN, parseOverrides } from '../src/lib/overrides';
import openapi from '../src/api/openapi.gen.json';

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
    expect(p.values).toEqual({ ok: '1', empty: '' });
    expect(p.errors.map((e) => e.line)).toEqual([2, 3, 4]);
    expect(p.errors[0]!.error).toMatch(/missing "="/);
    expect(p.errors[1]!.error).toMatch(/empty key/);
    expect(p.errors[2]!.error).toMatch(/invalid key/);
    expect(p.typed).toEqual({ ok: 1, empty: null }); // the server reads an empty value as null
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

  it('uses the server\'s key rule from the OpenAPI document: no "-", no leading digit', () => {
    expect(OVERRIDE_ITEM_PATTERN).toBe(String((openapi as { components: { schemas: { OverrideItem: { pattern: string } } } }).components.schemas.OverrideItem.pattern));
    const p = parseOverrides('model.params.max-depth=3\n1a=2\n_x.y_2=ok\nstrategy.params.top_n=5');
    expect(p.errors.map((e) => e.line)).toEqual([1, 2]);
    expect(p.errors[0]!.error).toMatch(/invalid key "model.params.max-depth"/);
    expect(p.overrides).toEqual(['_x.y_2=ok', 'strategy.params.top_n=5']);
  });

  it('previews values typed as the server reads them', () => {
    const p = parseOverrides("a=5\nb=0.25\nc=true\nd=no\ne=hello\nf=[SPX, 2, false]\ng='5'\nh=1e3\ni=~\nj=2020-01-01");
    expect(p.typed).toEqual({ a: 5, b: 0.25, c: true, d: false, e: 'hello', f: ['SPX', 2, false], g: '5', h: 1000, i: null, j: '2020-01-01' });
    expect(p.overrides).toContain('f=[SPX, 2, false]'); // what is sent stays the text
  });
});
