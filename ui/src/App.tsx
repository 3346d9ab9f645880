import { Component, lazy, Suspense, useEffect, type ComponentType, type ReactNode } from 'react';
import { QueryClientProvider } from '@tanstack/react-query';
import { createBrowserRouter, Link, RouterProvider, type RouteObject } from 'react-router-dom';
import { Layout } from './components/Layout';
import { ErrorState, Loading } from './components/States';
import { makeQueryClient } from './queryClient';

// One chunk per page, loaded when its route is first opened: a first load parses the shell and
// that page only (ui/e2e/bench_opt_detail.mjs, docs/benchmarks.md).
const pageLoaders: Array<() => Promise<ComponentType>> = [];
function page(load: () => Promise<ComponentType>) {
  pageLoaders.push(load);
  const Page = lazy(async () => ({ default: await load() }));
  return (
    <ChunkBoundary>
      <Suspense fallback={<Loading what="Loading page" />}>
        <Page />
      </Suspense>
    </ChunkBoundary>
  );
}

// A page chunk that could not be fetched (the server went away before it was prefetched) is an
// error inside the layout, so the navigation and the unreachable banner stay; a browser keeps a
// failed module import, so trying again means reloading the document.
class ChunkBoundary extends Component<{ children: ReactNode }, { error: unknown }> {
  override state = { error: null as unknown };
  static getDerivedStateFromError(error: unknown) {
    return { error };
  }
  override render() {
    if (this.state.error === null) return this.props.children;
    return (
      <div className="page">
        <ErrorState error={this.state.error} onRetry={() => window.location.reload()} />
      </div>
    );
  }
}

function NotFound() {
  return (
    <div className="page">
      <h1>Not found</h1>
      <p>
        No page here. <Link to="/">Back to the dashboard</Link>.
      </p>
    </div>
  );
}

export const routes: RouteObject[] = [
  {
    path: '/',
    element: <Layout />,
    children: [
      { index: true, element: page(() => import('./pages/Dashboard').then((m) => m.DashboardPage)) },
      { path: 'jobs', element: page(() => import('./pages/Jobs').then((m) => m.JobsPage)) },
      { path: 'jobs/:jobId', element: page(() => import('./pages/JobDetail').then((m) => m.JobDetailPage)) },
      { path: 'registry', element: page(() => import('./pages/Registry').then((m) => m.RegistryPage)) },
      { path: 'runs', element: page(() => import('./pages/Runs').then((m) => m.RunsPage)) },
      { path: 'runs/:runId', element: page(() => import('./pages/RunDetail').then((m) => m.RunDetailPage)) },
      { path: 'backtests', element: page(() => import('./pages/Backtests').then((m) => m.BacktestsPage)) },
      { path: 'backtests/:btRunId', element: page(() => import('./pages/BacktestDetail').then((m) => m.BacktestDetailPage)) },
      { path: 'optimizations', element: page(() => import('./pages/Optimizations').then((m) => m.OptimizationsPage)) },
      { path: 'optimizations/:optId', element: page(() => import('./pages/OptimizationDetail').then((m) => m.OptimizationDetailPage)) },
      { path: 'actions', element: page(() => import('./pages/Actions').then((m) => m.ActionsPage)) },
      { path: 'rdagent', element: page(() => import('./pages/Rdagent').then((m) => m.RdagentPage)) },
      { path: 'configs', element: page(() => import('./pages/Configs').then((m) => m.ConfigsPage)) },
      { path: 'datasets', element: page(() => import('./pages/Datasets').then((m) => m.DatasetsPage)) },
      { path: '*', element: <NotFound /> },
    ],
  },
];

const router = createBrowserRouter(routes);
const queryClient = makeQueryClient();

// The other pages' chunks are fetched right after the first render (small, parsed off the main
// thread), so a later navigation needs no server: an unreachable server shows its banner on
// every page, not a page that cannot load.
function usePrefetchPages() {
  useEffect(() => {
    const t = setTimeout(() => pageLoaders.forEach((load) => void load().catch(() => undefined)), 0);
    return () => clearTimeout(t);
  }, []);
}

export function App() {
  usePrefetchPages();
  return (
    <QueryClientProvider client={queryClient}>
      <RouterProvider router={router} />
    </QueryClientProvider>
  );
}
