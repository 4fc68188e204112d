// The body of one collide worker thread: takes one job at a time from the pool, searches in
// chunks, paces itself to the configured hash rate and stops early when the pool cancels the job.
// It must never touch sockets or global state of the main thread; all it shares are two counters.
import type { MessagePort } from 'node:worker_threads';
import { CollideSearch } from './collide';
import type { CollideWorkerInit, WorkerJobMessage, WorkerReply } from './worker-messages';

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
class Pacer {
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

export function runCollideWorker(init: CollideWorkerInit, port: MessagePort): void {
  const control = new Int32Array(init.control);
  const counters = new BigInt64Array(init.counters);
  const pacer = new Pacer(init.hashRatePerSec);
  const cancelled = (seq: number): boolean => Atomics.load(control, init.index) === seq;

  /** Sleeps without spinning; a cancel from the pool (Atomics.notify) wakes it early. */
  const sleep = (ms: number, seq: number): void => {
    const untilMs = performance.now() + ms;
    // Loop: a late notify meant for an earlier job may wake us before the time is up.
    for (;;) {
      const current = Atomics.load(control, init.index);
      const leftMs = untilMs - performance.now();
      if (current === seq || leftMs <= 0) return;
      Atomics.wait(control, init.index, current, leftMs);
    }
  };

  const run = (job: WorkerJobMessage): WorkerReply => {
    const startMs = performance.now();
    const search = new CollideSearch(job.word, job.digits);
    for (;;) {
      if (cancelled(job.seq)) return { seq: job.seq, kind: 'cancelled', attempts: search.tried };
      const chunkStartMs = performance.now();
      const before = search.tried;
      const found = search.step(pacer.chunk);
      const hashes = found >= 0 ? found + 1 - before : search.tried - before;
      Atomics.add(counters, init.index, BigInt(hashes));
      const nowMs = performance.now();
      const waitMs = pacer.charge(hashes, chunkStartMs, nowMs);
      if (waitMs > 0) sleep(waitMs, job.seq);
      if (found >= 0) {
        return { seq: job.seq, kind: 'result', match: String(found), attempts: found + 1, ms: roundMs(performance.now() - startMs) };
      }
    }
  };

  port.on('message', (job: WorkerJobMessage) => {
    let reply: WorkerReply;
    try {
      reply = run(job);
    } catch (error) {
      reply = { seq: job.seq, kind: 'failed', message: error instanceof Error ? error.message : String(error) };
    }
    port.postMessage(reply);
  });
  // Ready as soon as the code is loaded. No warm-up: compiling the hot path ahead took about 2 s of
  // a TCG guest's boot; small searches hash with node:crypto, and the first one that goes on past
  // NATIVE_CANDIDATES_BEFORE_FAST_PATH builds, self-checks and compiles the fast path.
  const ready: WorkerReply = { seq: 0, kind: 'ready' };
  port.postMessage(ready);
}

function roundMs(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
