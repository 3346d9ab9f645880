// uPlot needs a canvas and matchMedia, which jsdom lacks: page tests replace TimeSeriesChart
// with this stand-in that renders its title and data as text, so tests can read what would be drawn.
import type { ChartBand, ChartSeries } from '../src/components/TimeSeriesChart';

export function TimeSeriesChart(props: { title: string; dates: string[]; series: ChartSeries[]; testId?: string; bands?: ChartBand[] }) {
  return (
    <figure data-testid={props.testId}>
      <figcaption>{props.title}</figcaption>
      <ul>
        {props.series.map((s) => (
          <li key={s.label} data-testid={`series-${s.label}`} data-step={s.step ? 'true' : 'false'}>
            {props.dates.map((d, i) => `${d}=${s.values[i]}`).join(' ')}
          </li>
        ))}
      </ul>
      {props.bands && props.bands.length > 0 && (
        <ol data-testid={`${props.testId ?? 'chart'}-bands`}>
          {props.bands.map((b, i) => (
            <li key={i} style={{ background: b.color }}>{`${b.from ?? '…'}..${b.to ?? '…'}`}</li>
          ))}
        </ol>
      )}
    </figure>
  );
}
