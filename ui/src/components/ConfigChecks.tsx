// A tool's Test buttons (POST /api/configs/check): the Qlib data layout, the LLM endpoint and the
// templates' consistency. Each answer is a toast plus a result panel saying exactly what is
// missing or mismatched.
import { useState } from 'react';
import { errorText } from '../lib/errors';
import { pushToast } from '../lib/toastStore';
import { useConfigCheck, type ConfigCheck, type ConfigCheckKind } from '../hooks/useConfigs';

type Checks = ConfigCheck['checks'];
type Kind = Exclude<ConfigCheckKind, 'all'>;

const LABEL: Record<Kind, string> = { qlib: 'Test Qlib layout', llm: 'Test LLM', consistency: 'Test template consistency' };
const TITLE: Record<Kind, string> = { qlib: 'Qlib layout', llm: 'LLM', consistency: 'Template consistency' };

const LLM_OUTCOME: Record<string, string> = {
  reachable: 'reachable',
  auth_failed: 'authentication failed',
  refused: 'connection refused',
  timed_out: 'timed out',
  bad_response: 'bad response',
};

/** One line per check: what the toast says. */
export function checkSummary(kind: Kind, c: Checks): { ok: boolean; text: string } {
  if (kind === 'qlib') {
    const q = c.qlib;
    if (!q) return { ok: false, text: 'no Qlib result' };
    if (q.ok) return { ok: true, text: `Qlib data at ${q.provider_uri ?? '?'} is complete (${q.checked_instruments ?? 0} instrument(s) checked)` };
    if (q.error) return { ok: false, text: q.error };
    return { ok: false, text: `${q.missing_count ?? q.missing.length} missing in ${q.provider_uri ?? 'the Qlib folder'}` };
  }
  if (kind === 'llm') {
    const l = c.llm;
    if (!l) return { ok: false, text: 'no LLM result' };
    return { ok: l.ok, text: `${l.base_url ?? 'LLM'}: ${LLM_OUTCOME[l.outcome] ?? l.outcome}${l.http_status ? ` (HTTP ${l.http_status})` : ''}` };
  }
  const k = c.consistency;
  if (!k) return { ok: false, text: 'no consistency result' };
  if (k.ok) return { ok: true, text: `${k.files?.length ?? 0} template(s) agree on market, provider_uri and segments` };
  return { ok: false, text: `${k.mismatches.length} mismatch(es)${k.errors?.length ? `, ${k.errors.length} unreadable file(s)` : ''}` };
}

/** What a layout check found missing: the first ones the server listed, and how many in all. */
export function MissingList(props: { items: string[]; total: number; testId?: string }) {
  if (props.items.length === 0) return null;
  return (
    <>
      <p>
        Missing ({props.total}
        {props.total > props.items.length ? `, first ${props.items.length} shown` : ''}):
      </p>
      <ul className="mono check-missing" data-testid={props.testId}>
        {props.items.map((m) => (
          <li key={m}>{m}</li>
        ))}
      </ul>
    </>
  );
}

function QlibResult({ q }: { q: NonNullable<Checks['qlib']> }) {
  return (
    <div>
      <dl className="kv check-kv">
        <dt>provider_uri</dt>
        <dd className="mono">{q.provider_uri ?? '—'}</dd>
        {q.market && (
          <>
            <dt>market</dt>
            <dd className="mono">{q.market}</dd>
          </>
        )}
        {q.checked_instruments !== undefined && (
          <>
            <dt>instruments checked</dt>
            <dd>{q.checked_instruments}</dd>
          </>
        )}
      </dl>
      <MissingList items={q.missing} total={q.missing_count ?? q.missing.length} testId="qlib-missing" />
    </div>
  );
}

function ConsistencyResult({ c }: { c: NonNullable<Checks['consistency']> }) {
  return (
    <div>
      {c.mismatches.length > 0 && (
        <ul className="check-mismatches" data-testid="consistency-mismatches">
          {c.mismatches.map((m, i) => (
            <li key={i}>
              <span className="mono">{m.file}</span>: <span className="mono">{m.key}</span> is <code>{m.value}</code>, but <span className="mono">{m.reference_file}</span> has{' '}
              <code>{m.expected}</code>
            </li>
          ))}
        </ul>
      )}
      {(c.errors ?? []).map((e) => (
        <p key={e.file} className="text-error">
          <span className="mono">{e.file}</span>: {e.error}
        </p>
      ))}
      {c.values && Object.keys(c.values).length > 0 && (
        <dl className="kv check-kv">
          {Object.entries(c.values).map(([k, v]) => (
            <div key={k} style={{ display: 'contents' }}>
              <dt>{k}</dt>
              <dd className="mono">{v}</dd>
            </div>
          ))}
        </dl>
      )}
    </div>
  );
}

function LlmResult({ l }: { l: NonNullable<Checks['llm']> }) {
  return (
    <dl className="kv check-kv">
      <dt>outcome</dt>
      <dd>{LLM_OUTCOME[l.outcome] ?? l.outcome}</dd>
      <dt>endpoint</dt>
      <dd className="mono">{l.base_url ?? '—'}</dd>
      {l.api_key !== undefined && (
        <>
          <dt>key</dt>
          <dd className="mono">{l.api_key ?? 'none'}</dd>
        </>
      )}
      {l.elapsed_ms !== undefined && (
        <>
          <dt>time</dt>
          <dd>{Math.round(l.elapsed_ms)} ms</dd>
        </>
      )}
      <dt>detail</dt>
      <dd>{l.detail}</dd>
    </dl>
  );
}

export function ConfigChecks({ tool }: { tool: string }) {
  const check = useConfigCheck();
  const [providerUri, setProviderUri] = useState('');
  const [results, setResults] = useState<Partial<Record<Kind, Checks | { error: string }>>>({});
  const [running, setRunning] = useState<Kind | null>(null);

  const run = (kind: Kind) => {
    setRunning(kind);
    const body = kind === 'qlib' && providerUri.trim() ? { tool, check: kind, provider_uri: providerUri.trim() } : { tool, check: kind };
    check.mutate(body, {
      onSuccess: (r) => {
        setResults((prev) => ({ ...prev, [kind]: r.checks }));
        const s = checkSummary(kind, r.checks);
        pushToast({ kind: s.ok ? 'success' : 'error', title: `${TITLE[kind]}: ${s.ok ? 'OK' : 'problem'}`, body: s.text });
      },
      onError: (e) => {
        setResults((prev) => ({ ...prev, [kind]: { error: errorText(e) } }));
        pushToast({ kind: 'error', title: `${LABEL[kind]} failed`, body: errorText(e) });
      },
      onSettled: () => setRunning(null),
    });
  };

  const kinds = (Object.keys(LABEL) as Kind[]).filter((k) => results[k]);
  return (
    <div className="config-checks" data-testid={`checks-${tool}`}>
      <div className="inline-form">
        <label>
          Qlib folder <span className="muted small">(empty = the templates' provider_uri)</span>
          <input className="mono" value={providerUri} onChange={(e) => setProviderUri(e.target.value)} placeholder="provider_uri" spellCheck={false} />
        </label>
        {(Object.keys(LABEL) as Kind[]).map((k) => (
          <button key={k} type="button" className="btn btn-small" disabled={running !== null} onClick={() => run(k)}>
            {running === k ? 'Testing…' : LABEL[k]}
          </button>
        ))}
      </div>
      {kinds.length > 0 && (
        <div className="check-results" data-testid="check-results">
          {kinds.map((k) => {
            const r = results[k]!;
            if ('error' in r) {
              return (
                <section key={k} className="check-result check-bad" aria-label={LABEL[k]} data-check={k}>
                  <h3>{TITLE[k]}: could not run</h3>
                  <p className="text-error">{r.error as string}</p>
                </section>
              );
            }
            const c = r as Checks;
            const s = checkSummary(k, c);
            return (
              <section key={k} className={`check-result ${s.ok ? 'check-ok' : 'check-bad'}`} aria-label={LABEL[k]} data-check={k} data-ok={s.ok}>
                <h3>
                  <span className={`badge ${s.ok ? 'badge-success' : 'badge-failed'}`}>{s.ok ? 'OK' : 'PROBLEM'}</span> {TITLE[k]}: {s.text}
                </h3>
                {k === 'qlib' && c.qlib && <QlibResult q={c.qlib} />}
                {k === 'consistency' && c.consistency && <ConsistencyResult c={c.consistency} />}
                {k === 'llm' && c.llm && <LlmResult l={c.llm} />}
              </section>
            );
          })}
        </div>
      )}
    </div>
  );
}
