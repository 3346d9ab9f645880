// The RD-Agent page's data (docs/rdagent.md): tasks are jobs of the type rdagent-fin-quant seen
// through /api/rdagent/*; the dataset list and the templates' history come from the config center
// and the datasets service through the same views. Every request goes through api/client.ts
// (`request`, schema-checked); the types are the generated wire types.
import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { apiBaseUrl, buildQuery, isTerminal, request } from '../api/client';
import { toastError } from '../lib/errors';
import type { ConfigHistory, DatasetList, JobArtifactPage, RdagentTask, RdagentTaskPage, RdagentTaskRequest, RdagentTemplates } from '../lib/rdagent';
import { pushToast } from '../lib/toastStore';
import type { JobDetail } from '../types/api';

const enc = encodeURIComponent;

export const rdagentApi = {
  tasks: (limit: number, offset: number, signal?: AbortSignal): Promise<RdagentTaskPage> =>
    request('GET', `/api/rdagent/tasks${buildQuery({ limit, offset })}`, 'RdagentTaskPage', undefined, signal),
  task: (id: string, signal?: AbortSignal): Promise<RdagentTask> => request('GET', `/api/rdagent/tasks/${enc(id)}`, 'RdagentTask', undefined, signal),
  submit: (body: RdagentTaskRequest): Promise<JobDetail> => request('POST', '/api/rdagent/tasks', 'Job', body),
  cancel: (id: string): Promise<JobDetail> => request('POST', `/api/rdagent/tasks/${enc(id)}/cancel`, 'Job', {}),
  artifacts: (id: string, limit: number, offset: number, signal?: AbortSignal): Promise<JobArtifactPage> =>
    request('GET', `/api/rdagent/tasks/${enc(id)}/artifacts${buildQuery({ limit, offset })}`, 'JobArtifactPage', undefined, signal),
  datasets: (signal?: AbortSignal): Promise<DatasetList> => request('GET', '/api/rdagent/datasets', 'DatasetList', undefined, signal),
  templates: (signal?: AbortSignal): Promise<RdagentTemplates> => request('GET', '/api/rdagent/templates', 'RdagentTemplates', undefined, signal),
  templateHistory: (file: string, signal?: AbortSignal): Promise<ConfigHistory> =>
    request('GET', `/api/rdagent/templates/history${buildQuery({ file, limit: 200 })}`, 'ConfigHistory', undefined, signal),
};

/** GET /api/jobs/{job_id}/artifacts/{path}: the download link of one file of a task (slashes kept). */
export function artifactUrl(jobId: string, path: string): string {
  return `${apiBaseUrl()}/api/jobs/${enc(jobId)}/artifacts/${path.split('/').map(enc).join('/')}`;
}

export const RDAGENT_LIST_POLL_MS = 3000;
export const RDAGENT_TASK_POLL_MS = 1000;

/** One page of tasks, newest first; polled while any task on it is queued or running. */
export function useRdagentTasks(limit: number, offset: number) {
  return useQuery({
    queryKey: ['rdagent', 'tasks', limit, offset],
    queryFn: ({ signal }) => rdagentApi.tasks(limit, offset, signal),
    placeholderData: keepPreviousData,
    refetchInterval: (q) => (q.state.data && q.state.data.items.every((j) => isTerminal(j.status)) ? RDAGENT_LIST_POLL_MS * 5 : RDAGENT_LIST_POLL_MS),
  });
}

/** One task with its loop progress and metrics: polled every second until it ends. */
export function useRdagentTask(id: string | undefined) {
  return useQuery({
    queryKey: ['rdagent', 'task', id],
    queryFn: ({ signal }) => rdagentApi.task(id!, signal),
    enabled: !!id,
    refetchInterval: (q) => (q.state.data && isTerminal(q.state.data.job.status) ? false : RDAGENT_TASK_POLL_MS),
  });
}

/** The task's files, one page at a time; refreshed when `version` changes (the task's status). */
export function useRdagentArtifacts(id: string | undefined, limit: number, offset: number, version: string) {
  return useQuery({
    queryKey: ['rdagent', 'artifacts', id, limit, offset, version],
    queryFn: ({ signal }) => rdagentApi.artifacts(id!, limit, offset, signal),
    enabled: !!id,
    placeholderData: keepPreviousData,
  });
}

export function useRdagentDatasets(enabled = true) {
  return useQuery({ queryKey: ['rdagent', 'datasets'], queryFn: ({ signal }) => rdagentApi.datasets(signal), enabled, staleTime: 10_000 });
}

export function useRdagentTemplates(enabled = true) {
  return useQuery({ queryKey: ['rdagent', 'templates'], queryFn: ({ signal }) => rdagentApi.templates(signal), enabled, staleTime: 10_000 });
}

/** The saved versions of one template (by its path in the rdagent root); none asked for without a file. */
export function useTemplateHistory(file: string | null) {
  return useQuery({
    queryKey: ['rdagent', 'template-history', file],
    queryFn: ({ signal }) => rdagentApi.templateHistory(file!, signal),
    enabled: !!file,
    staleTime: 10_000,
  });
}

/** POST /api/rdagent/tasks. Errors are left to the caller (shown next to the fields). */
export function useSubmitRdagentTask(onCreated?: (j: JobDetail) => void) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (body: RdagentTaskRequest) => rdagentApi.submit(body),
    onSuccess: (j) => {
      pushToast({ kind: 'success', title: 'RD-Agent task started', body: j.job_id, link: { to: `/rdagent?tab=monitor&task=${enc(j.job_id)}`, label: 'Monitor' } });
      void qc.invalidateQueries({ queryKey: ['rdagent', 'tasks'] });
      onCreated?.(j);
    },
  });
}

export function useCancelRdagentTask() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => rdagentApi.cancel(id),
    onSuccess: (j) => {
      pushToast({ kind: 'info', title: 'RD-Agent task canceled', body: j.job_id });
      void qc.invalidateQueries({ queryKey: ['rdagent'] });
    },
    onError: (e) => toastError(e, 'Cancel failed'),
  });
}
