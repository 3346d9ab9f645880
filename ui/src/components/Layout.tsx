import { useEffect, useRef, useState } from 'react';
import { NavLink, Outlet, useLocation } from 'react-router-dom';
import { SessionBar } from './SessionBar';
import { SignInDialog } from './SignIn';
import { ToastHost } from './ToastHost';
import { JobWatcher } from './JobWatcher';
import { ServerBanner } from './ServerBanner';
import { pageTitle } from '../lib/pageTitle';
import { applyTheme, loadTheme, nextTheme, type ThemeChoice } from '../lib/theme';

const NAV = [
  { to: '/', label: 'Dashboard', end: true },
  { to: '/jobs', label: 'Jobs' },
  { to: '/registry', label: 'Registry' },
  { to: '/runs', label: 'Runs' },
  { to: '/backtests', label: 'Backtests' },
  { to: '/optimizations', label: 'Optimizations' },
  { to: '/actions', label: 'Actions' },
  { to: '/rdagent', label: 'RD-Agent' },
  { to: '/configs', label: 'Configs' },
  { to: '/datasets', label: 'Datasets' },
];

export function Layout() {
  const [open, setOpen] = useState(false);
  const location = useLocation();
  const [theme, setTheme] = useState<ThemeChoice>(loadTheme);
  useEffect(() => applyTheme(theme), [theme]);
  // Each route has its own title; after a navigation (not the first load) the focus goes to the
  // page's main heading, so a screen reader announces the new page.
  const first = useRef(true);
  useEffect(() => {
    document.title = pageTitle(location.pathname);
    if (first.current) {
      first.current = false;
      return;
    }
    let tries = 0;
    const focusHeading = () => {
      const h = document.querySelector<HTMLElement>('main h1');
      if (h) {
        if (!h.hasAttribute('tabindex')) h.setAttribute('tabindex', '-1');
        h.focus({ preventScroll: false });
      } else if (tries++ < 20) setTimeout(focusHeading, 50);
    };
    focusHeading();
  }, [location.pathname]);
  return (
    <div className="app">
      <header className="topbar">
        <NavLink to="/" className="brand">
          alphalab
        </NavLink>
        <span className="nav-current" data-testid="nav-current">
          {NAV.find((n) => (n.end ? location.pathname === n.to : location.pathname.startsWith(n.to)))?.label ?? ''}
        </span>
        <button type="button" className="nav-toggle" aria-label="Menu" aria-expanded={open} onClick={() => setOpen((o) => !o)}>
          ☰
        </button>
        <nav className={`nav${open ? ' open' : ''}`} aria-label="Main">
          {NAV.map((n) => (
            <NavLink key={n.to} to={n.to} end={n.end === true} className={({ isActive }) => (isActive ? 'active' : '')} onClick={() => setOpen(false)}>
              {n.label}
            </NavLink>
          ))}
        </nav>
        <button
          type="button"
          className="btn btn-small theme-toggle"
          onClick={() => setTheme(nextTheme(theme))}
          aria-label={`Colour theme: ${theme} (change)`}
          title="Colour theme: system → dark → light"
          data-testid="theme-toggle"
        >
          {theme === 'system' ? '◐ system' : theme === 'dark' ? '☾ dark' : '☀ light'}
        </button>
      </header>
      <ServerBanner />
      <SessionBar />
      <main className="content" key={location.pathname.split('/')[1]}>
        <Outlet />
      </main>
      <ToastHost />
      <JobWatcher />
      <SignInDialog />
    </div>
  );
}
