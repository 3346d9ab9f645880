// The datasets panel (docs/datasets.md, docs/ui.md): every dataset (name, format, path, default,
// source; alphalab.yaml's read-only), a create dialog, an instruments upload (pasted or a .txt;
// each bad line shown), set default, delete (a 409 while a job uses it is shown with the jobs),
// and a dataset's layout report. scope="rdagent" lists and uploads through /api/rdagent/datasets.
import { useState, type FormEvent } from 'react';
import { Link } from 'react-router-dom';
import { isApiError } from '../api/client';
import { errorText } from '../lib/errors';
import { pushToast } from '../lib/toastStore';
import {
  useCreateDataset,
  useDatasetValidation,
  useDatasets,
  useDeleteDataset,
  useSetDefaultDataset,
  useUploadInstruments,
  type Dataset,
  type DatasetLayoutReport,
  type DatasetScope,
} from '../hooks/useDatasets';
import { MissingList } from './ConfigChecks';
import { ConfirmDialog, Dialog, DialogActions } from './Dialog';
import { Empty, ErrorState, Loading } from './States';

export interface DatasetsPanelProps {
  scope?: DatasetScope;
}

interface Problem {
  line: number;
  symbol: string;
  problem: string;
}

/** A 4xx's details as the dialogs show them: the bad instrument lines, or a layout report. */
function errorDetails(e: unknown): { problems: Problem[]; report: DatasetLayoutReport | null } {
  const d = isApiError(e) ? (e.details as { problems?: Problem[]; report?: DatasetLayoutReport } | null) : null;
  return { problems: Array.isArray(d?.problems) ? d.problems : [], report: d?.report ?? null };
}

export function LayoutReport({ report, name }: { report: DatasetLayoutReport; name?: string }) {
  return (
    <div className={`check-result ${report.ok ? 'check-ok' : 'check-bad'}`} data-testid="layout-report" data-ok={report.ok}>
      <h3>
        <span className={`badge ${report.ok ? 'badge-success' : 'badge-failed'}`}>{report.ok ? 'OK' : 'PROBLEM'}</span> {name ? `${name}: ` : ''}
        {report.format} layout
      </h3>
      <dl className="kv check-kv">
        <dt>calendar days</dt>
        <dd>{report.calendar_days.toLocaleString('en-US')}</dd>
        <dt>instruments</dt>
        <dd>{report.instruments.toLocaleString('en-US')}</dd>
        {report.instruments_files.length > 0 && (
          <>
            <dt>instrument files</dt>
            <dd className="mono">{report.instruments_files.join(', ')}</dd>
          </>
        )}
      </dl>
      {report.problems.map((p) => (
        <p key={p} className="text-error">
          {p}
        </p>
      ))}
      <MissingList items={report.missing} total={report.missing_count} />
    </div>
  );
}

/** The two fields the create and upload dialogs share. */
function DescriptionAndDefault(props: { description: string; isDefault: boolean; onChange: (d: { description?: string; default?: boolean }) => void }) {
  return (
    <>
      <label>
        Description <input value={props.description} onChange={(e) => props.onChange({ description: e.target.value })} />
      </label>
      <label className="inline">
        <input type="checkbox" checked={props.isDefault} onChange={(e) => props.onChange({ default: e.target.checked })} /> Make it the default
      </label>
    </>
  );
}

function CreateDialog({ onClose, datasets }: { onClose: () => void; datasets: Dataset[] }) {
  const create = useCreateDataset();
  const [f, setF] = useState({ name: '', format: 'csv' as 'csv' | 'qlib', path: '', instruments_file: '', description: '', default: false });
  const set = (k: keyof typeof f) => (e: { target: { value: string } }) => setF({ ...f, [k]: e.target.value });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    create.mutate(
      {
        name: f.name.trim(),
        format: f.format,
        path: f.path.trim(),
        ...(f.instruments_file.trim() ? { instruments_file: f.instruments_file.trim() } : {}),
        ...(f.description.trim() ? { description: f.description.trim() } : {}),
        default: f.default,
      },
      {
        onSuccess: (d) => {
          pushToast({ kind: 'success', title: `Dataset ${d.name} created`, body: `${d.format} at ${d.path}` });
          onClose();
        },
      },
    );
  };
  const { report } = errorDetails(create.error);
  const taken = datasets.some((d) => d.name === f.name.trim());
  return (
    <Dialog title="New dataset" onClose={onClose} testId="dataset-create" wide>
      <form className="form dataset-form" onSubmit={submit}>
        <label>
          Name <input required value={f.name} onChange={set('name')} pattern="[A-Za-z0-9_.\-]+" title="letters, digits, _ . -" />
        </label>
        {taken && <p className="field-error">A dataset named {f.name.trim()} exists.</p>}
        <label>
          Format
          <select value={f.format} onChange={set('format')}>
            <option value="csv">csv (one SYMBOL.csv per instrument)</option>
            <option value="qlib">qlib (calendars, instruments, features)</option>
          </select>
        </label>
        <label>
          {f.format === 'qlib' ? 'provider_uri (folder in the workspace)' : 'Folder (in the workspace)'} <input required className="mono" value={f.path} onChange={set('path')} placeholder="data/..." />
        </label>
        <label>
          Instruments file <span className="muted small">(optional: restricts the dataset to its symbols)</span>
          <input className="mono" value={f.instruments_file} onChange={set('instruments_file')} />
        </label>
        <DescriptionAndDefault description={f.description} isDefault={f.default} onChange={(d) => setF((prev) => ({ ...prev, ...d }))} />
        {create.error && (
          <div role="alert" className="dialog-error">
            <p className="text-error">Not created: {errorText(create.error)}</p>
            {report && <LayoutReport report={report} />}
          </div>
        )}
        <DialogActions label="Create" onCancel={onClose} disabled={create.isPending || taken} />
      </form>
    </Dialog>
  );
}

function UploadDialog({ onClose, datasets, scope }: { onClose: () => void; datasets: Dataset[]; scope: DatasetScope }) {
  const upload = useUploadInstruments(scope);
  const [f, setF] = useState({ name: '', dataset: datasets.find((d) => d.default)?.name ?? datasets[0]?.name ?? '', content: '', description: '', default: false });
  const [fileName, setFileName] = useState<string | null>(null);
  const set = (k: keyof typeof f) => (e: { target: { value: string } }) => setF({ ...f, [k]: e.target.value });
  const pick = async (file: File | undefined) => {
    if (!file) return;
    setFileName(file.name);
    const content = await file.text();
    setF((prev) => ({ ...prev, content, name: prev.name || file.name.replace(/\.txt$/i, '') }));
  };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    upload.mutate(
      { name: f.name.trim(), dataset: f.dataset, content: f.content, ...(f.description.trim() ? { description: f.description.trim() } : {}), default: f.default },
      {
        onSuccess: (d) => {
          pushToast({ kind: 'success', title: `Dataset ${d.name} created`, body: `${d.instruments?.length ?? 0} instrument(s) of ${f.dataset}` });
          onClose();
        },
      },
    );
  };
  const { problems } = errorDetails(upload.error);
  return (
    <Dialog title="Upload instruments" onClose={onClose} testId="instruments-upload" wide>
      <form className="form dataset-form" onSubmit={submit}>
        <label>
          New dataset name <input required value={f.name} onChange={set('name')} />
        </label>
        <label>
          Data of
          <select value={f.dataset} onChange={set('dataset')}>
            {datasets.map((d) => (
              <option key={d.name} value={d.name}>
                {d.name} ({d.format ?? '?'})
              </option>
            ))}
          </select>
        </label>
        <label>
          Symbols, one per line <span className="muted small">(Qlib's SYMBOL⇥start⇥end lines too; # comments)</span>
          <textarea required className="mono" rows={8} value={f.content} onChange={set('content')} spellCheck={false} />
        </label>
        <label>
          Or pick a .txt file <input type="file" accept=".txt,text/plain" onChange={(e) => void pick(e.target.files?.[0])} />
        </label>
        {fileName && <p className="muted small">Loaded {fileName}</p>}
        <DescriptionAndDefault description={f.description} isDefault={f.default} onChange={(d) => setF((prev) => ({ ...prev, ...d }))} />
        {upload.error && (
          <div role="alert" className="dialog-error" data-testid="upload-errors">
            <p className="text-error">Not created: {errorText(upload.error)}</p>
            {problems.length > 0 && (
              <table className="table compact">
                <thead>
                  <tr>
                    <th scope="col">Line</th>
                    <th scope="col">Symbol</th>
                    <th scope="col">Problem</th>
                  </tr>
                </thead>
                <tbody>
                  {problems.map((p) => (
                    <tr key={`${p.line}:${p.symbol}`} data-line={p.line}>
                      <td className="num">{p.line}</td>
                      <td className="mono">{p.symbol}</td>
                      <td>{p.problem}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
          </div>
        )}
        <DialogActions label="Upload" onCancel={onClose} disabled={upload.isPending || !f.dataset} />
      </form>
    </Dialog>
  );
}

export function DatasetsPanel({ scope = 'all' }: DatasetsPanelProps) {
  const list = useDatasets(scope);
  const setDefault = useSetDefaultDataset();
  const del = useDeleteDataset();
  const [dialog, setDialog] = useState<'create' | 'upload' | null>(null);
  const [confirmDelete, setConfirmDelete] = useState<Dataset | null>(null);
  const [refused, setRefused] = useState<{ name: string; message: string; jobs: string[] } | null>(null);
  const [validating, setValidating] = useState<string | null>(null);
  const validation = useDatasetValidation(validating);
  const items = list.data?.items ?? [];

  const doDelete = (d: Dataset) => {
    del.mutate(d.name, {
      onSuccess: () => {
        setConfirmDelete(null);
        setRefused(null);
        if (validating === d.name) setValidating(null);
        pushToast({ kind: 'success', title: `Dataset ${d.name} deleted` });
      },
      onError: (e) => {
        setConfirmDelete(null);
        const jobs = isApiError(e) ? ((e.details as { job_ids?: string[] } | null)?.job_ids ?? []) : [];
        setRefused({ name: d.name, message: isApiError(e) ? e.message : errorText(e), jobs });
        pushToast({ kind: 'error', title: `${d.name} not deleted`, body: errorText(e) });
      },
    });
  };

  return (
    <section aria-label="Datasets" className="datasets-panel" data-testid="datasets-panel">
      <div className="panel">
        <div className="panel-head">
          <h2>Datasets</h2>
          <div className="inline-form">
            <button type="button" className="btn btn-small btn-primary" onClick={() => setDialog('create')}>
              New dataset
            </button>
            <button type="button" className="btn btn-small" onClick={() => setDialog('upload')} disabled={items.length === 0}>
              Upload instruments
            </button>
          </div>
        </div>
        {refused && (
          <div className="notice notice-error" role="alert" data-testid="delete-refused">
            <div>
              {refused.name} was not deleted: {refused.message}
              {refused.jobs.length > 0 && (
                <div>
                  In use by:{' '}
                  {refused.jobs.map((j, i) => (
                    <span key={j}>
                      {i > 0 && ', '}
                      <Link to={`/jobs/${encodeURIComponent(j)}`} className="mono">
                        {j}
                      </Link>
                    </span>
                  ))}
                </div>
              )}
            </div>
            <button type="button" className="btn btn-small" onClick={() => setRefused(null)}>
              Dismiss
            </button>
          </div>
        )}
        {list.isLoading ? (
          <Loading what="Loading datasets" />
        ) : !list.data ? (
          <ErrorState error={list.error ?? 'no data'} onRetry={() => void list.refetch()} />
        ) : items.length === 0 ? (
          <Empty>No datasets: declare one in alphalab.yaml or create one here.</Empty>
        ) : (
          <div className="table-wrap">
            <table className="table compact" data-testid="datasets-table">
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Format</th>
                  <th scope="col">Path</th>
                  <th scope="col">Instruments</th>
                  <th scope="col">Default</th>
                  <th scope="col">Source</th>
                  <th scope="col">Actions</th>
                </tr>
              </thead>
              <tbody>
                {items.map((d) => (
                  <tr key={d.name} data-dataset={d.name}>
                    <td>
                      <strong>{d.name}</strong>
                      {d.description && <div className="muted small">{d.description}</div>}
                    </td>
                    <td>{d.format ?? '—'}</td>
                    <td className="mono dataset-path">{d.path}</td>
                    <td className="mono dataset-path">{d.instruments_file ?? 'all'}</td>
                    <td>{d.default ? <span className="badge badge-success">default</span> : null}</td>
                    <td className="small">
                      {d.source}
                      {d.readonly && <div className="muted">read-only (edit alphalab.yaml)</div>}
                    </td>
                    <td className="nowrap">
                      <button type="button" className="btn btn-small" onClick={() => setValidating(d.name)} aria-label={`Validate ${d.name}`}>
                        Validate
                      </button>{' '}
                      {!d.default && (
                        <button
                          type="button"
                          className="btn btn-small"
                          disabled={setDefault.isPending}
                          aria-label={`Set default: ${d.name}`}
                          onClick={() =>
                            setDefault.mutate(d.name, {
                              onSuccess: () => pushToast({ kind: 'success', title: `${d.name} is the default dataset` }),
                              onError: (e) => pushToast({ kind: 'error', title: 'Not changed', body: errorText(e) }),
                            })
                          }
                        >
                          Set default
                        </button>
                      )}{' '}
                      {!d.readonly && (
                        <button type="button" className="btn btn-small btn-danger" onClick={() => setConfirmDelete(d)} aria-label={`Delete ${d.name}`}>
                          Delete…
                        </button>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </div>
      {validating && (
        <section className="panel" aria-label={`Validation of ${validating}`} data-testid="dataset-validation">
          <div className="panel-head">
            <h2>Validation: {validating}</h2>
            <button type="button" className="btn btn-small" onClick={() => setValidating(null)}>
              Close
            </button>
          </div>
          {validation.isLoading ? (
            <Loading what="Checking the layout" />
          ) : validation.data ? (
            <LayoutReport report={validation.data} name={validation.data.name} />
          ) : (
            <ErrorState error={validation.error ?? 'no data'} onRetry={() => void validation.refetch()} />
          )}
        </section>
      )}
      {dialog === 'create' && <CreateDialog onClose={() => setDialog(null)} datasets={items} />}
      {dialog === 'upload' && <UploadDialog onClose={() => setDialog(null)} datasets={items} scope={scope} />}
      {confirmDelete && (
        <ConfirmDialog
          title={`Delete dataset ${confirmDelete.name}?`}
          confirmLabel={`Delete ${confirmDelete.name}`}
          danger
          busy={del.isPending}
          onCancel={() => setConfirmDelete(null)}
          onConfirm={() => doDelete(confirmDelete)}
          testId="delete-dialog"
        >
          <p>
            Its definition (<span className="mono">{confirmDelete.source}</span>) is removed; the data in <span className="mono">{confirmDelete.path}</span> stays. A dataset a queued or
            running job uses is not deleted.
          </p>
        </ConfirmDialog>
      )}
    </section>
  );
}
