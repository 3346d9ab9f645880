// The one fetch layer of the UI. Every request goes through `request`; every failure becomes
// an ApiError: the server's {"error": {code, message, details}} envelope, or a synthetic one
// for network failures and for responses that do not match the OpenAPI document
// (code 'bad_response'). Responses are checked against their schema, never repaired.
import type {
  TrainingLog,
  BacktestDetail,
  BacktestPage,
  BacktestRequest,
  Dashboard,
  EvalMetricsRequest,
  Health,
  JobDetail,
  JobLogResponse,
  JobLogSearch,
  JobPage,
  JobStatus,
  JobType,
  Optimization,
  OptimizationEstimatePreview,
  OptimizationPage,
  OptimizationReport,
  OptimizationRequest,
  OptimizationStatusResponse,
  OptimizationTaskPage,
  ProjectList,
  RegistryPage,
  RegistryQuery,
  RunDetail,
  RunPage,
  TickerList,
  SessionCreated,
  SessionInfo,
  SignedOut,
  SubmitJobRequest,
  TrainRequest,
} from '../types/api';
import { waitForSignIn } from '../lib/auth';
import { reportReachable, reportUnreachable } from '../lib/connectivity';
import { schemaMismatch, type SchemaName } from './validate';

export * from '../types/api';

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: unknown;
  readonly path: string;

  constructor(status: number, code: string, message: string, details: unknown, path: string) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.details = details;
    this.path = path;
  }
}

export function isApiError(e: unknown): e is ApiError {
  return e instanceof ApiError;
}

type Fetch = typeof fetch;
let fetchImpl: Fetch = (...args) => globalThis.fetch(...args);
let baseUrl = '';

/** Test seam: replace fetch and the base URL (e.g. an absolute server address). */
export function configureClient(opts: { fetch?: Fetch; baseUrl?: string }): void {
  if (opts.fetch) fetchImpl = opts.fetch;
  if (opts.baseUrl !== undefined) baseUrl = opts.baseUrl.replace(/\/$/, '');
}

/** The base URL requests go to ('' = same origin). */
export function apiBaseUrl(): string {
  return baseUrl;
}

/** Turns a non-2xx response into an ApiError: the envelope when it is one, else the text. */
export function errorFromResponse(status: number, statusText: string, bodyText: string, path: string): ApiError {
  let parsed: unknown = undefined;
  try {
    parsed = bodyText ? JSON.parse(bodyText) : undefined;
  } catch {
    parsed = undefined;
  }
  if (parsed !== undefined && schemaMismatch('ApiError', parsed) === null) {
    const { error } = parsed as { error: { code: string; message: string; details?: unknown } };
    return new ApiError(status, error.code, error.message, error.details ?? null, path);
  }
  const text = bodyText.trim().slice(0, 300);
  return new ApiError(status, `http_${status}`, text || statusText || `HTTP ${status}`, null, path);
}

export type QueryValue = string | number | boolean | null | undefined;

export function buildQuery(params: Record<string, QueryValue>): string {
  const sp = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined || v === null || v === '') continue;
    if (typeof v === 'number' && !Number.isFinite(v)) continue;
    sp.set(k, String(v));
  }
  const s = sp.toString();
  return s ? `?${s}` : '';
}

/** True for a 401 the user can fix by signing in (not the sign-in request itself). */
function needsSignIn(res: Response, path: string): boolean {
  return res.status === 401 && !path.startsWith('/api/session');
}

/** Sends a request and returns its JSON body checked against `schema`. A 401 (auth on, no
 * session yet) shows the sign-in dialog and sends the request again once signed in. */
export async function request<T>(method: string, path: string, schema: SchemaName, body?: unknown, signal?: AbortSignal): Promise<T> {
  for (;;) {
    const res = await send(method, path, body, signal);
    if (needsSignIn(res, path)) {
      await waitForSignIn();
      continue;
    }
    return parseResponse<T>(res, path, schema);
  }
}

async function send(method: string, path: string, body: unknown, signal: AbortSignal | undefined): Promise<Response> {
  try {
    const init: RequestInit = { method, headers: { Accept: 'application/json' } };
    if (body !== undefined) {
      init.headers = { 'Content-Type': 'application/json', Accept: 'application/json' };
      init.body = JSON.stringify(body);
    }
    if (signal) init.signal = signal;
    const res = await fetchImpl(baseUrl + path, init);
    reportReachable();
    return res;
  } catch (e) {
    throw networkError(e, path);
  }
}

/** An AbortError as is; anything else fetch throws is an unreachable server (ApiError network_error). */
function networkError(e: unknown, path: string): unknown {
  if (e instanceof DOMException && e.name === 'AbortError') return e;
  const message = `Cannot reach the alphalab server (${(e as Error).message})`;
  reportUnreachable(message);
  return new ApiError(0, 'network_error', message, null, path);
}

async function parseResponse<T>(res: Response, path: string, schema: SchemaName): Promise<T> {
  const text = await res.text();
  if (!res.ok) throw errorFromResponse(res.status, res.statusText, text, path);
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw new ApiError(res.status, 'bad_response', `The server sent a response that is not JSON (${path})`, text.slice(0, 200), path);
  }
  const mismatch = schemaMismatch(schema, data);
  if (mismatch !== null) {
    throw new ApiError(res.status, 'bad_response', `Unexpected response from ${path}: ${mismatch} (schema ${schema})`, null, path);
  }
  return data as T;
}

/** GETs a text resource (a CSV of a backtest folder): the body as is, or an ApiError. */
export async function requestText(path: string, signal?: AbortSignal): Promise<string> {
  let res: Response;
  for (;;) {
    try {
      const init: RequestInit = { method: 'GET' };
      if (signal) init.signal = signal;
      res = await fetchImpl(baseUrl + path, init);
      reportReachable();
    } catch (e) {
      throw networkError(e, path);
    }
    if (!needsSignIn(res, path)) break;
    await waitForSignIn();
  }
  const text = await res.text();
  if (!res.ok) throw errorFromResponse(res.status, res.statusText, text, path);
  return text;
}

export function isTerminal(status: JobStatus): boolean {
  return status === 'SUCCESS' || status === 'FAILED' || status === 'CANCELED';
}

// ---------------------------------------------------------------- endpoints

const enc = encodeURIComponent;

export interface RecentJobsQuery {
  status?: string | undefined;
  job_type?: string | undefined;
  /** text search (server side: job_id, type, args, params) */
  q?: string | undefined;
  /** created on or after this date (YYYY-MM-DD, UTC) */
  from?: string | undefined;
  /** created on or before this date (YYYY-MM-DD, UTC, through its end) */
  to?: string | undefined;
  limit?: number | undefined;
  offset?: number | undefined;
}

export interface RunsQuery {
  /** text search (server side: run_id, project, dataset, config_path, tickers) */
  q?: string | undefined;
  /** `<field>_<asc|desc>` over start_time, run_id, project, dataset, status, mode */
  sort?: string | undefined;
  limit: number;
  offset: number;
}

export interface OptimizationsQuery {
  status?: string | undefined;
  project?: string | undefined;
  source_id?: string | undefined;
  limit: number;
  offset: number;
}

export interface OptimizationTasksQuery {
  status?: string | undefined;
  /** `<field>_<asc|desc>`: index, score or any numeric result field */
  sort?: string | undefined;
  limit: number;
  offset: number;
}

const OPT = '/api/v1/optimizations';

export const api = {
  recentJobs: (q: RecentJobsQuery = {}, signal?: AbortSignal): Promise<JobPage> =>
    request('GET', `/api/jobs/recent${buildQuery({ status: q.status, job_type: q.job_type, q: q.q, from: q.from, to: q.to, limit: q.limit ?? 100, offset: q.offset })}`, 'JobPage', undefined, signal),
  job: (jobId: string, signal?: AbortSignal): Promise<JobDetail> => request('GET', `/api/jobs/${enc(jobId)}`, 'Job', undefined, signal),
  jobLog: (jobId: string, offset: number, tail?: number, signal?: AbortSignal): Promise<JobLogResponse> =>
    request('GET', `/api/jobs/${enc(jobId)}/log${buildQuery({ offset, tail })}`, 'JobLog', undefined, signal),
  /** Server-side search over the whole log: lines containing q from byte `offset` (GET /api/jobs/{id}/log/search). */
  jobLogSearch: (jobId: string, q: string, offset: number, limit = 100, signal?: AbortSignal): Promise<JobLogSearch> =>
    request('GET', `/api/jobs/${enc(jobId)}/log/search${buildQuery({ q, offset, limit })}`, 'JobLogSearch', undefined, signal),
  /** The SSE URL of a job's log from `offset` (see useJobLog). */
  jobLogStreamUrl: (jobId: string, offset: number) => `${baseUrl}/api/jobs/${enc(jobId)}/log/stream${buildQuery({ offset })}`,
  cancelJob: (jobId: string): Promise<JobDetail> => request('POST', `/api/jobs/${enc(jobId)}/cancel`, 'Job', {}),
  jobTypes: async (): Promise<JobType[]> => (await request<{ job_types: JobType[] }>('GET', '/api/job-types', 'JobTypes')).job_types,
  submitTrain: (body: TrainRequest): Promise<JobDetail> => request('POST', '/api/jobs/train', 'Job', body),
  submitBacktest: (body: BacktestRequest): Promise<JobDetail> => request('POST', '/api/jobs/backtest', 'Job', body),
  submitEval: (body: EvalMetricsRequest): Promise<JobDetail> => request('POST', '/api/jobs/eval-metrics', 'Job', body),
  submitJob: (body: SubmitJobRequest): Promise<JobDetail> => request('POST', '/api/jobs', 'Job', body),

  registryModels: (q: RegistryQuery, signal?: AbortSignal): Promise<RegistryPage> =>
    request('GET', `/api/registry/models${buildQuery({ ...q })}`, 'RegistryPage', undefined, signal),

  /** Every ticker with at least one registry row, ascending (GET /api/registry/tickers). */
  registryTickers: (signal?: AbortSignal): Promise<TickerList> => request('GET', '/api/registry/tickers', 'TickerList', undefined, signal),

  runs: (q: RunsQuery, signal?: AbortSignal): Promise<RunPage> =>
    request('GET', `/api/runs${buildQuery({ q: q.q, sort: q.sort, limit: q.limit, offset: q.offset })}`, 'RunPage', undefined, signal),
  run: (runId: string, signal?: AbortSignal): Promise<RunDetail> => request('GET', `/api/runs/${enc(runId)}`, 'RunDetail', undefined, signal),

  /** GET /api/runs/{run_id}/files/{name}: one file of the run's folder (confined to it). */
  runFileUrl: (runId: string, name: string) => `${baseUrl}/api/runs/${enc(runId)}/files/${enc(name)}`,
  /** One file of a run folder as text. */
  runFileText: (runId: string, name: string, signal?: AbortSignal): Promise<string> => requestText(`/api/runs/${enc(runId)}/files/${enc(name)}`, signal),
  /** runs/<id>/training_log.json (eval log + feature importance per model), checked against the TrainingLog schema. */
  runTrainingLog: async (runId: string, signal?: AbortSignal): Promise<TrainingLog> => {
    const path = `/api/runs/${enc(runId)}/files/training_log.json`;
    const text = await requestText(path, signal);
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch {
      throw new ApiError(200, 'bad_response', `training_log.json is not JSON (${path})`, text.slice(0, 200), path);
    }
    const mismatch = schemaMismatch('TrainingLog', data);
    if (mismatch !== null) throw new ApiError(200, 'bad_response', `Unexpected training_log.json: ${mismatch} (schema TrainingLog)`, null, path);
    return data as TrainingLog;
  },

  backtests: (limit: number, offset: number, signal?: AbortSignal): Promise<BacktestPage> =>
    request('GET', `/api/backtests${buildQuery({ limit, offset })}`, 'BacktestPage', undefined, signal),
  backtest: (btRunId: string, points?: number, signal?: AbortSignal): Promise<BacktestDetail> =>
    request('GET', `/api/backtests/${enc(btRunId)}${buildQuery({ points })}`, 'BacktestDetail', undefined, signal),
  backtestFileUrl: (btRunId: string, name: string) => `${baseUrl}/api/backtests/${enc(btRunId)}/files/${enc(name)}`,
  /** One file of a backtest folder as text (GET /api/backtests/{id}/files/{name}). */
  backtestFileText: (btRunId: string, name: string, signal?: AbortSignal): Promise<string> =>
    requestText(`/api/backtests/${enc(btRunId)}/files/${enc(name)}`, signal),

  optimizations: (q: OptimizationsQuery, signal?: AbortSignal): Promise<OptimizationPage> =>
    request('GET', `${OPT}${buildQuery({ status: q.status, project: q.project, source_id: q.source_id, limit: q.limit, offset: q.offset })}`, 'OptimizationPage', undefined, signal),
  optimization: (id: string, signal?: AbortSignal): Promise<Optimization> => request('GET', `${OPT}/${enc(id)}`, 'Optimization', undefined, signal),
  /** One row read on the server: what the detail page polls while the sweep runs. */
  optimizationStatus: (id: string, signal?: AbortSignal): Promise<OptimizationStatusResponse> =>
    request('GET', `${OPT}/${enc(id)}/status`, 'OptimizationStatusResponse', undefined, signal),
  optimizationTasks: (id: string, q: OptimizationTasksQuery, signal?: AbortSignal): Promise<OptimizationTaskPage> =>
    request('GET', `${OPT}/${enc(id)}/tasks${buildQuery({ status: q.status, sort: q.sort, limit: q.limit, offset: q.offset })}`, 'OptimizationTaskPage', undefined, signal),
  createOptimization: (body: OptimizationRequest): Promise<Optimization> => request('POST', OPT, 'Optimization', body),
  /** POST .../estimate: the same body, validated as the creation is; nothing is created. */
  estimateOptimization: (body: OptimizationRequest, signal?: AbortSignal): Promise<OptimizationEstimatePreview> =>
    request('POST', `${OPT}/estimate`, 'OptimizationEstimatePreview', body, signal),
  cancelOptimization: (id: string): Promise<Optimization> => request('POST', `${OPT}/${enc(id)}/cancel`, 'Optimization', {}),
  optimizationReport: (id: string, signal?: AbortSignal): Promise<OptimizationReport> =>
    request('GET', `${OPT}/${enc(id)}/report`, 'OptimizationReport', undefined, signal),
  /** GET .../export: the zip (a plain download link; the browser saves `<id>.zip`). */
  optimizationExportUrl: (id: string) => `${baseUrl}${OPT}/${enc(id)}/export`,
  projects: (signal?: AbortSignal): Promise<ProjectList> => request('GET', '/api/projects', 'ProjectList', undefined, signal),

  /** Liveness (GET /api/health, no auth): the unreachable-server banner's retry. */
  health: (signal?: AbortSignal): Promise<Health> => request('GET', '/api/health', 'Health', undefined, signal),
  dashboard: (signal?: AbortSignal): Promise<Dashboard> => request('GET', '/api/dashboard', 'Dashboard', undefined, signal),

  /** Whether auth is on, whether the server runs --insecure, and who the caller is. */
  session: (signal?: AbortSignal): Promise<SessionInfo> => request('GET', '/api/session', 'SessionInfo', undefined, signal),
  /** Exchanges a token for the HttpOnly session cookie (401 for a wrong token). */
  signIn: (token: string): Promise<SessionCreated> => request('POST', '/api/session', 'SessionCreated', { token }),
  signOut: (): Promise<SignedOut> => request('DELETE', '/api/session', 'SignedOut', {}),
};

/** Reads the whole log (all bytes from offset 0), following next_offset in capped steps. */
export async function fetchWholeLog(jobId: string, maxSteps = 10_000): Promise<string> {
  const parts: string[] = [];
  // offset=0 with a tail as large as any file: the server returns from byte 0 (capped per response).
  let res = await api.jobLog(jobId, 0, 2_000_000_000);
  parts.push(res.content);
  let offset = res.next_offset;
  for (let i = 0; i < maxSteps && res.content.length > 0; i++) {
    res = await api.jobLog(jobId, offset);
    if (res.content.length === 0 || res.next_offset <= offset) break;
    parts.push(res.content);
    offset = res.next_offset;
  }
  return parts.join('');
}
