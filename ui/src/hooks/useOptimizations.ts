import { useEffect, useState } from 'react';
import { keepPreviousData, useMutation, useQuery, useQueryClient, type QueryClient } from '@tanstack/react-query';
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

// The detail page's three queries, shared by its hooks and by prefetchOptimizationDetail (same
// keys, functions and freshness, so a prefetched answer is the one the page shows).
const detailQuery = (id: string) => ({
  queryKey: ['optimizations', 'detail', id],
  queryFn: ({ signal }: { signal: AbortSignal }) => api.optimization(id, signal),
  staleTime: Infinity,
});
const statusQuery = (id: string) => ({
  queryKey: ['optimizations', 'status', id],
  queryFn: ({ signal }: { signal: AbortSignal }) => api.optimizationStatus(id, signal),
});
const tasksQuery = (id: string, q: OptimizationTasksQuery) => ({
  queryKey: ['optimizations', 'tasks', id, q],
  queryFn: ({ signal }: { signal: AbortSignal }) => api.optimizationTasks(id, q, signal),
  staleTime: Infinity,
});

/** The whole optimization (request, summary, validation, deflated Sharpe): loaded once, and again
 * when its status changes (the detail page invalidates it then). Never polled. */
export function useOptimization(id: string | undefined) {
  return useQuery({ ...detailQuery(id ?? ''), enabled: !!id });
}

/** Status + summary, polled every second until the optimization ends (then never again). */
export function useOptimizationStatus(id: string | undefined) {
  return useQuery({
    ...statusQuery(id ?? ''),
    enabled: !!id,
    refetchInterval: (query) => (query.state.data && isTerminalOpt(query.state.data.status) ? false : OPT_STATUS_POLL_MS),
  });
}

/** One page of tasks, sorted on the server. Not polled: refreshed when the sweep ends or on demand. */
export function useOptimizationTasks(id: string | undefined, q: OptimizationTasksQuery, enabled = true) {
  return useQuery({ ...tasksQuery(id ?? '', q), enabled: !!id && enabled, placeholderData: keepPreviousData });
}

/** The detail page's tasks table page, from the page's URL (sort, tstatus, tlimit, toffset). */
export function tasksTableQuery(sp: URLSearchParams): OptimizationTasksQuery & { sort: string } {
  const status = sp.get('tstatus') ?? '';
  return {
    sort: sp.get('sort') ?? 'index_asc',
    status: status || undefined,
    limit: Number(sp.get('tlimit') ?? 25) || 25,
    offset: Math.max(0, Number(sp.get('toffset') ?? 0) || 0),
  };
}

/** Starts the detail page's first requests (the optimization, its status, the tasks table's page)
 * together, as the route is entered: they run while the page's chunk loads, not after it. */
export function prefetchOptimizationDetail(qc: QueryClient, id: string, sp: URLSearchParams) {
  void qc.prefetchQuery(detailQuery(id));
  void qc.prefetchQuery(statusQuery(id));
  void qc.prefetchQuery(tasksQuery(id, tasksTableQuery(sp)));
}

/** The projects (suggestions of the Select models box): asked for once the box is used. */
export function useProjects(enabled = true) {
  return useQuery({ queryKey: ['projects'], queryFn: ({ signal }) => api.projects(signal), staleTime: 30_000, retry: false, enabled });
}

/** How long the form waits after the last edit before it asks the server for an estimate. */
export const ESTIMATE_DEBOUNCE_MS = 400;

/** The same value, once it has not changed for `ms` (the estimate's debounce). */
export function useDebounced<T>(value: T, ms: number): T {
  const [v, setV] = useState(value);
  useEffect(() => {
    const t = setTimeout(() => setV(value), ms);
    return () => clearTimeout(t);
  }, [value, ms]);
  return v;
}

/** The server's estimate of a valid request before launch (POST .../estimate): asked for once the
 * request has not changed for ESTIMATE_DEBOUNCE_MS; null = the form is not valid yet (no call). */
export function useOptimizationEstimate(body: OptimizationRequest | null) {
  const key = body ? JSON.stringify(body) : null;
  const debounced = useDebounced(key, ESTIMATE_DEBOUNCE_MS);
  const query = useQuery({
    queryKey: ['optimizations', 'estimate', debounced],
    queryFn: ({ signal }) => api.estimateOptimization(JSON.parse(debounced!) as OptimizationRequest, signal),
    enabled: debounced !== null && debounced === key,
    staleTime: 30_000,
    retry: false,
  });
  // `waiting`: the request changed and the debounce has not passed yet (the shown data, if any,
  // is for an older request).
  return { ...query, waiting: key !== null && debounced !== key };
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
