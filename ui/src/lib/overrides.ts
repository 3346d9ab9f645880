// Parsing of the overrides textarea: one `key=value` per line,
// blank lines and `#` comments ignored, malformed lines flagged, later duplicates win.
// A line is valid exactly when the server would take it: the rule is the OpenAPI document's
// `OverrideItem` pattern (the jobs API's own check, tested against it on the server side), and
// the preview shows each value typed the way the server reads it (YAML scalars: integers,
// numbers, booleans, null, flow lists).
import openapi from '../api/openapi.gen.json';

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
  values: Record<string, string>; // key -> value as typed
  typed: Record<string, unknown>; // key -> value as the server reads it (the preview)
  overrides: string[]; // what is sent: ["key=value", ...] in order, duplicates collapsed to the last
  errors: OverrideLine[];
}

interface OverrideItemSchema {
  pattern: string;
}

/** The server's rule for one `key=value` item, from the OpenAPI document. */
export const OVERRIDE_ITEM_PATTERN: string = (openapi as unknown as { components: { schemas: { OverrideItem: OverrideItemSchema } } }).components.schemas.OverrideItem.pattern;
const ITEM_RE = new RegExp(OVERRIDE_ITEM_PATTERN);
const KEY_START_RE = /^[^=]*/;

const TRUE_WORDS = new Set(['y', 'Y', 'yes', 'Yes', 'YES', 'true', 'True', 'TRUE', 'on', 'On', 'ON']);
const FALSE_WORDS = new Set(['n', 'N', 'no', 'No', 'NO', 'false', 'False', 'FALSE', 'off', 'Off', 'OFF']);
const NULL_WORDS = new Set(['', '~', 'null', 'Null', 'NULL']);

/** One YAML scalar as the server's config reader types it (quoted -> string). */
export function typedScalar(text: string): unknown {
  const s = text.trim();
  if (NULL_WORDS.has(s)) return null;
  if (s.length >= 2 && ((s.startsWith('"') && s.endsWith('"')) || (s.startsWith("'") && s.endsWith("'")))) return s.slice(1, -1);
  if (/^[-+]?[0-9]+$/.test(s)) {
    const n = Number(s);
    if (Number.isSafeInteger(n)) return n;
  }
  if (/^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$/.test(s)) {
    const n = Number(s);
    if (Number.isFinite(n)) return n;
  }
  if (TRUE_WORDS.has(s)) return true;
  if (FALSE_WORDS.has(s)) return false;
  return s;
}

/** A value as the server reads it: a flat flow list `[a, 1]` becomes a typed array, else one scalar. */
export function typedValue(text: string): unknown {
  const s = text.trim();
  if (s.startsWith('[') && s.endsWith(']') && !/[[\]{}]/.test(s.slice(1, -1))) {
    const inner = s.slice(1, -1).trim();
    return inner === '' ? [] : inner.split(',').map(typedScalar);
  }
  return typedScalar(s);
}

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
      else if (!ITEM_RE.test(`${key}=${value}`)) {
        const k = KEY_START_RE.exec(key)?.[0] ?? key;
        entry.error = `invalid key "${k}" (the server takes letters, digits and _ in dot-separated parts, starting with a letter or _)`;
      } else {
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
  const typed: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(values)) typed[k] = typedValue(v);
  return { lines, values, typed, overrides, errors: lines.filter((l) => l.error) };
}
