// The load slice: what the load generator is doing (profile, offered rate, difficulty, paused) and the
// request outcomes, as the last state push said. Drafts being typed live in the load panel, not here.
// No I/O, no React.
import type { AppState } from '../../../electron/contract/contract';
import type { SliceCreator } from './types';

export interface LoadState {
  load: AppState['load'] | null;
  outcomes: AppState['outcomes'] | null;
}

export type LoadSlice = LoadState;

export function initialLoadState(): LoadState {
  return { load: null, outcomes: null };
}

function sameOutcomes(a: AppState['outcomes'] | null, b: AppState['outcomes']): boolean {
  return a !== null && a.sent === b.sent && a.ok === b.ok && a.failed === b.failed && a.expired === b.expired && a.inflight === b.inflight && a.retries === b.retries;
}

/** The load part of a state push; the profile object is kept when it did not change. */
export function reduceLoad(prev: LoadState, state: AppState): Partial<LoadState> {
  const patch: Partial<LoadState> = {};
  const load = state.load;
  const old = prev.load;
  const profile = old !== null && JSON.stringify(old.profile) === JSON.stringify(load.profile) ? old.profile : load.profile;
  if (
    old === null ||
    profile !== old.profile ||
    old.running !== load.running ||
    old.paused !== load.paused ||
    old.offeredRps !== load.offeredRps ||
    old.digits !== load.digits ||
    old.sent !== load.sent
  ) {
    patch.load = { ...load, profile };
  }
  if (!sameOutcomes(prev.outcomes, state.outcomes)) patch.outcomes = state.outcomes;
  return patch;
}

export const createLoadSlice: SliceCreator<LoadSlice> = () => initialLoadState();
