// Test harness: a whole control plane on a fresh sandbox host (real libvirt test driver, real
// one-file guest-server processes), with a memory logger, and helpers to wait and to check the
// request invariant. Every harness is stopped in afterEach so no guest process outlives a test.
import { systemClock } from '../../electron/core/clock';
import { memoryLogger, type MemoryLogger } from '../../electron/core/metrics/log';
import { parseControlPlaneConfig, type ControlPlaneConfigInput } from '../../electron/core/service/config';
import { ControlPlane } from '../../electron/core/service/control-plane';
import { openHosts, type OpenedHosts } from '../../electron/core/service/hosts';
import { ensureGuestBuilt } from './guest-process';
import type { LibvirtConnector } from '../../electron/core/hypervisor/libvirt-like';

export interface PlaneHarness {
  plane: ControlPlane;
  hosts: OpenedHosts;
  log: MemoryLogger;
  /** Stops the plane (pool shut down unless told otherwise) and closes the hosts. */
  stop(options?: { shutdownPool?: boolean; closeHosts?: boolean }): Promise<void>;
}

/** Fast defaults for tests: short boots and windows, quick evaluation. */
export function testConfig(overrides: ControlPlaneConfigInput = {}): ControlPlaneConfigInput {
  return {
    ...overrides,
    sandbox: { bootDelayMs: 200, hashRatePerVcpu: 20_000, ...overrides.sandbox },
    pool: { drainTimeoutMs: 1000, shutdownTimeoutMs: 3000, ...overrides.pool },
    load: { digits: 3, ...overrides.load },
  };
}

export interface StartPlaneOptions {
  uris?: string[];
  /** Reuse hosts (and their simulated guests) of an earlier plane. */
  hosts?: OpenedHosts;
  /** Where guests should dial instead of the agent port itself (a fault proxy in front of it). */
  managerAddress?: (agent: { host: string; port: number }) => { host: string; port: number };
  /** Makes libvirt handles (a flaky one to simulate a lost daemon). */
  connector?: LibvirtConnector;
}

export async function startPlane(input: ControlPlaneConfigInput, options: StartPlaneOptions = {}): Promise<PlaneHarness> {
  ensureGuestBuilt();
  const config = parseControlPlaneConfig(input);
  const log = memoryLogger({ minLevel: 'info' });
  let plane: ControlPlane | null = null;
  const hosts =
    options.hosts ??
    (await openHosts({ uris: options.uris ?? [], clock: systemClock, log, token: () => plane?.pool.token ?? '', sandbox: config.sandbox, pollIntervalMs: 250, connector: options.connector }));
  plane = new ControlPlane({ clock: systemClock, log, hosts: hosts.hosts, config, onAgentAddress: (address) => hosts.setManagerAddress(options.managerAddress?.(address) ?? address) });
  const started = plane;
  await started.start();
  let stopped = false;
  return {
    plane: started,
    hosts,
    log,
    async stop(stopOptions = {}) {
      if (stopped) return;
      stopped = true;
      await started.stop({ shutdownPool: stopOptions.shutdownPool ?? true, drainMs: 1000 });
      if (stopOptions.closeHosts ?? true) await hosts.close();
    },
  };
}

/** Polls `condition` every 50 ms until it holds; fails with `what` after `timeoutMs`. */
export async function waitFor(condition: () => boolean, timeoutMs: number, what: string): Promise<number> {
  const startMs = performance.now();
  while (!condition()) {
    if (performance.now() - startMs > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return performance.now() - startMs;
}

/** sent = ok + failed + expired + in flight, and nothing negative. */
export function expectInvariant(plane: ControlPlane): void {
  const c = plane.outcomes();
  if (c.sent !== c.ok + c.failed + c.expired + c.inflight || c.inflight < 0) {
    throw new Error(`request invariant broken: ${JSON.stringify(c)}`);
  }
  plane.balancer.assertInvariant();
}

/** Healthy serving members right now. */
export function healthyCount(plane: ControlPlane): number {
  return plane.pool.servingMembers().length;
}

export { processAlive } from './proc';
