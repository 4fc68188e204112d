// The guest server's start order, with a scripted worker thread that takes 600 ms to start: the
// server registers with its manager before the thread is ready (under emulation that overlaps the
// thread's start-up), a request sent at once waits in the queue and is answered once the thread is
// ready, and firstWorkerReady tells the caller when that happened.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startGuestServer } from '../../guest-server/src/guest';
import { silentLogger } from '../../guest-server/src/log';
import { parseGuestArgs } from '../../guest-server/src/options';
import { WorkerPool } from '../../guest-server/src/pool';
import { NdjsonPeer } from '../support/guest-client';

const WORKER_START_MS = 600;
const dir = mkdtempSync(join(tmpdir(), 'cms-start-order-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('guest server start order', () => {
  it('registers before its first worker thread is ready and answers queued work once it is', async () => {
    const workerFile = join(dir, 'slow-worker.cjs');
    writeFileSync(
      workerFile,
      `const { parentPort } = require('node:worker_threads');
       setTimeout(() => parentPort.postMessage({ seq: 0, kind: 'ready' }), ${WORKER_START_MS});
       parentPort.on('message', (job) => parentPort.postMessage({ seq: job.seq, kind: 'result', match: 'm-' + job.word, attempts: 1, ms: 0 }));`,
    );
    const peers: NdjsonPeer[] = [];
    let onConnection: (peer: NdjsonPeer) => void = () => {};
    const connected = new Promise<NdjsonPeer>((resolve) => (onConnection = resolve));
    const server: Server = createServer((socket) => {
      const peer = new NdjsonPeer(socket);
      peers.push(peer);
      onConnection(peer);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    const command = parseGuestArgs(['--manager', `127.0.0.1:${port}`, '--uuid', 'start-order-1', '--token', 'tok', '--listen', '127.0.0.1:0', '--workers', '1', '--vcpus', '1']);
    if (command.kind !== 'run') throw new Error('expected a run command');

    const startedAt = Date.now();
    const pool = new WorkerPool({ workerFile, workers: 1 });
    const guest = await startGuestServer(command.options, { pool, log: silentLogger });
    let workerReadyAt = 0;
    void guest.firstWorkerReady.then(() => (workerReadyAt = Date.now()));
    try {
      const peer = await connected;
      const register = await peer.next((message) => message.t === 'register', 5_000);
      const registeredAfterMs = Date.now() - startedAt;
      expect(register).toMatchObject({ uuid: 'start-order-1', token: 'tok' });
      expect(registeredAfterMs).toBeLessThan(WORKER_START_MS - 100);
      expect(workerReadyAt).toBe(0);

      peer.send({ t: 'registered' });
      peer.send({ t: 'collide', id: 1, word: 'w', digits: 1 });
      const answer = await peer.next((message) => message.t === 'result', 5_000);
      expect(answer).toMatchObject({ id: 1, match: 'm-w' });
      await guest.firstWorkerReady;
      expect(workerReadyAt - startedAt).toBeGreaterThanOrEqual(WORKER_START_MS - 50);
    } finally {
      await guest.shutdown('test over');
      for (const peer of peers) await peer.close();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
