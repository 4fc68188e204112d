// Clone XML: a member's definition is the template's with its own name, UUID, MACs, disks and the
// pool tag in <metadata>; the tag reads back for adoption and nothing else passes for one.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { cloneDomainXml, MEMBER_NAMESPACE, randomMac, readDomainName, readMemberTag } from '../../electron/core/pool/member-xml';
import { sandboxHostPath } from '../../electron/core/sandbox/sandbox-host';

/** The template's <domain> element from the shipped sandbox host file. */
function templateXml(): string {
  const host = readFileSync(sandboxHostPath(), 'utf8');
  const match = /<domain type="test"[^>]*>\s*<name>cms-template<\/name>[\s\S]*?<\/domain>/.exec(host);
  if (!match) throw new Error('template not found in the sandbox host file');
  return match[0];
}

const tag = { pool: 'web', index: 7, template: 'cms-template', token: 'abc123', createdAt: '2026-11-28T00:00:00.000Z' };

describe('cloneDomainXml', () => {
  it('gives the clone its own name, UUID, MAC and tag, and keeps the rest', () => {
    const xml = cloneDomainXml(templateXml(), { name: 'web-7', uuid: '11111111-2222-4333-8444-555555555555', tag, macs: ['52:54:00:aa:bb:cc'] });
    expect(readDomainName(xml)).toBe('web-7');
    expect(xml).toContain('<uuid>11111111-2222-4333-8444-555555555555</uuid>');
    expect(xml).not.toMatch(/<name>cms-template<\/name>/);
    expect(xml).toContain('52:54:00:aa:bb:cc');
    expect(readMemberTag(xml)).toEqual(tag);
    expect(xml).toMatch(/<vcpu[^>]*>1<\/vcpu>/);
  });

  it('rewrites disk sources through diskSource and drops backing chains', () => {
    const template = templateXml().replace('</disk>', '<backingStore type="file"><source file="/base.qcow2"/></backingStore></disk>');
    const xml = cloneDomainXml(template, { name: 'web-8', uuid: 'u-8', tag: { ...tag, index: 8, overlay: '/pool/web-8.qcow2' }, diskSource: (source, index) => `/pool/web-8-${index}.qcow2<-${source}` });
    expect(xml).toMatch(/<source file="\/pool\/web-8-0\.qcow2&lt;-[^"]+"\/>/);
    expect(xml).not.toContain('backingStore');
    expect(readMemberTag(xml)?.overlay).toBe('/pool/web-8.qcow2');
  });

  it('writes SMBIOS OEM strings when asked', () => {
    const xml = cloneDomainXml(templateXml(), { name: 'web-9', uuid: 'u-9', tag, oemStrings: ['cms.manager=10.0.2.2:7001', 'cms.token=abc123'] });
    expect(xml).toMatch(/<sysinfo type="smbios">[\s\S]*<entry>cms\.manager=10\.0\.2\.2:7001<\/entry>[\s\S]*<\/sysinfo>/);
  });

  it('refuses XML that is not a domain', () => {
    expect(() => cloneDomainXml('<network><name>x</name></network>', { name: 'a', uuid: 'b', tag })).toThrow(/no <domain> element/);
  });
});

describe('readMemberTag', () => {
  it('returns null for domains that are not members', () => {
    expect(readMemberTag(templateXml())).toBeNull();
    expect(readMemberTag('not xml at all <<<')).toBeNull();
    const foreign = `<domain><name>x</name><metadata><cms:member xmlns:cms="urn:someone-else" pool="p" index="1" template="t" token="" createdAt="x"/></metadata></domain>`;
    expect(readMemberTag(foreign)).toBeNull();
  });

  it('rejects a tag with a missing or malformed field', () => {
    const broken = `<domain><name>x</name><metadata><cms:member xmlns:cms="${MEMBER_NAMESPACE}" pool="p" index="seven" template="t" token="" createdAt="x"/></metadata></domain>`;
    expect(readMemberTag(broken)).toBeNull();
  });
});

describe('randomMac', () => {
  it('is a locally administered QEMU address', () => {
    for (let i = 0; i < 50; i++) expect(randomMac()).toMatch(/^52:54:00(:[0-9a-f]{2}){3}$/);
  });
});
