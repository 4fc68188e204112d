// HypervisorRegistry with two real test-driver hosts open at once: ids, independence, removal.
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../electron/core/clock';
import { HypervisorError, HypervisorRegistry } from '../../electron/core/hypervisor';
import { sandboxHostPath, sandboxUri } from '../../electron/core/sandbox';

const dir = mkdtempSync(join(tmpdir(), 'cms-hosts-'));
const secondHostPath = join(dir, 'second-host.xml');
copyFileSync(sandboxHostPath(), secondHostPath);

const registries: HypervisorRegistry[] = [];
function newRegistry(): HypervisorRegistry {
  const registry = new HypervisorRegistry({ clock: systemClock, pollIntervalMs: 60_000 });
  registries.push(registry);
  return registry;
}

afterEach(async () => {
  await Promise.all(registries.splice(0).map((r) => r.closeAll()));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('HypervisorRegistry', () => {
  it('holds two hosts at once, and an action on one leaves the other untouched', async () => {
    const registry = newRegistry();
    const a = await registry.add(sandboxUri());
    const b = await registry.add(sandboxUri(secondHostPath));
    expect(a).not.toBe(b);
    expect(registry.list().map((c) => c.id)).toEqual([a, b]);
    const hostA = registry.get(a);
    const hostB = registry.get(b);
    if (!hostA || !hostB) throw new Error('hosts missing');
    expect(hostB.uri).toBe(`test://${secondHostPath}`);

    const webA = hostA.snapshot().domains.find((d) => d.name === 'web-frontend');
    if (!webA) throw new Error('no web-frontend');
    const statesB: string[] = [];
    hostB.on('state', (e) => statesB.push(`${e.name}:${e.to}`));
    await hostA.domainForceOff(webA.uuid);
    const uuid = await hostA.domainDefine(
      `<domain type='test'><name>only-on-a</name><memory unit='MiB'>128</memory><vcpu>1</vcpu><os><type>hvm</type></os></domain>`,
    );

    const [snapA, snapB] = await Promise.all([hostA.pollNow(), hostB.pollNow()]);
    expect(snapA.domains.find((d) => d.name === 'web-frontend')?.state).toBe('shutoff');
    expect(snapB.domains.find((d) => d.name === 'web-frontend')?.state).toBe('running');
    expect(snapA.domains.map((d) => d.name)).toContain('only-on-a');
    expect(snapB.domains.map((d) => d.name)).not.toContain('only-on-a');
    expect(snapA.domains.every((d) => d.hostId === a)).toBe(true);
    expect(snapB.domains.every((d) => d.hostId === b)).toBe(true);
    expect(await hostB.domainLookup(uuid)).toBeNull();
    expect(statesB).toEqual([]);
  });

  it('two connections to the same file are independent too', async () => {
    const registry = newRegistry();
    const [a, b] = [await registry.add(sandboxUri()), await registry.add(sandboxUri())];
    const hostA = registry.get(a);
    const hostB = registry.get(b);
    if (!hostA || !hostB) throw new Error('hosts missing');
    const db = hostA.snapshot().domains.find((d) => d.name === 'db-primary');
    if (!db) throw new Error('no db-primary');
    await hostA.domainSuspend(db.uuid);
    expect((await hostA.domainLookup(db.uuid))?.state).toBe('paused');
    expect((await hostB.domainLookup(db.uuid))?.state).toBe('running');
  });

  it('remove closes one host and leaves the other working; a failed add keeps nothing', async () => {
    const registry = newRegistry();
    const a = await registry.add(sandboxUri(), { id: 'alpha' });
    const b = await registry.add(sandboxUri(secondHostPath), { id: 'beta' });
    expect([a, b]).toEqual(['alpha', 'beta']);
    await expect(registry.add(sandboxUri(), { id: 'alpha' })).rejects.toThrow(/already in use/);
    const alpha = registry.get('alpha');
    await registry.remove('alpha');
    expect(registry.get('alpha')).toBeUndefined();
    expect(alpha?.snapshot().status).toBe('closed');
    expect(registry.list().map((c) => c.id)).toEqual(['beta']);
    expect((await registry.get('beta')?.pollNow())?.status).toBe('connected');

    const failed = await registry.add(sandboxUri(join(dir, 'missing.xml'))).catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(HypervisorError);
    expect((failed as HypervisorError).code).toBe('not_connected');
    expect(registry.list().map((c) => c.id)).toEqual(['beta']);
  });
});
