// "Backtest this model" flows: the buttons send the model only (the server fills in its dataset,
// tickers and test period), the Backtest detail warns about in-sample bars and shades the model's
// periods, a multi-ticker run pairs each ticker with its own model, the server's min_support.
import { describe, expect, it, vi } from 'vitest';
import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import { RegistryPage } from '../src/pages/Registry';
import { DashboardPage } from '../src/pages/Dashboard';
import { RunDetailPage } from '../src/pages/RunDetail';
import { BacktestDetailPage } from '../src/pages/BacktestDetail';
import { modelPeriods, overlapWarning } from '../src/lib/modelPeriods';
import { fmtModelLift, fmtModelPrecision } from '../src/lib/format';
import { runModels } from '../src/lib/runModels';
import { modelBacktestUrl } from '../src/lib/links';
import { MockServer } from './mockServer';
import { renderRoute } from './render';
import { backtestDetail, job, registryRow } from './fixtures';

vi.mock('../src/components/TimeSeriesChart', () => import('./chartMock'));

const SORT = 'precision_desc,lift_desc,buy_rate_asc,support_desc';
const queued = job({ job_id: 'job_bt', job_type: 'backtest', status: 'QUEUED', started_at: null, ended_at: null, duration_sec: null, exit_code: null });
const synModel = registryRow({ ticker: 'SYN0002', run_id: 'run_syn', model_final_path: 'runs/run_syn/model_SYN0002.json' });
const noPositives = registryRow({ ticker: 'SYN0003', run_id: 'run_syn', model_final_path: 'runs/run_syn/model_SYN0003.json', tp: 0, fp: 0, precision: 0, lift: 0, buy_rate: 0 });

describe('model rows', () => {
  it('a model with no predicted positive shows — for precision and lift, not 0.0% / 0.00x', () => {
    expect(fmtModelPrecision(noPositives)).toBe('—');
    expect(fmtModelLift(noPositives)).toBe('—');
    expect(fmtModelPrecision(synModel)).toBe('61.0%');
    expect(fmtModelLift(synModel)).toBe('1.23x');
    expect(fmtModelPrecision({ precision: 0, tp: 0, fp: 4 })).toBe('0.0%'); // predicted, all wrong: a real 0
  });

  it('Open in Actions carries only the model: the server pairs it with its own tickers', () => {
    expect(modelBacktestUrl(synModel)).toBe('/actions?type=backtest&model_path=runs%2Frun_syn%2Fmodel_SYN0002.json');
  });
});

describe('Registry: Run Backtest', () => {
  it('sends the model only (no base-config ticker), shows — for no positives and the server default floor', async () => {
    const s = new MockServer()
      .on('GET', '/api/registry/models', { body: { items: [synModel, noPositives], total: 2, limit: 50, offset: 0, sort: SORT, min_support: 30 } })
      .on('POST', '/api/jobs/backtest', { body: queued })
      .install();
    renderRoute(<RegistryPage />, '/registry', '/registry');
    const row = (await screen.findByText('SYN0002')).closest('tr')!;
    fireEvent.click(within(row).getByRole('button', { name: 'Run Backtest' }));
    await waitFor(() => expect(s.callsTo('/api/jobs/backtest')).toHaveLength(1));
    expect(s.callsTo('/api/jobs/backtest')[0]!.body).toEqual({ config_path: 'configs/backtest/base.yaml', model_path: 'runs/run_syn/model_SYN0002.json', overrides: [], dry_run: false });
    expect(within(row).getByRole('link', { name: 'Open in Actions' }).getAttribute('href')).toBe('/actions?type=backtest&model_path=runs%2Frun_syn%2Fmodel_SYN0002.json');
    const empty = screen.getByText('SYN0003').closest('tr')!;
    expect(within(empty).getAllByText('—')).toHaveLength(2);
    expect(within(empty).queryByText('0.00x')).toBeNull();
  });
});

describe('Dashboard: Best models', () => {
  it('says the support floor, backtests the model alone', async () => {
    const s = new MockServer()
      .on('GET', '/api/dashboard', { body: { recent_jobs: [], best_models: [synModel, noPositives], best_models_sort: SORT, best_models_min_support: 30, recent_backtests: [] } })
      .on('POST', '/api/jobs/backtest', { body: queued })
      .install();
    renderRoute(<DashboardPage />, '/dashboard', '/dashboard');
    expect((await screen.findByTestId('best-models-floor')).textContent).toMatch(/support ≥ 30 test rows/);
    const cards = screen.getAllByTestId('best-model');
    expect(within(cards[1]!).getAllByText('—')).toHaveLength(2);
    expect(within(cards[0]!).queryByRole('button', { name: 'Backtest' })).toBeNull(); // no base-config ticker backtest
    fireEvent.click(within(cards[0]!).getByRole('button', { name: 'Run Backtest with this model' }));
    await waitFor(() => expect(s.callsTo('/api/jobs/backtest')).toHaveLength(1));
    expect(s.callsTo('/api/jobs/backtest')[0]!.body).toEqual({ config_path: 'configs/backtest/base.yaml', model_path: 'runs/run_syn/model_SYN0002.json', overrides: [], dry_run: false });
  });
});

describe('Run detail of a multi-ticker run', () => {
  const rows = ['SYN0001', 'SYN0002', 'SYN0003'].map((t) => registryRow({ ticker: t, run_id: 'run_syn', model_final_path: `runs/run_syn/model_${t}.json` }));
  const manifest = { run_id: 'run_syn', models: Object.fromEntries(rows.map((r) => [r.ticker, r.model_final_path])) };

  it('runModels lists every model (manifest first, registry rows otherwise)', () => {
    expect(runModels({ manifest, registry_rows: [] }).map((m) => m.model_path)).toEqual(rows.map((r) => r.model_final_path));
    expect(runModels({ manifest: null, registry_rows: rows }).map((m) => m.ticker)).toEqual(['SYN0001', 'SYN0002', 'SYN0003']);
  });

  it('shows all models and pairs each ticker with its own model file', async () => {
    new MockServer()
      .on('GET', '/api/runs/run_syn', { body: { run_id: 'run_syn', run_dir: 'runs/run_syn', config: null, manifest, metrics: {}, files: [], summary: null, registry_rows: rows, jobs: [] } })
      .install();
    renderRoute(<RunDetailPage />, '/runs/:runId', '/runs/run_syn');
    const list = await screen.findByTestId('run-models');
    expect(within(list).getAllByRole('listitem').map((li) => li.textContent)).toEqual(rows.map((r) => `${r.ticker}: ${r.model_final_path}`));
    const links = screen.getAllByTestId('open-in-actions');
    expect(links).toHaveLength(3);
    links.forEach((a, i) => {
      const q = new URLSearchParams(a.getAttribute('href')!.split('?')[1]);
      expect(q.get('ticker')).toBe(rows[i]!.ticker);
      expect(q.get('model_path')).toBe(`runs/run_syn/model_${rows[i]!.ticker}.json`);
    });
  });
});

describe('Run detail: files', () => {
  it('lists each file as a download link of GET /api/runs/{run_id}/files/{name}', async () => {
    const files = [
      { name: 'metrics.json', type: 'file', size: 2048 },
      { name: 'model_SYN 1.json', type: 'file', size: 10 },
      { name: 'plots', type: 'dir' },
    ];
    new MockServer()
      .on('GET', '/api/runs/run_f', { body: { run_id: 'run_f', run_dir: 'runs/run_f', config: null, manifest: null, metrics: {}, files, summary: null, registry_rows: [], jobs: [] } })
      .install();
    renderRoute(<RunDetailPage />, '/runs/:runId', '/runs/run_f');
    const link = await screen.findByRole('link', { name: 'metrics.json' });
    expect(link.getAttribute('href')).toBe('/api/runs/run_f/files/metrics.json');
    expect(link.getAttribute('download')).toBe('metrics.json');
    expect(screen.getByRole('link', { name: 'model_SYN 1.json' }).getAttribute('href')).toBe('/api/runs/run_f/files/model_SYN%201.json');
    expect(screen.queryByRole('link', { name: /plots/ })).toBeNull(); // a folder is not a download
    expect(screen.getByText('plots/')).toBeTruthy();
  });
});

describe('Backtest detail: the model periods', () => {
  const split = { model_train_end: '2007-06-30', model_valid_end: '2008-06-30', model_test_start: '2008-07-01' };

  it('modelPeriods: train / valid / test and which ones the backtest reaches', () => {
    const p = modelPeriods(split, '2007-01-02', '2009-12-31');
    expect(p.map((x) => [x.name, x.from, x.to, x.visible])).toEqual([
      ['train', null, '2007-06-30', true],
      ['valid', '2007-07-01', '2008-06-30', true],
      ['test', '2008-07-01', null, true],
    ]);
    expect(modelPeriods(split, '2008-07-01', '2009-12-31').map((x) => x.visible)).toEqual([false, false, true]);
    expect(modelPeriods({}, '2008-07-01', '2009-12-31')).toEqual([]);
  });

  it('overlapWarning only when the backtest traded in-sample bars', () => {
    expect(overlapWarning({ ...split, in_sample_overlap_days: 0, bars: 400 })).toBeNull();
    expect(overlapWarning({ ...split, in_sample_overlap_days: null })).toBeNull();
    expect(overlapWarning({ ...split, in_sample_overlap_days: 370, bars: 760 })).toBe(
      "In-sample: 370 of 760 traded bars are on or before the model's valid_end (2008-06-30); the model was trained or validated on them, so these results overstate it. Start on 2008-07-01 for an out-of-sample backtest.",
    );
  });

  it('warns in red and shades the three periods on the equity chart', async () => {
    const summary = { ...split, in_sample_overlap_days: 2, bars: 3, tickers: ['SYN0002'], strategy: { type: 'signal' } };
    const curve = ['2008-06-27', '2008-06-30', '2008-07-01'].map((date, i) => ({ date, equity: 1000 + i, drawdown: 0 }));
    new MockServer().on('GET', '/api/backtests/bt_1', { body: backtestDetail({ summary, equity_curve: curve }) }).install();
    renderRoute(<BacktestDetailPage />, '/backtests/:btRunId', '/backtests/bt_1');
    const warn = await screen.findByTestId('overlap-warning');
    expect(warn.className).toContain('notice-error');
    expect(warn.getAttribute('role')).toBe('alert');
    expect(warn.textContent).toMatch(/^In-sample: 2 of 3 traded bars/);
    expect(screen.getByTestId('equity-chart-bands').textContent).toBe('…..2007-06-302007-07-01..2008-06-302008-07-01..…');
    const legend = screen.getByTestId('period-legend');
    expect([...legend.querySelectorAll('[data-period]')].map((e) => `${e.getAttribute('data-period')}:${e.getAttribute('data-visible')}`)).toEqual(['train:false', 'valid:true', 'test:true']);
  });

  it('out of sample: a green line, no warning', async () => {
    const summary = { ...split, in_sample_overlap_days: 0, bars: 2, tickers: ['SYN0002'], strategy: { type: 'signal' } };
    new MockServer().on('GET', '/api/backtests/bt_1', { body: backtestDetail({ summary }) }).install();
    renderRoute(<BacktestDetailPage />, '/backtests/:btRunId', '/backtests/bt_1');
    expect((await screen.findByTestId('out-of-sample')).textContent).toMatch(/every traded bar is after the model's valid_end \(2008-06-30\)/);
    expect(screen.queryByTestId('overlap-warning')).toBeNull();
  });
});
