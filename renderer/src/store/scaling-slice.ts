// The scaling slice: the pool (desired, min/max, warm and saved pools, healthy/booting/warm/saved counts) and the
// autoscaler (policy config, paused, last reason), as the last state push said. No I/O, no React.
import type { AppState } from '../../../electron/contract/contract';
import type { SliceCreator } from './types';

export type PolicyConfigView = AppState['scaling']['config'];

export interface ScalingState {
  pool: AppState['pool'] | null;
  scaling: AppState['scaling'] | null;
}

export type ScalingSlice = ScalingState;

export function initialScalingState(): ScalingState {
  return { pool: null, scaling: null };
}

function samePool(a: AppState['pool'] | null, b: AppState['pool']): boolean {
  return (
    a !== null &&
    a.name === b.name &&
    a.desired === b.desired &&
    a.min === b.min &&
    a.max === b.max &&
    a.warmPoolSize === b.warmPoolSize &&
    a.savedPoolSize === b.savedPoolSize &&
    a.saved === b.saved &&
    a.healthy === b.healthy &&
    a.booting === b.booting &&
    a.warm === b.warm
  );
}

/** The scaling part of a state push; unchanged parts keep their identity (the panel's form reads them). */
export function reduceScaling(prev: ScalingState, state: AppState): Partial<ScalingState> {
  const patch: Partial<ScalingState> = {};
  if (!samePool(prev.pool, state.pool)) patch.pool = state.pool;
  const old = prev.scaling;
  const next = state.scaling;
  const configSame = old !== null && JSON.stringify(old.config) === JSON.stringify(next.config);
  if (!configSame || old === null || old.paused !== next.paused || old.lastReason !== next.lastReason) {
    patch.scaling = configSame && old !== null ? { ...next, config: old.config } : next;
  }
  return patch;
}

export const createScalingSlice: SliceCreator<ScalingSlice> = () => initialScalingState();
