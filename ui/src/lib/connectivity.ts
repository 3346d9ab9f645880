// Whether the alphalab server answers. The fetch layer (api/client.ts) reports every request:
// a network failure (no HTTP response at all) marks the server unreachable, any HTTP response
// (even an error status) marks it reachable again. The Layout's ServerBanner shows the state
// on every page until the server answers, so stale data on screen is never mistaken for live.
type Listener = () => void;

export interface Connectivity {
  /** false while the last request got no HTTP response */
  reachable: boolean;
  /** when the server first stopped answering (ms since epoch), null while reachable */
  since: number | null;
  /** the last network error's message, '' while reachable */
  message: string;
}

const REACHABLE: Connectivity = { reachable: true, since: null, message: '' };
let state: Connectivity = REACHABLE;
const listeners = new Set<Listener>();

function emit(): void {
  for (const l of listeners) l();
}

/** A request got no response (connection refused, DNS, offline). */
export function reportUnreachable(message: string, now: number = Date.now()): void {
  if (!state.reachable && state.message === message) return;
  state = { reachable: false, since: state.since ?? now, message };
  emit();
}

/** A request got an HTTP response. */
export function reportReachable(): void {
  if (state.reachable) return;
  state = REACHABLE;
  emit();
}

export function getConnectivity(): Connectivity {
  return state;
}

export function subscribeConnectivity(l: Listener): () => void {
  listeners.add(l);
  return () => listeners.delete(l);
}
