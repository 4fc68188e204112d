// The balancer against fake members on a ManualClock: least-outstanding choice, retries elsewhere,
// the retry budget, deadlines from the intended time, the queue, and (property-based) exactly one
// outcome per request with sent = ok + failed + expired + inflight after every step.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ManualClock, type Clock } from '../../electron/core/clock';
import { Balancer, type BalancerMember, type BalancerOptions, type RequestOutcome } from '../../electron/core/balancer/balancer';
import { RetryBudget } from '../../electron/core/balancer/retry-budget';
import { AgentRequestError } from '../../electron/core/agents/errors';
import type { ErrorCode, ResultAnswer } from '../../guest-server/src/protocol';

/** How a fake member treats one call. */
type Behavior =
  | { kind: 'ok'; delayMs: number }
  | { kind: 'guest_error'; code: ErrorCode; delayMs: number }
  | { kind: 'closed'; delayMs: number }
  /** Never answers; rejects 'timeout' when the attempt's timeout runs out (as an Agent does). */
  | { kind: 'hang' }
  /** Never settles at all (breaks the member contract): the deadline must still end the request. */
  | { kind: 'black_hole' }
  /** Held until the test settles it by hand. */
  | { kind: 'manual' };

/** Counts calls across all fake members, so a test can order calls against outcomes. */
let callCounter = 0;

interface Call {
  /** Position of this call in callCounter order. */
  n: number;
  word: string;
  timeoutMs: number;
  resolve(): void;
  reject(error: Error): void;
}

class FakeMember implements BalancerMember {
  healthy = true;
  /** Outstanding work from elsewhere (other callers), added to our own count. */
  external = 0;
  readonly calls: Call[] = [];
  private readonly pending = new Set<Call>();
  private next = 0;

  constructor(
    readonly id: string,
    private readonly clock: ManualClock,
    public script: Behavior[] = [{ kind: 'ok', delayMs: 10 }],
  ) {}

  get outstanding(): number {
    return this.pending.size + this.external;
  }

  collide(word: string, digits: number, timeoutMs: number): Promise<ResultAnswer> {
    const behavior = this.script[this.next++ % this.script.length] ?? { kind: 'ok', delayMs: 0 };
    return new Promise<ResultAnswer>((resolve, reject) => {
      if (!this.healthy) {
        reject(new AgentRequestError('closed', 'ejected'));
        return;
      }
      const call: Call = {
        n: callCounter++,
        word,
        timeoutMs,
        resolve: () => {
          if (this.pending.delete(call)) resolve({ t: 'result', id: 1, match: `${word}:${digits}:${this.id}`, attempts: 1, ms: 1 });
        },
        reject: (error) => {
          if (this.pending.delete(call)) reject(error);
        },
      };
      this.calls.push(call);
      this.pending.add(call);
      switch (behavior.kind) {
        case 'ok':
          this.clock.setTimeout(() => call.resolve(), behavior.delayMs);
          return;
        case 'guest_error':
          this.clock.setTimeout(() => call.reject(new AgentRequestError('guest_error', behavior.code, behavior.code)), behavior.delayMs);
          return;
        case 'closed':
          this.clock.setTimeout(() => call.reject(new AgentRequestError('closed', 'closed')), behavior.delayMs);
          return;
        case 'hang':
          this.clock.setTimeout(() => call.reject(new AgentRequestError('timeout', 'timeout')), timeoutMs);
          return;
        case 'black_hole':
        case 'manual':
          return;
      }
    });
  }

  /** Like an Agent being ejected: unhealthy, and everything pending rejects 'closed'. */
  eject(): void {
    this.healthy = false;
    for (const call of [...this.pending]) call.reject(new AgentRequestError('closed', 'ejected'));
  }

  held(): Call[] {
    return [...this.pending];
  }
}

/** Lets promise callbacks (attempt settlements) run. */
async function flush(): Promise<void> {
  for (let i = 0; i < 3; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

function setUp(members: FakeMember[], options: Partial<BalancerOptions> = {}, clock = new ManualClock(10_000)): { balancer: Balancer; clock: ManualClock } {
  const balancer = new Balancer({ clock: clock as Clock, members: () => members, ...options });
  return { balancer, clock };
}

/** Submits and records the outcome when it comes, so tests can check it without awaiting. */
function track(balancer: Balancer, clock: ManualClock, seq: number, intendedAtMs = clock.nowMs(), word = `w${seq}`): { outcome: RequestOutcome | null; resolutions: number } {
  const record: { outcome: RequestOutcome | null; resolutions: number } = { outcome: null, resolutions: 0 };
  void balancer.submit({ seq, word, digits: 2, intendedAtMs }).then((outcome) => {
    record.outcome = outcome;
    record.resolutions++;
  });
  return record;
}

async function step(balancer: Balancer, clock: ManualClock, ms: number): Promise<void> {
  clock.advance(ms);
  await flush();
  balancer.assertInvariant();
}

describe('Balancer choice', () => {
  it('spreads back-to-back requests by least outstanding before members update', async () => {
    const members = ['a', 'b', 'c'].map((id) => new FakeMember(id, new ManualClock(), [{ kind: 'manual' }]));
    const { balancer, clock } = setUp(members);
    for (let i = 0; i < 9; i++) track(balancer, clock, i);
    balancer.assertInvariant();
    expect(members.map((m) => m.calls.length)).toEqual([3, 3, 3]);
    expect(members.map((m) => balancer.inflightOn(m.id))).toEqual([3, 3, 3]);
  });

  it('avoids a member that is busy with other work, and unhealthy members', async () => {
    const clock = new ManualClock();
    const busy = new FakeMember('busy', clock, [{ kind: 'manual' }]);
    busy.external = 5;
    const idle = new FakeMember('idle', clock, [{ kind: 'manual' }]);
    const sick = new FakeMember('sick', clock, [{ kind: 'manual' }]);
    sick.healthy = false;
    const { balancer } = setUp([busy, sick, idle], {}, clock);
    for (let i = 0; i < 5; i++) track(balancer, clock, i);
    expect(idle.calls.length).toBe(5);
    expect(busy.calls.length).toBe(0);
    track(balancer, clock, 5);
    track(balancer, clock, 6);
    expect(busy.calls.length + idle.calls.length).toBe(7);
    expect(sick.calls.length).toBe(0);
  });

  it('holds requests in the queue instead of exceeding a member\'s in-flight cap, then serves them as slots free', async () => {
    const clock = new ManualClock();
    const members = ['a', 'b'].map((id) => new FakeMember(id, clock, [{ kind: 'manual' }]));
    const { balancer } = setUp(members, { maxOutstandingPerMember: 2 }, clock);
    const records = Array.from({ length: 7 }, (_, i) => track(balancer, clock, i));
    expect(members.map((m) => m.held().length)).toEqual([2, 2]);
    expect(balancer.counts().queued).toBe(3);
    balancer.assertInvariant();
    // One answer frees one slot on that member: the oldest queued request takes it.
    members[0]?.held()[0]?.resolve();
    await flush();
    expect(members.map((m) => m.held().length)).toEqual([2, 2]);
    expect(balancer.counts().queued).toBe(2);
    expect(members[0]?.calls.at(-1)?.word).toBe('w4');
    for (let round = 0; round < 5; round++) {
      for (const member of members) for (const call of member.held()) call.resolve();
      await flush();
      balancer.assertInvariant();
    }
    expect(records.every((record) => record.outcome?.outcome === 'ok' && record.resolutions === 1)).toBe(true);
    expect(Math.max(...members.map((m) => m.calls.length))).toBeLessThanOrEqual(4);
  });

  it('breaks ties round-robin when every member is idle', async () => {
    const clock = new ManualClock();
    const members = ['a', 'b', 'c'].map((id) => new FakeMember(id, clock, [{ kind: 'ok', delayMs: 1 }]));
    const { balancer } = setUp(members, {}, clock);
    for (let i = 0; i < 9; i++) {
      const r = track(balancer, clock, i);
      await step(balancer, clock, 1);
      expect(r.outcome?.outcome).toBe('ok');
    }
    expect(members.map((m) => m.calls.length)).toEqual([3, 3, 3]);
  });
});

describe('Balancer retries', () => {
  it('retries a failed attempt on another member', async () => {
    const clock = new ManualClock();
    const bad = new FakeMember('bad', clock, [{ kind: 'guest_error', code: 'internal', delayMs: 5 }]);
    const good = new FakeMember('good', clock, [{ kind: 'ok', delayMs: 5 }]);
    const { balancer } = setUp([bad, good], {}, clock);
    const r = track(balancer, clock, 1);
    expect(bad.calls.length).toBe(1);
    await step(balancer, clock, 5);
    expect(good.calls.length).toBe(1);
    await step(balancer, clock, 5);
    expect(r.outcome).toMatchObject({ outcome: 'ok', attempts: 2, memberId: 'good', latencyMs: 10 });
    expect(balancer.counts()).toMatchObject({ sent: 1, ok: 1, retries: 1, inflight: 0 });
  });

  it('retries a timed-out attempt elsewhere within the deadline', async () => {
    const clock = new ManualClock();
    const stalled = new FakeMember('stalled', clock, [{ kind: 'hang' }]);
    const good = new FakeMember('good', clock, [{ kind: 'ok', delayMs: 20 }]);
    const { balancer } = setUp([stalled, good], { attemptTimeoutMs: 300, deadlineMs: 1000 }, clock);
    const r = track(balancer, clock, 1);
    expect(stalled.calls[0]?.timeoutMs).toBe(300);
    await step(balancer, clock, 300);
    expect(good.calls[0]?.timeoutMs).toBe(300);
    await step(balancer, clock, 20);
    expect(r.outcome).toMatchObject({ outcome: 'ok', attempts: 2, memberId: 'good', latencyMs: 320 });
  });

  it('caps each attempt at the remaining deadline', async () => {
    const clock = new ManualClock();
    const stalled = new FakeMember('stalled', clock, [{ kind: 'hang' }]);
    const other = new FakeMember('other', clock, [{ kind: 'hang' }]);
    const { balancer } = setUp([stalled, other], { attemptTimeoutMs: 700, deadlineMs: 1000 }, clock);
    const r = track(balancer, clock, 1);
    await step(balancer, clock, 700);
    expect(other.calls[0]?.timeoutMs).toBe(300);
    await step(balancer, clock, 300);
    expect(r.outcome).toMatchObject({ outcome: 'expired', attempts: 2, latencyMs: 1000 });
  });

  it('does not retry an error every member would repeat', async () => {
    const clock = new ManualClock();
    const members = ['a', 'b'].map((id) => new FakeMember(id, clock, [{ kind: 'guest_error', code: 'bad_field', delayMs: 1 }]));
    const { balancer } = setUp(members, {}, clock);
    const r = track(balancer, clock, 1);
    await step(balancer, clock, 1);
    expect(r.outcome).toMatchObject({ outcome: 'failed', reason: 'guest_error:bad_field', attempts: 1 });
  });

  it('gives up after maxRetries with the last reason', async () => {
    const clock = new ManualClock();
    const members = ['a', 'b'].map((id) => new FakeMember(id, clock, [{ kind: 'closed', delayMs: 1 }]));
    const { balancer } = setUp(members, { maxRetries: 2 }, clock);
    const r = track(balancer, clock, 1);
    for (let i = 0; i < 3; i++) await step(balancer, clock, 1);
    expect(r.outcome).toMatchObject({ outcome: 'failed', reason: 'closed', attempts: 3 });
    expect(members[0]?.calls.length).toBe(2);
    expect(members[1]?.calls.length).toBe(1);
    expect(balancer.counts().retries).toBe(2);
  });

  it('the retry budget caps retries at ratio × requests + floor', async () => {
    const clock = new ManualClock();
    const member = new FakeMember('a', clock, [{ kind: 'guest_error', code: 'internal', delayMs: 1 }]);
    const { balancer } = setUp([member], { maxRetries: 2, retryBudgetRatio: 0.2, retryBudgetFloor: 2 }, clock);
    const records = Array.from({ length: 20 }, (_, i) => track(balancer, clock, i));
    for (let i = 0; i < 4; i++) await step(balancer, clock, 1);
    const { retries, sent, failed } = balancer.counts();
    expect(sent).toBe(20);
    expect(failed).toBe(20);
    expect(retries).toBe(Math.floor(0.2 * 20 + 2));
    const reasons = records.map((r) => (r.outcome?.outcome === 'failed' ? r.outcome.reason : 'none'));
    expect(reasons.filter((reason) => reason === 'retry_budget').length).toBeGreaterThan(0);
    const budgeted = records.find((r) => r.outcome?.outcome === 'failed' && r.outcome.reason === 'retry_budget')?.outcome;
    expect(budgeted).toMatchObject({ detail: 'guest_error:internal' });
  });

  it('the budget window slides: old requests stop paying for new retries', () => {
    const clock = new ManualClock();
    const budget = new RetryBudget({ clock, ratio: 0.5, minRetriesPerWindow: 0, windowMs: 1000, buckets: 10 });
    for (let i = 0; i < 10; i++) budget.deposit();
    for (let i = 0; i < 5; i++) expect(budget.tryWithdraw()).toBe(true);
    expect(budget.tryWithdraw()).toBe(false);
    clock.advance(1000);
    expect(budget.tryWithdraw()).toBe(false);
    budget.deposit();
    budget.deposit();
    expect(budget.tryWithdraw()).toBe(true);
    expect(budget.tryWithdraw()).toBe(false);
  });

  it('retries on the same member when it is the only one', async () => {
    const clock = new ManualClock();
    const only = new FakeMember('only', clock, [{ kind: 'guest_error', code: 'busy', delayMs: 1 }, { kind: 'ok', delayMs: 1 }]);
    const { balancer } = setUp([only], {}, clock);
    const r = track(balancer, clock, 1);
    await step(balancer, clock, 1);
    await step(balancer, clock, 1);
    expect(r.outcome).toMatchObject({ outcome: 'ok', attempts: 2, memberId: 'only' });
  });
});

describe('Balancer deadlines and the queue', () => {
  it('expires at the deadline measured from the intended send time', async () => {
    const clock = new ManualClock(5000);
    const member = new FakeMember('a', clock, [{ kind: 'black_hole' }]);
    const { balancer } = setUp([member], { deadlineMs: 500 }, clock);
    const late = track(balancer, clock, 1, clock.nowMs() - 400);
    const never = track(balancer, clock, 2, clock.nowMs() - 600);
    await flush();
    expect(never.outcome).toMatchObject({ outcome: 'expired', attempts: 0, latencyMs: 600 });
    expect(member.calls[0]?.timeoutMs).toBe(100);
    await step(balancer, clock, 99);
    expect(late.outcome).toBeNull();
    await step(balancer, clock, 1);
    expect(late.outcome).toMatchObject({ outcome: 'expired', attempts: 1, latencyMs: 500 });
    member.calls[0]?.resolve();
    await step(balancer, clock, 0);
    expect(late.resolutions).toBe(1);
    expect(balancer.counts()).toMatchObject({ sent: 2, expired: 2, ok: 0, inflight: 0 });
  });

  it('queues while no member is healthy and dispatches when one appears', async () => {
    const clock = new ManualClock();
    const members: FakeMember[] = [];
    const { balancer } = setUp(members, {}, clock);
    const records = [0, 1, 2].map((i) => track(balancer, clock, i));
    expect(balancer.counts()).toMatchObject({ sent: 3, queued: 3, inflight: 3 });
    balancer.assertInvariant();
    members.push(new FakeMember('late', clock, [{ kind: 'ok', delayMs: 5 }]));
    balancer.membersChanged();
    expect(balancer.counts().queued).toBe(0);
    await step(balancer, clock, 5);
    expect(records.map((r) => r.outcome?.outcome)).toEqual(['ok', 'ok', 'ok']);
  });

  it('re-checks the queue on its own timer', async () => {
    const clock = new ManualClock();
    const member = new FakeMember('a', clock, [{ kind: 'ok', delayMs: 1 }]);
    member.healthy = false;
    const { balancer } = setUp([member], { queueRecheckMs: 100 }, clock);
    const r = track(balancer, clock, 1);
    await step(balancer, clock, 100);
    expect(balancer.counts().queued).toBe(1);
    member.healthy = true;
    await step(balancer, clock, 100);
    expect(balancer.counts().queued).toBe(0);
    await step(balancer, clock, 1);
    expect(r.outcome).toMatchObject({ outcome: 'ok', attempts: 1, latencyMs: 201 });
  });

  it('queued requests expire at their deadline without an attempt', async () => {
    const clock = new ManualClock();
    const { balancer } = setUp([], { deadlineMs: 1000 }, clock);
    const r = track(balancer, clock, 1);
    await step(balancer, clock, 1000);
    expect(r.outcome).toMatchObject({ outcome: 'expired', attempts: 0, latencyMs: 1000 });
    expect(balancer.counts()).toMatchObject({ queued: 0, inflight: 0, expired: 1 });
    expect(clock.pendingTimers()).toBe(0);
  });

  it('fails with no_members when queueing is off, and queue_full beyond maxQueue', async () => {
    const clock = new ManualClock();
    const off = setUp([], { maxQueue: 0 }, clock).balancer;
    expect(await off.submit({ seq: 1, word: 'w', digits: 1, intendedAtMs: clock.nowMs() })).toMatchObject({ outcome: 'failed', reason: 'no_members', attempts: 0 });
    const small = setUp([], { maxQueue: 2 }, clock).balancer;
    track(small, clock, 1);
    track(small, clock, 2);
    expect(await small.submit({ seq: 3, word: 'w', digits: 1, intendedAtMs: clock.nowMs() })).toMatchObject({ outcome: 'failed', reason: 'queue_full' });
    expect(small.counts()).toMatchObject({ sent: 3, failed: 1, queued: 2, inflight: 2 });
    small.assertInvariant();
  });

  it('a retry with no healthy member left waits in the queue', async () => {
    const clock = new ManualClock();
    const members = [new FakeMember('a', clock, [{ kind: 'manual' }])];
    const { balancer } = setUp(members, {}, clock);
    const r = track(balancer, clock, 1);
    members[0]?.eject();
    await step(balancer, clock, 0);
    expect(balancer.counts()).toMatchObject({ queued: 1, retries: 1 });
    members.push(new FakeMember('b', clock, [{ kind: 'ok', delayMs: 1 }]));
    balancer.membersChanged();
    await step(balancer, clock, 1);
    expect(r.outcome).toMatchObject({ outcome: 'ok', memberId: 'b', attempts: 2 });
  });

  it('failAll ends everything in flight; drain resolves; late answers are ignored', async () => {
    const clock = new ManualClock();
    const member = new FakeMember('a', clock, [{ kind: 'manual' }]);
    const { balancer } = setUp([member], {}, clock);
    const records = [1, 2].map((i) => track(balancer, clock, i));
    let drained = false;
    void balancer.drain().then(() => {
      drained = true;
    });
    await flush();
    expect(drained).toBe(false);
    balancer.failAll('shutdown');
    await flush();
    expect(drained).toBe(true);
    expect(records.map((r) => r.outcome)).toMatchObject([
      { outcome: 'failed', reason: 'shutdown' },
      { outcome: 'failed', reason: 'shutdown' },
    ]);
    for (const call of member.held()) call.resolve();
    await step(balancer, clock, 0);
    expect(records.map((r) => r.resolutions)).toEqual([1, 1]);
    expect(balancer.counts()).toMatchObject({ sent: 2, failed: 2, ok: 0, inflight: 0 });
    expect(balancer.inflightOn('a')).toBe(0);
    await balancer.drain();
  });
});

describe('Balancer properties', () => {
  const behaviorArb: fc.Arbitrary<Behavior> = fc.oneof(
    fc.record({ kind: fc.constant('ok' as const), delayMs: fc.integer({ min: 0, max: 400 }) }),
    fc.record({ kind: fc.constant('guest_error' as const), code: fc.constantFrom<ErrorCode>('busy', 'internal', 'bad_field', 'shutting_down'), delayMs: fc.integer({ min: 0, max: 100 }) }),
    fc.record({ kind: fc.constant('closed' as const), delayMs: fc.integer({ min: 0, max: 100 }) }),
    fc.constant({ kind: 'hang' as const }),
    fc.constant({ kind: 'black_hole' as const }),
  );
  type Op =
    | { op: 'submit'; count: number; lagMs: number }
    | { op: 'advance'; ms: number }
    | { op: 'eject'; member: number }
    | { op: 'revive'; member: number }
    | { op: 'membersChanged' }
    | { op: 'failAll' };
  const opArb: fc.Arbitrary<Op> = fc.oneof(
    { weight: 5, arbitrary: fc.record({ op: fc.constant('submit' as const), count: fc.integer({ min: 1, max: 5 }), lagMs: fc.integer({ min: 0, max: 1500 }) }) },
    { weight: 5, arbitrary: fc.record({ op: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 600 }) }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('eject' as const), member: fc.nat(3) }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('revive' as const), member: fc.nat(3) }) },
    { weight: 1, arbitrary: fc.constant({ op: 'membersChanged' as const }) },
    { weight: 1, arbitrary: fc.constant({ op: 'failAll' as const }) },
  );

  it('every request resolves exactly once and the counts always add up', async () => {
    // Summed over all runs, to show the property met every kind of outcome (it is not vacuous).
    const seen = { ok: 0, failed: 0, expired: 0, retries: 0, queued: 0 };
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(behaviorArb, { minLength: 1, maxLength: 6 }), { minLength: 0, maxLength: 4 }),
        fc.array(opArb, { maxLength: 40 }),
        fc.record({ deadlineMs: fc.integer({ min: 200, max: 2000 }), attemptTimeoutMs: fc.option(fc.integer({ min: 50, max: 1000 }), { nil: undefined }), maxQueue: fc.integer({ min: 0, max: 8 }), maxRetries: fc.integer({ min: 0, max: 3 }) }),
        async (scripts, ops, options) => {
          const clock = new ManualClock(10_000);
          const members = scripts.map((script, i) => new FakeMember(`m${i}`, clock, script));
          // One budget window over the whole run, so the budget bounds the run's total retries.
          const balancer = new Balancer({ clock, members: () => members, retryBudgetFloor: 3, retryBudgetWindowMs: 1e9, ...options });
          const resolutions = new Map<number, number>();
          /** callCounter when each request's outcome arrived: no attempt may start after it. */
          const resolvedAtCall = new Map<number, number>();
          const outcomes: RequestOutcome[] = [];
          let seq = 0;
          for (const op of ops) {
            switch (op.op) {
              case 'submit':
                for (let i = 0; i < op.count; i++) {
                  const s = seq++;
                  void balancer.submit({ seq: s, word: `w${s}`, digits: 2, intendedAtMs: clock.nowMs() - op.lagMs }).then((outcome) => {
                    resolutions.set(s, (resolutions.get(s) ?? 0) + 1);
                    resolvedAtCall.set(s, callCounter);
                    outcomes.push(outcome);
                  });
                }
                break;
              case 'advance':
                clock.advance(op.ms);
                break;
              case 'eject':
                members[op.member]?.eject();
                break;
              case 'revive':
                if (members[op.member]) (members[op.member] as FakeMember).healthy = true;
                break;
              case 'membersChanged':
                balancer.membersChanged();
                break;
              case 'failAll':
                balancer.failAll('shutdown');
                break;
            }
            balancer.assertInvariant();
            seen.queued += balancer.counts().queued;
            await flush();
            balancer.assertInvariant();
          }
          // Run out every deadline: nothing may stay in flight.
          clock.advance(options.deadlineMs + 2000);
          await flush();
          balancer.assertInvariant();
          await balancer.drain();
          const c = balancer.counts();
          seen.ok += c.ok;
          seen.failed += c.failed;
          seen.expired += c.expired;
          seen.retries += c.retries;
          expect(c.inflight).toBe(0);
          expect(c.queued).toBe(0);
          expect(c.sent).toBe(seq);
          expect(c.ok + c.failed + c.expired).toBe(seq);
          expect(outcomes.length).toBe(seq);
          for (let s = 0; s < seq; s++) expect(resolutions.get(s)).toBe(1);
          expect(outcomes.filter((o) => o.outcome === 'ok').length).toBe(c.ok);
          expect(outcomes.filter((o) => o.outcome === 'failed').length).toBe(c.failed);
          expect(c.retries).toBeLessThanOrEqual(0.2 * c.sent + 3);
          for (const member of members) {
            for (const call of member.calls) {
              const s = Number(call.word.slice(1));
              expect(call.n).toBeLessThan(resolvedAtCall.get(s) ?? -1);
            }
          }
          for (const o of outcomes) {
            expect(o.attempts).toBeLessThanOrEqual(options.maxRetries + 1);
            if (o.outcome === 'ok') expect(o.latencyMs).toBeLessThanOrEqual(options.deadlineMs);
            // Expired at the deadline, or submitted already past it (latency then is the lag).
            if (o.outcome === 'expired') expect(o.latencyMs).toBeGreaterThanOrEqual(options.deadlineMs - 1);
          }
        },
      ),
      { numRuns: 150 },
    );
    expect(Math.min(seen.ok, seen.failed, seen.expired, seen.retries, seen.queued)).toBeGreaterThan(0);
  });
});
