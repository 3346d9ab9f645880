import { Component, lazy, Suspense, useEffect, type ComponentType, type ReactNode } from 'react';
import { QueryClientProvider } from '@tanstack/react-query';
import { createBrowserRouter, Link, RouterProvider, type RouteObject } from 'react-router-dom';
import { Layout } from './components/Layout';
import { ErrorState, Loading } from './components/States';
import { prefetchOptimizationDetail } from './hooks/useOptimizations';
import { makeQueryClient } from './queryClient';

const queryClient = makeQueryClient();

// One chunk per page, loaded when its route is first opened: a first load parses the shell and
// that page only (ui/e2e/bench_opt_detail.mjs, docs/benchmarks.md).
const pageLoaders: Array<() => Promise<ComponentType>> = [];
function page(load: () => Promise<ComponentType>) {
  pageLoaders.push(load);
  const Page = lazy(async () => ({ default: await withTimeout(load(), CHUNK_TIMEOUT_MS) }));
  return (
    <ChunkBoundary>
      <Suspense fallback={<Loading what="Loading page" />}>
        <Page />
      </Suspense>
    </ChunkBoundary>
  );
}

/** How long a page's chunk may take before the page says it could not be loaded (a server that
 * went away mid-transfer can leave the request hanging, not failing). */
const CHUNK_TIMEOUT_MS = 8000;

class ChunkLoadError extends Error {}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new ChunkLoadError(`the server did not send it within ${ms / 1000} s`)), ms);
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(t);
        reject(new ChunkLoadError(`it could not be fetched (${e instanceof Error ? e.message : String(e)})`));
      },
    );
  });
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
    const { error } = this.state;
    if (error === null) return this.props.children;
    return (
      <div className="page" data-testid="page-load-error">
        {error instanceof ChunkLoadError ? (
          <div className="state state-error" role="alert">
            <strong>This page could not be loaded:</strong> its code comes from the alphalab server on first use, and {error.message}. Check that the server is running.{' '}
            <button type="button" className="btn btn-small" onClick={() => window.location.reload()}>
              Retry
            </button>
          </div>
        ) : (
          <ErrorState error={error} onRetry={() => window.location.reload()} />
        )}
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
      {
        path: 'optimizations/:optId',
        // The page's first requests leave with the navigation, beside its chunk (not after it).
        loader: ({ params, request }) => {
          prefetchOptimizationDetail(queryClient, params['optId'] ?? '', new URL(request.url).searchParams);
          return null;
        },
        element: page(() => import('./pages/OptimizationDetail').then((m) => m.OptimizationDetailPage)),
      },
      { path: 'actions', element: page(() => import('./pages/Actions').then((m) => m.ActionsPage)) },
      { path: 'rdagent', element: page(() => import('./pages/Rdagent').then((m) => m.RdagentPage)) },
      { path: 'configs', element: page(() => import('./pages/Configs').then((m) => m.ConfigsPage)) },
      { path: 'datasets', element: page(() => import('./pages/Datasets').then((m) => m.DatasetsPage)) },
      { path: '*', element: <NotFound /> },
    ],
  },
];

const router = createBrowserRouter(routes);

// The other pages' chunks are fetched once the first page has its data (or after 3 s at most),
// so they do not compete with its requests; a later navigation then needs no server. A page
// whose chunk cannot be fetched shows an error with a retry (ChunkBoundary, CHUNK_TIMEOUT_MS).
function usePrefetchPages() {
  useEffect(() => {
    const start = performance.now();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const tick = () => {
      if (queryClient.isFetching() > 0 && performance.now() - start < 3000) {
        timer = setTimeout(tick, 100);
        return;
      }
      pageLoaders.forEach((load) => void load().catch(() => undefined));
    };
    timer = setTimeout(tick, 100);
    return () => clearTimeout(timer);
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
