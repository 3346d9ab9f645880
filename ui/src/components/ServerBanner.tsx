// A persistent banner on every page while the server does not answer (lib/connectivity.ts):
// it stays until a request gets a response, probes GET /api/health every PROBE_MS itself,
// and has "Retry now". When the server answers again every query is refetched, so the stale
// data the page kept shows fresh values.
import { useQueryClient } from '@tanstack/react-query';
import { useEffect, useRef, useState, useSyncExternalStore } from 'react';
import { api } from '../api/client';
import { getConnectivity, subscribeConnectivity } from '../lib/connectivity';

export const PROBE_MS = 5000;

function clock(ms: number): string {
  const d = new Date(ms);
  return [d.getHours(), d.getMinutes(), d.getSeconds()].map((n) => String(n).padStart(2, '0')).join(':');
}

export function ServerBanner({ probeMs = PROBE_MS }: { probeMs?: number }) {
  const conn = useSyncExternalStore(subscribeConnectivity, getConnectivity, getConnectivity);
  const qc = useQueryClient();
  const [probing, setProbing] = useState(false);
  const wasDown = useRef(false);

  const probe = async () => {
    setProbing(true);
    try {
      await api.health();
    } catch {
      /* still unreachable: the store says so */
    } finally {
      setProbing(false);
    }
  };

  useEffect(() => {
    if (conn.reachable) {
      if (wasDown.current) void qc.invalidateQueries();
      wasDown.current = false;
      return;
    }
    wasDown.current = true;
    const t = setInterval(() => void probe(), probeMs);
    return () => clearInterval(t);
  }, [conn.reachable, probeMs, qc]);

  if (conn.reachable) return null;
  return (
    <div className="server-banner" role="alert" data-testid="server-banner">
      <span>
        <strong>Cannot reach the alphalab server</strong> since {clock(conn.since ?? Date.now())}. What this page shows may be out of
        date; retrying every {Math.round(probeMs / 1000)} s.
      </span>
      <button type="button" className="btn" onClick={() => void probe()} disabled={probing}>
        {probing ? 'Retrying…' : 'Retry now'}
      </button>
    </div>
  );
}
