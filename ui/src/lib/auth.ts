// Sign-in state of the UI when the server runs with auth.mode token (docs/security.md). The
// API client calls `waitForSignIn()` when a request answers 401: the sign-in dialog
// (components/SignIn.tsx) appears, POSTs the token to /api/session (the server answers with an
// HttpOnly session cookie), calls `signedIn()`, and every waiting request is sent again.
// With auth none no request answers 401 and nothing here ever shows.
import { useSyncExternalStore } from 'react';

let required = false;
let waiters: Array<() => void> = [];
const listeners = new Set<() => void>();

function notify(): void {
  for (const l of listeners) l();
}

/** Shows the sign-in dialog; resolves once the user has signed in. */
export function waitForSignIn(): Promise<void> {
  return new Promise((resolve) => {
    waiters.push(resolve);
    if (!required) {
      required = true;
      notify();
    }
  });
}

/** The session cookie is set: hide the dialog and let the waiting requests retry. */
export function signedIn(): void {
  required = false;
  const w = waiters;
  waiters = [];
  notify();
  for (const resolve of w) resolve();
}

export function signInRequired(): boolean {
  return required;
}

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** True while the sign-in dialog must show. */
export function useSignInRequired(): boolean {
  return useSyncExternalStore(subscribe, signInRequired, signInRequired);
}
