// The built guest image booted by QEMU directly (TCG) on a CPU other than the one its Node start-up
// snapshot was made for, as a KVM host's guests are: Node refuses the snapshot, the init says so and
// starts the server from its script instead, and the guest still registers and answers.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildGuestImage, QBOOT_PATHS } from '../../electron/core/kvm/index';
import { listenForGuests } from '../support/guest-client';
import { referenceCollide } from '../support/guest-reference';

/** Not kvm64: it lacks LZCNT and SSE4a, which V8 keys its snapshots by. */
const OTHER_CPU = 'qemu64,+rdrand';
const UUID = '5eed0000-0000-4000-8000-00000000f00d';
const dir = mkdtempSync(join(tmpdir(), 'cms-image-boot-'));
let qemu: ChildProcess | null = null;
afterAll(() => {
  qemu?.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

describe('guest image on a CPU its start-up snapshot was not made for', () => {
  it('falls back to starting the server from its script, then registers and serves', async (ctx) => {
    const { image } = await buildGuestImage();
    if (!image.manifest.snapshotCpu) ctx.skip('the image has no Node start-up snapshot (no qemu-user when it was built)');
    const manager = await listenForGuests();
    const consoleLog = join(dir, 'console.log');
    const qboot = QBOOT_PATHS.find((path) => existsSync(path));
    // User-mode networking: the guest reaches this process's loopback listener at 10.0.2.2.
    qemu = spawn('qemu-system-x86_64', [
      '-machine', 'pc', '-accel', 'tcg', '-cpu', OTHER_CPU, '-m', '256', '-smp', '2', '-nodefaults', '-no-user-config', '-display', 'none',
      ...(qboot ? ['-bios', qboot] : []),
      '-kernel', image.kernelPath, '-initrd', image.initrdPath,
      '-append', `${image.cmdline} cms.net=static cms.manager=10.0.2.2:${manager.port} cms.token=t cms.hostname=fallback`,
      '-netdev', 'user,id=n0', '-device', 'virtio-net-pci,netdev=n0,romfile=', '-device', 'virtio-rng-pci',
      '-smbios', `type=1,uuid=${UUID}`, '-serial', `file:${consoleLog}`,
    ], { stdio: 'ignore' });
    try {
      const conn = await manager.nextGuest(60_000).catch((error: unknown) => {
        throw new Error(`${String(error)}; console:\n${existsSync(consoleLog) ? readFileSync(consoleLog, 'utf8').slice(-2000) : '(none)'}`);
      });
      expect(await conn.next((message) => message.t === 'register', 30_000)).toMatchObject({ uuid: UUID, token: 't' });
      conn.send({ t: 'registered' });
      const answer = await conn.request({ t: 'collide', id: 1, word: 'fallback', digits: 2 }, 30_000);
      expect(answer).toMatchObject({ t: 'result', match: referenceCollide('fallback', 2).match });
      const text = readFileSync(consoleLog, 'utf8');
      expect(text).toContain('refused the start-up snapshot');
      expect(text).not.toContain('"event":"started_from_snapshot"');
    } finally {
      qemu.kill('SIGKILL');
      await manager.close();
    }
  });
});
