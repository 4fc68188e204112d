// Samples the guest's own utilization for the `load` heartbeat: the busy fraction of the workers
// and the hash rate over the interval since the previous sample. Pure over its inputs (the pool's
// cumulative counters and a clock), so tests can drive it without threads.
import type { LoadMessage } from './protocol';

export interface LoadSource {
  /** Cumulative ms the workers held a job, up to nowMs. */
  busyMs(nowMs: number): number;
  /** Cumulative hashes computed. */
  hashes(): number;
  readonly workers: number;
  /** Threads that have started and can take work now. */
  readonly readyThreads: number;
}

export interface LoadCounters {
  readonly inflight: number;
  readonly completed: number;
}

export class LoadMeter {
  private lastMs: number;
  private lastBusyMs: number;
  private lastHashes: number;

  constructor(
    private readonly source: LoadSource,
    private readonly counters: LoadCounters,
    private readonly nowMs: () => number = () => performance.now(),
  ) {
    this.lastMs = nowMs();
    this.lastBusyMs = source.busyMs(this.lastMs);
    this.lastHashes = source.hashes();
  }

  /** Starts a fresh interval without reporting (e.g. right after registering). */
  reset(): void {
    this.sample();
  }

  /** The load over the interval since the previous sample (or reset). */
  sample(): LoadMessage {
    const now = this.nowMs();
    const busyMs = this.source.busyMs(now);
    const hashes = this.source.hashes();
    const intervalMs = now - this.lastMs;
    const busy = intervalMs > 0 ? (busyMs - this.lastBusyMs) / (intervalMs * this.source.workers) : 0;
    const hashRate = intervalMs > 0 ? ((hashes - this.lastHashes) * 1000) / intervalMs : 0;
    this.lastMs = now;
    this.lastBusyMs = busyMs;
    this.lastHashes = hashes;
    return {
      t: 'load',
      busy: round(Math.min(1, Math.max(0, busy)), 4),
      inflight: this.counters.inflight,
      completed: this.counters.completed,
      hashRate: Math.max(0, Math.round(hashRate)),
      ready: this.source.readyThreads,
    };
  }
}

function round(value: number, places: number): number {
  const scale = 10 ** places;
  return Math.round(value * scale) / scale;
}
