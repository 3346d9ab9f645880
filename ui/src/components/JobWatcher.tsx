import { useEffect, useSyncExternalStore } from 'react';
import { useQueries, useQueryClient } from '@tanstack/react-query';
import { api, isTerminal } from '../api/client';
import { finishedJobToast, getWatchedJobs, subscribeWatchedJobs, unwatchJob } from '../lib/jobWatch';
import { pushToast } from '../lib/toastStore';

const WATCH_POLL_MS = 2000;

/** Polls the jobs this tab started; when one ends: a toast (with a link) and every list and
 *  detail that could show its result refreshes (run detail jobs and files, runs, backtests,
 *  registry, dashboard). Renders nothing. */
export function JobWatcher() {
  const ids = useSyncExternalStore(subscribeWatchedJobs, getWatchedJobs, getWatchedJobs);
  const qc = useQueryClient();
  const results = useQueries({
    queries: ids.map((id) => ({
      queryKey: ['jobs', 'watch', id],
      queryFn: ({ signal }: { signal: AbortSignal }) => api.job(id, signal),
      refetchInterval: WATCH_POLL_MS,
      retry: false,
    })),
  });
  useEffect(() => {
    results.forEach((r, i) => {
      const id = ids[i];
      if (!id) return;
      // A job that no longer exists (404) is dropped silently.
      if (r.error && !r.data) {
        unwatchJob(id);
        return;
      }
      const job = r.data;
      if (!job || !isTerminal(job.status) || !unwatchJob(id)) return;
      pushToast(finishedJobToast(job));
      for (const key of ['jobs', 'run', 'runs', 'backtests', 'registry', 'dashboard']) void qc.invalidateQueries({ queryKey: [key] });
    });
  });
  return null;
}
