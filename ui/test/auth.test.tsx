import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { render, screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { api } from '../src/api/client';
import { SessionBar } from '../src/components/SessionBar';
import { SignInDialog } from '../src/components/SignIn';
import { signInRequired } from '../src/lib/auth';
import { MockServer } from './mockServer';

const unauthenticated = { status: 401, body: { error: { code: 'UNAUTHENTICATED', message: 'authentication required', details: null } } };
const page = { items: [], total: 0, limit: 100, offset: 0 };
const created = { principal: { name: 'alice', role: 'user', token_id: 'tok_1' }, expires_at: '2026-12-02T20:00:00.000Z' };

function withQuery(node: React.ReactNode) {
  const qc = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  return render(<QueryClientProvider client={qc}>{node}</QueryClientProvider>);
}

describe('sign-in (auth.mode token)', () => {
  it('a 401 shows the dialog; signing in posts the token to /api/session and the request is sent again', async () => {
    const s = new MockServer()
      .on('GET', '/api/jobs/recent', unauthenticated, { body: page })
      .on('POST', '/api/session', { status: 401, body: { error: { code: 'UNAUTHENTICATED', message: 'invalid token', details: null } } }, { body: created })
      .install();
    withQuery(<SignInDialog />);
    const pending = api.recentJobs();
    await screen.findByTestId('signin-dialog');
    expect(signInRequired()).toBe(true);
    const user = userEvent.setup();
    await user.type(screen.getByTestId('signin-token'), 'alk_wrong');
    await user.click(screen.getByRole('button', { name: 'Sign in' }));
    expect((await screen.findByTestId('signin-error')).textContent).toContain('invalid token');
    await user.clear(screen.getByTestId('signin-token'));
    await user.type(screen.getByTestId('signin-token'), 'alk_right');
    await user.click(screen.getByRole('button', { name: 'Sign in' }));
    await expect(pending).resolves.toEqual(page);
    expect(s.callsTo('/api/session').map((c) => c.body)).toEqual([{ token: 'alk_wrong' }, { token: 'alk_right' }]);
    expect(s.callsTo('/api/jobs/recent')).toHaveLength(2);
    await waitFor(() => expect(screen.queryByTestId('signin-dialog')).toBeNull());
    expect(signInRequired()).toBe(false);
  });

  it('after signing in, the session bar names the user (GET /api/session asked again)', async () => {
    const s = new MockServer()
      .on('GET', '/api/session', { body: { auth: 'token', insecure: false, authenticated: false, principal: null } },
        { body: { auth: 'token', insecure: false, authenticated: true, principal: created.principal } })
      .on('GET', '/api/jobs/recent', unauthenticated, { body: page })
      .on('POST', '/api/session', { body: created })
      .install();
    withQuery(<><SessionBar /><SignInDialog /></>);
    await waitFor(() => expect(s.callsTo('/api/session')).toHaveLength(1));
    expect(screen.queryByTestId('session-user')).toBeNull();
    const pending = api.recentJobs();
    const user = userEvent.setup();
    await user.type(await screen.findByTestId('signin-token'), 'alk_right');
    await user.click(screen.getByRole('button', { name: 'Sign in' }));
    await expect(pending).resolves.toEqual(page);
    expect((await screen.findByTestId('session-user')).textContent).toContain('alice (user)');
  });

  it('shows the --insecure warning and nothing else with auth none', async () => {
    new MockServer().on('GET', '/api/session', { body: { auth: 'none', insecure: true, authenticated: false, principal: null } }).install();
    withQuery(<SessionBar />);
    expect((await screen.findByTestId('insecure-banner')).textContent).toContain('without authentication');
    expect(screen.queryByTestId('session-user')).toBeNull();
  });

  it('names the signed-in user in token mode, no warning', async () => {
    new MockServer().on('GET', '/api/session', { body: { auth: 'token', insecure: false, authenticated: true, principal: created.principal } }).install();
    withQuery(<SessionBar />);
    expect((await screen.findByTestId('session-user')).textContent).toContain('alice (user)');
    expect(screen.queryByTestId('insecure-banner')).toBeNull();
  });
});
