// The agent port over real loopback TCP with the system clock: registration and refusal,
// pipelined requests matched by id, ejection on close, heartbeat loss, errors and protocol abuse.
import { afterEach, describe, expect, it } from 'vitest';
import { once } from 'node:events';
import { systemClock } from '../../electron/core/clock';
import { AgentServer, type AgentServerOptions, type AgentEjectedEvent, type AgentRejectedEvent } from '../../electron/core/agents/agent-server';
import { AgentRequestError } from '../../electron/core/agents/errors';
import type { Agent } from '../../electron/core/agents/agent';
import { memoryLogger } from '../../electron/core/metrics/log';
import { collideSearch, startTestGuest, waitUntil, TestGuestRefusedError, type TestGuest, type TestGuestOptions } from '../support/test-guest';

const TOKEN = 'pool-secret';
const UUID_A = '11111111-1111-4111-8111-111111111111';
const UUID_B = '22222222-2222-4222-8222-222222222222';

let server: AgentServer | null = null;
const guests: TestGuest[] = [];

async function startServer(options: Partial<AgentServerOptions> = {}): Promise<{ server: AgentServer; port: number }> {
  const known = new Set([UUID_A, UUID_B]);
  const s = new AgentServer({ clock: systemClock, token: TOKEN, isKnownMember: (uuid) => known.has(uuid), ...options });
  server = s;
  const { port } = await s.listen();
  return { server: s, port };
}

async function guest(port: number, options: Partial<TestGuestOptions> = {}): Promise<TestGuest> {
  const g = await startTestGuest({ port, uuid: UUID_A, token: TOKEN, heartbeatMs: 200, ...options });
  guests.push(g);
  return g;
}

async function registeredGuest(s: AgentServer, port: number, options: Partial<TestGuestOptions> = {}): Promise<{ guest: TestGuest; agent: Agent }> {
  const registered = once(s, 'registered') as Promise<[Agent]>;
  const g = await guest(port, options);
  await g.registered;
  const [agent] = await registered;
  return { guest: g, agent };
}

function rejectionOf(promise: Promise<unknown>): Promise<AgentRequestError> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (error: unknown) => {
      expect(error).toBeInstanceOf(AgentRequestError);
      return error as AgentRequestError;
    },
  );
}

afterEach(async () => {
  for (const g of guests.splice(0)) g.drop();
  await server?.close();
  server = null;
});

describe('AgentServer registration', () => {
  it('accepts a known uuid with the token and reports the agent', async () => {
    const { server: s, port } = await startServer();
    const { guest: g, agent } = await registeredGuest(s, port, { vcpus: 4, hostname: 'vm-a' });
    expect(agent.uuid).toBe(UUID_A);
    expect(agent.id).toBe(UUID_A);
    expect(agent.hostname).toBe('vm-a');
    expect(agent.vcpus).toBe(4);
    expect(agent.healthy).toBe(true);
    expect(agent.address).toBe(`127.0.0.1:${g.localPort}`);
    expect(s.agents().map((a) => a.uuid)).toEqual([UUID_A]);
    expect(s.agent(UUID_A)).toBe(agent);
    expect(g.received[0]).toEqual({ t: 'registered' });
    await waitUntil(() => agent.lastLoad !== null, 2000, 'first heartbeat');
    expect(agent.lastLoad?.t).toBe('load');
  });

  it.each<[string, Partial<TestGuestOptions>, RegExp]>([
    ['a wrong token', { token: 'wrong' }, /token/],
    ['an unknown uuid', { uuid: '99999999-9999-4999-8999-999999999999' }, /unknown uuid/],
  ])('refuses %s with unauthorized and closes', async (_name, options, messagePattern) => {
    const { server: s, port } = await startServer();
    const rejected = once(s, 'rejected') as Promise<[AgentRejectedEvent]>;
    const g = await guest(port, options);
    const error = await g.registered.then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(TestGuestRefusedError);
    expect((error as TestGuestRefusedError).code).toBe('unauthorized');
    expect((error as TestGuestRefusedError).message).toMatch(messagePattern);
    await g.closed;
    const [event] = await rejected;
    expect(event.code).toBe('unauthorized');
    expect(event.uuid).toBe(options.uuid ?? UUID_A);
    expect(s.agents()).toEqual([]);
  });

  it('refuses a first line that is not a register, and garbage', async () => {
    const { server: s, port } = await startServer();
    const codes: string[] = [];
    s.on('rejected', (event) => codes.push(event.code));
    const g1 = await guest(port, { autoRegister: false });
    g1.send({ t: 'load', busy: 0, inflight: 0, completed: 0 });
    await g1.closed;
    const g2 = await guest(port, { autoRegister: false });
    g2.sendRaw('{not json');
    await g2.closed;
    const g3 = await guest(port, { autoRegister: false });
    g3.register({ vcpus: -1 });
    await g3.closed;
    await waitUntil(() => codes.length === 3);
    expect(codes).toEqual(['unknown_type', 'bad_json', 'bad_field']);
  });

  it('closes a connection that does not register in time', async () => {
    const { server: s, port } = await startServer({ registerTimeoutMs: 100 });
    const rejected = once(s, 'rejected') as Promise<[AgentRejectedEvent]>;
    const g = await guest(port, { autoRegister: false });
    await g.closed;
    const [event] = await rejected;
    expect(event.code).toBe('register_timeout');
  });

  it('a second register for the same uuid replaces the first connection', async () => {
    const { server: s, port } = await startServer();
    const first = await registeredGuest(s, port);
    const ejected = once(s, 'ejected') as Promise<[AgentEjectedEvent]>;
    const second = await registeredGuest(s, port);
    const [event] = await ejected;
    expect(event.reason).toBe('replaced');
    expect(event.agent).toBe(first.agent);
    await first.guest.closed;
    expect(s.agent(UUID_A)).toBe(second.agent);
    expect(second.agent.healthy).toBe(true);
    expect(first.agent.healthy).toBe(false);
  });

  it('holds at most maxConnections connections', async () => {
    const { server: s, port } = await startServer({ maxConnections: 1 });
    await registeredGuest(s, port);
    const rejected = once(s, 'rejected') as Promise<[AgentRejectedEvent]>;
    const extra = await guest(port, { uuid: UUID_B });
    await extra.closed;
    expect((await rejected)[0].code).toBe('too_many_connections');
  });
});

describe('Agent requests', () => {
  it('matches pipelined collides by id, even answered out of order', async () => {
    const { server: s, port } = await startServer();
    const { guest: g, agent } = await registeredGuest(s, port, { knobs: { stall: true } });
    const words = Array.from({ length: 40 }, (_, i) => `word${i}`);
    const pending = words.map((word) => agent.collide(word, 2, 5000));
    await waitUntil(() => g.heldCount() === words.length);
    expect(agent.outstanding).toBe(words.length);
    const ids = g.received.flatMap((m) => (m.t === 'collide' ? [m.id] : []));
    expect(new Set(ids).size).toBe(words.length);
    g.releaseStalled('reverse');
    const results = await Promise.all(pending);
    results.forEach((result, i) => expect(result.match).toBe(collideSearch(words[i] ?? '', 2).match));
    expect(agent.outstanding).toBe(0);
    expect(agent.completed).toBe(words.length);
  });

  it('answers ping and hello', async () => {
    const { server: s, port } = await startServer();
    const { agent } = await registeredGuest(s, port, { vcpus: 2 });
    const rttMs = await agent.ping(1000);
    expect(rttMs).toBeGreaterThanOrEqual(0);
    const hello = await agent.hello(1000);
    expect(hello).toMatchObject({ t: 'hello', uuid: UUID_A, vcpus: 2 });
  });

  it('parks a guest that knows park; an older guest refuses it as a guest error, not counted as a failure', async () => {
    const { server: s, port } = await startServer();
    const { guest: g, agent } = await registeredGuest(s, port);
    await agent.park(1000);
    expect(g.received).toContainEqual({ t: 'park', id: expect.anything() });
    g.knobs.parkUnknown = true;
    const error = await rejectionOf(agent.park(1000));
    expect(error.code).toBe('guest_error');
    expect(error.guestCode).toBe('unknown_type');
    expect(agent.healthy).toBe(true);
    expect(agent.outstanding).toBe(0);
  });

  it('a closed connection ejects at once and rejects pending requests with closed', async () => {
    const { server: s, port } = await startServer();
    const { guest: g, agent } = await registeredGuest(s, port, { knobs: { stall: true } });
    const pending = [agent.collide('a', 1, 5000), agent.collide('b', 1, 5000)];
    await waitUntil(() => g.heldCount() === 2);
    const ejected = once(s, 'ejected') as Promise<[AgentEjectedEvent]>;
    const droppedAtMs = performance.now();
    g.drop();
    const [event] = await ejected;
    expect(performance.now() - droppedAtMs).toBeLessThan(500);
    expect(event.reason).toBe('closed');
    for (const p of pending) expect((await rejectionOf(p)).code).toBe('closed');
    expect(agent.healthy).toBe(false);
    expect(agent.outstanding).toBe(0);
    expect(s.agents()).toEqual([]);
    expect((await rejectionOf(agent.collide('c', 1, 1000))).code).toBe('closed');
  });

  it('tells when the guest reports a ready worker thread; a guest that reports none counts at its first beat', async () => {
    const { server: s, port } = await startServer();
    const { guest: g, agent } = await registeredGuest(s, port, { heartbeatMs: 100 });
    const sendLoad = (ready: number): void => g.send({ t: 'load', busy: 0, inflight: 0, completed: 0, ready });
    g.set({ heartbeats: false });
    sendLoad(0);
    await waitUntil(() => agent.lastLoad?.ready === 0, 2000, 'a beat with no thread ready');
    let readyAt = 0;
    const ready = agent.whenThreadsReady(5000).then(() => (readyAt = performance.now()));
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(readyAt).toBe(0);
    const sentAt = performance.now();
    sendLoad(2);
    await ready;
    expect(readyAt).toBeGreaterThanOrEqual(sentAt);
    // Already ready: resolves at once.
    await agent.whenThreadsReady(10);
    // Not ready in time: timeout; ejected meanwhile: closed.
    sendLoad(0);
    await waitUntil(() => agent.lastLoad?.ready === 0, 2000, 'a beat with no thread ready again');
    expect((await rejectionOf(agent.whenThreadsReady(100))).code).toBe('timeout');
    const closing = agent.whenThreadsReady(5000);
    agent.eject();
    expect((await rejectionOf(closing)).code).toBe('closed');

    // An older guest without the field: ready at its first heartbeat.
    const { agent: old } = await registeredGuest(s, port, { uuid: UUID_B, heartbeatMs: 100 });
    await old.whenThreadsReady(2000);
    expect(old.lastLoad).not.toBeNull();
    expect(old.lastLoad?.ready).toBeUndefined();
  });

  it('heartbeat loss ejects within about 2 s (default timeout)', async () => {
    const { server: s, port } = await startServer();
    const { guest: g, agent } = await registeredGuest(s, port, { heartbeatMs: 1000 });
    await waitUntil(() => agent.lastLoad !== null, 2000, 'first heartbeat');
    const pending = agent.collide('x', 1, 10_000);
    g.set({ heartbeats: false, stall: true });
    const stoppedAtMs = performance.now();
    const [event] = (await once(s, 'ejected')) as [AgentEjectedEvent];
    const elapsedMs = performance.now() - stoppedAtMs;
    expect(event.reason).toBe('heartbeat');
    expect(elapsedMs).toBeLessThan(2600);
    expect(elapsedMs).toBeGreaterThan(900);
    expect((await rejectionOf(pending)).code).toBe('closed');
    await g.closed;
  });

  it('a timeout rejects with timeout; the late answer is ignored but settles the bookkeeping', async () => {
    const { server: s, port } = await startServer();
    const { guest: g, agent } = await registeredGuest(s, port, { knobs: { stall: true } });
    const error = await rejectionOf(agent.collide('late', 1, 50));
    expect(error.code).toBe('timeout');
    expect(agent.outstanding).toBe(1);
    expect(agent.consecutiveErrors).toBe(1);
    g.releaseStalled();
    await waitUntil(() => agent.outstanding === 0);
    expect(agent.badLines).toBe(0);
    expect(agent.healthy).toBe(true);
    g.set({ stall: false });
    await agent.collide('fresh', 1, 1000);
    expect(agent.consecutiveErrors).toBe(0);
  });

  it('guest busy is retriable and not counted; internal errors in a row eject', async () => {
    const { server: s, port } = await startServer();
    const { guest: g, agent } = await registeredGuest(s, port, { knobs: { errorCode: 'busy' } });
    for (let i = 0; i < 4; i++) {
      const error = await rejectionOf(agent.collide('w', 1, 1000));
      expect(error.code).toBe('guest_error');
      expect(error.guestCode).toBe('busy');
    }
    expect(agent.healthy).toBe(true);
    expect(agent.consecutiveErrors).toBe(0);
    g.set({ errorCode: 'internal' });
    const ejected = once(s, 'ejected') as Promise<[AgentEjectedEvent]>;
    for (let i = 0; i < 3; i++) expect((await rejectionOf(agent.collide('w', 1, 1000))).guestCode).toBe('internal');
    const [event] = await ejected;
    expect(event.reason).toBe('errors');
    await g.closed;
  });

  it('counts bad lines as errors without crashing; a good answer resets the count', async () => {
    const log = memoryLogger();
    const { server: s, port } = await startServer({ log });
    const { guest: g, agent } = await registeredGuest(s, port);
    g.sendRaw('not json at all');
    g.send({ t: 'result', id: 'never-sent', match: '1', attempts: 1, ms: 0 });
    await waitUntil(() => agent.badLines === 2);
    expect(agent.healthy).toBe(true);
    await agent.collide('ok', 1, 1000);
    expect(agent.consecutiveErrors).toBe(0);
    const ejected = once(s, 'ejected') as Promise<[AgentEjectedEvent]>;
    g.send({ t: 'bogus' });
    g.send({ t: 'load', busy: 7, inflight: 0, completed: 0 });
    g.register();
    const [event] = await ejected;
    expect(event.reason).toBe('errors');
    expect(agent.badLines).toBe(5);
    expect(log.find('agent.bad_line').map((entry) => entry.level)).toEqual(['warn', 'warn', 'warn', 'warn', 'warn']);
    expect(log.find('agent.ejected')[0]).toMatchObject({ uuid: UUID_A, reason: 'errors' });
  });

  it('a line over the limit ejects with protocol', async () => {
    const { server: s, port } = await startServer({ maxLineBytes: 1024 });
    const { guest: g } = await registeredGuest(s, port);
    const ejected = once(s, 'ejected') as Promise<[AgentEjectedEvent]>;
    g.sendRaw('x'.repeat(2000));
    expect((await ejected)[0].reason).toBe('protocol');
    await g.closed;
  });

  it('close() ejects every agent and rejects pending requests with closed', async () => {
    const { server: s, port } = await startServer();
    const a = await registeredGuest(s, port, { knobs: { stall: true } });
    const b = await registeredGuest(s, port, { uuid: UUID_B, knobs: { stall: true } });
    const pending = [a.agent.collide('1', 1, 5000), b.agent.collide('2', 1, 5000)];
    await waitUntil(() => a.guest.heldCount() === 1 && b.guest.heldCount() === 1);
    const reasons: string[] = [];
    s.on('ejected', (event) => reasons.push(event.reason));
    await s.close();
    server = null;
    for (const p of pending) expect((await rejectionOf(p)).code).toBe('closed');
    expect(reasons).toEqual(['closed', 'closed']);
    await Promise.all([a.guest.closed, b.guest.closed]);
  });
});
