// Follows a job's log by byte offset: offset=0&tail=20000 first, then next_offset,
// until the job has finished and a later request brings nothing new.
import { useCallback, useEffect, useRef, useState } from 'react';
import { api, isApiError } from '../api/client';
import { LogBuffer, nextDelay, shouldContinue } from '../lib/logBuffer';
import { errorText } from '../lib/errors';

export interface JobLogState {
  buffer: LogBuffer;
  version: number; // bumps on every change of buffer contents
  following: boolean; // a poll loop is active
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

  // A new job id starts from scratch.
  useEffect(() => {
    bufferRef.current = new LogBuffer();
    setVersion((v) => v + 1);
    setDone(false);
    setMissing(false);
    setError(null);
  }, [jobId]);

  // A job that is running again (never, today) or a finished flag that flips back restarts polling.
  useEffect(() => {
    if (!opts.finished) setDone(false);
  }, [opts.finished]);

  useEffect(() => {
    if (opts.paused || done) return;
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const controller = new AbortController();

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
    };
  }, [jobId, opts.paused, done, interval]);

  const restart = useCallback(() => setDone(false), []);

  const state: JobLogState = {
    buffer: bufferRef.current,
    version,
    following: !opts.paused && !done,
    missing,
    error,
    logPath,
  };
  return { ...state, restart };
}
