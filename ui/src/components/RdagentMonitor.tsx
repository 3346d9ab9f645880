// The RD-Agent page's Monitor tab for one task (`?task=<id>`): loop progress and per-loop metrics
// parsed from the run (GET /api/rdagent/tasks/{id}, polled each second while it runs), the final
// qlib_res metrics, the config versions it used, the live log with pause and search (the job's
// log: the same bytes as /api/rdagent/tasks/{id}/logs) and its files for download
// (GET /api/rdagent/tasks/{id}/artifacts, paged; /api/jobs/{id}/artifacts/{path}).
import { Fragment, useEffect, useState } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import { Link } from 'react-router-dom';
import { isTerminal } from '../api/client';
import { artifactUrl, useCancelRdagentTask, useRdagentArtifacts, useRdagentTask, useRdagentTasks } from '../hooks/useRdagent';
import { fmtBytes, fmtDuration, fmtNum, fmtTime } from '../lib/format';
import { configHashes, datasetsOf, loopView, orderedMetrics, type RdagentTask } from '../lib/rdagent';
import { LogViewer } from './LogViewer';
import { Pager } from './Pager';
import { Empty, ErrorState, Loading } from './States';
import { StatusBadge } from './StatusBadge';

const FILES_PAGE = 50;

/** A task to monitor when none is in the URL: the recent ones. */
function TaskPicker({ current, onPick }: { current: string; onPick: (id: string) => void }) {
  const tasks = useRdagentTasks(50, 0);
  const items = tasks.data?.items ?? [];
  return (
    <label className="inline-field">
      Task
      <select value={current} onChange={(e) => onPick(e.target.value)} data-testid="rdagent-monitor-pick">
        <option value="">{tasks.isLoading ? 'Loading…' : items.length ? 'Choose a task…' : 'No tasks yet'}</option>
        {current && !items.some((j) => j.job_id === current) && <option value={current}>{current}</option>}
        {items.map((j) => (
          <option key={j.job_id} value={j.job_id}>
            {j.job_id} · {j.status}
          </option>
        ))}
      </select>
    </label>
  );
}

function MetricsTable({ metrics, caption, testId }: { metrics: Record<string, number>; caption: string; testId: string }) {
  return (
    <div className="table-wrap">
      <table className="table" data-testid={testId}>
        <caption className="sr-only">{caption}</caption>
        <thead>
          <tr>
            <th scope="col">Metric</th>
            <th scope="col" className="num">
              Value
            </th>
          </tr>
        </thead>
        <tbody>
          {orderedMetrics(metrics).map((k) => (
            <tr key={k} data-metric={k}>
              <td className="break">{k}</td>
              <td className="num nowrap">{fmtNum(metrics[k], 4)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function LoopResults({ t }: { t: RdagentTask }) {
  if (t.loop_results.length === 0) return <p className="muted">No loop has written results yet.</p>;
  const keys = ['IC', 'Rank IC', '1day.excess_return_with_cost.annualized_return', '1day.excess_return_with_cost.max_drawdown'];
  return (
    <div className="table-wrap">
      <table className="table" data-testid="rdagent-loop-results">
        <caption className="sr-only">Per-loop results</caption>
        <thead>
          <tr>
            <th scope="col">#</th>
            <th scope="col">Result file</th>
            {keys.map((k) => (
              <th key={k} scope="col" className="num">
                {k.replace('1day.excess_return_with_cost.', 'excess ')}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {t.loop_results.map((r, i) => (
            <tr key={r.path} data-testid="rdagent-loop-row">
              <td>{i + 1}</td>
              <td className="break rdagent-path">{r.path}</td>
              {keys.map((k) => (
                <td key={k} className="num">
                  {k in r.metrics ? fmtNum(r.metrics[k], 4) : '—'}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function Files({ t }: { t: RdagentTask }) {
  const [offset, setOffset] = useState(0);
  const id = t.task_id;
  const files = useRdagentArtifacts(id, FILES_PAGE, offset, `${t.job.status}:${t.loop_results.length}`);
  if (files.isLoading) return <Loading what="Loading files" />;
  if (!files.data) return <ErrorState error={files.error} onRetry={() => void files.refetch()} />;
  const d = files.data;
  if (d.total === 0) return <Empty>No files yet.</Empty>;
  return (
    <>
      <div className="table-wrap">
        <table className="table" data-testid="rdagent-files">
          <caption className="sr-only">Files of the task</caption>
          <thead>
            <tr>
              <th scope="col">File</th>
              <th scope="col" className="num">
                Size
              </th>
              <th scope="col" className="rdagent-wide-only">
                Modified
              </th>
              <th scope="col">Download</th>
            </tr>
          </thead>
          <tbody>
            {d.items.map((a) => (
              <tr key={a.path} data-testid="rdagent-file-row" data-path={a.path}>
                <td className="break rdagent-path">{a.path}</td>
                <td className="num nowrap">{fmtBytes(a.size)}</td>
                <td className="nowrap rdagent-wide-only">{fmtTime(a.mtime)}</td>
                <td>
                  <a href={artifactUrl(id, a.path)} download={a.path.split('/').pop()} aria-label={`Download ${a.path}`}>
                    Download
                  </a>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {d.total > FILES_PAGE && <Pager total={d.total} limit={FILES_PAGE} offset={offset} onChange={setOffset} />}
    </>
  );
}

function TaskView({ t }: { t: RdagentTask }) {
  const cancel = useCancelRdagentTask();
  const qc = useQueryClient();
  const job = t.job;
  // The task list (the picker above, the Tasks tab) shows this task's status too: refresh it when it changes.
  useEffect(() => {
    void qc.invalidateQueries({ queryKey: ['rdagent', 'tasks'] });
  }, [qc, job.status]);
  const loop = loopView(t);
  const finished = isTerminal(job.status);
  const hashes = configHashes(job.artifacts);
  return (
    <div className="rdagent-monitor" data-testid="rdagent-monitor" data-status={job.status}>
      <div className="panel-head">
        <h2>
          Task <span className="break">{t.task_id}</span> <StatusBadge status={job.status} />
        </h2>
        <span className="inline-form">
          {!finished && (
            <button type="button" className="btn btn-danger" disabled={cancel.isPending} onClick={() => cancel.mutate(t.task_id)}>
              Cancel task
            </button>
          )}
          <Link to={`/jobs/${encodeURIComponent(t.task_id)}`}>Open job</Link>
        </span>
      </div>
      <dl className="kv">
        <dt>Datasets</dt>
        <dd>{datasetsOf(job.params)}</dd>
        <dt>Evolving mode</dt>
        <dd>{String(job.params['evolving_mode'] ?? '—')}</dd>
        <dt>Time budget</dt>
        <dd>{typeof job.params['all_duration'] === 'string' ? job.params['all_duration'] : 'no limit'}</dd>
        <dt>Config source</dt>
        <dd data-testid="rdagent-source">{typeof job.params['source_history_id'] === 'string' ? `saved version #${job.params['source_history_id']}` : 'current templates'}</dd>
        <dt>Started / ran</dt>
        <dd>
          {fmtTime(job.started_at)} · {fmtDuration(job.duration_sec)}
        </dd>
        {job.error_message && (
          <>
            <dt>Error</dt>
            <dd className="error-message">{job.error_message}</dd>
          </>
        )}
      </dl>

      <h3>Loop progress</h3>
      <div className="rdagent-progress">
        <progress max={loop.total} value={loop.done} aria-label="Loops done" aria-valuetext={`${loop.done} of ${loop.total} loops done`} data-testid="rdagent-loop-progress" />
        <span data-testid="rdagent-loop-text">{loop.text}</span>
      </div>
      <LoopResults t={t} />

      <h3>Results (qlib_res.csv)</h3>
      {t.metrics && Object.keys(t.metrics).length > 0 ? (
        <MetricsTable metrics={t.metrics} caption="Final metrics of the task" testId="rdagent-metrics" />
      ) : (
        <p className="muted" data-testid="rdagent-metrics-none">
          {t.metrics_error ? `No metrics: ${t.metrics_error}` : finished ? 'The task left no results.' : 'Shown once the task has succeeded.'}
        </p>
      )}

      {hashes.length > 0 && (
        <details className="args-details">
          <summary>Config versions used ({hashes.length})</summary>
          <dl className="kv" data-testid="rdagent-config-hashes">
            {hashes.map((h) => (
              <Fragment key={h.path}>
                <dt className="break">{h.path}</dt>
                <dd className="break" data-path={h.path}>
                  {h.sha256}
                </dd>
              </Fragment>
            ))}
          </dl>
        </details>
      )}

      <h3>Log</h3>
      <LogViewer jobId={t.task_id} finished={finished} />

      <h3>Files</h3>
      <Files t={t} />
    </div>
  );
}

export function RdagentMonitor({ taskId, onPick }: { taskId: string; onPick: (id: string) => void }) {
  const task = useRdagentTask(taskId || undefined);
  return (
    <div>
      <div className="panel-head">
        <TaskPicker current={taskId} onPick={onPick} />
      </div>
      {!taskId && <Empty>Choose a task to monitor, or start one on the Tasks tab.</Empty>}
      {taskId && task.isLoading && <Loading what="Loading the task" />}
      {taskId && !task.data && task.isError && <ErrorState error={task.error} onRetry={() => void task.refetch()} />}
      {task.data && <TaskView key={task.data.task_id} t={task.data} />}
    </div>
  );
}
