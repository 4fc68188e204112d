// The guest's worker pool when threads start and fail: the first thread starts alone and the others
// once it is ready, and jobs go to ready threads only; a thread that dies on a job fails only that
// job and is replaced at once (the main thread stands in meanwhile); a thread that cannot start is
// restarted with a growing pause (not in a tight loop), and closing the pool stops the restarts.
// Scripted worker files stand in for the threads.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { LogFields, Logger } from '../../guest-server/src/log';
import { WorkerPool, type JobOutcome } from '../../guest-server/src/pool';
import { referenceCollide } from '../support/guest-reference';

const dir = mkdtempSync(join(tmpdir(), 'cms-worker-pool-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function script(name: string, source: string): string {
  const path = join(dir, name);
  writeFileSync(path, source);
  return path;
}

/** A logger that keeps what it is told, for assertions. */
function recordingLogger(): Logger & { events: Array<{ event: string; fields: LogFields }> } {
  const events: Array<{ event: string; fields: LogFields }> = [];
  const keep = (event: string, fields: LogFields = {}): void => void events.push({ event, fields });
  return { events, debug: keep, info: keep, warn: keep, error: keep };
}

function run(pool: WorkerPool, word: string): Promise<JobOutcome> {
  return new Promise((resolve) => pool.submit({ word, digits: 1 }, resolve));
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('guest worker pool start-up', () => {
  it('starts the first thread alone, the others once it is ready, and gives jobs to ready threads only', async () => {
    // Each thread takes 300 ms to be ready and 50 ms per job, and answers with its index and start time.
    const file = script(
      'slow-start.cjs',
      `const { parentPort, workerData } = require('node:worker_threads');
       const startedAt = Date.now();
       const busy = (ms) => { const end = Date.now() + ms; while (Date.now() < end); };
       setTimeout(() => parentPort.postMessage({ seq: 0, kind: 'ready' }), 300);
       parentPort.on('message', (job) => {
         busy(50);
         parentPort.postMessage({ seq: job.seq, kind: 'result', match: workerData.index + '@' + startedAt, attempts: 1, ms: 50 });
       });`,
    );
    const pool = new WorkerPool({ workerFile: file, workers: 2 });
    pool.start();
    try {
      await pool.firstReady(10_000);
      const firstReadyAt = Date.now();
      expect(pool.workers).toBe(2);
      // The second thread is only starting: both jobs wait for the first one rather than for it.
      const early = await Promise.all([run(pool, 'a'), run(pool, 'b')]);
      const earlyThreads = early.map((outcome) => (outcome.kind === 'result' ? outcome.match.split('@')[0] : outcome.kind));
      expect(earlyThreads).toEqual(['0', '0']);
      await pool.ready(10_000);
      const later = await Promise.all([run(pool, 'c'), run(pool, 'd')]);
      const starts = new Map(later.map((outcome) => (outcome.kind === 'result' ? (outcome.match.split('@') as [string, string]) : ['?', '0'])));
      expect([...starts.keys()].sort()).toEqual(['0', '1']);
      // Thread 1 began once thread 0 was ready (300 ms after thread 0 began), not beside it.
      expect(Number(starts.get('1'))).toBeGreaterThanOrEqual(Number(starts.get('0')) + 250);
      expect(Number(starts.get('1'))).toBeLessThanOrEqual(firstReadyAt + 100);
    } finally {
      await pool.close();
    }
  });
});

describe('guest worker pool under thread failures', () => {
  it('fails only the job whose thread died, replaces the thread and goes on serving', async () => {
    const file = script(
      'dies-on-job.cjs',
      `const { parentPort } = require('node:worker_threads');
       parentPort.postMessage({ seq: 0, kind: 'ready' });
       parentPort.on('message', (job) => {
         if (job.word === 'die') process.exit(3);
         parentPort.postMessage({ seq: job.seq, kind: 'result', match: 'm-' + job.word, attempts: 1, ms: 0 });
       });`,
    );
    const log = recordingLogger();
    const pool = new WorkerPool({ workerFile: file, workers: 1, log });
    pool.start();
    try {
      await pool.ready(10_000);
      const [died, queued] = await Promise.all([run(pool, 'die'), run(pool, 'after')]);
      expect(died).toMatchObject({ kind: 'failed', message: expect.stringMatching(/exited with code 3/) });
      // No thread was ready while its replacement started, so the main thread's stand-in answered.
      expect(queued).toMatchObject({ kind: 'result', ...referenceCollide('after', 1) });
      await pool.ready(10_000);
      expect(await run(pool, 'replacement')).toEqual({ kind: 'result', match: 'm-replacement', attempts: 1, ms: 0 });
      const failures = log.events.filter((entry) => entry.event === 'worker_failed');
      expect(failures).toHaveLength(1);
      // It had been ready, so its replacement starts at once.
      expect(failures[0]?.fields).toMatchObject({ worker: 0, restartInMs: 0 });
    } finally {
      await pool.close();
    }
  });

  it('restarts a thread that cannot start with a growing pause, and stops when closed', async () => {
    const file = script('broken.cjs', `throw new Error('broken start-up');`);
    const log = recordingLogger();
    const pool = new WorkerPool({ workerFile: file, workers: 1, log });
    pool.start();
    await expect(pool.firstReady(300)).rejects.toThrow(/first worker thread not ready within 300 ms/);
    await expect(pool.ready(900)).rejects.toThrow(/not ready within 900 ms/);
    const job = run(pool, 'never');
    await pool.close();
    expect(await job).toEqual({ kind: 'cancelled' });
    const delays = log.events.filter((entry) => entry.event === 'worker_failed').map((entry) => entry.fields.restartInMs);
    // 100, 200, 400 ms … : a handful of starts in 1.2 s, where a tight loop made dozens.
    expect(delays.length).toBeGreaterThanOrEqual(2);
    expect(delays.length).toBeLessThanOrEqual(6);
    expect(delays.slice(0, 3)).toEqual([100, 200, 400].slice(0, Math.min(3, delays.length)));
    const countAtClose = delays.length;
    await sleep(1_000);
    expect(log.events.filter((entry) => entry.event === 'worker_failed')).toHaveLength(countAtClose);
  });
});
