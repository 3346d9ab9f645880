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
