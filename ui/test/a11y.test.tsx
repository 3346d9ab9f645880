// Keyboard and screen-reader behaviour: page titles, focus on navigation, the compare drawer as a
// modal dialog (focus trapped, Escape closes), Actions tabs with arrow keys, the theme toggle.
import { describe, expect, it } from 'vitest';
import { act, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { createMemoryRouter, RouterProvider } from 'react-router-dom';
import { Layout } from '../src/components/Layout';
import { CompareDrawer } from '../src/components/CompareDrawer';
import { ActionsPage } from '../src/pages/Actions';
import { pageTitle } from '../src/lib/pageTitle';
import { applyTheme, loadTheme, nextTheme } from '../src/lib/theme';
import { MockServer } from './mockServer';
import { renderRoute } from './render';
import { BUILTIN_TYPES, registryRow } from './fixtures';

describe('page titles', () => {
  it('names each route', () => {
    expect(pageTitle('/')).toBe('Dashboard · alphalab');
    expect(pageTitle('/jobs')).toBe('Jobs · alphalab');
    expect(pageTitle('/jobs/job_1')).toBe('Job job_1 · alphalab');
    expect(pageTitle('/runs/run_a%2Fb')).toBe('Run run_a/b · alphalab');
    expect(pageTitle('/backtests/bt_1')).toBe('Backtest bt_1 · alphalab');
    expect(pageTitle('/registry')).toBe('Registry · alphalab');
    expect(pageTitle('/nope')).toBe('Not found · alphalab');
  });
});

describe('Layout', () => {
  it('sets the title and moves the focus to the main heading after a navigation', async () => {
    new MockServer().on('GET', '/api/session', { body: { auth: 'none', insecure: false, authenticated: true, principal: null } }).install();
    const router = createMemoryRouter(
      [{ path: '/', element: <Layout />, children: [{ path: 'a', element: <h1>Page A</h1> }, { path: 'b', element: <h1>Page B</h1> }, { path: 'jobs', element: <h1>Jobs</h1> }] }],
      { initialEntries: ['/a'] },
    );
    render(
      <QueryClientProvider client={new QueryClient()}>
        <RouterProvider router={router} />
      </QueryClientProvider>,
    );
    await screen.findByText('Page A');
    expect(document.activeElement).not.toBe(screen.getByText('Page A')); // not on the first load
    await act(() => router.navigate('/jobs'));
    await waitFor(() => expect(document.activeElement).toBe(screen.getByRole('heading', { name: 'Jobs' })));
    expect(document.title).toBe('Jobs · alphalab');
  });

  it('the theme toggle cycles system -> dark -> light and keeps the choice', async () => {
    applyTheme('system');
    new MockServer().on('GET', '/api/session', { body: { auth: 'none', insecure: false, authenticated: true, principal: null } }).install();
    const router = createMemoryRouter([{ path: '/', element: <Layout />, children: [] }], { initialEntries: ['/'] });
    render(
      <QueryClientProvider client={new QueryClient()}>
        <RouterProvider router={router} />
      </QueryClientProvider>,
    );
    const toggle = screen.getByTestId('theme-toggle');
    expect(document.documentElement.getAttribute('data-theme')).toBeNull();
    fireEvent.click(toggle);
    expect(document.documentElement.getAttribute('data-theme')).toBe('dark');
    expect(loadTheme()).toBe('dark');
    fireEvent.click(toggle);
    expect(document.documentElement.getAttribute('data-theme')).toBe('light');
    fireEvent.click(toggle);
    expect(document.documentElement.getAttribute('data-theme')).toBeNull();
    expect(loadTheme()).toBe('system');
    expect(nextTheme('light')).toBe('system');
  });
});

describe('CompareDrawer', () => {
  it('is a modal dialog: focus inside, Tab wraps, Escape closes', () => {
    let closed = 0;
    const rows = [registryRow({ ticker: 'SPX', run_id: 'run_a' }), registryRow({ ticker: 'SPX', run_id: 'run_b' })];
    render(
      <>
        <button type="button">outside</button>
        <CompareDrawerInRouter rows={rows} onClose={() => (closed += 1)} />
      </>,
    );
    const dialog = screen.getByRole('dialog', { name: 'Compare models' });
    expect(dialog.getAttribute('aria-modal')).toBe('true');
    expect(document.activeElement).toBe(dialog);
    const focusable = [...dialog.querySelectorAll<HTMLElement>('a[href], button:not([disabled])')];
    focusable.at(-1)!.focus();
    fireEvent.keyDown(dialog, { key: 'Tab' });
    expect(document.activeElement).toBe(focusable[0]);
    fireEvent.keyDown(dialog, { key: 'Tab', shiftKey: true });
    expect(document.activeElement).toBe(focusable.at(-1));
    fireEvent.keyDown(dialog, { key: 'Escape' });
    expect(closed).toBe(1);
  });
});

function CompareDrawerInRouter(props: { rows: ReturnType<typeof registryRow>[]; onClose: () => void }) {
  const router = createMemoryRouter([{ path: '/', element: <CompareDrawer rows={props.rows} onClose={props.onClose} onRemove={() => {}} /> }]);
  return <RouterProvider router={router} />;
}

describe('Actions tabs', () => {
  it('move with the arrow keys, Home and End; only the selected tab is in the Tab order', async () => {
    new MockServer().on('GET', '/api/job-types', { body: { job_types: BUILTIN_TYPES } }).install();
    const { router } = renderRoute(<ActionsPage />, '/actions', '/actions?type=train');
    const train = screen.getByRole('tab', { name: 'Train' });
    expect(train.tabIndex).toBe(0);
    expect(screen.getByRole('tab', { name: 'Backtest' }).tabIndex).toBe(-1);
    fireEvent.keyDown(train, { key: 'ArrowRight' });
    await waitFor(() => expect(screen.getByRole('tab', { name: 'Backtest' }).getAttribute('aria-selected')).toBe('true'));
    expect(new URLSearchParams(router.state.location.search).get('type')).toBe('backtest');
    fireEvent.keyDown(screen.getByRole('tab', { name: 'Backtest' }), { key: 'End' });
    await waitFor(() => expect(screen.getByRole('tab', { name: 'Eval Metrics' }).getAttribute('aria-selected')).toBe('true'));
    fireEvent.keyDown(screen.getByRole('tab', { name: 'Eval Metrics' }), { key: 'ArrowRight' }); // wraps
    await waitFor(() => expect(screen.getByRole('tab', { name: 'Train' }).getAttribute('aria-selected')).toBe('true'));
    expect(screen.getByRole('tabpanel').getAttribute('aria-labelledby')).toBe('tab-train');
  });
});
