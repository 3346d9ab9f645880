// The jobs this browser tab started (submit, Re-run, Recompute Metrics): JobWatcher polls each
// until it ends, then announces it in a toast with a link to what it produced. Kept in
// sessionStorage so a reload keeps watching.
import type { JobDetail } from '../types/api';
import type { Toast } from './toastStore';

const KEY = 'alphalab.watchedJobs';
type Listener = () => void;
const listeners = new Set<Listener>();

function load(): string[] {
  try {
    const v: unknown = JSON.parse(globalThis.sessionStorage?.getItem(KEY) ?? '[]');
    return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
  } catch {
    return [];
  }
}

let watched: string[] = load();

function save(next: string[]): void {
  watched = next;
  try {
    globalThis.sessionStorage?.setItem(KEY, JSON.stringify(watched));
  } catch {
    /* storage full or disabled: watching still works for this page's life */
  }
  for (const l of listeners) l();
}

export function watchJob(jobId: string): void {
  if (!watched.includes(jobId)) save([...watched, jobId]);
}

/** Stops watching; true when the job was watched (so one end is announced once). */
export function unwatchJob(jobId: string): boolean {
  if (!watched.includes(jobId)) return false;
  save(watched.filter((id) => id !== jobId));
  return true;
}

export function getWatchedJobs(): string[] {
  return watched;
}

export function subscribeWatchedJobs(l: Listener): () => void {
  listeners.add(l);
  return () => listeners.delete(l);
}

/** The toast for a watched job that ended: what it made (run, backtest) or its log. */
export function finishedJobToast(job: Pick<JobDetail, 'job_id' | 'job_type' | 'status' | 'artifacts'>): Omit<Toast, 'id'> {
  const a = job.artifacts;
  const str = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);
  if (job.status === 'SUCCESS') {
    const bt = str(a['bt_run_id']);
    const run = str(a['run_id']);
    const link = bt
      ? { to: `/backtests/${encodeURIComponent(bt)}`, label: 'Open backtest' }
      : run
        ? { to: `/runs/${encodeURIComponent(run)}`, label: 'Open run' }
        : { to: `/jobs/${encodeURIComponent(job.job_id)}`, label: 'Open job' };
    return { kind: 'success', title: `${job.job_type} job finished`, body: job.job_id, link };
  }
  return {
    kind: job.status === 'FAILED' ? 'error' : 'info',
    title: `${job.job_type} job ${job.status === 'FAILED' ? 'failed' : 'canceled'}`,
    body: job.job_id,
    link: { to: `/jobs/${encodeURIComponent(job.job_id)}`, label: 'Open job' },
  };
}
