import { useSyncExternalStore } from 'react';
import { getToasts, subscribeToasts } from '../lib/toastStore';

export function useToasts() {
  return useSyncExternalStore(subscribeToasts, getToasts, getToasts);
}
