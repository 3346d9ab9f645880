import { useEffect, useRef, useState } from 'react';
import { useSearchParams } from 'react-router-dom';
import { useJobTypes, useRecentJobs } from '../hooks/useJobs';
import { JobsTable } from '../components/JobsTable';
import { Pager } from '../components/Pager';
import { QueryView } from '../components/States';
import { BUILTIN_JOB_TYPES, JOB_STATUSES, type JobStatus } from '../types/api';

/** Filters, text search, date range and paging all run on the server (GET /api/jobs/recent), kept in the URL. */
export function JobsPage() {
  const [sp, setSp] = useSearchParams();
  const status = sp.get('status') ?? '';
  const jobType = sp.get('job_type') ?? '';
  const text = sp.get('q') ?? '';
  const from = sp.get('from') ?? '';
  const to = sp.get('to') ?? '';
  const limit = Number(sp.get('limit') ?? 100) || 100;
  const offset = Math.max(0, Number(sp.get('offset') ?? 0) || 0);
  const q = useRecentJobs({ status: status || undefined, job_type: jobType || undefined, q: text || undefined, from: from || undefined, to: to || undefined, limit, offset });
  const types = useJobTypes();
  const typeNames = types.data?.map((t) => t.name).filter(Boolean) ?? [...BUILTIN_JOB_TYPES];
  const update = (changes: Record<string, string>) => {
    const next = new URLSearchParams(sp);
    for (const [k, v] of Object.entries(changes)) {
      if (v) next.set(k, v);
      else next.delete(k);
    }
    if (!('offset' in changes)) next.delete('offset'); // a new filter starts on page 1
    setSp(next, { replace: true });
  };
  const set = (k: string, v: string) => update({ [k]: v });
  // The search box sends after a pause in typing, not on every key.
  const [draft, setDraft] = useState(text);
  const latest = useRef({ text, set });
  latest.current = { text, set };
  useEffect(() => setDraft(text), [text]);
  useEffect(() => {
    if (draft.trim() === latest.current.text) return;
    const t = setTimeout(() => latest.current.set('q', draft.trim()), 300);
    return () => clearTimeout(t);
  }, [draft]);
  const counts = q.data?.status_counts;
  const filtered = !!(status || jobType || text || from || to);
  return (
    <div className="page">
      <div className="page-head">
        <h1>Jobs</h1>
        <span className="muted small">{q.isFetching ? 'refreshing…' : 'auto-refresh every 4 s'}</span>
      </div>
      <form className="filters" onSubmit={(e) => e.preventDefault()}>
        <label>
          Search
          <input type="search" value={draft} onChange={(e) => setDraft(e.target.value)} placeholder="job id, type, args, params" aria-label="Search jobs" />
        </label>
        <label>
          Status
          <select value={status} onChange={(e) => set('status', e.target.value)} aria-label="Status filter">
            <option value="">all</option>
            {JOB_STATUSES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
        <label>
          Type
          <select value={jobType} onChange={(e) => set('job_type', e.target.value)} aria-label="Type filter">
            <option value="">all</option>
            {typeNames.map((t) => (
              <option key={t} value={t}>
                {t}
              </option>
            ))}
          </select>
        </label>
        <label>
          From
          <input type="date" value={from} onChange={(e) => set('from', e.target.value)} aria-label="Created from" />
        </label>
        <label>
          To
          <input type="date" value={to} onChange={(e) => set('to', e.target.value)} aria-label="Created to" />
        </label>
        <button type="button" className="btn" onClick={() => void q.refetch()}>
          Refresh
        </button>
        {filtered && (
          <button type="button" className="btn" onClick={() => setSp(new URLSearchParams(), { replace: true })}>
            Clear filters
          </button>
        )}
      </form>
      {counts && (
        <div className="status-counts" data-testid="status-counts" aria-label="Jobs per status">
          <button type="button" className={`chip${status === '' ? ' active' : ''}`} aria-pressed={status === ''} onClick={() => set('status', '')}>
            all <strong>{Object.values(counts).reduce((a, b) => a + b, 0).toLocaleString('en-US')}</strong>
          </button>
          {JOB_STATUSES.map((s: JobStatus) => (
            <button key={s} type="button" className={`chip chip-${s.toLowerCase()}${status === s ? ' active' : ''}`} aria-pressed={status === s} onClick={() => set('status', s)}>
              {s} <strong>{counts[s].toLocaleString('en-US')}</strong>
            </button>
          ))}
        </div>
      )}
      <QueryView query={q} isEmpty={(d) => d.items.length === 0} empty={filtered ? 'No jobs match these filters.' : 'No jobs yet — submit one from Actions.'}>
        {(d) => (
          <>
            <JobsTable jobs={d.items} />
            <Pager total={d.total} limit={limit} offset={offset} onChange={(o) => update({ offset: o ? String(o) : '' })} onLimit={(l) => update({ limit: String(l), offset: '' })} />
          </>
        )}
      </QueryView>
    </div>
  );
}
