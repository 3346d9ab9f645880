import { describe, expect, it } from 'vitest';
import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import { canonicalTickers, precisionFractionFromPct, precisionPctFromFraction, RegistryPage } from '../src/pages/Registry';
import { ActionsPage } from '../src/pages/Actions';
import { JobDetailPage } from '../src/pages/JobDetail';
import { MockServer } from './mockServer';
import { renderRoute } from './render';
import { BUILTIN_TYPES, job, jobType, logChunk, param, registryRow } from './fixtures';
import type { RegistryModelRow } from '../src/types/api';

const SORT = 'precision_desc,lift_desc,buy_rate_asc,support_desc';
const model = (ticker: string, run_id: string, extra: Partial<RegistryModelRow> = {}) => registryRow({ ticker, run_id, ...extra });
const jobTypes = { body: { job_types: BUILTIN_TYPES } };

describe('Registry page', () => {
  it('leaves Min Support to the server (its default shown), sends the default sort, shows seed formats', async () => {
    const s = new MockServer().on('GET', '/api/registry/models', { body: { items: [model('SPX', 'run_a')], total: 1, limit: 50, offset: 0, sort: SORT, min_support: 30 } }).install();
    renderRoute(<RegistryPage />, '/registry', '/registry');
    await screen.findByText('run_a', { selector: 'a' });
    const q = s.calls[0]!.url.searchParams;
    expect(q.has('min_support')).toBe(false);
    expect(q.get('sort')).toBe('precision_desc,lift_desc,buy_rate_asc,support_desc');
    const minSupport = screen.getByLabelText('Min Support') as HTMLInputElement;
    expect(minSupport.value).toBe('');
    expect(minSupport.placeholder).toBe('30 (default)');
    const row = screen.getByRole('row', { name: /run_a/ });
    expect(within(row).getByText('120d / 20%')).toBeTruthy();
    expect(within(row).getByText('1.23x')).toBeTruthy();
    expect(within(row).getByText('61.0%')).toBeTruthy();
    expect(within(row).getByText('12 / 3').getAttribute('title')).toBe('tp 12 · fp 3 · tn 40 · fn 5');
    const sortOptions = within(screen.getByLabelText('Sort')).getAllByRole('option').map((o) => o.textContent);
    expect(sortOptions).toEqual(['Precision↓ Lift↓ BuyRate↑ Support↓', 'Lift↓ Precision↓ BuyRate↑ Support↓', 'Precision↓ Support↓ Lift↓ BuyRate↑']);
  });

  it('keeps filters when paging and sends them server-side', async () => {
    const s = new MockServer().on('GET', '/api/registry/models', (c) => ({ body: { items: [model('SPX', `run_${c.url.searchParams.get('offset')}`)], total: 120, limit: 50, offset: Number(c.url.searchParams.get('offset')), sort: SORT, min_support: 30 } })).install();
    const { router } = renderRoute(<RegistryPage />, '/registry', '/registry?ticker=SPX&min_lift=1.1');
    await screen.findByText('run_0');
    fireEvent.click(screen.getByRole('button', { name: 'Next' }));
    await screen.findByText('run_50');
    const last = s.calls[s.calls.length - 1]!.url.searchParams;
    expect(last.get('ticker')).toBe('SPX');
    expect(last.get('min_lift')).toBe('1.1');
    expect(last.get('offset')).toBe('50');
    expect(router.state.location.search).toContain('offset=50');
    expect(router.state.location.search).toContain('ticker=SPX');
  });

  it('ticker filter: known tickers in a dropdown, case-insensitive, several at once; Min Precision typed as a percentage', async () => {
    const s = new MockServer()
      .on('GET', '/api/registry/models', { body: { items: [model('SPX', 'run_a')], total: 1, limit: 50, offset: 0, sort: SORT, min_support: 30 } })
      .on('GET', '/api/registry/tickers', { body: { items: ['SPX', 'SYN0001', 'SYN0002'], total: 3 } })
      .install();
    const { router } = renderRoute(<RegistryPage />, '/registry', '/registry?min_precision=0.6');
    await screen.findByText('run_a');
    expect((screen.getByLabelText('Min Precision (%)') as HTMLInputElement).value).toBe('60');
    await waitFor(() => expect(within(screen.getByTestId('registry-tickers')).getAllByRole('option', { hidden: true }).map((o) => o.getAttribute('label'))).toEqual(['SPX', 'SYN0001', 'SYN0002']));
    fireEvent.change(screen.getByLabelText('Ticker'), { target: { value: 'spx, ' } });
    // The suggestions continue the list typed so far.
    expect(within(screen.getByTestId('registry-tickers')).getAllByRole('option', { hidden: true }).map((o) => o.getAttribute('value'))).toEqual(['spx, SPX', 'spx, SYN0001', 'spx, SYN0002']);
    fireEvent.change(screen.getByLabelText('Ticker'), { target: { value: 'spx, syn0002 Unknown1' } });
    fireEvent.change(screen.getByLabelText('Min Precision (%)'), { target: { value: '55.5' } });
    fireEvent.click(screen.getByRole('button', { name: 'Refetch' }));
    await waitFor(() => expect(s.callsTo('/api/registry/models').at(-1)!.url.searchParams.get('ticker')).toBe('SPX,SYN0002,Unknown1'));
    expect(s.callsTo('/api/registry/models').at(-1)!.url.searchParams.get('min_precision')).toBe('0.555');
    expect(new URLSearchParams(router.state.location.search).get('min_precision')).toBe('0.555');
    expect(canonicalTickers(' syn0001,SYN0001 spx ', ['SPX', 'SYN0001'])).toEqual(['SYN0001', 'SPX']);
    expect(precisionFractionFromPct('')).toBeUndefined();
    expect(precisionPctFromFraction(0.07)).toBe('7');
  });

  it('refuses a different ticker and compares same-ticker rows in the drawer', async () => {
    new MockServer().on('GET', '/api/registry/models', { body: { items: [model('SPX', 'run_a'), model('SPX', 'run_b', { precision: 0.7 }), model('NDX', 'run_c')], total: 3, limit: 50, offset: 0, sort: SORT, min_support: 30 } }).install();
    renderRoute(<RegistryPage />, '/registry', '/registry');
    await screen.findByText('run_a');
    fireEvent.click(screen.getByLabelText('Compare SPX run_a'));
    fireEvent.click(screen.getByLabelText('Compare SPX run_b'));
    fireEvent.click(screen.getByLabelText('Compare NDX run_c'));
    expect(screen.getByTestId('compare-message').textContent).toMatch(/SPX is selected, NDX cannot be added/);
    expect((screen.getByLabelText('Compare NDX run_c') as HTMLInputElement).checked).toBe(false);
    const btn = screen.getByTestId('compare-button');
    expect(btn.textContent).toBe('Compare(2)');
    fireEvent.click(btn);
    const table = screen.getByTestId('compare-table');
    expect(within(table).getAllByRole('row')).toHaveLength(3);
    expect(within(table).getByText('70.0%').className).toContain('best');
  });
});

describe('Actions page', () => {
  it('prefills the backtest tab from the URL and submits the payload', async () => {
    const s = new MockServer()
      .on('POST', '/api/jobs/backtest', { body: job({ job_id: 'job_20260101_000000__abcd1234', job_type: 'backtest', status: 'QUEUED', started_at: null, ended_at: null, duration_sec: null, exit_code: null }) })
      .on('GET', '/api/job-types', jobTypes)
      .install();
    renderRoute(<ActionsPage />, '/actions', '/actions?type=backtest&ticker=SPX&model_path=runs/r1/model.json&start=2010-01-01&end=2015-12-31');
    expect(screen.getByRole('tab', { name: 'Backtest' }).getAttribute('aria-selected')).toBe('true');
    const form = screen.getByTestId('backtest-form');
    expect((within(form).getByDisplayValue('SPX') as HTMLInputElement).name).toBe('tickers');
    expect((form.querySelector('[name=model_path]') as HTMLInputElement).value).toBe('runs/r1/model.json');
    expect((form.querySelector('[name=start]') as HTMLInputElement).value).toBe('2010-01-01');
    expect((form.querySelector('[name=end]') as HTMLInputElement).value).toBe('2015-12-31');
    expect((form.querySelector('[name=config_path]') as HTMLInputElement).value).toBe('configs/backtest/base.yaml');
    fireEvent.change(screen.getByLabelText(/Overrides/), { target: { value: '# fees\nfee_bps=5\n\nstrategy.params.cutoff=0.6' } });
    expect(screen.getByTestId('overrides-preview').textContent).toContain('"fee_bps": 5'); // typed as the server reads it
    fireEvent.click(screen.getByRole('button', { name: 'Submit backtest job' }));
    await screen.findByText('job_20260101_000000__abcd1234', { selector: '.toast-body' });
    expect(s.callsTo('/api/jobs/backtest')[0]!.body).toEqual({
      config_path: 'configs/backtest/base.yaml', tickers: ['SPX'], start: '2010-01-01', end: '2015-12-31', model_path: 'runs/r1/model.json',
      overrides: ['fee_bps=5', 'strategy.params.cutoff=0.6'], dry_run: false,
    });
    expect(screen.getByRole('link', { name: /Open job/ }).getAttribute('href')).toBe('/jobs/job_20260101_000000__abcd1234');
  });

  it('type=train prefills config_path; invalid overrides block submit', () => {
    new MockServer().on('GET', '/api/job-types', jobTypes).install();
    renderRoute(<ActionsPage />, '/actions', '/actions?type=train&config_path=configs/other.yaml');
    expect(screen.getByRole('tab', { name: 'Train' }).getAttribute('aria-selected')).toBe('true');
    expect(screen.getByDisplayValue('configs/other.yaml')).toBeTruthy();
    fireEvent.change(screen.getByLabelText(/Overrides/), { target: { value: 'good=1\nbad line' } });
    expect(screen.getAllByTestId('override-error')[0]!.textContent).toMatch(/line 2/);
    expect((screen.getByRole('button', { name: 'Submit train job' }) as HTMLButtonElement).disabled).toBe(true);
  });

  it('type=eval prefills run_id and shows a refused job as an error toast', async () => {
    new MockServer()
      .on('POST', '/api/jobs/eval-metrics', { status: 404, body: { error: { code: 'NOT_FOUND', message: 'run run_x not found', details: null } } })
      .on('GET', '/api/job-types', jobTypes)
      .install();
    renderRoute(<ActionsPage />, '/actions', '/actions?type=eval&run_id=run_x');
    expect(screen.getByRole('tab', { name: 'Eval Metrics' }).getAttribute('aria-selected')).toBe('true');
    fireEvent.click(screen.getByRole('button', { name: 'Recompute metrics' }));
    const toast = await screen.findByRole('alert');
    expect(toast.textContent).toMatch(/run run_x not found \(404 NOT_FOUND\)/);
  });
});

describe('Job detail', () => {
  it('says "outcome unknown" for a job whose end was lost, not an ordinary failure', async () => {
    new MockServer()
      .on('GET', '/api/jobs/job_l', { body: job({ job_id: 'job_l', status: 'FAILED', exit_code: null, end_reason: 'lost', error_message: 'server restarted and the process was gone' }) })
      .on('GET', '/api/jobs/job_l/log', { body: logChunk({ job_id: 'job_l', content: '', next_offset: 0 }) })
      .install();
    renderRoute(<JobDetailPage />, '/jobs/:jobId', '/jobs/job_l');
    const summary = await screen.findByTestId('error-summary');
    expect(within(summary).getByTestId('outcome-unknown').textContent).toBe('outcome unknown');
    expect(screen.getByTestId('end-reason').textContent).toBe('lost');
    expect(summary.textContent).not.toMatch(/exited with a non-zero code/);
  });

  it('shows no "outcome unknown" for an ordinary failure', async () => {
    new MockServer()
      .on('GET', '/api/jobs/job_o', { body: job({ job_id: 'job_o', status: 'FAILED', exit_code: 1, end_reason: 'exit_code', error_message: 'x' }) })
      .on('GET', '/api/jobs/job_o/log', { body: logChunk({ job_id: 'job_o', content: '', next_offset: 0 }) })
      .install();
    renderRoute(<JobDetailPage />, '/jobs/:jobId', '/jobs/job_o');
    await screen.findByTestId('error-summary');
    expect(screen.queryByTestId('outcome-unknown')).toBeNull();
  });

  it('shows the Error Summary of a FAILED job and View Run for its artifacts', async () => {
    new MockServer()
      .on('GET', '/api/jobs/job_f', { body: job({ job_id: 'job_f', status: 'FAILED', exit_code: 2, end_reason: 'exit_code', error_message: 'unknown key model.foo', artifacts: { run_id: 'run_1' } }) })
      .on('GET', '/api/jobs/job_f/log', { body: logChunk({ job_id: 'job_f', content: 'boom\n', next_offset: 5 }) })
      .install();
    renderRoute(<JobDetailPage />, '/jobs/:jobId', '/jobs/job_f');
    const summary = await screen.findByTestId('error-summary');
    expect(within(summary).getByText('FAILED')).toBeTruthy();
    expect(screen.getByTestId('exit-code').textContent).toBe('2');
    expect(screen.getByTestId('end-reason').textContent).toBe('exit_code');
    expect(summary.textContent).toMatch(/exited with a non-zero code/);
    expect(screen.getByTestId('error-message').textContent).toBe('unknown key model.foo');
    fireEvent.click(within(summary).getByRole('button', { name: 'Hide message' }));
    expect(screen.queryByTestId('error-message')).toBeNull();
    expect(screen.getByRole('link', { name: 'View Run' }).getAttribute('href')).toBe('/runs/run_1');
    expect(screen.queryByRole('button', { name: 'Cancel' })).toBeNull();
    expect(within(screen.getByTestId('command')).getAllByRole('listitem').map((l) => l.textContent)).toEqual(['alphalab', 'train', '--config', 'configs/base.yaml']);
    await waitFor(() => expect(screen.getByTestId('log-box').textContent).toContain('boom'));
  });

  it('offers Cancel while running, asks for confirmation first, and no Error Summary', async () => {
    const s = new MockServer()
      .on('GET', '/api/jobs/job_r', { body: job({ job_id: 'job_r', job_type: 'backtest', status: 'RUNNING', ended_at: null, exit_code: null }) })
      .on('GET', '/api/jobs/job_r/log', { body: logChunk({ job_id: 'job_r' }) })
      .on('POST', '/api/jobs/job_r/cancel', { body: job({ job_id: 'job_r', status: 'CANCELED', exit_code: null, end_reason: 'canceled' }) })
      .install();
    renderRoute(<JobDetailPage />, '/jobs/:jobId', '/jobs/job_r');
    fireEvent.click(await screen.findByRole('button', { name: 'Cancel' }));
    const confirm = screen.getByTestId('confirm-cancel');
    fireEvent.click(within(confirm).getByRole('button', { name: 'Keep it running' }));
    expect(screen.queryByTestId('confirm-cancel')).toBeNull();
    expect(s.callsTo('/api/jobs/job_r/cancel')).toHaveLength(0);
    fireEvent.click(screen.getByRole('button', { name: 'Cancel' }));
    fireEvent.click(within(screen.getByTestId('confirm-cancel')).getByRole('button', { name: 'Yes, cancel the job' }));
    await waitFor(() => expect(s.callsTo('/api/jobs/job_r/cancel')).toHaveLength(1));
    expect(screen.queryByRole('button', { name: 'Re-run' })).toBeNull(); // not while it runs
    expect(screen.queryByTestId('error-summary')).toBeNull();
  });
});

describe('Jobs page', () => {
  it('sends the status and type filters to the server and keeps them in the URL', async () => {
    const { JobsPage } = await import('../src/pages/Jobs');
    const s = new MockServer()
      .on('GET', '/api/jobs/recent', (c) => ({
        body: { items: [job({ job_id: `job_${c.url.searchParams.get('status') ?? 'all'}`, status: (c.url.searchParams.get('status') ?? 'SUCCESS') as 'SUCCESS', artifacts: { run_id: 'run_9' } })], total: 1, limit: 100, offset: 0 },
      }))
      .on('GET', '/api/job-types', { body: { job_types: [...BUILTIN_TYPES, jobType({ name: 'rdagent-fin-quant' })] } })
      .install();
    const { router } = renderRoute(<JobsPage />, '/jobs', '/jobs');
    await screen.findByText('job_all');
    fireEvent.change(screen.getByLabelText('Status filter'), { target: { value: 'FAILED' } });
    await screen.findByText('job_FAILED');
    expect(router.state.location.search).toBe('?status=FAILED');
    await waitFor(() => expect(within(screen.getByLabelText('Type filter')).getAllByRole('option').map((o) => o.textContent)).toContain('rdagent-fin-quant'));
    fireEvent.change(screen.getByLabelText('Type filter'), { target: { value: 'backtest' } });
    await waitFor(() => expect(s.calls.some((c) => c.url.searchParams.get('job_type') === 'backtest' && c.url.searchParams.get('status') === 'FAILED')).toBe(true));
    const row = await screen.findByRole('row', { name: /job_FAILED/ });
    expect(within(row).getByText('FAILED').className).toContain('badge-failed');
    expect(within(row).getByRole('link', { name: 'run' }).getAttribute('href')).toBe('/runs/run_9');
  });
});

describe('Jobs page: search, dates, counts, paging', () => {
  it('sends q (after a pause), from and to to the server, shows status counts, dry runs and full args', async () => {
    const { JobsPage } = await import('../src/pages/Jobs');
    const s = new MockServer()
      .on('GET', '/api/jobs/recent', (c) => ({
        body: {
          items: [job({ job_id: 'job_dry', dry_run: true, command: ['/bin/alphalab', 'train', '--config', 'configs/a b.yaml'], args_preview: 'train --config configs/a b.yaml' })],
          total: 250,
          limit: Number(c.url.searchParams.get('limit')),
          offset: Number(c.url.searchParams.get('offset') ?? 0),
          status_counts: { QUEUED: 1, RUNNING: 2, SUCCESS: 240, FAILED: 7, CANCELED: 0 },
        },
      }))
      .on('GET', '/api/job-types', { body: { job_types: BUILTIN_TYPES } })
      .install();
    const { router } = renderRoute(<JobsPage />, '/jobs', '/jobs');
    const row = await screen.findByRole('row', { name: /job_dry/ });
    expect(within(row).getByText('dry run')).toBeTruthy();
    expect(within(row).getByLabelText('argv of job_dry').textContent).toBe('/bin/alphalabtrain--configconfigs/a b.yaml');
    const counts = screen.getByTestId('status-counts');
    expect(counts.textContent).toContain('all 250');
    expect(counts.textContent).toContain('FAILED 7');
    fireEvent.click(within(counts).getByRole('button', { name: /FAILED/ }));
    await waitFor(() => expect(s.calls.at(-1)!.url.searchParams.get('status')).toBe('FAILED'));

    fireEvent.change(screen.getByLabelText('Search jobs'), { target: { value: 'T' } });
    fireEvent.change(screen.getByLabelText('Search jobs'), { target: { value: 'TSM' } });
    await waitFor(() => expect(new URLSearchParams(router.state.location.search).get('q')).toBe('TSM'));
    // One request for the finished word, none for the keystroke before it.
    expect(s.calls.filter((c) => c.url.searchParams.get('q') === 'T')).toHaveLength(0);
    await waitFor(() => expect(s.calls.some((c) => c.url.searchParams.get('q') === 'TSM' && c.url.searchParams.get('status') === 'FAILED')).toBe(true));

    fireEvent.change(screen.getByLabelText('Created from'), { target: { value: '2026-01-01' } });
    fireEvent.change(screen.getByLabelText('Created to'), { target: { value: '2026-01-31' } });
    await waitFor(() => expect(s.calls.some((c) => c.url.searchParams.get('from') === '2026-01-01' && c.url.searchParams.get('to') === '2026-01-31' && c.url.searchParams.get('q') === 'TSM')).toBe(true));

    // Server-side paging: Next asks for the next offset.
    fireEvent.click(await screen.findByRole('button', { name: 'Next' }));
    await waitFor(() => expect(s.calls.at(-1)!.url.searchParams.get('offset')).toBe('100'));
    expect(new URLSearchParams(router.state.location.search).get('offset')).toBe('100');
  });
});

describe('Runs page: MLflow-like columns, server-side sort and search', () => {
  const summary = (run_id: string, models: unknown) => ({
    run_id, project: 'p', mode: 'base', status: 'success', start_time: '2026-01-01T00:00:00Z', end_time: '2026-01-01T00:05:00Z',
    dataset: 'synthetic', config_path: 'configs/base.yaml', tickers: ['SYN0001', 'SYN0002'], eval_modes: [], indexed_at: '2026-01-01T00:06:00Z', models,
  });
  it('shows dataset, tickers, label (never a bare dash), headline metrics; sorts and searches on the server', async () => {
    const { RunsPage } = await import('../src/pages/Runs');
    const s = new MockServer()
      .on('GET', '/api/runs', {
        body: {
          items: [
            summary('run_a', { count: 2, label_horizon_days: 120, label_threshold: 0.2, label_mixed: false, precision: 0.55, lift: 1.1, support: 90 }),
            summary('run_b', { count: 2, label_horizon_days: null, label_threshold: null, label_mixed: true, precision: null, lift: null, support: 40 }),
            summary('run_c', { count: 0, label_horizon_days: null, label_threshold: null, label_mixed: false, precision: null, lift: null, support: null }),
          ],
          total: 3, limit: 50, offset: 0,
        },
      })
      .install();
    const { router } = renderRoute(<RunsPage />, '/runs', '/runs');
    const rowA = await screen.findByRole('row', { name: /run_a/ });
    for (const t of ['synthetic', 'SYN0001, SYN0002', '120d / 20%', '55.0%', '1.10x', '90']) expect(within(rowA).getByText(t)).toBeTruthy();
    const labels = screen.getAllByTestId('run-label').map((c) => c.textContent);
    expect(labels).toEqual(['120d / 20%', 'mixed (per model)', 'not indexed (no metrics)']);
    expect(labels.every((l) => l !== '—' && !/^—/.test(l!))).toBe(true);

    fireEvent.click(screen.getByRole('button', { name: /dataset/ }));
    await waitFor(() => expect(s.calls.at(-1)!.url.searchParams.get('sort')).toBe('dataset_asc'));
    fireEvent.click(screen.getByRole('button', { name: /dataset/ }));
    await waitFor(() => expect(s.calls.at(-1)!.url.searchParams.get('sort')).toBe('dataset_desc'));
    expect(screen.getByRole('columnheader', { name: /dataset/ }).getAttribute('aria-sort')).toBe('descending');

    fireEvent.change(screen.getByLabelText('Search runs'), { target: { value: 'syn0002' } });
    await waitFor(() => expect(s.calls.at(-1)!.url.searchParams.get('q')).toBe('syn0002'));
    expect(s.calls.at(-1)!.url.searchParams.get('sort')).toBe('dataset_desc');
    expect(new URLSearchParams(router.state.location.search).get('q')).toBe('syn0002');
  });

  it('model-param columns: the keys the page sets, known XGBoost ones first, — where a run has none', async () => {
    const { RunsPage, paramColumns } = await import('../src/pages/Runs');
    const m = { count: 1, label_horizon_days: 20, label_threshold: 0.05, label_mixed: false, precision: 0.5, lift: 1, support: 10 };
    const a = { ...summary('run_a', m), model_params: { eta: 0.1, max_depth: 4, nthread: 1, tree_method: 'hist' } };
    const b = { ...summary('run_b', m), model_params: { max_depth: 6, num_round: 300 } };
    const c = { ...summary('run_c', m), model_params: {} };
    expect(paramColumns([a, b, c] as unknown as Parameters<typeof paramColumns>[0])).toEqual(['max_depth', 'eta', 'num_round', 'tree_method']);
    new MockServer().on('GET', '/api/runs', { body: { items: [a, b, c], total: 3, limit: 50, offset: 0 } }).install();
    renderRoute(<RunsPage />, '/runs', '/runs');
    await screen.findByRole('row', { name: /run_a/ });
    expect(screen.getAllByTestId('param-max_depth').map((x) => x.textContent)).toEqual(['4', '6', '—']);
    expect(screen.getAllByTestId('param-eta').map((x) => x.textContent)).toEqual(['0.1', '—', '—']);
    expect(screen.queryByRole('columnheader', { name: 'nthread' })).toBeNull();
  });

  it('a model-param header sorts on the server (sort=param.<name>_asc, then _desc) and keeps its column', async () => {
    const { RunsPage, paramColumns, sortParam } = await import('../src/pages/Runs');
    expect(sortParam('param.max_depth_desc')).toBe('max_depth');
    expect(sortParam('dataset_desc')).toBeNull();
    expect(paramColumns([], 'eta')).toEqual(['eta']);
    const m = { count: 1, label_horizon_days: 20, label_threshold: 0.05, label_mixed: false, precision: 0.5, lift: 1, support: 10 };
    const a = { ...summary('run_a', m), model_params: { eta: 0.1, max_depth: 4 } };
    const s = new MockServer().on('GET', '/api/runs', { body: { items: [a], total: 1, limit: 50, offset: 0 } }).install();
    renderRoute(<RunsPage />, '/runs', '/runs');
    await screen.findByRole('row', { name: /run_a/ });
    fireEvent.click(screen.getByRole('button', { name: /max_depth/ }));
    await waitFor(() => expect(s.calls.at(-1)!.url.searchParams.get('sort')).toBe('param.max_depth_asc'));
    await waitFor(() => expect(screen.getByRole('columnheader', { name: /max_depth/ }).getAttribute('aria-sort')).toBe('ascending'));
    fireEvent.click(screen.getByRole('button', { name: /max_depth/ }));
    await waitFor(() => expect(s.calls.at(-1)!.url.searchParams.get('sort')).toBe('param.max_depth_desc'));
    expect(screen.getByRole('columnheader', { name: /eta/ }).getAttribute('aria-sort')).toBe('none');
  });
});

describe('Actions page: forms from GET /api/job-types', () => {
  const userType = jobType({
    name: 'my-experiment',
    description: 'Run my experiment script',
    params: [
      param({ name: 'config', type: 'path', required: true, must_exist: true }),
      param({ name: 'seed', type: 'int', min: 0, default: 7 }),
      param({ name: 'rate', type: 'float' }),
      param({ name: 'verbose', type: 'bool', default: false }),
      param({ name: 'since', type: 'date' }),
      param({ name: 'mode', type: 'enum', choices: ['base', 'finetune'], default: 'base' }),
      param({ name: 'tags', type: 'list' }),
      param({ name: 'note', type: 'string', description: 'free text' }),
    ],
  });

  it('offers a tab per declared type with typed fields, and submits POST /api/jobs', async () => {
    const s = new MockServer()
      .on('GET', '/api/job-types', { body: { job_types: [...BUILTIN_TYPES, userType] } })
      .on('POST', '/api/jobs', { body: job({ job_id: 'job_u', job_type: 'my-experiment', status: 'QUEUED', started_at: null, ended_at: null, duration_sec: null, exit_code: null }) })
      .install();
    renderRoute(<ActionsPage />, '/actions', '/actions?type=my-experiment&config=configs/exp.yaml&tags=a&tags=b');
    const tab = await screen.findByRole('tab', { name: 'my-experiment' }, { timeout: 5000 });
    expect(tab.getAttribute('aria-selected')).toBe('true');
    const form = screen.getByTestId('jobtype-form-my-experiment');
    const field = (n: string) => form.querySelector(`[name=${n}]`) as HTMLInputElement;
    expect(field('config').value).toBe('configs/exp.yaml');
    expect(field('seed').type).toBe('number');
    expect(field('seed').step).toBe('1');
    expect(field('seed').min).toBe('0');
    expect(field('seed').value).toBe('7');
    expect(field('rate').step).toBe('any');
    expect(field('verbose').type).toBe('checkbox');
    expect(field('since').type).toBe('date');
    expect(field('mode').tagName).toBe('SELECT');
    expect(within(field('mode') as unknown as HTMLElement).getAllByRole('option').map((o) => o.textContent)).toEqual(['(default)', 'base', 'finetune']);
    expect(field('tags').tagName).toBe('TEXTAREA');
    expect(field('tags').value).toBe('a\nb');
    fireEvent.change(field('rate'), { target: { value: '0.25' } });
    fireEvent.click(field('verbose'));
    fireEvent.change(field('since'), { target: { value: '2020-01-31' } });
    fireEvent.change(field('mode'), { target: { value: 'finetune' } });
    fireEvent.click(field('dry_run'));
    fireEvent.click(screen.getByRole('button', { name: 'Submit my-experiment job' }));
    await screen.findByText('job_u', { selector: '.toast-body' });
    expect(s.callsTo('/api/jobs')[0]!.body).toEqual({
      job_type: 'my-experiment',
      params: { config: 'configs/exp.yaml', seed: 7, rate: 0.25, verbose: true, since: '2020-01-31', mode: 'finetune', tags: ['a', 'b'] },
      dry_run: true,
    });
  });

  it('shows the server refusal of a user type as an error toast', async () => {
    new MockServer()
      .on('GET', '/api/job-types', { body: { job_types: [...BUILTIN_TYPES, userType] } })
      .on('POST', '/api/jobs', { status: 400, body: { error: { code: 'INVALID_ARGUMENT', message: "param 'config': c.yaml does not exist", details: { param: 'config' } } } })
      .install();
    renderRoute(<ActionsPage />, '/actions', '/actions?type=my-experiment&config=c.yaml&seed=3');
    fireEvent.click(await screen.findByRole('button', { name: 'Submit my-experiment job' }, { timeout: 5000 }));
    const toast = await screen.findByText(/my-experiment job refused/);
    expect(toast.closest('[role=alert]')!.textContent).toMatch(/param 'config': c.yaml does not exist \(400 INVALID_ARGUMENT\)/);
  });
});
