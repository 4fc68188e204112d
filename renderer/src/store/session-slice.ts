// The session slice: which carrier the page runs on and whether it is connected, the app-wide notes
// (sandbox, agent address, quitting), and `applyAppState`, which folds one state push into every
// slice in a single store update so React renders once per push. No I/O, no React.
import type { AppState } from '../../../electron/contract/contract';
import type { ConnectionStatus } from '../api/connection';
import { reduceDomains } from './domains-slice';
import { reduceLoad } from './load-slice';
import { reduceScaling } from './scaling-slice';
import type { SliceCreator } from './types';

export interface SessionState {
  carrier: 'desktop' | 'web';
  connection: ConnectionStatus;
  /** Why the carrier is not connected, when it says. */
  connectionDetail: string | null;
  /** A first state arrived: the panels can show real values. */
  ready: boolean;
  sandboxNote: string | null;
  agentAddress: AppState['agentAddress'];
  quitting: boolean;
  /** State pushes folded in so far (the bench and tests read it). */
  stateUpdates: number;
}

export interface SessionActions {
  /** Folds a whole app state (state:get or state:update) into every slice at once. */
  applyAppState(state: AppState, nowMs: number): void;
  setConnection(status: ConnectionStatus, detail?: string | null): void;
}

export type SessionSlice = SessionState & SessionActions;

export function initialSessionState(carrier: 'desktop' | 'web' = 'web'): SessionState {
  return { carrier, connection: 'connecting', connectionDetail: null, ready: false, sandboxNote: null, agentAddress: null, quitting: false, stateUpdates: 0 };
}

export const createSessionSlice: SliceCreator<SessionSlice> = (set) => ({
  ...initialSessionState(),
  applyAppState: (state, nowMs) =>
    set((s) => {
      const agentSame = s.agentAddress?.host === state.agentAddress?.host && s.agentAddress?.port === state.agentAddress?.port;
      return {
        ...reduceDomains(s, state.hosts, state.domains, nowMs),
        ...reduceLoad(s, state),
        ...reduceScaling(s, state),
        ready: true,
        sandboxNote: state.sandboxNote,
        agentAddress: agentSame ? s.agentAddress : state.agentAddress,
        quitting: state.quitting,
        stateUpdates: s.stateUpdates + 1,
      };
    }),
  setConnection: (status, detail = null) => set(() => ({ connection: status, connectionDetail: detail })),
});
