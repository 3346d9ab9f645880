import { useState } from 'react';
import { Link, useNavigate, useSearchParams } from 'react-router-dom';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api } from '../api/client';
import { OptimizationForm } from '../components/OptimizationForm';
import { Pager } from '../components/Pager';
import { StatusBadge } from '../components/StatusBadge';
import { ErrorState, Loading, QueryView } from '../components/States';
import { useOptimizations, useProjects } from '../hooks/useOptimizations';
import { toastError } from '../lib/errors';
import { fmtTime } from '../lib/format';
import { defaultForm, fmtScore, formForTask, formFromRequest, progressParts, selectModelsForm, type SweepForm } from '../lib/optimizations';
import { pushToast } from '../lib/toastStore';
import { OPTIMIZATION_STATUSES, type Optimization } from '../types/api';

export function ProgressBar({ s, compact }: { s: Optimization['summary']; compact?: boolean }) {
  const p = progressParts(s);
  const label = `${p.ended.toLocaleString('en-US')} / ${p.total.toLocaleString('en-US')} ended (${(p.fraction * 100).toFixed(0)} %)`;
  return (
    <div className={`opt-progress${compact ? ' compact' : ''}`} data-testid="opt-progress">
      <div className="opt-bar" role="progressbar" aria-label="Tasks ended" aria-valuemin={0} aria-valuemax={p.total} aria-valuenow={p.ended} aria-valuetext={label}>
        <span className="seg seg-finished" style={{ width: `${p.pct.finished}%` }} />
        <span className="seg seg-failed" style={{ width: `${p.pct.failed}%` }} />
        <span className="seg seg-canceled" style={{ width: `${p.pct.canceled}%` }} />
        <span className="seg seg-running" style={{ width: `${p.pct.running}%` }} />
      </div>
      <span className="small">{label}</span>
    </div>
  );
}

/** Re-run from the history: `POST {source_job_id}` copies the source's request and links back. */
export function useRerunOptimization() {
  const qc = useQueryClient();
  const navigate = useNavigate();
  return useMutation({
    mutationFn: (id: string) => api.createOptimization({ source_job_id: id }),
    onSuccess: (o) => {
      pushToast({ kind: 'success', title: 'Optimization submitted', body: o.id, link: { to: `/optimizations/${o.id}`, label: 'Open optimization' } });
      qc.setQueryData(['optimizations', 'detail', o.id], o);
      void qc.invalidateQueries({ queryKey: ['optimizations'] });
      navigate(`/optimizations/${encodeURIComponent(o.id)}`, { state: { estimate: o.estimate ?? null } });
    },
    onError: (e) => toastError(e, 'Re-run refused'),
  });
}

export function OptimizationsTable({ items, compact }: { items: Optimization[]; compact?: boolean }) {
  const rerun = useRerunOptimization();
  return (
    <div className="table-wrap">
      <table className="table" data-testid="optimizations-table">
        <thead>
          <tr>
            <th>Optimization</th>
            <th>Status</th>
            <th>Progress</th>
            <th className="num">Best score</th>
            {!compact && <th className="col-low">Project</th>}
            {!compact && <th className="col-low">Source</th>}
            <th className="col-low">Created</th>
            {!compact && <th />}
          </tr>
        </thead>
        <tbody>
          {items.map((o) => (
            <tr key={o.id} data-testid="optimization-row" data-id={o.id}>
              <td>
                <Link to={`/optimizations/${encodeURIComponent(o.id)}`} className="mono small">
                  {o.id}
                </Link>
                {o.name && <div className="small">{o.name}</div>}
              </td>
              <td>
                <StatusBadge status={o.status} />
              </td>
              <td>
                <ProgressBar s={o.summary} compact />
              </td>
              <td className="num">{fmtScore(o.best_score)}</td>
              {!compact && <td className="col-low">{o.project || '—'}</td>}
              {!compact && (
                <td className="col-low small">
                  {o.source_id ? (
                    <Link to={`/optimizations/${encodeURIComponent(o.source_id)}`} className="mono" data-testid="source-link">
                      re-run of {o.source_id}
                    </Link>
                  ) : (
                    '—'
                  )}
                  {o.reruns.length > 0 && <div className="muted">{o.reruns.length} re-run(s)</div>}
                </td>
              )}
              <td className="col-low small">{fmtTime(o.created_at)}</td>
              {!compact && (
                <td>
                  <button type="button" className="btn btn-small" disabled={rerun.isPending} onClick={() => rerun.mutate(o.id)} title="Run the same request again (linked to this one)">
                    Re-run
                  </button>
                </td>
              )}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** The form's starting point from the URL: `?new=1`, `?rerun=<id>[&index=<task>]`, `?select=<project>`. */
function useInitialForm(sp: URLSearchParams): { form: SweepForm | null; loading: boolean; error: unknown; key: string } {
  const rerunId = sp.get('rerun') ?? '';
  const index = sp.get('index');
  const select = sp.get('select');
  const src = useQuery({ queryKey: ['optimizations', 'detail', rerunId], queryFn: ({ signal }) => api.optimization(rerunId, signal), enabled: !!rerunId, staleTime: Infinity });
  const tasks = useQuery({
    queryKey: ['optimizations', 'task-at', rerunId, index],
    queryFn: ({ signal }) => api.optimizationTasks(rerunId, { limit: 1, offset: Number(index) }, signal),
    enabled: !!rerunId && index !== null,
    staleTime: Infinity,
  });
  const key = sp.toString();
  if (select !== null) return { form: selectModelsForm(select), loading: false, error: null, key };
  if (rerunId) {
    if (src.isLoading || (index !== null && tasks.isLoading)) return { form: null, loading: true, error: null, key };
    if (!src.data) return { form: null, loading: false, error: src.error, key };
    const task = tasks.data?.items[0];
    if (index !== null && task) return { form: formForTask(src.data.request, src.data.id, task.params), loading: false, error: null, key };
    return { form: formFromRequest(src.data.request, src.data.id), loading: false, error: null, key };
  }
  return { form: sp.get('new') ? defaultForm() : null, loading: false, error: null, key };
}

function SelectModels({ onPick }: { onPick: (p: string) => void }) {
  const [used, setUsed] = useState(false);
  const projects = useProjects(used);
  const names = projects.data?.items.map((p) => p.name).filter(Boolean) ?? [];
  return (
    <form
      className="inline-form"
      onSubmit={(e) => {
        e.preventDefault();
        const v = new FormData(e.currentTarget).get('project');
        if (typeof v === 'string' && v.trim()) onPick(v.trim());
      }}
    >
      <label>
        Project
        <input name="project" list="opt-projects" aria-label="Project to select models from" size={12} onFocus={() => setUsed(true)} />
      </label>
      <datalist id="opt-projects">
        {names.map((n) => (
          <option key={n} value={n} />
        ))}
      </datalist>
      <button type="submit" className="btn">
        Select models
      </button>
    </form>
  );
}

export function OptimizationsPage() {
  const [sp, setSp] = useSearchParams();
  const navigate = useNavigate();
  const status = sp.get('status') ?? '';
  const project = sp.get('project') ?? '';
  const limit = Number(sp.get('limit') ?? 25) || 25;
  const offset = Math.max(0, Number(sp.get('offset') ?? 0) || 0);
  const q = useOptimizations({ status: status || undefined, project: project || undefined, limit, offset });
  const init = useInitialForm(sp);
  const update = (changes: Record<string, string>) => {
    const next = new URLSearchParams(sp);
    for (const [k, v] of Object.entries(changes)) {
      if (v) next.set(k, v);
      else next.delete(k);
    }
    if (!('offset' in changes)) next.delete('offset');
    setSp(next, { replace: true });
  };
  const openForm = (changes: Record<string, string>) => {
    const next = new URLSearchParams();
    for (const [k, v] of Object.entries(changes)) next.set(k, v);
    setSp(next);
  };
  return (
    <div className="page">
      <div className="page-head">
        <h1>Optimizations</h1>
        <span className="spacer" />
        <button type="button" className="btn btn-primary" onClick={() => openForm({ new: '1' })}>
          New optimization
        </button>
        <SelectModels onPick={(p) => openForm({ select: p })} />
      </div>
      {init.loading && <Loading what="Loading the source optimization" />}
      {!init.loading && init.error !== null && init.error !== undefined && <ErrorState error={init.error} />}
      {init.form && (
        <OptimizationForm
          key={init.key}
          initial={init.form}
          onCreated={(o) => navigate(`/optimizations/${encodeURIComponent(o.id)}`, { state: { estimate: o.estimate ?? null } })}
        />
      )}
      <section className="panel">
        <div className="panel-head">
          <h2>History</h2>
          <span className="muted small">{q.isFetching ? 'refreshing…' : 'auto-refresh every 3 s'}</span>
        </div>
        <form className="filters" onSubmit={(e) => e.preventDefault()}>
          <label>
            Status
            <select value={status} onChange={(e) => update({ status: e.target.value })} aria-label="Status filter">
              <option value="">all</option>
              {OPTIMIZATION_STATUSES.map((s) => (
                <option key={s} value={s}>
                  {s}
                </option>
              ))}
            </select>
          </label>
          <label>
            Project
            <input value={project} onChange={(e) => update({ project: e.target.value })} aria-label="Project filter" size={12} />
          </label>
        </form>
        <QueryView
          query={q}
          isEmpty={(d) => d.items.length === 0}
          empty={
            status || project ? (
              'No optimization matches these filters.'
            ) : (
              <>
                No optimizations yet.{' '}
                <button type="button" className="btn btn-small" onClick={() => openForm({ new: '1' })}>
                  Start a sweep
                </button>
              </>
            )
          }
        >
          {(d) => (
            <>
              <OptimizationsTable items={d.items} />
              <Pager total={d.total} limit={limit} offset={offset} onChange={(o) => update({ offset: String(o) })} onLimit={(l) => update({ limit: String(l) })} />
            </>
          )}
        </QueryView>
      </section>
    </div>
  );
}

