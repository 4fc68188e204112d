// What the autoscaler sees at each evaluation, and the summary every policy reasons about.
// Pure data and arithmetic: no I/O, no clock reads (the time is inside ScalingInputs).

export type MemberState = 'booting' | 'healthy' | 'draining' | 'paused';

/** One pool member as the autoscaler sees it. */
export interface MemberView {
  id: string;
  state: MemberState;
  /** Monotonic ms when the guest registered; null while it has not. */
  registeredAtMs: number | null;
  /** Busy fraction 0-1 from the last heartbeat; null before the first heartbeat. */
  busy: number | null;
  /** Requests the balancer has in flight on this member. */
  outstanding: number;
  /** Monotonic ms when the pool started (or resumed) this member. */
  startedAtMs: number;
}

export interface ScalingInputs {
  /** Monotonic ms at which these inputs were taken. */
  nowMs: number;
  members: MemberView[];
  /** p95 latency over the recent window, ms; null when no request completed in it. */
  p95Ms: number | null;
  /** Offered load, requests per second. */
  offeredRps: number;
  /** Completed (ok) requests per second. */
  servedRps: number;
}

export interface ScalingSummary {
  /** Members counted toward capacity: healthy + booting (draining and paused do not count). */
  current: number;
  healthy: number;
  booting: number;
  /** Healthy members registered at least warmupMs ago: only their metrics count. */
  warmed: number;
  /** Healthy members still inside their warm-up grace (healthy − warmed). */
  warming: number;
  /** Mean busy fraction (0-1) over warmed members that reported one; null when none did. */
  utilization: number | null;
  /** Mean requests in flight per warmed member; null when no member is warmed. */
  inflightPerMember: number | null;
  p95Ms: number | null;
  offeredRps: number;
  servedRps: number;
}

/**
 * Reduces the raw inputs to the numbers the policies use. A member's metrics count only once
 * it has been registered for warmupMs: a fresh guest's first heartbeats (empty caches, JIT,
 * no requests routed to it yet) would otherwise read as idle and trigger a premature scale-down.
 */
export function summarize(inputs: ScalingInputs, warmupMs: number): ScalingSummary {
  let healthy = 0;
  let booting = 0;
  let warmed = 0;
  let busySum = 0;
  let busyCount = 0;
  let outstandingSum = 0;
  for (const member of inputs.members) {
    if (member.state === 'booting') booting += 1;
    if (member.state !== 'healthy') continue;
    healthy += 1;
    if (member.registeredAtMs === null || inputs.nowMs - member.registeredAtMs < warmupMs) continue;
    warmed += 1;
    outstandingSum += Math.max(0, member.outstanding);
    if (member.busy !== null && Number.isFinite(member.busy)) {
      busySum += Math.min(1, Math.max(0, member.busy));
      busyCount += 1;
    }
  }
  return {
    current: healthy + booting,
    healthy,
    booting,
    warmed,
    warming: healthy - warmed,
    utilization: busyCount > 0 ? busySum / busyCount : null,
    inflightPerMember: warmed > 0 ? outstandingSum / warmed : null,
    p95Ms: inputs.p95Ms,
    offeredRps: inputs.offeredRps,
    servedRps: inputs.servedRps,
  };
}
