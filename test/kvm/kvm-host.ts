// Real-hypervisor harness shared by the whole-loop test and the KVM benchmark: starts virtlogd +
// libvirtd when none runs (build/libvirt/libvirt-daemons.sh), builds the guest image (cached),
// probes KVM, defines a template of its own with a scratch disk in a temporary folder, and
// afterwards removes every domain, overlay and daemon it made. It never touches other domains.
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { systemClock } from '../../electron/core/clock';
import { HypervisorConnection } from '../../electron/core/hypervisor/connection';
import { buildGuestImage, defineTemplate, probeAccelerator, type AccelProbeResult, type GuestImage } from '../../electron/core/kvm/index';
import { defaultSavedImageDir } from '../../electron/core/kvm/image';
import { SAVED_IMAGE_SUFFIX } from '../../electron/core/pool/saved-image-dir';
import { ensureGuestBuilt } from '../support/guest-process';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const DAEMON_SCRIPT = join(root, 'build', 'libvirt', 'libvirt-daemons.sh');
export const KVM_URI = 'qemu:///system';

export interface ScriptResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the daemon script (start | stop | restart-libvirtd | status). */
export function libvirtDaemons(command: 'start' | 'stop' | 'restart-libvirtd' | 'status'): Promise<ScriptResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('sh', [DAEMON_SCRIPT, command], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

export interface DaemonStatus {
  libvirtd: { running: boolean; startedHere: boolean };
  virtlogd: { running: boolean; startedHere: boolean };
  answers: boolean;
}

export async function daemonStatus(): Promise<DaemonStatus> {
  const result = await libvirtDaemons('status');
  return JSON.parse(result.stdout) as DaemonStatus;
}

export interface KvmHost {
  image: GuestImage;
  imageCached: boolean;
  imageBuildMs: number;
  accel: AccelProbeResult;
  templateName: string;
  templateUuid: string;
  /** Holds the template's scratch disk and every member's overlay. */
  diskDir: string;
  templateDisk: string;
  /** True when this harness started libvirtd (so it may restart and must stop it). */
  startedDaemons: boolean;
}

export type PrepareResult = { ok: true; host: KvmHost } | { ok: false; reason: string };

/** Opens a short-lived connection to the real host. */
export async function openConnection(): Promise<HypervisorConnection> {
  const connection = new HypervisorConnection({ id: 'kvm-harness', uri: KVM_URI, clock: systemClock, pollIntervalMs: 500 });
  await connection.open();
  return connection;
}

/**
 * Brings up libvirt, the image and a template. `{ ok: false }` only where libvirtd cannot run at
 * all (not root, not installed); any other failure throws, so the test fails loudly.
 */
export async function prepareKvmHost(options: { templateName: string; log?: (line: string) => void }): Promise<PrepareResult> {
  const log = options.log ?? (() => {});
  const before = await daemonStatus().catch(() => null);
  const started = await libvirtDaemons('start');
  if (started.code === 3) return { ok: false, reason: started.stderr.trim() || 'libvirtd cannot run on this machine' };
  if (started.code !== 0) throw new Error(`starting libvirtd failed (exit ${started.code}): ${started.stderr.trim()}`);
  const after = await daemonStatus();
  const startedDaemons = after.libvirtd.startedHere && !(before?.libvirtd.startedHere ?? false);
  log(`libvirtd: ${startedDaemons ? 'started by this run' : 'already running'}`);

  ensureGuestBuilt();
  const built = await buildGuestImage({ onProgress: (line) => log(line) });
  log(`image: ${built.cached ? 'cached' : 'built'} in ${Math.round(built.ms)} ms (${built.image.dir})`);
  const accel = await probeAccelerator({ image: built.image, local: true });
  log(`accelerator: ${accel.domainType} (${accel.reason})`);

  // QEMU runs as libvirt-qemu: the folder must be searchable by it (mkdtemp makes 0700).
  const diskDir = mkdtempSync('/var/tmp/cms-kvm-');
  chmodSync(diskDir, 0o755);
  const connection = await openConnection();
  try {
    const template = await defineTemplate(connection, { name: options.templateName, domainType: accel.domainType, image: built.image, diskDir });
    return {
      ok: true,
      host: {
        image: built.image,
        imageCached: built.cached,
        imageBuildMs: built.ms,
        accel,
        templateName: options.templateName,
        templateUuid: template.uuid,
        diskDir,
        templateDisk: template.diskPath ?? '',
        startedDaemons,
      },
    };
  } finally {
    await connection.close();
  }
}

function poolNamePattern(poolName: string): RegExp {
  return new RegExp(`^${poolName.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}-\\d+$`);
}

/** Domains of a pool (named `<pool>-<n>`) still defined on the host, with their states. */
export async function poolDomains(poolName: string): Promise<Array<{ name: string; uuid: string; state: string }>> {
  const connection = await openConnection();
  try {
    const pattern = poolNamePattern(poolName);
    return connection
      .snapshot()
      .domains.filter((domain) => pattern.test(domain.name))
      .map((domain) => ({ name: domain.name, uuid: domain.uuid, state: domain.state }));
  } finally {
    await connection.close();
  }
}

/** Overlay files left in the disk folder (everything but the template's own disk). */
export function leftoverOverlays(host: KvmHost): string[] {
  return readdirSync(host.diskDir).filter((name) => name.endsWith('.qcow2') && join(host.diskDir, name) !== host.templateDisk);
}

/**
 * Removes what the harness made: any domain of the pool still there (forced off, undefined), the
 * template, the disk folder, and the daemons if it started them. Returns what it had to clean,
 * so a test can assert that quitting the control plane already left nothing behind.
 */
export async function cleanupKvmHost(host: KvmHost, poolName: string): Promise<{ strayDomains: string[] }> {
  const stray: string[] = [];
  try {
    const connection = await openConnection();
    try {
      const pattern = poolNamePattern(poolName);
      for (const domain of connection.snapshot().domains) {
        if (!pattern.test(domain.name) && domain.uuid !== host.templateUuid) continue;
        if (domain.uuid !== host.templateUuid) stray.push(domain.name);
        if (domain.state !== 'shutoff') await connection.domainForceOff(domain.uuid).catch(() => {});
        await connection.domainUndefine(domain.uuid).catch(() => {});
      }
    } finally {
      await connection.close();
    }
  } finally {
    rmSync(host.diskDir, { recursive: true, force: true });
    // Saved-pool images the run left (none when the pool shut down cleanly).
    const savedDir = defaultSavedImageDir();
    for (const file of existsSync(savedDir) ? readdirSync(savedDir) : []) {
      if (!file.endsWith(SAVED_IMAGE_SUFFIX) || !poolNamePattern(poolName).test(file.slice(0, -SAVED_IMAGE_SUFFIX.length))) continue;
      stray.push(file);
      rmSync(join(savedDir, file), { force: true });
    }
    if (host.startedDaemons) await libvirtDaemons('stop');
  }
  return { strayDomains: stray };
}

/** A free TCP port on loopback: real guests get the agent port on their kernel command line. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** Resident memory of the QEMU process of each running domain, MiB (read from /proc). */
export function qemuRssMiB(): Map<string, number> {
  const result = new Map<string, number>();
  for (const pid of readdirSync('/proc').filter((entry) => /^\d+$/.test(entry))) {
    try {
      const cmdline = readFileSafe(`/proc/${pid}/cmdline`).split('\0');
      if (!cmdline[0]?.includes('qemu-system')) continue;
      const nameArg = cmdline[cmdline.indexOf('-name') + 1] ?? '';
      const name = /guest=([^,]+)/.exec(nameArg)?.[1] ?? nameArg;
      const rssKiB = Number(/VmRSS:\s+(\d+)/.exec(readFileSafe(`/proc/${pid}/status`))?.[1] ?? 0);
      result.set(name, rssKiB / 1024);
    } catch {
      // the process ended while we looked
    }
  }
  return result;
}

function readFileSafe(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}
