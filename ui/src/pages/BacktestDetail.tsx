import { useMemo, useState } from 'react';
import { Link, useParams } from 'react-router-dom';
import { api } from '../api/client';
import { useBacktest } from '../hooks/useBacktests';
import { TimeSeriesChart, type ChartBand, type ChartSeries } from '../components/TimeSeriesChart';
import { Empty, ErrorState, Loading } from '../components/States';
import { Pager } from '../components/Pager';
import { BacktestActivity, Downloads } from '../components/BacktestActivity';
import { investedNotice } from '../lib/backtestFiles';
import { MonthlyReturns } from '../components/MonthlyReturns';
import { requestedRange } from '../lib/monthlyReturns';
import { modelPeriods, overlapWarning, type ModelPeriod } from '../lib/modelPeriods';
import { benchmarkOverlay } from '../lib/benchmark';
import { fmtBytes, fmtInt, fmtMoney, fmtNum, fmtPct } from '../lib/format';
import type { BacktestDetail } from '../types/api';

const TRADES_PER_PAGE = 50;
const pctAxis = (v: number) => `${(v * 100).toFixed(0)}%`;
const moneyAxis = (v: number) => (Math.abs(v) >= 1e6 ? `${(v / 1e6).toFixed(2)}M` : Math.abs(v) >= 1e3 ? `${(v / 1e3).toFixed(0)}k` : v.toFixed(0));

function Stat({ label, value, title }: { label: string; value: string; title?: string }) {
  return (
    <div className="stat" title={title}>
      <div className="stat-label">{label}</div>
      <div className="stat-value">{value}</div>
    </div>
  );
}

function PeriodLegend({ periods }: { periods: ModelPeriod[] }) {
  return (
    <div className="period-legend small" data-testid="period-legend">
      <span className="muted">Model periods:</span>
      {periods.map((p) => (
        <span key={p.name} className={`period${p.visible ? '' : ' muted'}`} data-period={p.name} data-visible={p.visible ? 'true' : 'false'}>
          <span className="swatch" style={{ background: p.color }} aria-hidden="true" /> {p.label}
          {!p.visible && ' (not in this backtest)'}
        </span>
      ))}
    </div>
  );
}

function Charts({ bt, periods }: { bt: BacktestDetail; periods: ModelPeriod[] }) {
  const curve = bt.equity_curve;
  const bench = useMemo(() => benchmarkOverlay(bt.summary, curve), [bt.summary, curve]);
  const [showBench, setShowBench] = useState(true);
  const bands: ChartBand[] = useMemo(() => periods.map((p) => ({ from: p.from, to: p.to, color: p.color })), [periods]);
  const dates = useMemo(() => curve.map((p) => p.date), [curve]);
  const equity: ChartSeries[] = useMemo(() => {
    const main: ChartSeries = { label: 'Equity', values: curve.map((p) => p.equity), stroke: '#2563eb', fill: 'rgba(37,99,235,0.08)' };
    return bench && showBench ? [main, { label: bench.label, values: bench.values, stroke: '#6b7280', dash: [6, 4] }] : [main];
  }, [curve, bench, showBench]);
  const dd: ChartSeries[] = useMemo(
    // equity.csv stores the drawdown as a positive share below the running peak; drawn below zero.
    () => [{ label: 'Drawdown', values: curve.map((p) => -Math.abs(p.drawdown)), stroke: '#dc2626', fill: 'rgba(220,38,38,0.15)' }],
    [curve],
  );
  if (curve.length === 0) return <Empty>No equity curve in this backtest.</Empty>;
  return (
    <>
      <TimeSeriesChart title="Equity curve" dates={dates} series={equity} height={280} format={moneyAxis} testId="equity-chart" bands={bands} syncKey={`bt-${bt.bt_run_id}`} />
      <div className="benchmark-toggle small" data-testid="benchmark-toggle">
        {bench ? (
          <label className="toggle">
            <input type="checkbox" checked={showBench} onChange={(e) => setShowBench(e.target.checked)} />
            <span>
              Show benchmark: {bench.label}
              {bench.totalReturn != null && <span className="muted"> ({fmtPct(bench.totalReturn, 2)} over the same bars)</span>}
            </span>
          </label>
        ) : (
          <span className="muted" data-testid="benchmark-note">No benchmark: this backtest was written before benchmarks were recorded (re-run it to get one).</span>
        )}
      </div>
      {periods.length > 0 && <PeriodLegend periods={periods} />}
      <TimeSeriesChart title="Drawdown" dates={dates} series={dd} height={180} format={pctAxis} testId="drawdown-chart" syncKey={`bt-${bt.bt_run_id}`} />
    </>
  );
}

export function BacktestDetailPage() {
  const { btRunId = '' } = useParams();
  const q = useBacktest(btRunId);
  const [page, setPage] = useState(0);
  if (q.isLoading) return <Loading what="Loading backtest" />;
  if (!q.data) return <ErrorState error={q.error} onRetry={() => void q.refetch()} />;
  const bt = q.data;
  const s = bt.summary;
  const stats = Object.entries(bt.statistics ?? {});
  const open = s.open_position;
  const trades = bt.trades.slice(page, page + TRADES_PER_PAGE);
  const notice = investedNotice(s);
  const spells = s.lockout_spells ?? [];
  const hasExitReason = bt.trades.some((t) => t.exit_reason != null);
  const curve = bt.equity_curve;
  const periods = modelPeriods(s, curve[0]?.date ?? s.start ?? null, curve[curve.length - 1]?.date ?? s.end ?? null);
  const overlap = overlapWarning(s);
  const requested = requestedRange(bt.config?.parsed ?? null);
  return (
    <div className="page">
      <div className="page-head">
        <h1 className="mono break">{bt.bt_run_id}</h1>
        <span className="muted">
          {s.tickers?.join(', ')} {s.strategy ? `· ${s.strategy.type}` : ''} {s.dataset ? `· ${s.dataset}` : ''}
        </span>
      </div>
      <dl className="kv-inline small data-range" data-testid="backtest-origin">
        <dt>Data</dt>
        <dd data-testid="data-range">
          {s.start ? `${s.start} → ${s.end ?? '?'}` : '—'}
          {typeof s.bars === 'number' ? ` (${fmtInt(s.bars)} bars` : ''}
          {typeof s.bars === 'number' && typeof s.warmup_bars === 'number' && s.warmup_bars > 0 ? ` + ${fmtInt(s.warmup_bars)} warm-up` : ''}
          {typeof s.bars === 'number' ? ')' : ''}
        </dd>
        <dt>Requested</dt>
        <dd data-testid="requested-range">
          {requested.start || requested.end ? `${requested.start ?? 'first bar'} → ${requested.end ?? 'last bar'}` : 'the whole dataset'}
        </dd>
        {s.model_run_id && (
          <>
            <dt>Model run</dt>
            <dd>
              <Link to={`/runs/${encodeURIComponent(s.model_run_id)}`} data-testid="model-run-link" className="mono">
                {s.model_run_id}
              </Link>
              {s.model_path ? <span className="muted mono"> ({s.model_path.split('/').pop()})</span> : null}
            </dd>
          </>
        )}
        <dt>Job</dt>
        <dd>
          {s.job_id ? (
            <Link to={`/jobs/${encodeURIComponent(s.job_id)}`} data-testid="job-link" className="mono">
              {s.job_id}
            </Link>
          ) : (
            <span className="muted">{s.job_id === null ? 'run by hand (no job)' : 'not recorded'}</span>
          )}
        </dd>
      </dl>
      <section className="stats" data-testid="backtest-stats">
        <Stat label="CAGR" value={fmtPct(s.cagr, 2)} />
        <Stat label="Max drawdown" value={fmtPct(s.max_drawdown, 2)} />
        <Stat label="Sharpe" value={fmtNum(s.sharpe)} />
        <Stat label="Sortino" value={fmtNum(s.sortino)} />
        <Stat label="Volatility" value={fmtPct(s.volatility, 2)} />
        <Stat label="Total return" value={fmtPct(s.total_return, 2)} />
        <Stat label="Trades" value={fmtInt(s.trades)} />
        <Stat label="Win rate" value={fmtPct(s.win_rate)} />
        <Stat label="Exposure" value={fmtPct(s.exposure)} />
        <Stat label="Final equity" value={fmtMoney(s.final_equity)} />
        <Stat label="Warm-up bars" value={fmtInt(s.warmup_bars)} title="bars before the start date loaded only to warm up indicators and features" />
        <Stat label="Avg invested" value={fmtPct(s.avg_invested_share)} title="mean of holdings / equity over the traded bars" />
        <Stat label="Risk-off share" value={fmtPct(s.risk_off_share)} title="share of the traded bars under a risk-off decision" />
        <Stat label="Lock-out spells" value={s.lockout_spells ? fmtInt(s.lockout_spells.length) : '—'} title="runs of bars kept out by a drawdown stop" />
      </section>
      {overlap && (
        <div className="notice notice-error" role="alert" data-testid="overlap-warning">
          {overlap}
        </div>
      )}
      {!overlap && s.in_sample_overlap_days === 0 && (
        <div className="notice notice-ok" data-testid="out-of-sample">
          Out of sample: every traded bar is after the model&apos;s valid_end ({String(s.model_valid_end)}).
        </div>
      )}
      {notice && (
        <div className="notice notice-warn" data-testid="invested-notice">
          {notice}
        </div>
      )}
      {spells.length > 0 && (
        <details data-testid="lockout-spells">
          <summary>
            Lock-out spells: {spells.length}, {fmtInt(spells.reduce((a, x) => a + x.bars, 0))} bars in all
          </summary>
          <ul className="plain">
            {spells.map((x) => (
              <li key={x.start}>
                {x.start} → {x.end} ({fmtInt(x.bars)} bars)
              </li>
            ))}
          </ul>
        </details>
      )}
      {open && (
        <div className="notice notice-warn" data-testid="open-position">
          Open position at the end (not counted in trades): {open.symbol} {fmtInt(open.shares)} shares from {open.entry_date}
          {typeof open.unrealized_pnl === 'number' ? `, unrealised PnL ${fmtMoney(open.unrealized_pnl)}` : ''}
        </div>
      )}
      <section className="panel">
        <Charts bt={bt} periods={periods} />
      </section>
      <section className="panel">
        <h2>Monthly returns</h2>
        <MonthlyReturns bt={bt} />
      </section>
      <Downloads btRunId={bt.bt_run_id} files={bt.files} />
      <BacktestActivity btRunId={bt.bt_run_id} files={bt.files} />
      <div className="two-col">
        <section className="panel">
          <h2>Statistics</h2>
          {stats.length === 0 ? (
            <Empty>No statistics block.</Empty>
          ) : (
            <table className="table compact">
              <tbody>
                {stats.map(([k, v]) => (
                  <tr key={k}>
                    <th>{k}</th>
                    <td className="num">{v ?? '—'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </section>
        <section className="panel">
          <h2>Files</h2>
          {bt.files.length === 0 ? (
            <Empty>No files listed.</Empty>
          ) : (
            <ul className="plain mono files">
              {bt.files.map((f) => (
                <li key={f.name}>
                  <a href={api.backtestFileUrl(bt.bt_run_id, f.name)} target="_blank" rel="noreferrer">
                    {f.name}
                  </a>{' '}
                  <span className="muted">{f.size != null ? fmtBytes(f.size) : ''}</span>
                </li>
              ))}
            </ul>
          )}
          {bt.config != null && (
            <details>
              <summary>Resolved config</summary>
              <pre className="code-block">{bt.config.raw ?? bt.config.error ?? ''}</pre>
            </details>
          )}
        </section>
      </div>
      <section className="panel">
        <h2>Trades ({bt.trades_total})</h2>
        {bt.trades.length === 0 ? (
          <Empty>No trades.</Empty>
        ) : (
          <>
            <div className="table-wrap">
              <table className="table" data-testid="trades-table">
                <thead>
                  <tr>
                    <th>Symbol</th>
                    <th>Entry</th>
                    <th className="num">Entry price</th>
                    <th>Exit</th>
                    <th className="num">Exit price</th>
                    <th className="num">Shares</th>
                    <th className="num">PnL</th>
                    <th className="num">Return</th>
                    <th className="num">Fees</th>
                    {hasExitReason && <th>Exit reason</th>}
                  </tr>
                </thead>
                <tbody>
                  {trades.map((t, i) => (
                    <tr key={`${t.symbol}-${t.entry_date}-${i}`}>
                      <td>{t.symbol}</td>
                      <td className="nowrap">{t.entry_date}</td>
                      <td className="num">{fmtMoney(t.entry_price)}</td>
                      <td className="nowrap">{t.exit_date || 'open'}</td>
                      <td className="num">{fmtMoney(t.exit_price)}</td>
                      <td className="num">{fmtInt(t.shares)}</td>
                      <td className={`num ${t.pnl != null && t.pnl < 0 ? 'neg' : 'pos'}`}>{fmtMoney(t.pnl)}</td>
                      <td className={`num ${t.return != null && t.return < 0 ? 'neg' : 'pos'}`}>{fmtPct(t.return, 2)}</td>
                      <td className="num">{fmtMoney(t.fees)}</td>
                      {hasExitReason && <td>{t.exit_reason ?? '—'}</td>}
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            {bt.trades.length > TRADES_PER_PAGE && <Pager total={bt.trades.length} limit={TRADES_PER_PAGE} offset={page} onChange={setPage} />}
          </>
        )}
      </section>
    </div>
  );
}
