import { describe, expect, it } from 'vitest';
import { CATCH_UP_CHARS, CHUNK_CHARS, countMatches, cutPoint, INITIAL_TAIL, LogBuffer, MAX_RETAINED_CHARS, nextDelay, shouldContinue } from '../src/lib/logBuffer';

const res = (content: string, next_offset: number, is_truncated = false) => ({ job_id: 'j', content, next_offset, is_truncated, log_path: 'l' });

describe('LogBuffer offsets', () => {
  it('starts with offset=0&tail=20000, then follows next_offset', () => {
    const b = new LogBuffer();
    expect(b.nextRequest()).toEqual({ offset: 0, tail: INITIAL_TAIL });
    b.apply(res('x'.repeat(20000), 5_000_000, true));
    expect(b.truncated).toBe(true);
    expect(b.nextRequest()).toEqual({ offset: 5_000_000 });
    b.apply(res('more\n', 5_000_005));
    expect(b.nextRequest()).toEqual({ offset: 5_000_005 });
    expect(b.text().endsWith('more\n')).toBe(true);
  });

  it('moves the offset even when the content is empty', () => {
    const b = new LogBuffer();
    b.apply(res('', 0));
    expect(b.started).toBe(true);
    b.apply(res('', 120)); // e.g. the server skipped undecodable bytes or the file was rewritten
    expect(b.nextRequest()).toEqual({ offset: 120 });
    expect(b.chunks).toHaveLength(0);
  });

  it('only the first response decides "truncated"', () => {
    const b = new LogBuffer();
    b.apply(res('abc', 3, false));
    b.apply(res('d', 4, true));
    expect(b.truncated).toBe(false);
    expect(b.isComplete()).toBe(true);
  });

  it('coalesces small appends and splits big ones into chunks at line breaks', () => {
    const b = new LogBuffer();
    b.apply(res('a', 1));
    const firstId = b.chunks[0]!.id;
    b.apply(res('b\n', 3));
    expect(b.chunks).toHaveLength(1);
    expect(b.chunks[0]!.id).toBe(firstId);
    const line = 'z'.repeat(99) + '\n'; // 100 chars per line
    const big = line.repeat((CHUNK_CHARS * 2) / 100 + 10);
    b.apply(res(big, 3 + big.length));
    expect(b.chunks.length).toBeGreaterThanOrEqual(3);
    expect(b.chunks.every((c) => c.text.endsWith('\n'))).toBe(true);
    expect(b.chunks.every((c) => c.text.length <= CHUNK_CHARS)).toBe(true);
    expect(b.text()).toBe('ab\n' + big);
  });

  it('an unfinished last line is completed in its own chunk before a new chunk starts', () => {
    const b = new LogBuffer();
    const full = ('x'.repeat(63) + '\n').repeat(CHUNK_CHARS / 64); // exactly CHUNK_CHARS, ends with \n
    b.apply(res(full + 'partial', full.length + 7));
    expect(b.chunks[b.chunks.length - 1]!.text).toBe('partial');
    b.apply(res(' line\nnext\n', full.length + 18));
    expect(b.chunks[b.chunks.length - 1]!.text).toBe('partial line\nnext\n');
    expect(b.text()).toBe(full + 'partial line\nnext\n');
  });

  it('cutPoint prefers the last line break inside the size and cuts endless lines', () => {
    expect(cutPoint('ab\ncd\nef', 6)).toBe(6);
    expect(cutPoint('ab\ncd\nef', 5)).toBe(3);
    expect(cutPoint('abcdef\ngh', 3)).toBe(7);
    expect(cutPoint('short', 10)).toBe(5);
    expect(cutPoint('y'.repeat(CHUNK_CHARS * 10), CHUNK_CHARS)).toBe(CHUNK_CHARS * 5);
  });

  it('appending does not change existing chunk objects except the last', () => {
    const b = new LogBuffer();
    const full = ('q'.repeat(63) + '\n').repeat(CHUNK_CHARS / 64);
    b.apply(res(full, CHUNK_CHARS));
    const before = b.chunks[0];
    b.apply(res('tail', CHUNK_CHARS + 4));
    expect(b.chunks[0]).toBe(before); // same object: a memoised chunk does not re-render
    expect(b.chunks[1]!.text).toBe('tail');
  });

  it('bounds memory on a huge log and says so', () => {
    const b = new LogBuffer();
    b.apply(res('', 0));
    let off = 0;
    for (let i = 0; i < 100; i++) {
      off += 1024 * 1024;
      b.apply(res(('y'.repeat(1023) + '\n').repeat(1024), off)); // 100 MB streamed through
    }
    expect(b.retainedChars).toBeLessThanOrEqual(MAX_RETAINED_CHARS);
    expect(b.dropped).toBe(true);
    expect(b.isComplete()).toBe(false);
    expect(b.offset).toBe(100 * 1024 * 1024);
  });
});

describe('polling decisions', () => {
  it('stops once a request sent after the job finished reached the end of the file', () => {
    expect(shouldContinue(false, 0)).toBe(true);
    expect(shouldContinue(false, 10)).toBe(true);
    expect(shouldContinue(true, 0)).toBe(false);
    expect(shouldContinue(true, 10)).toBe(false);
    expect(shouldContinue(true, CATCH_UP_CHARS)).toBe(true); // a capped response: more is waiting
  });
  it('catches up on a backlog without waiting', () => {
    expect(nextDelay(CATCH_UP_CHARS, 1000)).toBe(0);
    expect(nextDelay(10, 1000)).toBe(1000);
  });
  it('counts search matches case-insensitively with regex characters literal', () => {
    expect(countMatches([{ id: 0, text: 'Error a.b error' }, { id: 1, text: 'ERROR axb' }], 'error')).toBe(3);
    expect(countMatches([{ id: 0, text: 'a.b axb' }], 'a.b')).toBe(1);
  });
});
