// The RD-Agent page's pure parts: the New task form (fields -> POST /api/rdagent/tasks body,
// checked as the server checks the rdagent-fin-quant type's params), the tab names in the URL,
// the server's 4xx mapped onto a field, and the loop progress shown on the Monitor tab.
import { isApiError } from '../api/client';
import { errorText } from './errors';
import type { components } from '../api/schema.gen';

type Schemas = components['schemas'];
export type RdagentTask = Schemas['RdagentTask'];
export type RdagentTaskPage = Schemas['RdagentTaskPage'];
export type RdagentTaskRequest = Schemas['RdagentTaskRequest'];
export type RdagentTemplates = Schemas['RdagentTemplates'];
export type ConfigHistory = Schemas['ConfigHistory'];
export type ConfigHistoryEntry = Schemas['ConfigHistoryEntry'];
export type DatasetList = Schemas['DatasetList'];
export type JobArtifactPage = Schemas['JobArtifactPage'];

export const RDAGENT_TABS = [
  { id: 'tasks', label: 'Tasks' },
  { id: 'config', label: 'Config center' },
  { id: 'datasets', label: 'Datasets' },
  { id: 'monitor', label: 'Monitor' },
] as const;
export type RdagentTab = (typeof RDAGENT_TABS)[number]['id'];

/** The `?tab=` value, or Tasks for a missing or unknown one. */
export function tabFromParam(v: string | null): RdagentTab {
  return RDAGENT_TABS.find((t) => t.id === v)?.id ?? 'tasks';
}

export const EVOLVING_MODES = ['bandit', 'llm', 'random'] as const;
export type EvolvingMode = (typeof EVOLVING_MODES)[number];

export interface TaskForm {
  dataset_ids: string[];
  loop_n: string;
  all_duration: string;
  evolving_mode: EvolvingMode;
  n_epochs: string;
  batch_size: string;
  n_jobs: string;
  knowledge_base: boolean;
  /** 'current' = the live templates; 'history' = source_history_id */
  source: 'current' | 'history';
  /** the template whose history is listed (its path in the rdagent root) */
  history_file: string;
  source_history_id: string;
}

export function defaultTaskForm(defaultDataset: string | null): TaskForm {
  return {
    dataset_ids: defaultDataset ? [defaultDataset] : [],
    loop_n: '1',
    all_duration: '',
    evolving_mode: 'bandit',
    n_epochs: '',
    batch_size: '',
    n_jobs: '',
    knowledge_base: false,
    source: 'current',
    history_file: '',
    source_history_id: '',
  };
}

export type FieldErrors = Partial<Record<keyof TaskForm | 'form', string>>;

const INT_RE = /^\d+$/;
// RD-Agent reads all_duration as a pandas Timedelta: "1h", "30m", "1h30m", "2d", "90s".
const DURATION_RE = /^(\d+(\.\d+)?\s*(d|h|m|min|s)\s*)+$/i;

function positiveInt(v: string, name: string, required: boolean): string | undefined {
  const t = v.trim();
  if (!t) return required ? `${name} is required` : undefined;
  if (!INT_RE.test(t) || Number(t) < 1 || !Number.isSafeInteger(Number(t))) return `${name} must be a whole number of at least 1`;
  return undefined;
}

/** The request body, or the problems per field (nothing is sent while there is one). */
export function buildTaskRequest(f: TaskForm): { body: RdagentTaskRequest | null; errors: FieldErrors } {
  const errors: FieldErrors = {};
  if (f.dataset_ids.length === 0) errors.dataset_ids = 'choose at least one dataset';
  const loop = positiveInt(f.loop_n, 'loop_n', true);
  if (loop) errors.loop_n = loop;
  if (f.all_duration.trim() && !DURATION_RE.test(f.all_duration.trim())) errors.all_duration = 'a duration such as 1h, 30m or 1h30m';
  for (const k of ['n_epochs', 'batch_size', 'n_jobs'] as const) {
    const e = positiveInt(f[k], k, false);
    if (e) errors[k] = e;
  }
  if (f.source === 'history' && !f.source_history_id) errors.source_history_id = 'choose a saved version (or use the current templates)';
  if (Object.keys(errors).length > 0) return { body: null, errors };
  const body: RdagentTaskRequest = {
    dataset_ids: [...f.dataset_ids],
    loop_n: Number(f.loop_n.trim()),
    evolving_mode: f.evolving_mode,
    knowledge_base: f.knowledge_base,
  };
  if (f.all_duration.trim()) body.all_duration = f.all_duration.trim();
  if (f.n_epochs.trim()) body.n_epochs = Number(f.n_epochs.trim());
  if (f.batch_size.trim()) body.batch_size = Number(f.batch_size.trim());
  if (f.n_jobs.trim()) body.n_jobs = Number(f.n_jobs.trim());
  if (f.source === 'history') body.source_history_id = f.source_history_id;
  return { body, errors };
}

const FORM_FIELDS: readonly string[] = ['dataset_ids', 'loop_n', 'all_duration', 'evolving_mode', 'n_epochs', 'batch_size', 'n_jobs', 'knowledge_base', 'source_history_id'];

/** A refused submit as field errors: the envelope's details.parameter / details.field when it names
 * a field of the form, else the whole message on the form. */
export function serverErrors(e: unknown): FieldErrors {
  const text = errorText(e);
  if (isApiError(e) && e.details && typeof e.details === 'object') {
    const d = e.details as Record<string, unknown>;
    const name = typeof d['parameter'] === 'string' ? d['parameter'] : typeof d['field'] === 'string' ? d['field'] : null;
    if (name && FORM_FIELDS.includes(name)) return { [name]: text } as FieldErrors;
  }
  return { form: text };
}

export interface LoopView {
  /** loops finished (the progress bar's value) */
  done: number;
  total: number;
  /** "Loop 2 of 3 · step 3/5 running" or a final word */
  text: string;
}

/** The Monitor tab's progress line from the task's parsed log (progress) and its params. */
export function loopView(t: RdagentTask): LoopView {
  const total = typeof t.job.params['loop_n'] === 'number' ? t.job.params['loop_n'] : Math.max(1, t.progress.loops_started);
  const { loop, step, step_name } = t.progress;
  const status = t.job.status;
  if (status === 'SUCCESS') return { done: total, total, text: `${total} of ${total} loops done` };
  const started = t.progress.loops_started;
  const done = Math.min(total, Math.max(0, status === 'RUNNING' ? started - 1 : t.loop_results.length));
  if (status === 'QUEUED') return { done: 0, total, text: 'Queued' };
  if (loop === null || loop === undefined) return { done, total, text: status === 'RUNNING' ? 'Starting…' : `${status.toLowerCase()} before the first loop` };
  const where = `Loop ${loop + 1} of ${total}${step !== null && step !== undefined ? ` · step ${step + 1}: ${step_name ?? ''}` : ''}`;
  return { done, total, text: status === 'RUNNING' ? where : `${status.toLowerCase()} at ${where}` };
}

/** The metrics RD-Agent's qlib_res.csv carries that the summary shows first (the rest follow). */
export const KEY_METRICS = ['IC', 'ICIR', 'Rank IC', 'Rank ICIR', '1day.excess_return_with_cost.annualized_return', '1day.excess_return_with_cost.information_ratio', '1day.excess_return_with_cost.max_drawdown'];

/** Metric names in display order: the key ones present first, then the others by name. */
export function orderedMetrics(m: Record<string, number>): string[] {
  const keys = Object.keys(m);
  const first = KEY_METRICS.filter((k) => k in m);
  return [...first, ...keys.filter((k) => !KEY_METRICS.includes(k)).sort()];
}

/** The config hashes a task used: job.artifacts' `config_sha256:<tool>:<path>` entries. */
export function configHashes(artifacts: Record<string, string>): { path: string; sha256: string }[] {
  return Object.entries(artifacts)
    .filter(([k]) => k.startsWith('config_sha256:'))
    .map(([k, v]) => ({ path: k.slice('config_sha256:'.length), sha256: v }))
    .sort((a, b) => a.path.localeCompare(b.path));
}

/** params.dataset_ids of a task as text. */
export function datasetsOf(params: Record<string, unknown>): string {
  const v = params['dataset_ids'];
  return Array.isArray(v) && v.length ? v.map(String).join(', ') : '—';
}
