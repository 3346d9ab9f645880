import { useState } from 'react';
import { Link, useParams } from 'react-router-dom';
import { isTerminal } from '../api/client';
import { useCancelJob, useJob } from '../hooks/useJobs';
import { useSubmitJob } from '../hooks/useSubmitJob';
import { actionsRerunUrl } from '../lib/links';
import { LogViewer } from '../components/LogViewer';
import { LogSearch } from '../components/LogSearch';
import { StatusBadge } from '../components/StatusBadge';
import { ErrorState, Loading } from '../components/States';
import { CopyButton } from '../components/CopyButton';
import { fmtDuration, fmtTime } from '../lib/format';
import type { EndReason, JobDetail } from '../types/api';

/** What each typed end reason means, shown next to it in the Error Summary. */
export const END_REASON_TEXT: Record<EndReason, string> = {
  exit_code: 'the process exited with a non-zero code',
  signal: 'the process was killed by a signal',
  timeout: 'the job ran past its timeout',
  canceled: 'the job was canceled',
  spawn_failed: 'the process could not be started',
  lost: 'outcome unknown: the process vanished and nothing recorded how it ended (not an ordinary failure)',
  out_of_memory: 'the job ran out of memory',
  node_fail: 'the node running the job failed',
  preempted: 'the job was preempted by the scheduler',
};

const ERROR_LINES = 20;

/** The first lines of the error message (the server keeps the meaningful ones first). */
export function firstErrorLines(message: string | null): string {
  if (!message) return '';
  const lines = message.split('\n');
  return lines.length <= ERROR_LINES ? message : `${lines.slice(0, ERROR_LINES).join('\n')}\n… (${lines.length - ERROR_LINES} more lines)`;
}

function ErrorSummary({ job }: { job: JobDetail }) {
  const [open, setOpen] = useState(true);
  return (
    <section className="error-summary" role="alert" data-testid="error-summary">
      <div className="error-summary-head">
        <strong>Error Summary</strong>
        <StatusBadge status={job.status} />
        {job.end_reason === 'lost' && (
          <strong className="outcome-unknown" data-testid="outcome-unknown" title={END_REASON_TEXT.lost}>
            outcome unknown
          </strong>
        )}
        {job.end_reason && (
          <span>
            end_reason: <code data-testid="end-reason">{job.end_reason}</code>{' '}
            <span className="muted small">{END_REASON_TEXT[job.end_reason]}</span>
          </span>
        )}
        <span>
          exit_code: <code data-testid="exit-code">{job.exit_code ?? '—'}</code>
        </span>
        <span className="spacer" />
        <button type="button" className="btn btn-small" onClick={() => setOpen((o) => !o)} aria-expanded={open}>
          {open ? 'Hide message' : 'Show message'}
        </button>
      </div>
      {open && (
        <pre className="error-message" data-testid="error-message">
          {firstErrorLines(job.error_message) || 'The job failed without an error message; see the log below.'}
        </pre>
      )}
    </section>
  );
}

function Row({ k, children }: { k: string; children: React.ReactNode }) {
  return (
    <>
      <dt>{k}</dt>
      <dd>{children}</dd>
    </>
  );
}

export function JobDetailPage() {
  const { jobId = '' } = useParams();
  const q = useJob(jobId);
  const cancel = useCancelJob();
  const rerun = useSubmitJob();
  const [confirmCancel, setConfirmCancel] = useState(false);
  if (q.isLoading) return <Loading what="Loading job" />;
  if (!q.data) return <ErrorState error={q.error} onRetry={() => void q.refetch()} />;
  const job = q.data;
  const a = job.artifacts;
  const finished = isTerminal(job.status);
  const otherArtifacts = Object.entries(a).filter(([k, v]) => !['run_id', 'run_dir', 'bt_run_id', 'bt_dir'].includes(k) && v != null && v !== '');
  return (
    <div className="page">
      <div className="page-head">
        <h1 className="mono break">{job.job_id}</h1>
        <StatusBadge status={job.status} />
        <span className="spacer" />
        {a['run_id'] && (
          <Link className="btn btn-primary" to={`/runs/${encodeURIComponent(String(a['run_id']))}`}>
            View Run
          </Link>
        )}
        {a['bt_run_id'] && (
          <Link className="btn btn-primary" to={`/backtests/${encodeURIComponent(String(a['bt_run_id']))}`}>
            View Backtest
          </Link>
        )}
        {!finished && !confirmCancel && (
          <button type="button" className="btn btn-danger" disabled={cancel.isPending} onClick={() => setConfirmCancel(true)}>
            {cancel.isPending ? 'Cancelling…' : 'Cancel'}
          </button>
        )}
        {finished && (
          <>
            <button
              type="button"
              className="btn"
              disabled={rerun.isPending}
              onClick={() => {
                const params = Object.fromEntries(Object.entries(job.params).filter(([k]) => k !== 'dry_run'));
                rerun.mutate({ kind: 'job', body: { job_type: job.job_type, params, dry_run: job.dry_run, source_job_id: job.job_id } });
              }}
              title="Submit the same job type with the same params again"
            >
              Re-run
            </button>
            <Link className="btn" to={actionsRerunUrl(job)} title="Open Actions prefilled with this job's params">
              Edit and re-run
            </Link>
          </>
        )}
      </div>
      {!finished && confirmCancel && (
        <div className="notice notice-warn" role="alertdialog" aria-label="Confirm cancel" data-testid="confirm-cancel">
          Cancel {job.job_id}? A running process is stopped; this cannot be undone.
          <span className="spacer" />
          <button
            type="button"
            className="btn btn-danger btn-small"
            autoFocus
            onClick={() => {
              setConfirmCancel(false);
              cancel.mutate(job.job_id);
            }}
          >
            Yes, cancel the job
          </button>
          <button type="button" className="btn btn-small" onClick={() => setConfirmCancel(false)}>
            Keep it running
          </button>
        </div>
      )}
      {job.parent_id?.startsWith('opt_') && (
        <div className="notice notice-info" data-testid="parent-notice">
          A task of optimization{' '}
          <Link to={`/optimizations/${encodeURIComponent(job.parent_id)}`} className="mono">
            {job.parent_id}
          </Link>
          .
        </div>
      )}
      {job.status === 'FAILED' && <ErrorSummary job={job} />}
      {job.artifacts_parse_error && (
        <div className="notice notice-warn" data-testid="artifacts-parse-error">
          <strong>artifacts_parse_error:</strong> {job.artifacts_parse_error}
        </div>
      )}
      {/* job-meta: below the log on narrow screens (styles.css), so the log is above the fold at 420 px */}
      <section className="panel job-meta" data-testid="job-meta">
        <dl className="kv">
          <Row k="type">{job.job_type}</Row>
          <Row k="status">
            <StatusBadge status={job.status} />
          </Row>
          <Row k="created">{fmtTime(job.created_at)}</Row>
          <Row k="started">{fmtTime(job.started_at)}</Row>
          <Row k="ended">{fmtTime(job.ended_at)}</Row>
          <Row k="duration">{fmtDuration(job.duration_sec)}</Row>
          <Row k="exit_code">{job.exit_code ?? '—'}</Row>
          <Row k="cwd">
            <code>{job.cwd || '—'}</code>
            {job.cwd === '.' && <span className="muted"> (the workspace)</span>}
          </Row>
          <Row k="command">
            <div className="command">
              <ol className="argv mono" data-testid="command">
                {job.command.map((c, i) => (
                  <li key={i}>{c}</li>
                ))}
              </ol>
              <CopyButton text={JSON.stringify(job.command)} label="Copy argv" />
            </div>
          </Row>
          <Row k="artifacts">
            {a['run_id'] || a['bt_run_id'] || otherArtifacts.length ? (
              <ul className="plain mono">
                {a['run_id'] && <li>run_id: <Link to={`/runs/${encodeURIComponent(String(a['run_id']))}`}>{String(a['run_id'])}</Link></li>}
                {a['run_dir'] && <li>run_dir: {String(a['run_dir'])}</li>}
                {a['bt_run_id'] && <li>bt_run_id: <Link to={`/backtests/${encodeURIComponent(String(a['bt_run_id']))}`}>{String(a['bt_run_id'])}</Link></li>}
                {a['bt_dir'] && <li>bt_dir: {String(a['bt_dir'])}</li>}
                {otherArtifacts.map(([k, v]) => (
                  <li key={k}>
                    {k}: {typeof v === 'string' ? v : JSON.stringify(v)}
                  </li>
                ))}
              </ul>
            ) : (
              <span className="muted">{finished ? 'none' : 'parsed when the job prints them'}</span>
            )}
          </Row>
          {job.parent_id && (
            <Row k="parent">
              {job.parent_id.startsWith('opt_') ? (
                <Link to={`/optimizations/${encodeURIComponent(job.parent_id)}`} className="mono" data-testid="parent-optimization">
                  optimization {job.parent_id}
                </Link>
              ) : (
                job.parent_id
              )}
            </Row>
          )}
          {job.source_job_id && (
            <Row k="source job">
              <Link to={`/jobs/${encodeURIComponent(job.source_job_id)}`}>{job.source_job_id}</Link>
            </Row>
          )}
          <Row k="params">
            <code className="break">{JSON.stringify(job.params)}</code>
          </Row>
          <Row k="runtime">
            <span className="mono small">
              {job.runtime.meta_path}
              <br />
              {job.runtime.log_path}
            </span>
          </Row>
        </dl>
      </section>
      <LogViewer jobId={job.job_id} finished={finished} />
      <LogSearch jobId={job.job_id} />
    </div>
  );
}
