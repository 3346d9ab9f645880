// Light / dark colours: follow the system setting unless the user picked one (kept in
// localStorage). The choice is the `data-theme` attribute of <html>; styles.css has both palettes
// and `prefers-color-scheme` for "system".
export type ThemeChoice = 'system' | 'light' | 'dark';
const KEY = 'alphalab.theme';

export function loadTheme(): ThemeChoice {
  try {
    const v = localStorage.getItem(KEY);
    return v === 'light' || v === 'dark' ? v : 'system';
  } catch {
    return 'system';
  }
}

export function applyTheme(choice: ThemeChoice): void {
  try {
    if (choice === 'system') localStorage.removeItem(KEY);
    else localStorage.setItem(KEY, choice);
  } catch {
    /* not kept: still applied */
  }
  const root = document.documentElement;
  if (choice === 'system') root.removeAttribute('data-theme');
  else root.setAttribute('data-theme', choice);
}

export function nextTheme(choice: ThemeChoice): ThemeChoice {
  return choice === 'system' ? 'dark' : choice === 'dark' ? 'light' : 'system';
}
