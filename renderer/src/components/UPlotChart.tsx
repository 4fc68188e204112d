// A uPlot chart fed straight from the store: React mounts it once; new data arrives through a store
// subscription (outside React) and `setData`, so a sample a second never re-renders a component.
// uPlot styles its DOM through the CSSOM only, which the page's CSP (style-src 'self') allows.
import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import { useStoreApi } from '../context';
import type { AppStore } from '../store/store';

export interface ChartSeries {
  label: string;
  color: string;
  /** Line width, CSS px. @default 1.5 */
  width?: number;
  dash?: number[];
  /** Fill under the line (rgba). */
  fill?: string;
}

export interface UPlotChartProps<Piece> {
  title: string;
  testId: string;
  series: readonly ChartSeries[];
  /** Picks the identity-stable piece of state the chart draws; the chart redraws when it changes. */
  select: (state: AppStore) => Piece;
  /** uPlot's aligned data (x first) for that piece. */
  toData: (piece: Piece) => uPlot.AlignedData;
  formatX: (value: number) => string;
  formatY: (value: number) => string;
  /** The y axis always reaches at least this value (so a flat zero line is not mid-chart). @default 1 */
  minYTop?: number;
  /** Fixed y maximum (percent charts). */
  fixedYTop?: number;
}

/** Points, last and largest value per series, written on the chart element for tests to read. */
function summarize(data: uPlot.AlignedData, series: readonly ChartSeries[]): string {
  const last: Record<string, number | null> = {};
  const max: Record<string, number | null> = {};
  series.forEach((spec, i) => {
    const values = data[i + 1] ?? [];
    let top: number | null = null;
    for (const value of values) if (typeof value === 'number' && (top === null || value > top)) top = value;
    const tail = values.length > 0 ? values[values.length - 1] : null;
    last[spec.label] = typeof tail === 'number' ? tail : null;
    max[spec.label] = top;
  });
  return JSON.stringify({ points: data[0]?.length ?? 0, last, max });
}

const LEGEND_HEIGHT_PX = 26;
const X_INCREMENTS_S = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 1800, 3600];

export function UPlotChart<Piece>(props: UPlotChartProps<Piece>) {
  const store = useStoreApi();
  const holderRef = useRef<HTMLDivElement | null>(null);
  // The chart is built once; the props it was built with are the ones it keeps.
  const propsRef = useRef(props);

  useEffect(() => {
    const holder = holderRef.current;
    if (!holder) return;
    const { series, select, toData, formatX, formatY, minYTop = 1, fixedYTop } = propsRef.current;
    const size = (): { width: number; height: number } => ({ width: Math.max(120, holder.clientWidth), height: Math.max(60, holder.clientHeight - LEGEND_HEIGHT_PX) });
    const options: uPlot.Options = {
      ...size(),
      cursor: { drag: { x: false, y: false } },
      // Labels only: live values would read '—' whenever the pointer is elsewhere.
      legend: { live: false },
      scales: {
        x: { time: false },
        y: { range: (_u, _min, max) => [0, fixedYTop ?? Math.max(minYTop, max * 1.1)] },
      },
      axes: [
        // Whole seconds only: the x values are seconds, and fractional ticks would repeat labels.
        { stroke: '#5c6773', grid: { stroke: '#eceff3', width: 1 }, ticks: { show: false }, values: (_u, splits) => splits.map(formatX), size: 28, incrs: X_INCREMENTS_S, space: 50 },
        { stroke: '#5c6773', grid: { stroke: '#eceff3', width: 1 }, ticks: { show: false }, values: (_u, splits) => splits.map(formatY), size: 62 },
      ],
      series: [
        { label: 'time', value: (_u, value) => (value === null ? '—' : formatX(value)) },
        ...series.map((spec) => ({
          label: spec.label,
          stroke: spec.color,
          width: spec.width ?? 1.5,
          ...(spec.dash ? { dash: spec.dash } : {}),
          ...(spec.fill ? { fill: spec.fill } : {}),
          spanGaps: false,
          points: { show: false },
          value: (_u: uPlot, value: number | null) => (value === null ? '—' : formatY(value)),
        })),
      ],
    };
    const initial = toData(select(store.getState()));
    const plot = new uPlot(options, initial, holder);
    holder.dataset.summary = summarize(initial, series);
    const unsubscribe = store.subscribe(select, (piece) => {
      const data = toData(piece);
      plot.setData(data);
      holder.dataset.summary = summarize(data, series);
    });
    const observer = new ResizeObserver(() => plot.setSize(size()));
    observer.observe(holder);
    return () => {
      unsubscribe();
      observer.disconnect();
      plot.destroy();
    };
  }, [store]);

  return (
    <figure className="chart">
      <figcaption>{props.title}</figcaption>
      <div className="chart-holder" ref={holderRef} data-testid={props.testId} />
    </figure>
  );
}
