// SecondAggregator and MetricsSeries: per-second counts add up, rates divide by the interval,
// interval percentiles are null when nothing completed, and the ring buffer keeps the newest.
import { describe, expect, it } from 'vitest';
import { MetricsSeries, SecondAggregator, type MetricsGauges, type MetricsSample } from '../../electron/core/metrics/series';

const gauges: MetricsGauges = { offeredRps: 10, poolDesired: 3, poolBooting: 1, poolHealthy: 2, utilization: 0.5, inflight: 4 };

function sample(tS: number): MetricsSample {
  return {
    tS, offeredRps: 0, arrivedPerS: 0, servedRps: 0, okPerS: 0, failedPerS: 0, expiredPerS: 0,
    p50Ms: null, p95Ms: null, p99Ms: null, poolDesired: 0, poolBooting: 0, poolHealthy: 0, utilization: null, inflight: 0,
  };
}

describe('SecondAggregator', () => {
  it('counts outcomes per second and resets them at each flush', () => {
    const agg = new SecondAggregator();
    for (let i = 0; i < 12; i++) agg.recordArrival();
    for (let i = 1; i <= 8; i++) agg.recordOutcome('ok', i * 10);
    agg.recordOutcome('failed');
    agg.recordOutcome('expired', 5000);
    agg.recordOutcome('expired');
    const s1 = agg.flush(1, gauges);
    expect(s1).toMatchObject({ tS: 1, arrivedPerS: 12, servedRps: 8, okPerS: 8, failedPerS: 1, expiredPerS: 2, ...gauges });
    // Within HDR's 3-significant-digit precision (0.1 %).
    expect(Math.abs((s1.p50Ms ?? 0) - 40)).toBeLessThanOrEqual(0.04);
    expect(Math.abs((s1.p99Ms ?? 0) - 80)).toBeLessThanOrEqual(0.08);
    // Latency counts ok outcomes only: the expired request's 5000 ms is not in the histogram.
    expect(agg.latency.percentiles().max).toBeLessThan(100);

    const s2 = agg.flush(2, { ...gauges, utilization: null, poolHealthy: 0 });
    expect(s2).toMatchObject({ arrivedPerS: 0, okPerS: 0, failedPerS: 0, expiredPerS: 0, p50Ms: null, p95Ms: null, p99Ms: null, utilization: null });
    expect(agg.totals()).toEqual({ arrivals: 12, ok: 8, failed: 1, expired: 2 });
  });

  it('divides counts by the interval length when a flush comes late', () => {
    const agg = new SecondAggregator();
    agg.flush(1, gauges);
    for (let i = 0; i < 30; i++) agg.recordOutcome('ok', 1);
    expect(agg.flush(3, gauges).okPerS).toBe(15);
  });

  it('per-second counts sum to the totals', () => {
    const agg = new SecondAggregator();
    const outcomes = ['ok', 'failed', 'expired'] as const;
    let sum = 0;
    for (let s = 1; s <= 20; s++) {
      for (let i = 0; i < s; i++) {
        agg.recordArrival();
        agg.recordOutcome(outcomes[(s + i) % 3] ?? 'ok', i);
      }
      const out = agg.flush(s, gauges);
      sum += out.okPerS + out.failedPerS + out.expiredPerS;
      expect(out.arrivedPerS).toBe(s);
    }
    const totals = agg.totals();
    expect(sum).toBe(210);
    expect(totals.ok + totals.failed + totals.expired).toBe(210);
    expect(totals.arrivals).toBe(210);
  });
});

describe('MetricsSeries', () => {
  it('keeps the newest samples up to its capacity, oldest first', () => {
    const series = new MetricsSeries({ capacity: 5 });
    expect(series.latest()).toBeUndefined();
    expect(series.all()).toEqual([]);
    for (let t = 1; t <= 3; t++) series.push(sample(t));
    expect(series.all().map((s) => s.tS)).toEqual([1, 2, 3]);
    for (let t = 4; t <= 12; t++) series.push(sample(t));
    expect(series.size).toBe(5);
    expect(series.dropped).toBe(7);
    expect(series.all().map((s) => s.tS)).toEqual([8, 9, 10, 11, 12]);
    expect(series.latest()?.tS).toBe(12);
    expect(series.since(10).map((s) => s.tS)).toEqual([11, 12]);
    series.clear();
    expect(series.size).toBe(0);
    series.push(sample(13));
    expect(series.all().map((s) => s.tS)).toEqual([13]);
  });

  it('defaults to an hour of samples and refuses a bad capacity', () => {
    expect(new MetricsSeries().capacity).toBe(3600);
    expect(() => new MetricsSeries({ capacity: 0 })).toThrow(RangeError);
  });
});
