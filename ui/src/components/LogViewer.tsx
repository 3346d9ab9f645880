import { memo, useDeferredValue, useEffect, useLayoutEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import { fetchWholeLog } from '../api/client';
import { useJobLog } from '../hooks/useJobLog';
import { countMatches, escapeRegExp, INITIAL_TAIL, type LogChunk } from '../lib/logBuffer';
import { fmtBytes } from '../lib/format';
import { CopyButton } from './CopyButton';

const MAX_MARKS_PER_CHUNK = 2000;
const BOTTOM_SLACK_PX = 24;

/** One chunk of log text; memoised so appending a chunk never re-renders the others. */
const LogChunkView = memo(function LogChunkView({ text, query }: { text: string; query: string }) {
  if (!query) return <div className="log-chunk">{text}</div>;
  const re = new RegExp(escapeRegExp(query), 'gi');
  const parts: ReactNode[] = [];
  let last = 0;
  let n = 0;
  for (let m = re.exec(text); m && n < MAX_MARKS_PER_CHUNK; m = re.exec(text)) {
    if (m.index > last) parts.push(text.slice(last, m.index));
    parts.push(<mark key={m.index}>{m[0]}</mark>);
    last = m.index + m[0].length;
    n++;
  }
  parts.push(text.slice(last));
  return <div className="log-chunk">{parts}</div>;
});


function LogLines({ chunks, query }: { chunks: LogChunk[]; query: string }) {
  return (
    <>
      {chunks.map((c) => (
        <LogChunkView key={c.id} text={c.text} query={query} />
      ))}
    </>
  );
}

export function LogViewer({ jobId, finished, pollMs = 1000 }: { jobId: string; finished: boolean; pollMs?: number }) {
  const [paused, setPaused] = useState(false);
  const [autoFollow, setAutoFollow] = useState(true);
  const [query, setQuery] = useState('');
  // Highlighting up to 2 MB of text may take a moment: typing stays responsive meanwhile.
  const deferredQuery = useDeferredValue(query);
  const [current, setCurrent] = useState(0);
  const log = useJobLog(jobId, { finished, paused, intervalMs: pollMs });
  const boxRef = useRef<HTMLDivElement>(null);
  const { buffer, version } = log;

  // Follow the end of the log after every append while auto-follow is on. Chunks off screen
  // skip layout (content-visibility), so the real height settles a frame later: scroll again then.
  const lastTopRef = useRef(0);
  useLayoutEffect(() => {
    const el = boxRef.current;
    if (!el || !autoFollow) return;
    const toBottom = () => {
      el.scrollTop = el.scrollHeight;
      lastTopRef.current = el.scrollTop;
    };
    toBottom();
    let raf2 = 0;
    const raf1 = requestAnimationFrame(() => {
      toBottom();
      raf2 = requestAnimationFrame(toBottom);
    });
    return () => {
      cancelAnimationFrame(raf1);
      cancelAnimationFrame(raf2);
    };
  }, [version, autoFollow]);

  const onScroll = () => {
    const el = boxRef.current;
    if (!el) return;
    const atBottom = el.scrollHeight - el.scrollTop - el.clientHeight <= BOTTOM_SLACK_PX;
    const movedUp = el.scrollTop < lastTopRef.current - 2;
    lastTopRef.current = el.scrollTop;
    // Scrolling up turns auto-follow off; coming back to the bottom turns it on again.
    // Growth of the content alone (scrollTop unchanged) never turns it off.
    if (atBottom && !autoFollow) setAutoFollow(true);
    else if (!atBottom && movedUp && autoFollow) setAutoFollow(false);
  };

  const matches = useMemo(() => countMatches(buffer.chunks, deferredQuery), [buffer.chunks, deferredQuery, version]); // eslint-disable-line react-hooks/exhaustive-deps

  useEffect(() => setCurrent(0), [deferredQuery]);

  const goto = (delta: number) => {
    if (matches === 0) return;
    const next = (current + delta + matches) % matches;
    setCurrent(next);
    const marks = boxRef.current?.querySelectorAll('mark');
    marks?.forEach((m, i) => m.classList.toggle('current', i === next));
    const target = marks?.[next];
    if (target) {
      setAutoFollow(false);
      target.scrollIntoView({ block: 'center' });
    }
  };

  const status = log.error
    ? `error: ${log.error}`
    : log.missing
      ? finished
        ? 'no log file'
        : 'waiting for the log…'
      : paused
        ? 'paused'
        : log.following
          ? log.streaming
            ? 'following (live stream)'
            : 'following'
          : 'complete';

  return (
    <section className="log-viewer" aria-label="Job log" data-offset={buffer.offset}>
      <div className="log-toolbar">
        <span className={`log-status log-status-${status.split(':')[0]!.replace(/\W+/g, '-')}`} data-testid="log-status">
          {status}
        </span>
        <span className="muted mono small" title="next byte offset">
          offset {buffer.offset.toLocaleString('en-US')} · {fmtBytes(buffer.retainedChars)} shown
        </span>
        <span className="spacer" />
        <input
          type="search"
          placeholder="Search log"
          aria-label="Search log"
          value={query}
          onChange={(e) => setQuery(e.target.value)}
          onKeyDown={(e) => {
            if (e.key === 'Enter') goto(e.shiftKey ? -1 : 1);
          }}
        />
        {query && (
          <span className="small muted" data-testid="log-matches">
            {matches === 0 ? 'no matches' : `${Math.min(current + 1, matches)} / ${matches}`}
          </span>
        )}
        {query && (
          <>
            <button type="button" className="btn btn-small" onClick={() => goto(-1)} disabled={matches === 0} aria-label="Previous match">
              ↑
            </button>
            <button type="button" className="btn btn-small" onClick={() => goto(1)} disabled={matches === 0} aria-label="Next match">
              ↓
            </button>
          </>
        )}
        <label className="toggle">
          <input type="checkbox" checked={autoFollow} onChange={(e) => setAutoFollow(e.target.checked)} aria-label="Auto-follow" />
          Auto-follow
        </label>
        <button type="button" className="btn btn-small" onClick={() => setPaused((p) => !p)} disabled={!log.following && !paused}>
          {paused ? 'Resume' : 'Pause'}
        </button>
        <CopyButton text={() => (buffer.isComplete() ? Promise.resolve(buffer.text()) : fetchWholeLog(jobId))} label="Copy" />
      </div>
      {(buffer.truncated || buffer.dropped) && (
        <div className="log-notice" data-testid="log-truncated">
          {buffer.truncated
            ? `Showing the last ${Math.round(INITIAL_TAIL / 1000)} KB of a larger log (then everything appended since).`
            : 'Older output left the view to keep the page fast.'}{' '}
          Copy copies the whole log{log.logPath ? ` (${log.logPath})` : ''}.
        </div>
      )}
      <div ref={boxRef} className={`log-box${buffer.chunks.length > 3 ? ' big' : ''}`} onScroll={onScroll} data-testid="log-box" tabIndex={0}>
        {buffer.chunks.length === 0 ? <span className="log-empty">{log.missing ? 'No log yet.' : buffer.started ? '(empty log)' : 'Loading log…'}</span> : <LogLines chunks={buffer.chunks} query={deferredQuery} />}
      </div>
    </section>
  );
}
