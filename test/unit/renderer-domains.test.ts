// The renderer's domains slice and list selectors in plain Node: identity kept for unchanged VMs,
// per-second CPU history, selection and keyboard moves, filter and sort, bulk-action targets.
import { describe, expect, it } from 'vitest';
import type { AppState, DomainView, HostView } from '../../electron/contract/contract';
import { domainKey, HISTORY_POINTS, HISTORY_STEP_MS, HISTORY_WINDOW_MS, reduceDomains, initialDomainsState } from '../../renderer/src/store/domains-slice';
import { actionApplies, actionTargets, compareDomains, hostLabelFor, selectSelectedDomains, selectVisibleKeys, visibleKeys } from '../../renderer/src/store/selectors';
import { createAppStore } from '../../renderer/src/store/store';

const host: HostView = { id: 'h1', uri: 'test:///sandbox.xml', status: 'connected', hostname: 'sandbox', cpus: 8, memoryKiB: 16 * 1024 * 1024, lastError: null, sandbox: true };

function vm(name: string, patch: Partial<DomainView> = {}): DomainView {
  return {
    hostId: 'h1',
    uuid: `uuid-${name}`,
    name,
    state: 'running',
    vcpus: 1,
    memoryKiB: 524_288,
    cpuPercent: 10,
    role: 'other',
    health: null,
    busy: null,
    inflight: 0,
    uptimeS: 10,
    ...patch,
  };
}

function appState(domains: DomainView[]): AppState {
  return {
    hosts: [host],
    domains,
    pool: { name: 'cms', desired: 1, min: 1, max: 8, warmPoolSize: 0, savedPoolSize: 0, healthy: 1, booting: 0, warm: 0, saved: 0 },
    load: { profile: { kind: 'constant', rateRps: 2 }, running: true, paused: false, offeredRps: 2, digits: 3, sent: 0 },
    scaling: {
      config: { kind: 'threshold', min: 1, max: 8, bootTimeoutMs: 60_000, warmupMs: 5_000, warmPoolSize: 0, savedPoolSize: 0, periodMs: 2_000, upPct: 90, intervalMs: 30_000 },
      paused: false,
      lastReason: null,
    },
    outcomes: { sent: 0, ok: 0, failed: 0, expired: 0, inflight: 0, retries: 0 },
    latest: null,
    agentAddress: null,
    sandboxNote: null,
    quitting: false,
  };
}

describe('reduceDomains', () => {
  it('keeps the object of an unchanged VM and replaces a changed one', () => {
    const store = createAppStore();
    store.getState().applyAppState(appState([vm('a'), vm('b')]), 0);
    const first = store.getState();
    const a0 = first.domainsByKey['h1/uuid-a'];
    const b0 = first.domainsByKey['h1/uuid-b'];
    // Sub-second uptime and tiny CPU noise are rounded away: 'a' counts as unchanged.
    store.getState().applyAppState(appState([vm('a', { uptimeS: 10.4, cpuPercent: 10.01 }), vm('b', { state: 'paused' })]), 100);
    const second = store.getState();
    expect(second.domainsByKey['h1/uuid-a']).toBe(a0);
    expect(second.domainsByKey['h1/uuid-b']).not.toBe(b0);
    expect(second.domainsByKey['h1/uuid-b']?.state).toBe('paused');
    expect(second.domainKeys).toBe(first.domainKeys);
  });

  it('hands back the same maps when nothing changed, so no row re-renders', () => {
    const prev = { ...initialDomainsState(), ...reduceDomains(initialDomainsState(), [host], [vm('a')], 0) };
    const patch = reduceDomains(prev, [host], [vm('a')], 100);
    expect(patch.domainsByKey).toBeUndefined();
    expect(patch.domainKeys).toBeUndefined();
    expect(patch.hosts).toBeUndefined();
    expect(patch.history).toBeUndefined();
  });

  it('adds a history point at most every HISTORY_STEP_MS and keeps the last minute', () => {
    let state = initialDomainsState();
    for (let second = 0; second < 80; second++) {
      // One push a second, a little late each time: every push adds a point.
      state = { ...state, ...reduceDomains(state, [host], [vm('a', { cpuPercent: second })], second * 1003) };
    }
    const history = state.history['h1/uuid-a'];
    expect(history?.cpuPct.at(-1)).toBe(79);
    const first = history?.tMs[0] ?? 0;
    const last = history?.tMs.at(-1) ?? 0;
    expect(last - first).toBeLessThanOrEqual(HISTORY_WINDOW_MS);
    expect(history?.tMs.length).toBe(60);

    // Ten pushes a second: never two points closer than HISTORY_STEP_MS.
    let busy = initialDomainsState();
    for (let tenth = 0; tenth < 300; tenth++) busy = { ...busy, ...reduceDomains(busy, [host], [vm('a', { cpuPercent: tenth % 100 })], tenth * 100) };
    const times = busy.history['h1/uuid-a']?.tMs ?? [];
    for (let i = 1; i < times.length; i++) expect((times[i] ?? 0) - (times[i - 1] ?? 0)).toBeGreaterThanOrEqual(HISTORY_STEP_MS);
    expect(times.length).toBeGreaterThan(25);
    expect(times.length).toBeLessThanOrEqual(HISTORY_POINTS);

    state = { ...state, ...reduceDomains(state, [host], [vm('a', { state: 'shutoff', cpuPercent: null })], 100_000) };
    const stopped = state.history['h1/uuid-a'];
    expect(stopped?.cpuPct.at(-1)).toBeNull();
    state = { ...state, ...reduceDomains(state, [host], [vm('a', { state: 'shutoff', cpuPercent: null })], 101_000) };
    // Off and already marked: the history object (and so the row) stays the same.
    expect(state.history['h1/uuid-a']).toBe(stopped);
  });

  it('forgets the selection, focus and history of VMs that are gone', () => {
    const store = createAppStore();
    store.getState().applyAppState(appState([vm('a'), vm('b')]), 0);
    const keys = selectVisibleKeys(store.getState());
    store.getState().selectAll(keys);
    store.getState().clickRow('h1/uuid-b', 'toggle', keys);
    store.getState().clickRow('h1/uuid-a', 'toggle', keys);
    store.getState().clickRow('h1/uuid-b', 'toggle', keys);
    expect(Object.keys(store.getState().selection)).toEqual(['h1/uuid-b']);
    store.getState().applyAppState(appState([vm('a')]), 50);
    const state = store.getState();
    expect(state.selection).toEqual({});
    expect(state.focusedKey).toBeNull();
    expect(Object.keys(state.history)).toEqual(['h1/uuid-a']);
  });
});

describe('selection and keyboard moves', () => {
  const names = ['a', 'b', 'c', 'd', 'e'];
  const setup = () => {
    const store = createAppStore();
    store.getState().applyAppState(appState(names.map((name) => vm(name))), 0);
    return { store, keys: selectVisibleKeys(store.getState()) };
  };
  const selected = (store: ReturnType<typeof createAppStore>): string[] => selectSelectedDomains(store.getState()).map((domain) => domain.name).sort();

  it('click selects one, ctrl-click toggles, shift-click selects the range from the anchor', () => {
    const { store, keys } = setup();
    store.getState().clickRow('h1/uuid-b', 'only', keys);
    expect(selected(store)).toEqual(['b']);
    store.getState().clickRow('h1/uuid-d', 'range', keys);
    expect(selected(store)).toEqual(['b', 'c', 'd']);
    store.getState().clickRow('h1/uuid-c', 'toggle', keys);
    expect(selected(store)).toEqual(['b', 'd']);
    store.getState().clickRow('h1/uuid-e', 'only', keys);
    expect(selected(store)).toEqual(['e']);
  });

  it('arrows move and select, shift extends, ctrl moves the cursor only, space toggles', () => {
    const { store, keys } = setup();
    store.getState().moveFocus(1, 'only', keys);
    expect(store.getState().focusedKey).toBe('h1/uuid-a');
    store.getState().moveFocus(1, 'only', keys);
    expect(selected(store)).toEqual(['b']);
    store.getState().moveFocus(2, 'extend', keys);
    expect(selected(store)).toEqual(['b', 'c', 'd']);
    store.getState().moveFocus(1, 'focus', keys);
    expect(store.getState().focusedKey).toBe('h1/uuid-e');
    expect(selected(store)).toEqual(['b', 'c', 'd']);
    store.getState().toggleFocused();
    expect(selected(store)).toEqual(['b', 'c', 'd', 'e']);
    store.getState().moveFocus(-100, 'only', keys);
    expect(store.getState().focusedKey).toBe('h1/uuid-a');
    store.getState().clearSelection();
    expect(selected(store)).toEqual([]);
  });

  it('Enter opens the details of the focused VM', () => {
    const { store, keys } = setup();
    store.getState().moveFocus(1, 'only', keys);
    store.getState().moveFocus(2, 'only', keys);
    store.getState().openDetails(store.getState().focusedKey ?? '');
    expect(store.getState().detailsKey).toBe('h1/uuid-c');
    store.getState().closeDetails();
    expect(store.getState().detailsKey).toBeNull();
  });
});

describe('list order and filter', () => {
  const domains = [
    vm('web-10', { cpuPercent: 50, role: 'other', uptimeS: 5 }),
    vm('web-9', { cpuPercent: null, state: 'shutoff', uptimeS: null }),
    vm('cms-template', { role: 'template', state: 'shutoff', cpuPercent: null, uptimeS: null }),
    vm('cms-1', { role: 'member', health: 'healthy', cpuPercent: 90, busy: 0.8, inflight: 3, uptimeS: 100 }),
    vm('cms-2', { role: 'member', health: 'booting', cpuPercent: 20, busy: null, uptimeS: 2 }),
  ];
  const byKey = Object.fromEntries(domains.map((domain) => [domainKey(domain), domain]));
  const keys = domains.map(domainKey);
  const names = (result: string[]): string[] => result.map((key) => byKey[key]?.name ?? '?');
  const all = { text: '', role: 'all' as const, hostId: null };

  it('sorts names naturally and flips on descending', () => {
    expect(names(visibleKeys(byKey, keys, { column: 'name', descending: false }, all, [host]))).toEqual(['cms-1', 'cms-2', 'cms-template', 'web-9', 'web-10']);
    expect(names(visibleKeys(byKey, keys, { column: 'name', descending: true }, all, [host]))).toEqual(['web-10', 'web-9', 'cms-template', 'cms-2', 'cms-1']);
  });

  it('puts VMs without a value last in either direction', () => {
    const desc = names(visibleKeys(byKey, keys, { column: 'cpu', descending: true }, all, [host]));
    expect(desc.slice(0, 3)).toEqual(['cms-1', 'web-10', 'cms-2']);
    const asc = names(visibleKeys(byKey, keys, { column: 'cpu', descending: false }, all, [host]));
    expect(asc.slice(0, 3)).toEqual(['cms-2', 'web-10', 'cms-1']);
    expect(asc.slice(3).sort()).toEqual(['cms-template', 'web-9']);
  });

  it('filters by text (name, state, health) and role', () => {
    expect(names(visibleKeys(byKey, keys, { column: 'name', descending: false }, { ...all, text: 'WEB' }, [host]))).toEqual(['web-9', 'web-10']);
    expect(names(visibleKeys(byKey, keys, { column: 'name', descending: false }, { ...all, text: 'booting' }, [host]))).toEqual(['cms-2']);
    expect(names(visibleKeys(byKey, keys, { column: 'name', descending: false }, { ...all, role: 'member' }, [host]))).toEqual(['cms-1', 'cms-2']);
    expect(visibleKeys(byKey, keys, { column: 'name', descending: false }, { ...all, hostId: 'other-host' }, [host])).toEqual([]);
  });

  it('ties break by name, so equal rows never swap between pushes', () => {
    const a = vm('b-vm', { vcpus: 2 });
    const b = vm('a-vm', { vcpus: 2 });
    expect(compareDomains(a, b, { column: 'vcpus', descending: true })).toBeGreaterThan(0);
  });

  it('the memoized selector returns the same array while its inputs are unchanged', () => {
    const store = createAppStore();
    store.getState().applyAppState(appState(domains), 0);
    const first = selectVisibleKeys(store.getState());
    store.getState().applySample({ tS: 1, offeredRps: 1, arrivedPerS: 1, servedRps: 1, okPerS: 1, failedPerS: 0, expiredPerS: 0, p50Ms: 1, p95Ms: 2, p99Ms: 3, poolDesired: 1, poolBooting: 0, poolHealthy: 1, utilization: 0.2, inflight: 0 });
    expect(selectVisibleKeys(store.getState())).toBe(first);
    store.getState().setSort('cpu');
    expect(selectVisibleKeys(store.getState())).not.toBe(first);
    expect(names([...selectVisibleKeys(store.getState())])[0]).toBe('cms-1');
  });
});

describe('bulk action targets', () => {
  const template = vm('cms-template', { role: 'template', state: 'shutoff', cpuPercent: null });
  const off = vm('web', { state: 'shutoff', cpuPercent: null });
  const member = vm('cms-1', { role: 'member', health: 'healthy' });
  const paused = vm('db', { state: 'paused' });

  it('Run skips the template and running VMs', () => {
    expect(actionTargets('start', [template, off, member, paused])).toEqual([{ hostId: 'h1', uuid: 'uuid-web' }]);
  });

  it('Delete clone applies to pool members only; Resume to paused VMs only', () => {
    expect(actionTargets('delete', [template, off, member, paused]).map((t) => t.uuid)).toEqual(['uuid-cms-1']);
    expect(actionTargets('resume', [template, off, member, paused]).map((t) => t.uuid)).toEqual(['uuid-db']);
  });

  it('Shut Down and Pause need a running VM; Force Off also takes a paused one', () => {
    expect(actionApplies('shutdown', off)).toBe(false);
    expect(actionApplies('suspend', member)).toBe(true);
    expect(actionApplies('forceoff', paused)).toBe(true);
    expect(actionApplies('forceoff', off)).toBe(false);
  });
});

describe('host labels', () => {
  it('adds the id only when two hosts share a name', () => {
    const second: HostView = { ...host, id: 'h2', uri: 'test:///copy.xml' };
    expect(hostLabelFor([host], 'h1')).toBe('sandbox');
    expect(hostLabelFor([host, second], 'h2')).toBe('sandbox (h2)');
    expect(hostLabelFor([host, { ...second, hostname: null }], 'h2')).toBe('test:///copy.xml');
    expect(hostLabelFor([host], 'gone')).toBe('gone');
  });
});
