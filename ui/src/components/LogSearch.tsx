// Search over the whole job log on the server (GET /api/jobs/{id}/log/search), not only the part
// the viewer holds: matching lines with their byte offsets, "More" continues from next_offset.
import { useState } from 'react';
import { api, fetchWholeLog, type JobLogSearch } from '../api/client';
import { toastError } from '../lib/errors';

export function LogSearch({ jobId }: { jobId: string }) {
  const [q, setQ] = useState('');
  const [result, setResult] = useState<{ q: string; matches: JobLogSearch['matches']; next: number; complete: boolean } | null>(null);
  const [busy, setBusy] = useState(false);
  const run = async (text: string, offset: number) => {
    setBusy(true);
    try {
      const r = await api.jobLogSearch(jobId, text, offset);
      setResult((old) => ({ q: text, matches: offset === 0 || !old ? r.matches : [...old.matches, ...r.matches], next: r.next_offset, complete: r.complete }));
    } catch (e) {
      toastError(e, 'Log search failed');
    } finally {
      setBusy(false);
    }
  };
  return (
    <section className="panel log-search" aria-label="Whole-log search">
      <form
        className="row"
        onSubmit={(e) => {
          e.preventDefault();
          if (q.trim()) void run(q.trim(), 0);
        }}
      >
        <label>
          Search the whole log (on the server)
          <input type="search" value={q} onChange={(e) => setQ(e.target.value)} maxLength={200} aria-label="Search the whole log" />
        </label>
        <button type="submit" className="btn" disabled={busy || !q.trim()}>
          {busy ? 'Searching…' : 'Search'}
        </button>
        <DownloadLog jobId={jobId} />
      </form>
      {result && (
        <div data-testid="log-search-results">
          <p className="muted small">
            {result.matches.length === 0 ? `No line contains “${result.q}”` : `${result.matches.length} line(s) contain “${result.q}”`}
            {result.complete ? ' (whole log searched).' : ' so far.'}
          </p>
          {result.matches.length > 0 && (
            <ol className="log-search-list mono small">
              {result.matches.map((m) => (
                <li key={m.offset}>
                  <span className="muted">@{m.offset.toLocaleString('en-US')}</span> {m.line}
                </li>
              ))}
            </ol>
          )}
          {!result.complete && (
            <button type="button" className="btn btn-small" disabled={busy} onClick={() => void run(result.q, result.next)}>
              More
            </button>
          )}
        </div>
      )}
    </section>
  );
}

/** Saves the whole log as <job_id>.log (read by offset, all of it, not only what is on screen). */
export function DownloadLog({ jobId }: { jobId: string }) {
  const [busy, setBusy] = useState(false);
  return (
    <button
      type="button"
      className="btn"
      disabled={busy}
      onClick={async () => {
        setBusy(true);
        try {
          const text = await fetchWholeLog(jobId);
          const url = URL.createObjectURL(new Blob([text], { type: 'text/plain;charset=utf-8' }));
          const a = document.createElement('a');
          a.href = url;
          a.download = `${jobId}.log`;
          document.body.appendChild(a);
          a.click();
          a.remove();
          setTimeout(() => URL.revokeObjectURL(url), 10_000);
        } catch (e) {
          toastError(e, 'Log download failed');
        } finally {
          setBusy(false);
        }
      }}
    >
      {busy ? 'Downloading…' : 'Download log'}
    </button>
  );
}
