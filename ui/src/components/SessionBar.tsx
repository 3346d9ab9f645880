// What GET /api/session says, on every page: a persistent warning when the server listens on a
// network address without auth (--insecure), and who is signed in (with Sign out) in token mode.
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { api } from '../api/client';

export function SessionBar() {
  const qc = useQueryClient();
  const session = useQuery({ queryKey: ['session'], queryFn: ({ signal }) => api.session(signal), staleTime: 60_000 });
  const s = session.data;
  if (!s) return null;
  return (
    <>
      {s.insecure && (
        <div className="insecure-banner" role="alert" data-testid="insecure-banner">
          This server runs without authentication on a network address (--insecure): anyone who can reach it can run
          jobs. Set <code>auth: {'{mode: token}'}</code> in alphalab.yaml.
        </div>
      )}
      {s.auth === 'token' && s.principal && (
        <div className="session-user" data-testid="session-user">
          {s.principal.name} ({s.principal.role}){' '}
          <button
            type="button"
            className="link-button"
            onClick={async () => {
              await api.signOut().catch(() => undefined);
              await qc.invalidateQueries();
            }}
          >
            Sign out
          </button>
        </div>
      )}
    </>
  );
}
