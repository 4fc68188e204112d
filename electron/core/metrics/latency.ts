// Latency percentiles with HDR histograms: a cumulative histogram for the run and an interval one
// the caller takes (and resets) every second. Values are kept in microseconds up to one hour.
// Pure data: no timers here; whoever ticks the seconds calls takeInterval().
import { build, type Histogram } from 'hdr-histogram-js';

/** A percentile summary in milliseconds; all zeros when `count` is 0. */
export type LatencySummary = {
  count: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
};

export type LatencyRecorderOptions = {
  /** Largest latency kept apart; larger values are recorded as this (and counted in `clamped`). @default 3_600_000 ms (1 hour) */
  highestMs?: number;
  /** Significant decimal digits kept (3 → 0.1 % relative error). @default 3 */
  significantDigits?: 1 | 2 | 3 | 4 | 5;
};

const EMPTY: LatencySummary = { count: 0, p50: 0, p95: 0, p99: 0, max: 0, mean: 0 };

function summarize(histogram: Histogram): LatencySummary {
  if (histogram.totalCount === 0) return { ...EMPTY };
  return {
    count: histogram.totalCount,
    p50: histogram.getValueAtPercentile(50) / 1000,
    p95: histogram.getValueAtPercentile(95) / 1000,
    p99: histogram.getValueAtPercentile(99) / 1000,
    max: histogram.maxValue / 1000,
    mean: histogram.mean / 1000,
  };
}

/** Records latencies (ms) with microsecond resolution into a cumulative and an interval histogram. */
export class LatencyRecorder {
  private readonly highestUs: number;
  private readonly cumulative: Histogram;
  private readonly interval: Histogram;
  private clampedCount = 0;

  constructor(options: LatencyRecorderOptions = {}) {
    this.highestUs = Math.round((options.highestMs ?? 3_600_000) * 1000);
    // Pure JS (the library's default): WebAssembly needs an async init and saves nothing at our rates.
    const request = {
      bitBucketSize: 32 as const,
      autoResize: false,
      lowestDiscernibleValue: 1,
      highestTrackableValue: this.highestUs,
      numberOfSignificantValueDigits: options.significantDigits ?? 3,
      useWebAssembly: false,
    };
    this.cumulative = build(request);
    this.interval = build(request);
  }

  /** Records one latency in milliseconds; negative or NaN values count as 0, huge ones as the maximum. */
  record(latencyMs: number): void {
    let us = Number.isFinite(latencyMs) ? Math.round(latencyMs * 1000) : latencyMs > 0 ? Infinity : 0;
    if (us < 0) us = 0;
    if (us > this.highestUs) {
      us = this.highestUs;
      this.clampedCount++;
    }
    this.cumulative.recordValue(us);
    this.interval.recordValue(us);
  }

  /** Percentiles over everything recorded since construction (or reset()). */
  percentiles(): LatencySummary {
    return summarize(this.cumulative);
  }

  /** Percentiles over what was recorded since the last takeInterval(), without resetting. */
  intervalPercentiles(): LatencySummary {
    return summarize(this.interval);
  }

  /** Percentiles of the current interval, then starts a new interval. */
  takeInterval(): LatencySummary {
    const summary = summarize(this.interval);
    this.interval.reset();
    return summary;
  }

  /** Values recorded above the highest trackable latency (recorded as that maximum). */
  get clamped(): number {
    return this.clampedCount;
  }

  reset(): void {
    this.cumulative.reset();
    this.interval.reset();
    this.clampedCount = 0;
  }
}
