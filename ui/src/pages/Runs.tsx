import { useEffect, useRef, useState } from 'react';
import { Link, useSearchParams } from 'react-router-dom';
import { useRuns } from '../hooks/useRuns';
import { Pager } from '../components/Pager';
import { QueryView } from '../components/States';
import { StatusBadge } from '../components/StatusBadge';
import { fmtLabel, fmtLift, fmtInt, fmtPct, fmtTime } from '../lib/format';
import type { RunSummary } from '../types/api';

/** The columns the server sorts by (GET /api/runs?sort=<field>_<asc|desc>). */
const SORTABLE = ['run_id', 'dataset', 'project', 'status', 'start_time'] as const;
type SortField = (typeof SORTABLE)[number];
const DEFAULT_SORT = 'start_time_desc';

/** XGBoost parameters shown first when a page's runs set them (MLflow's params columns). */
const PARAM_ORDER = ['max_depth', 'eta', 'num_round', 'early_stopping_rounds', 'subsample', 'colsample_bytree', 'min_child_weight', 'lambda', 'alpha', 'gamma'];
const MAX_PARAM_COLUMNS = 6;

/** The param a `param.<name>_<asc|desc>` sort orders by, or null. */
export function sortParam(sort: string): string | null {
  const m = /^param\.([A-Za-z0-9_-]{1,64})_(asc|desc)$/.exec(sort);
  return m?.[1] ?? null;
}

/** The model-param columns of a page: the keys its runs set, known ones first, at most 6; the param sorted by is always one. */
export function paramColumns(items: RunSummary[], sorted: string | null = null): string[] {
  const keys = new Set<string>();
  for (const r of items) for (const k of Object.keys(r.model_params ?? {})) if (k !== 'nthread' && k !== 'seed') keys.add(k);
  const rank = (k: string) => (k === sorted ? -1 : PARAM_ORDER.includes(k) ? PARAM_ORDER.indexOf(k) : PARAM_ORDER.length);
  if (sorted) keys.add(sorted);
  return [...keys].sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : 1)).slice(0, MAX_PARAM_COLUMNS);
}

/** The label column never shows a bare dash: it says why there is no label. */
export function runLabel(r: RunSummary): string {
  const m = r.models;
  if (!m || m.count === 0) return 'not indexed (no metrics)';
  if (m.label_mixed) return 'mixed (per model)';
  if (m.label_horizon_days === null && m.label_threshold === null) return 'unknown (not in metrics)';
  return fmtLabel(m.label_horizon_days, m.label_threshold);
}

function SortHeader({ field, label, sort, onSort, className, title }: { field: SortField | `param.${string}`; label: string; sort: string; onSort: (s: string) => void; className?: string; title?: string }) {
  const active = sort === `${field}_asc` || sort === `${field}_desc`;
  const desc = sort.endsWith('_desc');
  const next = active ? `${field}_${desc ? 'asc' : 'desc'}` : `${field}_${field === 'start_time' ? 'desc' : 'asc'}`;
  return (
    <th aria-sort={active ? (desc ? 'descending' : 'ascending') : 'none'} className={className} title={title}>
      <button type="button" className="th-sort" onClick={() => onSort(next)}>
        {label} <span aria-hidden="true">{active ? (desc ? '▼' : '▲') : '↕'}</span>
      </button>
    </th>
  );
}

export function RunsPage() {
  const [sp, setSp] = useSearchParams();
  const limit = Number(sp.get('limit') ?? 50) || 50;
  const offset = Number(sp.get('offset') ?? 0) || 0;
  const text = sp.get('q') ?? '';
  const sort = sp.get('sort') ?? DEFAULT_SORT;
  const q = useRuns({ q: text || undefined, sort: sort === DEFAULT_SORT ? undefined : sort, limit, offset });
  const update = (changes: Record<string, string>) => {
    const next = new URLSearchParams(sp);
    for (const [k, v] of Object.entries(changes)) {
      if (v) next.set(k, v);
      else next.delete(k);
    }
    if (!('offset' in changes)) next.delete('offset');
    setSp(next, { replace: true });
  };
  const [draft, setDraft] = useState(text);
  const latest = useRef({ text, update });
  latest.current = { text, update };
  useEffect(() => setDraft(text), [text]);
  useEffect(() => {
    if (draft.trim() === latest.current.text) return;
    const t = setTimeout(() => latest.current.update({ q: draft.trim() }), 300);
    return () => clearTimeout(t);
  }, [draft]);
  const onSort = (s: string) => update({ sort: s === DEFAULT_SORT ? '' : s });
  return (
    <div className="page">
      <h1>Runs</h1>
      <form className="filters" onSubmit={(e) => e.preventDefault()}>
        <label>
          Search
          <input type="search" value={draft} onChange={(e) => setDraft(e.target.value)} placeholder="run id, ticker, project, dataset, config" aria-label="Search runs" />
        </label>
      </form>
      <QueryView
        query={q}
        isEmpty={(d) => d.items.length === 0}
        empty={text ? <>No run matches “{text}”.</> : <>No training runs yet. <Link to="/actions?type=train">Train a model</Link>.</>}
      >
        {(d) => {
          const params = paramColumns(d.items, sortParam(sort));
          return (
          <>
            <div className="table-wrap">
              <table className="table runs-table" data-testid="runs-table">
                <thead>
                  <tr>
                    <SortHeader field="run_id" label="run_id" sort={sort} onSort={onSort} />
                    <SortHeader field="dataset" label="dataset" sort={sort} onSort={onSort} className="col-low" />
                    <th className="col-low">tickers</th>
                    <th>label</th>
                    <th className="num col-low" title="models (tickers) in the registry">models</th>
                    <th className="num" title="mean over the models with a predicted positive">precision</th>
                    <th className="num" title="mean over the models with a predicted positive">lift</th>
                    <th className="num col-low">support</th>
                    {params.map((p) => (
                      <SortHeader key={p} field={`param.${p}`} label={p} sort={sort} onSort={onSort} className="num col-low param-col" title={`model.params.${p} of the run's config.yaml; runs without a numeric value sort last`} />
                    ))}
                    <SortHeader field="project" label="project" sort={sort} onSort={onSort} className="col-low" />
                    <SortHeader field="status" label="status" sort={sort} onSort={onSort} />
                    <SortHeader field="start_time" label="started" sort={sort} onSort={onSort} className="col-low" />
                  </tr>
                </thead>
                <tbody>
                  {d.items.map((r) => (
                    <tr key={r.run_id}>
                      <td className="mono">
                        <Link to={`/runs/${encodeURIComponent(r.run_id)}`}>{r.run_id}</Link>
                      </td>
                      <td className="col-low">{r.dataset || 'not recorded'}</td>
                      <td className="col-low" title={r.tickers.join(', ')}>{r.tickers.length > 4 ? `${r.tickers.slice(0, 4).join(', ')} +${r.tickers.length - 4}` : r.tickers.join(', ') || 'none'}</td>
                      <td className="nowrap" data-testid="run-label">{runLabel(r)}</td>
                      <td className="num col-low">{fmtInt(r.models?.count)}</td>
                      <td className="num">{fmtPct(r.models?.precision)}</td>
                      <td className="num">{fmtLift(r.models?.lift)}</td>
                      <td className="num col-low">{fmtInt(r.models?.support)}</td>
                      {params.map((p) => {
                        const v = r.model_params?.[p];
                        return (
                          <td key={p} className="num col-low" data-testid={`param-${p}`}>
                            {v === undefined ? '—' : String(v)}
                          </td>
                        );
                      })}
                      <td className="col-low">{r.project || 'default'}</td>
                      <td>{r.status ? <StatusBadge status={r.status} /> : 'unknown'}</td>
                      <td className="col-low">{fmtTime(r.start_time)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            <Pager total={d.total} limit={limit} offset={offset} onChange={(o) => update({ offset: o ? String(o) : '' })} onLimit={(l) => update({ limit: l !== 50 ? String(l) : '', offset: '' })} />
          </>
          );
        }}
      </QueryView>
    </div>
  );
}
