// Domain XML for pool members: turns the template's XML into a clone's (name, UUID, MACs, disks,
// the pool tag in <metadata>) and reads that tag back for adoption. Pure string work, no libvirt.
import { XMLBuilder, XMLParser } from 'fast-xml-parser';
import { z } from 'zod';

/** The namespace of our <metadata> element; libvirt keys metadata by namespace URI. */
export const MEMBER_NAMESPACE = 'urn:cloud-management-system:pool:1';
const MEMBER_ELEMENT = 'cms:member';

/** What the pool writes into each member's <metadata>, so a restarted app can adopt it. */
export const memberTagSchema = z.object({
  pool: z.string().min(1),
  index: z.coerce.number().int().nonnegative(),
  template: z.string().min(1),
  /** The pool's guest token: a restarted manager recovers it from its members. */
  token: z.string(),
  createdAt: z.string(),
  /** Path of the member's own disk overlay, removed with the member (real hosts). */
  overlay: z.string().optional(),
});
export type MemberTag = z.infer<typeof memberTagSchema>;

export interface CloneSpec {
  name: string;
  uuid: string;
  tag: MemberTag;
  /** New MAC address per interface, in order; generated when absent. */
  macs?: string[];
  /** Maps a template disk's source file to the clone's (linked-clone overlays on real hosts). */
  diskSource?: (templateSource: string, diskIndex: number) => string;
  /** Extra `<sysinfo type='smbios'><oemStrings>` entries (manager address and token for real guests). */
  oemStrings?: string[];
}

type XmlNode = Record<string, unknown> & { ':@'?: Record<string, string> };

const parserOptions = {
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  preserveOrder: true,
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
} as const;

function parse(xml: string): XmlNode[] {
  return new XMLParser(parserOptions).parse(xml) as XmlNode[];
}

function build(nodes: XmlNode[]): string {
  return new XMLBuilder({ ...parserOptions, format: true, suppressEmptyNode: true }).build(nodes) as string;
}

function tagName(node: XmlNode): string | undefined {
  return Object.keys(node).find((key) => key !== ':@');
}

function children(node: XmlNode): XmlNode[] {
  const name = tagName(node);
  return name ? ((node[name] as XmlNode[] | undefined) ?? []) : [];
}

function findChild(node: XmlNode, name: string): XmlNode | undefined {
  return children(node).find((child) => tagName(child) === name);
}

function textNode(text: string): XmlNode {
  return { '#text': text };
}

function element(name: string, attributes: Record<string, string> = {}, content: XmlNode[] = []): XmlNode {
  const node: XmlNode = { [name]: content };
  if (Object.keys(attributes).length > 0) {
    node[':@'] = Object.fromEntries(Object.entries(attributes).map(([key, value]) => [`@_${key}`, value]));
  }
  return node;
}

function domainRoot(nodes: XmlNode[]): XmlNode {
  const root = nodes.find((node) => tagName(node) === 'domain');
  if (!root) throw new Error('not a libvirt domain description: no <domain> element');
  return root;
}

/** A locally administered unicast MAC in QEMU's 52:54:00 prefix. */
export function randomMac(random: () => number = Math.random): string {
  const octets = [0x52, 0x54, 0x00, ...Array.from({ length: 3 }, () => Math.floor(random() * 256))];
  return octets.map((octet) => octet.toString(16).padStart(2, '0')).join(':');
}

/** Produces a clone's domain XML from the template's (inactive) XML. */
export function cloneDomainXml(templateXml: string, spec: CloneSpec): string {
  const nodes = parse(templateXml);
  const root = domainRoot(nodes);
  const rootName = tagName(root) as string;
  const kept: XmlNode[] = [];
  for (const child of children(root)) {
    const name = tagName(child);
    // id is runtime state; metadata and sysinfo are replaced with the clone's own.
    if (name === 'uuid' || name === 'name' || name === 'metadata' || name === 'sysinfo' || name === 'id') continue;
    kept.push(child);
  }
  const tagAttributes: Record<string, string> = {
    'xmlns:cms': MEMBER_NAMESPACE,
    pool: spec.tag.pool,
    index: String(spec.tag.index),
    template: spec.tag.template,
    token: spec.tag.token,
    createdAt: spec.tag.createdAt,
  };
  if (spec.tag.overlay) tagAttributes.overlay = spec.tag.overlay;
  const head: XmlNode[] = [
    element('name', {}, [textNode(spec.name)]),
    element('uuid', {}, [textNode(spec.uuid)]),
    element('metadata', {}, [element(MEMBER_ELEMENT, tagAttributes)]),
  ];
  if (spec.oemStrings && spec.oemStrings.length > 0) {
    head.push(element('sysinfo', { type: 'smbios' }, [element('oemStrings', {}, spec.oemStrings.map((entry) => element('entry', {}, [textNode(entry)])))]));
  }
  rewriteDevices(kept, spec);
  root[rootName] = [...head, ...kept];
  // The root's runtime id attribute must not travel into a definition.
  const rootAttributes = root[':@'];
  if (rootAttributes) delete rootAttributes['@_id'];
  return build(nodes);
}

function rewriteDevices(domainChildren: XmlNode[], spec: CloneSpec): void {
  const devices = domainChildren.find((child) => tagName(child) === 'devices');
  if (!devices) return;
  let interfaceIndex = 0;
  let diskIndex = 0;
  for (const device of children(devices)) {
    const name = tagName(device);
    if (name === 'interface') {
      const mac = spec.macs?.[interfaceIndex] ?? randomMac();
      interfaceIndex += 1;
      const list = children(device).filter((child) => tagName(child) !== 'mac' && tagName(child) !== 'target');
      device.interface = [element('mac', { address: mac }), ...list];
    } else if (name === 'disk' && spec.diskSource) {
      const source = findChild(device, 'source');
      const file = source?.[':@']?.['@_file'];
      if (source && file !== undefined) {
        (source[':@'] as Record<string, string>)['@_file'] = spec.diskSource(file, diskIndex);
      }
      // A clone's disk must not claim the template's backing chain as its own.
      device.disk = children(device).filter((child) => tagName(child) !== 'backingStore');
      diskIndex += 1;
    }
  }
}

/** Reads the pool tag from a domain's XML; null when the domain is not a pool member. */
export function readMemberTag(domainXml: string): MemberTag | null {
  let nodes: XmlNode[];
  try {
    nodes = parse(domainXml);
  } catch {
    return null;
  }
  const root = nodes.find((node) => tagName(node) === 'domain');
  if (!root) return null;
  const metadata = findChild(root, 'metadata');
  if (!metadata) return null;
  for (const entry of children(metadata)) {
    const name = tagName(entry);
    if (!name || !name.endsWith(':member')) continue;
    const attributes = entry[':@'] ?? {};
    const namespaceOk = Object.entries(attributes).some(([key, value]) => key.startsWith('@_xmlns') && value === MEMBER_NAMESPACE);
    if (!namespaceOk) continue;
    const plain = Object.fromEntries(Object.entries(attributes).filter(([key]) => !key.startsWith('@_xmlns')).map(([key, value]) => [key.slice(2), value]));
    const parsed = memberTagSchema.safeParse(plain);
    if (parsed.success) return parsed.data;
  }
  return null;
}

/** The domain's name as written in its XML. */
export function readDomainName(domainXml: string): string | null {
  const root = parse(domainXml).find((node) => tagName(node) === 'domain');
  const nameNode = root ? findChild(root, 'name') : undefined;
  const text = nameNode ? children(nameNode).find((child) => '#text' in child) : undefined;
  return text ? String(text['#text']) : null;
}
