// The narrow views the pool needs of its collaborators (a host connection, the guest directory,
// the sandbox runtime, clone storage) and the member records it reports. Types only.
import type { DomainSnapshot, HostSnapshot } from '../hypervisor/types';

/** The calls the pool makes on one host; HypervisorConnection satisfies it. */
export interface PoolHost {
  readonly id: string;
  snapshot(): HostSnapshot;
  domainXml(uuid: string, options?: { inactive?: boolean }): Promise<string>;
  domainDefine(xml: string): Promise<string>;
  domainStart(uuid: string): Promise<void>;
  domainShutdown(uuid: string): Promise<void>;
  domainForceOff(uuid: string): Promise<void>;
  domainSuspend(uuid: string): Promise<void>;
  domainResume(uuid: string): Promise<void>;
  domainSave(uuid: string, path: string): Promise<void>;
  domainRestore(uuid: string, path: string): Promise<void>;
  domainUndefine(uuid: string): Promise<void>;
  domainLookup(uuid: string): Promise<DomainSnapshot | null>;
}

/** A registered guest as the pool sees it; the agent server's Agent satisfies it. */
export interface PoolAgent {
  readonly uuid: string;
  readonly address: string;
  readonly healthy: boolean;
  readonly outstanding: number;
  readonly registeredAtMs: number;
  readonly lastLoad: { busy: number; inflight: number } | null;
  eject(reason?: 'kicked', detail?: string): void;
  /** Stops (true) or restarts (false) the heartbeat watchdog while the pool pauses the member. */
  setHeartbeatExempt?(exempt: boolean): void;
  /** One collide request; the pool sends a tiny one before parking a warm member. */
  collide?(word: string, digits: number, timeoutMs: number): Promise<unknown>;
  /** Resolves once the guest reports a worker thread ready; the pool waits for it before parking. */
  whenThreadsReady?(timeoutMs: number): Promise<void>;
  /** Tells the guest it is about to be saved (it then watches for the restore); see Agent.park. */
  park?(timeoutMs: number): Promise<void>;
}

/** Where the pool finds registered guests. */
export interface AgentDirectory {
  agent(uuid: string): PoolAgent | undefined;
}

/** Sandbox hosts only: the local processes that stand in for guests. */
export interface GuestRuntime {
  manage(member: { uuid: string; name: string; vcpus: number }): void;
  unmanage(uuid: string): void;
  on(event: 'exited', listener: (event: { uuid: string; code: number | null; signal: NodeJS.Signals | null; expected: boolean }) => void): unknown;
  off(event: 'exited', listener: (event: { uuid: string; code: number | null; signal: NodeJS.Signals | null; expected: boolean }) => void): unknown;
}

/** Real hosts only: creates and removes a member's linked-clone disk. */
export interface CloneStorage {
  /** Returns the overlay path that replaces `templateSource` in the clone's XML. */
  createOverlay(templateSource: string, memberName: string, diskIndex: number): Promise<string>;
  removeOverlay(path: string): Promise<void>;
}

/** Where a host keeps the memory images of saved members (one file per member, named after it). */
export interface SavedImageStore {
  /** Where a member's image is (or would be). */
  pathFor(memberName: string): string;
  /** pathFor, with its folder made if missing: where a new image is to be written. */
  prepare(memberName: string): string;
  /** Removes an image; a missing one is not an error. */
  remove(path: string): Promise<void>;
}

/** A host the pool may place members on. */
export interface PoolHostBinding {
  host: PoolHost;
  /** Present on sandbox hosts. */
  runtime?: GuestRuntime;
  /** Present on real hosts whose template has a disk. */
  storage?: CloneStorage;
  /** Present on hosts that can keep saved members (the saved pool); without it none are placed there. */
  savedImages?: SavedImageStore;
  /** Extra SMBIOS OEM strings for members (manager address and token for real guests). */
  oemStrings?: () => string[];
  /**
   * Last touch on a clone's XML before it is defined: real hosts write the manager address and the
   * pool token where the guest reads them (kernel command line, SMBIOS, fw_cfg).
   */
  customizeXml?: (xml: string, member: { name: string; uuid: string; token: string }) => string;
}

/**
 * A member's life: cloning → booting → healthy → draining → stopping → (gone).
 * Warm-pool members go warming → warm (paused) and become healthy when resumed; saved-pool members
 * go warming → saved (memory image on disk, domain shut off) → booting when restored → healthy.
 * A failed member (ejected, boot timeout, domain gone) is forced off and removed.
 */
export type MemberPhase = 'cloning' | 'booting' | 'healthy' | 'warming' | 'warm' | 'saved' | 'draining' | 'stopping' | 'failed';

export interface PoolMember {
  uuid: string;
  name: string;
  hostId: string;
  index: number;
  vcpus: number;
  phase: MemberPhase;
  /** Monotonic ms when the member was last started or resumed. */
  startedAtMs: number;
  /** Monotonic ms of registration (or of resume, for a warm member); null while booting. */
  registeredAtMs: number | null;
  /** Why it is leaving, when it is. */
  exitReason: string | null;
  /** What it was started for: serving now, waiting paused in the warm pool, or saved to disk in the saved pool. */
  purpose: 'serve' | 'warm' | 'saved';
  /** The saved-pool member's memory image while it is saved; null otherwise. */
  savedImage: string | null;
  overlays: string[];
  adopted: boolean;
}

export type PoolEvent =
  | { type: 'member_cloned'; member: PoolMember; ms: number }
  | { type: 'member_started'; member: PoolMember }
  | { type: 'member_healthy'; member: PoolMember; address: string; bootMs: number }
  | { type: 'member_warm'; member: PoolMember }
  | { type: 'member_resumed'; member: PoolMember; ms: number }
  | { type: 'member_saved'; member: PoolMember; ms: number }
  | { type: 'member_restored'; member: PoolMember; ms: number }
  | { type: 'member_draining'; member: PoolMember; reason: string }
  | { type: 'member_failed'; member: PoolMember; reason: string }
  | { type: 'member_removed'; member: PoolMember; reason: string }
  | { type: 'member_adopted'; member: PoolMember }
  | { type: 'action_failed'; member: PoolMember | null; action: string; message: string }
  | { type: 'shutdown_progress'; done: number; total: number };

export interface PoolStatus {
  name: string;
  desired: number;
  min: number;
  max: number;
  warmPoolSize: number;
  savedPoolSize: number;
  members: PoolMember[];
  counts: Record<MemberPhase, number>;
}
