// The LogViewer's model: byte offsets against the server (docs/api.md, the log endpoint) and the
// text kept on screen as chunks, so an append renders one new chunk instead of
// the whole log, and memory stays bounded however big the file grows.
import type { JobLogResponse } from '../types/api';

export const INITIAL_TAIL = 20_000; // first request: offset=0&tail=20000
export const CHUNK_CHARS = 64 * 1024; // small appends coalesce into the last chunk up to this size
export const MAX_RETAINED_CHARS = 2 * 1024 * 1024; // older chunks leave the screen beyond this
export const CATCH_UP_CHARS = 256 * 1024; // a response at least this big means "more is waiting": fetch again at once

/** Index just past the first line break at or after `from` (a very long line is cut at 4 chunks). */
function lineEnd(s: string, from: number): number {
  const k = s.indexOf('\n', from);
  const end = k < 0 ? s.length : k + 1;
  return Math.min(end, from + 4 * CHUNK_CHARS, s.length);
}

/** Length of the first piece of `s` of about `size` characters that ends at a line break. */
export function cutPoint(s: string, size: number): number {
  if (s.length <= size) return s.length;
  const j = s.lastIndexOf('\n', size - 1);
  if (j >= 0) return j + 1;
  return lineEnd(s, size);
}

export interface LogChunk {
  id: number;
  text: string;
}

export interface LogRequest {
  offset: number;
  tail?: number;
}

export class LogBuffer {
  chunks: LogChunk[] = [];
  offset = 0;
  started = false;
  /** The first response held only the last INITIAL_TAIL bytes of a bigger file. */
  truncated = false;
  /** Older chunks were dropped from view to bound memory. */
  dropped = false;
  retainedChars = 0;
  private nextId = 0;

  nextRequest(): LogRequest {
    return this.started ? { offset: this.offset } : { offset: 0, tail: INITIAL_TAIL };
  }

  /** Applies one response; the offset moves to next_offset even when content is empty. */
  apply(res: JobLogResponse): void {
    if (!this.started) {
      this.started = true;
      this.truncated = res.is_truncated;
    }
    this.offset = res.next_offset;
    if (res.content.length > 0) this.append(res.content);
  }

  private append(text: string): void {
    const chunks = this.chunks.slice();
    let rest = text;
    const last = chunks[chunks.length - 1];
    // Chunks render as blocks, so each one must end at a line break: the last chunk first
    // takes the rest of its unfinished line, then more lines while it is below CHUNK_CHARS.
    if (last && (last.text.length < CHUNK_CHARS || !last.text.endsWith('\n'))) {
      let take = 0;
      if (!last.text.endsWith('\n')) take = lineEnd(rest, 0);
      const room = CHUNK_CHARS - (last.text.length + take);
      if (room > 0 && take < rest.length) take += cutPoint(rest.slice(take), room);
      if (take > 0) {
        chunks[chunks.length - 1] = { id: last.id, text: last.text + rest.slice(0, take) };
        rest = rest.slice(take);
      }
    }
    while (rest.length > 0) {
      const n = cutPoint(rest, CHUNK_CHARS);
      chunks.push({ id: this.nextId++, text: rest.slice(0, n) });
      rest = rest.slice(n);
    }
    this.retainedChars += text.length;
    while (this.retainedChars > MAX_RETAINED_CHARS && chunks.length > 1) {
      const first = chunks.shift()!;
      this.retainedChars -= first.text.length;
      this.dropped = true;
    }
    this.chunks = chunks;
  }

  text(): string {
    return this.chunks.map((c) => c.text).join('');
  }

  /** Everything since byte 0 is on screen, so Copy can use it directly. */
  isComplete(): boolean {
    return !this.truncated && !this.dropped;
  }
}

/**
 * Whether the follower keeps polling after a response. Once the job had finished when a
 * request was sent, a response below the catch-up size reached the end of the file (the
 * server's per-response cap is larger), so nothing more can come.
 */
export function shouldContinue(finishedWhenRequested: boolean, contentLength: number): boolean {
  return !(finishedWhenRequested && contentLength < CATCH_UP_CHARS);
}

/** Delay before the next poll: none while catching up on a backlog. */
export function nextDelay(contentLength: number, intervalMs: number): number {
  return contentLength >= CATCH_UP_CHARS ? 0 : intervalMs;
}

export function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export function countMatches(chunks: LogChunk[], query: string): number {
  if (!query) return 0;
  const re = new RegExp(escapeRegExp(query), 'gi');
  let n = 0;
  for (const c of chunks) n += c.text.match(re)?.length ?? 0;
  return n;
}
