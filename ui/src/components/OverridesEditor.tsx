import { useMemo } from 'react';
import { parseOverrides, type ParsedOverrides } from '../lib/overrides';
import { CopyButton } from './CopyButton';

/** Overrides textarea + Parsed Overrides Preview. */
export function OverridesEditor({ value, onChange, id }: { value: string; onChange: (v: string) => void; id: string }) {
  const parsed: ParsedOverrides = useMemo(() => parseOverrides(value), [value]);
  // The values as the server will read them (numbers, booleans, null, lists), not as typed.
  const json = JSON.stringify(parsed.typed, null, 2);
  return (
    <div className="overrides">
      <label htmlFor={id}>Overrides (one key=value per line; # comments and blank lines are ignored)</label>
      <textarea id={id} rows={6} value={value} onChange={(e) => onChange(e.target.value)} spellCheck={false} className="mono" placeholder={'model.params.max_depth=6\nlabel.horizon_days=20\n# a comment'} />
      <div className="preview" data-testid="overrides-preview">
        <div className="preview-head">
          <strong>Parsed Overrides Preview</strong>
          <span className="muted small">
            {Object.keys(parsed.values).length} key(s)
            {parsed.errors.length > 0 && <span className="text-error"> · {parsed.errors.length} invalid line(s)</span>}
          </span>
          <span className="spacer" />
          <CopyButton text={json} label="Copy JSON" />
        </div>
        {parsed.lines.some((l) => l.error || l.warning) && (
          <ul className="override-issues">
            {parsed.lines
              .filter((l) => l.error || l.warning)
              .map((l) => (
                <li key={l.line} className={l.error ? 'text-error' : 'text-warn'} data-testid={l.error ? 'override-error' : 'override-warning'}>
                  line {l.line}: <code>{l.raw}</code> — {l.error ?? l.warning}
                </li>
              ))}
          </ul>
        )}
        <pre className="json-preview">{json}</pre>
      </div>
    </div>
  );
}
