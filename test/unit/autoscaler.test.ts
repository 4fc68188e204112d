// The autoscaler's decisions on hand-made inputs: target-tracking math, stabilization windows,
// the threshold rule, warm-up, manual control, victim choice, and invariants under random input.
// Time moves only through ManualClock; the metrics source is a plain object.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ManualClock } from '../../electron/core/clock';
import { Autoscaler, chooseVictims, type Decision } from '../../electron/core/autoscaler/autoscaler';
import { summarize, type MemberView, type ScalingInputs } from '../../electron/core/autoscaler/inputs';
import { AutoscalerError } from '../../electron/core/autoscaler/errors';

const startMs = 1_000_000;

/** A healthy member registered long ago (past any warm-up). */
function warmed(id: string, busy: number, outstanding = 0): MemberView {
  return { id, state: 'healthy', registeredAtMs: startMs - 600_000, busy, outstanding, startedAtMs: startMs - 610_000 };
}

function booting(id: string): MemberView {
  return { id, state: 'booting', registeredAtMs: null, busy: null, outstanding: 0, startedAtMs: startMs };
}

function warmedAll(count: number, busy: number, outstanding = 0): MemberView[] {
  return Array.from({ length: count }, (_, i) => warmed(`m${i}`, busy, outstanding));
}

interface Harness {
  clock: ManualClock;
  scaler: Autoscaler;
  set(members: MemberView[], extra?: Partial<Omit<ScalingInputs, 'members' | 'nowMs'>>): void;
}

function harness(config: unknown, members: MemberView[], extra: Partial<Omit<ScalingInputs, 'members' | 'nowMs'>> = {}): Harness {
  const clock = new ManualClock(startMs);
  let state: Omit<ScalingInputs, 'nowMs'> = { members, p95Ms: null, offeredRps: 10, servedRps: 10, ...extra };
  const source = { scalingInputs: (): ScalingInputs => ({ ...state, nowMs: clock.nowMs() }) };
  const scaler = new Autoscaler({ clock, source, config });
  return {
    clock,
    scaler,
    set(next, more = {}) {
      state = { ...state, ...more, members: next };
    },
  };
}

function caught(fn: () => unknown): AutoscalerError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(AutoscalerError);
    return error as AutoscalerError;
  }
  throw new Error('expected an AutoscalerError, nothing was thrown');
}

function expectDecision(decision: Decision | null): Decision {
  expect(decision).not.toBeNull();
  return decision as Decision;
}

describe('summarize', () => {
  it('counts healthy + booting as capacity and only warmed members in the metrics', () => {
    const fresh: MemberView = { id: 'fresh', state: 'healthy', registeredAtMs: startMs - 1_000, busy: 0, outstanding: 9, startedAtMs: startMs - 3_000 };
    const edge: MemberView = { id: 'edge', state: 'healthy', registeredAtMs: startMs - 5_000, busy: 0.4, outstanding: 2, startedAtMs: startMs - 8_000 };
    const draining: MemberView = { ...warmed('d', 0), state: 'draining' };
    const paused: MemberView = { ...warmed('p', 0), state: 'paused' };
    const s = summarize(
      { nowMs: startMs, members: [warmed('a', 0.8, 4), edge, fresh, booting('b'), draining, paused], p95Ms: 120, offeredRps: 30, servedRps: 28 },
      5_000,
    );
    expect(s).toEqual({
      current: 4,
      healthy: 3,
      booting: 1,
      warmed: 2,
      warming: 1,
      utilization: (0.8 + 0.4) / 2,
      inflightPerMember: 3,
      p95Ms: 120,
      offeredRps: 30,
      servedRps: 28,
    });
  });

  it('has no utilization when no member is warmed', () => {
    const s = summarize({ nowMs: startMs, members: [booting('b')], p95Ms: null, offeredRps: 1, servedRps: 0 }, 5_000);
    expect(s.utilization).toBeNull();
    expect(s.inflightPerMember).toBeNull();
    expect(s.current).toBe(1);
  });
});

describe('target tracking', () => {
  it('scales up to ceil(current × metric / target) and says how', () => {
    const h = harness({}, warmedAll(3, 0.9));
    const d = expectDecision(h.scaler.evaluate());
    expect(d).toMatchObject({ from: 3, to: 5, kind: 'up', policy: 'target:utilization', atMs: startMs });
    expect(d.reason).toContain('utilization 0.90 > target 0.60 ± 10% over 3 warmed members → ceil(3 × 0.90/0.60) = 5');
    expect(d.inputs.utilization).toBeCloseTo(0.9);
    expect(h.scaler.decisions()).toEqual([d]);
  });

  it('does nothing inside the tolerance band, including at its edge', () => {
    for (const busy of [0.6, 0.64, 0.66, 0.54]) {
      const h = harness({}, warmedAll(3, busy));
      expect(h.scaler.evaluate()).toBeNull();
      expect(h.scaler.lastEvaluation()?.reason).toContain('within target 0.60 ± 10%');
    }
    const h = harness({ scaleDownWindowMs: 0 }, warmedAll(3, 0.67));
    expect(expectDecision(h.scaler.evaluate()).to).toBe(4);
  });

  it('caps a scale-up at maxStepUp', () => {
    const h = harness({ target: 0.2, max: 20 }, warmedAll(2, 1));
    const d = expectDecision(h.scaler.evaluate());
    expect(d).toMatchObject({ from: 2, to: 6 });
    expect(d.reason).toContain('ceil(2 × 1.00/0.20) = 10, capped by maxStepUp 4 to 6');
  });

  it('clamps to max and to min', () => {
    const up = harness({ target: 0.5, max: 5 }, warmedAll(3, 1));
    const d = expectDecision(up.scaler.evaluate());
    expect(d).toMatchObject({ from: 3, to: 5, kind: 'up' });
    expect(d.reason).toContain('held to max 5');

    const down = harness({ min: 2, scaleDownWindowMs: 0, maxStepDown: 10 }, warmedAll(4, 0.05));
    const d2 = expectDecision(down.scaler.evaluate());
    expect(d2).toMatchObject({ from: 4, to: 2, kind: 'down' });
    expect(d2.reason).toContain('held to min 2');

    const atMax = harness({ max: 3 }, warmedAll(3, 1));
    expect(atMax.scaler.evaluate()).toBeNull();
    expect(atMax.scaler.lastEvaluation()?.reason).toContain('held to max 3');
  });

  it('brings a pool outside [min, max] straight back, before any policy', () => {
    const empty = harness({ min: 1 }, []);
    expect(expectDecision(empty.scaler.evaluate())).toMatchObject({ from: 0, to: 1, kind: 'clamp' });
    expect(empty.scaler.lastEvaluation()?.reason).toContain('below min');

    const big = harness({ max: 8 }, warmedAll(5, 0.6));
    big.scaler.setConfig({ max: 3 });
    const d = expectDecision(big.scaler.evaluate());
    expect(d).toMatchObject({ from: 5, to: 3, kind: 'clamp' });
    expect(d.reason).toContain('above max');
  });

  it('scales from zero on offered load when min is 0', () => {
    const h = harness({ min: 0 }, [], { offeredRps: 5 });
    expect(expectDecision(h.scaler.evaluate())).toMatchObject({ from: 0, to: 1, kind: 'up' });
    h.set([], { offeredRps: 0 });
    h.clock.advance(2_000);
    expect(h.scaler.evaluate()).toBeNull();
  });

  it('tracks in-flight requests per member and p95 against an SLO', () => {
    const inflight = harness({ metric: 'inflight' }, warmedAll(2, 0.5, 8));
    expect(expectDecision(inflight.scaler.evaluate())).toMatchObject({ from: 2, to: 4, policy: 'target:inflight' });

    const p95 = harness({ metric: 'p95', target: 500 }, warmedAll(2, 0.5), { p95Ms: 1_000 });
    const d = expectDecision(p95.scaler.evaluate());
    expect(d).toMatchObject({ from: 2, to: 4, policy: 'target:p95' });
    expect(d.reason).toContain('SLO 500 ms');

    const waiting = harness({ metric: 'p95' }, warmedAll(3, 0.5), { p95Ms: null, offeredRps: 5 });
    expect(waiting.scaler.evaluate()).toBeNull();
    expect(waiting.scaler.lastEvaluation()?.reason).toContain('no p95 yet');

    const idle = harness({ metric: 'p95', scaleDownWindowMs: 0 }, warmedAll(3, 0), { p95Ms: null, offeredRps: 0 });
    expect(expectDecision(idle.scaler.evaluate())).toMatchObject({ from: 3, to: 2, kind: 'down' });
  });

  it('scale-up window: a brief spike does not scale up while an earlier recommendation was lower', () => {
    const h = harness({ scaleUpWindowMs: 10_000, periodMs: 2_000 }, warmedAll(3, 0.6));
    for (let i = 0; i < 5; i += 1) {
      expect(h.scaler.evaluate()).toBeNull();
      h.clock.advance(2_000);
    }
    h.set(warmedAll(3, 0.95)); // spike at +10 s
    expect(h.scaler.evaluate()).toBeNull();
    expect(h.scaler.lastEvaluation()?.reason).toContain('scale-up window 10 s: lowest recommendation 3');
    h.clock.advance(2_000);
    h.set(warmedAll(3, 0.6)); // gone by +12 s
    expect(h.scaler.evaluate()).toBeNull();

    // Sustained for longer than the window, it does scale up.
    h.set(warmedAll(3, 0.95));
    let decision: Decision | null = null;
    while (decision === null && h.clock.nowMs() < startMs + 60_000) {
      h.clock.advance(2_000);
      decision = h.scaler.evaluate();
    }
    const d = expectDecision(decision);
    expect(d).toMatchObject({ from: 3, to: 5 });
    // The dip's recommendation (3, at +12 s) leaves the 10 s window at +22 s.
    expect(d.atMs).toBe(startMs + 22_000);
  });

  it('without an up window the same spike scales up at once', () => {
    const h = harness({ scaleUpWindowMs: 0 }, warmedAll(3, 0.6));
    expect(h.scaler.evaluate()).toBeNull();
    h.clock.advance(2_000);
    h.set(warmedAll(3, 0.95));
    expect(expectDecision(h.scaler.evaluate())).toMatchObject({ from: 3, to: 5 });
  });

  it('scale-down window: waits until the window has passed, then steps down', () => {
    const h = harness({ scaleDownWindowMs: 30_000 }, warmedAll(4, 0.6));
    expect(h.scaler.evaluate()).toBeNull();
    h.set(warmedAll(4, 0.1));
    for (let t = 2_000; t < 30_000; t += 2_000) {
      h.clock.advance(2_000);
      expect(h.scaler.evaluate()).toBeNull();
    }
    expect(h.scaler.lastEvaluation()?.reason).toContain('scale-down window 30 s: highest recommendation 4');
    h.clock.advance(2_000); // +30 s: the recommendation of 4 at +0 leaves the window
    const d = expectDecision(h.scaler.evaluate());
    expect(d).toMatchObject({ from: 4, to: 3, kind: 'down' });
    expect(d.reason).toContain('limited by maxStepDown 1 to 3');
    h.set(warmedAll(3, 0.1));
    h.clock.advance(2_000);
    expect(expectDecision(h.scaler.evaluate())).toMatchObject({ from: 3, to: 2 });
  });

  it('does not scale down at once when it starts watching a quiet pool', () => {
    const h = harness({ scaleDownWindowMs: 30_000 }, warmedAll(4, 0.1));
    expect(h.scaler.evaluate()).toBeNull();
    h.clock.advance(30_000);
    expect(expectDecision(h.scaler.evaluate()).to).toBe(3);
  });
});

describe('warm-up and missing data', () => {
  it('holds with no warmed members while members boot, and says why', () => {
    const h = harness({}, [booting('b1'), booting('b2')]);
    for (let i = 0; i < 5; i += 1) {
      expect(h.scaler.evaluate()).toBeNull();
      h.clock.advance(2_000);
    }
    expect(h.scaler.lastEvaluation()?.reason).toContain('no warmed members yet among 2 members (2 booting)');
    expect(h.scaler.decisions()).toEqual([]);
  });

  it('ignores a fresh member\'s idle readings and counts capacity on its way', () => {
    const fresh = (id: string): MemberView => ({ id, state: 'healthy', registeredAtMs: startMs - 1_000, busy: 0, outstanding: 0, startedAtMs: startMs - 3_000 });
    // Two warmed at 0.9 plus two fresh at 0: the mean is 0.9, not 0.45, but the two fresh
    // members already cover ceil(2 × 0.9/0.6) = 3 ≤ 4, so no scale-up and no scale-down.
    const h = harness({ scaleDownWindowMs: 0, warmupMs: 5_000 }, [warmed('a', 0.9), warmed('b', 0.9), fresh('c'), fresh('d')]);
    expect(h.scaler.evaluate()).toBeNull();
    expect(h.scaler.lastEvaluation()?.summary.utilization).toBeCloseTo(0.9);
    expect(h.scaler.lastEvaluation()?.reason).toContain('counted as idle');
    // Once they have warmed up, their own readings count.
    h.clock.advance(5_000);
    h.set([warmed('a', 0.5), warmed('b', 0.5), { ...fresh('c'), busy: 0.5 }, { ...fresh('d'), busy: 0.5 }]);
    expect(h.scaler.evaluate()).toBeNull();
    expect(h.scaler.lastEvaluation()?.summary.warmed).toBe(4);
  });

  it('scales up on warmed members even while one more boots, when that is not enough', () => {
    const h = harness({}, [warmed('a', 1), warmed('b', 1), booting('c')]);
    const d = expectDecision(h.scaler.evaluate());
    // ceil(2 × 1.00/0.60) = 4 > 3 counted.
    expect(d).toMatchObject({ from: 3, to: 4, kind: 'up' });
  });
});

describe('threshold policy', () => {
  const config = { kind: 'threshold', upPct: 90, intervalMs: 30_000, max: 10 };

  it('adds one above upPct, then waits an interval before the next decision', () => {
    const h = harness(config, warmedAll(3, 0.95));
    const d = expectDecision(h.scaler.evaluate());
    expect(d).toMatchObject({ from: 3, to: 4, kind: 'up', policy: 'threshold' });
    expect(d.reason).toContain('utilization 95% > 90%');
    h.set(warmedAll(4, 0.99));
    h.clock.advance(29_999);
    expect(h.scaler.evaluate()).toBeNull();
    expect(h.scaler.lastEvaluation()?.reason).toContain('one decision per 30 s');
    h.clock.advance(1);
    expect(expectDecision(h.scaler.evaluate())).toMatchObject({ from: 4, to: 5 });
  });

  it('removes one when the load fits on one fewer at upPct', () => {
    const h = harness(config, warmedAll(4, 0.6));
    const d = expectDecision(h.scaler.evaluate());
    expect(d).toMatchObject({ from: 4, to: 3, kind: 'down' });
    expect(d.reason).toContain('60% × 4/3 = 80% < 90%');
  });

  it('does nothing otherwise', () => {
    for (const busy of [0.7, 0.85, 0.9]) {
      const h = harness(config, warmedAll(4, busy));
      expect(h.scaler.evaluate()).toBeNull();
    }
    expect(harness(config, warmedAll(1, 0.1)).scaler.evaluate()).toBeNull();
    expect(harness({ ...config, max: 4 }, warmedAll(4, 0.99)).scaler.evaluate()).toBeNull();
  });
});

describe('manual control', () => {
  it('records a manual decision, clamps it, and rejects nonsense', () => {
    const h = harness({ max: 8 }, warmedAll(3, 0.6));
    expect(expectDecision(h.scaler.scaleTo(6, 'demo'))).toMatchObject({ from: 3, to: 6, kind: 'manual', reason: 'manual: demo' });
    const clamped = expectDecision(h.scaler.scaleTo(50));
    expect(clamped.to).toBe(8);
    expect(clamped.reason).toContain('clamped to [1, 8]');
    expect(h.scaler.scaleTo(3)).toBeNull(); // already 3 members: no decision from === to
    expect(() => h.scaler.scaleTo(-1)).toThrow(AutoscalerError);
    expect(caught(() => h.scaler.scaleTo(1.5)).code).toBe('AUTOSCALER_BAD_ARGUMENT');
  });

  it('holds a manual target while paused and hands back control on resume', () => {
    const h = harness({ scaleDownWindowMs: 0 }, warmedAll(3, 0.6));
    h.scaler.pause();
    expect(h.scaler.isPaused()).toBe(true);
    expect(expectDecision(h.scaler.scaleTo(5, 'hold it'))).toMatchObject({ to: 5, kind: 'manual' });
    expect(h.scaler.heldTarget()).toBe(5);
    h.set(warmedAll(5, 0.05)); // would scale down if running
    for (let i = 0; i < 3; i += 1) {
      h.clock.advance(2_000);
      expect(h.scaler.evaluate()).toBeNull();
    }
    expect(h.scaler.lastEvaluation()?.reason).toBe('autoscaling paused: holding manual target 5');
    h.scaler.resume();
    expect(h.scaler.isPaused()).toBe(false);
    expect(h.scaler.heldTarget()).toBeNull();
    h.clock.advance(2_000);
    expect(expectDecision(h.scaler.evaluate())).toMatchObject({ from: 5, to: 4, kind: 'down' });
  });

  it('a manual size stands for the scale-down window while running', () => {
    const h = harness({ scaleDownWindowMs: 10_000 }, warmedAll(2, 0.1));
    expect(h.scaler.evaluate()).toBeNull();
    expectDecision(h.scaler.scaleTo(6));
    h.set(warmedAll(6, 0.1));
    h.clock.advance(8_000);
    expect(h.scaler.evaluate()).toBeNull();
    expect(h.scaler.lastEvaluation()?.reason).toContain('highest recommendation 6');
    h.clock.advance(2_000);
    expect(expectDecision(h.scaler.evaluate())).toMatchObject({ from: 6, to: 5 });
  });

  it('keeps a bounded decision log and validates config changes', () => {
    const clock = new ManualClock(startMs);
    let members = warmedAll(3, 0.6);
    const scaler = new Autoscaler({ clock, source: { scalingInputs: () => ({ nowMs: clock.nowMs(), members, p95Ms: null, offeredRps: 1, servedRps: 1 }) }, maxDecisions: 3 });
    for (let n = 4; n <= 8; n += 1) {
      scaler.scaleTo(n);
      members = warmedAll(n, 0.6);
    }
    expect(scaler.decisions().map((d) => d.to)).toEqual([6, 7, 8]);
    expect(() => scaler.setConfig({ min: 5, max: 2 })).toThrow(/max: max \(2\) must be ≥ min \(5\)/);
    const error = caught(() => scaler.setConfig({ kind: 'threshold', upPct: 150 }));
    expect(error.code).toBe('AUTOSCALER_CONFIG_INVALID');
    expect(error.message).toContain('upPct');
    expect(scaler.getConfig().kind).toBe('target');
  });
});

describe('chooseVictims', () => {
  it('picks idle first: booting, then fewest in flight, lowest busy, newest; never more than asked', () => {
    const members: MemberView[] = [
      { id: 'busy', state: 'healthy', registeredAtMs: 0, busy: 0.9, outstanding: 2, startedAtMs: 100 },
      { id: 'old-idle', state: 'healthy', registeredAtMs: 0, busy: 0.5, outstanding: 0, startedAtMs: 100 },
      { id: 'new-idle', state: 'healthy', registeredAtMs: 0, busy: 0.5, outstanding: 0, startedAtMs: 900 },
      { id: 'quiet', state: 'healthy', registeredAtMs: 0, busy: 0.1, outstanding: 0, startedAtMs: 100 },
      { id: 'boot', state: 'booting', registeredAtMs: null, busy: null, outstanding: 0, startedAtMs: 1_000 },
      { id: 'gone', state: 'draining', registeredAtMs: 0, busy: 0, outstanding: 0, startedAtMs: 100 },
      { id: 'warm', state: 'paused', registeredAtMs: 0, busy: 0, outstanding: 0, startedAtMs: 100 },
    ];
    expect(chooseVictims(members, 3)).toEqual(['boot', 'quiet', 'new-idle']);
    expect(chooseVictims(members, 10)).toEqual(['boot', 'quiet', 'new-idle', 'old-idle', 'busy']);
    expect(chooseVictims(members, 0)).toEqual([]);
    expect(chooseVictims(members, -2)).toEqual([]);
  });
});

describe('invariants', () => {
  const memberArb = fc.record({
    state: fc.constantFrom('booting', 'healthy', 'healthy', 'healthy', 'draining', 'paused') as fc.Arbitrary<MemberView['state']>,
    busy: fc.option(fc.double({ min: 0, max: 1, noNaN: true }), { nil: null }),
    outstanding: fc.nat(20),
    registeredAgoMs: fc.option(fc.nat(60_000), { nil: null }),
  });
  const stepArb = fc.record({
    members: fc.array(memberArb, { maxLength: 14 }),
    advanceMs: fc.nat(20_000),
    p95Ms: fc.option(fc.double({ min: 0, max: 5_000, noNaN: true }), { nil: null }),
    offeredRps: fc.double({ min: 0, max: 100, noNaN: true }),
    manual: fc.option(fc.nat(20), { nil: null }),
    pause: fc.constantFrom('none', 'pause', 'resume'),
  });
  const configArb = fc.oneof(
    fc.record({
      kind: fc.constant('target' as const),
      min: fc.nat(4),
      extra: fc.nat(6),
      metric: fc.constantFrom('utilization', 'inflight', 'p95'),
      tolerance: fc.double({ min: 0, max: 0.5, noNaN: true }),
      scaleUpWindowMs: fc.nat(20_000),
      scaleDownWindowMs: fc.nat(60_000),
      maxStepUp: fc.integer({ min: 1, max: 5 }),
      maxStepDown: fc.integer({ min: 1, max: 5 }),
      warmupMs: fc.nat(10_000),
    }),
    fc.record({ kind: fc.constant('threshold' as const), min: fc.nat(4), extra: fc.nat(6), upPct: fc.integer({ min: 10, max: 100 }), intervalMs: fc.nat(40_000), warmupMs: fc.nat(10_000) }),
  );

  it('every decision stays within [min, max] and changes the count', () => {
    fc.assert(
      fc.property(configArb, fc.array(stepArb, { minLength: 1, maxLength: 25 }), (raw, steps) => {
        const { extra, ...rest } = raw;
        const config = { ...rest, max: Math.max(1, raw.min + extra) };
        const clock = new ManualClock(startMs);
        let inputs: ScalingInputs = { nowMs: startMs, members: [], p95Ms: null, offeredRps: 0, servedRps: 0 };
        const scaler = new Autoscaler({ clock, source: { scalingInputs: () => inputs }, config });
        for (const step of steps) {
          clock.advance(step.advanceMs);
          const now = clock.nowMs();
          inputs = {
            nowMs: now,
            members: step.members.map((m, i) => ({
              id: `m${i}`,
              state: m.state,
              busy: m.busy,
              outstanding: m.outstanding,
              registeredAtMs: m.state === 'booting' || m.registeredAgoMs === null ? null : now - m.registeredAgoMs,
              startedAtMs: now - 70_000,
            })),
            p95Ms: step.p95Ms,
            offeredRps: step.offeredRps,
            servedRps: step.offeredRps,
          };
          if (step.pause === 'pause') scaler.pause();
          if (step.pause === 'resume') scaler.resume();
          const made = [step.manual !== null ? scaler.scaleTo(step.manual) : null, scaler.evaluate()];
          for (const decision of made) {
            if (decision === null) continue;
            expect(decision.from).not.toBe(decision.to);
            expect(decision.to).toBeGreaterThanOrEqual(config.min);
            expect(decision.to).toBeLessThanOrEqual(config.max);
            expect(decision.reason.length).toBeGreaterThan(0);
          }
        }
        for (const decision of scaler.decisions()) expect(decision.from).not.toBe(decision.to);
      }),
      { numRuns: 300 },
    );
  });
});
