// Public surface of the hypervisor layer: libvirt connections, their snapshots, events and errors.
// Re-exports only; nothing here may hold state.
export { DOMAIN_STATES, domainIsOff, domainIsRunning, domainStateFromLibvirt, type DomainState } from './domain-state';
export { cpuPercent, type CpuSample } from './cpu-percent';
export { HypervisorError, classifyLibvirtError, toHypervisorError, type HypervisorErrorCode } from './errors';
export { connectLibvirt, type LibvirtConnector, type LibvirtDomain, type LibvirtLike } from './libvirt-like';
export { HypervisorConnection, type DomainRebootOptions, type HypervisorConnectionOptions } from './connection';
export { HypervisorRegistry, type AddHostOptions, type HypervisorRegistryOptions } from './registry';
export type {
  ActionEvent,
  DomainAction,
  DomainSnapshot,
  HostSnapshot,
  HostStatus,
  HypervisorConnectionEvents,
  LogFn,
  LogLevel,
  StateChangeEvent,
  StatusEvent,
} from './types';
