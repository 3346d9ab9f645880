import { describe, expect, it } from 'vitest';
import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import { MockServer } from './mockServer';
import { renderRoute } from './render';
import { job, logChunk } from './fixtures';
import { RdagentPage } from '../src/pages/Rdagent';
import { buildTaskRequest, configHashes, defaultTaskForm, loopView, orderedMetrics, serverErrors, tabFromParam, type RdagentTask } from '../src/lib/rdagent';
import { ApiError } from '../src/api/client';
import type { JobDetail } from '../src/types/api';

const rdJob = (over: Partial<JobDetail> = {}): JobDetail =>
  job({
    job_id: 'job_rd1',
    job_type: 'rdagent-fin-quant',
    status: 'RUNNING',
    ended_at: null,
    duration_sec: null,
    exit_code: null,
    end_reason: null,
    params: { dataset_ids: ['demo', 'synthetic'], loop_n: 2, evolving_mode: 'bandit', knowledge_base: false },
    ...over,
  });

const task = (over: Partial<RdagentTask> = {}, jobOver: Partial<JobDetail> = {}): RdagentTask => ({
  task_id: jobOver.job_id ?? 'job_rd1',
  job: rdJob(jobOver),
  progress: { loops_started: 2, loop: 1, step: 2, step_name: 'running' },
  loop_results: [{ path: 'RD-Agent_workspace/loop_0/qlib_res.csv', metrics: { IC: 0.031, 'Rank IC': 0.04 } }],
  metrics: null,
  metrics_error: null,
  ...over,
});

const DATASETS = {
  default: 'demo',
  items: [
    { name: 'demo', format: 'csv' as const, path: 'data/demo', instruments_file: null, description: '', default: true, readonly: true, source: 'alphalab.yaml' },
    { name: 'synthetic', format: 'csv' as const, path: 'data/synthetic', instruments_file: null, description: '', default: false, readonly: true, source: 'alphalab.yaml' },
  ],
};

const TEMPLATE = 'rdagent/scenarios/qlib/experiment/factor_template/conf_baseline.yaml';
const TEMPLATES = {
  items: [
    { path: `rdagent:${TEMPLATE}`, tool: 'rdagent', file: TEMPLATE, kind: 'yaml' as const, readonly: false, exists: true, sha256: 'b'.repeat(64), size: 10, mtime: '2026-12-01T00:00:00Z', drift: false, history_count: 1 },
  ],
  consistency: { ok: true, mismatches: [] },
};
const HISTORY = {
  path: `rdagent:${TEMPLATE}`,
  total: 1,
  items: [{ id: 7, path: `rdagent:${TEMPLATE}`, history_path: 'history/20261201/x_manual_conf_baseline.yaml', task_id: null, operator: 'admin', sha256: 'a'.repeat(64), note: 'before edit', event: 'write' as const, created_at: '2026-12-01T00:00:00Z' }],
};

const page = (over: { tasks?: JobDetail[] } = {}) =>
  new MockServer()
    .on('GET', '/api/rdagent/tasks', { body: { items: over.tasks ?? [rdJob()], total: (over.tasks ?? [rdJob()]).length, limit: 25, offset: 0 } })
    .on('GET', '/api/rdagent/datasets', { body: DATASETS })
    .on('GET', '/api/rdagent/templates', { body: TEMPLATES })
    .on('GET', '/api/rdagent/templates/history', { body: HISTORY });

describe('RD-Agent page: pure parts', () => {
  it('reads the tab from the URL, Tasks for anything else', () => {
    expect(tabFromParam('monitor')).toBe('monitor');
    expect(tabFromParam('config')).toBe('config');
    expect(tabFromParam('nope')).toBe('tasks');
    expect(tabFromParam(null)).toBe('tasks');
  });

  it('builds the request and refuses bad fields', () => {
    const f = { ...defaultTaskForm('demo'), loop_n: '3', all_duration: '1h30m', n_epochs: '5' };
    expect(buildTaskRequest(f)).toEqual({ body: { dataset_ids: ['demo'], loop_n: 3, evolving_mode: 'bandit', knowledge_base: false, all_duration: '1h30m', n_epochs: 5 }, errors: {} });
    const bad = buildTaskRequest({ ...defaultTaskForm(null), loop_n: '0', all_duration: 'soon', batch_size: '2.5', source: 'history' });
    expect(bad.body).toBeNull();
    expect(Object.keys(bad.errors).sort()).toEqual(['all_duration', 'batch_size', 'dataset_ids', 'loop_n', 'source_history_id']);
  });

  it("maps the server's envelope onto the field it names", () => {
    expect(serverErrors(new ApiError(400, 'INVALID_ARGUMENT', 'unknown source_history_id 99', { parameter: 'source_history_id' }, '/api/rdagent/tasks'))).toEqual({ source_history_id: 'unknown source_history_id 99 (400 INVALID_ARGUMENT)' });
    expect(serverErrors(new ApiError(400, 'INVALID_ARGUMENT', 'templates disagree', { files: [] }, '/x'))).toEqual({ form: 'templates disagree (400 INVALID_ARGUMENT)' });
  });

  it('loop progress: running, succeeded, failed', () => {
    expect(loopView(task())).toEqual({ done: 1, total: 2, text: 'Loop 2 of 2 · step 3: running' });
    expect(loopView(task({}, { status: 'SUCCESS' }))).toMatchObject({ done: 2, total: 2 });
    expect(loopView(task({ loop_results: [] }, { status: 'FAILED' })).text).toBe('failed at Loop 2 of 2 · step 3: running');
    expect(loopView(task({ progress: { loops_started: 0, loop: null, step: null, step_name: null }, loop_results: [] }, { status: 'QUEUED' })).text).toBe('Queued');
  });

  it('orders metrics and lists the config hashes a task used', () => {
    expect(orderedMetrics({ zeta: 1, ICIR: 2, IC: 3 })).toEqual(['IC', 'ICIR', 'zeta']);
    expect(configHashes({ work_dir: '/w', 'config_sha256:rdagent:b.yaml': 'h2', 'config_sha256:rdagent:a.yaml': 'h1' })).toEqual([
      { path: 'rdagent:a.yaml', sha256: 'h1' },
      { path: 'rdagent:b.yaml', sha256: 'h2' },
    ]);
  });
});

describe('RD-Agent page', () => {
  it('has four tabs; the arrow keys move the selection and the URL keeps it', async () => {
    page().install();
    const { router } = renderRoute(<RdagentPage />, '/rdagent', '/rdagent');
    const tabs = screen.getAllByRole('tab');
    expect(tabs.map((t) => t.textContent)).toEqual(['Tasks', 'Config center', 'Datasets', 'Monitor']);
    expect(screen.getByRole('tab', { name: 'Tasks' }).getAttribute('aria-selected')).toBe('true');
    expect(screen.getByRole('tabpanel').getAttribute('aria-labelledby')).toBe('rdagent-tab-tasks');
    fireEvent.keyDown(screen.getByRole('tab', { name: 'Tasks' }), { key: 'ArrowRight' });
    await waitFor(() => expect(router.state.location.search).toBe('?tab=config'));
    expect(screen.getByRole('tab', { name: 'Config center' }).getAttribute('aria-selected')).toBe('true');
    fireEvent.keyDown(screen.getByRole('tab', { name: 'Config center' }), { key: 'ArrowLeft' });
    fireEvent.keyDown(screen.getByRole('tab', { name: 'Tasks' }), { key: 'ArrowLeft' });
    await waitFor(() => expect(router.state.location.search).toBe('?tab=monitor'));
    expect(screen.getByRole('tab', { name: 'Monitor' }).getAttribute('tabindex')).toBe('0');
    expect(screen.getByRole('tab', { name: 'Tasks' }).getAttribute('tabindex')).toBe('-1');
  });

  it('lists the tasks and opens one in the Monitor tab', async () => {
    page({ tasks: [rdJob(), rdJob({ job_id: 'job_rd0', status: 'SUCCESS', params: { dataset_ids: ['demo'], loop_n: 1, all_duration: '1h', evolving_mode: 'llm' } })] }).install();
    const { router } = renderRoute(<RdagentPage />, '/rdagent', '/rdagent?tab=tasks');
    const rows = await screen.findAllByTestId('rdagent-task-row');
    expect(rows).toHaveLength(2);
    expect(within(rows[0]!).getByText('demo, synthetic')).toBeTruthy();
    expect(within(rows[0]!).getByText('2 / no limit')).toBeTruthy();
    expect(within(rows[1]!).getByText('1 / 1h')).toBeTruthy();
    expect(within(rows[1]!).getByText('llm')).toBeTruthy();
    // a finished task cannot be canceled; a running one can
    expect(within(rows[1]!).queryByRole('button', { name: /Cancel/ })).toBeNull();
    expect(within(rows[0]!).getByRole('link', { name: 'Open job job_rd1' }).getAttribute('href')).toBe('/jobs/job_rd1');
    fireEvent.click(within(rows[0]!).getByRole('button', { name: 'Monitor job_rd1' }));
    await waitFor(() => expect(new URLSearchParams(router.state.location.search).get('task')).toBe('job_rd1'));
    expect(new URLSearchParams(router.state.location.search).get('tab')).toBe('monitor');
  });

  it('cancel asks first, then posts', async () => {
    const server = page().on('POST', '/api/rdagent/tasks/job_rd1/cancel', { body: rdJob({ status: 'CANCELED' }) }).install();
    renderRoute(<RdagentPage />, '/rdagent', '/rdagent');
    fireEvent.click(await screen.findByRole('button', { name: 'Cancel job_rd1' }));
    expect(server.callsTo('/api/rdagent/tasks/job_rd1/cancel')).toHaveLength(0);
    fireEvent.click(screen.getByRole('button', { name: 'Yes, cancel' }));
    await waitFor(() => expect(server.callsTo('/api/rdagent/tasks/job_rd1/cancel')).toHaveLength(1));
    expect(await screen.findByText('RD-Agent task canceled')).toBeTruthy();
  });

  it('New task: checked on the page, then sent with a saved template version; a refusal shows at its field', async () => {
    const server = page()
      .on(
        'POST',
        '/api/rdagent/tasks',
        { status: 400, body: { error: { code: 'INVALID_ARGUMENT', message: 'unknown source_history_id', details: { parameter: 'source_history_id' } } } },
        { body: rdJob({ job_id: 'job_new', status: 'QUEUED' }) },
      )
      .on('GET', '/api/rdagent/tasks/job_new', { body: task({}, { job_id: 'job_new', status: 'QUEUED' }) })
      .on('GET', '/api/rdagent/tasks/job_new/artifacts', { body: { job_id: 'job_new', items: [], total: 0, limit: 50, offset: 0 } })
      .on('GET', '/api/jobs/job_new/log', { body: logChunk({ job_id: 'job_new' }) })
      .install();
    const { router } = renderRoute(<RdagentPage />, '/rdagent', '/rdagent');
    fireEvent.click(await screen.findByRole('button', { name: 'New task' }));
    const dialog = await screen.findByRole('dialog', { name: 'New RD-Agent task' });
    const d = within(dialog);
    // the default dataset is pre-selected
    expect((await d.findByRole<HTMLInputElement>('checkbox', { name: /demo/ })).checked).toBe(true);
    fireEvent.click(d.getByRole('checkbox', { name: /synthetic/ }));
    fireEvent.change(d.getByLabelText('Loops (loop_n)'), { target: { value: '0' } });
    fireEvent.change(d.getByLabelText('n_jobs'), { target: { value: 'many' } });
    fireEvent.click(d.getByRole('button', { name: 'Start task' }));
    expect(await d.findByText('loop_n must be a whole number of at least 1')).toBeTruthy();
    expect(d.getByText('n_jobs must be a whole number of at least 1')).toBeTruthy();
    expect(d.getByLabelText('Loops (loop_n)').getAttribute('aria-invalid')).toBe('true');
    expect(server.callsTo('/api/rdagent/tasks').filter((c) => c.method === 'POST')).toHaveLength(0);
    fireEvent.change(d.getByLabelText('Loops (loop_n)'), { target: { value: '2' } });
    fireEvent.change(d.getByLabelText('n_jobs'), { target: { value: '' } });
    fireEvent.click(d.getByRole('switch', { name: /Knowledge base/ }));
    fireEvent.click(d.getByRole('radio', { name: 'A saved version' }));
    fireEvent.change(d.getByLabelText('Template file'), { target: { value: TEMPLATE } });
    await waitFor(() => expect(d.getByRole('option', { name: /#7 .*before edit/ })).toBeTruthy());
    expect(server.callsTo('/api/rdagent/templates/history')[0]!.url.searchParams.get('file')).toBe(TEMPLATE);
    fireEvent.change(d.getByLabelText('Version'), { target: { value: '7' } });
    fireEvent.click(d.getByRole('button', { name: 'Start task' }));
    // first answer: 400 naming source_history_id -> shown under the version select, and a toast
    expect(await d.findByText('unknown source_history_id (400 INVALID_ARGUMENT)')).toBeTruthy();
    expect(await screen.findByText('Task refused')).toBeTruthy();
    fireEvent.click(d.getByRole('button', { name: 'Start task' }));
    await waitFor(() => expect(new URLSearchParams(router.state.location.search).get('task')).toBe('job_new'));
    const posts = server.callsTo('/api/rdagent/tasks').filter((c) => c.method === 'POST');
    expect(posts).toHaveLength(2);
    expect(posts[1]!.body).toEqual({ dataset_ids: ['demo', 'synthetic'], loop_n: 2, evolving_mode: 'bandit', knowledge_base: true, source_history_id: '7' });
    expect(await screen.findByTestId('rdagent-monitor')).toBeTruthy();
  });

  it('Monitor: loop progress, per-loop and final metrics, config hashes, files to download', async () => {
    const done = task(
      {
        progress: { loops_started: 2, loop: 1, step: 4, step_name: 'record' },
        loop_results: [
          { path: 'RD-Agent_workspace/loop_0/qlib_res.csv', metrics: { IC: 0.01 } },
          { path: 'RD-Agent_workspace/loop_1/qlib_res.csv', metrics: { IC: 0.02 } },
        ],
        metrics: { ICIR: 0.25, IC: 0.02, '1day.excess_return_with_cost.annualized_return': 0.1 },
      },
      { status: 'SUCCESS', params: { dataset_ids: ['demo'], loop_n: 2, evolving_mode: 'bandit', source_history_id: '7' }, artifacts: { work_dir: 'w', 'config_sha256:rdagent:conf.yaml': 'a'.repeat(64) } },
    );
    page()
      .on('GET', '/api/rdagent/tasks/job_rd1', { body: done })
      .on('GET', '/api/rdagent/tasks/job_rd1/artifacts', {
        body: { job_id: 'job_rd1', total: 1, limit: 50, offset: 0, items: [{ path: 'work/RD-Agent_workspace/loop_1/ret.pkl', size: 2048, mtime: '2026-12-01T00:00:00Z', content_type: 'application/octet-stream' }] },
      })
      .on('GET', '/api/jobs/job_rd1/log', { body: logChunk({ job_id: 'job_rd1', content: 'Start Loop 1, Step 4: record\n', next_offset: 29 }) })
      .install();
    renderRoute(<RdagentPage />, '/rdagent', '/rdagent?tab=monitor&task=job_rd1');
    const mon = await screen.findByTestId('rdagent-monitor');
    const m = within(mon);
    expect(m.getByTestId('rdagent-loop-text').textContent).toContain('2 of 2 loops done');
    expect(m.getByTestId('rdagent-loop-progress').getAttribute('value')).toBe('2');
    expect(m.getAllByTestId('rdagent-loop-row')).toHaveLength(2);
    const metrics = within(m.getByTestId('rdagent-metrics'));
    expect(metrics.getAllByRole('row').slice(1).map((r) => r.getAttribute('data-metric'))).toEqual(['IC', 'ICIR', '1day.excess_return_with_cost.annualized_return']);
    expect(m.getByTestId('rdagent-source').textContent).toContain('saved version #7');
    expect(within(m.getByTestId('rdagent-config-hashes')).getByText('a'.repeat(64))).toBeTruthy();
    const link = await m.findByRole('link', { name: 'Download work/RD-Agent_workspace/loop_1/ret.pkl' });
    expect(link.getAttribute('href')).toBe('/api/jobs/job_rd1/artifacts/work/RD-Agent_workspace/loop_1/ret.pkl');
    expect(await m.findByText(/Start Loop 1, Step 4: record/)).toBeTruthy();
    // a finished task has no cancel button
    expect(m.queryByRole('button', { name: 'Cancel task' })).toBeNull();
  });

  it("Monitor: an unknown task's 404 is shown, and the picker offers the recent tasks", async () => {
    page()
      .on('GET', '/api/rdagent/tasks/job_gone', { status: 404, body: { error: { code: 'NOT_FOUND', message: 'no task job_gone', details: null } } })
      .install();
    renderRoute(<RdagentPage />, '/rdagent', '/rdagent?tab=monitor&task=job_gone');
    expect(await screen.findByText(/no task job_gone/)).toBeTruthy();
    await waitFor(() => expect(screen.getByRole('option', { name: 'job_rd1 · RUNNING' })).toBeTruthy());
  });
});
