#!/usr/bin/env node
// Browser suite of the optimization pages against the REAL server (harness.mjs):
//   ALPHALAB_BIN=/path/to/bin/alphalab node ui/e2e/optimizations.mjs
// A sweep submitted from the form on the demo dataset and watched live, its Top-N and heatmap
// checked against the API, the export downloaded and opened, a re-run linked to its source, a
// cancel, an early-stopped sweep's notice, a sweep on the synthetic dataset, the job page's
// parent link and the Dashboard panel. The server runs `--no-fast-path` (a process per task,
// `max_inflight: 1`), so progress is slow enough to be seen moving and a cancel lands mid-run.
// Screenshots at 1280 and 420 px in ui/test-results/optimizations/.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { expect, startSuite, waitFor, watchProgress } from './harness.mjs';

const { base, OUT, page, api, test, shots, finish, log } = await startSuite('optimizations', { serveArgs: ['--no-fast-path'] });
const state = {};
const TERMINAL = ['succeeded', 'failed', 'early-stopped', 'canceled'];
const SYN_BASE = { config_path: 'configs/backtest/base.yaml', tickers: ['SYN0001'], start: '2005-03-01', end: '2010-12-31', overrides: ['dataset=synthetic'] };

const waitOpt = (id, timeoutMs = 120_000) =>
  waitFor(`optimization ${id} to end`, async () => {
    const s = await api('GET', `/api/v1/optimizations/${id}/status`);
    return TERMINAL.includes(s.status) ? s : null;
  }, timeoutMs, 300);

const num = (t) => Number(String(t).replace(/,/g, ''));

await test('submit a sweep from the form (demo dataset) and watch its progress live', async () => {
  await page.goto(`${base}/optimizations`);
  await page.getByText('No optimizations yet.').waitFor();
  await page.getByRole('button', { name: 'New optimization' }).click();
  await page.getByTestId('optimization-form').waitFor();
  await page.getByLabel('Name', { exact: true }).fill('e2e sma grid');
  await page.getByLabel('Project', { exact: true }).fill('demo');
  await page.getByLabel('Base params').fill('{"config_path": "configs/backtest/base.yaml", "tickers": ["SPX"]}');
  // axis 1: range 5..20 step 5 (4 values); axis 2: the list 50, 100, 150 -> 12 tasks
  await page.getByLabel('Parameter 1 max').fill('20');
  await page.getByLabel('Parameter 2 values').fill('50, 100, 150');
  await page.getByLabel('Max in flight').fill('1');
  await page.getByLabel('Constraints').fill('max_drawdown <= 0.9');
  expect((await page.getByTestId('task-count').innerText()) === '12', 'the form counts 12 tasks before launch');
  // client validation: a step of 0 is refused on the page, nothing is sent
  await page.getByLabel('Parameter 1 step').fill('0');
  await page.getByRole('button', { name: 'Launch optimization' }).click();
  await page.getByTestId('form-errors').getByText('param_space.strategy.params.fast.step: must be greater than 0').waitFor();
  expect((await api('GET', '/api/v1/optimizations')).total === 0, 'nothing created for an invalid form');
  await page.getByLabel('Parameter 1 step').fill('5');
  // The server's estimate before launch (POST .../estimate, debounced): a fresh server has no
  // backtest history, so it says so; nothing is created by asking.
  const before = page.getByTestId('estimate-before');
  await waitFor('the estimate before launch', async () => (await before.getAttribute('data-state')) === 'ready', 15_000, 100);
  const beforeText = await before.innerText();
  expect(/No run history|Estimated time: .*12 tasks/.test(beforeText), `the estimate shows before launch (${beforeText})`);
  expect((await api('GET', '/api/v1/optimizations')).total === 0, 'asking for the estimate created nothing');
  await shots('form');
  await page.getByRole('button', { name: 'Launch optimization' }).click();
  await page.waitForURL(/\/optimizations\/opt_/, { timeout: 30_000 });
  state.opt1 = decodeURIComponent(page.url().split('/optimizations/')[1]);
  const estimate = await page.getByTestId('estimate').innerText();
  expect(/Estimate: .*12 tasks/.test(estimate), `the server's estimate is shown (${estimate})`);
  // progress: the bar's aria-valuenow sampled while it runs must pass through intermediate values
  const { values, ended } = await watchProgress(page, 120_000, 100);
  const mid = values.filter((v) => v > 0 && v < 12);
  log(`progress values seen: ${values.join(',')}`);
  expect(ended === 12, `12 of 12 ended (${ended})`);
  expect(mid.length >= 1, `progress seen between 0 and 12 (${values.join(',')})`);
  expect((await page.getByTestId('count-finished').innerText()) === '12', 'finished count 12');
});

await test('Top-N sorted by score with its direction, equal to the API; heatmap of the 4 x 3 grid', async () => {
  const id = state.opt1;
  await page.goto(`${base}/optimizations/${id}`);
  await page.getByTestId('top-table').waitFor();
  expect((await page.getByTestId('sort-direction').innerText()).includes('highest first (objective: max)'), 'direction shown');
  const shown = (await page.getByTestId('top-score').allInnerTexts()).map(num);
  const tasks = await api('GET', `/api/v1/optimizations/${id}/tasks?sort=score_desc&limit=10`);
  const expected = tasks.items.filter((t) => t.ranked).map((t) => t.score);
  expect(shown.length === expected.length && shown.length > 0, `${shown.length} rows vs ${expected.length} ranked`);
  shown.forEach((v, i) => expect(Math.abs(v - expected[i]) <= Math.abs(expected[i]) * 1e-6 + 0.01, `row ${i + 1}: ${v} vs API ${expected[i]}`));
  for (let i = 1; i < shown.length; i++) expect(shown[i - 1] >= shown[i], 'descending');
  // the charts' tasks are asked for once their panel is near the viewport
  await page.getByTestId('opt-charts').scrollIntoViewIfNeeded();
  await page.getByTestId('hm-cell').first().waitFor();
  const cells = await page.getByTestId('hm-cell').allInnerTexts();
  expect(cells.length === 12, `heatmap has 12 cells (${cells.length})`);
  const all = await api('GET', `/api/v1/optimizations/${id}/tasks?limit=100`);
  // heatmap rows = slow (50, 100, 150), columns = fast (5..20): cell [slow][fast]
  const byKey = new Map(all.items.map((t) => [`${t.params['strategy.params.fast']}|${t.params['strategy.params.slow']}`, t.score]));
  const fasts = [5, 10, 15, 20];
  const slows = [50, 100, 150];
  slows.forEach((s, yi) =>
    fasts.forEach((f, xi) => {
      const want = byKey.get(`${f}|${s}`);
      const got = cells[yi * 4 + xi];
      expect(want === null ? got === '—' : Math.abs(num(got) - want) <= Math.abs(want) * 1e-6 + 0.01, `cell fast=${f} slow=${s}: ${got} vs ${want}`);
    }),
  );
  // the tasks table sorts on the server
  await page.getByTestId('tasks-table').getByRole('button', { name: /^score/ }).click();
  await waitFor('tasks sorted by score', async () => Math.abs(num(await page.getByTestId('task-score').first().innerText()) - expected[0]) <= 0.01, 10_000);
  await shots('detail-demo');
});

await test('export: the zip downloads and opens (manifest per task, Top-N and report)', async () => {
  await page.goto(`${base}/optimizations/${state.opt1}`);
  const [dl] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-link').click()]);
  const file = join(OUT, `${state.opt1}.zip`);
  await dl.saveAs(file);
  expect(dl.suggestedFilename() === `${state.opt1}.zip`, `file name ${dl.suggestedFilename()}`);
  const py = spawnSync('/usr/bin/python3', ['-c', `
import json, sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
m = [json.loads(l) for l in z.read('manifest.jsonl').decode().splitlines() if l.strip()]
t = json.loads(z.read('top_n.json'))
r = z.read('report.md').decode()
print(json.dumps({"manifest": len(m), "indices": [x["index"] for x in m], "top": t["top_n"][0]["task_id"], "report": "Top 3" in r or "Top-3" in r or "top 3" in r.lower()}))
`, file], { encoding: 'utf8' });
  expect(py.status === 0, `zip opens: ${py.stderr}`);
  const z = JSON.parse(py.stdout);
  expect(z.manifest === 12 && z.indices.join(',') === [...Array(12).keys()].join(','), `manifest has the 12 tasks in index order (${z.indices})`);
  const best = (await api('GET', `/api/v1/optimizations/${state.opt1}/status`)).summary.top_n[0].task_id;
  expect(z.top === best, `top_n.json starts with the board's best (${z.top} vs ${best})`);
  expect(z.report, 'report.md has the Top 3');
});

await test('re-run from the history: a new entry linked to its source both ways', async () => {
  await page.goto(`${base}/optimizations`);
  await page.locator(`[data-testid=optimization-row][data-id="${state.opt1}"]`).getByRole('button', { name: 'Re-run' }).click();
  await page.waitForURL((u) => /\/optimizations\/opt_/.test(u.pathname) && !u.pathname.endsWith(state.opt1), { timeout: 30_000 });
  state.rerun = decodeURIComponent(page.url().split('/optimizations/')[1]);
  expect((await page.getByTestId('detail-source').innerText()) === state.opt1, 'the re-run links to its source');
  await waitOpt(state.rerun);
  await page.goto(`${base}/optimizations`);
  const row = page.locator(`[data-testid=optimization-row][data-id="${state.rerun}"]`);
  await row.waitFor();
  expect((await row.getByTestId('source-link').getAttribute('href')) === `/optimizations/${state.opt1}`, 'history shows the source link');
  await shots('history');
  await page.goto(`${base}/optimizations/${state.opt1}`);
  expect((await page.getByTestId('detail-reruns').innerText()).includes(state.rerun), 'the source lists its re-run');
});

await test('per-row Re-run opens the form prefilled with the task parameters', async () => {
  await page.goto(`${base}/optimizations/${state.opt1}`);
  await page.getByTestId('top-row').first().getByRole('link', { name: 'Re-run' }).click();
  await page.getByTestId('optimization-form').waitFor();
  const best = (await api('GET', `/api/v1/optimizations/${state.opt1}/status`)).summary.top_n[0].params;
  expect((await page.getByLabel('Parameter 1 values').inputValue()) === String(best['strategy.params.fast']), 'fast prefilled');
  expect((await page.getByLabel('Parameter 2 values').inputValue()) === String(best['strategy.params.slow']), 'slow prefilled');
  expect((await page.getByTestId('task-count').innerText()) === '1', 'one task');
  // After the first sweep the estimate comes from its run history, before launch. A task's
  // re-run form opens launchable: one combination, no early stop box ticked.
  const early = page.getByRole('checkbox', { name: /Early stop/ });
  expect(!(await early.isChecked()), 'the task re-run form opens with early stop off');
  await page.getByTestId('estimate-before-seconds').waitFor({ timeout: 15_000 });
  const est = await page.getByTestId('estimate-before').innerText();
  expect(/Estimated time: .*1 tasks? × .* from \d+ past runs?/.test(est), `history estimate before launch (${est})`);
  await shots('form-estimate');
  expect((await page.getByRole('heading', { name: `Re-run of ${state.opt1}` }).count()) === 1, 'the form is a re-run of the source');
});

await test("a task's job page links its parent optimization; the dashboard lists optimizations", async () => {
  await page.goto(`${base}/optimizations/${state.opt1}`);
  await page.getByTestId('top-row').first().getByRole('link', { name: 'job' }).click();
  await page.waitForURL(/\/jobs\/job_/);
  expect((await page.getByTestId('parent-optimization').innerText()).includes(state.opt1), 'parent optimization link');
  await page.getByTestId('parent-optimization').click();
  await page.waitForURL(`**/optimizations/${state.opt1}`);
  await page.goto(`${base}/`);
  await page.getByTestId('dashboard-optimizations').getByText(state.opt1).waitFor();
});

await test('cancel with confirmation: the canceled notice keeps the final summary', async () => {
  const o = await api('POST', '/api/v1/optimizations', {
    name: 'e2e cancel', project: 'demo', job_type: 'backtest', base_params: { config_path: 'configs/backtest/base.yaml' },
    // 1,200 tasks one at a time: a minute or more of work, so the sweep cannot end on its own
    // before the cancel lands (60 tasks once did, in about 2 s, on a loaded CI machine).
    param_space: { 'strategy.params.fast': { min: 5, max: 64, step: 1 }, 'strategy.params.slow': { min: 120, max: 310, step: 10 } },
    objective: { metric: 'final_equity', direction: 'max' }, max_inflight: 1,
  });
  expect(o.summary.total === 1200, `1,200 tasks (${o.summary.total})`);
  await page.goto(`${base}/optimizations/${o.id}`);
  await waitFor('a finished task', async () => num(await page.getByTestId('count-finished').innerText()) >= 1, 60_000, 200);
  await page.getByRole('button', { name: 'Cancel' }).click();
  await page.getByTestId('confirm-cancel').waitFor();
  await page.getByRole('button', { name: 'Yes, cancel the optimization' }).click();
  await page.getByTestId('canceled-notice').waitFor({ timeout: 30_000 });
  const s = await api('GET', `/api/v1/optimizations/${o.id}/status`);
  const want = `${s.summary.finished} finished, ${s.summary.failed} failed, ${s.summary.canceled} canceled of ${s.summary.total}`;
  const notice = await waitFor('the final counts in the notice', async () => {
    const t = await page.getByTestId('canceled-notice').innerText();
    return t.includes(want) ? t : null;
  }, 10_000).catch(async () => page.getByTestId('canceled-notice').innerText());
  expect(s.status === 'canceled', `canceled (${s.status})`);
  expect(s.summary.canceled > 0 && s.summary.running === 0 && s.summary.queued === 0, `queued and running tasks canceled (${JSON.stringify(s.summary).slice(0, 200)})`);
  expect(notice.includes(want), `notice has the final counts ${want} (${notice})`);
  expect(notice.includes(`${s.summary.canceled.toLocaleString('en-US')} remaining task`), `the notice says how many tasks were canceled (${notice})`);
  await page.waitForTimeout(1500);
  expect((await page.getByTestId('count-finished').innerText()) === String(s.summary.finished), 'the summary stays frozen');
  await shots('canceled');
});

await test("an early-stopped sweep's notice (target reached)", async () => {
  const o = await api('POST', '/api/v1/optimizations', {
    name: 'e2e early stop', project: 'demo', job_type: 'backtest', base_params: { config_path: 'configs/backtest/base.yaml' },
    param_space: { 'strategy.params.fast': [5, 10, 15, 20, 25, 30], 'strategy.params.slow': [100, 200] },
    objective: { metric: 'final_equity', direction: 'max' },
    early_stop_policy: { mode: 'max', patience: null, min_tasks: 2, target: 1 },
    max_inflight: 1,
  });
  await page.goto(`${base}/optimizations/${o.id}`);
  const notice = await page.getByTestId('early-stopped-notice').innerText({ timeout: 60_000 });
  expect(notice.includes('a task reached the target score'), notice);
  const s = await api('GET', `/api/v1/optimizations/${o.id}/status`);
  expect(s.status === 'early-stopped' && s.stop_reason === 'target', `early-stopped by target (${s.status} ${s.stop_reason})`);
  expect(s.summary.finished >= 2 && s.summary.finished < 12, `stopped before the end (${s.summary.finished} finished)`);
  const dropped = s.summary.canceled === 0 ? 'No task was left to cancel' : `${s.summary.canceled} remaining task${s.summary.canceled === 1 ? ' was' : 's were'} canceled`;
  expect(notice.includes(dropped), `the notice says how many tasks the stop canceled: ${dropped} (${notice})`);
  expect((await page.getByTestId('top-row').count()) === s.summary.top_n.length, 'the Top-N is kept');
  await shots('early-stopped');
});

await test('a sweep on the synthetic dataset: Top-N and heatmap', async () => {
  const body = {
    name: 'e2e synthetic', project: 'syn', job_type: 'backtest', base_params: SYN_BASE,
    param_space: { 'strategy.params.fast': [5, 10, 20], 'strategy.params.slow': [40, 80] },
    objective: { metric: 'sharpe', direction: 'max' }, max_inflight: 2,
  };
  // The estimate before launch on the second dataset: backtest history exists by now.
  const before = (await api('GET', '/api/v1/optimizations?limit=0')).total;
  const est = await api('POST', '/api/v1/optimizations/estimate', body);
  expect(est.tasks === 6 && est.basis === 'history' && est.seconds > 0, `synthetic estimate ${JSON.stringify(est)}`);
  expect((await api('GET', '/api/v1/optimizations?limit=0')).total === before, 'the estimate created nothing');
  const o = await api('POST', '/api/v1/optimizations', body);
  const s = await waitOpt(o.id);
  expect(s.status === 'succeeded', `succeeded (${s.status})`);
  await page.goto(`${base}/optimizations/${o.id}`);
  await page.getByTestId('top-table').waitFor();
  await page.getByTestId('opt-charts').scrollIntoViewIfNeeded();
  await waitFor('the 3 x 2 heatmap', async () => (await page.getByTestId('hm-cell').count()) === 6, 10_000, 100).catch(() => {});
  expect((await page.getByTestId('hm-cell').count()) === 6, 'a 3 x 2 heatmap');
  const first = (await page.getByTestId('top-row').first().getByRole('link', { name: 'backtest' }).getAttribute('href')).split('/').pop();
  const bt = await api('GET', `/api/backtests/${first}`);
  expect(JSON.stringify(bt.summary?.dataset ?? bt.dataset ?? '').includes('synthetic') || JSON.stringify(bt).includes('"synthetic"'), 'the best task backtested the synthetic dataset');
  await shots('detail-synthetic');
});

await test('a 3-parameter sweep shows parallel coordinates', async () => {
  const o = await api('POST', '/api/v1/optimizations', {
    name: 'e2e 3d', project: 'demo', job_type: 'backtest', base_params: { config_path: 'configs/backtest/base.yaml' },
    param_space: { 'strategy.params.fast': [5, 10], 'strategy.params.slow': [60, 120], fee_bps: [0, 20] },
    objective: { metric: 'final_equity', direction: 'max' }, max_inflight: 2,
  });
  await waitOpt(o.id);
  await page.goto(`${base}/optimizations/${o.id}`);
  await page.getByTestId('opt-charts').scrollIntoViewIfNeeded();
  await page.getByTestId('parallel').waitFor();
  const lines = await page.getByTestId('parallel').locator('polyline').count();
  const ranked = (await api('GET', `/api/v1/optimizations/${o.id}/tasks?limit=100`)).items.filter((t) => t.score !== null).length;
  expect(lines === ranked && ranked > 0, `one line per ranked task (${lines} vs ${ranked})`);
  await shots('parallel');
});

// The target is 1 s on an idle machine. On a shared, loaded machine the absolute figure says
// little, so the suite compares with the Jobs page loaded in the same minute (ratio <= 1.5) and
// asserts the 1 s only with E2E_TIMING=strict (the idle re-measurement).
await test('detail page load: median of 3, at most 1.5x the Jobs page in the same run (1 s with E2E_TIMING=strict)', async () => {
  const median = async (path, testId) => {
    const times = [];
    for (let i = 0; i < 3; i++) {
      await page.goto('about:blank');
      const t0 = Date.now();
      await page.goto(`${base}${path}`);
      await page.getByTestId(testId).first().waitFor();
      times.push(Date.now() - t0);
    }
    return { times, median: [...times].sort((a, b) => a - b)[1] };
  };
  const detail = await median(`/optimizations/${state.opt1}`, 'top-table');
  const jobs = await median('/jobs', 'jobs-table');
  const ratio = detail.median / jobs.median;
  log(`detail page: Top-N shown ${detail.times.join(', ')} ms (median ${detail.median}); Jobs page ${jobs.times.join(', ')} ms (median ${jobs.median}); ratio ${ratio.toFixed(2)}`);
  expect(ratio <= 1.5, `detail ${detail.median} ms vs Jobs ${jobs.median} ms: ratio ${ratio.toFixed(2)}`);
  if (process.env.E2E_TIMING === 'strict') expect(detail.median < 1000, `median ${detail.median} ms`);
});

await finish();
