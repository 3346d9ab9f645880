import { Link } from 'react-router-dom';
import { useModalDialog } from '../hooks/useModalDialog';
import type { RegistryModelRow } from '../types/api';
import { bestIndex } from '../lib/compare';
import { fmtConfusionTitle, fmtInt, fmtLabel, fmtModelLift, fmtModelPrecision, fmtPct, predictedAnyPositive } from '../lib/format';

interface Col {
  label: string;
  pick: (r: RegistryModelRow) => number | null;
  fmt: (r: RegistryModelRow) => string;
  higher?: boolean; // which direction is better (for highlighting); undefined = no highlight
}

const COLS: Col[] = [
  { label: 'Precision', pick: (r) => (predictedAnyPositive(r) ? r.precision : null), fmt: (r) => fmtModelPrecision(r), higher: true },
  { label: 'Lift', pick: (r) => (predictedAnyPositive(r) ? r.lift : null), fmt: (r) => fmtModelLift(r), higher: true },
  { label: 'Buy Rate', pick: (r) => r.buy_rate, fmt: (r) => fmtPct(r.buy_rate), higher: false },
  { label: 'Pos Rate', pick: (r) => r.positive_rate, fmt: (r) => fmtPct(r.positive_rate) },
  { label: 'Support', pick: (r) => r.support, fmt: (r) => fmtInt(r.support), higher: true },
  { label: 'TP', pick: (r) => r.tp, fmt: (r) => fmtInt(r.tp) },
  { label: 'FP', pick: (r) => r.fp, fmt: (r) => fmtInt(r.fp) },
  { label: 'TN', pick: (r) => r.tn, fmt: (r) => fmtInt(r.tn) },
  { label: 'FN', pick: (r) => r.fn, fmt: (r) => fmtInt(r.fn) },
];

export function CompareDrawer({ rows, onClose, onRemove }: { rows: RegistryModelRow[]; onClose: () => void; onRemove: (r: RegistryModelRow) => void }) {
  const best = COLS.map((c) => (c.higher === undefined || rows.length < 2 ? -1 : bestIndex(rows, c.pick, c.higher)));
  // A modal dialog: focus moves in, Tab cycles inside, Escape closes, focus goes back where it was.
  const { dialogProps } = useModalDialog<HTMLElement>(onClose);
  return (
    <div className="drawer-backdrop" onClick={onClose}>
      <aside className="drawer" {...dialogProps} aria-label="Compare models" onClick={(e) => e.stopPropagation()}>
        <header className="drawer-head">
          <h2>
            Compare {rows.length} model{rows.length === 1 ? '' : 's'} · {rows[0]?.ticker ?? ''}
          </h2>
          <button type="button" className="btn" onClick={onClose}>
            Close
          </button>
        </header>
        <div className="table-wrap">
          <table className="table" data-testid="compare-table">
            <thead>
              <tr>
                <th>run_id</th>
                <th>mode</th>
                <th>Label (H/TH)</th>
                {COLS.map((c) => (
                  <th key={c.label} className="num">
                    {c.label}
                  </th>
                ))}
                <th />
              </tr>
            </thead>
            <tbody>
              {rows.map((r, i) => (
                <tr key={`${r.run_id}|${r.mode}`}>
                  <td className="mono">
                    <Link to={`/runs/${encodeURIComponent(r.run_id)}`}>{r.run_id}</Link>
                  </td>
                  <td>{r.mode}</td>
                  <td>{fmtLabel(r.label_horizon_days, r.label_threshold)}</td>
                  {COLS.map((c, ci) => (
                    <td key={c.label} className={`num${best[ci] === i ? ' best' : ''}`} title={fmtConfusionTitle(r.tp, r.fp, r.tn, r.fn)}>
                      {c.fmt(r)}
                    </td>
                  ))}
                  <td>
                    <button type="button" className="btn btn-small" onClick={() => onRemove(r)}>
                      Remove
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        <p className="muted small">Best value per column is highlighted (higher precision, lift and support; lower buy rate).</p>
      </aside>
    </div>
  );
}
