import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { api, ApiError } from '../api/client';
import type { Fill, PositionRow } from '../lib/backtestFiles';

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

/** Parsers of the folder's CSVs, loaded on first use (the CSV library is a separate chunk). */
export const csvParsers = {
  'fills.csv': async (text: string): Promise<Fill[]> => (await import('../lib/backtestCsv')).parseFills(text),
  'positions.csv': async (text: string): Promise<PositionRow[]> => (await import('../lib/backtestCsv')).parsePositions(text),
};

/** A CSV of a backtest folder, fetched through the files route and parsed (a shape error
 *  becomes an ApiError 'bad_csv' naming the row and column). The folder never changes once written. */
export function useBacktestCsv<T>(btRunId: string, name: string, parse: (text: string) => Promise<T>, enabled: boolean) {
  return useQuery({
    queryKey: ['backtest-file', btRunId, name],
    queryFn: async ({ signal }) => {
      const text = await api.backtestFileText(btRunId, name, signal);
      try {
        return await parse(text);
      } catch (e) {
        if (e instanceof Error && e.name === 'CsvShapeError') throw new ApiError(200, 'bad_csv', e.message, null, `/api/backtests/${btRunId}/files/${name}`);
        throw e;
      }
    },
    enabled: enabled && !!btRunId,
    staleTime: Infinity,
  });
}
