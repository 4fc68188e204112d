// Runs one collide job on the main thread while no worker thread is ready: slices of a few ms with
// node:crypto, yielding to the event loop between them. Under emulation a thread takes ~0.6 s to
// start; with this stand-in a guest answers as soon as it has registered, not once a thread is up.
import { CollideSearch } from './collide';
import type { Pacer } from './pacer';

/** Main-thread time per slice: short enough that sockets and heartbeats are not held up. */
const SLICE_MS = 4;
/** Candidates between two looks at the clock. */
const BATCH = 32;

export type StandInEnd =
  | { kind: 'found'; index: number }
  /** shouldStop said so; every candidate below `tried` is done and none matched. */
  | { kind: 'stopped'; tried: number }
  | { kind: 'failed'; message: string };

export interface StandInRun {
  /** Ends the run without calling onEnd (the pool is closing). */
  abandon(): void;
}

export interface StandInCallbacks {
  /** Asked before each slice: true ends the run with 'stopped' (cancelled, or a thread is ready). */
  shouldStop(): boolean;
  /** Hashes done in a slice, for the pool's counters. */
  onHashes(count: number): void;
  /** Called once, from a later turn of the event loop, never from inside runStandIn. */
  onEnd(end: StandInEnd): void;
}

export function runStandIn(job: { word: string; digits: number; startAt: number }, pacer: Pacer, callbacks: StandInCallbacks): StandInRun {
  let search: CollideSearch | null = null;
  let immediate: NodeJS.Immediate | null = null;
  let timer: NodeJS.Timeout | null = null;
  let over = false;
  const end = (result: StandInEnd): void => {
    over = true;
    callbacks.onEnd(result);
  };
  const slice = (): void => {
    immediate = null;
    timer = null;
    if (over) return;
    if (callbacks.shouldStop()) return end({ kind: 'stopped', tried: search?.tried ?? job.startAt });
    const startMs = performance.now();
    let hashes = 0;
    let found = -1;
    try {
      search ??= new CollideSearch(job.word, job.digits, job.startAt);
      do {
        const before = search.tried;
        found = search.stepNodeCrypto(Math.min(BATCH, pacer.chunk));
        hashes += found >= 0 ? found + 1 - before : search.tried - before;
      } while (found < 0 && hashes < pacer.chunk && performance.now() - startMs < SLICE_MS);
    } catch (error) {
      return end({ kind: 'failed', message: error instanceof Error ? error.message : String(error) });
    }
    callbacks.onHashes(hashes);
    // Held to the rate like a worker thread, the answer included.
    const waitMs = pacer.charge(hashes, startMs, performance.now());
    const next = found >= 0 ? (): void => end({ kind: 'found', index: found }) : slice;
    if (found >= 0 && waitMs <= 0) return next();
    if (waitMs > 0) timer = setTimeout(next, waitMs);
    else immediate = setImmediate(next);
  };
  immediate = setImmediate(slice);
  return {
    abandon: () => {
      over = true;
      if (immediate) clearImmediate(immediate);
      if (timer) clearTimeout(timer);
    },
  };
}
