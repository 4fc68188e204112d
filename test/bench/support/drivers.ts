// Load drivers for throughput benchmarks: a closed loop that keeps a fixed number of requests
// outstanding, and an open-loop step that offers a constant rate through the app's LoadGenerator.
// Both count only what completes inside a measurement window after a warm-up; neither knows what
// it drives (the caller passes the send function).
import { systemClock } from '../../../electron/core/clock';
import { LoadGenerator } from '../../../electron/core/loadgen/generator';
import { LatencyRecorder, type LatencySummary } from '../../../electron/core/metrics/latency';
import type { DoneCallback } from './direct-client';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits out the warm-up, then counts (setCounting(true)) for durationMs; returns the window in s. */
async function countWindow(options: { warmupMs: number; durationMs: number }, setCounting: (on: boolean) => void): Promise<number> {
  await sleep(options.warmupMs);
  setCounting(true);
  const startMs = performance.now();
  await sleep(options.durationMs);
  setCounting(false);
  return (performance.now() - startMs) / 1000;
}

/** Polls until `condition` holds or `timeoutMs` passes; true when it held. */
async function settle(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) return false;
    await sleep(10);
  }
  return true;
}

export interface WindowResult {
  /** Successful completions inside the window, per second. */
  servedRps: number;
  ok: number;
  failed: number;
  windowS: number;
  /** Latency of the window's successful completions, ms (closed loop: from send; open loop: from intended time). */
  latency: LatencySummary;
  /** Requests still unanswered after the drain timeout (should be 0). */
  leftOver: number;
}

export interface ClosedLoopOptions {
  /** Requests kept outstanding at all times. */
  window: number;
  /** Time before counting starts, ms. */
  warmupMs: number;
  /** Measurement window, ms. */
  durationMs: number;
  /** Time the last requests may take to come back after the window, ms. @default 5000 */
  drainTimeoutMs?: number;
  /** Sends request `seq`; must call `done` exactly once. */
  issue: (seq: number, done: DoneCallback) => void;
}

/** Closed loop: every completion immediately sends the next request, so `window` stay outstanding. */
export async function closedLoop(options: ClosedLoopOptions): Promise<WindowResult> {
  const latency = new LatencyRecorder();
  let seq = 0;
  let inflight = 0;
  let counting = false;
  let stopping = false;
  let ok = 0;
  let failed = 0;
  const send = (): void => {
    const startMs = performance.now();
    inflight++;
    options.issue(seq++, (success) => {
      inflight--;
      if (counting) {
        if (success) {
          ok++;
          latency.record(performance.now() - startMs);
        } else {
          failed++;
        }
      }
      if (stopping) return;
      // A failure may be reported synchronously (a dead socket): yield instead of recursing.
      if (success) send();
      else setImmediate(send);
    });
  };
  for (let i = 0; i < options.window; i++) send();
  const windowS = await countWindow(options, (on) => (counting = on));
  stopping = true;
  await settle(() => inflight === 0, options.drainTimeoutMs ?? 5000);
  return { servedRps: ok / windowS, ok, failed, windowS, latency: latency.percentiles(), leftOver: inflight };
}

export interface OpenLoopOptions {
  /** Constant offered rate, requests/second. */
  rateRps: number;
  warmupMs: number;
  durationMs: number;
  /** @default 5000 */
  drainTimeoutMs?: number;
  /** Sends one arrival; resolves with null when it was served, else with the failure's reason. */
  submit: (seq: number, intendedAtMs: number) => Promise<string | null>;
}

export interface OpenLoopResult extends WindowResult {
  offeredRps: number;
  /** Arrivals the generator delivered inside the window, per second. */
  generatedRps: number;
  /** Failures inside the window by reason ('guest_error:busy', 'expired', …). */
  failures: Record<string, number>;
}

/** Open loop: the app's LoadGenerator offers `rateRps` whatever the completions do. */
export async function openLoopStep(options: OpenLoopOptions): Promise<OpenLoopResult> {
  const latency = new LatencyRecorder();
  let inflight = 0;
  let counting = false;
  let generated = 0;
  let ok = 0;
  let failed = 0;
  const failures: Record<string, number> = {};
  const generator = new LoadGenerator({
    clock: systemClock,
    profile: { kind: 'constant', rateRps: options.rateRps },
    onArrival: (arrival) => {
      if (counting) generated++;
      inflight++;
      void options.submit(arrival.seq, arrival.intendedAtMs).then((reason) => {
        inflight--;
        if (!counting) return;
        if (reason === null) {
          ok++;
          latency.record(systemClock.nowMs() - arrival.intendedAtMs);
        } else {
          failed++;
          failures[reason] = (failures[reason] ?? 0) + 1;
        }
      });
    },
  });
  generator.start();
  const windowS = await countWindow(options, (on) => (counting = on));
  generator.stop();
  await settle(() => inflight === 0, options.drainTimeoutMs ?? 5000);
  return {
    offeredRps: options.rateRps,
    generatedRps: generated / windowS,
    servedRps: ok / windowS,
    ok,
    failed,
    failures,
    windowS,
    latency: latency.percentiles(),
    leftOver: inflight,
  };
}
