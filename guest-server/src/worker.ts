// The body of one collide worker thread: takes one job at a time from the pool, searches in
// chunks, paces itself to the configured hash rate and stops early when the pool cancels the job.
// It must never touch sockets or global state of the main thread; all it shares are two counters.
import type { MessagePort } from 'node:worker_threads';
import { CollideSearch } from './collide';
import { Pacer } from './pacer';
import type { CollideWorkerInit, WorkerJobMessage, WorkerReply } from './worker-messages';

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
    // The main thread's stand-in may have tried the first candidates already (see stand-in.ts).
    const search = new CollideSearch(job.word, job.digits, job.startAt);
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
