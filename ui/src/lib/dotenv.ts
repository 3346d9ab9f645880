// The `.env` key-field editor's model: the file as lines, each either a `KEY=VALUE` entry or
// something kept as is (comments, blanks, a multi-line value's continuation). Unchanged entries
// are written back byte for byte, so a save that touches one key changes one line; the server
// validates the result (docs/configs.md, "The .env grammar") and keeps `********` secrets.

export const MASK = '********';

export type EnvQuote = '' | '"' | "'";

export interface EnvEntry {
  kind: 'entry';
  /** the original line (written back as is while the value is unchanged) */
  raw: string;
  prefix: string; // leading spaces and `export `
  key: string;
  sep: string; // ` = ` as written
  quote: EnvQuote;
  /** the value as shown in the field (quotes removed; escapes left as written) */
  value: string;
  /** what follows the value on the line (a closing quote's trailing comment) */
  suffix: string;
  /** a double-quoted value spanning lines: edited in the raw text only */
  multiline: boolean;
}

export interface EnvOther {
  kind: 'other';
  raw: string;
}

export type EnvLine = EnvEntry | EnvOther;

const ENTRY = /^(\s*(?:export\s+)?)([A-Za-z_][A-Za-z0-9_.-]*)(\s*=\s*)(.*)$/;

/** Splits one value text (everything after `=`) into quote, value and suffix. */
function splitValue(text: string): { quote: EnvQuote; value: string; suffix: string; open: boolean } {
  const q = text[0];
  if (q === '"' || q === "'") {
    for (let i = 1; i < text.length; i++) {
      if (text[i] === '\\') {
        i++;
        continue;
      }
      if (text[i] === q) return { quote: q, value: text.slice(1, i), suffix: text.slice(i + 1), open: false };
    }
    return { quote: q, value: text.slice(1), suffix: '', open: true };
  }
  const hash = text.search(/\s#/);
  if (hash >= 0) return { quote: '', value: text.slice(0, hash).trimEnd(), suffix: text.slice(text.slice(0, hash).trimEnd().length), open: false };
  const value = text.trimEnd();
  return { quote: '', value, suffix: text.slice(value.length), open: false };
}

/** The file as lines (a trailing newline gives no extra line; see `serializeEnv`). */
export function parseEnv(content: string): EnvLine[] {
  const lines = content.split('\n');
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  const out: EnvLine[] = [];
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!;
    const m = ENTRY.exec(raw);
    if (!m || raw.trimStart().startsWith('#')) {
      out.push({ kind: 'other', raw });
      continue;
    }
    const v = splitValue(m[4]!);
    if (v.open && v.quote === '"') {
      // a double-quoted value spanning lines: the entry covers them all
      let j = i;
      let joined = raw;
      while (j + 1 < lines.length && !/(^|[^\\])"/.test(lines[j + 1]!)) joined += '\n' + lines[++j]!;
      if (j + 1 < lines.length) joined += '\n' + lines[++j]!;
      out.push({ kind: 'entry', raw: joined, prefix: m[1]!, key: m[2]!, sep: m[3]!, quote: '"', value: joined.slice(m[1]!.length + m[2]!.length + m[3]!.length + 1), suffix: '', multiline: true });
      i = j;
      continue;
    }
    out.push({ kind: 'entry', raw, prefix: m[1]!, key: m[2]!, sep: m[3]!, quote: v.quote, value: v.value, suffix: v.suffix, multiline: false });
  }
  return out;
}

/** How a changed value is written: its old quotes when they still hold it, else double quotes
 * (escaping `\` and `"`) when it has spaces, `#` or quotes, else bare. */
export function formatValue(value: string, quote: EnvQuote): string {
  if (quote === "'" && !value.includes("'")) return `'${value}'`;
  if (quote === '"' || /[\s#'"\\]/.test(value)) return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
  return value;
}

/** One entry's line: the original when the value is unchanged. */
export function entryLine(e: EnvEntry, value: string): string {
  if (value === e.value) return e.raw;
  const suffix = e.quote === '' ? e.suffix.replace(/^\s*$/, '') : e.suffix;
  return `${e.prefix}${e.key}${e.sep}${formatValue(value, e.quote)}${suffix}`;
}

export function serializeEnv(lines: string[], trailingNewline: boolean): string {
  const body = lines.join('\n');
  return trailingNewline && lines.length > 0 ? body + '\n' : body;
}

/** Keys whose values the server masks: a word part KEY, TOKEN, SECRET, PASSWORD, PASSWD or
 * CREDENTIAL(S), parts split on non-alphanumerics (docs/configs.md, "Secrets"). */
export function isSecretKey(key: string): boolean {
  return key
    .toUpperCase()
    .split(/[^A-Z0-9]+/)
    .some((p) => ['KEY', 'TOKEN', 'SECRET', 'PASSWORD', 'PASSWD', 'CREDENTIAL', 'CREDENTIALS'].includes(p));
}

export const ENV_KEY = /^[A-Za-z_][A-Za-z0-9_.-]*$/;
