import { describe, expect, it } from 'vitest';
import { FILLS_CSV as FILLS, POSITIONS_CSV as POSITIONS } from './fixtures';
import { CsvShapeError, parseFills, parsePositions } from '../src/lib/backtestCsv';
import { investedNotice, meanTurnover, positionSnapshots, turnoverPerRebalance } from '../src/lib/backtestFiles';

describe('fills.csv and positions.csv parsing', () => {
  it('reads the documented columns with numbers as numbers and symbols as text', () => {
    const fills = parseFills(FILLS.replace('2021-01-04,AAA', '2021-01-04,000001').replace('2021-01-05,AAA', '2021-01-05,000001'));
    expect(fills).toHaveLength(4);
    expect(fills[0]).toEqual({ date: '2021-01-04', symbol: '000001', side: 'buy', shares: 4, price: 100, fee: 1, reason: 'rebalance' });
    expect(fills[2]!.side).toBe('sell');
    const pos = parsePositions(POSITIONS);
    expect(pos[2]).toEqual({ date: '2021-01-04', symbol: '$CASH', shares: 98, price: 1, weight: 0.09626719 });
  });

  it('names the missing column, the bad cell and its row', () => {
    expect(() => parseFills('date,symbol,shares,price,fee,reason\n2021-01-04,AAA,1,2,3,x\n')).toThrow(/fills.csv has no 'side' column/);
    expect(() => parseFills(FILLS.replace('5,100,1', 'five,100,1'))).toThrow(/fills.csv row 2: shares 'five' is not a number/);
    expect(() => parseFills(FILLS.replace('AAA,sell', 'AAA,short'))).toThrow(/row 3: side 'short' is not buy or sell/);
    expect(() => parsePositions('date,symbol,shares,price\n')).toThrow(CsvShapeError);
  });
});

describe('positions over time and turnover', () => {
  it('computes equity, invested share and names per snapshot date', () => {
    const snaps = positionSnapshots(parsePositions(POSITIONS));
    expect(snaps.map((s) => s.date)).toEqual(['2021-01-04', '2021-01-05']);
    expect(snaps[0]!.equity).toBe(1018);
    expect(snaps[0]!.invested).toBeCloseTo(920 / 1018, 12);
    expect(snaps[0]!.names).toBe(2);
    expect(snaps[1]!.equity).toBe(1043);
    expect(snaps[1]!.invested).toBeCloseTo(707 / 1043, 12);
    expect(snaps[1]!.names).toBe(1);
  });

  it('turnover per rebalance is (bought + sold) / (2 x that day\'s equity)', () => {
    const snaps = positionSnapshots(parsePositions(POSITIONS));
    const r = turnoverPerRebalance(parseFills(FILLS), snaps);
    expect(r.map((x) => [x.date, x.orders, x.bought, x.sold, x.fees])).toEqual([
      ['2021-01-04', 2, 900, 0, 2],
      ['2021-01-05', 2, 200, 440, 2],
    ]);
    expect(r[0]!.turnover).toBeCloseTo(900 / (2 * 1018), 12);
    expect(r[1]!.turnover).toBeCloseTo(640 / (2 * 1043), 12);
    expect(meanTurnover(r)).toBeCloseTo((900 / 2036 + 640 / 2086) / 2, 12);
  });

  it('a day with fills but no snapshot has no turnover and is left out of the mean', () => {
    const r = turnoverPerRebalance(parseFills(FILLS), positionSnapshots(parsePositions(POSITIONS)).slice(0, 1));
    expect(r[1]!.turnover).toBeNull();
    expect(meanTurnover(r)).toBeCloseTo(900 / 2036, 12);
    expect(meanTurnover([])).toBeNull();
  });
});

describe('the under-50%-invested notice', () => {
  it('shows below 0.5 only', () => {
    expect(investedNotice({ avg_invested_share: 0.15, bars: 100 })).toMatch(/^Kept under 50% invested on average: 15\.0%/);
    expect(investedNotice({ avg_invested_share: 0.4999, bars: 100 })).toMatch(/50\.0%/);
    expect(investedNotice({ avg_invested_share: 0.5, bars: 100 })).toBeNull();
    expect(investedNotice({ avg_invested_share: 0.93, bars: 100 })).toBeNull();
  });

  it('says nothing without the field or without traded bars', () => {
    expect(investedNotice({})).toBeNull();
    expect(investedNotice({ avg_invested_share: 0, bars: 0 })).toBeNull();
  });
});
