// Keyboard moves of a tab list (WAI-ARIA tabs, automatic activation): ArrowRight / ArrowLeft go
// to the next / previous tab (wrapping), Home / End to the ends. The chosen tab is selected and
// focused at once: every tab button is always rendered, so focus does not wait for a re-render.
import type { KeyboardEvent } from 'react';

export function onTabListKey<T extends string>(
  e: KeyboardEvent,
  ids: readonly T[],
  current: T,
  select: (id: T) => void,
  buttonId: (id: T) => string,
): void {
  const i = ids.indexOf(current);
  const n = ids.length;
  const to = e.key === 'ArrowRight' ? i + 1 : e.key === 'ArrowLeft' ? i - 1 : e.key === 'Home' ? 0 : e.key === 'End' ? n - 1 : null;
  if (to === null || n === 0) return;
  e.preventDefault();
  const next = ids[(to + n) % n]!;
  select(next);
  document.getElementById(buttonId(next))?.focus();
}
