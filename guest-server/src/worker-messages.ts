// What the worker pool and a collide worker thread say to each other: the start-up data and the
// job and reply messages. Kept apart from the worker's code, which the main thread never runs:
// the pool and the entry point need only these shapes and the role marker.
/** Marks workerData of a collide worker, so the one bundled file knows which role to play. */
export const WORKER_ROLE = 'cms-collide-worker';

/** What the pool hands each worker at start (structured-clone safe). */
export interface CollideWorkerInit {
  role: typeof WORKER_ROLE;
  /** This worker's slot in the shared arrays. */
  index: number;
  /** Cap on hashes per second for this worker; 0 means unlimited. */
  hashRatePerSec: number;
  /** Int32 per worker: the seq of a job the pool wants cancelled (also the sleep/wake cell). */
  control: SharedArrayBuffer;
  /** BigInt64 per worker: hashes computed since start, read by the pool for the heartbeat. */
  counters: SharedArrayBuffer;
}

export interface WorkerJobMessage {
  seq: number;
  word: string;
  digits: number;
  /** First candidate to try: above 0 when the main thread's stand-in began the search. */
  startAt: number;
}

export type WorkerReply =
  | { seq: 0; kind: 'ready' }
  | { seq: number; kind: 'result'; match: string; attempts: number; ms: number }
  | { seq: number; kind: 'cancelled'; attempts: number }
  | { seq: number; kind: 'failed'; message: string };

export function isCollideWorkerInit(data: unknown): data is CollideWorkerInit {
  return typeof data === 'object' && data !== null && (data as { role?: unknown }).role === WORKER_ROLE;
}
