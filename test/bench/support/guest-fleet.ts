// Bench harness: N real guest-server processes that dial one AgentServer on loopback and register
// under known UUIDs, so the same guests can be driven both through their agent connections and
// straight on their own listening ports. It starts nothing else, and stop() kills every guest.
import { randomBytes, randomUUID } from 'node:crypto';
import { systemClock } from '../../../electron/core/clock';
import { AgentServer } from '../../../electron/core/agents/agent-server';
import type { Agent } from '../../../electron/core/agents/agent';
import { nullLogger, type Logger } from '../../../electron/core/metrics/log';
import { startGuest, type GuestProcess } from '../../support/guest-process';

export interface GuestFleetOptions {
  /** Guest processes to start. */
  count: number;
  /** Worker threads (and reported vCPUs) per guest. @default 1 */
  workers?: number;
  /** How long all guests may take to register, ms. @default 20000 */
  registerTimeoutMs?: number;
  /**
   * Agent heartbeat timeout, ms. Generous by default: a loaded shared machine can delay a
   * heartbeat by seconds, and ejecting a guest mid-measurement would spoil the numbers. @default 10000
   */
  heartbeatTimeoutMs?: number;
  /** Extra guest command-line flags. @default [] */
  guestArgs?: readonly string[];
  /** @default silent */
  log?: Logger;
}

export interface FleetMember {
  uuid: string;
  agent: Agent;
  /** The guest's own listening port, as it reported it in `register`. */
  directPort: number;
  process: GuestProcess;
}

export interface GuestFleet {
  server: AgentServer;
  members: FleetMember[];
  /** Closes the agent port and stops every guest (SIGTERM, SIGKILL after a grace). */
  stop(): Promise<void>;
}

/** Starts the agent port, then the guests, and resolves once every guest has registered. */
export async function startGuestFleet(options: GuestFleetOptions): Promise<GuestFleet> {
  const workers = options.workers ?? 1;
  const token = randomBytes(16).toString('hex');
  const uuids = Array.from({ length: options.count }, () => randomUUID());
  const known = new Set<string>(uuids);
  const server = new AgentServer({
    clock: systemClock,
    token,
    isKnownMember: (uuid) => known.has(uuid),
    heartbeatTimeoutMs: options.heartbeatTimeoutMs ?? 10_000,
    log: options.log ?? nullLogger,
  });
  const registered = new Map<string, Agent>();
  let onAllRegistered: () => void = () => {};
  const allRegistered = new Promise<void>((resolve) => (onAllRegistered = resolve));
  server.on('registered', (agent) => {
    registered.set(agent.uuid, agent);
    if (registered.size === known.size) onAllRegistered();
  });
  const address = await server.listen();
  const processes: GuestProcess[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(processes.map((guest) => guest.stop(2000)));
    await server.close();
  };
  try {
    for (const uuid of uuids) {
      const args = ['--manager', `${address.host}:${address.port}`, '--uuid', uuid, '--token', token, '--workers', String(workers), '--vcpus', String(workers), ...(options.guestArgs ?? [])];
      processes.push(await startGuest(args));
    }
    const timeoutMs = options.registerTimeoutMs ?? 20_000;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`only ${registered.size} of ${known.size} guests registered within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      await Promise.race([allRegistered, timedOut]);
    } finally {
      clearTimeout(timer);
    }
  } catch (error) {
    await stop();
    throw error;
  }
  const members = uuids.map((uuid, i): FleetMember => {
    const agent = registered.get(uuid);
    const process = processes[i];
    if (!agent || !process) throw new Error(`guest ${uuid} has no agent or process`);
    // The port the guest announced is what a manager would use; the log line is a cross-check.
    const directPort = agent.guestPort ?? process.port;
    if (directPort !== process.port) throw new Error(`guest ${uuid} registered port ${directPort} but listens on ${process.port}`);
    return { uuid, agent, directPort, process };
  });
  return { server, members, stop };
}
