// A scripted fetch for unit tests: routes by method + path, records every call.
import { configureClient } from '../src/api/client';

export interface Call {
  method: string;
  url: URL;
  body: unknown;
}

/** `body` is sent as JSON; `text` (e.g. a CSV) is sent as is. */
type ReplyValue = { status?: number; body: unknown } | { status?: number; text: string; contentType?: string };
type Reply = ReplyValue | ((call: Call) => ReplyValue);

export class MockServer {
  calls: Call[] = [];
  private routes: { method: string; path: string | RegExp; replies: Reply[] }[] = [];

  on(method: string, path: string | RegExp, ...replies: Reply[]): this {
    this.routes.push({ method, path, replies });
    return this;
  }

  install(): this {
    configureClient({
      baseUrl: '',
      fetch: async (input, init) => {
        const url = new URL(String(input), 'http://test.local');
        const call: Call = { method: init?.method ?? 'GET', url, body: init?.body ? JSON.parse(String(init.body)) : undefined };
        this.calls.push(call);
        const route = this.routes.find((r) => r.method === call.method && (typeof r.path === 'string' ? r.path === url.pathname : r.path.test(url.pathname)));
        if (!route) return new Response(JSON.stringify({ error: { code: 'NOT_FOUND', message: `no mock for ${call.method} ${url.pathname}`, details: null } }), { status: 404 });
        // Replies are consumed in order; the last one repeats.
        const reply = route.replies.length > 1 ? route.replies.shift()! : route.replies[0]!;
        const r = typeof reply === 'function' ? reply(call) : reply;
        if ('text' in r) return new Response(r.text, { status: r.status ?? 200, headers: { 'Content-Type': r.contentType ?? 'text/csv; charset=utf-8' } });
        return new Response(JSON.stringify(r.body), { status: r.status ?? 200, headers: { 'Content-Type': 'application/json' } });
      },
    });
    return this;
  }

  callsTo(path: string): Call[] {
    return this.calls.filter((c) => c.url.pathname === path);
  }
}
