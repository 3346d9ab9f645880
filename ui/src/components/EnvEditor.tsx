// A `.env` file as key fields (lib/dotenv.ts): one field per KEY=VALUE line, secrets shown as the
// server sends them (********, kept on save while unchanged), keys added at the end or removed
// with their line; comments and blank lines are kept as they are. Controlled by the file text.
import { useState } from 'react';
import { ENV_KEY, MASK, entryLine, isSecretKey, parseEnv, serializeEnv, type EnvEntry } from '../lib/dotenv';

export function EnvEditor(props: { content: string; onChange: (content: string) => void; disabled?: boolean }) {
  const { content, onChange } = props;
  const lines = parseEnv(content);
  const trailing = content.endsWith('\n');
  const [newKey, setNewKey] = useState('');
  const [newValue, setNewValue] = useState('');
  const [keyError, setKeyError] = useState<string | null>(null);

  const raws = lines.map((l) => l.raw);
  const emit = (next: string[]) => onChange(serializeEnv(next, trailing || content === ''));
  const setValue = (i: number, e: EnvEntry, v: string) => emit(raws.map((r, j) => (j === i ? entryLine(e, v) : r)));
  const remove = (i: number) => emit(raws.filter((_, j) => j !== i));
  const keys = new Set(lines.flatMap((l) => (l.kind === 'entry' ? [l.key] : [])));
  const add = () => {
    const k = newKey.trim();
    if (!ENV_KEY.test(k)) return setKeyError(`'${k}' is not a key: letters, digits and _ . - (not starting with a digit)`);
    if (keys.has(k)) return setKeyError(`${k} is already in the file`);
    setKeyError(null);
    const stub: EnvEntry = { kind: 'entry', raw: `${k}=`, prefix: '', key: k, sep: '=', quote: '', value: '', suffix: '', multiline: false };
    emit([...raws, entryLine(stub, newValue)]);
    setNewKey('');
    setNewValue('');
  };

  return (
    <div className="env-editor" data-testid="env-editor">
      <table className="table compact env-table">
        <thead>
          <tr>
            <th scope="col">Key</th>
            <th scope="col">Value</th>
            <th scope="col">
              <span className="sr-only">Remove</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {lines.map((l, i) => {
            if (l.kind !== 'entry') return null;
            const secret = isSecretKey(l.key);
            return (
              <tr key={i} data-key={l.key}>
                <th scope="row" className="mono">
                  <label htmlFor={`env-${i}`}>{l.key}</label>
                  {secret && <span className="tag env-secret">secret</span>}
                </th>
                <td>
                  <input
                    id={`env-${i}`}
                    className="mono env-value"
                    value={l.value}
                    disabled={props.disabled || l.multiline}
                    autoComplete="off"
                    spellCheck={false}
                    onChange={(ev) => setValue(i, l, ev.target.value)}
                    aria-describedby={secret && l.value === MASK ? 'env-mask-hint' : undefined}
                  />
                  {l.multiline && <div className="muted small">A value on several lines: edit it in the raw text.</div>}
                </td>
                <td>
                  <button type="button" className="btn btn-small" disabled={props.disabled} onClick={() => remove(i)} aria-label={`Remove ${l.key}`}>
                    Remove
                  </button>
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
      <p className="muted small" id="env-mask-hint">
        Secret values show as <code>{MASK}</code>: leave them so to keep the stored secret, or type a new one.
      </p>
      {!props.disabled && (
        <div className="inline-form env-add">
          <label>
            New key <input className="mono" value={newKey} onChange={(e) => setNewKey(e.target.value)} spellCheck={false} />
          </label>
          <label>
            Value <input className="mono" value={newValue} onChange={(e) => setNewValue(e.target.value)} spellCheck={false} autoComplete="off" />
          </label>
          <button type="button" className="btn btn-small" onClick={add} disabled={!newKey.trim()}>
            Add key
          </button>
          {keyError && (
            <p className="field-error" role="alert">
              {keyError}
            </p>
          )}
        </div>
      )}
    </div>
  );
}
