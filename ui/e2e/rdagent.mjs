#!/usr/bin/env node
// Browser suite of the RD-Agent page (Tasks and Monitor tabs) against the REAL server (harness.mjs):
//   ALPHALAB_BIN=/path/to/build/bin/alphalab node ui/e2e/rdagent.mjs
// The server runs on a temp copy of examples/workspace (with tools/rdagent, the RD-Agent root)
// with build/standin/bin at the end of PATH, as `make run` does, so the type's `rdagent` is the
// stand-in (docs/rdagent.md). A template is edited through the API so its history has an older
// version; in the browser a task is started from that version on two datasets with loop_n 2 and
// watched on the Monitor tab (loops advancing, final metrics), a file is downloaded and compared
// with the one on disk, the task's recorded template hash is the old one while the live file is
// the edited one, and a second long task is canceled from the Tasks table; the server's refusal of
// templates that disagree is shown in the dialog. axe-core (light and
// dark) on every tab; screenshots at 1280 and 420 px in ui/test-results/rdagent/.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { expect, startSuite, UI_DIR, waitFor } from './harness.mjs';

const bin = process.env.ALPHALAB_BIN ? resolve(process.env.ALPHALAB_BIN) : '';
const standin = join(dirname(dirname(bin)), 'standin', 'bin');
if (bin && !existsSync(join(standin, 'rdagent'))) {
  console.error(`rdagent: the stand-in is not built (${standin}/rdagent); build the alphalab-rdagent-standin target`);
  console.log('0 passed, 1 failed');
  process.exit(1);
}
// The server (and so every job) gets the stand-in at the END of PATH, like `make run`; one
// stand-in step takes 0.4 s, so a loop (5 steps) takes about 2 s and can be seen advancing.
process.env.PATH = `${process.env.PATH}:${standin}`;
process.env.STANDIN_STEP_SECONDS = process.env.STANDIN_STEP_SECONDS ?? '0.4';

const { base, ws, page, api, test, shots, finish, log } = await startSuite('rdagent');
const TEMPLATE = 'rdagent/scenarios/qlib/experiment/factor_template/conf_baseline.yaml';
const MANAGED = `rdagent:${TEMPLATE}`;
const sha256 = (buf) => createHash('sha256').update(buf).digest('hex');
const state = {};

await test('a template edited through the API keeps its old version in the history', async () => {
  const before = await api('GET', `/api/configs/file?path=${encodeURIComponent(MANAGED)}`);
  state.oldSha = before.sha256;
  const edited = `${before.content}# e2e: edited after the saved version\n`;
  await api('PUT', '/api/configs/file', { path: MANAGED, content: edited, base_sha256: before.sha256, note: 'e2e edit' });
  const after = await api('GET', `/api/configs/file?path=${encodeURIComponent(MANAGED)}`);
  state.newSha = after.sha256;
  expect(state.newSha !== state.oldSha, 'the edit changed the file');
  const hist = await api('GET', `/api/rdagent/templates/history?file=${encodeURIComponent(TEMPLATE)}`);
  const saved = hist.items.find((h) => h.sha256 === state.oldSha);
  expect(saved, `the old version is in the history (${JSON.stringify(hist.items).slice(0, 300)})`);
  state.historyId = String(saved.id);
});

await test('the four tabs: arrow keys select, the URL keeps the tab across a reload', async () => {
  await page.goto(`${base}/rdagent`);
  await page.getByRole('tab', { name: 'Tasks' }).waitFor();
  const names = await page.getByRole('tab').allInnerTexts();
  expect(names.join('|') === 'Tasks|Config center|Datasets|Monitor', `tabs ${names.join('|')}`);
  await page.getByRole('tab', { name: 'Tasks' }).focus();
  await page.keyboard.press('ArrowRight');
  await page.waitForURL(/tab=config/);
  await page.keyboard.press('End');
  await page.waitForURL(/tab=monitor/);
  await waitFor('the focus follows the selected tab', () => page.evaluate(() => document.activeElement?.id === 'rdagent-tab-monitor'), 5_000);
  await page.reload();
  expect((await page.getByRole('tab', { name: 'Monitor' }).getAttribute('aria-selected')) === 'true', 'Monitor still selected after a reload');
  await page.getByText('Choose a task to monitor').waitFor();
});

await test('New task from the saved template version on two datasets, loop_n 2: loops advance and the final metrics show', async () => {
  await page.goto(`${base}/rdagent?tab=tasks`);
  await page.getByText('No RD-Agent tasks yet').waitFor();
  await page.getByRole('button', { name: 'New task' }).click();
  const dlg = page.getByRole('dialog', { name: 'New RD-Agent task' });
  await dlg.waitFor();
  await dlg.getByRole('checkbox', { name: /^demo/ }).check();
  await dlg.getByRole('checkbox', { name: /^synthetic/ }).check();
  // checked on the page first: nothing is sent for a bad loop count
  await dlg.getByLabel('Loops (loop_n)').fill('0');
  await dlg.getByRole('button', { name: 'Start task' }).click();
  await dlg.getByText('loop_n must be a whole number of at least 1').waitFor();
  expect((await api('GET', '/api/rdagent/tasks')).total === 0, 'nothing started for an invalid form');
  await dlg.getByLabel('Loops (loop_n)').fill('2');
  await dlg.getByRole('radio', { name: 'A saved version' }).check();
  await dlg.getByLabel('Template file').selectOption(TEMPLATE);
  await waitFor('the saved versions', async () => (await dlg.getByLabel('Version', { exact: true }).locator('option').count()) > 1, 10_000, 100);
  await dlg.getByLabel('Version', { exact: true }).selectOption(state.historyId);
  await shots('new-task');
  await dlg.getByRole('button', { name: 'Start task' }).click();
  await page.waitForURL(/tab=monitor&task=|task=.*tab=monitor/, { timeout: 20_000 });
  state.task = new URL(page.url()).searchParams.get('task');
  expect(state.task, 'the Monitor tab opened on the new task');
  const mon = page.getByTestId('rdagent-monitor');
  await mon.waitFor();
  // sample the loop line while it runs: both loops must be seen, then the end
  const seen = new Set();
  await waitFor('the task to succeed on the page', async () => {
    seen.add(await page.getByTestId('rdagent-loop-text').innerText());
    return (await mon.getAttribute('data-status')) === 'SUCCESS';
  }, 90_000, 100);
  const lines = [...seen];
  log(`loop lines seen: ${lines.join(' | ')}`);
  expect(lines.some((l) => l.startsWith('Loop 1 of 2')), `loop 1 seen (${lines.join(' | ')})`);
  expect(lines.some((l) => l.startsWith('Loop 2 of 2')), `loop 2 seen (${lines.join(' | ')})`);
  await page.getByTestId('rdagent-metrics').waitFor({ timeout: 10_000 });
  expect((await page.getByTestId('rdagent-loop-text').innerText()) === '2 of 2 loops done', 'the end shows 2 of 2');
  expect((await page.getByTestId('rdagent-loop-progress').getAttribute('value')) === '2', 'the bar is full');
  // the page's metrics are the task's
  const detail = await api('GET', `/api/rdagent/tasks/${state.task}`);
  expect(detail.metrics && Object.keys(detail.metrics).length > 0, `the task has metrics (${detail.metrics_error})`);
  const shown = await page.getByTestId('rdagent-metrics').locator('tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-metric')));
  expect(shown.length === Object.keys(detail.metrics).length && shown.every((k) => k in detail.metrics), `metrics shown ${shown.join(',')}`);
  const ic = detail.metrics.IC;
  if (ic !== undefined) {
    const cell = await page.getByTestId('rdagent-metrics').locator('tr[data-metric="IC"] td.num').innerText();
    expect(Math.abs(Number(cell) - ic) < 1e-4, `IC ${cell} vs ${ic}`);
  }
  expect((await page.getByTestId('rdagent-loop-row').count()) === detail.loop_results.length && detail.loop_results.length >= 2, `per-loop rows (${detail.loop_results.length})`);
  expect(JSON.stringify(detail.job.params.dataset_ids) === '["demo","synthetic"]', `datasets ${JSON.stringify(detail.job.params.dataset_ids)}`);
  // the live log (the job's log) shows RD-Agent's loop lines; search highlights them
  const logBox = page.locator('.log-viewer');
  await logBox.getByText(/Start Loop 1, Step/).first().waitFor({ timeout: 10_000 });
  await page.getByLabel('Search log').fill('Start Loop 1');
  await waitFor('search marks', async () => (await logBox.locator('mark').count()) > 0, 5_000, 100);
  await page.getByLabel('Search log').fill('');
  await shots('monitor-done');
});

await test('a result file downloads with the bytes on disk', async () => {
  await page.goto(`${base}/rdagent?tab=monitor&task=${state.task}`);
  const row = page.locator('[data-testid=rdagent-file-row][data-path="work/qlib_res.csv"]');
  await row.waitFor();
  const [dl] = await Promise.all([page.waitForEvent('download'), row.getByRole('link', { name: /Download/ }).click()]);
  const got = readFileSync(await dl.path());
  const onDisk = readFileSync(join(ws, 'reports', 'jobs', 'runtime', state.task, 'work', 'qlib_res.csv'));
  expect(dl.suggestedFilename() === 'qlib_res.csv', `file name ${dl.suggestedFilename()}`);
  expect(got.length > 0 && Buffer.compare(got, onDisk) === 0, `downloaded ${got.length} bytes equal the ${onDisk.length} on disk`);
  // a binary too (ret.pkl), byte for byte
  const pkl = page.locator('[data-testid=rdagent-file-row][data-path$="ret.pkl"]').first();
  const pklPath = await pkl.getAttribute('data-path');
  const [dl2] = await Promise.all([page.waitForEvent('download'), pkl.getByRole('link', { name: /Download/ }).click()]);
  const gotPkl = readFileSync(await dl2.path());
  const pklDisk = readFileSync(join(ws, 'reports', 'jobs', 'runtime', state.task, pklPath));
  expect(Buffer.compare(gotPkl, pklDisk) === 0, `${pklPath}: ${gotPkl.length} bytes equal the file`);
});

await test('the task ran on the old template version; the live file is still the edited one', async () => {
  const detail = await api('GET', `/api/rdagent/tasks/${state.task}`);
  const used = detail.job.artifacts[`config_sha256:${MANAGED}`];
  expect(used === state.oldSha, `the task used ${used}, the saved version is ${state.oldSha}`);
  const copy = readFileSync(join(ws, 'reports', 'jobs', 'runtime', state.task, 'work', TEMPLATE));
  expect(sha256(copy) === state.oldSha, "the task's copy is the saved version");
  const live = await api('GET', `/api/configs/file?path=${encodeURIComponent(MANAGED)}`);
  expect(live.sha256 === state.newSha, `the live file is unchanged (${live.sha256} vs ${state.newSha})`);
  // and the page says so
  expect((await page.getByTestId('rdagent-source').innerText()) === `saved version #${state.historyId}`, 'the Monitor tab names the saved version');
  await page.getByText(/Config versions used/).click();
  expect((await page.getByTestId('rdagent-config-hashes').locator(`dd[data-path="${MANAGED}"]`).innerText()) === state.oldSha, 'the page shows the old hash');
});

await test('a second, long task is canceled from the Tasks table', async () => {
  const j = await api('POST', '/api/rdagent/tasks', { dataset_ids: ['demo'], loop_n: 50, evolving_mode: 'random' });
  state.long = j.job_id;
  await waitFor('the long task to run', async () => (await api('GET', `/api/rdagent/tasks/${j.job_id}`)).progress.loops_started >= 1, 30_000, 200);
  await page.goto(`${base}/rdagent?tab=tasks`);
  const row = page.locator(`[data-testid=rdagent-task-row][data-id="${j.job_id}"]`);
  await row.waitFor();
  expect((await row.innerText()).includes('50 / no limit') && (await row.innerText()).includes('random'), `row shows loops and mode (${await row.innerText()})`);
  await shots('tasks-running');
  await row.getByRole('button', { name: `Cancel ${j.job_id}` }).click();
  await row.getByRole('button', { name: 'Yes, cancel' }).click();
  await waitFor('the row to show CANCELED', async () => (await row.locator('.badge').innerText()) === 'CANCELED', 30_000, 200);
  const t = await api('GET', `/api/rdagent/tasks/${j.job_id}`);
  expect(t.job.status === 'CANCELED', `canceled (${t.job.status})`);
  expect(t.progress.loops_started < 50, `stopped early (${t.progress.loops_started} loops)`);
  // the Monitor tab of the canceled task says where it stopped
  await row.getByRole('button', { name: `Monitor ${j.job_id}` }).click();
  await page.getByTestId('rdagent-monitor').waitFor();
  await waitFor('the canceled progress line', async () => /^canceled at Loop \d+ of 50/.test(await page.getByTestId('rdagent-loop-text').innerText()), 10_000, 100);
  await shots('monitor-canceled');
});

await test("the server's refusal (templates that disagree) shows in the dialog and as a toast; nothing starts", async () => {
  const other = 'rdagent:rdagent/scenarios/qlib/experiment/model_template/conf_sota_factors_model.yaml';
  const f = await api('GET', `/api/configs/file?path=${encodeURIComponent(other)}`);
  const bad = f.content.replace('market: &market csi300', 'market: &market csi500');
  expect(bad !== f.content, 'the template names csi300');
  const w = await api('PUT', '/api/configs/file', { path: other, content: bad, base_sha256: f.sha256, note: 'e2e mismatch' });
  try {
    const before = (await api('GET', '/api/rdagent/tasks')).total;
    await page.goto(`${base}/rdagent?tab=tasks`);
    await page.getByRole('button', { name: 'New task' }).click();
    const dlg = page.getByRole('dialog', { name: 'New RD-Agent task' });
    await dlg.getByTestId('rdagent-consistency').waitFor();
    expect((await dlg.getByTestId('rdagent-consistency').innerText()).includes('market'), 'the disagreement is announced before sending');
    await dlg.getByRole('checkbox', { name: /^demo/ }).check();
    await dlg.getByRole('button', { name: 'Start task' }).click();
    const err = dlg.getByTestId('rdagent-form-error');
    await err.waitFor();
    expect(/templates disagree.*csi500.*\(400 INVALID_ARGUMENT\)/.test(await err.innerText()), `the envelope's message (${await err.innerText()})`);
    await page.locator('.toast-error').getByText('Task refused').waitFor();
    expect((await api('GET', '/api/rdagent/tasks')).total === before, 'nothing started');
    await shots('refused');
    await page.keyboard.press('Escape');
  } finally {
    const cur = await api('GET', `/api/configs/file?path=${encodeURIComponent(other)}`);
    await api('PUT', '/api/configs/file', { path: other, content: f.content, base_sha256: cur.sha256 ?? w.sha256, note: 'e2e restore' });
  }
  expect((await api('GET', '/api/rdagent/templates')).consistency.ok, 'the templates agree again');
});

await test('axe-core on every tab (light and dark): no serious or critical violations; screenshots', async () => {
  const axeSource = readFileSync(join(UI_DIR, 'node_modules', 'axe-core', 'axe.min.js'), 'utf8');
  const problems = [];
  for (const theme of ['light', 'dark']) {
    await page.evaluate((t) => localStorage.setItem('alphalab.theme', t), theme);
    for (const tab of ['tasks', 'config', 'datasets', 'monitor']) {
      await page.goto(`${base}/rdagent?tab=${tab}${tab === 'monitor' ? `&task=${state.task}` : ''}`);
      await page.getByTestId(`rdagent-panel-${tab}`).waitFor();
      if (tab === 'monitor') await page.getByTestId('rdagent-metrics').waitFor();
      if (tab === 'tasks') await page.getByTestId('rdagent-tasks-table').waitFor();
      await page.waitForTimeout(300);
      await page.addScriptTag({ content: axeSource });
      const result = await page.evaluate(async () => {
        const r = await window.axe.run(document, { resultTypes: ['violations'] });
        return r.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.slice(0, 3).map((n) => n.target.join(' ')) }));
      });
      for (const v of result.filter((x) => x.impact === 'serious' || x.impact === 'critical')) problems.push(`${theme} ${tab}: ${v.id} (${v.impact}) ${v.nodes.join(' | ')}`);
      await shots(`tab-${tab}-${theme}`);
    }
    // the dialog too
    await page.goto(`${base}/rdagent?tab=tasks`);
    await page.getByRole('button', { name: 'New task' }).click();
    await page.getByRole('dialog', { name: 'New RD-Agent task' }).getByRole('checkbox').first().waitFor();
    await page.addScriptTag({ content: axeSource });
    const dlg = await page.evaluate(async () => (await window.axe.run(document, { resultTypes: ['violations'] })).violations.map((v) => ({ id: v.id, impact: v.impact })));
    for (const v of dlg.filter((x) => x.impact === 'serious' || x.impact === 'critical')) problems.push(`${theme} dialog: ${v.id} (${v.impact})`);
    await page.keyboard.press('Escape');
    await page.getByRole('dialog').waitFor({ state: 'detached' });
  }
  await page.evaluate(() => localStorage.removeItem('alphalab.theme'));
  expect(problems.length === 0, `axe: ${problems.length} serious/critical: ${problems.slice(0, 8).join(' ; ')}`);
});

await finish();
