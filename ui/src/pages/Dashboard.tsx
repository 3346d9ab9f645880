import { Link } from 'react-router-dom';
import { useDashboard } from '../hooks/useDashboard';
import { useSubmitJob } from '../hooks/useSubmitJob';
import { JobsTable } from '../components/JobsTable';
import { Empty, ErrorState, Loading } from '../components/States';
import { BacktestsTable } from './Backtests';
import { OptimizationsTable } from './Optimizations';
import { useOptimizations } from '../hooks/useOptimizations';
import { fmtConfusionTitle, fmtInt, fmtLabel, fmtModelLift, fmtModelPrecision, fmtPct, fmtTpFp } from '../lib/format';
import { modelBacktestBody, modelBacktestUrl } from '../lib/links';
import type { RegistryModelRow } from '../types/api';

function BestModelCard({ m }: { m: RegistryModelRow }) {
  const submit = useSubmitJob();
  // Only the model is sent: the server takes its dataset, tickers and test period from its run.
  const backtest = () => submit.mutate({ kind: 'backtest', body: modelBacktestBody(m.model_final_path) });
  return (
    <article className="card model-card" data-testid="best-model">
      <header>
        <strong className="ticker">{m.ticker}</strong>
        <span className="muted small">{m.mode}</span>
      </header>
      <div className="mono small">
        <Link to={`/runs/${encodeURIComponent(m.run_id)}`}>{m.run_id}</Link>
      </div>
      <dl className="kv-inline">
        <dt>Label</dt>
        <dd>{fmtLabel(m.label_horizon_days, m.label_threshold)}</dd>
        <dt>Precision</dt>
        <dd>{fmtModelPrecision(m)}</dd>
        <dt>Lift</dt>
        <dd>{fmtModelLift(m)}</dd>
        <dt>Buy rate</dt>
        <dd>{fmtPct(m.buy_rate)}</dd>
        <dt>Support</dt>
        <dd>{fmtInt(m.support)}</dd>
        <dt>TP / FP</dt>
        <dd title={fmtConfusionTitle(m.tp, m.fp, m.tn, m.fn)}>{fmtTpFp(m.tp, m.fp)}</dd>
      </dl>
      <div className="actions">
        <button type="button" className="btn btn-small btn-primary" disabled={submit.isPending || !m.model_final_path} onClick={backtest} title="Backtest this model on its own dataset and tickers, over its test period">
          Run Backtest with this model
        </button>
        <Link className="btn btn-small" to={modelBacktestUrl(m)}>
          Open in Actions
        </Link>
      </div>
    </article>
  );
}

/** Running optimizations (all of them, up to 10) and the most recent ones. */
function OptimizationsPanel() {
  const running = useOptimizations({ status: 'running', limit: 10, offset: 0 });
  const recent = useOptimizations({ limit: 5, offset: 0 });
  const r = running.data?.items ?? [];
  const runningIds = new Set(r.map((o) => o.id));
  const rec = (recent.data?.items ?? []).filter((o) => !runningIds.has(o.id));
  return (
    <section className="panel" data-testid="dashboard-optimizations">
      <div className="panel-head">
        <h2>Optimizations</h2>
        <span className="muted small">{running.data ? `${running.data.total} running` : ''}</span>
        <Link to="/optimizations" className="btn btn-small">
          View All
        </Link>
      </div>
      {running.isLoading || recent.isLoading ? (
        <Loading what="Loading optimizations" />
      ) : r.length === 0 && rec.length === 0 ? (
        <Empty>
          No optimizations yet. <Link to="/optimizations?new=1">Start a sweep</Link>.
        </Empty>
      ) : (
        <OptimizationsTable items={[...r, ...rec]} compact />
      )}
    </section>
  );
}

export function DashboardPage() {
  const q = useDashboard();
  if (q.isLoading) return <Loading what="Loading dashboard" />;
  if (!q.data) return <ErrorState error={q.error} onRetry={() => void q.refetch()} />;
  const d = q.data;
  return (
    <div className="page">
      <h1>Dashboard</h1>
      <section className="panel">
        <div className="panel-head">
          <h2>Recent Jobs</h2>
          <Link to="/jobs" className="btn btn-small">
            View All
          </Link>
        </div>
        {d.recent_jobs.length === 0 ? (
          <Empty>
            No jobs yet. <Link to="/actions?type=train">Train a model</Link> to get started.
          </Empty>
        ) : (
          <JobsTable jobs={d.recent_jobs.slice(0, 8)} compact />
        )}
      </section>
      <OptimizationsPanel />
      <section className="panel">
        <div className="panel-head">
          <h2>Best Models</h2>
          <span className="muted small" data-testid="best-models-floor">
            best per ticker with support ≥ {d.best_models_min_support} test rows
          </span>
          <Link to="/registry" className="btn btn-small">
            Registry
          </Link>
        </div>
        {d.best_models.length === 0 ? <Empty>No models in the registry yet.</Empty> : <div className="cards">{d.best_models.map((m) => <BestModelCard key={`${m.run_id}|${m.ticker}|${m.mode}`} m={m} />)}</div>}
      </section>
      <section className="panel">
        <div className="panel-head">
          <h2>Recent Backtests</h2>
          <Link to="/backtests" className="btn btn-small">
            View All
          </Link>
        </div>
        {d.recent_backtests.length === 0 ? <Empty>No backtests yet.</Empty> : <BacktestsTable items={d.recent_backtests.slice(0, 8)} />}
      </section>
    </div>
  );
}
