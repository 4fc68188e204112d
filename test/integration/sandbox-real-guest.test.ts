// SandboxGuestRuntime with the REAL bundled guest server (guest-server/dist/guest-server.js): the
// command line it builds must make a guest that dials a manager and registers with the domain's
// UUID, token and vCPUs; signals then freeze, continue and kill it. Skipped if the bundle is missing.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterEach, expect, it } from 'vitest';
import { registerMessageSchema, type RegisterMessage } from '../../guest-server/src/protocol';
import { systemClock } from '../../electron/core/clock';
import { HypervisorConnection } from '../../electron/core/hypervisor';
import { prepareSandboxHost, SandboxGuestRuntime, sandboxUri, type GuestExitedEvent } from '../../electron/core/sandbox';
import { procState } from '../support/proc';
import { waitUntil } from '../support/test-guest';

const guestScript = fileURLToPath(new URL('../../guest-server/dist/guest-server.js', import.meta.url));
const guestWorks =
  existsSync(guestScript) && spawnSync(process.execPath, [guestScript, '--help'], { timeout: 5000 }).status === 0;

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Argument order of this file's calls; the polling lives in waitUntil. */
const waitFor = (condition: () => boolean, what: string, timeoutMs = 8000): Promise<void> => waitUntil(condition, timeoutMs, what);


/** A minimal manager agent port: accepts `register`, answers `registered`, keeps the line open. */
async function startManager(): Promise<{ server: Server; port: number; registrations: RegisterMessage[]; sockets: Socket[] }> {
  const registrations: RegisterMessage[] = [];
  const sockets: Socket[] = [];
  const server = createServer((socket) => {
    sockets.push(socket);
    socket.on('error', () => undefined);
    let buffered = '';
    let registered = false;
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      buffered += chunk;
      let newline = buffered.indexOf('\n');
      while (newline >= 0 && !registered) {
        const line = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        registrations.push(registerMessageSchema.parse(JSON.parse(line)));
        registered = true;
        socket.write('{"t":"registered"}\n');
        newline = buffered.indexOf('\n');
      }
      if (registered) buffered = '';
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return { server, port: address.port, registrations, sockets };
}

it.skipIf(!guestWorks)('a real guest registers with its domain UUID and token, and obeys the signals', async () => {
  const manager = await startManager();
  cleanups.push(async () => {
    for (const s of manager.sockets) s.destroy();
    await new Promise<void>((resolve) => manager.server.close(() => resolve()));
  });
  const conn = new HypervisorConnection({ id: 'sandbox', uri: sandboxUri(), clock: systemClock, pollIntervalMs: 60_000 });
  await conn.open();
  cleanups.push(() => conn.close());
  await prepareSandboxHost(conn);
  const runtime = new SandboxGuestRuntime({
    connection: conn,
    guestScript,
    bootDelayMs: 50,
    hashRatePerVcpu: 1000,
    manager: () => ({ host: '127.0.0.1', port: manager.port }),
    token: 'sandbox-token',
    clock: systemClock,
    stopTimeoutMs: 3000,
  });
  cleanups.push(() => runtime.dispose());
  const exited: GuestExitedEvent[] = [];
  runtime.on('exited', (e) => exited.push(e));

  // Clone-like domain with 2 vCPUs, so --vcpus/--workers are visible in the registration.
  const uuid = await conn.domainDefine(
    `<domain type='test'><name>cms-web-1</name><memory unit='MiB'>256</memory><vcpu>2</vcpu><os><type>hvm</type></os></domain>`,
  );
  runtime.manage({ uuid, name: 'cms-web-1', vcpus: 2 });
  await conn.domainStart(uuid);
  await waitFor(() => manager.registrations.length === 1, 'registration');
  expect(manager.registrations[0]).toMatchObject({ t: 'register', uuid, token: 'sandbox-token', vcpus: 2 });
  const pid = runtime.guestPid(uuid) as number;
  expect(pid).toBeGreaterThan(0);

  await conn.domainSuspend(uuid);
  await waitFor(() => procState(pid) === 'T', 'guest stopped');
  await conn.domainResume(uuid);
  await waitFor(() => procState(pid) === 'S' || procState(pid) === 'R', 'guest continued');

  await conn.domainForceOff(uuid);
  await waitFor(() => exited.length === 1, 'guest killed');
  expect(exited[0]).toEqual({ uuid, code: null, signal: 'SIGKILL', expected: true });
  expect(procState(pid) === undefined || procState(pid) === 'Z').toBe(true);

  // Start again, then stopAll: nothing left running.
  await conn.domainStart(uuid);
  await waitFor(() => manager.registrations.length === 2, 'second registration');
  const second = runtime.guestPid(uuid) as number;
  await runtime.stopAll();
  expect(runtime.guests()).toEqual([]);
  expect(procState(second) === undefined || procState(second) === 'Z').toBe(true);
});
