// Pure logic of the optimization pages: the submit form's model (axes, sampler, objective, ...)
// to the request document and back, the client-side validation (the rules of
// docs/optimizations.md, so a refused request never leaves the page), task counts, progress
// arithmetic, Top-N ordering and the heatmap / parallel-coordinates data. No React, no fetch.
import type { OptimizationRequest, OptimizationStatus, OptimizationSummary, OptimizationTask, OptimizationTopEntry } from '../types/api';
import { OPTIMIZATION_TERMINAL } from '../types/api';

export type Direction = 'max' | 'min';
export type AxisKind = 'list' | 'range' | 'continuous' | 'models';

/** One `param_space` axis as the form edits it (text fields, parsed on submit). */
export interface AxisDraft {
  key: string;
  kind: AxisKind;
  /** list: values separated by commas or new lines */
  values: string;
  min: string;
  max: string;
  step: string;
  /** models: the registry filter */
  models: { project: string; status: string; ticker: string; mode: string; extra: string };
}

export interface SweepForm {
  name: string;
  project: string;
  job_type: string;
  /** base_params as JSON text (an object) */
  base_params: string;
  axes: AxisDraft[];
  sampler: 'grid' | 'random';
  n: string;
  seed: string;
  metric: string;
  direction: Direction;
  /** one constraint per line */
  constraints: string;
  early_stop: boolean;
  patience: string;
  min_tasks: string;
  target: string;
  max_inflight: string;
  top_n: string;
  holdout_start: string;
  /** a re-run: the optimization this one re-runs (its id) */
  source_job_id: string;
}

export const MAX_TASKS = 1_000_000;
export const DEFAULT_CONFIG = 'configs/backtest/base.yaml';

export function emptyAxis(key = ''): AxisDraft {
  return { key, kind: 'list', values: '', min: '', max: '', step: '', models: { project: '', status: 'success', ticker: '', mode: '', extra: '' } };
}

export function defaultForm(): SweepForm {
  return {
    name: '',
    project: '',
    job_type: 'backtest',
    base_params: JSON.stringify({ config_path: DEFAULT_CONFIG }, null, 1),
    axes: [
      { ...emptyAxis('strategy.params.fast'), kind: 'range', min: '5', max: '20', step: '5' },
      { ...emptyAxis('strategy.params.slow'), values: '50, 100, 150' },
    ],
    sampler: 'grid',
    n: '20',
    seed: '0',
    metric: 'final_equity',
    direction: 'max',
    constraints: '',
    early_stop: false,
    patience: '',
    min_tasks: '0',
    target: '',
    max_inflight: '',
    top_n: '10',
    holdout_start: '',
    source_job_id: '',
  };
}

/** Model selection (docs/optimizations.md, "Model selection"), prefilled from a project: every successful model of the
 * project backtested with the Top-N config, drawdown at most 15 %, best CAGR first. */
export function selectModelsForm(project: string): SweepForm {
  return {
    ...defaultForm(),
    name: `select models ${project}`,
    project,
    base_params: JSON.stringify({ config_path: 'configs/backtest/topn.yaml' }, null, 1),
    axes: [{ ...emptyAxis('strategy.params.model_path'), kind: 'models', models: { project, status: 'success', ticker: '', mode: '', extra: '' } }],
    metric: 'cagr',
    direction: 'max',
    constraints: 'max_drawdown <= 0.15',
    max_inflight: '8',
    top_n: '3',
  };
}

// ---------------------------------------------------------------- values

/** A list item as the server should see it: a number, true/false/null, a JSON string or list
 * when quoted or bracketed, else the text itself. */
export function parseValue(text: string): unknown {
  const t = text.trim();
  if (/^-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(t)) return Number(t);
  if (t === 'true') return true;
  if (t === 'false') return false;
  if (t === 'null') return null;
  if ((t.startsWith('"') && t.endsWith('"')) || t.startsWith('[')) {
    try {
      return JSON.parse(t) as unknown;
    } catch {
      return t;
    }
  }
  return t;
}

/** List items: one per line, or comma separated on a line (a bracketed item keeps its commas). */
export function splitValues(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const l = line.trim();
    if (!l) continue;
    if (l.startsWith('[') || l.startsWith('"')) out.push(l);
    else out.push(...l.split(',').map((s) => s.trim()).filter((s) => s !== ''));
  }
  return out;
}

/** The text of one list item that parses back to the same value (strings that would read as
 * a number, a keyword, a list or contain a comma are quoted). */
export function valueToText(v: unknown): string {
  if (typeof v === 'string' && !v.includes(',') && v.trim() === v && parseValue(v) === v) return v;
  return JSON.stringify(v);
}

function num(s: string): number | null {
  if (s.trim() === '') return null;
  const n = Number(s);
  return Number.isFinite(n) ? n : null;
}

function isInt(n: number): boolean {
  return Number.isInteger(n);
}

/** Number of values of a `{min, max, step}` range (max inclusive), as the server counts. */
export function rangeCount(min: number, max: number, step: number): number {
  if (!(step > 0) || min > max) return 0;
  return Math.floor((max - min) / step + 1e-9) + 1;
}

// ---------------------------------------------------------------- validation

export interface FieldError {
  /** the request field path the server would name */
  field: string;
  message: string;
}

export const OVERRIDE_KEY_RE = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z0-9_]+)*$/;
const PROJECT_RE = /^[A-Za-z0-9_.-]*$/;
const NUMBER_RE = /^-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;
const OPS = ['<=', '>=', '==', '!=', '<', '>'] as const;

export interface Constraint {
  metric: string;
  op: (typeof OPS)[number];
  value: number;
}

/** The constraint grammar of docs/optimizations.md: `lhs op number['%']`; lhs a name or a
 * quoted text with \" and \\ escapes. A message naming the problem, or the parsed constraint. */
export function parseConstraint(text: string): Constraint | string {
  let s = text.trim();
  let metric: string;
  if (s.startsWith('"')) {
    let i = 1;
    let out = '';
    for (; i < s.length; i++) {
      const c = s[i]!;
      if (c === '\\' && i + 1 < s.length && (s[i + 1] === '"' || s[i + 1] === '\\')) {
        out += s[++i];
      } else if (c === '"') break;
      else out += c;
    }
    if (i >= s.length) return `constraint '${text}': unterminated quoted metric name`;
    metric = out;
    s = s.slice(i + 1).trimStart();
  } else {
    const m = /^[A-Za-z0-9_][A-Za-z0-9_.-]*/.exec(s);
    if (!m) return `constraint '${text}': expected a metric name`;
    metric = m[0];
    s = s.slice(m[0].length).trimStart();
  }
  if (!metric) return `constraint '${text}': empty metric name`;
  const op = OPS.find((o) => s.startsWith(o));
  if (!op) return `constraint '${text}': has no comparison operator (<=, <, >=, >, ==, !=)`;
  s = s.slice(op.length).trim();
  let pct = false;
  if (s.endsWith('%')) {
    pct = true;
    s = s.slice(0, -1).trimEnd();
  }
  if (!NUMBER_RE.test(s)) return `constraint '${text}': '${s}' is not a number`;
  const v = Number(s);
  return { metric, op, value: pct ? v / 100 : v };
}

export function isValidDate(s: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(s)) return false;
  const d = new Date(`${s}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === s;
}

export interface BuiltRequest {
  request: OptimizationRequest | null;
  errors: FieldError[];
  /** tasks the sampler will create; null when it depends on the server (a models dimension) */
  tasks: number | null;
}

/** The request document of the form, with every error the server would give (field paths as
 * the server names them). `request` is null when there is an error. */
export function buildRequest(f: SweepForm): BuiltRequest {
  const errors: FieldError[] = [];
  const err = (field: string, message: string) => errors.push({ field, message });

  if (f.name.length > 200) err('name', 'at most 200 characters');
  if (f.project.length > 128 || !PROJECT_RE.test(f.project)) err('project', 'letters, digits, _ . - (at most 128)');
  if (!f.job_type.trim()) err('job_type', 'required');

  let base: Record<string, unknown> = {};
  if (f.base_params.trim()) {
    try {
      const b = JSON.parse(f.base_params) as unknown;
      if (b === null || typeof b !== 'object' || Array.isArray(b)) err('base_params', 'must be a JSON object');
      else base = b as Record<string, unknown>;
    } catch (e) {
      err('base_params', `not valid JSON (${(e as Error).message})`);
    }
  }
  if ('dry_run' in base) err('base_params.dry_run', 'an optimization cannot be a dry run');

  const random = f.sampler === 'random';
  const space: Record<string, unknown> = {};
  const counts: (number | null)[] = [];
  let continuous = false;
  if (f.axes.length === 0) err('param_space', 'at least one parameter');
  const seen = new Set<string>();
  for (const a of f.axes) {
    const key = a.key.trim();
    const p = `param_space.${key || '?'}`;
    if (!OVERRIDE_KEY_RE.test(key)) {
      err(p, `'${key}' is not an override key (letters, digits, _ separated by dots)`);
      continue;
    }
    if (seen.has(key)) {
      err(p, 'repeated parameter');
      continue;
    }
    seen.add(key);
    if (a.kind === 'list') {
      const items = splitValues(a.values).map(parseValue);
      if (items.length === 0) err(p, 'the list is empty');
      const keys = items.map((v) => JSON.stringify(v));
      const dup = keys.find((k, i) => keys.indexOf(k) !== i);
      if (dup !== undefined) err(p, `duplicate value ${dup}`);
      space[key] = items;
      counts.push(items.length);
    } else if (a.kind === 'range' || a.kind === 'continuous') {
      const min = num(a.min);
      const max = num(a.max);
      if (min === null) err(`${p}.min`, 'a number is required');
      if (max === null) err(`${p}.max`, 'a number is required');
      if (min !== null && max !== null && min > max) err(`${p}.max`, `must be at least min (${min})`);
      if (a.kind === 'range') {
        const step = num(a.step);
        if (step === null) err(`${p}.step`, 'a number is required');
        else if (step <= 0) err(`${p}.step`, 'must be greater than 0');
        space[key] = { min, max, step };
        counts.push(min !== null && max !== null && step !== null && step > 0 ? rangeCount(min, max, step) : 0);
      } else {
        continuous = true;
        if (!random) err(p, 'a {min, max} range without step needs the random sampler');
        space[key] = { min, max };
        counts.push(min !== null && max !== null && isInt(min) && isInt(max) ? max - min + 1 : null);
      }
    } else {
      const m = a.models;
      const filter: Record<string, unknown> = {};
      if (m.project.trim()) filter['project'] = m.project.trim();
      if (m.status.trim()) filter['status'] = m.status.trim();
      if (m.ticker.trim()) filter['ticker'] = m.ticker.trim();
      if (m.mode.trim()) filter['mode'] = m.mode.trim();
      for (const line of m.extra.split('\n').map((l) => l.trim()).filter(Boolean)) {
        const mm = /^((min|max)_[A-Za-z0-9_]+)\s*=\s*(\S+)$/.exec(line);
        if (!mm || num(mm[3]!) === null) err(`${p}.models`, `'${line}': expected min_<metric>=number or max_<metric>=number`);
        else filter[mm[1]!] = Number(mm[3]);
      }
      if (!filter['project']) err(`${p}.models.project`, 'a project is required');
      space[key] = { models: filter };
      counts.push(null);
    }
  }

  let tasks: number | null = counts.includes(null) ? null : counts.reduce<number>((acc, c) => acc * (c ?? 1), 1);
  let sampler: Record<string, unknown> = { type: 'grid' };
  if (random) {
    const n = num(f.n);
    const seed = num(f.seed.trim() === '' ? '0' : f.seed);
    if (n === null || !isInt(n) || n < 1) err('sampler.n', 'an integer >= 1');
    if (seed === null || !isInt(seed) || seed < 0) err('sampler.seed', 'an integer >= 0');
    if (n !== null && isInt(n) && n >= 1) {
      if (!continuous && tasks !== null && n > tasks) err('sampler.n', `${n} is more than the ${tasks} distinct parameter sets`);
      // n draws; a models axis (counted by the server) leaves the count open unless n bounds it
      tasks = continuous || tasks !== null ? n : null;
    }
    sampler = { type: 'random', n: n ?? 0, seed: seed ?? 0 };
  }
  if (tasks !== null && tasks > MAX_TASKS) err(random ? 'sampler.n' : 'param_space', `the optimization would have ${tasks} tasks, more than the maximum of ${MAX_TASKS}`);

  const metric = f.metric.trim();
  if (!metric) err('objective.metric', 'required');
  const constraints = f.constraints.split('\n').map((l) => l.trim()).filter(Boolean);
  constraints.forEach((c, i) => {
    const r = parseConstraint(c);
    if (typeof r === 'string') err(`constraints[${i}]`, r);
  });

  let early: OptimizationRequest['early_stop_policy'] = null;
  if (f.early_stop) {
    const patience = num(f.patience);
    const minTasks = num(f.min_tasks.trim() === '' ? '0' : f.min_tasks);
    const target = num(f.target);
    if (f.patience.trim() && (patience === null || !isInt(patience) || patience < 1)) err('early_stop_policy.patience', 'an integer >= 1');
    if (minTasks === null || !isInt(minTasks) || minTasks < 0) err('early_stop_policy.min_tasks', 'an integer >= 0');
    if (f.target.trim() && target === null) err('early_stop_policy.target', 'a number');
    if (!f.patience.trim() && !f.target.trim()) err('early_stop_policy', 'give a patience, a target or both');
    early = { mode: f.direction, patience: f.patience.trim() ? patience : null, min_tasks: minTasks ?? 0, target: f.target.trim() ? target : null };
  }

  const req: OptimizationRequest = {
    name: f.name,
    project: f.project,
    job_type: f.job_type.trim(),
    base_params: base,
    param_space: space,
    sampler: sampler as NonNullable<OptimizationRequest['sampler']>,
    objective: { metric, direction: f.direction },
    constraints,
    early_stop_policy: early,
  };
  if (f.max_inflight.trim()) {
    const m = num(f.max_inflight);
    if (m === null || !isInt(m) || m < 1 || m > 10000) err('max_inflight', 'an integer from 1 to 10000');
    else req.max_inflight = m;
  }
  const topN = num(f.top_n.trim() === '' ? '10' : f.top_n);
  if (topN === null || !isInt(topN) || topN < 1 || topN > 1000) err('top_n', 'an integer from 1 to 1000');
  else req.top_n = topN;
  if (f.holdout_start.trim()) {
    if (!isValidDate(f.holdout_start.trim())) err('validation.holdout_start', 'a date YYYY-MM-DD');
    else req.validation = { holdout_start: f.holdout_start.trim() };
  }
  if (f.source_job_id.trim()) {
    if (!/^opt_[A-Za-z0-9_.-]+$/.test(f.source_job_id.trim())) err('source_job_id', 'an optimization id opt_...');
    else req.source_job_id = f.source_job_id.trim();
  }
  return { request: errors.length ? null : req, errors, tasks };
}

/** The form of a stored (normalised) request document: what a re-run opens with. */
export function formFromRequest(r: Record<string, unknown>, sourceId = ''): SweepForm {
  const f = defaultForm();
  const str = (v: unknown) => (typeof v === 'string' ? v : '');
  const numText = (v: unknown) => (typeof v === 'number' ? String(v) : '');
  f.name = str(r['name']);
  f.project = str(r['project']);
  f.job_type = str(r['job_type']) || 'backtest';
  f.base_params = JSON.stringify(r['base_params'] ?? {}, null, 1);
  const space = (r['param_space'] ?? {}) as Record<string, unknown>;
  f.axes = Object.entries(space).map(([key, v]) => {
    const a = emptyAxis(key);
    if (Array.isArray(v)) {
      const texts = v.map(valueToText);
      // a quoted or bracketed item is read as a whole line: one item per line then
      return { ...a, kind: 'list' as const, values: texts.join(texts.some((t) => /^["[]/.test(t)) ? '\n' : ', ') };
    }
    const o = (v ?? {}) as Record<string, unknown>;
    if (o['models'] && typeof o['models'] === 'object') {
      const m = o['models'] as Record<string, unknown>;
      const extra = Object.entries(m)
        .filter(([k]) => /^(min|max)_/.test(k))
        .map(([k, x]) => `${k}=${String(x)}`)
        .join('\n');
      return { ...a, kind: 'models' as const, models: { project: str(m['project']), status: str(m['status']), ticker: str(m['ticker']), mode: str(m['mode']), extra } };
    }
    if ('step' in o) return { ...a, kind: 'range' as const, min: numText(o['min']), max: numText(o['max']), step: numText(o['step']) };
    return { ...a, kind: 'continuous' as const, min: numText(o['min']), max: numText(o['max']) };
  });
  const s = r['sampler'];
  if (s && typeof s === 'object' && (s as Record<string, unknown>)['type'] === 'random') {
    f.sampler = 'random';
    f.n = numText((s as Record<string, unknown>)['n']);
    f.seed = numText((s as Record<string, unknown>)['seed']) || '0';
  } else f.sampler = 'grid';
  const o = (r['objective'] ?? {}) as Record<string, unknown>;
  f.metric = str(o['metric']);
  f.direction = o['direction'] === 'min' ? 'min' : 'max';
  f.constraints = Array.isArray(r['constraints']) ? (r['constraints'] as unknown[]).map(String).join('\n') : '';
  const e = r['early_stop_policy'] as Record<string, unknown> | null | undefined;
  // A stored policy without a patience and a target never stops anything (the server fills the
  // policy's defaults): the form leaves it off rather than opening invalid.
  f.early_stop = !!e && (e['patience'] != null || e['target'] != null);
  if (e) {
    f.patience = numText(e['patience']);
    f.min_tasks = numText(e['min_tasks']) || '0';
    f.target = numText(e['target']);
  }
  f.max_inflight = numText(r['max_inflight']);
  f.top_n = numText(r['top_n']) || '10';
  const v = r['validation'] as Record<string, unknown> | null | undefined;
  f.holdout_start = v ? str(v['holdout_start']) : '';
  f.source_job_id = sourceId;
  return f;
}

/** A re-run of one task: the source's document with every axis narrowed to the task's value
 * (the user widens it again if they like). */
export function formForTask(r: Record<string, unknown>, sourceId: string, params: Record<string, unknown>): SweepForm {
  const f = formFromRequest(r, sourceId);
  f.axes = Object.entries(params).map(([key, v]) => ({ ...emptyAxis(key), kind: 'list' as const, values: valueToText(v) }));
  f.sampler = 'grid';
  // One combination: nothing to stop early.
  f.early_stop = false;
  f.name = f.name ? `${f.name} (task)` : '';
  return f;
}

// ---------------------------------------------------------------- status and progress

export function isTerminalOpt(s: OptimizationStatus): boolean {
  return OPTIMIZATION_TERMINAL.includes(s);
}

export interface ProgressParts {
  total: number;
  ended: number;
  /** ended / total in [0, 1] (0 for an empty optimization) */
  fraction: number;
  /** percentages of the bar, finished + failed + canceled + running + queued = 100 (or all 0) */
  pct: { finished: number; failed: number; canceled: number; running: number; queued: number };
  /** the summary invariant holds (finished + failed + canceled + running + queued = total) */
  consistent: boolean;
}

export function progressParts(s: Pick<OptimizationSummary, 'total' | 'finished' | 'failed' | 'canceled' | 'running' | 'queued'>): ProgressParts {
  const total = s.total;
  const ended = s.finished + s.failed + s.canceled;
  const sum = ended + s.running + s.queued;
  const p = (n: number) => (total > 0 ? (100 * n) / total : 0);
  return {
    total,
    ended,
    fraction: total > 0 ? Math.min(1, ended / total) : 0,
    pct: { finished: p(s.finished), failed: p(s.failed), canceled: p(s.canceled), running: p(s.running), queued: p(s.queued) },
    consistent: sum === total,
  };
}

/** The Top-N in the objective's direction (best first), ties by lower index. */
export function sortTop(rows: readonly OptimizationTopEntry[], direction: Direction): OptimizationTopEntry[] {
  return [...rows].sort((a, b) => (a.score === b.score ? a.index - b.index : direction === 'max' ? b.score - a.score : a.score - b.score));
}

export function directionLabel(direction: Direction): string {
  return direction === 'max' ? 'highest first (objective: max)' : 'lowest first (objective: min)';
}

/** The Top-N board's direction: early_stop_policy.mode, which the server keeps equal to the objective's. */
export function boardDirection(request: Record<string, unknown>): Direction {
  const e = request['early_stop_policy'] as Record<string, unknown> | null | undefined;
  if (e && (e['mode'] === 'min' || e['mode'] === 'max')) return e['mode'];
  const o = request['objective'] as Record<string, unknown> | undefined;
  return o?.['direction'] === 'min' ? 'min' : 'max';
}

export function fmtSeconds(s: number): string {
  if (s < 1) return `${Math.max(1, Math.round(s * 1000))} ms`;
  if (s < 120) return `${s.toFixed(1)} s`;
  if (s < 7200) return `${(s / 60).toFixed(1)} min`;
  return `${(s / 3600).toFixed(1)} h`;
}

export function fmtScore(v: number | null | undefined): string {
  if (v === null || v === undefined) return '—';
  const a = Math.abs(v);
  if (a !== 0 && (a >= 1e12 || a < 1e-3)) return v.toPrecision(6);
  return v.toLocaleString('en-US', { maximumFractionDigits: a >= 1000 ? 2 : 4 });
}

export function fmtParam(v: unknown): string {
  if (typeof v === 'string') return v;
  return JSON.stringify(v);
}

// ---------------------------------------------------------------- heatmap and parallel coordinates

export interface Heatmap {
  xKey: string;
  yKey: string;
  /** column and row labels: one value each, or a range "a–b" of consecutive values when grouped */
  xs: string[];
  ys: string[];
  /** more distinct values than HEATMAP_MAX_BINS on that axis: consecutive values share a cell */
  groupedX: boolean;
  groupedY: boolean;
  /** cells[y][x]: the best score in the cell (null = no score: not ranked, not run yet, failed) */
  cells: (number | null)[][];
  min: number | null;
  max: number | null;
}

/** At most this many columns and rows; a larger grid groups consecutive values into one cell. */
export const HEATMAP_MAX_BINS = 40;

function sortValues(vals: unknown[]): unknown[] {
  const uniq = new Map<string, unknown>();
  for (const v of vals) uniq.set(JSON.stringify(v), v);
  return [...uniq.values()].sort((a, b) => (typeof a === 'number' && typeof b === 'number' ? a - b : JSON.stringify(a).localeCompare(JSON.stringify(b))));
}

interface AxisBins {
  labels: string[];
  /** JSON of a value -> its bin */
  bin: Map<string, number>;
  grouped: boolean;
}

// The sorted distinct values of one axis in at most maxBins bins of consecutive values.
function axisBins(values: unknown[], maxBins: number): AxisBins {
  const sorted = sortValues(values);
  const per = Math.max(1, Math.ceil(sorted.length / maxBins));
  const labels: string[] = [];
  const bin = new Map<string, number>();
  for (let i = 0; i < sorted.length; i += per) {
    const group = sorted.slice(i, i + per);
    const first = fmtParam(group[0]);
    labels.push(group.length === 1 ? first : `${first}–${fmtParam(group[group.length - 1])}`);
    for (const v of group) bin.set(JSON.stringify(v), labels.length - 1);
  }
  return { labels, bin, grouped: per > 1 };
}

/**
 * A two-parameter grid as a score matrix (x = first key, y = second key). An axis with more than
 * `maxBins` distinct values groups consecutive values, and a cell then shows the best score of
 * its tasks in the objective's direction.
 */
export function buildHeatmap(
  tasks: readonly OptimizationTask[],
  xKey: string,
  yKey: string,
  direction: Direction = 'max',
  maxBins: number = HEATMAP_MAX_BINS,
): Heatmap {
  const xb = axisBins(tasks.map((t) => t.params[xKey]), maxBins);
  const yb = axisBins(tasks.map((t) => t.params[yKey]), maxBins);
  const cells: (number | null)[][] = yb.labels.map(() => xb.labels.map(() => null));
  let min: number | null = null;
  let max: number | null = null;
  for (const t of tasks) {
    const x = xb.bin.get(JSON.stringify(t.params[xKey]));
    const y = yb.bin.get(JSON.stringify(t.params[yKey]));
    if (x === undefined || y === undefined || t.score === null) continue;
    const row = cells[y]!;
    const old = row[x] ?? null;
    if (old === null || (direction === 'max' ? t.score > old : t.score < old)) row[x] = t.score;
    min = min === null ? t.score : Math.min(min, t.score);
    max = max === null ? t.score : Math.max(max, t.score);
  }
  return { xKey, yKey, xs: xb.labels, ys: yb.labels, groupedX: xb.grouped, groupedY: yb.grouped, cells, min, max };
}

/** Normalised position of a score between min and max, 1 = best in the direction. */
export function scoreShade(v: number, min: number, max: number, direction: Direction): number {
  if (max === min) return 1;
  const t = (v - min) / (max - min);
  return direction === 'max' ? t : 1 - t;
}

export interface ParallelAxis {
  key: string;
  values: unknown[];
  /** numeric axis: min..max; else categorical positions */
  numeric: boolean;
  min: number;
  max: number;
}

/** One vertical axis per parameter (and the score last): position in [0, 1] of each task's value. */
export function parallelAxes(tasks: readonly OptimizationTask[], keys: readonly string[]): ParallelAxis[] {
  return keys.map((key) => {
    const values = sortValues(tasks.map((t) => t.params[key]));
    const numeric = values.every((v) => typeof v === 'number');
    const nums = values as number[];
    return { key, values, numeric, min: numeric && nums.length ? Math.min(...nums) : 0, max: numeric && nums.length ? Math.max(...nums) : 0 };
  });
}

export function axisPosition(a: ParallelAxis, v: unknown): number {
  if (a.numeric && typeof v === 'number') return a.max === a.min ? 0.5 : (v - a.min) / (a.max - a.min);
  const i = a.values.findIndex((x) => JSON.stringify(x) === JSON.stringify(v));
  return a.values.length <= 1 ? 0.5 : Math.max(0, i) / (a.values.length - 1);
}
