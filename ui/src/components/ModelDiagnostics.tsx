import { useMemo, useState } from 'react';
import { CurveChart } from './CurveChart';
import { useRunTrainingLog } from '../hooks/useRuns';
import { curve, curveSummary, importance, logModels } from '../lib/trainingLog';
import { ErrorState, Loading } from './States';
import { fmtInt } from '../lib/format';

/**
 * Run detail: per model file of the run, XGBoost's eval log as a curve and the feature
 * importance by gain (runs/<id>/training_log.json, written by train).
 */
export function ModelDiagnostics({ runId, hasLog }: { runId: string; hasLog: boolean }) {
  const q = useRunTrainingLog(runId, hasLog);
  const models = useMemo(() => (q.data ? logModels(q.data) : []), [q.data]);
  const [picked, setPicked] = useState('');
  const current = models.find((m) => m.file === picked) ?? models[0];
  const c = useMemo(() => (current ? curve(current.model) : null), [current]);
  if (!hasLog) {
    return <p className="muted">No training_log.json in this run (runs trained before it was written have no curve or importance).</p>;
  }
  if (q.isLoading) return <Loading what="Loading the training log" />;
  if (!q.data) return <ErrorState error={q.error} onRetry={() => void q.refetch()} />;
  if (!current || !c) return <p className="muted">The training log lists no model.</p>;
  const imp = importance(current.model);
  return (
    <div data-testid="model-diagnostics">
      {models.length > 1 && (
        <label className="inline-field">
          Model{' '}
          <select value={current.file} onChange={(e) => setPicked(e.target.value)} data-testid="diagnostics-model">
            {models.map((m) => (
              <option key={m.file} value={m.file}>
                {m.label} ({m.file})
              </option>
            ))}
          </select>
        </label>
      )}
      {models.length === 1 && (
        <p className="small muted">
          {current.label} ({current.file})
        </p>
      )}
      <div className="two-col">
        <div>
          <CurveChart c={c} />
          <p className="small" data-testid="curve-summary">
            {curveSummary(c)}
          </p>
        </div>
        <div>
          <h3>Feature importance (gain)</h3>
          {imp.rows.length === 0 ? (
            <p className="muted">The model never splits (no trees with a split).</p>
          ) : (
            <table className="table compact importance" data-testid="feature-importance">
              <thead>
                <tr>
                  <th>Feature</th>
                  <th>Share of gain</th>
                  <th className="num">Splits</th>
                </tr>
              </thead>
              <tbody>
                {imp.rows.map((r) => (
                  <tr key={r.feature}>
                    <td className="mono">{r.feature}</td>
                    <td>
                      <span className="bar" aria-hidden="true">
                        <span className="bar-fill" style={{ width: `${(r.share * 100).toFixed(1)}%` }} />
                      </span>{' '}
                      {(r.share * 100).toFixed(1)}%
                    </td>
                    <td className="num">{fmtInt(r.splits)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          {(imp.rest > 0 || imp.unused > 0) && (
            <p className="small muted">
              {imp.rest > 0 ? `${imp.rest} more feature(s) with a smaller gain` : ''}
              {imp.rest > 0 && imp.unused > 0 ? '; ' : ''}
              {imp.unused > 0 ? `${imp.unused} feature(s) never split on` : ''}.
            </p>
          )}
        </div>
      </div>
    </div>
  );
}
