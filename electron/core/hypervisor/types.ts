// Plain data shapes a hypervisor connection reports (snapshots, events) and the log function it takes.
// Types only: no runtime code, no libvirt import, so any layer (service, IPC contract) can import them.
import type { DomainState } from './domain-state';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
/** Structured logging seam: one JSON line per call is the caller's job. */
export type LogFn = (level: LogLevel, event: string, fields: Record<string, unknown>) => void;

export interface DomainSnapshot {
  /** Id of the HypervisorConnection (host) this domain lives on. */
  hostId: string;
  uuid: string;
  name: string;
  state: DomainState;
  vcpus: number;
  /** Current balloon size in KiB. */
  memoryKiB: number;
  maxMemoryKiB: number;
  /** 100 × Δ cpuTime / (Δ wall × vCPUs), 0–100; null on the first sample or when not running. */
  cpuPercent: number | null;
}

export type HostStatus = 'connecting' | 'connected' | 'reconnecting' | 'closed';

export interface HostSnapshot {
  id: string;
  uri: string;
  status: HostStatus;
  hostname?: string;
  /** Host logical CPUs (nodeGetInfo). */
  cpus?: number;
  /** Host memory in KiB (nodeGetInfo). */
  memoryKiB?: number;
  /** Message of the last failed poll or connect; cleared on the next success. */
  lastError?: string;
  domains: DomainSnapshot[];
  /** Wall-clock time (ms since epoch) of the last successful poll; 0 before the first. */
  polledAtMs: number;
}

export type DomainAction = 'start' | 'shutdown' | 'forceoff' | 'reboot' | 'suspend' | 'resume' | 'save' | 'restore' | 'define' | 'undefine';

export interface StateChangeEvent {
  uuid: string;
  name: string;
  from: DomainState;
  to: DomainState;
}

export interface ActionEvent {
  uuid: string;
  name: string;
  action: DomainAction;
}

export interface StatusEvent {
  status: HostStatus;
  error?: string;
}

/** Event map of HypervisorConnection (node:events typed tuples). */
export interface HypervisorConnectionEvents {
  poll: [HostSnapshot];
  status: [StatusEvent];
  state: [StateChangeEvent];
  action: [ActionEvent];
}
