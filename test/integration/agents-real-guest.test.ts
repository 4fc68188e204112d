// The agent port and the balancer with the REAL guest server (guest-server/dist/guest-server.js)
// dialing in: registration, heartbeats, correct answers, a refused token, a reset through the fault
// proxy (the guest reconnects) and a suspended process (SIGSTOP: heartbeat loss, then re-register).
import { afterEach, describe, expect, it } from 'vitest';
import { once } from 'node:events';
import { systemClock } from '../../electron/core/clock';
import { AgentServer, type AgentEjectedEvent, type AgentRejectedEvent, type AgentServerOptions } from '../../electron/core/agents/agent-server';
import type { Agent } from '../../electron/core/agents/agent';
import { Balancer } from '../../electron/core/balancer/balancer';
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy';
import { startGuest, type GuestProcess } from '../support/guest-process';
import { collideSearch, waitUntil } from '../support/test-guest';

const TOKEN = 'real-token';
const UUID_1 = 'c0ffee00-0000-4000-8000-000000000001';
const UUID_2 = 'c0ffee00-0000-4000-8000-000000000002';

let server: AgentServer | null = null;
let proxy: FaultProxy | null = null;
const guests: GuestProcess[] = [];

afterEach(async () => {
  await Promise.all(guests.splice(0).map((g) => g.stop(500)));
  await server?.close();
  server = null;
  await proxy?.close();
  proxy = null;
});

async function startServer(options: Partial<AgentServerOptions> = {}): Promise<{ server: AgentServer; port: number }> {
  const s = new AgentServer({ clock: systemClock, token: TOKEN, isKnownMember: (uuid) => uuid === UUID_1 || uuid === UUID_2, ...options });
  server = s;
  const { port } = await s.listen();
  return { server: s, port };
}

async function realGuest(managerPort: number, uuid: string, extra: string[] = []): Promise<GuestProcess> {
  const g = await startGuest(['--manager', `127.0.0.1:${managerPort}`, '--uuid', uuid, '--token', TOKEN, '--vcpus', '1', '--workers', '1', '--heartbeat-ms', '200', '--backoff-min-ms', '50', '--backoff-max-ms', '200', ...extra]);
  guests.push(g);
  return g;
}

function registrationOf(s: AgentServer, uuid: string): Promise<Agent> {
  return new Promise((resolve) => {
    const onRegistered = (agent: Agent): void => {
      if (agent.uuid !== uuid) return;
      s.off('registered', onRegistered);
      resolve(agent);
    };
    s.on('registered', onRegistered);
  });
}

describe('agents with the real guest server', () => {
  it('registers, heartbeats and answers balanced work correctly', async () => {
    const { server: s, port } = await startServer();
    const registered = [registrationOf(s, UUID_1), registrationOf(s, UUID_2)];
    await Promise.all([realGuest(port, UUID_1), realGuest(port, UUID_2)]);
    const agents = await Promise.all(registered);
    expect(agents.map((a) => a.vcpus)).toEqual([1, 1]);
    await waitUntil(() => agents.every((a) => a.lastLoad !== null), 3000, 'heartbeats');

    const balancer = new Balancer({ clock: systemClock, members: () => s.agents(), deadlineMs: 10_000 });
    const nowMs = systemClock.nowMs();
    const outcomes = await Promise.all(Array.from({ length: 30 }, (_, seq) => balancer.submit({ seq, word: `real${seq}`, digits: 3, intendedAtMs: nowMs })));
    for (const o of outcomes) {
      expect(o.outcome).toBe('ok');
      if (o.outcome === 'ok') expect(o.match).toBe(collideSearch(`real${o.seq}`, 3).match);
    }
    const used = new Set(outcomes.map((o) => (o.outcome === 'ok' ? o.memberId : '')));
    expect(used).toEqual(new Set([UUID_1, UUID_2]));
    balancer.assertInvariant();
    const hello = await agents[0]?.hello(2000);
    expect(hello).toMatchObject({ uuid: UUID_1, vcpus: 1 });
  });

  it('refuses a real guest with the wrong token', async () => {
    const { server: s, port } = await startServer();
    const rejected = once(s, 'rejected') as Promise<[AgentRejectedEvent]>;
    const g = await startGuest(['--manager', `127.0.0.1:${port}`, '--uuid', UUID_1, '--token', 'wrong', '--heartbeat-ms', '200', '--backoff-min-ms', '50']);
    guests.push(g);
    const [event] = await rejected;
    expect(event).toMatchObject({ uuid: UUID_1, code: 'unauthorized' });
    expect(s.agents()).toEqual([]);
  });

  it('a reset through the proxy ejects the member; the guest reconnects and registers again', async () => {
    const { server: s, port } = await startServer();
    proxy = await startFaultProxy({ upstream: { host: '127.0.0.1', port } });
    const first = registrationOf(s, UUID_1);
    await realGuest(proxy.port, UUID_1);
    const before = await first;
    expect(await before.collide('through-proxy', 2, 2000)).toMatchObject({ match: collideSearch('through-proxy', 2).match });

    const ejected = once(s, 'ejected') as Promise<[AgentEjectedEvent]>;
    const again = registrationOf(s, UUID_1);
    proxy.setToxic({ type: 'reset_peer', afterMs: 0 });
    expect((await ejected)[0]).toMatchObject({ uuid: UUID_1, reason: 'closed' });
    proxy.setToxic(null);
    const after = await again;
    expect(after).not.toBe(before);
    expect(after.healthy).toBe(true);
    expect(await after.collide('after-reset', 2, 2000)).toMatchObject({ match: collideSearch('after-reset', 2).match });
  });

  it('a suspended guest (SIGSTOP) is ejected for missed heartbeats and registers again on SIGCONT', async () => {
    const { server: s, port } = await startServer({ heartbeatTimeoutMs: 600 });
    const first = registrationOf(s, UUID_1);
    const g = await realGuest(port, UUID_1);
    await first;
    const ejected = once(s, 'ejected') as Promise<[AgentEjectedEvent]>;
    const stoppedAtMs = performance.now();
    g.child.kill('SIGSTOP');
    try {
      const [event] = await ejected;
      expect(event.reason).toBe('heartbeat');
      expect(performance.now() - stoppedAtMs).toBeLessThan(1500);
    } finally {
      g.child.kill('SIGCONT');
    }
    const again = await registrationOf(s, UUID_1);
    expect(again.healthy).toBe(true);
  });
});
