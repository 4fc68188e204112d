// Selectors over the combined store: the VM list's visible order (filter + sort, memoized on its
// inputs so an unrelated update costs nothing), the selection, which VMs a bulk action applies to,
// and the filtered event log. Pure functions; components pass them to useStore (with useShallow
// where they build arrays).
import type { DomainActionName, DomainView, HostView } from '../../../electron/contract/contract';
import type { DomainFilter, SortSpec } from './domains-slice';
import type { EventRow, EventsState } from './events-slice';
import type { AppStore } from './types';

const stateRank: Record<DomainView['state'], number> = {
  running: 0,
  blocked: 1,
  paused: 2,
  pmsuspended: 3,
  shutdown: 4,
  crashed: 5,
  shutoff: 6,
  nostate: 7,
};
const roleRank: Record<DomainView['role'], number> = { member: 0, template: 1, other: 2 };
const healthRank: Record<NonNullable<DomainView['health']>, number> = {
  failed: 0,
  cloning: 1,
  booting: 2,
  warming: 3,
  healthy: 4,
  warm: 5,
  saved: 6,
  draining: 7,
  stopping: 8,
};

/** Nulls sort after numbers in either direction, so "no value" never tops a descending list. */
function byNumber(a: number | null, b: number | null, descending: boolean): number {
  if (a === null && b === null) return 0;
  if (a === null) return 1;
  if (b === null) return -1;
  return descending ? b - a : a - b;
}

const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: 'base' });

export function compareDomains(a: DomainView, b: DomainView, sort: SortSpec, hostNames?: ReadonlyMap<string, string>): number {
  const d = sort.descending;
  let result = 0;
  switch (sort.column) {
    case 'name':
      result = collator.compare(a.name, b.name);
      if (d) result = -result;
      break;
    case 'state':
      result = byNumber(stateRank[a.state], stateRank[b.state], d);
      break;
    case 'cpu':
      result = byNumber(a.cpuPercent, b.cpuPercent, d);
      break;
    case 'busy':
      result = byNumber(a.busy, b.busy, d);
      break;
    case 'memory':
      result = byNumber(a.memoryKiB, b.memoryKiB, d);
      break;
    case 'vcpus':
      result = byNumber(a.vcpus, b.vcpus, d);
      break;
    case 'role':
      result = byNumber(roleRank[a.role], roleRank[b.role], d);
      break;
    case 'health':
      result = byNumber(a.health === null ? null : healthRank[a.health], b.health === null ? null : healthRank[b.health], d);
      break;
    case 'inflight':
      result = byNumber(a.inflight, b.inflight, d);
      break;
    case 'uptime':
      result = byNumber(a.uptimeS, b.uptimeS, d);
      break;
    case 'host':
      result = collator.compare(hostNames?.get(a.hostId) ?? a.hostId, hostNames?.get(b.hostId) ?? b.hostId);
      if (d) result = -result;
      break;
  }
  // Ties by name, then uuid, so that equal rows never swap places between pushes.
  return result !== 0 ? result : collator.compare(a.name, b.name) || (a.uuid < b.uuid ? -1 : a.uuid > b.uuid ? 1 : 0);
}

export function matchesFilter(domain: DomainView, filter: DomainFilter): boolean {
  if (filter.role !== 'all' && domain.role !== filter.role) return false;
  if (filter.hostId !== null && domain.hostId !== filter.hostId) return false;
  const text = filter.text.trim().toLowerCase();
  if (text === '') return true;
  return domain.name.toLowerCase().includes(text) || domain.state.includes(text) || (domain.health ?? '').includes(text) || domain.uuid.startsWith(text);
}

/** A host's display name: its hostname, else its URI. */
export function hostLabel(host: HostView): string {
  return host.hostname ?? host.uri;
}

/** The name to show for a host, with its id when another host has the same name (two sandbox files are both "vm"). */
export function hostLabelFor(hosts: readonly HostView[], hostId: string): string {
  const host = hosts.find((candidate) => candidate.id === hostId);
  if (!host) return hostId;
  const name = hostLabel(host);
  return hosts.some((other) => other !== host && hostLabel(other) === name) ? `${name} (${host.id})` : name;
}

export function visibleKeys(
  byKey: Readonly<Record<string, DomainView>>,
  keys: readonly string[],
  sort: SortSpec,
  filter: DomainFilter,
  hosts: readonly HostView[],
): string[] {
  const hostNames = sort.column === 'host' ? new Map(hosts.map((host) => [host.id, hostLabelFor(hosts, host.id)])) : undefined;
  const rows: DomainView[] = [];
  const keyOf = new Map<DomainView, string>();
  for (const key of keys) {
    const domain = byKey[key];
    if (domain && matchesFilter(domain, filter)) {
      rows.push(domain);
      keyOf.set(domain, key);
    }
  }
  rows.sort((a, b) => compareDomains(a, b, sort, hostNames));
  return rows.map((domain) => keyOf.get(domain) ?? '');
}

/** Memoized on its inputs' identities: other slices updating do not re-sort the list. */
function memoVisibleKeys(): (s: AppStore) => readonly string[] {
  let lastInputs: [unknown, unknown, unknown, unknown, unknown] | null = null;
  let lastResult: readonly string[] = [];
  return (s) => {
    const inputs: [unknown, unknown, unknown, unknown, unknown] = [s.domainsByKey, s.domainKeys, s.sort, s.filter, s.sort.column === 'host' ? s.hosts : null];
    if (lastInputs !== null && inputs.every((input, i) => input === lastInputs?.[i])) return lastResult;
    const next = visibleKeys(s.domainsByKey, s.domainKeys, s.sort, s.filter, s.hosts);
    // Same order as before: hand back the old array, so even without useShallow nothing re-renders.
    const same = next.length === lastResult.length && next.every((key, i) => key === lastResult[i]);
    lastInputs = inputs;
    if (!same) lastResult = next;
    return lastResult;
  };
}

export const selectVisibleKeys = memoVisibleKeys();

/** Selected domains that still exist, in list order of their keys. */
export function selectSelectedDomains(s: AppStore): DomainView[] {
  const out: DomainView[] = [];
  for (const key of Object.keys(s.selection)) {
    const domain = s.domainsByKey[key];
    if (domain) out.push(domain);
  }
  return out;
}

export const selectSelectionCount = (s: AppStore): number => Object.keys(s.selection).length;

const isActive = (domain: DomainView): boolean => domain.state === 'running' || domain.state === 'blocked';
const isOff = (domain: DomainView): boolean => domain.state === 'shutoff' || domain.state === 'crashed' || domain.state === 'nostate';

/** Whether an action makes sense for a VM in its state (the toolbar enables a button if any selected one fits). */
export function actionApplies(action: DomainActionName, domain: DomainView): boolean {
  switch (action) {
    case 'start':
      // The template is the base of every clone: the app refuses to run it, so the UI does not offer it.
      return isOff(domain) && domain.role !== 'template';
    case 'shutdown':
    case 'reboot':
      return isActive(domain);
    case 'forceoff':
      return isActive(domain) || domain.state === 'paused' || domain.state === 'shutdown' || domain.state === 'pmsuspended';
    case 'suspend':
      return isActive(domain);
    case 'resume':
      return domain.state === 'paused';
    case 'delete':
      return domain.role === 'member';
  }
}

/** The `domain:action` targets for the VMs the action applies to. */
export function actionTargets(action: DomainActionName, domains: readonly DomainView[]): Array<{ hostId: string; uuid: string }> {
  return domains.filter((domain) => actionApplies(action, domain)).map((domain) => ({ hostId: domain.hostId, uuid: domain.uuid }));
}

/** Actions that stop work or destroy a clone: the UI asks before running them. */
export const destructiveActions: ReadonlySet<DomainActionName> = new Set(['shutdown', 'forceoff', 'reboot', 'delete']);

export function matchesEventFilter(row: EventRow, filter: EventsState['eventFilter']): boolean {
  if (filter.category !== 'all' && row.category !== filter.category) return false;
  const text = filter.text.trim().toLowerCase();
  if (text === '') return true;
  return row.entry.event.toLowerCase().includes(text) || JSON.stringify(row.entry).toLowerCase().includes(text);
}

/** Newest first, filtered; memoized on the rows and the filter. */
function memoVisibleEvents(): (s: AppStore) => readonly EventRow[] {
  let lastRows: readonly EventRow[] | null = null;
  let lastFilter: EventsState['eventFilter'] | null = null;
  let lastResult: readonly EventRow[] = [];
  return (s) => {
    if (s.eventRows === lastRows && s.eventFilter === lastFilter) return lastResult;
    lastRows = s.eventRows;
    lastFilter = s.eventFilter;
    const out: EventRow[] = [];
    for (let i = s.eventRows.length - 1; i >= 0; i--) {
      const row = s.eventRows[i];
      if (row && matchesEventFilter(row, s.eventFilter)) out.push(row);
    }
    lastResult = out;
    return lastResult;
  };
}

export const selectVisibleEvents = memoVisibleEvents();

/** The status bar's pool summary: '3/4 healthy · 12.0 req/s · p95 85 ms'. */
export function selectPoolSummary(s: AppStore): { healthy: number; desired: number; booting: number; warm: number; servedRps: number | null; offeredRps: number | null; p95Ms: number | null } | null {
  if (!s.pool) return null;
  const sample = s.latestSample;
  return {
    healthy: s.pool.healthy,
    desired: s.pool.desired,
    booting: s.pool.booting,
    warm: s.pool.warm,
    servedRps: sample?.servedRps ?? null,
    offeredRps: s.load?.offeredRps ?? null,
    p95Ms: sample?.p95Ms ?? null,
  };
}

