// What the pool needs to clone on a real libvirt host: linked-clone overlays and a folder for
// saved members' images (local hosts only, since they are files here) and the last touch on each
// member's XML that tells its guest where the manager is and which token to present. Holds no
// connection and starts nothing.
import { SavedImageDir } from '../pool/saved-image-dir';
import type { CloneStorage, PoolHostBinding, SavedImageStore } from '../pool/types';
import { defaultSavedImageDir } from './image';
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
  /** Saved-pool images; null for none (remote hosts); @default a SavedImageDir at defaultSavedImageDir() on local hosts */
  savedImages?: SavedImageStore | null;
}

/** True for URIs whose hypervisor runs on this machine (no host part), where files can be made. */
export function isLocalUri(uri: string): boolean {
  const match = /^([a-z0-9+]+):\/\/([^/]*)\//i.exec(uri);
  if (!match) return false;
  const transport = (match[1] ?? '').split('+')[1];
  const host = match[2] ?? '';
  return (host === '' || host === 'localhost') && (transport === undefined || transport === 'unix');
}

export function kvmHostBinding(options: KvmHostBindingOptions): Pick<PoolHostBinding, 'storage' | 'savedImages' | 'customizeXml'> {
  const local = isLocalUri(options.uri);
  const storage = options.storage === undefined ? (local ? new OverlayStorage() : null) : options.storage;
  const savedImages = options.savedImages === undefined ? (local ? new SavedImageDir(defaultSavedImageDir()) : null) : options.savedImages;
  return {
    ...(storage ? { storage } : {}),
    ...(savedImages ? { savedImages } : {}),
    customizeXml: (xml, member) => customizeMemberXml(xml, member, guestManagerAddress(options.manager(), options.guestManagerHost)),
  };
}
