// What a real pool member is told at boot, written into its domain XML just before it is defined:
// the manager's address as the guest sees it and the pool token, on the kernel command line of a
// direct-kernel template (cms.manager=HOST:PORT cms.token=T cms.hostname=NAME), else as an SMBIOS
// OEM string. Pure string work on libvirt XML; it must never bake anything into an image.

export interface HostPort {
  host: string;
  port: number;
}

/** QEMU user-mode networking (slirp) maps this guest-side address to the host's loopback. */
export const USER_NET_HOST_ALIAS = '10.0.2.2';

const KEYS = ['cms.manager', 'cms.token', 'cms.hostname'];

/**
 * Where a guest must dial to reach an agent port listening at `agent`: a loopback or wildcard
 * listener is reached through user-mode networking's host alias; any other address is used as is
 * (a libvirt network's bridge address, say). `override` wins when given.
 */
export function guestManagerAddress(agent: HostPort, override?: string): HostPort {
  if (override) return { host: override, port: agent.port };
  const host = agent.host;
  const local = host === '0.0.0.0' || host === '::' || host === '' || host === 'localhost' || host === '::1' || host.startsWith('127.');
  return { host: local ? USER_NET_HOST_ALIAS : host, port: agent.port };
}

function xmlEscape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

function xmlUnescape(text: string): string {
  return text.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, '&');
}

function formatHostPort(address: HostPort): string {
  return address.host.includes(':') ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`;
}

/** The settings a member's guest reads: manager, token and its own name. */
export function bootSettings(member: { name: string; token: string }, manager: HostPort): string {
  if (!/^[A-Za-z0-9_.-]*$/.test(member.token)) throw new Error(`pool token must be letters, digits, _ . - only (it goes on a kernel command line)`);
  return `cms.manager=${formatHostPort(manager)} cms.token=${member.token} cms.hostname=${member.name}`;
}

/** Replaces any earlier cms.* settings on a kernel command line with the member's own. */
export function withBootSettings(cmdline: string, settings: string): string {
  const kept = cmdline
    .split(/\s+/)
    .filter((word) => word.length > 0 && !KEYS.some((key) => word.startsWith(`${key}=`)));
  return [...kept, settings].join(' ');
}

/**
 * Writes the member's boot settings into a clone's domain XML: on the kernel command line when
 * the domain boots a kernel directly, else as an SMBIOS OEM string (which needs
 * `<smbios mode='sysinfo'/>` in `<os>` to reach the guest). Also gives the member its own serial
 * console log file when the template has one.
 */
export function customizeMemberXml(xml: string, member: { name: string; token: string }, manager: HostPort): string {
  const settings = bootSettings(member, manager);
  let out = xml;
  const cmdline = /<cmdline>([\s\S]*?)<\/cmdline>/.exec(out);
  if (cmdline) {
    const next = withBootSettings(xmlUnescape(cmdline[1] ?? ''), settings);
    out = out.replace(cmdline[0], `<cmdline>${xmlEscape(next)}</cmdline>`);
  } else {
    out = withOemString(out, settings);
  }
  // A console log named after the template would be shared (and overwritten) by every member.
  out = out.replace(/(<log\s[^>]*file=)(["'])([^"']*\/)[^"'/]*\.console\.log\2/g, (_all, head: string, quote: string, dir: string) => `${head}${quote}${dir}${member.name}.console.log${quote}`);
  return out;
}

function withOemString(xml: string, settings: string): string {
  const entry = `<entry>${xmlEscape(settings)}</entry>`;
  let out = xml;
  if (/<oemStrings>/.test(out)) {
    out = out.replace(/<entry>[^<]*cms\.manager=[^<]*<\/entry>/g, '').replace(/<oemStrings>/, `<oemStrings>${entry}`);
  } else if (/<sysinfo\s+type=["']smbios["']\s*>/.test(out)) {
    out = out.replace(/(<sysinfo\s+type=["']smbios["']\s*>)/, `$1<oemStrings>${entry}</oemStrings>`);
  } else {
    out = out.replace(/<\/domain>\s*$/, `<sysinfo type="smbios"><oemStrings>${entry}</oemStrings></sysinfo></domain>`);
  }
  if (!/<smbios\s+mode=/.test(out)) out = out.replace(/<\/os>/, '<smbios mode="sysinfo"/></os>');
  return out;
}
