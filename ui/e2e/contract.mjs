#!/usr/bin/env node
// The OpenAPI contract suite: REAL responses of every endpoint of a REAL server, success and
// error envelopes, validated with ajv against the document the server serves
// (GET /api/openapi.json, which must equal src/http/openapi.json).
//
//   ALPHALAB_BIN=/path/to/bin/alphalab node ui/e2e/contract.mjs
//
// Workspace: a temporary copy of examples/workspace + the S&P 500 demo data (vega-datasets),
// with a finished dry-run job, a trained run, a backtest, a failed and a canceled job.
// Every documented operation must be exercised with at least one 2xx and one 4xx response,
// and every status a response comes back with must be documented for that operation.
// Prints `N passed, N failed` (one check per request) and exits 1 on any failure.
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';

const UI_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const REPO = resolve(UI_DIR, '..');
const JOB_TIMEOUT_MS = Number(process.env.E2E_JOB_TIMEOUT_MS ?? 240_000);

function log(...a) {
  console.log(`[contract ${new Date().toISOString().slice(11, 19)}]`, ...a);
}
function fail(msg) {
  console.error(`contract: ${msg}`);
  console.log('0 passed, 1 failed');
  process.exit(1);
}

const bin = process.env.ALPHALAB_BIN ? resolve(process.env.ALPHALAB_BIN) : undefined;
if (!bin || !existsSync(bin)) fail(`set ALPHALAB_BIN to the alphalab binary (got ${bin ?? 'nothing'})`);

// ------------------------------------------------------------ workspace + server
const tmp = mkdtempSync(join(tmpdir(), 'alphalab-contract-'));
const ws = join(tmp, 'workspace');
const example = join(REPO, 'examples', 'workspace');
cpSync(example, ws, { recursive: true, filter: (src) => !/\/(runs|backtests|reports|history|data|datasets)(\/|$)|alphalab\.db/.test(src.slice(example.length)) });
mkdirSync(join(ws, 'data', 'demo'), { recursive: true });
writeFileSync(join(ws, 'data', 'demo', 'SPX.csv'), readFileSync(join(UI_DIR, 'node_modules', 'vega-datasets', 'data', 'sp500-2000.csv')));

function freePort() {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
  });
}
const port = await freePort();
const base = `http://127.0.0.1:${port}`;
const serverOut = [];
log(`starting ${bin} serve --workspace ${ws} --port ${port}`);
// The RD-Agent stand-in (build/standin/bin/rdagent, src/tools) at the end of PATH, as `make run` does.
const serverEnv = { ...process.env, PATH: `${process.env.PATH ?? ''}:${resolve(dirname(bin), '..', 'standin', 'bin')}`, STANDIN_STEP_SECONDS: '0.05' };
const server = spawn(bin, ['serve', '--workspace', ws, '--host', '127.0.0.1', '--port', String(port), '--no-access-log'], { stdio: ['ignore', 'pipe', 'pipe'], env: serverEnv });
server.stdout.on('data', (d) => serverOut.push(d));
server.stderr.on('data', (d) => serverOut.push(d));
let serverExited = false;
server.on('exit', () => {
  serverExited = true;
});
process.on('exit', () => {
  if (!serverExited) server.kill('SIGKILL');
});
function cleanup() {
  if (!serverExited) server.kill('SIGTERM');
  if (process.env.E2E_KEEP !== '1') rmSync(tmp, { recursive: true, force: true });
  else log(`kept workspace ${ws}`);
}

async function waitFor(what, fn, timeoutMs = 20_000, everyMs = 250) {
  const t0 = Date.now();
  let last;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}${last ? `: ${last.message}` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

try {
  await waitFor('the server to answer', async () => {
    if (serverExited) throw new Error(`server exited:\n${Buffer.concat(serverOut).toString().slice(-2000)}`);
    return (await fetch(`${base}/api/health`)).ok;
  }, 30_000);
} catch (e) {
  cleanup();
  fail(e.message);
}

// ------------------------------------------------------------ the document + validators
const served = await (await fetch(`${base}/api/openapi.json`)).json();
const inRepo = JSON.parse(readFileSync(join(REPO, 'src', 'http', 'openapi.json'), 'utf8'));
const doc = served;
const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats(ajv);
ajv.addSchema({ $id: 'api', components: doc.components });
const validators = new Map();
function validatorFor(schema) {
  const key = JSON.stringify(schema);
  let v = validators.get(key);
  if (!v) {
    // Inline schemas refer to '#/components/...' of the document: point them at 'api'.
    v = ajv.compile(JSON.parse(key.replaceAll('"#/components/', '"api#/components/')));
    validators.set(key, v);
  }
  return v;
}
function deref(node) {
  if (node && typeof node.$ref === 'string') return node.$ref.slice(2).split('/').reduce((o, k) => o[k], doc);
  return node;
}

// ------------------------------------------------------------ checks
let passed = 0;
let failed = 0;
const coverage = new Map(); // "GET /api/jobs/{job_id}" -> Set of statuses
for (const [path, item] of Object.entries(doc.paths)) {
  for (const m of ['get', 'post', 'put', 'delete', 'patch']) if (item[m]) coverage.set(`${m.toUpperCase()} ${path}`, new Set());
}
function check(ok, what) {
  if (ok) passed += 1;
  else {
    failed += 1;
    console.log(`FAIL ${what}`);
  }
  return ok;
}

/**
 * Sends one request to `pattern` (filled with `params`), checks that the status is documented
 * for the operation and that the body matches the documented schema of its content type.
 * Returns {status, body (parsed JSON or text)}.
 */
async function call(method, pattern, { params = {}, query = '', body, expect, server: at = base, headers = {} } = {}) {
  const path = pattern.replace(/\{(\w+)\}/g, (_, k) => encodeURIComponent(params[k]));
  const init = { method, headers: { ...headers } };
  if (body !== undefined) {
    init.headers['Content-Type'] ??= 'application/json';
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
  }
  const res = await fetch(at + path + query, init);
  const text = await res.text();
  const what = `${method} ${path}${query} -> ${res.status}`;
  coverage.get(`${method} ${pattern}`)?.add(res.status);
  if (expect !== undefined && !check(res.status === expect, `${what}: expected ${expect}; body ${text.slice(0, 300)}`)) return { status: res.status, body: text };
  const op = doc.paths[pattern]?.[method.toLowerCase()];
  if (!check(!!op, `${what}: operation not in the document`)) return { status: res.status, body: text };
  const response = deref(op.responses[String(res.status)]);
  if (!check(!!response, `${what}: status ${res.status} is not documented for ${method} ${pattern}; body ${text.slice(0, 300)}`)) return { status: res.status, body: text };
  const ctype = (res.headers.get('content-type') ?? '').split(';')[0].trim();
  const media = response.content?.[ctype];
  if (!check(!!media, `${what}: content type '${ctype}' is not documented (${Object.keys(response.content ?? {}).join(', ')})`)) return { status: res.status, body: text };
  let value = text;
  if (ctype === 'application/json') {
    try {
      value = JSON.parse(text);
    } catch {
      check(false, `${what}: body is not JSON`);
      return { status: res.status, body: text };
    }
  }
  const v = validatorFor(media.schema);
  check(v(value), `${what}: body does not match the schema: ${ajv.errorsText(v.errors, { separator: '; ' })}; body ${text.slice(0, 300)}`);
  return { status: res.status, body: value };
}

async function waitJob(jobId, timeoutMs = JOB_TIMEOUT_MS) {
  return waitFor(`job ${jobId} to finish`, async () => {
    const j = await (await fetch(`${base}/api/jobs/${jobId}`)).json();
    return ['SUCCESS', 'FAILED', 'CANCELED'].includes(j.status) ? j : null;
  }, timeoutMs, 500);
}

const J = '/api/jobs/{job_id}';
try {
  check(JSON.stringify(served) === JSON.stringify(inRepo), 'GET /api/openapi.json equals src/http/openapi.json');
  await call('GET', '/api/openapi.json', { expect: 200 });
  await call('GET', '/api/openapi.json', { query: '?x=1', expect: 400 });
  await call('GET', '/api/health', { expect: 200 });
  await call('GET', '/api/health', { query: '?verbose=1', expect: 400 });
  await call('GET', '/metrics', { expect: 200 });
  await call('GET', '/metrics', { query: '?name=x', expect: 400 });
  const types = await call('GET', '/api/job-types', { expect: 200 });
  check(types.body.job_types.some((t) => t.name === 'rdagent-fin-quant' && !t.builtin), 'job-types lists the alphalab.yaml type');
  await call('GET', '/api/job-types', { query: '?n=1', expect: 400 });

  // Jobs: a dry run, a real training run, a backtest, a failure, a cancel.
  const dry = await call('POST', '/api/jobs/train', { body: { config_path: 'configs/base.yaml', dry_run: true }, expect: 200 });
  const train = await call('POST', '/api/jobs/train', { body: { config_path: 'configs/base.yaml', overrides: ['model.params.num_round=20'] }, expect: 200 });
  await call('POST', '/api/jobs/train', { body: { overrides: [] }, expect: 400 });
  await call('POST', '/api/jobs/train', { body: { config_path: 'configs/nope.yaml' }, expect: 404 });
  // A config the engine refuses is a 400 at submit; one that fails only on the data (no bars
  // before 1996: an empty training split) is a job that ends FAILED.
  await call('POST', '/api/jobs/train', { body: { config_path: 'configs/base.yaml', overrides: ['model.type=no_such_model'] }, expect: 400 });
  await call('POST', '/api/jobs/train', { body: { config_path: 'configs/base.yaml', overrides: ['model.params.num_round=400000'] }, expect: 400 });
  const broken = await call('POST', '/api/jobs/train', { body: { config_path: 'configs/base.yaml', overrides: ['split.train_end=1995-12-31', 'split.valid_end=1996-12-31'] }, expect: 200 });
  await call('POST', '/api/jobs', { body: { job_type: 'rdagent-fin-quant', params: { loop_n: 2 }, dry_run: true }, expect: 200 });
  await call('POST', '/api/jobs', { body: { job_type: 'no-such-type' }, expect: 400 });
  await call('POST', '/api/jobs', { body: { job_type: 'train', source_job_id: 'job_20000101_000000__00000000' }, expect: 404 });
  log('waiting for the training job');
  const trained = await waitJob(train.body.job_id);
  check(trained.status === 'SUCCESS', `training job succeeded (${trained.status}: ${trained.error_message ?? ''})`);
  const runId = trained.artifacts.run_id;
  const bt = await call('POST', '/api/jobs/backtest', { body: { config_path: 'configs/backtest/base.yaml', tickers: ['SPX'], start: '2010-01-01', end: '2020-12-31' }, expect: 200 });
  await call('POST', '/api/jobs/backtest', { body: { config_path: 'configs/backtest/base.yaml', start: '2020-01-01', end: '2010-01-01' }, expect: 400 });
  await call('POST', '/api/jobs/eval-metrics', { body: { run_id: runId, mode: 'base', dry_run: true }, expect: 200 });
  await call('POST', '/api/jobs/eval-metrics', { body: { run_id: 'run_does_not_exist' }, expect: 404 });
  await call('POST', '/api/jobs/eval-metrics', { body: { run_id: runId, mode: 'sideways' }, expect: 400 });
  const slow = await call('POST', '/api/jobs/train', { body: { config_path: 'configs/base.yaml' }, expect: 200 });
  const canceled = await call('POST', `${J}/cancel`, { params: { job_id: slow.body.job_id }, body: {}, expect: 200 });
  const canceledJob = await waitJob(canceled.body.job_id);
  check(canceledJob.status === 'CANCELED', `canceled job ends CANCELED (${canceledJob.status})`);
  await call('POST', `${J}/cancel`, { params: { job_id: slow.body.job_id }, body: {}, expect: 409 });
  await call('POST', `${J}/cancel`, { params: { job_id: 'job_20000101_000000__00000000' }, body: {}, expect: 404 });
  await call('POST', `${J}/cancel`, { params: { job_id: slow.body.job_id }, body: { force: true }, expect: 400 });
  log('waiting for the backtest job');
  const backtested = await waitJob(bt.body.job_id);
  check(backtested.status === 'SUCCESS', `backtest job succeeded (${backtested.status}: ${backtested.error_message ?? ''})`);
  const btRunId = backtested.artifacts.bt_run_id;
  const failedJob = await waitJob(broken.body.job_id);
  check(failedJob.status === 'FAILED', `broken training job FAILED (${failedJob.status})`);
  await waitJob(dry.body.job_id);

  // Reading jobs.
  for (const id of [dry.body.job_id, train.body.job_id, broken.body.job_id, slow.body.job_id]) {
    await call('GET', J, { params: { job_id: id }, expect: 200 });
    await call('GET', `${J}/log`, { params: { job_id: id }, query: '?offset=0&tail=1000', expect: 200 });
  }
  await call('GET', J, { params: { job_id: 'job_20000101_000000__00000000' }, expect: 404 });
  await call('GET', J, { params: { job_id: 'bad id!' }, expect: 400 });
  await call('GET', `${J}/log`, { params: { job_id: train.body.job_id }, query: '?offset=-1', expect: 400 });
  await call('GET', `${J}/log`, { params: { job_id: 'job_20000101_000000__00000000' }, expect: 404 });
  const stream = await call('GET', `${J}/log/stream`, { params: { job_id: dry.body.job_id }, query: '?offset=0', expect: 200 });
  check(/event: end\ndata: \{[^\n]*"status":"SUCCESS"/.test(stream.body), 'the SSE stream of a finished job ends with an end event');
  await call('GET', `${J}/log/stream`, { params: { job_id: 'job_20000101_000000__00000000' }, expect: 404 });
  await call('GET', `${J}/log/stream`, { params: { job_id: dry.body.job_id }, query: '?offset=abc', expect: 400 });
  const found = await call('GET', `${J}/log/search`, { params: { job_id: train.body.job_id }, query: '?q=run_id', expect: 200 });
  check(found.body.matches.some((m) => m.line.includes(runId)), 'the log search finds the run id line');
  await call('GET', `${J}/log/search`, { params: { job_id: train.body.job_id }, expect: 400 });
  await call('GET', `${J}/log/search`, { params: { job_id: 'job_20000101_000000__00000000' }, query: '?q=x', expect: 404 });
  const recent = await call('GET', '/api/jobs/recent', { query: '?limit=50&offset=0', expect: 200 });
  check(recent.body.items.some((j) => j.status === 'FAILED') && recent.body.items.some((j) => j.status === 'CANCELED'), 'recent jobs include the failed and the canceled job');
  await call('GET', '/api/jobs/recent', { query: '?status=failed&job_type=train', expect: 200 });
  await call('GET', '/api/jobs/recent', { query: '?status=DONE', expect: 400 });
  await call('GET', '/api/jobs/recent', { query: '?limit=5000', expect: 400 });

  // Artifacts of every job: the log as job.log, files of the job's folder; traversal refused.
  const A = `${J}/artifacts`;
  const arts = await call('GET', A, { params: { job_id: train.body.job_id }, query: '?offset=0&limit=100', expect: 200 });
  check(arts.body.items.some((a) => a.path === 'job.log'), 'the artifacts of a job list its log');
  await call('GET', A, { params: { job_id: train.body.job_id }, query: '?limit=0', expect: 400 });
  await call('GET', A, { params: { job_id: 'job_20000101_000000__00000000' }, expect: 404 });
  await call('GET', `${A}/{path}`, { params: { job_id: train.body.job_id, path: 'job.log' }, expect: 200 });
  await call('GET', `${A}/{path}`, { params: { job_id: train.body.job_id, path: '../x.log' }, expect: 400 });
  await call('GET', `${A}/{path}`, { params: { job_id: train.body.job_id, path: 'work/nope.csv' }, expect: 404 });

  // RD-Agent tasks: jobs of the type rdagent-fin-quant, run by the stand-in.
  const T = '/api/rdagent/tasks';
  const TI = `${T}/{task_id}`;
  const task = await call('POST', T, { body: { loop_n: 2, all_duration: '1h', dataset_ids: ['demo'], evolving_mode: 'llm' }, expect: 200 });
  await call('POST', T, { body: { loop_n: 0 }, expect: 400 });
  const longTask = await call('POST', T, { body: { loop_n: 500 }, expect: 200 });
  await waitFor('the long task to run', async () => (await (await fetch(`${base}/api/jobs/${longTask.body.job_id}`)).json()).status === 'RUNNING');
  await call('POST', `${TI}/cancel`, { params: { task_id: longTask.body.job_id }, body: {}, expect: 200 });
  await call('POST', `${TI}/cancel`, { params: { task_id: train.body.job_id }, body: {}, expect: 404 });
  const taskDone = await waitJob(task.body.job_id);
  check(taskDone.status === 'SUCCESS', `the RD-Agent task succeeded (${taskDone.status}: ${taskDone.error_message ?? ''})`);
  const view = await call('GET', TI, { params: { task_id: task.body.job_id }, expect: 200 });
  check(typeof view.body.metrics?.IC === 'number' && view.body.progress.loops_started === 2 && view.body.loop_results.length === 2,
    `the task view has its qlib_res metrics, 2 loops and per-loop results (${JSON.stringify(view.body.progress)})`);
  await call('GET', TI, { params: { task_id: train.body.job_id }, expect: 404 });
  await call('GET', T, { query: '?limit=10', expect: 200 });
  await call('GET', T, { query: '?limit=-1', expect: 400 });
  const tlog = await call('GET', `${TI}/logs`, { params: { task_id: task.body.job_id }, query: '?offset=0', expect: 200 });
  check(tlog.body.content.includes('Start Loop 1, Step 4: record'), 'the task log shows RD-Agent loop lines');
  const tsse = await call('GET', `${TI}/logs`, { params: { task_id: task.body.job_id }, headers: { Accept: 'text/event-stream' }, expect: 200 });
  check(/event: end/.test(tsse.body), 'the task log as SSE ends with an end event');
  await call('GET', `${TI}/logs`, { params: { task_id: task.body.job_id }, query: '?offset=x', expect: 400 });
  const tarts = await call('GET', `${TI}/artifacts`, { params: { task_id: task.body.job_id }, expect: 200 });
  check(tarts.body.items.some((a) => a.path === 'work/qlib_res.csv') && tarts.body.items.some((a) => a.path === 'work/ret.pkl'), 'the task lists qlib_res.csv and ret.pkl');
  await call('GET', `${TI}/artifacts`, { params: { task_id: 'bad id!' }, expect: 400 });
  const pkl = await call('GET', `${A}/{path}`, { params: { job_id: task.body.job_id, path: 'work/ret.pkl' }, expect: 200 });
  check(typeof pkl.body === 'string' && pkl.body.length > 0, 'ret.pkl downloads as application/octet-stream');

  // Parsed results of any job type that declares them: the RD-Agent task's qlib_res.csv, the
  // example user script (my-experiment: python3 -m scripts.run_experiment in its work folder).
  const R = `${J}/results`;
  const tres = await call('GET', R, { params: { job_id: task.body.job_id }, expect: 200 });
  check(tres.body.parser === 'qlib_res' && typeof tres.body.metrics.IC === 'number', 'the task\'s results are its qlib_res metrics');
  const script = await call('POST', '/api/jobs', { body: { job_type: 'my-experiment', params: { seed: 11 } }, expect: 200 });
  const scriptDone = await waitJob(script.body.job_id);
  check(scriptDone.status === 'SUCCESS', `the example script job succeeded (${scriptDone.status}: ${scriptDone.error_message ?? ''})`);
  const sres = await call('GET', R, { params: { job_id: script.body.job_id }, expect: 200 });
  check(sres.body.parser === 'alphalab_summary' && typeof sres.body.metrics.sharpe === 'number', 'the script job\'s summary.json is parsed');
  await call('GET', R, { params: { job_id: failedJob.job_id }, expect: 409 });
  await call('GET', R, { params: { job_id: 'bad id!' }, expect: 400 });
  await call('GET', R, { params: { job_id: 'job_20000101_000000__00000000' }, expect: 404 });

  // Datasets: alphalab.yaml's (read-only), an instruments upload, a Qlib folder, default, delete.
  const DS = '/api/datasets';
  const dsList = await call('GET', DS, { expect: 200 });
  check(dsList.body.items.some((d) => d.name === 'demo' && d.readonly), 'alphalab.yaml datasets are listed read-only');
  await call('GET', DS, { query: '?x=1', expect: 400 });
  await call('GET', '/api/rdagent/datasets', { expect: 200 });
  await call('GET', '/api/rdagent/datasets', { query: '?x=1', expect: 400 });
  const up = await call('POST', `${DS}/upload-instruments`, { body: { name: 'spx_only', dataset: 'demo', content: 'SPX\n' }, expect: 200 });
  check(up.body.instruments?.[0] === 'SPX' && up.body.instruments_file === 'datasets/spx_only.instruments.txt', 'an instruments upload makes a restricted dataset');
  const badUp = await call('POST', `${DS}/upload-instruments`, { body: { name: 'bad_list', dataset: 'demo', content: 'SPX\nNOPE\nbad symbol!\n' }, expect: 400 });
  check(badUp.body.error?.details?.problems?.length === 2 && badUp.body.error.details.problems[0].line === 2, 'each bad or unknown symbol is reported with its line');
  await call('POST', '/api/rdagent/datasets/upload-instruments', { body: { name: 'spx_rd', dataset: 'demo', content: 'spx\n' }, expect: 200 });
  await call('POST', '/api/rdagent/datasets/upload-instruments', { body: { name: 'spx_rd', dataset: 'demo', content: 'SPX\n' }, expect: 409 });
  mkdirSync(join(ws, 'data', 'qlib_small', 'calendars'), { recursive: true });
  mkdirSync(join(ws, 'data', 'qlib_small', 'instruments'), { recursive: true });
  mkdirSync(join(ws, 'data', 'qlib_small', 'features', 'sh600000'), { recursive: true });
  writeFileSync(join(ws, 'data', 'qlib_small', 'calendars', 'day.txt'), '2020-01-02\n2020-01-03\n');
  writeFileSync(join(ws, 'data', 'qlib_small', 'instruments', 'all.txt'), 'SH600000\t2020-01-02\t2020-01-03\n');
  writeFileSync(join(ws, 'data', 'qlib_small', 'features', 'sh600000', 'close.day.bin'), Buffer.alloc(12));
  const qd = await call('POST', DS, { body: { name: 'cn_small', format: 'qlib', provider_uri: 'data/qlib_small', description: 'a tiny Qlib folder' }, expect: 200 });
  check(qd.body.validation.ok && qd.body.validation.calendar_days === 2, 'a Qlib folder passes the layout check');
  await call('POST', DS, { body: { name: 'cn_broken', format: 'qlib', path: 'data/demo' }, expect: 400 });
  await call('POST', DS, { body: { name: 'cn_small', format: 'qlib', path: 'data/qlib_small' }, expect: 409 });
  await call('GET', `${DS}/{name}/validation`, { params: { name: 'cn_small' }, expect: 200 });
  await call('GET', `${DS}/{name}/validation`, { params: { name: 'nope' }, expect: 404 });
  const def = await call('POST', `${DS}/{name}/default`, { params: { name: 'spx_only' }, body: {}, expect: 200 });
  check(def.body.default === true, 'set default');
  await call('POST', `${DS}/{name}/default`, { params: { name: 'nope' }, body: {}, expect: 404 });
  await call('DELETE', `${DS}/{name}`, { params: { name: 'spx_rd' }, body: {}, expect: 200 });
  await call('DELETE', `${DS}/{name}`, { params: { name: 'demo' }, body: {}, expect: 409 });
  await call('DELETE', `${DS}/{name}`, { params: { name: 'spx_rd' }, body: {}, expect: 404 });

  // Registry and results.
  await call('POST', '/api/registry/index', { body: {}, expect: 200 });
  await call('POST', '/api/registry/index', { body: { full: true }, expect: 400 });
  const models = await call('GET', '/api/registry/models', { query: '?ticker=SPX&min_support=0&sort=lift_desc&limit=10', expect: 200 });
  check(models.body.items.some((r) => r.run_id === runId), 'the trained run is in the registry');
  await call('GET', '/api/registry/models', { query: '?min_lift=high', expect: 400 });
  await call('GET', '/api/registry/compare', { query: `?run_ids=${runId}`, expect: 200 });
  await call('GET', '/api/registry/compare', { query: '', expect: 400 });
  await call('GET', '/api/registry/compare', { query: '?run_ids=run_nope', expect: 404 });
  await call('GET', '/api/registry/tickers', { expect: 200 });
  await call('GET', '/api/registry/tickers', { query: '?limit=1', expect: 400 });
  await call('GET', '/api/runs', { query: '?limit=10&ticker=SPX', expect: 200 });
  await call('GET', '/api/runs', { query: '?limit=-1', expect: 400 });
  await call('GET', '/api/runs/{run_id}', { params: { run_id: runId }, expect: 200 });
  await call('GET', '/api/runs/{run_id}', { params: { run_id: 'run_nope' }, expect: 404 });
  await call('GET', '/api/runs/{run_id}', { params: { run_id: 'bad$id' }, expect: 400 });
  const RF = '/api/runs/{run_id}/files/{name}';
  const runDetail = await call('GET', '/api/runs/{run_id}', { params: { run_id: runId }, expect: 200 });
  const runFile = runDetail.body.files.map((f) => (typeof f === 'string' ? f : f.name)).find((n) => !n.includes('/'));
  check(Boolean(runFile), 'the run lists a file at its top level');
  await call('GET', RF, { params: { run_id: runId, name: runFile }, expect: 200 });
  // training_log.json (the eval log and feature importance of each model) has the TrainingLog shape.
  const trainLog = await call('GET', RF, { params: { run_id: runId, name: 'training_log.json' }, expect: 200 });
  const tlogValid = validatorFor({ $ref: '#/components/schemas/TrainingLog' });
  check(tlogValid(trainLog.body), `training_log.json matches TrainingLog: ${ajv.errorsText(tlogValid.errors, { separator: '; ' })}`);
  check(Object.values(trainLog.body.models ?? {}).every((m) => m.eval_log.valid.length > 0 && m.feature_importance.length > 0), 'training_log.json has a curve and an importance per model');
  await call('GET', RF, { params: { run_id: runId, name: 'nope.csv' }, expect: 404 });
  await call('GET', RF, { params: { run_id: runId, name: 'a$b' }, expect: 400 });
  await call('GET', '/api/backtests', { query: '?limit=10&ticker=SPX', expect: 200 });
  await call('GET', '/api/backtests', { query: '?model_run_id=bad$id', expect: 400 });
  await call('GET', '/api/backtests/{bt_run_id}', { params: { bt_run_id: btRunId }, query: '?points=50', expect: 200 });
  await call('GET', '/api/backtests/{bt_run_id}', { params: { bt_run_id: 'bt_nope' }, expect: 404 });
  await call('GET', '/api/backtests/{bt_run_id}', { params: { bt_run_id: btRunId }, query: '?points=1', expect: 400 });
  const F = '/api/backtests/{bt_run_id}/files/{name}';
  await call('GET', F, { params: { bt_run_id: btRunId, name: 'summary.json' }, expect: 200 });
  await call('GET', F, { params: { bt_run_id: btRunId, name: 'equity.csv' }, expect: 200 });
  await call('GET', F, { params: { bt_run_id: btRunId, name: 'nope.csv' }, expect: 404 });
  await call('GET', F, { params: { bt_run_id: btRunId, name: 'a$b' }, expect: 400 });
  await call('GET', '/api/dashboard', { query: '?jobs_limit=5', expect: 200 });
  await call('GET', '/api/dashboard', { query: '?jobs_limit=1000', expect: 400 });

  // Optimizations: a small sma_cross sweep with one failing task (fast=0 is refused by the
  // engine), then every route with a success and an error.
  const O = '/api/v1/optimizations';
  const OI = `${O}/{optimization_id}`;
  const sweep = {
    name: 'contract sweep', project: 'demo', job_type: 'backtest',
    base_params: { config_path: 'configs/backtest/base.yaml' },
    param_space: { 'strategy.params.fast': [0, 10], 'strategy.params.slow': [50] },
    objective: { metric: 'final_equity', direction: 'max' }, max_inflight: 1,
  };
  // The estimate before launch: no history of backtest jobs with a sweep yet is fine either way
  // (basis history or none); a bad body is the creation's 400; nothing is created.
  const before = (await (await fetch(`${base}${O}?limit=0`)).json()).total;
  const est = await call('POST', `${O}/estimate`, { body: sweep, expect: 200 });
  check(est.body.tasks === 2 && ['history', 'none'].includes(est.body.basis), 'POST .../estimate: the task count and a basis');
  await call('POST', `${O}/estimate`, { body: { ...sweep, param_space: { 'strategy.params.fast': { min: 1, max: 5, step: 0 } } }, expect: 400 });
  await call('POST', `${O}/estimate`, { body: { ...sweep, bogus: 1 }, expect: 400 });
  check((await (await fetch(`${base}${O}?limit=0`)).json()).total === before, 'POST .../estimate creates no optimization');
  const created = await call('POST', O, { body: sweep, expect: 200 });
  const optId = created.body.id;
  await call('POST', O, { body: { ...sweep, param_space: { 'strategy.params.fast': { min: 1, max: 5, step: 0 } } }, expect: 400 });
  await call('POST', O, { body: { source_job_id: 'opt_20000101_000000__00000000' }, expect: 404 });
  const ended = (s) => ['succeeded', 'failed', 'early-stopped', 'canceled'].includes(s);
  await waitFor('the sweep to end', async () => ended((await (await fetch(`${base}${O}/${optId}/status`)).json()).status), JOB_TIMEOUT_MS, 250);
  await call('GET', O, { query: '?status=succeeded&limit=5', expect: 200 });
  await call('GET', O, { query: '?status=succeeded,failed&project=demo,other', expect: 200 });
  await call('POST', `${O}/estimate`, { body: sweep, expect: 200 });  // with history now
  await call('GET', O, { query: '?status=bogus', expect: 400 });
  await call('GET', OI, { params: { optimization_id: optId }, expect: 200 });
  await call('GET', OI, { params: { optimization_id: 'opt_nope' }, expect: 404 });
  await call('GET', `${OI}/status`, { params: { optimization_id: optId }, expect: 200 });
  await call('GET', `${OI}/status`, { params: { optimization_id: 'bad$id' }, expect: 400 });
  await call('GET', `${OI}/tasks`, { params: { optimization_id: optId }, query: '?sort=score_desc&limit=5', expect: 200 });
  await call('GET', `${OI}/tasks`, { params: { optimization_id: optId }, query: '?sort=score', expect: 400 });
  await call('GET', `${OI}/export`, { params: { optimization_id: optId }, expect: 200 });
  await call('GET', `${OI}/export`, { params: { optimization_id: 'opt_nope' }, expect: 404 });
  await call('POST', `${OI}/retry-failed`, { params: { optimization_id: optId }, body: {}, expect: 200 });
  await waitFor('the retry to end', async () => ended((await (await fetch(`${base}${O}/${optId}/status`)).json()).status), JOB_TIMEOUT_MS, 250);
  await call('POST', `${OI}/retry-failed`, { params: { optimization_id: optId }, body: { bogus: 1 }, expect: 400 });
  await call('POST', `${OI}/extend`, { params: { optimization_id: optId }, body: { param_space: { 'strategy.params.fast': [10, 20, 30, 40, 50], 'strategy.params.slow': [50, 100, 150, 200] } }, expect: 200 });
  await call('POST', `${OI}/extend`, { params: { optimization_id: optId }, body: { param_space: { 'strategy.params.fast': [10], 'strategy.params.slow': [50] } }, expect: 400 });
  await call('POST', `${OI}/cancel`, { params: { optimization_id: optId }, body: {}, expect: 200 });
  await call('POST', `${OI}/cancel`, { params: { optimization_id: optId }, body: {}, expect: 409 });

  // Model selection: every model of the trained run's project (configs/base.yaml: "default"),
  // backtested on its own data and test period; the report; projects; jobs of a project.
  const selection = {
    name: 'select models default', project: 'default', job_type: 'backtest',
    base_params: { config_path: 'configs/backtest/base.yaml' },
    param_space: { 'strategy.params.model_path': { models: { project: 'default', status: 'success' } } },
    objective: { metric: 'cagr', direction: 'max' }, constraints: ['max_drawdown <= 0.9'], max_inflight: 2, top_n: 3,
  };
  const sel = await call('POST', O, { body: selection, expect: 200 });
  await call('POST', O, { body: { ...selection, param_space: { 'strategy.params.model_path': { models: { project: 'nobody' } } } }, expect: 400 });
  await call('POST', O, { body: { ...selection, param_space: { 'strategy.params.model_path': { models: { colour: 'red' } } } }, expect: 400 });
  await waitFor('the model selection to end', async () => {
    const r = await (await fetch(`${base}${O}/${sel.body.id}/report`)).json();
    return ended(r.status) && existsSync(join(ws, r.files.report_json));
  }, JOB_TIMEOUT_MS, 250);
  const rep = await call('GET', `${OI}/report`, { params: { optimization_id: sel.body.id }, expect: 200 });
  check(rep.body.counts.models >= 1 && rep.body.top.every((t) => t.model_run_id), 'the report counts the models and names their runs');
  await call('GET', `${OI}/report`, { params: { optimization_id: 'opt_20000101_000000__00000000' }, expect: 404 });
  await call('GET', `${OI}/report`, { params: { optimization_id: 'bad$id' }, expect: 400 });
  const selTasks = await call('GET', `${OI}/tasks`, { params: { optimization_id: sel.body.id }, expect: 200 });
  check(selTasks.body.items.length === 1 && selTasks.body.items.every((t) => t.model_run_id === runId), 'one model task, carrying the trained run id');
  const projects = await call('GET', '/api/projects', { expect: 200 });
  check(projects.body.items.some((p) => p.name === 'default' && p.optimizations >= 1), 'GET /api/projects lists the selection\'s project');
  await call('GET', '/api/projects', { query: '?limit=1', expect: 400 });
  await call('GET', '/api/jobs/recent', { query: '?project=default&job_type=train', expect: 200 });
  await call('GET', '/api/jobs/recent', { query: '?status=SUCCESS,FAILED&job_type=train,backtest&sort=duration_sec_desc,exit_code_asc&min_exit_code=0&max_duration_sec=1e9', expect: 200 });
  await call('GET', '/api/jobs/recent', { query: '?sort=bogus_desc', expect: 400 });

  // Config center (docs/configs.md): the example workspace's rdagent tool (.env + templates).
  const ENV = 'rdagent:.env';
  const TPL = 'rdagent:rdagent/scenarios/qlib/experiment/model_template/conf_baseline_factors_model.yaml';
  const q = (o) => '?' + new URLSearchParams(o).toString();
  const cfgs = await call('GET', '/api/configs', { expect: 200 });
  check(cfgs.body.tools[0].files.length === 9, 'GET /api/configs lists the nine rdagent files');
  await call('GET', '/api/configs', { query: '?tool=nope', expect: 404 });
  const envFile = await call('GET', '/api/configs/file', { query: q({ path: ENV }), expect: 200 });
  check(!envFile.body.content.includes('sk-chat-key') && envFile.body.content.includes('********'), 'the .env secrets are masked');
  await call('GET', '/api/configs/file', { query: q({ path: 'rdagent:../../alphalab.yaml' }), expect: 404 });
  await call('GET', '/api/configs/file', { expect: 400 });
  const tpl = await call('GET', '/api/configs/file', { query: q({ path: TPL }), expect: 200 });
  const written = await call('PUT', '/api/configs/file', { body: { path: TPL, content: tpl.body.content + '# contract\n', base_sha256: tpl.body.sha256, note: 'contract' }, expect: 200 });
  await call('PUT', '/api/configs/file', { body: { path: TPL, content: tpl.body.content, base_sha256: tpl.body.sha256 }, expect: 409 });
  await call('PUT', '/api/configs/file', { body: { path: TPL, content: 'a: [1', base_sha256: written.body.sha256 }, expect: 400 });
  await call('PUT', '/api/configs/file', { body: { path: 'rdagent:rdagent/scenarios/qlib/prompts.yaml', content: 'a: 1', base_sha256: 'x' }, expect: 403 });
  await call('PUT', '/api/configs/file', { body: { path: TPL, content: 'x', base_sha256: 'y', extra: 1 }, expect: 400 });
  await call('PUT', '/api/configs/file', { body: { path: 'rdagent:nope.yaml', content: 'x', base_sha256: 'y' }, expect: 404 });
  const hist = await call('GET', '/api/configs/history', { query: q({ path: TPL }), expect: 200 });
  check(hist.body.items.length === 1 && hist.body.items[0].id === written.body.history_id, 'the write left one history entry');
  await call('GET', '/api/configs/history', { query: q({ path: 'nope' }), expect: 400 });
  await call('GET', '/api/configs/history', { query: q({ path: 'rdagent:nope.yaml' }), expect: 404 });
  const diff = await call('GET', '/api/configs/diff', { query: q({ path: TPL, from: String(written.body.history_id), to: 'current' }), expect: 200 });
  check(diff.body.diff.includes('+# contract'), 'the diff shows the edit');
  await call('GET', '/api/configs/diff', { query: q({ path: TPL, from: 'banana' }), expect: 400 });
  await call('GET', '/api/configs/diff', { query: q({ path: TPL, from: '999999' }), expect: 404 });
  await call('POST', '/api/configs/rollback', { body: { path: TPL, history_id: written.body.history_id }, expect: 200 });
  await call('POST', '/api/configs/rollback', { body: { path: TPL, history_id: 'one' }, expect: 400 });
  await call('POST', '/api/configs/rollback', { body: { path: TPL, history_id: 999999 }, expect: 404 });
  const chk = await call('POST', '/api/configs/check', { body: { tool: 'rdagent', check: 'consistency' }, expect: 200 });
  check(chk.body.checks.consistency.ok === true, 'the example templates agree');
  await call('POST', '/api/configs/check', { body: { tool: 'rdagent', check: 'everything' }, expect: 400 });
  await call('POST', '/api/configs/check', { body: { tool: 'nope' }, expect: 404 });
  const renv = await call('GET', '/api/rdagent/env', { expect: 200 });
  await call('GET', '/api/rdagent/env', { query: '?x=1', expect: 400 });
  await call('PUT', '/api/rdagent/env', { body: { content: renv.body.content.replace('MAX_RETRY=10', 'MAX_RETRY=11'), base_sha256: renv.body.sha256 }, expect: 200 });
  await call('PUT', '/api/rdagent/env', { body: { content: 'not a pair', base_sha256: 'x' }, expect: 409 });
  await call('PUT', '/api/rdagent/env', { body: { content: 'x' }, expect: 400 });
  const rt = await call('GET', '/api/rdagent/templates', { expect: 200 });
  check(rt.body.items.length === 5 && rt.body.consistency.ok, 'GET /api/rdagent/templates: five templates that agree');
  await call('GET', '/api/rdagent/templates', { query: '?x=1', expect: 400 });
  await call('GET', '/api/rdagent/templates/history', { query: q({ file: 'conf_baseline_factors_model.yaml' }), expect: 200 });
  await call('GET', '/api/rdagent/templates/history', { expect: 400 });
  await call('GET', '/api/rdagent/templates/history', { query: q({ file: 'nope.yaml' }), expect: 404 });
  await call('POST', '/api/rdagent/templates/rollback', { body: { file: 'conf_baseline_factors_model.yaml', history_id: written.body.history_id }, expect: 200 });
  await call('POST', '/api/rdagent/templates/rollback', { body: { file: 'conf_baseline_factors_model.yaml' }, expect: 400 });
  await call('POST', '/api/rdagent/templates/rollback', { body: { file: 'nope.yaml', history_id: 1 }, expect: 404 });

  // Auth: /api/session and /api/tokens here (auth none), the rest on a second server in
  // auth.mode token over a copy of the workspace, with tokens from `alphalab token create`.
  const none = await call('GET', '/api/session', { expect: 200 });
  check(none.body.auth === 'none' && none.body.insecure === false && none.body.principal === null, 'GET /api/session with auth none');
  await call('GET', '/api/session', { query: '?x=1', expect: 400 });
  await call('POST', '/api/session', { body: { token: 'alk_x' }, expect: 409 });
  await call('GET', '/api/tokens', { expect: 200 });
  await call('POST', '/api/tokens', { body: { name: 'contract-made' }, expect: 409 }); // auth none: the CLI makes tokens
  const wsAuth = join(tmp, 'workspace-auth');
  mkdirSync(wsAuth, { recursive: true });
  cpSync(join(ws, 'alphalab.yaml'), join(wsAuth, 'alphalab.yaml'));
  // The roots alphalab.yaml declares must exist for the server to start (docs/configs.md).
  cpSync(join(ws, 'tools'), join(wsAuth, 'tools'), { recursive: true });
  writeFileSync(join(wsAuth, 'alphalab.yaml'), `${readFileSync(join(wsAuth, 'alphalab.yaml'), 'utf8')}\nauth:\n  mode: token\n`);
  const mint = (name, role) => {
    const r = spawnSync(bin, ['token', 'create', '--name', name, '--role', role, '--workspace', wsAuth], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`token create: ${r.stderr}`);
    return r.stdout.trim();
  };
  const admin = mint('contract-admin', 'admin');
  const user = mint('contract-user', 'user');
  const port2 = await freePort();
  const base2 = `http://127.0.0.1:${port2}`;
  const server2 = spawn(bin, ['serve', '--workspace', wsAuth, '--host', '127.0.0.1', '--port', String(port2), '--no-access-log'], { stdio: 'ignore' });
  try {
    await waitFor('the auth server to answer', async () => (await fetch(`${base2}/api/health`)).ok, 30_000);
    await call('GET', '/api/jobs/recent', { server: base2, expect: 401 });
    await call('POST', '/api/jobs/train', { server: base2, headers: { Authorization: `Bearer ${user}`, 'Content-Type': 'text/plain' }, body: '{}', expect: 415 });
    await call('POST', '/api/jobs/train', { server: base2, headers: { Authorization: `Bearer ${user}`, Origin: 'http://evil.example' }, body: { config_path: 'configs/base.yaml', dry_run: true }, expect: 403 });
    await call('POST', '/api/session', { server: base2, body: { token: 'alk_wrong' }, expect: 401 });
    const signed = await call('POST', '/api/session', { server: base2, body: { token: user }, expect: 200 });
    check(signed.body.principal?.name === 'contract-user', 'POST /api/session names the principal');
    await call('GET', '/api/tokens', { server: base2, headers: { Authorization: `Bearer ${user}` }, expect: 403 });
    await call('GET', '/api/tokens', { server: base2, headers: { Authorization: `Bearer ${admin}` }, expect: 200 });
    await call('POST', '/api/tokens', { server: base2, headers: { Authorization: `Bearer ${user}` }, body: { name: 'x' }, expect: 403 });
    const asAdmin = { Authorization: `Bearer ${admin}` };
    const made = await call('POST', '/api/tokens', { server: base2, headers: asAdmin, body: { name: 'contract-made', role: 'user' }, expect: 200 });
    check(made.body.token?.startsWith('alk_') && made.body.revoked === false, 'POST /api/tokens shows the secret once');
    await call('POST', '/api/tokens', { server: base2, headers: asAdmin, body: { name: 'a b' }, expect: 400 });
    await call('POST', '/api/tokens', { server: base2, headers: asAdmin, body: { name: 'contract-made' }, expect: 409 });
    const gone = await call('DELETE', '/api/tokens/{token_id}', { server: base2, headers: asAdmin, params: { token_id: made.body.id }, body: {}, expect: 200 });
    check(gone.body.revoked === true, 'DELETE /api/tokens/{token_id} revokes');
    await call('DELETE', '/api/tokens/{token_id}', { server: base2, headers: asAdmin, params: { token_id: 'tok_nope' }, body: {}, expect: 404 });
    await call('DELETE', '/api/datasets/{name}', { server: base2, headers: { Authorization: `Bearer ${user}` }, params: { name: 'demo' }, body: {}, expect: 403 });
    await call('DELETE', '/api/session', { server: base2, headers: { 'Content-Type': 'text/plain' }, body: '', expect: 415 });
    await call('DELETE', '/api/session', { server: base2, body: {}, expect: 200 });
  } finally {
    server2.kill('SIGTERM');
  }

  // Coverage: every operation answered at least one 2xx and one 4xx.
  for (const [op, statuses] of coverage) {
    const s = [...statuses];
    check(s.some((x) => x >= 200 && x < 300), `${op}: exercised with a 2xx response`);
    check(s.some((x) => x >= 400 && x < 500), `${op}: exercised with a 4xx response`);
  }
} catch (e) {
  console.error(e);
  failed += 1;
}
cleanup();
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
