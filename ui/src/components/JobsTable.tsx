import { Link } from 'react-router-dom';
import type { JobDetail } from '../types/api';
import { fmtDuration, fmtTime } from '../lib/format';
import { StatusBadge } from './StatusBadge';

export function ArtifactLinks({ job }: { job: JobDetail }) {
  const a = job.artifacts;
  return (
    <span className="links">
      {a['run_id'] && <Link to={`/runs/${encodeURIComponent(String(a['run_id']))}`}>run</Link>}
      {a['bt_run_id'] && <Link to={`/backtests/${encodeURIComponent(String(a['bt_run_id']))}`}>backtest</Link>}
    </span>
  );
}

export function JobsTable({ jobs, compact = false }: { jobs: JobDetail[]; compact?: boolean }) {
  return (
    <div className="table-wrap">
      <table className="table" data-testid="jobs-table">
        <thead>
          <tr>
            <th>job_id</th>
            <th className="col-low">type</th>
            <th>status</th>
            <th className="col-low">start</th>
            {!compact && <th className="col-low">end</th>}
            <th className="num col-low">duration</th>
            {!compact && <th className="col-low">args</th>}
            <th>links</th>
          </tr>
        </thead>
        <tbody>
          {jobs.map((j) => (
            <tr key={j.job_id}>
              <td className="mono nowrap">
                <Link to={`/jobs/${encodeURIComponent(j.job_id)}`}>{j.job_id}</Link>
              </td>
              <td className="nowrap col-low">
                {j.job_type}
                {j.dry_run && (
                  <span className="tag tag-dry" title="a dry run: validated and logged the command, ran nothing">
                    dry run
                  </span>
                )}
              </td>
              <td>
                <StatusBadge status={j.status} />
              </td>
              {/* times may wrap (date / time) so the links column keeps its room at 1280 px */}
              <td className="col-low time-cell">{fmtTime(j.started_at ?? j.created_at)}</td>
              {!compact && <td className="col-low time-cell">{fmtTime(j.ended_at)}</td>}
              <td className="num col-low">{fmtDuration(j.duration_sec)}</td>
              {!compact && (
                <td className="mono args col-low" title={j.command.join(' ')}>
                  <details className="args-details">
                    <summary>{j.args_preview}</summary>
                    <ol className="argv" aria-label={`argv of ${j.job_id}`}>
                      {j.command.map((a, i) => (
                        <li key={i}>{a}</li>
                      ))}
                    </ol>
                  </details>
                </td>
              )}
              <td className="nowrap">
                <Link to={`/jobs/${encodeURIComponent(j.job_id)}`}>log</Link>
                <ArtifactLinks job={j} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
