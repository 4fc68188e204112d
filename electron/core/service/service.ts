// The service API the desktop IPC and the web mode both carry: one handler per contract command,
// answering {ok, value} or {ok:false, error:{code, message}}, and push events (state coalesced to
// at most ~10 a second, samples, event-log entries, errors). Transport-free and Electron-free.
import {
  commands,
  isCommandName,
  parseCommandInput,
  type AppState,
  type CommandHandlers,
  type CommandName,
  type CommandOutput,
  type CommandParsed,
  type DomainView,
  type PushEventName,
  type PushEventPayload,
  type Result,
} from '../../contract/contract';
import type { Clock, TimerHandle } from '../clock';
import { HypervisorError } from '../hypervisor/errors';
import type { HostSnapshot } from '../hypervisor/types';
import { parseTraceCsv, traceProfile } from '../loadgen/trace';
import type { ControlPlane } from './control-plane';
import type { EventLog } from './event-log';
import type { OpenedHosts } from './hosts';
import { isSandboxUri } from './hosts';

export type PushListener = <E extends PushEventName>(event: E, payload: PushEventPayload<E>) => void;

export interface CmsServiceOptions {
  clock: Clock;
  plane: ControlPlane;
  hosts: OpenedHosts;
  events: EventLog;
  /** Shuts everything down and exits; the carrier decides how the process ends. */
  onQuit: () => void;
  /** Shortest gap between two state pushes, ms. @default 100 */
  stateIntervalMs?: number;
}

/** Codes of errors that mean "your input was wrong": the contract reports them as bad_request. */
const BAD_REQUEST_CODES = new Set([
  'config_invalid',
  'profile_invalid',
  'invalid_rate',
  'invalid_inter_request',
  'trace_parse',
  'trace_read',
  'AUTOSCALER_CONFIG_INVALID',
  'AUTOSCALER_BAD_ARGUMENT',
  'bad_size',
]);

/** Maps any thrown error to the contract's error shape with a stable code. */
export function toContractError(error: unknown): { code: string; message: string } {
  if (error instanceof HypervisorError) return { code: error.code === 'not_connected' ? 'unavailable' : error.code, message: error.message };
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string') return { code: BAD_REQUEST_CODES.has(code) ? 'bad_request' : code, message: error.message };
    if (error instanceof RangeError) return { code: 'bad_request', message: error.message };
    return { code: 'internal', message: error.message };
  }
  return { code: 'internal', message: String(error) };
}

export class CmsService {
  private readonly clock: Clock;
  private readonly plane: ControlPlane;
  private readonly hosts: OpenedHosts;
  private readonly events: EventLog;
  private readonly onQuit: () => void;
  private readonly stateIntervalMs: number;
  private readonly listeners = new Set<PushListener>();
  private readonly disposers: Array<() => void> = [];
  /** When each non-member domain was first seen running, for its uptime. */
  private readonly runningSinceMs = new Map<string, number>();
  private stateTimer: TimerHandle | null = null;
  private lastStateAtMs = -Infinity;
  private quitting = false;

  constructor(options: CmsServiceOptions) {
    this.clock = options.clock;
    this.plane = options.plane;
    this.hosts = options.hosts;
    this.events = options.events;
    this.onQuit = options.onQuit;
    this.stateIntervalMs = options.stateIntervalMs ?? 100;
    const onSample = (sample: PushEventPayload<'metrics:sample'>): void => {
      this.push('metrics:sample', sample);
      this.stateChanged();
    };
    const onPool = (): void => this.stateChanged();
    this.plane.on('sample', onSample);
    this.plane.on('pool', onPool);
    this.plane.on('decision', onPool);
    this.disposers.push(() => {
      this.plane.off('sample', onSample);
      this.plane.off('pool', onPool);
      this.plane.off('decision', onPool);
    });
    this.disposers.push(this.events.subscribe((entry) => {
      this.push('events:entry', entry);
      if (entry.event === 'action_failed') {
        this.push('notify:error', { title: `${String(entry.action ?? 'action')} failed`, message: String(entry.message ?? ''), vm: typeof entry.name === 'string' ? entry.name : null });
      }
    }));
    this.followHosts();
  }

  /** Receives every push event; returns the unsubscribe function. */
  subscribe(listener: PushListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Handles one command from an untrusted carrier: unknown channels and bad payloads are refused. */
  async handle(channel: unknown, payload: unknown): Promise<Result<unknown>> {
    if (!isCommandName(channel)) return { ok: false, error: { code: 'unknown_channel', message: `unknown channel ${JSON.stringify(channel)}` } };
    const input = parseCommandInput(channel, payload);
    if (!input.ok) return input;
    try {
      const value = await this.run(channel, input.value);
      const output = commands[channel].output.safeParse(value);
      if (!output.success) return { ok: false, error: { code: 'internal', message: `${channel}: the app produced an invalid answer` } };
      this.stateChanged();
      return { ok: true, value: output.data };
    } catch (error) {
      return { ok: false, error: toContractError(error) };
    }
  }

  /** The whole state, as `state:get` answers and `state:update` pushes it. */
  state(): AppState {
    const status = this.plane.status();
    const domains: DomainView[] = [];
    for (const host of status.hosts) domains.push(...this.domainViews(host));
    const counts = status.pool.counts;
    const members = status.pool.members;
    return {
      hosts: status.hosts.map((host) => ({
        id: host.id,
        uri: host.uri,
        status: host.status,
        hostname: host.hostname ?? null,
        cpus: host.cpus ?? null,
        memoryKiB: host.memoryKiB ?? null,
        lastError: host.lastError ?? null,
        sandbox: isSandboxUri(host.uri),
      })),
      domains,
      pool: {
        name: status.pool.name,
        desired: status.pool.desired,
        min: status.pool.min,
        max: status.pool.max,
        warmPoolSize: status.pool.warmPoolSize,
        savedPoolSize: status.pool.savedPoolSize,
        healthy: counts.healthy,
        booting: counts.booting + counts.cloning,
        // Members warming up count toward the tier they are for.
        warm: counts.warm + members.filter((member) => member.phase === 'warming' && member.purpose === 'warm').length,
        saved: counts.saved + members.filter((member) => member.phase === 'warming' && member.purpose === 'saved').length,
      },
      load: status.load,
      scaling: status.scaling,
      outcomes: status.outcomes,
      latest: status.latest,
      agentAddress: status.agentAddress,
      sandboxNote: status.hosts.some((host) => isSandboxUri(host.uri))
        ? 'Sandbox VMs are simulated: libvirt test-driver domains, each served by a local guest-server process throttled to a fixed hash rate per vCPU.'
        : null,
      quitting: this.quitting,
    };
  }

  dispose(): void {
    for (const dispose of this.disposers.splice(0)) dispose();
    if (this.stateTimer) this.clock.clearTimeout(this.stateTimer);
    this.stateTimer = null;
    this.listeners.clear();
  }

  /** Reports quit progress to every carrier. */
  quitProgress(done: number, total: number, finished: boolean): void {
    this.quitting = true;
    this.push('quit:progress', { done, total, finished });
    this.stateChanged();
  }

  // ---- internals

  /** Every command's handler, typed by the contract: payloads arrive parsed, answers leave checked. */
  private readonly handlers: CommandHandlers = {
    'state:get': () => this.state(),
    'host:add': async ({ uri }) => {
      const binding = await this.hosts.add(uri);
      this.plane.addHost(binding);
      this.followHost(binding.host);
      return { id: binding.host.id };
    },
    'host:remove': async ({ hostId }) => {
      this.plane.removeHost(hostId);
      await this.hosts.remove(hostId);
      return null;
    },
    'domain:action': (input) => this.domainAction(input),
    'domain:xml': ({ hostId, uuid }) => this.host(hostId).domainXml(uuid),
    'pool:scale': ({ count }) => ({ desired: this.plane.scaleTo(count, 'set in the UI') }),
    'scaling:set': ({ policy }) => this.plane.setPolicy(policy),
    'scaling:pause': () => {
      this.plane.pauseAutoscaling();
      return null;
    },
    'scaling:resume': () => {
      this.plane.resumeAutoscaling();
      return null;
    },
    'load:set': (input) => {
      if ('interRequestS' in input) return this.plane.setInterRequestS(input.interRequestS);
      if ('rateRps' in input) return this.plane.setRateRps(input.rateRps);
      return this.plane.setLoadProfile(input.profile);
    },
    'load:trace': ({ name, text, timeScale, rateScale }) => this.plane.setLoadProfile(traceProfile(parseTraceCsv(text, name), { timeScale, rateScale }, name)),
    'load:digits': ({ digits }) => {
      this.plane.setDigits(digits);
      return null;
    },
    'load:pause': () => {
      this.plane.loadPause();
      return null;
    },
    'load:resume': () => {
      this.plane.loadResume();
      return null;
    },
    'events:export': () => this.events.exportJsonLines(),
    'app:quit': () => {
      this.quitting = true;
      this.onQuit();
      return null;
    },
  };

  private run<C extends CommandName>(channel: C, input: CommandParsed<C>): CommandOutput<C> | Promise<CommandOutput<C>> {
    return (this.handlers[channel] as (input: CommandParsed<C>) => CommandOutput<C> | Promise<CommandOutput<C>>)(input);
  }

  private host(hostId: string): ControlPlaneHostConnection {
    const binding = this.plane.hostBindings().find((candidate) => candidate.host.id === hostId);
    if (!binding) throw Object.assign(new Error(`no host ${hostId}`), { code: 'not_found' });
    return binding.host;
  }

  /** Runs one action on each target; every failure names the VM and carries libvirt's message. */
  private async domainAction(input: CommandParsed<'domain:action'>): Promise<CommandOutput<'domain:action'>> {
    const failed: Array<{ name: string; message: string }> = [];
    let done = 0;
    const templateName = this.plane.pool.templateName;
    for (const target of input.targets) {
      const host = this.host(target.hostId);
      const domain = host.snapshot().domains.find((candidate) => candidate.uuid === target.uuid);
      const name = domain?.name ?? target.uuid;
      try {
        if (!domain) throw Object.assign(new Error(`${name}: no such domain on ${target.hostId}`), { code: 'not_found' });
        if (domain.name === templateName && input.action === 'start') {
          // Every linked clone reads the template's disk: running it would change their base under them.
          throw Object.assign(new Error(`${name} is the pool template: starting it would change the disk every clone is based on`), { code: 'invalid_state' });
        }
        const member = this.plane.pool.member(target.uuid);
        switch (input.action) {
          case 'delete':
            if (!member) throw Object.assign(new Error(`${name} is not a pool clone: only clones can be deleted here`), { code: 'invalid_state' });
            await this.plane.pool.removeMember(target.uuid, 'deleted in the UI');
            break;
          case 'start':
            await host.domainStart(target.uuid);
            break;
          case 'shutdown':
            await host.domainShutdown(target.uuid);
            break;
          case 'forceoff':
            await host.domainForceOff(target.uuid);
            break;
          case 'reboot':
            await host.domainReboot(target.uuid);
            break;
          case 'suspend':
            await host.domainSuspend(target.uuid);
            break;
          case 'resume':
            await host.domainResume(target.uuid);
            break;
        }
        done += 1;
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        failed.push({ name, message });
        this.push('notify:error', { title: `${input.action} of ${name} failed`, message, vm: name });
      }
    }
    return { done, failed };
  }

  private domainViews(host: HostSnapshot): DomainView[] {
    const nowMs = this.clock.nowMs();
    const templateName = this.plane.pool.templateName;
    return host.domains.map((domain) => {
      const member = this.plane.pool.member(domain.uuid);
      const agent = member ? this.plane.agents.agent(domain.uuid) : undefined;
      const running = domain.state === 'running' || domain.state === 'blocked' || domain.state === 'paused';
      const key = `${host.id}/${domain.uuid}`;
      if (!running) this.runningSinceMs.delete(key);
      else if (!this.runningSinceMs.has(key)) this.runningSinceMs.set(key, nowMs);
      const since = member ? member.startedAtMs : this.runningSinceMs.get(key);
      return {
        hostId: host.id,
        uuid: domain.uuid,
        name: domain.name,
        state: domain.state,
        vcpus: domain.vcpus,
        memoryKiB: domain.memoryKiB,
        cpuPercent: domain.cpuPercent,
        role: member ? 'member' : domain.name === templateName ? 'template' : 'other',
        health: member ? member.phase : null,
        busy: agent?.lastLoad?.busy ?? null,
        inflight: agent?.outstanding ?? 0,
        uptimeS: running && since !== undefined ? Math.max(0, (nowMs - since) / 1000) : null,
      };
    });
  }

  private followHosts(): void {
    for (const binding of this.plane.hostBindings()) this.followHost(binding.host);
  }

  private followHost(host: ControlPlaneHostConnection): void {
    const onChange = (): void => this.stateChanged();
    host.on('poll', onChange);
    host.on('status', onChange);
    this.disposers.push(() => {
      host.off('poll', onChange);
      host.off('status', onChange);
    });
  }

  /** Coalesces state pushes: at most one per stateIntervalMs, always the latest. */
  private stateChanged(): void {
    if (this.stateTimer || this.listeners.size === 0) return;
    const waitMs = Math.max(0, this.lastStateAtMs + this.stateIntervalMs - this.clock.nowMs());
    this.stateTimer = this.clock.setTimeout(() => {
      this.stateTimer = null;
      this.lastStateAtMs = this.clock.nowMs();
      this.push('state:update', this.state());
    }, waitMs);
  }

  private push<E extends PushEventName>(event: E, payload: PushEventPayload<E>): void {
    for (const listener of this.listeners) {
      try {
        listener(event, payload);
      } catch {
        // One broken carrier must not starve the others.
      }
    }
  }
}

type ControlPlaneHostConnection = ReturnType<ControlPlane['hostBindings']>[number]['host'];
