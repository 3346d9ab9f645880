// Parsing of the backtest folder's fills.csv / positions.csv (papaparse). Loaded on demand by
// the Backtest detail page (dynamic import), so the CSV library is not in the main bundle.
import Papa from 'papaparse';
import type { Fill, PositionRow } from './backtestFiles';

/** A CSV that does not have the documented shape; the message names the file, row and column. */
export class CsvShapeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CsvShapeError';
  }
}

type RawRow = Record<string, string | undefined>;

/** Parses `text` (a header line, then rows) and checks that every `required` column is there. */
function parseTable(file: string, text: string, required: readonly string[]): RawRow[] {
  // Every cell stays a string: symbols such as 000001 must not turn into numbers.
  const out = Papa.parse<RawRow>(text, { header: true, skipEmptyLines: true, dynamicTyping: false });
  const fatal = out.errors.find((e) => e.type !== 'Delimiter');
  if (fatal) throw new CsvShapeError(`${file} row ${(fatal.row ?? 0) + 1}: ${fatal.message}`);
  const columns = out.meta.fields ?? [];
  const missing = required.filter((c) => !columns.includes(c));
  if (missing.length > 0) throw new CsvShapeError(`${file} has no ${missing.map((c) => `'${c}'`).join(', ')} column (header: ${columns.join(',')})`);
  return out.data;
}

function num(file: string, row: RawRow, i: number, col: string): number {
  const cell = row[col] ?? '';
  const v = cell.trim() === '' ? NaN : Number(cell);
  if (!Number.isFinite(v)) throw new CsvShapeError(`${file} row ${i + 1}: ${col} '${cell}' is not a number`);
  return v;
}

function str(file: string, row: RawRow, i: number, col: string): string {
  const v = (row[col] ?? '').trim();
  if (v === '') throw new CsvShapeError(`${file} row ${i + 1}: ${col} is empty`);
  return v;
}

/** fills.csv: date,symbol,side,shares,price,fee,reason. */
export function parseFills(text: string): Fill[] {
  const f = 'fills.csv';
  return parseTable(f, text, ['date', 'symbol', 'side', 'shares', 'price', 'fee', 'reason']).map((r, i) => {
    const side = str(f, r, i, 'side');
    if (side !== 'buy' && side !== 'sell') throw new CsvShapeError(`${f} row ${i + 1}: side '${side}' is not buy or sell`);
    return { date: str(f, r, i, 'date'), symbol: str(f, r, i, 'symbol'), side, shares: num(f, r, i, 'shares'), price: num(f, r, i, 'price'), fee: num(f, r, i, 'fee'), reason: (r['reason'] ?? '').trim() };
  });
}

/** positions.csv: date,symbol,shares,price,weight. */
export function parsePositions(text: string): PositionRow[] {
  const f = 'positions.csv';
  return parseTable(f, text, ['date', 'symbol', 'shares', 'price', 'weight']).map((r, i) => ({
    date: str(f, r, i, 'date'),
    symbol: str(f, r, i, 'symbol'),
    shares: num(f, r, i, 'shares'),
    price: num(f, r, i, 'price'),
    weight: num(f, r, i, 'weight'),
  }));
}

