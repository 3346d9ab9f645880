// Shared harness of the optimization browser suites (optimizations.mjs, model_selection.mjs):
// a temporary workspace (examples/workspace + the S&P 500 demo data + a synthetic dataset), a
// real `alphalab serve` on a free port, Debian's chromium through playwright-core, screenshots
// into ui/test-results/<suite>/, and `N passed, N failed` at the end.
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const UI_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const REPO = resolve(UI_DIR, '..');
const CHROMIUM = process.env.CHROMIUM_BIN ?? '/usr/bin/chromium';

export function expect(cond, msg) {
  if (!cond) throw new Error(msg);
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

export async function waitFor(what, fn, timeoutMs = 20_000, everyMs = 250) {
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

/**
 * Follows an optimization's detail page until its badge says SUCCEEDED, sampling the progress
 * bar's aria-valuenow every `everyMs`. Returns the values seen (ascending) and the last one.
 */
export async function watchProgress(page, timeoutMs, everyMs) {
  const seen = new Set();
  const bar = page.getByTestId('opt-status').getByRole('progressbar');
  await waitFor('the sweep to end on the page', async () => {
    seen.add(Number(await bar.getAttribute('aria-valuenow')));
    return (await page.getByTestId('opt-status').locator('..').locator('.page-head .badge').innerText()) === 'SUCCEEDED';
  }, timeoutMs, everyMs);
  return { values: [...seen].sort((a, b) => a - b), ended: Number(await bar.getAttribute('aria-valuenow')) };
}

/** Starts everything; returns the suite's helpers. `serveArgs` are extra `alphalab serve` flags. */
export async function startSuite(suite, { serveArgs = [] } = {}) {
  const log = (...a) => console.log(`[${suite} ${new Date().toISOString().slice(11, 19)}]`, ...a);
  const fail = (msg) => {
    console.error(`${suite}: ${msg}`);
    console.log('0 passed, 1 failed');
    process.exit(1);
  };
  const bin = process.env.ALPHALAB_BIN ? resolve(process.env.ALPHALAB_BIN) : undefined;
  if (!bin || !existsSync(bin)) fail(`set ALPHALAB_BIN to the alphalab binary (got ${bin ?? 'nothing'})`);
  if (!existsSync(CHROMIUM)) fail(`${CHROMIUM} not found`);
  if (!existsSync(join(UI_DIR, 'dist', 'index.html')) || process.env.E2E_REBUILD === '1') {
    log('building ui/dist');
    const r = spawnSync('npm', ['run', 'build'], { cwd: UI_DIR, stdio: 'inherit' });
    if (r.status !== 0) fail('npm run build failed');
  }
  const OUT = join(UI_DIR, 'test-results', suite);
  mkdirSync(OUT, { recursive: true });
  const tmp = mkdtempSync(join(tmpdir(), `alphalab-${suite}-`));
  const ws = join(tmp, 'workspace');
  const src = join(REPO, 'examples', 'workspace');
  cpSync(src, ws, { recursive: true, filter: (p) => !/\/(runs|backtests|reports|history)(\/|$)|alphalab\.db/.test(p.slice(src.length)) });
  mkdirSync(join(ws, 'data', 'demo'), { recursive: true });
  writeFileSync(join(ws, 'data', 'demo', 'SPX.csv'), readFileSync(join(UI_DIR, 'node_modules', 'vega-datasets', 'data', 'sp500-2000.csv')));
  {
    const r = spawnSync(bin, ['data', 'synth', '--out', 'data/synthetic', '--instruments', '3', '--years', '6', '--seed', '5', '--workspace', ws], { encoding: 'utf8' });
    if (r.status !== 0) fail(`data synth failed: ${r.stderr}`);
  }
  // E2E_PORT: a fixed port (a machine where each engineer has their own ports); else any free one.
  const port = process.env.E2E_PORT ? Number(process.env.E2E_PORT) : await freePort();
  const base = `http://127.0.0.1:${port}`;
  const serverOut = [];
  log(`starting ${bin} serve --workspace ${ws} --port ${port} ${serveArgs.join(' ')}`);
  const server = spawn(bin, ['serve', '--workspace', ws, '--host', '127.0.0.1', '--port', String(port), '--ui-dir', join(UI_DIR, 'dist'), ...serveArgs], { stdio: ['ignore', 'pipe', 'pipe'] });
  server.stdout.on('data', (d) => serverOut.push(d));
  server.stderr.on('data', (d) => serverOut.push(d));
  let serverExited = false;
  server.on('exit', (code, signal) => {
    serverExited = true;
    log(`server exited with ${code ?? signal}`);
  });
  process.on('exit', () => {
    if (!serverExited) server.kill('SIGKILL');
  });
  const cleanup = () => {
    try {
      writeFileSync(join(OUT, 'server.log'), Buffer.concat(serverOut));
    } catch {
      /* ignore */
    }
    if (!serverExited) server.kill('SIGTERM');
    if (process.env.E2E_KEEP !== '1') rmSync(tmp, { recursive: true, force: true });
    else log(`kept workspace ${ws}`);
  };
  process.on('uncaughtException', (e) => {
    console.error(e);
    cleanup();
    console.log('0 passed, 1 failed');
    process.exit(1);
  });
  try {
    await waitFor('the server to answer', async () => {
      if (serverExited) throw new Error(`server exited; see ${OUT}/server.log`);
      return (await fetch(`${base}/api/health`)).ok;
    }, 30_000);
  } catch (e) {
    cleanup();
    fail(e.message);
  }

  const api = async (method, path, body) => {
    const init = { method, headers: { Accept: 'application/json' } };
    if (body !== undefined) {
      init.headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    const r = await fetch(base + path, init);
    const text = await r.text();
    if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${text.slice(0, 400)}`);
    return JSON.parse(text);
  };

  const profile = mkdtempSync(join(tmpdir(), `alphalab-${suite}-chromium-`));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    acceptDownloads: true,
    viewport: { width: 1280, height: 900 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const page = context.pages()[0] ?? (await context.newPage());
  page.setDefaultTimeout(20_000);
  const consoleErrors = [];
  page.on('pageerror', (e) => consoleErrors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) consoleErrors.push(m.text());
  });

  const results = [];
  /** Full-page screenshots at 1280 and 420 px (the viewport is put back to 1280). */
  const shots = async (name) => {
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.waitForTimeout(150);
    await page.screenshot({ path: join(OUT, `${name}-1280.png`), fullPage: true });
    await page.setViewportSize({ width: 420, height: 900 });
    await page.waitForTimeout(250);
    await page.screenshot({ path: join(OUT, `${name}-420.png`), fullPage: true });
    await page.setViewportSize({ width: 1280, height: 900 });
  };
  const test = async (name, fn) => {
    const t0 = Date.now();
    try {
      await fn();
      results.push({ name, ok: true });
      log(`PASS ${name} (${((Date.now() - t0) / 1000).toFixed(1)}s)`);
    } catch (e) {
      results.push({ name, ok: false, error: e });
      log(`FAIL ${name}: ${e.message}`);
      await page.screenshot({ path: join(OUT, `FAILED-${name.replace(/\W+/g, '_').slice(0, 60)}.png`), fullPage: true }).catch(() => {});
    }
  };
  const finish = async () => {
    await test('no uncaught errors in the browser console', async () => expect(consoleErrors.length === 0, consoleErrors.slice(0, 5).join(' | ')));
    await context.close();
    rmSync(profile, { recursive: true, force: true });
    cleanup();
    const passed = results.filter((r) => r.ok).length;
    const failed = results.length - passed;
    for (const r of results.filter((x) => !x.ok)) console.log(`  FAILED: ${r.name}\n    ${r.error?.stack?.split('\n').slice(0, 3).join('\n    ')}`);
    log(`screenshots in ${OUT}`);
    console.log(`${passed} passed, ${failed} failed`);
    process.exit(failed === 0 ? 0 : 1);
  };
  return { base, ws, OUT, page, api, test, shots, finish, log, bin };
}
