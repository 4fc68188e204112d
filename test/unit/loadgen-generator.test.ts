// The open-model load generator, driven by a ManualClock: exact arrival counts and intended times
// for every profile kind, rate changes mid-run, pause/resume, rate 0, poisson arrivals with a seeded
// PRNG, bursts after a late wake-up, and the accuracy helper. No real time passes in these tests.
import { describe, expect, it } from 'vitest';
import { ManualClock, type Clock } from '../../electron/core/clock';
import { LoadGenerator, type Arrival, type LoadGeneratorOptions } from '../../electron/core/loadgen/generator';
import { measureRateAccuracy } from '../../electron/core/loadgen/accuracy';
import { parseProfile, ProfileError, type LoadProfile } from '../../electron/core/loadgen/profiles';
import { memoryLogger } from '../../electron/core/metrics/log';
import { mulberry32 } from '../support/prng';


type Recorded = Arrival & { emittedAtMs: number };

function setup(profile: LoadProfile, options: Partial<LoadGeneratorOptions> = {}, clock: ManualClock = new ManualClock()) {
  const arrivals: Recorded[] = [];
  const generator = new LoadGenerator({
    clock,
    profile,
    onArrival: (arrival) => arrivals.push({ ...arrival, emittedAtMs: clock.nowMs() }),
    ...options,
  });
  return { clock, generator, arrivals };
}

function countBetween(arrivals: Recorded[], fromMs: number, toMs: number): number {
  return arrivals.filter((a) => a.intendedAtMs > fromMs && a.intendedAtMs <= toMs).length;
}

describe('LoadGenerator with a constant rate', () => {
  it('emits 10 rps over 10 s as 100 evenly spaced arrivals, never before their intended time', () => {
    const clock = new ManualClock(5_000);
    const { generator, arrivals } = setup({ kind: 'constant', rateRps: 10 }, {}, clock);
    generator.start();
    clock.advance(10_000);
    expect(Math.abs(arrivals.length - 100)).toBeLessThanOrEqual(1);
    arrivals.forEach((a, i) => {
      expect(a.seq).toBe(i);
      expect(a.intendedAtMs).toBeCloseTo(5_000 + (i + 1) * 100, 6);
      expect(a.emittedAtMs).toBeGreaterThanOrEqual(a.intendedAtMs - 1e-6);
      expect(a.emittedAtMs - a.intendedAtMs).toBeLessThanOrEqual(1);
    });
    expect(generator.status()).toMatchObject({ running: true, paused: false, elapsedS: 10, offeredRps: 10, sent: arrivals.length });
    generator.stop();
    expect(clock.pendingTimers()).toBe(0);
  });

  it('keeps up with high rates by emitting every due arrival per wake-up', () => {
    const { clock, generator, arrivals } = setup({ kind: 'constant', rateRps: 5000 });
    generator.start();
    clock.advance(2_000);
    expect(Math.abs(arrivals.length - 10_000)).toBeLessThanOrEqual(1);
    expect(arrivals[4_999]?.intendedAtMs).toBeCloseTo(1_000, 6);
    generator.stop();
  });

  it('takes the rate as the original inter-request time', () => {
    const { clock, generator, arrivals } = setup({ kind: 'constant', rateRps: 0 });
    generator.start();
    generator.setInterRequestS(0.5);
    clock.advance(10_000);
    expect(arrivals.length).toBe(20);
    expect(() => generator.setInterRequestS(0)).toThrow(ProfileError);
    expect(() => generator.setRateRps(-1)).toThrow(/rate must be/);
    generator.stop();
  });
});

describe('LoadGenerator rate changes', () => {
  it('changes rate mid-run: 10 rps for 5 s then 100 rps for 5 s', () => {
    const { clock, generator, arrivals } = setup({ kind: 'constant', rateRps: 10 });
    generator.start();
    clock.advance(5_000);
    generator.setRateRps(100);
    clock.advance(5_000);
    expect(Math.abs(countBetween(arrivals, 0, 5_000) - 50)).toBeLessThanOrEqual(1);
    expect(Math.abs(countBetween(arrivals, 5_000, 10_000) - 500)).toBeLessThanOrEqual(1);
    generator.stop();
  });

  it('schedules the next arrival by integrating the rate since the last one', () => {
    const { clock, generator, arrivals } = setup({ kind: 'constant', rateRps: 1 });
    generator.start();
    clock.advance(1_000);
    expect(arrivals.map((a) => a.intendedAtMs)).toEqual([1_000]);
    clock.advance(500); // half-way to the next arrival at 1 rps
    generator.setRateRps(100); // the other half takes 5 ms at 100 rps
    clock.advance(20);
    expect(arrivals[1]?.intendedAtMs).toBeCloseTo(1_505, 6);
    expect(arrivals[2]?.intendedAtMs).toBeCloseTo(1_515, 6);
    // Now at 1,520 ms, half-way (5 ms at 100 rps) to the next arrival: the other half at 1 rps is 500 ms.
    expect(arrivals).toHaveLength(3);
    generator.setRateRps(1);
    clock.advance(1_000);
    expect(arrivals[3]?.intendedAtMs).toBeCloseTo(2_020, 6);
    generator.stop();
  });

  it('emits nothing at rate 0 and wakes up by itself when the profile rises again', () => {
    const step = parseProfile({ kind: 'step', steps: [{ atS: 0, rateRps: 0 }, { atS: 5, rateRps: 10 }] });
    const { clock, generator, arrivals } = setup(step);
    generator.start();
    clock.advance(4_900);
    expect(arrivals).toHaveLength(0);
    expect(generator.status().offeredRps).toBe(0);
    clock.advance(5_100);
    expect(Math.abs(arrivals.length - 50)).toBeLessThanOrEqual(1);
    expect(arrivals[0]?.intendedAtMs).toBeCloseTo(5_100, 6);
    generator.setRateRps(0);
    const atZero = arrivals.length;
    clock.advance(60_000);
    expect(arrivals.length).toBe(atZero);
    generator.setRateRps(20);
    clock.advance(1_000);
    expect(Math.abs(arrivals.length - atZero - 20)).toBeLessThanOrEqual(1);
    generator.stop();
  });

  it('lets onArrival change the rate (re-entrant control calls)', () => {
    const clock = new ManualClock();
    let count = 0;
    const generator: LoadGenerator = new LoadGenerator({
      clock,
      profile: { kind: 'constant', rateRps: 1000 },
      onArrival: () => {
        count++;
        if (count === 10) generator.setRateRps(0);
      },
    });
    generator.start();
    clock.advance(1_000);
    expect(count).toBe(10);
    generator.stop();
  });

  it('logs an exception from onArrival and carries on', () => {
    const logger = memoryLogger();
    const { clock, generator, arrivals } = setup({ kind: 'constant', rateRps: 10 }, { logger });
    let calls = 0;
    const failing = new LoadGenerator({
      clock,
      profile: { kind: 'constant', rateRps: 10 },
      logger,
      onArrival: () => {
        calls++;
        throw new Error('boom');
      },
    });
    generator.start();
    failing.start();
    clock.advance(1_000);
    expect(calls).toBe(10);
    expect(arrivals).toHaveLength(10);
    expect(logger.find('loadgen.arrival_failed')).toHaveLength(10);
    expect(logger.find('loadgen.arrival_failed')[0]?.error).toMatchObject({ message: 'boom' });
    generator.stop();
    failing.stop();
  });
});

describe('LoadGenerator profiles', () => {
  it('step: each step gets its own rate', () => {
    const { clock, generator, arrivals } = setup(parseProfile({ kind: 'step', steps: [{ atS: 0, rateRps: 5 }, { atS: 2, rateRps: 50 }, { atS: 4, rateRps: 0 }] }));
    generator.start();
    clock.advance(10_000);
    expect(Math.abs(countBetween(arrivals, 0, 2_000) - 10)).toBeLessThanOrEqual(1);
    expect(Math.abs(countBetween(arrivals, 2_000, 4_000) - 100)).toBeLessThanOrEqual(1);
    expect(countBetween(arrivals, 4_000, 10_000)).toBe(0);
    generator.stop();
  });

  it('ramp: the count is the integral of the rate, and gaps shrink as the rate rises', () => {
    const { clock, generator, arrivals } = setup({ kind: 'ramp', fromRps: 0, toRps: 100, durationS: 10 });
    generator.start();
    clock.advance(10_000);
    expect(Math.abs(arrivals.length - 500)).toBeLessThanOrEqual(1); // ∫0..10 of 10·t dt
    // The first arrival is where ∫ = 5 t² reaches 1: t = √0.2 s.
    expect(arrivals[0]?.intendedAtMs).toBeCloseTo(Math.sqrt(0.2) * 1000, 0);
    clock.advance(2_000); // then holds 100 rps
    expect(Math.abs(countBetween(arrivals, 10_000, 12_000) - 200)).toBeLessThanOrEqual(1);
    generator.stop();
  });

  it('sine: two periods give mean × time arrivals, more near the crest than the trough', () => {
    const { clock, generator, arrivals } = setup({ kind: 'sine', meanRps: 10, amplitudeRps: 5, periodS: 10 });
    generator.start();
    clock.advance(20_000);
    expect(Math.abs(arrivals.length - 200)).toBeLessThanOrEqual(1);
    // ∫ over [0, 5] s is 50 + 5·10/π ≈ 65.9; over [5, 10] s ≈ 34.1.
    expect(Math.abs(countBetween(arrivals, 0, 5_000) - 65.9)).toBeLessThanOrEqual(1);
    expect(Math.abs(countBetween(arrivals, 5_000, 10_000) - 34.1)).toBeLessThanOrEqual(1);
    generator.stop();
  });

  it('spike: base rate, a burst, base again', () => {
    const { clock, generator, arrivals } = setup({ kind: 'spike', baseRps: 2, spikeRps: 200, atS: 3, durationS: 1 });
    generator.start();
    clock.advance(6_000);
    expect(Math.abs(countBetween(arrivals, 0, 3_000) - 6)).toBeLessThanOrEqual(1);
    expect(Math.abs(countBetween(arrivals, 3_000, 4_000) - 200)).toBeLessThanOrEqual(1);
    expect(Math.abs(countBetween(arrivals, 4_000, 6_000) - 4)).toBeLessThanOrEqual(1);
    generator.stop();
  });

  it('trace: replays rows scaled in time and rate, then stops offering', () => {
    const trace = parseProfile({
      kind: 'trace',
      points: [
        { tS: 0, rateRps: 1 },
        { tS: 60, rateRps: 2 },
        { tS: 120, rateRps: 4 },
      ],
      timeScale: 60,
      rateScale: 10,
    });
    const { clock, generator, arrivals } = setup(trace);
    generator.start();
    clock.advance(5_000);
    expect(Math.abs(countBetween(arrivals, 0, 1_000) - 10)).toBeLessThanOrEqual(1);
    expect(Math.abs(countBetween(arrivals, 1_000, 2_000) - 20)).toBeLessThanOrEqual(1);
    expect(Math.abs(countBetween(arrivals, 2_000, 3_000) - 40)).toBeLessThanOrEqual(1);
    expect(countBetween(arrivals, 3_000, 5_000)).toBe(0);
    generator.stop();
  });

  it('setProfile starts the new profile at its own time 0', () => {
    const { clock, generator, arrivals } = setup({ kind: 'constant', rateRps: 0 });
    generator.start();
    clock.advance(30_000);
    generator.setProfile({ kind: 'spike', baseRps: 0, spikeRps: 100, atS: 1, durationS: 1 });
    clock.advance(3_000);
    expect(Math.abs(countBetween(arrivals, 31_000, 32_000) - 100)).toBeLessThanOrEqual(1);
    expect(arrivals.length).toBe(countBetween(arrivals, 31_000, 32_000));
    expect(generator.status().profileElapsedS).toBe(3);
    generator.stop();
  });
});

describe('LoadGenerator pause and resume', () => {
  it('emits nothing while paused and does not advance the profile', () => {
    const { clock, generator, arrivals } = setup({ kind: 'ramp', fromRps: 10, toRps: 20, durationS: 10 });
    generator.start();
    clock.advance(2_000);
    generator.pause();
    const beforePause = arrivals.length;
    expect(Math.abs(beforePause - 22)).toBeLessThanOrEqual(1); // ∫0..2 of (10 + t) dt
    expect(generator.status()).toMatchObject({ paused: true, offeredRps: 0, elapsedS: 2 });
    clock.advance(60_000);
    expect(arrivals.length).toBe(beforePause);
    expect(clock.pendingTimers()).toBe(0);
    generator.resume();
    expect(generator.status().offeredRps).toBeCloseTo(12, 10); // the ramp continues where it was
    clock.advance(8_000);
    // ∫ of the ramp over its 10 s of running time: 150 arrivals, none with a paused intended time.
    expect(Math.abs(arrivals.length - 150)).toBeLessThanOrEqual(1);
    expect(arrivals.filter((a) => a.intendedAtMs > 2_000 && a.intendedAtMs <= 62_000)).toHaveLength(0);
    expect(generator.status().elapsedS).toBe(10);
    generator.stop();
    expect(generator.status()).toMatchObject({ running: false, offeredRps: 0 });
  });

  it('restarts from zero after stop', () => {
    const { clock, generator, arrivals } = setup({ kind: 'constant', rateRps: 10 });
    generator.start();
    clock.advance(1_000);
    generator.stop();
    clock.advance(1_000);
    expect(arrivals).toHaveLength(10);
    generator.start();
    clock.advance(1_000);
    expect(arrivals).toHaveLength(20);
    expect(arrivals[10]).toMatchObject({ seq: 0 });
    expect(arrivals[10]?.intendedAtMs).toBeCloseTo(2_100, 6);
    generator.stop();
  });
});

describe('LoadGenerator poisson arrivals', () => {
  it('has the offered mean rate and exponential gaps (seeded)', () => {
    const { clock, generator, arrivals } = setup({ kind: 'constant', rateRps: 100 }, { arrivals: 'poisson', random: mulberry32(42) });
    generator.start();
    clock.advance(100_000);
    // Expected 10,000 with standard deviation 100: allow 4 σ.
    expect(Math.abs(arrivals.length - 10_000)).toBeLessThanOrEqual(400);
    const gaps = arrivals.slice(1).map((a, i) => a.intendedAtMs - (arrivals[i]?.intendedAtMs ?? 0));
    const mean = gaps.reduce((s, g) => s + g, 0) / gaps.length;
    const sd = Math.sqrt(gaps.reduce((s, g) => s + (g - mean) ** 2, 0) / gaps.length);
    expect(mean).toBeGreaterThan(9.5);
    expect(mean).toBeLessThan(10.5);
    expect(sd / mean).toBeGreaterThan(0.9); // exponential: coefficient of variation 1 (uniform: 0)
    expect(sd / mean).toBeLessThan(1.1);
    generator.stop();
  });

  it('is repeatable with the same seed', () => {
    const run = () => {
      const { clock, generator, arrivals } = setup({ kind: 'sine', meanRps: 50, amplitudeRps: 50, periodS: 2 }, { arrivals: 'poisson', random: mulberry32(7) });
      generator.start();
      clock.advance(5_000);
      generator.stop();
      return arrivals.map((a) => a.intendedAtMs);
    };
    expect(run()).toEqual(run());
  });
});

describe('LoadGenerator bursts', () => {
  it('emits a backlog after a late wake-up in batches of maxBurst, keeping intended times', () => {
    const manual = new ManualClock();
    const perWake: number[] = [];
    const arrivals: Arrival[] = [];
    // An event loop that runs every timer 250 ms late (a stalled process).
    const lateClock: Clock = {
      nowMs: () => manual.nowMs(),
      wallMs: () => manual.wallMs(),
      clearTimeout: (handle) => manual.clearTimeout(handle),
      setTimeout: (callback, delayMs) =>
        manual.setTimeout(() => {
          const before = arrivals.length;
          callback();
          perWake.push(arrivals.length - before);
        }, delayMs + 250),
    };
    const generator = new LoadGenerator({ clock: lateClock, profile: { kind: 'constant', rateRps: 1000 }, maxBurst: 100, onArrival: (a) => arrivals.push(a) });
    generator.start();
    manual.advance(5_000);
    generator.stop();
    expect(Math.max(...perWake)).toBe(100);
    expect(Math.abs(arrivals.length - 5_000)).toBeLessThanOrEqual(1);
    arrivals.forEach((a, i) => expect(a.intendedAtMs).toBeCloseTo(i + 1, 6));
  });
});

describe('measureRateAccuracy', () => {
  it('counts offered, intended and delivered arrivals over the window', async () => {
    const clock = new ManualClock();
    const pending = measureRateAccuracy({ rateRps: 50, durationS: 4, clock });
    clock.advance(4_000);
    const result = await pending;
    expect(result.offered).toBe(200);
    expect(result.windowS).toBe(4);
    expect(result.intended).toBe(200);
    expect(Math.abs(result.actual - 200)).toBeLessThanOrEqual(1);
    expect(Math.abs(result.errorPct)).toBeLessThanOrEqual(0.5);
    expect(result.lagMaxMs).toBeLessThanOrEqual(1);
    expect(clock.pendingTimers()).toBe(0);
  });

  it('rejects a non-positive rate or duration', async () => {
    await expect(measureRateAccuracy({ rateRps: 0, durationS: 1, clock: new ManualClock() })).rejects.toThrow(/rateRps/);
    await expect(measureRateAccuracy({ rateRps: 1, durationS: -1, clock: new ManualClock() })).rejects.toThrow(/durationS/);
  });
});
