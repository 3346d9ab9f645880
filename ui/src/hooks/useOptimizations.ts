import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, type OptimizationsQuery, type OptimizationTasksQuery } from '../api/client';
import { toastError } from '../lib/errors';
import { isTerminalOpt } from '../lib/optimizations';
import { pushToast } from '../lib/toastStore';
import type { Optimization, OptimizationRequest } from '../types/api';

/** How often a running optimization's status is polled (one row read on the server). */
export const OPT_STATUS_POLL_MS = 1000;
export const OPT_LIST_POLL_MS = 3000;

export function useOptimizations(q: OptimizationsQuery, poll = true) {
  return useQuery({
    queryKey: ['optimizations', 'list', q],
    queryFn: ({ signal }) => api.optimizations(q, signal),
    placeholderData: keepPreviousData,
    refetchInterval: poll ? OPT_LIST_POLL_MS : false,
  });
}

/** The whole optimization (request, summary, validation, deflated Sharpe): loaded once, and again
 * when its status changes (the detail page invalidates it then). Never polled. */
export function useOptimization(id: string | undefined) {
  return useQuery({
    queryKey: ['optimizations', 'detail', id],
    queryFn: ({ signal }) => api.optimization(id!, signal),
    enabled: !!id,
    staleTime: Infinity,
  });
}

/** Status + summary, polled every second until the optimization ends (then never again). */
export function useOptimizationStatus(id: string | undefined) {
  return useQuery({
    queryKey: ['optimizations', 'status', id],
    queryFn: ({ signal }) => api.optimizationStatus(id!, signal),
    enabled: !!id,
    refetchInterval: (query) => (query.state.data && isTerminalOpt(query.state.data.status) ? false : OPT_STATUS_POLL_MS),
  });
}

/** One page of tasks, sorted on the server. Not polled: refreshed when the sweep ends or on demand. */
export function useOptimizationTasks(id: string | undefined, q: OptimizationTasksQuery, enabled = true) {
  return useQuery({
    queryKey: ['optimizations', 'tasks', id, q],
    queryFn: ({ signal }) => api.optimizationTasks(id!, q, signal),
    enabled: !!id && enabled,
    placeholderData: keepPreviousData,
    staleTime: Infinity,
  });
}

/** The projects (suggestions of the Select models box): asked for once the box is used. */
export function useProjects(enabled = true) {
  return useQuery({ queryKey: ['projects'], queryFn: ({ signal }) => api.projects(signal), staleTime: 30_000, retry: false, enabled });
}

export function useCreateOptimization(onCreated?: (o: Optimization) => void) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (body: OptimizationRequest) => api.createOptimization(body),
    onSuccess: (o) => {
      pushToast({ kind: 'success', title: 'Optimization submitted', body: o.id, link: { to: `/optimizations/${o.id}`, label: 'Open optimization' } });
      qc.setQueryData(['optimizations', 'detail', o.id], o);
      void qc.invalidateQueries({ queryKey: ['optimizations', 'list'] });
      onCreated?.(o);
    },
    onError: (e) => toastError(e, 'Optimization refused'),
  });
}

export function useCancelOptimization() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => api.cancelOptimization(id),
    onSuccess: (o) => {
      pushToast({ kind: 'info', title: 'Optimization canceled', body: o.id });
      qc.setQueryData(['optimizations', 'detail', o.id], o);
      void qc.invalidateQueries({ queryKey: ['optimizations'] });
    },
    onError: (e) => toastError(e, 'Cancel failed'),
  });
}
