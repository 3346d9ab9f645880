// Heatmap (two-parameter grids) and parallel coordinates (more parameters), drawn as SVG from
// pages of the tasks endpoint (1,000 tasks a page; "Load more" adds the next page).
import { useEffect, useRef, useState } from 'react';
import { useQueries } from '@tanstack/react-query';
import { api } from '../api/client';
import { axisPosition, buildHeatmap, fmtScore, HEATMAP_MAX_BINS, parallelAxes, scoreShade, type Direction } from '../lib/optimizations';
import type { OptimizationTask } from '../types/api';

export const CHART_PAGE = 1000;
/** How long after the panel appears its first page is asked for: the page's first requests and
 * the first clicks on the tasks table go first (ui/e2e/bench_opt_detail.mjs). */
export const CHART_DEFER_MS = 800;

function shadeColor(t: number): string {
  // low (t=0) pale to high (t=1) saturated green; readable in both themes
  const l = 88 - 55 * t;
  return `hsl(145 60% ${l}%)`;
}

function Heatmap({ tasks, keys, direction }: { tasks: OptimizationTask[]; keys: [string, string]; direction: Direction }) {
  const h = buildHeatmap(tasks, keys[0], keys[1], direction);
  const grouped = h.groupedX || h.groupedY;
  return (
    <div className="table-wrap">
      {grouped && (
        <p className="muted small" data-testid="heatmap-grouped">
          More than {HEATMAP_MAX_BINS} values on an axis: neighbouring values share a cell, which shows the best score among them.
        </p>
      )}
      <table className="heatmap" data-testid="heatmap" aria-label={`Score by ${h.xKey} (columns) and ${h.yKey} (rows)`}>
        <thead>
          <tr>
            <th className="small mono" scope="col" title={`rows: ${h.yKey}, columns: ${h.xKey}`}>
              {h.yKey.split('.').pop()} \ {h.xKey.split('.').pop()}
            </th>
            {h.xs.map((x) => (
              <th key={x} scope="col" className="mono small">
                {x}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {h.ys.map((y, yi) => (
            <tr key={y}>
              <th scope="row" className="mono small">
                {y}
              </th>
              {h.xs.map((x, xi) => {
                const v = h.cells[yi]![xi]!;
                const t = v === null || h.min === null || h.max === null ? null : scoreShade(v, h.min, h.max, direction);
                return (
                  <td
                    key={x}
                    className={`hm-cell small${t !== null && t > 0.6 ? ' hm-dark' : ''}`}
                    style={t === null ? undefined : { background: shadeColor(t) }}
                    title={`${h.xKey}${h.groupedX ? ' in ' : '='}${x}, ${h.yKey}${h.groupedY ? ' in ' : '='}${y}: ${fmtScore(v)}`}
                    data-testid="hm-cell"
                  >
                    {fmtScore(v)}
                  </td>
                );
              })}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function Parallel({ tasks, keys, direction }: { tasks: OptimizationTask[]; keys: string[]; direction: Direction }) {
  const axes = parallelAxes(tasks, keys);
  const scored = tasks.filter((t) => t.score !== null);
  const scores = scored.map((t) => t.score!);
  const min = scores.length ? Math.min(...scores) : 0;
  const max = scores.length ? Math.max(...scores) : 0;
  const W = 160 * (axes.length + 1);
  const H = 260;
  const pad = 24;
  const x = (i: number) => pad + (i * (W - 2 * pad)) / axes.length;
  const y = (t: number) => H - pad - t * (H - 2 * pad);
  // best drawn last (on top)
  const ordered = [...scored].sort((a, b) => scoreShade(a.score!, min, max, direction) - scoreShade(b.score!, min, max, direction));
  return (
    <div className="table-wrap">
      <svg className="parallel" data-testid="parallel" viewBox={`0 0 ${W} ${H}`} width={W} height={H} role="img" aria-label={`Parallel coordinates of ${keys.join(', ')} and the score over ${scored.length} ranked tasks`}>
        {ordered.map((t) => {
          const s = scoreShade(t.score!, min, max, direction);
          const pts = axes.map((a, i) => `${x(i)},${y(axisPosition(a, t.params[a.key]))}`);
          pts.push(`${x(axes.length)},${y(max === min ? 0.5 : (t.score! - min) / (max - min))}`);
          return <polyline key={t.index} points={pts.join(' ')} fill="none" stroke={`hsl(${210 - 90 * s} 70% ${55 - 15 * s}%)`} strokeOpacity={0.25 + 0.6 * s} strokeWidth={1 + s} />;
        })}
        {[...axes.map((a) => a.key), 'score'].map((k, i) => (
          <g key={k}>
            <line x1={x(i)} x2={x(i)} y1={pad} y2={H - pad} className="pc-axis" />
            <text x={x(i)} y={14} textAnchor="middle" className="pc-label">
              {k.split('.').pop()}
            </text>
          </g>
        ))}
      </svg>
    </div>
  );
}

/** Heatmap for two parameters, parallel coordinates for more; nothing for one. */
export function OptimizationCharts({ id, keys, direction, total }: { id: string; keys: string[]; direction: Direction; total: number }) {
  const [pages, setPages] = useState(1);
  useEffect(() => setPages(1), [id]);
  // The first page (1,000 tasks, about 1.4 MB) is asked for once the panel is near the viewport
  // and CHART_DEFER_MS after it appeared, not with the page: the detail page opens with the
  // status, the Top-N and one page of the tasks table.
  const [near, setNear] = useState(false);
  const [deferred, setDeferred] = useState(false);
  useEffect(() => {
    const t = setTimeout(() => setDeferred(true), CHART_DEFER_MS);
    return () => clearTimeout(t);
  }, []);
  const panel = useRef<HTMLElement | null>(null);
  useEffect(() => {
    const el = panel.current;
    if (near || !el) return undefined;
    if (typeof IntersectionObserver === 'undefined') {
      setNear(true);
      return undefined;
    }
    const io = new IntersectionObserver((entries) => entries.some((e) => e.isIntersecting) && setNear(true), { rootMargin: '200px' });
    io.observe(el);
    return () => io.disconnect();
  }, [near, keys.length]);
  const qs = useQueries({
    queries: Array.from({ length: near && deferred ? pages : 0 }, (_, p) => ({
      queryKey: ['optimizations', 'tasks', id, { limit: CHART_PAGE, offset: p * CHART_PAGE, chart: true }],
      queryFn: ({ signal }: { signal: AbortSignal }) => api.optimizationTasks(id, { limit: CHART_PAGE, offset: p * CHART_PAGE }, signal),
      staleTime: Infinity,
    })),
  });
  if (keys.length < 2) return null;
  const tasks = qs.flatMap((q) => q.data?.items ?? []);
  const loading = !near || !deferred || qs.some((q) => q.isLoading);
  const shown = tasks.length;
  return (
    <section className="panel" data-testid="opt-charts" ref={panel}>
      <div className="panel-head">
        <h2>{keys.length === 2 ? 'Heatmap' : 'Parallel coordinates'}</h2>
        <span className="muted small">
          score of {shown.toLocaleString('en-US')} of {total.toLocaleString('en-US')} tasks (by index; empty = no score yet, failed or not ranked)
        </span>
        {shown < total && !loading && (
          <button type="button" className="btn btn-small" onClick={() => setPages((p) => p + 1)}>
            Load {Math.min(CHART_PAGE, total - shown).toLocaleString('en-US')} more
          </button>
        )}
      </div>
      {loading && tasks.length === 0 ? <div className="skeleton skeleton-block" aria-hidden /> : keys.length === 2 ? <Heatmap tasks={tasks} keys={[keys[0]!, keys[1]!]} direction={direction} /> : <Parallel tasks={tasks} keys={keys} direction={direction} />}
    </section>
  );
}
