import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { api } from '../api/client';

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
  });
}
