import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { render } from '@testing-library/react';
import type { ReactElement } from 'react';
import { createMemoryRouter, RouterProvider } from 'react-router-dom';
import { ToastHost } from '../src/components/ToastHost';

/** Renders `element` at `path` (a route pattern) with the URL `url`, plus the toast host.
 *  `qc` defaults to a client that never retries. */
export function renderRoute(element: ReactElement, path: string, url: string, qc = new QueryClient({ defaultOptions: { queries: { retry: false } } })) {
  const router = createMemoryRouter(
    [
      {
        path: '/',
        element: <ToastHost />,
        children: [],
      },
      { path, element: <>{element}<ToastHost /></> },
      { path: '*', element: <div data-testid="elsewhere">elsewhere</div> },
    ],
    { initialEntries: [url] },
  );
  const utils = render(
    <QueryClientProvider client={qc}>
      <RouterProvider router={router} />
    </QueryClientProvider>,
  );
  return { ...utils, router, qc };
}
