#!/usr/bin/env node
// The 100,000-row check of the Runs and Jobs tables: a workspace whose store holds 100,000
// finished jobs and 100,000 indexed runs (bench_seed_jobs, straight into SQLite), served by
// the real server; prints the API page times (first page, a deep page, a text search, a sort)
// and the browser times (page load until the table shows its first page (Jobs 100 rows, Runs 50), a search typed until the
// table shows only matches, the next page). Prints figures; asserts only that pages come back.
//
//   ALPHALAB_BIN=build/bin/alphalab SEED_BIN=build/bin/bench_seed_jobs [PORT=n] node ui/e2e/bench_tables.mjs [ROWS]
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const UI_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const REPO = resolve(UI_DIR, '..');
const bin = process.env.ALPHALAB_BIN ? resolve(process.env.ALPHALAB_BIN) : null;
const seed = process.env.SEED_BIN ? resolve(process.env.SEED_BIN) : bin && join(dirname(bin), 'bench_seed_jobs');
if (!bin) {
  console.error('ALPHALAB_BIN is required');
  process.exit(2);
}
const ROWS = Number(process.argv[2] ?? 100000);

const tmp = mkdtempSync(join(tmpdir(), 'alphalab-bench-tables-'));
const ws = join(tmp, 'ws');
cpSync(join(REPO, 'examples', 'workspace'), ws, { recursive: true, filter: (src) => !/alphalab\.db|\/(reports|runs|backtests)(\/|$)/.test(src) });
// The seeded runs have no folders: the start-up index must not drop them.
writeFileSync(join(ws, 'alphalab.yaml'), `${readFileSync(join(ws, 'alphalab.yaml'), 'utf8')}\nregistry:\n  index_on_start: false\n`);
const t0 = Date.now();
const seeded = spawnSync(seed, ['--workspace', ws, '--jobs', String(ROWS), '--runs', String(ROWS), '--ids-out', join(tmp, 'ids.txt'), '--threads', '4'], { encoding: 'utf8' });
if (seeded.status !== 0) {
  console.error(seeded.stdout, seeded.stderr);
  process.exit(1);
}
process.stdout.write(seeded.stdout);
console.log(`seeding took ${((Date.now() - t0) / 1000).toFixed(1)} s; load average ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`);

const port = process.env.PORT ? Number(process.env.PORT) : await new Promise((res) => {
  const s = createServer();
  s.listen(0, '127.0.0.1', () => {
    const p = s.address().port;
    s.close(() => res(p));
  });
});
const base = `http://127.0.0.1:${port}`;
const server = spawn(bin, ['serve', '--workspace', ws, '--host', '127.0.0.1', '--port', String(port), '--ui-dir', join(UI_DIR, 'dist')], { stdio: 'ignore' });
process.on('exit', () => {
  server.kill('SIGKILL');
  if (!process.env.E2E_KEEP) rmSync(tmp, { recursive: true, force: true });
});
for (let i = 0; i < 150; i++) {
  try {
    if ((await fetch(`${base}/api/health`)).ok) break;
  } catch {
    /* not yet */
  }
  await new Promise((r) => setTimeout(r, 200));
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
async function timeGet(path, n = 7) {
  const times = [];
  let body;
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    const r = await fetch(base + path);
    body = await r.json();
    if (!r.ok) throw new Error(`${path}: ${r.status} ${JSON.stringify(body).slice(0, 200)}`);
    times.push(performance.now() - t);
  }
  return { ms: median(times), max: Math.max(...times), body };
}
const rows = [];
for (const [what, path] of [
  ['jobs, first page', '/api/jobs/recent?limit=50'],
  ['jobs, last page', `/api/jobs/recent?limit=50&offset=${ROWS - 50}`],
  ['jobs, search q=T123]', '/api/jobs/recent?limit=50&q=T123%5D'],
  ['jobs, status + date range', '/api/jobs/recent?limit=50&status=SUCCESS&from=2020-01-01&to=2030-12-31'],
  ['runs, first page', '/api/runs?limit=50'],
  ['runs, last page', `/api/runs?limit=50&offset=${ROWS - 50}`],
  ['runs, search q=T123', '/api/runs?limit=50&q=T123'],
  ['runs, sort dataset_asc', '/api/runs?limit=50&sort=dataset_asc'],
  ['runs, sort param.eta_desc', '/api/runs?limit=50&sort=param.eta_desc'],
  ['jobs, search q=train (every row matches)', '/api/jobs/recent?limit=50&q=train'],
]) {
  const r = await timeGet(path);
  const total = r.body.total;
  rows.push(`| ${what} | \`${path}\` | ${r.ms.toFixed(1)} ms | ${r.max.toFixed(1)} ms | ${total} |`);
}
console.log('\n| API page | request | median (7) | max | total |\n|---|---|---|---|---|');
console.log(rows.join('\n'));

const profile = mkdtempSync(join(tmpdir(), 'alphalab-bench-chromium-'));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: '/usr/bin/chromium',
  headless: true,
  viewport: { width: 1280, height: 900 },
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const page = context.pages()[0] ?? (await context.newPage());
const browser = [];
for (const [name, path, table, searchLabel, term] of [
  ['Jobs', '/jobs', 'jobs-table', 'Search jobs', 'T123]'],
  ['Runs', '/runs', 'runs-table', 'Search runs', 'T123'],
]) {
  const load = [];
  const search = [];
  const next = [];
  for (let i = 0; i < 3; i++) {
    let t = performance.now();
    await page.goto(base + path);
    const body = page.getByTestId(table).locator('tbody tr');
    await page.waitForFunction((id) => document.querySelectorAll(`[data-testid=${id}] tbody tr`).length >= 50, table);
    load.push(performance.now() - t);
    // The next page (of the whole table).
    const first = await body.first().innerText();
    t = performance.now();
    await page.getByRole('button', { name: /Next/ }).first().click();
    await page.waitForFunction(([id, f]) => document.querySelector(`[data-testid=${id}] tbody tr`)?.innerText !== f, [table, first]);
    next.push(performance.now() - t);
    // A search typed: from the last key until every row shown matches (300 ms debounce included).
    await page.getByLabel(searchLabel).fill(term.slice(0, -1));
    t = performance.now();
    await page.getByLabel(searchLabel).press(term.slice(-1));
    await page.waitForFunction(
      ([id, q]) => {
        const trs = [...document.querySelectorAll(`[data-testid=${id}] tbody tr`)];
        return trs.length > 0 && trs.every((tr) => tr.textContent.includes(q.replace(']', '')));
      },
      [table, term],
      { timeout: 30_000 },
    );
    search.push(performance.now() - t);
  }
  browser.push(`| ${name} | ${median(load).toFixed(0)} ms | ${median(search).toFixed(0)} ms (incl. 300 ms debounce) | ${median(next).toFixed(0)} ms |`);
}
console.log(`\n| page (${ROWS.toLocaleString('en-US')} rows) | load until the first page of rows (Jobs 100, Runs 50) | search typed until only matches | next page |\n|---|---|---|---|`);
console.log(browser.join('\n'));
await context.close();
rmSync(profile, { recursive: true, force: true });
process.exit(0);
