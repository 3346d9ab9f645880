// The New task dialog of the RD-Agent page: datasets (GET /api/rdagent/datasets), loop_n,
// all_duration, evolving mode, n_epochs / batch_size / n_jobs, the knowledge-base switch and the
// config source — the current templates or a saved version of one of them
// (GET /api/rdagent/templates, GET /api/rdagent/templates/history?file= -> source_history_id).
// Checked on the page first (nothing is sent while a field is wrong); a refusal of the server is
// shown next to the field it names, or above the buttons, and as a toast.
import { useState, type ReactNode } from 'react';
import { useModalDialog } from '../hooks/useModalDialog';
import { useRdagentDatasets, useRdagentTemplates, useSubmitRdagentTask, useTemplateHistory } from '../hooks/useRdagent';
import { toastError } from '../lib/errors';
import { fmtTime } from '../lib/format';
import { buildTaskRequest, defaultTaskForm, EVOLVING_MODES, serverErrors, type EvolvingMode, type FieldErrors, type TaskForm } from '../lib/rdagent';
import type { JobDetail } from '../types/api';
import { ErrorState, Loading } from './States';

function FieldError({ id, msg }: { id: string; msg: string | undefined }) {
  if (!msg) return null;
  return (
    <span className="field-error" id={id} role="alert">
      {msg}
    </span>
  );
}

/** A labelled text input with its error under it (aria-invalid / aria-describedby set). */
function TextField(props: { name: keyof TaskForm; label: string; value: string; error: string | undefined; onChange: (v: string) => void; placeholder?: string; inputMode?: 'numeric' | 'text'; hint?: ReactNode }) {
  const errId = `rdagent-${props.name}-error`;
  return (
    <div className="rdagent-field">
      <label>
        {props.label}
        <input
          name={props.name}
          value={props.value}
          inputMode={props.inputMode}
          placeholder={props.placeholder}
          aria-invalid={props.error ? true : undefined}
          aria-describedby={props.error ? errId : undefined}
          onChange={(e) => props.onChange(e.target.value)}
        />
      </label>
      {props.hint && <span className="muted small">{props.hint}</span>}
      <FieldError id={errId} msg={props.error} />
    </div>
  );
}

export function RdagentTaskDialog({ onClose, onCreated }: { onClose: () => void; onCreated: (j: JobDetail) => void }) {
  const { dialogProps } = useModalDialog<HTMLElement>(onClose);
  const datasets = useRdagentDatasets();
  const templates = useRdagentTemplates();
  const [form, setForm] = useState<TaskForm | null>(null);
  const [errors, setErrors] = useState<FieldErrors>({});
  const [tried, setTried] = useState(false);
  const submit = useSubmitRdagentTask(onCreated);
  // The form starts once the datasets are known (the default dataset is pre-selected).
  const f = form ?? (datasets.data ? defaultTaskForm(datasets.data.default) : null);
  const history = useTemplateHistory(f?.source === 'history' && f.history_file ? f.history_file : null);

  const set = <K extends keyof TaskForm>(k: K, v: TaskForm[K]) => {
    if (!f) return;
    const next = { ...f, [k]: v };
    if (k === 'history_file') next.source_history_id = '';
    setForm(next);
    // Once a submit was tried, the page re-checks as the user fixes the fields.
    if (tried) setErrors(buildTaskRequest(next).errors);
  };

  const onSubmit = (e: React.FormEvent) => {
    e.preventDefault();
    if (!f) return;
    setTried(true);
    const built = buildTaskRequest(f);
    setErrors(built.errors);
    if (!built.body) return;
    submit.mutate(built.body, {
      onError: (err) => {
        setErrors(serverErrors(err));
        toastError(err, 'Task refused');
      },
    });
  };

  const yamlTemplates = (templates.data?.items ?? []).filter((t) => t.kind === 'yaml' && !t.readonly);
  const consistency = templates.data?.consistency;
  return (
    <div className="drawer-backdrop" onClick={onClose}>
      <aside className="drawer rdagent-dialog" {...dialogProps} aria-labelledby="rdagent-new-title" onClick={(e) => e.stopPropagation()} data-testid="rdagent-new-task">
        <header className="drawer-head">
          <h2 id="rdagent-new-title">New RD-Agent task</h2>
          <button type="button" className="btn" onClick={onClose}>
            Close
          </button>
        </header>
        {datasets.isLoading && <Loading what="Loading datasets" />}
        {datasets.isError && <ErrorState error={datasets.error} onRetry={() => void datasets.refetch()} />}
        {f && (
          <form className="form" onSubmit={onSubmit} noValidate>
            <fieldset aria-describedby={errors.dataset_ids ? 'rdagent-dataset_ids-error' : undefined}>
              <legend>Datasets</legend>
              {datasets.data!.items.length === 0 && <p className="muted">No datasets yet: add one on the Datasets tab.</p>}
              <div className="row">
                {datasets.data!.items.map((d) => (
                  <label key={d.name} className="toggle">
                    <input
                      type="checkbox"
                      name="dataset_ids"
                      value={d.name}
                      checked={f.dataset_ids.includes(d.name)}
                      onChange={(e) => set('dataset_ids', e.target.checked ? [...f.dataset_ids, d.name] : f.dataset_ids.filter((x) => x !== d.name))}
                    />
                    {d.name}
                    <span className="muted small">
                      {d.format ?? 'csv'}
                      {d.default ? ' · default' : ''}
                    </span>
                  </label>
                ))}
              </div>
              <FieldError id="rdagent-dataset_ids-error" msg={errors.dataset_ids} />
            </fieldset>
            <div className="row">
              <TextField name="loop_n" label="Loops (loop_n)" value={f.loop_n} inputMode="numeric" error={errors.loop_n} onChange={(v) => set('loop_n', v)} />
              <TextField name="all_duration" label="Time budget (all_duration)" value={f.all_duration} placeholder="e.g. 1h, 30m" error={errors.all_duration} onChange={(v) => set('all_duration', v)} hint="empty: no limit" />
              <div className="rdagent-field">
                <label htmlFor="rdagent-evolving_mode">Evolving mode</label>
                <select id="rdagent-evolving_mode" name="evolving_mode" value={f.evolving_mode} onChange={(e) => set('evolving_mode', e.target.value as EvolvingMode)}>
                  {EVOLVING_MODES.map((m) => (
                    <option key={m} value={m}>
                      {m}
                    </option>
                  ))}
                </select>
                <FieldError id="rdagent-evolving_mode-error" msg={errors.evolving_mode} />
              </div>
            </div>
            <div className="row">
              <TextField name="n_epochs" label="n_epochs" value={f.n_epochs} inputMode="numeric" placeholder="template's" error={errors.n_epochs} onChange={(v) => set('n_epochs', v)} />
              <TextField name="batch_size" label="batch_size" value={f.batch_size} inputMode="numeric" placeholder="template's" error={errors.batch_size} onChange={(v) => set('batch_size', v)} />
              <TextField name="n_jobs" label="n_jobs" value={f.n_jobs} inputMode="numeric" placeholder="template's" error={errors.n_jobs} onChange={(v) => set('n_jobs', v)} />
            </div>
            <label className="toggle">
              <input type="checkbox" role="switch" name="knowledge_base" checked={f.knowledge_base} onChange={(e) => set('knowledge_base', e.target.checked)} />
              Knowledge base (the .env's knowledge-base settings)
            </label>
            <fieldset>
              <legend>Config source</legend>
              <div className="row">
                <label className="toggle">
                  <input type="radio" name="source" value="current" checked={f.source === 'current'} onChange={() => set('source', 'current')} />
                  Current templates
                </label>
                <label className="toggle">
                  <input type="radio" name="source" value="history" checked={f.source === 'history'} onChange={() => set('source', 'history')} />
                  A saved version
                </label>
              </div>
              {f.source === 'history' && (
                <div className="row">
                  <div className="rdagent-field">
                    <label htmlFor="rdagent-history_file">Template file</label>
                    <select id="rdagent-history_file" name="history_file" value={f.history_file} onChange={(e) => set('history_file', e.target.value)}>
                      <option value="">Choose a template…</option>
                      {yamlTemplates.map((t) => (
                        <option key={t.path} value={t.file}>
                          {t.file.split('/').slice(-2).join('/')} ({t.history_count ?? 0} saved)
                        </option>
                      ))}
                    </select>
                  </div>
                  <div className="rdagent-field">
                    <label htmlFor="rdagent-source_history_id">Version</label>
                    <select
                      id="rdagent-source_history_id"
                      name="source_history_id"
                      value={f.source_history_id}
                      disabled={!f.history_file || history.isLoading}
                      aria-invalid={errors.source_history_id ? true : undefined}
                      aria-describedby={errors.source_history_id ? 'rdagent-source_history_id-error' : undefined}
                      onChange={(e) => set('source_history_id', e.target.value)}
                    >
                      <option value="">{history.isLoading ? 'Loading…' : history.data && history.data.items.length === 0 ? 'No saved versions' : 'Choose a version…'}</option>
                      {(history.data?.items ?? []).map((h) => (
                        <option key={h.id} value={String(h.id)}>
                          #{h.id} · {fmtTime(h.created_at)} · {h.event} · {h.operator} · {h.sha256.slice(0, 10)}
                          {h.note ? ` · ${h.note}` : ''}
                        </option>
                      ))}
                    </select>
                    <FieldError id="rdagent-source_history_id-error" msg={errors.source_history_id} />
                  </div>
                </div>
              )}
              {history.isError && <ErrorState error={history.error} onRetry={() => void history.refetch()} />}
              {f.source === 'history' && <p className="muted small">The task runs on its own copy of that version; the live templates stay as they are.</p>}
            </fieldset>
            {consistency && !consistency.ok && (
              <p className="notice notice-warn" data-testid="rdagent-consistency">
                The templates disagree ({consistency.mismatches.map((m) => `${m.key} in ${m.file}: ${m.value} vs ${m.expected}`).join('; ')}): the server refuses a task until they agree (Config center tab).
              </p>
            )}
            {errors.form && (
              <p className="notice notice-error" role="alert" data-testid="rdagent-form-error">
                {errors.form}
              </p>
            )}
            <div className="form-actions">
              <button type="submit" className="btn btn-primary" disabled={submit.isPending}>
                {submit.isPending ? 'Starting…' : 'Start task'}
              </button>
              <button type="button" className="btn" onClick={onClose}>
                Cancel
              </button>
            </div>
          </form>
        )}
      </aside>
    </div>
  );
}
