// HypervisorConnection against libvirt's real in-process test driver (the sandbox host file):
// listing, define with <metadata>, every action with its events and errors, reboot, polling, reconnect.
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock, systemClock } from '../../electron/core/clock';
import {
  connectLibvirt,
  HypervisorConnection,
  HypervisorError,
  type ActionEvent,
  type HypervisorConnectionOptions,
  type LibvirtConnector,
  type LibvirtLike,
  type LogFn,
  type LogLevel,
  type StateChangeEvent,
  type StatusEvent,
} from '../../electron/core/hypervisor';
import { prepareSandboxHost, sandboxHostPath, sandboxUri } from '../../electron/core/sandbox';

interface FlakyState {
  /** When true, every call (including connectOpen) fails like a dropped remote connection. */
  broken: boolean;
  /** When true, domainShutdown is accepted but ignored, like a guest without ACPI. */
  ignoreShutdown: boolean;
  opens: number;
  /** The real handles made so far, newest last (to change state behind the connection's back). */
  handles: LibvirtLike[];
}

function flakyConnector(state: FlakyState): LibvirtConnector {
  return (uri) => {
    const real = connectLibvirt(uri);
    state.handles.push(real);
    const guard =
      <A extends unknown[], R>(fn: (...args: A) => Promise<R>) =>
      async (...args: A): Promise<R> => {
        if (state.broken) throw new Error('Cannot recv data: Connection reset by peer');
        return fn(...args);
      };
    return {
      connectOpen: async () => {
        state.opens++;
        if (state.broken) throw new Error('Cannot recv data: Connection reset by peer');
        await real.connectOpen();
      },
      connectClose: () => real.connectClose(),
      connectGetHostname: guard(() => real.connectGetHostname()),
      nodeGetInfo: guard(() => real.nodeGetInfo()),
      connectListAllDomains: guard(() => real.connectListAllDomains()),
      domainLookupByUUIDString: guard((uuid) => real.domainLookupByUUIDString(uuid)),
      domainGetInfo: guard((d) => real.domainGetInfo(d)),
      domainGetName: guard((d) => real.domainGetName(d)),
      domainGetUUIDString: guard((d) => real.domainGetUUIDString(d)),
      domainGetXMLDesc: guard((d, flags?: number) => real.domainGetXMLDesc(d, flags)),
      domainCreate: guard((d) => real.domainCreate(d)),
      domainShutdown: guard(async (d) => {
        if (!state.ignoreShutdown) await real.domainShutdown(d);
      }),
      domainDestroy: guard((d) => real.domainDestroy(d)),
      domainSuspend: guard((d) => real.domainSuspend(d)),
      domainResume: guard((d) => real.domainResume(d)),
      domainSave: guard((d, path: string) => real.domainSave(d, path)),
      domainRestore: guard((path: string) => real.domainRestore(path)),
      domainDefineXML: guard((xml) => real.domainDefineXML(xml)),
      domainUndefine: guard((d) => real.domainUndefine(d)),
    };
  };
}

function newFlakyState(): FlakyState {
  return { broken: false, ignoreShutdown: false, opens: 0, handles: [] };
}

/** Polls `condition` every few ms until it holds or `timeoutMs` passes (then throws with `what`). */
async function waitFor(condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const open: HypervisorConnection[] = [];

async function openSandbox(extra: Partial<HypervisorConnectionOptions> = {}): Promise<HypervisorConnection> {
  const conn = new HypervisorConnection({
    id: 'sandbox',
    uri: sandboxUri(),
    clock: systemClock,
    // Long interval: tests drive polls with pollNow() unless they test the timer itself.
    pollIntervalMs: 60_000,
    ...extra,
  });
  open.push(conn);
  await conn.open();
  return conn;
}

function record(conn: HypervisorConnection): { states: StateChangeEvent[]; actions: ActionEvent[]; statuses: StatusEvent[] } {
  const out = { states: [] as StateChangeEvent[], actions: [] as ActionEvent[], statuses: [] as StatusEvent[] };
  conn.on('state', (e) => out.states.push(e));
  conn.on('action', (e) => out.actions.push(e));
  conn.on('status', (e) => out.statuses.push(e));
  return out;
}

function uuidOf(conn: HypervisorConnection, name: string): string {
  const d = conn.snapshot().domains.find((x) => x.name === name);
  if (!d) throw new Error(`no domain ${name}`);
  return d.uuid;
}

async function expectCode(promise: Promise<unknown>, code: string, message?: RegExp): Promise<HypervisorError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(HypervisorError);
  const he = err as HypervisorError;
  expect(he.code).toBe(code);
  if (message) expect(he.message).toMatch(message);
  return he;
}

afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.close()));
});

describe('HypervisorConnection on the sandbox host', () => {
  it('lists the sandbox domains with states, vCPUs and memory', async () => {
    expect(sandboxHostPath()).toMatch(/\/electron\/core\/sandbox\/sandbox-host\.xml$/);
    expect(sandboxUri()).toBe(`test://${sandboxHostPath()}`);
    const conn = await openSandbox();
    const host = conn.snapshot();
    expect(host.status).toBe('connected');
    expect(host.cpus).toBe(16);
    expect(host.memoryKiB).toBe(32 * 1024 * 1024);
    expect(typeof host.hostname).toBe('string');
    expect(host.polledAtMs).toBeGreaterThan(0);
    const byName = Object.fromEntries(host.domains.map((d) => [d.name, d]));
    expect(Object.keys(byName).sort()).toEqual(['build-runner', 'cms-template', 'db-primary', 'web-frontend']);
    expect(byName['cms-template']).toMatchObject({ state: 'shutoff', vcpus: 1, memoryKiB: 256 * 1024, hostId: 'sandbox' });
    expect(byName['web-frontend']).toMatchObject({ state: 'running', vcpus: 2, memoryKiB: 1024 * 1024 });
    expect(byName['db-primary']).toMatchObject({ state: 'running', vcpus: 4, memoryKiB: 4096 * 1024 });
    expect(byName['build-runner']).toMatchObject({ state: 'running', vcpus: 3, memoryKiB: 1536 * 1024, maxMemoryKiB: 2048 * 1024 });
    // First sample: no CPU % yet. The test driver's cpuTime grows one second per wall second whatever
    // the vCPU count, so after a second poll a running domain reads 100 / vCPUs %.
    expect(byName['web-frontend']?.cpuPercent).toBeNull();
    // 300 ms keeps the timing noise of two libvirt calls small against the interval.
    await new Promise((r) => setTimeout(r, 300));
    const second = await conn.pollNow();
    const web = second.domains.find((d) => d.name === 'web-frontend');
    expect(web?.cpuPercent).not.toBeNull();
    expect(web?.cpuPercent as number).toBeGreaterThan(40);
    expect(web?.cpuPercent as number).toBeLessThan(60);
    const db = second.domains.find((d) => d.name === 'db-primary');
    expect(db?.cpuPercent as number).toBeGreaterThan(20);
    expect(db?.cpuPercent as number).toBeLessThan(30);
    expect(second.domains.find((d) => d.name === 'cms-template')?.cpuPercent).toBeNull();
  });

  it('prepareSandboxHost leaves the template shut off and the others running', async () => {
    const conn = await openSandbox();
    const template = await prepareSandboxHost(conn);
    expect(template).toMatchObject({ name: 'cms-template', state: 'shutoff' });
    // Even after someone started it, prepare forces it off again.
    await conn.domainStart(template.uuid);
    expect((await prepareSandboxHost(conn)).state).toBe('shutoff');
    const states = conn.snapshot().domains.map((d) => [d.name, d.state]);
    expect(states).toEqual([
      ['build-runner', 'running'],
      ['cms-template', 'shutoff'],
      ['db-primary', 'running'],
      ['web-frontend', 'running'],
    ]);
  });

  it('defines a domain whose <metadata> comes back in its XML, then undefines it', async () => {
    const conn = await openSandbox();
    const ev = record(conn);
    const xml = `<domain type='test'>
      <name>cms-web-1</name>
      <memory unit='MiB'>256</memory>
      <vcpu>2</vcpu>
      <os><type>hvm</type></os>
      <metadata><cms:member xmlns:cms="urn:cms:pool:1" pool="web" template="cms-template"/></metadata>
    </domain>`;
    const uuid = await conn.domainDefine(xml);
    expect(uuid).toMatch(/^[0-9a-f-]{36}$/);
    expect(ev.actions).toEqual([{ uuid, name: 'cms-web-1', action: 'define' }]);
    expect(await conn.domainLookup(uuid)).toMatchObject({ name: 'cms-web-1', state: 'shutoff', vcpus: 2, cpuPercent: null });
    expect(conn.snapshot().domains.map((d) => d.name)).toContain('cms-web-1');
    for (const inactive of [false, true]) {
      const back = await conn.domainXml(uuid, { inactive });
      expect(back).toContain('<cms:member xmlns:cms="urn:cms:pool:1" pool="web" template="cms-template"/>');
      expect(back).toContain(`<uuid>${uuid}</uuid>`);
    }
    // A second connection to the same file starts fresh: it never saw the define.
    const other = new HypervisorConnection({ id: 'other', uri: sandboxUri(), clock: systemClock, pollIntervalMs: 60_000 });
    open.push(other);
    await other.open();
    expect(await other.domainLookup(uuid)).toBeNull();

    await conn.domainUndefine(uuid);
    expect(ev.actions.at(-1)).toEqual({ uuid, name: 'cms-web-1', action: 'undefine' });
    expect(await conn.domainLookup(uuid)).toBeNull();
    expect(conn.snapshot().domains.map((d) => d.name)).not.toContain('cms-web-1');
    await expectCode(conn.domainXml(uuid), 'not_found');
  });

  it('runs start, suspend, resume, shutdown, force off with action and state events in order', async () => {
    const conn = await openSandbox();
    const ev = record(conn);
    const uuid = uuidOf(conn, 'cms-template');
    const name = 'cms-template';

    await conn.domainStart(uuid);
    await conn.domainSuspend(uuid);
    expect(conn.snapshot().domains.find((d) => d.uuid === uuid)?.state).toBe('paused');
    await conn.domainResume(uuid);
    await conn.domainShutdown(uuid);
    await conn.domainStart(uuid);
    await conn.domainForceOff(uuid);

    expect(ev.actions.map((a) => a.action)).toEqual(['start', 'suspend', 'resume', 'shutdown', 'start', 'forceoff']);
    expect(ev.actions.every((a) => a.uuid === uuid && a.name === name)).toBe(true);
    expect(ev.states.map((s) => `${s.from}>${s.to}`)).toEqual([
      'shutoff>running',
      'running>paused',
      'paused>running',
      'running>shutoff',
      'shutoff>running',
      'running>shutoff',
    ]);
    // A poll afterwards sees the same state: no spurious change events.
    await conn.pollNow();
    expect(ev.states).toHaveLength(6);
    expect((await conn.domainLookup(uuid))?.state).toBe('shutoff');
  });

  it('saves a running domain to a file and restores it from there, with action and state events', async () => {
    const conn = await openSandbox();
    const ev = record(conn);
    const uuid = uuidOf(conn, 'cms-template');
    const dir = await mkdtemp(join(tmpdir(), 'cms-save-'));
    try {
      const image = join(dir, 'cms-template.save');
      await conn.domainStart(uuid);
      await conn.domainSave(uuid, image);
      expect(conn.snapshot().domains.find((d) => d.uuid === uuid)?.state).toBe('shutoff');
      expect((await stat(image)).size).toBeGreaterThan(0);
      await conn.domainRestore(uuid, image);
      expect(conn.snapshot().domains.find((d) => d.uuid === uuid)?.state).toBe('running');
      expect(ev.actions.map((a) => a.action)).toEqual(['start', 'save', 'restore']);
      expect(ev.states.map((s) => `${s.from}>${s.to}`)).toEqual(['shutoff>running', 'running>shutoff', 'shutoff>running']);
      await conn.domainForceOff(uuid);
      // A missing image is an error that names the action and the domain, not a crash.
      const failure = await conn.domainRestore(uuid, join(dir, 'missing.save')).catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(HypervisorError);
      expect((failure as HypervisorError).message).toMatch(/restore.*cms-template|cms-template.*restore/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('reports state changes made behind its back on the next poll', async () => {
    const flaky = newFlakyState();
    const conn = await openSandbox({ connector: flakyConnector(flaky) });
    const ev = record(conn);
    const real = flaky.handles.at(-1) as LibvirtLike;
    await real.domainSuspend(await real.domainLookupByUUIDString(uuidOf(conn, 'db-primary')));
    expect(ev.states).toEqual([]);
    await conn.pollNow();
    expect(ev.states).toEqual([{ uuid: uuidOf(conn, 'db-primary'), name: 'db-primary', from: 'running', to: 'paused' }]);
    expect(ev.actions).toEqual([]);
  });

  it('reboots: shutdown, wait for shutoff, start', async () => {
    const conn = await openSandbox();
    const ev = record(conn);
    const uuid = uuidOf(conn, 'web-frontend');
    await conn.domainReboot(uuid, { timeoutMs: 2000 });
    expect(ev.states.map((s) => `${s.from}>${s.to}`)).toEqual(['running>shutoff', 'shutoff>running']);
    expect(ev.actions).toEqual([{ uuid, name: 'web-frontend', action: 'reboot' }]);
    expect((await conn.domainLookup(uuid))?.state).toBe('running');
  });

  it('reboot forces the domain off when the guest ignores the shutdown request', async () => {
    const flaky = newFlakyState();
    flaky.ignoreShutdown = true;
    const logs: { level: LogLevel; event: string }[] = [];
    const log: LogFn = (level, event) => logs.push({ level, event });
    const conn = await openSandbox({ connector: flakyConnector(flaky), shutdownCheckIntervalMs: 10, log });
    const ev = record(conn);
    const uuid = uuidOf(conn, 'web-frontend');
    const startedMs = Date.now();
    await conn.domainReboot(uuid, { timeoutMs: 150 });
    expect(Date.now() - startedMs).toBeGreaterThanOrEqual(140);
    expect(logs).toContainEqual({ level: 'warn', event: 'domain_reboot_forced' });
    expect(ev.states.map((s) => `${s.from}>${s.to}`)).toEqual(['running>shutoff', 'shutoff>running']);
    expect((await conn.domainLookup(uuid))?.state).toBe('running');
  });

  it('turns failures into HypervisorError with stable codes and the domain name', async () => {
    const conn = await openSandbox();
    const ev = record(conn);
    const web = uuidOf(conn, 'web-frontend');
    const template = uuidOf(conn, 'cms-template');
    const err = await expectCode(conn.domainStart(web), 'invalid_state', /^start of web-frontend failed: .*already running/);
    expect(err.libvirtMessage).toMatch(/already running/);
    await expectCode(conn.domainResume(web), 'invalid_state', /^resume of web-frontend failed: .*not paused/);
    await expectCode(conn.domainShutdown(template), 'invalid_state', /^shutdown of cms-template failed: .*not running/);
    await expectCode(conn.domainSuspend(template), 'invalid_state', /^suspend of cms-template failed/);
    await expectCode(conn.domainReboot(template), 'invalid_state', /^reboot of cms-template failed/);
    const missing = '00000000-0000-4000-8000-000000000000';
    await expectCode(conn.domainStart(missing), 'not_found', new RegExp(`^start of ${missing} failed: .*not found`, 'i'));
    await expectCode(conn.domainForceOff('not-a-uuid'), 'not_found');
    expect(await conn.domainLookup(missing)).toBeNull();
    await expectCode(conn.domainDefine('<domain type="test"><name>broken'), 'libvirt', /^define of /);
    // Nothing succeeded, so nothing was announced.
    expect(ev.actions).toEqual([]);
    expect(ev.states).toEqual([]);
    await conn.close();
    await expectCode(conn.domainStart(template), 'not_connected', /^start of cms-template failed: host .* is closed/);
    // The last snapshot stays readable after close.
    expect(conn.snapshot()).toMatchObject({ status: 'closed' });
    expect(conn.snapshot().domains).toHaveLength(4);
  });

  it('rejects open() for a host file that does not exist', async () => {
    const conn = new HypervisorConnection({ id: 'bad', uri: 'test:///nonexistent/cms-host.xml', clock: systemClock });
    const ev = record(conn);
    await expectCode(conn.open(), 'not_connected', /nonexistent\/cms-host\.xml/);
    expect(conn.snapshot().status).toBe('closed');
    expect(conn.snapshot().lastError).toMatch(/failed to parse/);
    expect(ev.statuses.map((s) => s.status)).toEqual(['connecting', 'closed']);
  });
});

describe('HypervisorConnection timers', () => {
  it('re-arms the poll timer only after each round finishes', async () => {
    const clock = new ManualClock();
    const conn = new HypervisorConnection({ id: 'timer', uri: sandboxUri(), clock, pollIntervalMs: 1000 });
    open.push(conn);
    await conn.open();
    expect(clock.pendingTimers()).toBe(1);
    let polls = 0;
    conn.on('poll', () => polls++);
    clock.advance(999);
    expect(polls).toBe(0);
    clock.advance(1);
    // The round is in flight: no timer armed behind it.
    expect(clock.pendingTimers()).toBe(0);
    await waitFor(() => polls === 1 && clock.pendingTimers() === 1, 'first timed poll and re-arm');
    clock.advance(1000);
    await waitFor(() => polls === 2 && clock.pendingTimers() === 1, 'second timed poll and re-arm');
    await conn.close();
    expect(clock.pendingTimers()).toBe(0);
  });

  it('keeps the last snapshot while reconnecting with capped exponential backoff, then recovers', async () => {
    const clock = new ManualClock();
    const flaky = newFlakyState();
    const logs: { level: LogLevel; event: string }[] = [];
    const conn = new HypervisorConnection({
      id: 'flaky',
      uri: sandboxUri(),
      clock,
      pollIntervalMs: 1000,
      reconnectInitialMs: 250,
      reconnectMaxMs: 1000,
      connector: flakyConnector(flaky),
      log: (level, event) => logs.push({ level, event }),
    });
    open.push(conn);
    const ev = record(conn);
    await conn.open();
    expect(flaky.opens).toBe(1);
    const before = conn.snapshot();

    flaky.broken = true;
    await expectCode(conn.pollNow(), 'not_connected', /Connection reset by peer/);
    expect(conn.snapshot().status).toBe('reconnecting');
    expect(conn.snapshot().lastError).toMatch(/Connection reset by peer/);
    expect(conn.snapshot().domains).toEqual(before.domains);
    expect(ev.statuses.at(-1)).toMatchObject({ status: 'reconnecting', error: expect.stringMatching(/reset/) });
    expect(logs).toContainEqual({ level: 'warn', event: 'hypervisor_poll_failed' });
    await expectCode(conn.domainStart(uuidOf(conn, 'cms-template')), 'not_connected');

    // Attempts at +250, then 500, 1000, 1000 (capped) after each failure.
    for (const delayMs of [250, 500, 1000, 1000]) {
      const opens = flaky.opens;
      clock.advance(delayMs - 1);
      expect(flaky.opens).toBe(opens);
      clock.advance(1);
      await waitFor(() => flaky.opens === opens + 1 && clock.pendingTimers() === 1, `attempt after ${delayMs} ms`);
      expect(conn.snapshot().status).toBe('reconnecting');
    }

    flaky.broken = false;
    let polled = false;
    conn.on('poll', () => (polled = true));
    clock.advance(1000);
    await waitFor(() => conn.snapshot().status === 'connected', 'reconnected');
    expect(polled).toBe(true);
    expect(conn.snapshot().lastError).toBeUndefined();
    expect(ev.statuses.map((s) => s.status)).toEqual(['connecting', 'connected', 'reconnecting', 'connected']);
    expect(logs).toContainEqual({ level: 'info', event: 'hypervisor_reconnected' });
    // Polling resumed on the timer, and actions work again.
    expect(clock.pendingTimers()).toBe(1);
    await conn.domainStart(uuidOf(conn, 'cms-template'));
  });

  it('a throwing listener does not break polling', async () => {
    const conn = await openSandbox();
    conn.on('poll', () => {
      throw new Error('listener bug');
    });
    await conn.pollNow();
    expect(conn.snapshot().status).toBe('connected');
  });
});

// The default connector is the real binding, not a stand-in.
it('connectLibvirt makes a real @unraid/libvirt handle', async () => {
  const h = connectLibvirt('test:///default');
  await h.connectOpen();
  expect((await h.connectListAllDomains()).length).toBe(1);
  await h.connectClose();
});
