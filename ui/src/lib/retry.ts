// When TanStack Query retries a failed query. A 4xx is the server's final word (a missing
// job, run or backtest, a refused parameter, a file too large to show): never retried, so
// the page shows its error at once. A network failure or a 5xx may be passing: retried up
// to MAX_RETRIES times (TanStack's back-off, 1 s then 2 s). Anything else (a response that
// does not match the OpenAPI document, a bug) is not retried either.
import { isApiError } from '../api/client';

export const MAX_RETRIES = 2;

/** True when `error` may go away by asking again: network errors and 5xx responses. */
export function isTransient(error: unknown): boolean {
  if (!isApiError(error)) return false;
  if (error.code === 'network_error') return true;
  return error.status >= 500 && error.status <= 599;
}

/** TanStack Query's `retry` option: (failures so far, error) -> retry once more? */
export function shouldRetry(failureCount: number, error: unknown): boolean {
  return failureCount < MAX_RETRIES && isTransient(error);
}
