// The built guest server as a process: SIGTERM/SIGINT drain in-flight work and exit 0, the drain
// timeout answers leftovers with shutting_down, --hash-rate holds each worker to its rate (±10 %),
// the command line reports bad flags with exit code 2, and the bundle runs from a directory with
// no package.json and no node_modules (as in a VM image), worker threads included.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { errorAnswerSchema, resultAnswerSchema } from '../../guest-server/src/protocol';
import { NdjsonPeer } from '../support/guest-client';
import { ensureGuestBuilt, startGuest, type GuestProcess } from '../support/guest-process';
import { referenceCollide } from '../support/guest-reference';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function guest(args: string[], options: Parameters<typeof startGuest>[1] = {}): Promise<GuestProcess> {
  const started = await startGuest(args, options);
  cleanups.push(() => started.stop());
  return started;
}

async function client(port: number): Promise<NdjsonPeer> {
  const peer = await NdjsonPeer.connect(port);
  cleanups.push(() => peer.close());
  return peer;
}

describe('shutdown', () => {
  it('on SIGTERM stops accepting, refuses new work, finishes the running request and exits 0', async () => {
    const g = await guest(['--workers', '1', '--hash-rate', '100000']);
    const peer = await client(g.port);
    // rate54 needs 98 929 attempts at 5 hex digits: about one second at 100 000 hashes/s.
    const result = peer.next((m) => m.id === 'inflight', 15_000);
    peer.send({ t: 'collide', id: 'inflight', word: 'rate54', digits: 5 });
    await peer.request({ t: 'ping', id: 'received' });
    const signalledMs = Date.now();
    g.child.kill('SIGTERM');
    await g.waitForLog((line) => line.event === 'draining');

    await expect(NdjsonPeer.connect(g.port)).rejects.toThrow();
    const late = errorAnswerSchema.parse(await peer.request({ t: 'collide', id: 'late', word: 'x', digits: 1 }));
    expect(late.code).toBe('shutting_down');

    expect(resultAnswerSchema.parse(await result)).toMatchObject({ match: referenceCollide('rate54', 5).match, attempts: 98_929 });
    expect(await g.exited).toEqual({ code: 0, signal: null });
    expect(Date.now() - signalledMs).toBeGreaterThan(500);
  });

  it('answers shutting_down for work still running at the drain timeout, then exits 0', async () => {
    const g = await guest(['--workers', '1', '--hash-rate', '1000', '--drain-timeout-ms', '300']);
    const peer = await client(g.port);
    const answer = peer.next((m) => m.id === 'forever');
    peer.send({ t: 'collide', id: 'forever', word: 'a', digits: 8 });
    await peer.request({ t: 'ping', id: 'received' });
    g.child.kill('SIGTERM');
    expect(errorAnswerSchema.parse(await answer)).toMatchObject({ code: 'shutting_down', id: 'forever' });
    expect(await g.exited).toEqual({ code: 0, signal: null });
  });

  it('treats SIGINT like SIGTERM', async () => {
    const g = await guest(['--workers', '1']);
    g.child.kill('SIGINT');
    expect(await g.exited).toEqual({ code: 0, signal: null });
    expect(g.logs().some((line) => line.event === 'stopped')).toBe(true);
  });
});

describe('--hash-rate', () => {
  it('holds a worker to the configured hashes per second (±10 %)', async () => {
    const rate = 200_000;
    const g = await guest(['--workers', '1', '--hash-rate', String(rate)]);
    const peer = await client(g.port);
    // About 530 000 attempts in all: ~2.7 s of work at the cap.
    const words = ['rate4', 'rate49', 'rate50'];
    const startedMs = performance.now();
    const answers = await Promise.all(words.map((word) => peer.request({ t: 'collide', id: word, word, digits: 5 }, 15_000)));
    const wallMs = performance.now() - startedMs;
    const results = answers.map((answer) => resultAnswerSchema.parse(answer));
    const attempts = results.reduce((sum, r) => sum + r.attempts, 0);
    const workerMs = results.reduce((sum, r) => sum + r.ms, 0);
    expect(attempts).toBe(175_945 + 159_460 + 194_364);
    const byWorkerTime = (attempts / workerMs) * 1000;
    const byWallClock = (attempts / wallMs) * 1000;
    expect(byWorkerTime).toBeGreaterThan(rate * 0.9);
    expect(byWorkerTime).toBeLessThan(rate * 1.1);
    expect(byWallClock).toBeGreaterThan(rate * 0.9);
    expect(byWallClock).toBeLessThan(rate * 1.1);
  });
});

describe('command line', () => {
  const script = ensureGuestBuilt();

  it('--help prints the usage and exits 0', () => {
    const run = spawnSync(process.execPath, [script, '--help'], { encoding: 'utf8', timeout: 10_000 });
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('--hash-rate');
    expect(run.stdout).toContain('--manager');
  });

  it.each([
    [['--workers', 'lots'], '--workers'],
    [['--bogus'], '--bogus'],
    [['--listen', 'nowhere'], '--listen'],
    [['--max-inflight'], '--max-inflight'],
  ])('%j exits 2 naming the flag', (args, flag) => {
    const run = spawnSync(process.execPath, [script, ...args], { encoding: 'utf8', timeout: 10_000 });
    expect(run.status).toBe(2);
    expect(run.stderr).toContain(flag);
    expect(run.stderr).toContain('--help');
  });

  it('exits 1 with a start_failed log when the port is taken', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise((resolve) => blocker.close(resolve)));
    const port = (blocker.address() as { port: number }).port;
    const run = spawnSync(process.execPath, [script, '--listen', `127.0.0.1:${port}`, '--no-manager', '--workers', '1'], { encoding: 'utf8', timeout: 10_000 });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('"event":"start_failed"');
    expect(run.stderr).toContain('EADDRINUSE');
  });
});

describe('the bundle alone', () => {
  it('runs with worker threads from a directory with no package.json and no node_modules', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'guest-bundle-'));
    cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
    const copy = join(dir, 'guest-server.js');
    copyFileSync(ensureGuestBuilt(), copy);
    const g = await guest(['--workers', '2'], { script: copy });
    const peer = await client(g.port);
    const [a, b] = await Promise.all([
      peer.request({ t: 'collide', id: 'a', word: 'word6', digits: 4 }),
      peer.request({ t: 'collide', id: 'b', word: 'word7', digits: 4 }),
    ]);
    expect(a.match).toBe(referenceCollide('word6', 4).match);
    expect(b.match).toBe(referenceCollide('word7', 4).match);
    expect(await g.stop()).toEqual({ code: 0, signal: null });
  });
});
