// Parsing of the overrides textarea: one `key=value` per line,
// blank lines and `#` comments ignored, malformed lines flagged, later duplicates win.

export interface OverrideLine {
  line: number; // 1-based line number in the textarea
  raw: string;
  key?: string;
  value?: string;
  error?: string;
  warning?: string;
}

export interface ParsedOverrides {
  lines: OverrideLine[]; // meaningful (non-blank, non-comment) lines only
  values: Record<string, string>; // the dict preview
  overrides: string[]; // what is sent: ["key=value", ...] in order, duplicates collapsed to the last
  errors: OverrideLine[];
}

const KEY_RE = /^[A-Za-z_][A-Za-z0-9_\-]*(\.[A-Za-z0-9_\-]+)*$/;

export function parseOverrides(text: string): ParsedOverrides {
  const lines: OverrideLine[] = [];
  const values: Record<string, string> = {};
  const lastLineOfKey = new Map<string, number>();
  text.split(/\r?\n/).forEach((rawLine, i) => {
    const trimmed = rawLine.trim();
    if (trimmed === '' || trimmed.startsWith('#')) return;
    const entry: OverrideLine = { line: i + 1, raw: trimmed };
    const eq = trimmed.indexOf('=');
    if (eq < 0) {
      entry.error = 'missing "=" (expected key=value)';
    } else {
      const key = trimmed.slice(0, eq).trim();
      const value = trimmed.slice(eq + 1).trim();
      if (key === '') entry.error = 'empty key';
      else if (!KEY_RE.test(key)) entry.error = `invalid key "${key}" (letters, digits, _ and - separated by dots)`;
      else if (value === '') entry.error = `empty value for "${key}"`;
      else {
        entry.key = key;
        entry.value = value;
        if (lastLineOfKey.has(key)) {
          entry.warning = `overrides line ${lastLineOfKey.get(key)} (same key)`;
        }
        lastLineOfKey.set(key, i + 1);
        values[key] = value;
      }
    }
    lines.push(entry);
  });
  const overrides = Object.entries(values).map(([k, v]) => `${k}=${v}`);
  return { lines, values, overrides, errors: lines.filter((l) => l.error) };
}
