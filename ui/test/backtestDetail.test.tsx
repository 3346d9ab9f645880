import { describe, expect, it, vi } from 'vitest';
import { fireEvent, screen, within } from '@testing-library/react';
import { BacktestDetailPage } from '../src/pages/BacktestDetail';
import { FILLS_PER_PAGE } from '../src/components/BacktestActivity';
import { MockServer } from './mockServer';
import { renderRoute } from './render';
import { backtestDetail, FILLS_CSV, POSITIONS_CSV } from './fixtures';

vi.mock('../src/components/TimeSeriesChart', () => import('./chartMock'));

const file = (name: string, size = 100) => ({ name, type: 'file' as const, size });
const summary = { cagr: 0.05, trades: 1, bars: 2, warmup_bars: 520, avg_invested_share: 0.15, risk_off_share: 0.25, lockout_spells: [{ start: '2021-01-04', end: '2021-01-05', bars: 2 }], strategy: { type: 'topn' } };

function serve(over: Parameters<typeof backtestDetail>[0] = {}, fills = FILLS_CSV, positions = POSITIONS_CSV) {
  return new MockServer()
    .on('GET', '/api/backtests/bt_1', { body: backtestDetail({ summary, files: [file('summary.json'), file('fills.csv'), file('positions.csv'), file('scores.csv'), file('trades.csv')], ...over }) })
    .on('GET', '/api/backtests/bt_1/files/fills.csv', { text: fills })
    .on('GET', '/api/backtests/bt_1/files/positions.csv', { text: positions })
    .install();
}

describe('Backtest detail: what the engine writes', () => {
  it('shows the summary cards and the under-50% notice', async () => {
    serve();
    renderRoute(<BacktestDetailPage />, '/backtests/:btRunId', '/backtests/bt_1');
    const stats = await screen.findByTestId('backtest-stats');
    expect(stats.textContent).toContain('Warm-up bars520');
    expect(stats.textContent).toContain('Avg invested15.0%');
    expect(stats.textContent).toContain('Risk-off share25.0%');
    expect(stats.textContent).toContain('Lock-out spells1');
    expect(screen.getByTestId('invested-notice').textContent).toMatch(/^Kept under 50% invested on average: 15\.0%/);
    expect(screen.getByTestId('lockout-spells').textContent).toContain('2021-01-04 → 2021-01-05 (2 bars)');
  });

  it('no notice at 50% or more invested', async () => {
    serve({ summary: { ...summary, avg_invested_share: 0.8, lockout_spells: [] } });
    renderRoute(<BacktestDetailPage />, '/backtests/:btRunId', '/backtests/bt_1');
    await screen.findByTestId('backtest-stats');
    expect(screen.queryByTestId('invested-notice')).toBeNull();
    expect(screen.queryByTestId('lockout-spells')).toBeNull();
  });

  it('reads fills.csv and positions.csv through the files route: fills table, positions and turnover', async () => {
    const s = serve();
    renderRoute(<BacktestDetailPage />, '/backtests/:btRunId', '/backtests/bt_1');
    const table = await screen.findByTestId('fills-table');
    const rows = within(table).getAllByRole('row');
    expect(rows.map((r) => [...r.querySelectorAll('th,td')].map((c) => c.textContent))).toEqual([
      ['Date', 'Symbol', 'Side', 'Shares', 'Price', 'Fee', 'Reason'],
      ['2021-01-04', 'AAA', 'buy', '4', '100.00', '1.00', 'rebalance'],
      ['2021-01-04', 'BBB', 'buy', '5', '100.00', '1.00', 'rebalance'],
      ['2021-01-05', 'AAA', 'sell', '4', '110.00', '1.00', 'rebalance'],
      ['2021-01-05', 'BBB', 'buy', '2', '100.00', '1.00', 'rebalance'],
    ]);
    expect(screen.getByRole('heading', { name: 'Fills (4)' })).toBeTruthy();
    expect(screen.getByTestId('series-Names').textContent).toBe('2021-01-04=2 2021-01-05=1');
    expect(screen.getByTestId('series-Invested').textContent).toBe(`2021-01-04=${920 / 1018} 2021-01-05=${707 / 1043}`);
    // holdings last until the next snapshot: drawn as steps, not interpolated
    expect(screen.getByTestId('series-Invested').getAttribute('data-step')).toBe('true');
    expect(screen.getByTestId('series-Names').getAttribute('data-step')).toBe('true');
    // turnover: 900 / 2036 = 44.2%, 640 / 2086 = 30.7%, mean 37.4%
    expect(screen.getByTestId('turnover-summary').textContent).toBe('2 days with fills · average turnover 37.4% per rebalance · fees 4.00');
    const tt = within(screen.getByTestId('turnover-table')).getAllByRole('row').map((r) => r.lastElementChild?.textContent);
    expect(tt).toEqual(['Turnover', '44.2%', '30.7%']);
    expect(s.callsTo('/api/backtests/bt_1/files/fills.csv')).toHaveLength(1);
    expect(s.callsTo('/api/backtests/bt_1/files/positions.csv')).toHaveLength(1);
  });

  it('offers downloads of the files the folder has', async () => {
    serve();
    renderRoute(<BacktestDetailPage />, '/backtests/:btRunId', '/backtests/bt_1');
    const d = await screen.findByTestId('downloads');
    const links = within(d).getAllByRole('link');
    expect(links.map((a) => a.getAttribute('href'))).toEqual([
      '/api/backtests/bt_1/files/fills.csv',
      '/api/backtests/bt_1/files/positions.csv',
      '/api/backtests/bt_1/files/scores.csv',
      '/api/backtests/bt_1/files/trades.csv',
    ]);
    expect(links[2]!.getAttribute('download')).toBe('scores.csv');
  });

  it('pages a long fills.csv', async () => {
    const many = 'date,symbol,side,shares,price,fee,reason\n' + Array.from({ length: 120 }, (_, i) => `2021-01-04,S${i},buy,1,10,0.01,rebalance`).join('\n');
    serve({}, many);
    renderRoute(<BacktestDetailPage />, '/backtests/:btRunId', '/backtests/bt_1');
    const table = await screen.findByTestId('fills-table');
    expect(within(table).getAllByRole('row')).toHaveLength(FILLS_PER_PAGE + 1);
    expect(within(table).getByText('S0')).toBeTruthy();
    const pager = table.closest('section')!.querySelector('.pager') as HTMLElement;
    fireEvent.click(within(pager).getByRole('button', { name: 'Next' }));
    expect(within(screen.getByTestId('fills-table')).getByText('S50')).toBeTruthy();
    expect(within(screen.getByTestId('fills-table')).queryByText('S0')).toBeNull();
  });

  it('does not read a file above the size limit and says why', async () => {
    const s = serve({ files: [file('fills.csv', 64 * 1024 * 1024), file('positions.csv')] });
    renderRoute(<BacktestDetailPage />, '/backtests/:btRunId', '/backtests/bt_1');
    await screen.findByTestId('too-large-fills.csv');
    await screen.findByTestId('series-Names');
    expect(s.callsTo('/api/backtests/bt_1/files/fills.csv')).toHaveLength(0);
  });

  it('shows a malformed fills.csv as an error naming the column', async () => {
    serve({}, 'date,symbol,shares\n2021-01-04,AAA,1\n');
    renderRoute(<BacktestDetailPage />, '/backtests/:btRunId', '/backtests/bt_1');
    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toMatch(/fills.csv has no 'side', 'price', 'fee', 'reason' column/);
  });

  it('a file the route refuses shows its ApiError in the panel', async () => {
    new MockServer()
      .on('GET', '/api/backtests/bt_1', { body: backtestDetail({ summary, files: [file('fills.csv')] }) })
      .on('GET', '/api/backtests/bt_1/files/fills.csv', { status: 404, body: { error: { code: 'NOT_FOUND', message: "backtest 'bt_1' has no file 'fills.csv'", details: null } } })
      .install();
    renderRoute(<BacktestDetailPage />, '/backtests/:btRunId', '/backtests/bt_1');
    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toMatch(/has no file 'fills.csv' \(404 NOT_FOUND\)/);
  });

  it('the trades table has the exit_reason column', async () => {
    serve({
      trades: [{ symbol: 'AAA', entry_date: '2021-01-04', entry_price: 100, exit_date: '2021-01-05', exit_price: 110, shares: 4, pnl: 38, return: 0.0948, fees: 2, exit_reason: 'delisted' }],
      trades_total: 1,
    });
    renderRoute(<BacktestDetailPage />, '/backtests/:btRunId', '/backtests/bt_1');
    const table = await screen.findByTestId('trades-table');
    expect(within(table).getByRole('columnheader', { name: 'Exit reason' })).toBeTruthy();
    expect(within(table).getByText('delisted')).toBeTruthy();
  });

  it('a backtest without the new files shows neither panel nor downloads', async () => {
    serve({ summary: { cagr: 0.1 }, files: [file('summary.json')] });
    renderRoute(<BacktestDetailPage />, '/backtests/:btRunId', '/backtests/bt_1');
    const stats = await screen.findByTestId('backtest-stats');
    expect(stats.textContent).toContain('Warm-up bars—');
    expect(screen.queryByTestId('downloads')).toBeNull();
    expect(screen.queryByTestId('positions-panel')).toBeNull();
    expect(screen.queryByTestId('invested-notice')).toBeNull();
  });
});

describe('Backtest detail: the benchmark overlay', () => {
  const curve = [
    { date: '2021-01-04', equity: 1_000_000, drawdown: 0, benchmark: 1_000_000 },
    { date: '2021-01-05', equity: 1_050_000, drawdown: 0, benchmark: 990_000 },
  ];
  it('draws the equity.csv benchmark column on the equity chart, named in the legend, and toggles it', async () => {
    serve({ summary: { ...summary, tickers: ['AAA'], benchmark: { kind: 'buy_and_hold', symbols: ['AAA'], total_return: -0.01 }, benchmark_return: -0.01 }, equity_curve: curve });
    renderRoute(<BacktestDetailPage />, '/backtests/:btRunId', '/backtests/bt_1');
    const toggle = await screen.findByRole('checkbox', { name: /Show benchmark: buy & hold AAA/ });
    expect(screen.getByTestId('benchmark-toggle').textContent).toContain('(-1.00% over the same bars)');
    expect(screen.getByTestId('series-buy & hold AAA').textContent).toBe('2021-01-04=1000000 2021-01-05=990000');
    fireEvent.click(toggle);
    expect(screen.queryByTestId('series-buy & hold AAA')).toBeNull();
    expect(screen.getByTestId('series-Equity')).toBeTruthy();
  });

  it('says which tickers an equal-weight benchmark holds', async () => {
    serve({ summary: { ...summary, benchmark: { kind: 'equal_weight', symbols: ['A', 'B', 'C', 'D'], total_return: 0.1 } }, equity_curve: curve });
    renderRoute(<BacktestDetailPage />, '/backtests/:btRunId', '/backtests/bt_1');
    expect(await screen.findByRole('checkbox', { name: /equal-weight buy & hold of its 4 tickers/ })).toBeTruthy();
  });

  it('an older backtest without one shows a note and no overlay', async () => {
    serve();
    renderRoute(<BacktestDetailPage />, '/backtests/:btRunId', '/backtests/bt_1');
    expect((await screen.findByTestId('benchmark-note')).textContent).toMatch(/^No benchmark/);
    expect(screen.queryByRole('checkbox', { name: /Show benchmark/ })).toBeNull();
  });
});
