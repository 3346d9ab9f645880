// What the Run detail draws from runs/<id>/training_log.json: XGBoost's eval log (the
// training/validation curve) and the feature importance of each model file.
import type { TrainingLog, TrainingLogModel } from '../types/api';

export interface LogModel {
  file: string;
  /** "SPX" for a per-ticker model, "pooled: SPX, QQQ" (or "pooled: 6 tickers") for a shared one */
  label: string;
  model: TrainingLogModel;
}

/** The models of the log, in ticker order of their label. */
export function logModels(log: TrainingLog): LogModel[] {
  return Object.entries(log.models)
    .map(([file, model]) => {
      const t = model.tickers;
      const label = t.length === 1 ? t[0]! : t.length <= 3 ? `pooled: ${t.join(', ')}` : `pooled: ${t.length} tickers`;
      return { file, label, model };
    })
    .sort((a, b) => (a.label < b.label ? -1 : a.label > b.label ? 1 : a.file < b.file ? -1 : 1));
}

export interface Curve {
  /** boosting round numbers, 1-based, counting a base model's rounds (finetune) */
  rounds: number[];
  train: number[];
  valid: number[];
  /** the round early stopping kept (1-based), or null without early stopping */
  bestRound: number | null;
  /** the round of the lowest valid logloss and its value (null for an empty log) */
  minValid: { round: number; value: number } | null;
}

export function curve(m: TrainingLogModel): Curve {
  const n = Math.min(m.eval_log.train.length, m.eval_log.valid.length);
  const rounds = Array.from({ length: n }, (_, i) => m.first_round + i + 1);
  const valid = m.eval_log.valid.slice(0, n);
  let minValid: Curve['minValid'] = null;
  valid.forEach((v, i) => {
    if (minValid === null || v < minValid.value) minValid = { round: rounds[i]!, value: v };
  });
  const bestRound = m.best_iteration >= 0 && m.best_iteration < n ? rounds[m.best_iteration]! : null;
  return { rounds, train: m.eval_log.train.slice(0, n), valid, bestRound, minValid };
}

/** One sentence on the curve: where the valid loss bottomed and where it ended. */
export function curveSummary(c: Curve): string {
  if (c.rounds.length === 0 || c.minValid === null) return 'No eval log (no valid rows).';
  const last = c.valid[c.valid.length - 1]!;
  const lastRound = c.rounds[c.rounds.length - 1]!;
  const best = `valid logloss lowest at round ${c.minValid.round} (${c.minValid.value.toFixed(4)})`;
  const kept = c.bestRound !== null ? `; early stopping kept round ${c.bestRound}` : '';
  if (c.minValid.round === lastRound) return `${best}, still falling at the last round${kept}.`;
  return `${best}, ${last.toFixed(4)} at round ${lastRound} (+${(last - c.minValid.value).toFixed(4)})${kept}.`;
}

export interface ImportanceRow {
  feature: string;
  gain: number;
  /** share of the summed gain of the listed features, 0..1 */
  share: number;
  /** number of splits on the feature */
  splits: number;
}

/** The `top` features by gain with their share of the total; `unused` counts features never split on. */
export function importance(m: TrainingLogModel, top = 15): { rows: ImportanceRow[]; rest: number; unused: number } {
  const total = m.feature_importance.reduce((a, f) => a + f.gain, 0);
  const sorted = [...m.feature_importance].sort((a, b) => b.gain - a.gain || (a.feature < b.feature ? -1 : 1));
  const used = sorted.filter((f) => f.weight > 0);
  const rows = used.slice(0, top).map((f) => ({ feature: f.feature, gain: f.gain, share: total > 0 ? f.gain / total : 0, splits: f.weight }));
  return { rows, rest: used.length - rows.length, unused: sorted.length - used.length };
}
