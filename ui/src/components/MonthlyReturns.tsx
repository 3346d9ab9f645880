import { useMemo } from 'react';
import { useQuery } from '@tanstack/react-query';
import { api, ApiError } from '../api/client';
import { monthlyReturns, parseEquityCsv, returnColor, type EquityRow } from '../lib/monthlyReturns';
import { ErrorState, Loading } from './States';
import type { BacktestDetail } from '../types/api';

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pct = (r: number | null) => (r === null ? '' : `${(r * 100).toFixed(1)}%`);

/**
 * Monthly returns heatmap (years x months, plus the year's compounded return). A downsampled
 * curve is not enough for month ends: then the full equity.csv is read through the files route.
 */
export function MonthlyReturns({ bt }: { bt: BacktestDetail }) {
  const needFile = bt.downsampled && bt.files.some((f) => f.name === 'equity.csv');
  const q = useQuery({
    queryKey: ['backtest-file', bt.bt_run_id, 'equity.csv'],
    queryFn: async ({ signal }) => {
      const path = `/api/backtests/${bt.bt_run_id}/files/equity.csv`;
      const text = await api.backtestFileText(bt.bt_run_id, 'equity.csv', signal);
      try {
        return parseEquityCsv(text);
      } catch (e) {
        throw new ApiError(200, 'bad_csv', (e as Error).message, null, path);
      }
    },
    enabled: needFile,
    staleTime: Infinity,
  });
  const rows: EquityRow[] | undefined = needFile ? q.data : bt.equity_curve;
  const initial = typeof bt.summary.initial_cash === 'number' ? bt.summary.initial_cash : null;
  const years = useMemo(() => (rows ? monthlyReturns(rows, initial) : []), [rows, initial]);
  if (needFile && q.isLoading) return <Loading what="Reading equity.csv" />;
  if (needFile && !q.data) return <ErrorState error={q.error} onRetry={() => void q.refetch()} />;
  if (years.length === 0) return <p className="muted">No equity curve.</p>;
  return (
    <div className="table-wrap">
      <table className="table compact heatmap" data-testid="monthly-returns">
        <caption className="small muted">Monthly returns (month-end equity over the previous month-end; the first month over the initial cash)</caption>
        <thead>
          <tr>
            <th scope="col">Year</th>
            {MONTHS.map((m) => (
              <th key={m} scope="col" className="num">
                {m}
              </th>
            ))}
            <th scope="col" className="num">
              Year
            </th>
          </tr>
        </thead>
        <tbody>
          {years.map((y) => (
            <tr key={y.year}>
              <th scope="row">{y.year}</th>
              {y.months.map((r, i) => (
                <td key={i} className="num heat" style={{ background: returnColor(r) }} title={r === null ? `${MONTHS[i]} ${y.year}: no bars` : `${MONTHS[i]} ${y.year}: ${pct(r)}`}>
                  {pct(r)}
                </td>
              ))}
              <td className="num heat-total" style={{ background: returnColor(y.total / 4) }}>
                <strong>{pct(y.total)}</strong>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
