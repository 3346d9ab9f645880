// Wire types of the alphalab HTTP API (snake_case, exactly as the server sends them).
// Converters that normalise what the server sends live in ../api/client.ts.

export type JobStatus = 'QUEUED' | 'RUNNING' | 'SUCCESS' | 'FAILED' | 'CANCELED';
export const JOB_STATUSES: JobStatus[] = ['QUEUED', 'RUNNING', 'SUCCESS', 'FAILED', 'CANCELED'];
export const BUILTIN_JOB_TYPES = ['train', 'backtest', 'eval-metrics'] as const;

export interface ApiErrorBody {
  error: { code: string; message: string; details?: unknown };
}

export interface JobArtifacts {
  run_id?: string | null;
  run_dir?: string | null;
  bt_run_id?: string | null;
  bt_dir?: string | null;
  [key: string]: unknown;
}

export interface JobDetail {
  job_id: string;
  job_type: string;
  status: JobStatus;
  created_at: string;
  started_at?: string | null;
  ended_at?: string | null;
  duration_sec?: number | null;
  exit_code?: number | null;
  error_message?: string | null;
  cwd: string;
  command: string[];
  args_preview: string;
  artifacts: JobArtifacts;
  artifacts_parse_error?: string | null;
  runtime: { meta_path: string; log_path: string };
  params: Record<string, unknown>;
  parent_id?: string | null;
  source_job_id?: string | null;
}

export interface JobLogResponse {
  job_id: string;
  content: string;
  next_offset: number;
  is_truncated: boolean;
  log_path: string;
}

export interface JobTypeParam {
  name: string;
  type: string;
  required?: boolean;
  description?: string;
  [key: string]: unknown;
}

export interface JobType {
  name: string;
  description?: string;
  params?: JobTypeParam[];
  builtin?: boolean;
  [key: string]: unknown;
}

export interface TrainRequest {
  config_path: string;
  overrides: string[];
  dry_run: boolean;
}

export interface BacktestRequest {
  config_path: string;
  tickers?: string[];
  start?: string;
  end?: string;
  model_path?: string;
  overrides: string[];
  dry_run: boolean;
}

export type EvalMode = 'base' | 'finetune';

export interface EvalMetricsRequest {
  run_id: string;
  mode: EvalMode;
  dry_run: boolean;
}

export interface Paged<T> {
  items: T[];
  total: number;
  limit: number;
  offset: number;
}

export interface RegistryModelRow {
  ticker: string;
  run_id: string;
  mode: string;
  label_horizon_days: number | null;
  label_threshold: number | null;
  precision: number | null;
  recall: number | null;
  f1: number | null;
  accuracy: number | null;
  buy_rate: number | null;
  positive_rate: number | null;
  lift: number | null;
  tp: number | null;
  fp: number | null;
  tn: number | null;
  fn: number | null;
  support: number | null;
  model_final_path: string | null;
  config_path: string | null;
  metrics_path: string | null;
  manifest_path: string | null;
  start_time: string | null;
  end_time: string | null;
  status: string | null;
  project?: string | null;
}

export interface RegistryQuery {
  ticker?: string;
  min_lift?: number;
  min_precision?: number;
  min_support?: number;
  max_buy_rate?: number;
  sort?: string;
  limit: number;
  offset: number;
}

export interface RunSummary {
  run_id: string;
  status?: string | null;
  mode?: string | null;
  tickers?: string[];
  start_time?: string | null;
  end_time?: string | null;
  run_dir?: string | null;
  config_path?: string | null;
  model_path?: string | null;
  project?: string | null;
  label_horizon_days?: number | null;
  label_threshold?: number | null;
  [key: string]: unknown;
}

export interface TickerMetrics {
  ticker: string;
  precision?: number | null;
  recall?: number | null;
  f1?: number | null;
  accuracy?: number | null;
  buy_rate?: number | null;
  positive_rate?: number | null;
  lift?: number | null;
  tp?: number | null;
  fp?: number | null;
  tn?: number | null;
  fn?: number | null;
  support?: number | null;
  [key: string]: unknown;
}

export interface FileEntry {
  name: string;
  size?: number | null;
  path?: string | null;
}

export interface RunDetail extends RunSummary {
  config: unknown;
  config_text?: string | null;
  metrics: TickerMetrics[];
  manifest: unknown;
  files: FileEntry[];
  jobs: JobDetail[];
}

export interface BacktestSummaryMetrics {
  cagr?: number | null;
  max_drawdown?: number | null;
  sharpe?: number | null;
  sortino?: number | null;
  volatility?: number | null;
  total_return?: number | null;
  trades?: number | null;
  win_rate?: number | null;
  exposure?: number | null;
  final_equity?: number | null;
  statistics?: Record<string, string>;
  [key: string]: unknown;
}

export interface BacktestListItem {
  bt_run_id: string;
  created_at?: string | null;
  tickers?: string[];
  strategy?: string | null;
  start?: string | null;
  end?: string | null;
  summary?: BacktestSummaryMetrics | null;
  [key: string]: unknown;
}

export interface EquityPoint {
  date: string;
  equity: number;
  drawdown: number;
}

export interface Trade {
  symbol: string;
  entry_date: string;
  entry_price: number;
  exit_date: string | null;
  exit_price: number | null;
  shares: number;
  pnl: number | null;
  return: number | null;
  fees: number | null;
}

export interface BacktestDetail extends BacktestListItem {
  summary: BacktestSummaryMetrics;
  equity: EquityPoint[];
  trades: Trade[];
  config: unknown;
  files: FileEntry[];
}

export interface Dashboard {
  recent_jobs: JobDetail[];
  best_models: RegistryModelRow[];
  recent_backtests: BacktestListItem[];
}

export interface JobCreated {
  job_id: string;
  status?: JobStatus;
  [key: string]: unknown;
}
