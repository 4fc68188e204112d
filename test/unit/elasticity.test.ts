// SPEC RG elasticity metrics on series computed by hand: accuracy, timeshare and jitter, the
// zero-demand guard, demand derived from load, and step-function sampling.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { demandFromLoad, elasticityMetrics, sampleStepFunction } from '../../electron/core/autoscaler/elasticity';
import { AutoscalerError } from '../../electron/core/autoscaler/errors';

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(AutoscalerError);
    return (error as AutoscalerError).code;
  }
  return 'nothing thrown';
}

describe('elasticityMetrics', () => {
  it('is all zeros when supply tracks demand perfectly', () => {
    const demand = [1, 2, 3, 3, 2, 5];
    const m = elasticityMetrics({ demand, supply: [...demand], stepMs: 1_000 });
    expect(m).toEqual({
      durationMs: 6_000,
      accuracyUnderPct: 0,
      accuracyOverPct: 0,
      timeshareUnderPct: 0,
      timeshareOverPct: 0,
      supplyAdaptations: 4,
      demandAdaptations: 4,
      jitterPerMin: 0,
    });
  });

  it('gives known values for constant under-provisioning', () => {
    const m = elasticityMetrics({ demand: [4, 4, 4, 4], supply: [3, 3, 3, 3], stepMs: 15_000 });
    expect(m.durationMs).toBe(60_000);
    expect(m.accuracyUnderPct).toBeCloseTo(25, 10);
    expect(m.accuracyOverPct).toBe(0);
    expect(m.timeshareUnderPct).toBe(100);
    expect(m.timeshareOverPct).toBe(0);
    expect(m.jitterPerMin).toBe(0);
  });

  it('matches a mixed series worked by hand', () => {
    // per step: under 0, 0, 1/4, 0 → θU = 100 × 0.25 / 4 = 6.25 %
    //           over  0, 1/2, 0, 0 → θO = 100 × 0.5 / 4 = 12.5 %
    // supply changes 2→3, 3→4 (2); demand 2→4 (1); T = 4 s = 1/15 min → J = 15 / min
    const m = elasticityMetrics({ demand: [2, 2, 4, 4], supply: [2, 3, 3, 4], stepMs: 1_000 });
    expect(m.accuracyUnderPct).toBeCloseTo(6.25, 10);
    expect(m.accuracyOverPct).toBeCloseTo(12.5, 10);
    expect(m.timeshareUnderPct).toBe(25);
    expect(m.timeshareOverPct).toBe(25);
    expect(m.supplyAdaptations).toBe(2);
    expect(m.demandAdaptations).toBe(1);
    expect(m.jitterPerMin).toBeCloseTo(15, 10);
  });

  it('counts jitter as supply minus demand adaptations per minute', () => {
    const thrashing = elasticityMetrics({ demand: [1, 1, 1, 1, 1, 1], supply: [1, 2, 1, 2, 1, 2], stepMs: 10_000 });
    expect(thrashing.supplyAdaptations).toBe(5);
    expect(thrashing.demandAdaptations).toBe(0);
    expect(thrashing.jitterPerMin).toBeCloseTo(5, 10);

    const sluggish = elasticityMetrics({ demand: [1, 2, 3, 4], supply: [1, 1, 1, 4], stepMs: 15_000 });
    expect(sluggish.jitterPerMin).toBeCloseTo(-2, 10);
  });

  it('divides by max(d, 1) when demand is zero', () => {
    const m = elasticityMetrics({ demand: [0, 0], supply: [2, 0], stepMs: 1_000 });
    expect(m.accuracyOverPct).toBeCloseTo(100, 10); // (2/1 + 0) / 2 samples
    expect(m.accuracyUnderPct).toBe(0);
    expect(m.timeshareOverPct).toBe(50);
    expect(Number.isFinite(m.accuracyOverPct)).toBe(true);
  });

  it('returns zeros for an empty series and rejects malformed ones', () => {
    expect(elasticityMetrics({ demand: [], supply: [], stepMs: 1_000 })).toMatchObject({ durationMs: 0, accuracyUnderPct: 0, jitterPerMin: 0 });
    expect(codeOf(() => elasticityMetrics({ demand: [1, 2], supply: [1], stepMs: 1_000 }))).toBe('ELASTICITY_BAD_SERIES');
    expect(codeOf(() => elasticityMetrics({ demand: [1], supply: [1], stepMs: 0 }))).toBe('ELASTICITY_BAD_SERIES');
    expect(codeOf(() => elasticityMetrics({ demand: [1, -1], supply: [1, 1], stepMs: 1 }))).toBe('ELASTICITY_BAD_SERIES');
    expect(codeOf(() => elasticityMetrics({ demand: [1], supply: [Number.NaN], stepMs: 1 }))).toBe('ELASTICITY_BAD_SERIES');
  });

  it('keeps its metrics in range for any series', () => {
    const series = fc.integer({ min: 1, max: 40 }).chain((n) =>
      fc.record({
        demand: fc.array(fc.nat(12), { minLength: n, maxLength: n }),
        supply: fc.array(fc.nat(12), { minLength: n, maxLength: n }),
        stepMs: fc.integer({ min: 1, max: 60_000 }),
      }),
    );
    fc.assert(
      fc.property(series, (s) => {
        const m = elasticityMetrics(s);
        expect(m.accuracyUnderPct).toBeGreaterThanOrEqual(0);
        expect(m.accuracyUnderPct).toBeLessThanOrEqual(100); // a shortfall is at most all of the demand
        expect(m.accuracyOverPct).toBeGreaterThanOrEqual(0);
        expect(m.timeshareUnderPct + m.timeshareOverPct).toBeLessThanOrEqual(100 + 1e-9);
        const same = elasticityMetrics({ demand: s.demand, supply: s.demand, stepMs: s.stepMs });
        expect(same.accuracyUnderPct + same.accuracyOverPct + same.timeshareUnderPct + same.timeshareOverPct + same.jitterPerMin).toBe(0);
      }),
      { numRuns: 200 },
    );
  });
});

describe('demandFromLoad', () => {
  it('is the number of VMs the offered load needs', () => {
    expect(demandFromLoad(0, 10)).toBe(0);
    expect(demandFromLoad(-3, 10)).toBe(0);
    expect(demandFromLoad(20, 10)).toBe(2);
    expect(demandFromLoad(25, 10)).toBe(3);
    expect(demandFromLoad(1.1, 0.1)).toBe(11); // not 12 from float noise
    expect(demandFromLoad(12, 10, 0.6)).toBe(2);
    expect(demandFromLoad(13, 10, 0.6)).toBe(3);
    expect(codeOf(() => demandFromLoad(5, 0))).toBe('AUTOSCALER_BAD_ARGUMENT');
    expect(codeOf(() => demandFromLoad(5, 10, 1.5))).toBe('AUTOSCALER_BAD_ARGUMENT');
  });
});

describe('sampleStepFunction', () => {
  it('holds each value until the next point', () => {
    const points = [
      { atMs: 4_000, value: 2 },
      { atMs: 0, value: 1 },
      { atMs: 2_500, value: 3 },
    ];
    expect(sampleStepFunction(points, 0, 5_000, 1_000)).toEqual([1, 1, 1, 3, 2]);
    expect(sampleStepFunction(points, -2_000, 1_000, 1_000, 7)).toEqual([7, 7, 1]);
    expect(sampleStepFunction([], 0, 3_000, 1_000, 4)).toEqual([4, 4, 4]);
    expect(codeOf(() => sampleStepFunction(points, 0, 1, 0))).toBe('ELASTICITY_BAD_SERIES');
  });
});
