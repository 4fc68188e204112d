// Load profiles: the rate each kind gives over time, the pieces the generator integrates over,
// schema errors that name the failing path, and the inter-request time conversions.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  interRequestSFromRate,
  parseProfile,
  profileDurationS,
  profilePieceAt,
  profileSchema,
  ProfileError,
  rateAt,
  rateFromInterRequestS,
  type LoadProfile,
} from '../../electron/core/loadgen/profiles';

describe('rateAt', () => {
  it('constant', () => {
    expect(rateAt({ kind: 'constant', rateRps: 7 }, 0)).toBe(7);
    expect(rateAt({ kind: 'constant', rateRps: 7 }, 1e6)).toBe(7);
  });

  it('step holds each rate from its time until the next step', () => {
    const p = parseProfile({ kind: 'step', steps: [{ atS: 0, rateRps: 1 }, { atS: 10, rateRps: 5 }, { atS: 20, rateRps: 0 }] });
    expect([0, 9.999, 10, 15, 19.99, 20, 1000].map((s) => rateAt(p, s))).toEqual([1, 1, 5, 5, 5, 0, 0]);
  });

  it('ramp goes linearly from fromRps to toRps, then holds toRps', () => {
    const p: LoadProfile = { kind: 'ramp', fromRps: 10, toRps: 110, durationS: 100 };
    expect(rateAt(p, 0)).toBe(10);
    expect(rateAt(p, 50)).toBeCloseTo(60, 10);
    expect(rateAt(p, 99)).toBeCloseTo(109, 10);
    expect(rateAt(p, 100)).toBe(110);
    expect(rateAt(p, 5000)).toBe(110);
    expect(rateAt({ kind: 'ramp', fromRps: 100, toRps: 0, durationS: 10 }, 2.5)).toBeCloseTo(75, 10);
    expect(rateAt({ kind: 'ramp', fromRps: 3, toRps: 9, durationS: 0 }, 0)).toBe(9);
  });

  it('sine oscillates around the mean and is clamped at 0', () => {
    const p: LoadProfile = { kind: 'sine', meanRps: 10, amplitudeRps: 4, periodS: 60 };
    expect(rateAt(p, 0)).toBeCloseTo(10, 10);
    expect(rateAt(p, 15)).toBeCloseTo(14, 10);
    expect(rateAt(p, 30)).toBeCloseTo(10, 10);
    expect(rateAt(p, 45)).toBeCloseTo(6, 10);
    expect(rateAt(p, 60)).toBeCloseTo(10, 10);
    const deep: LoadProfile = { kind: 'sine', meanRps: 2, amplitudeRps: 5, periodS: 60 };
    expect(rateAt(deep, 45)).toBe(0);
    expect(rateAt(deep, 15)).toBeCloseTo(7, 10);
  });

  it('spike is base, then spikeRps for durationS, then base again', () => {
    const p: LoadProfile = { kind: 'spike', baseRps: 5, spikeRps: 50, atS: 30, durationS: 10 };
    expect([0, 29.9, 30, 39.9, 40, 100].map((s) => rateAt(p, s))).toEqual([5, 5, 50, 50, 5, 5]);
  });

  it('trace is piecewise constant per row, scaled in time and rate, 0 after the end unless looping', () => {
    const points = [
      { tS: 0, rateRps: 1 },
      { tS: 60, rateRps: 2 },
      { tS: 120, rateRps: 4 },
    ];
    const p = parseProfile({ kind: 'trace', points, timeScale: 60, rateScale: 10 });
    // 60 trace seconds a real second: each row lasts 1 s; the last row lasts as long as the one before.
    expect([0, 0.99, 1, 1.5, 2, 2.99, 3, 10].map((s) => rateAt(p, s))).toEqual([10, 10, 20, 20, 40, 40, 0, 0]);
    expect(profileDurationS(p)).toBe(3);
    const looped = parseProfile({ kind: 'trace', points, timeScale: 60, rateScale: 10, loop: true });
    expect([3, 4.5, 5.5, 300.2].map((s) => rateAt(looped, s))).toEqual([10, 20, 40, 10]);
    expect(profileDurationS(looped)).toBe(Infinity);
    const late = parseProfile({ kind: 'trace', points: [{ tS: 10, rateRps: 3 }, { tS: 20, rateRps: 6 }] });
    expect([0, 9.9, 10, 25, 30].map((s) => rateAt(late, s))).toEqual([0, 0, 3, 6, 0]);
  });

  it('is never negative, for any valid profile and time', () => {
    const arb = fc.oneof(
      fc.record({ kind: fc.constant('sine' as const), meanRps: fc.double({ min: 0, max: 100, noNaN: true }), amplitudeRps: fc.double({ min: 0, max: 200, noNaN: true }), periodS: fc.double({ min: 0.1, max: 1000, noNaN: true }) }),
      fc.record({ kind: fc.constant('ramp' as const), fromRps: fc.double({ min: 0, max: 100, noNaN: true }), toRps: fc.double({ min: 0, max: 100, noNaN: true }), durationS: fc.double({ min: 0, max: 1000, noNaN: true }) }),
    );
    fc.assert(fc.property(arb, fc.double({ min: -10, max: 1e5, noNaN: true }), (profile, s) => rateAt(profileSchema.parse(profile), s) >= 0));
  });
});

describe('profilePieceAt', () => {
  it('ends constant pieces at the next change, and marks ramp and sine as smooth', () => {
    const step = parseProfile({ kind: 'step', steps: [{ atS: 0, rateRps: 1 }, { atS: 10, rateRps: 5 }] });
    expect(profilePieceAt(step, 3)).toEqual({ endS: 10, smooth: false });
    expect(profilePieceAt(step, 10)).toEqual({ endS: Infinity, smooth: false });
    expect(profilePieceAt({ kind: 'ramp', fromRps: 0, toRps: 1, durationS: 5 }, 1)).toEqual({ endS: 5, smooth: true });
    expect(profilePieceAt({ kind: 'ramp', fromRps: 0, toRps: 1, durationS: 5 }, 5)).toEqual({ endS: Infinity, smooth: false });
    expect(profilePieceAt({ kind: 'sine', meanRps: 1, amplitudeRps: 1, periodS: 5 }, 1).smooth).toBe(true);
    expect(profilePieceAt({ kind: 'spike', baseRps: 1, spikeRps: 9, atS: 4, durationS: 2 }, 0)).toEqual({ endS: 4, smooth: false });
    expect(profilePieceAt({ kind: 'spike', baseRps: 1, spikeRps: 9, atS: 4, durationS: 2 }, 4)).toEqual({ endS: 6, smooth: false });
    const trace = parseProfile({ kind: 'trace', points: [{ tS: 0, rateRps: 1 }, { tS: 60, rateRps: 2 }], timeScale: 60 });
    expect(profilePieceAt(trace, 0.5).endS).toBeCloseTo(1, 10);
    expect(profilePieceAt(trace, 1.5).endS).toBeCloseTo(2, 10);
  });
});

describe('profileSchema / parseProfile', () => {
  function errorOf(input: unknown): ProfileError {
    try {
      parseProfile(input);
    } catch (error) {
      if (error instanceof ProfileError) return error;
      throw error;
    }
    throw new Error('expected parseProfile to throw');
  }

  it('fills trace defaults', () => {
    const p = parseProfile({ kind: 'trace', points: [{ tS: 0, rateRps: 1 }] });
    expect(p).toMatchObject({ timeScale: 1, rateScale: 1, loop: false });
  });

  it('names the failing path', () => {
    const unsorted = errorOf({ kind: 'step', steps: [{ atS: 0, rateRps: 1 }, { atS: 20, rateRps: 1 }, { atS: 10, rateRps: 1 }] });
    expect(unsorted.code).toBe('profile_invalid');
    expect(unsorted.message).toContain('steps[2].atS');
    expect(errorOf({ kind: 'step', steps: [{ atS: 5, rateRps: 1 }] }).message).toContain('steps[0].atS');
    expect(errorOf({ kind: 'constant', rateRps: -1 }).message).toContain('rateRps');
    expect(errorOf({ kind: 'constant', rate: 1 }).message).toMatch(/rateRps|rate/);
    expect(errorOf({ kind: 'sine', meanRps: 1, amplitudeRps: 1, periodS: 0 }).message).toContain('periodS');
    expect(errorOf({ kind: 'wave' }).message).toContain('kind');
    expect(errorOf({ kind: 'trace', points: [{ tS: 0, rateRps: 1 }, { tS: 0, rateRps: 1 }] }).message).toContain('points[1].tS');
    expect(errorOf({ kind: 'trace', points: [] }).message).toContain('points');
    expect(errorOf({ kind: 'constant', rateRps: Infinity }).message).toContain('rateRps');
  });
});

describe('inter-request time', () => {
  it('converts both ways', () => {
    expect(rateFromInterRequestS(0.5)).toBe(2);
    expect(rateFromInterRequestS(4)).toBe(0.25);
    expect(interRequestSFromRate(20)).toBeCloseTo(0.05, 12);
    fc.assert(fc.property(fc.double({ min: 1e-6, max: 1e6, noNaN: true }), (s) => Math.abs(interRequestSFromRate(rateFromInterRequestS(s)) - s) <= s * 1e-12));
  });

  it('refuses 0, negative and non-numbers with a clear error', () => {
    for (const bad of [0, -1, NaN, Infinity]) {
      expect(() => rateFromInterRequestS(bad)).toThrow(/inter-request time must be .* greater than 0/);
      expect(() => interRequestSFromRate(bad)).toThrow(ProfileError);
    }
  });
});
