import { describe, expect, it, vi } from 'vitest';
import { screen, waitFor } from '@testing-library/react';
import { ApiError } from '../src/api/client';
import { isTransient, MAX_RETRIES, shouldRetry } from '../src/lib/retry';
import { makeQueryClient } from '../src/queryClient';
import { BacktestDetailPage } from '../src/pages/BacktestDetail';
import { MockServer } from './mockServer';
import { renderRoute } from './render';
import { backtestDetail } from './fixtures';

vi.mock('../src/components/TimeSeriesChart', () => import('./chartMock'));

const err = (status: number, code = `http_${status}`) => new ApiError(status, code, 'x', null, '/api/x');

describe('retry rule', () => {
  it('never retries a 4xx', () => {
    for (const s of [400, 404, 409, 422, 429]) {
      expect(isTransient(err(s))).toBe(false);
      expect(shouldRetry(0, err(s))).toBe(false);
    }
  });

  it('retries network errors and 5xx up to MAX_RETRIES times', () => {
    for (const e of [err(0, 'network_error'), err(500), err(502), err(503)]) {
      expect(isTransient(e)).toBe(true);
      expect(shouldRetry(0, e)).toBe(true);
      expect(shouldRetry(MAX_RETRIES - 1, e)).toBe(true);
      expect(shouldRetry(MAX_RETRIES, e)).toBe(false);
    }
    expect(MAX_RETRIES).toBeGreaterThan(0);
  });

  it('does not retry a response that breaks the document, or a non-API error', () => {
    expect(shouldRetry(0, err(200, 'bad_response'))).toBe(false);
    expect(shouldRetry(0, new Error('bug'))).toBe(false);
    expect(shouldRetry(0, new DOMException('aborted', 'AbortError'))).toBe(false);
  });
});

function appClient() {
  const qc = makeQueryClient();
  qc.setDefaultOptions({ queries: { ...qc.getDefaultOptions().queries, retryDelay: 0 } });
  return qc;
}

describe("the app's query client", () => {
  it('requests a missing backtest once and shows its error at once', async () => {
    const s = new MockServer().on('GET', '/api/backtests/bt_missing', { status: 404, body: { error: { code: 'NOT_FOUND', message: "backtest 'bt_missing' not found", details: null } } }).install();
    renderRoute(<BacktestDetailPage />, '/backtests/:btRunId', '/backtests/bt_missing', appClient());
    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toMatch(/bt_missing' not found \(404 NOT_FOUND\)/);
    await new Promise((r) => setTimeout(r, 100));
    expect(s.callsTo('/api/backtests/bt_missing')).toHaveLength(1);
  });

  it('retries a 503 and shows the page when the server answers', async () => {
    const s = new MockServer()
      .on('GET', '/api/backtests/bt_1', { status: 503, body: { error: { code: 'UNAVAILABLE', message: 'busy', details: null } } }, { body: backtestDetail() })
      .install();
    renderRoute(<BacktestDetailPage />, '/backtests/:btRunId', '/backtests/bt_1', appClient());
    await screen.findByRole('heading', { name: 'bt_1' });
    await waitFor(() => expect(s.callsTo('/api/backtests/bt_1')).toHaveLength(2));
  });
});
