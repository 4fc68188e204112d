// The guest server's start order, with a scripted worker thread that takes 600 ms to start and
// notes when it began: the server registers before any thread starts (under emulation a thread's
// start-up beside the main thread's delayed registering), answers its first request at once from
// the main thread's stand-in, starts the thread only once registered, tells the manager at once
// when it is ready (a heartbeat with its `ready` count, ahead of the period), then serves from it.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startGuestServer } from '../../guest-server/src/guest';
import { silentLogger } from '../../guest-server/src/log';
import { parseGuestArgs } from '../../guest-server/src/options';
import { WorkerPool } from '../../guest-server/src/pool';
import { listenForGuests } from '../support/guest-client';
import { referenceCollide } from '../support/guest-reference';

const WORKER_START_MS = 600;
const dir = mkdtempSync(join(tmpdir(), 'cms-start-order-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('guest server start order', () => {
  it('registers before starting its threads, answers from the main thread until one is ready, then from it', async () => {
    const workerFile = join(dir, 'slow-worker.cjs');
    const startedFile = join(dir, 'thread-started');
    writeFileSync(
      workerFile,
      `const { parentPort } = require('node:worker_threads');
       require('node:fs').writeFileSync(${JSON.stringify(startedFile)}, String(Date.now()));
       setTimeout(() => parentPort.postMessage({ seq: 0, kind: 'ready' }), ${WORKER_START_MS});
       parentPort.on('message', (job) => parentPort.postMessage({ seq: job.seq, kind: 'result', match: 'm-' + job.word, attempts: 1, ms: 0 }));`,
    );
    const manager = await listenForGuests();
    const command = parseGuestArgs(['--manager', `127.0.0.1:${manager.port}`, '--uuid', 'start-order-1', '--token', 'tok', '--listen', '127.0.0.1:0', '--workers', '1', '--vcpus', '1', '--heartbeat-ms', '5000']);
    if (command.kind !== 'run') throw new Error('expected a run command');

    const pool = new WorkerPool({ workerFile, workers: 1 });
    const guest = await startGuestServer(command.options, { pool, log: silentLogger });
    let workerReadyAt = 0;
    void guest.firstWorkerReady.then(() => (workerReadyAt = Date.now()));
    try {
      const peer = await manager.nextGuest();
      const register = await peer.next((message) => message.t === 'register', 5_000);
      expect(register).toMatchObject({ uuid: 'start-order-1', token: 'tok' });
      // Give a thread every chance to have started early: none has.
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(existsSync(startedFile)).toBe(false);

      const registeredAt = Date.now();
      peer.send({ t: 'registered' });
      peer.send({ t: 'collide', id: 1, word: 'first', digits: 2 });
      const first = await peer.next((message) => message.t === 'result' && message.id === 1, 5_000);
      // A real answer, worked out on the main thread while the thread is still starting.
      expect(first).toMatchObject(referenceCollide('first', 2));
      expect(workerReadyAt).toBe(0);

      await guest.firstWorkerReady;
      const beat = await peer.next((message) => message.t === 'load', 1_000);
      expect(beat).toMatchObject({ ready: 1 });
      expect(Date.now() - workerReadyAt).toBeLessThan(1_000);
      const threadStartedAt = Number(readFileSync(startedFile, 'utf8'));
      expect(threadStartedAt).toBeGreaterThanOrEqual(registeredAt);
      expect(workerReadyAt - threadStartedAt).toBeGreaterThanOrEqual(WORKER_START_MS - 50);
      peer.send({ t: 'collide', id: 2, word: 'second', digits: 2 });
      expect(await peer.next((message) => message.t === 'result' && message.id === 2, 5_000)).toMatchObject({ match: 'm-second' });
    } finally {
      await guest.shutdown('test over');
      await manager.close();
    }
  });
});
