// Domain states as the strings the rest of the app reads, and the mapping from libvirt's numbers.
// Pure data: must not import the native libvirt binding (the renderer's contract may reuse these).

export const DOMAIN_STATES = [
  'nostate',
  'running',
  'blocked',
  'paused',
  'shutdown',
  'shutoff',
  'crashed',
  'pmsuspended',
] as const;

/** libvirt's virDomainState as a string union ('shutdown' means "being shut down", not "off"). */
export type DomainState = (typeof DOMAIN_STATES)[number];

/** Maps virDomainState (0..7, indexed like DOMAIN_STATES) to its name; unknown numbers read as 'nostate'. */
export function domainStateFromLibvirt(state: number): DomainState {
  return DOMAIN_STATES[state] ?? 'nostate';
}

/** True for states in which the guest executes (libvirt counts 'blocked' as active and scheduled). */
export function domainIsRunning(state: DomainState): boolean {
  return state === 'running' || state === 'blocked';
}

/** True for states in which the domain holds no resources and can be started or undefined. */
export function domainIsOff(state: DomainState): boolean {
  return state === 'shutoff' || state === 'crashed';
}
