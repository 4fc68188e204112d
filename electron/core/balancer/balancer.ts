// Sends each request to one healthy member (least outstanding), under a deadline measured from
// the request's intended send time, retrying failures elsewhere within a retry budget. Every request
// ends in exactly one outcome. It never creates or ejects members: it reads them from `members()`.
import type { Clock, TimerHandle } from '../clock';
import type { ResultAnswer } from '../../../guest-server/src/protocol';
import { agentErrorReason, isRetriableAgentError } from '../agents/errors';
import { nullLogger, type Logger } from '../metrics/log';
import { RetryBudget } from './retry-budget';

/** What the balancer needs of a member; `Agent` satisfies it. */
export interface BalancerMember {
  readonly id: string;
  readonly healthy: boolean;
  /** Requests the member has been sent and not answered (its own count, from every caller). */
  readonly outstanding: number;
  /** Must settle within about `timeoutMs` (rejecting on timeout); the balancer relies on it to retry. */
  collide(word: string, digits: number, timeoutMs: number): Promise<ResultAnswer>;
}

export interface BalancerOptions {
  clock: Clock;
  /** The current members; called on every choice, so it must be cheap. */
  members: () => readonly BalancerMember[];
  /** Time a request may take from its intended send time to its outcome, in ms. @default 10000 */
  deadlineMs?: number;
  /** Time one attempt may take, in ms, capped by what is left of the deadline. @default the remaining deadline */
  attemptTimeoutMs?: number;
  /** Retries after the first attempt. @default 2 */
  maxRetries?: number;
  /** Retries allowed per request submitted (over a sliding 10 s window). @default 0.2 */
  retryBudgetRatio?: number;
  /** Retries always allowed per budget window, so the first failures can retry. @default 10 */
  retryBudgetFloor?: number;
  /** Sliding window of the retry budget, in ms. @default 10000 */
  retryBudgetWindowMs?: number;
  /** Requests that may wait for a healthy member; 0 fails them at once with 'no_members'. @default 10000 */
  maxQueue?: number;
  /** While requests wait, how often to look for a healthy member without being told, in ms. @default 100 */
  queueRecheckMs?: number;
  /**
   * Requests one member may have outstanding; beyond it requests wait in the queue instead of
   * drawing the guest's `busy` refusal (the guest server's own --max-inflight). @default 64
   */
  maxOutstandingPerMember?: number;
  /** Structured logger. @default silent */
  log?: Logger;
}

export interface BalancerRequest {
  /** The caller's sequence number, echoed in the outcome. */
  seq: number;
  word: string;
  digits: number;
  /** When the request should have been sent (clock.nowMs() scale): latency and deadline start here. */
  intendedAtMs: number;
  /** Overrides the balancer's deadline for this request, in ms. */
  deadlineMs?: number;
}

export type RequestOutcome =
  | { outcome: 'ok'; seq: number; latencyMs: number; attempts: number; memberId: string; match: string }
  | {
      outcome: 'failed';
      seq: number;
      /** Stable code: 'no_members', 'queue_full', 'retry_budget', 'timeout', 'closed', 'guest_error:<code>', 'shutdown'… */
      reason: string;
      /** The last attempt's own reason when `reason` is about the balancer (retry_budget…). */
      detail?: string;
      latencyMs: number;
      attempts: number;
    }
  | { outcome: 'expired'; seq: number; latencyMs: number; attempts: number };

export interface BalancerCounts {
  sent: number;
  ok: number;
  failed: number;
  expired: number;
  /** Requests without an outcome yet, queued ones included. */
  inflight: number;
  /** Requests waiting for a healthy member. */
  queued: number;
  retries: number;
}

export class BalancerInvariantError extends Error {
  override readonly name = 'BalancerInvariantError';
  readonly code = 'invariant';
}

interface Job {
  readonly key: number;
  readonly request: BalancerRequest;
  readonly deadlineAtMs: number;
  attempts: number;
  readonly tried: Set<string>;
  done: boolean;
  deadlineTimer: TimerHandle | null;
  resolve(outcome: RequestOutcome): void;
}

/** Attempts with less time left than this are not started: they could only time out. */
const MIN_ATTEMPT_MS = 1;

export class Balancer {
  private readonly clock: Clock;
  private readonly members: () => readonly BalancerMember[];
  private readonly deadlineMs: number;
  private readonly attemptTimeoutMs: number | undefined;
  private readonly maxRetries: number;
  private readonly maxQueue: number;
  private readonly maxOutstandingPerMember: number;
  private readonly queueRecheckMs: number;
  private readonly log: Logger;
  private readonly budget: RetryBudget;

  private readonly active = new Set<Job>();
  /** Waiting for a healthy member, in arrival order (a Map keeps insertion order and deletes in O(1)). */
  private readonly queue = new Map<number, Job>();
  /** Attempts this balancer has in flight per member: counted at once, before the member's own count moves. */
  private readonly localInflight = new Map<string, number>();
  private recheckTimer: TimerHandle | null = null;
  private drainWaiters: Array<() => void> = [];
  private nextKey = 1;
  private cursor = 0;
  private sent = 0;
  private ok = 0;
  private failed = 0;
  private expired = 0;
  private retries = 0;

  constructor(options: BalancerOptions) {
    this.clock = options.clock;
    this.members = options.members;
    this.deadlineMs = options.deadlineMs ?? 10_000;
    this.attemptTimeoutMs = options.attemptTimeoutMs;
    this.maxRetries = options.maxRetries ?? 2;
    this.maxQueue = options.maxQueue ?? 10_000;
    this.maxOutstandingPerMember = options.maxOutstandingPerMember ?? 64;
    this.queueRecheckMs = options.queueRecheckMs ?? 100;
    this.log = options.log ?? nullLogger;
    this.budget = new RetryBudget({
      clock: this.clock,
      ratio: options.retryBudgetRatio ?? 0.2,
      minRetriesPerWindow: options.retryBudgetFloor ?? 10,
      windowMs: options.retryBudgetWindowMs ?? 10_000,
    });
  }

  /** Sends one request; resolves (never rejects) with its one outcome. */
  submit(request: BalancerRequest): Promise<RequestOutcome> {
    return new Promise<RequestOutcome>((resolve) => {
      const deadlineAtMs = request.intendedAtMs + (request.deadlineMs ?? this.deadlineMs);
      const job: Job = { key: this.nextKey++, request, deadlineAtMs, attempts: 0, tried: new Set(), done: false, deadlineTimer: null, resolve };
      this.sent++;
      this.active.add(job);
      this.budget.deposit();
      const remainingMs = deadlineAtMs - this.clock.nowMs();
      if (remainingMs < MIN_ATTEMPT_MS) {
        this.finishExpired(job);
        return;
      }
      job.deadlineTimer = this.clock.setTimeout(() => {
        job.deadlineTimer = null;
        this.finishExpired(job);
      }, remainingMs);
      this.dispatch(job);
    });
  }

  /** Tells the balancer that members came, went or changed health: queued requests go out now. */
  membersChanged(): void {
    this.pumpQueue();
  }

  counts(): BalancerCounts {
    return {
      sent: this.sent,
      ok: this.ok,
      failed: this.failed,
      expired: this.expired,
      inflight: this.active.size,
      queued: this.queue.size,
      retries: this.retries,
    };
  }

  /** Throws BalancerInvariantError unless sent = ok + failed + expired + inflight (for tests). */
  assertInvariant(): void {
    const c = this.counts();
    const problems: string[] = [];
    if (c.sent !== c.ok + c.failed + c.expired + c.inflight) problems.push(`sent ${c.sent} != ok ${c.ok} + failed ${c.failed} + expired ${c.expired} + inflight ${c.inflight}`);
    if (c.queued > c.inflight) problems.push(`queued ${c.queued} > inflight ${c.inflight}`);
    for (const job of this.queue.values()) if (job.done || !this.active.has(job)) problems.push(`queued request ${job.request.seq} is finished`);
    for (const job of this.active) if (job.done) problems.push(`finished request ${job.request.seq} still in flight`);
    for (const [id, n] of this.localInflight) if (n <= 0) problems.push(`member ${id} has local in-flight ${n}`);
    if (problems.length > 0) throw new BalancerInvariantError(problems.join('; '));
  }

  /** Resolves once no request is in flight (queued ones included). */
  drain(): Promise<void> {
    if (this.active.size === 0) return Promise.resolve();
    return new Promise<void>((resolve) => this.drainWaiters.push(resolve));
  }

  /** Ends every request in flight as failed with `reason` (for shutdown); late answers are ignored. */
  failAll(reason = 'shutdown'): void {
    for (const job of [...this.active]) this.finish(job, { outcome: 'failed', seq: job.request.seq, reason, latencyMs: this.latencyOf(job), attempts: job.attempts });
  }

  /** Attempts this balancer has in flight on a member (for tests and the UI). */
  inflightOn(memberId: string): number {
    return this.localInflight.get(memberId) ?? 0;
  }

  // ---- dispatch

  private dispatch(job: Job): void {
    const member = this.choose(job.tried);
    if (member) {
      this.startAttempt(job, member);
      return;
    }
    if (this.maxQueue <= 0) {
      this.finishFailed(job, 'no_members');
      return;
    }
    if (this.queue.size >= this.maxQueue) {
      this.finishFailed(job, 'queue_full');
      return;
    }
    this.queue.set(job.key, job);
    this.armRecheck();
  }

  /**
   * Least outstanding among healthy members, preferring ones this request has not tried. A member's
   * load is the larger of its own count and ours, so back-to-back choices spread before its count
   * moves; the scan starts at a rotating index, so ties go round-robin.
   */
  private choose(tried: ReadonlySet<string>): BalancerMember | null {
    const members = this.members();
    const n = members.length;
    if (n === 0) return null;
    const start = this.cursor++ % n;
    let best: BalancerMember | null = null;
    let bestTried = true;
    let bestScore = Infinity;
    for (let i = 0; i < n; i++) {
      const member = members[(start + i) % n];
      if (!member || !member.healthy) continue;
      const isTried = tried.has(member.id);
      const score = Math.max(member.outstanding, this.localInflight.get(member.id) ?? 0);
      if (score >= this.maxOutstandingPerMember) continue;
      const better = best === null || (bestTried && !isTried) || (bestTried === isTried && score < bestScore);
      if (better) {
        best = member;
        bestTried = isTried;
        bestScore = score;
      }
    }
    return best;
  }

  private startAttempt(job: Job, member: BalancerMember): void {
    const remainingMs = job.deadlineAtMs - this.clock.nowMs();
    if (remainingMs < MIN_ATTEMPT_MS) {
      this.finishExpired(job);
      return;
    }
    const timeoutMs = Math.min(this.attemptTimeoutMs ?? remainingMs, remainingMs);
    job.attempts++;
    job.tried.add(member.id);
    const memberId = member.id;
    this.localInflight.set(memberId, (this.localInflight.get(memberId) ?? 0) + 1);
    let attempt: Promise<ResultAnswer>;
    try {
      attempt = member.collide(job.request.word, job.request.digits, timeoutMs);
    } catch (error) {
      attempt = Promise.reject(error);
    }
    attempt.then(
      (answer) => {
        this.releaseLocal(memberId);
        if (job.done) return;
        this.finish(job, { outcome: 'ok', seq: job.request.seq, latencyMs: this.latencyOf(job), attempts: job.attempts, memberId, match: answer.match });
      },
      (error: unknown) => {
        this.releaseLocal(memberId);
        if (job.done) return;
        this.onAttemptFailed(job, memberId, error);
      },
    );
  }

  private onAttemptFailed(job: Job, memberId: string, error: unknown): void {
    const reason = agentErrorReason(error);
    this.log.debug('balancer.attempt_failed', { seq: job.request.seq, memberId, attempt: job.attempts, reason });
    if (!isRetriableAgentError(error)) {
      this.finishFailed(job, reason);
      return;
    }
    if (job.deadlineAtMs - this.clock.nowMs() < MIN_ATTEMPT_MS) {
      this.finishExpired(job);
      return;
    }
    if (job.attempts > this.maxRetries) {
      this.finishFailed(job, reason);
      return;
    }
    if (!this.budget.tryWithdraw()) {
      this.finishFailed(job, 'retry_budget', reason);
      return;
    }
    this.retries++;
    this.dispatch(job);
  }

  private releaseLocal(memberId: string): void {
    const n = (this.localInflight.get(memberId) ?? 0) - 1;
    if (n > 0) this.localInflight.set(memberId, n);
    else this.localInflight.delete(memberId);
    // A slot freed up: queued requests (held back by the per-member cap) go first.
    if (this.queue.size > 0) queueMicrotask(() => this.pumpQueue());
  }

  // ---- the queue

  private pumpQueue(): void {
    for (const job of this.queue.values()) {
      const member = this.choose(job.tried);
      if (!member) break;
      this.queue.delete(job.key);
      this.startAttempt(job, member);
    }
    if (this.queue.size > 0) this.armRecheck();
    else this.disarmRecheck();
  }

  private armRecheck(): void {
    if (this.recheckTimer) return;
    this.recheckTimer = this.clock.setTimeout(() => {
      this.recheckTimer = null;
      this.pumpQueue();
    }, this.queueRecheckMs);
  }

  private disarmRecheck(): void {
    if (this.recheckTimer) this.clock.clearTimeout(this.recheckTimer);
    this.recheckTimer = null;
  }

  // ---- outcomes: the one place a request ends

  private latencyOf(job: Job): number {
    return this.clock.nowMs() - job.request.intendedAtMs;
  }

  private finishExpired(job: Job): void {
    this.finish(job, { outcome: 'expired', seq: job.request.seq, latencyMs: this.latencyOf(job), attempts: job.attempts });
  }

  private finishFailed(job: Job, reason: string, detail?: string): void {
    this.finish(job, {
      outcome: 'failed',
      seq: job.request.seq,
      reason,
      ...(detail !== undefined ? { detail } : {}),
      latencyMs: this.latencyOf(job),
      attempts: job.attempts,
    });
  }

  private finish(job: Job, outcome: RequestOutcome): void {
    if (job.done) return;
    job.done = true;
    if (job.deadlineTimer) this.clock.clearTimeout(job.deadlineTimer);
    job.deadlineTimer = null;
    this.active.delete(job);
    if (this.queue.delete(job.key) && this.queue.size === 0) this.disarmRecheck();
    if (outcome.outcome === 'ok') this.ok++;
    else if (outcome.outcome === 'failed') this.failed++;
    else this.expired++;
    if (outcome.outcome === 'failed') this.log.debug('balancer.request_failed', { seq: job.request.seq, reason: outcome.reason, attempts: outcome.attempts });
    job.resolve(outcome);
    if (this.active.size === 0 && this.drainWaiters.length > 0) {
      const waiters = this.drainWaiters;
      this.drainWaiters = [];
      for (const wake of waiters) wake();
    }
  }
}
