// An unreachable server is said on every page, persistently, with a retry; when it answers
// again the banner goes and the page's data is fetched again.
import { describe, expect, it } from 'vitest';
import { fireEvent, render, screen, waitFor } from '@testing-library/react';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { createMemoryRouter, RouterProvider } from 'react-router-dom';
import { configureClient } from '../src/api/client';
import { Layout } from '../src/components/Layout';
import { ServerBanner } from '../src/components/ServerBanner';
import { getConnectivity, reportReachable, reportUnreachable } from '../src/lib/connectivity';
import { JobsPage } from '../src/pages/Jobs';
import { job } from './fixtures';

describe('connectivity store', () => {
  it('a network failure marks the server unreachable from its first failure; any response clears it', () => {
    reportReachable();
    reportUnreachable('Cannot reach (refused)', 1000);
    reportUnreachable('Cannot reach (timeout)', 5000);
    expect(getConnectivity()).toEqual({ reachable: false, since: 1000, message: 'Cannot reach (timeout)' });
    reportReachable();
    expect(getConnectivity()).toEqual({ reachable: true, since: null, message: '' });
  });
});

const health = { status: 'ok', version: 't', executor_slots: 1, time: '2026-01-01T00:00:00Z', uptime_sec: 1 };

/** A server that can be switched off: fetch throws like a refused connection while down. */
function switchableServer() {
  const state = { down: true, calls: [] as string[] };
  configureClient({
    baseUrl: '',
    fetch: async (input) => {
      const url = new URL(String(input), 'http://test.local');
      state.calls.push(url.pathname);
      if (state.down) throw new TypeError('Failed to fetch');
      const body =
        url.pathname === '/api/health' ? health
        : url.pathname === '/api/session' ? { auth: 'none', insecure: false, authenticated: true, principal: null }
        : url.pathname === '/api/jobs/recent' ? { items: [job({ job_id: 'job_back' })], total: 1, limit: 100, offset: 0 }
        : url.pathname === '/api/job-types' ? { job_types: [] }
        : null;
      if (body === null) return new Response(JSON.stringify({ error: { code: 'NOT_FOUND', message: url.pathname, details: null } }), { status: 404 });
      return new Response(JSON.stringify(body), { status: 200, headers: { 'Content-Type': 'application/json' } });
    },
  });
  return state;
}

describe('ServerBanner', () => {
  it('stays on the page while the server is down; Retry now probes /api/health; the page refetches when it answers', async () => {
    reportReachable();
    const server = switchableServer();
    const router = createMemoryRouter([{ path: '/', element: <Layout />, children: [{ path: 'jobs', element: <JobsPage /> }] }], { initialEntries: ['/jobs'] });
    render(
      <QueryClientProvider client={new QueryClient({ defaultOptions: { queries: { retry: false } } })}>
        <RouterProvider router={router} />
      </QueryClientProvider>,
    );
    const banner = await screen.findByTestId('server-banner');
    expect(banner.textContent).toMatch(/Cannot reach the alphalab server since \d\d:\d\d:\d\d/);
    expect(banner.getAttribute('role')).toBe('alert');
    // Still there a while later (not a toast that times out).
    await new Promise((r) => setTimeout(r, 300));
    expect(screen.getByTestId('server-banner')).toBeTruthy();

    // Retry while still down: asks /api/health, the banner stays.
    const before = server.calls.filter((p) => p === '/api/health').length;
    fireEvent.click(screen.getByRole('button', { name: 'Retry now' }));
    await waitFor(() => expect(server.calls.filter((p) => p === '/api/health').length).toBe(before + 1));
    await screen.findByRole('button', { name: 'Retry now' });
    expect(screen.getByTestId('server-banner')).toBeTruthy();

    // The server is back: Retry clears the banner and the jobs page loads its data.
    server.down = false;
    fireEvent.click(screen.getByRole('button', { name: 'Retry now' }));
    await waitFor(() => expect(screen.queryByTestId('server-banner')).toBeNull());
    await screen.findByText('job_back');
  });

  it('probes by itself while down and goes away once the server answers', async () => {
    reportReachable();
    const server = switchableServer();
    reportUnreachable('Cannot reach the alphalab server (Failed to fetch)');
    render(
      <QueryClientProvider client={new QueryClient()}>
        <ServerBanner probeMs={50} />
      </QueryClientProvider>,
    );
    expect(screen.getByTestId('server-banner')).toBeTruthy();
    await waitFor(() => expect(server.calls.filter((p) => p === '/api/health').length).toBeGreaterThanOrEqual(2));
    expect(screen.getByTestId('server-banner')).toBeTruthy();
    server.down = false;
    await waitFor(() => expect(screen.queryByTestId('server-banner')).toBeNull());
  });
});
