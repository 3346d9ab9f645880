import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { api, type RegistryQuery } from '../api/client';

export function useRegistryModels(q: RegistryQuery) {
  return useQuery({
    queryKey: ['registry', 'models', q],
    queryFn: ({ signal }) => api.registryModels(q, signal),
    placeholderData: keepPreviousData,
  });
}

export function useRegistryTickers() {
  return useQuery({ queryKey: ['registry', 'tickers'], queryFn: ({ signal }) => api.registryTickers(signal), staleTime: 30_000 });
}
