// The config center (docs/configs.md, docs/ui.md): the managed files of one tool (or of every tool
// when `tool` is absent) with hash, mtime, size and drift; a selected file in an editor (`.env`
// as key fields with masked secrets, YAML as text; read-only files shown, never written); a save
// that sends the hash it started from (a stale one is a 409 shown with reload / compare); the
// file's history, side-by-side diffs and rollback; the tool's Test buttons. Used by the RD-Agent
// page's "Config center" tab (tool="rdagent") and by the Configs page (no tool).
import { createTwoFilesPatch } from 'diff';
import { useState } from 'react';
import { isApiError } from '../api/client';
import { errorText } from '../lib/errors';
import { fmtBytes, fmtTime } from '../lib/format';
import { pushToast } from '../lib/toastStore';
import { configsApi, useConfigFile, useConfigList, useWriteConfig, type ConfigFileInfo, type ConfigTool } from '../hooks/useConfigs';
import { ConfigChecks } from './ConfigChecks';
import { ConfigHistoryPanel } from './ConfigHistoryPanel';
import { EnvEditor } from './EnvEditor';
import { SideBySideDiff } from './SideBySideDiff';
import { Empty, ErrorState, Loading } from './States';

export interface ConfigCenterProps {
  tool?: string;
}

const short = (sha: string | null | undefined) => (sha ? sha.slice(0, 12) : '—');
const baseName = (file: string) => file.slice(file.lastIndexOf('/') + 1);
const dirName = (file: string) => file.slice(0, file.lastIndexOf('/') + 1);

function FilesTable(props: { tool: ConfigTool; selected: string | null; onSelect: (path: string) => void }) {
  return (
    <div className="table-wrap">
      <table className="table compact config-files" data-testid="config-files">
        <thead>
          <tr>
            <th scope="col">File</th>
            <th scope="col">Kind</th>
            <th scope="col">sha256</th>
            <th scope="col">Modified</th>
            <th scope="col" className="num">
              Size
            </th>
            <th scope="col" className="num">
              Versions
            </th>
            <th scope="col">State</th>
          </tr>
        </thead>
        <tbody>
          {props.tool.files.map((f) => (
            <tr key={f.path} className={props.selected === f.path ? 'selected' : undefined} data-path={f.path} aria-current={props.selected === f.path ? 'true' : undefined}>
              <td className="config-file-cell">
                <button type="button" className="linklike mono" onClick={() => props.onSelect(f.path)} aria-label={f.file} title={`Open ${f.path}`}>
                  {baseName(f.file)}
                </button>
                {dirName(f.file) && <div className="muted small mono config-dir">{dirName(f.file)}</div>}
              </td>
              <td>{f.kind}</td>
              <td className="mono" title={f.sha256 ?? undefined}>
                {short(f.sha256)}
              </td>
              <td className="nowrap">{fmtTime(f.mtime)}</td>
              <td className="num">{f.exists ? fmtBytes(f.size) : '—'}</td>
              <td className="num">{f.history_count ?? 0}</td>
              <td className="nowrap">
                {!f.exists && <span className="badge badge-failed">missing</span>}
                {f.drift && (
                  <span className="badge badge-drift" title="changed on disk outside alphalab; the next save backs that version up first" data-testid="drift-badge">
                    drifted
                  </span>
                )}
                {f.readonly && <span className="badge">read-only</span>}
                {f.exists && !f.drift && !f.readonly && <span className="muted">—</span>}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** The editor of one loaded file version; remounted (key = its hash) when a new version loads. */
function FileEditor(props: { file: ConfigFileInfo; content: string; onReload: () => void }) {
  const { file } = props;
  const [draft, setDraft] = useState(props.content);
  const [raw, setRaw] = useState(file.kind !== 'env');
  const [note, setNote] = useState('');
  const [base, setBase] = useState(file.sha256 ?? '');
  const [invalid, setInvalid] = useState<string | null>(null);
  const [stale, setStale] = useState<string | null>(null);
  const [compare, setCompare] = useState<string | null>(null);
  const write = useWriteConfig();
  const dirty = draft !== props.content;

  const save = () => {
    setInvalid(null);
    write.mutate(
      { path: file.path, content: draft, base_sha256: base, ...(note.trim() ? { note: note.trim() } : {}) },
      {
        onSuccess: (w) => {
          setStale(null);
          setCompare(null);
          pushToast({
            kind: 'success',
            title: w.changed ? `Saved ${baseName(file.file)}` : `${baseName(file.file)} unchanged`,
            body: w.changed ? `now ${short(w.sha256)}; the previous version is saved as #${w.history_id ?? '—'}` : 'the text equals the file on disk: nothing written',
          });
        },
        onError: (e) => {
          if (isApiError(e) && e.status === 409) {
            const cur = (e.details as { current_sha256?: string } | null)?.current_sha256 ?? '';
            setStale(cur);
            pushToast({ kind: 'error', title: `${baseName(file.file)} changed since you opened it`, body: 'Not saved. Reload it, or compare and save over it.' });
          } else if (isApiError(e) && e.status === 400) {
            const line = (e.details as { line?: number } | null)?.line;
            setInvalid(line !== undefined && !e.message.includes(`line ${line}`) ? `${e.message} (line ${line})` : e.message);
          } else pushToast({ kind: 'error', title: 'Save failed', body: errorText(e) });
        },
      },
    );
  };

  const showCompare = async () => {
    try {
      const cur = await configsApi.file(file.path);
      setCompare(createTwoFilesPatch('current', 'yours', cur.content ?? '', draft, '', '', { context: 3 }));
    } catch (e) {
      pushToast({ kind: 'error', title: 'Could not load the current version', body: errorText(e) });
    }
  };

  if (file.readonly) {
    return (
      <div className="config-editor">
        <p className="notice notice-info" data-testid="readonly-notice">
          Read-only: this file belongs to the tool's code. alphalab shows it and keeps its versions, and never writes it.
        </p>
        <textarea className="mono config-text" value={props.content} readOnly aria-label={`${file.file} (read-only)`} rows={18} />
      </div>
    );
  }

  return (
    <div className="config-editor">
      {file.drift && (
        <p className="notice notice-warn" data-testid="drift-notice">
          Changed on disk outside alphalab: the next save backs that version up first, so nothing is lost.
        </p>
      )}
      {file.kind === 'env' && (
        <div className="tabs" role="tablist" aria-label="Editor">
          <button type="button" role="tab" aria-selected={!raw} className={`tab${!raw ? ' active' : ''}`} onClick={() => setRaw(false)}>
            Key fields
          </button>
          <button type="button" role="tab" aria-selected={raw} className={`tab${raw ? ' active' : ''}`} onClick={() => setRaw(true)}>
            Raw text
          </button>
        </div>
      )}
      {file.kind === 'env' && !raw ? (
        <EnvEditor content={draft} onChange={setDraft} disabled={write.isPending} />
      ) : (
        <textarea
          className="mono config-text"
          value={draft}
          onChange={(e) => setDraft(e.target.value)}
          spellCheck={false}
          rows={Math.min(30, Math.max(10, draft.split('\n').length + 1))}
          aria-label={`Contents of ${file.file}`}
          aria-invalid={invalid !== null}
          aria-describedby={invalid ? 'config-invalid' : undefined}
          data-testid="config-textarea"
        />
      )}
      {invalid && (
        <p className="field-error" role="alert" id="config-invalid" data-testid="config-invalid">
          Not saved: {invalid}
        </p>
      )}
      {stale !== null && (
        <div className="notice notice-error stale-notice" role="alert" data-testid="stale-notice">
          <div>
            Not saved: <span className="mono">{file.file}</span> changed since you opened it (you started from <span className="mono">{short(base)}</span>, it is now{' '}
            <span className="mono">{short(stale)}</span>). Your text is still here.
          </div>
          <div className="stale-actions">
            <button type="button" className="btn btn-small" onClick={() => void showCompare()}>
              Compare with current
            </button>
            <button type="button" className="btn btn-small" onClick={props.onReload}>
              Reload (drop my edit)
            </button>
            <button
              type="button"
              className="btn btn-small btn-danger"
              onClick={() => {
                setBase(stale);
                setStale(null);
              }}
            >
              Edit over the current version
            </button>
          </div>
        </div>
      )}
      {compare !== null && (
        <div data-testid="stale-compare">
          <SideBySideDiff diff={compare} fromLabel="current on disk" toLabel="your edit" caption={`Your edit of ${file.file} against the current file`} />
        </div>
      )}
      <div className="inline-form save-bar">
        <label>
          Note <input value={note} onChange={(e) => setNote(e.target.value)} placeholder="what and why (optional)" />
        </label>
        <button type="button" className="btn btn-primary" disabled={!dirty || write.isPending || stale !== null} onClick={save}>
          {write.isPending ? 'Saving…' : 'Save'}
        </button>
        <button type="button" className="btn" disabled={!dirty || write.isPending} onClick={() => setDraft(props.content)}>
          Discard changes
        </button>
        <span className="muted small">
          editing version <span className="mono">{short(base)}</span>
          {dirty ? ' · unsaved changes' : ''}
        </span>
      </div>
    </div>
  );
}

function ConfigFileView({ path }: { path: string }) {
  const file = useConfigFile(path);
  if (file.isLoading) return <Loading what={`Loading ${path}`} />;
  if (!file.data) return <ErrorState error={file.error ?? 'no data'} onRetry={() => void file.refetch()} />;
  const f = file.data;
  return (
    <>
      <section className="panel" aria-label={`Editor: ${f.file}`} data-testid="config-file">
        <div className="panel-head">
          <h2 className="mono break">{f.path}</h2>
          <span className="muted small">
            {f.kind} · {f.exists ? fmtBytes(f.size) : 'missing'} · modified {fmtTime(f.mtime)} · sha256 <span className="mono" data-testid="file-sha">{short(f.sha256)}</span>
          </span>
        </div>
        <FileEditor key={`${f.sha256}:${file.dataUpdatedAt}`} file={f} content={f.content ?? ''} onReload={() => void file.refetch()} />
      </section>
      <ConfigHistoryPanel path={f.path} readonly={f.readonly} />
    </>
  );
}

export function ConfigCenter(props: ConfigCenterProps) {
  const list = useConfigList(props.tool);
  const [selected, setSelected] = useState<string | null>(null);
  const tools = list.data?.tools ?? [];
  return (
    <section aria-label="Config center" className="config-center" data-testid="config-center">
      {list.isLoading ? (
        <Loading what="Loading managed files" />
      ) : !list.data ? (
        <ErrorState error={list.error ?? 'no data'} onRetry={() => void list.refetch()} />
      ) : tools.length === 0 ? (
        <Empty>
          No managed files{props.tool ? ` for ${props.tool}` : ''}: declare them under <code>configs:</code> in alphalab.yaml (docs/configs.md).
        </Empty>
      ) : (
        tools.map((t) => (
          <section key={t.name} className="panel" aria-label={`Tool ${t.name}`} data-tool={t.name}>
            <div className="panel-head">
              <h2>{t.name}</h2>
              <span className="muted small break">
                {t.description} · root <span className="mono">{t.root}</span>
              </span>
            </div>
            <FilesTable tool={t} selected={selected} onSelect={setSelected} />
            <ConfigChecks tool={t.name} />
          </section>
        ))
      )}
      {list.error && list.data && <p className="text-error small">Refresh failed: {errorText(list.error)}</p>}
      {selected && <ConfigFileView key={selected} path={selected} />}
    </section>
  );
}
