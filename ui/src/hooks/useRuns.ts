import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { api, isTerminal } from '../api/client';

export function useRuns(limit: number, offset: number) {
  return useQuery({
    queryKey: ['runs', limit, offset],
    queryFn: ({ signal }) => api.runs(limit, offset, signal),
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
