// The domains slice: hosts, every domain by key, each domain's last 60 s of CPU/busy/memory, and the
// list's selection, focus, sort and filter. Objects of unchanged domains keep their identity across
// state pushes, so a memoized row re-renders only when its own VM changed. No I/O, no React.
import type { DomainView, HostView, domainRoles } from '../../../electron/contract/contract';
import type { SliceCreator } from './types';

/** One domain across hosts: `hostId/uuid`. */
export function domainKey(domain: { hostId: string; uuid: string }): string {
  return `${domain.hostId}/${domain.uuid}`;
}

/** How far back a domain's history reaches, ms: the list's sparkline shows the last minute. */
export const HISTORY_WINDOW_MS = 60_000;
/** Shortest gap between two history points, ms. Below 1000 so that a push arriving a little early
 *  (pushes are about a second apart when only samples change) still lands in its own second. */
export const HISTORY_STEP_MS = 900;
/** Most points kept whatever their spacing (a minute at the shortest gap). */
export const HISTORY_POINTS = Math.ceil(HISTORY_WINDOW_MS / HISTORY_STEP_MS);

export interface DomainHistory {
  /** Page time (ms) of each point. */
  readonly tMs: readonly number[];
  /** libvirt's CPU % (0-100), null while the domain is not running. */
  readonly cpuPct: readonly (number | null)[];
  /** The guest's reported busy fraction as %, null when it reported none. */
  readonly busyPct: readonly (number | null)[];
  readonly memoryKiB: readonly number[];
}

export type SortColumn = 'name' | 'state' | 'cpu' | 'busy' | 'memory' | 'vcpus' | 'role' | 'health' | 'inflight' | 'uptime' | 'host';
export interface SortSpec {
  column: SortColumn;
  descending: boolean;
}

export type RoleFilter = 'all' | (typeof domainRoles)[number];
export interface DomainFilter {
  /** Case-insensitive substring of the name, state or health. */
  text: string;
  role: RoleFilter;
  /** Only this host's domains; null for every host. */
  hostId: string | null;
}

export interface DomainsState {
  hosts: readonly HostView[];
  domainsByKey: Readonly<Record<string, DomainView>>;
  /** Keys in the order the app sent them (host by host). */
  domainKeys: readonly string[];
  history: Readonly<Record<string, DomainHistory>>;
  /** Page time of the last history point, ms (-Infinity before the first). */
  historyAtMs: number;
  selection: Readonly<Record<string, true>>;
  /** Where a shift-selection starts. */
  anchorKey: string | null;
  /** The keyboard cursor. */
  focusedKey: string | null;
  sort: SortSpec;
  filter: DomainFilter;
  /** The VM whose details are open. */
  detailsKey: string | null;
}

/** How a click or key press changes the selection. */
export type SelectMode = 'only' | 'toggle' | 'range';
/** How arrow keys move: select the row, extend from the anchor, or only move the cursor. */
export type MoveMode = 'only' | 'extend' | 'focus';

export interface DomainsActions {
  /** Sorts by the column; the same column again flips the direction. */
  setSort(column: SortColumn): void;
  setFilter(patch: Partial<DomainFilter>): void;
  clickRow(key: string, mode: SelectMode, visibleKeys: readonly string[]): void;
  moveFocus(delta: number, mode: MoveMode, visibleKeys: readonly string[]): void;
  toggleFocused(): void;
  selectAll(visibleKeys: readonly string[]): void;
  clearSelection(): void;
  openDetails(key: string): void;
  closeDetails(): void;
}

export type DomainsSlice = DomainsState & DomainsActions;

export function initialDomainsState(): DomainsState {
  return {
    hosts: [],
    domainsByKey: {},
    domainKeys: [],
    history: {},
    historyAtMs: -Infinity,
    selection: {},
    anchorKey: null,
    focusedKey: null,
    sort: { column: 'name', descending: false },
    filter: { text: '', role: 'all', hostId: null },
    detailsKey: null,
  };
}

const round = (value: number, step: number): number => Math.round(value / step) * step;

/** Rounds what changes every push by tiny amounts, so that an idle VM's object stays the same. */
function normalize(domain: DomainView): DomainView {
  return {
    ...domain,
    cpuPercent: domain.cpuPercent === null ? null : round(domain.cpuPercent, 0.1),
    busy: domain.busy === null ? null : round(domain.busy, 0.001),
    uptimeS: domain.uptimeS === null ? null : Math.floor(domain.uptimeS),
  };
}

function sameDomain(a: DomainView, b: DomainView): boolean {
  return (
    a.hostId === b.hostId &&
    a.uuid === b.uuid &&
    a.name === b.name &&
    a.state === b.state &&
    a.vcpus === b.vcpus &&
    a.memoryKiB === b.memoryKiB &&
    a.cpuPercent === b.cpuPercent &&
    a.role === b.role &&
    a.health === b.health &&
    a.busy === b.busy &&
    a.inflight === b.inflight &&
    a.uptimeS === b.uptimeS
  );
}

function sameKeys(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function appendPoint(history: DomainHistory | undefined, domain: DomainView, nowMs: number): DomainHistory | undefined {
  const cpuPct = domain.cpuPercent;
  const busyPct = domain.busy === null ? null : domain.busy * 100;
  const idle = cpuPct === null && busyPct === null;
  // A VM that is off adds one gap point and then nothing: its history (and its row) stay unchanged.
  if (idle && (history === undefined || (history.cpuPct.at(-1) === null && history.busyPct.at(-1) === null))) return history;
  const prev = history ?? { tMs: [], cpuPct: [], busyPct: [], memoryKiB: [] };
  // Drop what left the window (and anything beyond the point cap): every column by the same count.
  let drop = Math.max(0, prev.tMs.length + 1 - HISTORY_POINTS);
  while (drop < prev.tMs.length && (prev.tMs[drop] ?? nowMs) < nowMs - HISTORY_WINDOW_MS) drop += 1;
  return {
    tMs: [...prev.tMs.slice(drop), nowMs],
    cpuPct: [...prev.cpuPct.slice(drop), cpuPct],
    busyPct: [...prev.busyPct.slice(drop), busyPct],
    memoryKiB: [...prev.memoryKiB.slice(drop), domain.memoryKiB],
  };
}

/**
 * The domains part of a state push: reuses every unchanged domain object (and the key list when the
 * set and order are the same), adds a history point at most once a second, and forgets selection,
 * focus and history of domains that are gone.
 */
export function reduceDomains(prev: DomainsState, hosts: readonly HostView[], domains: readonly DomainView[], nowMs: number): Partial<DomainsState> {
  const nextByKey: Record<string, DomainView> = {};
  const keys: string[] = [];
  let changed = false;
  for (const raw of domains) {
    const key = domainKey(raw);
    const fresh = normalize(raw);
    const old = prev.domainsByKey[key];
    const next = old !== undefined && sameDomain(old, fresh) ? old : fresh;
    if (next !== old) changed = true;
    nextByKey[key] = next;
    keys.push(key);
  }
  const keysSame = sameKeys(keys, prev.domainKeys);
  const patch: Partial<DomainsState> = {};
  // Hosts rarely change; keeping the array lets rows that show a host name skip the push.
  if (JSON.stringify(hosts) !== JSON.stringify(prev.hosts)) patch.hosts = hosts;
  if (changed || !keysSame) patch.domainsByKey = nextByKey;
  if (!keysSame) patch.domainKeys = keys;

  const byKey = patch.domainsByKey ?? prev.domainsByKey;
  if (nowMs - prev.historyAtMs >= HISTORY_STEP_MS) {
    const history: Record<string, DomainHistory> = {};
    for (const key of keys) {
      const domain = byKey[key];
      if (!domain) continue;
      const next = appendPoint(prev.history[key], domain, nowMs);
      if (next) history[key] = next;
    }
    patch.history = history;
    patch.historyAtMs = nowMs;
  } else if (!keysSame) {
    const history: Record<string, DomainHistory> = {};
    for (const key of keys) {
      const kept = prev.history[key];
      if (kept) history[key] = kept;
    }
    patch.history = history;
  }

  if (!keysSame) {
    const selection: Record<string, true> = {};
    let dropped = false;
    for (const key of Object.keys(prev.selection)) {
      if (byKey[key]) selection[key] = true;
      else dropped = true;
    }
    if (dropped) patch.selection = selection;
    if (prev.focusedKey !== null && !byKey[prev.focusedKey]) patch.focusedKey = null;
    if (prev.anchorKey !== null && !byKey[prev.anchorKey]) patch.anchorKey = null;
  }
  return patch;
}

function rangeSelection(visibleKeys: readonly string[], fromKey: string, toKey: string): Record<string, true> | null {
  const from = visibleKeys.indexOf(fromKey);
  const to = visibleKeys.indexOf(toKey);
  if (from < 0 || to < 0) return null;
  const selection: Record<string, true> = {};
  for (let i = Math.min(from, to); i <= Math.max(from, to); i++) {
    const key = visibleKeys[i];
    if (key !== undefined) selection[key] = true;
  }
  return selection;
}

export const createDomainsSlice: SliceCreator<DomainsSlice> = (set) => ({
  ...initialDomainsState(),
  setSort: (column) =>
    set((s) => ({ sort: s.sort.column === column ? { column, descending: !s.sort.descending } : { column, descending: column === 'cpu' || column === 'busy' || column === 'inflight' || column === 'uptime' } })),
  setFilter: (patch) => set((s) => ({ filter: { ...s.filter, ...patch } })),
  clickRow: (key, mode, visibleKeys) =>
    set((s) => {
      if (mode === 'toggle') {
        const selection = { ...s.selection };
        if (selection[key]) delete selection[key];
        else selection[key] = true;
        return { selection, anchorKey: key, focusedKey: key };
      }
      if (mode === 'range' && s.anchorKey !== null) {
        const selection = rangeSelection(visibleKeys, s.anchorKey, key);
        if (selection) return { selection, focusedKey: key };
      }
      return { selection: { [key]: true }, anchorKey: key, focusedKey: key };
    }),
  moveFocus: (delta, mode, visibleKeys) =>
    set((s) => {
      if (visibleKeys.length === 0) return {};
      const at = s.focusedKey === null ? -1 : visibleKeys.indexOf(s.focusedKey);
      const target = at < 0 ? (delta >= 0 ? 0 : visibleKeys.length - 1) : Math.min(visibleKeys.length - 1, Math.max(0, at + delta));
      const key = visibleKeys[target];
      if (key === undefined) return {};
      if (mode === 'focus') return { focusedKey: key };
      if (mode === 'extend') {
        const anchor = s.anchorKey ?? s.focusedKey ?? key;
        return { focusedKey: key, anchorKey: anchor, selection: rangeSelection(visibleKeys, anchor, key) ?? { [key]: true } };
      }
      return { focusedKey: key, anchorKey: key, selection: { [key]: true } };
    }),
  toggleFocused: () =>
    set((s) => {
      const key = s.focusedKey;
      if (key === null) return {};
      const selection = { ...s.selection };
      if (selection[key]) delete selection[key];
      else selection[key] = true;
      return { selection, anchorKey: key };
    }),
  selectAll: (visibleKeys) =>
    set(() => {
      const selection: Record<string, true> = {};
      for (const key of visibleKeys) selection[key] = true;
      return { selection };
    }),
  clearSelection: () => set(() => ({ selection: {}, anchorKey: null })),
  openDetails: (key) => set(() => ({ detailsKey: key, focusedKey: key })),
  closeDetails: () => set(() => ({ detailsKey: null })),
});
