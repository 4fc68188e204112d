// The template domain of a real host: direct kernel boot of the built guest image (by qboot where
// the host has it), 256 MiB, two vCPUs, user-mode networking (or a libvirt network / bridge with
// DHCP), ACPI for graceful shutdown, RDRAND (emulated) and virtio-rng so Node does not wait for
// entropy, and a small scratch disk so that every member gets a linked-clone overlay. It holds no
// manager address or token: the pool writes those per member (member-boot.ts). Defining it never
// starts it.
import { access, mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { DomainSnapshot } from '../hypervisor/types';
import { KvmError } from './errors';
import type { GuestImage } from './image';
import { runChecked } from './process';
import { TCG_CPU } from './tcg-cpu';

export type DomainType = 'kvm' | 'qemu';

/** How members reach the manager: user-mode networking (loopback via 10.0.2.2), or a libvirt network or bridge. */
export type TemplateNetwork = { kind: 'user' } | { kind: 'network'; name: string } | { kind: 'bridge'; name: string };

export interface TemplateOptions {
  /** @default 'cms-template' */
  name?: string;
  /** Reuse this UUID (redefining an existing template keeps its identity). */
  uuid?: string;
  domainType: DomainType;
  image: GuestImage;
  /** @default 256 */
  memoryMiB?: number;
  /**
   * Two by default: under emulation each vCPU is a host thread, and with two the guest loads its
   * modules and initramfs and starts its worker threads beside Node's start-up (measured: serving
   * about 0.5 s sooner than with one). @default 2
   */
  vcpus?: number;
  /** The template's scratch disk (qcow2), the base of every member's overlay; null for none. */
  diskPath: string | null;
  /** @default { kind: 'user' } */
  network?: TemplateNetwork;
  /** Folder for serial console logs (written by virtlogd); null for none. @default '/var/log/libvirt/qemu' */
  consoleLogDir?: string | null;
  /**
   * TCG only: QEMU's translation cache, MiB. Its default (1 GiB, filled as code runs) made each
   * emulated member cost about 570 MiB of host memory; a smaller cache bounds that. @default 128
   */
  tcgCacheMiB?: number;
  /**
   * Firmware that boots the kernel, or null for QEMU's default (SeaBIOS). defineTemplate picks
   * qboot where the host has it: a minimal firmware for direct kernel boot, it handed over to the
   * kernel ~0.3 s sooner than SeaBIOS under emulation (medians of alternating boots).
   */
  firmwarePath?: string | null;
}

function xmlEscape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/'/g, '&apos;').replace(/"/g, '&quot;');
}

export const DEFAULT_VCPUS = 2;
/** Guest memory of the template, MiB: the image's initramfs, Node and the server fit with room to spare. */
export const DEFAULT_MEMORY_MIB = 256;

/** Where Debian's and Ubuntu's qemu-system-data put qboot; other distributions may not ship it. */
export const QBOOT_PATHS: readonly string[] = ['/usr/share/qemu/qboot.rom'];

/**
 * Emulated CPU: QEMU's generic Intel model, kvm64, plus RDRAND, which TCG implements, with every
 * vCPU a core of one socket. Measured boot savings: with RDRAND and the kernel's
 * random.trust_cpu=on (in the image's command line) the random pool is ready at once, so Node
 * starts before any module loads (without it Node waits for virtio-rng); and on an Intel family-15
 * CPU the kernel trusts the TSC to be constant, so a second core copies the first one's delay-loop
 * calibration instead of redoing it (~0.15 s). check='none': there is no host CPU to check an
 * emulated one against. The guest image's Node start-up snapshot is made for this CPU (tcg-cpu.ts).
 */
function tcgCpuXml(vcpus: number): string {
  const features = TCG_CPU.features.map((feature) => `<feature policy='require' name='${feature}'/>`).join('');
  return `<cpu mode='custom' match='exact' check='none'><model fallback='allow'>${TCG_CPU.model}</model><topology sockets='1' dies='1' cores='${vcpus}' threads='1'/>${features}</cpu>`;
}

/** Parses `user`, `network:NAME` or `bridge:NAME`. */
export function parseTemplateNetwork(text: string): TemplateNetwork {
  if (text === 'user') return { kind: 'user' };
  const match = /^(network|bridge):([A-Za-z0-9_.-]+)$/.exec(text);
  if (!match) throw new KvmError('template_invalid', `network must be 'user', 'network:NAME' or 'bridge:NAME', got '${text}'`);
  return { kind: match[1] as 'network' | 'bridge', name: match[2] as string };
}

/** The template's domain XML. Pure. */
export function templateDomainXml(options: TemplateOptions): string {
  const name = options.name ?? 'cms-template';
  const network = options.network ?? { kind: 'user' };
  const vcpus = options.vcpus ?? DEFAULT_VCPUS;
  // User-mode networking has fixed addresses; anything else hands them out by DHCP.
  const cmdline = `${options.image.cmdline} cms.net=${network.kind === 'user' ? 'static' : 'dhcp'}`;
  const iface =
    network.kind === 'user'
      ? `<interface type='user'>`
      : network.kind === 'network'
        ? `<interface type='network'><source network='${xmlEscape(network.name)}'/>`
        : `<interface type='bridge'><source bridge='${xmlEscape(network.name)}'/>`;
  const consoleLogDir = options.consoleLogDir === undefined ? '/var/log/libvirt/qemu' : options.consoleLogDir;
  const log = consoleLogDir ? `<log file='${xmlEscape(join(consoleLogDir, `${name}.console.log`))}' append='off'/>` : '';
  const disk = options.diskPath
    ? `    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='${xmlEscape(options.diskPath)}'/>
      <target dev='vda' bus='virtio'/>
    </disk>
`
    : '';
  return `<domain type='${options.domainType}'>
  <name>${xmlEscape(name)}</name>
${options.uuid ? `  <uuid>${xmlEscape(options.uuid)}</uuid>\n` : ''}  <title>Cloud Management System pool template</title>
  <description>Minimal guest (Debian kernel, busybox, Node, guest server) booted directly. Members are linked clones; each gets the manager address and token on its kernel command line.</description>
  <memory unit='MiB'>${options.memoryMiB ?? DEFAULT_MEMORY_MIB}</memory>
  <vcpu>${vcpus}</vcpu>
  <os>
    <type arch='x86_64'>hvm</type>
${options.firmwarePath ? `    <loader type='rom'>${xmlEscape(options.firmwarePath)}</loader>\n` : ''}    <kernel>${xmlEscape(options.image.kernelPath)}</kernel>
    <initrd>${xmlEscape(options.image.initrdPath)}</initrd>
    <cmdline>${xmlEscape(cmdline)}</cmdline>
  </os>
  <features><acpi/>${options.domainType === 'qemu' ? `<tcg><tb-cache unit='MiB'>${options.tcgCacheMiB ?? 128}</tb-cache></tcg>` : ''}</features>
  ${options.domainType === 'kvm' ? "<cpu mode='host-passthrough'/>" : tcgCpuXml(vcpus)}
  <clock offset='utc'/>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
${disk}    ${iface}<model type='virtio'/><rom enabled='no'/></interface>
    <serial type='pty'>${log}<target port='0'/></serial>
    <console type='pty'><target type='serial' port='0'/></console>
    <rng model='virtio'><backend model='random'>/dev/urandom</backend></rng>
    <memballoon model='none'/>
    <controller type='usb' model='none'/>
  </devices>
</domain>
`;
}

/** The calls defineTemplate makes on a host; HypervisorConnection satisfies it. */
export interface TemplateHost {
  snapshot(): { domains: DomainSnapshot[] };
  domainDefine(xml: string): Promise<string>;
  pollNow?(): Promise<unknown>;
}

export interface DefineTemplateOptions extends Omit<TemplateOptions, 'diskPath' | 'uuid'> {
  /** Folder of the template's scratch disk (`<name>.qcow2`) and, by default, the members' overlays. */
  diskDir: string;
  /** Size of the scratch disk; 0 for a template with no disk. @default 16 */
  diskMiB?: number;
  /** @default 'qemu-img' */
  qemuImg?: string;
  /** Where to look for qboot (see TemplateOptions.firmwarePath); the first that exists wins. @default QBOOT_PATHS */
  qbootPaths?: readonly string[];
}

export interface DefinedTemplate {
  uuid: string;
  name: string;
  xml: string;
  diskPath: string | null;
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

async function firstExisting(paths: readonly string[]): Promise<string | null> {
  for (const path of paths) if (await exists(path)) return path;
  return null;
}

/**
 * Defines (or redefines, keeping its UUID) the template on a host and creates its scratch disk
 * when missing. Refuses while a domain of that name runs.
 */
export async function defineTemplate(host: TemplateHost, options: DefineTemplateOptions): Promise<DefinedTemplate> {
  const name = options.name ?? 'cms-template';
  const existing = host.snapshot().domains.find((domain) => domain.name === name);
  if (existing && existing.state !== 'shutoff') {
    throw new KvmError('template_running', `template ${name} is ${existing.state}: shut it down before redefining it`);
  }
  let diskPath: string | null = null;
  const diskMiB = options.diskMiB ?? 16;
  if (diskMiB > 0) {
    const diskDir = resolve(options.diskDir);
    await mkdir(diskDir, { recursive: true, mode: 0o755 });
    diskPath = join(diskDir, `${name}.qcow2`);
    if (!(await exists(diskPath))) await runChecked(options.qemuImg ?? 'qemu-img', ['create', '-q', '-f', 'qcow2', diskPath, `${diskMiB}M`], { timeoutMs: 30_000 });
  }
  const firmwarePath = options.firmwarePath !== undefined ? options.firmwarePath : await firstExisting(options.qbootPaths ?? QBOOT_PATHS);
  const xml = templateDomainXml({ ...options, name, uuid: existing?.uuid, diskPath, firmwarePath });
  const uuid = await host.domainDefine(xml);
  await host.pollNow?.();
  return { uuid, name, xml, diskPath };
}
