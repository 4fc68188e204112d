// The original program's rule, made safe: average busy above upPct → one more member; when the
// load would fit on one member fewer at upPct → one fewer. Pure; the one-decision-per-interval
// gate and min/max are the Autoscaler's job.
import type { ScalingSummary } from './inputs';
import type { ThresholdPolicyConfig } from './policies';
import { holdForMissingData, ratioEpsilon, type PolicyOutcome } from './outcome';

const pct = (fraction: number): string => `${Math.round(fraction * 100)}%`;

/** The caller guarantees s.current ≥ 1. */
export function thresholdStep(s: ScalingSummary, config: ThresholdPolicyConfig): PolicyOutcome {
  if (s.warmed === 0) return holdForMissingData(s);
  const utilization = s.utilization;
  if (utilization === null) return { kind: 'hold', reason: `no busy reading yet from the ${s.warmed} warmed members: holding at ${s.current}` };
  const upFraction = config.upPct / 100;
  const over = `over ${s.warmed} warmed ${s.warmed === 1 ? 'member' : 'members'}`;
  const notWarmed = s.current - s.warmed;

  if (utilization > upFraction + ratioEpsilon) {
    if (notWarmed === 0) {
      return { kind: 'recommend', desired: s.current + 1, reason: `utilization ${pct(utilization)} > ${config.upPct}% ${over} → +1` };
    }
    // Members on their way will take their share: count them as idle before adding another.
    const spread = (utilization * s.warmed) / s.current;
    if (spread <= upFraction + ratioEpsilon) {
      return {
        kind: 'hold',
        reason: `utilization ${pct(utilization)} > ${config.upPct}% ${over}, but spread over all ${s.current} (${notWarmed} booting or warming up) it is ${pct(spread)}: holding`,
      };
    }
    return {
      kind: 'recommend',
      desired: s.current + 1,
      reason: `utilization ${pct(utilization)} ${over} is ${pct(spread)} even spread over all ${s.current} (${notWarmed} booting or warming up) > ${config.upPct}% → +1`,
    };
  }

  if (s.current <= 1) {
    return { kind: 'hold', reason: `utilization ${pct(utilization)} ≤ ${config.upPct}% on the only member` };
  }
  const onOneFewer = (utilization * s.current) / (s.current - 1);
  if (onOneFewer < upFraction - ratioEpsilon) {
    if (notWarmed > 0) {
      return { kind: 'hold', reason: `utilization ${pct(utilization)} would fit on one fewer, but ${notWarmed} members are still booting or warming up: holding` };
    }
    return {
      kind: 'recommend',
      desired: s.current - 1,
      reason: `utilization ${pct(utilization)} ${over} → ${pct(utilization)} × ${s.current}/${s.current - 1} = ${pct(onOneFewer)} < ${config.upPct}%: fits on one fewer → −1`,
    };
  }
  return {
    kind: 'hold',
    reason: `utilization ${pct(utilization)} ${over}: not above ${config.upPct}%, and on one fewer it would be ${pct(onOneFewer)}`,
  };
}
