// The periods of the model behind a backtest (summary.json model_train_end / model_valid_end /
// model_test_start / in_sample_overlap_days): train up to train_end, valid up to valid_end, test
// after it. The Backtest detail shades them on the equity chart and warns when the backtest
// traded bars the model was trained or validated on.
import type { BacktestFileSummary } from '../types/api';

export type PeriodName = 'train' | 'valid' | 'test';

export interface ModelPeriod {
  name: PeriodName;
  label: string;
  /** first day (inclusive), null = open */
  from: string | null;
  /** last day (inclusive), null = open */
  to: string | null;
  color: string;
  /** whether the backtest's traded range [first, last] reaches into this period */
  visible: boolean;
}

export const PERIOD_COLORS: Record<PeriodName, string> = {
  train: 'rgba(220, 38, 38, 0.12)',
  valid: 'rgba(217, 119, 6, 0.14)',
  test: 'rgba(22, 163, 74, 0.10)',
};

const strOrNull = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);

function nextDay(date: string): string {
  const t = Date.parse(`${date}T00:00:00Z`) + 86_400_000;
  return new Date(t).toISOString().slice(0, 10);
}

/** The model's train / valid / test periods, or [] for a backtest without a model split. */
export function modelPeriods(s: Pick<BacktestFileSummary, 'model_train_end' | 'model_valid_end' | 'model_test_start'>, first: string | null, last: string | null): ModelPeriod[] {
  const trainEnd = strOrNull(s.model_train_end);
  const validEnd = strOrNull(s.model_valid_end);
  if (!trainEnd || !validEnd) return [];
  const testStart = strOrNull(s.model_test_start) ?? nextDay(validEnd);
  const reaches = (from: string | null, to: string | null) => first !== null && last !== null && (to === null || first <= to) && (from === null || last >= from);
  const periods: Omit<ModelPeriod, 'visible'>[] = [
    { name: 'train', label: `Train ≤ ${trainEnd}`, from: null, to: trainEnd, color: PERIOD_COLORS.train },
    { name: 'valid', label: `Valid ${nextDay(trainEnd)} – ${validEnd}`, from: nextDay(trainEnd), to: validEnd, color: PERIOD_COLORS.valid },
    { name: 'test', label: `Test ≥ ${testStart}`, from: testStart, to: null, color: PERIOD_COLORS.test },
  ];
  return periods.map((p) => ({ ...p, visible: reaches(p.from, p.to) }));
}

/** The red warning when the backtest traded bars the model saw in training or validation; null when none. */
export function overlapWarning(s: Pick<BacktestFileSummary, 'in_sample_overlap_days' | 'model_valid_end' | 'model_test_start' | 'bars'>): string | null {
  const n = s.in_sample_overlap_days;
  if (typeof n !== 'number' || n <= 0) return null;
  const of = typeof s.bars === 'number' ? ` of ${s.bars.toLocaleString('en-US')}` : '';
  const from = strOrNull(s.model_test_start);
  return (
    `In-sample: ${n.toLocaleString('en-US')}${of} traded bars are on or before the model's valid_end (${String(s.model_valid_end)}); ` +
    `the model was trained or validated on them, so these results overstate it.` +
    (from ? ` Start on ${from} for an out-of-sample backtest.` : '')
  );
}
