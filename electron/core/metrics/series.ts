// Per-second metrics: SecondAggregator counts outcomes as they happen and turns them into one sample
// a second; MetricsSeries keeps the samples in a capped ring buffer for charts and reports.
// Pure data: no timers, no clock; the caller decides when a second ends and pushes the sample.
import { LatencyRecorder } from './latency';

/** One second of the run, as charted and reported. Rates are per second of the interval. */
export type MetricsSample = {
  /** Seconds since the run started, at the end of this interval. */
  tS: number;
  /** The load profile's rate at the end of the interval (requests/second). */
  offeredRps: number;
  /** Arrivals the generator produced in the interval, per second. */
  arrivedPerS: number;
  /** Requests that completed ok, per second (same as okPerS; kept for chart naming). */
  servedRps: number;
  okPerS: number;
  failedPerS: number;
  expiredPerS: number;
  /** Latency percentiles of the interval's ok requests; null when none completed. */
  p50Ms: number | null;
  p95Ms: number | null;
  p99Ms: number | null;
  poolDesired: number;
  poolBooting: number;
  poolHealthy: number;
  /** Mean busy fraction (0-1) reported by healthy members; null when there are none. */
  utilization: number | null;
  /** Requests sent and not yet ended, at the end of the interval. */
  inflight: number;
};

/** What the caller knows at the end of a second that the aggregator does not count itself. */
export type MetricsGauges = Pick<MetricsSample, 'offeredRps' | 'poolDesired' | 'poolBooting' | 'poolHealthy' | 'utilization' | 'inflight'>;

export type Outcome = 'ok' | 'failed' | 'expired';

/** Counts since the aggregator was created: sent = ok + failed + expired + in flight. */
export type OutcomeTotals = { arrivals: number; ok: number; failed: number; expired: number };

export type MetricsSeriesOptions = {
  /** Samples kept; the oldest are dropped beyond it. @default 3600 (one hour) */
  capacity?: number;
};

/** A ring buffer of samples in time order. */
export class MetricsSeries {
  readonly capacity: number;
  private readonly buffer: MetricsSample[] = [];
  private start = 0;
  private droppedCount = 0;

  constructor(options: MetricsSeriesOptions = {}) {
    const capacity = options.capacity ?? 3600;
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`capacity must be a positive integer, got ${capacity}`);
    this.capacity = capacity;
  }

  push(sample: MetricsSample): void {
    if (this.buffer.length < this.capacity) {
      this.buffer.push(sample);
      return;
    }
    this.buffer[this.start] = sample;
    this.start = (this.start + 1) % this.capacity;
    this.droppedCount++;
  }

  get size(): number {
    return this.buffer.length;
  }

  /** Samples dropped because the buffer was full. */
  get dropped(): number {
    return this.droppedCount;
  }

  /** The newest sample, if any. */
  latest(): MetricsSample | undefined {
    if (this.buffer.length === 0) return undefined;
    return this.buffer[(this.start + this.buffer.length - 1) % this.buffer.length];
  }

  /** Every kept sample, oldest first (a copy). */
  all(): MetricsSample[] {
    return [...this.buffer.slice(this.start), ...this.buffer.slice(0, this.start)];
  }

  /** Kept samples with tS > `afterS`, oldest first: what a chart that has `afterS` still needs. */
  since(afterS: number): MetricsSample[] {
    return this.all().filter((sample) => sample.tS > afterS);
  }

  clear(): void {
    this.buffer.length = 0;
    this.start = 0;
  }
}

export type SecondAggregatorOptions = {
  /** Recorder for ok latencies; pass one to share it. @default a new LatencyRecorder */
  latency?: LatencyRecorder;
};

/** Counts arrivals and outcomes during the current second; flush() makes the sample and starts anew. */
export class SecondAggregator {
  readonly latency: LatencyRecorder;
  private arrivals = 0;
  private ok = 0;
  private failed = 0;
  private expired = 0;
  private readonly total: OutcomeTotals = { arrivals: 0, ok: 0, failed: 0, expired: 0 };
  private lastFlushS: number | undefined;

  constructor(options: SecondAggregatorOptions = {}) {
    this.latency = options.latency ?? new LatencyRecorder();
  }

  recordArrival(): void {
    this.arrivals++;
    this.total.arrivals++;
  }

  /** Counts one ended request. Latency (from intended send time) is recorded for ok outcomes only. */
  recordOutcome(outcome: Outcome, latencyMs?: number): void {
    switch (outcome) {
      case 'ok':
        this.ok++;
        this.total.ok++;
        if (latencyMs !== undefined) this.latency.record(latencyMs);
        break;
      case 'failed':
        this.failed++;
        this.total.failed++;
        break;
      case 'expired':
        this.expired++;
        this.total.expired++;
        break;
    }
  }

  /** Counts since construction (not reset by flush). */
  totals(): OutcomeTotals {
    return { ...this.total };
  }

  /**
   * Ends the interval at run time `tS` (seconds): returns its sample and resets the interval counts.
   * Counts are divided by the interval's length (tS minus the previous flush's tS; 1 s for the first).
   */
  flush(tS: number, gauges: MetricsGauges): MetricsSample {
    const elapsedS = this.lastFlushS === undefined ? 1 : tS - this.lastFlushS;
    const perS = elapsedS > 0 ? 1 / elapsedS : 1;
    this.lastFlushS = tS;
    const latency = this.latency.takeInterval();
    const sample: MetricsSample = {
      tS,
      offeredRps: gauges.offeredRps,
      arrivedPerS: this.arrivals * perS,
      servedRps: this.ok * perS,
      okPerS: this.ok * perS,
      failedPerS: this.failed * perS,
      expiredPerS: this.expired * perS,
      p50Ms: latency.count > 0 ? latency.p50 : null,
      p95Ms: latency.count > 0 ? latency.p95 : null,
      p99Ms: latency.count > 0 ? latency.p99 : null,
      poolDesired: gauges.poolDesired,
      poolBooting: gauges.poolBooting,
      poolHealthy: gauges.poolHealthy,
      utilization: gauges.utilization,
      inflight: gauges.inflight,
    };
    this.arrivals = 0;
    this.ok = 0;
    this.failed = 0;
    this.expired = 0;
    return sample;
  }
}
