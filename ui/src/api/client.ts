// The one fetch layer of the UI. Every request goes through `request`, every
// failure becomes an ApiError (the server's {"error": {code, message, details}}
// envelope, or a synthetic one for network/parse failures). Converters below
// normalise the server's shapes so components see one stable type per resource.
import type {
  BacktestDetail,
  BacktestListItem,
  BacktestRequest,
  BacktestSummaryMetrics,
  Dashboard,
  EquityPoint,
  EvalMetricsRequest,
  FileEntry,
  JobCreated,
  JobDetail,
  JobLogResponse,
  JobStatus,
  JobType,
  Paged,
  RegistryModelRow,
  RegistryQuery,
  RunDetail,
  RunSummary,
  TickerMetrics,
  Trade,
  TrainRequest,
} from '../types/api';

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

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Turns a non-2xx response body into an ApiError (envelope or plain text). */
export function errorFromResponse(status: number, statusText: string, bodyText: string, path: string): ApiError {
  let parsed: unknown = undefined;
  try {
    parsed = bodyText ? JSON.parse(bodyText) : undefined;
  } catch {
    parsed = undefined;
  }
  if (isRecord(parsed) && isRecord(parsed.error)) {
    const err = parsed.error;
    const code = typeof err.code === 'string' ? err.code : String(status);
    const message = typeof err.message === 'string' && err.message ? err.message : statusText || `HTTP ${status}`;
    return new ApiError(status, code, message, err.details ?? null, path);
  }
  if (isRecord(parsed) && typeof parsed.detail === 'string') {
    return new ApiError(status, `http_${status}`, parsed.detail, null, path);
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

export async function request<T>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
  let res: Response;
  try {
    res = await fetchImpl(baseUrl + path, {
      method,
      headers: body !== undefined ? { 'Content-Type': 'application/json', Accept: 'application/json' } : { Accept: 'application/json' },
      body: body !== undefined ? JSON.stringify(body) : undefined,
      signal,
    });
  } catch (e) {
    if (e instanceof DOMException && e.name === 'AbortError') throw e;
    throw new ApiError(0, 'network_error', `Cannot reach the alphalab server (${(e as Error).message})`, null, path);
  }
  const text = await res.text();
  if (!res.ok) throw errorFromResponse(res.status, res.statusText, text, path);
  if (!text) return undefined as T;
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new ApiError(res.status, 'bad_response', `The server sent a response that is not JSON (${path})`, text.slice(0, 200), path);
  }
}

// ---------------------------------------------------------------- converters

function num(v: unknown): number | null {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  return null;
}

function str(v: unknown): string | null {
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return String(v);
  return null;
}

function list<T>(raw: unknown, key = 'items'): T[] {
  if (Array.isArray(raw)) return raw as T[];
  if (isRecord(raw) && Array.isArray(raw[key])) return raw[key] as T[];
  if (isRecord(raw) && Array.isArray(raw.jobs)) return raw.jobs as T[];
  return [];
}

/** Accepts {items,total,limit,offset} or a bare array. */
export function toPaged<T>(raw: unknown, map: (x: unknown) => T, limit: number, offset: number): Paged<T> {
  const items = list<unknown>(raw).map(map);
  if (isRecord(raw)) {
    return {
      items,
      total: num(raw.total) ?? items.length + offset,
      limit: num(raw.limit) ?? limit,
      offset: num(raw.offset) ?? offset,
    };
  }
  return { items, total: items.length, limit, offset };
}

const STATUSES: JobStatus[] = ['QUEUED', 'RUNNING', 'SUCCESS', 'FAILED', 'CANCELED'];

export function toJobStatus(v: unknown): JobStatus {
  const s = typeof v === 'string' ? v.toUpperCase() : '';
  if (s === 'CANCELLED') return 'CANCELED';
  if (s === 'SUCCEEDED') return 'SUCCESS';
  return (STATUSES as string[]).includes(s) ? (s as JobStatus) : 'QUEUED';
}

export function isTerminal(status: JobStatus): boolean {
  return status === 'SUCCESS' || status === 'FAILED' || status === 'CANCELED';
}

export function toJobDetail(raw: unknown): JobDetail {
  const r = isRecord(raw) ? raw : {};
  const command = Array.isArray(r.command) ? r.command.map(String) : typeof r.command === 'string' ? [r.command] : [];
  const runtime = isRecord(r.runtime) ? r.runtime : {};
  return {
    job_id: str(r.job_id) ?? str(r.id) ?? '',
    job_type: str(r.job_type) ?? str(r.type) ?? '',
    status: toJobStatus(r.status),
    created_at: str(r.created_at) ?? '',
    started_at: str(r.started_at),
    ended_at: str(r.ended_at),
    duration_sec: num(r.duration_sec),
    exit_code: num(r.exit_code),
    error_message: str(r.error_message),
    cwd: str(r.cwd) ?? '',
    command,
    args_preview: str(r.args_preview) ?? command.slice(1).join(' '),
    artifacts: isRecord(r.artifacts) ? (r.artifacts as JobDetail['artifacts']) : {},
    artifacts_parse_error: str(r.artifacts_parse_error),
    runtime: { meta_path: str(runtime.meta_path) ?? '', log_path: str(runtime.log_path) ?? '' },
    params: isRecord(r.params) ? r.params : {},
    parent_id: str(r.parent_id),
    source_job_id: str(r.source_job_id),
  };
}

const REGISTRY_NUMERIC = [
  'label_horizon_days', 'label_threshold', 'precision', 'recall', 'f1', 'accuracy', 'buy_rate',
  'positive_rate', 'lift', 'tp', 'fp', 'tn', 'fn', 'support',
] as const;

export function toRegistryRow(raw: unknown): RegistryModelRow {
  const r = isRecord(raw) ? raw : {};
  const row: Record<string, unknown> = {
    ticker: str(r.ticker) ?? '',
    run_id: str(r.run_id) ?? '',
    mode: str(r.mode) ?? '',
    model_final_path: str(r.model_final_path),
    config_path: str(r.config_path),
    metrics_path: str(r.metrics_path),
    manifest_path: str(r.manifest_path),
    start_time: str(r.start_time),
    end_time: str(r.end_time),
    status: str(r.status),
    project: str(r.project),
  };
  for (const k of REGISTRY_NUMERIC) row[k] = num(r[k]);
  return row as unknown as RegistryModelRow;
}

function toTickerMetrics(raw: unknown): TickerMetrics[] {
  // Either [{ticker, ...}] or {TICKER: {...}} or {per_ticker: ...}.
  if (Array.isArray(raw)) return raw.filter(isRecord).map((m) => ({ ...m, ticker: str(m.ticker) ?? '' }) as TickerMetrics);
  if (isRecord(raw)) {
    for (const key of ['per_ticker', 'tickers', 'by_ticker']) {
      if (raw[key] !== undefined) return toTickerMetrics(raw[key]);
    }
    const out: TickerMetrics[] = [];
    for (const [ticker, v] of Object.entries(raw)) {
      if (isRecord(v) && ('precision' in v || 'support' in v || 'tp' in v)) out.push({ ...v, ticker } as TickerMetrics);
      else if (isRecord(v)) {
        // {TICKER: {base: {...}, finetune: {...}}}
        for (const [mode, m] of Object.entries(v)) {
          if (isRecord(m) && ('precision' in m || 'support' in m)) out.push({ ...m, ticker, mode } as TickerMetrics);
        }
      }
    }
    return out;
  }
  return [];
}

function toFiles(raw: unknown): FileEntry[] {
  if (!Array.isArray(raw)) return [];
  return raw.map((f) => (typeof f === 'string' ? { name: f } : isRecord(f) ? { name: str(f.name) ?? str(f.path) ?? '', size: num(f.size), path: str(f.path) } : { name: String(f) }));
}

export function toRunSummary(raw: unknown): RunSummary {
  const r = isRecord(raw) ? raw : {};
  const tickers = Array.isArray(r.tickers) ? r.tickers.map(String) : typeof r.ticker === 'string' ? [r.ticker] : [];
  return { ...r, run_id: str(r.run_id) ?? '', tickers };
}

export function toRunDetail(raw: unknown): RunDetail {
  const r = isRecord(raw) ? raw : {};
  // The server nests the indexed summary under `summary` and the config as {path, raw, parsed}.
  const summary = isRecord(r.summary) ? r.summary : isRecord(r.run) ? r.run : {};
  const base = toRunSummary({ ...summary, ...r, tickers: r.tickers ?? summary.tickers });
  const cfg = isRecord(r.config) ? r.config : null;
  const registryRows = Array.isArray(r.registry_rows) ? r.registry_rows.map(toRegistryRow) : [];
  const metrics: TickerMetrics[] = registryRows.length
    ? registryRows.map((row) => ({ ...row, ticker: row.ticker }) as unknown as TickerMetrics)
    : toTickerMetrics(r.metrics);
  const modelPath = str(r.model_path) ?? registryRows.find((x) => x.model_final_path)?.model_final_path ?? null;
  const first = registryRows[0];
  return {
    ...base,
    mode: base.mode ?? str(summary.mode) ?? first?.mode ?? null,
    status: str(summary.status) ?? base.status ?? null,
    start_time: str(summary.start_time) ?? base.start_time ?? null,
    end_time: str(summary.end_time) ?? base.end_time ?? null,
    config_path: str(summary.config_path) ?? (cfg ? str(cfg.path) : null) ?? base.config_path ?? null,
    label_horizon_days: first?.label_horizon_days ?? null,
    label_threshold: first?.label_threshold ?? null,
    model_path: modelPath,
    config: cfg && 'parsed' in cfg ? cfg.parsed : (r.config ?? null),
    config_text: (cfg ? str(cfg.raw) : null) ?? str(r.config_text) ?? str(r.config_yaml),
    metrics,
    manifest: r.manifest ?? null,
    files: toFiles(r.files),
    jobs: Array.isArray(r.jobs) ? r.jobs.map(toJobDetail) : [],
  };
}

function toSummaryMetrics(raw: unknown): BacktestSummaryMetrics {
  if (!isRecord(raw)) return {};
  const out: BacktestSummaryMetrics = { ...raw };
  for (const k of ['cagr', 'max_drawdown', 'sharpe', 'sortino', 'volatility', 'total_return', 'trades', 'win_rate', 'exposure', 'final_equity']) {
    out[k] = num(raw[k]);
  }
  out.statistics = isRecord(raw.statistics) ? (Object.fromEntries(Object.entries(raw.statistics).map(([k, v]) => [k, String(v)])) as Record<string, string>) : {};
  return out;
}

const SUMMARY_KEYS = ['cagr', 'max_drawdown', 'sharpe', 'sortino', 'volatility', 'total_return', 'trades', 'win_rate', 'exposure', 'final_equity'];

export function toBacktestListItem(raw: unknown): BacktestListItem {
  const r = isRecord(raw) ? raw : {};
  const cfgParsed = isRecord(r.config) && isRecord(r.config.parsed) ? r.config.parsed : isRecord(r.config) ? r.config : {};
  const tickersRaw = r.tickers ?? cfgParsed.tickers;
  const tickers = Array.isArray(tickersRaw) ? tickersRaw.map(String) : typeof r.ticker === 'string' ? [r.ticker] : typeof tickersRaw === 'string' ? [tickersRaw] : [];
  const stratRaw = r.strategy ?? cfgParsed.strategy;
  const strategy = isRecord(stratRaw) ? str(stratRaw.type) : str(stratRaw);
  // The list sends the metrics flat on the row; the detail sends them under `summary`.
  const flat = SUMMARY_KEYS.some((k) => k in r);
  const summary = r.summary !== undefined ? toSummaryMetrics(r.summary) : flat ? toSummaryMetrics(r) : null;
  return {
    ...r,
    bt_run_id: str(r.bt_run_id) ?? str(r.id) ?? '',
    created_at: str(r.created_at) ?? str(r.start_time),
    tickers,
    strategy,
    start: str(r.start) ?? str(cfgParsed.start),
    end: str(r.end) ?? str(cfgParsed.end),
    summary,
  };
}

function toEquity(raw: unknown): EquityPoint[] {
  if (isRecord(raw) && Array.isArray(raw.date) && Array.isArray(raw.equity)) {
    // columnar {date:[], equity:[], drawdown:[]}
    const dates = raw.date as unknown[];
    const eq = raw.equity as unknown[];
    const dd = Array.isArray(raw.drawdown) ? (raw.drawdown as unknown[]) : [];
    return dates.map((d, i) => ({ date: String(d), equity: num(eq[i]) ?? 0, drawdown: num(dd[i]) ?? 0 }));
  }
  if (!Array.isArray(raw)) return [];
  return raw.filter(isRecord).map((p) => ({ date: str(p.date) ?? '', equity: num(p.equity) ?? 0, drawdown: num(p.drawdown) ?? 0 }));
}

function toTrades(raw: unknown): Trade[] {
  if (!Array.isArray(raw)) return [];
  return raw.filter(isRecord).map((t) => ({
    symbol: str(t.symbol) ?? str(t.ticker) ?? '',
    entry_date: str(t.entry_date) ?? '',
    entry_price: num(t.entry_price) ?? 0,
    exit_date: str(t.exit_date),
    exit_price: num(t.exit_price),
    shares: num(t.shares) ?? 0,
    pnl: num(t.pnl),
    return: num(t.return) ?? num(t.return_pct),
    fees: num(t.fees),
  }));
}

export function toBacktestDetail(raw: unknown): BacktestDetail {
  const r = isRecord(raw) ? raw : {};
  const item = toBacktestListItem(r);
  const summary = toSummaryMetrics(isRecord(r.summary) ? r.summary : r);
  // LEAN-style statistics may sit beside the summary rather than inside it.
  if (isRecord(r.statistics) && Object.keys(summary.statistics ?? {}).length === 0) {
    summary.statistics = Object.fromEntries(Object.entries(r.statistics).map(([k, v]) => [k, String(v)]));
  }
  const cfg = isRecord(r.config) ? r.config : null;
  return {
    ...item,
    summary,
    equity: toEquity(r.equity ?? r.equity_curve),
    trades: toTrades(r.trades),
    config: cfg && 'raw' in cfg ? (str(cfg.raw) ?? cfg.parsed ?? null) : (r.config ?? null),
    files: toFiles(r.files),
  };
}

export function toLogResponse(raw: unknown, jobId: string): JobLogResponse {
  const r = isRecord(raw) ? raw : {};
  return {
    job_id: str(r.job_id) ?? jobId,
    content: typeof r.content === 'string' ? r.content : '',
    next_offset: num(r.next_offset) ?? 0,
    is_truncated: r.is_truncated === true,
    log_path: str(r.log_path) ?? '',
  };
}

// ---------------------------------------------------------------- endpoints

const enc = encodeURIComponent;

export interface RecentJobsQuery {
  status?: string;
  job_type?: string;
  limit?: number;
}

export const api = {
  recentJobs: async (q: RecentJobsQuery = {}, signal?: AbortSignal): Promise<JobDetail[]> =>
    list<unknown>(await request<unknown>('GET', `/api/jobs/recent${buildQuery({ status: q.status, job_type: q.job_type, limit: q.limit ?? 100 })}`, undefined, signal)).map(toJobDetail),
  job: async (jobId: string, signal?: AbortSignal): Promise<JobDetail> =>
    toJobDetail(await request<unknown>('GET', `/api/jobs/${enc(jobId)}`, undefined, signal)),
  jobLog: async (jobId: string, offset: number, tail?: number, signal?: AbortSignal): Promise<JobLogResponse> =>
    toLogResponse(await request<unknown>('GET', `/api/jobs/${enc(jobId)}/log${buildQuery({ offset, tail })}`, undefined, signal), jobId),
  cancelJob: async (jobId: string): Promise<JobDetail> => toJobDetail(await request<unknown>('POST', `/api/jobs/${enc(jobId)}/cancel`, {})),
  jobTypes: async (): Promise<JobType[]> => {
    const raw = await request<unknown>('GET', '/api/job-types');
    const items = list<unknown>(raw, isRecord(raw) && Array.isArray(raw.job_types) ? 'job_types' : 'items');
    return items.map((t) => (typeof t === 'string' ? { name: t } : isRecord(t) ? ({ ...t, name: str(t.name) ?? str(t.job_type) ?? '' } as JobType) : { name: String(t) }));
  },
  submitTrain: (body: TrainRequest) => request<JobCreated>('POST', '/api/jobs/train', body),
  submitBacktest: (body: BacktestRequest) => request<JobCreated>('POST', '/api/jobs/backtest', body),
  submitEval: (body: EvalMetricsRequest) => request<JobCreated>('POST', '/api/jobs/eval-metrics', body),

  registryModels: async (q: RegistryQuery, signal?: AbortSignal): Promise<Paged<RegistryModelRow>> =>
    toPaged(await request<unknown>('GET', `/api/registry/models${buildQuery({ ...q })}`, undefined, signal), toRegistryRow, q.limit, q.offset),

  runs: async (limit: number, offset: number, signal?: AbortSignal): Promise<Paged<RunSummary>> =>
    toPaged(await request<unknown>('GET', `/api/runs${buildQuery({ limit, offset })}`, undefined, signal), toRunSummary, limit, offset),
  run: async (runId: string, signal?: AbortSignal): Promise<RunDetail> =>
    toRunDetail(await request<unknown>('GET', `/api/runs/${enc(runId)}`, undefined, signal)),

  backtests: async (limit: number, offset: number, signal?: AbortSignal): Promise<Paged<BacktestListItem>> =>
    toPaged(await request<unknown>('GET', `/api/backtests${buildQuery({ limit, offset })}`, undefined, signal), toBacktestListItem, limit, offset),
  backtest: async (btRunId: string, points?: number, signal?: AbortSignal): Promise<BacktestDetail> =>
    toBacktestDetail(await request<unknown>('GET', `/api/backtests/${enc(btRunId)}${buildQuery({ points })}`, undefined, signal)),
  backtestFileUrl: (btRunId: string, name: string) => `${baseUrl}/api/backtests/${enc(btRunId)}/files/${enc(name)}`,

  dashboard: async (signal?: AbortSignal): Promise<Dashboard> => {
    const raw = await request<unknown>('GET', '/api/dashboard', undefined, signal);
    const r = isRecord(raw) ? raw : {};
    return {
      recent_jobs: list<unknown>(r.recent_jobs).map(toJobDetail),
      best_models: list<unknown>(r.best_models).map(toRegistryRow),
      recent_backtests: list<unknown>(r.recent_backtests).map(toBacktestListItem),
    };
  },
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
