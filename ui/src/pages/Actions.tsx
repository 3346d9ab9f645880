import { useState } from 'react';
import { Link, useSearchParams } from 'react-router-dom';
import { useSubmitJob } from '../hooks/useSubmitJob';
import { OverridesEditor } from '../components/OverridesEditor';
import { parseOverrides } from '../lib/overrides';
import { DEFAULT_BACKTEST_CONFIG, DEFAULT_TRAIN_CONFIG } from '../lib/links';
import { useJobTypes } from '../hooks/useJobs';
import { JobTypeForm } from '../components/JobTypeForm';
import { ErrorState } from '../components/States';
import type { BacktestRequest, EvalMode, JobCreated } from '../types/api';

/** The three built-in types have their own forms (overrides preview, ticker lists); every
 * other type of GET /api/job-types (declared in alphalab.yaml) gets a form built from its params. */
export type ActionTab = string;
const BUILTIN_TABS: { id: ActionTab; label: string }[] = [
  { id: 'train', label: 'Train' },
  { id: 'backtest', label: 'Backtest' },
  { id: 'eval', label: 'Eval Metrics' },
];

export function tabFromType(t: string | null, userTypes: readonly string[] = []): ActionTab {
  if (t === 'backtest') return 'backtest';
  if (t === 'eval' || t === 'eval-metrics' || t === 'eval_metrics') return 'eval';
  if (t && userTypes.includes(t)) return t;
  return 'train';
}

/** Overrides may come as ?overrides=a=1%0Ab=2 or repeated ?set=a=1&set=b=2. */
function overridesFromParams(sp: URLSearchParams): string {
  return [...sp.getAll('overrides'), ...sp.getAll('set')].join('\n');
}

function boolParam(v: string | null): boolean {
  return v === '1' || v === 'true' || v === 'yes';
}

function LastJob({ created }: { created: JobCreated | undefined }) {
  if (!created) return null;
  return (
    <p className="notice notice-ok" data-testid="last-job">
      Submitted <Link to={`/jobs/${encodeURIComponent(created.job_id)}`} className="mono">{created.job_id}</Link>
    </p>
  );
}

function TrainForm({ sp }: { sp: URLSearchParams }) {
  const [configPath, setConfigPath] = useState(sp.get('config_path') ?? DEFAULT_TRAIN_CONFIG);
  const [overrides, setOverrides] = useState(overridesFromParams(sp));
  const [dryRun, setDryRun] = useState(boolParam(sp.get('dry_run')));
  const submit = useSubmitJob();
  const parsed = parseOverrides(overrides);
  return (
    <form
      className="form"
      data-testid="train-form"
      onSubmit={(e) => {
        e.preventDefault();
        submit.mutate({ kind: 'train', body: { config_path: configPath.trim(), overrides: parsed.overrides, dry_run: dryRun } });
      }}
    >
      <label>
        Config path
        <input name="config_path" value={configPath} onChange={(e) => setConfigPath(e.target.value)} required className="mono" />
      </label>
      <OverridesEditor id="train-overrides" value={overrides} onChange={setOverrides} />
      <label className="toggle">
        <input type="checkbox" checked={dryRun} onChange={(e) => setDryRun(e.target.checked)} /> Dry run (validate and log the command, do not train)
      </label>
      <div className="form-actions">
        <button type="submit" className="btn btn-primary" disabled={submit.isPending || parsed.errors.length > 0 || !configPath.trim()}>
          {submit.isPending ? 'Submitting…' : 'Submit train job'}
        </button>
        {parsed.errors.length > 0 && <span className="text-error small">Fix the invalid override lines first.</span>}
      </div>
      <LastJob created={submit.data} />
    </form>
  );
}

function BacktestForm({ sp }: { sp: URLSearchParams }) {
  const [configPath, setConfigPath] = useState(sp.get('config_path') ?? DEFAULT_BACKTEST_CONFIG);
  const [tickers, setTickers] = useState(sp.get('tickers') ?? sp.get('ticker') ?? '');
  const [modelPath, setModelPath] = useState(sp.get('model_path') ?? '');
  const [start, setStart] = useState(sp.get('start') ?? '');
  const [end, setEnd] = useState(sp.get('end') ?? '');
  const [overrides, setOverrides] = useState(overridesFromParams(sp));
  const [dryRun, setDryRun] = useState(boolParam(sp.get('dry_run')));
  const submit = useSubmitJob();
  const parsed = parseOverrides(overrides);
  const build = (): BacktestRequest => {
    const list = tickers.split(/[,\s]+/).map((t) => t.trim()).filter(Boolean);
    return {
      config_path: configPath.trim(),
      ...(list.length ? { tickers: list } : {}),
      ...(start ? { start } : {}),
      ...(end ? { end } : {}),
      ...(modelPath.trim() ? { model_path: modelPath.trim() } : {}),
      overrides: parsed.overrides,
      dry_run: dryRun,
    };
  };
  return (
    <form
      className="form"
      data-testid="backtest-form"
      onSubmit={(e) => {
        e.preventDefault();
        submit.mutate({ kind: 'backtest', body: build() });
      }}
    >
      <label>
        Config path
        <input name="config_path" value={configPath} onChange={(e) => setConfigPath(e.target.value)} required className="mono" />
      </label>
      <div className="row">
        <label>
          Ticker(s)
          <input name="tickers" value={tickers} onChange={(e) => setTickers(e.target.value)} placeholder={modelPath.trim() ? "the model's tickers" : 'from config (e.g. SPX or A,B)'} />
        </label>
        <label>
          Start
          <input name="start" type="date" value={start} onChange={(e) => setStart(e.target.value)} />
        </label>
        <label>
          End
          <input name="end" type="date" value={end} onChange={(e) => setEnd(e.target.value)} />
        </label>
      </div>
      <label>
        Model path (optional: backtest a trained model's signal)
        <input name="model_path" value={modelPath} onChange={(e) => setModelPath(e.target.value)} placeholder="runs/<run_id>/model.json" className="mono" />
      </label>
      {modelPath.trim() !== '' && (
        <p className="muted small" data-testid="model-defaults-hint">
          With a model, the server takes the dataset, the tickers this model serves and its test period (from the day after its
          valid_end to the data&apos;s last day) from the model&apos;s training run; Ticker(s), Start, End and a <code>dataset=</code>{' '}
          override given here win.
        </p>
      )}
      <OverridesEditor id="backtest-overrides" value={overrides} onChange={setOverrides} />
      <label className="toggle">
        <input type="checkbox" checked={dryRun} onChange={(e) => setDryRun(e.target.checked)} /> Dry run
      </label>
      <details>
        <summary>Request payload</summary>
        <pre className="json-preview" data-testid="backtest-payload">{JSON.stringify(build(), null, 2)}</pre>
      </details>
      <div className="form-actions">
        <button type="submit" className="btn btn-primary" disabled={submit.isPending || parsed.errors.length > 0 || !configPath.trim()}>
          {submit.isPending ? 'Submitting…' : 'Submit backtest job'}
        </button>
        {parsed.errors.length > 0 && <span className="text-error small">Fix the invalid override lines first.</span>}
      </div>
      <LastJob created={submit.data} />
    </form>
  );
}

function EvalForm({ sp }: { sp: URLSearchParams }) {
  const [runId, setRunId] = useState(sp.get('run_id') ?? '');
  const [mode, setMode] = useState<EvalMode>(sp.get('mode') === 'finetune' ? 'finetune' : 'base');
  const [dryRun, setDryRun] = useState(boolParam(sp.get('dry_run')));
  const submit = useSubmitJob();
  return (
    <form
      className="form"
      data-testid="eval-form"
      onSubmit={(e) => {
        e.preventDefault();
        submit.mutate({ kind: 'eval-metrics', body: { run_id: runId.trim(), mode, dry_run: dryRun } });
      }}
    >
      <label>
        Run ID
        <input name="run_id" value={runId} onChange={(e) => setRunId(e.target.value)} required className="mono" placeholder="run_YYYYMMDD_HHMMSS__hash8" />
      </label>
      <label>
        Mode
        <select name="mode" value={mode} onChange={(e) => setMode(e.target.value as EvalMode)}>
          <option value="base">base</option>
          <option value="finetune">finetune</option>
        </select>
      </label>
      <label className="toggle">
        <input type="checkbox" checked={dryRun} onChange={(e) => setDryRun(e.target.checked)} /> Dry run
      </label>
      <div className="form-actions">
        <button type="submit" className="btn btn-primary" disabled={submit.isPending || !runId.trim()}>
          {submit.isPending ? 'Submitting…' : 'Recompute metrics'}
        </button>
      </div>
      <LastJob created={submit.data} />
    </form>
  );
}

export function ActionsPage() {
  const [sp, setSp] = useSearchParams();
  const types = useJobTypes();
  const userTypes = (types.data ?? []).filter((t) => !t.builtin);
  const tab = tabFromType(sp.get('type'), userTypes.map((t) => t.name));
  const tabs = [...BUILTIN_TABS, ...userTypes.map((t) => ({ id: t.name, label: t.name }))];
  const userType = userTypes.find((t) => t.name === tab);
  // Forms re-initialise when the prefill parameters change, not when only the tab does.
  const prefill = new URLSearchParams(sp);
  prefill.delete('type');
  const key = prefill.toString();
  const pick = (t: ActionTab) => {
    const next = new URLSearchParams(sp);
    next.set('type', t);
    setSp(next, { replace: true });
  };
  return (
    <div className="page">
      <h1>Actions</h1>
      <div className="tabs" role="tablist">
        {tabs.map((t) => (
          <button key={t.id} type="button" role="tab" aria-selected={tab === t.id} className={`tab${tab === t.id ? ' active' : ''}`} onClick={() => pick(t.id)}>
            {t.label}
          </button>
        ))}
      </div>
      <section className="panel" role="tabpanel">
        {tab === 'train' && <TrainForm key={key} sp={sp} />}
        {tab === 'backtest' && <BacktestForm key={key} sp={sp} />}
        {tab === 'eval' && <EvalForm key={key} sp={sp} />}
        {userType && <JobTypeForm key={`${userType.name}?${key}`} type={userType} sp={prefill} />}
      </section>
      {types.isError && <ErrorState error={types.error} onRetry={() => void types.refetch()} />}
    </div>
  );
}
