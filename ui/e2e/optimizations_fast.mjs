#!/usr/bin/env node
// Browser suite of the optimization pages on the DEFAULT fast path (harness.mjs): the server
// runs without `--no-fast-path`, so a built-in backtest sweep runs in batches inside the
// server (engine grid mode), as it does for users.
//   ALPHALAB_BIN=/path/to/bin/alphalab node ui/e2e/optimizations_fast.mjs
// A 3,000-task sweep submitted from the form runs through the fast path (the server's
// `alphalab_optimization_tasks_total{event="submitted",path="runner"}` counter grows by 3,000,
// the process path's not at all), its progress is seen moving on the page, the Top-N equals
// the tasks endpoint, and a Top-N row's job and backtest links open real pages (the job's log,
// parent optimization and artifacts; the backtest's summary from its folder).
// Screenshots at 1280 and 420 px in ui/test-results/optimizations_fast/.
import { expect, startSuite, watchProgress } from './harness.mjs';

const { base, page, api, test, shots, finish, log } = await startSuite('optimizations_fast');
const state = {};
const num = (t) => Number(String(t).replace(/,/g, ''));
const FAST = { min: 2, max: 101 }; // 100 values
const SLOWS = Array.from({ length: 30 }, (_, i) => 110 + 5 * i); // 30 values -> 3,000 tasks
const TOTAL = 3000;

// The counter of tasks submitted by path, from /metrics (Prometheus text).
const submitted = async (path) => {
  const text = await (await fetch(`${base}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith('alphalab_optimization_tasks_total{') && l.includes('event="submitted"') && l.includes(`path="${path}"`));
  return line ? Number(line.trim().split(/\s+/).pop()) : 0;
};

await test('a sweep submitted from the form runs through the fast path and its progress moves', async () => {
  const runnerBefore = await submitted('runner');
  const processBefore = await submitted('process');
  await page.goto(`${base}/optimizations`);
  await page.getByRole('button', { name: 'New optimization' }).click();
  await page.getByTestId('optimization-form').waitFor();
  await page.getByLabel('Name', { exact: true }).fill('e2e fast path grid');
  await page.getByLabel('Project', { exact: true }).fill('demo');
  await page.getByLabel('Base params').fill('{"config_path": "configs/backtest/base.yaml", "tickers": ["SPX"]}');
  await page.getByLabel('Parameter 1 min').fill(String(FAST.min));
  await page.getByLabel('Parameter 1 max').fill(String(FAST.max));
  await page.getByLabel('Parameter 1 step').fill('1');
  await page.getByLabel('Parameter 2 values').fill(SLOWS.join(', '));
  await page.getByLabel('Max in flight').fill('8');
  expect((await page.getByTestId('task-count').innerText()).replace(/,/g, '') === String(TOTAL), `the form counts ${TOTAL} tasks`);
  await page.getByRole('button', { name: 'Launch optimization' }).click();
  await page.waitForURL(/\/optimizations\/opt_/, { timeout: 60_000 });
  state.id = decodeURIComponent(page.url().split('/optimizations/')[1]);
  const { values, ended } = await watchProgress(page, 240_000, 50);
  log(`progress values seen: ${values.join(',')}`);
  const mid = values.filter((v) => v > 0 && v < TOTAL);
  expect(ended === TOTAL, `${TOTAL} of ${TOTAL} ended (${ended})`);
  expect(mid.length >= 1, `progress seen between 0 and ${TOTAL} (${values.join(',')})`);
  expect(num(await page.getByTestId('count-finished').innerText()) === TOTAL, `finished count ${TOTAL}`);
  const s = await api('GET', `/api/v1/optimizations/${state.id}/status`);
  expect(s.status === 'succeeded' && s.summary.finished === TOTAL && s.summary.failed === 0, `succeeded with every task finished (${JSON.stringify(s.summary).slice(0, 160)})`);
  const runner = (await submitted('runner')) - runnerBefore;
  const processes = (await submitted('process')) - processBefore;
  expect(runner === TOTAL && processes === 0, `every task on the fast path (runner ${runner}, process ${processes})`);
  await shots('fast-detail');
});

await test('Top-N equals the tasks endpoint', async () => {
  await page.goto(`${base}/optimizations/${state.id}`);
  await page.getByTestId('top-table').waitFor();
  const shown = (await page.getByTestId('top-score').allInnerTexts()).map(num);
  const tasks = await api('GET', `/api/v1/optimizations/${state.id}/tasks?sort=score_desc&limit=10`);
  const expected = tasks.items.filter((t) => t.ranked).map((t) => t.score);
  expect(shown.length === expected.length && shown.length === 10, `${shown.length} rows vs ${expected.length} ranked`);
  shown.forEach((v, i) => expect(Math.abs(v - expected[i]) <= Math.abs(expected[i]) * 1e-6 + 0.01, `row ${i + 1}: ${v} vs API ${expected[i]}`));
  const status = await api('GET', `/api/v1/optimizations/${state.id}/status`);
  expect(status.summary.top_n[0].task_id === tasks.items[0].job_id, `the best task is the tasks endpoint's first (${status.summary.top_n[0].task_id} vs ${tasks.items[0].job_id})`);
  state.best = tasks.items[0];
});

await test("the best task's job link opens its job page (log, parent, artifacts)", async () => {
  await page.goto(`${base}/optimizations/${state.id}`);
  await page.getByTestId('top-row').first().getByRole('link', { name: 'job' }).click();
  await page.waitForURL(/\/jobs\/job_/);
  const jobId = decodeURIComponent(page.url().split('/jobs/')[1]);
  expect(jobId === state.best.job_id, `the job page of the best task (${jobId} vs ${state.best.job_id})`);
  expect((await page.getByTestId('parent-optimization').innerText()).includes(state.id), 'parent optimization link');
  // The log the process would have printed: its bt_run_id line.
  const job = await api('GET', `/api/jobs/${jobId}`);
  expect(job.status === 'SUCCESS' && job.parent_id === state.id, `a SUCCESS job of the optimization (${job.status}, ${job.parent_id})`);
  const bt = job.artifacts?.bt_run_id;
  expect(typeof bt === 'string' && bt.startsWith('bt_'), `artifacts name its backtest (${JSON.stringify(job.artifacts)})`);
  await page.getByText(`bt_run_id: ${bt}`).first().waitFor({ timeout: 20_000 });
  state.bt = bt;
  await shots('fast-task-job');
});

await test("the best task's backtest link opens its backtest page", async () => {
  await page.goto(`${base}/optimizations/${state.id}`);
  const link = page.getByTestId('top-row').first().getByRole('link', { name: 'backtest' });
  expect((await link.getAttribute('href')) === `/backtests/${state.bt}`, 'the link names the job\'s backtest');
  await link.click();
  await page.waitForURL(`**/backtests/${state.bt}`);
  await page.getByTestId('backtest-origin').waitFor({ timeout: 20_000 });
  const detail = await api('GET', `/api/backtests/${state.bt}`);
  const fe = detail.summary?.final_equity ?? detail.final_equity;
  expect(Math.abs(fe - state.best.score) <= Math.abs(state.best.score) * 1e-9, `its final equity is the task's score (${fe} vs ${state.best.score})`);
  await shots('fast-task-backtest');
});

await finish();
