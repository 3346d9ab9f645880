import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { api } from '../api/client';

export const EQUITY_POINTS = 2000;

export function useBacktests(limit: number, offset: number) {
  return useQuery({
    queryKey: ['backtests', limit, offset],
    queryFn: ({ signal }) => api.backtests(limit, offset, signal),
    placeholderData: keepPreviousData,
    refetchInterval: 5000,
  });
}

export function useBacktest(btRunId: string | undefined) {
  return useQuery({
    queryKey: ['backtest', btRunId],
    queryFn: ({ signal }) => api.backtest(btRunId!, EQUITY_POINTS, signal),
    enabled: !!btRunId,
  });
}
