// The agent port and the balancer together, with one guest reaching the manager through the fault
// proxy: latency shows in latencies, a stalled link times out and retries elsewhere, a reset ejects
// and retries, a sliced stream still works. The balancer's invariant is checked after every fault.
import { afterEach, describe, expect, it } from 'vitest';
import { once } from 'node:events';
import { systemClock } from '../../electron/core/clock';
import { AgentServer, type AgentEjectedEvent } from '../../electron/core/agents/agent-server';
import type { Agent } from '../../electron/core/agents/agent';
import { Balancer, type BalancerOptions, type RequestOutcome } from '../../electron/core/balancer/balancer';
import { startFaultProxy, type FaultProxy, type Toxic } from '../support/fault-proxy';
import { collideSearch, startTestGuest, waitUntil, type TestGuest, type TestGuestKnobs } from '../support/test-guest';

const TOKEN = 'fault-token';
const PROXIED = 'aaaaaaaa-0000-4000-8000-000000000001';
const DIRECT = 'bbbbbbbb-0000-4000-8000-000000000002';

interface World {
  server: AgentServer;
  proxy: FaultProxy;
  balancer: Balancer;
  proxied: TestGuest;
  direct: TestGuest | null;
}

let world: World | null = null;

afterEach(async () => {
  if (!world) return;
  world.balancer.failAll('test_over');
  world.proxied.drop();
  world.direct?.drop();
  await world.server.close();
  await world.proxy.close();
  world = null;
});

async function setUp(options: { toxic?: Toxic; direct?: boolean; proxiedKnobs?: Partial<TestGuestKnobs>; balancer?: Partial<BalancerOptions> } = {}): Promise<World> {
  const server = new AgentServer({ clock: systemClock, token: TOKEN, isKnownMember: (uuid) => uuid === PROXIED || uuid === DIRECT });
  const { port } = await server.listen();
  const proxy = await startFaultProxy({ upstream: { host: '127.0.0.1', port } });
  if (options.toxic) proxy.setToxic(options.toxic);
  const balancer = new Balancer({ clock: systemClock, members: () => server.agents(), deadlineMs: 5000, ...options.balancer });
  server.on('registered', () => balancer.membersChanged());
  server.on('ejected', () => balancer.membersChanged());

  const proxiedRegistered = new Promise<void>((resolve) => {
    const onRegistered = (agent: Agent): void => {
      if (agent.uuid !== PROXIED) return;
      server.off('registered', onRegistered);
      resolve();
    };
    server.on('registered', onRegistered);
  });
  const proxied = await startTestGuest({ port: proxy.port, uuid: PROXIED, token: TOKEN, heartbeatMs: 250, knobs: options.proxiedKnobs ?? {} });
  const w: World = { server, proxy, balancer, proxied, direct: null };
  world = w;
  await proxied.registered;
  await proxiedRegistered;
  if (options.direct) {
    const direct = await startTestGuest({ port, uuid: DIRECT, token: TOKEN, heartbeatMs: 250 });
    w.direct = direct;
    await direct.registered;
    await waitUntil(() => server.agents().length === 2);
  }
  return w;
}

function submitMany(balancer: Balancer, count: number, digits = 2): Promise<RequestOutcome[]> {
  const nowMs = systemClock.nowMs();
  return Promise.all(Array.from({ length: count }, (_, seq) => balancer.submit({ seq, word: `fault${seq}`, digits, intendedAtMs: nowMs })));
}

function expectCorrect(outcomes: RequestOutcome[]): void {
  for (const o of outcomes) {
    expect(o.outcome).toBe('ok');
    if (o.outcome === 'ok') expect(o.match).toBe(collideSearch(`fault${o.seq}`, 2).match);
  }
}

describe('agents through the fault proxy', () => {
  it('latency adds to round trips and request latency', async () => {
    const w = await setUp({ toxic: { type: 'latency', ms: 60 } });
    const agent = w.server.agent(PROXIED);
    expect(agent).toBeDefined();
    const rttMs = await agent?.ping(2000);
    expect(rttMs).toBeGreaterThanOrEqual(110);
    const outcomes = await submitMany(w.balancer, 5);
    expectCorrect(outcomes);
    for (const o of outcomes) expect(o.latencyMs).toBeGreaterThanOrEqual(110);
    w.balancer.assertInvariant();
  });

  it('a sliced stream still registers and carries pipelined work', async () => {
    const w = await setUp({ toxic: { type: 'slicer', avgBytes: 7, sizeVariation: 5, delayUs: 200 } });
    const outcomes = await submitMany(w.balancer, 20);
    expectCorrect(outcomes);
    expect(w.balancer.counts()).toMatchObject({ sent: 20, ok: 20, retries: 0, inflight: 0 });
    w.balancer.assertInvariant();
  });

  it('a stalled link times the attempt out and the request is retried on the other member', async () => {
    const w = await setUp({ direct: true, balancer: { attemptTimeoutMs: 300 } });
    w.proxy.setToxic({ type: 'timeout', ms: 0 });
    const ejected = once(w.server, 'ejected') as Promise<[AgentEjectedEvent]>;
    const outcomes = await submitMany(w.balancer, 10);
    w.balancer.assertInvariant();
    expectCorrect(outcomes);
    const retried = outcomes.filter((o) => o.attempts === 2);
    expect(retried.length).toBeGreaterThanOrEqual(3);
    for (const o of retried) {
      expect(o.outcome === 'ok' && o.memberId).toBe(DIRECT);
      expect(o.latencyMs).toBeGreaterThanOrEqual(290);
    }
    // Three timeouts in a row on the stalled member eject it.
    const [event] = await ejected;
    expect(event).toMatchObject({ uuid: PROXIED, reason: 'errors' });
    expect(w.balancer.counts()).toMatchObject({ sent: 10, ok: 10, inflight: 0 });
    w.balancer.assertInvariant();
  });

  it('a reset connection ejects the member at once and its requests are retried elsewhere', async () => {
    const w = await setUp({ direct: true, proxiedKnobs: { stall: true } });
    const pending = submitMany(w.balancer, 10);
    await waitUntil(() => w.proxied.heldCount() > 0 && w.proxied.heldCount() === w.balancer.inflightOn(PROXIED), 3000, 'requests held by the proxied guest');
    const held = w.proxied.heldCount();
    const ejected = once(w.server, 'ejected') as Promise<[AgentEjectedEvent]>;
    w.proxy.setToxic({ type: 'reset_peer', afterMs: 0 });
    const [event] = await ejected;
    expect(event).toMatchObject({ uuid: PROXIED, reason: 'closed' });
    w.balancer.assertInvariant();
    const outcomes = await pending;
    expectCorrect(outcomes);
    expect(outcomes.filter((o) => o.attempts === 2).length).toBe(held);
    expect(w.balancer.counts()).toMatchObject({ sent: 10, ok: 10, retries: held, inflight: 0 });
    expect(w.server.agents().map((a) => a.uuid)).toEqual([DIRECT]);
    w.balancer.assertInvariant();
  });

  it('with the only member gone, requests wait and expire at their deadline', async () => {
    const w = await setUp({ balancer: { deadlineMs: 400 } });
    w.proxy.setToxic({ type: 'down' });
    await once(w.server, 'ejected');
    const outcomes = await submitMany(w.balancer, 3);
    for (const o of outcomes) {
      expect(o).toMatchObject({ outcome: 'expired', attempts: 0 });
      expect(o.latencyMs).toBeGreaterThanOrEqual(395);
    }
    w.balancer.assertInvariant();
  });
});
