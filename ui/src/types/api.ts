// Wire types of the alphalab HTTP API, generated from the server's OpenAPI document
// (src/http/openapi.json -> src/api/schema.gen.ts by `npm run gen`). Nothing here is written
// by hand except aliases and the UI's own request shapes.
import type { components } from '../api/schema.gen';

type Schemas = components['schemas'];

export type JobStatus = Schemas['JobStatus'];
export type EndReason = NonNullable<Schemas['EndReason']>;
export const JOB_STATUSES: readonly JobStatus[] = ['QUEUED', 'RUNNING', 'SUCCESS', 'FAILED', 'CANCELED'];
export const BUILTIN_JOB_TYPES = ['train', 'backtest', 'eval-metrics'] as const;

export type ApiErrorBody = Schemas['ApiError'];
export type JobDetail = Schemas['Job'];
export type TrainingLog = Schemas['TrainingLog'];
export type TrainingLogModel = Schemas['TrainingLogModel'];
export type RunJob = Schemas['RunJob'];
export type JobPage = Schemas['JobPage'];
export type JobLogResponse = Schemas['JobLog'];
export type JobLogSearch = Schemas['JobLogSearch'];
export type JobType = Schemas['JobType'];
export type JobTypeParam = Schemas['JobTypeParam'];
export type ParamType = Schemas['ParamType'];
export type TrainRequest = Schemas['TrainRequest'];
export type BacktestRequest = Schemas['BacktestRequest'];
export type EvalMetricsRequest = Schemas['EvalMetricsRequest'];
export type SubmitJobRequest = Schemas['SubmitRequest'];
export type EvalMode = NonNullable<EvalMetricsRequest['mode']>;
export type JobCreated = JobDetail;
export type SessionInfo = Schemas['SessionInfo'];
export type SessionCreated = Schemas['SessionCreated'];
export type SignedOut = Schemas['SignedOut'];

export type RegistryModelRow = Schemas['RegistryRow'];
export type RegistryPage = Schemas['RegistryPage'];
export type RegistryCompare = Schemas['RegistryCompare'];
export type RunSummary = Schemas['RunSummary'];
export type RunPage = Schemas['RunPage'];
export type RunDetail = Schemas['RunDetail'];
export type FileEntry = Schemas['FileEntry'];
export type BacktestListItem = Schemas['BacktestSummary'];
export type BacktestPage = Schemas['BacktestPage'];
export type BacktestDetail = Schemas['BacktestDetail'];
export type BacktestFileSummary = Schemas['BacktestFileSummary'];
export type EquityPoint = Schemas['EquityPoint'];
export type TradeRow = Schemas['TradeRow'];
export type Dashboard = Schemas['Dashboard'];
export type Health = Schemas['Health'];
export type TickerList = Schemas['TickerList'];

export type Optimization = Schemas['Optimization'];
export type OptimizationStatus = Schemas['OptimizationStatus'];
export type OptimizationTaskStatus = Schemas['OptimizationTaskStatus'];
export type OptimizationSummary = Schemas['OptimizationSummary'];
export type OptimizationTopEntry = Schemas['OptimizationTopEntry'];
export type OptimizationEstimate = Schemas['OptimizationEstimate'];
export type OptimizationEstimatePreview = Schemas['OptimizationEstimatePreview'];
export type OptimizationRequest = Schemas['OptimizationRequest'];
export type OptimizationPage = Schemas['OptimizationPage'];
export type OptimizationStatusResponse = Schemas['OptimizationStatusResponse'];
export type OptimizationTask = Schemas['OptimizationTask'];
export type OptimizationTaskPage = Schemas['OptimizationTaskPage'];
export type OptimizationValidation = Schemas['OptimizationValidation'];
export type DeflatedSharpe = Schemas['DeflatedSharpe'];
export type OptimizationReport = Schemas['OptimizationReport'];
export type ProjectList = Schemas['ProjectList'];
export const OPTIMIZATION_STATUSES: readonly OptimizationStatus[] = ['queued', 'running', 'succeeded', 'failed', 'early-stopped', 'canceled'];
export const OPTIMIZATION_TERMINAL: readonly OptimizationStatus[] = ['succeeded', 'failed', 'early-stopped', 'canceled'];

export interface Paged<T> {
  items: T[];
  total: number;
  limit: number;
  offset: number;
}

/** GET /api/registry/models query (the subset the Registry page sends). */
export interface RegistryQuery {
  ticker?: string | undefined;
  project?: string | undefined;
  min_lift?: number | undefined;
  min_precision?: number | undefined;
  min_support?: number | undefined;
  max_buy_rate?: number | undefined;
  sort?: string | undefined;
  limit: number;
  offset: number;
}
