import { Link, useSearchParams } from 'react-router-dom';
import { useRuns } from '../hooks/useRuns';
import { Pager } from '../components/Pager';
import { QueryView } from '../components/States';
import { StatusBadge } from '../components/StatusBadge';
import { fmtTime } from '../lib/format';

export function RunsPage() {
  const [sp, setSp] = useSearchParams();
  const limit = Number(sp.get('limit') ?? 50) || 50;
  const offset = Number(sp.get('offset') ?? 0) || 0;
  const q = useRuns(limit, offset);
  const go = (o: number, l = limit) => setSp(new URLSearchParams({ ...(o ? { offset: String(o) } : {}), ...(l !== 50 ? { limit: String(l) } : {}) }));
  return (
    <div className="page">
      <h1>Runs</h1>
      <QueryView query={q} isEmpty={(d) => d.items.length === 0} empty={<>No training runs yet. <Link to="/actions?type=train">Train a model</Link>.</>}>
        {(d) => (
          <>
            <div className="table-wrap">
              <table className="table" data-testid="runs-table">
                <thead>
                  <tr>
                    <th>run_id</th>
                    <th>tickers</th>
                    <th>mode</th>
                    <th>dataset</th>
                    <th>status</th>
                    <th>started</th>
                    <th>ended</th>
                  </tr>
                </thead>
                <tbody>
                  {d.items.map((r) => (
                    <tr key={r.run_id}>
                      <td className="mono">
                        <Link to={`/runs/${encodeURIComponent(r.run_id)}`}>{r.run_id}</Link>
                      </td>
                      <td>{r.tickers.join(', ') || '—'}</td>
                      <td>{r.mode || '—'}</td>
                      <td>{r.dataset || '—'}</td>
                      <td>{r.status ? <StatusBadge status={r.status} /> : '—'}</td>
                      <td className="nowrap">{fmtTime(r.start_time)}</td>
                      <td className="nowrap">{fmtTime(r.end_time)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            <Pager total={d.total} limit={limit} offset={offset} onChange={(o) => go(o)} onLimit={(l) => go(0, l)} />
          </>
        )}
      </QueryView>
    </div>
  );
}
