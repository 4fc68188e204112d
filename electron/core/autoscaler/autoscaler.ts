// The autoscaler: turns each evaluation's inputs into at most one sizing decision, with the
// reason a person can read ("why did it scale?"), and keeps a bounded log of them. Pure logic
// over an injected Clock and metrics source: it never starts or stops anything itself.
import type { Clock } from '../clock';
import { AutoscalerError } from './errors';
import { summarize, type ScalingInputs, type ScalingSummary } from './inputs';
import { describeMembers, type PolicyOutcome } from './outcome';
import {
  parsePolicyConfig,
  policyLabel,
  type PolicyConfig,
  type PolicyLabel,
  type TargetPolicyConfig,
  type ThresholdPolicyConfig,
} from './policies';
import { RecommendationHistory } from './stabilizer';
import { targetRecommendation } from './target-tracking';
import { thresholdStep } from './threshold';

export { chooseVictims } from './victims';

export type DecisionKind = 'up' | 'down' | 'manual' | 'clamp';

/** One change of the desired member count. `from` never equals `to`. */
export interface Decision {
  /** Monotonic ms (clock.nowMs()). */
  atMs: number;
  /** Epoch ms, for logs and reports. */
  wallMs: number;
  /** Members counted toward capacity when decided (healthy + booting). */
  from: number;
  /** The new desired count, always within [min, max]. */
  to: number;
  /** Why, for people: the metric, the rule and every limit that shaped the number. */
  reason: string;
  policy: PolicyLabel;
  kind: DecisionKind;
  /** The numbers the decision was made from. */
  inputs: ScalingSummary;
}

/** The outcome of the latest evaluate(), decision or not, so the UI can say why it holds. */
export interface Evaluation {
  atMs: number;
  wallMs: number;
  summary: ScalingSummary;
  decision: Decision | null;
  reason: string;
}

/** The one method of the metrics side the autoscaler uses. */
export interface ScalingSource {
  scalingInputs(): ScalingInputs;
}

export interface AutoscalerOptions {
  clock: Pick<Clock, 'nowMs' | 'wallMs'>;
  source: ScalingSource;
  /** Validated with policyConfigSchema. @default target tracking on utilization 0.6 */
  config?: unknown;
  /** How many decisions decisions() keeps, oldest dropped first. @default 1000 */
  maxDecisions?: number;
}

const seconds = (ms: number): string => `${Number((ms / 1000).toFixed(1))} s`;

export class Autoscaler {
  private readonly clock: Pick<Clock, 'nowMs' | 'wallMs'>;
  private readonly source: ScalingSource;
  private readonly maxDecisions: number;
  private config: PolicyConfig;
  private readonly history = new RecommendationHistory();
  /** Target tracking assumes the pool was right-sized when it began watching (see seed()). */
  private needsSeed = true;
  private paused = false;
  private held: number | null = null;
  private lastDecisionAtMs: number | null = null;
  private readonly log: Decision[] = [];
  private last: Evaluation | null = null;

  constructor(options: AutoscalerOptions) {
    this.clock = options.clock;
    this.source = options.source;
    this.maxDecisions = Math.max(1, Math.floor(options.maxDecisions ?? 1000));
    this.config = parsePolicyConfig(options.config);
  }

  getConfig(): PolicyConfig {
    return this.config;
  }

  /**
   * Replaces the policy config (validated; throws AUTOSCALER_CONFIG_INVALID naming the path).
   * A different policy or metric starts a fresh recommendation history.
   */
  setConfig(input: unknown): PolicyConfig {
    const next = parsePolicyConfig(input);
    if (policyLabel(next) !== policyLabel(this.config)) {
      this.history.clear();
      this.needsSeed = true;
    }
    this.config = next;
    return next;
  }

  /** Stops policy decisions; a manual target set with scaleTo() is held until resume(). */
  pause(): void {
    this.paused = true;
  }

  /** Hands control back to the policy, which again assumes the current size is right for one window. */
  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.held = null;
    this.history.clear();
    this.needsSeed = true;
  }

  isPaused(): boolean {
    return this.paused;
  }

  /** The manual target held while paused; null when none is held. */
  heldTarget(): number | null {
    return this.held;
  }

  /** The bounded decision log, oldest first (a copy). */
  decisions(): Decision[] {
    return [...this.log];
  }

  lastEvaluation(): Evaluation | null {
    return this.last;
  }

  /**
   * A manual size, clamped to [min, max]. Returns the decision, or null when the pool already
   * has that size. While paused the target is held; while running, the policy may move it
   * again, but not below it within the scale-down window (it enters the recommendation history).
   */
  scaleTo(count: number, reason?: string): Decision | null {
    if (!Number.isInteger(count) || count < 0) {
      throw new AutoscalerError('AUTOSCALER_BAD_ARGUMENT', `scaleTo needs a whole number of members ≥ 0, got ${count}`);
    }
    const summary = summarize(this.source.scalingInputs(), this.config.warmupMs);
    const to = Math.min(this.config.max, Math.max(this.config.min, count));
    const clampNote = to !== count ? ` (asked for ${count}, clamped to [${this.config.min}, ${this.config.max}])` : '';
    const nowMs = this.clock.nowMs();
    if (this.paused) this.held = to;
    if (!this.paused && this.config.kind === 'target') {
      this.seed(nowMs, summary.current);
      this.history.add(nowMs, to);
    }
    return this.record(summary, to, 'manual', `manual: ${reason ?? 'set by user'}${clampNote}`);
  }

  /** One control-loop round: reads the inputs, returns a decision or null (see lastEvaluation()). */
  evaluate(): Decision | null {
    const nowMs = this.clock.nowMs();
    const config = this.config;
    const s = summarize(this.source.scalingInputs(), config.warmupMs);

    if (this.paused) {
      return this.hold(s, this.held !== null ? `autoscaling paused: holding manual target ${this.held}` : 'autoscaling paused');
    }
    // Bounds come before any policy, window or step limit: a pool outside [min, max] (after
    // failures, or a config change) goes straight back inside.
    if (s.current < config.min) return this.decide(s, config.min, 'clamp', `below min: ${describeMembers(s)} < min ${config.min}`);
    if (s.current > config.max) return this.decide(s, config.max, 'clamp', `above max: ${describeMembers(s)} > max ${config.max}`);
    if (s.current === 0) {
      // Only reachable with min 0: no member means no metric, so offered load is the signal.
      return s.offeredRps > 0
        ? this.decide(s, 1, 'up', `scale from zero: ${s.offeredRps.toFixed(1)} rps offered to no members`)
        : this.hold(s, 'no members and no load (min 0)');
    }
    return config.kind === 'threshold' ? this.evaluateThreshold(s, config, nowMs) : this.evaluateTarget(s, config, nowMs);
  }

  private evaluateThreshold(s: ScalingSummary, config: ThresholdPolicyConfig, nowMs: number): Decision | null {
    if (this.lastDecisionAtMs !== null && nowMs - this.lastDecisionAtMs < config.intervalMs) {
      return this.hold(s, `one decision per ${seconds(config.intervalMs)}: the last was ${seconds(nowMs - this.lastDecisionAtMs)} ago`);
    }
    const outcome: PolicyOutcome = thresholdStep(s, config);
    if (outcome.kind === 'hold') return this.hold(s, outcome.reason);
    return this.finish(s, config, outcome.desired, outcome.reason);
  }

  private evaluateTarget(s: ScalingSummary, config: TargetPolicyConfig, nowMs: number): Decision | null {
    this.seed(nowMs, s.current);
    const outcome = targetRecommendation(s, config);
    // A hold means missing data: it is not a recommendation and does not enter the windows.
    if (outcome.kind === 'hold') return this.hold(s, outcome.reason);

    this.history.prune(nowMs, Math.max(config.scaleUpWindowMs, config.scaleDownWindowMs));
    const stable = this.history.stabilize(nowMs, s.current, outcome.desired, config.scaleUpWindowMs, config.scaleDownWindowMs);
    this.history.add(nowMs, outcome.desired);

    let reason = outcome.reason;
    let desired = stable.desired;
    if (outcome.desired > s.current && desired < outcome.desired) {
      reason += `; scale-up window ${seconds(config.scaleUpWindowMs)}: lowest recommendation ${stable.upFloor}`;
    } else if (outcome.desired < s.current && desired > outcome.desired) {
      reason += `; scale-down window ${seconds(config.scaleDownWindowMs)}: highest recommendation ${stable.downCeiling}`;
    }
    if (desired > s.current + config.maxStepUp) {
      desired = s.current + config.maxStepUp;
      reason += `, capped by maxStepUp ${config.maxStepUp} to ${desired}`;
    } else if (desired < s.current - config.maxStepDown) {
      desired = s.current - config.maxStepDown;
      reason += `, limited by maxStepDown ${config.maxStepDown} to ${desired}`;
    }
    return this.finish(s, config, desired, reason);
  }

  /** Applies min/max to a policy's number and decides, or holds when nothing changes. */
  private finish(s: ScalingSummary, config: PolicyConfig, desired: number, reason: string): Decision | null {
    let to = desired;
    if (to > config.max) {
      to = config.max;
      reason += `, held to max ${config.max}`;
    } else if (to < config.min) {
      to = config.min;
      reason += `, held to min ${config.min}`;
    }
    if (to === s.current) return this.hold(s, reason);
    return this.decide(s, to, to > s.current ? 'up' : 'down', reason);
  }

  /**
   * Records the current size as a recommendation once, when target tracking starts watching
   * (construction, resume, policy change): without it the first low reading would scale down
   * at once, before the down window has seen anything.
   */
  private seed(nowMs: number, current: number): void {
    if (!this.needsSeed) return;
    this.needsSeed = false;
    this.history.add(nowMs, current);
  }

  private decide(s: ScalingSummary, to: number, kind: DecisionKind, reason: string): Decision | null {
    const decision = this.record(s, to, kind, reason);
    if (decision === null) return this.hold(s, reason);
    this.last = { atMs: decision.atMs, wallMs: decision.wallMs, summary: s, decision, reason };
    return decision;
  }

  /** The single place a Decision is made: never one with from === to. */
  private record(s: ScalingSummary, to: number, kind: DecisionKind, reason: string): Decision | null {
    if (to === s.current) return null;
    const decision: Decision = {
      atMs: this.clock.nowMs(),
      wallMs: this.clock.wallMs(),
      from: s.current,
      to,
      reason,
      policy: policyLabel(this.config),
      kind,
      inputs: s,
    };
    this.log.push(decision);
    if (this.log.length > this.maxDecisions) this.log.splice(0, this.log.length - this.maxDecisions);
    this.lastDecisionAtMs = decision.atMs;
    return decision;
  }

  private hold(s: ScalingSummary, reason: string): null {
    this.last = { atMs: this.clock.nowMs(), wallMs: this.clock.wallMs(), summary: s, decision: null, reason };
    return null;
  }
}
