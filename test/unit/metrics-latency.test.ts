// LatencyRecorder: HDR percentiles against exact percentiles of a sorted array (within the
// histogram's 3-significant-digit precision), interval reset, and clamping of absurd values.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { LatencyRecorder } from '../../electron/core/metrics/latency';

/** The exact percentile HDR reports: the smallest value with at least p % of values at or below it. */
function exactPercentile(sorted: number[], p: number): number {
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1] ?? 0;
}

/** HDR with 3 significant digits is within 0.1 % (plus the 1 µs resolution). */
function expectClose(actualMs: number, expectedMs: number): void {
  expect(Math.abs(actualMs - expectedMs)).toBeLessThanOrEqual(expectedMs * 0.001 + 0.001);
}

describe('LatencyRecorder', () => {
  it('matches exact percentiles of a skewed sample within HDR precision', () => {
    const recorder = new LatencyRecorder();
    // Deterministic, long-tailed latencies from 0.05 ms to about 40 s.
    const values: number[] = [];
    let x = 12345;
    for (let i = 0; i < 20_000; i++) {
      x = (x * 1103515245 + 12345) % 2147483648;
      const u = x / 2147483648;
      values.push(0.05 + Math.exp(u * 10.6) - 1);
    }
    values.forEach((v) => recorder.record(v));
    const sorted = [...values].sort((a, b) => a - b);
    const summary = recorder.percentiles();
    expect(summary.count).toBe(20_000);
    expectClose(summary.p50, exactPercentile(sorted, 50));
    expectClose(summary.p95, exactPercentile(sorted, 95));
    expectClose(summary.p99, exactPercentile(sorted, 99));
    expectClose(summary.max, sorted.at(-1) ?? 0);
    const mean = values.reduce((s, v) => s + v, 0) / values.length;
    expect(Math.abs(summary.mean - mean)).toBeLessThanOrEqual(mean * 0.001);
  });

  it('holds for any sample (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: 0.001, max: 600_000, noNaN: true }), { minLength: 1, maxLength: 300 }), (values) => {
        const recorder = new LatencyRecorder();
        values.forEach((v) => recorder.record(v));
        const sorted = values.map((v) => Math.round(v * 1000) / 1000).sort((a, b) => a - b);
        const summary = recorder.percentiles();
        for (const [p, got] of [[50, summary.p50], [95, summary.p95], [99, summary.p99]] as const) {
          expectClose(got, exactPercentile(sorted, p));
        }
      }),
      { numRuns: 50 },
    );
  });

  it('keeps an interval histogram that takeInterval() resets, beside the cumulative one', () => {
    const recorder = new LatencyRecorder();
    for (let i = 1; i <= 100; i++) recorder.record(i);
    expect(recorder.intervalPercentiles().count).toBe(100);
    const first = recorder.takeInterval();
    expect(first.count).toBe(100);
    expectClose(first.p50, 50);
    expect(recorder.takeInterval()).toEqual({ count: 0, p50: 0, p95: 0, p99: 0, max: 0, mean: 0 });
    recorder.record(1000);
    const second = recorder.takeInterval();
    expect(second.count).toBe(1);
    expectClose(second.p99, 1000);
    const all = recorder.percentiles();
    expect(all.count).toBe(101);
    expectClose(all.max, 1000);
    recorder.reset();
    expect(recorder.percentiles().count).toBe(0);
  });

  it('records negative and NaN as 0 and clamps beyond an hour', () => {
    const recorder = new LatencyRecorder();
    recorder.record(-5);
    recorder.record(Number.NaN);
    recorder.record(10 * 3_600_000);
    recorder.record(Infinity);
    const summary = recorder.percentiles();
    expect(summary.count).toBe(4);
    expect(recorder.clamped).toBe(2);
    expectClose(summary.max, 3_600_000);
    expect(summary.p50).toBe(0);
  });
});
