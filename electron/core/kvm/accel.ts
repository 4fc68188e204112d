// Chooses the domain type of the template: 'kvm' only when this host's KVM can really boot the
// guest kernel (a nested or paravirtual /dev/kvm may exist and still fail), else 'qemu' (TCG).
// The probe boots the image's kernel with a tiny busybox initramfs under `-accel kvm` and waits for
// its marker on the serial port. Local hosts only; it starts no domain through libvirt.
import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import type { GuestImage } from './image';
import { runProgram, type RunResult } from './process';
import type { DomainType } from './template';

export interface AccelProbeResult {
  domainType: DomainType;
  /** Why: shown to the user and logged. */
  reason: string;
  ms: number;
}

export interface AccelProbeOptions {
  image: GuestImage;
  /** True when the libvirt host is this machine (the probe can only run here). */
  local: boolean;
  /** Give up on KVM after this long, ms. @default 20000 */
  timeoutMs?: number;
  /** @default '/dev/kvm' */
  kvmDevice?: string;
  /** @default 'qemu-system-x86_64' */
  qemu?: string;
}

const PROBE_MARKER = 'CMS-PROBE-OK';
const memo = new Map<string, AccelProbeResult>();

/** Probes once per image and device in this process; later calls return the first answer. */
export async function probeAccelerator(options: AccelProbeOptions): Promise<AccelProbeResult> {
  const device = options.kvmDevice ?? '/dev/kvm';
  const key = `${options.image.manifest.key}:${device}:${options.local}`;
  const known = memo.get(key);
  if (known) return known;
  const result = await probe(options, device);
  memo.set(key, result);
  return result;
}

async function probe(options: AccelProbeOptions, device: string): Promise<AccelProbeResult> {
  const startedMs = performance.now();
  const elapsed = (): number => Math.round(performance.now() - startedMs);
  if (!options.local) return { domainType: 'qemu', reason: 'remote host: KVM cannot be probed from here, using TCG (define with --domain-type kvm to override)', ms: 0 };
  try {
    await access(device, constants.R_OK | constants.W_OK);
  } catch {
    return { domainType: 'qemu', reason: `${device} is missing or not usable: TCG emulation`, ms: elapsed() };
  }
  const timeoutMs = options.timeoutMs ?? 20_000;
  try {
    const { markerMs, result } = await bootProbeInitramfs(options.image, ['-accel', 'kvm', '-cpu', 'host', '-m', '128', '-smp', '1'], 'console=ttyS0 rootfstype=ramfs quiet panic=-1', {
      qemu: options.qemu,
      timeoutMs,
    });
    if (markerMs !== null) return { domainType: 'kvm', reason: `KVM booted the guest kernel in ${elapsed()} ms`, ms: elapsed() };
    const detail = result.stderr.trim().split('\n').slice(-2).join(' | ');
    return { domainType: 'qemu', reason: `KVM could not boot the guest kernel (exit ${result.code ?? result.signal}${detail ? `: ${detail}` : ''}): TCG emulation`, ms: elapsed() };
  } catch (error) {
    return { domainType: 'qemu', reason: `KVM probe failed (${error instanceof Error ? error.message : String(error)}): TCG emulation`, ms: elapsed() };
  }
}

/**
 * Boots the image's kernel with the probe's busybox initramfs under QEMU (machine, accelerator, CPU
 * and memory from `machineArgs`; serial console on stdout; no reboot), stopping QEMU once the probe's
 * marker shows. Resolves with the ms from QEMU's start to the marker (null when QEMU ended without
 * it) and how QEMU ended; rejects on a spawn failure or the deadline.
 */
export async function bootProbeInitramfs(
  image: GuestImage,
  machineArgs: readonly string[],
  cmdline: string,
  options: { qemu?: string; timeoutMs: number },
): Promise<{ markerMs: number | null; result: RunResult }> {
  let markerMs: number | null = null;
  let serialTail = '';
  const startedMs = performance.now();
  const result = await runProgram(
    options.qemu ?? 'qemu-system-x86_64',
    [
      ...machineArgs,
      '-nodefaults', '-no-user-config', '-display', 'none', '-serial', 'stdio', '-no-reboot',
      '-kernel', image.kernelPath, '-initrd', image.probeInitrdPath, '-append', `${cmdline} cms.probe=1`,
    ],
    {
      timeoutMs: options.timeoutMs,
      onStdout: (chunk) => {
        // The marker may arrive split across chunks: look at the end of what came so far.
        serialTail = (serialTail + chunk).slice(-256);
        if (markerMs === null && serialTail.includes(PROBE_MARKER)) markerMs = performance.now() - startedMs;
        return markerMs !== null;
      },
    },
  );
  return { markerMs, result };
}
