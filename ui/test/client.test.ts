import { describe, expect, it } from 'vitest';
import { api, ApiError, buildQuery, errorFromResponse, fetchWholeLog, request, toJobDetail, toPaged, toRegistryRow } from '../src/api/client';
import { MockServer } from './mockServer';

describe('error envelope', () => {
  it('turns {"error":{code,message,details}} into an ApiError', () => {
    const e = errorFromResponse(400, 'Bad Request', JSON.stringify({ error: { code: 'invalid_argument', message: 'config_path escapes the workspace', details: { path: '../x' } } }), '/api/jobs/train');
    expect(e).toBeInstanceOf(ApiError);
    expect(e.status).toBe(400);
    expect(e.code).toBe('invalid_argument');
    expect(e.message).toBe('config_path escapes the workspace');
    expect(e.details).toEqual({ path: '../x' });
    expect(e.path).toBe('/api/jobs/train');
  });

  it('keeps plain-text bodies readable', () => {
    const e = errorFromResponse(502, 'Bad Gateway', 'upstream down', '/api/x');
    expect(e.code).toBe('http_502');
    expect(e.message).toBe('upstream down');
  });

  it('request() throws the typed error for a non-2xx response', async () => {
    new MockServer().on('POST', '/api/jobs/train', { status: 400, body: { error: { code: 'bad_override', message: 'malformed override "x"', details: null } } }).install();
    await expect(api.submitTrain({ config_path: 'configs/base.yaml', overrides: ['x'], dry_run: false })).rejects.toMatchObject({
      name: 'ApiError',
      status: 400,
      code: 'bad_override',
      message: 'malformed override "x"',
    });
  });

  it('request() reports an unreachable server as network_error', async () => {
    const { configureClient } = await import('../src/api/client');
    configureClient({ fetch: async () => { throw new TypeError('Failed to fetch'); } });
    const err = await request('GET', '/api/jobs/recent').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).code).toBe('network_error');
    expect((err as ApiError).status).toBe(0);
  });
});

describe('queries and converters', () => {
  it('buildQuery drops empty values and keeps zeros', () => {
    expect(buildQuery({ a: '', b: undefined, c: null, d: 0, e: 'x y', f: Number.NaN })).toBe('?d=0&e=x+y');
    expect(buildQuery({})).toBe('');
  });

  it('toPaged accepts the paged envelope and a bare array', () => {
    const p = toPaged({ items: [1, 2], total: 10, limit: 2, offset: 4 }, (x) => Number(x) * 10, 50, 0);
    expect(p).toEqual({ items: [10, 20], total: 10, limit: 2, offset: 4 });
    const a = toPaged([1, 2, 3], (x) => x, 50, 0);
    expect(a.total).toBe(3);
  });

  it('toJobDetail fills defaults and normalises status', () => {
    const j = toJobDetail({ job_id: 'job_1', job_type: 'train', status: 'running', command: ['alphalab', 'train', '--config', 'c.yaml'] });
    expect(j.status).toBe('RUNNING');
    expect(j.args_preview).toBe('train --config c.yaml');
    expect(j.artifacts).toEqual({});
    expect(j.runtime).toEqual({ meta_path: '', log_path: '' });
    expect(j.exit_code).toBeNull();
  });

  it('toRegistryRow parses numbers sent as strings and keeps nulls', () => {
    const r = toRegistryRow({ ticker: 'SPX', run_id: 'r', precision: '0.61', lift: 1.2, tp: null });
    expect(r.precision).toBeCloseTo(0.61);
    expect(r.lift).toBe(1.2);
    expect(r.tp).toBeNull();
    expect(r.fn).toBeNull();
  });

  it('registryModels sends filters, sort and paging to the server', async () => {
    const s = new MockServer().on('GET', '/api/registry/models', { body: { items: [{ ticker: 'SPX', run_id: 'r1' }], total: 71, limit: 50, offset: 50 } }).install();
    const page = await api.registryModels({ ticker: 'SPX', min_support: 30, min_lift: 1.1, sort: 'lift_desc', limit: 50, offset: 50 });
    const q = s.calls[0]!.url.searchParams;
    expect(q.get('ticker')).toBe('SPX');
    expect(q.get('min_support')).toBe('30');
    expect(q.get('min_lift')).toBe('1.1');
    expect(q.get('sort')).toBe('lift_desc');
    expect(q.get('offset')).toBe('50');
    expect(q.has('min_precision')).toBe(false);
    expect(page.total).toBe(71);
    expect(page.items[0]!.run_id).toBe('r1');
  });

  it('recentJobs accepts both an array and {items}', async () => {
    new MockServer().on('GET', '/api/jobs/recent', { body: [{ job_id: 'a', status: 'SUCCESS' }] }, { body: { items: [{ job_id: 'b', status: 'FAILED' }] } }).install();
    expect((await api.recentJobs({ status: 'SUCCESS' }))[0]!.job_id).toBe('a');
    expect((await api.recentJobs())[0]!.status).toBe('FAILED');
  });

  it('fetchWholeLog follows next_offset from byte 0 until nothing new arrives', async () => {
    const s = new MockServer()
      .on('GET', '/api/jobs/j/log', (c) => {
        const off = Number(c.url.searchParams.get('offset'));
        const parts: Record<number, [string, number]> = { 0: ['aaa', 3], 3: ['bbb', 6], 6: ['', 6] };
        const [content, next] = parts[off]!;
        return { body: { job_id: 'j', content, next_offset: next, is_truncated: false, log_path: 'x.log' } };
      })
      .install();
    expect(await fetchWholeLog('j')).toBe('aaabbb');
    expect(s.calls.map((c) => c.url.searchParams.get('offset'))).toEqual(['0', '3', '6']);
  });
});

describe('result converters (server shapes of runs and backtests)', () => {
  it('run detail: summary, config {path,raw,parsed} and registry_rows become one RunDetail', async () => {
    const { toRunDetail } = await import('../src/api/client');
    const d = toRunDetail({
      run_id: 'run_1', run_dir: 'runs/run_1',
      config: { path: 'runs/run_1/config.yaml', raw: 'dataset: demo\n', parsed: { dataset: 'demo' } },
      metrics: { base: { source: 'metrics.json' } }, manifest: { a: 1 }, files: [{ name: 'model.json', size: 10, mtime: 'x' }],
      summary: { run_id: 'run_1', mode: 'base', status: 'success', tickers: ['SPX'], start_time: 's', end_time: 'e', config_path: 'configs/base.yaml' },
      registry_rows: [{ ticker: 'SPX', run_id: 'run_1', mode: 'base', precision: 0.6, label_horizon_days: 20, label_threshold: 0.05, model_final_path: 'runs/run_1/model.json' }],
      jobs: [{ job_id: 'job_1', job_type: 'train', status: 'SUCCESS' }],
    });
    expect(d.tickers).toEqual(['SPX']);
    expect(d.config_text).toBe('dataset: demo\n');
    expect(d.config).toEqual({ dataset: 'demo' });
    expect(d.config_path).toBe('configs/base.yaml');
    expect(d.model_path).toBe('runs/run_1/model.json');
    expect(d.metrics).toHaveLength(1);
    expect(d.metrics[0]!.precision).toBe(0.6);
    expect(d.files[0]).toEqual({ name: 'model.json', size: 10, path: null });
    expect(d.jobs[0]!.status).toBe('SUCCESS');
  });

  it('backtest list rows carry flat metrics; detail keeps statistics beside the summary', async () => {
    const { toBacktestListItem, toBacktestDetail } = await import('../src/api/client');
    const item = toBacktestListItem({ bt_run_id: 'bt_1', cagr: 0.1, max_drawdown: 0.2, tickers: ['SPX'], strategy: 'sma_cross' });
    expect(item.summary?.cagr).toBe(0.1);
    expect(item.strategy).toBe('sma_cross');
    const d = toBacktestDetail({
      bt_run_id: 'bt_1', summary: { cagr: 0.1, trades: 3 }, statistics: { Drawdown: '20.0%' },
      equity_curve: [{ date: '2020-01-02', equity: 100, cash: 0, holdings: 100, drawdown: 0.1 }],
      trades: [{ symbol: 'SPX', entry_date: '2020-01-02', entry_price: 1, exit_date: '2020-02-03', exit_price: 2, shares: 3, pnl: 3, return: 1, fees: 0.1 }],
      config: { path: 'backtests/bt_1/config.yaml', raw: 'tickers: [SPX]\nstrategy: {type: sma_cross}\n', parsed: { tickers: ['SPX'], strategy: { type: 'sma_cross' }, start: '2017-01-01' } },
    });
    expect(d.summary.trades).toBe(3);
    expect(d.summary.statistics).toEqual({ Drawdown: '20.0%' });
    expect(d.equity).toEqual([{ date: '2020-01-02', equity: 100, drawdown: 0.1 }]);
    expect(d.trades[0]!.return).toBe(1);
    expect(d.tickers).toEqual(['SPX']);
    expect(d.strategy).toBe('sma_cross');
    expect(d.start).toBe('2017-01-01');
    expect(d.config).toBe('tickers: [SPX]\nstrategy: {type: sma_cross}\n');
  });
});
