// The rows of the backtest folder's fills.csv / positions.csv (columns as docs/engine.md
// states them) and the arithmetic the Backtest detail page draws from them: invested share and
// names held per snapshot, turnover per rebalance, the under-50%-invested notice.
// Parsing lives in backtestCsv.ts, loaded on demand (it carries the CSV library).
import type { BacktestDetail } from '../types/api';

export interface Fill {
  date: string;
  symbol: string;
  side: 'buy' | 'sell';
  shares: number;
  price: number;
  fee: number;
  reason: string;
}

export interface PositionRow {
  date: string;
  symbol: string;
  shares: number;
  price: number;
  weight: number;
}

/** The cash line of positions.csv (shares = cash, price 1). */
export const CASH_SYMBOL = '$CASH';

/** Files larger than this are not read into the page (the download link stays). */
export const MAX_CSV_BYTES = 16 * 1024 * 1024;

export interface Snapshot {
  date: string;
  /** cash + Σ shares × price (the close-marked equity of that day) */
  equity: number;
  /** Σ shares × price of the instruments / equity (0 when the equity is not positive) */
  invested: number;
  /** instruments held (shares > 0), cash not counted */
  names: number;
}

/** One snapshot per date of positions.csv, in date order. */
export function positionSnapshots(rows: readonly PositionRow[]): Snapshot[] {
  const byDate = new Map<string, { cash: number; held: number; names: number }>();
  for (const r of rows) {
    let s = byDate.get(r.date);
    if (!s) byDate.set(r.date, (s = { cash: 0, held: 0, names: 0 }));
    if (r.symbol === CASH_SYMBOL) {
      s.cash += r.shares * r.price;
    } else {
      s.held += r.shares * r.price;
      if (r.shares > 0) s.names += 1;
    }
  }
  return [...byDate.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([date, s]) => {
      const equity = s.cash + s.held;
      return { date, equity, invested: equity > 0 ? s.held / equity : 0, names: s.names };
    });
}

export interface Rebalance {
  date: string;
  /** number of fills that day */
  orders: number;
  /** Σ shares × price of the buys and of the sells */
  bought: number;
  sold: number;
  fees: number;
  /** (bought + sold) / (2 × equity), the equity of that day's positions snapshot; null without one */
  turnover: number | null;
}

/** Turnover per day with fills: half the traded value over the day's close-marked equity. */
export function turnoverPerRebalance(fills: readonly Fill[], snapshots: readonly Snapshot[]): Rebalance[] {
  const equity = new Map(snapshots.map((s) => [s.date, s.equity]));
  const byDate = new Map<string, Rebalance>();
  for (const f of fills) {
    let r = byDate.get(f.date);
    if (!r) byDate.set(f.date, (r = { date: f.date, orders: 0, bought: 0, sold: 0, fees: 0, turnover: null }));
    r.orders += 1;
    const value = Math.abs(f.shares) * f.price;
    if (f.side === 'buy') r.bought += value;
    else r.sold += value;
    r.fees += f.fee;
  }
  const out = [...byDate.values()].sort((a, b) => (a.date < b.date ? -1 : a.date > b.date ? 1 : 0));
  for (const r of out) {
    const e = equity.get(r.date);
    r.turnover = e !== undefined && e > 0 ? (r.bought + r.sold) / (2 * e) : null;
  }
  return out;
}

/** Mean of the known turnovers (null when there is none). */
export function meanTurnover(rebalances: readonly Rebalance[]): number | null {
  const known = rebalances.map((r) => r.turnover).filter((t): t is number => t !== null);
  return known.length === 0 ? null : known.reduce((a, b) => a + b, 0) / known.length;
}

/** Below this average invested share the page says so in one line. */
export const LOW_INVESTED_SHARE = 0.5;

/** The one-line notice for a portfolio kept under 50% invested on average, or null. */
export function investedNotice(summary: BacktestDetail['summary']): string | null {
  const v = summary.avg_invested_share;
  if (typeof v !== 'number' || !Number.isFinite(v)) return null;
  if (typeof summary.bars === 'number' && summary.bars <= 0) return null;
  if (v >= LOW_INVESTED_SHARE) return null;
  return (
    `Kept under 50% invested on average: ${(v * 100).toFixed(1)}% of the equity was invested over the traded bars ` +
    '(max_exposure, drawdown tiers, vol_target, max_weight and risk-off periods multiply).'
  );
}
