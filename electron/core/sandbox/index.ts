// Public surface of the sandbox: the simulated host file (libvirt test driver) and the local
// processes that stand in for its guests. Re-exports only.
export {
  SANDBOX_HOST_FILE,
  SANDBOX_OTHER_DOMAINS,
  SANDBOX_TEMPLATE_NAME,
  SandboxHostError,
  prepareSandboxHost,
  sandboxHostPath,
  sandboxUri,
} from './sandbox-host';
export {
  SandboxGuestRuntime,
  type GuestExitedEvent,
  type GuestInfo,
  type GuestProcessState,
  type GuestSpawnedEvent,
  type ManagedDomain,
  type ManagerAddress,
  type SandboxGuestRuntimeEvents,
  type SandboxGuestRuntimeOptions,
} from './guest-runtime';
