// SandboxGuestRuntime with a real test-driver host and real child processes: boot delay, signals
// per action (SIGSTOP/SIGCONT/SIGTERM/SIGKILL), cancelled boots, reboot, stopAll. Uses a stand-in guest
// script (test/support/fake-guest-sandbox.mjs) that only idles, since this tests process plumbing.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../electron/core/clock';
import { connectLibvirt, HypervisorConnection, type LibvirtLike, type LogFn } from '../../electron/core/hypervisor';
import {
  prepareSandboxHost,
  SandboxGuestRuntime,
  sandboxUri,
  type GuestExitedEvent,
  type GuestSpawnedEvent,
  type SandboxGuestRuntimeOptions,
} from '../../electron/core/sandbox';
import { procState, procStat, processAlive } from '../support/proc';
import { waitUntil } from '../support/test-guest';

const fakeGuest = fileURLToPath(new URL('../support/fake-guest-sandbox.mjs', import.meta.url));
const BOOT_DELAY_MS = 80;

interface Fixture {
  conn: HypervisorConnection;
  runtime: SandboxGuestRuntime;
  spawned: GuestSpawnedEvent[];
  exited: GuestExitedEvent[];
  logs: { event: string; fields: Record<string, unknown> }[];
  template: { uuid: string; name: string; vcpus: number };
  /** The real libvirt handle behind conn, to act as "another client" behind its back. */
  handle: () => LibvirtLike;
}

const fixtures: Fixture[] = [];
const seenPids = new Set<number>();

async function setup(extra: Partial<SandboxGuestRuntimeOptions> = {}): Promise<Fixture> {
  const handles: LibvirtLike[] = [];
  const conn = new HypervisorConnection({
    id: 'sandbox',
    uri: sandboxUri(),
    clock: systemClock,
    pollIntervalMs: 60_000,
    connector: (uri) => {
      const h = connectLibvirt(uri);
      handles.push(h);
      return h;
    },
  });
  await conn.open();
  const template = await prepareSandboxHost(conn);
  const logs: Fixture['logs'] = [];
  const log: LogFn = (_level, event, fields) => logs.push({ event, fields });
  const runtime = new SandboxGuestRuntime({
    connection: conn,
    guestScript: fakeGuest,
    bootDelayMs: BOOT_DELAY_MS,
    hashRatePerVcpu: 5000,
    manager: () => ({ host: '127.0.0.1', port: 4567 }),
    token: 'pool-token-1',
    clock: systemClock,
    stopTimeoutMs: 2000,
    log,
    ...extra,
  });
  const f: Fixture = {
    conn,
    runtime,
    spawned: [],
    exited: [],
    logs,
    template: { uuid: template.uuid, name: template.name, vcpus: template.vcpus },
    handle: () => handles.at(-1) as LibvirtLike,
  };
  runtime.on('spawned', (e) => {
    seenPids.add(e.pid);
    f.spawned.push(e);
  });
  runtime.on('exited', (e) => f.exited.push(e));
  fixtures.push(f);
  return f;
}

afterEach(async () => {
  for (const f of fixtures.splice(0)) {
    await f.runtime.dispose();
    await f.conn.close();
  }
  // Nothing any test spawned may outlive it.
  for (const pid of seenPids) expect(processAlive(pid), `pid ${pid} still running`).toBe(false);
  seenPids.clear();
});

/** Argument order of this file's calls; the polling lives in waitUntil. */
const waitFor = (condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> => waitUntil(condition, timeoutMs, what);


/** The stand-in guest prints a line once its signal handlers are installed. */
async function waitReady(f: Fixture, pid: number): Promise<void> {
  await waitFor(() => f.logs.some((l) => l.event === 'sandbox_guest_output' && l.fields['pid'] === pid), `guest ${pid} ready`);
}

function cmdline(pid: number): string[] {
  return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter((s) => s !== '');
}

describe('SandboxGuestRuntime', () => {
  it('spawns a guest only after the boot delay, with the guest command line', async () => {
    const f = await setup();
    f.runtime.manage(f.template);
    const startedMs = Date.now();
    await f.conn.domainStart(f.template.uuid);
    expect(f.runtime.guestPid(f.template.uuid)).toBeUndefined();
    await waitFor(() => f.spawned.length === 1, 'spawn');
    expect(Date.now() - startedMs).toBeGreaterThanOrEqual(BOOT_DELAY_MS - 5);
    const pid = f.runtime.guestPid(f.template.uuid);
    expect(pid).toBe(f.spawned[0]?.pid);
    expect(f.runtime.guests()).toEqual([{ uuid: f.template.uuid, pid, state: 'running' }]);
    const args = cmdline(pid as number);
    expect(args.slice(1)).toEqual([
      fakeGuest,
      '--listen',
      '127.0.0.1:0',
      '--manager',
      '127.0.0.1:4567',
      '--uuid',
      f.template.uuid,
      '--token=pool-token-1',
      '--vcpus',
      '1',
      '--workers',
      '1',
      '--hash-rate',
      '5000',
      '--exit-with-stdin',
    ]);
    // Its own process group: a terminal's Ctrl-C reaches the manager only.
    expect(procStat(pid as number)?.pgid).toBe(pid);
    const spawnedLog = f.logs.find((l) => l.event === 'sandbox_guest_spawned');
    expect(spawnedLog?.fields).toMatchObject({ uuid: f.template.uuid, pid, simulated: true });
    // The guest's stdout reaches the log.
    await waitReady(f, pid as number);
  });

  it('suspend stops the process (T), resume continues it, force off kills it', async () => {
    const f = await setup();
    f.runtime.manage(f.template);
    await f.conn.domainStart(f.template.uuid);
    await waitFor(() => f.spawned.length === 1, 'spawn');
    const pid = f.spawned[0]?.pid as number;

    await f.conn.domainSuspend(f.template.uuid);
    await waitFor(() => procState(pid) === 'T', 'process stopped');
    expect(f.runtime.guests()[0]?.state).toBe('paused');

    await f.conn.domainResume(f.template.uuid);
    await waitFor(() => procState(pid) === 'S' || procState(pid) === 'R', 'process continued');
    expect(f.runtime.guests()[0]?.state).toBe('running');

    await f.conn.domainForceOff(f.template.uuid);
    await waitFor(() => f.exited.length === 1, 'exit');
    expect(f.exited[0]).toEqual({ uuid: f.template.uuid, code: null, signal: 'SIGKILL', expected: true });
    expect(processAlive(pid)).toBe(false);
    expect(f.runtime.guestPid(f.template.uuid)).toBeUndefined();
  });

  it('save ends the guest process (an expected exit); restore starts a new one after the shorter restore delay', async () => {
    const f = await setup({ bootDelayMs: 600, restoreDelayMs: 100 });
    const dir = mkdtempSync(join(tmpdir(), 'cms-sandbox-save-'));
    try {
      f.runtime.manage(f.template);
      await f.conn.domainStart(f.template.uuid);
      await waitFor(() => f.spawned.length === 1, 'spawn');
      const pid = f.spawned[0]?.pid as number;

      await f.conn.domainSave(f.template.uuid, join(dir, 'template.save'));
      await waitFor(() => f.exited.length === 1, 'exit on save');
      expect(f.exited[0]).toEqual({ uuid: f.template.uuid, code: null, signal: 'SIGKILL', expected: true });
      expect(processAlive(pid)).toBe(false);

      const restoredMs = Date.now();
      await f.conn.domainRestore(f.template.uuid, join(dir, 'template.save'));
      await waitFor(() => f.spawned.length === 2, 'spawn after restore');
      const tookMs = Date.now() - restoredMs;
      expect(tookMs).toBeGreaterThanOrEqual(95);
      expect(tookMs).toBeLessThan(550);
      expect(f.spawned[1]?.pid).not.toBe(pid);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('graceful shutdown sends SIGTERM; a guest ignoring it gets SIGKILL after the stop timeout', async () => {
    const polite = await setup();
    polite.runtime.manage(polite.template);
    await polite.conn.domainStart(polite.template.uuid);
    await waitFor(() => polite.spawned.length === 1, 'spawn');
    await waitReady(polite, polite.spawned[0]?.pid as number);
    await polite.conn.domainShutdown(polite.template.uuid);
    await waitFor(() => polite.exited.length === 1, 'exit after SIGTERM');
    expect(polite.exited[0]).toMatchObject({ code: 0, signal: null });

    const stubborn = await setup({ extraArgs: ['--ignore-sigterm'], stopTimeoutMs: 150 });
    stubborn.runtime.manage(stubborn.template);
    await stubborn.conn.domainStart(stubborn.template.uuid);
    await waitFor(() => stubborn.spawned.length === 1, 'spawn');
    await waitReady(stubborn, stubborn.spawned[0]?.pid as number);
    const stopMs = Date.now();
    await stubborn.conn.domainShutdown(stubborn.template.uuid);
    await waitFor(() => stubborn.exited.length === 1, 'exit after SIGKILL');
    expect(Date.now() - stopMs, JSON.stringify(stubborn.exited)).toBeGreaterThanOrEqual(140);
    expect(stubborn.exited[0]).toMatchObject({ code: null, signal: 'SIGKILL', expected: true });
  });

  it('a start cancelled before the boot delay spawns nothing; unmanaged domains get no guest', async () => {
    const f = await setup({ bootDelayMs: 200 });
    f.runtime.manage(f.template);
    await f.conn.domainStart(f.template.uuid);
    await f.conn.domainForceOff(f.template.uuid);
    const web = f.conn.snapshot().domains.find((d) => d.name === 'web-frontend');
    if (!web) throw new Error('no web-frontend');
    await f.conn.domainReboot(web.uuid);
    await new Promise((r) => setTimeout(r, 300));
    expect(f.spawned).toEqual([]);
    expect(f.runtime.guests()).toEqual([]);
    expect(f.logs.some((l) => l.event === 'sandbox_guest_boot_cancelled')).toBe(true);
  });

  it('reboot replaces the guest process; a domain going off behind our back stops it', async () => {
    const f = await setup();
    f.runtime.manage(f.template);
    await f.conn.domainStart(f.template.uuid);
    await waitFor(() => f.spawned.length === 1, 'first spawn');
    const first = f.spawned[0]?.pid as number;
    await waitReady(f, first);

    await f.conn.domainReboot(f.template.uuid, { timeoutMs: 1000 });
    await waitFor(() => f.spawned.length === 2, 'second spawn');
    expect(f.exited[0]).toMatchObject({ uuid: f.template.uuid, code: 0 });
    expect(processAlive(first)).toBe(false);
    const second = f.spawned[1]?.pid as number;
    expect(second).not.toBe(first);
    await waitReady(f, second);

    // Another libvirt client shuts it down: only a poll notices.
    const other = await f.conn.domainLookup(f.template.uuid);
    expect(other?.state).toBe('running');
    const real = f.handle();
    await real.domainShutdown(await real.domainLookupByUUIDString(f.template.uuid));
    await f.conn.pollNow();
    await waitFor(() => f.exited.length === 2, 'exit after external shutdown');
    expect(processAlive(second)).toBe(false);
  });

  it('adopts an already running domain, and stopAll leaves nothing running', async () => {
    const f = await setup();
    const snapshot = f.conn.snapshot().domains;
    const running = snapshot.filter((d) => d.state === 'running');
    expect(running.length).toBe(3);
    for (const d of running) f.runtime.manage({ uuid: d.uuid, name: d.name, vcpus: d.vcpus });
    f.runtime.manage(f.template);
    await f.conn.domainStart(f.template.uuid);
    await waitFor(() => f.spawned.length === 4, 'four guests');
    const db = running.find((d) => d.name === 'db-primary');
    expect(cmdline(f.runtime.guestPid(db?.uuid as string) as number)).toContain('4');
    await f.conn.domainSuspend(db?.uuid as string);
    const pids = f.runtime.guests().map((g) => g.pid);
    expect(pids).toHaveLength(4);
    await f.runtime.stopAll();
    expect(f.runtime.guests()).toEqual([]);
    for (const pid of pids) expect(existsSync(`/proc/${pid}`) && processAlive(pid)).toBe(false);
    expect(f.exited.map((e) => e.signal)).toEqual(['SIGKILL', 'SIGKILL', 'SIGKILL', 'SIGKILL']);
  });
});
