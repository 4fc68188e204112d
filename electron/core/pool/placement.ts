// Placement: which host receives the next pool member. `spread` evens out member counts;
// `least-loaded` fills the host with the most free vCPUs. Pure: reads snapshots, changes nothing.
import type { PoolHostBinding, PoolMember } from './types';

export type Placement = 'spread' | 'least-loaded';

/** Hosts that can take a member now: connected and holding the template. */
export function eligibleHosts(bindings: PoolHostBinding[], templateName: string): PoolHostBinding[] {
  return bindings.filter((binding) => {
    const snapshot = binding.host.snapshot();
    return snapshot.status === 'connected' && snapshot.domains.some((domain) => domain.name === templateName);
  });
}

export function choosePlacementHost(bindings: PoolHostBinding[], members: PoolMember[], placement: Placement, templateName: string): PoolHostBinding | undefined {
  const candidates = eligibleHosts(bindings, templateName);
  if (candidates.length === 0) return undefined;
  const score = (binding: PoolHostBinding): number => {
    if (placement === 'spread') return members.filter((member) => member.hostId === binding.host.id).length;
    const snapshot = binding.host.snapshot();
    const usedVcpus = snapshot.domains.filter((domain) => domain.state === 'running' || domain.state === 'paused').reduce((sum, domain) => sum + domain.vcpus, 0);
    const pending = members.filter((member) => member.hostId === binding.host.id && member.phase === 'cloning').length;
    return (usedVcpus + pending) / Math.max(1, snapshot.cpus ?? 1);
  };
  // Stable order: on a tie the host listed first wins, so placement is predictable.
  return candidates.reduce((best, binding) => (score(binding) < score(best) ? binding : best));
}
