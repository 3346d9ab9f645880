import { useEffect, useState } from 'react';
import { Link, useSearchParams } from 'react-router-dom';
import { useRegistryModels, useRegistryTickers } from '../hooks/useRegistry';
import { useSubmitJob } from '../hooks/useSubmitJob';
import { CompareDrawer } from '../components/CompareDrawer';
import { Pager } from '../components/Pager';
import { Empty, ErrorState, Loading } from '../components/States';
import { rowKey, toggleCompare } from '../lib/compare';
import { fmtConfusionTitle, fmtInt, fmtLabel, fmtModelLift, fmtModelPrecision, fmtPct, fmtTpFp } from '../lib/format';
import { modelBacktestBody, modelBacktestUrl } from '../lib/links';
import type { RegistryModelRow, RegistryQuery } from '../types/api';

export const SORT_OPTIONS = [
  { value: 'precision_desc,lift_desc,buy_rate_asc,support_desc', label: 'Precision↓ Lift↓ BuyRate↑ Support↓' },
  { value: 'lift_desc,precision_desc,buy_rate_asc,support_desc', label: 'Lift↓ Precision↓ BuyRate↑ Support↓' },
  { value: 'precision_desc,support_desc,lift_desc,buy_rate_asc', label: 'Precision↓ Support↓ Lift↓ BuyRate↑' },
] as const;

interface Draft {
  ticker: string;
  project: string;
  min_lift: string;
  min_precision: string;
  min_support: string;
  max_buy_rate: string;
}

function numParam(v: string | null): number | undefined {
  if (v === null || v.trim() === '') return undefined;
  const n = Number(v);
  return Number.isFinite(n) ? n : undefined;
}

/** Reads the registry query from the URL. Without min_support the server applies its default
 *  (the response's `min_support` says which); 0 keeps every row. */
export function queryFromParams(sp: URLSearchParams): RegistryQuery {
  const sort = sp.get('sort');
  return {
    ticker: sp.get('ticker')?.trim() || undefined,
    project: sp.get('project')?.trim() || undefined,
    min_lift: numParam(sp.get('min_lift')),
    min_precision: numParam(sp.get('min_precision')),
    min_support: numParam(sp.get('min_support')),
    max_buy_rate: numParam(sp.get('max_buy_rate')),
    sort: SORT_OPTIONS.some((o) => o.value === sort) ? sort! : SORT_OPTIONS[0].value,
    limit: numParam(sp.get('limit')) ?? 50,
    offset: numParam(sp.get('offset')) ?? 0,
  };
}

/** Min Precision and Max Buy Rate are typed as percentages like their columns show (55 -> 0.55 sent); the URL and the server keep the fraction. */
export function precisionPctFromFraction(v: number | undefined): string {
  return v === undefined ? '' : String(Math.round(v * 100 * 1e6) / 1e6);
}

export function precisionFractionFromPct(text: string): string | undefined {
  const t = text.trim();
  if (!t) return undefined;
  const n = Number(t);
  return Number.isFinite(n) ? String(Math.round((n / 100) * 1e8) / 1e8) : t; // not a number: the server names it in its 400
}

/** Typed tickers (comma or space separated, any case) -> the known tickers they name, case-insensitively; unknown ones stay as typed. */
export function canonicalTickers(text: string, known: readonly string[]): string[] {
  const byLower = new Map(known.map((t) => [t.toLowerCase(), t]));
  const out: string[] = [];
  for (const raw of text.split(/[,\s]+/)) {
    const t = raw.trim();
    if (!t) continue;
    const name = byLower.get(t.toLowerCase()) ?? t;
    if (!out.includes(name)) out.push(name);
  }
  return out;
}

function draftFrom(q: RegistryQuery): Draft {
  const s = (v: number | string | undefined) => (v === undefined ? '' : String(v));
  return {
    ticker: q.ticker ?? '',
    project: q.project ?? '',
    min_lift: s(q.min_lift),
    min_precision: precisionPctFromFraction(q.min_precision),
    min_support: s(q.min_support),
    max_buy_rate: precisionPctFromFraction(q.max_buy_rate),
  };
}

export function RegistryPage() {
  const [sp, setSp] = useSearchParams();
  const query = queryFromParams(sp);
  const q = useRegistryModels(query);
  const [draft, setDraft] = useState<Draft>(() => draftFrom(query));
  const [selected, setSelected] = useState<RegistryModelRow[]>([]);
  const [message, setMessage] = useState<string | null>(null);
  const [drawer, setDrawer] = useState(false);
  const submit = useSubmitJob();
  const tickers = useRegistryTickers();
  const known = tickers.data?.items ?? [];

  // Keep the inputs in step with the URL (back/forward navigation).
  const urlKey = sp.toString();
  useEffect(() => setDraft(draftFrom(queryFromParams(new URLSearchParams(urlKey)))), [urlKey]);

  /** Applies changes to the URL; returns whether the URL changed (a changed URL refetches by itself). */
  const update = (changes: Record<string, string | number | undefined>, resetOffset = true): boolean => {
    const next = new URLSearchParams(sp);
    for (const [k, v] of Object.entries(changes)) {
      if (v === undefined) next.delete(k);
      else next.set(k, String(v));
    }
    if (resetOffset) next.delete('offset');
    if (next.toString() === sp.toString()) return false;
    setSp(next);
    return true;
  };

  const applyFilters = () => {
    const changed = update({
      ticker: canonicalTickers(draft.ticker, known).join(',') || undefined,
      // A comma list of project names, as typed (the server matches them exactly).
      project: draft.project.split(',').map((p) => p.trim()).filter(Boolean).join(',') || undefined,
      min_lift: draft.min_lift.trim() || undefined,
      min_precision: precisionFractionFromPct(draft.min_precision),
      // Empty: the server's default applies (shown as the placeholder); 0 turns the floor off.
      min_support: draft.min_support.trim() || undefined,
      max_buy_rate: precisionFractionFromPct(draft.max_buy_rate),
    });
    if (!changed) void q.refetch();
  };

  const toggle = (row: RegistryModelRow) => {
    const r = toggleCompare(selected, row);
    setSelected(r.selected);
    setMessage(r.ok ? null : r.message);
  };

  // The server takes the dataset, tickers and test period from the model's run.
  const runBacktest = (r: RegistryModelRow) => submit.mutate({ kind: 'backtest', body: modelBacktestBody(r.model_final_path) });
  const appliedMinSupport = q.data?.min_support;

  const selectedKeys = new Set(selected.map(rowKey));

  return (
    <div className="page">
      <div className="page-head">
        <h1>Registry</h1>
        <span className="spacer" />
        <button type="button" className="btn btn-primary" disabled={selected.length === 0} onClick={() => setDrawer(true)} data-testid="compare-button">
          Compare({selected.length})
        </button>
        {selected.length > 0 && (
          <button type="button" className="btn" onClick={() => { setSelected([]); setMessage(null); }}>
            Clear selection
          </button>
        )}
      </div>
      <form
        className="filters"
        onSubmit={(e) => {
          e.preventDefault();
          applyFilters();
        }}
      >
        <label>
          Ticker
          <input
            value={draft.ticker}
            onChange={(e) => setDraft({ ...draft, ticker: e.target.value })}
            placeholder="any (e.g. SPX, syn0001)"
            aria-label="Ticker"
            list="registry-tickers"
            autoComplete="off"
          />
          <datalist id="registry-tickers" data-testid="registry-tickers">
            {known.map((t) => {
              // Suggest the known tickers after what is typed so far (several at once: "SPX, S" -> "SPX, SYN0001").
              const parts = draft.ticker.split(',');
              const head = parts.slice(0, -1).map((p) => p.trim()).filter(Boolean);
              return <option key={t} value={[...head, t].join(', ')} label={t} />;
            })}
          </datalist>
        </label>
        <label>
          Project
          <input value={draft.project} onChange={(e) => setDraft({ ...draft, project: e.target.value })} placeholder="any" aria-label="Project" autoComplete="off" />
        </label>
        <label>
          Min Lift
          <input type="number" step="0.01" min="0" value={draft.min_lift} onChange={(e) => setDraft({ ...draft, min_lift: e.target.value })} aria-label="Min Lift" />
        </label>
        <label>
          Min Precision (%)
          <input type="number" step="0.1" min="0" max="100" value={draft.min_precision} onChange={(e) => setDraft({ ...draft, min_precision: e.target.value })} aria-label="Min Precision (%)" placeholder="e.g. 55" />
        </label>
        <label>
          Min Support
          <input type="number" step="1" min="0" value={draft.min_support} onChange={(e) => setDraft({ ...draft, min_support: e.target.value })} aria-label="Min Support" placeholder={query.min_support === undefined && appliedMinSupport !== undefined ? `${appliedMinSupport} (default)` : ''} />
        </label>
        <label>
          Max Buy Rate (%)
          <input type="number" step="0.1" min="0" max="100" value={draft.max_buy_rate} onChange={(e) => setDraft({ ...draft, max_buy_rate: e.target.value })} aria-label="Max Buy Rate (%)" placeholder="e.g. 40" />
        </label>
        <label>
          Sort
          <select value={query.sort} onChange={(e) => update({ sort: e.target.value })} aria-label="Sort">
            {SORT_OPTIONS.map((o) => (
              <option key={o.value} value={o.value}>
                {o.label}
              </option>
            ))}
          </select>
        </label>
        <button type="submit" className="btn btn-primary">
          Refetch
        </button>
      </form>
      {message && (
        <div className="notice notice-warn" role="alert" data-testid="compare-message">
          {message}
          <button type="button" className="btn btn-small" onClick={() => setMessage(null)}>
            OK
          </button>
        </div>
      )}
      {q.isLoading ? (
        <Loading what="Loading models" />
      ) : !q.data ? (
        <ErrorState error={q.error} onRetry={() => void q.refetch()} />
      ) : q.data.items.length === 0 ? (
        <Empty>No models match these filters (Min Support {q.data.min_support}{query.min_support === undefined ? ', the server default' : ''}).</Empty>
      ) : (
        <>
          {q.isError && <ErrorState error={q.error} onRetry={() => void q.refetch()} />}
          <div className={`table-wrap${q.isFetching ? ' fetching' : ''}`}>
            <table className="table" data-testid="registry-table">
              <thead>
                <tr>
                  <th aria-label="Select for compare" />
                  <th>Ticker</th>
                  <th>Run ID</th>
                  <th>Label (H/TH)</th>
                  <th className="num">Precision</th>
                  <th className="num">Lift</th>
                  <th className="num">Buy Rate</th>
                  <th className="num">Pos Rate</th>
                  <th className="num">Support</th>
                  <th className="num">TP/FP</th>
                  <th>Actions</th>
                </tr>
              </thead>
              <tbody>
                {q.data.items.map((r) => {
                  const k = rowKey(r);
                  return (
                    <tr key={k} className={selectedKeys.has(k) ? 'selected' : ''}>
                      <td>
                        <input type="checkbox" checked={selectedKeys.has(k)} onChange={() => toggle(r)} aria-label={`Compare ${r.ticker} ${r.run_id}`} />
                      </td>
                      <td>
                        <strong>{r.ticker}</strong>
                        {r.mode && r.mode !== 'base' && <span className="muted small"> {r.mode}</span>}
                      </td>
                      <td className="mono">
                        <Link to={`/runs/${encodeURIComponent(r.run_id)}`}>{r.run_id}</Link>
                      </td>
                      <td className="nowrap">{fmtLabel(r.label_horizon_days, r.label_threshold)}</td>
                      <td className="num">{fmtModelPrecision(r)}</td>
                      <td className="num">{fmtModelLift(r)}</td>
                      <td className="num">{fmtPct(r.buy_rate)}</td>
                      <td className="num">{fmtPct(r.positive_rate)}</td>
                      <td className="num">{fmtInt(r.support)}</td>
                      <td className="num nowrap" title={fmtConfusionTitle(r.tp, r.fp, r.tn, r.fn)}>
                        {fmtTpFp(r.tp, r.fp)}
                      </td>
                      <td className="nowrap">
                        <Link className="btn btn-small" to={`/runs/${encodeURIComponent(r.run_id)}`}>
                          Details
                        </Link>{' '}
                        <button type="button" className="btn btn-small" disabled={submit.isPending || !r.model_final_path} onClick={() => runBacktest(r)} title="Backtest this model on its own dataset and tickers, over its test period">
                          Run Backtest
                        </button>{' '}
                        <Link className="btn btn-small" to={modelBacktestUrl(r)}>
                          Open in Actions
                        </Link>
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
          <Pager total={q.data.total} limit={query.limit} offset={query.offset} onChange={(o) => update({ offset: o || undefined }, false)} onLimit={(l) => update({ limit: l })} />
        </>
      )}
      {drawer && selected.length > 0 && (
        <CompareDrawer
          rows={selected}
          onClose={() => setDrawer(false)}
          onRemove={(r) => {
            const next = selected.filter((s) => rowKey(s) !== rowKey(r));
            setSelected(next);
            if (next.length === 0) setDrawer(false);
          }}
        />
      )}
    </div>
  );
}
