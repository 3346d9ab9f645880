import { useState } from 'react';
import { NavLink, Outlet, useLocation } from 'react-router-dom';
import { SessionBar } from './SessionBar';
import { SignInDialog } from './SignIn';
import { ToastHost } from './ToastHost';
import { JobWatcher } from './JobWatcher';
import { ServerBanner } from './ServerBanner';

const NAV = [
  { to: '/', label: 'Dashboard', end: true },
  { to: '/jobs', label: 'Jobs' },
  { to: '/registry', label: 'Registry' },
  { to: '/runs', label: 'Runs' },
  { to: '/backtests', label: 'Backtests' },
  { to: '/actions', label: 'Actions' },
];

export function Layout() {
  const [open, setOpen] = useState(false);
  const location = useLocation();
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
