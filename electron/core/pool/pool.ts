// The pool: clones of a template on one or more hosts, started and stopped to meet a desired size,
// kept ready paused (warm pool) or saved to disk (saved pool), adopted again after a restart,
// replaced when they fail, and shut down (ACPI, then force) at quit.
// It decides nothing about scale (the autoscaler does) and routes no requests (the balancer does).
import { randomBytes, randomUUID } from 'node:crypto';
import type { Clock, TimerHandle } from '../clock';
import { domainIsOff } from '../hypervisor/domain-state';
import type { DomainSnapshot } from '../hypervisor/types';
import { cloneDomainXml, readMemberTag, type MemberTag } from './member-xml';
import type { AgentDirectory, MemberPhase, PoolEvent, PoolHostBinding, PoolMember, PoolStatus } from './types';
import { choosePlacementHost, type Placement } from './placement';

export interface PoolOptions {
  clock: Clock;
  /** Pool name: members are named `<name>-<n>` and tagged with it. @default 'cms' */
  name?: string;
  /** Name of the template domain on every host. @default 'cms-template' */
  templateName?: string;
  hosts: PoolHostBinding[];
  agents: AgentDirectory;
  /** @default 1 */
  min?: number;
  /** @default 8 */
  max?: number;
  /** Paused, registered members kept ready to resume. @default 0 */
  warmPoolSize?: number;
  /**
   * Booted, warmed-up members saved to disk (no memory, no CPU) and restored on scale-up: seconds
   * sooner than a boot under emulation. Only on hosts with a SavedImageStore. @default 0
   */
  savedPoolSize?: number;
  /** A started member that has not registered by then is forced off and replaced, ms. @default 60000 */
  bootTimeoutMs?: number;
  /** How long a draining member may finish its requests before shutdown, ms. @default 5000 */
  drainTimeoutMs?: number;
  /** ACPI shutdown grace before force off, ms. @default 10000 */
  shutdownTimeoutMs?: number;
  /** @default 'spread' */
  placement?: Placement;
  /** Reconcile period, ms. @default 250 */
  reconcileMs?: number;
  /** The pool token guests present; recovered from adopted members when absent. */
  token?: string;
  onEvent?: (event: PoolEvent) => void;
  /** Picks which members to stop when scaling down (the autoscaler's idle-first rule). */
  chooseVictims?: (members: PoolMember[], count: number) => string[];
}

/** How long a guest may take to answer `park` before the pool saves it anyway. */
const PARK_TIMEOUT_MS = 5_000;
/** How long a warm- or saved-pool member may take to report a ready worker thread, and then to answer its one warm-up request, before it is replaced. */
const WARM_UP_TIMEOUT_MS = 10_000;
const ALL_PHASES: MemberPhase[] = ['cloning', 'booting', 'healthy', 'warming', 'warm', 'saved', 'draining', 'stopping', 'failed'];

export class PoolError extends Error {
  constructor(
    readonly code: 'no_host' | 'no_template' | 'bad_size' | 'closed',
    message: string,
  ) {
    super(message);
    this.name = 'PoolError';
  }
}

export class Pool {
  readonly name: string;
  readonly templateName: string;
  private readonly clock: Clock;
  private readonly bindings: PoolHostBinding[];
  private readonly agents: AgentDirectory;
  private readonly members = new Map<string, PoolMember>();
  private readonly onEvent: (event: PoolEvent) => void;
  private readonly chooseVictims: (members: PoolMember[], count: number) => string[];
  private min: number;
  private max: number;
  private warmPoolSize: number;
  private savedPoolSize: number;
  /** Set once a saved pool was asked for with no host able to keep one, so that it is said once. */
  private savedPoolUnplaceableSaid = false;
  private desiredSize: number;
  private bootTimeoutMs: number;
  private readonly drainTimeoutMs: number;
  private readonly shutdownTimeoutMs: number;
  private readonly placement: Placement;
  private readonly reconcileMs: number;
  private tokenValue: string;
  private nextIndex = 1;
  private timer: TimerHandle | null = null;
  private running = false;
  private closing = false;
  /** Detached: the pool neither acts nor reacts; the members are left as they are for a successor. */
  private detached = false;
  private reconciling = false;
  /** Serializes work per member so that two transitions never race on one domain. */
  private readonly busy = new Set<string>();
  /** Members whose disappearance a poll suggested and a lookup is checking. */
  private readonly confirming = new Set<string>();
  /** Members being saved: their guest's connection and process end on purpose. */
  private readonly saving = new Set<string>();

  constructor(options: PoolOptions) {
    this.clock = options.clock;
    this.name = options.name ?? 'cms';
    this.templateName = options.templateName ?? 'cms-template';
    this.bindings = [...options.hosts];
    this.agents = options.agents;
    this.min = options.min ?? 1;
    this.max = options.max ?? 8;
    if (this.min < 0 || this.max < this.min) throw new PoolError('bad_size', `pool bounds invalid: min ${this.min}, max ${this.max}`);
    this.warmPoolSize = options.warmPoolSize ?? 0;
    this.savedPoolSize = options.savedPoolSize ?? 0;
    this.desiredSize = this.min;
    this.bootTimeoutMs = options.bootTimeoutMs ?? 60_000;
    this.drainTimeoutMs = options.drainTimeoutMs ?? 5000;
    this.shutdownTimeoutMs = options.shutdownTimeoutMs ?? 10_000;
    this.placement = options.placement ?? 'spread';
    this.reconcileMs = options.reconcileMs ?? 250;
    this.tokenValue = options.token ?? '';
    this.onEvent = options.onEvent ?? (() => {});
    this.chooseVictims = options.chooseVictims ?? defaultVictims;
  }

  get token(): string {
    return this.tokenValue;
  }

  get desired(): number {
    return this.desiredSize;
  }

  /** True when this UUID belongs to a member that may register now. */
  isMember(uuid: string): boolean {
    const member = this.members.get(uuid);
    return member !== undefined && member.phase !== 'failed' && member.phase !== 'stopping';
  }

  member(uuid: string): PoolMember | undefined {
    return this.members.get(uuid);
  }

  list(): PoolMember[] {
    return [...this.members.values()].map((member) => ({ ...member, overlays: [...member.overlays] }));
  }

  status(): PoolStatus {
    const counts = Object.fromEntries(ALL_PHASES.map((phase) => [phase, 0])) as Record<MemberPhase, number>;
    for (const member of this.members.values()) counts[member.phase] += 1;
    return { name: this.name, desired: this.desiredSize, min: this.min, max: this.max, warmPoolSize: this.warmPoolSize, savedPoolSize: this.savedPoolSize, members: this.list(), counts };
  }

  /** Members that should receive requests. */
  servingMembers(): PoolMember[] {
    return [...this.members.values()].filter((member) => member.phase === 'healthy');
  }

  addHost(binding: PoolHostBinding): void {
    this.bindings.push(binding);
    this.kick();
  }

  /** Forgets a host; its members (there should be none) are no longer managed. */
  removeHost(hostId: string): void {
    const index = this.bindings.findIndex((binding) => binding.host.id === hostId);
    if (index >= 0) this.bindings.splice(index, 1);
  }

  setBounds(bounds: { min?: number; max?: number; warmPoolSize?: number; savedPoolSize?: number; bootTimeoutMs?: number }): void {
    const min = bounds.min ?? this.min;
    const max = bounds.max ?? this.max;
    if (!Number.isInteger(min) || !Number.isInteger(max) || min < 0 || max < min) {
      throw new PoolError('bad_size', `pool bounds invalid: min ${min}, max ${max} (need 0 ≤ min ≤ max, whole numbers)`);
    }
    this.min = min;
    this.max = max;
    if (bounds.warmPoolSize !== undefined) this.warmPoolSize = Math.max(0, Math.floor(bounds.warmPoolSize));
    if (bounds.savedPoolSize !== undefined && bounds.savedPoolSize !== this.savedPoolSize) {
      this.savedPoolSize = Math.max(0, Math.floor(bounds.savedPoolSize));
      this.savedPoolUnplaceableSaid = false;
    }
    if (bounds.bootTimeoutMs !== undefined) this.bootTimeoutMs = bounds.bootTimeoutMs;
    this.scaleTo(this.desiredSize);
  }

  /** Sets the desired number of serving members, clamped to [min, max]; returns the value used. */
  scaleTo(count: number): number {
    if (!Number.isFinite(count)) throw new PoolError('bad_size', `desired size must be a number, got ${count}`);
    this.desiredSize = Math.min(this.max, Math.max(this.min, Math.round(count)));
    this.kick();
    return this.desiredSize;
  }

  /**
   * Finds existing members on every host (by the tag in their XML) and takes them over: running
   * ones wait for their guest to register, paused ones join the warm pool, stopped ones (saved
   * ones too: their manager address and token may be stale) are removed.
   */
  async adopt(): Promise<PoolMember[]> {
    const adopted: PoolMember[] = [];
    for (const binding of this.bindings) {
      for (const domain of binding.host.snapshot().domains) {
        if (this.members.has(domain.uuid) || domain.name === this.templateName) continue;
        let tag: MemberTag | null;
        try {
          tag = readMemberTag(await binding.host.domainXml(domain.uuid));
        } catch {
          continue;
        }
        if (!tag || tag.pool !== this.name) continue;
        if (this.tokenValue === '') this.tokenValue = tag.token;
        this.nextIndex = Math.max(this.nextIndex, tag.index + 1);
        const member: PoolMember = {
          uuid: domain.uuid,
          name: domain.name,
          hostId: binding.host.id,
          index: tag.index,
          vcpus: domain.vcpus,
          phase: adoptedPhase(domain),
          startedAtMs: this.clock.nowMs(),
          registeredAtMs: null,
          exitReason: null,
          purpose: domain.state === 'paused' ? 'warm' : 'serve',
          savedImage: null,
          overlays: tag.overlay ? [tag.overlay] : [],
          adopted: true,
        };
        this.members.set(member.uuid, member);
        binding.runtime?.manage({ uuid: member.uuid, name: member.name, vcpus: member.vcpus });
        adopted.push(member);
        this.onEvent({ type: 'member_adopted', member: { ...member } });
        if (member.phase === 'stopping') void this.retire(member, 'adopted while shut off');
      }
    }
    if (this.tokenValue === '') this.tokenValue = newToken();
    const serving = adopted.filter((member) => member.phase === 'booting').length;
    if (serving > this.desiredSize) this.desiredSize = Math.min(this.max, serving);
    return adopted;
  }

  /** Starts the reconcile loop (self-rearming: a slow round never piles up behind itself). */
  start(): void {
    if (this.running) return;
    if (this.tokenValue === '') this.tokenValue = newToken();
    this.running = true;
    this.schedule(0);
  }

  /** Called when a guest registers: a booting member becomes healthy (or, for the warm pool, paused). */
  noteRegistered(uuid: string, address: string): void {
    const member = this.members.get(uuid);
    if (!member || this.detached) return;
    const nowMs = this.clock.nowMs();
    if (member.phase === 'booting') {
      member.phase = 'healthy';
      member.registeredAtMs = nowMs;
      this.onEvent({ type: 'member_healthy', member: { ...member }, address, bootMs: nowMs - member.startedAtMs });
    } else if (member.phase === 'warming') {
      member.registeredAtMs = nowMs;
      void this.park(member);
    } else if (member.phase === 'healthy' || member.phase === 'draining') {
      // A guest that re-dialed after a network blip: nothing changes.
      member.registeredAtMs ??= nowMs;
    }
    this.kick();
  }

  /** Called when a guest's agent is ejected (closed, heartbeat, errors): the member is replaced. */
  noteEjected(uuid: string, reason: string): void {
    const member = this.members.get(uuid);
    if (!member || this.detached) return;
    if (member.phase === 'stopping' || member.phase === 'failed' || member.phase === 'cloning') return;
    if (member.phase === 'draining') {
      // It was leaving anyway; finish that without waiting for a drain that cannot happen.
      void this.retire(member, `ejected while draining: ${reason}`);
      return;
    }
    // Paused or saved on purpose: its silence, or its connection's end, is expected.
    if (member.phase === 'warm' || member.phase === 'saved' || this.saving.has(uuid)) return;
    this.fail(member, `guest ejected: ${reason}`);
  }

  /** Called when a sandbox guest process died on its own: the simulated VM crashed. */
  noteGuestCrashed(uuid: string, detail: string): void {
    const member = this.members.get(uuid);
    if (!member || this.detached || this.saving.has(uuid)) return;
    if (member.phase === 'booting' || member.phase === 'warming' || member.phase === 'healthy' || member.phase === 'warm') this.fail(member, `guest process exited (${detail})`);
  }

  /**
   * Called with each host poll: a member whose domain went away or shut off is failed and replaced.
   * A poll that began before a clone was defined or started can show a stale picture, so each
   * suspicion is confirmed with a fresh lookup before the member is failed.
   */
  noteHostPoll(hostId: string, domains: DomainSnapshot[]): void {
    if (this.detached) return;
    const byUuid = new Map(domains.map((domain) => [domain.uuid, domain]));
    for (const member of this.members.values()) {
      // A saved member's domain is shut off on purpose.
      if (member.hostId !== hostId || member.phase === 'cloning' || member.phase === 'saved' || member.phase === 'stopping' || member.phase === 'failed') continue;
      if (this.busy.has(member.uuid)) continue;
      const domain = byUuid.get(member.uuid);
      if (!domain || domainIsOff(domain.state)) void this.confirmGone(member);
    }
  }

  private async confirmGone(member: PoolMember): Promise<void> {
    const binding = this.binding(member.hostId);
    if (!binding || this.confirming.has(member.uuid)) return;
    this.confirming.add(member.uuid);
    const phase = member.phase;
    try {
      const domain = await binding.host.domainLookup(member.uuid);
      // Something else (a transition, a resume) touched the member meanwhile: its view wins.
      if (member.phase !== phase || this.busy.has(member.uuid) || this.detached) return;
      if (!domain) this.fail(member, 'domain disappeared from the host');
      else if (domainIsOff(domain.state)) this.fail(member, `domain is ${domain.state}`);
    } catch {
      // The host is unreachable: the connection reports that; members keep serving meanwhile.
    } finally {
      this.confirming.delete(member.uuid);
    }
  }

  /** Removes one member at once (operator's "delete clone"): force off, undefine, remove overlays. */
  async removeMember(uuid: string, reason = 'removed by operator'): Promise<void> {
    const member = this.members.get(uuid);
    if (!member) return;
    await this.retire(member, reason, { force: true });
  }

  /**
   * Shuts the whole pool down: no more starts, every member ACPI shutdown, force off after the
   * timeout, undefined and its overlay removed. Resolves when nothing of the pool runs.
   */
  async shutdown(options: { timeoutMs?: number } = {}): Promise<void> {
    this.closing = true;
    this.running = false;
    if (this.timer) this.clock.clearTimeout(this.timer);
    this.timer = null;
    // Let in-progress transitions settle so that we see every domain they created.
    await this.waitUntil(() => this.busy.size === 0, 30_000);
    const members = [...this.members.values()];
    const total = members.length;
    let done = 0;
    this.onEvent({ type: 'shutdown_progress', done, total });
    await Promise.all(
      members.map(async (member) => {
        await this.retire(member, 'pool shutdown', { timeoutMs: options.timeoutMs ?? this.shutdownTimeoutMs });
        done += 1;
        this.onEvent({ type: 'shutdown_progress', done, total });
      }),
    );
  }

  /** Stops the reconcile loop and forgets members without touching them (a restart will adopt them). */
  detach(): void {
    this.detached = true;
    this.running = false;
    if (this.timer) this.clock.clearTimeout(this.timer);
    this.timer = null;
  }

  // ---- the reconcile loop

  private kick(): void {
    if (this.running && !this.reconciling) this.schedule(0);
  }

  private schedule(delayMs: number): void {
    if (this.timer) this.clock.clearTimeout(this.timer);
    this.timer = this.clock.setTimeout(() => {
      this.timer = null;
      void this.reconcile();
    }, delayMs);
  }

  private async reconcile(): Promise<void> {
    if (!this.running || this.reconciling) return;
    this.reconciling = true;
    try {
      this.checkBootTimeouts();
      this.balanceServing();
      this.balanceWarmPool();
      this.finishDrains();
    } finally {
      this.reconciling = false;
      if (this.running) this.schedule(this.reconcileMs);
    }
  }

  private checkBootTimeouts(): void {
    const nowMs = this.clock.nowMs();
    for (const member of this.members.values()) {
      if ((member.phase === 'booting' || member.phase === 'warming') && nowMs - member.startedAtMs > this.bootTimeoutMs) {
        this.fail(member, `no registration within the boot timeout (${this.bootTimeoutMs} ms)`);
      }
    }
  }

  private inPhase(...phases: MemberPhase[]): PoolMember[] {
    return [...this.members.values()].filter((member) => phases.includes(member.phase));
  }

  private balanceServing(): void {
    const serving = this.inPhase('cloning', 'booting', 'healthy').filter((member) => member.purpose === 'serve');
    let missing = this.desiredSize - serving.length;
    if (missing > 0) {
      // Warm members first: resuming takes milliseconds; then saved ones: a restore takes about
      // half a boot under emulation (npm run bench:kvm); a boot last.
      for (const member of this.inPhase('warm')) {
        if (missing === 0) break;
        if (this.busy.has(member.uuid)) continue;
        void this.unpark(member);
        missing -= 1;
      }
      for (const member of this.inPhase('saved')) {
        if (missing === 0) break;
        if (this.busy.has(member.uuid)) continue;
        void this.restoreSaved(member);
        missing -= 1;
      }
      for (let i = 0; i < missing; i++) void this.launch('serve');
      return;
    }
    if (missing < 0) {
      let excess = -missing;
      // Members still booting serve nothing yet: cancel those first, newest first.
      const booting = serving.filter((member) => member.phase === 'booting' || member.phase === 'cloning').sort((a, b) => b.startedAtMs - a.startedAtMs);
      for (const member of booting) {
        if (excess === 0) break;
        if (member.phase === 'cloning' || this.busy.has(member.uuid)) continue;
        void this.retire(member, 'scale down (still booting)', { force: true });
        excess -= 1;
      }
      if (excess === 0) return;
      const healthy = serving.filter((member) => member.phase === 'healthy' && !this.busy.has(member.uuid));
      for (const uuid of this.chooseVictims(healthy, excess)) {
        const member = this.members.get(uuid);
        if (!member || member.phase !== 'healthy') continue;
        member.phase = 'draining';
        member.exitReason = 'scale down';
        this.onEvent({ type: 'member_draining', member: { ...member }, reason: 'scale down' });
        member.startedAtMs = this.clock.nowMs();
      }
    }
  }

  /**
   * Keeps the warm pool (paused) and the saved pool (on disk) at their sizes. Refills wait while a
   * member for serving boots or restores: on a small host a refill's boot beside a restore made
   * the restore call ~0.5 s slower (2.0–2.2 s instead of 1.5–1.6 s, npm run bench:kvm).
   */
  private balanceWarmPool(): void {
    const scalingUp = this.inPhase('cloning', 'booting').some((member) => member.purpose === 'serve');
    this.balanceReadyTier('warm', this.warmPoolSize, scalingUp);
    if (this.savedPoolSize > 0 && !this.bindings.some((binding) => binding.savedImages)) {
      if (!this.savedPoolUnplaceableSaid) {
        this.savedPoolUnplaceableSaid = true;
        this.onEvent({ type: 'action_failed', member: null, action: 'saved pool', message: 'no connected host can keep saved members (no place for their memory images)' });
      }
      return;
    }
    this.balanceReadyTier('saved', this.savedPoolSize, scalingUp);
  }

  private balanceReadyTier(tier: 'warm' | 'saved', size: number, holdRefills: boolean): void {
    const count = this.inPhase('cloning', 'warming', tier).filter((member) => member.purpose === tier).length;
    if (count < size) {
      if (holdRefills) return;
      for (let i = count; i < size; i++) void this.launch(tier);
    } else if (count > size) {
      const extra = this.inPhase(tier).slice(0, count - size);
      for (const member of extra) if (!this.busy.has(member.uuid)) void this.retire(member, `${tier} pool shrunk`, { force: true });
    }
  }

  private finishDrains(): void {
    const nowMs = this.clock.nowMs();
    for (const member of this.inPhase('draining')) {
      if (this.busy.has(member.uuid)) continue;
      const outstanding = this.agents.agent(member.uuid)?.outstanding ?? 0;
      if (outstanding === 0 || nowMs - member.startedAtMs >= this.drainTimeoutMs) void this.retire(member, member.exitReason ?? 'scale down');
    }
  }

  // ---- transitions

  /** Clones a new member on the chosen host and starts it. */
  private async launch(purpose: PoolMember['purpose']): Promise<void> {
    if (this.closing) return;
    const candidates = purpose === 'saved' ? this.bindings.filter((binding) => binding.savedImages) : this.bindings;
    const binding = choosePlacementHost(candidates, [...this.members.values()], this.placement, this.templateName);
    if (!binding) {
      this.onEvent({ type: 'action_failed', member: null, action: 'clone', message: `no connected host has a template named ${this.templateName}` });
      return;
    }
    const index = this.nextIndex++;
    const name = `${this.name}-${index}`;
    const uuid = randomUUID();
    const member: PoolMember = {
      uuid,
      name,
      hostId: binding.host.id,
      index,
      vcpus: 1,
      phase: 'cloning',
      startedAtMs: this.clock.nowMs(),
      registeredAtMs: null,
      exitReason: null,
      purpose,
      savedImage: null,
      overlays: [],
      adopted: false,
    };
    this.members.set(uuid, member);
    this.busy.add(uuid);
    const cloneStartMs = this.clock.nowMs();
    let defined = false;
    try {
      const template = binding.host.snapshot().domains.find((domain) => domain.name === this.templateName);
      if (!template) throw new PoolError('no_template', `host ${binding.host.id} has no template ${this.templateName}`);
      member.vcpus = template.vcpus;
      const templateXml = await binding.host.domainXml(template.uuid, { inactive: true });
      const overlays: { from: string; to: string }[] = [];
      if (binding.storage) {
        // Overlays are created before the XML is written, since the XML must name them.
        const sources = [...templateXml.matchAll(/<source\s+file=['"]([^'"]+)['"]/g)].map((match) => match[1] as string);
        for (const [diskIndex, source] of sources.entries()) {
          const overlay = await binding.storage.createOverlay(source, name, diskIndex);
          overlays.push({ from: source, to: overlay });
          member.overlays.push(overlay);
        }
      }
      const xml = cloneDomainXml(templateXml, {
        name,
        uuid,
        tag: { pool: this.name, index, template: this.templateName, token: this.tokenValue, createdAt: new Date(this.clock.wallMs()).toISOString(), overlay: member.overlays[0] },
        diskSource: binding.storage ? (source) => overlays.find((entry) => entry.from === source)?.to ?? source : undefined,
        oemStrings: binding.oemStrings?.(),
      });
      await binding.host.domainDefine(binding.customizeXml ? binding.customizeXml(xml, { name, uuid, token: this.tokenValue }) : xml);
      defined = true;
      this.onEvent({ type: 'member_cloned', member: { ...member }, ms: this.clock.nowMs() - cloneStartMs });
      binding.runtime?.manage({ uuid, name, vcpus: member.vcpus });
      if (this.closing) throw new PoolError('closed', 'pool is shutting down');
      member.phase = purpose === 'serve' ? 'booting' : 'warming';
      member.startedAtMs = this.clock.nowMs();
      await binding.host.domainStart(uuid);
      this.onEvent({ type: 'member_started', member: { ...member } });
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      this.onEvent({ type: 'action_failed', member: { ...member }, action: 'clone and start', message });
      this.busy.delete(uuid);
      if (defined) await this.retire(member, `start failed: ${message}`, { force: true });
      else {
        await this.removeOverlays(binding, member);
        this.members.delete(uuid);
      }
      return;
    } finally {
      this.busy.delete(uuid);
    }
    // The guest may have registered while we were still awaiting domainStart.
    const agent = this.agents.agent(uuid);
    if (agent?.healthy) this.noteRegistered(uuid, agent.address);
  }

  /** Pauses a freshly registered warm-pool member, or saves a saved-pool one to disk. */
  private async park(member: PoolMember): Promise<void> {
    const binding = this.binding(member.hostId);
    if (!binding || this.busy.has(member.uuid)) return;
    this.busy.add(member.uuid);
    try {
      const agent = this.agents.agent(member.uuid);
      // First its worker threads, then one tiny request: a guest answers on its main thread until
      // a thread is ready, and its first request compiles the whole request path (150–200 ms
      // under TCG). Parked earlier, a member would do either only after its resume.
      try {
        await agent?.whenThreadsReady?.(WARM_UP_TIMEOUT_MS);
        await agent?.collide?.(`warm-up-${member.uuid}`, 1, WARM_UP_TIMEOUT_MS);
      } catch (error) {
        this.onEvent({ type: 'action_failed', member: { ...member }, action: 'warm-up request', message: errorMessage(error) });
        this.busy.delete(member.uuid);
        this.fail(member, 'did not answer its warm-up request');
        return;
      }
      if (member.phase !== 'warming') return;
      agent?.setHeartbeatExempt?.(true);
      if (member.purpose === 'saved') {
        await this.save(binding, member);
        return;
      }
      await binding.host.domainSuspend(member.uuid);
      member.phase = 'warm';
      this.onEvent({ type: 'member_warm', member: { ...member } });
    } catch (error) {
      this.agents.agent(member.uuid)?.setHeartbeatExempt?.(false);
      const saving = member.purpose === 'saved';
      this.onEvent({ type: 'action_failed', member: { ...member }, action: saving ? 'save' : 'suspend', message: errorMessage(error) });
      this.busy.delete(member.uuid);
      this.fail(member, saving ? 'could not save for the saved pool' : 'could not pause for the warm pool');
    } finally {
      this.busy.delete(member.uuid);
    }
  }

  /** Saves a warmed-up member's memory to its image; the domain shuts off and stays defined. */
  private async save(binding: PoolHostBinding, member: PoolMember): Promise<void> {
    const images = binding.savedImages;
    if (!images) throw new PoolError('no_host', `host ${binding.host.id} cannot keep saved members`);
    const path = images.prepare(member.name);
    const startMs = this.clock.nowMs();
    this.saving.add(member.uuid);
    try {
      // The guest watches its RTC only once told, so that it redials as soon as it is restored
      // (else at its next heartbeat). A guest that cannot be told (an older guest server, no
      // answer in time) is saved all the same: it is only slower back.
      await this.agents
        .agent(member.uuid)
        ?.park?.(PARK_TIMEOUT_MS)
        .catch((error: unknown) => this.onEvent({ type: 'action_failed', member: { ...member }, action: 'park', message: `${errorMessage(error)} (saved anyway; it redials at its next heartbeat once restored)` }));
      await binding.host.domainSave(member.uuid, path);
      member.savedImage = path;
      member.phase = 'saved';
      // Its connection ended with the guest; the old agent is gone for good.
      this.agents.agent(member.uuid)?.eject('kicked', 'saved to disk');
    } catch (error) {
      // A half-written image is of no use; the member is failed and removed by the caller.
      await images.remove(path).catch(() => undefined);
      throw error;
    } finally {
      this.saving.delete(member.uuid);
    }
    this.onEvent({ type: 'member_saved', member: { ...member }, ms: this.clock.nowMs() - startMs });
  }

  /**
   * Restores a saved member into service. It counts as booting until its guest dials in again (a
   * parked guest notices the restore by its RTC within ~0.2 s, else at its next heartbeat); its
   * image is removed once used.
   */
  private async restoreSaved(member: PoolMember): Promise<void> {
    const binding = this.binding(member.hostId);
    const path = member.savedImage;
    if (!binding || !path) return;
    this.busy.add(member.uuid);
    const startMs = this.clock.nowMs();
    try {
      member.purpose = 'serve';
      member.phase = 'booting';
      member.registeredAtMs = null;
      member.startedAtMs = startMs;
      await binding.host.domainRestore(member.uuid, path);
      member.savedImage = null;
      await binding.savedImages?.remove(path).catch((error: unknown) => {
        this.onEvent({ type: 'action_failed', member: { ...member }, action: 'remove saved image', message: errorMessage(error) });
      });
      this.onEvent({ type: 'member_restored', member: { ...member }, ms: this.clock.nowMs() - startMs });
    } catch (error) {
      this.onEvent({ type: 'action_failed', member: { ...member }, action: 'restore', message: errorMessage(error) });
      this.busy.delete(member.uuid);
      this.fail(member, 'could not restore from the saved pool');
      return;
    } finally {
      this.busy.delete(member.uuid);
    }
    const agent = this.agents.agent(member.uuid);
    if (agent?.healthy) this.noteRegistered(member.uuid, agent.address);
  }

  /** Resumes a warm member into service. */
  private async unpark(member: PoolMember): Promise<void> {
    const binding = this.binding(member.hostId);
    if (!binding) return;
    this.busy.add(member.uuid);
    const startMs = this.clock.nowMs();
    try {
      await binding.host.domainResume(member.uuid);
      const agent = this.agents.agent(member.uuid);
      agent?.setHeartbeatExempt?.(false);
      member.startedAtMs = this.clock.nowMs();
      member.purpose = 'serve';
      if (agent?.healthy) {
        member.phase = 'healthy';
        member.registeredAtMs = this.clock.nowMs();
        this.onEvent({ type: 'member_resumed', member: { ...member }, ms: this.clock.nowMs() - startMs });
      } else {
        // Its connection died while paused: it will dial again (or time out and be replaced).
        member.phase = 'booting';
        member.registeredAtMs = null;
      }
    } catch (error) {
      this.onEvent({ type: 'action_failed', member: { ...member }, action: 'resume', message: errorMessage(error) });
      this.busy.delete(member.uuid);
      this.fail(member, 'could not resume from the warm pool');
    } finally {
      this.busy.delete(member.uuid);
    }
  }

  /** Marks a member failed and removes it by force; the reconcile loop starts a replacement. */
  private fail(member: PoolMember, reason: string): void {
    if (member.phase === 'failed' || member.phase === 'stopping') return;
    member.phase = 'failed';
    member.exitReason = reason;
    this.onEvent({ type: 'member_failed', member: { ...member }, reason });
    void this.retire(member, reason, { force: true });
  }

  /**
   * Takes a member out for good: graceful shutdown (unless forced) with force off after the
   * timeout, then undefine and overlay removal. Safe to call twice; the second call waits.
   */
  private async retire(member: PoolMember, reason: string, options: { force?: boolean; timeoutMs?: number } = {}): Promise<void> {
    if (this.busy.has(member.uuid)) {
      await this.waitUntil(() => !this.busy.has(member.uuid), 60_000);
      if (!this.members.has(member.uuid)) return;
    }
    const binding = this.binding(member.hostId);
    this.busy.add(member.uuid);
    const wasFailed = member.phase === 'failed';
    member.phase = wasFailed ? 'failed' : 'stopping';
    member.exitReason ??= reason;
    try {
      this.agents.agent(member.uuid)?.eject('kicked', reason);
      if (binding) {
        await this.powerOff(binding, member, options.force === true, options.timeoutMs ?? this.shutdownTimeoutMs);
        try {
          await binding.host.domainUndefine(member.uuid);
        } catch (error) {
          if ((error as { code?: string }).code !== 'not_found') {
            this.onEvent({ type: 'action_failed', member: { ...member }, action: 'undefine', message: errorMessage(error) });
          }
        }
        binding.runtime?.unmanage(member.uuid);
        await this.removeOverlays(binding, member);
        await this.removeSavedImage(binding, member);
      }
      this.members.delete(member.uuid);
      this.onEvent({ type: 'member_removed', member: { ...member }, reason });
    } finally {
      this.busy.delete(member.uuid);
      this.kick();
    }
  }

  private async powerOff(binding: PoolHostBinding, member: PoolMember, force: boolean, timeoutMs: number): Promise<void> {
    const host = binding.host;
    const state = async () => (await host.domainLookup(member.uuid))?.state ?? 'shutoff';
    let current = await state().catch(() => 'shutoff' as const);
    if (domainIsOff(current)) return;
    if (!force) {
      try {
        // ACPI shutdown does nothing to a paused guest: wake it first.
        if (current === 'paused') await host.domainResume(member.uuid);
        await host.domainShutdown(member.uuid);
        const deadline = this.clock.nowMs() + timeoutMs;
        while (this.clock.nowMs() < deadline) {
          current = await state().catch(() => 'shutoff' as const);
          if (domainIsOff(current)) return;
          await this.sleep(100);
        }
      } catch (error) {
        this.onEvent({ type: 'action_failed', member: { ...member }, action: 'shutdown', message: errorMessage(error) });
      }
    }
    try {
      await host.domainForceOff(member.uuid);
    } catch (error) {
      const now = await state().catch(() => 'shutoff' as const);
      if (!domainIsOff(now)) this.onEvent({ type: 'action_failed', member: { ...member }, action: 'force off', message: errorMessage(error) });
    }
  }

  private async removeOverlays(binding: PoolHostBinding, member: PoolMember): Promise<void> {
    if (!binding.storage) return;
    for (const overlay of member.overlays) {
      try {
        await binding.storage.removeOverlay(overlay);
      } catch (error) {
        this.onEvent({ type: 'action_failed', member: { ...member }, action: 'remove overlay', message: errorMessage(error) });
      }
    }
  }

  /** By the member's name, so also for adopted members, whose image (if any) the pool never saw. */
  private async removeSavedImage(binding: PoolHostBinding, member: PoolMember): Promise<void> {
    if (!binding.savedImages) return;
    try {
      await binding.savedImages.remove(binding.savedImages.pathFor(member.name));
      member.savedImage = null;
    } catch (error) {
      this.onEvent({ type: 'action_failed', member: { ...member }, action: 'remove saved image', message: errorMessage(error) });
    }
  }

  private binding(hostId: string): PoolHostBinding | undefined {
    return this.bindings.find((binding) => binding.host.id === hostId);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.clock.setTimeout(resolve, ms));
  }

  private async waitUntil(condition: () => boolean, timeoutMs: number): Promise<void> {
    const deadline = this.clock.nowMs() + timeoutMs;
    while (!condition() && this.clock.nowMs() < deadline) await this.sleep(20);
  }
}

/** 32 hex characters: safe on any command line or kernel command line. */
function newToken(): string {
  return randomBytes(16).toString('hex');
}

function adoptedPhase(domain: DomainSnapshot): MemberPhase {
  if (domain.state === 'paused') return 'warm';
  if (domainIsOff(domain.state)) return 'stopping';
  return 'booting';
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Newest first: a fallback when no autoscaler supplies its idle-first rule. */
function defaultVictims(members: PoolMember[], count: number): string[] {
  return [...members].sort((a, b) => b.startedAtMs - a.startedAtMs).slice(0, count).map((member) => member.uuid);
}
