// The real-host layer's parts without a hypervisor: qcow2 overlays (checked by qemu-img where it
// is installed), overlay storage and its refusals, per-member boot settings in the domain XML,
// the template XML (validated by the pool's own clone code), its firmware choice (on libvirt's
// test driver) and URI locality. Fast; no VMs.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../electron/core/clock';
import { HypervisorConnection } from '../../electron/core/hypervisor';
import {
  createQcow2Overlay,
  defineTemplate,
  customizeMemberXml,
  guestManagerAddress,
  isLocalUri,
  OverlayStorage,
  parseTemplateNetwork,
  qcow2OverlayBytes,
  readDiskInfo,
  tcgCpuQemuArg,
  templateDomainXml,
  withBootSettings,
  type GuestImage,
} from '../../electron/core/kvm/index';
import { cloneDomainXml, readMemberTag } from '../../electron/core/pool/member-xml';

const dir = mkdtempSync(join(tmpdir(), 'cms-kvm-parts-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const hasQemuImg = spawnSync('qemu-img', ['--version']).status === 0;

/** A sparse raw disk of the wanted size, as a template's base. */
function rawBase(name: string, bytes: number): string {
  const path = join(dir, name);
  writeFileSync(path, Buffer.alloc(0));
  truncateSync(path, bytes);
  return path;
}

const image: GuestImage = {
  dir: '/var/lib/cms/guest-image',
  kernelPath: '/var/lib/cms/guest-image/vmlinux',
  initrdPath: '/var/lib/cms/guest-image/initramfs.lz4',
  probeInitrdPath: '/var/lib/cms/guest-image/probe-initramfs.lz4',
  cmdline: 'console=ttyS0 rootfstype=ramfs quiet',
  manifest: {
    format: 1,
    key: 'a'.repeat(64),
    kernel: 'vmlinux',
    initrd: 'initramfs.lz4',
    probeInitrd: 'probe-initramfs.lz4',
    cmdline: 'console=ttyS0 rootfstype=ramfs quiet',
    kernelRelease: '6.1.0-test',
    kernelPackage: 'linux-image-test 1',
    busyboxPackage: 'busybox-static 1',
    nodeVersion: 'v20',
    modules: 'virtio_net',
    snapshotCpu: 'kvm64,+rdrand',
    builtAt: '2026-01-01T00:00:00Z',
    buildSeconds: 1,
  },
};

describe('qcow2 overlays', () => {
  it('writes a four-cluster qcow2 v3 header naming the backing file and its format', async () => {
    const base = rawBase('base.raw', 16 * 1024 * 1024);
    const overlay = join(dir, 'member-disk0.qcow2');
    await createQcow2Overlay(overlay, base);
    const info = await readDiskInfo(overlay);
    expect(info).toEqual({ format: 'qcow2', virtualSizeBytes: 16 * 1024 * 1024, backingFile: base });
    expect(statSync(overlay).size).toBe(4 * 65536);
    const bytes = qcow2OverlayBytes(base, 'raw', 16 * 1024 * 1024);
    expect(bytes.subarray(0, 4).toString('latin1')).toBe('QFI\xfb');
    expect(bytes.readUInt32BE(4)).toBe(3);
  });

  it.skipIf(!hasQemuImg)('passes qemu-img check, and qemu-img reads the backing chain', async () => {
    const base = join(dir, 'base.qcow2');
    expect(spawnSync('qemu-img', ['create', '-q', '-f', 'qcow2', base, '32M']).status).toBe(0);
    const overlay = join(dir, 'checked-disk0.qcow2');
    await createQcow2Overlay(overlay, base);
    const check = spawnSync('qemu-img', ['check', overlay], { encoding: 'utf8' });
    expect(check.status, check.stderr).toBe(0);
    const info = JSON.parse(spawnSync('qemu-img', ['info', '--output=json', overlay], { encoding: 'utf8' }).stdout) as Record<string, unknown>;
    expect(info['format']).toBe('qcow2');
    expect(info['virtual-size']).toBe(32 * 1024 * 1024);
    expect(info['backing-filename']).toBe(base);
    expect(info['backing-filename-format']).toBe('qcow2');
    // Writes land in the overlay and leave the image consistent.
    const io = spawnSync('qemu-io', ['-c', 'write -P 0xab 0 1M', '-c', 'read -P 0xab 0 1M', overlay], { encoding: 'utf8' });
    if (io.status === 0) expect(spawnSync('qemu-img', ['check', overlay]).status).toBe(0);
  });
});

describe('OverlayStorage', () => {
  it('creates overlays beside the template disk, one per member and disk, and removes them', async () => {
    const base = rawBase('tmpl.raw', 8 * 1024 * 1024);
    const storage = new OverlayStorage();
    const overlay = await storage.createOverlay(base, 'cms-7', 0);
    expect(overlay).toBe(join(dir, 'cms-7-disk0.qcow2'));
    expect((await readDiskInfo(overlay)).backingFile).toBe(base);
    await storage.removeOverlay(overlay);
    expect(existsSync(overlay)).toBe(false);
    // Removing again (a member retired twice) is not an error.
    await storage.removeOverlay(overlay);
  });

  it('refuses to delete anything that is not a qcow2 overlay with a backing file', async () => {
    const storage = new OverlayStorage();
    const plain = join(dir, 'precious.qcow2');
    writeFileSync(plain, 'not an overlay');
    await expect(storage.removeOverlay(plain)).rejects.toMatchObject({ code: 'overlay_refused' });
    await expect(storage.removeOverlay('/etc/passwd')).rejects.toMatchObject({ code: 'overlay_refused' });
    await expect(storage.removeOverlay('relative.qcow2')).rejects.toMatchObject({ code: 'overlay_refused' });
    expect(existsSync(plain)).toBe(true);
  });

  it('refuses unsafe member names and relative template paths', async () => {
    const storage = new OverlayStorage();
    await expect(storage.createOverlay('/x/tmpl.qcow2', '../evil', 0)).rejects.toMatchObject({ code: 'overlay_refused' });
    await expect(storage.createOverlay('tmpl.qcow2', 'cms-1', 0)).rejects.toMatchObject({ code: 'overlay_refused' });
  });

  it.skipIf(!hasQemuImg)('can also make overlays with qemu-img', async () => {
    const base = rawBase('tmpl2.raw', 4 * 1024 * 1024);
    const storage = new OverlayStorage({ method: 'qemu-img', overlayDir: dir });
    const overlay = await storage.createOverlay(base, 'cms-8', 1);
    expect(overlay).toBe(join(dir, 'cms-8-disk1.qcow2'));
    expect(await readDiskInfo(overlay)).toMatchObject({ format: 'qcow2', backingFile: base });
    await storage.removeOverlay(overlay);
  });
});

describe('member boot settings', () => {
  it('maps a loopback or wildcard agent to the user-mode host alias, anything else as is', () => {
    expect(guestManagerAddress({ host: '127.0.0.1', port: 7001 })).toEqual({ host: '10.0.2.2', port: 7001 });
    expect(guestManagerAddress({ host: '0.0.0.0', port: 7001 })).toEqual({ host: '10.0.2.2', port: 7001 });
    expect(guestManagerAddress({ host: '192.168.122.1', port: 7001 })).toEqual({ host: '192.168.122.1', port: 7001 });
    expect(guestManagerAddress({ host: '127.0.0.1', port: 7001 }, '10.9.9.9')).toEqual({ host: '10.9.9.9', port: 7001 });
  });

  it('replaces earlier cms.* words on a kernel command line', () => {
    expect(withBootSettings('console=ttyS0 cms.manager=1.2.3.4:5 quiet cms.token=old', 'cms.manager=10.0.2.2:7001 cms.token=t')).toBe('console=ttyS0 quiet cms.manager=10.0.2.2:7001 cms.token=t');
  });

  it('writes manager, token and name on the cmdline of a clone of the template, per member', () => {
    const template = templateDomainXml({ name: 'cms-template', domainType: 'qemu', image, diskPath: '/d/cms-template.qcow2' });
    const clone = cloneDomainXml(template, {
      name: 'cms-3',
      uuid: '11111111-2222-3333-4444-555555555555',
      tag: { pool: 'cms', index: 3, template: 'cms-template', token: 'abc123', createdAt: '2026-01-01T00:00:00Z', overlay: '/d/cms-3-disk0.qcow2' },
      diskSource: () => '/d/cms-3-disk0.qcow2',
    });
    const xml = customizeMemberXml(clone, { name: 'cms-3', token: 'abc123' }, { host: '10.0.2.2', port: 40123 });
    const cmdline = /<cmdline>([^<]*)<\/cmdline>/.exec(xml)?.[1] ?? '';
    expect(cmdline).toContain('rootfstype=ramfs');
    expect(cmdline).toContain('cms.net=static');
    expect(cmdline).toContain('cms.manager=10.0.2.2:40123 cms.token=abc123 cms.hostname=cms-3');
    expect(xml).toContain('/d/cms-3-disk0.qcow2');
    expect(xml).not.toContain('/d/cms-template.qcow2');
    expect(xml).toContain('/var/log/libvirt/qemu/cms-3.console.log');
    expect(readMemberTag(xml)).toMatchObject({ pool: 'cms', index: 3, token: 'abc123' });
    // Re-customizing (a redefine) does not pile settings up.
    const again = customizeMemberXml(xml, { name: 'cms-3', token: 'abc123' }, { host: '10.0.2.2', port: 40124 });
    expect(again.match(/cms\.manager=/g)).toHaveLength(1);
    expect(again).toContain('cms.manager=10.0.2.2:40124');
  });

  it('uses an SMBIOS OEM string for a template that boots from its disk', () => {
    const diskBooted = "<domain type='kvm'><name>t</name><os><type arch='x86_64'>hvm</type><boot dev='hd'/></os><devices/></domain>";
    const xml = customizeMemberXml(diskBooted, { name: 'cms-1', token: 'tok' }, { host: '10.0.2.2', port: 7001 });
    expect(xml).toContain('<sysinfo type="smbios"><oemStrings><entry>cms.manager=10.0.2.2:7001 cms.token=tok cms.hostname=cms-1</entry></oemStrings></sysinfo>');
    expect(xml).toContain('<smbios mode="sysinfo"/></os>');
  });

  it('refuses a token that could break out of the command line', () => {
    expect(() => customizeMemberXml('<domain><os><cmdline>x</cmdline></os></domain>', { name: 'cms-1', token: 'a b' }, { host: 'h', port: 1 })).toThrow(/token/);
  });
});

describe('template XML', () => {
  it('boots the image directly with user networking, ACPI, virtio-rng and a scratch disk', () => {
    const xml = templateDomainXml({ name: 'cms-template', domainType: 'qemu', image, diskPath: '/d/cms-template.qcow2' });
    expect(xml).toContain("<domain type='qemu'>");
    expect(xml).toContain('<kernel>/var/lib/cms/guest-image/vmlinux</kernel>');
    expect(xml).toContain("<interface type='user'>");
    expect(xml).toContain('<acpi/>');
    expect(xml).toContain("<rng model='virtio'>");
    expect(xml).toContain("<tb-cache unit='MiB'>128</tb-cache>");
    expect(xml).toContain("<source file='/d/cms-template.qcow2'/>");
    expect(xml).not.toContain('host-passthrough');
    // Emulated RDRAND, so the guest's random pool is ready before any module loads.
    expect(xml).toContain("<model fallback='allow'>kvm64</model><topology sockets='1' dies='1' cores='2' threads='1'/><feature policy='require' name='rdrand'/>");
    // The image's Node start-up snapshot is made under qemu-user for this same CPU.
    expect(tcgCpuQemuArg()).toBe('kvm64,+rdrand');
    expect(xml).toContain('<vcpu>2</vcpu>');
    const one = templateDomainXml({ domainType: 'qemu', image, diskPath: null, vcpus: 1 });
    expect(one).toContain('<vcpu>1</vcpu>');
    expect(one).toContain("cores='1'");
  });

  it('boots by qboot where the host has it (libvirt test driver), else by QEMU\'s default firmware', async () => {
    expect(templateDomainXml({ domainType: 'qemu', image, diskPath: null, firmwarePath: '/q/qboot.rom' })).toContain("<loader type='rom'>/q/qboot.rom</loader>");
    expect(templateDomainXml({ domainType: 'qemu', image, diskPath: null })).not.toContain('<loader');
    const qboot = join(dir, 'qboot.rom');
    writeFileSync(qboot, 'rom');
    const connection = new HypervisorConnection({ id: 'parts', uri: 'test:///default', clock: systemClock });
    await connection.open();
    try {
      const found = await defineTemplate(connection, { name: 'fw-found', domainType: 'qemu', image, diskDir: dir, diskMiB: 0, qbootPaths: [join(dir, 'missing.rom'), qboot] });
      expect(found.xml).toContain(`<loader type='rom'>${qboot}</loader>`);
      const missing = await defineTemplate(connection, { name: 'fw-missing', domainType: 'qemu', image, diskDir: dir, diskMiB: 0, qbootPaths: [join(dir, 'missing.rom')] });
      expect(missing.xml).not.toContain('<loader');
      // libvirt kept it: the defined domain boots by the ROM.
      expect(await connection.domainXml(found.uuid, { inactive: true })).toContain(qboot);
    } finally {
      await connection.close();
    }
  });

  it('uses KVM with the host CPU, and DHCP on a libvirt network', () => {
    const xml = templateDomainXml({ domainType: 'kvm', image, diskPath: null, network: parseTemplateNetwork('network:isolated') });
    expect(xml).toContain("<domain type='kvm'>");
    expect(xml).toContain("<cpu mode='host-passthrough'/>");
    expect(xml).not.toContain('rdrand');
    expect(xml).toContain("<source network='isolated'/>");
    expect(xml).toContain('cms.net=dhcp');
    expect(xml).not.toContain('<disk');
    expect(xml).not.toContain('tb-cache');
    expect(() => parseTemplateNetwork('nat')).toThrow(/network must be/);
  });
});

describe('isLocalUri', () => {
  it('is true only for URIs without a remote host', () => {
    expect(isLocalUri('qemu:///system')).toBe(true);
    expect(isLocalUri('qemu:///session')).toBe(true);
    expect(isLocalUri('qemu+unix:///system')).toBe(true);
    expect(isLocalUri('qemu+ssh://h2/system')).toBe(false);
    expect(isLocalUri('qemu+tcp://10.0.0.2/system')).toBe(false);
    expect(isLocalUri('not a uri')).toBe(false);
  });
});
