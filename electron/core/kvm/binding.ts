// What the pool needs to clone on a real libvirt host: linked-clone overlays (local hosts only,
// since they are made as files here) and the last touch on each member's XML that tells its guest
// where the manager is and which token to present. Holds no connection and starts nothing.
import type { CloneStorage, PoolHostBinding } from '../pool/types';
import { customizeMemberXml, guestManagerAddress, type HostPort } from './member-boot';
import { OverlayStorage } from './storage';

export interface KvmHostBindingOptions {
  uri: string;
  /** The agent port's address (known once it listens); read at each clone. */
  manager: () => HostPort;
  /** Address guests dial instead of the one derived from the agent's (e.g. a bridge address). */
  guestManagerHost?: string;
  /** Overlay maker; null for none (remote hosts); @default an OverlayStorage on local hosts */
  storage?: CloneStorage | null;
}

/** True for URIs whose hypervisor runs on this machine (no host part), where files can be made. */
export function isLocalUri(uri: string): boolean {
  const match = /^([a-z0-9+]+):\/\/([^/]*)\//i.exec(uri);
  if (!match) return false;
  const transport = (match[1] ?? '').split('+')[1];
  const host = match[2] ?? '';
  return (host === '' || host === 'localhost') && (transport === undefined || transport === 'unix');
}

export function kvmHostBinding(options: KvmHostBindingOptions): Pick<PoolHostBinding, 'storage' | 'customizeXml'> {
  const storage = options.storage === undefined ? (isLocalUri(options.uri) ? new OverlayStorage() : null) : options.storage;
  return {
    ...(storage ? { storage } : {}),
    customizeXml: (xml, member) => customizeMemberXml(xml, member, guestManagerAddress(options.manager(), options.guestManagerHost)),
  };
}
