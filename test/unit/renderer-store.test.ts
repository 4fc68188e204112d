// The renderer's other slices and pure helpers in plain Node: one store update per state push,
// metrics columns, the event log (capacity, categories, seeding without duplicates), the load
// panel's linked fields, the policy form checked by the contract's schema, and the carrier binding.
import { describe, expect, it } from 'vitest';
import type { AppState, CmsApi, CommandName, LogEntryView, PushEventName, PushEventPayload, Sample } from '../../electron/contract/contract';
import { ManualClock, type TimerHandle } from '../../electron/core/clock';
import { bindCarrier, parseEventLines } from '../../renderer/src/api/bind';
import { createThrottle, type Timers } from '../../renderer/src/api/connection';
import { describeEntry, describeInputs } from '../../renderer/src/lib/describe-event';
import { formatMemoryKiB, formatUptimeS } from '../../renderer/src/lib/format';
import { draftFromRateRps, editInterRequest, editRate, parseSteps, rateCommand } from '../../renderer/src/lib/load-form';
import { formFromConfig, policyFromForm } from '../../renderer/src/lib/policy-form';
import { appendEventRows, categorize, EVENT_LOG_CAPACITY, mergeQuitProgress, seedEventRows } from '../../renderer/src/store/events-slice';
import { appendSample, emptySeries, SERIES_POINTS } from '../../renderer/src/store/metrics-slice';
import { selectPoolSummary, selectVisibleEvents } from '../../renderer/src/store/selectors';
import { createAppStore } from '../../renderer/src/store/store';

function sample(tS: number, patch: Partial<Sample> = {}): Sample {
  return { tS, offeredRps: 10, arrivedPerS: 10, servedRps: 9, okPerS: 9, failedPerS: 0, expiredPerS: 0, p50Ms: 20, p95Ms: 80, p99Ms: 120, poolDesired: 2, poolBooting: 0, poolHealthy: 2, utilization: 0.5, inflight: 1, ...patch };
}

function appState(patch: Partial<AppState> = {}): AppState {
  return {
    hosts: [{ id: 'h1', uri: 'test:///x.xml', status: 'connected', hostname: 'vm', cpus: 4, memoryKiB: 8_388_608, lastError: null, sandbox: true }],
    domains: [{ hostId: 'h1', uuid: 'u1', name: 'web-frontend', state: 'running', vcpus: 2, memoryKiB: 1_048_576, cpuPercent: 50, role: 'other', health: null, busy: null, inflight: 0, uptimeS: 3 }],
    pool: { name: 'cms', desired: 3, min: 1, max: 8, warmPoolSize: 0, savedPoolSize: 0, healthy: 2, booting: 1, warm: 0, saved: 0 },
    load: { profile: { kind: 'constant', rateRps: 4 }, running: true, paused: false, offeredRps: 4, digits: 3, sent: 10 },
    scaling: {
      config: { kind: 'target', min: 1, max: 8, bootTimeoutMs: 60_000, warmupMs: 5_000, warmPoolSize: 0, savedPoolSize: 0, periodMs: 2_000, metric: 'utilization', target: 0.6, tolerance: 0.1, scaleUpWindowMs: 0, scaleDownWindowMs: 30_000, maxStepUp: 4, maxStepDown: 1 },
      paused: false,
      lastReason: null,
    },
    outcomes: { sent: 10, ok: 9, failed: 0, expired: 0, inflight: 1, retries: 0 },
    latest: null,
    agentAddress: { host: '127.0.0.1', port: 7001 },
    sandboxNote: 'Sandbox VMs are simulated',
    quitting: false,
    ...patch,
  };
}

const entry = (event: string, patch: Record<string, unknown> = {}): LogEntryView => ({ ts: '2025-01-01T00:00:00.000Z', level: 'info', event, ...patch });

describe('the combined store', () => {
  it('folds a state push into every slice with one notification', () => {
    const store = createAppStore();
    let notified = 0;
    store.subscribe(() => (notified += 1));
    store.getState().applyAppState(appState(), 0);
    expect(notified).toBe(1);
    const state = store.getState();
    expect(state.ready).toBe(true);
    expect(state.domainKeys).toEqual(['h1/u1']);
    expect(state.load?.offeredRps).toBe(4);
    expect(state.pool?.desired).toBe(3);
    expect(state.scaling?.config.kind).toBe('target');
    expect(state.sandboxNote).toBe('Sandbox VMs are simulated');
  });

  it('keeps the policy config and pool objects while they do not change (forms are not reset)', () => {
    const store = createAppStore();
    store.getState().applyAppState(appState(), 0);
    const { scaling, pool, load } = store.getState();
    store.getState().applyAppState(appState(), 100);
    expect(store.getState().scaling).toBe(scaling);
    expect(store.getState().pool).toBe(pool);
    expect(store.getState().load).toBe(load);
    store.getState().applyAppState(appState({ load: { ...appState().load, sent: 11 } }), 200);
    expect(store.getState().load).not.toBe(load);
    expect(store.getState().load?.profile).toBe(load?.profile);
  });

  it('summarizes the pool for the status bar', () => {
    const store = createAppStore();
    expect(selectPoolSummary(store.getState())).toBeNull();
    store.getState().applyAppState(appState(), 0);
    store.getState().applySample(sample(1, { servedRps: 7.5, p95Ms: 91 }));
    expect(selectPoolSummary(store.getState())).toEqual({ healthy: 2, desired: 3, booting: 1, warm: 0, servedRps: 7.5, offeredRps: 4, p95Ms: 91 });
  });
});

describe('metrics series', () => {
  it('appends columns, keeps the last SERIES_POINTS and converts utilization to %', () => {
    let series = emptySeries();
    for (let t = 1; t <= SERIES_POINTS + 5; t++) series = appendSample(series, sample(t, { utilization: t === SERIES_POINTS + 5 ? 0.25 : null }));
    expect(series.tS.length).toBe(SERIES_POINTS);
    expect(series.tS[0]).toBe(6);
    expect(series.utilizationPct.at(-1)).toBe(25);
    expect(series.utilizationPct.at(-2)).toBeNull();
    expect(series.poolHealthy.length).toBe(SERIES_POINTS);
  });

  it('starts over when time goes back (the app restarted) and ignores a repeated sample', () => {
    let series = appendSample(appendSample(emptySeries(), sample(10)), sample(11));
    expect(appendSample(series, sample(11))).toBe(series);
    series = appendSample(series, sample(1));
    expect(series.tS).toEqual([1]);
  });
});

describe('event log', () => {
  it('categorizes decisions, failures, lifecycle and load events', () => {
    expect(categorize(entry('scale_up'))).toBe('decision');
    expect(categorize(entry('member_failed', { level: 'warn' }))).toBe('failure');
    expect(categorize(entry('action_failed', { level: 'error' }))).toBe('failure');
    expect(categorize(entry('member_healthy'))).toBe('member');
    expect(categorize(entry('load_profile_set'))).toBe('load');
  });

  it('keeps at most EVENT_LOG_CAPACITY entries with increasing sequence numbers', () => {
    let state = { eventRows: [] as ReturnType<typeof appendEventRows>['eventRows'], nextSeq: 1 };
    for (let i = 0; i < EVENT_LOG_CAPACITY + 10; i++) state = appendEventRows(state, [entry('member_started', { n: i })]);
    expect(state.eventRows.length).toBe(EVENT_LOG_CAPACITY);
    expect(state.eventRows[0]?.entry.n).toBe(10);
    expect(state.eventRows.at(-1)?.seq).toBe(EVENT_LOG_CAPACITY + 10);
  });

  it('seeds from the exported log without duplicating entries that were also pushed', () => {
    const pushed = [entry('scale_up', { from: 1, to: 2 }), entry('member_cloned', { name: 'cms-3' })];
    const live = appendEventRows({ eventRows: [], nextSeq: 1 }, pushed);
    const history = [entry('control_plane_started'), pushed[0] as LogEntryView];
    const seeded = seedEventRows(live, history);
    expect(seeded.eventRows.map((row) => row.entry.event)).toEqual(['control_plane_started', 'scale_up', 'member_cloned']);
    expect(new Set(seeded.eventRows.map((row) => row.seq)).size).toBe(3);
  });

  it('parses events:export lines and skips broken ones', () => {
    const text = `${JSON.stringify(entry('scale_up'))}\nnot json\n${JSON.stringify({ event: 'no ts' })}\n\n${JSON.stringify(entry('scale_down'))}\n`;
    expect(parseEventLines(text).map((e) => e.event)).toEqual(['scale_up', 'scale_down']);
  });

  it('filters newest first by category and text', () => {
    const store = createAppStore();
    store.getState().appendEntries([entry('scale_up', { reason: 'busy' }), entry('member_healthy', { name: 'cms-2' }), entry('scale_down', { reason: 'idle' })]);
    expect(selectVisibleEvents(store.getState()).map((row) => row.entry.event)).toEqual(['scale_down', 'member_healthy', 'scale_up']);
    store.getState().setEventFilter({ category: 'decision' });
    expect(selectVisibleEvents(store.getState()).map((row) => row.entry.event)).toEqual(['scale_down', 'scale_up']);
    store.getState().setEventFilter({ text: 'BUSY' });
    expect(selectVisibleEvents(store.getState()).map((row) => row.entry.event)).toEqual(['scale_up']);
  });

  it('describes a decision with its reason and inputs', () => {
    const text = describeEntry(
      entry('scale_up', { from: 1, to: 3, policy: 'target:utilization', reason: 'utilization 0.95 > target 0.60', inputs: { utilization: 0.95, current: 1, healthy: 1, booting: 0, offeredRps: 12, p95Ms: null } }),
    );
    expect(text.headline).toBe('1 → 3: utilization 0.95 > target 0.60');
    expect(text.detail).toContain('utilization 95 %');
    expect(text.detail).toContain('offered 12.0 req/s');
    expect(text.detail).toContain('p95 —');
    expect(describeInputs({ custom: 'x', healthy: 2 })).toBe('healthy 2 · custom x');
  });

  it('caps notifications and dismisses by id', () => {
    const store = createAppStore();
    for (let i = 0; i < 8; i++) store.getState().notify({ title: `start of vm-${i} failed`, message: 'libvirt: boom', vm: `vm-${i}` }, i);
    const notes = store.getState().notifications;
    expect(notes.length).toBe(6);
    expect(notes[0]?.vm).toBe('vm-2');
    store.getState().dismissNotification(notes[0]?.id ?? -1);
    expect(store.getState().notifications.map((note) => note.vm)).not.toContain('vm-2');
  });
});

describe('load panel fields', () => {
  it('links inter-request time and rate both ways', () => {
    let draft = draftFromRateRps(2);
    expect(draft.interRequestText).toBe('0.5');
    draft = editInterRequest(draft, '0.25');
    expect(draft.rateText).toBe('4');
    expect(rateCommand(draft)).toEqual({ ok: true, payload: { interRequestS: 0.25 } });
    draft = editRate(draft, '8');
    expect(draft.interRequestText).toBe('0.125');
    expect(rateCommand(draft)).toEqual({ ok: true, payload: { rateRps: 8 } });
    draft = editRate(draft, '0');
    expect(draft.interRequestText).toBe('');
    expect(rateCommand(draft)).toEqual({ ok: true, payload: { rateRps: 0 } });
  });

  it('keeps the other field while the text is not a number, and refuses to send it', () => {
    const draft = editInterRequest(draftFromRateRps(2), 'abc');
    expect(draft.rateText).toBe('2');
    const command = rateCommand(draft);
    expect(command.ok).toBe(false);
    expect(!command.ok && command.message).toMatch(/inter-request/);
    expect(rateCommand(editInterRequest(draft, '0')).ok).toBe(false);
  });

  it('parses step lists and names the bad item', () => {
    expect(parseSteps('0:2, 30:10,90:2')).toEqual([
      { atS: 0, rateRps: 2 },
      { atS: 30, rateRps: 10 },
      { atS: 90, rateRps: 2 },
    ]);
    expect(() => parseSteps('0:2,x:3')).toThrow(/steps\[1\]/);
    expect(() => parseSteps('')).toThrow(/steps/);
  });

  it('formats memory and uptime like the list shows them', () => {
    expect(formatMemoryKiB(524_288)).toBe('512 MiB');
    expect(formatMemoryKiB(4_194_304)).toBe('4.0 GiB');
    expect(formatUptimeS(3725)).toBe('1 h 02 m');
    expect(formatUptimeS(null)).toBe('—');
  });
});

describe('policy form', () => {
  const config = appState().scaling.config;

  it('round-trips a config through the form (ms shown in seconds)', () => {
    const form = formFromConfig(config);
    expect(form.values.scaleDownWindowMs).toBe('30');
    const result = policyFromForm(form);
    expect(result.ok).toBe(true);
    expect(result.ok && result.policy).toMatchObject({ kind: 'target', metric: 'utilization', min: 1, max: 8, scaleDownWindowMs: 30_000, target: 0.6 });
  });

  it('refuses what the contract schema refuses, naming the field by its label', () => {
    const form = formFromConfig(config);
    const bad = policyFromForm({ ...form, values: { ...form.values, min: '5', max: '2' } });
    expect(bad.ok).toBe(false);
    expect(!bad.ok && bad.message).toMatch(/Max VMs: max \(2\) must be ≥ min \(5\)/);
    const notNumber = policyFromForm({ ...form, values: { ...form.values, tolerance: 'lots' } });
    expect(!notNumber.ok && notNumber.message).toMatch(/Tolerance/);
  });

  it('switches to the threshold policy with its own knobs', () => {
    const result = policyFromForm({ ...formFromConfig(config), kind: 'threshold' });
    expect(result.ok && result.policy).toMatchObject({ kind: 'threshold', upPct: 90, intervalMs: 30_000 });
    expect(result.ok && 'metric' in result.policy).toBe(false);
  });
});

/** A CmsApi whose pushes the test fires by hand. */
class FakeApi implements CmsApi {
  readonly carrier = 'web' as const;
  readonly calls: CommandName[] = [];
  private readonly listeners = new Map<string, Set<(payload: unknown) => void>>();
  state = appState();
  exported = '';

  invoke<C extends CommandName>(channel: C): Promise<never> {
    this.calls.push(channel);
    const value: unknown = channel === 'state:get' ? this.state : channel === 'events:export' ? this.exported : null;
    return Promise.resolve(value as never);
  }

  on<E extends PushEventName>(event: E, listener: (payload: PushEventPayload<E>) => void): () => void {
    const set = this.listeners.get(event) ?? new Set();
    const wrapped = (payload: unknown): void => listener(payload as PushEventPayload<E>);
    set.add(wrapped);
    this.listeners.set(event, set);
    return () => set.delete(wrapped);
  }

  push<E extends PushEventName>(event: E, payload: PushEventPayload<E>): void {
    for (const listener of this.listeners.get(event) ?? []) listener(payload);
  }
}

function manualTimers(clock: ManualClock): Timers {
  return { setTimeout: (callback, delayMs) => clock.setTimeout(callback, delayMs), clearTimeout: (handle) => clock.clearTimeout(handle as TimerHandle) };
}

describe('bindCarrier', () => {
  it('reads the state and the log at once, then applies pushes at most once per batch interval', async () => {
    const clock = new ManualClock(1_000);
    const api = new FakeApi();
    api.exported = `${JSON.stringify(entry('control_plane_started'))}\n`;
    const store = createAppStore();
    const unbind = bindCarrier(api, store, { timers: manualTimers(clock), nowMs: () => clock.nowMs(), batchIntervalMs: 100 });
    await Promise.resolve();
    await Promise.resolve();
    expect(api.calls).toEqual(['state:get', 'events:export']);
    expect(store.getState().stateUpdates).toBe(1);
    expect(store.getState().eventRows.map((row) => row.entry.event)).toEqual(['control_plane_started']);

    // A burst of 20 pushes within 100 ms: the first applies at once, the last at the boundary.
    for (let i = 0; i < 20; i++) {
      api.push('state:update', appState({ outcomes: { ...appState().outcomes, sent: 100 + i } }));
      api.push('events:entry', entry('member_started', { n: i }));
      clock.advance(4);
    }
    expect(store.getState().stateUpdates).toBe(2);
    clock.advance(100);
    expect(store.getState().stateUpdates).toBe(3);
    expect(store.getState().outcomes?.sent).toBe(119);
    expect(store.getState().eventRows.length).toBe(21);

    api.push('notify:error', { title: 'start of web-frontend failed', message: 'libvirt: domain is already running', vm: 'web-frontend' });
    expect(store.getState().notifications[0]?.vm).toBe('web-frontend');
    api.push('quit:progress', { done: 1, total: 3, finished: false });
    expect(store.getState().quitProgress).toEqual({ done: 1, total: 3, finished: false });
    api.push('metrics:sample', sample(5));
    expect(store.getState().series.tS).toEqual([5]);

    unbind();
    api.push('state:update', appState());
    clock.advance(1_000);
    expect(store.getState().stateUpdates).toBe(3);
  });

  it('resyncs each time the carrier reports open and shows the connection status', async () => {
    const api = new FakeApi();
    const store = createAppStore();
    const statusListeners: Array<(status: 'open' | 'reconnecting', detail: string | null) => void> = [];
    let status: 'connecting' | 'open' | 'reconnecting' = 'connecting';
    bindCarrier(api, store, {
      statusSource: {
        status: () => status,
        onStatus: (listener) => {
          statusListeners.push(listener);
          return () => undefined;
        },
      },
    });
    expect(api.calls).toEqual([]);
    expect(store.getState().connection).toBe('connecting');
    status = 'open';
    statusListeners.forEach((listener) => listener('open', null));
    status = 'reconnecting';
    statusListeners.forEach((listener) => listener('reconnecting', 'connection closed (code 1006)'));
    expect(store.getState().connection).toBe('reconnecting');
    expect(store.getState().connectionDetail).toBe('connection closed (code 1006)');
    status = 'open';
    statusListeners.forEach((listener) => listener('open', null));
    expect(api.calls.filter((call) => call === 'state:get').length).toBe(2);
  });

  it('the throttle flushes on the leading edge and once more after the last request', () => {
    const clock = new ManualClock(0);
    let flushes = 0;
    const throttle = createThrottle(100, () => (flushes += 1), manualTimers(clock), () => clock.nowMs());
    throttle.request();
    expect(flushes).toBe(1);
    throttle.request();
    throttle.request();
    expect(flushes).toBe(1);
    clock.advance(99);
    expect(flushes).toBe(1);
    clock.advance(1);
    expect(flushes).toBe(2);
    clock.advance(500);
    expect(flushes).toBe(2);
  });
});

describe('quit progress', () => {
  it('never goes backwards, and a finished shutdown reads as complete', () => {
    let progress = mergeQuitProgress(null, { done: 1, total: 4, finished: false });
    progress = mergeQuitProgress(progress, { done: 3, total: 4, finished: false });
    expect(progress).toEqual({ done: 3, total: 4, finished: false });
    progress = mergeQuitProgress(progress, { done: 0, total: 0, finished: true });
    expect(progress).toEqual({ done: 4, total: 4, finished: true });
  });
});
