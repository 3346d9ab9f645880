// The Backtest detail page's view of fills.csv and positions.csv: positions over time
// (invested share, names held), turnover per rebalance, and the fills table.
import { useMemo, useState } from 'react';
import { api } from '../api/client';
import { csvParsers, useBacktestCsv } from '../hooks/useBacktests';
import { MAX_CSV_BYTES, meanTurnover, positionSnapshots, turnoverPerRebalance, type Fill, type Rebalance, type Snapshot } from '../lib/backtestFiles';
import { fmtBytes, fmtInt, fmtMoney, fmtPct } from '../lib/format';
import type { FileEntry } from '../types/api';
import { Pager } from './Pager';
import { Empty, ErrorState, Loading } from './States';
import { TimeSeriesChart, type ChartSeries } from './TimeSeriesChart';

export const FILLS_PER_PAGE = 50;
const REBALANCES_PER_PAGE = 25;
const pctAxis = (v: number) => `${(v * 100).toFixed(0)}%`;
// Names are whole numbers: fractional ticks get no label (else 0.5 would print as 1).
const intAxis = (v: number) => (Number.isInteger(v) ? String(v) : '');

/** The data files a researcher downloads from the page, in this order, when the folder has them. */
export const DOWNLOADS = ['fills.csv', 'positions.csv', 'scores.csv', 'trades.csv', 'equity.csv'] as const;

export function Downloads({ btRunId, files }: { btRunId: string; files: readonly FileEntry[] }) {
  const present = DOWNLOADS.map((n) => files.find((f) => f.name === n && f.type === 'file')).filter((f): f is FileEntry => !!f);
  if (present.length === 0) return null;
  return (
    <p className="downloads" data-testid="downloads">
      <span className="muted">Download:</span>{' '}
      {present.map((f) => (
        <a key={f.name} className="btn btn-small" href={api.backtestFileUrl(btRunId, f.name)} download={f.name} data-testid={`download-${f.name}`}>
          {f.name}
          {f.size != null ? <span className="muted"> · {fmtBytes(f.size)}</span> : null}
        </a>
      ))}
    </p>
  );
}

export function FillsTable({ fills }: { fills: readonly Fill[] }) {
  const [offset, setOffset] = useState(0);
  if (fills.length === 0) return <Empty>No fills.</Empty>;
  const rows = fills.slice(offset, offset + FILLS_PER_PAGE);
  return (
    <>
      <div className="table-wrap">
        <table className="table" data-testid="fills-table">
          <thead>
            <tr>
              <th>Date</th>
              <th>Symbol</th>
              <th>Side</th>
              <th className="num">Shares</th>
              <th className="num">Price</th>
              <th className="num">Fee</th>
              <th>Reason</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((f, i) => (
              <tr key={`${offset + i}`}>
                <td className="nowrap">{f.date}</td>
                <td>{f.symbol}</td>
                <td className={f.side === 'buy' ? 'pos' : 'neg'}>{f.side}</td>
                <td className="num">{fmtInt(f.shares)}</td>
                <td className="num">{fmtMoney(f.price)}</td>
                <td className="num">{fmtMoney(f.fee)}</td>
                <td>{f.reason || '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {fills.length > FILLS_PER_PAGE && <Pager total={fills.length} limit={FILLS_PER_PAGE} offset={offset} onChange={setOffset} />}
    </>
  );
}

function PositionsCharts({ snapshots }: { snapshots: readonly Snapshot[] }) {
  const dates = useMemo(() => snapshots.map((s) => s.date), [snapshots]);
  const invested: ChartSeries[] = useMemo(() => [{ label: 'Invested', values: snapshots.map((s) => s.invested), stroke: '#7c3aed', fill: 'rgba(124,58,237,0.10)', step: true }], [snapshots]);
  const names: ChartSeries[] = useMemo(() => [{ label: 'Names', values: snapshots.map((s) => s.names), stroke: '#0f766e', step: true }], [snapshots]);
  if (snapshots.length === 0) return <Empty>positions.csv has no rows.</Empty>;
  return (
    <>
      <TimeSeriesChart title="Invested share (holdings / equity at each snapshot)" dates={dates} series={invested} height={180} format={pctAxis} testId="invested-chart" />
      <TimeSeriesChart title="Names held" dates={dates} series={names} height={140} format={intAxis} testId="names-chart" />
    </>
  );
}

function TurnoverView({ rebalances }: { rebalances: readonly Rebalance[] }) {
  const [offset, setOffset] = useState(0);
  const known = useMemo(() => rebalances.filter((r) => r.turnover !== null), [rebalances]);
  const dates = useMemo(() => known.map((r) => r.date), [known]);
  const series: ChartSeries[] = useMemo(() => [{ label: 'Turnover', values: known.map((r) => r.turnover as number), stroke: '#ea580c' }], [known]);
  if (rebalances.length === 0) return <Empty>No rebalances.</Empty>;
  const avg = meanTurnover(rebalances);
  const rows = rebalances.slice(offset, offset + REBALANCES_PER_PAGE);
  return (
    <>
      <p data-testid="turnover-summary">
        {fmtInt(rebalances.length)} days with fills · average turnover {fmtPct(avg)} per rebalance · fees {fmtMoney(rebalances.reduce((a, r) => a + r.fees, 0))}
      </p>
      {known.length > 1 && <TimeSeriesChart title="Turnover per rebalance" dates={dates} series={series} height={160} format={pctAxis} testId="turnover-chart" />}
      <details>
        <summary>Turnover per rebalance (table)</summary>
        <div className="table-wrap">
          <table className="table compact" data-testid="turnover-table">
            <thead>
              <tr>
                <th>Date</th>
                <th className="num">Orders</th>
                <th className="num">Bought</th>
                <th className="num">Sold</th>
                <th className="num">Fees</th>
                <th className="num">Turnover</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((r) => (
                <tr key={r.date}>
                  <td className="nowrap">{r.date}</td>
                  <td className="num">{fmtInt(r.orders)}</td>
                  <td className="num">{fmtMoney(r.bought)}</td>
                  <td className="num">{fmtMoney(r.sold)}</td>
                  <td className="num">{fmtMoney(r.fees)}</td>
                  <td className="num">{fmtPct(r.turnover)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        {rebalances.length > REBALANCES_PER_PAGE && <Pager total={rebalances.length} limit={REBALANCES_PER_PAGE} offset={offset} onChange={setOffset} />}
      </details>
    </>
  );
}

function TooLarge({ file }: { file: FileEntry }) {
  return (
    <div className="notice notice-warn" data-testid={`too-large-${file.name}`}>
      {file.name} is {fmtBytes(file.size ?? 0)}: too large to show here (limit {fmtBytes(MAX_CSV_BYTES)}); use its download link.
    </div>
  );
}

/** Fills, positions over time and turnover from the folder's fills.csv / positions.csv (when present). */
export function BacktestActivity({ btRunId, files }: { btRunId: string; files: readonly FileEntry[] }) {
  const fillsFile = files.find((f) => f.name === 'fills.csv' && f.type === 'file');
  const posFile = files.find((f) => f.name === 'positions.csv' && f.type === 'file');
  const fitsFills = !!fillsFile && (fillsFile.size ?? 0) <= MAX_CSV_BYTES;
  const fitsPos = !!posFile && (posFile.size ?? 0) <= MAX_CSV_BYTES;
  const fills = useBacktestCsv(btRunId, 'fills.csv', csvParsers['fills.csv'], fitsFills);
  const positions = useBacktestCsv(btRunId, 'positions.csv', csvParsers['positions.csv'], fitsPos);
  const snapshots = useMemo(() => (positions.data ? positionSnapshots(positions.data) : null), [positions.data]);
  const rebalances = useMemo(() => (fills.data && snapshots ? turnoverPerRebalance(fills.data, snapshots) : null), [fills.data, snapshots]);
  if (!fillsFile && !posFile) return null;
  return (
    <>
      <section className="panel" data-testid="positions-panel">
        <h2>Positions over time</h2>
        {!posFile ? (
          <Empty>This backtest has no positions.csv.</Empty>
        ) : !fitsPos ? (
          <TooLarge file={posFile} />
        ) : positions.isLoading ? (
          <Loading what="Reading positions.csv" />
        ) : !snapshots ? (
          <ErrorState error={positions.error} onRetry={() => void positions.refetch()} />
        ) : (
          <PositionsCharts snapshots={snapshots} />
        )}
        <h3>Turnover</h3>
        {fills.isLoading || positions.isLoading ? (
          <Loading what="Computing turnover" />
        ) : rebalances ? (
          <TurnoverView rebalances={rebalances} />
        ) : (
          <Empty>Turnover needs both fills.csv and positions.csv.</Empty>
        )}
      </section>
      <section className="panel">
        <h2>Fills{fills.data ? ` (${fmtInt(fills.data.length)})` : ''}</h2>
        {!fillsFile ? (
          <Empty>This backtest has no fills.csv.</Empty>
        ) : !fitsFills ? (
          <TooLarge file={fillsFile} />
        ) : fills.isLoading ? (
          <Loading what="Reading fills.csv" />
        ) : !fills.data ? (
          <ErrorState error={fills.error} onRetry={() => void fills.refetch()} />
        ) : (
          <FillsTable fills={fills.data} />
        )}
      </section>
    </>
  );
}
