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
import { watchForRestore, type RestoreWatch } from './restore-watch';
import { GuestStats, Session, type GuestIdentity } from './session';

export interface GuestRuntime {
  /** The collide workers, not started yet: started here (see startGuestServer), closed here on shutdown. */
  pool: WorkerPool;
  log: Logger;
}

/** Latest the worker threads start after the server listens, whatever the first dial is doing. */
const WORKER_START_DEFER_MAX_MS = 2_000;
/** Pause between the first dial settling and the threads starting (see onDialSettled below). */
const WORKER_START_AFTER_DIAL_MS = 100;
/**
 * How often a parked guest compares the RTC with its own clock to notice a restore from a saved
 * image: without it the guest noticed its dead connection only at its next heartbeat (~1.2 s after
 * the restore under TCG). Only between the manager's `park` and the next registration: each check
 * wakes the guest, and measured under TCG an idle guest's QEMU used ~3.5 % of a core with the watch
 * running, ~1.7 % without. (A clock stepped back by hand looks the same; it only costs a reconnect.)
 */
const RESTORE_WATCH_MS = 200;

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
  // The worker threads start only once the first dial has settled (registered or failed), or
  // once listening without a manager: under emulation a thread's ~0.6 s start-up, beside the main
  // thread's, delayed registering by ~0.17 s (2-vCPU TCG guest). Until a thread is ready the main
  // thread answers (the pool's stand-in), so a guest serves as soon as it has registered.
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
  let workersStarting = false;
  const startWorkers = (after: string): void => {
    clearTimeout(deferTimer);
    if (workersStarting || draining) return;
    workersStarting = true;
    log.debug('workers_starting', { after });
    pool.start();
  };
  const deferTimer = setTimeout(() => startWorkers('deadline'), WORKER_START_DEFER_MAX_MS);
  if (options.noManager) startWorkers('listening');

  let link: ManagerLink | null = null;
  let restoreWatch: RestoreWatch | null = null;
  if (!options.noManager) {
    let lastSource: string | null = null;
    let firstDial = true;
    const resolveAddress = (): HostPort | null => {
      // Re-read on every dial but the first (the sources were just read): the gateway may only
      // appear once DHCP is done.
      const current = options.manager || firstDial ? sources : readDiscoverySources(options.paths);
      firstDial = false;
      const found = discoverManager(options.manager, current);
      for (const warning of found.warnings) log.warn('manager_setting_ignored', { message: warning });
      if (found.source !== lastSource) log.info('manager_address', { source: found.source, host: found.address?.host, port: found.address?.port });
      lastSource = found.source;
      return found.address;
    };
    // Only a guest about to be saved watches its RTC (the manager's `park`); a running one would
    // pay a wake-up per check for nothing.
    const watchRestore = (): void => {
      if (restoreWatch || draining) return;
      restoreWatch = watchForRestore({
        rtcFile: options.rtcFile,
        intervalMs: RESTORE_WATCH_MS,
        thresholdS: 2,
        onRestored: (behindS) => {
          log.info('restored', { clockBehindS: behindS, message: 'restored from a saved image: redialing the manager' });
          stopRestoreWatch();
          managerLink.redialNow();
        },
        onUnavailable: (message) => log.debug('restore_watch_off', { message }),
      });
    };
    const stopRestoreWatch = (): void => {
      restoreWatch?.stop();
      restoreWatch = null;
    };
    const managerLink = new ManagerLink({
      resolveAddress,
      registerMessage: () => ({ t: 'register', uuid, hostname: hostname().slice(0, 255), vcpus: options.vcpus, version: PROTOCOL_VERSION, token: token.token, port: address.port }),
      heartbeatMs: options.heartbeatMs,
      registerTimeoutMs: options.registerTimeoutMs,
      backoff: { minMs: options.backoffMinMs, maxMs: options.backoffMaxMs },
      maxLineBytes: options.maxLineBytes,
      makeSession,
      load: new LoadMeter(pool, stats),
      log,
      // A little later: the manager's first request often comes right behind its `registered`,
      // and creating a thread holds the main thread for ~80 ms under emulation (measured: first
      // answer ~0.1 s sooner than when the threads started at once).
      onDialSettled: (registered) => {
        // Registered again: a restore (if there was one) is behind us, or the save never came.
        if (registered) stopRestoreWatch();
        setTimeout(() => startWorkers(registered ? 'registered' : 'dial failed'), WORKER_START_AFTER_DIAL_MS);
      },
      onPark: () => {
        log.info('parked', { message: 'about to be saved: watching the RTC for the restore' });
        watchRestore();
      },
    });
    log.info('identity', { uuid, uuidSource: uuidFound?.source ?? 'random', tokenSource: token.source });
    link = managerLink;
    managerLink.start();
    // The manager learns at once that the guest now serves at full speed (its `ready` count): it
    // waits for that before it parks a warm-pool member, so a resumed one needs no thread start.
    firstWorkerReady.then(
      () => managerLink.beatNow(),
      () => {},
    );
  }

  let shutdownPromise: Promise<void> | null = null;
  let expedite: () => void = () => {};
  const expedited = new Promise<void>((resolve) => (expedite = resolve));

  const shutdown = (reason: string): Promise<void> => {
    shutdownPromise ??= (async () => {
      draining = true;
      clearTimeout(deferTimer);
      listener.stopAccepting();
      link?.stopDialing();
      restoreWatch?.stop();
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
