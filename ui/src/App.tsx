import { QueryClientProvider } from '@tanstack/react-query';
import { createBrowserRouter, Link, RouterProvider, type RouteObject } from 'react-router-dom';
import { Layout } from './components/Layout';
import { ActionsPage } from './pages/Actions';
import { BacktestDetailPage } from './pages/BacktestDetail';
import { BacktestsPage } from './pages/Backtests';
import { ConfigsPage } from './pages/Configs';
import { DashboardPage } from './pages/Dashboard';
import { DatasetsPage } from './pages/Datasets';
import { JobDetailPage } from './pages/JobDetail';
import { JobsPage } from './pages/Jobs';
import { OptimizationDetailPage } from './pages/OptimizationDetail';
import { OptimizationsPage } from './pages/Optimizations';
import { RdagentPage } from './pages/Rdagent';
import { RegistryPage } from './pages/Registry';
import { RunDetailPage } from './pages/RunDetail';
import { RunsPage } from './pages/Runs';
import { makeQueryClient } from './queryClient';

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
      { index: true, element: <DashboardPage /> },
      { path: 'jobs', element: <JobsPage /> },
      { path: 'jobs/:jobId', element: <JobDetailPage /> },
      { path: 'registry', element: <RegistryPage /> },
      { path: 'runs', element: <RunsPage /> },
      { path: 'runs/:runId', element: <RunDetailPage /> },
      { path: 'backtests', element: <BacktestsPage /> },
      { path: 'backtests/:btRunId', element: <BacktestDetailPage /> },
      { path: 'optimizations', element: <OptimizationsPage /> },
      { path: 'optimizations/:optId', element: <OptimizationDetailPage /> },
      { path: 'actions', element: <ActionsPage /> },
      { path: 'rdagent', element: <RdagentPage /> },
      { path: 'configs', element: <ConfigsPage /> },
      { path: 'datasets', element: <DatasetsPage /> },
      { path: '*', element: <NotFound /> },
    ],
  },
];

const router = createBrowserRouter(routes);
const queryClient = makeQueryClient();

export function App() {
  return (
    <QueryClientProvider client={queryClient}>
      <RouterProvider router={router} />
    </QueryClientProvider>
  );
}
