#!/usr/bin/env node
// UI benchmarks: production bundle size, first load of every page against the real
// server, and the LogViewer following a 100 MB log. Prints figures; asserts nothing.
//
//   ALPHALAB_BIN=/path/to/bin/alphalab node ui/e2e/bench.mjs
import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { chromium } from 'playwright-core';

const UI_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const REPO = resolve(UI_DIR, '..');

// ---------------------------------------------------------------- bundle
let raw = 0;
let gz = 0;
for (const f of readdirSync(join(UI_DIR, 'dist', 'assets'))) {
  const b = readFileSync(join(UI_DIR, 'dist', 'assets', f));
  raw += b.length;
  gz += gzipSync(b, { level: 9 }).length;
  console.log(`bundle ${f}: ${(b.length / 1024).toFixed(1)} KB raw, ${(gzipSync(b, { level: 9 }).length / 1024).toFixed(1)} KB gzip`);
}
console.log(`bundle total: ${(raw / 1024).toFixed(1)} KB raw, ${(gz / 1024).toFixed(1)} KB gzip (budget 350 KB gzip)`);

const bin = process.env.ALPHALAB_BIN ? resolve(process.env.ALPHALAB_BIN) : undefined;
if (!bin) {
  console.log('ALPHALAB_BIN not set: skipping page-load and LogViewer figures');
  process.exit(0);
}

// ---------------------------------------------------------------- server
const tmp = mkdtempSync(join(tmpdir(), 'alphalab-bench-'));
cpSync(join(REPO, 'examples', 'workspace'), join(tmp, 'ws'), { recursive: true });
const port = await new Promise((res) => {
  const s = createServer();
  s.listen(0, '127.0.0.1', () => {
    const p = s.address().port;
    s.close(() => res(p));
  });
});
const base = `http://127.0.0.1:${port}`;
process.on('exit', () => server.kill('SIGKILL'));
const server = spawn(bin, ['serve', '--workspace', join(tmp, 'ws'), '--host', '127.0.0.1', '--port', String(port), '--ui-dir', join(UI_DIR, 'dist')], { stdio: 'ignore' });
for (let i = 0; i < 100; i++) {
  try {
    if ((await fetch(`${base}/api/jobs/recent?limit=1`)).ok) break;
  } catch {
    /* not yet */
  }
  await new Promise((r) => setTimeout(r, 200));
}

const profile = mkdtempSync(join(tmpdir(), 'alphalab-bench-chromium-'));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: '/usr/bin/chromium',
  headless: true,
  viewport: { width: 1280, height: 900 },
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const page = context.pages()[0] ?? (await context.newPage());

// ---------------------------------------------------------------- first load per page (cold context per page)
for (const path of ['/', '/jobs', '/registry', '/runs', '/backtests', '/optimizations', '/actions?type=backtest']) {
  const times = [];
  for (let i = 0; i < 5; i++) {
    const p = await context.newPage();
    const t0 = Date.now();
    await p.goto(base + path, { waitUntil: 'load' });
    // "loaded" = the page's heading is visible and no loading spinner is left.
    await p.locator('main h1').first().waitFor();
    await p.waitForFunction(() => !document.querySelector('.state-loading'));
    times.push(Date.now() - t0);
    await p.close();
  }
  times.sort((a, b) => a - b);
  console.log(`first load ${path}: median ${times[2]} ms, max ${times[4]} ms (5 runs, empty workspace)`);
}

// ---------------------------------------------------------------- LogViewer on a 100 MB log
const MB = 1024 * 1024;
const TOTAL = 100 * MB;
let line = 0;
function makeChunk(bytes) {
  const parts = [];
  let n = 0;
  while (n < bytes) {
    const l = `2026-11-21T05:00:00Z step ${line++} loss=0.${(line * 7919) % 100000} lr=0.001 msg=training progress\n`;
    parts.push(l);
    n += l.length;
  }
  return parts.join('').slice(0, bytes);
}
const chunk1M = makeChunk(MB);
const tail20k = makeChunk(20000);
let served = 0;
await page.route('**/api/jobs/job_bench', (route) =>
  route.fulfill({ json: { job_id: 'job_bench', job_type: 'train', status: 'RUNNING', created_at: new Date().toISOString(), command: ['alphalab', 'train'], args_preview: 'train', cwd: '/', artifacts: {}, runtime: { meta_path: 'm', log_path: 'l' }, params: {} } }),
);
await page.route('**/api/jobs/job_bench/log?*', (route) => {
  const u = new URL(route.request().url());
  const offset = Number(u.searchParams.get('offset'));
  if (offset === 0) return route.fulfill({ json: { job_id: 'job_bench', content: tail20k, next_offset: TOTAL, is_truncated: true, log_path: 'l' } });
  // Follow a log that grew by another 100 MB: the server caps each response at 1 MB.
  if (offset >= 2 * TOTAL) return route.fulfill({ json: { job_id: 'job_bench', content: '', next_offset: offset, is_truncated: false, log_path: 'l' } });
  served += MB;
  return route.fulfill({ json: { job_id: 'job_bench', content: chunk1M, next_offset: offset + MB, is_truncated: false, log_path: 'l' } });
});
await page.goto(`${base}/jobs/job_bench`);
await page.evaluate(() => {
  window.__long = [];
  new PerformanceObserver((l) => l.getEntries().forEach((e) => window.__long.push(e.duration))).observe({ type: 'longtask', buffered: true });
});
const t0 = Date.now();
await page.getByTestId('log-box').waitFor();
await page.waitForFunction(() => document.querySelector('[data-testid=log-status]')?.textContent === 'following');
let firstPaint = 0;
await page.waitForFunction(() => (document.querySelector('[data-testid=log-box]')?.textContent?.length ?? 0) > 1000).then(() => (firstPaint = Date.now() - t0));
await page.waitForFunction((total) => Number(document.querySelector('.log-viewer')?.getAttribute('data-offset')) >= 2 * total, TOTAL, { timeout: 300_000, polling: 200 });
const streamMs = Date.now() - t0;
const stats = await page.evaluate(() => {
  const box = document.querySelector('[data-testid=log-box]');
  const longs = window.__long;
  return {
    domChars: box.textContent.length,
    chunks: box.querySelectorAll('.log-chunk').length,
    atBottom: box.scrollHeight - box.scrollTop - box.clientHeight <= 30,
    longTasks: longs.length,
    maxLongTask: Math.round(Math.max(0, ...longs)),
  };
});
// Responsiveness after the stream: search over what is on screen.
const s0 = Date.now();
await page.getByLabel('Search log').fill('step 9');
await page.getByTestId('log-matches').waitFor();
const searchMs = Date.now() - s0;
console.log(`log viewer: first text of a 100 MB log (tail 20 KB) after ${firstPaint} ms`);
console.log(`log viewer: followed ${(served / MB).toFixed(0)} MB more in 1 MB steps in ${(streamMs / 1000).toFixed(1)} s; on screen ${(stats.domChars / MB).toFixed(2)} MB in ${stats.chunks} chunks; auto-follow at bottom: ${stats.atBottom}`);
console.log(`log viewer: long tasks ${stats.longTasks}, longest ${stats.maxLongTask} ms; search over the visible log ${searchMs} ms`);

await context.close();
server.kill('SIGTERM');
rmSync(profile, { recursive: true, force: true });
rmSync(tmp, { recursive: true, force: true });
