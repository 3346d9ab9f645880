import { useEffect, useRef, useState } from 'react';
import { Link, useLocation, useParams, useSearchParams } from 'react-router-dom';
import { useQueryClient } from '@tanstack/react-query';
import { api } from '../api/client';
import { OptimizationCharts } from '../components/OptimizationCharts';
import { Pager } from '../components/Pager';
import { StatusBadge } from '../components/StatusBadge';
import { Empty, ErrorState, Loading } from '../components/States';
import { tasksTableQuery, useCancelOptimization, useOptimization, useOptimizationStatus, useOptimizationTasks } from '../hooks/useOptimizations';
import { fmtTime } from '../lib/format';
import { boardDirection, directionLabel, fmtParam, fmtScore, fmtSeconds, isTerminalOpt, sortTop, type Direction } from '../lib/optimizations';
import type { DeflatedSharpe, Optimization, OptimizationEstimate, OptimizationStatusResponse, OptimizationTopEntry } from '../types/api';
import { ProgressBar, useRerunOptimization } from './Optimizations';

const enc = encodeURIComponent;
const TOP_METRICS = ['cagr', 'sharpe', 'max_drawdown'] as const;

function EstimateLine({ e }: { e: OptimizationEstimate }) {
  return (
    <div className="notice notice-info" data-testid="estimate">
      Estimate: <strong>{fmtSeconds(e.seconds)}</strong>
      {e.lower_bound ? ' (at least)' : ''} — {e.tasks.toLocaleString('en-US')} tasks × {fmtSeconds(e.median_task_seconds)} median task time / {e.slots} slot(s), from{' '}
      {e.basis === 'history' ? `the last ${e.samples} task(s) of this job type` : 'a calibration task'}.
    </div>
  );
}

// What the stop did to the tasks not yet finished (a stop after the last task cancels none).
function remaining(canceled: number): string {
  if (canceled === 0) return 'No task was left to cancel';
  return `${canceled.toLocaleString('en-US')} remaining task${canceled === 1 ? ' was' : 's were'} canceled (queued ones dropped, running ones stopped)`;
}

function StopNotice({ st }: { st: OptimizationStatusResponse }) {
  const s = st.summary;
  const counts = `${s.finished} finished, ${s.failed} failed, ${s.canceled} canceled of ${s.total}; best score ${fmtScore(s.best_score)}`;
  if (st.status === 'early-stopped') {
    const why = st.stop_reason === 'target' ? 'a task reached the target score' : st.stop_reason === 'patience' ? 'no improvement within the patience' : 'the early-stop policy fired';
    return (
      <div className="notice notice-info" role="status" data-testid="early-stopped-notice">
        <strong>Early-stopped</strong>: {why}. {remaining(s.canceled)}; the summary below is final ({counts}).
      </div>
    );
  }
  if (st.status === 'canceled') {
    return (
      <div className="notice notice-warn" role="status" data-testid="canceled-notice">
        <strong>Canceled</strong>: {remaining(s.canceled)}. The summary below is final ({counts}).
      </div>
    );
  }
  return null;
}

function TopBoard({ opt, rows, direction, loading }: { opt: Optimization; rows: OptimizationTopEntry[]; direction: Direction; loading: boolean }) {
  const keys = Object.keys((opt.request['param_space'] as Record<string, unknown> | undefined) ?? {});
  const metric = String((opt.request['objective'] as Record<string, unknown> | undefined)?.['metric'] ?? 'score');
  const hasOos = !!opt.validation;
  const oosByIndex = new Map((opt.validation?.runs ?? []).map((r) => [r.index, r]));
  const sorted = sortTop(rows, direction);
  // the headline metrics the rows carry (the server sends `metrics` with every Top-N row)
  const extra = TOP_METRICS.filter((m) => m !== metric && sorted.some((r) => typeof r.metrics?.[m] === 'number'));
  return (
    <section className="panel" data-testid="top-board">
      <div className="panel-head">
        <h2>Top {String(opt.request['top_n'] ?? sorted.length)}</h2>
        <span className="small" data-testid="sort-direction">
          by {metric}, {direction === 'max' ? '▼' : '▲'} {directionLabel(direction)}
        </span>
      </div>
      {loading ? (
        <div data-testid="top-skeleton">
          {[0, 1, 2].map((i) => (
            <div key={i} className="skeleton skeleton-row" aria-hidden />
          ))}
        </div>
      ) : sorted.length === 0 ? (
        <Empty>{isTerminalOpt(opt.status) ? 'No task was ranked: none finished, or every finished task missed a constraint or the objective metric.' : 'No ranked task yet: the board fills as tasks finish.'}</Empty>
      ) : (
        <div className="table-wrap">
          <table className="table" data-testid="top-table">
            <thead>
              <tr>
                <th>#</th>
                <th>Task</th>
                {keys.map((k) => (
                  <th key={k} className="mono small">
                    {k.split('.').pop()}
                  </th>
                ))}
                <th className="num" aria-sort={direction === 'max' ? 'descending' : 'ascending'}>
                  {metric} (in-sample) {direction === 'max' ? '▼' : '▲'}
                </th>
                {hasOos && <th className="num">{metric} (out-of-sample)</th>}
                {extra.map((m) => (
                  <th key={m} className="num col-low">
                    {m}
                  </th>
                ))}
                <th className="col-low">Links</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {sorted.map((r, i) => {
                const oos = r.oos_score ?? oosByIndex.get(r.index)?.oos_score ?? null;
                const oosBt = r.oos_result_summary_id ?? oosByIndex.get(r.index)?.result_summary_id ?? null;
                return (
                  <tr key={r.task_id} data-testid="top-row">
                    <td>{i + 1}</td>
                    <td className="mono small">{r.index}</td>
                    {keys.map((k) => (
                      <td key={k} className="mono small break">
                        {fmtParam(r.params[k])}
                      </td>
                    ))}
                    <td className="num" data-testid="top-score">
                      {fmtScore(r.score)}
                    </td>
                    {hasOos && (
                      <td className="num" data-testid="top-oos">
                        {oos === null ? <span className="muted">{opt.validation?.status === 'pending' ? 'after the search' : '—'}</span> : fmtScore(oos)}
                      </td>
                    )}
                    {extra.map((m) => (
                      <td key={m} className="num col-low">
                        {fmtScore(r.metrics?.[m])}
                      </td>
                    ))}
                    <td className="col-low small">
                      <Link to={`/jobs/${enc(r.task_id)}`}>job</Link> · <Link to={`/backtests/${enc(r.result_summary_id)}`}>backtest</Link>
                      {oosBt && (
                        <>
                          {' '}
                          · <Link to={`/backtests/${enc(oosBt)}`}>holdout</Link>
                        </>
                      )}
                      {r.model_run_id && (
                        <>
                          {' '}
                          · <Link to={`/runs/${enc(r.model_run_id)}`}>model run</Link>
                        </>
                      )}
                    </td>
                    <td>
                      <Link className="btn btn-small" to={`/optimizations?rerun=${enc(opt.id)}&index=${r.index}`} title="Open the form prefilled with this task's parameters">
                        Re-run
                      </Link>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

function DeflatedSharpePanel({ d }: { d: DeflatedSharpe }) {
  return (
    <section className="panel" data-testid="deflated-sharpe">
      <div className="panel-head">
        <h2>Deflated Sharpe</h2>
        <strong className={d.value < 0.95 ? 'text-warn' : 'text-ok'}>
          {d.value.toFixed(3)} — {d.reading}
        </strong>
      </div>
      <p className="small muted">
        Best daily Sharpe {d.best_sharpe.toFixed(4)} against {d.expected_max_sharpe.toFixed(4)} expected from the best of {d.trials} unskilled trials (variance {d.sharpe_variance.toPrecision(3)},{' '}
        {d.observations} returns, skewness {d.skewness.toFixed(2)}, kurtosis {d.kurtosis.toFixed(2)}).
      </p>
    </section>
  );
}

const TASK_SORTS = ['index', 'score'] as const;

function TasksTable({ opt }: { opt: Optimization }) {
  const [sp, setSp] = useSearchParams();
  const tq = tasksTableQuery(sp);
  const { sort, limit, offset } = tq;
  const status = tq.status ?? '';
  const q = useOptimizationTasks(opt.id, tq);
  const keys = Object.keys((opt.request['param_space'] as Record<string, unknown> | undefined) ?? {});
  const metric = String((opt.request['objective'] as Record<string, unknown> | undefined)?.['metric'] ?? '');
  const set = (changes: Record<string, string>) => {
    const next = new URLSearchParams(sp);
    for (const [k, v] of Object.entries(changes)) {
      if (v) next.set(k, v);
      else next.delete(k);
    }
    if (!('toffset' in changes)) next.delete('toffset');
    setSp(next, { replace: true });
  };
  const [field, dir] = [sort.slice(0, sort.lastIndexOf('_')), sort.slice(sort.lastIndexOf('_') + 1)];
  const header = (f: string, label: string) => (
    <th key={f} className="num" aria-sort={field === f ? (dir === 'asc' ? 'ascending' : 'descending') : 'none'}>
      <button type="button" className="linklike" onClick={() => set({ sort: `${f}_${field === f && dir === 'desc' ? 'asc' : 'desc'}` })}>
        {label} {field === f ? (dir === 'asc' ? '▲' : '▼') : ''}
      </button>
    </th>
  );
  const sortable = [...TASK_SORTS, ...(metric && metric !== 'score' ? [metric] : [])];
  return (
    <section className="panel" data-testid="tasks-panel">
      <div className="panel-head">
        <h2>Tasks</h2>
        <span className="muted small">sorted and paged on the server</span>
        <label className="small">
          Status{' '}
          <select value={status} onChange={(e) => set({ tstatus: e.target.value })} aria-label="Task status filter">
            <option value="">all</option>
            {['pending', 'queued', 'running', 'succeeded', 'failed', 'canceled'].map((s) => (
              <option key={s}>{s}</option>
            ))}
          </select>
        </label>
        <button type="button" className="btn btn-small" onClick={() => void q.refetch()}>
          Refresh
        </button>
      </div>
      {q.isLoading ? (
        <div>
          {[0, 1, 2, 3].map((i) => (
            <div key={i} className="skeleton skeleton-row" aria-hidden />
          ))}
        </div>
      ) : !q.data ? (
        <ErrorState error={q.error} onRetry={() => void q.refetch()} />
      ) : q.data.items.length === 0 ? (
        <Empty>{status ? `No ${status} task.` : 'No tasks.'}</Empty>
      ) : (
        <>
          <div className="table-wrap">
            <table className="table" data-testid="tasks-table">
              <thead>
                <tr>
                  {header('index', 'Index')}
                  {keys.map((k) => (
                    <th key={k} className="mono small">
                      {k.split('.').pop()}
                    </th>
                  ))}
                  <th>Status</th>
                  {sortable.filter((f) => f !== 'index').map((f) => header(f, f === 'score' ? `score (${metric})` : f))}
                  <th className="col-low">Reason</th>
                  <th className="col-low">Links</th>
                </tr>
              </thead>
              <tbody>
                {q.data.items.map((t) => (
                  <tr key={t.index} data-testid="task-row">
                    <td className="num mono small">{t.index}</td>
                    {keys.map((k) => (
                      <td key={k} className="mono small break">
                        {fmtParam(t.params[k])}
                      </td>
                    ))}
                    <td>
                      <StatusBadge status={t.status} />
                    </td>
                    {sortable
                      .filter((f) => f !== 'index')
                      .map((f) => (
                        <td key={f} className="num" data-testid={`task-${f}`}>
                          {fmtScore(f === 'score' ? t.score : t.metrics[f])}
                        </td>
                      ))}
                    <td className="col-low small break">{t.reason ?? ''}</td>
                    <td className="col-low small">
                      {t.job_id && <Link to={`/jobs/${enc(t.job_id)}`}>job</Link>}
                      {t.result_summary_id && (
                        <>
                          {' '}
                          · <Link to={`/backtests/${enc(t.result_summary_id)}`}>backtest</Link>
                        </>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <Pager total={q.data.total} limit={limit} offset={offset} onChange={(o) => set({ toffset: String(o) })} onLimit={(l) => set({ tlimit: String(l) })} />
        </>
      )}
    </section>
  );
}

export function OptimizationDetailPage() {
  const { optId = '' } = useParams();
  const location = useLocation();
  const estimate = (location.state as { estimate?: OptimizationEstimate | null } | null)?.estimate ?? null;
  const qc = useQueryClient();
  const [sp] = useSearchParams();
  // The three first requests go out together (the route's loader has usually sent them already,
  // App.tsx): the tasks table's page does not wait for the optimization.
  const opt = useOptimization(optId);
  const st = useOptimizationStatus(optId);
  useOptimizationTasks(optId, tasksTableQuery(sp));
  const cancel = useCancelOptimization();
  const rerun = useRerunOptimization();
  const [confirm, setConfirm] = useState(false);
  // A status change (queued -> running -> an end) reloads the whole optimization once (request,
  // validation, deflated Sharpe) and, at the end, the task pages; the ticks in between only poll the status.
  const lastStatus = useRef<string | null>(null);
  const status = st.data?.status;
  useEffect(() => {
    if (!status) return undefined;
    const changed = lastStatus.current !== null && lastStatus.current !== status;
    lastStatus.current = status;
    if (!changed) return undefined;
    void qc.invalidateQueries({ queryKey: ['optimizations', 'detail', optId] });
    if (!isTerminalOpt(status)) return undefined;
    void qc.invalidateQueries({ queryKey: ['optimizations', 'tasks', optId] });
    // After an early stop or a cancel the server writes the state first, then cancels the queued
    // tasks: one more read a moment later gives the final counts.
    const t = setTimeout(() => {
      void qc.invalidateQueries({ queryKey: ['optimizations', 'status', optId] });
      void qc.invalidateQueries({ queryKey: ['optimizations', 'tasks', optId] });
    }, 1500);
    return () => clearTimeout(t);
  }, [status, optId, qc]);
  if (opt.isLoading) return <Loading what="Loading optimization" />;
  if (!opt.data) return <ErrorState error={opt.error} onRetry={() => void opt.refetch()} />;
  const o = opt.data;
  const live: OptimizationStatusResponse = st.data ?? { status: o.status, stop_reason: o.stop_reason ?? null, summary: o.summary };
  const ended = isTerminalOpt(live.status);
  const direction = boardDirection(o.request);
  const keys = Object.keys((o.request['param_space'] as Record<string, unknown> | undefined) ?? {});
  const s = live.summary;
  const validation = o.validation;
  return (
    <div className="page">
      <div className="page-head">
        <h1 className="mono break">{o.id}</h1>
        <StatusBadge status={live.status} />
        <span className="spacer" />
        <a className="btn" href={api.optimizationExportUrl(o.id)} download={`${o.id}.zip`} data-testid="export-link">
          Export
        </a>
        <button type="button" className="btn" disabled={rerun.isPending} onClick={() => rerun.mutate(o.id)} title="Run the same request again (linked to this one)">
          Re-run
        </button>
        <Link className="btn" to={`/optimizations?rerun=${enc(o.id)}`}>
          Edit and re-run
        </Link>
        {!ended && !confirm && (
          <button type="button" className="btn btn-danger" disabled={cancel.isPending} onClick={() => setConfirm(true)}>
            {cancel.isPending ? 'Cancelling…' : 'Cancel'}
          </button>
        )}
      </div>
      {o.name && <p className="lead">{o.name}</p>}
      {!ended && confirm && (
        <div className="notice notice-warn" role="alertdialog" aria-label="Confirm cancel" data-testid="confirm-cancel">
          Cancel {o.id}? Queued tasks are canceled and running ones stopped; the summary is kept.
          <span className="spacer" />
          <button
            type="button"
            className="btn btn-danger btn-small"
            autoFocus
            onClick={() => {
              setConfirm(false);
              cancel.mutate(o.id);
            }}
          >
            Yes, cancel the optimization
          </button>
          <button type="button" className="btn btn-small" onClick={() => setConfirm(false)}>
            Keep it running
          </button>
        </div>
      )}
      {estimate && <EstimateLine e={estimate} />}
      <StopNotice st={live} />
      <section className="panel" data-testid="opt-status">
        <ProgressBar s={s} />
        <dl className="opt-counts" data-testid="opt-counts">
          <dt>total</dt>
          <dd data-testid="count-total">{s.total}</dd>
          <dt>finished</dt>
          <dd data-testid="count-finished">{s.finished}</dd>
          <dt>failed</dt>
          <dd data-testid="count-failed">{s.failed}</dd>
          <dt>canceled</dt>
          <dd data-testid="count-canceled">{s.canceled}</dd>
          <dt>running</dt>
          <dd>{s.running}</dd>
          <dt>queued</dt>
          <dd>{s.queued}</dd>
          <dt>best</dt>
          <dd data-testid="best-score">{fmtScore(s.best_score)}</dd>
        </dl>
        <p className="small muted">
          {ended ? `Ended ${fmtTime(o.ended_at)}.` : 'Live: the status is polled every second (one row on the server); the tables refresh when the sweep ends.'} Project {o.project || '—'} · job type {o.job_type} · created {fmtTime(o.created_at)}
          {o.source_id && (
            <>
              {' '}
              · re-run of{' '}
              <Link to={`/optimizations/${enc(o.source_id)}`} className="mono" data-testid="detail-source">
                {o.source_id}
              </Link>
            </>
          )}
        </p>
        {o.reruns.length > 0 && (
          <p className="small" data-testid="detail-reruns">
            Re-runs:{' '}
            {o.reruns.map((r, i) => (
              <span key={r}>
                {i > 0 && ', '}
                <Link to={`/optimizations/${enc(r)}`} className="mono">
                  {r}
                </Link>
              </span>
            ))}
          </p>
        )}
      </section>
      {validation && (
        <div className="notice notice-info" data-testid="validation-notice">
          Holdout from <strong>{validation.holdout_start}</strong>: the search ran on data before it; the Top-N {validation.status === 'pending' ? 'is re-run on it when the search ends' : `re-runs: ${validation.status}`}.
        </div>
      )}
      <TopBoard opt={o} rows={s.top_n} direction={direction} loading={st.isLoading && !o.summary} />
      {o.deflated_sharpe && <DeflatedSharpePanel d={o.deflated_sharpe} />}
      <OptimizationCharts id={o.id} keys={keys} direction={direction} total={s.total} />
      <TasksTable opt={o} />
      <details className="panel">
        <summary>Request document</summary>
        <pre className="mono small break">{JSON.stringify(o.request, null, 2)}</pre>
      </details>
    </div>
  );
}
