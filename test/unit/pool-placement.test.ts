// Placement of a new member: spread evens member counts, least-loaded fills the host with the most
// free vCPUs; hosts without the template or not connected are never chosen. Pure over snapshots.
import { describe, expect, it } from 'vitest';
import { choosePlacementHost } from '../../electron/core/pool/placement';
import type { PoolHostBinding, PoolMember } from '../../electron/core/pool/types';
import type { DomainSnapshot, HostSnapshot } from '../../electron/core/hypervisor/types';

function domain(hostId: string, name: string, vcpus: number, state: DomainSnapshot['state'] = 'running'): DomainSnapshot {
  return { hostId, uuid: `${hostId}-${name}`, name, state, vcpus, memoryKiB: 1024, maxMemoryKiB: 1024, cpuPercent: null };
}

/** A host as placement sees it: only snapshot() is read. */
function host(id: string, cpus: number, domains: DomainSnapshot[], status: HostSnapshot['status'] = 'connected'): PoolHostBinding {
  const snapshot: HostSnapshot = { id, uri: `test:///${id}`, status, cpus, domains, polledAtMs: 0 };
  const unused = (): never => {
    throw new Error('placement must only read snapshots');
  };
  return {
    host: { id, snapshot: () => snapshot, domainXml: unused, domainDefine: unused, domainStart: unused, domainShutdown: unused, domainForceOff: unused, domainSuspend: unused, domainResume: unused, domainSave: unused, domainRestore: unused, domainUndefine: unused, domainLookup: unused },
  };
}

function member(hostId: string, index: number): PoolMember {
  return { uuid: `m${index}`, name: `cms-${index}`, hostId, index, vcpus: 1, phase: 'healthy', startedAtMs: 0, registeredAtMs: 0, exitReason: null, purpose: 'serve', savedImage: null, overlays: [], adopted: false };
}

const template = (hostId: string): DomainSnapshot => domain(hostId, 'cms-template', 1, 'shutoff');

describe('choosePlacementHost', () => {
  it('spread picks the host with the fewest members, the first on a tie', () => {
    const a = host('a', 8, [template('a')]);
    const b = host('b', 8, [template('b')]);
    expect(choosePlacementHost([a, b], [], 'spread', 'cms-template')).toBe(a);
    expect(choosePlacementHost([a, b], [member('a', 1)], 'spread', 'cms-template')).toBe(b);
    expect(choosePlacementHost([a, b], [member('a', 1), member('b', 2), member('b', 3)], 'spread', 'cms-template')).toBe(a);
  });

  it('least-loaded picks the host with the lowest share of its CPUs in use', () => {
    const busy = host('busy', 4, [template('busy'), domain('busy', 'db', 3)]);
    const big = host('big', 16, [template('big'), domain('big', 'web', 4)]);
    expect(choosePlacementHost([busy, big], [], 'least-loaded', 'cms-template')).toBe(big);
    const idleSmall = host('small', 2, [template('small')]);
    expect(choosePlacementHost([big, idleSmall], [], 'least-loaded', 'cms-template')).toBe(idleSmall);
  });

  it('never picks a host that lacks the template or is not connected', () => {
    const noTemplate = host('bare', 64, []);
    const reconnecting = host('flaky', 64, [template('flaky')], 'reconnecting');
    const ok = host('ok', 1, [template('ok'), domain('ok', 'x', 8)]);
    expect(choosePlacementHost([noTemplate, reconnecting, ok], [], 'least-loaded', 'cms-template')).toBe(ok);
    expect(choosePlacementHost([noTemplate, reconnecting], [], 'spread', 'cms-template')).toBeUndefined();
  });
});
