import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface ChartSeries {
  label: string;
  values: number[];
  stroke: string;
  fill?: string;
  /** draw as steps (the value holds until the next point), e.g. holdings between snapshots */
  step?: boolean;
  /** dash pattern (canvas setLineDash), e.g. a benchmark drawn behind the main line */
  dash?: number[];
}

/** A shaded span of days behind the lines (inclusive dates; null = open on that side). */
export interface ChartBand {
  from: string | null;
  to: string | null;
  color: string;
}

const DAY = 86_400;
const toSec = (d: string) => Date.parse(d.length === 10 ? `${d}T00:00:00Z` : d) / 1000;

/** A uPlot line chart over dates (YYYY-MM-DD or ISO), resizing with its container. */
export function TimeSeriesChart(props: { title: string; dates: string[]; series: ChartSeries[]; height?: number; format?: (v: number) => string; testId?: string; bands?: ChartBand[]; syncKey?: string }) {
  const { title, dates, series, height = 260, format, testId, bands, syncKey } = props;
  const hostRef = useRef<HTMLDivElement>(null);

  useEffect(() => {
    const host = hostRef.current;
    if (!host) return;
    const xs = dates.map(toSec);
    // Bands are drawn under the series, split half-way between two days.
    const drawBands = (u: uPlot) => {
      if (!bands || bands.length === 0) return;
      const { left, top, width, height: h } = u.bbox;
      const ctx = u.ctx;
      ctx.save();
      for (const b of bands) {
        const x0 = b.from === null ? left : Math.max(left, u.valToPos(toSec(b.from) - DAY / 2, 'x', true));
        const x1 = b.to === null ? left + width : Math.min(left + width, u.valToPos(toSec(b.to) + DAY / 2, 'x', true));
        if (x1 <= x0) continue;
        ctx.fillStyle = b.color;
        ctx.fillRect(x0, top, x1 - x0, h);
      }
      ctx.restore();
    };
    const fmt = format ?? ((v: number) => v.toLocaleString('en-US', { maximumFractionDigits: 2 }));
    const opts: uPlot.Options = {
      width: Math.max(200, host.clientWidth),
      height,
      legend: { show: true },
      // Charts with the same syncKey share the cursor (and the x zoom): hovering one shows the same day on the others.
      cursor: { drag: { x: true, y: false }, ...(syncKey ? { sync: { key: syncKey, setSeries: false, scales: ['x', null] as [string, null] } } : {}) },
      scales: { x: { time: true } },
      hooks: { drawClear: [drawBands] },
      axes: [
        { stroke: '#555', grid: { stroke: '#eee' } },
        { stroke: '#555', grid: { stroke: '#eee' }, size: 70, values: (_u, vals) => vals.map((v) => (v == null ? '' : fmt(v))) },
      ],
      series: [
        { label: 'date', value: (_u, v) => (v == null ? '—' : new Date(v * 1000).toISOString().slice(0, 10)) },
        ...series.map((s) => ({ label: s.label, stroke: s.stroke, ...(s.fill ? { fill: s.fill } : {}), ...(s.step && uPlot.paths.stepped ? { paths: uPlot.paths.stepped({ align: 1 }) } : {}), ...(s.dash ? { dash: s.dash } : {}), width: 1.5, value: (_u: uPlot, v: number | null) => (v == null ? '—' : fmt(v)) })),
      ],
    };
    const plot = new uPlot(opts, [xs, ...series.map((s) => s.values)] as uPlot.AlignedData, host);
    const ro = typeof ResizeObserver !== 'undefined' ? new ResizeObserver(() => plot.setSize({ width: Math.max(200, host.clientWidth), height })) : null;
    ro?.observe(host);
    return () => {
      ro?.disconnect();
      plot.destroy();
    };
  }, [dates, series, height, format, bands, syncKey]);

  return (
    <figure className="chart" data-testid={testId} data-sync={syncKey}>
      <figcaption>{title}</figcaption>
      <div ref={hostRef} className="chart-host" />
    </figure>
  );
}
