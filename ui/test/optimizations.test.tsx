import { describe, expect, it } from 'vitest';
import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import { MockServer } from './mockServer';
import { renderRoute } from './render';
import { OptimizationsPage } from '../src/pages/Optimizations';
import { OptimizationDetailPage } from '../src/pages/OptimizationDetail';
import {
  buildHeatmap,
  HEATMAP_MAX_BINS,
  buildRequest,
  defaultForm,
  emptyAxis,
  formForTask,
  formFromRequest,
  parseConstraint,
  progressParts,
  rangeCount,
  selectModelsForm,
  sortTop,
  type SweepForm,
} from '../src/lib/optimizations';
import type { Optimization, OptimizationSummary, OptimizationTask, OptimizationTopEntry } from '../src/types/api';

const top = (index: number, score: number, params: Record<string, unknown> = { 'strategy.params.fast': index }): OptimizationTopEntry => ({
  task_id: `job_${index}`,
  index,
  score,
  params,
  result_summary_id: `bt_${index}`,
  oos_score: null,
  oos_result_summary_id: null,
  model_run_id: null,
  metrics: { sharpe: 0.5, max_drawdown: 0.2, cagr: 0.07 },
});

const summary = (over: Partial<OptimizationSummary> = {}): OptimizationSummary => ({ total: 4, finished: 0, failed: 0, canceled: 0, running: 0, queued: 4, best_score: null, top_n: [], ...over });

function opt(over: Partial<Optimization> = {}): Optimization {
  return {
    id: 'opt_20261202_000000__aaaaaaaa',
    name: 'sma sweep',
    project: 'demo',
    owner_id: null,
    job_type: 'backtest',
    status: 'running',
    stop_reason: null,
    request: {
      name: 'sma sweep',
      project: 'demo',
      job_type: 'backtest',
      base_params: { config_path: 'configs/backtest/base.yaml' },
      param_space: { 'strategy.params.fast': [5, 10], 'strategy.params.slow': [50, 100] },
      sampler: { type: 'grid' },
      objective: { metric: 'final_equity', direction: 'max' },
      constraints: [],
      early_stop_policy: null,
      max_inflight: 2,
      top_n: 10,
      validation: null,
      source_job_id: null,
    },
    summary: summary(),
    progress: 0,
    best_score: null,
    source_id: null,
    reruns: [],
    total_tasks: 4,
    created_at: '2026-12-02T08:00:00.000Z',
    started_at: null,
    ended_at: null,
    updated_at: '2026-12-02T08:00:00.000Z',
    validation: null,
    deflated_sharpe: null,
    ...over,
  } as Optimization;
}

const task = (index: number, fast: number, slow: number, score: number | null, status: OptimizationTask['status'] = 'succeeded'): OptimizationTask => ({
  optimization_id: 'opt_20261202_000000__aaaaaaaa',
  index,
  params: { 'strategy.params.fast': fast, 'strategy.params.slow': slow },
  status,
  job_id: `job_${index}`,
  score,
  ranked: score !== null,
  reason: score === null ? 'constraint violated' : null,
  metrics: score === null ? {} : { final_equity: score, sharpe: 0.4 },
  result_summary_id: score === null ? null : `bt_${index}`,
  result_paths: [],
  attempt: 0,
  started_at: null,
  ended_at: null,
  model_run_id: null,
});

const page = <T,>(items: T[], total = items.length) => ({ items, total, limit: 50, offset: 0 });

describe('optimization logic', () => {
  it('progress arithmetic: ended / total and bar percentages that add up with running and queued', () => {
    const p = progressParts({ total: 200, finished: 57, failed: 2, canceled: 1, running: 8, queued: 132 });
    expect(p.ended).toBe(60);
    expect(p.fraction).toBeCloseTo(0.3, 12);
    expect(p.pct.finished).toBeCloseTo(28.5, 12);
    expect(p.pct.failed).toBeCloseTo(1, 12);
    expect(p.pct.canceled).toBeCloseTo(0.5, 12);
    expect(p.pct.running).toBeCloseTo(4, 12);
    expect(p.pct.finished + p.pct.failed + p.pct.canceled + p.pct.running + p.pct.queued).toBeCloseTo(100, 9);
    expect(p.consistent).toBe(true);
    expect(progressParts({ total: 10, finished: 3, failed: 0, canceled: 0, running: 0, queued: 0 }).consistent).toBe(false);
    const empty = progressParts({ total: 0, finished: 0, failed: 0, canceled: 0, running: 0, queued: 0 });
    expect(empty.fraction).toBe(0);
    expect(empty.pct.finished).toBe(0);
  });

  it('sorts the Top-N in the objective direction, ties by lower index', () => {
    const rows = [top(3, 10), top(1, 30), top(7, 10), top(2, 20)];
    expect(sortTop(rows, 'max').map((r) => r.index)).toEqual([1, 2, 3, 7]);
    expect(sortTop(rows, 'min').map((r) => r.index)).toEqual([3, 7, 2, 1]);
  });

  it('range count as the server counts: inclusive max, epsilon for decimal steps, off-lattice max', () => {
    expect(rangeCount(5, 50, 5)).toBe(10);
    expect(rangeCount(0.1, 1.0, 0.1)).toBe(10);
    expect(rangeCount(0, 10, 3)).toBe(4);
    expect(rangeCount(3, 2, 1)).toBe(0);
    expect(rangeCount(1, 2, 0)).toBe(0);
  });

  it('constraint grammar: operators, quoted names with escapes, percent, refusals', () => {
    expect(parseConstraint('max_drawdown <= 0.35')).toEqual({ metric: 'max_drawdown', op: '<=', value: 0.35 });
    expect(parseConstraint('"Drawdown" <= 25%')).toEqual({ metric: 'Drawdown', op: '<=', value: 0.25 });
    expect(parseConstraint('"a \\"q\\" b" > -1e-3')).toEqual({ metric: 'a "q" b', op: '>', value: -0.001 });
    expect(parseConstraint('1day.excess_return_with_cost.max_drawdown >= -0.1')).toEqual({ metric: '1day.excess_return_with_cost.max_drawdown', op: '>=', value: -0.1 });
    expect(parseConstraint('sharpe => 1')).toMatch(/no comparison operator/);
    expect(parseConstraint('sharpe >= +1')).toMatch(/not a number/);
    expect(parseConstraint('sharpe >= abc')).toMatch(/not a number/);
    expect(parseConstraint('"open <= 1')).toMatch(/unterminated/);
  });

  it('form validation names the fields the server names and blocks the request', () => {
    const f: SweepForm = {
      ...defaultForm(),
      axes: [
        { ...emptyAxis('strategy.params.fast'), kind: 'range', min: '5', max: '50', step: '0' },
        { ...emptyAxis('strategy.params.slow'), values: '20, 40, 20' },
        { ...emptyAxis('bad key'), values: '1' },
        { ...emptyAxis('strategy.params.x'), kind: 'continuous', min: '0', max: '1' },
      ],
      constraints: 'max_drawdown <= 0.35\nsharpe => 1',
      early_stop: true,
      patience: '0',
      top_n: '0',
      max_inflight: '10001',
      holdout_start: '2016-02-30',
    };
    const r = buildRequest(f);
    expect(r.request).toBeNull();
    const fields = r.errors.map((e) => e.field);
    expect(fields).toEqual(
      expect.arrayContaining([
        'param_space.strategy.params.fast.step',
        'param_space.strategy.params.slow',
        'param_space.bad key',
        'param_space.strategy.params.x',
        'constraints[1]',
        'early_stop_policy.patience',
        'top_n',
        'max_inflight',
        'validation.holdout_start',
      ]),
    );
    expect(fields).not.toContain('constraints[0]');
    expect(r.errors.find((e) => e.field === 'param_space.strategy.params.fast.step')!.message).toBe('must be greater than 0');
    expect(r.errors.find((e) => e.field === 'param_space.strategy.params.x')!.message).toMatch(/needs the random sampler/);
  });

  it('a valid form gives the request document and its grid task count; random n above the lattice is refused', () => {
    const f: SweepForm = {
      ...defaultForm(),
      name: 'sma',
      axes: [
        { ...emptyAxis('strategy.params.fast'), kind: 'range', min: '5', max: '50', step: '5' },
        { ...emptyAxis('strategy.params.slow'), values: '20, 40\n60' },
      ],
      constraints: 'max_drawdown <= 0.35',
      early_stop: true,
      patience: '20',
      min_tasks: '10',
      max_inflight: '8',
      holdout_start: '2016-01-01',
    };
    const r = buildRequest(f);
    expect(r.errors).toEqual([]);
    expect(r.tasks).toBe(30);
    expect(r.request).toEqual({
      name: 'sma',
      project: '',
      job_type: 'backtest',
      base_params: { config_path: 'configs/backtest/base.yaml' },
      param_space: { 'strategy.params.fast': { min: 5, max: 50, step: 5 }, 'strategy.params.slow': [20, 40, 60] },
      sampler: { type: 'grid' },
      objective: { metric: 'final_equity', direction: 'max' },
      constraints: ['max_drawdown <= 0.35'],
      early_stop_policy: { mode: 'max', patience: 20, min_tasks: 10, target: null },
      max_inflight: 8,
      top_n: 10,
      validation: { holdout_start: '2016-01-01' },
    });
    const random = buildRequest({ ...f, sampler: 'random', n: '31', seed: '3' });
    expect(random.errors.map((e) => e.field)).toEqual(['sampler.n']);
    expect(buildRequest({ ...f, sampler: 'random', n: '7', seed: '3' }).tasks).toBe(7);
    const big = buildRequest({ ...f, axes: [{ ...emptyAxis('a'), kind: 'range', min: '0', max: '1000', step: '1' }, { ...emptyAxis('b'), kind: 'range', min: '0', max: '999', step: '1' }] });
    expect(big.errors.map((e) => e.field)).toEqual(['param_space']);
    expect(big.errors[0]!.message).toMatch(/1001000 tasks, more than the maximum of 1000000/);
  });

  it('the Select models form is the contract request of model selection', () => {
    const r = buildRequest(selectModelsForm('demo'));
    expect(r.errors).toEqual([]);
    expect(r.tasks).toBeNull();
    expect(r.request).toEqual({
      name: 'select models demo',
      project: 'demo',
      job_type: 'backtest',
      base_params: { config_path: 'configs/backtest/topn.yaml' },
      param_space: { 'strategy.params.model_path': { models: { project: 'demo', status: 'success' } } },
      sampler: { type: 'grid' },
      objective: { metric: 'cagr', direction: 'max' },
      constraints: ['max_drawdown <= 0.15'],
      early_stop_policy: null,
      max_inflight: 8,
      top_n: 3,
    });
  });

  it('a stored request opens as the same form (round trip), with values that parse back', () => {
    const req = {
      name: 'x',
      project: 'p',
      job_type: 'backtest',
      base_params: { config_path: 'c.yaml' },
      param_space: { a: [1, 'two', '3', true, [1, 2]], b: { min: 0.1, max: 1, step: 0.1 }, c: { min: 0, max: 5 } },
      sampler: { type: 'random', n: 9, seed: 4 },
      objective: { metric: 'sharpe', direction: 'min' },
      constraints: ['"Drawdown" <= 25%'],
      early_stop_policy: { mode: 'min', patience: 3, min_tasks: 2, target: -1 },
      max_inflight: 4,
      top_n: 5,
      validation: { holdout_start: '2018-01-01' },
    };
    const f = formFromRequest(req, 'opt_src');
    const back = buildRequest(f);
    expect(back.errors).toEqual([]);
    expect(back.request).toEqual({ ...req, source_job_id: 'opt_src' });
  });

  it('a re-run form opens launchable: a policy with neither patience nor target stays off, a task re-run has no early stop', () => {
    const req = {
      name: 'sweep',
      job_type: 'backtest',
      base_params: { config_path: 'c.yaml' },
      param_space: { 'strategy.params.fast': [5, 10], 'strategy.params.slow': [50, 100] },
      sampler: { type: 'grid' },
      objective: { metric: 'sharpe', direction: 'max' },
      early_stop_policy: { mode: 'max', patience: null, min_tasks: 0, target: null },
    };
    const f = formFromRequest(req, 'opt_src');
    expect(f.early_stop).toBe(false);
    expect(buildRequest(f).errors).toEqual([]);
    const t = formForTask({ ...req, early_stop_policy: { mode: 'max', patience: 3, min_tasks: 0, target: null } }, 'opt_src', { 'strategy.params.fast': 5, 'strategy.params.slow': 50 });
    expect(t.early_stop).toBe(false);
    const built = buildRequest(t);
    expect(built.errors).toEqual([]);
    expect(built.request?.param_space).toEqual({ 'strategy.params.fast': [5], 'strategy.params.slow': [50] });
  });

  it('heatmap: values sorted on both axes, missing scores empty, min and max', () => {
    const h = buildHeatmap([task(0, 10, 100, 3), task(1, 5, 100, 1), task(2, 5, 50, null), task(3, 10, 50, 7)], 'strategy.params.fast', 'strategy.params.slow');
    expect(h.xs).toEqual(['5', '10']);
    expect(h.ys).toEqual(['50', '100']);
    expect([h.groupedX, h.groupedY]).toEqual([false, false]);
    expect(h.cells).toEqual([
      [null, 7],
      [1, 3],
    ]);
    expect([h.min, h.max]).toEqual([1, 7]);
  });

  it('heatmap of a large grid: at most HEATMAP_MAX_BINS columns and rows, each cell the best score of its values', () => {
    // fast 1..100 x slow 10, 20: 200 tasks; score = fast * slow / 10 (max: the largest fast and slow win)
    const tasks = [];
    for (let f = 1; f <= 100; ++f) for (const s of [10, 20]) tasks.push(task(tasks.length, f, s, (f * s) / 10));
    const h = buildHeatmap(tasks, 'strategy.params.fast', 'strategy.params.slow', 'max');
    expect(h.xs.length).toBeLessThanOrEqual(HEATMAP_MAX_BINS);
    expect(h.xs.length).toBe(34); // 100 values, 3 per cell
    expect(h.xs[0]).toBe('1–3');
    expect(h.xs.at(-1)).toBe('100');
    expect(h.ys).toEqual(['10', '20']);
    expect([h.groupedX, h.groupedY]).toEqual([true, false]);
    expect(h.cells[1]![0]).toBe(6); // fast 1..3, slow 20: best 3 * 20 / 10
    expect(h.cells[0]![1]).toBe(6); // fast 4..6, slow 10: best 6 * 10 / 10
    const min = buildHeatmap(tasks, 'strategy.params.fast', 'strategy.params.slow', 'min');
    expect(min.cells[1]![0]).toBe(2); // direction min: fast 1 wins
    expect([min.min, min.max]).toEqual([1, 200]);
  });
});

describe('Optimizations page', () => {
  it('history: server-side filters and paging, status badges per state, source links, empty state', async () => {
    const items = [opt({ status: 'early-stopped', best_score: 1234.5, source_id: 'opt_src' }), opt({ id: 'opt_b', status: 'canceled' })];
    const s = new MockServer().on('GET', '/api/v1/optimizations', (c) => (c.url.searchParams.get('status') === 'failed' ? { body: page([]) } : { body: { items, total: 60, limit: 25, offset: Number(c.url.searchParams.get('offset') ?? 0) } })).install();
    const { router } = renderRoute(<OptimizationsPage />, '/optimizations', '/optimizations?project=demo');
    await screen.findByText('opt_b');
    expect(s.callsTo('/api/v1/optimizations')[0]!.url.searchParams.get('project')).toBe('demo');
    const badges = screen.getAllByTestId('optimization-row').map((r) => within(r).getByText(/STOPPED|CANCELED/).className);
    expect(badges).toEqual(['badge badge-early-stopped', 'badge badge-canceled']);
    expect(screen.getByTestId('source-link').getAttribute('href')).toBe('/optimizations/opt_src');
    fireEvent.click(screen.getByRole('button', { name: 'Next' }));
    await waitFor(() => expect(s.callsTo('/api/v1/optimizations').at(-1)!.url.searchParams.get('offset')).toBe('25'));
    expect(router.state.location.search).toContain('project=demo');
    fireEvent.change(screen.getByLabelText('Status filter'), { target: { value: 'failed' } });
    await screen.findByText('No optimization matches these filters.');
  });

  it('the form shows the task count before launch, refuses invalid input without a request, then submits', async () => {
    const created = opt({ estimate: { tasks: 6, slots: 2, median_task_seconds: 0.5, seconds: 1.5, basis: 'history', samples: 3 } });
    const s = new MockServer()
      .on('GET', '/api/v1/optimizations', { body: page([]) })
      .on('POST', '/api/v1/optimizations', { status: 201, body: created })
      .on('POST', '/api/v1/optimizations/estimate', { body: { tasks: 6, slots: 2, median_task_seconds: 0.5, seconds: 1.5, basis: 'history', samples: 3 } })
      .install();
    const { router } = renderRoute(<OptimizationsPage />, '/optimizations', '/optimizations?new=1');
    await screen.findByTestId('optimization-form');
    expect(screen.getByTestId('task-count').textContent).toBe('12');
    fireEvent.change(screen.getByLabelText('Parameter 1 step'), { target: { value: '0' } });
    fireEvent.click(screen.getByRole('button', { name: 'Launch optimization' }));
    expect((await screen.findByTestId('form-errors')).textContent).toContain('param_space.strategy.params.fast.step: must be greater than 0');
    expect(s.callsTo('/api/v1/optimizations').filter((c) => c.method === 'POST')).toHaveLength(0);
    fireEvent.change(screen.getByLabelText('Parameter 1 step'), { target: { value: '15' } });
    expect(screen.getByTestId('task-count').textContent).toBe('6');
    fireEvent.click(screen.getByRole('button', { name: 'Launch optimization' }));
    await waitFor(() => expect(s.callsTo('/api/v1/optimizations').some((c) => c.method === 'POST')).toBe(true));
    const post = s.callsTo('/api/v1/optimizations').find((c) => c.method === 'POST')!;
    expect((post.body as { param_space: unknown }).param_space).toEqual({ 'strategy.params.fast': { min: 5, max: 20, step: 15 }, 'strategy.params.slow': [50, 100, 150] });
    await waitFor(() => expect(router.state.location.pathname).toBe(`/optimizations/${created.id}`));
  });
});

describe('Optimization form estimate', () => {
  const estimateCalls = (s: MockServer) => s.callsTo('/api/v1/optimizations/estimate');

  it('asks the server once the form is valid (debounced), shows loading, the figure, refusals and no history; never creates', async () => {
    const history = { tasks: 12, slots: 2, median_task_seconds: 0.5, seconds: 3, basis: 'history', samples: 7 };
    const refused = { status: 400, body: { error: { code: 'INVALID_ARGUMENT', message: 'base_params: config file configs/nope.yaml does not exist', details: { field: 'base_params' } } } };
    const none = { tasks: 6, slots: 2, median_task_seconds: null, seconds: null, basis: 'none', samples: 0 };
    const s = new MockServer()
      .on('GET', '/api/v1/optimizations', { body: page([]) })
      .on('POST', '/api/v1/optimizations/estimate', { body: history }, refused, { body: none })
      .install();
    renderRoute(<OptimizationsPage />, '/optimizations', '/optimizations?new=1');
    await screen.findByTestId('optimization-form');
    // Valid from the start: loading, then the server's figure.
    expect(screen.getByTestId('estimate-before').getAttribute('data-state')).toBe('loading');
    expect(screen.getByTestId('estimate-before').textContent).toContain('Estimating');
    expect((await screen.findByTestId('estimate-before-seconds', undefined, { timeout: 3000 })).textContent).toBe('3.0s');
    expect(screen.getByTestId('estimate-before').textContent).toContain('12 tasks × 500ms median / 2 slots, from 7 past runs');
    expect(estimateCalls(s)).toHaveLength(1);
    const sent = estimateCalls(s)[0]!.body as { param_space: unknown; job_type: string };
    expect(sent.job_type).toBe('backtest');
    expect(sent.param_space).toEqual({ 'strategy.params.fast': { min: 5, max: 20, step: 5 }, 'strategy.params.slow': [50, 100, 150] });
    // Invalid: no call, a hint instead of a figure.
    fireEvent.change(screen.getByLabelText('Parameter 1 step'), { target: { value: '0' } });
    expect(screen.getByTestId('estimate-before').getAttribute('data-state')).toBe('invalid');
    expect(screen.getByTestId('estimate-before').textContent).toContain('once the form is valid');
    // Typing several edits quickly asks once, for the last one.
    fireEvent.change(screen.getByLabelText('Parameter 1 step'), { target: { value: '1' } });
    fireEvent.change(screen.getByLabelText('Parameter 1 step'), { target: { value: '15' } });
    expect(screen.getByTestId('estimate-before').getAttribute('data-state')).toBe('loading');
    const alert = await screen.findByText(/No estimate: base_params: config file configs\/nope.yaml does not exist/, undefined, { timeout: 3000 });
    expect(alert.getAttribute('role')).toBe('alert');
    expect(estimateCalls(s)).toHaveLength(2);
    expect((estimateCalls(s)[1]!.body as { param_space: Record<string, unknown> }).param_space['strategy.params.fast']).toEqual({ min: 5, max: 20, step: 15 });
    // Another request: no history yet.
    fireEvent.change(screen.getByLabelText('Name'), { target: { value: 'renamed' } });
    await screen.findByText(/No run history for this job type yet/, undefined, { timeout: 3000 });
    expect(estimateCalls(s)).toHaveLength(3);
    expect(s.callsTo('/api/v1/optimizations').filter((c) => c.method === 'POST')).toHaveLength(0);
  });
});

describe('Optimization detail', () => {
  it('Top-N sorted in the direction, direction shown, empty state before any ranked task', async () => {
    const o = opt({ request: { ...opt().request, objective: { metric: 'max_drawdown', direction: 'min' }, early_stop_policy: { mode: 'min', patience: 5, min_tasks: 0, target: null } } });
    new MockServer()
      .on('GET', `/api/v1/optimizations/${o.id}`, { body: o })
      .on('GET', `/api/v1/optimizations/${o.id}/status`, { body: { status: 'running', stop_reason: null, summary: summary({ running: 2, queued: 2 }) } }, { body: { status: 'succeeded', stop_reason: null, summary: summary({ finished: 4, queued: 0, best_score: 0.1, top_n: [top(0, 0.3), top(2, 0.1), top(1, 0.2), top(3, 0.1)] }) } })
      .on('GET', `/api/v1/optimizations/${o.id}/tasks`, { body: page([]) })
      .install();
    renderRoute(<OptimizationDetailPage />, '/optimizations/:optId', `/optimizations/${o.id}`);
    await screen.findByText('No ranked task yet: the board fills as tasks finish.');
    expect(screen.getByTestId('sort-direction').textContent).toContain('lowest first (objective: min)');
    await waitFor(() => expect(screen.getAllByTestId('top-row')).toHaveLength(4), { timeout: 3000 });
    expect(screen.getAllByTestId('top-score').map((c) => c.textContent)).toEqual(['0.1', '0.1', '0.2', '0.3']);
    expect(screen.getAllByTestId('top-row').map((r) => within(r).getAllByRole('cell')[1]!.textContent)).toEqual(['2', '3', '1', '0']);
  });

  it('detail page: the tasks table\'s page is asked for with the optimization, not after it answered', async () => {
    const o = opt({});
    // The optimization never arrives (a 404): the tasks page was asked for all the same.
    const s = new MockServer()
      .on('GET', `/api/v1/optimizations/${o.id}`, { status: 404, body: { error: { code: 'NOT_FOUND', message: 'optimization does not exist', details: null } } })
      .on('GET', `/api/v1/optimizations/${o.id}/status`, { body: { status: 'running', stop_reason: null, summary: summary({}) } })
      .on('GET', `/api/v1/optimizations/${o.id}/tasks`, { body: page([task(0, 5, 50, 5)]) })
      .install();
    renderRoute(<OptimizationDetailPage />, '/optimizations/:optId', `/optimizations/${o.id}?sort=score_desc&toffset=25`);
    await screen.findByText(/optimization does not exist/);
    const tasks = s.callsTo(`/api/v1/optimizations/${o.id}/tasks`);
    expect(tasks).toHaveLength(1);
    expect(tasks[0]!.url.searchParams.get('sort')).toBe('score_desc');
    expect(tasks[0]!.url.searchParams.get('offset')).toBe('25');
    expect(tasks[0]!.url.searchParams.get('limit')).toBe('25');
  });

  it('early-stopped: the notice with the final summary, no polling after the end, the heatmap from the tasks endpoint', async () => {
    const st = { status: 'early-stopped', stop_reason: 'patience', summary: summary({ finished: 3, canceled: 1, queued: 0, best_score: 7, top_n: [top(3, 7)] }) };
    const o = opt({ status: 'early-stopped', stop_reason: 'patience', summary: st.summary });
    const s = new MockServer()
      .on('GET', `/api/v1/optimizations/${o.id}`, { body: o })
      .on('GET', `/api/v1/optimizations/${o.id}/status`, { body: st })
      .on('GET', `/api/v1/optimizations/${o.id}/tasks`, { body: page([task(0, 5, 50, 1), task(1, 5, 100, 3), task(2, 10, 50, null, 'canceled'), task(3, 10, 100, 7)]) })
      .install();
    renderRoute(<OptimizationDetailPage />, '/optimizations/:optId', `/optimizations/${o.id}`);
    const notice = await screen.findByTestId('early-stopped-notice');
    expect(notice.textContent).toContain('no improvement within the patience');
    expect(notice.textContent).toContain('3 finished, 0 failed, 1 canceled of 4; best score 7');
    const cells = await screen.findAllByTestId('hm-cell', {}, { timeout: 3000 });
    expect(cells.map((c) => c.textContent)).toEqual(['1', '—', '3', '7']);
    const chartCall = s.callsTo(`/api/v1/optimizations/${o.id}/tasks`).find((c) => c.url.searchParams.get('limit') === '1000')!;
    expect(chartCall.url.searchParams.get('offset')).toBe('0');
    await new Promise((r) => setTimeout(r, 1300));
    expect(s.callsTo(`/api/v1/optimizations/${o.id}/status`)).toHaveLength(1);
  });

  it('tasks table sorts on the server; Cancel asks first; out-of-sample column and deflated Sharpe shown', async () => {
    const o = opt({
      validation: { holdout_start: '2016-01-01', status: 'pending', runs: [] },
      deflated_sharpe: { value: 0.42, best_sharpe: 0.06, expected_max_sharpe: 0.05, trials: 12, sharpe_variance: 0.0004, observations: 800, skewness: -0.2, kurtosis: 4.1, reading: 'likely luck' },
    });
    const s = new MockServer()
      .on('GET', `/api/v1/optimizations/${o.id}`, { body: o })
      .on('GET', `/api/v1/optimizations/${o.id}/status`, { body: { status: 'running', stop_reason: null, summary: summary({ running: 1, queued: 1, finished: 2, best_score: 5, top_n: [top(0, 5)] }) } })
      .on('GET', `/api/v1/optimizations/${o.id}/tasks`, { body: page([task(0, 5, 50, 5)]) })
      .on('POST', `/api/v1/optimizations/${o.id}/cancel`, { body: opt({ status: 'canceled' }) })
      .install();
    renderRoute(<OptimizationDetailPage />, '/optimizations/:optId', `/optimizations/${o.id}`);
    await screen.findByTestId('tasks-table');
    expect(screen.getByTestId('top-oos').textContent).toBe('after the search');
    expect(screen.getByTestId('deflated-sharpe').textContent).toContain('0.420 — likely luck');
    fireEvent.click(within(screen.getByTestId('tasks-table')).getByRole('button', { name: /score/ }));
    await waitFor(() => expect(s.callsTo(`/api/v1/optimizations/${o.id}/tasks`).some((c) => c.url.searchParams.get('sort') === 'score_desc')).toBe(true));
    fireEvent.click(screen.getByRole('button', { name: 'Cancel' }));
    expect(s.calls.some((c) => c.method === 'POST')).toBe(false);
    fireEvent.click(await screen.findByRole('button', { name: 'Yes, cancel the optimization' }));
    await waitFor(() => expect(s.callsTo(`/api/v1/optimizations/${o.id}/cancel`)).toHaveLength(1));
  });
});
