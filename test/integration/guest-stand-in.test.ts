// The worker pool's main-thread stand-in: while no thread is ready it answers real collide jobs
// itself (in short slices, so the event loop keeps turning), hands a long job to the first thread
// that becomes ready from where it stopped, honours cancel, close and the hash-rate cap, and counts
// its hashes and busy time. Scripted worker files stand in for the threads.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { WorkerPool, type CollideJob, type JobOutcome } from '../../guest-server/src/pool';
import { referenceCollide } from '../support/guest-reference';

const dir = mkdtempSync(join(tmpdir(), 'cms-stand-in-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A thread that is ready after `readyMs` and answers with where it was told to start. */
function startAtEchoWorker(readyMs: number): string {
  const path = join(dir, `echo-${readyMs}.cjs`);
  writeFileSync(
    path,
    `const { parentPort } = require('node:worker_threads');
     setTimeout(() => parentPort.postMessage({ seq: 0, kind: 'ready' }), ${readyMs});
     parentPort.on('message', (job) => parentPort.postMessage({ seq: job.seq, kind: 'result', match: 'from-' + job.startAt, attempts: job.startAt, ms: 5 }));`,
  );
  return path;
}

function submit(pool: WorkerPool, job: CollideJob): { outcome: Promise<JobOutcome>; cancel(): void } {
  let cancel: () => void = () => {};
  const outcome = new Promise<JobOutcome>((resolve) => (cancel = pool.submit(job, resolve).cancel));
  return { outcome, cancel };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('worker pool stand-in', () => {
  it('answers real jobs on the main thread before any thread has started, and counts them', async () => {
    const pool = new WorkerPool({ workerFile: startAtEchoWorker(0), workers: 1 });
    try {
      for (const [word, digits] of [['hello', 2], ['stand-in', 3], ['x', 1]] as const) {
        const outcome = await submit(pool, { word, digits }).outcome;
        const expected = referenceCollide(word, digits);
        expect(outcome).toMatchObject({ kind: 'result', match: expected.match, attempts: expected.attempts });
      }
      expect(pool.hashes()).toBeGreaterThanOrEqual(referenceCollide('stand-in', 3).attempts);
      expect(pool.busyMs()).toBeGreaterThan(0);
      expect(pool.running).toBe(0);
    } finally {
      await pool.close();
    }
  });

  it('keeps the event loop turning while it searches', async () => {
    const pool = new WorkerPool({ workerFile: startAtEchoWorker(0), workers: 1 });
    try {
      // Eight hex digits: billions of candidates, far more than this test lets it try.
      const job = submit(pool, { word: 'long', digits: 8 });
      let last = performance.now();
      let worstGapMs = 0;
      const ticker = setInterval(() => {
        const now = performance.now();
        worstGapMs = Math.max(worstGapMs, now - last);
        last = now;
      }, 5);
      await sleep(400);
      clearInterval(ticker);
      expect(pool.running).toBe(1);
      expect(pool.hashes()).toBeGreaterThan(1000);
      // Slices are ~4 ms; the whole search in one go would hold the loop for minutes.
      expect(worstGapMs).toBeLessThan(100);
      job.cancel();
      expect(await job.outcome).toEqual({ kind: 'cancelled' });
      expect(pool.running).toBe(0);
    } finally {
      await pool.close();
    }
  });

  it('hands a long job to the first thread once it is ready, from where it stopped', async () => {
    const pool = new WorkerPool({ workerFile: startAtEchoWorker(300), workers: 1 });
    try {
      pool.start();
      const job = submit(pool, { word: 'handed-over', digits: 8 });
      await pool.firstReady(10_000);
      const outcome = await job.outcome;
      expect(outcome.kind).toBe('result');
      if (outcome.kind !== 'result') return;
      const startAt = Number(outcome.match.replace('from-', ''));
      // The thread went on from the stand-in's last candidate, not from 0 …
      expect(startAt).toBeGreaterThan(100);
      expect(pool.hashes()).toBeGreaterThanOrEqual(startAt);
      // … and the answer's time covers both parts (~300 ms on the main thread, 5 ms in the thread).
      expect(outcome.ms).toBeGreaterThanOrEqual(200);
      // A job that comes once a thread is ready goes to the thread straight away.
      expect(await submit(pool, { word: 'later', digits: 8 }).outcome).toMatchObject({ kind: 'result', match: 'from-0' });
    } finally {
      await pool.close();
    }
  });

  it('fails its job as cancelled when the pool closes', async () => {
    const pool = new WorkerPool({ workerFile: startAtEchoWorker(0), workers: 1 });
    const job = submit(pool, { word: 'closing', digits: 8 });
    await sleep(50);
    expect(pool.running).toBe(1);
    await pool.close();
    expect(await job.outcome).toEqual({ kind: 'cancelled' });
  });

  it('holds to the hash-rate cap like a worker thread', async () => {
    const ratePerSec = 20_000;
    const pool = new WorkerPool({ workerFile: startAtEchoWorker(0), workers: 1, hashRatePerWorker: ratePerSec });
    try {
      const job = submit(pool, { word: 'paced', digits: 8 });
      await sleep(100);
      const fromHashes = pool.hashes();
      const fromMs = performance.now();
      await sleep(800);
      const rate = ((pool.hashes() - fromHashes) * 1000) / (performance.now() - fromMs);
      job.cancel();
      await job.outcome;
      expect(rate).toBeGreaterThan(ratePerSec * 0.75);
      expect(rate).toBeLessThan(ratePerSec * 1.25);
    } finally {
      await pool.close();
    }
  });
});
