import { describe, expect, it } from 'vitest';
import { api, ApiError, buildQuery, errorFromResponse, fetchWholeLog, request } from '../src/api/client';
import { schemaMismatch } from '../src/api/validate';
import { job, logChunk, registryRow } from './fixtures';
import { MockServer } from './mockServer';

describe('error envelope', () => {
  it('turns {"error":{code,message,details}} into an ApiError', () => {
    const e = errorFromResponse(400, 'Bad Request', JSON.stringify({ error: { code: 'INVALID_ARGUMENT', message: 'config_path escapes the workspace', details: { path: '../x' } } }), '/api/jobs/train');
    expect(e).toBeInstanceOf(ApiError);
    expect(e.status).toBe(400);
    expect(e.code).toBe('INVALID_ARGUMENT');
    expect(e.message).toBe('config_path escapes the workspace');
    expect(e.details).toEqual({ path: '../x' });
    expect(e.path).toBe('/api/jobs/train');
  });

  it('keeps plain-text bodies and foreign error shapes readable, never guessing a code', () => {
    const e = errorFromResponse(502, 'Bad Gateway', 'upstream down', '/api/x');
    expect(e.code).toBe('http_502');
    expect(e.message).toBe('upstream down');
    const fastapi = errorFromResponse(422, 'Unprocessable', JSON.stringify({ detail: 'field required' }), '/api/x');
    expect(fastapi.code).toBe('http_422');
    expect(fastapi.message).toBe('{"detail":"field required"}');
  });

  it('request() throws the typed error for a non-2xx response', async () => {
    new MockServer().on('POST', '/api/jobs/train', { status: 400, body: { error: { code: 'INVALID_ARGUMENT', message: 'malformed override "x"', details: { override: 'x' } } } }).install();
    await expect(api.submitTrain({ config_path: 'configs/base.yaml', overrides: ['x'], dry_run: false })).rejects.toMatchObject({
      name: 'ApiError',
      status: 400,
      code: 'INVALID_ARGUMENT',
      message: 'malformed override "x"',
    });
  });

  it('request() reports an unreachable server as network_error', async () => {
    const { configureClient } = await import('../src/api/client');
    configureClient({ fetch: async () => { throw new TypeError('Failed to fetch'); } });
    const err = await request('GET', '/api/jobs/recent', 'JobPage').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).code).toBe('network_error');
    expect((err as ApiError).status).toBe(0);
  });
});

describe('responses are checked against the OpenAPI document', () => {
  it('an unknown job status is an error the user sees, not QUEUED', async () => {
    new MockServer().on('GET', '/api/jobs/job_1', { body: job({ status: 'CANCELLED' as never }) }).install();
    const err = await api.job('job_1').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).code).toBe('bad_response');
    expect((err as ApiError).message).toMatch(/\/status must be equal to one of the allowed values.*CANCELED/);
  });

  it('a renamed or missing field is refused (r.id instead of job_id, bare arrays)', async () => {
    const { job_id: _omit, ...rest } = job();
    new MockServer()
      .on('GET', '/api/jobs/job_1', { body: { ...rest, id: 'job_1' } })
      .on('GET', '/api/jobs/recent', { body: [job()] })
      .install();
    await expect(api.job('job_1')).rejects.toMatchObject({ code: 'bad_response', message: expect.stringMatching(/job_id/) as unknown });
    await expect(api.recentJobs()).rejects.toMatchObject({ code: 'bad_response' });
  });

  it('numbers sent as strings are refused', () => {
    expect(schemaMismatch('RegistryRow', { ...registryRow({ ticker: 'SPX', run_id: 'r' }), precision: '0.61' })).toMatch(/precision must be number,null/);
    expect(schemaMismatch('RegistryRow', registryRow({ ticker: 'SPX', run_id: 'r' }))).toBeNull();
  });

  it('end_reason is required, typed and nullable', () => {
    expect(schemaMismatch('Job', job())).toBeNull();
    const { end_reason: _dropped, ...without } = job();
    void _dropped;
    expect(schemaMismatch('Job', without)).toMatch(/end_reason/);
    expect(schemaMismatch('Job', job({ status: 'FAILED', end_reason: 'spawn_failed' }))).toBeNull();
    expect(schemaMismatch('Job', job({ end_reason: null }))).toBeNull();
    expect(schemaMismatch('Job', job({ end_reason: 'exploded' as never }))).toMatch(/end_reason/);
  });
});

describe('queries', () => {
  it('buildQuery drops empty values and keeps zeros', () => {
    expect(buildQuery({ a: '', b: undefined, c: null, d: 0, e: 'x y', f: Number.NaN })).toBe('?d=0&e=x+y');
    expect(buildQuery({})).toBe('');
  });

  it('registryModels sends filters, sort and paging to the server', async () => {
    const s = new MockServer()
      .on('GET', '/api/registry/models', { body: { items: [registryRow({ ticker: 'SPX', run_id: 'r1' })], total: 71, limit: 50, offset: 50, sort: 'lift_desc', min_support: 30 } })
      .install();
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

  it('recentJobs returns the page {items,total,limit,offset}', async () => {
    new MockServer().on('GET', '/api/jobs/recent', { body: { items: [job({ job_id: 'b', status: 'FAILED', exit_code: 1 })], total: 1, limit: 100, offset: 0 } }).install();
    const page = await api.recentJobs();
    expect(page.items[0]!.status).toBe('FAILED');
    expect(page.total).toBe(1);
  });

  it('fetchWholeLog follows next_offset from byte 0 until nothing new arrives', async () => {
    const s = new MockServer()
      .on('GET', '/api/jobs/j/log', (c) => {
        const off = Number(c.url.searchParams.get('offset'));
        const parts: Record<number, [string, number]> = { 0: ['aaa', 3], 3: ['bbb', 6], 6: ['', 6] };
        const [content, next] = parts[off]!;
        return { body: logChunk({ job_id: 'j', content, next_offset: next, log_path: 'x.log' }) };
      })
      .install();
    expect(await fetchWholeLog('j')).toBe('aaabbb');
    expect(s.calls.map((c) => c.url.searchParams.get('offset'))).toEqual(['0', '3', '6']);
  });
});
