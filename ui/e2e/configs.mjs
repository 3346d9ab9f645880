#!/usr/bin/env node
// Browser suite of the config center and the datasets panel against the REAL server (harness.mjs):
//   ALPHALAB_BIN=/path/to/bin/alphalab node ui/e2e/configs.mjs
// On /configs and on /rdagent?tab=config: a template edited and saved, its backup in the history,
// the side-by-side diff, a rollback (the first confirmation canceled: nothing changes) back to the
// original bytes; a stale write shown as a 409; the .env secret shown masked and kept on disk; a
// YAML error shown inline; the Test buttons on a broken Qlib folder and the templates. On
// /datasets: create, an instruments upload with a bad symbol (its line shown), set default, a
// delete refused while a running job uses the dataset. axe-core in both themes; screenshots at
// 1280 and 420 px in ui/test-results/configs/.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { dirname, join, resolve } from 'node:path';
import { expect, REPO, startSuite, UI_DIR, waitFor } from './harness.mjs';

// The stand-in `rdagent` (docs/rdagent.md) at the end of PATH, slow enough that the job which
// holds a dataset is still running when the delete is tried.
const BIN_DIR = dirname(resolve(process.env.ALPHALAB_BIN ?? join(REPO, 'build', 'bin', 'alphalab')));
process.env.PATH = `${process.env.PATH}:${join(BIN_DIR, '..', 'standin', 'bin')}`;
process.env.STANDIN_STEP_SECONDS = '2';

const { base, ws, OUT, page, api, test, shots, finish, log } = await startSuite('configs', { serveArgs: ['--slots', '2'] });
const ROOT = join(ws, 'tools', 'rdagent');
const TPL = 'rdagent/scenarios/qlib/experiment/factor_template/conf_baseline.yaml';
const TPL2 = 'rdagent/scenarios/qlib/experiment/model_template/conf_sota_factors_model.yaml';
const sha = (buf) => createHash('sha256').update(buf).digest('hex');
const info = (file) => api('GET', `/api/configs/file?path=${encodeURIComponent(`rdagent:${file}`)}`);
const history = (file) => api('GET', `/api/configs/history?path=${encodeURIComponent(`rdagent:${file}`)}`);
const editor = () => page.getByTestId('config-textarea');
const toast = (text) => page.getByTestId('toast').filter({ hasText: text }).first();

async function openFile(url, file) {
  await page.goto(base + url);
  await page.getByTestId('config-center').getByRole('button', { name: file, exact: true }).click();
  await page.getByTestId('config-file').waitFor();
}

/** Edit one line, save, see the backup and the diff, cancel a rollback, confirm one: the file is
 * back to its original bytes. */
async function editDiffRollback(url, file, from, to, shotName) {
  const onDisk = join(ROOT, file);
  const original = readFileSync(onDisk);
  const before = await info(file);
  expect(before.sha256 === sha(original), 'the API hash is the file on disk');
  await openFile(url, file);
  const text = await editor().inputValue();
  expect(text.includes(from), `the template has '${from}'`);
  await editor().fill(text.replace(from, to));
  await page.getByTestId('config-file').getByLabel('Note').fill('e2e edit');
  await page.getByTestId('config-file').getByRole('button', { name: 'Save', exact: true }).click();
  await toast(`Saved ${file.split('/').pop()}`).waitFor();
  const after = await info(file);
  expect(after.sha256 !== before.sha256 && readFileSync(onDisk, 'utf8').includes(to), 'the new text is on disk');
  // the replaced version is in the history with its metadata
  const h = await history(file);
  expect(h.total === 1 && h.items[0].sha256 === before.sha256 && h.items[0].note === 'e2e edit', `one backup of the old version (${JSON.stringify(h.items[0])})`);
  expect(readFileSync(join(ws, h.items[0].history_path)).equals(original), 'the backup file holds the original bytes');
  const row = page.getByTestId('history-table').locator(`tr[data-history-id="${h.items[0].id}"]`);
  await row.waitFor();
  const rowText = await row.innerText();
  expect(rowText.includes('local') && rowText.includes('e2e edit') && rowText.includes(before.sha256.slice(0, 12)) && rowText.includes('write'), `history row shows operator, note, hash (${rowText})`);
  // diff: the changed line on both sides
  await row.getByRole('button', { name: `Diff #${h.items[0].id} with current` }).click();
  const diff = page.getByTestId('diff-table');
  await diff.waitFor();
  const left = diff.locator('td[data-side=left][data-kind=del]').filter({ hasText: from.trim() });
  const right = diff.locator('td[data-side=right][data-kind=add]').filter({ hasText: to.trim() });
  expect((await left.count()) === 1 && (await right.count()) === 1, 'the changed line is removed on the left and added on the right');
  await shots(shotName);
  // rollback: cancel first, nothing changes
  await row.getByRole('button', { name: `Roll back to #${h.items[0].id}` }).click();
  const dialog = page.getByTestId('rollback-dialog');
  await dialog.waitFor();
  expect((await dialog.innerText()).includes(`#${h.items[0].id}`), 'the confirmation names the version');
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  await dialog.waitFor({ state: 'detached' });
  expect((await info(file)).sha256 === after.sha256 && (await history(file)).total === 1, 'a canceled rollback changes nothing');
  await row.getByRole('button', { name: `Roll back to #${h.items[0].id}` }).click();
  await dialog.getByRole('button', { name: `Roll back to #${h.items[0].id}` }).click();
  await toast(`Rolled back to #${h.items[0].id}`).waitFor();
  const back = await info(file);
  expect(back.sha256 === before.sha256, 'the API hash is the original again');
  expect(readFileSync(onDisk).equals(original), 'the file has its original bytes');
  expect((await history(file)).total === 2, 'the rollback backed up the edited version first');
  await waitFor('the editor to show the original', async () => (await editor().inputValue()) === original.toString('utf8'), 5000, 100);
}

await test('/configs: edit a template, backup in history, side-by-side diff, rollback (cancel first) to the original bytes', async () => {
  await editDiffRollback('/configs', TPL, 'region: cn', 'region: us', 'configs-diff');
});

await test('/rdagent?tab=config: the same flow through the RD-Agent page', async () => {
  await editDiffRollback('/rdagent?tab=config', TPL2, 'market: &market csi300', 'market: &market csi500', 'rdagent-config-diff');
});

await test('a stale write is refused with 409 and shown: compare, reload', async () => {
  await openFile('/configs', TPL);
  const cur = await info(TPL);
  // someone else saves first
  await api('PUT', '/api/configs/file', { path: `rdagent:${TPL}`, content: cur.content.replace('region: cn', 'region: hk'), base_sha256: cur.sha256, note: 'other editor' });
  const theirs = await info(TPL);
  const text = await editor().inputValue();
  await editor().fill(text.replace('region: cn', 'region: tw'));
  await page.getByTestId('config-file').getByRole('button', { name: 'Save', exact: true }).click();
  const notice = page.getByTestId('stale-notice');
  await notice.waitFor();
  const n = await notice.innerText();
  expect(n.includes('changed since you opened it') && n.includes(theirs.sha256.slice(0, 12)), `the notice names the current hash (${n})`);
  expect((await info(TPL)).sha256 === theirs.sha256, 'nothing written');
  await notice.getByRole('button', { name: 'Compare with current' }).click();
  const cmp = page.getByTestId('stale-compare');
  await cmp.locator('td[data-side=left][data-kind=del]').filter({ hasText: 'region: hk' }).waitFor();
  await cmp.locator('td[data-side=right][data-kind=add]').filter({ hasText: 'region: tw' }).waitFor();
  await shots('configs-stale');
  await notice.getByRole('button', { name: 'Reload (drop my edit)' }).click();
  await waitFor('the editor to show their version', async () => (await editor().inputValue()).includes('region: hk'), 5000, 100);
  // put it back for the next tests
  await api('PUT', '/api/configs/file', { path: `rdagent:${TPL}`, content: cur.content, base_sha256: theirs.sha256 });
});

await test('invalid YAML is refused and the message is shown beside the editor', async () => {
  await openFile('/configs', TPL);
  const shaBefore = (await info(TPL)).sha256;
  await editor().fill('qlib_init:\n  provider_uri: [unclosed\n');
  await page.getByTestId('config-file').getByRole('button', { name: 'Save', exact: true }).click();
  const err = page.getByTestId('config-invalid');
  await err.waitFor();
  const t = await err.innerText();
  expect(/line|yaml/i.test(t), `the YAML error is shown (${t})`);
  expect((await info(TPL)).sha256 === shaBefore, 'nothing written');
});

await test('.env: the secret shows ******** and saving keeps it on disk; a key added', async () => {
  const onDisk = join(ROOT, '.env');
  expect(readFileSync(onDisk, 'utf8').includes('OPENAI_API_KEY="sk-chat-key"'), 'the stored secret');
  await openFile('/configs', '.env');
  const env = page.getByTestId('env-editor');
  await env.waitFor();
  expect((await env.getByRole('textbox', { name: 'OPENAI_API_KEY', exact: true }).inputValue()) === '********', 'the secret is masked');
  expect((await env.getByRole('textbox', { name: 'CHAT_MODEL', exact: true }).inputValue()) === 'gpt-4o', 'a plain value is shown');
  await env.getByRole('textbox', { name: 'CHAT_MODEL', exact: true }).fill('gpt-4o-mini');
  await env.getByLabel('New key').fill('E2E_FLAG');
  await env.getByLabel('Value', { exact: true }).fill('on');
  await env.getByRole('button', { name: 'Add key' }).click();
  await shots('configs-env');
  await page.getByTestId('config-file').getByRole('button', { name: 'Save', exact: true }).click();
  await toast('Saved .env').waitFor();
  const disk = readFileSync(onDisk, 'utf8');
  expect(disk.includes('OPENAI_API_KEY="sk-chat-key"') && disk.includes('LITELLM_PROXY_API_KEY="sk-embedding-service-key"'), 'the secrets are intact on disk');
  expect(disk.includes("CHAT_MODEL='gpt-4o-mini'") && /\nE2E_FLAG=on\n?$/.test(disk), 'the edit and the new key are on disk');
  expect(!disk.includes('********'), 'no mask written');
  await waitFor('the reloaded fields', async () => (await page.getByTestId('env-editor').getByRole('textbox', { name: 'E2E_FLAG', exact: true }).count()) === 1, 5000, 100);
  expect((await page.getByTestId('env-editor').getByRole('textbox', { name: 'OPENAI_API_KEY', exact: true }).inputValue()) === '********', 'still masked after the save');
});

await test('a file changed on disk shows as drifted; the next save backs that version up first', async () => {
  const onDisk = join(ROOT, TPL2);
  const original = readFileSync(onDisk, 'utf8');
  writeFileSync(onDisk, original + '# edited by hand\n');
  await page.goto(`${base}/configs`);
  const row = page.getByTestId('config-files').locator(`tr[data-path="rdagent:${TPL2}"]`);
  await row.getByTestId('drift-badge').waitFor();
  await openFile('/configs', TPL2);
  await page.getByTestId('drift-notice').waitFor();
  const text = await editor().inputValue();
  expect(text.endsWith('# edited by hand\n'), 'the editor shows the hand edit');
  await editor().fill(original);
  await page.getByTestId('config-file').getByRole('button', { name: 'Save', exact: true }).click();
  await toast(`Saved ${TPL2.split('/').pop()}`).waitFor();
  const h = await history(TPL2);
  expect(h.items[0].event === 'drift' && h.items[0].sha256 === sha(original + '# edited by hand\n'), `the hand edit was backed up (${h.items[0].event})`);
  await page.getByTestId('history-table').locator(`tr[data-history-id="${h.items[0].id}"]`).getByText('drift', { exact: true }).waitFor();
  expect(readFileSync(onDisk, 'utf8') === original, 'the saved text is on disk');
  await row.getByTestId('drift-badge').waitFor({ state: 'detached' });
});

await test('Test LLM against a local stand-in endpoint: reachable, then refused', async () => {
  let auth = null;
  const llm = createServer((req, res) => {
    auth = req.headers.authorization ?? null;
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ object: 'list', data: [{ id: 'gpt-4o', object: 'model' }] }));
  });
  await new Promise((r) => llm.listen(0, '127.0.0.1', r));
  const port = llm.address().port;
  const setBase = async (url) => {
    const env = await info('.env');
    await api('PUT', '/api/configs/file', { path: 'rdagent:.env', content: env.content.replace(/^OPENAI_API_BASE=.*$/m, `OPENAI_API_BASE="${url}"`), base_sha256: env.sha256, note: 'e2e llm' });
  };
  try {
    await setBase(`http://127.0.0.1:${port}/v1`);
    await page.goto(`${base}/configs`);
    const checks = page.getByTestId('checks-rdagent');
    await checks.getByRole('button', { name: 'Test LLM' }).click();
    const res = checks.locator('[data-check=llm][data-ok=true]');
    await res.waitFor();
    const t = await res.innerText();
    expect(t.includes('reachable') && t.includes(`127.0.0.1:${port}`) && !t.includes('sk-chat-key'), `reachable, key not shown (${t})`);
    expect(auth === 'Bearer sk-chat-key', `the stand-in got the stored key (${auth})`);
    await toast('LLM: OK').waitFor();
  } finally {
    await new Promise((r) => llm.close(r));
  }
  await setBase(`http://127.0.0.1:${port}/v1`);
  await page.goto(`${base}/configs`);
  const checks = page.getByTestId('checks-rdagent');
  await checks.getByRole('button', { name: 'Test LLM' }).click();
  const bad = checks.locator('[data-check=llm][data-ok=false]');
  await bad.waitFor();
  expect((await bad.innerText()).includes('connection refused'), 'a closed port is reported as refused');
});

await test('Test buttons: a broken Qlib folder reports what is missing; the templates agree', async () => {
  const q = join(ws, 'data', 'qlib_broken');
  mkdirSync(join(q, 'calendars'), { recursive: true });
  mkdirSync(join(q, 'instruments'), { recursive: true });
  mkdirSync(join(q, 'features', 'sh600000'), { recursive: true });
  writeFileSync(join(q, 'calendars', 'day.txt'), '2020-01-02\n2020-01-03\n');
  writeFileSync(join(q, 'instruments', 'csi300.txt'), 'SH600000\t2020-01-02\t2020-01-03\nSH600001\t2020-01-02\t2020-01-03\n');
  writeFileSync(join(q, 'features', 'sh600000', 'close.day.bin'), Buffer.alloc(8));
  await page.goto(`${base}/configs`);
  const checks = page.getByTestId('checks-rdagent');
  await checks.getByLabel(/Qlib folder/).fill('data/qlib_broken');
  await checks.getByRole('button', { name: 'Test Qlib layout' }).click();
  const missing = checks.getByTestId('qlib-missing');
  await missing.waitFor();
  const m = await missing.innerText();
  expect(m.includes('features/sh600001/') && !m.includes('sh600000'), `exactly the missing instrument is listed (${m})`);
  await toast('Qlib layout: problem').waitFor();
  await checks.getByRole('button', { name: 'Test template consistency' }).click();
  await checks.locator('[data-check=consistency][data-ok=true]').waitFor();
  await shots('configs-checks');
});

await test('Datasets: create, upload instruments (bad line shown), set default, delete refused while in use', async () => {
  await page.goto(`${base}/datasets`);
  const panel = page.getByTestId('datasets-panel');
  await panel.getByTestId('datasets-table').waitFor();
  expect((await panel.locator('tr[data-dataset=demo]').innerText()).includes('read-only'), "alphalab.yaml's datasets are read-only");
  // create
  await panel.getByRole('button', { name: 'New dataset' }).click();
  const cd = page.getByTestId('dataset-create');
  await cd.getByLabel('Name').fill('syn_all');
  await cd.getByLabel(/Folder/).fill('data/synthetic');
  await cd.getByLabel('Description').fill('all synthetic instruments');
  await cd.getByRole('button', { name: 'Create' }).click();
  await cd.waitFor({ state: 'detached' });
  await panel.locator('tr[data-dataset=syn_all]').waitFor();
  // a folder that does not exist: refused in the dialog, nothing created
  await panel.getByRole('button', { name: 'New dataset' }).click();
  await cd.getByLabel('Name').fill('nowhere');
  await cd.getByLabel(/Folder/).fill('data/nowhere');
  await cd.getByRole('button', { name: 'Create' }).click();
  await cd.getByRole('alert').waitFor();
  await cd.getByRole('button', { name: 'Cancel' }).click();
  expect(!(await api('GET', '/api/datasets')).items.some((d) => d.name === 'nowhere'), 'nothing created for a bad folder');
  // upload instruments with a bad symbol
  const listed = (await api('GET', '/api/datasets/synthetic/validation')).instruments;
  expect(listed >= 2, `the synthetic data has instruments (${listed})`);
  await panel.getByRole('button', { name: 'Upload instruments' }).click();
  const up = page.getByTestId('instruments-upload');
  await up.getByLabel('New dataset name').fill('syn_two');
  await up.getByLabel('Data of').selectOption('synthetic');
  await up.getByLabel(/Symbols, one per line/).fill('SYN0001\nNOPE_42\nSYN0002\n');
  await up.getByRole('button', { name: 'Upload' }).click();
  const errs = up.getByTestId('upload-errors');
  await errs.waitFor();
  const bad = await errs.locator('tr[data-line="2"]').innerText();
  expect(bad.includes('NOPE_42'), `line 2 and its symbol shown (${bad})`);
  await shots('datasets-upload-error');
  expect(!(await api('GET', '/api/datasets')).items.some((d) => d.name === 'syn_two'), 'nothing written for a bad upload');
  await up.getByLabel(/Symbols, one per line/).fill('SYN0001\nSYN0002\n');
  await up.getByRole('button', { name: 'Upload' }).click();
  await up.waitFor({ state: 'detached' });
  await panel.locator('tr[data-dataset=syn_two]').waitFor();
  // set default
  await panel.getByRole('button', { name: 'Set default: syn_two' }).click();
  await panel.locator('tr[data-dataset=syn_two]').getByText('default', { exact: true }).waitFor();
  expect((await api('GET', '/api/datasets')).default === 'syn_two', 'the API says syn_two is the default');
  // validation report
  await panel.getByRole('button', { name: 'Validate syn_two' }).click();
  await page.getByTestId('dataset-validation').getByTestId('layout-report').waitFor();
  // a running job uses syn_two: the delete is refused and the job named
  const job = await api('POST', '/api/jobs', { job_type: 'rdagent-fin-quant', params: { dataset_ids: ['syn_two'], loop_n: 30 } });
  await waitFor('the job to run', async () => ['RUNNING', 'QUEUED'].includes((await api('GET', `/api/jobs/${job.job_id}`)).status), 10_000, 200);
  await panel.getByRole('button', { name: 'Delete syn_two' }).click();
  await page.getByTestId('delete-dialog').getByRole('button', { name: 'Delete syn_two' }).click();
  const refused = panel.getByTestId('delete-refused');
  await refused.waitFor();
  const r = await refused.innerText();
  expect(r.includes(job.job_id), `the refusal names the job (${r})`);
  expect((await api('GET', '/api/datasets')).items.some((d) => d.name === 'syn_two'), 'still there');
  await shots('datasets');
  await api('POST', `/api/jobs/${job.job_id}/cancel`, {});
  await waitFor('the job to end', async () => ['CANCELED', 'FAILED', 'SUCCESS'].includes((await api('GET', `/api/jobs/${job.job_id}`)).status), 20_000, 250);
  // once it ended the delete goes through
  await panel.getByRole('button', { name: 'Delete syn_all' }).click();
  await page.getByTestId('delete-dialog').getByRole('button', { name: 'Delete syn_all' }).click();
  await panel.locator('tr[data-dataset=syn_all]').waitFor({ state: 'detached' });
});

await test('axe-core on /configs (a file open) and /datasets: no serious or critical violations, light and dark', async () => {
  const axeSource = readFileSync(join(UI_DIR, 'node_modules', 'axe-core', 'axe.min.js'), 'utf8');
  const problems = [];
  for (const theme of ['light', 'dark']) {
    await page.evaluate((t) => localStorage.setItem('alphalab.theme', t), theme);
    for (const [name, prepare] of [
      ['configs', async () => openFile('/configs', TPL)],
      ['configs-env', async () => openFile('/configs', '.env')],
      ['datasets', async () => page.goto(base + '/datasets').then(() => page.getByTestId('datasets-table').waitFor())],
    ]) {
      await prepare();
      await page.waitForTimeout(200);
      expect((await page.evaluate(() => document.documentElement.getAttribute('data-theme'))) === theme, `theme ${theme}`);
      await page.addScriptTag({ content: axeSource });
      const result = await page.evaluate(async () => {
        const r = await window.axe.run(document, { resultTypes: ['violations'] });
        return r.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.slice(0, 3).map((n) => n.target.join(' ')) }));
      });
      for (const v of result.filter((x) => x.impact === 'serious' || x.impact === 'critical')) problems.push(`${theme} ${name}: ${v.id} (${v.impact}) ${v.nodes.join(' | ')}`);
      await shots(`axe-${name}-${theme}`);
    }
  }
  await page.evaluate(() => localStorage.removeItem('alphalab.theme'));
  writeFileSync(join(OUT, 'axe-violations.txt'), problems.join('\n') + '\n');
  expect(problems.length === 0, `axe: ${problems.length} serious/critical violation(s): ${problems.slice(0, 8).join(' ; ')}`);
});

log(`workspace ${ws}`);
await finish();
