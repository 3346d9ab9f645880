// A submit form built from a job type of GET /api/job-types: one typed field per declared
// param (string, int, float, bool, date, path, list, enum), a dry-run switch, the request
// payload preview. The server validates everything again (types, ranges, paths, choices) and
// its refusal shows as a toast.
import { useMemo, useState } from 'react';
import { Link } from 'react-router-dom';
import { useSubmitJob } from '../hooks/useSubmitJob';
import { parseOverrides } from '../lib/overrides';
import { OverridesEditor } from './OverridesEditor';
import { useReportDraft } from '../hooks/useReportDraft';
import type { JobType, JobTypeParam, SubmitJobRequest } from '../types/api';

type FieldValue = string | boolean;

function initialValue(p: JobTypeParam, sp: URLSearchParams): FieldValue {
  if (p.type === 'list') {
    const given = sp.getAll(p.name);
    if (given.length) return given.join('\n');
    return Array.isArray(p.default) ? p.default.map(String).join('\n') : '';
  }
  const given = sp.get(p.name);
  if (p.type === 'bool') {
    if (given !== null) return given === '1' || given === 'true' || given === 'yes';
    return p.default === true;
  }
  if (given !== null) return given;
  return p.default === null || p.default === undefined ? '' : String(p.default);
}

/** Form values -> the params object of POST /api/jobs; empty fields are left out. */
export function buildParams(type: JobType, values: Record<string, FieldValue>): Record<string, unknown> {
  const params: Record<string, unknown> = {};
  for (const p of type.params) {
    if (p.name === 'dry_run') continue;
    const v = values[p.name];
    if (v === undefined) continue;
    if (p.type === 'bool') {
      // Unchecked means "not given" unless the default is true (then false is a choice).
      if (v === true || p.default === true) params[p.name] = v === true;
      continue;
    }
    const text = String(v);
    if (p.type === 'list') {
      const items = p.name === 'overrides' ? parseOverrides(text).overrides : text.split('\n').map((s) => s.trim()).filter(Boolean);
      if (items.length) params[p.name] = items;
      continue;
    }
    const t = text.trim();
    if (!t) continue;
    if (p.type === 'int' || p.type === 'float') {
      const n = Number(t);
      params[p.name] = Number.isFinite(n) ? n : t; // not a number: the server names the param in its 400
      continue;
    }
    params[p.name] = t;
  }
  return params;
}

function Field({ p, value, set }: { p: JobTypeParam; value: FieldValue; set: (v: FieldValue) => void }) {
  const label = (
    <span className="field-label">
      {p.name}
      {p.required && <span className="text-error"> *</span>} <span className="muted small">({p.type})</span>
    </span>
  );
  const hint = p.description ? <span className="muted small field-hint">{p.description}</span> : null;
  const text = typeof value === 'string' ? value : '';
  switch (p.type) {
    case 'bool':
      return (
        <label className="toggle">
          <input type="checkbox" name={p.name} checked={value === true} onChange={(e) => set(e.target.checked)} /> {label} {hint}
        </label>
      );
    case 'enum':
      return (
        <label>
          {label}
          <select name={p.name} value={text} onChange={(e) => set(e.target.value)} required={p.required}>
            {!p.required && <option value="">(default)</option>}
            {(p.choices ?? []).map((c) => (
              <option key={c} value={c}>
                {c}
              </option>
            ))}
          </select>
          {hint}
        </label>
      );
    case 'list':
      if (p.name === 'overrides') return <OverridesEditor id={`param-${p.name}`} value={text} onChange={set} />;
      return (
        <label>
          {label} <span className="muted small">(one item per line)</span>
          <textarea name={p.name} rows={3} value={text} onChange={(e) => set(e.target.value)} className="mono" spellCheck={false} />
          {hint}
        </label>
      );
    case 'int':
    case 'float':
      return (
        <label>
          {label}
          <input
            name={p.name}
            type="number"
            step={p.type === 'int' ? 1 : 'any'}
            min={p.min}
            max={p.max}
            value={text}
            onChange={(e) => set(e.target.value)}
            required={p.required}
          />
          {hint}
        </label>
      );
    case 'date':
      return (
        <label>
          {label}
          <input name={p.name} type="date" value={text} onChange={(e) => set(e.target.value)} required={p.required} />
          {hint}
        </label>
      );
    case 'path':
    case 'string':
      return (
        <label>
          {label}
          <input
            name={p.name}
            value={text}
            onChange={(e) => set(e.target.value)}
            required={p.required}
            className={p.type === 'path' ? 'mono' : undefined}
            placeholder={p.type === 'path' ? 'a path inside the workspace' : undefined}
          />
          {hint}
        </label>
      );
  }
}

/** The form's values as URL parameters: each value that differs from the param's default (so a cleared default stays cleared). */
export function draftOf(fields: readonly JobTypeParam[], values: Record<string, FieldValue>, dryRun: boolean): URLSearchParams {
  const out = new URLSearchParams();
  const none = new URLSearchParams();
  for (const p of fields) {
    const v = values[p.name];
    if (v === undefined || v === initialValue(p, none)) continue;
    out.set(p.name, typeof v === 'boolean' ? String(v) : v);
  }
  if (dryRun) out.set('dry_run', '1');
  return out;
}

export function JobTypeForm({ type, sp, onDraft = () => {} }: { type: JobType; sp: URLSearchParams; onDraft?: (fields: URLSearchParams) => void }) {
  const fields = useMemo(() => type.params.filter((p) => p.name !== 'dry_run'), [type]);
  const [values, setValues] = useState<Record<string, FieldValue>>(() => Object.fromEntries(fields.map((p) => [p.name, initialValue(p, sp)])));
  const given = sp.get('dry_run');
  const [dryRun, setDryRun] = useState(given === '1' || given === 'true' || given === 'yes');
  useReportDraft(draftOf(fields, values, dryRun), onDraft);
  const submit = useSubmitJob();
  const body: SubmitJobRequest = { job_type: type.name, params: buildParams(type, values), dry_run: dryRun };
  const overridesText = values['overrides'];
  const badOverrides = typeof overridesText === 'string' && parseOverrides(overridesText).errors.length > 0;
  return (
    <form
      className="form"
      data-testid={`jobtype-form-${type.name}`}
      onSubmit={(e) => {
        e.preventDefault();
        submit.mutate({ kind: 'job', body });
      }}
    >
      {type.description && <p className="muted">{type.description}</p>}
      {fields.length === 0 && <p className="muted">This job type takes no parameters.</p>}
      {fields.map((p) => (
        <Field key={p.name} p={p} value={values[p.name] ?? ''} set={(v) => setValues((old) => ({ ...old, [p.name]: v }))} />
      ))}
      <label className="toggle">
        <input type="checkbox" name="dry_run" checked={dryRun} onChange={(e) => setDryRun(e.target.checked)} /> Dry run (validate and log the command, do not run it)
      </label>
      <details>
        <summary>Request payload</summary>
        <pre className="json-preview" data-testid="jobtype-payload">{JSON.stringify(body, null, 2)}</pre>
      </details>
      <div className="form-actions">
        <button type="submit" className="btn btn-primary" disabled={submit.isPending || badOverrides}>
          {submit.isPending ? 'Submitting…' : `Submit ${type.name} job`}
        </button>
        {badOverrides && <span className="text-error small">Fix the invalid override lines first.</span>}
      </div>
      {submit.data && (
        <p className="notice notice-ok" data-testid="last-job">
          Submitted <Link to={`/jobs/${encodeURIComponent(submit.data.job_id)}`} className="mono">{submit.data.job_id}</Link>
        </p>
      )}
    </form>
  );
}
