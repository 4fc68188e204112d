// SIMULATED guests: one local guest-server process per running sandbox domain this app manages,
// driven by the connection's action/state events (start → spawn after a boot delay, suspend → SIGSTOP…).
// It must never touch libvirt itself, and never run a guest for a domain it was not told to manage.
import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import type { Clock, TimerHandle } from '../clock';
import type {
  ActionEvent,
  DomainState,
  HypervisorConnection,
  LogFn,
  StateChangeEvent,
} from '../hypervisor';

export interface ManagerAddress {
  host: string;
  port: number;
}

export interface SandboxGuestRuntimeOptions {
  connection: HypervisorConnection;
  /** Path of the bundled guest server (guest-server/dist/guest-server.js), run with this Node binary. */
  guestScript: string;
  /** Simulated boot time between a domain starting and its guest process spawning, in ms. @default 2000 */
  bootDelayMs?: number;
  /**
   * Simulated restore time of a saved domain, in ms. @default 45 % of bootDelayMs: on real TCG
   * guests a restore served in ~2.2 s where a boot took ~5.1 s (npm run bench:kvm).
   */
  restoreDelayMs?: number;
  /** Throttle of each guest worker, in hashes per second per vCPU (sandbox capacity grows with pool size). */
  hashRatePerVcpu: number;
  /** Where guests dial in; read at each spawn, so the agent port may be bound after construction. */
  manager: () => ManagerAddress;
  /** Pool token the guests present when they register; a function is read at each spawn
   *  (the pool learns its token only when it adopts existing members). */
  token: string | (() => string);
  clock: Clock;
  log?: LogFn;
  /** Appended to every guest's command line. @default [] */
  extraArgs?: string[];
  /** Grace between SIGTERM and SIGKILL for a graceful stop, in ms. @default 5000 */
  stopTimeoutMs?: number;
  /** Node binary that runs the guest script. @default process.execPath */
  nodePath?: string;
}

export interface ManagedDomain {
  uuid: string;
  name: string;
  vcpus: number;
}

export type GuestProcessState = 'running' | 'paused' | 'stopping';

export interface GuestInfo {
  uuid: string;
  pid: number;
  state: GuestProcessState;
}

export interface GuestSpawnedEvent {
  uuid: string;
  name: string;
  pid: number;
}

export interface GuestExitedEvent {
  uuid: string;
  /** False when the process died on its own (the simulated VM crashed), not because we stopped it. */
  expected: boolean;
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface SandboxGuestRuntimeEvents {
  spawned: [GuestSpawnedEvent];
  exited: [GuestExitedEvent];
}

interface GuestProcess {
  child: ChildProcess;
  pid: number;
  state: GuestProcessState;
  exited: Promise<void>;
  killTimer?: TimerHandle;
}

interface ManagedEntry extends ManagedDomain {
  /** Last domain state seen for this domain (from events or the snapshot at manage time). */
  domainState: DomainState | undefined;
  bootTimer?: TimerHandle;
  /** Bumped by every stop, so a boot scheduled before it never spawns. */
  generation: number;
  guest?: GuestProcess;
}

const MAX_LOGGED_LINE_CHARS = 2000;

export class SandboxGuestRuntime extends EventEmitter<SandboxGuestRuntimeEvents> {
  private readonly connection: HypervisorConnection;
  private readonly guestScript: string;
  private readonly bootDelayMs: number;
  private readonly restoreDelayMs: number;
  private readonly hashRatePerVcpu: number;
  private readonly manager: () => ManagerAddress;
  private readonly token: () => string;
  private readonly clock: Clock;
  private readonly log: LogFn;
  private readonly extraArgs: string[];
  private readonly stopTimeoutMs: number;
  private readonly nodePath: string;
  private readonly managed = new Map<string, ManagedEntry>();
  /** Processes of domains no longer managed that are still exiting; stopAll waits for them too. */
  private readonly orphans = new Set<GuestProcess>();
  private readonly onAction = (e: ActionEvent): void => this.handleAction(e);
  private readonly onState = (e: StateChangeEvent): void => this.handleState(e);

  constructor(options: SandboxGuestRuntimeOptions) {
    super();
    this.connection = options.connection;
    this.guestScript = options.guestScript;
    this.bootDelayMs = options.bootDelayMs ?? 2000;
    this.restoreDelayMs = options.restoreDelayMs ?? Math.round(this.bootDelayMs * 0.45);
    this.hashRatePerVcpu = options.hashRatePerVcpu;
    this.manager = options.manager;
    const token = options.token;
    this.token = typeof token === 'function' ? token : () => token;
    this.clock = options.clock;
    this.log = options.log ?? (() => undefined);
    this.extraArgs = options.extraArgs ?? [];
    this.stopTimeoutMs = options.stopTimeoutMs ?? 5000;
    this.nodePath = options.nodePath ?? process.execPath;
    this.connection.on('action', this.onAction);
    this.connection.on('state', this.onState);
  }

  /** Gives this domain a simulated guest whenever it runs; boots one now if it is already running. */
  manage(domain: ManagedDomain): void {
    const existing = this.managed.get(domain.uuid);
    if (existing) {
      existing.name = domain.name;
      existing.vcpus = domain.vcpus;
      return;
    }
    const known = this.connection.snapshot().domains.find((d) => d.uuid === domain.uuid);
    const entry: ManagedEntry = { ...domain, domainState: known?.state, generation: 0 };
    this.managed.set(domain.uuid, entry);
    if (entry.domainState === 'running' || entry.domainState === 'paused') this.scheduleBoot(entry, 'adopted');
  }

  /** Stops simulating this domain: cancels a pending boot and kills its process (SIGKILL). */
  unmanage(uuid: string): void {
    const entry = this.managed.get(uuid);
    if (!entry) return;
    this.stop(entry, 'kill', 'unmanaged');
    if (entry.guest) this.orphans.add(entry.guest);
    this.managed.delete(uuid);
  }

  guestPid(uuid: string): number | undefined {
    return this.managed.get(uuid)?.guest?.pid;
  }

  guests(): GuestInfo[] {
    const out: GuestInfo[] = [];
    for (const entry of this.managed.values()) {
      if (entry.guest) out.push({ uuid: entry.uuid, pid: entry.guest.pid, state: entry.guest.state });
    }
    return out;
  }

  /** Cancels every pending boot, SIGKILLs every guest, and resolves once all of them have exited. */
  async stopAll(): Promise<void> {
    const waits: Promise<void>[] = [];
    for (const entry of this.managed.values()) {
      this.stop(entry, 'kill', 'stop_all');
      if (entry.guest) waits.push(entry.guest.exited);
    }
    for (const orphan of this.orphans) {
      signal(orphan, 'SIGKILL');
      waits.push(orphan.exited);
    }
    await Promise.all(waits);
  }

  /** stopAll, then stops listening to the connection. The runtime is unusable afterwards. */
  async dispose(): Promise<void> {
    this.connection.off('action', this.onAction);
    this.connection.off('state', this.onState);
    await this.stopAll();
    this.managed.clear();
  }

  // ---- event handling -------------------------------------------------------------------------

  private handleAction(e: ActionEvent): void {
    const entry = this.managed.get(e.uuid);
    if (!entry) return;
    switch (e.action) {
      case 'start':
        entry.domainState = 'running';
        this.scheduleBoot(entry, 'start');
        break;
      case 'shutdown':
        this.stop(entry, 'graceful', 'shutdown');
        break;
      case 'forceoff':
        this.stop(entry, 'kill', 'forceoff');
        break;
      case 'save':
        // The saved state is on disk; the simulated guest process goes (a restore boots a new one).
        entry.domainState = 'shutoff';
        this.stop(entry, 'kill', 'save');
        break;
      case 'restore':
        entry.domainState = 'running';
        this.scheduleBoot(entry, 'restore', this.restoreDelayMs);
        break;
      case 'suspend':
        entry.domainState = 'paused';
        this.pause(entry);
        break;
      case 'resume':
        entry.domainState = 'running';
        this.unpause(entry);
        break;
      case 'reboot':
        // The reboot's own state events already stopped and re-booted the guest; this covers a
        // host whose shutdown never showed as shutoff to us.
        entry.domainState = 'running';
        this.scheduleBoot(entry, 'reboot');
        break;
      case 'define':
      case 'undefine':
        break;
    }
  }

  private handleState(e: StateChangeEvent): void {
    const entry = this.managed.get(e.uuid);
    if (!entry) return;
    entry.domainState = e.to;
    switch (e.to) {
      case 'running':
      case 'blocked':
        if (e.from === 'paused' || e.from === 'pmsuspended') this.unpause(entry);
        else this.scheduleBoot(entry, `state_${e.from}_to_${e.to}`);
        break;
      case 'paused':
      case 'pmsuspended':
        this.pause(entry);
        break;
      case 'shutoff':
      case 'crashed':
        // Off by any route (guest shutdown, another tool, a crash): the simulated guest goes too.
        this.stop(entry, e.to === 'crashed' ? 'kill' : 'graceful', `state_${e.to}`);
        break;
      case 'shutdown':
      case 'nostate':
        break;
    }
  }

  // ---- process control ------------------------------------------------------------------------

  /** Idempotent: does nothing while a boot is pending or a live guest (not stopping) exists. */
  private scheduleBoot(entry: ManagedEntry, reason: string, delayMs = this.bootDelayMs): void {
    if (entry.bootTimer) return;
    if (entry.guest && entry.guest.state !== 'stopping') return;
    const generation = entry.generation;
    this.log('info', 'sandbox_guest_boot_scheduled', {
      uuid: entry.uuid,
      name: entry.name,
      bootDelayMs: delayMs,
      reason,
      simulated: true,
    });
    entry.bootTimer = this.clock.setTimeout(() => {
      entry.bootTimer = undefined;
      void this.bootWhenFree(entry, generation);
    }, delayMs);
  }

  /** Spawns once the previous process of this domain (if still exiting) is gone. */
  private async bootWhenFree(entry: ManagedEntry, generation: number): Promise<void> {
    const previous = entry.guest;
    if (previous && previous.state === 'stopping') await previous.exited;
    if (entry.generation !== generation || this.managed.get(entry.uuid) !== entry || entry.guest) return;
    this.spawnGuest(entry);
  }

  private spawnGuest(entry: ManagedEntry): void {
    const manager = this.manager();
    const args = [
      this.guestScript,
      '--listen',
      '127.0.0.1:0',
      '--manager',
      `${manager.host}:${manager.port}`,
      '--uuid',
      entry.uuid,
      // One argument: a token may begin with '-', which would read as an option.
      `--token=${this.token()}`,
      '--vcpus',
      String(entry.vcpus),
      '--workers',
      String(entry.vcpus),
      '--hash-rate',
      String(this.hashRatePerVcpu),
      '--exit-with-stdin',
      ...this.extraArgs,
    ];
    // Own process group: a terminal's Ctrl-C is for the manager, which then stops guests in order.
    // The stdin pipe ends the guest (--exit-with-stdin) if the manager dies without stopping it.
    const child = spawn(this.nodePath, args, { stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    const pid = child.pid;
    if (pid === undefined) {
      // Spawn failed synchronously (e.g. the Node binary is gone); 'error' carries the reason.
      child.once('error', (err) => {
        this.log('error', 'sandbox_guest_spawn_failed', { uuid: entry.uuid, name: entry.name, error: err.message, simulated: true });
      });
      return;
    }
    let resolveExited: () => void = () => undefined;
    const guest: GuestProcess = {
      child,
      pid,
      state: 'running',
      exited: new Promise<void>((resolve) => (resolveExited = resolve)),
    };
    entry.guest = guest;
    this.forwardOutput(entry, pid, child);
    child.on('error', (err) => {
      this.log('error', 'sandbox_guest_process_error', { uuid: entry.uuid, pid, error: err.message, simulated: true });
    });
    child.once('exit', (code, sig) => {
      if (guest.killTimer) this.clock.clearTimeout(guest.killTimer);
      const expected = guest.state === 'stopping';
      if (entry.guest === guest) entry.guest = undefined;
      this.orphans.delete(guest);
      this.log(expected ? 'info' : 'warn', 'sandbox_guest_exited', {
        uuid: entry.uuid,
        name: entry.name,
        pid,
        code,
        signal: sig,
        expected,
        simulated: true,
      });
      resolveExited();
      this.emitSafely('exited', { uuid: entry.uuid, code, signal: sig, expected });
    });
    this.log('info', 'sandbox_guest_spawned', {
      uuid: entry.uuid,
      name: entry.name,
      pid,
      vcpus: entry.vcpus,
      hashRatePerVcpu: this.hashRatePerVcpu,
      simulated: true,
    });
    this.emitSafely('spawned', { uuid: entry.uuid, name: entry.name, pid });
    // Suspended while it was "booting": the simulated guest starts frozen too.
    if (entry.domainState === 'paused' || entry.domainState === 'pmsuspended') this.pause(entry);
  }

  private stop(entry: ManagedEntry, how: 'graceful' | 'kill', reason: string): void {
    entry.generation++;
    if (entry.bootTimer) {
      this.clock.clearTimeout(entry.bootTimer);
      entry.bootTimer = undefined;
      this.log('info', 'sandbox_guest_boot_cancelled', { uuid: entry.uuid, name: entry.name, reason, simulated: true });
    }
    const guest = entry.guest;
    if (!guest) return;
    if (how === 'kill') {
      if (guest.killTimer) this.clock.clearTimeout(guest.killTimer);
      guest.killTimer = undefined;
      guest.state = 'stopping';
      this.log('info', 'sandbox_guest_signal', { uuid: entry.uuid, pid: guest.pid, signal: 'SIGKILL', reason, simulated: true });
      signal(guest, 'SIGKILL');
      return;
    }
    if (guest.state === 'stopping') return;
    const wasPaused = guest.state === 'paused';
    guest.state = 'stopping';
    this.log('info', 'sandbox_guest_signal', { uuid: entry.uuid, pid: guest.pid, signal: 'SIGTERM', reason, simulated: true });
    signal(guest, 'SIGTERM');
    // A stopped process only acts on SIGTERM once continued.
    if (wasPaused) signal(guest, 'SIGCONT');
    guest.killTimer = this.clock.setTimeout(() => {
      guest.killTimer = undefined;
      this.log('warn', 'sandbox_guest_signal', {
        uuid: entry.uuid,
        pid: guest.pid,
        signal: 'SIGKILL',
        reason: 'stop_timeout',
        stopTimeoutMs: this.stopTimeoutMs,
        simulated: true,
      });
      signal(guest, 'SIGKILL');
    }, this.stopTimeoutMs);
  }

  private pause(entry: ManagedEntry): void {
    const guest = entry.guest;
    if (!guest || guest.state !== 'running') return;
    guest.state = 'paused';
    this.log('info', 'sandbox_guest_signal', { uuid: entry.uuid, pid: guest.pid, signal: 'SIGSTOP', simulated: true });
    signal(guest, 'SIGSTOP');
  }

  private unpause(entry: ManagedEntry): void {
    const guest = entry.guest;
    if (!guest || guest.state !== 'paused') return;
    guest.state = 'running';
    this.log('info', 'sandbox_guest_signal', { uuid: entry.uuid, pid: guest.pid, signal: 'SIGCONT', simulated: true });
    signal(guest, 'SIGCONT');
  }

  /** Guest output goes to the log line by line (and must be read, or a chatty guest blocks on a full pipe). */
  private forwardOutput(entry: ManagedEntry, pid: number, child: ChildProcess): void {
    for (const [stream, readable] of [
      ['stdout', child.stdout],
      ['stderr', child.stderr],
    ] as const) {
      if (!readable) continue;
      readable.setEncoding('utf8');
      let pending = '';
      readable.on('data', (chunk: string) => {
        pending += chunk;
        let newline = pending.indexOf('\n');
        while (newline >= 0) {
          const line = pending.slice(0, newline);
          pending = pending.slice(newline + 1);
          if (line.trim() !== '') this.logGuestLine(entry, pid, stream, line);
          newline = pending.indexOf('\n');
        }
        if (pending.length > MAX_LOGGED_LINE_CHARS) {
          this.logGuestLine(entry, pid, stream, pending);
          pending = '';
        }
      });
    }
  }

  private logGuestLine(entry: ManagedEntry, pid: number, stream: 'stdout' | 'stderr', line: string): void {
    // The guest server logs JSON lines to stderr: keep its own level; anything else on stderr is a warning.
    this.log(guestLineLevel(line) ?? (stream === 'stderr' ? 'warn' : 'debug'), 'sandbox_guest_output', {
      uuid: entry.uuid,
      pid,
      stream,
      line: line.slice(0, MAX_LOGGED_LINE_CHARS),
      simulated: true,
    });
  }

  private emitSafely<K extends keyof SandboxGuestRuntimeEvents>(event: K, ...args: SandboxGuestRuntimeEvents[K]): void {
    try {
      (this.emit as (e: K, ...a: SandboxGuestRuntimeEvents[K]) => boolean)(event, ...args);
    } catch (err) {
      this.log('error', 'sandbox_listener_failed', { event, error: err instanceof Error ? err.message : String(err) });
    }
  }
}

/** Sends a signal, ignoring a process that already exited (ESRCH). */
function signal(guest: GuestProcess, sig: NodeJS.Signals): void {
  try {
    guest.child.kill(sig);
  } catch {
    // Already gone: its 'exit' event finishes the bookkeeping.
  }
}

/** The level of a guest's JSON log line ({"level":"info",…}); undefined for anything else. */
export function guestLineLevel(line: string): 'debug' | 'info' | 'warn' | 'error' | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    const level = (JSON.parse(line) as { level?: unknown }).level;
    return level === 'debug' || level === 'info' || level === 'warn' || level === 'error' ? level : undefined;
  } catch {
    return undefined;
  }
}
