// Reconnect delays for the manager connection: capped exponential backoff with jitter, so that a
// fleet of guests does not dial a restarted manager in lockstep. Pure: randomness is passed in.

export interface BackoffPolicy {
  /** Ceiling of the first delay, in ms. @default 100 */
  minMs: number;
  /** Largest ceiling, in ms. @default 5000 */
  maxMs: number;
}

/**
 * Delay before reconnect attempt number `attempt` (0 for the first retry): the ceiling doubles
 * from `minMs` up to `maxMs`, and the delay is drawn from the upper half of it ("equal jitter"),
 * so it never collapses to zero yet spreads guests apart.
 */
export function backoffDelayMs(attempt: number, policy: BackoffPolicy, random: () => number = Math.random): number {
  const exponent = Math.min(Math.max(0, Math.floor(attempt)), 30);
  const ceilingMs = Math.min(policy.maxMs, policy.minMs * 2 ** exponent);
  const jitter = Math.min(1, Math.max(0, random()));
  return Math.round(ceilingMs / 2 + (jitter * ceilingMs) / 2);
}
