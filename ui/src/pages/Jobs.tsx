import { useSearchParams } from 'react-router-dom';
import { useJobTypes, useRecentJobs } from '../hooks/useJobs';
import { JobsTable } from '../components/JobsTable';
import { QueryView } from '../components/States';
import { BUILTIN_JOB_TYPES, JOB_STATUSES } from '../types/api';

export function JobsPage() {
  const [sp, setSp] = useSearchParams();
  const status = sp.get('status') ?? '';
  const jobType = sp.get('job_type') ?? '';
  const limit = Number(sp.get('limit') ?? 100) || 100;
  const q = useRecentJobs({ status: status || undefined, job_type: jobType || undefined, limit });
  const types = useJobTypes();
  const typeNames = types.data?.map((t) => t.name).filter(Boolean) ?? [...BUILTIN_JOB_TYPES];
  const set = (k: string, v: string) => {
    const next = new URLSearchParams(sp);
    if (v) next.set(k, v);
    else next.delete(k);
    setSp(next, { replace: true });
  };
  return (
    <div className="page">
      <div className="page-head">
        <h1>Jobs</h1>
        <span className="muted small">{q.isFetching ? 'refreshing…' : 'auto-refresh every 4 s'}</span>
      </div>
      <form className="filters" onSubmit={(e) => e.preventDefault()}>
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
          Limit
          <select value={limit} onChange={(e) => set('limit', e.target.value)}>
            {[20, 50, 100, 200, 500].map((n) => (
              <option key={n} value={n}>
                {n}
              </option>
            ))}
          </select>
        </label>
        <button type="button" className="btn" onClick={() => void q.refetch()}>
          Refresh
        </button>
      </form>
      <QueryView query={q} isEmpty={(d) => d.items.length === 0} empty={status || jobType ? 'No jobs match these filters.' : 'No jobs yet — submit one from Actions.'}>
        {(d) => <JobsTable jobs={d.items} />}
      </QueryView>
    </div>
  );
}
