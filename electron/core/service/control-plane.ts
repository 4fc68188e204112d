// The control plane: wires hosts, pool, agent port, load generator, balancer, autoscaler and
// metrics into one running system with one command surface. It holds no UI and no transport:
// the desktop IPC, the web mode and the CLI all drive it through the service API built on it.
import { EventEmitter } from 'node:events';
import type { Clock, TimerHandle } from '../clock';
import { AgentServer } from '../agents/agent-server';
import { Autoscaler, chooseVictims, type Decision } from '../autoscaler/autoscaler';
import type { MemberView, ScalingInputs } from '../autoscaler/inputs';
import type { PolicyConfig } from '../autoscaler/policies';
import { Balancer, type RequestOutcome } from '../balancer/balancer';
import type { HypervisorConnection } from '../hypervisor/connection';
import type { HostSnapshot } from '../hypervisor/types';
import { LoadGenerator } from '../loadgen/generator';
import { parseProfile, rateFromInterRequestS, type LoadProfile } from '../loadgen/profiles';
import type { Logger } from '../metrics/log';
import { MetricsSeries, SecondAggregator, type MetricsSample } from '../metrics/series';
import { Pool } from '../pool/pool';
import type { PoolEvent, PoolHostBinding, PoolMember, PoolStatus } from '../pool/types';
import type { ControlPlaneConfig } from './config';
import { demandFromLoad, elasticityMetrics, type ElasticityMetrics } from '../autoscaler/elasticity';
import { CapacityEstimator } from './capacity';

/** A host as the control plane holds it: its connection, plus what the pool needs to clone on it. */
export interface ControlPlaneHost extends PoolHostBinding {
  host: HypervisorConnection;
  /** Sandbox hosts: stops every simulated guest process. */
  stopGuests?: () => Promise<void>;
}

export interface ControlPlaneOptions {
  clock: Clock;
  log: Logger;
  hosts: ControlPlaneHost[];
  config: ControlPlaneConfig;
  /** Called before listening, so sandbox runtimes and real-guest XML know where to dial. */
  onAgentAddress?: (address: { host: string; port: number }) => void;
}

export interface OutcomeCounts {
  sent: number;
  ok: number;
  failed: number;
  expired: number;
  inflight: number;
  retries: number;
}

export interface LoadStatus {
  profile: LoadProfile;
  running: boolean;
  paused: boolean;
  offeredRps: number;
  digits: number;
  sent: number;
}

export interface ControlPlaneStatus {
  startedAtWallMs: number;
  uptimeS: number;
  hosts: HostSnapshot[];
  pool: PoolStatus;
  load: LoadStatus;
  scaling: { config: PolicyConfig; paused: boolean; lastReason: string | null };
  outcomes: OutcomeCounts;
  latest: MetricsSample | null;
  agentAddress: { host: string; port: number } | null;
}

export interface RunReport {
  config: ControlPlaneConfig;
  startedAt: string;
  durationS: number;
  series: MetricsSample[];
  outcomes: OutcomeCounts;
  decisions: Array<{ t: number; from: number; to: number; reason: string; kind: string; policy: string; inputs: Decision['inputs'] }>;
  elasticity: ElasticityMetrics & { demandDerivation: string; perMemberCapacityRps: number | null };
  vmSeconds: number;
  failures: Array<{ t: number; member: string; reason: string }>;
}

export type ControlPlaneEvents = {
  sample: [MetricsSample];
  decision: [Decision];
  pool: [PoolEvent];
  outcome: [RequestOutcome];
};

export class ControlPlane extends EventEmitter<ControlPlaneEvents> {
  readonly pool: Pool;
  readonly balancer: Balancer;
  readonly autoscaler: Autoscaler;
  readonly load: LoadGenerator;
  readonly series = new MetricsSeries();
  private readonly aggregator = new SecondAggregator();
  private readonly capacity = new CapacityEstimator();
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly hosts: ControlPlaneHost[];
  private config: ControlPlaneConfig;
  private digits: number;
  private readonly onAgentAddress: ((address: { host: string; port: number }) => void) | undefined;
  private startedAtMs = 0;
  private startedAtWallMs = 0;
  private sampleTimer: TimerHandle | null = null;
  private scaleTimer: TimerHandle | null = null;
  private address: { host: string; port: number } | null = null;
  private vmSecondsTotal = 0;
  private lastSampleAtMs = 0;
  /** VMs needed (demand) and healthy (supply) at each sample, for the elasticity metrics. */
  private readonly supplyDemand = { demand: [] as number[], supply: [] as number[] };
  private readonly failures: RunReport['failures'] = [];
  private readonly hostListeners = new Map<string, () => void>();
  private started = false;
  private stopped = false;
  /** Created in start(): the pool token it checks is only known once existing members are adopted. */
  private agentServer: AgentServer | null = null;

  constructor(options: ControlPlaneOptions) {
    super();
    this.clock = options.clock;
    this.log = options.log;
    this.hosts = [...options.hosts];
    this.config = options.config;
    this.digits = options.config.load.digits;
    this.onAgentAddress = options.onAgentAddress;
    const policy = options.config.policy;

    this.autoscaler = new Autoscaler({ clock: this.clock, source: { scalingInputs: () => this.scalingInputs() }, config: policy });
    this.pool = new Pool({
      clock: this.clock,
      name: options.config.pool.name,
      templateName: options.config.pool.templateName,
      hosts: [...this.hosts],
      agents: { agent: (uuid) => this.agentServer?.agent(uuid) },
      min: policy.min,
      max: policy.max,
      warmPoolSize: policy.warmPoolSize,
      savedPoolSize: policy.savedPoolSize,
      bootTimeoutMs: policy.bootTimeoutMs,
      drainTimeoutMs: options.config.pool.drainTimeoutMs,
      shutdownTimeoutMs: options.config.pool.shutdownTimeoutMs,
      placement: options.config.pool.placement,
      onEvent: (event) => this.onPoolEvent(event),
      chooseVictims: (members, count) => chooseVictims(members.map((member) => this.memberView(member)), count),
    });
    this.balancer = new Balancer({
      clock: this.clock,
      members: () => this.servingAgents(),
      deadlineMs: options.config.balancer.deadlineMs,
      attemptTimeoutMs: options.config.balancer.attemptTimeoutMs > 0 ? options.config.balancer.attemptTimeoutMs : undefined,
      maxRetries: options.config.balancer.maxRetries,
      retryBudgetRatio: options.config.balancer.retryBudgetRatio,
      log: this.log,
    });
    this.load = new LoadGenerator({
      clock: this.clock,
      profile: options.config.load.profile,
      arrivals: options.config.load.arrivals,
      onArrival: (arrival) => this.onArrival(arrival.seq, arrival.intendedAtMs),
    });
  }

  /** Opens the agent port, adopts existing members, and starts the loops and the load. */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    this.startedAtMs = this.clock.nowMs();
    this.startedAtWallMs = this.clock.wallMs();
    this.lastSampleAtMs = this.startedAtMs;
    const adopted = await this.pool.adopt();
    this.agentServer = new AgentServer({
      clock: this.clock,
      host: this.config.agent.host,
      port: this.config.agent.port,
      token: this.pool.token,
      isKnownMember: (uuid) => this.pool.isMember(uuid),
      heartbeatTimeoutMs: this.config.agent.heartbeatTimeoutMs,
      log: this.log,
    });
    this.wireEvents();
    this.address = await this.agents.listen();
    this.onAgentAddress?.(this.address);
    this.log.info('control_plane_started', {
      agentHost: this.address.host,
      agentPort: this.address.port,
      hosts: this.hosts.map((binding) => binding.host.snapshot().uri),
      adopted: adopted.map((member) => member.name),
      sandbox: this.hosts.some((binding) => binding.stopGuests !== undefined),
    });
    // Adopted members keep their place (adopt() raised the desired size to them); the policy sizes the pool from there.
    this.pool.start();
    this.scheduleSample();
    this.scheduleScale();
    if (this.config.load.running) this.load.start();
  }

  /** The agent port; exists once start() has run. */
  get agents(): AgentServer {
    if (!this.agentServer) throw new Error('control plane not started');
    return this.agentServer;
  }

  // ---- commands

  setLoadProfile(input: unknown): LoadProfile {
    const profile = parseProfile(input);
    this.load.setProfile(profile);
    this.config = { ...this.config, load: { ...this.config.load, profile } };
    this.log.info('load_profile_set', { profile });
    return profile;
  }

  /** The original's console command: seconds between requests. */
  setInterRequestS(seconds: number): LoadProfile {
    return this.setLoadProfile({ kind: 'constant', rateRps: rateFromInterRequestS(seconds) });
  }

  setRateRps(rateRps: number): LoadProfile {
    return this.setLoadProfile({ kind: 'constant', rateRps });
  }

  setDigits(digits: number): void {
    this.digits = this.parseDigits(digits);
    this.config = { ...this.config, load: { ...this.config.load, digits: this.digits } };
    this.log.info('load_digits_set', { digits: this.digits });
  }

  loadStart(): void {
    this.load.start();
  }

  loadPause(): void {
    this.load.pause();
    this.log.info('load_paused', {});
  }

  loadResume(): void {
    this.load.resume();
    this.log.info('load_resumed', {});
  }

  setPolicy(input: unknown): PolicyConfig {
    const policy = this.autoscaler.setConfig(input);
    this.pool.setBounds({ min: policy.min, max: policy.max, warmPoolSize: policy.warmPoolSize, savedPoolSize: policy.savedPoolSize, bootTimeoutMs: policy.bootTimeoutMs });
    this.config = { ...this.config, policy };
    this.log.info('policy_set', { policy });
    this.scheduleScale();
    return policy;
  }

  /** Manual override: the desired size now (held while autoscaling is paused). */
  scaleTo(count: number, reason?: string): number {
    const decision = this.autoscaler.scaleTo(count, reason);
    if (decision) this.applyDecision(decision);
    return this.pool.desired;
  }

  pauseAutoscaling(): void {
    this.autoscaler.pause();
    this.log.info('autoscaling_paused', {});
  }

  resumeAutoscaling(): void {
    this.autoscaler.resume();
    this.log.info('autoscaling_resumed', {});
  }

  // ---- queries

  status(): ControlPlaneStatus {
    const load = this.load.status();
    return {
      startedAtWallMs: this.startedAtWallMs,
      uptimeS: this.started ? (this.clock.nowMs() - this.startedAtMs) / 1000 : 0,
      hosts: this.hosts.map((binding) => binding.host.snapshot()),
      pool: this.pool.status(),
      load: { profile: this.config.load.profile, running: load.running, paused: load.paused, offeredRps: load.offeredRps, digits: this.digits, sent: load.sent },
      scaling: { config: this.autoscaler.getConfig(), paused: this.autoscaler.isPaused(), lastReason: this.autoscaler.lastEvaluation()?.reason ?? null },
      outcomes: this.outcomes(),
      latest: this.series.latest() ?? null,
      agentAddress: this.address,
    };
  }

  outcomes(): OutcomeCounts {
    const counts = this.balancer.counts();
    return { sent: counts.sent, ok: counts.ok, failed: counts.failed, expired: counts.expired, inflight: counts.inflight, retries: counts.retries };
  }

  decisions(): Decision[] {
    return this.autoscaler.decisions();
  }

  report(): RunReport {
    const durationS = (this.clock.nowMs() - this.startedAtMs) / 1000;
    return {
      config: this.config,
      startedAt: new Date(this.startedAtWallMs).toISOString(),
      durationS,
      series: this.series.all(),
      outcomes: this.outcomes(),
      decisions: this.autoscaler.decisions().map((decision) => ({
        t: (decision.atMs - this.startedAtMs) / 1000,
        from: decision.from,
        to: decision.to,
        reason: decision.reason,
        kind: decision.kind,
        policy: decision.policy,
        inputs: decision.inputs,
      })),
      elasticity: {
        ...elasticityMetrics({ ...this.supplyDemand, stepMs: this.config.sampleMs }),
        demandDerivation: 'demand(t) = ceil(offered rps(t) / per-member capacity rps), capacity measured from guest heartbeats (hashes/s ÷ busy) ÷ 16^digits',
        perMemberCapacityRps: this.capacity.capacityRps(this.digits),
      },
      vmSeconds: this.vmSecondsTotal,
      failures: [...this.failures],
    };
  }

  /**
   * Stops the load, lets in-flight requests end (up to `drainMs`), and (by default) shuts the
   * pool down: ACPI, then force off. Nothing this control plane started is left running.
   */
  async stop(options: { shutdownPool?: boolean; drainMs?: number } = {}): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    const shutdownPool = options.shutdownPool ?? true;
    this.log.info('shutdown_started', { shutdownPool });
    this.load.stop();
    // Detach before the agent port closes, or its "connection closed" ejections would fail members.
    if (!shutdownPool) this.pool.detach();
    if (this.sampleTimer) this.clock.clearTimeout(this.sampleTimer);
    if (this.scaleTimer) this.clock.clearTimeout(this.scaleTimer);
    await this.drainRequests(options.drainMs ?? 3000);
    this.balancer.failAll('shutdown');
    if (shutdownPool) await this.pool.shutdown();
    await this.agentServer?.close();
    for (const dispose of this.hostListeners.values()) dispose();
    this.hostListeners.clear();
    if (shutdownPool) for (const binding of this.hosts) await binding.stopGuests?.();
    this.log.info('shutdown_finished', { outcomes: this.outcomes(), vmSeconds: Math.round(this.vmSecondsTotal) });
  }

  // ---- internals

  private parseDigits(digits: number): number {
    if (!Number.isInteger(digits) || digits < 1 || digits > 8) throw new RangeError(`digits must be a whole number from 1 to 8, got ${digits}`);
    return digits;
  }

  private wireEvents(): void {
    this.agents.on('registered', (agent) => {
      this.log.info('member_accepted', { uuid: agent.uuid, name: this.pool.member(agent.uuid)?.name, address: agent.address, hostname: agent.hostname, vcpus: agent.vcpus });
      this.pool.noteRegistered(agent.uuid, agent.address);
      this.balancer.membersChanged();
    });
    this.agents.on('ejected', (event) => {
      if (event.reason !== 'kicked') {
        this.log.warn('member_ejected', { uuid: event.uuid, name: this.pool.member(event.uuid)?.name, reason: event.reason, detail: event.detail });
      }
      this.pool.noteEjected(event.uuid, `${event.reason}${event.detail ? ` (${event.detail})` : ''}`);
      this.balancer.membersChanged();
    });
    this.agents.on('rejected', (event) => this.log.warn('agent_rejected', { ...event }));
    this.agents.on('load', (event) => this.capacity.observe(event.load));
    for (const binding of this.hosts) this.wireHost(binding);
  }

  /** Follows one host's polls, status and (sandbox) guest exits; the disposer undoes it. */
  private wireHost(binding: ControlPlaneHost): void {
    const onPoll = (snapshot: HostSnapshot): void => this.pool.noteHostPoll(snapshot.id, snapshot.domains);
    const onStatus = (event: { status: string; error?: string }): void => {
      const level = event.status === 'connected' ? 'info' : 'warn';
      this.log[level]('host_status', { host: binding.host.id, uri: binding.host.snapshot().uri, status: event.status, error: event.error });
    };
    const onGuestExit = (event: { uuid: string; code: number | null; signal: NodeJS.Signals | null; expected: boolean }): void => {
      if (!event.expected) this.pool.noteGuestCrashed(event.uuid, event.signal ? `signal ${event.signal}` : `code ${event.code}`);
    };
    binding.host.on('poll', onPoll);
    binding.host.on('status', onStatus);
    binding.runtime?.on('exited', onGuestExit);
    this.hostListeners.set(binding.host.id, () => {
      binding.host.off('poll', onPoll);
      binding.host.off('status', onStatus);
      binding.runtime?.off('exited', onGuestExit);
    });
  }

  /** Adds a host at run time: listed at once, and the pool may place members on it. */
  addHost(binding: ControlPlaneHost): void {
    if (this.hosts.some((existing) => existing.host.id === binding.host.id)) throw new Error(`host ${binding.host.id} is already added`);
    this.hosts.push(binding);
    this.pool.addHost(binding);
    if (this.started) this.wireHost(binding);
    this.log.info('host_added', { host: binding.host.id, uri: binding.host.snapshot().uri });
  }

  /** Removes a host that holds no pool member; returns its binding so the caller can close it. */
  removeHost(hostId: string): ControlPlaneHost {
    const binding = this.hosts.find((existing) => existing.host.id === hostId);
    if (!binding) throw new Error(`no host ${hostId}`);
    const members = this.pool.list().filter((member) => member.hostId === hostId);
    if (members.length > 0) {
      throw new Error(`host ${hostId} still holds pool members (${members.map((member) => member.name).join(', ')}): scale them away first`);
    }
    this.pool.removeHost(hostId);
    this.hosts.splice(this.hosts.indexOf(binding), 1);
    this.hostListeners.get(hostId)?.();
    this.hostListeners.delete(hostId);
    this.log.info('host_removed', { host: hostId });
    return binding;
  }

  hostBindings(): readonly ControlPlaneHost[] {
    return this.hosts;
  }

  private onPoolEvent(event: PoolEvent): void {
    const t = (this.clock.nowMs() - this.startedAtMs) / 1000;
    switch (event.type) {
      case 'member_failed':
        this.failures.push({ t, member: event.member.name, reason: event.reason });
        this.log.warn('member_failed', { name: event.member.name, uuid: event.member.uuid, reason: event.reason, replacing: true });
        break;
      case 'member_cloned':
        this.log.info('member_cloned', { name: event.member.name, host: event.member.hostId, ms: Math.round(event.ms) });
        break;
      case 'member_started':
        this.log.info('member_started', { name: event.member.name, purpose: event.member.purpose });
        break;
      case 'member_healthy':
        this.log.info('member_healthy', { name: event.member.name, address: event.address, bootMs: Math.round(event.bootMs) });
        break;
      case 'member_removed':
        this.log.info('member_removed', { name: event.member.name, reason: event.reason });
        break;
      case 'member_saved':
      case 'member_restored':
        this.log.info(event.type, { name: event.member.name, ms: Math.round(event.ms) });
        break;
      case 'member_warm':
      case 'member_resumed':
      case 'member_draining':
      case 'member_adopted':
        this.log.info(event.type, { name: event.member.name });
        break;
      case 'action_failed':
        this.log.error('action_failed', { name: event.member?.name, action: event.action, message: event.message });
        break;
      case 'shutdown_progress':
        this.log.info('shutdown_progress', { done: event.done, total: event.total });
        break;
    }
    this.balancer.membersChanged();
    this.emit('pool', event);
  }

  private onArrival(seq: number, intendedAtMs: number): void {
    this.aggregator.recordArrival();
    const request = { seq, word: `word${seq}`, digits: this.digits, intendedAtMs };
    void this.balancer.submit(request).then((outcome) => {
      this.aggregator.recordOutcome(outcome.outcome, outcome.latencyMs);
      if (outcome.outcome !== 'ok') this.log.debug('request_outcome', { ...outcome });
      this.emit('outcome', outcome);
    });
  }

  private servingAgents(): Array<NonNullable<ReturnType<AgentServer['agent']>>> {
    const agents = [];
    for (const member of this.pool.servingMembers()) {
      const agent = this.agentServer?.agent(member.uuid);
      if (agent?.healthy) agents.push(agent);
    }
    return agents;
  }

  private memberView(member: PoolMember): MemberView {
    const agent = this.agentServer?.agent(member.uuid);
    const state: MemberView['state'] =
      member.phase === 'healthy' ? 'healthy' : member.phase === 'draining' ? 'draining' : member.phase === 'warm' || member.phase === 'saved' ? 'paused' : 'booting';
    return {
      id: member.uuid,
      state,
      registeredAtMs: member.registeredAtMs,
      busy: agent?.lastLoad?.busy ?? null,
      outstanding: agent?.outstanding ?? 0,
      startedAtMs: member.startedAtMs,
    };
  }

  scalingInputs(): ScalingInputs {
    const members = this.pool
      .list()
      .filter((member) => member.purpose === 'serve' && ['cloning', 'booting', 'healthy', 'draining'].includes(member.phase))
      .map((member) => this.memberView(member));
    const latest = this.series.latest();
    return {
      nowMs: this.clock.nowMs(),
      members,
      p95Ms: latest?.p95Ms ?? null,
      offeredRps: this.load.status().offeredRps,
      servedRps: latest?.servedRps ?? 0,
    };
  }

  private applyDecision(decision: Decision): void {
    const applied = this.pool.scaleTo(decision.to);
    const event = decision.to > decision.from ? 'scale_up' : decision.to < decision.from ? 'scale_down' : 'scale_hold';
    this.log.info(event, { from: decision.from, to: applied, kind: decision.kind, policy: decision.policy, reason: decision.reason, inputs: decision.inputs });
    this.emit('decision', decision);
  }

  private scheduleScale(): void {
    if (this.stopped || !this.started) return;
    if (this.scaleTimer) this.clock.clearTimeout(this.scaleTimer);
    this.scaleTimer = this.clock.setTimeout(() => {
      this.scaleTimer = null;
      try {
        const decision = this.autoscaler.evaluate();
        if (decision) this.applyDecision(decision);
      } catch (error) {
        this.log.error('autoscaler_failed', { message: error instanceof Error ? error.message : String(error) });
      }
      this.scheduleScale();
    }, this.autoscaler.getConfig().periodMs);
  }

  private scheduleSample(): void {
    if (this.stopped) return;
    this.sampleTimer = this.clock.setTimeout(() => {
      this.sampleTimer = null;
      try {
        this.takeSample();
      } catch (error) {
        // A bad sample is logged and skipped: the control loop must outlive it.
        this.log.error('sample_failed', { message: error instanceof Error ? error.message : String(error) });
      }
      this.scheduleSample();
    }, this.config.sampleMs);
  }

  private takeSample(): void {
    const nowMs = this.clock.nowMs();
    const members = this.pool.list();
    const serving = members.filter((member) => member.purpose === 'serve');
    const healthy = serving.filter((member) => member.phase === 'healthy');
    const busyValues = healthy.map((member) => this.agentServer?.agent(member.uuid)?.lastLoad?.busy).filter((busy): busy is number => busy !== undefined);
    const counts = this.balancer.counts();
    const offeredRps = this.load.status().offeredRps;
    const sample = this.aggregator.flush(Math.round((nowMs - this.startedAtMs) / 100) / 10, {
      offeredRps,
      poolDesired: this.pool.desired,
      poolBooting: serving.filter((member) => member.phase === 'booting' || member.phase === 'cloning').length,
      poolHealthy: healthy.length,
      utilization: busyValues.length > 0 ? busyValues.reduce((sum, busy) => sum + busy, 0) / busyValues.length : null,
      inflight: counts.inflight,
    });
    this.series.push(sample);
    const dtS = (nowMs - this.lastSampleAtMs) / 1000;
    this.lastSampleAtMs = nowMs;
    // Every member holding a domain that runs or is paused costs VM time, booting ones included.
    this.vmSecondsTotal += members.filter((member) => member.phase !== 'cloning').length * dtS;
    const capacityRps = this.capacity.capacityRps(this.digits);
    if (capacityRps !== null && capacityRps > 0) {
      this.supplyDemand.demand.push(demandFromLoad(offeredRps, capacityRps));
      this.supplyDemand.supply.push(healthy.length);
    }
    this.emit('sample', sample);
  }

  /** Waits for in-flight requests to end, at most `limitMs`; the timer never outlives the wait. */
  private async drainRequests(limitMs: number): Promise<void> {
    let timer: TimerHandle | null = null;
    const limit = new Promise<void>((resolve) => (timer = this.clock.setTimeout(resolve, limitMs)));
    await Promise.race([this.balancer.drain(), limit]);
    if (timer) this.clock.clearTimeout(timer);
  }
}
