import { useQuery } from '@tanstack/react-query';
import { api } from '../api/client';

export function useDashboard() {
  return useQuery({ queryKey: ['dashboard'], queryFn: ({ signal }) => api.dashboard(signal), refetchInterval: 5000 });
}
