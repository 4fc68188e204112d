// Time as a dependency: every component that waits or timestamps takes a Clock, so tests can
// drive time by hand (ManualClock) instead of sleeping. Never read Date.now() directly in core/.

/** An opaque timer handle: only the clock that made it can clear it. */
export type TimerHandle = { readonly __timerHandle: true };

export interface Clock {
  /** Milliseconds on a monotonic scale (performance.now() for the system clock). */
  nowMs(): number;
  /** Wall-clock milliseconds since the epoch, for timestamps in logs and reports. */
  wallMs(): number;
  setTimeout(callback: () => void, delayMs: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/**
 * The real clock: monotonic now, real timers (ref'd: a pending timer keeps the process alive, as a
 * plain setTimeout would). The handle is Node's own Timeout object, so a timer costs nothing extra
 * on the per-request hot path.
 */
export function createSystemClock(): Clock {
  return {
    nowMs: () => performance.now(),
    wallMs: () => Date.now(),
    setTimeout: (callback, delayMs) => setTimeout(callback, Math.max(0, delayMs)) as unknown as TimerHandle,
    clearTimeout: (handle) => clearTimeout(handle as unknown as NodeJS.Timeout),
  };
}

export const systemClock: Clock = createSystemClock();

/** A clock that moves only when told to: `advance(ms)` fires due timers in time order. */
export class ManualClock implements Clock {
  private now: number;
  private readonly wallOffsetMs: number;
  private nextId = 1;
  private readonly timers = new Map<number, { atMs: number; callback: () => void }>();

  constructor(startMs = 0, wallStartMs = 1_700_000_000_000) {
    this.now = startMs;
    this.wallOffsetMs = wallStartMs - startMs;
  }

  nowMs(): number {
    return this.now;
  }

  wallMs(): number {
    return this.now + this.wallOffsetMs;
  }

  setTimeout(callback: () => void, delayMs: number): TimerHandle {
    const id = this.nextId++;
    this.timers.set(id, { atMs: this.now + Math.max(0, delayMs), callback });
    return { id } as unknown as TimerHandle;
  }

  clearTimeout(handle: TimerHandle): void {
    this.timers.delete((handle as unknown as { id: number }).id);
  }

  /** Moves time forward, firing every timer that falls due (including ones set by callbacks). */
  advance(ms: number): void {
    const target = this.now + ms;
    for (;;) {
      let dueId: number | undefined;
      let dueAt = Infinity;
      for (const [id, timer] of this.timers) {
        if (timer.atMs <= target && (timer.atMs < dueAt || (timer.atMs === dueAt && dueId !== undefined && id < dueId))) {
          dueId = id;
          dueAt = timer.atMs;
        }
      }
      if (dueId === undefined) break;
      const timer = this.timers.get(dueId);
      this.timers.delete(dueId);
      this.now = Math.max(this.now, dueAt);
      timer?.callback();
    }
    this.now = target;
  }

  pendingTimers(): number {
    return this.timers.size;
  }
}
