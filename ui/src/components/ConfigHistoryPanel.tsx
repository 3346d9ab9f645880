// A managed file's saved versions (GET /api/configs/history), a side-by-side diff between any two
// of them or one and the current file, and a rollback behind a confirmation naming the version.
import { useState } from 'react';
import { errorText } from '../lib/errors';
import { fmtTime } from '../lib/format';
import { pushToast } from '../lib/toastStore';
import { useConfigDiff, useConfigHistory, useRollbackConfig, type ConfigHistoryEntry, type DiffSide } from '../hooks/useConfigs';
import { ConfirmDialog } from './Dialog';
import { Pager } from './Pager';
import { SideBySideDiff } from './SideBySideDiff';
import { ErrorState, Loading } from './States';

const PAGE = 20;
const short = (sha: string | null | undefined) => (sha ? sha.slice(0, 12) : '—');
const sideLabel = (s: DiffSide, rows: ConfigHistoryEntry[]) => {
  if (s === 'current') return 'current';
  const h = rows.find((r) => r.id === s);
  return h ? `#${s} (${fmtTime(h.created_at)})` : `#${s}`;
};

export function ConfigHistoryPanel(props: { path: string; readonly: boolean }) {
  const { path } = props;
  const [offset, setOffset] = useState(0);
  const history = useConfigHistory(path, PAGE, offset);
  const rows = history.data?.items ?? [];
  const [from, setFrom] = useState<DiffSide | null>(null);
  const [to, setTo] = useState<DiffSide>('current');
  const [shown, setShown] = useState<{ from: DiffSide; to: DiffSide } | null>(null);
  const diff = useConfigDiff(shown ? path : null, shown?.from ?? null, shown?.to ?? null);
  const [confirm, setConfirm] = useState<ConfigHistoryEntry | null>(null);
  const [note, setNote] = useState('');
  const rollback = useRollbackConfig();

  const fromValue = from ?? rows[0]?.id ?? null;
  const showDiff = (f: DiffSide, t: DiffSide) => {
    setFrom(f);
    setTo(t);
    setShown({ from: f, to: t });
  };
  const parseSide = (v: string): DiffSide => (v === 'current' ? 'current' : Number(v));

  const doRollback = (h: ConfigHistoryEntry) => {
    rollback.mutate(
      { path, history_id: h.id, ...(note.trim() ? { note: note.trim() } : {}) },
      {
        onSuccess: (w) => {
          setConfirm(null);
          setNote('');
          setShown(null);
          pushToast({ kind: 'success', title: `Rolled back to #${h.id}`, body: `${path} now ${short(w.sha256)}; the replaced version is saved as #${w.history_id ?? '—'}` });
        },
        onError: (e) => pushToast({ kind: 'error', title: 'Rollback refused', body: errorText(e) }),
      },
    );
  };

  return (
    <section className="panel config-history" aria-label="History" data-testid="config-history">
      <div className="panel-head">
        <h2>History</h2>
        {history.data && <span className="muted small">{history.data.total} saved version(s)</span>}
      </div>
      {history.isLoading ? (
        <Loading what="Loading history" />
      ) : history.error && !history.data ? (
        <ErrorState error={history.error} onRetry={() => void history.refetch()} />
      ) : rows.length === 0 ? (
        <p className="muted">No saved versions yet: the first save backs up the version it replaces.</p>
      ) : (
        <>
          <div className="table-wrap">
            <table className="table compact" data-testid="history-table">
              <thead>
                <tr>
                  <th scope="col">#</th>
                  <th scope="col">Time</th>
                  <th scope="col">Event</th>
                  <th scope="col">Operator</th>
                  <th scope="col">Task</th>
                  <th scope="col">Note</th>
                  <th scope="col">sha256</th>
                  <th scope="col">Actions</th>
                </tr>
              </thead>
              <tbody>
                {rows.map((h) => (
                  <tr key={h.id} data-history-id={h.id}>
                    <td className="num">{h.id}</td>
                    <td className="nowrap">{fmtTime(h.created_at)}</td>
                    <td>{h.event}</td>
                    <td>{h.operator}</td>
                    <td className="mono">{h.task_id ?? '—'}</td>
                    <td className="break">{h.note || '—'}</td>
                    <td className="mono" title={`${h.sha256}\n${h.history_path}`}>
                      {short(h.sha256)}
                    </td>
                    <td className="nowrap">
                      <button type="button" className="btn btn-small" onClick={() => showDiff(h.id, 'current')} aria-label={`Diff #${h.id} with current`}>
                        Diff
                      </button>{' '}
                      {!props.readonly && (
                        <button type="button" className="btn btn-small" onClick={() => setConfirm(h)} aria-label={`Roll back to #${h.id}`}>
                          Roll back…
                        </button>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          {history.data && history.data.total > PAGE && <Pager total={history.data.total} limit={PAGE} offset={offset} onChange={setOffset} />}
          <div className="inline-form diff-pick">
            <label>
              From
              <select value={fromValue ?? ''} onChange={(e) => setFrom(parseSide(e.target.value))}>
                {rows.map((h) => (
                  <option key={h.id} value={h.id}>
                    #{h.id} {fmtTime(h.created_at)}
                  </option>
                ))}
                <option value="current">current</option>
              </select>
            </label>
            <label>
              To
              <select value={to} onChange={(e) => setTo(parseSide(e.target.value))}>
                <option value="current">current</option>
                {rows.map((h) => (
                  <option key={h.id} value={h.id}>
                    #{h.id} {fmtTime(h.created_at)}
                  </option>
                ))}
              </select>
            </label>
            <button type="button" className="btn btn-small" disabled={fromValue === null} onClick={() => fromValue !== null && showDiff(fromValue, to)}>
              Show diff
            </button>
          </div>
        </>
      )}
      {shown && (
        <div className="config-diff" data-testid="config-diff">
          <h3>
            Diff {sideLabel(shown.from, rows)} → {sideLabel(shown.to, rows)}
            {diff.data && (
              <span className="muted small">
                {' '}
                <span className="pos">+{diff.data.added}</span> <span className="neg">−{diff.data.removed}</span>
              </span>
            )}
          </h3>
          {diff.isLoading ? (
            <Loading what="Computing the diff" />
          ) : diff.error ? (
            <ErrorState error={diff.error} />
          ) : diff.data ? (
            <SideBySideDiff diff={diff.data.diff} fromLabel={sideLabel(shown.from, rows)} toLabel={sideLabel(shown.to, rows)} caption={`Changes in ${path}`} />
          ) : null}
        </div>
      )}
      {confirm && (
        <ConfirmDialog
          title={`Roll back to version #${confirm.id}?`}
          confirmLabel={`Roll back to #${confirm.id}`}
          danger
          busy={rollback.isPending}
          onCancel={() => {
            setConfirm(null);
            setNote('');
          }}
          onConfirm={() => doRollback(confirm)}
          testId="rollback-dialog"
        >
          <p>
            <span className="mono">{path}</span> will be replaced by version <strong>#{confirm.id}</strong>, saved {fmtTime(confirm.created_at)} by {confirm.operator}
            {confirm.note ? ` (“${confirm.note}”)` : ''}, sha256 <span className="mono">{short(confirm.sha256)}</span>.
          </p>
          <p className="muted">The current version is backed up first, so the rollback can itself be undone.</p>
          <label className="block">
            Note <input value={note} onChange={(e) => setNote(e.target.value)} placeholder="why (optional)" />
          </label>
        </ConfirmDialog>
      )}
    </section>
  );
}
