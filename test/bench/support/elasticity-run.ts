// One time-compressed elasticity run: a whole ControlPlane on a fresh sandbox host replays a trace
// profile under one policy, then stops the pool and closes the host. It returns the plane's own
// report plus a few run facts; it judges nothing and leaves no guest process behind.
import { systemClock } from '../../../electron/core/clock';
import type { PolicyConfigInput } from '../../../electron/core/autoscaler/policies';
import type { TraceProfile } from '../../../electron/core/loadgen/profiles';
import { memoryLogger, type LogEntry } from '../../../electron/core/metrics/log';
import { parseControlPlaneConfig } from '../../../electron/core/service/config';
import { ControlPlane, type RunReport } from '../../../electron/core/service/control-plane';
import { openHosts } from '../../../electron/core/service/hosts';
import { withCleanup } from './cleanup';

export interface ElasticityRunOptions {
  policy: PolicyConfigInput;
  profile: TraceProfile;
  /** Real seconds to replay (the profile's length at its time scale). */
  durationS: number;
  /** Hex digits per request. */
  digits: number;
  sandbox: { bootDelayMs: number; hashRatePerVcpu: number };
  /** Metrics sample period = elasticity step, ms. */
  sampleMs: number;
  /** Libvirt poll period of the sandbox host, ms. @default 1000 */
  pollIntervalMs?: number;
  /** How long the first member may take to become healthy before the load starts, ms. @default 30000 */
  readyTimeoutMs?: number;
}

export interface ElasticityRunResult {
  report: RunReport;
  /** Largest and smallest healthy serving pool seen while the load ran. */
  poolMax: number;
  poolMin: number;
  /** Warnings and errors the plane logged (ejections, failed actions…). */
  warnings: number;
  /** The same, counted by event name. */
  warningEvents: Record<string, number>;
  wallS: number;
}

/**
 * The sandbox runtime logs every guest stderr line at warn, but the guest writes all its JSON logs
 * (info included) to stderr; count a guest line only when its own level is warn or error.
 */
function isRealWarning(entry: LogEntry): boolean {
  if (entry.event !== 'sandbox_guest_output' || typeof entry.line !== 'string') return true;
  try {
    const inner = JSON.parse(entry.line) as { level?: unknown };
    return inner.level === 'warn' || inner.level === 'error';
  } catch {
    return true;
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export async function runElasticity(options: ElasticityRunOptions): Promise<ElasticityRunResult> {
  const wallStartMs = performance.now();
  const config = parseControlPlaneConfig({
    pool: { drainTimeoutMs: 1000, shutdownTimeoutMs: 3000 },
    policy: options.policy,
    load: { profile: options.profile, digits: options.digits, running: false },
    sandbox: options.sandbox,
    sampleMs: options.sampleMs,
  });
  const log = memoryLogger({ minLevel: 'warn' });
  let plane: ControlPlane | null = null;
  // No URIs: the built-in sandbox, exactly as `cms run` opens it.
  const hosts = await openHosts({ uris: [], clock: systemClock, log, token: () => plane?.pool.token ?? '', sandbox: config.sandbox, pollIntervalMs: options.pollIntervalMs ?? 1000 });
  const started = new ControlPlane({ clock: systemClock, log, hosts: hosts.hosts, config, onAgentAddress: (address) => hosts.setManagerAddress(address) });
  plane = started;
  let poolMax = 0;
  let poolMin = Infinity;
  let stopping: Promise<void> | null = null;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      await started.stop({ drainMs: 1000 });
      await hosts.close();
    })());
  await withCleanup(stop, async () => {
    await started.start();
    const readyDeadline = performance.now() + (options.readyTimeoutMs ?? 30_000);
    while (started.pool.servingMembers().length === 0) {
      if (performance.now() > readyDeadline) throw new Error('no pool member became healthy before the load was due');
      await sleep(20);
    }
    started.on('sample', (sample) => {
      poolMax = Math.max(poolMax, sample.poolHealthy);
      poolMin = Math.min(poolMin, sample.poolHealthy);
    });
    started.loadStart();
    await sleep(options.durationS * 1000);
  });
  const warningEvents: Record<string, number> = {};
  for (const entry of log.entries.filter(isRealWarning)) warningEvents[entry.event] = (warningEvents[entry.event] ?? 0) + 1;
  return {
    report: started.report(),
    warningEvents,
    poolMax,
    poolMin: Number.isFinite(poolMin) ? poolMin : 0,
    warnings: log.entries.filter(isRealWarning).length,
    wallS: (performance.now() - wallStartMs) / 1000,
  };
}
