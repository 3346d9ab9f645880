// URLs that open the Actions page prefilled.
import type { BacktestRequest, RegistryModelRow } from '../types/api';
import { buildQuery } from '../api/client';

export const DEFAULT_TRAIN_CONFIG = 'configs/base.yaml';
export const DEFAULT_BACKTEST_CONFIG = 'configs/backtest/base.yaml';

export function actionsBacktestUrl(p: { ticker?: string | null | undefined; model_path?: string | null | undefined; start?: string | null | undefined; end?: string | null | undefined; config_path?: string | null | undefined }): string {
  return `/actions${buildQuery({ type: 'backtest', ticker: p.ticker ?? undefined, model_path: p.model_path ?? undefined, start: p.start ?? undefined, end: p.end ?? undefined, config_path: p.config_path ?? undefined })}`;
}

export function actionsTrainUrl(configPath: string): string {
  return `/actions${buildQuery({ type: 'train', config_path: configPath })}`;
}

export function actionsEvalUrl(runId: string, mode?: string): string {
  return `/actions${buildQuery({ type: 'eval', run_id: runId, mode })}`;
}

/** Actions prefilled with a model: the server takes the dataset, the tickers this model file
 *  serves and its test period from the model's run, so nothing else is sent. */
export function modelBacktestUrl(r: Pick<RegistryModelRow, 'model_final_path'>): string {
  return actionsBacktestUrl({ model_path: r.model_final_path });
}

/** POST /api/jobs/backtest body for "backtest this model" (the same server-side defaults). */
export function modelBacktestBody(modelPath: string): BacktestRequest {
  return { config_path: DEFAULT_BACKTEST_CONFIG, model_path: modelPath, overrides: [], dry_run: false };
}

/** Actions prefilled with a finished job's exact params ("Edit and re-run"): the built-in tabs
 *  read config_path, tickers, start, end, model_path, run_id, mode, dry_run and overrides as
 *  repeated `set=`; a declared type reads each param by name (lists repeated). */
export function actionsRerunUrl(job: { job_type: string; params: Record<string, unknown>; dry_run?: boolean | null | undefined }): string {
  const sp = new URLSearchParams();
  const builtin = job.job_type === 'train' || job.job_type === 'backtest' || job.job_type === 'eval-metrics';
  sp.set('type', job.job_type === 'eval-metrics' ? 'eval' : job.job_type);
  for (const [k, v] of Object.entries(job.params)) {
    if (v === null || v === undefined || k === 'dry_run') continue;
    if (Array.isArray(v)) {
      const items = v.map((x) => (typeof x === 'string' ? x : JSON.stringify(x)));
      if (k === 'overrides') items.forEach((x) => sp.append('set', x));
      else if (builtin) sp.set(k, items.join(','));
      else items.forEach((x) => sp.append(k, x));
    } else {
      sp.set(k, typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : JSON.stringify(v));
    }
  }
  if (job.dry_run || job.params['dry_run'] === true) sp.set('dry_run', 'true');
  return `/actions?${sp.toString()}`;
}
