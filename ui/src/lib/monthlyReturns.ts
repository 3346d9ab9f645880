// The Backtest detail's monthly returns heatmap and data range, from the equity curve.

export interface EquityRow {
  date: string; // YYYY-MM-DD
  equity: number;
}

export interface MonthlyYear {
  year: number;
  /** returns of January..December as fractions; null = no bar in that month */
  months: (number | null)[];
  /** compounded over the months of the year that have a return */
  total: number;
}

/**
 * Return of each calendar month: the month's last equity over the previous month's last
 * equity (the first month: over `start`, the initial cash, or else the first bar's equity).
 * Rows must be in date order; they are the full curve (equity.csv), not a downsampled one.
 */
export function monthlyReturns(rows: EquityRow[], start?: number | null): MonthlyYear[] {
  if (rows.length === 0) return [];
  const monthEnds: { year: number; month: number; equity: number }[] = [];
  for (const r of rows) {
    const year = Number(r.date.slice(0, 4));
    const month = Number(r.date.slice(5, 7)) - 1;
    const last = monthEnds[monthEnds.length - 1];
    if (last && last.year === year && last.month === month) last.equity = r.equity;
    else monthEnds.push({ year, month, equity: r.equity });
  }
  let prev = start != null && start > 0 ? start : rows[0]!.equity;
  const years = new Map<number, MonthlyYear>();
  for (const m of monthEnds) {
    let y = years.get(m.year);
    if (!y) {
      y = { year: m.year, months: Array<number | null>(12).fill(null), total: 0 };
      years.set(m.year, y);
    }
    y.months[m.month] = prev > 0 ? m.equity / prev - 1 : null;
    prev = m.equity;
  }
  const out = [...years.values()].sort((a, b) => a.year - b.year);
  for (const y of out) y.total = y.months.reduce<number>((acc, r) => (r === null ? acc : (1 + acc) * (1 + r) - 1), 0);
  return out;
}

/** date,equity of equity.csv (other columns ignored); an error names the row when a value is not a number. */
export function parseEquityCsv(text: string): EquityRow[] {
  const lines = text.split(/\r?\n/).filter((l) => l !== '');
  if (lines.length === 0) return [];
  const head = lines[0]!.split(',');
  const di = head.indexOf('date');
  const ei = head.indexOf('equity');
  if (di < 0 || ei < 0) throw new Error('equity.csv: no date or equity column');
  return lines.slice(1).map((l, i) => {
    const cells = l.split(',');
    const equity = Number(cells[ei]);
    if (!Number.isFinite(equity)) throw new Error(`equity.csv row ${i + 2}: equity '${cells[ei] ?? ''}' is not a number`);
    return { date: cells[di] ?? '', equity };
  });
}

/** Colour of a monthly return cell: green up, red down, stronger with size (capped at ±10%). */
export function returnColor(r: number | null): string {
  if (r === null) return 'transparent';
  const a = Math.min(1, Math.abs(r) / 0.1) * 0.55 + 0.08;
  return r >= 0 ? `rgba(22, 163, 74, ${a.toFixed(2)})` : `rgba(220, 38, 38, ${a.toFixed(2)})`;
}

/** The requested window of a backtest config (start/end at the top of the resolved config.yaml). */
export function requestedRange(parsed: unknown): { start: string | null; end: string | null } {
  if (parsed === null || typeof parsed !== 'object') return { start: null, end: null };
  const c = parsed as Record<string, unknown>;
  const text = (v: unknown) => (typeof v === 'string' && v !== '' ? v : null);
  return { start: text(c['start']), end: text(c['end']) };
}
