// URLs that open the Actions page prefilled.
import type { RegistryModelRow } from '../types/api';
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

export function modelBacktestUrl(r: RegistryModelRow): string {
  return actionsBacktestUrl({ ticker: r.ticker, model_path: r.model_final_path });
}
