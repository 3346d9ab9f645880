// Registry compare selection: only rows of one ticker may be ticked.
import type { RegistryModelRow } from '../types/api';

export function rowKey(r: Pick<RegistryModelRow, 'run_id' | 'ticker' | 'mode'>): string {
  return `${r.run_id}|${r.ticker}|${r.mode}`;
}

export type ToggleResult =
  | { ok: true; selected: RegistryModelRow[] }
  | { ok: false; selected: RegistryModelRow[]; message: string };

/** Ticks or unticks a row; refuses a row whose ticker differs from the ticked ones. */
export function toggleCompare(selected: RegistryModelRow[], row: RegistryModelRow): ToggleResult {
  const key = rowKey(row);
  if (selected.some((s) => rowKey(s) === key)) {
    return { ok: true, selected: selected.filter((s) => rowKey(s) !== key) };
  }
  const first = selected[0];
  if (first && first.ticker !== row.ticker) {
    return {
      ok: false,
      selected,
      message: `Compare works within one ticker: ${first.ticker} is selected, ${row.ticker} cannot be added. Clear the selection to compare ${row.ticker}.`,
    };
  }
  return { ok: true, selected: [...selected, row] };
}

/** Index of the best value per metric among compared rows (for highlighting). */
export function bestIndex(rows: RegistryModelRow[], pick: (r: RegistryModelRow) => number | null, higherIsBetter: boolean): number {
  let best = -1;
  let bestVal = 0;
  rows.forEach((r, i) => {
    const v = pick(r);
    if (v === null || !Number.isFinite(v)) return;
    if (best < 0 || (higherIsBetter ? v > bestVal : v < bestVal)) {
      best = i;
      bestVal = v;
    }
  });
  return best;
}
