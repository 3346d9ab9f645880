import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, isTerminal, type RecentJobsQuery } from '../api/client';
import { pushToast } from '../lib/toastStore';
import { toastError } from '../lib/errors';

export const POLL_MS = 4000;

export function useRecentJobs(q: RecentJobsQuery) {
  return useQuery({
    queryKey: ['jobs', 'recent', q],
    queryFn: ({ signal }) => api.recentJobs(q, signal),
    placeholderData: keepPreviousData,
    refetchInterval: POLL_MS,
  });
}

export function useJob(jobId: string | undefined) {
  return useQuery({
    queryKey: ['jobs', 'detail', jobId],
    queryFn: ({ signal }) => api.job(jobId!, signal),
    enabled: !!jobId,
    refetchInterval: (query) => (query.state.data && isTerminal(query.state.data.status) ? false : 3000),
  });
}

export function useJobTypes() {
  return useQuery({ queryKey: ['job-types'], queryFn: api.jobTypes, staleTime: 60_000, retry: false });
}

export function useCancelJob() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (jobId: string) => api.cancelJob(jobId),
    onSuccess: (_d, jobId) => {
      pushToast({ kind: 'info', title: 'Cancel requested', body: jobId, link: { to: `/jobs/${jobId}`, label: 'Open job' } });
      void qc.invalidateQueries({ queryKey: ['jobs'] });
    },
    onError: (e) => toastError(e, 'Cancel failed'),
  });
}
