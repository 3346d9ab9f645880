// Backtest detail: the monthly returns heatmap, the data range next to the requested one, the
// links to the model run and the job, synced cursors.
import { describe, expect, it, vi } from 'vitest';
import { screen, within } from '@testing-library/react';
import { BacktestDetailPage } from '../src/pages/BacktestDetail';
import { monthlyReturns, parseEquityCsv, requestedRange, returnColor } from '../src/lib/monthlyReturns';
import { MockServer } from './mockServer';
import { renderRoute } from './render';
import { backtestDetail } from './fixtures';

vi.mock('../src/components/TimeSeriesChart', async () => {
  const mod = await import('./chartMock');
  return { TimeSeriesChart: (p: Parameters<typeof mod.TimeSeriesChart>[0] & { syncKey?: string }) => <div data-sync={p.syncKey}>{mod.TimeSeriesChart(p)}</div> };
});

describe('monthly returns', () => {
  it('month-end over previous month-end; the first month over the initial cash; the year compounded', () => {
    const rows = [
      { date: '2020-11-30', equity: 1050 },
      { date: '2020-12-15', equity: 1000 },
      { date: '2020-12-31', equity: 1102.5 },
      { date: '2021-01-29', equity: 992.25 },
    ];
    const y = monthlyReturns(rows, 1000);
    expect(y.map((x) => x.year)).toEqual([2020, 2021]);
    expect(y[0]!.months[10]).toBeCloseTo(0.05, 12);
    expect(y[0]!.months[11]).toBeCloseTo(0.05, 12);
    expect(y[0]!.months[0]).toBeNull();
    expect(y[0]!.total).toBeCloseTo(0.1025, 12);
    expect(y[1]!.months[0]).toBeCloseTo(-0.1, 12);
    expect(y[1]!.total).toBeCloseTo(-0.1, 12);
    // without an initial cash, the first bar's equity is the base
    expect(monthlyReturns(rows)[0]!.months[10]).toBe(0);
    expect(monthlyReturns([])).toEqual([]);
  });

  it('parses equity.csv by its header and names a bad row', () => {
    expect(parseEquityCsv('date,equity,cash\n2020-01-02,10.5,1\n')).toEqual([{ date: '2020-01-02', equity: 10.5 }]);
    expect(() => parseEquityCsv('date,equity\n2020-01-02,x\n')).toThrow(/row 2: equity 'x'/);
    expect(() => parseEquityCsv('day,value\n')).toThrow(/no date or equity/);
  });

  it('colours: green up, red down, none without bars; the requested window from the config', () => {
    expect(returnColor(0.02)).toMatch(/^rgba\(22, 163, 74/);
    expect(returnColor(-0.02)).toMatch(/^rgba\(220, 38, 38/);
    expect(returnColor(null)).toBe('transparent');
    expect(requestedRange({ start: '2017-01-01', end: '2020-12-31' })).toEqual({ start: '2017-01-01', end: '2020-12-31' });
    expect(requestedRange({ start: '2017-01-01' })).toEqual({ start: '2017-01-01', end: null });
    expect(requestedRange(null)).toEqual({ start: null, end: null });
  });
});

describe('Backtest detail: origin, heatmap, synced charts', () => {
  it('shows the data range next to the requested one, links the model run and the job, draws the heatmap', async () => {
    const bt = backtestDetail();
    bt.summary = { ...bt.summary, start: '2017-01-03', end: '2017-02-28', bars: 38, warmup_bars: 0, model_run_id: 'run_m', model_path: 'runs/run_m/model_SPX.json', job_id: 'job_b', initial_cash: 1000 };
    bt.config = { path: 'backtests/x/config.yaml', raw: 'start: 2017-01-01\nend: 2017-03-31\n', parsed: { start: '2017-01-01', end: '2017-03-31' } };
    bt.downsampled = false;
    bt.equity_curve = [
      { date: '2017-01-03', equity: 1000, drawdown: 0 },
      { date: '2017-01-31', equity: 1100, drawdown: 0 },
      { date: '2017-02-28', equity: 1045, drawdown: 0.05 },
    ];
    new MockServer().on('GET', `/api/backtests/${bt.bt_run_id}`, { body: bt }).install();
    renderRoute(<BacktestDetailPage />, '/backtests/:btRunId', `/backtests/${bt.bt_run_id}`);
    expect((await screen.findByTestId('data-range')).textContent).toBe('2017-01-03 → 2017-02-28 (38 bars)');
    expect(screen.getByTestId('requested-range').textContent).toBe('2017-01-01 → 2017-03-31');
    expect(screen.getByTestId('model-run-link').getAttribute('href')).toBe('/runs/run_m');
    expect(screen.getByTestId('job-link').getAttribute('href')).toBe('/jobs/job_b');
    const row = within(screen.getByTestId('monthly-returns')).getByRole('row', { name: /^2017/ });
    const cells = within(row).getAllByRole('cell').map((c) => c.textContent);
    expect(cells.slice(0, 3)).toEqual(['10.0%', '-5.0%', '']);
    expect(cells[12]).toBe('4.5%');
    // both charts share one sync key
    const keys = [...document.querySelectorAll('[data-sync]')].map((e) => e.getAttribute('data-sync'));
    expect(keys.length).toBe(2);
    expect(new Set(keys)).toEqual(new Set([`bt-${bt.bt_run_id}`]));
  });

  it('a backtest run by hand says so instead of a job link', async () => {
    const bt = backtestDetail();
    bt.summary = { ...bt.summary, job_id: null };
    new MockServer().on('GET', `/api/backtests/${bt.bt_run_id}`, { body: bt }).install();
    renderRoute(<BacktestDetailPage />, '/backtests/:btRunId', `/backtests/${bt.bt_run_id}`);
    expect(await screen.findByText('run by hand (no job)')).toBeTruthy();
    expect(screen.queryByTestId('job-link')).toBeNull();
  });
});
