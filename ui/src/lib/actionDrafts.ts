// Per-tab drafts of the Actions forms. A draft is the form's fields as URL query parameters
// (the same names the prefill links use: config_path, tickers, model_path, start, end,
// scores_path, overrides, dry_run, run_id, mode, or a job type's param names), so one shape
// serves both places a draft lives:
//   * the URL (?type=<tab>&<fields>), rewritten in place as the user types, so Back/Forward,
//     a reload and a copied link give the same form;
//   * sessionStorage, one entry per tab, so switching tabs or leaving Actions and coming back
//     (the nav link carries no parameters) restores what was typed in each tab.
// Parameters in the URL win over the stored draft (a prefill link opens what it says); the bare
// /actions opens the last tab with its draft.

const PREFIX = 'alphalab.actions.draft.';

function storage(): Storage | null {
  try {
    return typeof sessionStorage === 'undefined' ? null : sessionStorage;
  } catch {
    return null;
  }
}

const TAB_KEY = 'alphalab.actions.tab';

/** The tab the user was on last (Actions opened with no ?type= goes back to it). */
export function lastTab(): string | null {
  return storage()?.getItem(TAB_KEY) ?? null;
}

export function saveLastTab(tab: string): void {
  try {
    storage()?.setItem(TAB_KEY, tab);
  } catch {
    /* the URL still names the tab */
  }
}

/** The URL's form parameters: everything but `type`. */
export function formParams(sp: URLSearchParams): URLSearchParams {
  const p = new URLSearchParams(sp);
  p.delete('type');
  return p;
}

export function loadDraft(tab: string): URLSearchParams | null {
  const s = storage()?.getItem(PREFIX + tab);
  return s === null || s === undefined ? null : new URLSearchParams(s);
}

export function saveDraft(tab: string, fields: URLSearchParams): void {
  try {
    storage()?.setItem(PREFIX + tab, fields.toString());
  } catch {
    /* storage full or denied: the URL still holds the draft */
  }
}

export function clearDrafts(): void {
  const st = storage();
  if (!st) return;
  for (let i = st.length - 1; i >= 0; i--) {
    const k = st.key(i);
    if (k?.startsWith(PREFIX) || k === TAB_KEY) st.removeItem(k);
  }
}

/** What a tab's form starts from. A URL with parameters is a link (a prefill, Back/Forward, a
 * reload, `?type=train` alone = the defaults): its fields. The bare `/actions` (the nav link):
 * the tab's stored draft. */
export function initialFields(tab: string, sp: URLSearchParams): URLSearchParams {
  if ([...sp.keys()].length > 0) return formParams(sp);
  return loadDraft(tab) ?? new URLSearchParams();
}

/** The URL of a tab showing `fields`. */
export function draftUrlParams(tab: string, fields: URLSearchParams): URLSearchParams {
  const p = new URLSearchParams();
  p.set('type', tab);
  for (const [k, v] of fields) p.append(k, v);
  return p;
}

/** Builds a draft from [name, value] pairs, leaving out empty values and false flags. */
export function fieldsOf(pairs: [string, string | boolean | undefined][]): URLSearchParams {
  const p = new URLSearchParams();
  for (const [k, v] of pairs) {
    if (v === undefined || v === false || v === '') continue;
    p.append(k, v === true ? '1' : v);
  }
  return p;
}
