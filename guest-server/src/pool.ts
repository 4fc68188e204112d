// The worker pool: one thread per vCPU running collide searches, a FIFO queue in front of them, a
// main-thread stand-in while no thread is ready, cancellation, and the busy-time and hash counters
// the heartbeat reports. It knows nothing of sockets or the protocol; a failed worker fails only
// its current job and is replaced.
import type { Worker } from 'node:worker_threads';
import { silentLogger, type Logger } from './log';
import { Pacer } from './pacer';
import { runStandIn, type StandInEnd, type StandInRun } from './stand-in';
import { WORKER_ROLE, type CollideWorkerInit, type WorkerJobMessage, type WorkerReply } from './worker-messages';
import { workerThreads } from './worker-threads';

/** Replaced at build time with the worker bundle's source; undefined when running from sources. */
declare const __CMS_WORKER_SOURCE__: string | undefined;
const EMBEDDED_WORKER_SOURCE: string | null = typeof __CMS_WORKER_SOURCE__ === 'string' ? __CMS_WORKER_SOURCE__ : null;

export interface CollideJob {
  word: string;
  digits: number;
}

export type JobOutcome =
  | { kind: 'result'; match: string; attempts: number; ms: number }
  | { kind: 'cancelled' }
  | { kind: 'failed'; message: string };

export interface JobHandle {
  /** Drops the job if queued, or stops it at the next chunk if running; onDone gets 'cancelled'. */
  cancel(): void;
}

export interface WorkerPoolOptions {
  /** Script the threads start from: the bundled guest-server.js, which switches on workerData. */
  workerFile: string;
  /** Number of worker threads. */
  workers: number;
  /** Cap on each worker's hashes per second (and the stand-in's); 0 means unlimited. @default 0 */
  hashRatePerWorker?: number;
  log?: Logger;
}

interface PendingJob {
  seq: number;
  job: CollideJob;
  onDone: (outcome: JobOutcome) => void;
  cancelled: boolean;
  slot: Slot | null;
  /** Candidates the stand-in already tried, and the ms it spent on them (a thread goes on from there). */
  startAt: number;
  priorMs: number;
}

/** The job the main thread is running while no thread is ready. */
interface StandInJob {
  pending: PendingJob;
  run: StandInRun;
  startedMs: number;
}

interface Slot {
  index: number;
  worker: Worker;
  current: PendingJob | null;
  startedMs: number;
  /** Resolves once the thread has loaded its code. */
  ready: Promise<void>;
  markReady: () => void;
  isReady: boolean;
  /** The thread died and its replacement is not started yet: no jobs go here. */
  dead: boolean;
}

/** Pause before restarting a thread that died before it was ready, doubling per failure in a row. */
const RESTART_MIN_MS = 100;
const RESTART_MAX_MS = 5_000;

export class WorkerPool {
  private readonly slots: Slot[] = [];
  private readonly queue: PendingJob[] = [];
  private readonly control: Int32Array;
  private readonly counters: BigInt64Array;
  private readonly controlBuffer: SharedArrayBuffer;
  private readonly countersBuffer: SharedArrayBuffer;
  private readonly log: Logger;
  private nextSeq = 1;
  /** Per slot: threads in a row that died before they were ready (a broken start-up). */
  private readonly startFailures: number[];
  private readonly restartTimers = new Set<NodeJS.Timeout>();
  private finishedBusyMs = 0;
  private closed = false;
  private started = false;
  /** Resolves once the first thread is ready and the others have been started. */
  private readonly firstStarted: Promise<void>;
  private markFirstStarted: () => void = () => {};
  private standIn: StandInJob | null = null;
  private readonly standInPacer: Pacer;
  private standInHashes = 0;

  constructor(private readonly options: WorkerPoolOptions) {
    if (!Number.isInteger(options.workers) || options.workers < 1) throw new RangeError(`workers must be a positive integer, got ${options.workers}`);
    this.log = options.log ?? silentLogger;
    this.controlBuffer = new SharedArrayBuffer(4 * options.workers);
    this.countersBuffer = new SharedArrayBuffer(8 * options.workers);
    this.control = new Int32Array(this.controlBuffer);
    this.counters = new BigInt64Array(this.countersBuffer);
    this.startFailures = new Array<number>(options.workers).fill(0);
    this.standInPacer = new Pacer(options.hashRatePerWorker ?? 0);
    this.firstStarted = new Promise<void>((resolve) => (this.markFirstStarted = resolve));
  }

  /**
   * Starts the threads; until then (and whenever no thread is ready) the main thread stands in.
   * The first thread starts alone and the others once it is ready: threads starting together
   * share the vCPUs with each other and with the main thread, and under emulation (two vCPUs, TCG)
   * the first one alone was ready ~0.15 s sooner. Idempotent.
   */
  start(): void {
    if (this.started || this.closed) return;
    this.started = true;
    const first = this.spawn(0);
    this.slots.push(first);
    void first.ready.then(() => {
      if (!this.closed) for (let index = 1; index < this.options.workers; index++) this.slots.push(this.spawn(index));
      this.markFirstStarted();
    });
  }

  /**
   * Resolves when the first thread has started and loaded its code (jobs submitted before run on
   * the main thread's stand-in, or wait in the queue). No warm-up: the hot path is compiled by the
   * first long search, not ahead, which cost ~2 s of a TCG guest's boot. Rejects if it is not up
   * within timeoutMs.
   */
  firstReady(timeoutMs = 30_000): Promise<void> {
    return withTimeout(this.firstStarted, timeoutMs, 'the first worker thread not ready');
  }

  /** Resolves when every thread is ready (benchmarks and tests measure a full pool). */
  ready(timeoutMs = 30_000): Promise<void> {
    const all = this.firstStarted.then(() => Promise.all(this.slots.map((slot) => slot.ready))).then(() => undefined);
    return withTimeout(all, timeoutMs, 'worker threads not ready');
  }

  get workers(): number {
    return this.options.workers;
  }

  /** Threads that have started and can take work now. */
  get readyThreads(): number {
    return this.slots.filter((slot) => slot.isReady && !slot.dead).length;
  }

  /** Jobs waiting for a worker. */
  get queued(): number {
    return this.queue.length;
  }

  /** Jobs a worker (or the stand-in) is running now. */
  get running(): number {
    return this.slots.filter((slot) => slot.current !== null).length + (this.standIn ? 1 : 0);
  }

  /** Queues a job; `onDone` runs exactly once, never synchronously from inside submit(). */
  submit(job: CollideJob, onDone: (outcome: JobOutcome) => void): JobHandle {
    const pending: PendingJob = { seq: this.nextSeq++, job, onDone, cancelled: false, slot: null, startAt: 0, priorMs: 0 };
    if (this.closed) {
      queueMicrotask(() => onDone({ kind: 'failed', message: 'worker pool is closed' }));
      return { cancel: () => {} };
    }
    this.queue.push(pending);
    this.dispatch();
    return { cancel: () => this.cancel(pending) };
  }

  /** Total ms the workers (and the stand-in) have held a job since start, including the running jobs up to nowMs. */
  busyMs(nowMs: number = performance.now()): number {
    let total = this.finishedBusyMs;
    for (const slot of this.slots) if (slot.current) total += nowMs - slot.startedMs;
    if (this.standIn) total += nowMs - this.standIn.startedMs;
    return total;
  }

  /** Hashes computed by all workers and the stand-in since start. */
  hashes(): number {
    let total = this.standInHashes;
    for (let index = 0; index < this.counters.length; index++) total += Number(Atomics.load(this.counters, index));
    return total;
  }

  /** Fails every job still queued or running and stops the threads. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const timer of this.restartTimers) clearTimeout(timer);
    this.restartTimers.clear();
    for (const pending of this.queue.splice(0)) pending.onDone({ kind: 'cancelled' });
    const standIn = this.standIn;
    this.standIn = null;
    standIn?.run.abandon();
    standIn?.pending.onDone({ kind: 'cancelled' });
    const running = this.slots.flatMap((slot) => (slot.current ? [slot.current] : []));
    for (const slot of this.slots) slot.current = null;
    for (const pending of running) pending.onDone({ kind: 'cancelled' });
    await Promise.all(this.slots.map((slot) => slot.worker.terminate().catch(() => 0)));
  }

  private spawn(index: number): Slot {
    const init: CollideWorkerInit = {
      role: WORKER_ROLE,
      index,
      hashRatePerSec: this.options.hashRatePerWorker ?? 0,
      control: this.controlBuffer,
      counters: this.countersBuffer,
    };
    // The bundle carries the worker's own small bundle as a string (see build/build.mjs); from the
    // TypeScript sources (tests) the worker starts from the given file instead.
    const { Worker: WorkerThread } = workerThreads();
    const worker = EMBEDDED_WORKER_SOURCE !== null ? new WorkerThread(EMBEDDED_WORKER_SOURCE, { eval: true, workerData: init }) : new WorkerThread(this.options.workerFile, { workerData: init });
    let markReady: () => void = () => {};
    const ready = new Promise<void>((resolve) => (markReady = resolve));
    const slot: Slot = { index, worker, current: null, startedMs: 0, ready, markReady, isReady: false, dead: false };
    worker.on('message', (reply: WorkerReply) => this.onReply(slot, reply));
    worker.on('error', (error) => this.onWorkerDeath(slot, `worker error: ${error.message}`));
    worker.on('exit', (code) => {
      if (!this.closed) this.onWorkerDeath(slot, `worker exited with code ${code}`);
    });
    return slot;
  }

  private onReply(slot: Slot, reply: WorkerReply): void {
    if (reply.kind === 'ready') {
      slot.isReady = true;
      this.startFailures[slot.index] = 0;
      slot.markReady();
      return this.dispatch();
    }
    const pending = slot.current;
    if (!pending || pending.seq !== reply.seq) return;
    this.finish(slot);
    if (reply.kind === 'result') pending.onDone({ kind: 'result', match: reply.match, attempts: reply.attempts, ms: roundMs(pending.priorMs + reply.ms) });
    else if (reply.kind === 'cancelled') pending.onDone({ kind: 'cancelled' });
    else pending.onDone({ kind: 'failed', message: reply.message });
    this.dispatch();
  }

  private onWorkerDeath(slot: Slot, message: string): void {
    // Already handled ('error' is followed by 'exit'), or the pool is closing its threads anyway.
    if (this.closed || this.slots[slot.index] !== slot || slot.dead) return;
    slot.dead = true;
    const pending = slot.current;
    if (pending) this.finish(slot);
    void slot.worker.terminate().catch(() => 0);
    // A thread that dies while starting would die again at once: wait, longer each time in a row.
    const failures = slot.isReady ? 0 : (this.startFailures[slot.index] ?? 0) + 1;
    this.startFailures[slot.index] = failures;
    const delayMs = failures === 0 ? 0 : Math.min(RESTART_MAX_MS, RESTART_MIN_MS * 2 ** (failures - 1));
    this.log.error('worker_failed', { worker: slot.index, message, restartInMs: delayMs });
    const restart = (): void => {
      if (this.closed) return;
      const fresh = this.spawn(slot.index);
      this.slots[slot.index] = fresh;
      // Whoever awaits ready() on the old thread waits for its replacement.
      void fresh.ready.then(slot.markReady);
      this.dispatch();
    };
    if (delayMs === 0) restart();
    else {
      const timer = setTimeout(() => {
        this.restartTimers.delete(timer);
        restart();
      }, delayMs);
      this.restartTimers.add(timer);
    }
    if (pending) pending.onDone(pending.cancelled ? { kind: 'cancelled' } : { kind: 'failed', message });
    this.dispatch();
  }

  private finish(slot: Slot): void {
    this.finishedBusyMs += performance.now() - slot.startedMs;
    if (slot.current) slot.current.slot = null;
    slot.current = null;
  }

  private cancel(pending: PendingJob): void {
    if (pending.cancelled) return;
    pending.cancelled = true;
    const queuedAt = this.queue.indexOf(pending);
    if (queuedAt >= 0) {
      this.queue.splice(queuedAt, 1);
      pending.onDone({ kind: 'cancelled' });
      return;
    }
    const slot = pending.slot;
    if (slot && slot.current === pending) {
      // The worker polls this cell between chunks and wakes from a pacing sleep on notify.
      Atomics.store(this.control, slot.index, pending.seq);
      Atomics.notify(this.control, slot.index);
    }
  }

  private hasReadyThread(): boolean {
    return this.readyThreads > 0;
  }

  private dispatch(): void {
    if (this.closed) return;
    for (const slot of this.slots) {
      if (this.queue.length === 0) return;
      if (slot.current || slot.dead || !slot.isReady) continue;
      const pending = this.queue.shift() as PendingJob;
      slot.current = pending;
      slot.startedMs = performance.now();
      pending.slot = slot;
      const message: WorkerJobMessage = { seq: pending.seq, word: pending.job.word, digits: pending.job.digits, startAt: pending.startAt };
      slot.worker.postMessage(message);
    }
    if (this.queue.length > 0 && !this.standIn && !this.hasReadyThread()) this.runOnMainThread(this.queue.shift() as PendingJob);
  }

  /** Runs one job on the main thread until it is found, cancelled, or a thread is ready to take it over. */
  private runOnMainThread(pending: PendingJob): void {
    const job = { word: pending.job.word, digits: pending.job.digits, startAt: pending.startAt };
    const run = runStandIn(job, this.standInPacer, {
      shouldStop: () => pending.cancelled || this.hasReadyThread(),
      onHashes: (count) => (this.standInHashes += count),
      onEnd: (end) => this.onStandInEnd(pending, end),
    });
    this.standIn = { pending, run, startedMs: performance.now() };
  }

  private onStandInEnd(pending: PendingJob, end: StandInEnd): void {
    const standIn = this.standIn;
    if (standIn?.pending !== pending) return;
    this.standIn = null;
    const heldMs = performance.now() - standIn.startedMs;
    this.finishedBusyMs += heldMs;
    const ms = pending.priorMs + heldMs;
    if (end.kind === 'found') pending.onDone({ kind: 'result', match: String(end.index), attempts: end.index + 1, ms: roundMs(ms) });
    else if (end.kind === 'failed') pending.onDone({ kind: 'failed', message: end.message });
    else if (pending.cancelled) pending.onDone({ kind: 'cancelled' });
    else {
      // A thread is ready: it goes on from the next candidate, at the head of the queue.
      pending.startAt = end.tried;
      pending.priorMs = ms;
      this.queue.unshift(pending);
    }
    this.dispatch();
  }
}

function roundMs(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}

function withTimeout(promise: Promise<void>, timeoutMs: number, what: string): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} within ${timeoutMs} ms`)), timeoutMs);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
