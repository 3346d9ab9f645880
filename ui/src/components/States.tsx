import type { ReactNode } from 'react';
import { errorText } from '../lib/errors';

export function Loading({ what = 'Loading' }: { what?: string }) {
  return (
    <div className="state state-loading" role="status">
      <span className="spinner" aria-hidden /> {what}…
    </div>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return <div className="state state-empty">{children}</div>;
}

export function ErrorState({ error, onRetry }: { error: unknown; onRetry?: () => void }) {
  return (
    <div className="state state-error" role="alert">
      <strong>Could not load:</strong> {errorText(error)}
      {onRetry && (
        <button type="button" className="btn btn-small" onClick={onRetry}>
          Retry
        </button>
      )}
    </div>
  );
}

/** Renders loading / error / empty / content for one query. */
export function QueryView<T>(props: {
  query: { data: T | undefined; error: unknown; isLoading: boolean; refetch: () => unknown };
  isEmpty?: (d: T) => boolean;
  empty?: ReactNode;
  children: (d: T) => ReactNode;
}) {
  const { query } = props;
  if (query.isLoading) return <Loading />;
  if (query.data === undefined) return <ErrorState error={query.error ?? 'no data'} onRetry={() => void query.refetch()} />;
  if (props.isEmpty?.(query.data)) return <Empty>{props.empty ?? 'Nothing here yet.'}</Empty>;
  return <>{props.children(query.data)}</>;
}
