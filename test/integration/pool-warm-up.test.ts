// The warm pool's warm-up request, on libvirt's real test driver: a freshly registered warm member
// is parked only once it reports a ready worker thread and has answered one tiny collide, and one
// that cannot answer is failed and replaced instead of being parked. Agents are stand-ins so that
// the test can hold the thread back or make the answer fail.
import { afterEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../electron/core/clock';
import { HypervisorConnection } from '../../electron/core/hypervisor';
import { Pool } from '../../electron/core/pool/pool';
import type { PoolEvent } from '../../electron/core/pool/types';
import { sandboxUri } from '../../electron/core/sandbox';
import { waitFor } from '../support/control-plane';
import { StandInAgent } from '../support/stand-in-agent';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function warmPool(answers: (uuid: string) => boolean, threadsReadyAtOnce = true): Promise<{ pool: Pool; conn: HypervisorConnection; events: PoolEvent[]; agents: Map<string, StandInAgent> }> {
  const conn = new HypervisorConnection({ id: 'sandbox', uri: sandboxUri(), clock: systemClock, pollIntervalMs: 250 });
  await conn.open();
  const agents = new Map<string, StandInAgent>();
  const events: PoolEvent[] = [];
  const pool = new Pool({
    clock: systemClock,
    hosts: [{ host: conn }],
    agents: { agent: (uuid) => agents.get(uuid) },
    min: 0,
    max: 2,
    warmPoolSize: 1,
    reconcileMs: 50,
    onEvent: (event) => {
      events.push(event);
      // The "guest" registers as soon as its domain runs.
      if (event.type === 'member_started') {
        agents.set(event.member.uuid, new StandInAgent(event.member.uuid, { answers: answers(event.member.uuid), threadsReadyAtOnce }));
        pool.noteRegistered(event.member.uuid, '127.0.0.1:1');
      }
    },
  });
  cleanups.push(async () => {
    await pool.shutdown({ timeoutMs: 500 });
    await conn.close();
  });
  pool.start();
  return { pool, conn, events, agents };
}

describe('warm-pool warm-up request', () => {
  it('sends one digits-1 collide to a warm member before pausing it', async () => {
    const { pool, conn, events, agents } = await warmPool(() => true);
    await waitFor(() => pool.status().counts.warm === 1, 10_000, 'a warm member');
    const warm = events.find((event) => event.type === 'member_warm');
    const uuid = warm?.type === 'member_warm' ? warm.member.uuid : '';
    expect(agents.get(uuid)?.requests).toEqual([{ word: `warm-up-${uuid}`, digits: 1 }]);
    expect((await conn.domainLookup(uuid))?.state).toBe('paused');
  });

  it('waits for the member to report a ready worker thread before the warm-up and the pause', async () => {
    const { pool, conn, agents } = await warmPool(() => true, false);
    await waitFor(() => agents.size === 1, 10_000, 'a warm member to register');
    const [uuid, agent] = [...agents.entries()][0] as [string, StandInAgent];
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(agent.requests).toEqual([]);
    expect((await conn.domainLookup(uuid))?.state).toBe('running');
    expect(pool.status().counts.warm).toBe(0);
    agent.markThreadsReady();
    await waitFor(() => pool.status().counts.warm === 1, 10_000, 'the member to be parked');
    expect(agent.requests).toEqual([{ word: `warm-up-${uuid}`, digits: 1 }]);
    expect((await conn.domainLookup(uuid))?.state).toBe('paused');
  });

  it('fails and replaces a warm member that does not answer its warm-up, without pausing it', async () => {
    let first = '';
    const { pool, events, agents } = await warmPool((uuid) => {
      first ||= uuid;
      return uuid !== first;
    });
    await waitFor(() => pool.status().counts.warm === 1, 10_000, 'a replacement warm member');
    const failed = events.filter((event) => event.type === 'member_failed');
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ member: { uuid: first }, reason: 'did not answer its warm-up request' });
    expect(events).toContainEqual(expect.objectContaining({ type: 'action_failed', action: 'warm-up request', message: expect.stringMatching(/timed out/) }));
    expect(events.some((event) => event.type === 'member_warm' && event.member.uuid === first)).toBe(false);
    expect(agents.get(first)?.requests).toHaveLength(1);
    await waitFor(() => pool.member(first) === undefined, 5000, 'the failed member to be removed');
  });
});
