// The guest server started from a Node start-up snapshot of its bundle, made as the guest image
// makes it (build/guest-image/snapshot-entry.cjs; there under qemu-user for the emulated CPU, here
// natively, which Node equally accepts): it builds without node:worker_threads loaded and with the
// bundle compiled, and a process started from it compiles none of the bundle, takes its own flags,
// registers, starts worker threads that report ready and answers real work on them.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerMessageSchema } from '../../guest-server/src/protocol';
import { listenForGuests, NdjsonPeer } from '../support/guest-client';
import { ensureGuestBuilt, startGuest } from '../support/guest-process';
import { referenceCollide } from '../support/guest-reference';
import { expectServesFromThreads } from '../support/guest-threads-check';

const ENTRY = join(import.meta.dirname, '..', '..', 'build', 'guest-image', 'snapshot-entry.cjs');
const dir = mkdtempSync(join(tmpdir(), 'cms-snapshot-'));
const snapshot = join(dir, 'guest-server.snapshot');
let buildStderr = '';

/** Builds a snapshot the image's way; `nodeFlags` go to the build (and must go to every start from it). */
function buildSnapshot(out: string, nodeFlags: string[] = []): ReturnType<typeof spawnSync> {
  return spawnSync(process.execPath, [...nodeFlags, '--snapshot-blob', out, '--build-snapshot', ENTRY, ensureGuestBuilt()], { encoding: 'utf8', timeout: 60_000 });
}

beforeAll(() => {
  const built = buildSnapshot(snapshot);
  buildStderr = String(built.stderr);
  expect(built.status, buildStderr).toBe(0);
}, 90_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function fromSnapshot(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const run = spawnSync(process.execPath, ['--snapshot-blob', snapshot, '--', ...args], { encoding: 'utf8', timeout: 30_000 });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

describe('guest server from a Node start-up snapshot', () => {
  it('builds with no module the snapshot cannot hold (node:worker_threads) loaded', () => {
    expect(statSync(snapshot).size).toBeGreaterThan(1_000_000);
    // Node warns when the builder loads node:worker_threads, whose state breaks every thread later.
    expect(buildStderr).not.toContain('worker_threads');
  });

  it('holds the bundle compiled: a process started from it compiles none of it to serve', async () => {
    // V8's function events (the same flags at build and start: a snapshot is keyed by them).
    const logFlags = ['--log-function-events', `--logfile=${join(dir, 'events-%p.log')}`];
    const blob = join(dir, 'events.snapshot');
    expect(buildSnapshot(blob, logFlags).status).toBe(0);
    const before = new Set(readdirSync(dir));
    const guest = await startGuest(['--workers', '1', '--vcpus', '1'], { snapshot: blob, nodeFlags: logFlags });
    try {
      const peer = await NdjsonPeer.connect(guest.port);
      expect(await peer.request({ t: 'collide', id: 1, word: 'compiled', digits: 2 }, 10_000)).toMatchObject({ t: 'result', match: referenceCollide('compiled', 2).match });
      await peer.close();
    } finally {
      expect(await guest.stop()).toEqual({ code: 0, signal: null });
    }
    // One log per isolate: the worker thread's names the bundle too but runs none of it, so the
    // main thread's is the one with the bundle's function events.
    const runLogs = readdirSync(dir).filter((name) => name.startsWith('isolate-') && !before.has(name));
    if (runLogs.length === 0) throw new Error('no V8 log of the started process');
    const bundleEvents = (name: string): string[] => {
      const lines = readFileSync(join(dir, name), 'utf8').split('\n');
      const scriptId = lines.find((line) => line.startsWith('script-details,') && line.includes('guest-server.js'))?.split(',')[1];
      return scriptId === undefined ? [] : lines.filter((line) => line.startsWith('function,') && line.split(',')[2] === scriptId).map((line) => line.split(',')[1] ?? '');
    };
    const events = runLogs.map(bundleEvents).reduce((most, next) => (next.length > most.length ? next : most), []);
    expect(events.filter((event) => event === 'first-execution').length).toBeGreaterThan(50);
    // A lazily compiled function shows as parse-function / full-parse / interpreter events.
    expect(events.filter((event) => event !== 'first-execution')).toEqual([]);
  });

  it('takes its own flags: arguments start right after the snapshot', () => {
    const version = fromSnapshot(['--version']);
    expect(version.status).toBe(0);
    expect(version.stdout.trim()).toBe('1');
    const bad = fromSnapshot(['--workers', 'two']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('--workers');
  });

  it('registers, starts worker threads that report ready, and answers on them', async () => {
    const manager = await listenForGuests();
    const spawnedAt = Date.now();
    const guest = await startGuest(['--manager', `127.0.0.1:${manager.port}`, '--uuid', 'snap-uuid', '--token', 't', '--vcpus', '1', '--workers', '1', '--heartbeat-ms', '100'], { snapshot });
    try {
      // Its clock starts with the process, not with the build (the snapshot holds `performance`).
      const started = guest.logs().find((line) => line.event === 'started_from_snapshot');
      expect(started?.ms).toBeGreaterThan(0);
      expect(Date.parse(String(started?.ts)) - Number(started?.ms)).toBeGreaterThanOrEqual(spawnedAt - 50);
      const conn = await manager.nextGuest();
      expect(registerMessageSchema.parse(await conn.next())).toMatchObject({ uuid: 'snap-uuid', token: 't', port: guest.port });
      // Every thread failed to start when the snapshot held node:worker_threads.
      await expectServesFromThreads(conn, 'snapshot');
      expect(guest.logs().filter((line) => line.level === 'error')).toEqual([]);
    } finally {
      expect(await guest.stop()).toEqual({ code: 0, signal: null });
      await manager.close();
    }
  });
});
