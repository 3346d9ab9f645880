import { afterEach, describe, expect, it, vi } from 'vitest';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { act, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { MemoryRouter } from 'react-router-dom';
import { LogViewer } from '../src/components/LogViewer';
import { MockServer } from './mockServer';

function mount(finished: boolean, server: MockServer) {
  server.install();
  const qc = new QueryClient();
  const ui = (f: boolean) => (
    <QueryClientProvider client={qc}>
      <MemoryRouter>
        <LogViewer jobId="job_1" finished={f} pollMs={15} />
      </MemoryRouter>
    </QueryClientProvider>
  );
  const r = render(ui(finished));
  return { ...r, setFinished: (f: boolean) => r.rerender(ui(f)) };
}

const log = (content: string, next_offset: number, is_truncated = false) => ({ body: { job_id: 'job_1', content, next_offset, is_truncated, log_path: 'reports/jobs/runtime/job_1.log' } });

describe('LogViewer', () => {
  it('loads the tail first, shows the truncation notice, then follows next_offset', async () => {
    const s = new MockServer().on('GET', '/api/jobs/job_1/log', log('line A\n', 90_000, true), log('line B\n', 90_007), log('', 90_007));
    const { setFinished } = mount(false, s);
    await screen.findByText(/line A/);
    expect(screen.getByTestId('log-truncated').textContent).toMatch(/last 20 KB/);
    const first = s.calls[0]!.url.searchParams;
    expect(first.get('offset')).toBe('0');
    expect(first.get('tail')).toBe('20000');
    await screen.findByText(/line B/, { exact: false });
    await waitFor(() => expect(s.calls.length).toBeGreaterThanOrEqual(3));
    expect(s.calls[1]!.url.searchParams.get('offset')).toBe('90000');
    expect(s.calls[1]!.url.searchParams.has('tail')).toBe(false);
    expect(s.calls[2]!.url.searchParams.get('offset')).toBe('90007');
    // Still running: polling goes on with the same offset.
    const n = s.calls.length;
    await waitFor(() => expect(s.calls.length).toBeGreaterThan(n + 1));
    // Once finished, one more empty read stops the polling.
    act(() => setFinished(true));
    await waitFor(() => expect(screen.getByTestId('log-status').textContent).toBe('complete'));
    const stopped = s.calls.length;
    await new Promise((r) => setTimeout(r, 80));
    expect(s.calls.length).toBe(stopped);
  });

  it('updates the offset even when content is empty', async () => {
    const s = new MockServer().on('GET', '/api/jobs/job_1/log', log('', 0), log('', 50), log('after\n', 56), log('', 56));
    mount(false, s);
    await screen.findByText(/after/);
    await waitFor(() => expect(s.calls.length).toBeGreaterThanOrEqual(4));
    const offsets = s.calls.map((c) => c.url.searchParams.get('offset'));
    expect(offsets.slice(0, 4)).toEqual(['0', '0', '50', '56']);
    expect(s.calls[1]!.url.searchParams.has('tail')).toBe(false);
  });

  it('appends without replacing earlier text nodes', async () => {
    const s = new MockServer().on('GET', '/api/jobs/job_1/log', log(('x'.repeat(99) + '\n').repeat(700), 70_000), log('second\n', 70_007), log('', 70_007));
    mount(false, s);
    const box = await screen.findByTestId('log-box');
    await waitFor(() => expect(box.querySelectorAll('.log-chunk').length).toBe(2));
    const firstNode = box.querySelector('.log-chunk');
    await waitFor(() => expect(box.textContent).toContain('second'));
    expect(box.querySelector('.log-chunk')).toBe(firstNode);
  });

  it('search highlights matches and counts them', async () => {
    const s = new MockServer().on('GET', '/api/jobs/job_1/log', log('ok\nERROR one\nfine\nerror two\n', 30), log('', 30));
    mount(true, s);
    await screen.findByText(/fine/);
    fireEvent.change(screen.getByLabelText('Search log'), { target: { value: 'error' } });
    const marks = screen.getByTestId('log-box').querySelectorAll('mark');
    expect(marks).toHaveLength(2);
    expect(screen.getByTestId('log-matches').textContent).toBe('1 / 2');
  });

  it('auto-follow is on by default, turns off on scroll-up and back on at the bottom', async () => {
    const s = new MockServer().on('GET', '/api/jobs/job_1/log', log('a\n'.repeat(100), 200), log('', 200));
    mount(true, s);
    const box = await screen.findByTestId('log-box');
    const toggle = screen.getByLabelText('Auto-follow') as HTMLInputElement;
    expect(toggle.checked).toBe(true);
    Object.defineProperty(box, 'scrollHeight', { configurable: true, value: 2000 });
    Object.defineProperty(box, 'clientHeight', { configurable: true, value: 520 });
    box.scrollTop = 2000 - 520; // at the bottom, following
    fireEvent.scroll(box);
    expect(toggle.checked).toBe(true);
    box.scrollTop = 100; // the user scrolls up
    fireEvent.scroll(box);
    expect(toggle.checked).toBe(false);
    box.scrollTop = 900; // scrolling down but not to the bottom keeps it off
    fireEvent.scroll(box);
    expect(toggle.checked).toBe(false);
    box.scrollTop = 2000 - 520;
    fireEvent.scroll(box);
    expect(toggle.checked).toBe(true);
  });

  it('pause stops polling and resume continues from the same offset', async () => {
    const s = new MockServer().on('GET', '/api/jobs/job_1/log', log('one\n', 4), log('', 4));
    mount(false, s);
    await screen.findByText(/one/);
    fireEvent.click(screen.getByRole('button', { name: 'Pause' }));
    const n = s.calls.length;
    await new Promise((r) => setTimeout(r, 80));
    expect(s.calls.length).toBe(n);
    expect(screen.getByTestId('log-status').textContent).toBe('paused');
    fireEvent.click(screen.getByRole('button', { name: 'Resume' }));
    await waitFor(() => expect(s.calls.length).toBeGreaterThan(n));
    expect(s.calls[s.calls.length - 1]!.url.searchParams.get('offset')).toBe('4');
  });
});

/** A scripted EventSource: tests push `log` / `end` events or fail the connection. */
class FakeEventSource {
  static instances: FakeEventSource[] = [];
  readonly url: string;
  closed = false;
  onerror: ((ev: Event) => void) | null = null;
  private listeners = new Map<string, ((ev: MessageEvent) => void)[]>();
  constructor(url: string) {
    this.url = url;
    FakeEventSource.instances.push(this);
  }
  addEventListener(type: string, fn: (ev: MessageEvent) => void) {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), fn]);
  }
  close() {
    this.closed = true;
  }
  emit(type: string, data: unknown) {
    for (const fn of this.listeners.get(type) ?? []) fn(new MessageEvent(type, { data: JSON.stringify(data) }));
  }
  fail() {
    this.onerror?.(new Event('error'));
  }
}

describe('LogViewer with the SSE stream', () => {
  afterEach(() => {
    vi.unstubAllGlobals();
    FakeEventSource.instances = [];
  });

  it('follows a running job through EventSource from next_offset and stops at `end`', async () => {
    vi.stubGlobal('EventSource', FakeEventSource);
    const s = new MockServer().on('GET', '/api/jobs/job_1/log', log('first\n', 6));
    mount(false, s);
    await screen.findByText(/first/);
    await waitFor(() => expect(FakeEventSource.instances).toHaveLength(1));
    const es = FakeEventSource.instances[0]!;
    expect(es.url).toBe('/api/jobs/job_1/log/stream?offset=6');
    expect(screen.getByTestId('log-status').textContent).toBe('following (live stream)');
    act(() => es.emit('log', { offset: 6, content: 'second\n', next_offset: 13 }));
    await screen.findByText(/second/);
    act(() => es.emit('end', { status: 'SUCCESS', exit_code: 0, next_offset: 13 }));
    await waitFor(() => expect(screen.getByTestId('log-status').textContent).toBe('complete'));
    expect(es.closed).toBe(true);
    // The stream carried the log: only the first (tail) request was a poll.
    await new Promise((r) => setTimeout(r, 60));
    expect(s.calls).toHaveLength(1);
  });

  it('falls back to offset polling when the stream fails', async () => {
    vi.stubGlobal('EventSource', FakeEventSource);
    const s = new MockServer().on('GET', '/api/jobs/job_1/log', log('first\n', 6), log('', 6), log('polled\n', 13), log('', 13));
    mount(false, s);
    await screen.findByText(/first/);
    await waitFor(() => expect(FakeEventSource.instances).toHaveLength(1));
    const es = FakeEventSource.instances[0]!;
    act(() => es.emit('log', { offset: 6, content: '', next_offset: 6 }));
    act(() => es.fail());
    expect(es.closed).toBe(true);
    await screen.findByText(/polled/);
    expect(s.calls[1]!.url.searchParams.get('offset')).toBe('6');
    expect(screen.getByTestId('log-status').textContent).toBe('following');
    // It keeps polling and does not reopen the failed stream.
    await waitFor(() => expect(s.calls.length).toBeGreaterThanOrEqual(4));
    expect(FakeEventSource.instances).toHaveLength(1);
  });

  it('polls when the browser has no EventSource', async () => {
    vi.stubGlobal('EventSource', undefined);
    const s = new MockServer().on('GET', '/api/jobs/job_1/log', log('a\n', 2), log('b\n', 4), log('', 4));
    mount(false, s);
    await screen.findByText(/b/);
    expect(s.calls.map((c) => c.url.searchParams.get('offset')).slice(0, 2)).toEqual(['0', '2']);
  });
});
