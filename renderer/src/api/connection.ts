// Small shared pieces of the carrier layer: the connection status the UI shows, the timer functions
// the web client and the binding take (injected, so tests drive them), and a leading+trailing
// throttle. No DOM, no Node: this compiles for the page and for the tests.

/** Where the page stands with the app: `refused` means the app turned the token down (no retry). */
export type ConnectionStatus = 'connecting' | 'open' | 'reconnecting' | 'refused' | 'closed';

export type TimerHandle = unknown;
export interface Timers {
  setTimeout(callback: () => void, delayMs: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/** The host's own timers (globalThis in a page or in Node). */
export const globalTimers: Timers = {
  setTimeout: (callback, delayMs) => globalThis.setTimeout(callback, delayMs),
  clearTimeout: (handle) => globalThis.clearTimeout(handle as Parameters<typeof globalThis.clearTimeout>[0]),
};

export interface Throttle {
  /** Asks for a flush: now if the last one is at least intervalMs old, else at that boundary. */
  request(): void;
  cancel(): void;
}

/**
 * Calls `flush` at most once per intervalMs, and always once after the last request, so the latest
 * value is never left behind (leading + trailing edge).
 */
export function createThrottle(intervalMs: number, flush: () => void, timers: Timers = globalTimers, nowMs: () => number = () => Date.now()): Throttle {
  let lastMs = -Infinity;
  let timer: TimerHandle | null = null;
  const run = (): void => {
    timer = null;
    lastMs = nowMs();
    flush();
  };
  return {
    request() {
      if (timer !== null) return;
      const waitMs = lastMs + intervalMs - nowMs();
      if (waitMs <= 0) run();
      else timer = timers.setTimeout(run, waitMs);
    },
    cancel() {
      if (timer !== null) timers.clearTimeout(timer);
      timer = null;
    },
  };
}
