// Holds a search to a hash rate: after each chunk it says how long to sleep so that the hashes done
// so far are not finished sooner than the rate allows. Used by the worker threads and by the main
// thread's stand-in (both cap their rate with the guest's --hash-rate).

/** Candidates per chunk when unthrottled: a few ms of work, so a cancel lands quickly. */
const FREE_CHUNK = 32_768;
/** When throttled, a chunk is this many ms of the allowed rate, so pacing stays smooth. */
const PACED_CHUNK_MS = 5;
/** Largest burst a paced worker may bank while idle, in ms of its rate (covers sleep overshoot). */
const PACE_SLACK_MS = 10;

/**
 * Pacing state that outlives single jobs, so that many short jobs in a row are held to the rate
 * too. `dueMs` is when the hashes counted so far may be finished at the allowed rate.
 */
export class Pacer {
  private dueMs = 0;
  private readonly costMs: number;
  readonly chunk: number;

  constructor(private readonly ratePerSec: number) {
    this.costMs = ratePerSec > 0 ? 1000 / ratePerSec : 0;
    this.chunk = ratePerSec > 0 ? Math.max(1, Math.min(FREE_CHUNK, Math.floor((ratePerSec * PACED_CHUNK_MS) / 1000))) : FREE_CHUNK;
  }

  /** Accounts for `hashes` done since `chunkStartMs` and returns how long to sleep, in ms. */
  charge(hashes: number, chunkStartMs: number, nowMs: number): number {
    if (this.ratePerSec <= 0) return 0;
    // Time overslept in the previous pause counts as credit (else every wake-up late by a fraction
    // of a ms would shave several % off the rate), but an idle worker banks at most PACE_SLACK_MS.
    this.dueMs = Math.max(this.dueMs, chunkStartMs - PACE_SLACK_MS) + hashes * this.costMs;
    return Math.max(0, this.dueMs - nowMs);
  }
}
