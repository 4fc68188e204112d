// The pieces behind the manager connection that need no socket: reconnect backoff (doubling,
// capped, jittered, never zero) and the heartbeat's load sample (busy fraction and hash rate).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { backoffDelayMs } from '../../guest-server/src/backoff';
import { LoadMeter } from '../../guest-server/src/load-meter';
import { loadMessageSchema } from '../../guest-server/src/protocol';

describe('backoffDelayMs', () => {
  const policy = { minMs: 100, maxMs: 5000 };

  it('doubles from 100 ms up to the 5 s cap, drawing from the upper half', () => {
    expect([0, 1, 2, 3, 4, 5, 6, 7].map((attempt) => backoffDelayMs(attempt, policy, () => 1))).toEqual([100, 200, 400, 800, 1600, 3200, 5000, 5000]);
    expect([0, 1, 2, 6, 40].map((attempt) => backoffDelayMs(attempt, policy, () => 0))).toEqual([50, 100, 200, 2500, 2500]);
  });

  it('always stays within [ceiling/2, ceiling] and under the cap', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1000 }), fc.double({ min: 0, max: 1, noNaN: true }), (attempt, random) => {
        const delayMs = backoffDelayMs(attempt, policy, () => random);
        const ceilingMs = Math.min(5000, 100 * 2 ** Math.min(attempt, 30));
        expect(delayMs).toBeGreaterThanOrEqual(Math.floor(ceilingMs / 2));
        expect(delayMs).toBeLessThanOrEqual(5000);
      }),
    );
  });
});

describe('LoadMeter', () => {
  it('reports the busy fraction and hash rate over the last interval only', () => {
    let nowMs = 0;
    const source = { busy: 0, hashes: 0 };
    const counters = { inflight: 3, completed: 10 };
    const meter = new LoadMeter({ workers: 2, busyMs: () => source.busy, hashes: () => source.hashes, readyThreads: 1 }, counters, () => nowMs);
    nowMs = 1000;
    source.busy = 1500; // 1.5 worker-seconds of 2 available
    source.hashes = 4_000_000;
    const first = meter.sample();
    expect(loadMessageSchema.parse(first)).toEqual({ t: 'load', busy: 0.75, inflight: 3, completed: 10, hashRate: 4_000_000, ready: 1 });
    nowMs = 1500;
    source.busy = 1500;
    expect(meter.sample()).toMatchObject({ busy: 0, hashRate: 0 });
    nowMs = 2000;
    source.busy = 5000; // clamped: the fraction never exceeds 1
    expect(meter.sample().busy).toBe(1);
  });

  it('reset() starts a fresh interval', () => {
    let nowMs = 0;
    let busy = 0;
    const meter = new LoadMeter({ workers: 1, busyMs: () => busy, hashes: () => 0, readyThreads: 0 }, { inflight: 0, completed: 0 }, () => nowMs);
    nowMs = 10_000;
    busy = 10_000;
    meter.reset();
    nowMs = 11_000;
    expect(meter.sample().busy).toBe(0);
  });
});
