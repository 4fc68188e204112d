// Puts the guest server together: identity discovery, the worker pool, the own listener, the
// manager link and the heartbeat meter, plus the drain-then-stop shutdown. It does not parse flags,
// install signal handlers or exit the process; main does that.
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import { ManagerLink } from './agent';
import { discoverManager, discoverToken, discoverUuid, readDiscoverySources, type HostPort } from './discovery';
import { ClientListener } from './listener';
import { LoadMeter } from './load-meter';
import type { Logger } from './log';
import type { GuestOptions } from './options';
import type { WorkerPool } from './pool';
import { PROTOCOL_VERSION } from './protocol';
import { GuestStats, Session, type GuestIdentity } from './session';

export interface GuestRuntime {
  /** The collide workers, started by the caller (main starts them before it loads this module); closed here on shutdown. */
  pool: WorkerPool;
  log: Logger;
}

export interface RunningGuest {
  readonly host: string;
  readonly port: number;
  readonly identity: GuestIdentity;
  /** Stop accepting and dialing, let in-flight work finish (up to the drain timeout), then stop. Idempotent. */
  shutdown(reason: string): Promise<void>;
  /** True once shutdown() was called. */
  readonly shutdownStarted: boolean;
  /** Resolves when the first worker thread can take work; rejects if it cannot start (the server is then useless). */
  readonly firstWorkerReady: Promise<void>;
  /** Ends the drain wait now: what is still in flight is answered `shutting_down`. */
  expediteShutdown(): void;
}

export async function startGuestServer(options: GuestOptions, runtime: GuestRuntime): Promise<RunningGuest> {
  const { log } = runtime;
  const sources = readDiscoverySources(options.paths);
  const uuidFound = discoverUuid(options.uuid, sources);
  const uuid = uuidFound?.uuid ?? randomUUID();
  if (!uuidFound && !options.noManager) log.warn('uuid_unknown', { message: 'no --uuid and no readable SMBIOS product_uuid; using a random UUID the manager will not know', uuid });
  const token = discoverToken(options.token, sources);

  const { pool } = runtime;
  const stats = new GuestStats();
  const identity: GuestIdentity = { version: PROTOCOL_VERSION, uuid, vcpus: options.vcpus, workers: options.workers };
  let draining = false;
  const makeSession = (send: (message: object) => void, label: string): Session =>
    new Session(send, { pool, stats, identity, maxInflight: options.maxInflight, isDraining: () => draining, log }, label);

  const listener = new ClientListener(
    { listen: options.listen, maxConnections: options.maxConnections, idleTimeoutMs: options.idleTimeoutMs, maxLineBytes: options.maxLineBytes },
    makeSession,
    log,
  );
  // Listening and dialing do not wait for a worker thread: requests queue until the first one is
  // ready. Under emulation a thread takes ~0.6 s to start; registering with the manager meanwhile
  // (measured on a 2-vCPU TCG guest) has it answer its first request ~0.2 s sooner.
  const firstWorkerReady = pool.firstReady();
  firstWorkerReady.catch(() => {}); // the caller handles it through RunningGuest
  let address: AddressInfo;
  try {
    address = await listener.listen();
  } catch (error) {
    await pool.close();
    throw error;
  }
  log.info('listening', { host: address.address, port: address.port, uuid, vcpus: options.vcpus, workers: options.workers, hashRatePerWorker: options.hashRatePerWorker });

  let link: ManagerLink | null = null;
  if (!options.noManager) {
    let lastSource: string | null = null;
    const resolveAddress = (): HostPort | null => {
      // Re-read on every dial: the gateway may only appear once DHCP is done.
      const found = discoverManager(options.manager, options.manager ? sources : readDiscoverySources(options.paths));
      for (const warning of found.warnings) log.warn('manager_setting_ignored', { message: warning });
      if (found.source !== lastSource) log.info('manager_address', { source: found.source, host: found.address?.host, port: found.address?.port });
      lastSource = found.source;
      return found.address;
    };
    link = new ManagerLink({
      resolveAddress,
      registerMessage: () => ({ t: 'register', uuid, hostname: hostname().slice(0, 255), vcpus: options.vcpus, version: PROTOCOL_VERSION, token: token.token, port: address.port }),
      heartbeatMs: options.heartbeatMs,
      registerTimeoutMs: options.registerTimeoutMs,
      backoff: { minMs: options.backoffMinMs, maxMs: options.backoffMaxMs },
      maxLineBytes: options.maxLineBytes,
      makeSession,
      load: new LoadMeter(pool, stats),
      log,
    });
    log.info('identity', { uuid, uuidSource: uuidFound?.source ?? 'random', tokenSource: token.source });
    link.start();
  }

  let shutdownPromise: Promise<void> | null = null;
  let expedite: () => void = () => {};
  const expedited = new Promise<void>((resolve) => (expedite = resolve));

  const shutdown = (reason: string): Promise<void> => {
    shutdownPromise ??= (async () => {
      draining = true;
      listener.stopAccepting();
      link?.stopDialing();
      // Logged after the listener closed, so a reader of this line can rely on it.
      log.info('draining', { reason, inflight: stats.inflight, drainTimeoutMs: options.drainTimeoutMs });
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<void>((resolve) => (timer = setTimeout(resolve, options.drainTimeoutMs)));
      await Promise.race([stats.whenIdle(), timedOut, expedited]);
      clearTimeout(timer);
      if (stats.inflight > 0) {
        log.warn('drain_incomplete', { inflight: stats.inflight });
        const sessions = [...listener.sessions, ...(link?.session ? [link.session] : [])];
        for (const session of sessions) session.abortAll('shutting_down', 'collide: the guest is shutting down and the drain timeout passed');
      }
      await Promise.all([listener.closeAll(), link?.close()]);
      await pool.close();
      log.info('stopped', { completed: stats.completed });
    })();
    return shutdownPromise;
  };

  return {
    host: address.address,
    port: address.port,
    identity,
    shutdown,
    expediteShutdown: () => expedite(),
    firstWorkerReady,
    get shutdownStarted() {
      return shutdownPromise !== null;
    },
  };
}
