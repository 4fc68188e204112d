// The guest dialing a manager: a plain TCP server (listenForGuests) plays the manager's agent
// port. The built guest must register (uuid, token, vcpus, port), serve requests on that
// connection, send load heartbeats, re-register after the connection drops or after a refused
// registration, find the manager through a kernel command line file, never idle-close the manager
// connection, and watch for a restore only once parked.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadMessageSchema, PROTOCOL_VERSION, registerMessageSchema, resultAnswerSchema, type LoadMessage } from '../../guest-server/src/protocol';
import { listenForGuests, NdjsonPeer, type DialInPort } from '../support/guest-client';
import { startGuest, type GuestProcess } from '../support/guest-process';
import { referenceCollide } from '../support/guest-reference';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function startManager(): Promise<DialInPort> {
  const manager = await listenForGuests();
  cleanups.push(() => manager.close());
  return manager;
}

async function guestFor(manager: DialInPort, extra: string[] = []): Promise<GuestProcess> {
  const guest = await startGuest([
    '--manager', `127.0.0.1:${manager.port}`, '--uuid', 'guest-uuid-1', '--token', 'pool-token', '--vcpus', '3', '--workers', '1',
    '--heartbeat-ms', '150', '--backoff-min-ms', '20', '--backoff-max-ms', '200', '--drain-timeout-ms', '300', ...extra,
  ]);
  // Whatever a test left in flight, SIGTERM must still end in a clean exit.
  cleanups.push(async () => expect(await guest.stop()).toEqual({ code: 0, signal: null }));
  return guest;
}

const isLoad = (m: Record<string, unknown>): boolean => m.t === 'load';

describe('guest dials the manager', () => {
  it('registers, serves requests on the same connection and sends load heartbeats', async () => {
    const manager = await startManager();
    const guest = await guestFor(manager, ['--hash-rate', '100000']);
    const conn = await manager.nextGuest();
    const register = registerMessageSchema.parse(await conn.next());
    expect(register).toMatchObject({ t: 'register', uuid: 'guest-uuid-1', token: 'pool-token', vcpus: 3, version: PROTOCOL_VERSION, port: guest.port });
    expect(register.hostname.length).toBeGreaterThan(0);

    // Nothing is served before `registered`; then requests flow on this connection.
    conn.send({ t: 'registered' });
    expect(await conn.request({ t: 'hello', id: 'h' })).toMatchObject({ t: 'hello', uuid: 'guest-uuid-1', vcpus: 3, workers: 1 });
    expect(await conn.request({ t: 'ping', id: 'p' })).toEqual({ t: 'pong', id: 'p' });
    const result = resultAnswerSchema.parse(await conn.request({ t: 'collide', id: 1, word: 'word2', digits: 3 }));
    expect(result.match).toBe(referenceCollide('word2', 3).match);

    // An idle beat reports no busy time; a beat during a long search reports the worker busy
    // and the hash rate near the --hash-rate cap.
    conn.drop(isLoad);
    const idleBeat = loadMessageSchema.parse(await conn.next(isLoad));
    expect(idleBeat).toMatchObject({ inflight: 0, completed: 1 });
    conn.send({ t: 'collide', id: 'long', word: 'a', digits: 8 });
    conn.drop(isLoad);
    await conn.next(isLoad); // the beat whose interval the job started in
    const busyBeat: LoadMessage = loadMessageSchema.parse(await conn.next(isLoad));
    expect(busyBeat.inflight).toBe(1);
    expect(busyBeat.busy).toBeGreaterThan(0.9);
    expect(busyBeat.hashRate).toBeGreaterThan(70_000);
    expect(busyBeat.hashRate).toBeLessThan(130_000);
  });

  it('registers again after the manager drops the connection, and drops that connection\'s work', async () => {
    const manager = await startManager();
    await guestFor(manager, ['--hash-rate', '1000']);
    const first = await manager.nextGuest();
    expect(await first.next()).toMatchObject({ t: 'register' });
    first.send({ t: 'registered' });
    first.send({ t: 'collide', id: 'abandoned', word: 'a', digits: 8 });
    await first.next(isLoad);
    await first.close();

    const second = await manager.nextGuest();
    expect(registerMessageSchema.parse(await second.next())).toMatchObject({ uuid: 'guest-uuid-1', token: 'pool-token' });
    second.send({ t: 'registered' });
    // The abandoned search was cancelled: the only worker is free for new work at once.
    expect(await second.request({ t: 'collide', id: 2, word: 'word4', digits: 1 }, 5000)).toMatchObject({ t: 'result', id: 2 });
    second.drop(isLoad);
    expect(loadMessageSchema.parse(await second.next(isLoad)).inflight).toBe(0);
  });

  it('once parked, redials at once when the RTC runs ahead of its clock (restored from a saved image); not before, not after', async () => {
    const manager = await startManager();
    const dir = mkdtempSync(join(tmpdir(), 'cms-rtc-'));
    cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
    const rtc = join(dir, 'since_epoch');
    const nowS = (): number => Math.floor(Date.now() / 1000);
    writeFileSync(rtc, `${nowS()}\n`);
    // Heartbeats far apart: only the RTC watch can make it notice.
    await guestFor(manager, ['--rtc-file', rtc, '--heartbeat-ms', '60000']);
    const first = await manager.nextGuest();
    expect(await first.next()).toMatchObject({ t: 'register' });
    first.send({ t: 'registered' });
    // A running guest does not watch: a jump before `park` goes unnoticed.
    writeFileSync(rtc, `${nowS() + 120}\n`);
    await expect(manager.nextGuest(1000)).rejects.toThrow(/no guest connection/);
    writeFileSync(rtc, `${nowS()}\n`);

    expect(await first.request({ t: 'park', id: 'p1' })).toEqual({ t: 'parked', id: 'p1' });
    first.send({ t: 'park', id: -1 });
    expect(await first.next((message) => message.t === 'error')).toMatchObject({ t: 'error', id: null, code: 'bad_field' });
    // The RTC keeping time with its clock is no restore.
    const ticking = setInterval(() => writeFileSync(rtc, `${nowS()}\n`), 100);
    await expect(manager.nextGuest(1000)).rejects.toThrow(/no guest connection/);
    clearInterval(ticking);

    const jumpedAt = Date.now();
    writeFileSync(rtc, `${nowS() + 120}\n`);
    const second = await manager.nextGuest(3000);
    expect(Date.now() - jumpedAt).toBeLessThan(1000);
    expect(registerMessageSchema.parse(await second.next())).toMatchObject({ uuid: 'guest-uuid-1', token: 'pool-token' });
    second.send({ t: 'registered' });
    expect(await second.request({ t: 'ping', id: 1 })).toEqual({ t: 'pong', id: 1 });
    // Registered again: the watch is over until the next park.
    writeFileSync(rtc, `${nowS() + 600}\n`);
    await expect(manager.nextGuest(1000)).rejects.toThrow(/no guest connection/);
  });

  it('retries after the manager refuses the registration with an error', async () => {
    const manager = await startManager();
    await guestFor(manager);
    const refused = await manager.nextGuest();
    expect(await refused.next()).toMatchObject({ t: 'register' });
    refused.send({ t: 'error', id: null, code: 'unauthorized', message: 'unknown uuid' });
    await refused.closed; // the guest hangs up itself

    const retry = await manager.nextGuest();
    expect(await retry.next()).toMatchObject({ t: 'register', uuid: 'guest-uuid-1' });
    retry.send({ t: 'registered' });
    expect(await retry.request({ t: 'ping', id: 1 })).toEqual({ t: 'pong', id: 1 });
  });

  it('never idle-closes the manager connection, unlike client connections', async () => {
    const manager = await startManager();
    const guest = await guestFor(manager, ['--idle-timeout-ms', '200']);
    const conn = await manager.nextGuest();
    await conn.next();
    conn.send({ t: 'registered' });
    const client = await NdjsonPeer.connect(guest.port);
    await client.closed; // closed after 200 ms of silence
    // The manager said nothing for five heartbeats (750 ms), yet its connection stays up.
    for (let beat = 0; beat < 5; beat++) await conn.next(isLoad);
    expect(conn.isOpen).toBe(true);
    expect(await conn.request({ t: 'ping', id: 'alive' })).toEqual({ t: 'pong', id: 'alive' });
  });

  it('finds the manager, token and UUID through kernel command line and product_uuid files', async () => {
    const manager = await startManager();
    const dir = mkdtempSync(join(tmpdir(), 'guest-discover-'));
    cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(join(dir, 'cmdline'), `BOOT_IMAGE=/vmlinuz ro quiet cms.manager=127.0.0.1:${manager.port} cms.token=from-cmdline\n`);
    writeFileSync(join(dir, 'product_uuid'), '0E9A7C52-1D3B-4F6A-9C1E-5B7D2A4E8F10\n');
    // A gateway that must NOT be used: the command line wins.
    writeFileSync(join(dir, 'route'), 'Iface\tDestination\tGateway\tFlags\tRefCnt\tUse\tMetric\tMask\neth0\t00000000\t0100007F\t0003\t0\t0\t0\t00000000\n');
    const guest = await startGuest(
      ['--cmdline-file', join(dir, 'cmdline'), '--product-uuid-file', join(dir, 'product_uuid'), '--route-file', join(dir, 'route'),
        '--dmi-entries-dir', join(dir, 'none'), '--fw-cfg-dir', join(dir, 'none'), '--workers', '1', '--vcpus', '1'],
      { allowDiscovery: true },
    );
    cleanups.push(() => guest.stop());
    const conn = await manager.nextGuest();
    expect(registerMessageSchema.parse(await conn.next())).toMatchObject({
      uuid: '0e9a7c52-1d3b-4f6a-9c1e-5b7d2a4e8f10',
      token: 'from-cmdline',
      vcpus: 1,
    });
  });

  it('on SIGTERM delivers the manager\'s in-flight result, then hangs up and exits 0', async () => {
    const manager = await startManager();
    const guest = await guestFor(manager, ['--hash-rate', '100000', '--drain-timeout-ms', '10000']);
    const conn = await manager.nextGuest();
    await conn.next();
    conn.send({ t: 'registered' });
    // rate54 needs 98 929 attempts at 5 hex digits: about one second at 100 000 hashes/s.
    const answer = conn.next((m) => m.id === 'drain');
    conn.send({ t: 'collide', id: 'drain', word: 'rate54', digits: 5 });
    await conn.request({ t: 'ping', id: 'seen' });
    guest.child.kill('SIGTERM');
    expect(resultAnswerSchema.parse(await answer)).toMatchObject({ attempts: 98_929 });
    await conn.closed;
    expect(await guest.exited).toEqual({ code: 0, signal: null });
  });
});
