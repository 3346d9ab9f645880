#!/usr/bin/env node
// End-to-end tests of the alphalab UI against the REAL server.
//
//   ALPHALAB_BIN=/path/to/bin/alphalab node ui/e2e/run.mjs
//
// Creates a temporary workspace (a copy of examples/workspace + the S&P 500 demo
// data from vega-datasets), starts `alphalab serve --ui-dir ui/dist` on a free
// port, drives Debian's /usr/bin/chromium with playwright-core, saves a screenshot
// of every page to ui/test-results/, and prints `N passed, N failed`.
import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const UI_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const REPO = resolve(UI_DIR, '..');
const OUT = join(UI_DIR, 'test-results');
const CHROMIUM = process.env.CHROMIUM_BIN ?? '/usr/bin/chromium';
const JOB_TIMEOUT_MS = Number(process.env.E2E_JOB_TIMEOUT_MS ?? 180_000);
const SECOND_TICKER = 'SPXCOPY'; // a renamed copy of the SPX file, only to test the cross-ticker refusal

function log(...a) {
  console.log(`[e2e ${new Date().toISOString().slice(11, 19)}]`, ...a);
}

function fail(msg) {
  console.error(`e2e: ${msg}`);
  console.log('0 passed, 1 failed');
  process.exit(1);
}

const bin = process.env.ALPHALAB_BIN ? resolve(process.env.ALPHALAB_BIN) : undefined;
if (!bin || !existsSync(bin)) fail(`set ALPHALAB_BIN to the alphalab binary (got ${bin ?? 'nothing'})`);
if (!existsSync(CHROMIUM)) fail(`${CHROMIUM} not found (apt-get install -y chromium)`);

if (!existsSync(join(UI_DIR, 'dist', 'index.html')) || process.env.E2E_REBUILD === '1') {
  log('building ui/dist');
  const r = spawnSync('npm', ['run', 'build'], { cwd: UI_DIR, stdio: 'inherit' });
  if (r.status !== 0) fail('npm run build failed');
}

// ------------------------------------------------------------ workspace + server
const tmp = mkdtempSync(join(tmpdir(), 'alphalab-e2e-'));
const ws = join(tmp, 'workspace');
cpSync(join(REPO, 'examples', 'workspace'), ws, { recursive: true, filter: (src) => !/\/(runs|backtests|reports|history)(\/|$)|alphalab\.db/.test(src.slice(join(REPO, 'examples', 'workspace').length)) });
mkdirSync(join(ws, 'data', 'demo'), { recursive: true });
const csv = readFileSync(join(UI_DIR, 'node_modules', 'vega-datasets', 'data', 'sp500-2000.csv'));
writeFileSync(join(ws, 'data', 'demo', 'SPX.csv'), csv);
writeFileSync(join(ws, 'data', 'demo', `${SECOND_TICKER}.csv`), csv);
// A bring-your-own scores file (date,symbol,score) for SPX: 0.9 in January-June, 0.1 otherwise,
// so a signal backtest at the default cutoff 0.5 holds SPX in the first half of each year.
mkdirSync(join(ws, 'preds'), { recursive: true });
{
  const rows = csv.toString('utf8').trim().split('\n').slice(1).map((l) => l.split(',')[0]);
  writeFileSync(join(ws, 'preds', 'spx_scores.csv'), ['date,symbol,score', ...rows.map((d) => `${d},SPX,${Number(d.slice(5, 7)) <= 6 ? 0.9 : 0.1}`)].join('\n') + '\n');
}
// A user-declared job type (added at the top of the example's job_types mapping): Actions builds
// its form from GET /api/job-types. It only echoes its typed params.
{
  const yamlPath = join(ws, 'alphalab.yaml');
  const yaml = readFileSync(yamlPath, 'utf8');
  if (!yaml.includes('\njob_types:\n')) fail('the example alphalab.yaml has no job_types: section');
  writeFileSync(yamlPath, yaml.replace('\njob_types:\n', `\njob_types:
  e2e-echo:
    description: e2e - prints its typed params
    argv: [/bin/echo, e2e-echo, [seed, "{seed}"], [rate, "{rate}"], [mode, "{mode}"], [since, "{since}"], [note, "{note}"], [config, "{config}"]]
    params:
      seed: {type: int, min: 0, default: 1, description: random seed}
      rate: {type: float, default: 0.5}
      mode: {type: enum, choices: [fast, slow], default: fast}
      since: {type: date}
      note: {type: string, description: free text}
      config: {type: path, description: a config file}
`));
}
mkdirSync(OUT, { recursive: true });
// The second dataset: a small synthetic universe (SYN0001..SYN0003 + SYNMKT/SYNBOND/SYNGOLD,
// business days 2005-2010) for the model flows, which must not depend on the demo dataset.
{
  const r = spawnSync(bin, ['data', 'synth', '--out', 'data/synthetic', '--instruments', '3', '--years', '6', '--seed', '5', '--workspace', ws], { encoding: 'utf8' });
  if (r.status !== 0) fail(`data synth failed: ${r.stderr}`);
}

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

// E2E_PORT: fixed ports (it, +1, +2) on a machine where each engineer has their own; else free ones.
const fixedPort = (k) => (process.env.E2E_PORT ? Number(process.env.E2E_PORT) + k : null);
const port = fixedPort(0) ?? (await freePort());
const base = `http://127.0.0.1:${port}`;
const serverLog = join(OUT, 'server.log');
const serverOut = [];
log(`starting ${bin} serve --workspace ${ws} --port ${port}`);
const server = spawn(bin, ['serve', '--workspace', ws, '--host', '127.0.0.1', '--port', String(port), '--ui-dir', join(UI_DIR, 'dist')], { stdio: ['ignore', 'pipe', 'pipe'] });
server.stdout.on('data', (d) => serverOut.push(d));
server.stderr.on('data', (d) => serverOut.push(d));
let serverExited = false;
server.on('exit', (code, signal) => {
  serverExited = true;
  log(`server exited with ${code ?? signal}`);
});
// Never leave the server behind, whatever ends this process.
process.on('exit', () => {
  if (!serverExited) server.kill('SIGKILL');
});
process.on('uncaughtException', (e) => {
  console.error(e);
  cleanup();
  console.log('0 passed, 1 failed');
  process.exit(1);
});

function cleanup() {
  try {
    writeFileSync(serverLog, Buffer.concat(serverOut));
  } catch {
    /* ignore */
  }
  if (!serverExited) server.kill('SIGTERM');
  if (process.env.E2E_KEEP !== '1') rmSync(tmp, { recursive: true, force: true });
  else log(`kept workspace ${ws}`);
}

async function apiGet(path) {
  const r = await fetch(base + path);
  const text = await r.text();
  if (!r.ok) throw new Error(`GET ${path}: ${r.status} ${text.slice(0, 300)}`);
  return JSON.parse(text);
}

async function apiPost(path, body) {
  const r = await fetch(base + path, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  const text = await r.text();
  if (!r.ok) throw new Error(`POST ${path}: ${r.status} ${text.slice(0, 300)}`);
  return JSON.parse(text);
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

async function waitJob(jobId, timeoutMs = JOB_TIMEOUT_MS) {
  return waitFor(`job ${jobId} to finish`, async () => {
    const j = await apiGet(`/api/jobs/${jobId}`);
    return ['SUCCESS', 'FAILED', 'CANCELED'].includes(j.status) ? j : null;
  }, timeoutMs, 500);
}

try {
  await waitFor('the server to answer', async () => {
    if (serverExited) throw new Error('server exited; see ui/test-results/server.log');
    const r = await fetch(`${base}/api/jobs/recent?limit=1`);
    return r.ok;
  }, 30_000);
} catch (e) {
  cleanup();
  fail(e.message);
}

// ------------------------------------------------------------ browser
const profile = mkdtempSync(join(tmpdir(), 'alphalab-e2e-chromium-'));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: CHROMIUM,
  headless: true,
  viewport: { width: 1280, height: 900 },
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: base }).catch(() => {});
const page = context.pages()[0] ?? (await context.newPage());
page.setDefaultTimeout(20_000);
const consoleErrors = [];
page.on('pageerror', (e) => consoleErrors.push(`pageerror: ${e.message}`));
page.on('console', (m) => {
  if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) consoleErrors.push(m.text());
});

const results = [];
let shotNo = 0;
async function shot(name) {
  shotNo += 1;
  const file = join(OUT, `${String(shotNo).padStart(2, '0')}-${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

// E2E_ONLY=<regex>: run only the cases whose name matches (those that need no earlier case's state).
async function test(name, fn) {
  if (process.env.E2E_ONLY && !new RegExp(process.env.E2E_ONLY).test(name)) return;
  const t0 = Date.now();
  try {
    await fn();
    results.push({ name, ok: true });
    log(`PASS ${name} (${((Date.now() - t0) / 1000).toFixed(1)}s)`);
  } catch (e) {
    results.push({ name, ok: false, error: e });
    log(`FAIL ${name}: ${e.message}`);
    await shot(`FAILED-${name.replace(/\W+/g, '_')}`).catch(() => {});
  }
}

function expect(cond, msg) {
  if (!cond) throw new Error(msg);
}

// The job id of the newest "... job submitted" toast not read before (a "job finished" toast or
// an earlier submission still on screen is never taken for it).
const seenSubmitted = new Set();
async function toastJobId() {
  const bodies = page.locator('[data-testid=toast].toast-success', { hasText: 'job submitted' }).locator('.toast-body');
  const id = await waitFor('a new "job submitted" toast', async () => {
    const ids = (await bodies.allInnerTexts()).map((t) => t.trim()).filter((t) => !seenSubmitted.has(t));
    return ids.length ? ids[ids.length - 1] : null;
  }, 20_000, 100);
  seenSubmitted.add(id);
  expect(/^job_/.test(id), `toast shows a job id (got "${id}")`);
  return id;
}

const state = {};

await test('dashboard renders with navigation', async () => {
  await page.goto(base + '/');
  await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
  await page.getByRole('heading', { name: 'Recent Jobs' }).waitFor();
  const active = await page.locator('nav a.active').innerText();
  expect(active === 'Dashboard', `nav marks Dashboard active (got ${active})`);
  await shot('dashboard-empty');
});

await test('submit a train job from Actions and follow its log', async () => {
  await page.goto(base + '/actions?type=train&config_path=configs/base.yaml');
  expect((await page.getByRole('tab', { name: 'Train' }).getAttribute('aria-selected')) === 'true', 'type=train picks the Train tab');
  expect((await page.locator('[data-testid=train-form] input[name=config_path]').inputValue()) === 'configs/base.yaml', 'config_path prefilled');
  await page.locator('#train-overrides').fill('# e2e run 1\nlabel.threshold=0.05\n\nmodel.params.num_round=3000');
  await page.getByTestId('overrides-preview').getByText('"model.params.num_round": 3000').waitFor();
  await shot('actions-train');
  await page.getByRole('button', { name: 'Submit train job' }).click();
  const jobId = await toastJobId();
  state.trainJob = jobId;
  await page.locator('[data-testid=toast]').getByRole('link', { name: /Open job/ }).last().click();
  await page.waitForURL(`**/jobs/${jobId}`);
  const box = page.getByTestId('log-box');
  await box.waitFor();
  expect(await page.getByLabel('Auto-follow').isChecked(), 'auto-follow is on by default');
  // Sample the log while the job runs: it must grow and stay scrolled to the bottom (3000
  // rounds: a few seconds even with the whole machine busy, so the page sees it running).
  const sizes = [];
  const t0 = Date.now();
  for (;;) {
    const len = (await box.innerText()).length;
    sizes.push(len);
    const status = await page.locator('.page-head .badge').first().innerText();
    if (['SUCCESS', 'FAILED', 'CANCELED'].includes(status) && (await page.getByTestId('log-status').innerText()) === 'complete') break;
    if (Date.now() - t0 > JOB_TIMEOUT_MS) throw new Error('train job did not finish in time');
    await page.waitForTimeout(300);
  }
  const final = await box.innerText();
  state.trainLogSizes = sizes;
  expect(/run_id:\s*\S+/.test(final), 'log shows the run_id line');
  expect(sizes[sizes.length - 1] > sizes[0] || sizes[0] > 0, `log has content (sizes ${sizes.join(',')})`);
  const grew = sizes.some((s, i) => i > 0 && s > sizes[i - 1] && sizes[i - 1] > 0);
  state.logGrowthObserved = grew;
  expect(grew, `the log grew while the job ran (sizes ${sizes.join(',')})`);
  const atBottom = await box.evaluate((el) => el.scrollHeight - el.scrollTop - el.clientHeight <= 30);
  expect(atBottom, 'auto-follow keeps the log scrolled to the bottom');
  const status = await page.locator('.page-head .badge').first().innerText();
  expect(status === 'SUCCESS', `train job ended SUCCESS (got ${status}); log tail: ${final.slice(-400)}`);
  await page.getByRole('link', { name: 'View Run' }).waitFor();
  const job = await apiGet(`/api/jobs/${jobId}`);
  state.runId = job.artifacts.run_id;
  expect(state.runId, 'job has artifacts.run_id');
  await shot('job-detail-success');
});

await test('auto-follow turns off on scroll-up and back on at the bottom; search highlights; Copy', async () => {
  const box = page.getByTestId('log-box');
  const scrollable = await box.evaluate((el) => el.scrollHeight > el.clientHeight + 40);
  if (scrollable) {
    await box.evaluate((el) => {
      el.scrollTop = 0;
      el.dispatchEvent(new Event('scroll'));
    });
    await page.waitForTimeout(100);
    expect(!(await page.getByLabel('Auto-follow').isChecked()), 'scrolling up turns auto-follow off');
    await box.evaluate((el) => {
      el.scrollTop = el.scrollHeight;
      el.dispatchEvent(new Event('scroll'));
    });
    await page.waitForTimeout(100);
    expect(await page.getByLabel('Auto-follow').isChecked(), 'back at the bottom turns it on');
  }
  await page.getByLabel('Search log').fill('run_id');
  await box.locator('mark').first().waitFor({ timeout: 5000 }).catch(() => {}); // the highlight is deferred (useDeferredValue)
  const marks = await box.locator('mark').count();
  expect(marks >= 1, `search highlights run_id (${marks} marks)`);
  await shot('job-detail-search');
  await page.getByLabel('Search log').fill('');
  await page.locator('.log-toolbar').getByRole('button', { name: 'Copy' }).click();
  await page.locator('.log-toolbar').getByRole('button', { name: 'Copied' }).waitFor();
  const copied = await page.evaluate(() => navigator.clipboard.readText());
  const onDisk = await apiGet(`/api/jobs/${state.trainJob}/log?offset=0&tail=100000000`);
  expect(copied === onDisk.content, `Copy puts the whole log on the clipboard (${copied.length} vs ${onDisk.content.length} chars)`);
});

await test('submit a user-declared job type from Actions (form built from GET /api/job-types)', async () => {
  await page.goto(base + '/actions?type=e2e-echo');
  const tab = page.getByRole('tab', { name: 'e2e-echo' });
  await tab.waitFor();
  expect((await tab.getAttribute('aria-selected')) === 'true', 'type=e2e-echo picks its tab');
  const form = page.getByTestId('jobtype-form-e2e-echo');
  expect((await form.locator('input[name=seed]').getAttribute('type')) === 'number', 'int param is a number field');
  expect((await form.locator('input[name=since]').getAttribute('type')) === 'date', 'date param is a date field');
  expect((await form.locator('select[name=mode] option').allInnerTexts()).join(',') === '(default),fast,slow', 'enum param is a select of its choices');
  await form.locator('input[name=seed]').fill('7');
  await form.locator('input[name=rate]').fill('0.25');
  await form.locator('select[name=mode]').selectOption('slow');
  await form.locator('input[name=since]').fill('2020-01-31');
  await form.locator('input[name=note]').fill('hello from the UI');
  await form.locator('input[name=config]').fill('configs/base.yaml');
  await shot('actions-user-type');
  await page.getByRole('button', { name: 'Submit e2e-echo job' }).click();
  const jobId = await toastJobId();
  const job = await waitJob(jobId);
  expect(job.status === 'SUCCESS', `e2e-echo ended SUCCESS (got ${job.status}: ${job.error_message ?? ''})`);
  expect(job.job_type === 'e2e-echo', 'the job has the user type');
  const params = job.params;
  expect(params.seed === 7 && params.rate === 0.25 && params.mode === 'slow' && params.since === '2020-01-31' && params.note === 'hello from the UI', `typed params reached the server: ${JSON.stringify(params)}`);
  await page.goto(`${base}/jobs/${jobId}`);
  await page.getByTestId('log-box').getByText(/e2e-echo seed 7 rate 0.25 mode slow since 2020-01-31 note hello from the UI config/).waitFor();
  await shot('job-detail-user-type');
});

await test('second same-ticker run and a run of another ticker (API)', async () => {
  const a = await apiPost('/api/jobs/train', { config_path: 'configs/base.yaml', overrides: ['label.threshold=0.03', 'model.params.num_round=100'], dry_run: false });
  const b = await apiPost('/api/jobs/train', { config_path: 'configs/base.yaml', overrides: [`tickers=[${SECOND_TICKER}]`, 'model.params.num_round=100'], dry_run: false });
  const ja = await waitJob(a.job_id);
  const jb = await waitJob(b.job_id);
  expect(ja.status === 'SUCCESS', `second SPX run SUCCESS (got ${ja.status}: ${ja.error_message ?? ''})`);
  expect(jb.status === 'SUCCESS', `${SECOND_TICKER} run SUCCESS (got ${jb.status}: ${jb.error_message ?? ''})`);
  state.runId2 = ja.artifacts.run_id;
});

await test('registry lists the runs; compare same ticker, refuse another ticker', async () => {
  await page.goto(base + '/registry');
  expect((await page.getByLabel('Min Support').inputValue()) === '', 'Min Support is left to the server');
  await waitFor('the server default as the placeholder', async () => (await page.getByLabel('Min Support').getAttribute('placeholder')) === '30 (default)');
  expect(!page.url().includes('min_support'), 'no min_support in the URL');
  const table = page.getByTestId('registry-table');
  await waitFor('registry rows for all three runs', async () => {
    await page.getByRole('button', { name: 'Refetch' }).click();
    await page.waitForTimeout(300);
    const text = await table.innerText().catch(() => '');
    return text.includes(state.runId) && text.includes(state.runId2) && text.includes(SECOND_TICKER);
  }, 30_000, 1000);
  const rowText = await table.locator('tbody tr').first().innerText();
  expect(/\d+d \/ \d+(\.\d)?%/.test(rowText), `label column formatted like "20d / 5%" (row: ${rowText})`);
  expect(/\d\.\d\dx/.test(rowText), 'lift formatted like 1.23x');
  await shot('registry');
  await page.getByLabel(`Compare SPX ${state.runId}`).check();
  await page.getByLabel(`Compare SPX ${state.runId2}`).check();
  const otherBox = table.locator('tbody tr', { hasText: SECOND_TICKER }).first().locator('input[type=checkbox]');
  await otherBox.click();
  const msg = await page.getByTestId('compare-message').innerText();
  expect(/one ticker/.test(msg) && msg.includes(SECOND_TICKER), `refusal message shown (got "${msg}")`);
  expect(!(await otherBox.isChecked()), 'the other ticker stays unticked');
  await shot('registry-refused');
  const btn = page.getByTestId('compare-button');
  expect((await btn.innerText()) === 'Compare(2)', 'Compare(2)');
  await btn.click();
  const ct = page.getByTestId('compare-table');
  await ct.waitFor();
  expect((await ct.locator('tbody tr').count()) === 2, 'drawer compares two runs');
  const head = await ct.locator('thead').innerText();
  for (const col of ['run_id', 'Label', 'Precision', 'Lift', 'Buy Rate', 'Pos Rate', 'Support', 'TP', 'FP', 'TN', 'FN']) expect(head.includes(col), `compare column ${col}`);
  await shot('registry-compare-drawer');
  await page.getByRole('button', { name: 'Close' }).click();
  // Filters go to the server and survive paging.
  await page.getByLabel('Ticker').fill(SECOND_TICKER);
  await page.getByRole('button', { name: 'Refetch' }).click();
  await waitFor('ticker filter applied', async () => (await table.locator('tbody tr').count()) >= 1 && !(await table.innerText()).includes(state.runId));
  expect(page.url().includes(`ticker=${SECOND_TICKER}`), 'filters are kept in the URL');
  // Project and Max Buy Rate (typed as a percentage, sent as a fraction) filter on the server too.
  await page.getByLabel('Ticker').fill('');
  const rows = await apiGet('/api/registry/models?limit=1000');
  const project = rows.items[0].project;
  const buyRates = rows.items.map((r) => r.buy_rate).filter((v) => v !== null).sort((a, b) => a - b);
  const pct = Math.ceil(buyRates[0] * 1000) / 10; // at least the smallest rate: one row or more kept
  await page.getByLabel('Project').fill(project);
  await page.getByLabel('Max Buy Rate (%)').fill(String(pct));
  await page.getByRole('button', { name: 'Refetch' }).click();
  await page.waitForURL(/max_buy_rate=/);
  const url = new URL(page.url());
  expect(url.searchParams.get('project') === project, `project in the URL (${page.url()})`);
  const cap = Number(url.searchParams.get('max_buy_rate'));
  expect(Math.abs(cap - pct / 100) < 1e-9, `Max Buy Rate sent as a fraction (${cap} for ${pct}%)`);
  const want = await apiGet(`/api/registry/models?project=${encodeURIComponent(project)}&max_buy_rate=${cap}&limit=1000`);
  expect(want.total >= 1, `the cap keeps the smallest buy rate (${JSON.stringify(buyRates)})`);
  if (buyRates[buyRates.length - 1] > cap) expect(want.total < rows.total, `the cap drops higher buy rates (${want.total} of ${rows.total})`);
  await waitFor('the filtered rows', async () => (await table.locator('tbody tr').count()) === want.items.length);
  await page.getByLabel('Project').fill('no-such-project');
  await page.getByRole('button', { name: 'Refetch' }).click();
  await waitFor('no rows for another project', async () => (await page.getByText('No models match these filters').count()) > 0);
  await shot('registry-project-filter');
  await page.getByLabel('Project').fill('');
  await page.getByLabel('Max Buy Rate (%)').fill('');
  await page.getByRole('button', { name: 'Refetch' }).click();
});

await test('run detail: metrics per ticker and Recompute Metrics', async () => {
  await page.goto(`${base}/runs/${state.runId}`);
  await page.getByTestId('run-metrics').waitFor();
  const m = await page.getByTestId('run-metrics').innerText();
  expect(m.includes('SPX'), 'metrics per ticker list SPX');
  await shot('run-detail');
  expect((await page.locator('.files').getByText('metrics_eval_base.json').count()) === 0, 'no re-evaluation yet');
  await page.getByRole('button', { name: 'Recompute Metrics' }).click();
  const jobId = await toastJobId();
  const j = await waitJob(jobId);
  expect(j.job_type === 'eval-metrics', `eval-metrics job (got ${j.job_type})`);
  expect(j.status === 'SUCCESS', `eval-metrics SUCCESS (got ${j.status}: ${j.error_message ?? ''})`);
  // Freshness: without a reload, the page lists the job and the new file, and a toast says it finished.
  await page.locator('.files').getByText('metrics_eval_base.json').waitFor({ timeout: 15_000 });
  await page.locator('[data-testid=jobs-table]').getByText(jobId).waitFor();
  const done = page.locator('[data-testid=toast]', { hasText: 'eval-metrics job finished' });
  await done.waitFor({ timeout: 10_000 });
  expect((await done.getByRole('link', { name: 'Open run' }).getAttribute('href')) === `/runs/${state.runId}`, 'the toast links the run');
  await shot('run-detail-refreshed');
});

await test('runs list', async () => {
  await page.goto(`${base}/runs`);
  await page.getByTestId('runs-table').getByText(state.runId).waitFor();
  await shot('runs');
});

await test('jobs search, runs columns and search, run file downloads, whole-log search (server side)', async () => {
  await page.goto(`${base}/jobs`);
  await page.getByLabel('Search jobs').fill(state.trainJob);
  await page.waitForURL(`**/jobs?q=${state.trainJob}`);
  await page.getByTestId('jobs-table').getByText(state.trainJob).waitFor();
  await waitFor('one row', async () => (await page.getByTestId('jobs-table').locator('tbody tr').count()) === 1, 10_000);
  const counts = await page.getByTestId('status-counts').innerText();
  expect(/SUCCESS\s*1/.test(counts) && /all\s*1/.test(counts), `status counts of the search (${counts})`);
  await page.getByTestId('jobs-table').locator('summary').first().click();
  expect((await page.getByLabel(`argv of ${state.trainJob}`).innerText()).includes('train'), 'the full argv expands');
  await shot('jobs-search');
  await page.goto(`${base}/runs`);
  const row = page.getByTestId('runs-table').locator('tr', { hasText: state.runId });
  await row.waitFor();
  const label = await row.getByTestId('run-label').innerText();
  expect(/^\d+d \/ \d+(\.\d)?%$/.test(label), `the run's label (${label})`);
  await page.getByLabel('Search runs').fill('no-such-run-anywhere');
  await page.getByText('No run matches').waitFor();
  await page.getByLabel('Search runs').fill(state.runId.slice(-8));
  await page.getByTestId('runs-table').getByText(state.runId).waitFor();
  // Model-param columns (MLflow's params): the run's config.yaml model.params, here num_round=3000 from --set.
  const listed = (await apiGet(`/api/runs?q=${state.runId}`)).items[0];
  expect(listed.model_params.num_round === 3000, `model_params from config.yaml (${JSON.stringify(listed.model_params)})`);
  expect((await row.getByTestId('param-num_round').innerText()) === '3000', 'the num_round column shows 3000');
  await page.getByRole('button', { name: /dataset/ }).click();
  await page.waitForURL('**sort=dataset_asc**');
  await shot('runs-columns');
  await page.goto(`${base}/runs/${state.runId}`);
  const href = await page.getByRole('link', { name: 'metrics.json' }).getAttribute('href');
  expect(href === `/api/runs/${state.runId}/files/metrics.json`, `metrics.json link (${href})`);
  const file = await page.request.get(base + href);
  expect(file.status() === 200 && 'per_ticker' in (await file.json()), `metrics.json downloads (${file.status()})`);
  await page.goto(`${base}/jobs/${state.trainJob}`);
  await page.getByLabel('Search the whole log').fill('RUN_ID');
  await page.getByRole('button', { name: 'Search', exact: true }).click();
  const results = page.getByTestId('log-search-results');
  await results.getByText('whole log searched').waitFor();
  expect((await results.locator('li').count()) >= 1 && /run_id/i.test(await results.innerText()), 'the run_id line found on the server');
  const dl = page.waitForEvent('download');
  await page.getByRole('button', { name: 'Download log' }).click();
  const download = await dl;
  expect(download.suggestedFilename() === `${state.trainJob}.log`, `download name ${download.suggestedFilename()}`);
  await shot('job-log-search');
});

await test('backtest from Actions prefilled by URL shows its equity chart', async () => {
  const run = await apiGet(`/api/registry/models?ticker=SPX&min_support=0&limit=50`);
  const row = (run.items ?? run).find((r) => r.run_id === state.runId);
  const modelPath = row?.model_final_path;
  expect(modelPath, 'registry row has model_final_path');
  const url = `/actions?type=backtest&ticker=SPX&model_path=${encodeURIComponent(modelPath)}&start=2017-01-01&end=2020-12-31`;
  await page.goto(base + url);
  expect((await page.getByRole('tab', { name: 'Backtest' }).getAttribute('aria-selected')) === 'true', 'type=backtest picks the Backtest tab');
  const form = page.getByTestId('backtest-form');
  expect((await form.locator('input[name=tickers]').inputValue()) === 'SPX', 'ticker prefilled');
  expect((await form.locator('input[name=model_path]').inputValue()) === modelPath, 'model_path prefilled');
  expect((await form.locator('input[name=start]').inputValue()) === '2017-01-01', 'start prefilled');
  expect((await form.locator('input[name=end]').inputValue()) === '2020-12-31', 'end prefilled');
  await shot('actions-backtest-prefilled');
  await page.getByRole('button', { name: 'Submit backtest job' }).click();
  const jobId = await toastJobId();
  const j = await waitJob(jobId);
  expect(j.status === 'SUCCESS', `backtest SUCCESS (got ${j.status}: ${j.error_message ?? ''})`);
  await page.goto(`${base}/jobs/${jobId}`);
  await page.getByRole('link', { name: 'View Backtest' }).click();
  await page.getByTestId('equity-chart').locator('canvas').waitFor();
  await page.getByTestId('drawdown-chart').locator('canvas').waitFor();
  const stats = await page.getByTestId('backtest-stats').innerText();
  expect(/CAGR[\s\S]*-?\d+\.\d+%/.test(stats), `CAGR shown (${stats.slice(0, 80)})`);
  state.btRunId = j.artifacts.bt_run_id;
  const href = await page.getByRole('link', { name: 'summary.json' }).getAttribute('href');
  const file = await page.request.get(base + href);
  expect(file.status() === 200 && 'cagr' in (await file.json()), `summary.json link downloads the file (${file.status()})`);
  expect((await page.getByTestId('trades-table').locator('tbody tr').count()) >= 1, 'trades table has rows');
  await shot('backtest-detail');
  state.btJob = jobId;
});

await test('backtest detail: data range next to the requested one, model run and job links, synced cursors, monthly returns = equity.csv', async () => {
  const detail = await apiGet(`/api/backtests/${state.btRunId}`);
  const s = detail.summary;
  await page.goto(`${base}/backtests/${state.btRunId}`);
  await page.getByTestId('equity-chart').locator('canvas').waitFor();
  const range = await page.getByTestId('data-range').innerText();
  expect(range.startsWith(`${s.start} → ${s.end}`) && s.start >= '2017-01-01', `the actual first and last bar (${range}; summary ${s.start}..${s.end})`);
  expect((await page.getByTestId('requested-range').innerText()) === '2017-01-01 → 2020-12-31', 'the requested window');
  expect((await page.getByTestId('model-run-link').getAttribute('href')) === `/runs/${state.runId}`, 'links the model run');
  expect((await page.getByTestId('job-link').getAttribute('href')) === `/jobs/${state.btJob}`, `links the job that produced it (summary job_id ${s.job_id})`);
  // Synced cursors: hovering the equity chart moves the drawdown chart's cursor to the same day.
  const eq = page.getByTestId('equity-chart');
  const ddc = page.getByTestId('drawdown-chart');
  expect((await eq.getAttribute('data-sync')) === (await ddc.getAttribute('data-sync')), 'both charts share a sync key');
  const over = await eq.locator('.u-over').boundingBox();
  await page.mouse.move(over.x + over.width * 0.6, over.y + over.height / 2);
  const dayOf = async (chart) => (await chart.locator('.u-legend .u-series').first().locator('.u-value').innerText()).trim();
  await waitFor('the drawdown cursor to follow', async () => /^\d{4}-\d{2}-\d{2}$/.test(await dayOf(ddc)) && (await dayOf(ddc)) === (await dayOf(eq)), 5_000);
  // Monthly returns: every cell equals month-end over previous month-end of equity.csv (first month over the initial cash).
  const csv = await (await fetch(`${base}/api/backtests/${state.btRunId}/files/equity.csv`)).text();
  const rows = csv.trim().split('\n').slice(1).map((l) => l.split(','));
  // Benchmark overlay: buy & hold SPX from equity.csv's benchmark column, the same starting
  // equity, its last value = summary.benchmark_return; the legend shows the hovered day's value.
  const header = csv.split('\n')[0].split(',');
  const bcol = header.indexOf('benchmark');
  expect(bcol > 0 && s.benchmark?.kind === 'buy_and_hold' && s.benchmark.symbols[0] === 'SPX', `equity.csv has a benchmark column (${header}) and the summary names it (${JSON.stringify(s.benchmark)})`);
  expect(Number(rows[0][bcol]) === s.initial_cash, `the benchmark starts at the initial cash (${rows[0][bcol]} vs ${s.initial_cash})`);
  const lastBench = Number(rows[rows.length - 1][bcol]);
  expect(Math.abs(lastBench / s.initial_cash - 1 - s.benchmark_return) < 1e-6, `benchmark_return ${s.benchmark_return} = last benchmark / initial cash - 1 (${lastBench})`);
  const toggle = page.getByRole('checkbox', { name: /Show benchmark: buy & hold SPX/ });
  expect(await toggle.isChecked(), 'the benchmark is shown by default');
  const legendNames = async () => (await eq.locator('.u-legend .u-series .u-label').allInnerTexts()).map((t) => t.trim());
  expect((await legendNames()).includes('buy & hold SPX'), `the legend names the benchmark (${await legendNames()})`);
  const day = await dayOf(eq);
  const benchAt = rows.find((r) => r[0] === day)?.[bcol];
  const moneyAxis = (v) => (Math.abs(v) >= 1e6 ? `${(v / 1e6).toFixed(2)}M` : Math.abs(v) >= 1e3 ? `${(v / 1e3).toFixed(0)}k` : v.toFixed(0));
  const benchLegend = (await eq.locator('.u-legend .u-series', { hasText: 'buy & hold SPX' }).locator('.u-value').innerText()).trim();
  expect(benchAt !== undefined && benchLegend === moneyAxis(Number(benchAt)), `hovered ${day}: legend ${benchLegend} = equity.csv ${benchAt}`);
  await shot('backtest-detail-benchmark');
  await toggle.uncheck();
  await waitFor('the benchmark to leave the chart', async () => !(await legendNames()).includes('buy & hold SPX'), 5_000);
  await toggle.check();
  await waitFor('the benchmark to come back', async () => (await legendNames()).includes('buy & hold SPX'), 5_000);
  const ends = new Map();
  for (const r of rows) ends.set(r[0].slice(0, 7), Number(r[1]));
  let prev = s.initial_cash;
  const expected = [];
  for (const [ym, v] of ends) {
    expected.push([ym, `${((v / prev - 1) * 100).toFixed(1)}%`]);
    prev = v;
  }
  const table = page.getByTestId('monthly-returns');
  await table.waitFor();
  for (const [ym, text] of [expected[0], expected[Math.floor(expected.length / 2)], expected[expected.length - 1]]) {
    const [y, m] = ym.split('-');
    const cell = table.locator('tbody tr', { has: page.locator('th', { hasText: y }) }).locator('td').nth(Number(m) - 1);
    expect((await cell.innerText()).trim() === text, `${ym}: ${await cell.innerText()} vs ${text} from equity.csv`);
  }
  await table.scrollIntoViewIfNeeded();
  await shot('backtest-detail-origin-monthly');
});

await test('Actions keeps each tab\'s draft; a scores-file backtest (strategy.params.scores_path) from the Actions page succeeds', async () => {
  await page.goto(`${base}/actions?type=backtest`);
  const form = page.getByTestId('backtest-form');
  await form.locator('input[name=tickers]').fill('SPX');
  await form.locator('input[name=start]').fill('2005-01-01');
  await form.locator('input[name=end]').fill('2007-12-31');
  await form.locator('input[name=scores_path]').fill('preds/spx_scores.csv');
  await page.getByTestId('scores-hint').waitFor();
  // Another tab, another page, then the nav link back: the draft is still there.
  await page.getByRole('tab', { name: 'Eval Metrics' }).click();
  await page.getByTestId('eval-form').locator('input[name=run_id]').fill('run_draft_kept');
  await page.getByRole('tab', { name: 'Backtest' }).click();
  expect((await form.locator('input[name=scores_path]').inputValue()) === 'preds/spx_scores.csv', 'scores_path kept across a tab switch');
  await page.getByRole('link', { name: 'Jobs', exact: true }).click();
  await page.waitForURL('**/jobs');
  await page.getByRole('link', { name: 'Actions', exact: true }).click();
  await form.waitFor();
  expect((await form.locator('input[name=tickers]').inputValue()) === 'SPX', 'tickers restored after navigating away and back');
  expect((await form.locator('input[name=end]').inputValue()) === '2007-12-31', 'end restored');
  expect(new URL(page.url()).searchParams.get('scores_path') === 'preds/spx_scores.csv', `the draft is in the URL (${page.url()})`);
  await page.getByRole('tab', { name: 'Eval Metrics' }).click();
  expect((await page.getByTestId('eval-form').locator('input[name=run_id]').inputValue()) === 'run_draft_kept', 'the eval tab kept its own draft');
  await page.getByRole('tab', { name: 'Backtest' }).click();
  const payload = JSON.parse(await page.getByTestId('backtest-payload').textContent());
  expect(payload.overrides[0] === 'strategy.type=signal' && payload.overrides[1] === 'strategy.params={"scores_path": "preds/spx_scores.csv"}', `payload overrides ${JSON.stringify(payload.overrides)}`);
  await shot('actions-backtest-scores-file');
  await page.getByRole('button', { name: 'Submit backtest job' }).click();
  const jobId = await toastJobId();
  const j = await waitJob(jobId);
  expect(j.status === 'SUCCESS', `scores-file backtest SUCCESS (got ${j.status}: ${j.error_message ?? ''})`);
  const bt = await apiGet(`/api/backtests/${j.artifacts.bt_run_id}`);
  expect(JSON.stringify(bt).includes('preds/spx_scores.csv'), 'the backtest records its scores file');
  // Held January-June only: one trade a year, bought at the open after the year's first (0.9)
  // close, sold at the open after the first July (0.1) close.
  const trades = bt.trades;
  const shape = trades.map((t) => `${t.entry_date.slice(0, 7)}..${t.exit_date.slice(0, 7)}`).join(' ');
  expect(shape === '2005-01..2005-07 2006-01..2006-07 2007-01..2007-07', `one January-to-July trade a year (got ${shape})`);
});

await test('backtests list', async () => {
  await page.goto(`${base}/backtests`);
  await page.getByTestId('backtests-table').getByText(state.btRunId).waitFor();
  await shot('backtests');
});

await test('sma_cross backtest detail: fills table, positions over time, turnover, downloads (1280 and 420 px)', async () => {
  const sub = await apiPost('/api/jobs/backtest', { config_path: 'configs/backtest/base.yaml' });
  const j = await waitJob(sub.job_id);
  expect(j.status === 'SUCCESS', `sma_cross backtest SUCCESS (got ${j.status}: ${j.error_message ?? ''})`);
  const id = j.artifacts.bt_run_id;
  await page.goto(`${base}/backtests/${id}`);
  const fills = page.getByTestId('fills-table');
  await fills.waitFor();
  const first = await fills.locator('tbody tr').first().innerText();
  expect(/\d{4}-\d\d-\d\d\s+SPX\s+buy\s/.test(first), `first fill is a buy of SPX (got "${first}")`);
  const onDisk = await (await fetch(`${base}/api/backtests/${id}/files/fills.csv`)).text();
  const rows = onDisk.trim().split('\n').length - 1;
  expect((await page.getByRole('heading', { name: `Fills (${rows.toLocaleString('en-US')})` }).count()) === 1, `fills heading counts the ${rows} rows of fills.csv`);
  await page.getByTestId('invested-chart').locator('canvas').waitFor();
  await page.getByTestId('names-chart').locator('canvas').waitFor();
  const turnover = await page.getByTestId('turnover-summary').innerText();
  expect(/average turnover \d+\.\d%/.test(turnover), `turnover summary (got "${turnover}")`);
  const stats = await page.getByTestId('backtest-stats').innerText();
  expect(/Avg invested\s+\d+\.\d%/.test(stats), `Avg invested card (got ${stats.replace(/\n/g, ' ')})`);
  expect((await page.getByTestId('trades-table').getByRole('columnheader', { name: 'Exit reason' }).count()) === 1, 'trades table has the Exit reason column');
  const link = page.getByTestId('download-fills.csv');
  expect((await link.getAttribute('download')) === 'fills.csv', 'fills.csv link downloads');
  const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
  const saved = join(tmp, 'fills-download.csv');
  await download.saveAs(saved);
  expect(readFileSync(saved, 'utf8') === onDisk, 'the downloaded fills.csv is the file on the server');
  expect((await page.getByTestId('download-positions.csv').count()) === 1, 'positions.csv download link');
  await shot('backtest-detail-fills');
  await page.setViewportSize({ width: 420, height: 860 });
  await page.reload();
  await page.getByTestId('fills-table').waitFor();
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expect(overflow <= 2, `backtest detail has no horizontal page overflow at 420 px (${overflow}px)`);
  await shot('narrow-backtest-detail-fills');
  await page.setViewportSize({ width: 1280, height: 900 });
});

await test('topn backtest at max_exposure 0.4: the under-50%-invested notice and scores.csv download', async () => {
  const sub = await apiPost('/api/jobs/backtest', {
    config_path: 'configs/backtest/base.yaml',
    tickers: ['SPX', SECOND_TICKER],
    overrides: ['strategy={type: topn, params: {score: momentum, top_n: 1, max_exposure: 0.4}}'],
  });
  const j = await waitJob(sub.job_id);
  expect(j.status === 'SUCCESS', `topn backtest SUCCESS (got ${j.status}: ${j.error_message ?? ''})`);
  const id = j.artifacts.bt_run_id;
  const detail = await apiGet(`/api/backtests/${id}`);
  const share = detail.summary.avg_invested_share;
  expect(typeof share === 'number' && share < 0.5, `summary.avg_invested_share under 0.5 (got ${share})`);
  await page.goto(`${base}/backtests/${id}`);
  const notice = await page.getByTestId('invested-notice').innerText();
  expect(notice.startsWith(`Kept under 50% invested on average: ${(share * 100).toFixed(1)}%`), `notice names the share (got "${notice}")`);
  await page.getByTestId('fills-table').waitFor();
  const href = await page.getByTestId('download-scores.csv').getAttribute('href');
  const scores = await page.request.get(base + href);
  expect(scores.status() === 200 && (await scores.text()).startsWith('date,symbol,score,rank,selected'), `scores.csv downloads (${scores.status()})`);
  await shot('backtest-detail-topn-notice');
});

await test('a missing backtest shows its error at once, asked for once (no 4xx retry)', async () => {
  const seen = [];
  const onReq = (r) => {
    if (r.url().includes('/api/backtests/bt_does_not_exist')) seen.push(r.url());
  };
  page.on('request', onReq);
  await page.goto(`${base}/backtests/bt_does_not_exist`);
  await page.locator('.state-error', { hasText: '404' }).waitFor({ timeout: 3_000 });
  await page.waitForTimeout(1_500);
  page.off('request', onReq);
  expect(seen.length === 1, `the backtest was requested once (got ${seen.length})`);
});

await test('a refused submission shows the ApiError in a toast', async () => {
  await page.goto(`${base}/actions?type=train&config_path=../outside.yaml`);
  await page.getByRole('button', { name: 'Submit train job' }).click();
  const t = page.locator('[data-testid=toast].toast-error').last();
  await t.waitFor();
  const text = await t.innerText();
  expect(/40\d/.test(text), `error toast names the HTTP status (got "${text}")`);
  await shot('actions-refused');
  // A config the engine refuses (a value out of range) is refused at submit: no job, the
  // server's reason in the toast.
  await page.goto(`${base}/actions?type=train`);
  await page.locator('#train-overrides').fill('model.params.num_round=400000');
  await page.getByRole('button', { name: 'Submit train job' }).click();
  const t2 = page.locator('[data-testid=toast].toast-error').last();
  await waitFor('the refused config toast', async () => (await t2.innerText()).includes('400000'));
  const text2 = await t2.innerText();
  expect(/400/.test(text2) && text2.includes('outside [1, 100000]'), `toast names the 400 and the range (got "${text2}")`);
  await shot('actions-refused-config');
});

await test('Error Summary of a failing job', async () => {
  await page.goto(`${base}/actions?type=train`);
  // Valid config, but the demo data has no bars before 2000: the training split is empty,
  // which only the job finds out (a config the engine refuses outright is a 400 at submit).
  await page.locator('#train-overrides').fill('split.train_end=1995-12-31\nsplit.valid_end=1996-12-31');
  await page.getByRole('button', { name: 'Submit train job' }).click();
  const jobId = await toastJobId();
  state.failedJob = jobId;
  const j = await waitJob(jobId);
  expect(j.status === 'FAILED', `job FAILED (got ${j.status})`);
  await page.goto(`${base}/jobs/${jobId}`);
  const summary = page.getByTestId('error-summary');
  await summary.waitFor();
  const code = await page.getByTestId('exit-code').innerText();
  expect(code !== '0' && code !== '—', `non-zero exit code shown (got ${code})`);
  const msg = await page.getByTestId('error-message').innerText();
  expect(msg.length > 0, 'error message shown');
  await shot('job-detail-failed');
  await summary.getByRole('button', { name: 'Hide message' }).click();
  expect((await page.getByTestId('error-message').count()) === 0, 'error message collapses');
  // Edit and re-run: Actions prefilled with the job's exact params.
  await page.getByRole('link', { name: 'Edit and re-run' }).click();
  await page.waitForURL('**/actions?type=train*');
  expect((await page.locator('#train-overrides').inputValue()) === 'split.train_end=1995-12-31\nsplit.valid_end=1996-12-31', 'the failed job\'s overrides are prefilled');
  expect((await page.locator('[data-testid=train-form] input[name=config_path]').inputValue()) === 'configs/base.yaml', 'and its config');
});

await test('jobs page filters by status and type (server-side)', async () => {
  await page.goto(`${base}/jobs?status=FAILED`);
  const table = page.getByTestId('jobs-table');
  await table.getByText(state.failedJob).waitFor();
  const text = await table.innerText();
  expect(!text.includes(state.trainJob), 'a SUCCESS job is filtered out');
  await shot('jobs-failed');
  await page.goto(`${base}/jobs`);
  await table.getByText(state.trainJob).waitFor();
  await shot('jobs');
  await page.goto(`${base}/jobs?job_type=backtest`);
  await waitFor('type filter', async () => !(await table.innerText()).includes(state.trainJob));
});

await test('dashboard shows recent jobs, best models and recent backtests', async () => {
  await page.goto(base + '/');
  await page.getByTestId('jobs-table').waitFor();
  await page.getByTestId('best-model').first().waitFor();
  await page.getByTestId('backtests-table').waitFor();
  const card = page.getByTestId('best-model').first();
  for (const b of ['Run Backtest with this model', 'Open in Actions']) await card.getByText(b, { exact: true }).waitFor();
  expect((await card.getByText('Backtest', { exact: true }).count()) === 0, 'no plain base-config "Backtest" button (it ignored the model\'s dataset)');
  expect(/support ≥ 30 test rows/.test(await page.getByTestId('best-models-floor').innerText()), 'the cards say the server\'s support floor');
  await shot('dashboard');
  await card.getByText('Open in Actions', { exact: true }).click();
  await page.waitForURL('**/actions?type=backtest*');
  expect((await page.locator('[data-testid=backtest-form] input[name=model_path]').inputValue()).length > 0, 'Open in Actions carries the model path');
});


// ------------------------------------------------------------ model flows on the second dataset
// A model trained on `synthetic` (not demo): every "backtest this model" button sends the model
// only and the server takes its dataset, tickers and test period from the run.
async function backtestOf(jobId) {
  const j = await waitJob(jobId);
  expect(j.status === 'SUCCESS', `backtest SUCCESS (got ${j.status}: ${j.error_message ?? ''})`);
  const id = j.artifacts.bt_run_id;
  return { job: j, id, detail: await apiGet(`/api/backtests/${id}`) };
}

async function narrowShot(name, ready) {
  await page.setViewportSize({ width: 420, height: 860 });
  await page.reload();
  await ready();
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  await shot(name);
  await page.setViewportSize({ width: 1280, height: 900 });
  expect(overflow <= 2, `no horizontal page overflow at 420 px (${overflow}px)`);
}

await test('a model trained on the synthetic dataset (API)', async () => {
  const t = await apiPost('/api/jobs/train', {
    config_path: 'configs/base.yaml',
    overrides: ['dataset=synthetic', 'tickers=[SYN0001, SYN0002]', 'split.train_end=2007-12-31', 'split.valid_end=2008-12-31', 'label.threshold=0.02', 'model.params.num_round=30', 'model.params.nthread=1'],
  });
  const j = await waitJob(t.job_id);
  expect(j.status === 'SUCCESS', `synthetic train SUCCESS (got ${j.status}: ${j.error_message ?? ''})`);
  state.synRun = j.artifacts.run_id;
  const manifest = (await apiGet(`/api/runs/${state.synRun}`)).manifest;
  state.synModels = manifest.models;
  expect(state.synModels.SYN0002 === `runs/${state.synRun}/model_SYN0002.json`, `one model per ticker (${JSON.stringify(state.synModels)})`);
});

await test('run detail: each model\'s training/validation curve and feature importance (training_log.json), synthetic run', async () => {
  const log = await apiGet(`/api/runs/${state.synRun}/files/training_log.json`);
  expect(Object.keys(log.models).length === 2, `a log per model (${Object.keys(log.models).join(', ')})`);
  await page.goto(`${base}/runs/${state.synRun}`);
  const diag = page.getByTestId('model-diagnostics');
  await diag.getByTestId('eval-curve').locator('canvas').waitFor();
  const picker = diag.getByTestId('diagnostics-model');
  expect((await picker.locator('option').count()) === 2, 'one entry per model');
  for (const file of ['model_SYN0001.json', 'model_SYN0002.json']) {
    await picker.selectOption(file);
    const m = log.models[file];
    const first = (await diag.getByTestId('feature-importance').locator('tbody tr').first().locator('td').first().innerText()).trim();
    const top = [...m.feature_importance].sort((a, b) => b.gain - a.gain)[0].feature;
    expect(first === top, `${file}: the top feature is the highest gain of the file (${first} vs ${top})`);
    const min = Math.min(...m.eval_log.valid);
    const summary = await diag.getByTestId('curve-summary').innerText();
    expect(summary.includes(`(${min.toFixed(4)})`), `${file}: the curve summary names the lowest valid logloss ${min.toFixed(4)} (${summary})`);
  }
  await diag.scrollIntoViewIfNeeded();
  await shot('run-detail-curve-importance');
  await narrowShot('narrow-run-detail-curve-importance', () => page.getByTestId('eval-curve').locator('canvas').waitFor());
});

await test('at 1280 px the Jobs table shows its links column: no horizontal scroll, every row\'s links inside the table', async () => {
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.goto(`${base}/jobs`);
  const table = page.getByTestId('jobs-table');
  await table.getByText(state.trainJob).waitFor();
  const wrap = page.locator('.table-wrap', { has: table });
  const { scroll, client, right } = await wrap.evaluate((el) => ({ scroll: el.scrollWidth, client: el.clientWidth, right: el.getBoundingClientRect().right }));
  expect(scroll <= client + 1, `the table fits its box (scrollWidth ${scroll} > clientWidth ${client})`);
  const cells = table.locator('tbody tr td:last-child');
  const n = await cells.count();
  expect(n >= 5, `several jobs listed (${n})`);
  for (let i = 0; i < n; i += 1) {
    const b = await cells.nth(i).boundingBox();
    expect(b && b.x + b.width <= right + 1 && b.x + b.width <= 1280, `row ${i}: the links cell ends inside the table (${b && b.x + b.width} > ${right})`);
    const log = await cells.nth(i).getByRole('link', { name: 'log' }).boundingBox();
    expect(log && log.x >= 0 && log.x + log.width <= right, `row ${i}: its log link is visible`);
  }
  await shot('jobs-1280-links');
});

await test('at 1280 px the Runs table fits with its sort arrows: no horizontal scroll, every row\'s started cell inside it', async () => {
  await page.setViewportSize({ width: 1280, height: 900 });
  // a model-param sort: its header shows the active arrow (▼), the others ↕
  await page.goto(`${base}/runs?sort=param.max_depth_desc`);
  const table = page.getByTestId('runs-table');
  await table.locator('tbody tr').first().waitFor();
  expect((await table.locator('th[aria-sort=descending]').innerText()).includes('▼'), 'the sorted header shows its arrow');
  const wrap = page.locator('.table-wrap', { has: table });
  const { scroll, client, right } = await wrap.evaluate((el) => ({ scroll: el.scrollWidth, client: el.clientWidth, right: el.getBoundingClientRect().right }));
  expect(scroll <= client + 1, `the Runs table fits its box (scrollWidth ${scroll} > clientWidth ${client})`);
  const heads = table.locator('thead th');
  for (let i = 0; i < (await heads.count()); i += 1) {
    const b = await heads.nth(i).boundingBox();
    expect(b && b.x + b.width <= right + 1, `header ${i} (${await heads.nth(i).innerText()}) ends inside the table (${b && b.x + b.width} > ${right})`);
  }
  const cells = table.locator('tbody tr td:last-child');
  const n = await cells.count();
  expect(n >= 1, `runs listed (${n})`);
  for (let i = 0; i < n; i += 1) {
    const b = await cells.nth(i).boundingBox();
    expect(b && b.x + b.width <= right + 1 && b.x + b.width <= 1280, `row ${i}: the started cell ends inside the table (${b && b.x + b.width} > ${right})`);
  }
  await shot('runs-1280-sorted');
});

await test('bug 1+2: Registry "Run Backtest" on a synthetic model runs on its dataset, out of sample, periods shaded (1280 and 420 px)', async () => {
  await page.goto(`${base}/registry?ticker=SYN0002`);
  const row = page.getByTestId('registry-table').locator('tbody tr', { hasText: state.synRun }).first();
  await row.waitFor();
  await row.getByRole('button', { name: 'Run Backtest' }).click();
  const { id, detail } = await backtestOf(await toastJobId());
  const s = detail.summary;
  expect(s.dataset === 'synthetic' && JSON.stringify(s.tickers) === '["SYN0002"]', `the model's dataset and ticker (got ${s.dataset} ${JSON.stringify(s.tickers)})`);
  expect(s.model_valid_end === '2008-12-31' && s.model_test_start === '2009-01-01', `the model's split (got ${s.model_valid_end} / ${s.model_test_start})`);
  expect(s.start >= '2009-01-01' && s.in_sample_overlap_days === 0, `out of sample by default (start ${s.start}, overlap ${s.in_sample_overlap_days})`);
  await page.goto(`${base}/backtests/${id}`);
  await page.getByTestId('equity-chart').locator('canvas').waitFor();
  await page.getByTestId('out-of-sample').waitFor();
  expect((await page.getByTestId('overlap-warning').count()) === 0, 'no in-sample warning');
  const legend = page.getByTestId('period-legend');
  expect((await legend.locator('[data-period=test]').getAttribute('data-visible')) === 'true', 'the test period is shaded');
  expect((await legend.locator('[data-period=train]').getAttribute('data-visible')) === 'false', 'no train period in an out-of-sample backtest');
  await shot('model-flow-registry-out-of-sample');
  await narrowShot('narrow-model-flow-registry-out-of-sample', () => page.getByTestId('out-of-sample').waitFor());
});

await test('bug 1+2+4: Dashboard "Run Backtest with this model" on a synthetic model', async () => {
  await page.goto(base + '/');
  const card = page.getByTestId('best-model').filter({ hasText: 'SYN0001' }).first();
  await card.waitFor();
  await card.getByRole('button', { name: 'Run Backtest with this model' }).click();
  const { id, detail } = await backtestOf(await toastJobId());
  const s = detail.summary;
  expect(s.dataset === 'synthetic' && JSON.stringify(s.tickers) === '["SYN0001"]', `the card's model ticker on its dataset (got ${s.dataset} ${JSON.stringify(s.tickers)})`);
  expect(s.in_sample_overlap_days === 0 && s.start >= s.model_test_start, `out of sample (start ${s.start}, overlap ${s.in_sample_overlap_days})`);
  await page.goto(`${base}/backtests/${id}`);
  await page.getByTestId('out-of-sample').waitFor();
  await shot('model-flow-dashboard-out-of-sample');
});

await test('bug 3+2: Run detail pairs each ticker with its own model; an in-sample window warns in red and shades train/valid/test (1280 and 420 px)', async () => {
  await page.goto(`${base}/runs/${state.synRun}`);
  const models = page.getByTestId('run-models');
  await models.waitFor();
  const listed = await models.locator('li').allInnerTexts();
  expect(listed.length === 2 && listed.every((t) => /^SYN000[12]: runs\/.+\/model_SYN000[12]\.json$/.test(t)), `every model listed (${listed.join(' | ')})`);
  const links = page.getByTestId('open-in-actions');
  expect((await links.count()) === 2, 'one Open in Actions per ticker');
  for (let i = 0; i < 2; i += 1) {
    const q = new URLSearchParams((await links.nth(i).getAttribute('href')).split('?')[1]);
    expect(q.get('model_path') === state.synModels[q.get('ticker')], `ticker ${q.get('ticker')} opens its own model (got ${q.get('model_path')})`);
  }
  await shot('model-flow-run-detail');
  await page.getByTestId('run-metrics').locator('tr', { hasText: 'SYN0002' }).getByTestId('open-in-actions').click();
  await page.waitForURL('**/actions?type=backtest*');
  const form = page.getByTestId('backtest-form');
  expect((await form.locator('input[name=tickers]').inputValue()) === 'SYN0002', 'ticker SYN0002');
  expect((await form.locator('input[name=model_path]').inputValue()) === state.synModels.SYN0002, 'with model_SYN0002.json');
  await page.getByTestId('model-defaults-hint').waitFor();
  await form.locator('input[name=start]').fill('2007-06-01'); // a window the model was trained / validated on
  await page.getByRole('button', { name: 'Submit backtest job' }).click();
  const { id, detail } = await backtestOf(await toastJobId());
  const s = detail.summary;
  expect(s.in_sample_overlap_days > 300, `the overlap is counted (got ${s.in_sample_overlap_days})`);
  await page.goto(`${base}/backtests/${id}`);
  const warn = page.getByTestId('overlap-warning');
  await warn.waitFor();
  const text = await warn.innerText();
  expect(text.startsWith(`In-sample: ${s.in_sample_overlap_days.toLocaleString('en-US')} of`), `warning names the overlap (got "${text}")`);
  const color = await warn.evaluate((el) => getComputedStyle(el).color);
  expect(color === 'rgb(130, 7, 30)', `the warning is red (got ${color})`);
  await page.getByTestId('equity-chart').locator('canvas').waitFor();
  const legend = page.getByTestId('period-legend');
  for (const p of ['train', 'valid', 'test']) expect((await legend.locator(`[data-period=${p}]`).getAttribute('data-visible')) === 'true', `${p} period shaded`);
  await shot('model-flow-in-sample-warning');
  await narrowShot('narrow-model-flow-in-sample-warning', () => page.getByTestId('overlap-warning').waitFor());
});

await test('bug 5: the overrides preview refuses what the server refuses and shows typed values', async () => {
  await page.goto(`${base}/actions?type=backtest`);
  await page.locator('#backtest-overrides').fill('model.params.max-depth=3\nfee_bps=5\nstrategy.params.cutoff=0.6');
  const err = page.getByTestId('override-error');
  await err.first().waitFor();
  expect((await err.count()) === 1 && /max-depth/.test(await err.first().innerText()), 'the "-" key is flagged');
  expect(await page.getByRole('button', { name: 'Submit backtest job' }).isDisabled(), 'submit blocked');
  const preview = await page.getByTestId('overrides-preview').locator('pre').innerText();
  expect(preview.includes('"fee_bps": 5') && preview.includes('"strategy.params.cutoff": 0.6'), `typed values (got ${preview})`);
  const r = await fetch(`${base}/api/jobs/backtest`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ config_path: 'configs/backtest/base.yaml', overrides: ['model.params.max-depth=3'], dry_run: true }) });
  expect(r.status === 400, `the server refuses the same key (${r.status})`);
  await shot('actions-overrides-server-rule');
});

await test('narrow window (420 px) stays usable', async () => {
  await page.setViewportSize({ width: 420, height: 860 });
  await page.goto(`${base}/registry`);
  await page.getByTestId('registry-table').waitFor();
  expect((await page.getByTestId('nav-current').innerText()) === 'Registry', 'the narrow top bar names the current page');
  await page.getByRole('button', { name: 'Menu' }).click();
  await page.locator('nav.open a', { hasText: 'Jobs' }).waitFor();
  await shot('narrow-registry-menu');
  await page.goto(`${base}/jobs/${state.trainJob}`);
  await page.getByTestId('log-box').getByText('run_id:').waitFor();
  await page.getByTestId('log-status').getByText('complete').waitFor();
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expect(overflow <= 2, `job detail has no horizontal page overflow at 420 px (${overflow}px)`);
  // The log is above the fold (its box starts in the first screen with room to read), the metadata below it.
  await page.evaluate(() => window.scrollTo(0, 0));
  const logBox = await page.getByTestId('log-box').boundingBox();
  const metaBox = await page.getByTestId('job-meta').boundingBox();
  expect(logBox && logBox.y + 120 <= 860, `the job log starts above the fold at 420 px (top ${logBox && logBox.y}px of 860)`);
  expect(metaBox && metaBox.y > logBox.y, `the metadata comes after the log at 420 px (${metaBox && metaBox.y} vs ${logBox.y})`);
  await shot('narrow-job-detail');
  await page.setViewportSize({ width: 1280, height: 900 });
});

await test('an unreachable server: a persistent banner on every page with Retry now; gone when the server is back', async () => {
  // A server of its own over a copy of the workspace, stopped and started again on the same port.
  const wsDown = join(tmp, 'workspace-down');
  cpSync(ws, wsDown, { recursive: true, filter: (src) => !/alphalab\.db|\/reports(\/|$)/.test(src.slice(ws.length)) });
  const port3 = fixedPort(2) ?? (await freePort());
  const base3 = `http://127.0.0.1:${port3}`;
  const start3 = () => {
    const p = spawn(bin, ['serve', '--workspace', wsDown, '--host', '127.0.0.1', '--port', String(port3), '--ui-dir', join(UI_DIR, 'dist')], { stdio: ['ignore', 'pipe', 'pipe'] });
    p.stdout.on('data', (d) => serverOut.push(d));
    p.stderr.on('data', (d) => serverOut.push(d));
    return p;
  };
  const stop3 = (p) => new Promise((res) => {
    if (p.exitCode !== null || p.signalCode !== null) return res();
    p.once('exit', () => res());
    p.kill('SIGTERM');
  });
  let server3 = start3();
  const p3 = await context.newPage();
  p3.on('pageerror', (e) => consoleErrors.push(`pageerror: ${e.message}`));
  try {
    await waitFor('the second server to answer', async () => (await fetch(`${base3}/api/health`)).ok, 30_000);
    await p3.goto(`${base3}/jobs`);
    await p3.getByRole('heading', { name: 'Jobs', level: 1 }).waitFor();
    expect((await p3.getByTestId('server-banner').count()) === 0, 'no banner while the server answers');
    // The other pages' chunks are fetched right after the first render (App.tsx); a user's server
    // goes away later than that, so wait for them: the Registry page then opens without a server.
    await waitFor('the page chunks prefetched', async () => p3.evaluate(() => performance.getEntriesByType('resource')
      .some((e) => /\/assets\/Registry-[^/]*\.js$/.test(e.name) && e.responseEnd > 0)), 15_000);
    await stop3(server3);
    // The jobs page polls every 4 s: its next request fails and the banner appears.
    await p3.getByTestId('server-banner').waitFor({ timeout: 15_000 });
    await p3.getByTestId('server-banner').getByText(/Cannot reach the alphalab server since/).waitFor();
    // Persistent: still there after a toast would have gone, and on another page too.
    await p3.waitForTimeout(11_000);
    await p3.getByTestId('server-banner').waitFor();
    await p3.getByRole('link', { name: 'Registry' }).click();
    await p3.getByTestId('server-banner').waitFor();
    await p3.getByRole('heading', { name: 'Registry', level: 1 }).waitFor({ timeout: 10_000 });
    await p3.screenshot({ path: join(OUT, 'server-unreachable.png') });
    server3 = start3();
    await waitFor('the second server to answer again', async () => (await fetch(`${base3}/api/health`)).ok, 30_000);
    await p3.getByRole('button', { name: 'Retry now' }).click();
    await p3.getByTestId('server-banner').waitFor({ state: 'detached', timeout: 10_000 });
  } finally {
    await p3.close();
    await stop3(server3);
  }
});

await test('a page whose code the server does not send: an error with Retry inside the layout, not "Loading page…" forever', async () => {
  // The Registry chunk's request is taken and never answered (a server that went silent before
  // the other pages' chunks were prefetched); from the start, so the prefetch cannot have it.
  const p4 = await context.newPage();
  const held = [];
  const chunk = /\/assets\/Registry-[^/]*\.js$/;
  await p4.route(chunk, (route) => void held.push(route));
  try {
    await p4.goto(`${base}/jobs`);
    await p4.getByRole('heading', { name: 'Jobs', level: 1 }).waitFor();
    await p4.getByRole('link', { name: 'Registry' }).click();
    const error = p4.getByTestId('page-load-error');
    await error.waitFor({ timeout: 20_000 });
    expect(/This page could not be loaded/.test(await error.innerText()), `the error says what failed: ${await error.innerText()}`);
    expect(held.length >= 1, 'the chunk was asked for');
    await p4.getByRole('link', { name: 'Jobs' }).first().waitFor(); // the layout (navigation) stays
    await p4.screenshot({ path: join(OUT, 'page-chunk-not-sent.png') });
    // The server answers again: Retry loads the page.
    await p4.unroute(chunk);
    for (const r of held) await r.abort().catch(() => undefined);
    await error.getByRole('button', { name: 'Retry' }).click();
    await p4.getByRole('heading', { name: 'Registry', level: 1 }).waitFor({ timeout: 20_000 });
  } finally {
    await p4.close();
  }
});

await test('auth.mode token: the UI asks for a token, signs in with a cookie, then works (log stream too)', async () => {
  // A second server over a copy of the workspace with auth on, and an admin token from the CLI.
  const wsAuth = join(tmp, 'workspace-auth');
  cpSync(ws, wsAuth, { recursive: true, filter: (src) => !/alphalab\.db|\/reports(\/|$)/.test(src.slice(ws.length)) });
  appendFileSync(join(wsAuth, 'alphalab.yaml'), '\nauth:\n  mode: token\n');
  const created = spawnSync(bin, ['token', 'create', '--name', 'e2e-admin', '--role', 'admin', '--workspace', wsAuth], { encoding: 'utf8' });
  expect(created.status === 0, `token create: ${created.stderr}`);
  const token = created.stdout.trim();
  const port2 = fixedPort(1) ?? (await freePort());
  const base2 = `http://127.0.0.1:${port2}`;
  const server2 = spawn(bin, ['serve', '--workspace', wsAuth, '--host', '127.0.0.1', '--port', String(port2), '--ui-dir', join(UI_DIR, 'dist')], { stdio: ['ignore', 'pipe', 'pipe'] });
  server2.stdout.on('data', (d) => serverOut.push(d));
  server2.stderr.on('data', (d) => serverOut.push(d));
  const p2 = await context.newPage();
  try {
    await waitFor('the auth server to answer', async () => (await fetch(`${base2}/api/health`)).ok, 30_000);
    expect((await fetch(`${base2}/api/jobs/recent`)).status === 401, 'the API answers 401 without a token');
    const job = await (await fetch(`${base2}/api/jobs`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
      body: JSON.stringify({ job_type: 'e2e-echo', params: { note: 'signed' } }),
    })).json();
    expect(typeof job.job_id === 'string', `bearer submit: ${JSON.stringify(job).slice(0, 200)}`);
    await p2.goto(`${base2}/jobs`);
    await p2.getByTestId('signin-dialog').waitFor();
    await p2.screenshot({ path: join(OUT, 'auth-signin.png') });
    await p2.getByTestId('signin-token').fill('alk_wrong');
    await p2.getByRole('button', { name: 'Sign in' }).click();
    await p2.getByTestId('signin-error').waitFor();
    await p2.getByTestId('signin-token').fill(token);
    await p2.getByRole('button', { name: 'Sign in' }).click();
    await p2.getByTestId('signin-dialog').waitFor({ state: 'detached' });
    await p2.getByTestId('jobs-table').getByText(job.job_id).waitFor();
    await p2.getByTestId('session-user').getByText('e2e-admin (admin)').waitFor();
    const cookies = await context.cookies(base2);
    const c = cookies.find((x) => x.name === 'alphalab_session');
    expect(c && c.httpOnly && c.sameSite === 'Strict', `HttpOnly SameSite=Strict session cookie (${JSON.stringify(c)})`);
    expect(!(await p2.evaluate(() => document.cookie)).includes('alphalab_session'), 'the page script cannot read the cookie');
    // The job page's log comes over EventSource with the cookie.
    await p2.goto(`${base2}/jobs/${job.job_id}`);
    await p2.getByTestId('log-box').getByText('signed').waitFor();
    await p2.screenshot({ path: join(OUT, 'auth-job.png') });
  } finally {
    await p2.close();
    server2.kill('SIGTERM');
  }
});

await test('axe-core scan of every route: zero serious or critical violations; screenshots at 1280 and 420 px (light and dark)', async () => {
  const axeSource = readFileSync(join(UI_DIR, 'node_modules', 'axe-core', 'axe.min.js'), 'utf8');
  const routes = [
    ['dashboard', '/'],
    ['jobs', '/jobs'],
    ['job', `/jobs/${state.trainJob}`],
    ['registry', '/registry'],
    ['runs', '/runs'],
    ['run', `/runs/${state.runId}`],
    ['backtests', '/backtests'],
    ['backtest', `/backtests/${state.btRunId}`],
    ['actions', '/actions?type=backtest'],
    ['rdagent', '/rdagent'],
    ['configs', '/configs'],
    ['datasets', '/datasets'],
  ];
  const problems = [];
  for (const theme of ['light', 'dark']) {
    await page.evaluate((t) => localStorage.setItem('alphalab.theme', t), theme);
    for (const [name, path] of routes) {
      await page.setViewportSize({ width: 1280, height: 900 });
      await page.goto(base + path);
      await page.locator('main h1').first().waitFor();
      await page.waitForTimeout(300);
      expect((await page.evaluate(() => document.documentElement.getAttribute('data-theme'))) === theme, `theme ${theme} applied`);
      await page.addScriptTag({ content: axeSource });
      const result = await page.evaluate(async () => {
        const r = await window.axe.run(document, { resultTypes: ['violations'] });
        return r.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.slice(0, 3).map((n) => n.target.join(' ')) }));
      });
      for (const v of result.filter((x) => x.impact === 'serious' || x.impact === 'critical')) problems.push(`${theme} ${name}: ${v.id} (${v.impact}) ${v.nodes.join(' | ')}`);
      await page.screenshot({ path: join(OUT, `route-${name}-1280-${theme}.png`), fullPage: true });
      await page.setViewportSize({ width: 420, height: 900 });
      await page.waitForTimeout(200);
      await page.screenshot({ path: join(OUT, `route-${name}-420-${theme}.png`), fullPage: true });
    }
  }
  await page.evaluate(() => localStorage.removeItem('alphalab.theme'));
  await page.setViewportSize({ width: 1280, height: 900 });
  writeFileSync(join(OUT, 'axe-violations.txt'), problems.join('\n') + '\n');
  expect(problems.length === 0, `axe: ${problems.length} serious/critical violation(s): ${problems.slice(0, 8).join(' ; ')}`);
});

await test('keyboard only: Tab to a nav link, Enter opens the page with the focus on its heading and a title', async () => {
  await page.goto(`${base}/`);
  await page.locator('main h1').first().waitFor();
  let reached = false;
  for (let i = 0; i < 15 && !reached; i++) {
    await page.keyboard.press('Tab');
    reached = await page.evaluate(() => document.activeElement?.textContent === 'Runs' && document.activeElement.tagName === 'A');
  }
  expect(reached, 'the Runs nav link is reachable with Tab');
  await page.keyboard.press('Enter');
  await page.waitForURL('**/runs');
  await page.waitForFunction(() => document.activeElement?.tagName === 'H1');
  expect((await page.title()) === 'Runs · alphalab', `title (${await page.title()})`);
  // The Actions tabs move with the arrow keys.
  await page.goto(`${base}/actions?type=train`);
  await page.getByRole('tab', { name: 'Train' }).focus();
  await page.keyboard.press('ArrowRight');
  await page.getByRole('tab', { name: 'Backtest', selected: true }).waitFor();
  await page.waitForFunction(() => document.activeElement?.textContent === 'Backtest', null, { timeout: 5_000 });
});

await test('no uncaught errors in the browser console', async () => {
  expect(consoleErrors.length === 0, consoleErrors.slice(0, 5).join(' | '));
});

await context.close();
rmSync(profile, { recursive: true, force: true });
cleanup();

const passed = results.filter((r) => r.ok).length;
const failed = results.length - passed;
for (const r of results.filter((x) => !x.ok)) console.log(`  FAILED: ${r.name}\n    ${r.error?.stack?.split('\n').slice(0, 3).join('\n    ')}`);
if (state.trainLogSizes) log(`train log sizes while following: ${state.trainLogSizes.slice(0, 20).join(',')} (growth observed: ${state.logGrowthObserved})`);
log(`screenshots in ${OUT}`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
