#!/usr/bin/env node
// The optimization detail page while a 100,000-task optimization runs (issue 16, performance):
// a real server on the default fast path (harness.mjs), a 100,000-task grid submitted through
// the API on the demo data (fast 2..101 x slow over 1,000 values), then /optimizations/:id
// opened in Chromium while it runs. Prints figures (docs/benchmarks.md) and asserts the page's
// contract:
//   - time to interactive: navigation start until the counts show 100,000, the Top-N board and
//     the tasks table have rows, and a first click on the tasks table's Next has painted its
//     new rows (median of 3 loads; the long tasks (PerformanceObserver 'longtask') of each load);
//   - responsiveness while it runs: click-to-paint of the tasks table's Next page and of the
//     score sort header (click until the rows changed and a frame was painted, measured in the
//     page), long tasks in an idle watch of WATCH_S seconds;
//   - requests: while the page only watches, every request is `GET .../status` (about one a
//     second); paging and sorting ask `GET .../tasks` with a limit of at most 1,000.
//
//   ALPHALAB_BIN=build/bin/alphalab [E2E_PORT=n] [TASKS=100000] [WATCH_S=20] node ui/e2e/bench_opt_detail.mjs
import { readFileSync } from 'node:fs';
import { expect, startSuite, waitFor } from './harness.mjs';

const TASKS = Number(process.env.TASKS ?? 100000);
const WATCH_S = Number(process.env.WATCH_S ?? 20);
const FAST = 100; // fast 2..101
const SLOWS = Array.from({ length: Math.ceil(TASKS / FAST) }, (_, i) => 110 + i);
const { base, page, api, test, finish, log, shots } = await startSuite('bench_opt_detail');
const loadavg = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const p95 = (xs) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil(xs.length * 0.95) - 1)];
const fmt = (ms) => `${ms.toFixed(0)} ms`;
const figures = [];
// Times are asserted on a machine that is not oversubscribed (1-minute load average below its
// cores); otherwise they are printed with the load. The request checks always hold.
const oversubscribed = async () => {
  const load1 = Number(loadavg().split(' ')[0]);
  const cores = (await import('node:os')).cpus().length;
  if (load1 < cores) return false;
  figures.push(`(a time target not asserted: load average ${load1} on ${cores} cores)`);
  return true;
};

// Long tasks of the page, from its first script on (buffered in window.__longtasks).
await page.context().addInitScript(() => {
  window.__longtasks = [];
  try {
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) window.__longtasks.push({ start: e.startTime, ms: e.duration });
    }).observe({ type: 'longtask', buffered: true });
  } catch {
    /* no longtask support: the figures say 0 */
  }
});
const longTasks = (from = 0) => page.evaluate((f) => window.__longtasks.filter((t) => t.start >= f), from);

// Click `selector` (the first match) and wait in the page until the first row of the tasks table
// changed and the next frame was painted: click-to-paint, without the driver's round trips.
const clickToPaint = (selector) =>
  page.evaluate(
    (sel) =>
      new Promise((resolve, reject) => {
        const firstRow = () => document.querySelector('[data-testid=tasks-table] tbody tr')?.textContent ?? '';
        const before = firstRow();
        const el = document.querySelector(sel);
        if (!el) return reject(new Error(`no ${sel}`));
        const t0 = performance.now();
        const timer = setTimeout(() => reject(new Error(`${sel}: the rows did not change in 20 s`)), 20_000);
        const done = () => {
          if (firstRow() === before) return false;
          mo.disconnect();
          clearTimeout(timer);
          // the frame that shows it: after the next animation frame, once it has been painted
          requestAnimationFrame(() => setTimeout(() => resolve(performance.now() - t0), 0));
          return true;
        };
        const mo = new MutationObserver(done);
        mo.observe(document.querySelector('[data-testid=tasks-panel]'), { subtree: true, childList: true, characterData: true });
        el.click();
      }),
    selector,
  );

const state = {};
await test(`a ${TASKS.toLocaleString('en-US')}-task grid is submitted and starts`, async () => {
  const t0 = performance.now();
  const o = await api('POST', '/api/v1/optimizations', {
    name: 'bench detail page', project: 'demo', job_type: 'backtest',
    base_params: { config_path: 'configs/backtest/base.yaml', tickers: ['SPX'] },
    param_space: { 'strategy.params.fast': { min: 2, max: 1 + FAST, step: 1 }, 'strategy.params.slow': SLOWS },
    objective: { metric: 'final_equity', direction: 'max' }, max_inflight: 8,
  });
  state.id = o.id;
  figures.push(`submit (POST, ${TASKS.toLocaleString('en-US')} tasks): ${fmt(performance.now() - t0)}`);
  const s = await waitFor('tasks finishing', async () => {
    const st = await api('GET', `/api/v1/optimizations/${o.id}/status`);
    return st.summary.finished >= 20 && st;
  }, 300_000, 500);
  expect(s.summary.total >= TASKS, `${s.summary.total} tasks`);
  log(`running: ${s.summary.finished} finished of ${s.summary.total}; load ${loadavg()}`);
});

await test('time to interactive of the detail page while it runs (median of 3 loads)', async () => {
  const tti = [];
  const shown = [];
  const lts = [];
  for (let i = 0; i < 3; i += 1) {
    await page.goto('about:blank');
    const t0 = Date.now();
    await page.goto(`${base}/optimizations/${state.id}`);
    await waitFor('the counts', async () => Number((await page.getByTestId('count-total').innerText({ timeout: 100 })).replace(/,/g, '')) === SLOWS.length * FAST, 20_000, 10);
    await page.locator('[data-testid=tasks-table] tbody tr').first().waitFor();
    await page.locator('[data-testid=top-table] tbody tr, [data-testid=top-board] .empty').first().waitFor();
    shown.push(Date.now() - t0);
    await clickToPaint('[data-testid=tasks-panel] .pager button:nth-of-type(3)');
    tti.push(Date.now() - t0);
    const lt = await longTasks();
    lts.push(lt.reduce((a, t) => a + t.ms, 0));
    // where the time went: the document's scripts parsed (DOMContentLoaded) and each API request
    const where = await page.evaluate(() => ({
      dcl: performance.getEntriesByType('navigation')[0]?.domContentLoadedEventEnd ?? 0,
      api: performance.getEntriesByType('resource').filter((e) => e.name.includes('/api/')).map((e) => `${new URL(e.name).pathname.split('/').pop()}${new URL(e.name).search.slice(0, 24)} ${e.duration.toFixed(0)} ms`),
    }));
    log(`load ${i + 1}: shown ${shown.at(-1)} ms, interactive ${tti.at(-1)} ms, DOMContentLoaded ${where.dcl.toFixed(0)} ms, long tasks ${lt.map((t) => t.ms.toFixed(0)).join(',') || 'none'}; ${where.api.join('; ')}`);
  }
  figures.push(`page shown (counts, Top-N, first tasks page): median ${fmt(median(shown))} (${shown.join(', ')} ms)`);
  figures.push(`time to interactive (shown + a Next click painted): median ${fmt(median(tti))} (${tti.join(', ')} ms)`);
  figures.push(`long tasks during a load: median total ${fmt(median(lts))}`);
  if (!(await oversubscribed())) expect(median(tti) < 1000, `interactive within 1 s (median ${median(tti)} ms)`);
});

await test(`while it runs: only status polls when idle (${WATCH_S} s), long tasks, click-to-paint of paging and sorting`, async () => {
  await page.goto(`${base}/optimizations/${state.id}`);
  await page.locator('[data-testid=tasks-table] tbody tr').first().waitFor();
  await page.waitForTimeout(1500); // the first chart page and the first polls settle
  const requests = [];
  const onRequest = (r) => {
    const u = new URL(r.url());
    if (u.pathname.startsWith('/api/')) requests.push({ path: u.pathname, search: u.search, at: Date.now() });
  };
  page.on('request', onRequest);
  const since = await page.evaluate(() => performance.now());
  const before = (await api('GET', `/api/v1/optimizations/${state.id}/status`)).summary.finished;
  await page.waitForTimeout(WATCH_S * 1000);
  const after = (await api('GET', `/api/v1/optimizations/${state.id}/status`)).summary.finished;
  const idle = await longTasks(since);
  const idleRequests = [...requests];
  await shots('detail-while-running'); // what the user sees mid-sweep (1280 and 420 px)
  const others = idleRequests.filter((r) => !r.path.endsWith('/status'));
  figures.push(`idle watch ${WATCH_S} s (${after - before} tasks finished meanwhile): ${idleRequests.length} requests, ${others.length} not a status poll; long tasks ${idle.length} (max ${fmt(Math.max(0, ...idle.map((t) => t.ms)))})`);
  expect(after > before, `the sweep ran during the watch (${before} -> ${after})`);
  expect(others.length === 0, `only status polls while watching: ${others.map((r) => r.path + r.search).slice(0, 5).join(' ')}`);
  expect(idleRequests.length >= WATCH_S * 0.6 && idleRequests.length <= WATCH_S * 1.5, `about one status poll a second (${idleRequests.length} in ${WATCH_S} s)`);
  // a poll's render is a few ms of CPU: no long task may come near the 1 s a poll takes
  expect(idle.every((t) => t.ms < 500), `no long task of 500 ms or more while watching (${idle.map((t) => t.ms.toFixed(0)).join(',')})`);

  requests.length = 0;
  const next = [];
  const sorts = [];
  const clicksFrom = await page.evaluate(() => performance.now());
  for (let i = 0; i < 10; i += 1) next.push(await clickToPaint('[data-testid=tasks-panel] .pager button:nth-of-type(3)'));
  for (let i = 0; i < 6; i += 1) sorts.push(await clickToPaint('[data-testid=tasks-table] thead th:nth-last-child(4) button'));
  const clickLong = await longTasks(clicksFrom);
  page.off('request', onRequest);
  const taskReqs = requests.filter((r) => r.path.endsWith('/tasks'));
  const limits = taskReqs.map((r) => Number(new URLSearchParams(r.search).get('limit') ?? 0));
  figures.push(`tasks table Next page, click to paint (10): median ${fmt(median(next))}, p95 ${fmt(p95(next))}, max ${fmt(Math.max(...next))}`);
  figures.push(`tasks table sort by score, click to paint (6): median ${fmt(median(sorts))}, max ${fmt(Math.max(...sorts))}`);
  figures.push(`long tasks during the 16 clicks: ${clickLong.length} (max ${fmt(Math.max(0, ...clickLong.map((t) => t.ms)))}); tasks requests ${taskReqs.length}, largest limit ${Math.max(...limits)}`);
  expect(taskReqs.length >= 10 && Math.max(...limits) <= 1000, `paged tasks requests (${taskReqs.length}, limits ${[...new Set(limits)].join(',')})`);
  if (!(await oversubscribed())) expect(median(next) < 500 && median(sorts) < 1000, `paging and sorting answer (Next ${median(next)} ms, sort ${median(sorts)} ms)`);
});

await test('the sweep is canceled (the server freed for the next suite)', async () => {
  const s = await api('GET', `/api/v1/optimizations/${state.id}/status`);
  figures.push(`at the end: ${s.summary.finished} of ${s.summary.total} finished; load average ${loadavg()}`);
  await api('POST', `/api/v1/optimizations/${state.id}/cancel`, {});
});

console.log(`\nOptimization detail page, ${TASKS.toLocaleString('en-US')}-task optimization running (fast path), load average ${loadavg()}:`);
for (const f of figures) console.log(`- ${f}`);
await finish();
