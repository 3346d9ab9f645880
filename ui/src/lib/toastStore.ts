// A tiny global toast queue, usable from React Query callbacks and components alike.
export type ToastKind = 'success' | 'error' | 'info';

export interface Toast {
  id: number;
  kind: ToastKind;
  title: string;
  body?: string;
  link?: { to: string; label: string };
}

type Listener = () => void;
let toasts: Toast[] = [];
let nextId = 1;
const listeners = new Set<Listener>();
const TTL_MS = { success: 8000, info: 6000, error: 10000 };

function emit(): void {
  for (const l of listeners) l();
}

export function pushToast(t: Omit<Toast, 'id'>): number {
  // The same error from a poll every few seconds shows once while it is visible.
  const dup = toasts.find((x) => x.kind === t.kind && x.title === t.title && x.body === t.body);
  if (dup) return dup.id;
  const id = nextId++;
  toasts = [...toasts.slice(-4), { ...t, id }];
  emit();
  setTimeout(() => dismissToast(id), TTL_MS[t.kind]);
  return id;
}

export function dismissToast(id: number): void {
  const before = toasts.length;
  toasts = toasts.filter((t) => t.id !== id);
  if (toasts.length !== before) emit();
}

export function subscribeToasts(l: Listener): () => void {
  listeners.add(l);
  return () => listeners.delete(l);
}

export function getToasts(): Toast[] {
  return toasts;
}
