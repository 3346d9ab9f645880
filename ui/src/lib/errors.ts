import { isApiError } from '../api/client';
import { pushToast } from './toastStore';

export function errorText(e: unknown): string {
  if (isApiError(e)) return e.status ? `${e.message} (${e.status} ${e.code})` : e.message;
  if (e instanceof Error) return e.message;
  return String(e);
}

export function toastError(e: unknown, title = 'Request failed'): void {
  pushToast({ kind: 'error', title, body: errorText(e) });
}
