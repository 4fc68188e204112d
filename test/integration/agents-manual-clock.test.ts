// The agent watchdogs driven by a ManualClock over real loopback TCP: heartbeat timeout to the ms,
// request timeouts, the late-answer grace and the register timeout, with no sleeping for time.
import { afterEach, describe, expect, it } from 'vitest';
import { once } from 'node:events';
import { ManualClock } from '../../electron/core/clock';
import { AgentServer, type AgentEjectedEvent, type AgentRejectedEvent } from '../../electron/core/agents/agent-server';
import { AgentRequestError } from '../../electron/core/agents/errors';
import type { Agent } from '../../electron/core/agents/agent';
import { startTestGuest, waitUntil, type TestGuest, type TestGuestOptions } from '../support/test-guest';

const TOKEN = 't';
const UUID = '33333333-3333-4333-8333-333333333333';

let server: AgentServer | null = null;
let serverClock: ManualClock | null = null;
const guests: TestGuest[] = [];

afterEach(async () => {
  for (const g of guests.splice(0)) g.drop();
  await server?.close();
  server = null;
  // Closing must leave no timer behind (the system clock's timers keep a process alive).
  await waitUntil(() => serverClock?.pendingTimers() === 0, 1000, 'no pending timers');
  serverClock = null;
});

async function setUp(guestOptions: Partial<TestGuestOptions> = {}): Promise<{ clock: ManualClock; server: AgentServer; guest: TestGuest; agent: Agent }> {
  const clock = new ManualClock(1000);
  serverClock = clock;
  const s = new AgentServer({ clock, token: TOKEN, isKnownMember: (uuid) => uuid === UUID, lateAnswerGraceMs: 10_000 });
  server = s;
  const { port } = await s.listen();
  const registered = once(s, 'registered') as Promise<[Agent]>;
  // Heartbeats are sent by hand here, so that only the manual clock decides when they are late.
  const g = await startTestGuest({ port, uuid: UUID, token: TOKEN, ...guestOptions, knobs: { heartbeats: false, ...guestOptions.knobs } });
  guests.push(g);
  const [agent] = await registered;
  await g.registered;
  return { clock, server: s, guest: g, agent };
}

describe('Agent watchdogs on a manual clock', () => {
  it('ejects exactly heartbeatTimeoutMs after the last heartbeat', async () => {
    const { clock, server: s, guest: g, agent } = await setUp();
    const ejections: AgentEjectedEvent[] = [];
    s.on('ejected', (event) => ejections.push(event));

    clock.advance(1500);
    g.sendLoad();
    await once(s, 'load');
    expect(agent.lastHeartbeatAtMs).toBe(2500);

    clock.advance(1999);
    expect(agent.healthy).toBe(true);
    clock.advance(1);
    expect(agent.healthy).toBe(false);
    expect(ejections.map((e) => e.reason)).toEqual(['heartbeat']);
    await g.closed;
  });

  it('times a request out, keeps it outstanding for the late-answer grace, then forgets it', async () => {
    const { clock, guest: g, agent } = await setUp({ knobs: { stall: true } });
    const pending = agent.collide('w', 1, 300);
    await waitUntil(() => g.heldCount() === 1);
    clock.advance(299);
    g.sendLoad(); // keep the heartbeat watchdog quiet
    await waitUntil(() => agent.lastHeartbeatAtMs === clock.nowMs());
    clock.advance(1);
    const error = await pending.then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(AgentRequestError);
    expect((error as AgentRequestError).code).toBe('timeout');
    expect(agent.outstanding).toBe(1);
    expect(agent.consecutiveErrors).toBe(1);

    // Past the grace the entry no longer counts as outstanding; an answer arriving even later is
    // still recognised as a late one (an overloaded guest), not a protocol error.
    for (let i = 0; i < 10; i++) {
      g.sendLoad();
      const at = clock.nowMs();
      await waitUntil(() => agent.lastHeartbeatAtMs === at);
      clock.advance(1000);
    }
    expect(agent.outstanding).toBe(0);
    expect(agent.healthy).toBe(true);
    g.releaseStalled();
    // A round trip after it: TCP keeps order, so the late answer has been handled by then.
    await agent.ping(5000);
    expect(agent.badLines).toBe(0);
    expect(agent.consecutiveErrors).toBe(0);
    expect(agent.healthy).toBe(true);
  });

  it('ejects after maxConsecutiveErrors timeouts in a row and rejects the rest with closed', async () => {
    const { clock, server: s, guest: g, agent } = await setUp({ knobs: { stall: true } });
    const codes: string[] = [];
    const pending = [100, 200, 300, 5000].map((timeoutMs) =>
      agent.collide('w', 1, timeoutMs).catch((e: unknown) => {
        codes.push((e as AgentRequestError).code);
      }),
    );
    await waitUntil(() => g.heldCount() === 4);
    const ejected = once(s, 'ejected') as Promise<[AgentEjectedEvent]>;
    clock.advance(300);
    await Promise.all(pending);
    expect(codes).toEqual(['timeout', 'timeout', 'timeout', 'closed']);
    expect((await ejected)[0].reason).toBe('errors');
  });

  it('a timeout counts toward ejection only when the guest answered nothing meanwhile', async () => {
    const { clock, guest: g, agent } = await setUp({ knobs: { stall: true } });
    const slow = agent.collide('slow', 1, 200).catch((e: unknown) => (e as AgentRequestError).code);
    const quick = agent.collide('quick', 1, 5000);
    await waitUntil(() => g.heldCount() === 2);
    g.releaseStalled('reverse', 1);
    await quick;
    clock.advance(200);
    expect(await slow).toBe('timeout');
    expect(agent.consecutiveErrors).toBe(0);

    const silent = agent.collide('silent', 1, 100).catch((e: unknown) => (e as AgentRequestError).code);
    await waitUntil(() => g.heldCount() === 2);
    clock.advance(100);
    expect(await silent).toBe('timeout');
    expect(agent.consecutiveErrors).toBe(1);
  });

  it('closes a connection that never registers after registerTimeoutMs', async () => {
    const clock = new ManualClock();
    serverClock = clock;
    const s = new AgentServer({ clock, token: TOKEN, isKnownMember: () => true, registerTimeoutMs: 5000 });
    server = s;
    const { port } = await s.listen();
    const g = await startTestGuest({ port, uuid: UUID, token: TOKEN, autoRegister: false });
    guests.push(g);
    await waitUntil(() => s.connectionCount() === 1);
    clock.advance(4999);
    expect(g.connectionClosed).toBe(false);
    const rejected = once(s, 'rejected') as Promise<[AgentRejectedEvent]>;
    clock.advance(1);
    expect((await rejected)[0].code).toBe('register_timeout');
    await g.closed;
  });
});
