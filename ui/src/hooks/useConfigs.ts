// The config center's requests (docs/configs.md): managed files, one file with its content,
// history, diffs, writes (with base_sha256), rollbacks and the tool's checks. Every response is
// checked against its OpenAPI schema by `request`.
import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { buildQuery, request } from '../api/client';
import type { components } from '../api/schema.gen';

type Schemas = components['schemas'];
export type ConfigList = Schemas['ConfigList'];
export type ConfigTool = Schemas['ConfigTool'];
export type ConfigFileInfo = Schemas['ConfigFileInfo'];
export type ConfigWritten = Schemas['ConfigWritten'];
export type ConfigHistory = Schemas['ConfigHistory'];
export type ConfigHistoryEntry = Schemas['ConfigHistoryEntry'];
export type ConfigDiff = Schemas['ConfigDiff'];
export type ConfigCheck = Schemas['ConfigCheck'];
export type ConfigCheckKind = 'all' | 'consistency' | 'qlib' | 'llm';

export interface ConfigWrite {
  path: string;
  content: string;
  base_sha256: string;
  note?: string;
}

export interface ConfigRollback {
  path: string;
  history_id: number;
  note?: string;
}

export interface ConfigCheckRequest {
  tool: string;
  check: ConfigCheckKind;
  provider_uri?: string;
}

/** `current` or a history id: one side of a diff. */
export type DiffSide = number | 'current';

export const configsApi = {
  list: (tool: string | undefined, signal?: AbortSignal): Promise<ConfigList> =>
    request('GET', `/api/configs${buildQuery({ tool })}`, 'ConfigList', undefined, signal),
  file: (path: string, signal?: AbortSignal): Promise<ConfigFileInfo> =>
    request('GET', `/api/configs/file${buildQuery({ path })}`, 'ConfigFileInfo', undefined, signal),
  history: (path: string, limit: number, offset: number, signal?: AbortSignal): Promise<ConfigHistory> =>
    request('GET', `/api/configs/history${buildQuery({ path, limit, offset })}`, 'ConfigHistory', undefined, signal),
  diff: (path: string, from: DiffSide, to: DiffSide, signal?: AbortSignal): Promise<ConfigDiff> =>
    request('GET', `/api/configs/diff${buildQuery({ path, from: String(from), to: String(to) })}`, 'ConfigDiff', undefined, signal),
  write: (body: ConfigWrite): Promise<ConfigWritten> => request('PUT', '/api/configs/file', 'ConfigWritten', body),
  rollback: (body: ConfigRollback): Promise<ConfigWritten> => request('POST', '/api/configs/rollback', 'ConfigWritten', body),
  check: (body: ConfigCheckRequest): Promise<ConfigCheck> => request('POST', '/api/configs/check', 'ConfigCheck', body),
};

const LIST_POLL_MS = 10_000;

/** The managed files of one tool (or every tool), polled so a file edited on disk shows drift. */
export function useConfigList(tool: string | undefined) {
  return useQuery({
    queryKey: ['configs', 'list', tool ?? null],
    queryFn: ({ signal }) => configsApi.list(tool, signal),
    refetchInterval: LIST_POLL_MS,
  });
}

/** One file with its content. Not polled: the editor keeps the version it opened (its hash is
 * the base of the next write); the list shows when the disk moved on. */
export function useConfigFile(path: string | null) {
  return useQuery({
    queryKey: ['configs', 'file', path],
    queryFn: ({ signal }) => configsApi.file(path!, signal),
    enabled: path !== null,
    staleTime: Infinity,
  });
}

export function useConfigHistory(path: string | null, limit: number, offset: number) {
  return useQuery({
    queryKey: ['configs', 'history', path, limit, offset],
    queryFn: ({ signal }) => configsApi.history(path!, limit, offset, signal),
    enabled: path !== null,
    placeholderData: keepPreviousData,
  });
}

export function useConfigDiff(path: string | null, from: DiffSide | null, to: DiffSide | null) {
  return useQuery({
    queryKey: ['configs', 'diff', path, from, to],
    queryFn: ({ signal }) => configsApi.diff(path!, from!, to!, signal),
    enabled: path !== null && from !== null && to !== null,
    retry: false,
  });
}

/** After a write or a rollback: the list, the file, its history and its diffs are all stale. */
function useInvalidateConfigs() {
  const qc = useQueryClient();
  return (path: string) => {
    void qc.invalidateQueries({ queryKey: ['configs', 'list'] });
    void qc.invalidateQueries({ queryKey: ['configs', 'file', path] });
    void qc.invalidateQueries({ queryKey: ['configs', 'history', path] });
    void qc.invalidateQueries({ queryKey: ['configs', 'diff', path] });
  };
}

/** Errors are left to the caller (a 400 is shown beside the editor, a 409 as a stale-edit notice). */
export function useWriteConfig() {
  const invalidate = useInvalidateConfigs();
  return useMutation({ mutationFn: configsApi.write, onSuccess: (_w, body) => invalidate(body.path) });
}

export function useRollbackConfig() {
  const invalidate = useInvalidateConfigs();
  return useMutation({ mutationFn: configsApi.rollback, onSuccess: (_w, body) => invalidate(body.path) });
}

export function useConfigCheck() {
  return useMutation({ mutationFn: configsApi.check });
}
