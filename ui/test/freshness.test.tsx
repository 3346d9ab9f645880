// Pages do not go stale: a started job is announced when it ends, a Run detail refreshes its jobs
// and files after Recompute Metrics, a finished job can be re-run as is or edited first.
import { afterEach, describe, expect, it } from 'vitest';
import { fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { MemoryRouter } from 'react-router-dom';
import { JobWatcher } from '../src/components/JobWatcher';
import { ToastHost } from '../src/components/ToastHost';
import { RunDetailPage } from '../src/pages/RunDetail';
import { JobDetailPage } from '../src/pages/JobDetail';
import { finishedJobToast, getWatchedJobs, unwatchJob, watchJob } from '../src/lib/jobWatch';
import { actionsRerunUrl } from '../src/lib/links';
import { MockServer } from './mockServer';
import { renderRoute } from './render';
import { job, logChunk, registryRow } from './fixtures';

afterEach(() => {
  for (const id of getWatchedJobs()) unwatchJob(id);
});

describe('finished-job toasts', () => {
  it('link to what the job made, or to the job when it failed', () => {
    expect(finishedJobToast(job({ job_id: 'j1', job_type: 'backtest', artifacts: { bt_run_id: 'bt_9' } }))).toEqual({ kind: 'success', title: 'backtest job finished', body: 'j1', link: { to: '/backtests/bt_9', label: 'Open backtest' } });
    expect(finishedJobToast(job({ job_id: 'j2', job_type: 'eval-metrics', artifacts: { run_id: 'run_1' } })).link).toEqual({ to: '/runs/run_1', label: 'Open run' });
    expect(finishedJobToast(job({ job_id: 'j3', status: 'FAILED' }))).toMatchObject({ kind: 'error', title: 'train job failed', link: { to: '/jobs/j3', label: 'Open job' } });
    expect(finishedJobToast(job({ job_id: 'j4', status: 'CANCELED' }))).toMatchObject({ kind: 'info', title: 'train job canceled' });
  });

  it('JobWatcher announces a watched job once when it ends', async () => {
    const s = new MockServer()
      .on('GET', '/api/jobs/job_w', { body: job({ job_id: 'job_w', job_type: 'backtest', status: 'RUNNING', ended_at: null, exit_code: null }) }, { body: job({ job_id: 'job_w', job_type: 'backtest', artifacts: { bt_run_id: 'bt_w' } }) })
      .install();
    watchJob('job_w');
    render(
      <QueryClientProvider client={new QueryClient({ defaultOptions: { queries: { retry: false } } })}>
        <MemoryRouter>
          <JobWatcher />
          <ToastHost />
        </MemoryRouter>
      </QueryClientProvider>,
    );
    const toast = await screen.findByText('backtest job finished', {}, { timeout: 5000 });
    expect(toast.closest('[data-testid=toast]')!.querySelector('a')!.getAttribute('href')).toBe('/backtests/bt_w');
    expect(getWatchedJobs()).toEqual([]);
    const calls = s.callsTo('/api/jobs/job_w').length;
    await new Promise((r) => setTimeout(r, 2500));
    expect(s.callsTo('/api/jobs/job_w').length).toBe(calls); // no more polling once it ended
  });
});

describe('Run detail after Recompute Metrics', () => {
  it('refreshes its jobs and files when the eval-metrics job ends', async () => {
    const rows = [registryRow({ ticker: 'SPX', run_id: 'run_1' })];
    const base = { run_id: 'run_1', run_dir: 'runs/run_1', config: null, manifest: null, metrics: {}, summary: null, registry_rows: rows };
    const file = (name: string) => ({ name, type: 'file' as const, size: 10 });
    const evalJob = (status: 'RUNNING' | 'SUCCESS') =>
      ({ ...job({ job_id: 'job_eval', job_type: 'eval-metrics', status, ...(status === 'RUNNING' ? { ended_at: null, exit_code: null } : {}), artifacts: status === 'SUCCESS' ? { run_id: 'run_1' } : {} }), relation: 're-evaluated' as const });
    const s = new MockServer()
      .on('GET', '/api/runs/run_1',
        { body: { ...base, files: [file('metrics.json')], jobs: [] } },
        { body: { ...base, files: [file('metrics.json')], jobs: [evalJob('RUNNING')] } },
        { body: { ...base, files: [file('metrics.json'), file('metrics_eval_base.json')], jobs: [evalJob('SUCCESS')] } })
      .on('POST', '/api/jobs/eval-metrics', { body: job({ job_id: 'job_eval', job_type: 'eval-metrics', status: 'QUEUED', started_at: null, ended_at: null, duration_sec: null, exit_code: null }) })
      .install();
    renderRoute(<RunDetailPage />, '/runs/:runId', '/runs/run_1');
    fireEvent.click(await screen.findByRole('button', { name: 'Recompute Metrics' }));
    await waitFor(() => expect(s.callsTo('/api/jobs/eval-metrics')).toHaveLength(1));
    await screen.findByText('job_eval', { selector: 'a' });
    await screen.findByText('metrics_eval_base.json', {}, { timeout: 6000 });
    expect(s.callsTo('/api/runs/run_1').length).toBeGreaterThanOrEqual(3);
  }, 10_000);
});

describe('Re-run and Edit and re-run', () => {
  const failed = job({
    job_id: 'job_bt', job_type: 'backtest', status: 'FAILED', exit_code: 2, error_message: 'unknown ticker',
    params: { config_path: 'configs/backtest/base.yaml', tickers: ['SYN0001', 'SYN0002'], start: '2010-01-01', model_path: 'runs/r/model.json', overrides: ['fee_bps=5', 'strategy.params.cutoff=0.6'], dry_run: false },
  });

  it('Edit and re-run opens Actions with the exact params', () => {
    const url = new URL(actionsRerunUrl(failed), 'http://x');
    expect(url.pathname).toBe('/actions');
    expect(url.searchParams.get('type')).toBe('backtest');
    expect(url.searchParams.get('tickers')).toBe('SYN0001,SYN0002');
    expect(url.searchParams.get('start')).toBe('2010-01-01');
    expect(url.searchParams.get('model_path')).toBe('runs/r/model.json');
    expect(url.searchParams.getAll('set')).toEqual(['fee_bps=5', 'strategy.params.cutoff=0.6']);
    expect(url.searchParams.has('dry_run')).toBe(false);
    expect(new URL(actionsRerunUrl(job({ job_type: 'eval-metrics', params: { run_id: 'run_1', mode: 'base' } })), 'http://x').search).toBe('?type=eval&run_id=run_1&mode=base');
    expect(new URL(actionsRerunUrl(job({ job_type: 'e2e-echo', params: { seed: 7, tags: ['a', 'b'], dry_run: true } })), 'http://x').search).toBe('?type=e2e-echo&seed=7&tags=a&tags=b&dry_run=true');
  });

  it('Re-run submits the same type and params, linked to the source job', async () => {
    const s = new MockServer()
      .on('GET', '/api/jobs/job_bt', { body: failed })
      .on('GET', '/api/jobs/job_bt/log', { body: logChunk({ job_id: 'job_bt' }) })
      .on('POST', '/api/jobs', { body: job({ job_id: 'job_again', job_type: 'backtest', status: 'QUEUED', started_at: null, ended_at: null, duration_sec: null, exit_code: null }) })
      .install();
    renderRoute(<JobDetailPage />, '/jobs/:jobId', '/jobs/job_bt');
    const head = (await screen.findByRole('button', { name: 'Re-run' })).closest('.page-head') as HTMLElement;
    expect(within(head).getByRole('link', { name: 'Edit and re-run' }).getAttribute('href')).toBe(actionsRerunUrl(failed));
    fireEvent.click(within(head).getByRole('button', { name: 'Re-run' }));
    await waitFor(() => expect(s.callsTo('/api/jobs')).toHaveLength(1));
    const { dry_run: _d, ...params } = failed.params;
    expect(_d).toBe(false);
    expect(s.callsTo('/api/jobs')[0]!.body).toEqual({ job_type: 'backtest', params, dry_run: false, source_job_id: 'job_bt' });
    await screen.findByText('job_again', { selector: '.toast-body' });
    expect(getWatchedJobs()).toContain('job_again');
  });
});
