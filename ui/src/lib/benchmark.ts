import type { BacktestDetail } from '../types/api';

export interface BenchmarkOverlay {
  /** legend text: which benchmark this is */
  label: string;
  /** one value per equity point (the equity.csv `benchmark` column) */
  values: number[];
  totalReturn: number | null;
}

/**
 * The buy-and-hold benchmark the engine wrote beside the equity curve (equity.csv `benchmark`,
 * summary.json `benchmark`), or null for a backtest written without it (older folders).
 */
export function benchmarkOverlay(summary: BacktestDetail['summary'], curve: BacktestDetail['equity_curve']): BenchmarkOverlay | null {
  const b = summary.benchmark;
  if (!b || curve.length === 0 || !curve.every((p) => typeof p.benchmark === 'number')) return null;
  const label =
    b.kind === 'buy_and_hold'
      ? `buy & hold ${b.symbols[0] ?? ''}`.trim()
      : b.symbols.length <= 3
        ? `equal-weight buy & hold of ${b.symbols.join(', ')}`
        : `equal-weight buy & hold of its ${b.symbols.length} tickers`;
  return { label, values: curve.map((p) => p.benchmark as number), totalReturn: summary.benchmark_return ?? b.total_return ?? null };
}
