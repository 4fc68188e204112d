// One libvirt host: keeps a connection open, polls domains on a self-rearming timer, reconnects with
// capped backoff, and runs domain actions that fail as HypervisorError. Decides nothing about pools.
import { EventEmitter } from 'node:events';
import type { Clock, TimerHandle } from '../clock';
import { cpuPercent, type CpuSample } from './cpu-percent';
import { domainIsOff, domainIsRunning, domainStateFromLibvirt, type DomainState } from './domain-state';
import { HypervisorError, messageOf, toHypervisorError } from './errors';
import { connectLibvirt, type LibvirtConnector, type LibvirtDomain, type LibvirtLike } from './libvirt-like';
import type {
  DomainAction,
  DomainSnapshot,
  HostSnapshot,
  HostStatus,
  HypervisorConnectionEvents,
  LogFn,
} from './types';

const VIR_DOMAIN_XML_INACTIVE = 2;

export interface HypervisorConnectionOptions {
  /** Stable id of this host inside the app (HostSnapshot.id, DomainSnapshot.hostId). */
  id: string;
  /** libvirt URI, e.g. qemu:///system or test:///abs/path/host.xml. */
  uri: string;
  /** Pause between the end of one poll round and the start of the next, in ms. @default 1000 */
  pollIntervalMs?: number;
  /** First delay before a reconnect attempt, in ms; doubles after each failure. @default 250 */
  reconnectInitialMs?: number;
  /** Upper bound of the reconnect delay, in ms. @default 10000 */
  reconnectMaxMs?: number;
  /** How often domainReboot re-reads the state while waiting for shutoff, in ms. @default 100 */
  shutdownCheckIntervalMs?: number;
  clock: Clock;
  log?: LogFn;
  /** Makes the libvirt handle; tests wrap the real one to inject failures. @default connectLibvirt */
  connector?: LibvirtConnector;
}

export interface DomainRebootOptions {
  /** How long to wait for a graceful shutdown before forcing the domain off, in ms. @default 30000 */
  timeoutMs?: number;
}

interface KnownDomain {
  name: string;
  state: DomainState;
  /** Value of the connection's update sequence when this entry was last written. */
  seq: number;
}

export class HypervisorConnection extends EventEmitter<HypervisorConnectionEvents> {
  readonly id: string;
  readonly uri: string;
  private readonly pollIntervalMs: number;
  private readonly reconnectInitialMs: number;
  private readonly reconnectMaxMs: number;
  private readonly shutdownCheckIntervalMs: number;
  private readonly clock: Clock;
  private readonly log: LogFn;
  private readonly connector: LibvirtConnector;

  private handle: LibvirtLike | undefined;
  private status: HostStatus = 'closed';
  private hostname: string | undefined;
  private hostCpus: number | undefined;
  private hostMemoryKiB: number | undefined;
  private lastError: string | undefined;
  private domains: DomainSnapshot[] = [];
  private polledAtMs = 0;

  private readonly known = new Map<string, KnownDomain>();
  private readonly cpuSamples = new Map<string, CpuSample>();
  /** Bumped on every state write, so a poll that started before an action cannot undo what it saw. */
  private seq = 0;
  /** Bumped on open/close/connection loss; async work from an older session drops its result. */
  private session = 0;
  private pollTimer: TimerHandle | undefined;
  private reconnectTimer: TimerHandle | undefined;
  private reconnectDelayMs: number;
  /** Poll rounds run one at a time: each new round chains behind the previous one. */
  private pollChain: Promise<unknown> = Promise.resolve();

  constructor(options: HypervisorConnectionOptions) {
    super();
    this.id = options.id;
    this.uri = options.uri;
    this.pollIntervalMs = options.pollIntervalMs ?? 1000;
    this.reconnectInitialMs = options.reconnectInitialMs ?? 250;
    this.reconnectMaxMs = options.reconnectMaxMs ?? 10_000;
    this.shutdownCheckIntervalMs = options.shutdownCheckIntervalMs ?? 100;
    this.clock = options.clock;
    this.log = options.log ?? (() => undefined);
    this.connector = options.connector ?? connectLibvirt;
    this.reconnectDelayMs = this.reconnectInitialMs;
  }

  /** Opens the connection and runs the first poll; rejects (status 'closed') if either fails. */
  async open(): Promise<void> {
    if (this.status !== 'closed') return;
    const session = ++this.session;
    this.setStatus('connecting');
    try {
      await this.connectHandle(session);
      await this.enqueueRound(session, false);
    } catch (err) {
      if (session !== this.session) throw toHypervisorError('open', this.uri, err);
      this.lastError = messageOf(err);
      await this.dropHandle();
      this.session++;
      this.setStatus('closed', this.lastError);
      this.log('error', 'hypervisor_open_failed', { hostId: this.id, uri: this.uri, error: this.lastError });
      throw new HypervisorError('not_connected', `connection to ${this.uri} failed: ${this.lastError}`, {
        libvirtMessage: this.lastError,
        cause: err,
      });
    }
    this.setStatus('connected');
    this.schedulePoll(session);
  }

  /** Stops polling and reconnecting and closes the libvirt handle. The last snapshot stays readable. */
  async close(): Promise<void> {
    if (this.status === 'closed') return;
    this.session++;
    this.clearTimers();
    await this.dropHandle();
    this.setStatus('closed');
  }

  snapshot(): HostSnapshot {
    const snap: HostSnapshot = {
      id: this.id,
      uri: this.uri,
      status: this.status,
      domains: this.domains.map((d) => ({ ...d })),
      polledAtMs: this.polledAtMs,
    };
    if (this.hostname !== undefined) snap.hostname = this.hostname;
    if (this.hostCpus !== undefined) snap.cpus = this.hostCpus;
    if (this.hostMemoryKiB !== undefined) snap.memoryKiB = this.hostMemoryKiB;
    if (this.lastError !== undefined) snap.lastError = this.lastError;
    return snap;
  }

  /** Runs a poll round now (after any round in flight). A failure starts reconnecting and rejects. */
  async pollNow(): Promise<HostSnapshot> {
    if (this.status !== 'connected') {
      throw new HypervisorError('not_connected', `poll of ${this.uri} failed: host is ${this.status}`);
    }
    await this.enqueueRound(this.session, true);
    return this.snapshot();
  }

  // ---- domain actions -------------------------------------------------------------------------

  async domainStart(uuid: string): Promise<void> {
    await this.runAction(uuid, 'start', (h, d) => h.domainCreate(d));
  }

  /** Asks the guest to shut down (ACPI); returns once libvirt accepted the request. */
  async domainShutdown(uuid: string): Promise<void> {
    await this.runAction(uuid, 'shutdown', (h, d) => h.domainShutdown(d));
  }

  /** Pulls the plug (virDomainDestroy). */
  async domainForceOff(uuid: string): Promise<void> {
    await this.runAction(uuid, 'forceoff', (h, d) => h.domainDestroy(d));
  }

  async domainSuspend(uuid: string): Promise<void> {
    await this.runAction(uuid, 'suspend', (h, d) => h.domainSuspend(d));
  }

  async domainResume(uuid: string): Promise<void> {
    await this.runAction(uuid, 'resume', (h, d) => h.domainResume(d));
  }

  /** Saves a running or paused domain's state to `path` (virDomainSave); the domain is shut off afterwards. */
  async domainSave(uuid: string, path: string): Promise<void> {
    await this.runAction(uuid, 'save', (h, d) => h.domainSave(d, path));
  }

  /**
   * Runs a domain again from the file domainSave wrote for it (virDomainRestore). The file must be
   * this domain's: libvirt restores a saved image only into the UUID it was saved from.
   */
  async domainRestore(uuid: string, path: string): Promise<void> {
    await this.runAction(uuid, 'restore', (h) => h.domainRestore(path));
  }

  /**
   * Graceful shutdown, wait for shutoff (forcing it off after timeoutMs), then start. The binding
   * has no virDomainReboot, and this way the host's state events show the domain going down and up.
   */
  async domainReboot(uuid: string, options: DomainRebootOptions = {}): Promise<void> {
    const timeoutMs = options.timeoutMs ?? 30_000;
    await this.runAction(uuid, 'reboot', async (h, d, name) => {
      await h.domainShutdown(d);
      await this.refreshDomain(h, d, uuid);
      const deadlineMs = this.clock.nowMs() + timeoutMs;
      let state = await this.readState(h, d);
      while (!domainIsOff(state) && this.clock.nowMs() < deadlineMs) {
        await this.sleep(Math.min(this.shutdownCheckIntervalMs, Math.max(0, deadlineMs - this.clock.nowMs())));
        state = await this.readState(h, d);
      }
      if (!domainIsOff(state)) {
        this.log('warn', 'domain_reboot_forced', { hostId: this.id, uuid, name, timeoutMs });
        await h.domainDestroy(d);
        state = await this.readState(h, d);
        if (!domainIsOff(state)) {
          throw new HypervisorError('timeout', `reboot of ${name} failed: still ${state} after force off`);
        }
      }
      await this.refreshDomain(h, d, uuid);
      await h.domainCreate(d);
    });
  }

  /** Defines (or redefines) a persistent domain from XML; returns its UUID. The domain stays off. */
  async domainDefine(xml: string): Promise<string> {
    const h = this.requireHandle('define', 'domain XML');
    let uuid: string;
    let name: string;
    try {
      const d = await h.domainDefineXML(xml);
      uuid = await h.domainGetUUIDString(d);
      name = await h.domainGetName(d);
      await this.refreshDomain(h, d, uuid);
    } catch (err) {
      throw this.actionFailed('define', nameFromXml(xml) ?? 'domain XML', err);
    }
    this.afterAction(uuid, name, 'define');
    return uuid;
  }

  /** Removes the persistent config; a running domain keeps running as a transient one. */
  async domainUndefine(uuid: string): Promise<void> {
    const h = this.requireHandle('undefine', this.nameOf(uuid));
    let name = this.nameOf(uuid);
    try {
      const d = await h.domainLookupByUUIDString(uuid);
      name = await h.domainGetName(d);
      await h.domainUndefine(d);
    } catch (err) {
      throw this.actionFailed('undefine', name, err);
    }
    try {
      const d = await h.domainLookupByUUIDString(uuid);
      await this.refreshDomain(h, d, uuid);
    } catch {
      this.forgetDomain(uuid);
    }
    this.afterAction(uuid, name, 'undefine');
  }

  async domainXml(uuid: string, options: { inactive?: boolean } = {}): Promise<string> {
    const h = this.requireHandle('XML read', this.nameOf(uuid));
    try {
      const d = await h.domainLookupByUUIDString(uuid);
      return await h.domainGetXMLDesc(d, options.inactive ? VIR_DOMAIN_XML_INACTIVE : 0);
    } catch (err) {
      throw this.actionFailed('XML read', this.nameOf(uuid), err);
    }
  }

  /** Fresh details of one domain, or null if the host has no such UUID. */
  async domainLookup(uuid: string): Promise<DomainSnapshot | null> {
    const h = this.requireHandle('lookup', this.nameOf(uuid));
    try {
      const d = await h.domainLookupByUUIDString(uuid);
      return await this.refreshDomain(h, d, uuid);
    } catch (err) {
      const failure = this.actionFailed('lookup', this.nameOf(uuid), err);
      if (failure.code === 'not_found') return null;
      throw failure;
    }
  }

  // ---- connection lifecycle -------------------------------------------------------------------

  private async connectHandle(session: number): Promise<void> {
    const handle = this.connector(this.uri);
    await handle.connectOpen();
    if (session !== this.session) {
      await handle.connectClose().catch(() => undefined);
      throw new HypervisorError('not_connected', `connection to ${this.uri} was closed while opening`);
    }
    this.handle = handle;
    const [hostname, node] = await Promise.all([handle.connectGetHostname(), handle.nodeGetInfo()]);
    this.hostname = hostname;
    this.hostCpus = node.cpus;
    this.hostMemoryKiB = node.memory;
    this.log('info', 'hypervisor_connected', { hostId: this.id, uri: this.uri, hostname });
  }

  private async dropHandle(): Promise<void> {
    const handle = this.handle;
    this.handle = undefined;
    if (!handle) return;
    try {
      await handle.connectClose();
    } catch (err) {
      // A handle that already lost its connection often fails to close; nothing to do about it.
      this.log('debug', 'hypervisor_close_failed', { hostId: this.id, error: messageOf(err) });
    }
  }

  private clearTimers(): void {
    if (this.pollTimer) this.clock.clearTimeout(this.pollTimer);
    if (this.reconnectTimer) this.clock.clearTimeout(this.reconnectTimer);
    this.pollTimer = undefined;
    this.reconnectTimer = undefined;
  }

  private schedulePoll(session: number): void {
    if (session !== this.session || this.status !== 'connected') return;
    if (this.pollTimer) this.clock.clearTimeout(this.pollTimer);
    this.pollTimer = this.clock.setTimeout(() => {
      this.pollTimer = undefined;
      // Failures are handled inside (status flips to reconnecting); the next round is armed only after this one.
      this.enqueueRound(session, true).then(
        () => this.schedulePoll(session),
        () => undefined,
      );
    }, this.pollIntervalMs);
  }

  /** Chains a round behind any in flight. recover: a failure starts reconnecting (off for open/reconnect). */
  private enqueueRound(session: number, recover: boolean): Promise<void> {
    const round = this.pollChain.then(() => this.pollRound(session, recover));
    this.pollChain = round.catch(() => undefined);
    return round;
  }

  /** One poll round; rethrows failures (as HypervisorError) for pollNow callers. */
  private async pollRound(session: number, recover: boolean): Promise<void> {
    const h = this.handle;
    if (session !== this.session || !h) {
      throw new HypervisorError('not_connected', `poll of ${this.uri} failed: host is ${this.status}`);
    }
    const startSeq = this.seq;
    try {
      const list = await h.connectListAllDomains();
      const rows = await Promise.all(list.map((d) => this.readDomain(h, d)));
      if (session !== this.session) {
        throw new HypervisorError('not_connected', `poll of ${this.uri} failed: connection was closed meanwhile`);
      }
      this.applyPoll(rows.filter((r): r is DomainRow => r !== null), startSeq);
    } catch (err) {
      if (recover && session === this.session) this.connectionLost(session, err);
      throw toHypervisorError('poll', this.uri, err);
    }
  }

  private connectionLost(session: number, err: unknown): void {
    this.lastError = messageOf(err);
    this.log('warn', 'hypervisor_poll_failed', { hostId: this.id, uri: this.uri, error: this.lastError });
    this.session = session + 1;
    this.clearTimers();
    void this.dropHandle();
    this.reconnectDelayMs = this.reconnectInitialMs;
    this.setStatus('reconnecting', this.lastError);
    this.scheduleReconnect(this.session);
  }

  private scheduleReconnect(session: number): void {
    const delayMs = this.reconnectDelayMs;
    this.reconnectDelayMs = Math.min(this.reconnectMaxMs, this.reconnectDelayMs * 2);
    this.reconnectTimer = this.clock.setTimeout(() => {
      this.reconnectTimer = undefined;
      void this.reconnectAttempt(session);
    }, delayMs);
  }

  private async reconnectAttempt(session: number): Promise<void> {
    if (session !== this.session) return;
    try {
      await this.dropHandle();
      await this.connectHandle(session);
      await this.enqueueRound(session, false);
    } catch (err) {
      if (session !== this.session) return;
      this.lastError = messageOf(err);
      await this.dropHandle();
      this.log('warn', 'hypervisor_reconnect_failed', {
        hostId: this.id,
        uri: this.uri,
        error: this.lastError,
        nextDelayMs: this.reconnectDelayMs,
      });
      this.scheduleReconnect(session);
      return;
    }
    if (session !== this.session) return;
    this.reconnectDelayMs = this.reconnectInitialMs;
    this.lastError = undefined;
    this.log('info', 'hypervisor_reconnected', { hostId: this.id, uri: this.uri });
    this.setStatus('connected');
    this.schedulePoll(session);
  }

  private setStatus(status: HostStatus, error?: string): void {
    if (this.status === status) return;
    this.status = status;
    this.safeEmit('status', error === undefined ? { status } : { status, error });
  }

  // ---- polling data ---------------------------------------------------------------------------

  /** Reads one listed domain; null if it vanished between the list and the read. */
  private async readDomain(h: LibvirtLike, d: LibvirtDomain): Promise<DomainRow | null> {
    try {
      const [uuid, name, info] = await Promise.all([h.domainGetUUIDString(d), h.domainGetName(d), h.domainGetInfo(d)]);
      return {
        uuid,
        name,
        state: domainStateFromLibvirt(info.state),
        vcpus: info.nrVirtCpu,
        memoryKiB: info.memory,
        maxMemoryKiB: info.maxMem,
        cpuTimeNs: info.cpuTime,
        atMs: this.clock.nowMs(),
      };
    } catch (err) {
      if (toHypervisorError('read', 'domain', err).code === 'not_found') return null;
      throw err;
    }
  }

  private applyPoll(rows: DomainRow[], startSeq: number): void {
    const seen = new Set<string>();
    const domains: DomainSnapshot[] = [];
    for (const row of rows) {
      seen.add(row.uuid);
      const entry = this.known.get(row.uuid);
      // An action finished while this round was reading: its state is newer than ours.
      if (entry && entry.seq > startSeq) row.state = entry.state;
      else this.recordState(row.uuid, row.name, row.state);
      domains.push(this.toSnapshot(row));
    }
    for (const uuid of [...this.known.keys()]) {
      const entry = this.known.get(uuid);
      if (!seen.has(uuid) && entry && entry.seq <= startSeq) this.forgetDomain(uuid);
    }
    domains.sort((a, b) => a.name.localeCompare(b.name));
    this.domains = domains;
    this.polledAtMs = this.clock.wallMs();
    this.lastError = undefined;
    this.safeEmit('poll', this.snapshot());
  }

  private toSnapshot(row: DomainRow): DomainSnapshot {
    let percent: number | null = null;
    if (domainIsRunning(row.state)) {
      const sample = { cpuTimeNs: row.cpuTimeNs, atMs: row.atMs };
      percent = cpuPercent(this.cpuSamples.get(row.uuid), sample, row.vcpus);
      this.cpuSamples.set(row.uuid, sample);
    } else {
      this.cpuSamples.delete(row.uuid);
    }
    return this.snapshotOf(row, percent);
  }

  private snapshotOf(row: DomainRow, cpuPercentValue: number | null): DomainSnapshot {
    return {
      hostId: this.id,
      uuid: row.uuid,
      name: row.name,
      state: row.state,
      vcpus: row.vcpus,
      memoryKiB: row.memoryKiB,
      maxMemoryKiB: row.maxMemoryKiB,
      cpuPercent: cpuPercentValue,
    };
  }

  /** Writes a domain's state; emits 'state' when a known domain changed. */
  private recordState(uuid: string, name: string, state: DomainState): void {
    const prev = this.known.get(uuid);
    this.known.set(uuid, { name, state, seq: ++this.seq });
    if (prev && prev.state !== state) {
      this.log('info', 'domain_state_changed', { hostId: this.id, uuid, name, from: prev.state, to: state });
      this.safeEmit('state', { uuid, name, from: prev.state, to: state });
    }
  }

  private forgetDomain(uuid: string): void {
    this.known.delete(uuid);
    this.cpuSamples.delete(uuid);
    this.domains = this.domains.filter((d) => d.uuid !== uuid);
  }

  private async readState(h: LibvirtLike, d: LibvirtDomain): Promise<DomainState> {
    return domainStateFromLibvirt((await h.domainGetInfo(d)).state);
  }

  /** Re-reads one domain after an action, records its state and patches the last snapshot. */
  private async refreshDomain(h: LibvirtLike, d: LibvirtDomain, uuid: string): Promise<DomainSnapshot> {
    const row = await this.readDomain(h, d);
    if (!row) throw new HypervisorError('not_found', `lookup of ${this.nameOf(uuid)} failed: Domain not found`);
    this.recordState(row.uuid, row.name, row.state);
    const previous = this.domains.find((x) => x.uuid === uuid);
    // CPU % needs two samples at poll spacing; keep the last poll's figure while running.
    const snap = this.snapshotOf(row, domainIsRunning(row.state) ? (previous?.cpuPercent ?? null) : null);
    if (!domainIsRunning(row.state)) this.cpuSamples.delete(uuid);
    this.domains = previous
      ? this.domains.map((x) => (x.uuid === uuid ? snap : x))
      : [...this.domains, snap].sort((a, b) => a.name.localeCompare(b.name));
    return { ...snap };
  }

  // ---- action plumbing ------------------------------------------------------------------------

  private async runAction(
    uuid: string,
    action: DomainAction,
    body: (h: LibvirtLike, d: LibvirtDomain, name: string) => Promise<void>,
  ): Promise<void> {
    let name = this.nameOf(uuid);
    const h = this.requireHandle(action, name);
    let d: LibvirtDomain;
    try {
      d = await h.domainLookupByUUIDString(uuid);
      name = await h.domainGetName(d);
      await body(h, d, name);
    } catch (err) {
      throw this.actionFailed(action, name, err);
    }
    // The action succeeded; announce it before the state change it caused, so listeners can
    // tell "shut down on request" from "went off by itself".
    this.afterAction(uuid, name, action);
    try {
      await this.refreshDomain(h, d, uuid);
    } catch (err) {
      this.log('warn', 'domain_refresh_failed', { hostId: this.id, uuid, name, action, error: messageOf(err) });
    }
  }

  private afterAction(uuid: string, name: string, action: DomainAction): void {
    this.log('info', 'domain_action', { hostId: this.id, uuid, name, action });
    this.safeEmit('action', { uuid, name, action });
  }

  private actionFailed(action: string, name: string, err: unknown): HypervisorError {
    const failure = toHypervisorError(action, name, err);
    this.log('warn', 'domain_action_failed', {
      hostId: this.id,
      name,
      action,
      code: failure.code,
      error: failure.libvirtMessage || failure.message,
    });
    return failure;
  }

  private requireHandle(action: string, target: string): LibvirtLike {
    if (this.status !== 'connected' || !this.handle) {
      throw new HypervisorError('not_connected', `${action} of ${target} failed: host ${this.uri} is ${this.status}`);
    }
    return this.handle;
  }

  private nameOf(uuid: string): string {
    return this.known.get(uuid)?.name ?? uuid;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.clock.setTimeout(resolve, ms));
  }

  /** A throwing listener must not break polling or turn a successful action into a failure. */
  private safeEmit<K extends keyof HypervisorConnectionEvents>(event: K, ...args: HypervisorConnectionEvents[K]): void {
    try {
      (this.emit as (e: K, ...a: HypervisorConnectionEvents[K]) => boolean)(event, ...args);
    } catch (err) {
      this.log('error', 'hypervisor_listener_failed', { hostId: this.id, event, error: messageOf(err) });
    }
  }
}

/** One domain as a poll read it: the snapshot's fields less those the connection adds, plus the CPU sample. */
type DomainRow = Omit<DomainSnapshot, 'hostId' | 'cpuPercent'> & CpuSample;

function nameFromXml(xml: string): string | undefined {
  return /<name>\s*([^<]+?)\s*<\/name>/.exec(xml)?.[1];
}
