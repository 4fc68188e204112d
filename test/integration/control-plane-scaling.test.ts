// The whole control plane on the sandbox under a step load: the pool grows within one scale-up
// window plus boot, shrinks only after the down window, and the threshold policy acts like the
// original. Real libvirt test driver, real guest-server processes, real TCP.
import { afterEach, describe, expect, it } from 'vitest';
import { expectInvariant, healthyCount, processAlive, startPlane, testConfig, waitFor, type PlaneHarness } from '../support/control-plane';

let harness: PlaneHarness | null = null;
afterEach(async () => {
  await harness?.stop();
  harness = null;
});

describe('control plane on the sandbox', () => {
  it('grows under a step load, shrinks after the down window, and leaves nothing running', async () => {
    harness = await startPlane(
      testConfig({
        // 20 000 hashes/s per vCPU and 3 hex digits (4096 attempts on average): ~5 rps per member.
        policy: { kind: 'target', metric: 'utilization', target: 0.5, min: 1, max: 4, periodMs: 500, warmupMs: 1000, scaleDownWindowMs: 4000 },
        load: { profile: { kind: 'constant', rateRps: 1 } },
      }),
    );
    const { plane, log } = harness;
    await waitFor(() => healthyCount(plane) === 1, 10_000, 'the first member to serve');
    const accepted = log.find('member_accepted');
    expect(accepted.length).toBe(1);
    expect(accepted[0]?.address).toMatch(/^127\.0\.0\.1:\d+$/);

    plane.setRateRps(14);
    const grewMs = await waitFor(() => healthyCount(plane) >= 3, 20_000, 'the pool to grow to 3');
    // One scale-up window (0) + evaluation period + warm-up + boot (0.2 s) + a heartbeat or two.
    expect(grewMs).toBeLessThan(15_000);
    const ups = plane.decisions().filter((decision) => decision.kind === 'up');
    expect(ups.length).toBeGreaterThan(0);
    expect(ups[0]?.reason).toMatch(/utilization/);
    expect(log.find('scale_up').length).toBeGreaterThan(0);
    expectInvariant(plane);

    const peak = plane.pool.desired;
    plane.setRateRps(0.5);
    const dropAtMs = performance.now();
    await waitFor(() => plane.pool.desired < peak, 20_000, 'the pool to shrink');
    // Not before the 4 s scale-down window has passed since the load dropped.
    expect(performance.now() - dropAtMs).toBeGreaterThanOrEqual(3500);
    expect(plane.decisions().some((decision) => decision.kind === 'down')).toBe(true);
    expectInvariant(plane);

    const pids = harness.hosts.hosts.flatMap((binding) => (binding.runtime && 'guests' in binding.runtime ? (binding.runtime as { guests(): { pid: number }[] }).guests().map((guest) => guest.pid) : []));
    expect(pids.length).toBeGreaterThan(0);
    const connection = harness.hosts.hosts[0]?.host;
    await harness.stop({ closeHosts: false });
    const outcomes = plane.outcomes();
    expect(outcomes.sent).toBe(outcomes.ok + outcomes.failed + outcomes.expired);
    expect(outcomes.inflight).toBe(0);
    expect(outcomes.ok).toBeGreaterThan(20);
    for (const pid of pids) expect(processAlive(pid)).toBe(false);
    const snapshot = await connection?.pollNow();
    const members = snapshot?.domains.filter((domain) => domain.name.startsWith('cms-') && domain.name !== 'cms-template') ?? [];
    expect(members).toEqual([]);
    expect(log.find('shutdown_finished').length).toBe(1);
    await harness.hosts.close();
  }, 90_000);

  it('threshold policy: +1 above 90 % busy, one decision per interval', async () => {
    harness = await startPlane(
      testConfig({
        policy: { kind: 'threshold', upPct: 90, intervalMs: 3000, min: 1, max: 3, periodMs: 500, warmupMs: 500 },
        load: { profile: { kind: 'constant', rateRps: 15 } },
      }),
    );
    const { plane } = harness;
    await waitFor(() => plane.decisions().filter((decision) => decision.kind === 'up').length >= 2, 30_000, 'two threshold scale-ups');
    const ups = plane.decisions().filter((decision) => decision.kind === 'up');
    for (const decision of ups) expect(decision.to - decision.from).toBe(1);
    expect(ups[0]?.reason).toMatch(/90/);
    const gapMs = (ups[1]?.atMs ?? 0) - (ups[0]?.atMs ?? 0);
    expect(gapMs).toBeGreaterThanOrEqual(3000);
    expectInvariant(plane);
  }, 60_000);
});
