// How a guest finds out who it is and where its manager is: flags first, then the kernel command
// line, SMBIOS OEM strings, QEMU fw_cfg, and finally the default gateway. The parsers are pure
// (they take file contents); only readDiscoverySources touches the filesystem, and never throws.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface HostPort {
  host: string;
  port: number;
}

/** Port the manager's agent listener uses when only the gateway is known. */
export const MANAGER_DEFAULT_PORT = 7001;
/** Keys looked up in the kernel command line and the OEM strings. */
export const MANAGER_KEY = 'cms.manager';
export const TOKEN_KEY = 'cms.token';

/** Where the sources live; each can be pointed elsewhere for tests. */
export interface DiscoveryPaths {
  /** @default "/proc/cmdline" */
  cmdline: string;
  /** @default "/proc/net/route" */
  route: string;
  /** @default "/sys/class/dmi/id/product_uuid" */
  productUuid: string;
  /** Directory of raw SMBIOS structures; type 11 (OEM strings) entries are named "11-N". @default "/sys/firmware/dmi/entries" */
  dmiEntriesDir: string;
  /** QEMU fw_cfg entries by name; the guest reads opt/cms/manager/raw and opt/cms/token/raw. @default "/sys/firmware/qemu_fw_cfg/by_name" */
  fwCfgDir: string;
}

export const DEFAULT_DISCOVERY_PATHS: DiscoveryPaths = {
  cmdline: '/proc/cmdline',
  route: '/proc/net/route',
  productUuid: '/sys/class/dmi/id/product_uuid',
  dmiEntriesDir: '/sys/firmware/dmi/entries',
  fwCfgDir: '/sys/firmware/qemu_fw_cfg/by_name',
};

/** Raw contents of every source; null when a file is absent or unreadable. */
export interface DiscoverySources {
  cmdline: string | null;
  route: string | null;
  productUuid: string | null;
  /** Raw bytes of each SMBIOS type 11 structure. */
  oemEntries: Uint8Array[];
  fwCfgManager: string | null;
  fwCfgToken: string | null;
}

/**
 * Parses "HOST:PORT" ("[v6]:PORT" for IPv6). Returns an error message naming `what` instead of
 * throwing, so callers decide whether a bad value is fatal (a flag) or skipped (a discovered one).
 */
export function parseHostPort(text: string, what: string): { ok: true; value: HostPort } | { ok: false; message: string } {
  const trimmed = text.trim();
  const match = /^\[([0-9a-fA-F:.]+)\]:(\d{1,5})$/.exec(trimmed) ?? /^([^\s:[\]]+):(\d{1,5})$/.exec(trimmed);
  if (!match) return { ok: false, message: `${what}: expected HOST:PORT, got '${trimmed}'` };
  const port = Number(match[2]);
  if (port > 65535) return { ok: false, message: `${what}: port ${port} is over 65535` };
  return { ok: true, value: { host: match[1] as string, port } };
}

/**
 * Splits a kernel command line into key=value settings (a bare word maps to ""). Double quotes
 * group spaces as the kernel does (`key="a b"`, `"key=a b"`); when a key repeats, the last wins.
 */
export function parseKernelCmdline(text: string): Map<string, string> {
  const settings = new Map<string, string>();
  for (const token of splitQuoted(text)) {
    const equals = token.indexOf('=');
    if (equals === 0) continue;
    if (equals < 0) settings.set(token, '');
    else settings.set(token.slice(0, equals), token.slice(equals + 1));
  }
  return settings;
}

function splitQuoted(text: string): string[] {
  const tokens: string[] = [];
  let current = '';
  let inQuotes = false;
  let started = false;
  for (const char of text) {
    if (char === '"') {
      inQuotes = !inQuotes;
      started = true;
    } else if (!inQuotes && /\s/.test(char)) {
      if (started) tokens.push(current);
      current = '';
      started = false;
    } else {
      current += char;
      started = true;
    }
  }
  if (started) tokens.push(current);
  return tokens;
}

/**
 * Extracts the strings of one raw SMBIOS type 11 (OEM Strings) structure: a header of `length`
 * bytes (type, length, handle, count), then NUL-terminated strings ending with an empty one.
 * Returns [] for anything that is not a well-formed type 11 structure.
 */
export function parseSmbiosOemStrings(raw: Uint8Array): string[] {
  if (raw.length < 5 || raw[0] !== 11) return [];
  const headerBytes = raw[1] as number;
  const count = raw[4] as number;
  if (headerBytes < 5 || headerBytes > raw.length) return [];
  const strings: string[] = [];
  let start = headerBytes;
  while (start < raw.length && strings.length < count) {
    let end = start;
    while (end < raw.length && raw[end] !== 0) end++;
    if (end === start) break; // the empty string ends the set
    strings.push(Buffer.from(raw.subarray(start, end)).toString('utf8'));
    start = end + 1;
  }
  return strings;
}

/** Settings from OEM strings: each string may hold one or more key=value words, as on the cmdline. */
export function settingsFromOemStrings(strings: readonly string[]): Map<string, string> {
  const settings = new Map<string, string>();
  for (const text of strings) for (const [key, value] of parseKernelCmdline(text)) settings.set(key, value);
  return settings;
}

/**
 * The default gateway from /proc/net/route: the UP+GATEWAY route to 0.0.0.0/0 with the lowest
 * metric. Addresses there are hex in host byte order (little-endian on x86 and arm guests).
 */
export function defaultGatewayFromRoute(text: string): string | null {
  const RTF_UP = 0x1;
  const RTF_GATEWAY = 0x2;
  let best: { address: string; metric: number } | null = null;
  for (const line of text.split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 8) continue;
    const [, destination, gateway, flagsHex, , , metricText, mask] = fields as [string, string, string, string, string, string, string, string];
    const flags = Number.parseInt(flagsHex, 16);
    if (destination !== '00000000' || mask !== '00000000' || (flags & (RTF_UP | RTF_GATEWAY)) !== (RTF_UP | RTF_GATEWAY)) continue;
    if (!/^[0-9A-Fa-f]{8}$/.test(gateway)) continue;
    const value = Number.parseInt(gateway, 16);
    const address = [value & 0xff, (value >>> 8) & 0xff, (value >>> 16) & 0xff, (value >>> 24) & 0xff].join('.');
    const metric = Number.parseInt(metricText, 10) || 0;
    if (best === null || metric < best.metric) best = { address, metric };
  }
  return best?.address ?? null;
}

/** Cleans a fw_cfg blob: QEMU passes files verbatim, often with a trailing newline or NUL. */
export function cleanFwCfgValue(raw: string | null): string | null {
  if (raw === null) return null;
  const value = raw.replace(/\0+$/g, '').trim();
  return value.length > 0 ? value : null;
}

export type ManagerDiscovery =
  | { address: HostPort; source: string; warnings: string[] }
  | { address: null; source: null; warnings: string[] };

/** Picks the manager address: flag, cmdline, OEM string, fw_cfg, then gateway:7001. */
export function discoverManager(flag: HostPort | null, sources: DiscoverySources): ManagerDiscovery {
  const warnings: string[] = [];
  if (flag) return { address: flag, source: 'flag', warnings };
  const candidates: Array<[string, string | null | undefined]> = [
    ['kernel cmdline', sources.cmdline === null ? null : parseKernelCmdline(sources.cmdline).get(MANAGER_KEY)],
    ['SMBIOS OEM string', settingsFromOemStrings(sources.oemEntries.flatMap(parseSmbiosOemStrings)).get(MANAGER_KEY)],
    ['fw_cfg', cleanFwCfgValue(sources.fwCfgManager)],
  ];
  for (const [source, text] of candidates) {
    if (text === null || text === undefined) continue;
    const parsed = parseHostPort(text, `${MANAGER_KEY} from ${source}`);
    if (parsed.ok) return { address: parsed.value, source, warnings };
    warnings.push(parsed.message);
  }
  const gateway = sources.route === null ? null : defaultGatewayFromRoute(sources.route);
  if (gateway !== null) return { address: { host: gateway, port: MANAGER_DEFAULT_PORT }, source: 'default gateway', warnings };
  return { address: null, source: null, warnings };
}

/** Picks the registration token: flag, cmdline, OEM string, fw_cfg, else empty. */
export function discoverToken(flag: string | null, sources: DiscoverySources): { token: string; source: string } {
  if (flag !== null) return { token: flag, source: 'flag' };
  const fromCmdline = sources.cmdline === null ? undefined : parseKernelCmdline(sources.cmdline).get(TOKEN_KEY);
  if (fromCmdline !== undefined) return { token: fromCmdline, source: 'kernel cmdline' };
  const fromOem = settingsFromOemStrings(sources.oemEntries.flatMap(parseSmbiosOemStrings)).get(TOKEN_KEY);
  if (fromOem !== undefined) return { token: fromOem, source: 'SMBIOS OEM string' };
  const fromFwCfg = cleanFwCfgValue(sources.fwCfgToken);
  if (fromFwCfg !== null) return { token: fromFwCfg, source: 'fw_cfg' };
  return { token: '', source: 'none' };
}

const UUID_PATTERN = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/;

/** Picks the UUID: flag, else the SMBIOS system UUID lower-cased; null when neither is usable. */
export function discoverUuid(flag: string | null, sources: DiscoverySources): { uuid: string; source: string } | null {
  if (flag !== null) return { uuid: flag, source: 'flag' };
  const fromDmi = sources.productUuid?.trim().toLowerCase();
  if (fromDmi !== undefined && UUID_PATTERN.test(fromDmi)) return { uuid: fromDmi, source: 'SMBIOS product_uuid' };
  return null;
}

/** Reads every source; a missing or unreadable file (no SMBIOS, not root) simply yields null. */
export function readDiscoverySources(paths: DiscoveryPaths): DiscoverySources {
  const text = (path: string): string | null => {
    try {
      return readFileSync(path, 'utf8');
    } catch {
      return null;
    }
  };
  const oemEntries: Uint8Array[] = [];
  try {
    for (const name of readdirSync(paths.dmiEntriesDir).filter((entry) => /^11-\d+$/.test(entry)).sort()) {
      try {
        oemEntries.push(readFileSync(join(paths.dmiEntriesDir, name, 'raw')));
      } catch {
        // an unreadable entry is skipped; others may still carry the setting
      }
    }
  } catch {
    // no DMI tables exported (containers, non-x86 boards)
  }
  return {
    cmdline: text(paths.cmdline),
    route: text(paths.route),
    productUuid: text(paths.productUuid),
    oemEntries,
    fwCfgManager: text(join(paths.fwCfgDir, 'opt', 'cms', 'manager', 'raw')),
    fwCfgToken: text(join(paths.fwCfgDir, 'opt', 'cms', 'token', 'raw')),
  };
}
