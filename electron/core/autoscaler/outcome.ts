// What a policy says about one evaluation, before stabilization, step limits and bounds:
// a recommended member count with its reason, or a hold with the reason it holds.
// Shared helpers for both policies; nothing here keeps state or reads a clock.
import type { ScalingSummary } from './inputs';

export type PolicyOutcome =
  | { kind: 'recommend'; desired: number; reason: string }
  | { kind: 'hold'; reason: string };

/** Comparisons of ratios allow for float noise (1.1 / 0.1 = 11.000000000000002). */
export const ratioEpsilon = 1e-9;

/** ceil() that does not round 11.000000000000002 up to 12. */
export function ceilSafe(value: number): number {
  return Math.ceil(value - ratioEpsilon);
}

/** "3 members", "4 members (1 booting, 1 warming up)". */
export function describeMembers(s: ScalingSummary): string {
  const extras: string[] = [];
  if (s.booting > 0) extras.push(`${s.booting} booting`);
  if (s.warming > 0) extras.push(`${s.warming} warming up`);
  const noun = s.current === 1 ? 'member' : 'members';
  return extras.length > 0 ? `${s.current} ${noun} (${extras.join(', ')})` : `${s.current} ${noun}`;
}

/**
 * With no warmed member there is nothing trustworthy to measure. Members already booting or
 * warming up are the capacity the last decision asked for; scaling again on missing data is
 * how the original program ran away (and how it blocked forever on a VM that never came up).
 */
export function holdForMissingData(s: ScalingSummary): PolicyOutcome {
  return {
    kind: 'hold',
    reason: `no warmed members yet among ${describeMembers(s)}: holding at ${s.current} rather than scaling again on missing data`,
  };
}
