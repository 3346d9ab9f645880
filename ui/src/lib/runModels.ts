// The model files of a training run, one per ticker: manifest.json `models` ({ticker: path},
// one file per ticker for per_ticker runs, the same model.json for every ticker of a pooled run),
// else the registry rows' model_final_path.
import type { RunDetail } from '../types/api';

export interface RunModel {
  ticker: string;
  model_path: string;
}

export function runModels(run: Pick<RunDetail, 'manifest' | 'registry_rows'>): RunModel[] {
  const m = run.manifest;
  if (m !== null && typeof m === 'object' && 'models' in m) {
    const models = (m as { models: unknown }).models;
    if (models !== null && typeof models === 'object' && !Array.isArray(models)) {
      const out = Object.entries(models as Record<string, unknown>)
        .filter((e): e is [string, string] => typeof e[1] === 'string' && e[1] !== '')
        .map(([ticker, model_path]) => ({ ticker, model_path }));
      if (out.length > 0) return out.sort((a, b) => (a.ticker < b.ticker ? -1 : a.ticker > b.ticker ? 1 : 0));
    }
  }
  const seen = new Map<string, string>();
  for (const r of run.registry_rows) if (r.model_final_path && !seen.has(r.ticker)) seen.set(r.ticker, r.model_final_path);
  return [...seen.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([ticker, model_path]) => ({ ticker, model_path }));
}
