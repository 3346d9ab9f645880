import { Link, useSearchParams } from 'react-router-dom';
import { useBacktests } from '../hooks/useBacktests';
import { Pager } from '../components/Pager';
import { QueryView } from '../components/States';
import { fmtInt, fmtMoney, fmtNum, fmtPct, fmtTime } from '../lib/format';
import type { BacktestListItem } from '../types/api';

export function BacktestsTable({ items }: { items: BacktestListItem[] }) {
  return (
    <div className="table-wrap">
      <table className="table" data-testid="backtests-table">
        <thead>
          <tr>
            <th>bt_run_id</th>
            <th>tickers</th>
            <th>strategy</th>
            <th>created</th>
            <th className="num">CAGR</th>
            <th className="num">Max DD</th>
            <th className="num">Sharpe</th>
            <th className="num">Trades</th>
            <th className="num">Final equity</th>
          </tr>
        </thead>
        <tbody>
          {items.map((b) => (
            <tr key={b.bt_run_id}>
              <td className="mono">
                <Link to={`/backtests/${encodeURIComponent(b.bt_run_id)}`}>{b.bt_run_id}</Link>
              </td>
              <td>{b.tickers.join(', ') || '—'}</td>
              <td>{b.strategy || '—'}</td>
              <td className="nowrap">{fmtTime(b.created_at)}</td>
              <td className="num">{fmtPct(b.cagr, 2)}</td>
              <td className="num">{fmtPct(b.max_drawdown, 2)}</td>
              <td className="num">{fmtNum(b.sharpe)}</td>
              <td className="num">{fmtInt(b.trades)}</td>
              <td className="num">{fmtMoney(b.final_equity)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function BacktestsPage() {
  const [sp, setSp] = useSearchParams();
  const limit = Number(sp.get('limit') ?? 50) || 50;
  const offset = Number(sp.get('offset') ?? 0) || 0;
  const q = useBacktests(limit, offset);
  const go = (o: number, l = limit) => setSp(new URLSearchParams({ ...(o ? { offset: String(o) } : {}), ...(l !== 50 ? { limit: String(l) } : {}) }));
  return (
    <div className="page">
      <div className="page-head">
        <h1>Backtests</h1>
        <span className="spacer" />
        <Link className="btn btn-primary" to="/actions?type=backtest">
          New backtest
        </Link>
      </div>
      <QueryView query={q} isEmpty={(d) => d.items.length === 0} empty={<>No backtests yet. <Link to="/actions?type=backtest">Run one</Link>.</>}>
        {(d) => (
          <>
            <BacktestsTable items={d.items} />
            <Pager total={d.total} limit={limit} offset={offset} onChange={(o) => go(o)} onLimit={(l) => go(0, l)} />
          </>
        )}
      </QueryView>
    </div>
  );
}
