import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { api, isTerminal, type RunsQuery } from '../api/client';

export function useRuns(q: RunsQuery) {
  return useQuery({
    queryKey: ['runs', q],
    queryFn: ({ signal }) => api.runs(q, signal),
    placeholderData: keepPreviousData,
    refetchInterval: 5000,
  });
}

export function useRun(runId: string | undefined) {
  return useQuery({
    queryKey: ['run', runId],
    queryFn: ({ signal }) => api.run(runId!, signal),
    enabled: !!runId,
    // While a job of this run (Recompute Metrics, training) is queued or running, poll: its end
    // brings new metrics and files.
    refetchInterval: (query) => (query.state.data?.jobs.some((j) => !isTerminal(j.status)) ? 3000 : false),
  });
}

/** runs/<id>/training_log.json; a finished run folder never changes, so it is read once. */
export function useRunTrainingLog(runId: string, enabled: boolean) {
  return useQuery({
    queryKey: ['run-training-log', runId],
    queryFn: ({ signal }) => api.runTrainingLog(runId, signal),
    enabled: enabled && !!runId,
    staleTime: Infinity,
  });
}
