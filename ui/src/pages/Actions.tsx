import { useEffect, useMemo, useRef, useState } from 'react';
import { useReportDraft } from '../hooks/useReportDraft';
import { Link, useSearchParams } from 'react-router-dom';
import { useSubmitJob } from '../hooks/useSubmitJob';
import { OverridesEditor } from '../components/OverridesEditor';
import { parseOverrides } from '../lib/overrides';
import { DEFAULT_BACKTEST_CONFIG, DEFAULT_TRAIN_CONFIG } from '../lib/links';
import { useJobTypes } from '../hooks/useJobs';
import { JobTypeForm } from '../components/JobTypeForm';
import { ErrorState, Loading } from '../components/States';
import { draftUrlParams, fieldsOf, initialFields, lastTab, loadDraft, saveDraft, saveLastTab } from '../lib/actionDrafts';
import { onTabListKey } from '../lib/tabKeys';
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

type DraftSink = (fields: URLSearchParams) => void;

/** The overrides a scores file adds before the user's own: the strategy reads the file (its params replaced). */
export function scoresOverrides(scoresPath: string, strategy: string): string[] {
  const path = scoresPath.trim();
  if (!path) return [];
  return [`strategy.type=${strategy}`, `strategy.params={"scores_path": ${JSON.stringify(path)}}`];
}

function LastJob({ created }: { created: JobCreated | undefined }) {
  if (!created) return null;
  return (
    <p className="notice notice-ok" data-testid="last-job">
      Submitted <Link to={`/jobs/${encodeURIComponent(created.job_id)}`} className="mono">{created.job_id}</Link>
    </p>
  );
}

function TrainForm({ sp, onDraft }: { sp: URLSearchParams; onDraft: DraftSink }) {
  const [configPath, setConfigPath] = useState(sp.get('config_path') ?? DEFAULT_TRAIN_CONFIG);
  const [overrides, setOverrides] = useState(overridesFromParams(sp));
  const [dryRun, setDryRun] = useState(boolParam(sp.get('dry_run')));
  useReportDraft(fieldsOf([['config_path', configPath], ['overrides', overrides], ['dry_run', dryRun]]), onDraft);
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

function BacktestForm({ sp, onDraft }: { sp: URLSearchParams; onDraft: DraftSink }) {
  const [configPath, setConfigPath] = useState(sp.get('config_path') ?? DEFAULT_BACKTEST_CONFIG);
  const [tickers, setTickers] = useState(sp.get('tickers') ?? sp.get('ticker') ?? '');
  const [modelPath, setModelPath] = useState(sp.get('model_path') ?? '');
  const [scoresPath, setScoresPath] = useState(sp.get('scores_path') ?? '');
  const [scoresStrategy, setScoresStrategy] = useState(sp.get('scores_strategy') === 'topn' ? 'topn' : 'signal');
  const [start, setStart] = useState(sp.get('start') ?? '');
  const [end, setEnd] = useState(sp.get('end') ?? '');
  const [overrides, setOverrides] = useState(overridesFromParams(sp));
  const [dryRun, setDryRun] = useState(boolParam(sp.get('dry_run')));
  useReportDraft(
    fieldsOf([
      ['config_path', configPath],
      ['tickers', tickers],
      ['model_path', modelPath],
      ['scores_path', scoresPath],
      ['scores_strategy', scoresPath.trim() && scoresStrategy !== 'signal' ? scoresStrategy : undefined],
      ['start', start],
      ['end', end],
      ['overrides', overrides],
      ['dry_run', dryRun],
    ]),
    onDraft,
  );
  const submit = useSubmitJob();
  const parsed = parseOverrides(overrides);
  const both = modelPath.trim() !== '' && scoresPath.trim() !== '';
  const build = (): BacktestRequest => {
    const list = tickers.split(/[,\s]+/).map((t) => t.trim()).filter(Boolean);
    return {
      config_path: configPath.trim(),
      ...(list.length ? { tickers: list } : {}),
      ...(start ? { start } : {}),
      ...(end ? { end } : {}),
      ...(modelPath.trim() ? { model_path: modelPath.trim() } : {}),
      // The scores file's overrides first, so the user's own strategy.params.* lines add to them.
      overrides: [...scoresOverrides(scoresPath, scoresStrategy), ...parsed.overrides],
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
      <div className="row">
        <label>
          Scores file (optional: a CSV with columns date,symbol,score inside the workspace)
          <input name="scores_path" value={scoresPath} onChange={(e) => setScoresPath(e.target.value)} placeholder="preds/scores.csv" className="mono" />
        </label>
        {scoresPath.trim() !== '' && (
          <label>
            Strategy for the scores
            <select name="scores_strategy" value={scoresStrategy} onChange={(e) => setScoresStrategy(e.target.value)}>
              <option value="signal">signal (long while score ≥ cutoff)</option>
              <option value="topn">topn (the top-ranked names)</option>
            </select>
          </label>
        )}
      </div>
      {scoresPath.trim() !== '' && (
        <p className="muted small" data-testid="scores-hint">
          Sent as <code>strategy.type={scoresStrategy}</code> and <code>strategy.params.scores_path</code> (the config&apos;s strategy
          params are replaced; add <code>strategy.params.cutoff=…</code> or <code>strategy.params.top_n=…</code> below). Each row&apos;s
          score is decided at that bar&apos;s close and traded at the next open.
        </p>
      )}
      {both && (
        <p className="text-error small" data-testid="scores-model-conflict">
          Give a model or a scores file, not both.
        </p>
      )}
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
        <button type="submit" className="btn btn-primary" disabled={submit.isPending || parsed.errors.length > 0 || !configPath.trim() || both}>
          {submit.isPending ? 'Submitting…' : 'Submit backtest job'}
        </button>
        {parsed.errors.length > 0 && <span className="text-error small">Fix the invalid override lines first.</span>}
      </div>
      <LastJob created={submit.data} />
    </form>
  );
}

function EvalForm({ sp, onDraft }: { sp: URLSearchParams; onDraft: DraftSink }) {
  const [runId, setRunId] = useState(sp.get('run_id') ?? '');
  const [mode, setMode] = useState<EvalMode>(sp.get('mode') === 'finetune' ? 'finetune' : 'base');
  const [dryRun, setDryRun] = useState(boolParam(sp.get('dry_run')));
  useReportDraft(fieldsOf([['run_id', runId], ['mode', mode === 'base' ? undefined : mode], ['dry_run', dryRun]]), onDraft);
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
  const requested = sp.get('type') ?? ([...sp.keys()].length === 0 ? lastTab() : null);
  // A user type named in the URL is known once GET /api/job-types answers: wait for it rather than show (and draft) the Train form.
  const waiting = types.isPending && requested !== null && tabFromType(requested) === 'train' && requested !== 'train';
  const tab = tabFromType(requested, userTypes.map((t) => t.name));
  const tabs = [...BUILTIN_TABS, ...userTypes.map((t) => ({ id: t.name, label: t.name }))];
  const userType = userTypes.find((t) => t.name === tab);

  // The URL this page wrote last. A URL change that is not ours (a link, the nav, Back) starts
  // the form again from it (or from the tab's stored draft when it has no parameters).
  const spText = sp.toString();
  const written = useRef<string | null>(null);
  const seen = useRef(spText);
  const [generation, setGeneration] = useState(0);
  useEffect(() => {
    if (spText === seen.current) return;
    seen.current = spText;
    if (spText !== written.current) setGeneration((g) => g + 1);
  }, [spText]);
  // Not on every URL change (the page rewrites it on each keystroke): only on a tab change or an outside navigation.
  const init = useMemo(() => initialFields(tab, sp), [tab, generation, waiting]);

  const onDraft = (fields: URLSearchParams) => {
    if (waiting) return;
    saveDraft(tab, fields);
    saveLastTab(tab);
    const next = draftUrlParams(tab, fields);
    written.current = next.toString();
    if (written.current !== spText) setSp(next, { replace: true });
  };
  const pick = (t: ActionTab) => {
    const next = draftUrlParams(t, loadDraft(t) ?? new URLSearchParams());
    written.current = next.toString();
    setSp(next, { replace: true });
  };
  const formKey = `${tab}#${generation}`;
  return (
    <div className="page">
      <h1>Actions</h1>
      <div
        className="tabs"
        role="tablist"
        aria-label="Job type"
        onKeyDown={(e) => onTabListKey(e, tabs.map((t) => t.id), tab, pick, (t) => `tab-${t}`)}
      >
        {tabs.map((t) => (
          <button
            key={t.id}
            id={`tab-${t.id}`}
            type="button"
            role="tab"
            aria-selected={tab === t.id}
            aria-controls="actions-tabpanel"
            tabIndex={tab === t.id ? 0 : -1}
            className={`tab${tab === t.id ? ' active' : ''}`}
            onClick={() => pick(t.id)}
          >
            {t.label}
          </button>
        ))}
      </div>
      <section className="panel" role="tabpanel" id="actions-tabpanel" aria-labelledby={`tab-${tab}`}>
        {waiting && <Loading />}
        {!waiting && tab === 'train' && <TrainForm key={formKey} sp={init} onDraft={onDraft} />}
        {!waiting && tab === 'backtest' && <BacktestForm key={formKey} sp={init} onDraft={onDraft} />}
        {!waiting && tab === 'eval' && <EvalForm key={formKey} sp={init} onDraft={onDraft} />}
        {!waiting && userType && <JobTypeForm key={formKey} type={userType} sp={init} onDraft={onDraft} />}
      </section>
      {types.isError && <ErrorState error={types.error} onRetry={() => void types.refetch()} />}
    </div>
  );
}
