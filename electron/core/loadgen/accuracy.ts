// Rate accuracy of the load generator over a real-time window, for the benchmark: how many arrivals
// were due, how many were delivered by the window's end, and how late they were delivered.
// Not for unit tests with the system clock (they would be timed tests); pass a ManualClock there.
import { systemClock, type Clock } from '../clock';
import { LatencyRecorder } from '../metrics/latency';
import { LoadGenerator, type ArrivalProcess } from './generator';

export type RateAccuracyOptions = {
  /** Constant offered rate, requests/second (> 0). */
  rateRps: number;
  /** Length of the measurement window, seconds (> 0). */
  durationS: number;
  /** @default 'uniform' */
  arrivals?: ArrivalProcess;
  /** @default systemClock */
  clock?: Clock;
};

export type RateAccuracy = {
  /** Arrivals the rate asks for over the measured window: rateRps × window seconds. */
  offered: number;
  /** Arrivals whose intended time fell inside the window (the schedule's own precision). */
  intended: number;
  /** Arrivals actually delivered to onArrival before the window ended (what a real client sees). */
  actual: number;
  /** 100 × (actual − offered) / offered. */
  errorPct: number;
  /** Measured window length in seconds (timers fire a little late). */
  windowS: number;
  /** Delivery delay behind the intended time, ms. */
  lagP50Ms: number;
  lagP99Ms: number;
  lagMaxMs: number;
};

/** Runs a constant-rate generator for `durationS` and counts its arrivals. */
export function measureRateAccuracy(options: RateAccuracyOptions): Promise<RateAccuracy> {
  const { rateRps, durationS } = options;
  if (!(rateRps > 0) || !Number.isFinite(rateRps)) return Promise.reject(new RangeError(`rateRps must be > 0, got ${rateRps}`));
  if (!(durationS > 0) || !Number.isFinite(durationS)) return Promise.reject(new RangeError(`durationS must be > 0, got ${durationS}`));
  const clock = options.clock ?? systemClock;
  const lag = new LatencyRecorder();
  let windowOpen = true;
  let actual = 0;
  let intended = 0;
  let endMs = Infinity;
  const generator = new LoadGenerator({
    clock,
    profile: { kind: 'constant', rateRps },
    ...(options.arrivals ? { arrivals: options.arrivals } : {}),
    onArrival: (arrival) => {
      if (windowOpen) actual++;
      if (arrival.intendedAtMs <= endMs) intended++;
      lag.record(clock.nowMs() - arrival.intendedAtMs);
    },
  });
  return new Promise((resolve) => {
    const startMs = clock.nowMs();
    generator.start();
    clock.setTimeout(() => {
      windowOpen = false;
      endMs = clock.nowMs();
      // stop() delivers the arrivals that were due but not yet delivered: they count as intended only.
      generator.stop();
      const windowS = (endMs - startMs) / 1000;
      const offered = rateRps * windowS;
      const summary = lag.percentiles();
      resolve({
        offered,
        intended,
        actual,
        errorPct: offered > 0 ? (100 * (actual - offered)) / offered : 0,
        windowS,
        lagP50Ms: summary.p50,
        lagP99Ms: summary.p99,
        lagMaxMs: summary.max,
      });
    }, durationS * 1000);
  });
}
