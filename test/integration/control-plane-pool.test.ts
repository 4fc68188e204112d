// Pool features on the sandbox: the warm pool (paused members resumed in milliseconds, not ejected
// while paused), the saved pool (saved members restored into service), placement across two sandbox hosts, manual scale-to with autoscaling paused, and
// deleting a clone by hand.
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { sandboxHostPath, sandboxUri } from '../../electron/core/sandbox/sandbox-host';
import { expectInvariant, healthyCount, startPlane, testConfig, waitFor, type PlaneHarness } from '../support/control-plane';

let harness: PlaneHarness | null = null;
const tempDir = mkdtempSync(join(tmpdir(), 'cms-pool-'));
afterEach(async () => {
  await harness?.stop();
  harness = null;
});
afterAll(() => rmSync(tempDir, { recursive: true, force: true }));

describe('warm pool', () => {
  it('keeps paused members that resume into service in milliseconds and survive the heartbeat watchdog', async () => {
    harness = await startPlane(
      testConfig({
        policy: { kind: 'target', min: 1, max: 4, warmPoolSize: 1, periodMs: 500, warmupMs: 500, scaleDownWindowMs: 60_000 },
        load: { profile: { kind: 'constant', rateRps: 1 } },
      }),
    );
    const { plane, log } = harness;
    await waitFor(() => plane.pool.status().counts.warm === 1 && healthyCount(plane) === 1, 15_000, 'one serving and one warm member');
    const warm = plane.pool.list().find((member) => member.phase === 'warm');
    expect(warm).toBeDefined();
    const domain = await harness.hosts.hosts[0]?.host.domainLookup(warm?.uuid as string);
    expect(domain?.state).toBe('paused');
    // It answered exactly one request, its warm-up, before it was paused.
    expect(plane.agents.agent(warm?.uuid as string)?.completed).toBe(1);
    // Paused for longer than the 2 s heartbeat timeout: it must not be ejected.
    await new Promise((resolve) => setTimeout(resolve, 3000));
    expect(plane.pool.member(warm?.uuid as string)?.phase).toBe('warm');
    expect(log.find('member_ejected')).toEqual([]);

    plane.pauseAutoscaling();
    plane.scaleTo(2, 'test: one more');
    await waitFor(() => healthyCount(plane) === 2, 5000, 'the warm member to serve');
    const resumed = log.find('member_resumed');
    expect(resumed.length).toBe(1);
    expect(resumed[0]?.name).toBe(warm?.name);
    expect(plane.pool.member(warm?.uuid as string)?.phase).toBe('healthy');
    // The warm pool refills behind it.
    await waitFor(() => plane.pool.status().counts.warm === 1, 15_000, 'the warm pool to refill');
    // The resumed guest keeps its heartbeats: still healthy after another timeout's worth.
    await new Promise((resolve) => setTimeout(resolve, 2500));
    expect(plane.pool.member(warm?.uuid as string)?.phase).toBe('healthy');
    expectInvariant(plane);
  }, 60_000);
});

describe('saved pool', () => {
  it('keeps a member saved (domain off, image kept), restores it on scale-up and it serves', async () => {
    harness = await startPlane(
      testConfig({
        policy: { kind: 'target', min: 1, max: 4, savedPoolSize: 1, periodMs: 500, warmupMs: 500, scaleDownWindowMs: 60_000 },
        load: { profile: { kind: 'constant', rateRps: 1 } },
      }),
    );
    const { plane, log } = harness;
    await waitFor(() => plane.pool.status().counts.saved === 1 && healthyCount(plane) === 1, 20_000, 'one serving and one saved member');
    const saved = plane.pool.list().find((member) => member.phase === 'saved');
    const uuid = saved?.uuid as string;
    expect((await harness.hosts.hosts[0]?.host.domainLookup(uuid))?.state).toBe('shutoff');
    expect(saved?.savedImage).toMatch(/\.cms-saved$/);
    // Its guest's connection ended with the save: expected, so neither a failure nor a replacement.
    await new Promise((resolve) => setTimeout(resolve, 2500));
    expect(plane.pool.member(uuid)?.phase).toBe('saved');
    expect(log.find('member_failed')).toEqual([]);

    plane.pauseAutoscaling();
    plane.scaleTo(2, 'test: one more');
    await waitFor(() => plane.pool.member(uuid)?.phase === 'healthy', 10_000, 'the saved member to serve');
    expect(log.find('member_restored').map((entry) => entry.name)).toEqual([saved?.name]);
    expect(await plane.agents.agent(uuid)?.collide('after-restore', 1, 10_000)).toMatchObject({ t: 'result' });
    await waitFor(() => plane.pool.status().counts.saved === 1, 20_000, 'the saved pool to refill');
    expectInvariant(plane);
  }, 60_000);
});

describe('placement across two sandbox hosts', () => {
  it('spreads members evenly over both hosts, each member on the host holding its domain', async () => {
    // A second test-driver connection, even to a copy of the same file, is a host of its own.
    const secondFile = join(tempDir, 'second-host.xml');
    copyFileSync(sandboxHostPath(), secondFile);
    harness = await startPlane(
      testConfig({
        policy: { kind: 'target', min: 4, max: 4, periodMs: 500 },
        pool: { placement: 'spread' },
        load: { profile: { kind: 'constant', rateRps: 2 } },
      }),
      { uris: [sandboxUri(), sandboxUri(secondFile)] },
    );
    const { plane, hosts } = harness;
    await waitFor(() => healthyCount(plane) === 4, 20_000, 'four healthy members');
    const [first, second] = hosts.hosts;
    const perHost = new Map<string, number>();
    for (const member of plane.pool.list()) perHost.set(member.hostId, (perHost.get(member.hostId) ?? 0) + 1);
    expect(perHost.get(first?.host.id as string)).toBe(2);
    expect(perHost.get(second?.host.id as string)).toBe(2);
    for (const member of plane.pool.list()) {
      const owner = hosts.hosts.find((binding) => binding.host.id === member.hostId);
      const other = hosts.hosts.find((binding) => binding.host.id !== member.hostId);
      expect(await owner?.host.domainLookup(member.uuid)).not.toBeNull();
      expect(await other?.host.domainLookup(member.uuid)).toBeNull();
    }
    await waitFor(() => plane.outcomes().ok >= 4, 10_000, 'requests served across hosts');
    expectInvariant(plane);
  }, 60_000);
});

describe('manual control', () => {
  it('scale to N holds while autoscaling is paused; deleting a clone replaces it', async () => {
    harness = await startPlane(
      testConfig({
        policy: { kind: 'target', min: 1, max: 5, periodMs: 300, warmupMs: 300, scaleDownWindowMs: 1000 },
        load: { profile: { kind: 'constant', rateRps: 0.5 } },
      }),
    );
    const { plane, log } = harness;
    await waitFor(() => healthyCount(plane) === 1, 10_000, 'one member');
    plane.pauseAutoscaling();
    expect(plane.scaleTo(3, 'operator')).toBe(3);
    await waitFor(() => healthyCount(plane) === 3, 15_000, 'three members');
    // Idle, but paused autoscaling must not shrink it, even well past the down window.
    await new Promise((resolve) => setTimeout(resolve, 2500));
    expect(plane.pool.desired).toBe(3);
    expect(plane.decisions().at(-1)?.kind).toBe('manual');
    expect(plane.decisions().at(-1)?.reason).toMatch(/operator/);

    const victim = plane.pool.servingMembers()[0];
    await plane.pool.removeMember(victim?.uuid as string, 'deleted by test');
    expect(plane.pool.member(victim?.uuid as string)).toBeUndefined();
    expect(await harness.hosts.hosts[0]?.host.domainLookup(victim?.uuid as string)).toBeNull();
    await waitFor(() => healthyCount(plane) === 3, 15_000, 'a replacement after the delete');
    expect(log.find('member_removed').some((entry) => entry.reason === 'deleted by test')).toBe(true);

    plane.resumeAutoscaling();
    await waitFor(() => plane.pool.desired < 3, 15_000, 'the idle pool to shrink once autoscaling resumes');
    expectInvariant(plane);
  }, 60_000);
});
