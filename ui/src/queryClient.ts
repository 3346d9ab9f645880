import { MutationCache, QueryCache, QueryClient } from '@tanstack/react-query';
import { toastError } from './lib/errors';
import { shouldRetry } from './lib/retry';

/** The app's QueryClient (App.tsx holds one; tests make their own with the same rules). */
export function makeQueryClient(): QueryClient {
  return new QueryClient({
    // Every failed query shows its ApiError once in a toast (identical toasts are merged).
    queryCache: new QueryCache({ onError: (e) => toastError(e) }),
    mutationCache: new MutationCache({}),
    // A 4xx is never retried (its error page shows at once); network errors and 5xx a little.
    defaultOptions: { queries: { retry: shouldRetry, refetchOnWindowFocus: false, staleTime: 2000 } },
  });
}
