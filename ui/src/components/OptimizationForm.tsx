import { useMemo, useState } from 'react';
import { buildRequest, emptyAxis, type AxisDraft, type AxisKind, type SweepForm } from '../lib/optimizations';
import type { Optimization } from '../types/api';
import { useCreateOptimization, useOptimizationEstimate } from '../hooks/useOptimizations';
import { errorText } from '../lib/errors';
import { fmtDuration } from '../lib/format';

const KIND_LABEL: Record<AxisKind, string> = { list: 'list', range: 'range (min, max, step)', continuous: 'continuous (random only)', models: 'models (registry filter)' };

function AxisEditor({ a, i, onChange, onRemove, errorFor }: { a: AxisDraft; i: number; onChange: (a: AxisDraft) => void; onRemove: () => void; errorFor: (prefix: string) => string | undefined }) {
  const id = `axis-${i}`;
  const set = (patch: Partial<AxisDraft>) => onChange({ ...a, ...patch });
  const setM = (patch: Partial<AxisDraft['models']>) => onChange({ ...a, models: { ...a.models, ...patch } });
  const err = errorFor(`param_space.${a.key.trim() || '?'}`);
  return (
    <fieldset className="axis" data-testid="axis">
      <legend className="sr-only">Parameter {i + 1}</legend>
      <label>
        Parameter (override key)
        <input id={`${id}-key`} value={a.key} onChange={(e) => set({ key: e.target.value })} placeholder="strategy.params.fast" aria-label={`Parameter ${i + 1} key`} className="mono" />
      </label>
      <label>
        Kind
        <select value={a.kind} onChange={(e) => set({ kind: e.target.value as AxisKind })} aria-label={`Parameter ${i + 1} kind`}>
          {(Object.keys(KIND_LABEL) as AxisKind[]).map((k) => (
            <option key={k} value={k}>
              {KIND_LABEL[k]}
            </option>
          ))}
        </select>
      </label>
      {a.kind === 'list' && (
        <label className="grow">
          Values (comma or line separated)
          <input value={a.values} onChange={(e) => set({ values: e.target.value })} placeholder="20, 50, 100" aria-label={`Parameter ${i + 1} values`} className="mono" />
        </label>
      )}
      {(a.kind === 'range' || a.kind === 'continuous') && (
        <>
          <label>
            Min
            <input inputMode="decimal" value={a.min} onChange={(e) => set({ min: e.target.value })} aria-label={`Parameter ${i + 1} min`} size={6} />
          </label>
          <label>
            Max (inclusive)
            <input inputMode="decimal" value={a.max} onChange={(e) => set({ max: e.target.value })} aria-label={`Parameter ${i + 1} max`} size={6} />
          </label>
          {a.kind === 'range' && (
            <label>
              Step
              <input inputMode="decimal" value={a.step} onChange={(e) => set({ step: e.target.value })} aria-label={`Parameter ${i + 1} step`} size={6} />
            </label>
          )}
        </>
      )}
      {a.kind === 'models' && (
        <>
          <label>
            Project
            <input value={a.models.project} onChange={(e) => setM({ project: e.target.value })} aria-label={`Parameter ${i + 1} models project`} size={10} />
          </label>
          <label>
            Run status
            <input value={a.models.status} onChange={(e) => setM({ status: e.target.value })} aria-label={`Parameter ${i + 1} models status`} size={8} />
          </label>
          <label>
            Ticker
            <input value={a.models.ticker} onChange={(e) => setM({ ticker: e.target.value })} aria-label={`Parameter ${i + 1} models ticker`} size={8} />
          </label>
          <label>
            Mode
            <input value={a.models.mode} onChange={(e) => setM({ mode: e.target.value })} aria-label={`Parameter ${i + 1} models mode`} size={8} />
          </label>
          <label className="grow">
            Metric bounds (min_&lt;metric&gt;=x, one per line)
            <textarea rows={2} value={a.models.extra} onChange={(e) => setM({ extra: e.target.value })} aria-label={`Parameter ${i + 1} models bounds`} className="mono" />
          </label>
        </>
      )}
      <button type="button" className="btn btn-small" onClick={onRemove} aria-label={`Remove parameter ${i + 1}`}>
        Remove
      </button>
      {err && (
        <p className="field-error" role="alert">
          {err}
        </p>
      )}
    </fieldset>
  );
}

/** The server's estimate before launch: loading, refused (the server's message), no history, or
 * the figure with how it was made. */
function EstimateLine({ request, estimate }: { request: boolean; estimate: ReturnType<typeof useOptimizationEstimate> }) {
  let body: React.ReactNode;
  if (!request) {
    body = <span className="muted small">The time estimate shows once the form is valid.</span>;
  } else if (estimate.waiting || estimate.isPending || estimate.isFetching) {
    body = <span className="muted small">Estimating…</span>;
  } else if (estimate.isError) {
    body = (
      <span className="field-error" role="alert">
        No estimate: {errorText(estimate.error)}
      </span>
    );
  } else if (estimate.data.basis === 'none' || estimate.data.seconds === null) {
    body = <span className="muted small">No run history for this job type yet: the server times the first task at launch.</span>;
  } else {
    const e = estimate.data;
    body = (
      <span>
        Estimated time: <strong data-testid="estimate-before-seconds">{fmtDuration(e.seconds)}</strong>{' '}
        <span className="muted small">
          ({e.tasks.toLocaleString('en-US')} task{e.tasks === 1 ? '' : 's'} × {fmtDuration(e.median_task_seconds)} median / {e.slots} slot{e.slots === 1 ? '' : 's'}, from {e.samples} past run
          {e.samples === 1 ? '' : 's'})
        </span>
      </span>
    );
  }
  return <span data-testid="estimate-before" data-state={!request ? 'invalid' : estimate.waiting || estimate.isPending || estimate.isFetching ? 'loading' : estimate.isError ? 'error' : 'ready'}>{body}</span>;
}

/** The submit form: the request document edited field by field, validated as the server does;
 * the task count and the server's time estimate (POST .../estimate, debounced) show before launch. */
export function OptimizationForm({ initial, onCreated }: { initial: SweepForm; onCreated: (o: Optimization) => void }) {
  const [f, setF] = useState<SweepForm>(initial);
  const [touched, setTouched] = useState(false);
  const built = useMemo(() => buildRequest(f), [f]);
  const create = useCreateOptimization(onCreated);
  const estimate = useOptimizationEstimate(built.request);
  const set = <K extends keyof SweepForm>(k: K, v: SweepForm[K]) => setF((x) => ({ ...x, [k]: v }));
  const errorFor = (prefix: string) => {
    if (!touched) return undefined;
    const e = built.errors.filter((x) => x.field === prefix || x.field.startsWith(`${prefix}.`) || x.field.startsWith(`${prefix}[`));
    return e.length ? e.map((x) => `${x.field}: ${x.message}`).join('; ') : undefined;
  };
  const fieldErr = (field: string) => errorFor(field) && <p className="field-error" role="alert">{errorFor(field)}</p>;
  const submit = (e: React.FormEvent) => {
    e.preventDefault();
    setTouched(true);
    if (built.request) create.mutate(built.request);
  };
  return (
    <form className="panel opt-form" onSubmit={submit} data-testid="optimization-form" noValidate>
      <h2>{f.source_job_id ? `Re-run of ${f.source_job_id}` : 'New optimization'}</h2>
      <div className="form-grid">
        <label>
          Name
          <input value={f.name} onChange={(e) => set('name', e.target.value)} aria-label="Name" />
        </label>
        <label>
          Project
          <input value={f.project} onChange={(e) => set('project', e.target.value)} aria-label="Project" />
        </label>
        <label>
          Job type
          <input value={f.job_type} onChange={(e) => set('job_type', e.target.value)} aria-label="Job type" />
        </label>
      </div>
      {fieldErr('name')}
      {fieldErr('project')}
      {fieldErr('job_type')}
      <label className="block">
        Base params (JSON object shared by every task)
        <textarea rows={3} className="mono" value={f.base_params} onChange={(e) => set('base_params', e.target.value)} aria-label="Base params" />
      </label>
      {fieldErr('base_params')}
      <h3>Parameter space</h3>
      {f.axes.map((a, i) => (
        <AxisEditor
          key={i}
          a={a}
          i={i}
          errorFor={errorFor}
          onChange={(na) => setF((x) => ({ ...x, axes: x.axes.map((y, j) => (j === i ? na : y)) }))}
          onRemove={() => setF((x) => ({ ...x, axes: x.axes.filter((_, j) => j !== i) }))}
        />
      ))}
      {touched && built.errors.some((e) => e.field === 'param_space') && fieldErr('param_space')}
      <button type="button" className="btn btn-small" onClick={() => setF((x) => ({ ...x, axes: [...x.axes, emptyAxis()] }))}>
        Add parameter
      </button>
      <div className="form-grid">
        <label>
          Sampler
          <select value={f.sampler} onChange={(e) => set('sampler', e.target.value as SweepForm['sampler'])} aria-label="Sampler">
            <option value="grid">grid (every combination)</option>
            <option value="random">random (n samples)</option>
          </select>
        </label>
        {f.sampler === 'random' && (
          <>
            <label>
              Samples (n)
              <input inputMode="numeric" value={f.n} onChange={(e) => set('n', e.target.value)} aria-label="Samples" size={6} />
            </label>
            <label>
              Seed
              <input inputMode="numeric" value={f.seed} onChange={(e) => set('seed', e.target.value)} aria-label="Seed" size={6} />
            </label>
          </>
        )}
        <label>
          Objective metric
          <input value={f.metric} onChange={(e) => set('metric', e.target.value)} aria-label="Objective metric" className="mono" />
        </label>
        <label>
          Direction
          <select value={f.direction} onChange={(e) => set('direction', e.target.value as SweepForm['direction'])} aria-label="Direction">
            <option value="max">max</option>
            <option value="min">min</option>
          </select>
        </label>
        <label>
          Max in flight
          <input inputMode="numeric" value={f.max_inflight} onChange={(e) => set('max_inflight', e.target.value)} placeholder="server default" aria-label="Max in flight" size={8} />
        </label>
        <label>
          Top N
          <input inputMode="numeric" value={f.top_n} onChange={(e) => set('top_n', e.target.value)} aria-label="Top N" size={5} />
        </label>
        <label>
          Holdout start
          <input type="date" value={f.holdout_start} onChange={(e) => set('holdout_start', e.target.value)} aria-label="Holdout start" />
        </label>
      </div>
      {fieldErr('sampler')}
      {fieldErr('objective')}
      {fieldErr('max_inflight')}
      {fieldErr('top_n')}
      {fieldErr('validation')}
      <label className="block">
        Constraints (one per line)
        <textarea rows={2} className="mono" value={f.constraints} onChange={(e) => set('constraints', e.target.value)} aria-label="Constraints" placeholder={'max_drawdown <= 0.35\n"Sharpe Ratio" >= 1'} />
      </label>
      {fieldErr('constraints')}
      <fieldset className="early-stop">
        <legend>
          <label className="inline">
            <input type="checkbox" checked={f.early_stop} onChange={(e) => set('early_stop', e.target.checked)} /> Early stop (mode follows the direction: {f.direction})
          </label>
        </legend>
        {f.early_stop && (
          <div className="form-grid">
            <label>
              Patience (tasks without improvement)
              <input inputMode="numeric" value={f.patience} onChange={(e) => set('patience', e.target.value)} aria-label="Patience" size={6} />
            </label>
            <label>
              Min tasks
              <input inputMode="numeric" value={f.min_tasks} onChange={(e) => set('min_tasks', e.target.value)} aria-label="Min tasks" size={6} />
            </label>
            <label>
              Target score
              <input inputMode="decimal" value={f.target} onChange={(e) => set('target', e.target.value)} aria-label="Target" size={10} />
            </label>
          </div>
        )}
      </fieldset>
      {fieldErr('early_stop_policy')}
      {fieldErr('source_job_id')}
      <div className="opt-estimate" data-testid="pre-estimate" aria-live="polite">
        {built.tasks === null ? (
          <span>Tasks: decided by the server (one per model the filter matches).</span>
        ) : (
          <span>
            Tasks: <strong data-testid="task-count">{built.tasks.toLocaleString('en-US')}</strong>
          </span>
        )}{' '}
        <EstimateLine request={!!built.request} estimate={estimate} />
      </div>
      {touched && built.errors.length > 0 && (
        <div className="notice notice-warn" role="alert" data-testid="form-errors">
          {built.errors.length} problem(s): {built.errors.map((e) => `${e.field}: ${e.message}`).join(' · ')}
        </div>
      )}
      <div className="actions">
        <button type="submit" className="btn btn-primary" disabled={create.isPending}>
          {create.isPending ? 'Submitting… (the server calibrates its estimate)' : 'Launch optimization'}
        </button>
      </div>
    </form>
  );
}
