import { describe, expect, it } from 'vitest';
import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import { RegistryPage } from '../src/pages/Registry';
import { ActionsPage } from '../src/pages/Actions';
import { JobDetailPage } from '../src/pages/JobDetail';
import { MockServer } from './mockServer';
import { renderRoute } from './render';

const model = (ticker: string, run_id: string, extra: Record<string, unknown> = {}) => ({
  ticker, run_id, mode: 'base', label_horizon_days: 120, label_threshold: 0.2, precision: 0.61, recall: 0.4, f1: 0.5, accuracy: 0.7,
  buy_rate: 0.12, positive_rate: 0.3, lift: 1.234, tp: 12, fp: 3, tn: 40, fn: 5, support: 60, model_final_path: `runs/${run_id}/model.json`, ...extra,
});

describe('Registry page', () => {
  it('queries with Min Support 30 and the default sort, shows seed formats', async () => {
    const s = new MockServer().on('GET', '/api/registry/models', { body: { items: [model('SPX', 'run_a')], total: 1, limit: 50, offset: 0 } }).install();
    renderRoute(<RegistryPage />, '/registry', '/registry');
    await screen.findByText('run_a', { selector: 'a' });
    const q = s.calls[0]!.url.searchParams;
    expect(q.get('min_support')).toBe('30');
    expect(q.get('sort')).toBe('precision_desc,lift_desc,buy_rate_asc,support_desc');
    expect((screen.getByLabelText('Min Support') as HTMLInputElement).value).toBe('30');
    const row = screen.getByRole('row', { name: /run_a/ });
    expect(within(row).getByText('120d / 20%')).toBeTruthy();
    expect(within(row).getByText('1.23x')).toBeTruthy();
    expect(within(row).getByText('61.0%')).toBeTruthy();
    expect(within(row).getByText('12 / 3').getAttribute('title')).toBe('tp 12 · fp 3 · tn 40 · fn 5');
    const sortOptions = within(screen.getByLabelText('Sort')).getAllByRole('option').map((o) => o.textContent);
    expect(sortOptions).toEqual(['Precision↓ Lift↓ BuyRate↑ Support↓', 'Lift↓ Precision↓ BuyRate↑ Support↓', 'Precision↓ Support↓ Lift↓ BuyRate↑']);
  });

  it('keeps filters when paging and sends them server-side', async () => {
    const s = new MockServer().on('GET', '/api/registry/models', (c) => ({ body: { items: [model('SPX', `run_${c.url.searchParams.get('offset')}`)], total: 120, limit: 50, offset: Number(c.url.searchParams.get('offset')) } })).install();
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

  it('refuses a different ticker and compares same-ticker rows in the drawer', async () => {
    new MockServer().on('GET', '/api/registry/models', { body: { items: [model('SPX', 'run_a'), model('SPX', 'run_b', { precision: 0.7 }), model('NDX', 'run_c')], total: 3, limit: 50, offset: 0 } }).install();
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
    const s = new MockServer().on('POST', '/api/jobs/backtest', { body: { job_id: 'job_20260101_000000__abcd1234', status: 'QUEUED' } }).install();
    renderRoute(<ActionsPage />, '/actions', '/actions?type=backtest&ticker=SPX&model_path=runs/r1/model.json&start=2010-01-01&end=2015-12-31');
    expect(screen.getByRole('tab', { name: 'Backtest' }).getAttribute('aria-selected')).toBe('true');
    const form = screen.getByTestId('backtest-form');
    expect((within(form).getByDisplayValue('SPX') as HTMLInputElement).name).toBe('tickers');
    expect((form.querySelector('[name=model_path]') as HTMLInputElement).value).toBe('runs/r1/model.json');
    expect((form.querySelector('[name=start]') as HTMLInputElement).value).toBe('2010-01-01');
    expect((form.querySelector('[name=end]') as HTMLInputElement).value).toBe('2015-12-31');
    expect((form.querySelector('[name=config_path]') as HTMLInputElement).value).toBe('configs/backtest/base.yaml');
    fireEvent.change(screen.getByLabelText(/Overrides/), { target: { value: '# fees\nfee_bps=5\n\nstrategy.params.cutoff=0.6' } });
    expect(screen.getByTestId('overrides-preview').textContent).toContain('"fee_bps": "5"');
    fireEvent.click(screen.getByRole('button', { name: 'Submit backtest job' }));
    await screen.findByText('job_20260101_000000__abcd1234', { selector: '.toast-body' });
    expect(s.calls[0]!.body).toEqual({
      config_path: 'configs/backtest/base.yaml', tickers: ['SPX'], start: '2010-01-01', end: '2015-12-31', model_path: 'runs/r1/model.json',
      overrides: ['fee_bps=5', 'strategy.params.cutoff=0.6'], dry_run: false,
    });
    expect(screen.getByRole('link', { name: /Open job/ }).getAttribute('href')).toBe('/jobs/job_20260101_000000__abcd1234');
  });

  it('type=train prefills config_path; invalid overrides block submit', () => {
    new MockServer().install();
    renderRoute(<ActionsPage />, '/actions', '/actions?type=train&config_path=configs/other.yaml');
    expect(screen.getByRole('tab', { name: 'Train' }).getAttribute('aria-selected')).toBe('true');
    expect(screen.getByDisplayValue('configs/other.yaml')).toBeTruthy();
    fireEvent.change(screen.getByLabelText(/Overrides/), { target: { value: 'good=1\nbad line' } });
    expect(screen.getAllByTestId('override-error')[0]!.textContent).toMatch(/line 2/);
    expect((screen.getByRole('button', { name: 'Submit train job' }) as HTMLButtonElement).disabled).toBe(true);
  });

  it('type=eval prefills run_id and shows a refused job as an error toast', async () => {
    new MockServer().on('POST', '/api/jobs/eval-metrics', { status: 404, body: { error: { code: 'not_found', message: 'run run_x not found', details: null } } }).install();
    renderRoute(<ActionsPage />, '/actions', '/actions?type=eval&run_id=run_x');
    expect(screen.getByRole('tab', { name: 'Eval Metrics' }).getAttribute('aria-selected')).toBe('true');
    fireEvent.click(screen.getByRole('button', { name: 'Recompute metrics' }));
    const toast = await screen.findByRole('alert');
    expect(toast.textContent).toMatch(/run run_x not found \(404 not_found\)/);
  });
});

describe('Job detail', () => {
  it('shows the Error Summary of a FAILED job and View Run for its artifacts', async () => {
    new MockServer()
      .on('GET', '/api/jobs/job_f', { body: { job_id: 'job_f', job_type: 'train', status: 'FAILED', created_at: '2026-01-01T00:00:00Z', exit_code: 2, error_message: 'unknown key model.foo', cwd: '/w', command: ['alphalab', 'train', '--config', 'configs/base.yaml'], args_preview: 'train', artifacts: { run_id: 'run_1' }, runtime: { meta_path: 'm', log_path: 'l' }, params: {} } })
      .on('GET', '/api/jobs/job_f/log', { body: { job_id: 'job_f', content: 'boom\n', next_offset: 5, is_truncated: false, log_path: 'l' } })
      .install();
    renderRoute(<JobDetailPage />, '/jobs/:jobId', '/jobs/job_f');
    const summary = await screen.findByTestId('error-summary');
    expect(within(summary).getByText('FAILED')).toBeTruthy();
    expect(screen.getByTestId('exit-code').textContent).toBe('2');
    expect(screen.getByTestId('error-message').textContent).toBe('unknown key model.foo');
    fireEvent.click(within(summary).getByRole('button', { name: 'Hide message' }));
    expect(screen.queryByTestId('error-message')).toBeNull();
    expect(screen.getByRole('link', { name: 'View Run' }).getAttribute('href')).toBe('/runs/run_1');
    expect(screen.queryByRole('button', { name: 'Cancel' })).toBeNull();
    expect(within(screen.getByTestId('command')).getAllByRole('listitem').map((l) => l.textContent)).toEqual(['alphalab', 'train', '--config', 'configs/base.yaml']);
    await waitFor(() => expect(screen.getByTestId('log-box').textContent).toContain('boom'));
  });

  it('offers Cancel while running and no Error Summary', async () => {
    const s = new MockServer()
      .on('GET', '/api/jobs/job_r', { body: { job_id: 'job_r', job_type: 'backtest', status: 'RUNNING', command: [], artifacts: {}, runtime: {}, params: {} } })
      .on('GET', '/api/jobs/job_r/log', { body: { job_id: 'job_r', content: '', next_offset: 0, is_truncated: false, log_path: 'l' } })
      .on('POST', '/api/jobs/job_r/cancel', { body: { job_id: 'job_r', status: 'CANCELED' } })
      .install();
    renderRoute(<JobDetailPage />, '/jobs/:jobId', '/jobs/job_r');
    fireEvent.click(await screen.findByRole('button', { name: 'Cancel' }));
    await waitFor(() => expect(s.callsTo('/api/jobs/job_r/cancel')).toHaveLength(1));
    expect(screen.queryByTestId('error-summary')).toBeNull();
  });
});

describe('Jobs page', () => {
  it('sends the status and type filters to the server and keeps them in the URL', async () => {
    const { JobsPage } = await import('../src/pages/Jobs');
    const s = new MockServer()
      .on('GET', '/api/jobs/recent', (c) => ({ body: { items: [{ job_id: `job_${c.url.searchParams.get('status') ?? 'all'}`, job_type: 'train', status: c.url.searchParams.get('status') ?? 'SUCCESS', command: [], artifacts: { run_id: 'run_9' } }], total: 1 } }))
      .on('GET', '/api/job-types', { body: { job_types: [{ name: 'train' }, { name: 'backtest' }, { name: 'rdagent-fin-quant' }] } })
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
