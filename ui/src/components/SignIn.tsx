// The sign-in dialog (auth.mode token): shown while a request waits for a session (lib/auth.ts).
// The token is sent once to POST /api/session and never kept by the page: the server answers
// with an HttpOnly cookie that every later request, EventSource and download carries.
import { useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { api, isApiError } from '../api/client';
import { signedIn, useSignInRequired } from '../lib/auth';

export function SignInDialog() {
  const required = useSignInRequired();
  const qc = useQueryClient();
  const [token, setToken] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  if (!required) return null;

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await api.signIn(token.trim());
      setToken('');
      signedIn();
      await qc.invalidateQueries({ queryKey: ['session'] });  // who is signed in now
    } catch (err) {
      setError(isApiError(err) ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="signin-backdrop" role="dialog" aria-modal="true" aria-labelledby="signin-title" data-testid="signin-dialog">
      <form className="signin" onSubmit={submit}>
        <h2 id="signin-title">Sign in to alphalab</h2>
        <p>
          This server needs an API token. Ask an admin for one (<code>alphalab token create --name YOU</code>) and paste it
          here; the browser keeps a session cookie, not the token.
        </p>
        <label>
          Token
          <input
            type="password"
            name="token"
            autoComplete="off"
            autoFocus
            placeholder="alk_..."
            value={token}
            onChange={(e) => setToken(e.target.value)}
            data-testid="signin-token"
          />
        </label>
        {error && (
          <p className="signin-error" role="alert" data-testid="signin-error">
            {error}
          </p>
        )}
        <button type="submit" disabled={busy || token.trim() === ''}>
          Sign in
        </button>
      </form>
    </div>
  );
}
