// The metrics slice: the last ~10 minutes of per-second samples as columns (uPlot's data layout),
// appended as `metrics:sample` pushes arrive. A sample whose time goes backwards (the app restarted)
// starts a new series. No I/O, no React.
import type { Sample } from '../../../electron/contract/contract';
import type { SliceCreator } from './types';

/** Samples kept: 10 minutes at one a second. */
export const SERIES_POINTS = 600;

export interface SeriesColumns {
  /** Run-time seconds of each sample (the x axis). */
  readonly tS: readonly number[];
  readonly offeredRps: readonly number[];
  readonly servedRps: readonly number[];
  readonly p50Ms: readonly (number | null)[];
  readonly p95Ms: readonly (number | null)[];
  readonly p99Ms: readonly (number | null)[];
  readonly poolDesired: readonly number[];
  readonly poolBooting: readonly number[];
  readonly poolHealthy: readonly number[];
  /** Mean busy of healthy members, % (0-100). */
  readonly utilizationPct: readonly (number | null)[];
}

export interface MetricsState {
  series: SeriesColumns;
  latestSample: Sample | null;
}

export interface MetricsActions {
  applySample(sample: Sample): void;
}

export type MetricsSlice = MetricsState & MetricsActions;

export function emptySeries(): SeriesColumns {
  return { tS: [], offeredRps: [], servedRps: [], p50Ms: [], p95Ms: [], p99Ms: [], poolDesired: [], poolBooting: [], poolHealthy: [], utilizationPct: [] };
}

export function initialMetricsState(): MetricsState {
  return { series: emptySeries(), latestSample: null };
}

function push<T>(column: readonly T[], value: T, drop: number): T[] {
  const next = drop > 0 ? column.slice(drop) : column.slice();
  next.push(value);
  return next;
}

/** The series with one more sample, at most SERIES_POINTS long. */
export function appendSample(series: SeriesColumns, sample: Sample): SeriesColumns {
  const last = series.tS.at(-1);
  const base = last !== undefined && sample.tS < last ? emptySeries() : series;
  if (last !== undefined && sample.tS === last) return series;
  const drop = Math.max(0, base.tS.length + 1 - SERIES_POINTS);
  return {
    tS: push(base.tS, sample.tS, drop),
    offeredRps: push(base.offeredRps, sample.offeredRps, drop),
    servedRps: push(base.servedRps, sample.servedRps, drop),
    p50Ms: push(base.p50Ms, sample.p50Ms, drop),
    p95Ms: push(base.p95Ms, sample.p95Ms, drop),
    p99Ms: push(base.p99Ms, sample.p99Ms, drop),
    poolDesired: push(base.poolDesired, sample.poolDesired, drop),
    poolBooting: push(base.poolBooting, sample.poolBooting, drop),
    poolHealthy: push(base.poolHealthy, sample.poolHealthy, drop),
    utilizationPct: push(base.utilizationPct, sample.utilization === null ? null : sample.utilization * 100, drop),
  };
}

export const createMetricsSlice: SliceCreator<MetricsSlice> = (set) => ({
  ...initialMetricsState(),
  applySample: (sample) => set((s) => ({ series: appendSample(s.series, sample), latestSample: sample })),
});
