// Guest discovery: kernel command line, /proc/net/route, SMBIOS OEM strings and fw_cfg parsing, the
// order in which sources win, and reading them from a fixture tree laid out like /proc and /sys.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import {
  cleanFwCfgValue,
  defaultGatewayFromRoute,
  discoverManager,
  discoverToken,
  discoverUuid,
  parseHostPort,
  parseKernelCmdline,
  parseSmbiosOemStrings,
  readDiscoverySources,
  settingsFromOemStrings,
  type DiscoverySources,
} from '../../guest-server/src/discovery';

/** Builds a raw SMBIOS type 11 structure as /sys/firmware/dmi/entries/11-0/raw holds it. */
function oemStructure(strings: string[], handle = 0x0f00): Buffer {
  const header = Buffer.from([11, 5, handle & 0xff, handle >> 8, strings.length]);
  const body = strings.length === 0 ? Buffer.from([0, 0]) : Buffer.concat([...strings.map((s) => Buffer.from(`${s}\0`, 'utf8')), Buffer.from([0])]);
  return Buffer.concat([header, body]);
}

const ROUTE_SAMPLE = [
  'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT',
  'eth0\t0002000A\t00000000\t0001\t0\t0\t100\t00FFFFFF\t0\t0\t0',
  'eth0\t00000000\t0202000A\t0003\t0\t0\t100\t00000000\t0\t0\t0',
  'eth1\t00000000\t017AA8C0\t0003\t0\t0\t50\t00000000\t0\t0\t0',
  '',
].join('\n');

function sources(overrides: Partial<DiscoverySources> = {}): DiscoverySources {
  return { cmdline: null, route: null, productUuid: null, oemEntries: [], fwCfgManager: null, fwCfgToken: null, ...overrides };
}

describe('parseKernelCmdline', () => {
  it('reads key=value words, bare words and values holding "="', () => {
    const settings = parseKernelCmdline('BOOT_IMAGE=/boot/vmlinuz-6.1.0 root=UUID=1b2c ro quiet cms.manager=10.0.2.2:7001 cms.token=s3cr=t\n');
    expect(settings.get('cms.manager')).toBe('10.0.2.2:7001');
    expect(settings.get('cms.token')).toBe('s3cr=t');
    expect(settings.get('root')).toBe('UUID=1b2c');
    expect(settings.get('quiet')).toBe('');
    expect(settings.has('cms.nothing')).toBe(false);
  });

  it('groups quoted spaces like the kernel, and the last repeat wins', () => {
    const settings = parseKernelCmdline('a="x y" "b=1 2" cms.token=first cms.token=second');
    expect(settings.get('a')).toBe('x y');
    expect(settings.get('b')).toBe('1 2');
    expect(settings.get('cms.token')).toBe('second');
  });

  it('never throws on arbitrary text', () => {
    fc.assert(fc.property(fc.string(), (text) => void parseKernelCmdline(text)));
  });
});

describe('defaultGatewayFromRoute', () => {
  it('picks the UP+GATEWAY default route with the lowest metric and decodes little-endian hex', () => {
    expect(defaultGatewayFromRoute(ROUTE_SAMPLE)).toBe('192.168.122.1');
  });

  it('decodes the user-mode networking gateway', () => {
    const single = ROUTE_SAMPLE.split('\n').filter((line) => !line.startsWith('eth1')).join('\n');
    expect(defaultGatewayFromRoute(single)).toBe('10.0.2.2');
  });

  it('returns null without a default route, and ignores malformed lines', () => {
    const noDefault = ROUTE_SAMPLE.split('\n').filter((line) => !line.includes('\t00000000\t0')).join('\n');
    expect(defaultGatewayFromRoute(noDefault)).toBeNull();
    expect(defaultGatewayFromRoute('Iface\tDestination\ngarbage\neth0 00000000 zzzzzzzz 0003 0 0 0 00000000')).toBeNull();
    expect(defaultGatewayFromRoute('')).toBeNull();
  });

  it('skips a default route that is down (flags without UP)', () => {
    const down = 'Iface\tDestination\tGateway\tFlags\tRefCnt\tUse\tMetric\tMask\neth0\t00000000\t0202000A\t0002\t0\t0\t0\t00000000';
    expect(defaultGatewayFromRoute(down)).toBeNull();
  });
});

describe('parseSmbiosOemStrings', () => {
  it('extracts the strings of a type 11 structure', () => {
    expect(parseSmbiosOemStrings(oemStructure(['cms.manager=10.0.2.2:7001', 'cms.token=abc', 'vendor thing']))).toEqual([
      'cms.manager=10.0.2.2:7001',
      'cms.token=abc',
      'vendor thing',
    ]);
  });

  it('returns [] for other structure types, empty sets and truncated data', () => {
    const other = oemStructure(['x']);
    other[0] = 1;
    expect(parseSmbiosOemStrings(other)).toEqual([]);
    expect(parseSmbiosOemStrings(oemStructure([]))).toEqual([]);
    expect(parseSmbiosOemStrings(Buffer.from([11, 5, 0]))).toEqual([]);
    expect(parseSmbiosOemStrings(Buffer.from([11, 200, 0, 0, 1, 0x41, 0]))).toEqual([]);
  });

  it('stops at the count and tolerates a missing terminator', () => {
    const raw = Buffer.concat([Buffer.from([11, 5, 0, 0, 1]), Buffer.from('one\0two\0\0')]);
    expect(parseSmbiosOemStrings(raw)).toEqual(['one']);
    expect(parseSmbiosOemStrings(Buffer.concat([Buffer.from([11, 5, 0, 0, 2]), Buffer.from('cms.manager=h:1')]))).toEqual(['cms.manager=h:1']);
  });

  it('never throws on arbitrary bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => void parseSmbiosOemStrings(bytes)));
  });

  it('turns OEM strings into settings, several per string allowed', () => {
    const settings = settingsFromOemStrings(['cms.manager=[::1]:7001 cms.token=t', 'unrelated']);
    expect(settings.get('cms.manager')).toBe('[::1]:7001');
    expect(settings.get('cms.token')).toBe('t');
  });
});

describe('parseHostPort and fw_cfg values', () => {
  it('accepts host:port and [v6]:port, names the setting on error', () => {
    expect(parseHostPort('10.0.2.2:7001', 'x')).toEqual({ ok: true, value: { host: '10.0.2.2', port: 7001 } });
    expect(parseHostPort('[fe80::1]:7001', 'x')).toEqual({ ok: true, value: { host: 'fe80::1', port: 7001 } });
    expect(parseHostPort('manager.local:1', 'x')).toEqual({ ok: true, value: { host: 'manager.local', port: 1 } });
    const bad = parseHostPort('nohost', '--manager');
    expect(bad.ok).toBe(false);
    expect(!bad.ok && bad.message).toContain('--manager');
    expect(parseHostPort('h:70000', 'x').ok).toBe(false);
  });

  it('cleans trailing newlines and NULs from fw_cfg blobs', () => {
    expect(cleanFwCfgValue('10.0.2.2:7001\n\0')).toBe('10.0.2.2:7001');
    expect(cleanFwCfgValue('\0')).toBeNull();
    expect(cleanFwCfgValue(null)).toBeNull();
  });
});

describe('which source wins', () => {
  const everything = sources({
    cmdline: 'quiet cms.manager=1.1.1.1:1 cms.token=from-cmdline',
    oemEntries: [oemStructure(['cms.manager=2.2.2.2:2 cms.token=from-oem'])],
    fwCfgManager: '3.3.3.3:3\n',
    fwCfgToken: 'from-fwcfg\n',
    route: ROUTE_SAMPLE,
  });

  it('manager: flag, cmdline, OEM string, fw_cfg, then the gateway on port 7001', () => {
    expect(discoverManager({ host: '9.9.9.9', port: 9 }, everything)).toMatchObject({ address: { host: '9.9.9.9', port: 9 }, source: 'flag' });
    expect(discoverManager(null, everything)).toMatchObject({ address: { host: '1.1.1.1', port: 1 }, source: 'kernel cmdline' });
    expect(discoverManager(null, { ...everything, cmdline: 'quiet' })).toMatchObject({ address: { host: '2.2.2.2', port: 2 }, source: 'SMBIOS OEM string' });
    expect(discoverManager(null, { ...everything, cmdline: null, oemEntries: [] })).toMatchObject({ address: { host: '3.3.3.3', port: 3 }, source: 'fw_cfg' });
    expect(discoverManager(null, sources({ route: ROUTE_SAMPLE }))).toMatchObject({ address: { host: '192.168.122.1', port: 7001 }, source: 'default gateway' });
    expect(discoverManager(null, sources())).toEqual({ address: null, source: null, warnings: [] });
  });

  it('a malformed value is skipped with a warning naming it', () => {
    const found = discoverManager(null, sources({ cmdline: 'cms.manager=oops', fwCfgManager: '3.3.3.3:3' }));
    expect(found).toMatchObject({ address: { host: '3.3.3.3', port: 3 }, source: 'fw_cfg' });
    expect(found.warnings.join()).toContain('cms.manager from kernel cmdline');
  });

  it('token: flag, cmdline, OEM string, fw_cfg, else empty', () => {
    expect(discoverToken('flag', everything)).toEqual({ token: 'flag', source: 'flag' });
    expect(discoverToken(null, everything).token).toBe('from-cmdline');
    expect(discoverToken(null, { ...everything, cmdline: '' }).token).toBe('from-oem');
    expect(discoverToken(null, { ...everything, cmdline: null, oemEntries: [] }).token).toBe('from-fwcfg');
    expect(discoverToken(null, sources())).toEqual({ token: '', source: 'none' });
  });

  it('uuid: flag, else the SMBIOS product_uuid lower-cased; garbage is not a UUID', () => {
    expect(discoverUuid('given', sources())).toEqual({ uuid: 'given', source: 'flag' });
    expect(discoverUuid(null, sources({ productUuid: '4C4C4544-0042-3510-8052-B4C04F4A4E32\n' }))?.uuid).toBe('4c4c4544-0042-3510-8052-b4c04f4a4e32');
    expect(discoverUuid(null, sources({ productUuid: 'Not Settable\n' }))).toBeNull();
    expect(discoverUuid(null, sources())).toBeNull();
  });
});

describe('readDiscoverySources', () => {
  const dir = mkdtempSync(join(tmpdir(), 'guest-discovery-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads a fixture tree laid out like /proc and /sys, and tolerates what is missing', () => {
    writeFileSync(join(dir, 'cmdline'), 'ro quiet\n');
    writeFileSync(join(dir, 'route'), ROUTE_SAMPLE);
    writeFileSync(join(dir, 'product_uuid'), 'AAAAAAAA-BBBB-CCCC-DDDD-EEEEEEEEEEEE\n');
    mkdirSync(join(dir, 'dmi', '11-0'), { recursive: true });
    mkdirSync(join(dir, 'dmi', '1-0'), { recursive: true });
    writeFileSync(join(dir, 'dmi', '11-0', 'raw'), oemStructure(['cms.manager=10.0.2.2:7005', 'cms.token=oem-token']));
    writeFileSync(join(dir, 'dmi', '1-0', 'raw'), Buffer.from([1, 4, 0, 0]));
    mkdirSync(join(dir, 'fw', 'opt', 'cms', 'manager'), { recursive: true });
    writeFileSync(join(dir, 'fw', 'opt', 'cms', 'manager', 'raw'), '10.0.2.2:7009');

    const read = readDiscoverySources({
      cmdline: join(dir, 'cmdline'),
      route: join(dir, 'route'),
      productUuid: join(dir, 'product_uuid'),
      dmiEntriesDir: join(dir, 'dmi'),
      fwCfgDir: join(dir, 'fw'),
    });
    expect(read.oemEntries).toHaveLength(1);
    expect(read.fwCfgToken).toBeNull();
    expect(discoverManager(null, read)).toMatchObject({ address: { host: '10.0.2.2', port: 7005 }, source: 'SMBIOS OEM string' });
    expect(discoverToken(null, read).token).toBe('oem-token');
    expect(discoverUuid(null, read)?.uuid).toBe('aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee');

    const nothing = readDiscoverySources({
      cmdline: join(dir, 'missing'),
      route: join(dir, 'missing'),
      productUuid: join(dir, 'missing'),
      dmiEntriesDir: join(dir, 'missing'),
      fwCfgDir: join(dir, 'missing'),
    });
    expect(nothing).toEqual(sources());
  });
});
