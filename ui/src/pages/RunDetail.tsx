import { api } from '../api/client';
import { useState } from 'react';
import { Link, useParams } from 'react-router-dom';
import { useRun } from '../hooks/useRuns';
import { useSubmitJob } from '../hooks/useSubmitJob';
import { JobsTable } from '../components/JobsTable';
import { ModelDiagnostics } from '../components/ModelDiagnostics';
import { ErrorState, Loading, Empty } from '../components/States';
import { StatusBadge } from '../components/StatusBadge';
import { fmtBytes, fmtConfusionTitle, fmtInt, fmtModelLift, fmtModelPrecision, fmtNum, fmtPct, fmtTime, fmtTpFp } from '../lib/format';
import { actionsBacktestUrl, actionsTrainUrl, modelBacktestUrl } from '../lib/links';
import { runModels } from '../lib/runModels';
import type { EvalMode } from '../types/api';

export function RunDetailPage() {
  const { runId = '' } = useParams();
  const q = useRun(runId);
  const submit = useSubmitJob();
  const [mode, setMode] = useState<EvalMode | ''>('');
  if (q.isLoading) return <Loading what="Loading run" />;
  if (!q.data) return <ErrorState error={q.error} onRetry={() => void q.refetch()} />;
  const run = q.data;
  const summary = run.summary;
  const runMode = summary?.mode ?? run.registry_rows[0]?.mode ?? '';
  const evalMode: EvalMode = mode || (runMode === 'finetune' ? 'finetune' : 'base');
  const models = runModels(run);
  const modelFiles = [...new Set(models.map((m) => m.model_path))];
  const tickers = summary?.tickers ?? [...new Set(run.registry_rows.map((r) => r.ticker))];
  const cfg = run.config?.raw ?? '';
  const configPath = summary?.config_path;
  return (
    <div className="page">
      <div className="page-head">
        <h1 className="mono break">{run.run_id}</h1>
        {summary?.status && <StatusBadge status={summary.status} />}
        <span className="spacer" />
        <select value={evalMode} onChange={(e) => setMode(e.target.value as EvalMode)} aria-label="Eval mode">
          <option value="base">base</option>
          <option value="finetune">finetune</option>
        </select>
        <button type="button" className="btn btn-primary" disabled={submit.isPending} onClick={() => submit.mutate({ kind: 'eval-metrics', body: { run_id: run.run_id, mode: evalMode, dry_run: false } })}>
          Recompute Metrics
        </button>
        {modelFiles.length === 1 && (
          <Link className="btn" to={modelBacktestUrl({ model_final_path: modelFiles[0]! })}>
            Open in Actions
          </Link>
        )}
        {configPath && (
          <Link className="btn" to={actionsTrainUrl(configPath)}>
            Train again
          </Link>
        )}
      </div>
      <section className="panel">
        <dl className="kv">
          <dt>tickers</dt>
          <dd>{tickers.join(', ') || '—'}</dd>
          <dt>mode</dt>
          <dd>{runMode || '—'}</dd>
          <dt>run_dir</dt>
          <dd className="mono">{run.run_dir}</dd>
          <dt>{modelFiles.length > 1 ? `models (${modelFiles.length})` : 'model'}</dt>
          <dd className="mono">
            {modelFiles.length === 0 ? (
              '—'
            ) : (
              <ul className="plain" data-testid="run-models">
                {models.map((m) => (
                  <li key={m.ticker}>
                    {modelFiles.length > 1 && <strong>{m.ticker}: </strong>}
                    {m.model_path}
                  </li>
                ))}
              </ul>
            )}
          </dd>
          <dt>started</dt>
          <dd>{fmtTime(summary?.start_time)}</dd>
          <dt>ended</dt>
          <dd>{fmtTime(summary?.end_time)}</dd>
        </dl>
      </section>
      <section className="panel">
        <h2>Metrics per ticker</h2>
        {run.registry_rows.length === 0 ? (
          <Empty>No metrics.json for this run (yet). Recompute Metrics writes it.</Empty>
        ) : (
          <div className="table-wrap">
            <table className="table" data-testid="run-metrics">
              <thead>
                <tr>
                  <th>Ticker</th>
                  <th className="num">Precision</th>
                  <th className="num">Recall</th>
                  <th className="num">F1</th>
                  <th className="num">Accuracy</th>
                  <th className="num">Buy Rate</th>
                  <th className="num">Pos Rate</th>
                  <th className="num">Lift</th>
                  <th className="num">TP/FP</th>
                  <th className="num">Support</th>
                  <th>Backtest</th>
                </tr>
              </thead>
              <tbody>
                {run.registry_rows.map((m, i) => (
                  <tr key={`${m.ticker}-${i}`}>
                    <td>
                      <strong>{m.ticker}</strong>
                      {m.mode && <span className="muted small"> {m.mode}</span>}
                    </td>
                    <td className="num">{fmtModelPrecision(m)}</td>
                    <td className="num">{fmtPct(m.recall)}</td>
                    <td className="num">{fmtNum(m.f1, 3)}</td>
                    <td className="num">{fmtPct(m.accuracy)}</td>
                    <td className="num">{fmtPct(m.buy_rate)}</td>
                    <td className="num">{fmtPct(m.positive_rate)}</td>
                    <td className="num">{fmtModelLift(m)}</td>
                    <td className="num" title={fmtConfusionTitle(m.tp, m.fp, m.tn, m.fn)}>
                      {fmtTpFp(m.tp, m.fp)}
                    </td>
                    <td className="num">{fmtInt(m.support)}</td>
                    <td className="nowrap">
                      {/* each ticker with its own model file (its row's model_final_path) */}
                      {m.model_final_path ? (
                        <Link className="btn btn-small" to={actionsBacktestUrl({ ticker: m.ticker, model_path: m.model_final_path })} data-testid="open-in-actions" title={m.model_final_path}>
                          Open in Actions
                        </Link>
                      ) : (
                        '—'
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
      <section className="panel">
        <h2>Training curve and feature importance</h2>
        <ModelDiagnostics runId={run.run_id} hasLog={run.files.some((f) => f.name === 'training_log.json')} />
      </section>
      <div className="two-col">
        <section className="panel">
          <h2>Config</h2>
          {cfg ? <pre className="code-block" data-testid="run-config">{cfg}</pre> : <Empty>No config.</Empty>}
        </section>
        <section className="panel">
          <h2>Files</h2>
          {run.files.length === 0 ? (
            <Empty>No files listed.</Empty>
          ) : (
            <ul className="plain mono files">
              {run.files.map((f) => (
                <li key={f.name}>
                  {f.type === 'file' ? (
                    <a href={api.runFileUrl(run.run_id, f.name)} target="_blank" rel="noreferrer" download={f.name}>
                      {f.name}
                    </a>
                  ) : (
                    <>{f.name}/</>
                  )}{' '}
                  <span className="muted">{f.size != null ? fmtBytes(f.size) : ''}</span>
                </li>
              ))}
            </ul>
          )}
          {run.manifest != null && (
            <details>
              <summary>manifest.json</summary>
              <pre className="code-block">{JSON.stringify(run.manifest, null, 2)}</pre>
            </details>
          )}
        </section>
      </div>
      {run.jobs.length > 0 && (
        <section className="panel">
          <h2>Jobs of this run</h2>
          <JobsTable jobs={run.jobs} compact />
        </section>
      )}
    </div>
  );
}
