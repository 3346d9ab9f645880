import { useEffect, useRef } from 'react';
import type uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { Curve } from '../lib/trainingLog';

/** Train and valid logloss per boosting round (uPlot), with the round early stopping kept marked. */
export function CurveChart({ c }: { c: Curve }) {
  const hostRef = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const host = hostRef.current;
    if (!host || c.rounds.length === 0) return;
    const marker = (u: uPlot) => {
      if (c.bestRound === null) return;
      const x = u.valToPos(c.bestRound, 'x', true);
      const { top, height } = u.bbox;
      u.ctx.save();
      u.ctx.strokeStyle = '#16a34a';
      u.ctx.setLineDash([4, 4]);
      u.ctx.beginPath();
      u.ctx.moveTo(x, top);
      u.ctx.lineTo(x, top + height);
      u.ctx.stroke();
      u.ctx.restore();
    };
    const fmt = (v: number | null) => (v == null ? '—' : v.toFixed(4));
    const opts: uPlot.Options = {
      width: Math.max(200, host.clientWidth),
      height: 220,
      scales: { x: { time: false } },
      hooks: { draw: [marker] },
      axes: [
        { stroke: '#555', grid: { stroke: '#eee' }, label: 'round' },
        { stroke: '#555', grid: { stroke: '#eee' }, size: 60, values: (_u, vals) => vals.map((v) => (v == null ? '' : v.toFixed(3))) },
      ],
      series: [
        { label: 'round', value: (_u, v) => (v == null ? '—' : String(v)) },
        { label: 'train logloss', stroke: '#2563eb', width: 1.5, value: (_u, v) => fmt(v) },
        { label: 'valid logloss', stroke: '#d97706', width: 1.5, value: (_u, v) => fmt(v) },
      ],
    };
    // uPlot is loaded when a curve is drawn (it is in the main chunk already, for the time
    // series charts), so importing this module needs no canvas (the page tests).
    let plot: uPlot | null = null;
    let ro: ResizeObserver | null = null;
    let gone = false;
    void import('uplot').then(({ default: UPlot }) => {
      if (gone) return;
      const p = new UPlot(opts, [c.rounds, c.train, c.valid], host);
      plot = p;
      ro = typeof ResizeObserver !== 'undefined' ? new ResizeObserver(() => p.setSize({ width: Math.max(200, host.clientWidth), height: 220 })) : null;
      ro?.observe(host);
    });
    return () => {
      gone = true;
      ro?.disconnect();
      plot?.destroy();
    };
  }, [c]);
  return (
    <figure className="chart" data-testid="eval-curve">
      <figcaption>Training / validation curve (logloss per round{c.bestRound !== null ? '; dashed: the round kept' : ''})</figcaption>
      <div ref={hostRef} className="chart-host" />
    </figure>
  );
}
