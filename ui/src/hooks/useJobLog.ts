// Follows a job's log by byte offset: offset=0&tail=20000 first; then, while the job runs, the
// Server-Sent Events stream GET /api/jobs/{id}/log/stream?offset=<next_offset> (`log` events
// append, `end` closes it). When EventSource is missing or the stream fails, it falls back
// to polling offset=<next_offset> until the job has finished and a later request brings
// nothing new.
import { useCallback, useEffect, useRef, useState } from 'react';
import { api, isApiError } from '../api/client';
import { LogBuffer, nextDelay, shouldContinue } from '../lib/logBuffer';
import { errorText } from '../lib/errors';

/** One `log` event of the stream: {offset, content, next_offset}. */
interface StreamLogEvent {
  offset: number;
  content: string;
  next_offset: number;
}

function parseLogEvent(data: unknown): StreamLogEvent | null {
  if (typeof data !== 'string') return null;
  try {
    const v: unknown = JSON.parse(data);
    if (typeof v !== 'object' || v === null) return null;
    const e = v as Record<string, unknown>;
    if (typeof e['offset'] !== 'number' || typeof e['content'] !== 'string' || typeof e['next_offset'] !== 'number') return null;
    return { offset: e['offset'], content: e['content'], next_offset: e['next_offset'] };
  } catch {
    return null;
  }
}

/** next_offset of the `end` event ({status, exit_code, next_offset}). */
function parseEndOffset(data: unknown): number | null {
  if (typeof data !== 'string') return null;
  try {
    const v: unknown = JSON.parse(data);
    if (typeof v !== 'object' || v === null) return null;
    const n = (v as Record<string, unknown>)['next_offset'];
    return typeof n === 'number' ? n : null;
  } catch {
    return null;
  }
}

export interface JobLogState {
  buffer: LogBuffer;
  version: number; // bumps on every change of buffer contents
  following: boolean; // a poll loop or the stream is active
  streaming: boolean; // following through the SSE stream (false: polling)
  missing: boolean; // 404: the log does not exist (yet)
  error: string | null;
  logPath: string;
}

export function useJobLog(jobId: string, opts: { finished: boolean; paused: boolean; intervalMs?: number }) {
  const interval = opts.intervalMs ?? 1000;
  const bufferRef = useRef<LogBuffer>(new LogBuffer());
  const finishedRef = useRef(opts.finished);
  finishedRef.current = opts.finished;
  const [version, setVersion] = useState(0);
  const [done, setDone] = useState(false);
  const [missing, setMissing] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [logPath, setLogPath] = useState('');
  const [streaming, setStreaming] = useState(false);
  // Set when the stream failed once for this job: follow by polling from then on.
  const streamFailedRef = useRef(false);

  // A new job id starts from scratch.
  useEffect(() => {
    bufferRef.current = new LogBuffer();
    setVersion((v) => v + 1);
    setDone(false);
    setMissing(false);
    setError(null);
    streamFailedRef.current = false;
  }, [jobId]);

  // A job that is running again (never, today) or a finished flag that flips back restarts polling.
  useEffect(() => {
    if (!opts.finished) setDone(false);
  }, [opts.finished]);

  useEffect(() => {
    if (opts.paused || done) return;
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let source: EventSource | undefined;
    const controller = new AbortController();

    const closeStream = () => {
      if (source) source.close();
      source = undefined;
      setStreaming(false);
    };

    // Follows through SSE from the buffer's offset; false when EventSource is unavailable.
    const openStream = (): boolean => {
      if (streamFailedRef.current || typeof EventSource === 'undefined') return false;
      const buf = bufferRef.current;
      const es = new EventSource(api.jobLogStreamUrl(jobId, buf.offset));
      source = es;
      setStreaming(true);
      es.addEventListener('log', (ev) => {
        const e = parseLogEvent((ev as MessageEvent).data);
        if (stopped || !e) return;
        buf.apply({ job_id: jobId, content: e.content, next_offset: e.next_offset, is_truncated: false, log_path: '' });
        if (e.content.length > 0) setVersion((v) => v + 1);
      });
      es.addEventListener('end', (ev) => {
        const next = parseEndOffset((ev as MessageEvent).data);
        if (next !== null) buf.offset = Math.max(buf.offset, next);
        closeStream();
        if (!stopped) setDone(true);
      });
      es.onerror = () => {
        // Closed or unreachable: poll from where the stream stopped.
        closeStream();
        streamFailedRef.current = true;
        if (!stopped) timer = setTimeout(() => void tick(), interval);
      };
      return true;
    };

    const tick = async () => {
      const finishedAtStart = finishedRef.current;
      const buf = bufferRef.current;
      const req = buf.nextRequest();
      let delay = interval;
      try {
        const res = await api.jobLog(jobId, req.offset, req.tail, controller.signal);
        if (stopped) return;
        buf.apply(res);
        if (res.content.length > 0) setVersion((v) => v + 1);
        setLogPath(res.log_path);
        setMissing(false);
        setError(null);
        if (!shouldContinue(finishedAtStart, res.content.length)) {
          setDone(true);
          return;
        }
        delay = nextDelay(res.content.length, interval);
        // A running job whose backlog has been read: follow it through the stream.
        if (!finishedAtStart && delay === interval && openStream()) return;
      } catch (e) {
        if (stopped || (e instanceof DOMException && e.name === 'AbortError')) return;
        if (isApiError(e) && e.status === 404) {
          setMissing(true);
          if (finishedAtStart) {
            setDone(true);
            return;
          }
        } else {
          setError(errorText(e));
          delay = Math.max(interval, 3000);
        }
      }
      if (!stopped) timer = setTimeout(() => void tick(), delay);
    };
    void tick();
    return () => {
      stopped = true;
      controller.abort();
      if (timer) clearTimeout(timer);
      closeStream();
    };
  }, [jobId, opts.paused, done, interval]);

  const restart = useCallback(() => setDone(false), []);

  const state: JobLogState = {
    buffer: bufferRef.current,
    version,
    following: !opts.paused && !done,
    streaming,
    missing,
    error,
    logPath,
  };
  return { ...state, restart };
}
