// Target tracking, as Kubernetes' HPA computes it: desired = ceil(current × metric / target),
// with a tolerance band. Pure: one summary in, one recommendation out. Stabilization windows,
// step limits and min/max are applied by the Autoscaler, in that order, as the HPA does.
import type { ScalingSummary } from './inputs';
import type { TargetPolicyConfig } from './policies';
import { ceilSafe, holdForMissingData, ratioEpsilon, type PolicyOutcome } from './outcome';

function formatValue(config: TargetPolicyConfig, value: number): string {
  switch (config.metric) {
    case 'utilization':
      return value.toFixed(2);
    case 'inflight':
      return value.toFixed(1);
    case 'p95':
      return `${Math.round(value)} ms`;
  }
}

function metricValue(s: ScalingSummary, config: TargetPolicyConfig): { value: number } | { missing: string } {
  switch (config.metric) {
    case 'utilization':
      return s.utilization !== null
        ? { value: s.utilization }
        : { missing: `no busy reading yet from the ${s.warmed} warmed members` };
    case 'inflight':
      return s.inflightPerMember !== null ? { value: s.inflightPerMember } : { missing: 'no warmed members' };
    case 'p95':
      if (s.p95Ms !== null) return { value: s.p95Ms };
      // No completed request: with no load offered the pool is idle (latency 0, scale toward
      // min); with load offered and nothing completing yet, there is no reading to act on.
      return s.offeredRps <= 0
        ? { value: 0 }
        : { missing: `no p95 yet while ${s.offeredRps.toFixed(1)} rps is offered` };
  }
}

/**
 * The raw recommendation for one evaluation; the caller guarantees s.current ≥ 1.
 *
 * Members that are booting or still warming up have no trusted metric. Like the HPA (which
 * counts not-ready pods as 0 % when scaling up and ignores them otherwise), they are counted
 * as idle when the metric says "up" — the capacity already on its way is not asked for twice —
 * and as exactly at target when it says "down", so they neither push nor hold back a scale-down.
 */
export function targetRecommendation(s: ScalingSummary, config: TargetPolicyConfig): PolicyOutcome {
  if (s.warmed === 0) return holdForMissingData(s);
  const metric = metricValue(s, config);
  if ('missing' in metric) return { kind: 'hold', reason: `${metric.missing}: holding at ${s.current}` };

  const value = metric.value;
  const ratio = value / config.target;
  const name = config.metric === 'p95' ? 'p95' : config.metric;
  const targetText = `${config.metric === 'p95' ? 'SLO' : 'target'} ${formatValue(config, config.target)} ± ${Math.round(config.tolerance * 100)}%`;
  const over = `over ${s.warmed} warmed ${s.warmed === 1 ? 'member' : 'members'}`;
  const valueText = formatValue(config, value);
  const ratioText = config.metric === 'p95' ? `${Math.round(value)}/${Math.round(config.target)}` : `${valueText}/${formatValue(config, config.target)}`;

  if (Math.abs(ratio - 1) <= config.tolerance + ratioEpsilon) {
    return { kind: 'recommend', desired: s.current, reason: `${name} ${valueText} within ${targetText} ${over} → stay at ${s.current}` };
  }

  const notWarmed = s.current - s.warmed;
  if (ratio > 1) {
    if (notWarmed === 0) {
      const desired = ceilSafe(s.current * ratio);
      return { kind: 'recommend', desired, reason: `${name} ${valueText} > ${targetText} ${over} → ceil(${s.current} × ${ratioText}) = ${desired}` };
    }
    const needed = ceilSafe(s.warmed * ratio);
    const desired = Math.max(s.current, needed);
    const tail = needed <= s.current ? `, no more than the ${s.current} already counted → stay at ${s.current}` : '';
    return {
      kind: 'recommend',
      desired,
      reason: `${name} ${valueText} > ${targetText} ${over} (${notWarmed} booting or warming up counted as idle) → ceil(${s.warmed} × ${ratioText}) = ${needed}${tail}`,
    };
  }

  if (notWarmed === 0) {
    const desired = ceilSafe(s.current * ratio);
    return { kind: 'recommend', desired, reason: `${name} ${valueText} < ${targetText} ${over} → ceil(${s.current} × ${ratioText}) = ${desired}` };
  }
  const desired = ceilSafe(s.warmed * ratio + notWarmed);
  return {
    kind: 'recommend',
    desired,
    reason: `${name} ${valueText} < ${targetText} ${over} (${notWarmed} booting or warming up counted at target) → ceil(${s.warmed} × ${ratioText} + ${notWarmed}) = ${desired}`,
  };
}
