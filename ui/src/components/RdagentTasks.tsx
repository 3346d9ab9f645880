// The RD-Agent page's Tasks tab: every task (a job of the type rdagent-fin-quant, newest first)
// with its datasets, loops / time budget, evolving mode and status; Monitor, Cancel (asked twice)
// and the job page per row; the New task dialog.
import { useState } from 'react';
import { Link } from 'react-router-dom';
import { isTerminal } from '../api/client';
import { useCancelRdagentTask, useRdagentTasks } from '../hooks/useRdagent';
import { fmtTime } from '../lib/format';
import { datasetsOf } from '../lib/rdagent';
import type { JobDetail } from '../types/api';
import { Pager } from './Pager';
import { RdagentTaskDialog } from './RdagentTaskDialog';
import { QueryView } from './States';
import { StatusBadge } from './StatusBadge';

const PAGE = 25;

function CancelButton({ job }: { job: JobDetail }) {
  const cancel = useCancelRdagentTask();
  const [asking, setAsking] = useState(false);
  if (isTerminal(job.status)) return null;
  if (!asking)
    return (
      <button type="button" className="btn btn-small btn-danger" onClick={() => setAsking(true)} aria-label={`Cancel ${job.job_id}`}>
        Cancel
      </button>
    );
  return (
    <span className="inline-form" role="group" aria-label={`Cancel ${job.job_id}?`}>
      <button type="button" className="btn btn-small btn-danger" disabled={cancel.isPending} onClick={() => cancel.mutate(job.job_id, { onSettled: () => setAsking(false) })}>
        Yes, cancel
      </button>
      <button type="button" className="btn btn-small" onClick={() => setAsking(false)}>
        Keep
      </button>
    </span>
  );
}

export function RdagentTasks({ onMonitor }: { onMonitor: (id: string) => void }) {
  const [offset, setOffset] = useState(0);
  const [open, setOpen] = useState(false);
  const tasks = useRdagentTasks(PAGE, offset);
  return (
    <div className="rdagent-tasks">
      <div className="panel-head">
        <h2>Tasks</h2>
        <button type="button" className="btn btn-primary" onClick={() => setOpen(true)}>
          New task
        </button>
      </div>
      <QueryView query={tasks} isEmpty={(d) => d.total === 0} empty="No RD-Agent tasks yet. Start one with New task.">
        {(d) => (
          <>
            <div className="table-wrap">
              <table className="table" data-testid="rdagent-tasks-table">
                <caption className="sr-only">RD-Agent tasks, newest first</caption>
                <thead>
                  <tr>
                    <th scope="col">Task</th>
                    <th scope="col">Datasets</th>
                    <th scope="col">Loops / duration</th>
                    <th scope="col">Evolving mode</th>
                    <th scope="col">Status</th>
                    <th scope="col">Actions</th>
                  </tr>
                </thead>
                <tbody>
                  {d.items.map((j) => (
                    <tr key={j.job_id} data-testid="rdagent-task-row" data-id={j.job_id}>
                      <td>
                        <button type="button" className="link-button" onClick={() => onMonitor(j.job_id)}>
                          {j.job_id}
                        </button>
                        <div className="muted small">{fmtTime(j.created_at)}</div>
                      </td>
                      <td>{datasetsOf(j.params)}</td>
                      <td className="nowrap">
                        {String(j.params['loop_n'] ?? '—')} / {typeof j.params['all_duration'] === 'string' ? j.params['all_duration'] : 'no limit'}
                      </td>
                      <td>{String(j.params['evolving_mode'] ?? '—')}</td>
                      <td>
                        <StatusBadge status={j.status} />
                      </td>
                      <td className="nowrap">
                        <span className="inline-form">
                          <button type="button" className="btn btn-small" onClick={() => onMonitor(j.job_id)} aria-label={`Monitor ${j.job_id}`}>
                            Monitor
                          </button>
                          <CancelButton job={j} />
                          <Link to={`/jobs/${encodeURIComponent(j.job_id)}`} aria-label={`Open job ${j.job_id}`}>
                            job
                          </Link>
                        </span>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            {d.total > PAGE && <Pager total={d.total} limit={PAGE} offset={offset} onChange={setOffset} />}
          </>
        )}
      </QueryView>
      {open && (
        <RdagentTaskDialog
          onClose={() => setOpen(false)}
          onCreated={(j) => {
            setOpen(false);
            onMonitor(j.job_id);
          }}
        />
      )}
    </div>
  );
}
