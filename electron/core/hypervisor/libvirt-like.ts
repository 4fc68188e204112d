// The narrow slice of a libvirt connection HypervisorConnection uses, and the default real connector.
// The seam exists so tests can wrap a real connection to inject failures; it must stay a thin pass-through.
import { Hypervisor } from '@unraid/libvirt';
import type { Domain, DomainInfo, NodeInfo } from '@unraid/libvirt';

export type LibvirtDomain = Domain;

/** Subset of @unraid/libvirt's Hypervisor (which satisfies it as is). Every call may throw LibvirtError. */
export interface LibvirtLike {
  connectOpen(): Promise<void>;
  connectClose(): Promise<void>;
  connectGetHostname(): Promise<string>;
  nodeGetInfo(): Promise<Pick<NodeInfo, 'cpus' | 'memory'>>;
  connectListAllDomains(): Promise<LibvirtDomain[]>;
  domainLookupByUUIDString(uuid: string): Promise<LibvirtDomain>;
  domainGetInfo(domain: LibvirtDomain): Promise<DomainInfo>;
  domainGetName(domain: LibvirtDomain): Promise<string>;
  domainGetUUIDString(domain: LibvirtDomain): Promise<string>;
  /** flags: 0 = live XML, 2 = VIR_DOMAIN_XML_INACTIVE (the persistent config). */
  domainGetXMLDesc(domain: LibvirtDomain, flags?: number): Promise<string>;
  domainCreate(domain: LibvirtDomain): Promise<void>;
  domainShutdown(domain: LibvirtDomain): Promise<void>;
  domainDestroy(domain: LibvirtDomain): Promise<void>;
  domainSuspend(domain: LibvirtDomain): Promise<void>;
  domainResume(domain: LibvirtDomain): Promise<void>;
  /** virDomainSave: the guest's memory and devices to a file; the domain stops (and stays defined). */
  domainSave(domain: LibvirtDomain, path: string): Promise<void>;
  /** virDomainRestore: runs the domain the file was saved from (same UUID) again from it. */
  domainRestore(path: string): Promise<void>;
  domainDefineXML(xml: string): Promise<LibvirtDomain>;
  domainUndefine(domain: LibvirtDomain): Promise<void>;
}

/** Makes a new, unopened libvirt handle for a URI. Called once per (re)connect attempt. */
export type LibvirtConnector = (uri: string) => LibvirtLike;

export const connectLibvirt: LibvirtConnector = (uri) => new Hypervisor({ uri });
