// The saved pool on libvirt's real test driver: a member is booted, warmed up and saved to its
// image (domain shut off, still defined); scale-up restores it before booting anything; a failed
// restore is replaced by a boot; shutdown removes images; hosts without an image store get none.
// Agents are stand-ins, registered by the test when the "guest" would dial in.
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../electron/core/clock';
import { HypervisorConnection } from '../../electron/core/hypervisor';
import { Pool } from '../../electron/core/pool/pool';
import { SavedImageDir } from '../../electron/core/pool/saved-image-dir';
import type { PoolEvent, PoolHost } from '../../electron/core/pool/types';
import { sandboxUri } from '../../electron/core/sandbox';
import { waitFor } from '../support/control-plane';
import { StandInAgent } from '../support/stand-in-agent';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function savedPool(options: { withStore?: boolean; knowsPark?: boolean } = {}) {
  const conn = new HypervisorConnection({ id: 'sandbox', uri: sandboxUri(), clock: systemClock, pollIntervalMs: 250 });
  await conn.open();
  const dir = await mkdtemp(join(tmpdir(), 'cms-saved-test-'));
  const images = new SavedImageDir(dir);
  const agents = new Map<string, StandInAgent>();
  const events: PoolEvent[] = [];
  /** Parks and saves in the order they happened, by member uuid. */
  const parksAndSaves: string[] = [];
  const pool = new Pool({
    clock: systemClock,
    hosts: [{ host: slowRestore(conn, 300), ...(options.withStore === false ? {} : { savedImages: images }) }],
    agents: { agent: (uuid) => agents.get(uuid) },
    min: 0,
    max: 2,
    savedPoolSize: 1,
    reconcileMs: 50,
    onEvent: (event) => {
      events.push(event);
      // The "guest" dials in as soon as its domain runs, after a boot or a restore.
      if (event.type === 'member_started' || event.type === 'member_restored') {
        const uuid = event.member.uuid;
        agents.set(uuid, new StandInAgent(uuid, { onPark: () => parksAndSaves.push(`park ${uuid}`), knowsPark: options.knowsPark }));
        pool.noteRegistered(event.member.uuid, '127.0.0.1:1');
      }
    },
  });
  // As with a real guest, the save ends its connection while the pool is still saving it.
  conn.on('action', (event) => {
    if (event.action !== 'save') return;
    parksAndSaves.push(`save ${event.uuid}`);
    pool.noteEjected(event.uuid, 'connection closed');
  });
  cleanups.push(async () => {
    await pool.shutdown({ timeoutMs: 500 });
    await conn.close();
    await rm(dir, { recursive: true, force: true });
  });
  pool.start();
  return { pool, conn, events, agents, images, dir, parksAndSaves };
}

/** The connection with a restore that takes a while, as a real one does (seconds under TCG). */
function slowRestore(conn: HypervisorConnection, delayMs: number): PoolHost {
  return new Proxy(conn, {
    get(target, property) {
      if (property === 'domainRestore') {
        return async (uuid: string, path: string) => {
          await new Promise((resolve) => setTimeout(resolve, delayMs));
          await target.domainRestore(uuid, path);
        };
      }
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

function firstOf<T extends PoolEvent['type']>(events: PoolEvent[], type: T): Extract<PoolEvent, { type: T }> | undefined {
  return events.find((event): event is Extract<PoolEvent, { type: T }> => event.type === type);
}

describe('saved pool', () => {
  it('saves a warmed-up member to its image, then restores that member first on scale-up', async () => {
    const { pool, conn, events, agents, images, parksAndSaves } = await savedPool();
    await waitFor(() => pool.status().counts.saved === 1, 10_000, 'a saved member');
    const saved = firstOf(events, 'member_saved');
    const uuid = saved?.member.uuid ?? '';
    // Told first, so that its guest watches for the restore.
    expect(parksAndSaves).toEqual([`park ${uuid}`, `save ${uuid}`]);
    const member = pool.member(uuid);
    expect(member?.savedImage).toBe(images.pathFor(member?.name ?? ''));
    expect(existsSync(member?.savedImage ?? '')).toBe(true);
    expect(agents.get(uuid)?.requests).toEqual([{ word: `warm-up-${uuid}`, digits: 1 }]);
    expect(agents.get(uuid)?.ejected).toBe(1);
    expect((await conn.domainLookup(uuid))?.state).toBe('shutoff');
    // A poll sees the domain off: for a saved member that is expected, not a failure.
    pool.noteHostPoll('sandbox', conn.snapshot().domains);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(pool.member(uuid)?.phase).toBe('saved');
    const image = member?.savedImage ?? '';

    pool.scaleTo(1);
    await waitFor(() => pool.member(uuid)?.phase === 'healthy', 10_000, 'the saved member to serve');
    expect(firstOf(events, 'member_restored')?.member.uuid).toBe(uuid);
    expect((await conn.domainLookup(uuid))?.state).toBe('running');
    expect(existsSync(image)).toBe(false);
    expect(pool.member(uuid)?.savedImage).toBeNull();
    // Restored, not booted: no second start of it; the saved pool refills with a new member, but
    // only once the restored one serves (a boot beside a restore slows it).
    expect(events.filter((event) => event.type === 'member_started' && event.member.uuid === uuid)).toHaveLength(1);
    await waitFor(() => pool.status().counts.saved === 1, 10_000, 'the saved pool to refill');
    const healthyAt = events.findIndex((event) => event.type === 'member_healthy' && event.member.uuid === uuid);
    const refillAt = events.findIndex((event) => event.type === 'member_cloned' && event.member.uuid !== uuid);
    expect(healthyAt).toBeGreaterThan(-1);
    expect(refillAt).toBeGreaterThan(healthyAt);
    expect(events.some((event) => event.type === 'member_failed')).toBe(false);
  });

  it('saves a member whose guest does not know park all the same, and says so', async () => {
    const { pool, events, parksAndSaves } = await savedPool({ knowsPark: false });
    await waitFor(() => pool.status().counts.saved === 1, 10_000, 'a saved member');
    const uuid = firstOf(events, 'member_saved')?.member.uuid ?? '';
    expect(parksAndSaves).toEqual([`park ${uuid}`, `save ${uuid}`]);
    const failed = firstOf(events, 'action_failed');
    expect(failed).toMatchObject({ action: 'park', member: { uuid } });
    expect(failed?.message).toMatch(/unknown_type.*saved anyway/);
    expect(events.some((event) => event.type === 'member_failed')).toBe(false);
  });

  it('fails a member whose restore fails and boots a replacement in its place', async () => {
    const { pool, events } = await savedPool();
    await waitFor(() => pool.status().counts.saved === 1, 10_000, 'a saved member');
    const uuid = firstOf(events, 'member_saved')?.member.uuid ?? '';
    await unlink(pool.member(uuid)?.savedImage ?? '');

    pool.scaleTo(1);
    await waitFor(() => pool.servingMembers().length === 1, 10_000, 'a serving replacement');
    expect(events).toContainEqual(expect.objectContaining({ type: 'action_failed', action: 'restore', message: expect.stringMatching(/restore/) }));
    expect(events).toContainEqual(expect.objectContaining({ type: 'member_failed', member: expect.objectContaining({ uuid }), reason: 'could not restore from the saved pool' }));
    expect(pool.servingMembers()[0]?.uuid).not.toBe(uuid);
    await waitFor(() => pool.member(uuid) === undefined, 5000, 'the failed member to be removed');
  });

  it('removes every saved image and member at shutdown', async () => {
    const { pool, conn, events, dir } = await savedPool();
    await waitFor(() => pool.status().counts.saved === 1, 10_000, 'a saved member');
    const uuid = firstOf(events, 'member_saved')?.member.uuid ?? '';
    await pool.shutdown({ timeoutMs: 500 });
    expect(await conn.domainLookup(uuid)).toBeNull();
    expect(await readdir(dir)).toEqual([]);
  });

  it('places no saved member on a host without an image store, and says so once', async () => {
    const { pool, events } = await savedPool({ withStore: false });
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(pool.status().members).toEqual([]);
    expect(events.filter((event) => event.type === 'action_failed' && event.action === 'saved pool')).toHaveLength(1);
  });
});

describe('SavedImageDir', () => {
  it('names images after members, makes its folder only for a new image, refuses unsafe names, and removes only its own files', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cms-saved-dir-'));
    try {
      const images = new SavedImageDir(dir);
      expect(images.pathFor('cms-3')).toBe(join(dir, 'cms-3.cms-saved'));
      expect(() => images.pathFor('../etc/passwd')).toThrow(/not safe/);
      // Only a new image makes the folder: naming one (as every removal does) leaves no trace.
      const nested = new SavedImageDir(join(dir, 'sub'));
      nested.pathFor('cms-1');
      expect(existsSync(join(dir, 'sub'))).toBe(false);
      expect(nested.prepare('cms-1')).toBe(join(dir, 'sub', 'cms-1.cms-saved'));
      expect(existsSync(join(dir, 'sub'))).toBe(true);
      await expect(images.remove(join(dir, 'missing.cms-saved'))).resolves.toBeUndefined();
      await expect(images.remove(join(dir, 'other.txt'))).rejects.toThrow(/refusing/);
      await expect(images.remove('/etc/cms-3.cms-saved')).rejects.toThrow(/refusing/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
