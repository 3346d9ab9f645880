#!/usr/bin/env node
// Browser suite of model selection with a holdout (needs the server side of issue 15: the
// models dimension, validation.holdout_start, the out-of-sample scores, the deflated Sharpe,
// GET /api/projects). ctest runs it as `ui_e2e_model_selection`.
//   ALPHALAB_BIN=/path/to/bin/alphalab node ui/e2e/model_selection.mjs
// Two runs of the project `e2esel` are trained on the synthetic dataset; "Select models" opens
// the form prefilled from the project (models dimension, drawdown constraint, CAGR objective),
// a holdout date is added, and the page shows the in-sample and out-of-sample columns.
import { expect, startSuite, waitFor } from './harness.mjs';

const { base, page, api, test, shots, finish } = await startSuite('model_selection');
const PROJECT = 'e2esel';
const TERMINAL = ['succeeded', 'failed', 'early-stopped', 'canceled'];
const state = {};

const waitJob = (id) =>
  waitFor(`job ${id}`, async () => {
    const j = await api('GET', `/api/jobs/${id}`);
    return ['SUCCESS', 'FAILED', 'CANCELED'].includes(j.status) ? j : null;
  }, 240_000, 500);

await test('two runs of a project trained on the synthetic dataset (API)', async () => {
  for (const threshold of ['0.02', '0.03']) {
    const t = await api('POST', '/api/jobs/train', {
      config_path: 'configs/base.yaml',
      overrides: [`project=${PROJECT}`, 'dataset=synthetic', 'tickers=[SYN0001, SYN0002]', 'split.train_end=2007-12-31', 'split.valid_end=2008-12-31', `label.threshold=${threshold}`, 'model.params.num_round=30', 'model.params.nthread=1'],
    });
    const j = await waitJob(t.job_id);
    expect(j.status === 'SUCCESS', `train SUCCESS (${j.status}: ${j.error_message ?? ''})`);
  }
  const projects = await api('GET', '/api/projects');
  expect(projects.items.some((p) => p.name === PROJECT && p.successful_runs >= 2), `the project is listed (${JSON.stringify(projects.items)})`);
});

await test('"Select models" prefills the form from the project; a holdout is added; launched from the UI', async () => {
  await page.goto(`${base}/optimizations`);
  await page.getByLabel('Project to select models from').fill(PROJECT);
  await page.getByRole('button', { name: 'Select models' }).click();
  await page.getByTestId('optimization-form').waitFor();
  expect((await page.getByLabel('Parameter 1 key').inputValue()) === 'strategy.params.model_path', 'models axis key');
  expect((await page.getByLabel('Parameter 1 kind').inputValue()) === 'models', 'models dimension');
  expect((await page.getByLabel('Parameter 1 models project').inputValue()) === PROJECT, 'project of the filter');
  expect((await page.getByLabel('Objective metric').inputValue()) === 'cagr', 'CAGR objective');
  expect((await page.getByLabel('Constraints').inputValue()) === 'max_drawdown <= 0.15', 'drawdown constraint');
  await page.getByLabel('Constraints').fill('max_drawdown <= 0.9');
  await page.getByLabel('Holdout start').fill('2010-01-01');
  await shots('select-models-form');
  await page.getByRole('button', { name: 'Launch optimization' }).click();
  await page.waitForURL(/\/optimizations\/opt_/, { timeout: 30_000 });
  state.id = decodeURIComponent(page.url().split('/optimizations/')[1]);
  await page.getByTestId('validation-notice').getByText('2010-01-01').waitFor();
});

await test('the selection ends with in-sample and out-of-sample scores, model run links and the deflated Sharpe', async () => {
  await waitFor('the selection and its holdout re-runs to end', async () => {
    const o = await api('GET', `/api/v1/optimizations/${state.id}`);
    return TERMINAL.includes(o.status) && o.validation && !['pending', 'running'].includes(o.validation.status) ? o : null;
  }, 300_000, 500);
  const o = await api('GET', `/api/v1/optimizations/${state.id}`);
  expect(o.status === 'succeeded', `succeeded (${o.status})`);
  await page.goto(`${base}/optimizations/${state.id}`);
  await page.getByTestId('top-table').waitFor();
  const rows = page.getByTestId('top-row');
  expect((await rows.count()) === o.summary.top_n.length && o.summary.top_n.length > 0, 'Top-N rows');
  const oos = await page.getByTestId('top-oos').allInnerTexts();
  o.summary.top_n.forEach((t, i) => {
    const run = o.validation.runs.find((r) => r.index === t.index);
    const want = t.oos_score ?? run?.oos_score ?? null;
    expect(want === null ? oos[i] === '—' : Math.abs(Number(oos[i].replace(/,/g, '')) - want) <= Math.abs(want) * 1e-3 + 1e-4, `row ${i + 1} OOS ${oos[i]} vs ${want}`);
  });
  expect((await rows.first().getByRole('link', { name: 'model run' }).count()) === 1, 'the model run is linked');
  if (o.deflated_sharpe) expect((await page.getByTestId('deflated-sharpe').innerText()).includes(o.deflated_sharpe.reading), 'deflated Sharpe reading shown');
  const rep = await api('GET', `/api/v1/optimizations/${state.id}/report`);
  expect(rep.counts.models >= 2, `the report counts the models (${rep.counts.models})`);
  await shots('select-models-detail');
});

await finish();
